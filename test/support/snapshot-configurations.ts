/**
 * The configuration each construct's snapshot test synthesizes (its defaults, with what it requires), in one
 * place so other checks of the templates (cfn-lint: test/common/cfn-lint.test.ts) see the same stacks.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { EcsAgentMonitor, EcsAgentUpdater, EcsParrot, EcsStatusApi, EcsTaskRunner, NotificationChannel } from '../../src';

export type SnapshotConstruct = 'EcsAgentMonitor' | 'EcsAgentUpdater' | 'EcsParrot' | 'EcsStatusApi' | 'EcsTaskRunner';

const BUILD: Record<SnapshotConstruct, (stack: Stack) => void> = {
  EcsAgentMonitor: (stack) => {
    const cluster = ecs.Cluster.fromClusterArn(stack, 'Cluster', 'arn:aws:ecs:us-east-1:123456789012:cluster/prod');
    new EcsAgentMonitor(stack, 'Monitor', { clusters: [cluster] });
  },
  EcsAgentUpdater: (stack) => {
    const cluster = ecs.Cluster.fromClusterArn(stack, 'Cluster', 'arn:aws:ecs:us-east-1:123456789012:cluster/prod');
    new EcsAgentUpdater(stack, 'Updater', { clusters: [cluster] });
  },
  EcsParrot: (stack) => {
    const slack = NotificationChannel.slack(secretsmanager.Secret.fromSecretNameV2(stack, 'Slack', 'chatops/slack'));
    new EcsParrot(stack, 'Parrot', { notifications: [slack] });
  },
  EcsStatusApi: (stack) => {
    new EcsStatusApi(stack, 'Status');
  },
  EcsTaskRunner: (stack) => {
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0a1b2c3d4e5f60718', availabilityZones: ['us-east-1a', 'us-east-1b'], privateSubnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788'],
    });
    const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod', vpc });
    const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Migrations', { family: 'migrate' });
    taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/acme/app:42'), logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'migrate' }) });
    new EcsTaskRunner(stack, 'Migrate', { cluster, taskDefinition });
  },
};

/** Every construct with a snapshot. */
export const SNAPSHOT_CONSTRUCTS = Object.keys(BUILD) as SnapshotConstruct[];

/** A stack in 123456789012/us-east-1 with the construct's snapshot configuration. */
export function snapshotStack(construct: SnapshotConstruct): Stack {
  const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
  BUILD[construct](stack);
  return stack;
}
