/**
 * The shipped EcsAgentUpdater bundle, run in fresh Node.js 24 processes against a stand-in for AWS with the
 * environment the construct synthesizes: the real SDK clients as bundled parse ECS's answers (NoUpdateAvailable,
 * throttling), retry throttling, and load the SNS, Auto Scaling and EC2 code only when a run
 * needs it.
 */
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { SCHEDULED_EVENT, clusterWithAgents, emptyStateTable } from './typical-run';
import { EcsAgentUpdater, EcsAgentUpdaterProps, NotificationChannel } from '../../src';
import { TYPICAL_RUNS, clientsLoaded } from '../bundles/typical-runs';
import { AwsStandin } from '../support/aws-standin';
import { RunBundleResult, runBundle } from '../support/run-bundle';
import { synthesizedEnvironment } from '../support/synthesized-environment';

const ASSET = path.join(__dirname, '..', '..', 'assets', 'ecs-agent-updater');
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:ops`;

let standin: AwsStandin;

beforeEach(async () => {
  standin = await new AwsStandin().start();
});

afterEach(async () => {
  await standin.stop();
});

function environment(props: Partial<EcsAgentUpdaterProps> = {}): Record<string, string> {
  const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
  const updater = new EcsAgentUpdater(stack, 'Updater', {
    clusters: [ecs.Cluster.fromClusterArn(stack, 'Cluster', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`)],
    notifications: [NotificationChannel.snsTopic(sns.Topic.fromTopicArn(stack, 'Topic', TOPIC_ARN))],
    ...props,
  });
  return synthesizedEnvironment(stack, updater.handler);
}

const clientsOf = (run: RunBundleResult) => clientsLoaded(ASSET, run.loadedFiles);
const calls = () => standin.calls.map((c) => `${c.service}:${c.operation}`);
const accept = (input: { containerInstance: string }) => ({ containerInstance: { containerInstanceArn: input.containerInstance, agentUpdateStatus: 'PENDING' } });

test('an update requested and reported loads the SNS client on first use, and no Auto Scaling or EC2 code', async () => {
  // Prepare
  const [first] = clusterWithAgents(standin, ['1.90.0', '1.80.0']);
  emptyStateTable(standin);
  standin.on('ecs', 'UpdateContainerAgent', accept);
  standin.on('sns', 'Publish', { MessageId: 'message-1' });
  const typical = TYPICAL_RUNS.find((r) => r.bundle === 'ecs-agent-updater')!;

  // Act
  const run = await runBundle({ assetDir: ASSET, environment: environment(), event: SCHEDULED_EVENT, standin });

  // Assess
  expect(run.error).toBeUndefined();
  expect(run.result.clusters[0]).toMatchObject({ cluster: 'prod', requested: [first], errors: [] });
  expect(standin.callsTo('sns', 'Publish')[0].input).toMatchObject({ TopicArn: TOPIC_ARN, Subject: '[OK] Updating 1 ECS agent(s) in prod' });
  expect(clientsOf(run)).toEqual([...typical.clients, 'SNS'].sort());
  const [table] = Object.keys(standin.callsTo('dynamodb', 'BatchWriteItem')[0].input.RequestItems);
  expect(standin.callsTo('dynamodb', 'BatchWriteItem')[0].input.RequestItems[table][0]).toMatchObject({
    PutRequest: { Item: { cluster: { S: '$run' }, lastEventId: { S: SCHEDULED_EVENT.id }, lastEventTime: { N: String(Date.parse(SCHEDULED_EVENT.time)) } } },
  });
});

test('NoUpdateAvailableException from the bundled client means up to date: one call, nothing reported', async () => {
  // Prepare
  clusterWithAgents(standin, ['1.95.0', '1.95.0', '1.95.0']);
  emptyStateTable(standin);
  standin.on('ecs', 'UpdateContainerAgent', () => standin.error('NoUpdateAvailableException', 'There is no update available for your container agent.'));

  // Act
  const run = await runBundle({ assetDir: ASSET, environment: environment(), event: SCHEDULED_EVENT, standin });

  // Assess
  expect(run.error).toBeUndefined();
  expect(run.result.clusters[0].counts).toEqual({ instances: 3, upToDate: 3, updating: 0, outdated: 0, unsupported: 0, skipped: 0, unchecked: 0 });
  expect(calls().filter((c) => c === 'ecs:UpdateContainerAgent')).toHaveLength(1);
  expect(calls()).not.toContain('sns:Publish');
});

