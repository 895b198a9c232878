/**
 * A small handler for the run-bundle tests, bundled by them with esbuild (ESM with code splitting, and CommonJS):
 * module-scope SDK clients of each wire protocol, and an SNS client that only the `notify` path imports, so
 * with splitting it lives in a lazy chunk.
 */
import { AutoScalingClient, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { ClusterNotFoundException, DescribeClustersCommand, ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import type { Context } from 'aws-lambda';

const ecs = new ECSClient({});
const dynamodb = new DynamoDBClient({});
const autoscaling = new AutoScalingClient({});
const ec2 = new EC2Client({});

/** What the test asks the handler to do. */
export interface FixtureEvent {
  readonly action: 'fleet' | 'list-clusters' | 'describe-cluster' | 'notify' | 'throw' | 'hang' | 'log' | 'environment';
  readonly cluster?: string;
  readonly instanceIds?: string[];
}

export async function handler(event: FixtureEvent, context: Context): Promise<unknown> {
  switch (event.action) {
    case 'fleet': {
      const clusters = await ecs.send(new ListClustersCommand({ maxResults: 10 }));
      const failures = await dynamodb.send(new QueryCommand({
        TableName: 'failures',
        KeyConditionExpression: 'cluster = :cluster',
        ExpressionAttributeValues: { ':cluster': { S: event.cluster ?? 'prod' } },
      }));
      const groups = await autoscaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: event.instanceIds }));
      const terminated = await ec2.send(new TerminateInstancesCommand({ InstanceIds: event.instanceIds }));
      return {
        clusterArns: clusters.clusterArns,
        failures: failures.Items,
        groups: groups.AutoScalingInstances?.map((i) => [i.InstanceId, i.AutoScalingGroupName, i.ProtectedFromScaleIn]),
        terminating: terminated.TerminatingInstances?.map((i) => [i.InstanceId, i.CurrentState?.Name]),
      };
    }
    case 'list-clusters': {
      const clusters = await ecs.send(new ListClustersCommand({}));
      return { clusterArns: clusters.clusterArns, attempts: clusters.$metadata.attempts };
    }
    case 'describe-cluster':
      try {
        return await ecs.send(new DescribeClustersCommand({ clusters: [event.cluster ?? 'prod'] }));
      } catch (error) {
        return { caught: (error as Error).name, isClusterNotFound: error instanceof ClusterNotFoundException };
      }
    case 'notify': {
      const { notify } = await import('./lazy.js');
      return { messageId: await notify(`cluster ${event.cluster} needs a look`) };
    }
    case 'throw':
      throw new TypeError(`no such cluster: ${event.cluster}`);
    case 'hang':
      return new Promise(() => undefined);
    case 'log':
      console.log(JSON.stringify({ level: 'INFO', message: 'checked', cluster: event.cluster }));
      console.log('plain text line');
      return undefined;
    case 'environment':
      return {
        environment: { ...process.env },
        context: {
          awsRequestId: context.awsRequestId,
          functionName: context.functionName,
          invokedFunctionArn: context.invokedFunctionArn,
          logGroupName: context.logGroupName,
          logStreamName: context.logStreamName,
          memoryLimitInMB: context.memoryLimitInMB,
          remainingMs: context.getRemainingTimeInMillis(),
        },
        cwd: process.cwd(),
        node: process.versions.node,
      };
  }
}
