/**
 * The status of the stack a custom resource belongs to (CloudFormation DescribeStacks), which tells a rollback's
 * update request (UPDATE_ROLLBACK_IN_PROGRESS) from a deployment's. Loaded with `import()` only for an update that
 * would run, so no other request loads the CloudFormation client; this module is a chunk of its own holding only
 * `DescribeStacks`.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { clientConfig } from '../common/aws';

/** Created on first use: a custom resource's provider runs in the stack's region, so the default region is right. */
let client: CloudFormationClient | undefined;

/**
 * The stack's status, e.g. `UPDATE_IN_PROGRESS` or `UPDATE_ROLLBACK_IN_PROGRESS`. Throttling and 5xx are retried by
 * the client (adaptive, as every client of the handlers); any other error is thrown as the SDK raises it.
 */
export async function describeStackStatus(stackId: string): Promise<string> {
  client ??= new CloudFormationClient(clientConfig());
  const out = await client.send(new DescribeStacksCommand({ StackName: stackId }));
  const status = out.Stacks?.[0]?.StackStatus;
  if (!status) throw new Error(`CloudFormation DescribeStacks answered without a status for ${stackId}`);
  return status;
}
