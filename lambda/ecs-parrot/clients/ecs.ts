/**
 * The part of the ECS client enrichment uses. Loaded with `import()` on first use, this module becomes a chunk of
 * its own holding only these commands: an `import()` of the whole package would keep every command.
 */
export { DescribeContainerInstancesCommand, DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