test('a ThrottlingException is retried by the bundled client; the update goes through', async () => {
  // Prepare
  const [first] = clusterWithAgents(standin, ['1.80.0']);
  emptyStateTable(standin);
  standin.on('sns', 'Publish', { MessageId: 'message-1' });
  let answered = 0;
  standin.on('ecs', 'UpdateContainerAgent', (input: { containerInstance: string }) => {
    answered += 1;
    if (answered === 1) throw standin.error('ThrottlingException', 'Rate exceeded');
    return accept(input);
  });

  // Act
  const run = await runBundle({ assetDir: ASSET, environment: environment(), event: SCHEDULED_EVENT, standin });

  // Assess
  expect(run.error).toBeUndefined();
  expect(run.result.clusters[0]).toMatchObject({ requested: [first], errors: [] });
  expect(standin.callsTo('ecs', 'UpdateContainerAgent').map((c) => c.errorCode ?? 'ok')).toEqual(['ThrottlingException', 'ok']);
});

test('a duplicate delivery (the last event run is this one) does nothing but read the state table', async () => {
  // Prepare
  standin.on('dynamodb', 'BatchGetItem', (input: { RequestItems: Record<string, unknown> }) => ({
    Responses: {
      [Object.keys(input.RequestItems)[0]]: [{
        cluster: { S: '$run' }, lastEventId: { S: SCHEDULED_EVENT.id }, lastEventTime: { N: String(Date.parse(SCHEDULED_EVENT.time)) },
      }],
    },
    UnprocessedKeys: {},
  }));

  // Act
  const run = await runBundle({ assetDir: ASSET, environment: environment(), event: SCHEDULED_EVENT, standin });

  // Assess
  expect(run.error).toBeUndefined();
  expect(run.result).toEqual({ skipped: 'duplicate or late delivery of a scheduled event', dryRun: false, clusters: [] });
  expect(calls()).toEqual(['dynamodb:BatchGetItem']);
});

test('reportAmiDrift loads the Auto Scaling and EC2 clients, and reports the instances whose AMI is not the group\'s', async () => {
  // Prepare
  clusterWithAgents(standin, ['1.95.0', '1.95.0']);
  emptyStateTable(standin);
  standin.on('ecs', 'UpdateContainerAgent', () => standin.error('NoUpdateAvailableException', 'There is no update available for your container agent.'));
  standin.on('sns', 'Publish', { MessageId: 'message-1' });
  standin.on('autoscaling', 'DescribeAutoScalingGroups', {
    AutoScalingGroups: [{
      AutoScalingGroupName: 'prod-asg',
      MinSize: 0,
      MaxSize: 4,
      DesiredCapacity: 2,
      DefaultCooldown: 300,
      AvailabilityZones: [`${REGION}a`],
      HealthCheckType: 'EC2',
      CreatedTime: new Date('2026-01-01T00:00:00Z'),
      LaunchTemplate: { LaunchTemplateId: 'lt-0a1b2c3d4e5f60001', LaunchTemplateName: 'prod-asg-lt', Version: '$Latest' },
      Instances: ['i-00000000000000000', 'i-00000000000000001'].map((InstanceId) => ({
        InstanceId, AvailabilityZone: `${REGION}a`, LifecycleState: 'InService', HealthStatus: 'Healthy', ProtectedFromScaleIn: false,
      })),
    }],
  });
  standin.on('ec2', 'DescribeLaunchTemplateVersions', {
    LaunchTemplateVersions: [{
      LaunchTemplateId: 'lt-0a1b2c3d4e5f60001',
      LaunchTemplateName: 'prod-asg-lt',
      VersionNumber: 4,
      DefaultVersion: false,
      LaunchTemplateData: { ImageId: 'ami-0ffffffffffffffff' },
    }],
  });

  // Act
  const run = await runBundle({ assetDir: ASSET, environment: environment({ reportAmiDrift: true }), event: SCHEDULED_EVENT, standin });

  // Assess
  expect(run.error).toBeUndefined();
  expect(run.result.clusters[0].drift).toEqual([{ group: 'prod-asg', expected: ['ami-0ffffffffffffffff'], instances: ['i-00000000000000000', 'i-00000000000000001'] }]);
  expect(standin.callsTo('ec2', 'DescribeLaunchTemplateVersions')[0].input).toMatchObject({ LaunchTemplateId: 'lt-0a1b2c3d4e5f60001', LaunchTemplateVersion: ['$Latest'] });
  expect(clientsOf(run)).toEqual(['Auto Scaling', 'DynamoDB', 'EC2', 'ECS', 'SNS']);
  expect(standin.calls.filter((c) => c.status !== 200).map((c) => c.errorCode)).toEqual(['NoUpdateAvailableException']);
});
