/**
 * The part of the DynamoDB client the dedupe store uses. Loaded with `import()` on first use, this module becomes a
 * chunk of its own holding only these commands: an `import()` of the whole package would keep every command.
 */
export { BatchGetItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
