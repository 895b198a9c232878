/**
 * IAM proof of EcsAgentUpdater: run the handler, with the environment of a synthesized updater, through a rollout
 * with the AMI drift report against the fake fleet, and check with the IAM policy simulator that every request it
 * made is allowed by the synthesized role, and that what the updater must never do is denied.
 */
// The handler is loaded in an isolated registry; share the SDK client packages (see ../support/shared-modules.ts).
jest.mock('@aws-sdk/client-ecs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ecs'));
jest.mock('@aws-sdk/client-auto-scaling', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-auto-scaling'));
jest.mock('@aws-sdk/client-ec2', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ec2'));
jest.mock('@aws-sdk/client-dynamodb', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-dynamodb'));
jest.mock('@aws-sdk/client-sns', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-sns'));

import { PublishCommand, PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { App, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsStub, mockClient } from 'aws-sdk-client-mock';
import { EcsAgentUpdater, EcsAgentUpdaterProps, NotificationChannel } from '../../src';
import { FakeDynamoDb } from '../support/fake-dynamodb';
import { FakeFleet } from '../support/fake-fleet';
import { IamRequest, IamSimulator, expectAllowed, expectDenied, distinctRequests, inOtherCluster } from '../support/iam';
import { synthesizedEnvironment } from '../support/synthesized-environment';
import { ACCOUNT, REGION, StdoutCapture, advanceClock, loadUpdater, scheduledEvent, useFakeClock } from './support/updater';

const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:ops`;
const CLUSTERS = ['prod', 'batch'];
const ORIGINAL_ENV = { ...process.env };
const clusterArn = (name: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${name}`;
const instanceArn = (cluster: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/${cluster}/0123456789abcdef0123456789abcdef`;

/** The updater a user would write for the fleet: imported clusters (or none), an SNS topic. */
function synthesize(props: Partial<EcsAgentUpdaterProps> & { allClusters?: boolean }) {
  const { allClusters, ...rest } = props;
  const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
  const updater = new EcsAgentUpdater(stack, 'AgentUpdater', {
    clusters: allClusters ? undefined : CLUSTERS.map((name) => ecs.Cluster.fromClusterArn(stack, `Cluster-${name}`, clusterArn(name))),
    notifications: [NotificationChannel.snsTopic(sns.Topic.fromTopicArn(stack, 'Ops', TOPIC_ARN))],
    ...rest,
  });
  return { stack, updater };
}

interface Proof {
  readonly sim: IamSimulator;
  /** Every IAM request the scenario's calls made. */
  readonly requests: IamRequest[];
  readonly fleet: FakeFleet;
  readonly tableArn: string;
}

/**
 * Synthesize the updater, load the handler with the function's resolved environment, and run it twice over a fleet
 * of two clusters with outdated agents in Auto Scaling groups whose AMI changed.
 */
async function runScenario(props: Partial<EcsAgentUpdaterProps> & { allClusters?: boolean } = {}): Promise<Proof> {
  const { stack, updater } = synthesize(props);
  const sim = await IamSimulator.forRole(stack, updater.handler);
  const env = synthesizedEnvironment(stack, updater.handler);
  const tableArn = String(sim.resolve(stack.resolve(updater.table.tableArn)));

  const fleet = new FakeFleet({ region: REGION, accountId: ACCOUNT, now: () => new Date(), latestAgentVersion: '1.95.0' }).install();
  const table = new FakeDynamoDb({ tableName: env.STATE_TABLE_NAME, tableArn, keySchema: { partitionKey: 'cluster' } }).install();
  const topic: AwsStub<any, any, any> = mockClient(SNSClient);
  topic.on(PublishCommand).resolves({ MessageId: 'message-1' });
  try {
    for (const name of CLUSTERS) {
      fleet.addCluster(name, { tags: { team: 'platform' } });
      fleet.addAutoScalingGroup(`${name}-asg`, { instances: 3, cluster: name, instanceDefaults: { agentVersion: '1.80.0' } });
      fleet.setGroupImage(`${name}-asg`, 'ami-0000000000000bbbb');
    }
    const handler = loadUpdater(env);
    await handler(scheduledEvent(new Date()));
    for (const ci of fleet.containerInstances.values()) if (ci.agentUpdateStatus === 'PENDING') fleet.progressAgentUpdate(ci.arn, 'UPDATED');
    advanceClock(3_600_000);
    const result = await handler(scheduledEvent(new Date()));
    expect(result.clusters.map((c) => [c.cluster, c.errors]).sort()).toEqual([['batch', []], ['prod', []]]);

    const publishes = topic.commandCalls(PublishCommand).map((c) => c.args[0].input as PublishCommandInput);
    const requests: IamRequest[] = [
      ...fleet.iamRequests(),
      ...table.iamRequests(),
      ...publishes.map((p) => ({ action: 'sns:Publish', resource: p.TopicArn! })),
    ];
    return { sim, requests: distinctRequests(requests), fleet, tableArn };
  } finally {
    topic.restore();
    table.uninstall();
    fleet.uninstall();
  }
}

/** What the updater must never do, in its own clusters. */
const NEVER: IamRequest[] = [
  { action: 'ecs:DeregisterContainerInstance', resource: clusterArn('prod') },
  { action: 'ecs:StopTask', resource: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/prod/0123456789abcdef0123456789abcdef`, context: { 'ecs:cluster': clusterArn('prod') } },
  { action: 'ecs:UpdateContainerInstancesState', resource: instanceArn('prod'), context: { 'ecs:cluster': clusterArn('prod') } },
  { action: 'ecs:DeleteCluster', resource: clusterArn('prod') },
  { action: 'ec2:TerminateInstances', resource: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0` },
  ...['SetInstanceHealth', 'TerminateInstanceInAutoScalingGroup', 'UpdateAutoScalingGroup', 'StartInstanceRefresh', 'DetachInstances'].map((a) => ({
    action: `autoscaling:${a}`,
    resource: `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:0a1b2c3d-0000-4000-8000-000000000000:autoScalingGroupName/prod-asg`,
  })),
];

beforeEach(() => {
  useFakeClock(new Date('2026-03-02T08:00:00.000Z'));
  stdout = new StdoutCapture().start();
});

afterEach(() => {
  stdout.stop();
  jest.useRealTimers();
  process.env = { ...ORIGINAL_ENV };
});

let stdout: StdoutCapture;

describe('EcsAgentUpdater role with its clusters and the AMI drift report', () => {
  test('allows every request the handler made in the scenario', async () => {
    // Prepare + Act
    const { sim, requests, fleet, tableArn } = await runScenario({ reportAmiDrift: true });

    // Assess: the scenario did what it is meant to prove
    expect(fleet.iamActions()).toEqual([
      'autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeLaunchTemplateVersions',
      'ecs:DescribeClusters', 'ecs:DescribeContainerInstances', 'ecs:ListContainerInstances', 'ecs:UpdateContainerAgent',
    ]);
    expect(new Set(fleet.iamRequests({ command: 'UpdateContainerAgent' }).map((r) => r.context['ecs:cluster'])))
      .toEqual(new Set([clusterArn('batch'), clusterArn('prod')]));
    expect(requests.filter((r) => r.action.startsWith('dynamodb:')).map((r) => r.action).sort())
      .toEqual(['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem']);
    expect(requests.filter((r) => r.action.startsWith('dynamodb:')).every((r) => r.resource === tableArn)).toBe(true);
    expect(requests.some((r) => r.action === 'sns:Publish' && r.resource === TOPIC_ARN)).toBe(true);
    await expectAllowed(sim, requests);
  });

  test('denies the same ECS requests against another cluster', async () => {
    // Prepare + Act
    const { sim, requests } = await runScenario({ reportAmiDrift: true });

    // Assess
    const clusterScoped = requests.filter((r) => r.action.startsWith('ecs:') && r.resource !== '*');
    expect(clusterScoped.map((r) => r.action)).toContain('ecs:UpdateContainerAgent');
    await expectDenied(sim, clusterScoped.map((r) => inOtherCluster(r, CLUSTERS)));
    // The ecs:cluster condition holds even for a container instance ARN that names an updated cluster.
    await expectDenied(sim, [{ action: 'ecs:UpdateContainerAgent', resource: instanceArn('prod'), context: { 'ecs:cluster': clusterArn('other') } }]);
  });

  test('denies what the updater never needs: deregistering, stopping tasks, any Auto Scaling change, other data', async () => {
    // Prepare + Act
    const { sim, tableArn } = await runScenario({ reportAmiDrift: true });

    // Assess
    await expectDenied(sim, [
      ...NEVER,
      { action: 'autoscaling:DescribeAutoScalingInstances' },
      { action: 'ec2:DescribeInstances' },
      { action: 'dynamodb:Scan', resource: tableArn },
      { action: 'dynamodb:DeleteItem', resource: tableArn },
      { action: 'dynamodb:PutItem', resource: tableArn },
      { action: 'dynamodb:DeleteTable', resource: tableArn },
      { action: 'sns:Publish', resource: `arn:aws:sns:${REGION}:${ACCOUNT}:other` },
    ]);
  });
});

describe('EcsAgentUpdater role at its defaults', () => {
  test('has no Auto Scaling or EC2 permission at all', async () => {
    // Prepare + Act
    const { sim, requests, fleet } = await runScenario();

    // Assess
    expect(fleet.iamActions()).toEqual(['ecs:DescribeClusters', 'ecs:DescribeContainerInstances', 'ecs:ListContainerInstances', 'ecs:UpdateContainerAgent']);
    await expectAllowed(sim, requests);
    await expectDenied(sim, [
      ...NEVER,
      { action: 'autoscaling:DescribeAutoScalingGroups' },
      { action: 'autoscaling:DescribeLaunchConfigurations' },
      { action: 'ec2:DescribeLaunchTemplateVersions' },
    ]);
  });
});

describe('EcsAgentUpdater role in a dry run', () => {
  test('reads, and may not update an agent anywhere', async () => {
    // Prepare + Act
    const { sim, requests, fleet } = await runScenario({ dryRun: true });

    // Assess
    expect(fleet.callsTo('ecs', 'UpdateContainerAgent')).toEqual([]);
    await expectAllowed(sim, requests);
    await expectDenied(sim, [{ action: 'ecs:UpdateContainerAgent', resource: instanceArn('prod'), context: { 'ecs:cluster': clusterArn('prod') } }]);
  });
});

describe('EcsAgentUpdater role without clusters', () => {
  test('may update agents in any cluster of its account, and in no other account', async () => {
    // Prepare + Act
    const { sim, requests, fleet } = await runScenario({ allClusters: true });

    // Assess
    expect(fleet.iamActions()).toContain('ecs:ListClusters');
    await expectAllowed(sim, requests);
    await expectAllowed(sim, [{ action: 'ecs:UpdateContainerAgent', resource: instanceArn('other'), context: { 'ecs:cluster': clusterArn('other') } }]);
    await expectDenied(sim, [
      {
        action: 'ecs:UpdateContainerAgent',
        resource: 'arn:aws:ecs:us-east-1:210987654321:container-instance/prod/0123456789abcdef0123456789abcdef',
        context: { 'ecs:cluster': 'arn:aws:ecs:us-east-1:210987654321:cluster/prod' },
      },
      ...NEVER,
    ]);
  });
});
