/**
 * IAM proof of EcsAgentMonitor: run the handler, configured with the environment of a synthesized monitor,
 * through a replacement scenario against the fake fleet, and check with the IAM policy simulator that every
 * request it made is allowed by the synthesized role, and that the same requests elsewhere are denied.
 */
// The handler is loaded in an isolated registry; share the SDK client packages (see support/shared-modules.ts).
jest.mock('@aws-sdk/client-ecs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ecs'));
jest.mock('@aws-sdk/client-auto-scaling', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-auto-scaling'));
jest.mock('@aws-sdk/client-ec2', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ec2'));
jest.mock('@aws-sdk/client-dynamodb', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-dynamodb'));
jest.mock('@aws-sdk/client-sns', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-sns'));

import { PublishCommand, PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsStub, mockClient } from 'aws-sdk-client-mock';
import { EcsAgentMonitor, EcsAgentMonitorProps, NotificationChannel, ReplacementAction, TerminationScope } from '../../src';
import { FakeDynamoDb } from '../support/fake-dynamodb';
import { FakeFleet } from '../support/fake-fleet';
import { IamRequest, IamSimulator, expectAllowed, expectDenied, distinctRequests, inOtherCluster } from '../support/iam';
import { loadMonitor } from './support/monitor';
import { StdoutCapture, advanceClock, useFakeClock } from '../support/handler-harness';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:ops`;
const CLUSTERS = ['prod', 'batch'];
const ORIGINAL_ENV = { ...process.env };

/** The clusters' instances' profile in the fake fleet (its default). */
const INSTANCE_PROFILE = `arn:aws:iam::${ACCOUNT}:instance-profile/ecs-instance`;

/** How the user configures the monitor, beyond clusters and the SNS topic. */
interface Configuration {
  readonly action: ReplacementAction;
  /** Give the clusters' groups in autoScalingGroups. */
  readonly groups: boolean;
  /** terminateStandaloneInstances, and the failing instance of each cluster is in no group. */
  readonly standalone?: boolean;
}

/** The monitor a user would write for the fleet: imported clusters (and groups), an SNS topic. */
function synthesize(c: Configuration) {
  const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
  const props: EcsAgentMonitorProps = {
    clusters: CLUSTERS.map((name) => ecs.Cluster.fromClusterArn(stack, `Cluster-${name}`, `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${name}`)),
    autoScalingGroups: c.groups
      ? CLUSTERS.map((name) => autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, `Group-${name}`, `${name}-asg`))
      : undefined,
    action: c.action,
    maxReplacementsPerRunTotal: CLUSTERS.length,
    terminateStandaloneInstances: c.standalone,
    terminationScope: TerminationScope.instanceProfiles([iam.InstanceProfile.fromInstanceProfileArn(stack, 'Profile', INSTANCE_PROFILE)]),
    notifications: [NotificationChannel.snsTopic(sns.Topic.fromTopicArn(stack, 'Ops', TOPIC_ARN))],
  };
  const monitor = new EcsAgentMonitor(stack, 'AgentMonitor', props);
  return { stack, monitor };
}

interface Proof {
  readonly sim: IamSimulator;
  /** Every IAM request the scenario's calls made. */
  readonly requests: IamRequest[];
  readonly fleet: FakeFleet;
  readonly tableArn: string;
}

/**
 * Synthesize the monitor, load the handler with the function's resolved environment, and run it twice over
 * a fleet where one instance per cluster stays disconnected, so each cluster has one replacement.
 */
async function runScenario(c: Configuration): Promise<Proof> {
  const { stack, monitor } = synthesize(c);
  const sim = await IamSimulator.forRole(stack, monitor.handler);
  const fnLogicalId = stack.getLogicalId(monitor.handler.node.defaultChild as CfnElement);
  const variables = Template.fromStack(stack).toJSON().Resources[fnLogicalId].Properties.Environment.Variables as Record<string, unknown>;
  const env = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(sim.resolve(v))]));
  const tableArn = String(sim.resolve(stack.resolve(monitor.table!.tableArn)));

  const fleet = new FakeFleet({ region: REGION, accountId: ACCOUNT, now: () => new Date() }).install();
  const table = new FakeDynamoDb({ tableName: env.FAILURE_TABLE_NAME, tableArn }).install();
  const topic: AwsStub<any, any, any> = mockClient(SNSClient);
  topic.on(PublishCommand).resolves({ MessageId: 'message-1' });
  try {
    for (const name of CLUSTERS) {
      fleet.addCluster(name);
      if (c.standalone) {
        fleet.setAgentConnected(fleet.addContainerInstance(name).arn, false);
        fleet.addAutoScalingGroup(`${name}-asg`, { instances: 3, cluster: name });
      } else {
        fleet.addAutoScalingGroup(`${name}-asg`, { instances: 4, cluster: name });
        fleet.setAgentConnected(fleet.containerInstancesOf(name)[0].arn, false);
      }
    }
    const { handler } = loadMonitor(env);
    await handler({});
    advanceClock(5 * 60_000);
    const result = await handler({});
    expect(result.clusters.map((r) => [r.cluster, r.errors, r.done.length])).toEqual([['prod', [], 1], ['batch', [], 1]]);

    const publishes = topic.commandCalls(PublishCommand).map((call) => call.args[0].input as PublishCommandInput);
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

/** The same request against the group `other-asg`. */
function inOtherGroup(request: IamRequest): IamRequest {
  let json = JSON.stringify(request);
  for (const name of CLUSTERS) json = json.split(`autoScalingGroupName/${name}-asg`).join('autoScalingGroupName/other-asg');
  return JSON.parse(json);
}

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

describe.each([
  { name: 'SET_UNHEALTHY', c: { action: ReplacementAction.SET_UNHEALTHY, groups: true }, replaceActions: ['autoscaling:SetInstanceHealth'] },
  { name: 'TERMINATE', c: { action: ReplacementAction.TERMINATE, groups: true }, replaceActions: ['autoscaling:TerminateInstanceInAutoScalingGroup'] },
  {
    name: 'DETACH_AND_TERMINATE',
    c: { action: ReplacementAction.DETACH_AND_TERMINATE, groups: true },
    replaceActions: ['autoscaling:DetachInstances', 'ec2:TerminateInstances'],
  },
  { name: 'SET_UNHEALTHY without autoScalingGroups', c: { action: ReplacementAction.SET_UNHEALTHY, groups: false }, replaceActions: ['autoscaling:SetInstanceHealth'] },
  {
    name: 'terminateStandaloneInstances (instances in no group)',
    c: { action: ReplacementAction.SET_UNHEALTHY, groups: true, standalone: true },
    replaceActions: ['ec2:TerminateInstances'],
  },
])('EcsAgentMonitor role with $name', ({ c, replaceActions }) => {
  test('allows every request the handler made in the scenario', async () => {
    // Prepare + Act
    const { sim, requests, fleet, tableArn } = await runScenario(c);

    // Assess: the scenario did what it is meant to prove
    expect(fleet.iamActions()).toEqual([
      'autoscaling:DescribeAutoScalingInstances', 'ecs:DescribeContainerInstances', 'ecs:ListContainerInstances', ...replaceActions,
    ].sort());
    expect(requests.filter((r) => r.action.startsWith('dynamodb:')).map((r) => r.action).sort())
      .toEqual(['dynamodb:BatchWriteItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    expect(requests.filter((r) => r.action.startsWith('dynamodb:')).every((r) => r.resource === tableArn)).toBe(true);
    expect(requests.some((r) => r.action === 'sns:Publish' && r.resource === TOPIC_ARN)).toBe(true);
    await expectAllowed(sim, requests);
  });

  test('denies the same requests against another cluster and another group', async () => {
    // Prepare + Act
    const { sim, requests } = await runScenario(c);

    // Assess
    const ecsRequests = requests.filter((r) => r.action.startsWith('ecs:'));
    expect(ecsRequests.length).toBeGreaterThan(0);
    await expectDenied(sim, ecsRequests.map((r) => inOtherCluster(r, CLUSTERS)));
    const groupRequests = requests.filter((r) => r.action.startsWith('autoscaling:') && r.resource !== '*');
    expect(groupRequests.map((r) => r.action)).toEqual(expect.arrayContaining(replaceActions.filter((a) => a.startsWith('autoscaling:'))));
    if (groupRequests.length === 0) {
      expect(c.standalone).toBe(true); // no group was acted on
    } else if (c.groups) {
      await expectDenied(sim, groupRequests.map(inOtherGroup));
    } else {
      // Without autoScalingGroups the replacement action reaches every group: the scope finding the README documents.
      await expectAllowed(sim, groupRequests.map(inOtherGroup));
    }
  });

  test('denies what the monitor never needs', async () => {
    // Prepare + Act
    const { sim, requests, tableArn } = await runScenario(c);

    // Assess
    const describe = requests.find((r) => r.action === 'ecs:DescribeContainerInstances')!;
    const list = requests.find((r) => r.action === 'ecs:ListContainerInstances')!;
    const groupArn = requests.find((r) => r.action.startsWith('autoscaling:') && r.resource !== '*')?.resource;
    const otherReplaceActions = ['autoscaling:SetInstanceHealth', 'autoscaling:TerminateInstanceInAutoScalingGroup', 'autoscaling:DetachInstances']
      .filter((a) => !replaceActions.includes(a));
    const instance = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0`;
    await expectDenied(sim, [
      { action: 'ecs:UpdateContainerAgent', resource: describe.resource, context: describe.context },
      { action: 'ecs:DeleteCluster', resource: list.resource },
      ...(groupArn ? otherReplaceActions.map((a) => ({ action: a, resource: groupArn })) : []),
      // An instance that is not one of the clusters' (another instance profile) is never terminated; with no EC2
      // termination in the configuration, none is.
      { action: 'ec2:TerminateInstances', resource: instance, context: { 'ec2:InstanceProfile': `arn:aws:iam::${ACCOUNT}:instance-profile/other` } },
      ...(replaceActions.includes('ec2:TerminateInstances') ? [] : [{ action: 'ec2:TerminateInstances', resource: instance, context: { 'ec2:InstanceProfile': INSTANCE_PROFILE } }]),
      { action: 'dynamodb:Scan', resource: tableArn },
      { action: 'dynamodb:DeleteTable', resource: tableArn },
      { action: 'dynamodb:PutItem', resource: tableArn },
      { action: 'sns:Publish', resource: `arn:aws:sns:${REGION}:${ACCOUNT}:other` },
    ]);
  });
});
