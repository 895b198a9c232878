/**
 * Scenario tests of the EcsAgentMonitor handler against the fake fleet, an in-memory failure table and a
 * mocked SNS topic. Each run is one scheduled invocation; the clock moves five minutes between runs.
 */
// The handler is loaded in an isolated module registry per configuration (it reads its environment once),
// which would also load other copies of the SDK clients; share them so the fakes answer the handler's clients.
jest.mock('@aws-sdk/client-ecs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ecs'));
jest.mock('@aws-sdk/client-auto-scaling', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-auto-scaling'));
jest.mock('@aws-sdk/client-ec2', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ec2'));
jest.mock('@aws-sdk/client-dynamodb', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-dynamodb'));
jest.mock('@aws-sdk/client-sns', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-sns'));

import { PublishCommand, PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { App, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as snsTopics from 'aws-cdk-lib/aws-sns';
import { AwsStub, mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { FakeDynamoDb } from '../support/fake-dynamodb';
import { ContainerInstanceState, FakeFleet, RecordedCall } from '../support/fake-fleet';
import { MonitorHandler, loadMonitor } from './support/monitor';
import { EcsAgentMonitor, NotificationChannel } from '../../src';
import { StdoutCapture, advanceClock, useFakeClock } from '../support/handler-harness';
import { synthesizedEnvironment } from '../support/synthesized-environment';


const T0 = new Date('2026-03-02T08:00:00.000Z');
const SCHEDULE_MS = 5 * 60_000;
const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:ops';

/**
 * The environment the construct synthesizes at its defaults, with an SNS channel: a five-minute schedule, so a count
 * lives 450 s and goes up at most once per 150 s.
 */
const CONSTRUCT_ENV: Record<string, string> = (() => {
  const stack = new Stack(new App(), 'Ops', { env: { account: '123456789012', region: 'us-east-1' } });
  const agentMonitor = new EcsAgentMonitor(stack, 'AgentMonitor', {
    clusters: [ecs.Cluster.fromClusterArn(stack, 'Cluster', 'arn:aws:ecs:us-east-1:123456789012:cluster/prod')],
    notifications: [NotificationChannel.snsTopic(snsTopics.Topic.fromTopicArn(stack, 'Topic', TOPIC_ARN))],
  });
  return synthesizedEnvironment(stack, agentMonitor.handler);
})();
const TABLE = CONSTRUCT_ENV.FAILURE_TABLE_NAME;
const MUTATING = ['SetInstanceHealth', 'TerminateInstanceInAutoScalingGroup', 'DetachInstances', 'TerminateInstances'];
const ORIGINAL_ENV = { ...process.env };

let fleet: FakeFleet;
let table: FakeDynamoDb;
let sns: AwsStub<any, any, any>;
let stdout: StdoutCapture;

beforeEach(() => {
  useFakeClock(T0);
  fleet = new FakeFleet({ now: () => new Date() }).install();
  table = new FakeDynamoDb({ tableName: TABLE }).install();
  sns = mockClient(SNSClient);
  sns.on(PublishCommand).resolves({ MessageId: 'message-1' });
  stdout = new StdoutCapture().start();
});

afterEach(() => {
  stdout.stop();
  sns.restore();
  table.uninstall();
  fleet.uninstall();
  jest.useRealTimers();
  process.env = { ...ORIGINAL_ENV };
});

/** Loads a handler configured as the construct synthesizes it at its defaults, plus `env`. */
function monitor(env: Record<string, string> = {}): MonitorHandler {
  return loadMonitor({ ...CONSTRUCT_ENV, ...env }).handler;
}

/** One scheduled run, with the recorders reset first so assertions see only this run. */
async function run(handler: MonitorHandler) {
  fleet.resetCalls();
  table.resetCalls();
  sns.resetHistory();
  stdout.clear();
  return handler({ 'detail-type': 'Scheduled Event', 'source': 'aws.events' });
}

/** The next scheduled run, five minutes later. */
async function nextRun(handler: MonitorHandler) {
  advanceClock(SCHEDULE_MS);
  return run(handler);
}

/** The SNS messages of the last run. */
function messages(): PublishCommandInput[] {
  return sns.commandCalls(PublishCommand).map((c) => c.args[0].input as PublishCommandInput);
}

function mutatingCalls(): RecordedCall[] {
  return fleet.calls.filter((c) => MUTATING.includes(c.command));
}

function inputsOf(service: 'ecs' | 'autoscaling' | 'ec2', command: string): any[] {
  return fleet.callsTo(service, command).map((c) => c.input);
}

/** A cluster `name` whose `size` instances are all in the group `<name>-asg`. */
function clusterWithGroup(name: string, size: number): ContainerInstanceState[] {
  fleet.addCluster(name);
  fleet.addAutoScalingGroup(`${name}-asg`, { instances: size, cluster: name });
  return fleet.containerInstancesOf(name);
}

function disconnect(...instances: ContainerInstanceState[]): void {
  for (const i of instances) fleet.setAgentConnected(i.arn, false);
}

const byArn = (a: ContainerInstanceState, b: ContainerInstanceState) => a.arn.localeCompare(b.arn);

describe('counting', () => {
  test('one missed check then a reconnect: the count is created, then deleted; nothing is replaced', async () => {
    // Prepare
    const [a] = clusterWithGroup('prod', 4);
    disconnect(a);
    const handler = monitor();

    // Act
    const first = await run(handler);

    // Assess
    expect(first.clusters).toEqual([expect.objectContaining({
      cluster: 'prod',
      errors: [],
      done: [],
      assessment: expect.objectContaining({
        checked: 4, outage: false, failing: [{ arn: a.arn, ec2InstanceId: a.ec2InstanceId, reason: 'agent disconnected' }],
      }),
    })]);
    expect(table.counts('prod')).toEqual(new Map([[a.arn, 1]]));
    expect(fleet.calls.filter((c) => c.service !== 'ecs')).toEqual([]); // no Auto Scaling look-up below failAfter
    expect(messages()).toEqual([{
      TopicArn: TOPIC_ARN,
      Subject: '[WARNING] 1 instance(s) in prod failed an ECS agent check',
      Message: expect.stringContaining(`Failed a check for the first time (1 of 2 before replacement):\n• ${a.ec2InstanceId}: agent disconnected`),
      MessageAttributes: expect.objectContaining({ severity: { DataType: 'String', StringValue: 'warning' } }),
    }]);

    // Act
    fleet.setAgentConnected(a.arn, true);
    const second = await nextRun(handler);

    // Assess
    expect(second.clusters[0]).toMatchObject({ errors: [], done: [], assessment: { failing: [] } });
    expect(table.counts('prod')).toEqual(new Map());
    expect(table.callsTo('BatchWriteItem').map((c) => c.input.RequestItems)).toEqual([
      { [TABLE]: [{ DeleteRequest: { Key: { cluster: { S: 'prod' }, instance: { S: a.arn } } } }] },
    ]);
    expect(table.callsTo('UpdateItem')).toEqual([]);
    expect(fleet.calls.filter((c) => c.service !== 'ecs')).toEqual([]);
    expect(messages()).toEqual([]); // a quiet run sends nothing
  });

  test('a new instance inside the grace period is never counted, even disconnected across runs', async () => {
    // Prepare
    clusterWithGroup('prod', 3);
    const fresh = fleet.addInstanceToGroup('prod-asg', { registeredAt: fleet.minutesAgo(1), agentConnected: false }).containerInstance!;
    const handler = monitor({ GRACE_PERIOD_SECONDS: '600' });

    // Act: at 1 and 6 minutes after registration
    const runs = [await run(handler), await nextRun(handler)];

    // Assess
    for (const result of runs) {
      expect(result.clusters[0].assessment).toMatchObject({ checked: 3, inGracePeriod: 1, failing: [] });
    }
    expect(table.count('prod', fresh.arn)).toBeUndefined();
    expect(table.callsTo('UpdateItem')).toEqual([]);
    expect(messages()).toEqual([]);

    // Act: 11 minutes after registration it is checked like any other
    const third = await nextRun(handler);

    // Assess
    expect(third.clusters[0].assessment).toMatchObject({ checked: 4, inGracePeriod: 0 });
    expect(table.count('prod', fresh.arn)).toBe(1);
  });

  test('DRAINING, REGISTERING and DEREGISTERING instances are not counted and their counts are cleared', async () => {
    // Prepare
    const [draining, registering, deregistering] = clusterWithGroup('prod', 6);
    disconnect(draining, registering, deregistering);
    const handler = monitor({ OUTAGE_THRESHOLD_PERCENT: '60' });
    await run(handler);
    expect(table.counts('prod')).toEqual(new Map([draining, registering, deregistering].map((i) => [i.arn, 1])));
    fleet.setContainerInstanceStatus(draining.arn, 'DRAINING');
    fleet.setContainerInstanceStatus(registering.arn, 'REGISTERING');
    fleet.setContainerInstanceStatus(deregistering.arn, 'DEREGISTERING');

    // Act: three more runs, the failAfter of 2 long passed
    const results = [await nextRun(handler), await nextRun(handler), await nextRun(handler)];

    // Assess
    expect(results.map((r) => r.clusters[0].assessment?.checked)).toEqual([3, 3, 3]);
    expect(results.map((r) => r.clusters[0].assessment?.failing)).toEqual([[], [], []]);
    expect(table.counts('prod')).toEqual(new Map());
    expect(fleet.calls.filter((c) => c.service !== 'ecs')).toEqual([]);
    expect(inputsOf('ecs', 'ListContainerInstances')).toEqual([expect.objectContaining({ cluster: 'prod', status: 'ACTIVE' })]);
  });

  test('IMPAIRED health is not a failed check by default', async () => {
    // Prepare
    const [a] = clusterWithGroup('prod', 4);
    fleet.setContainerInstanceHealth(a.arn, 'IMPAIRED');
    const handler = monitor();

    // Act
    await run(handler);
    const second = await nextRun(handler);

    // Assess
    expect(second.clusters[0].assessment?.failing).toEqual([]);
    expect(inputsOf('ecs', 'DescribeContainerInstances')).toEqual([{ cluster: 'prod', containerInstances: expect.arrayContaining([a.arn]) }]);
    expect(inputsOf('ecs', 'DescribeContainerInstances')[0].include).toBeUndefined();
    expect(table.count('prod', a.arn)).toBeUndefined();
    expect(mutatingCalls()).toEqual([]);
  });

  test('IMPAIRED health is a failed check with TREAT_IMPAIRED_AS_FAILED=true, and leads to replacement', async () => {
    // Prepare
    const [a] = clusterWithGroup('prod', 4);
    fleet.setContainerInstanceHealth(a.arn, 'IMPAIRED');
    const handler = monitor({ TREAT_IMPAIRED_AS_FAILED: 'true' });

    // Act
    const first = await run(handler);
    const second = await nextRun(handler);

    // Assess
    expect(inputsOf('ecs', 'DescribeContainerInstances')).toEqual([
      { cluster: 'prod', containerInstances: expect.arrayContaining([a.arn]), include: ['CONTAINER_INSTANCE_HEALTH'] },
    ]);
    expect(first.clusters[0].assessment?.failing).toEqual([{ arn: a.arn, ec2InstanceId: a.ec2InstanceId, reason: 'instance health IMPAIRED' }]);
    expect(inputsOf('autoscaling', 'SetInstanceHealth')).toEqual([
      { InstanceId: a.ec2InstanceId, HealthStatus: 'Unhealthy', ShouldRespectGracePeriod: false },
    ]);
    expect(second.clusters[0].done).toHaveLength(1);
    expect(messages()[0].Message).toContain(`• ${a.ec2InstanceId} (prod-asg): instance health IMPAIRED on 2 consecutive checks; mark unhealthy in its Auto Scaling group`);
  });
});

describe('replacement after failAfter consecutive failed checks', () => {
  test.each([
    {
      action: 'SET_UNHEALTHY',
      calls: (id: string) => [{ service: 'autoscaling', command: 'SetInstanceHealth', input: { InstanceId: id, HealthStatus: 'Unhealthy', ShouldRespectGracePeriod: false } }],
      line: 'mark unhealthy in its Auto Scaling group',
      after: (id: string) => expect(fleet.groupMembership(id)?.member.healthStatus).toBe('Unhealthy'),
    },
    {
      action: 'TERMINATE',
      calls: (id: string) => [{ service: 'autoscaling', command: 'TerminateInstanceInAutoScalingGroup', input: { InstanceId: id, ShouldDecrementDesiredCapacity: false } }],
      line: 'terminate in its Auto Scaling group',
      after: (id: string) => expect(fleet.groupMembership(id)?.member.lifecycleState).toBe('Terminating'),
    },
    {
      action: 'DETACH_AND_TERMINATE',
      calls: (id: string) => [
        { service: 'autoscaling', command: 'DetachInstances', input: { AutoScalingGroupName: 'prod-asg', InstanceIds: [id], ShouldDecrementDesiredCapacity: false } },
        { service: 'ec2', command: 'TerminateInstances', input: { InstanceIds: [id] } },
      ],
      line: 'detach from its Auto Scaling group and terminate',
      after: (id: string) => {
        expect(fleet.groupMembership(id)).toBeUndefined();
        expect(fleet.requireEc2Instance(id).state).toBe('shutting-down');
      },
    },
  ])('$action: one missed check, then at the second the instance is replaced and its count cleared', async ({ action, calls, line, after }) => {
    // Prepare
    const [a] = clusterWithGroup('prod', 4);
    disconnect(a);
    const handler = monitor({ ACTION: action, FAIL_AFTER: '2' });
    await run(handler);
    expect(mutatingCalls()).toEqual([]);

    // Act
    const result = await nextRun(handler);

    // Assess
    const id = a.ec2InstanceId;
    expect(inputsOf('autoscaling', 'DescribeAutoScalingInstances')).toEqual([{ InstanceIds: [id], MaxRecords: 1 }]);
    expect(mutatingCalls().map((c) => ({ service: c.service, command: c.command, input: c.input }))).toEqual(calls(id));
    after(id);
    expect(fleet.requireGroup('prod-asg').desiredCapacity).toBe(4);
    expect(table.count('prod', a.arn)).toBeUndefined();
    expect(result.clusters[0]).toMatchObject({
      errors: [],
      done: [{ kind: 'replace', action, group: 'prod-asg', failures: 2, instance: { arn: a.arn, ec2InstanceId: id } }],
    });
    expect(messages()).toEqual([expect.objectContaining({
      Subject: '[OK] Replacing 1 instance(s) with a disconnected ECS agent in prod',
      Message: expect.stringContaining(`Replacement requested:\n• ${id} (prod-asg): agent disconnected on 2 consecutive checks; ${line}`),
    })]);
  });

  test('NOTIFY_ONLY: at failAfter nothing is changed, a "would replace" message is sent and the count is cleared as after a replacement', async () => {
    // Prepare
    const [a] = clusterWithGroup('prod', 4);
    disconnect(a);
    const handler = monitor({ ACTION: 'NOTIFY_ONLY' });
    await run(handler);

    // Act
    const result = await nextRun(handler);

    // Assess
    expect(mutatingCalls()).toEqual([]);
    expect(fleet.groupMembership(a.ec2InstanceId)?.member).toMatchObject({ healthStatus: 'Healthy', lifecycleState: 'InService' });
    expect(result.clusters[0].done).toEqual([expect.objectContaining({ kind: 'replace', action: 'NOTIFY_ONLY', group: 'prod-asg' })]);
    expect(table.count('prod', a.arn)).toBeUndefined();
    expect(messages()).toEqual([expect.objectContaining({
      Subject: '[WARNING] Dry run: would replace 1 instance(s) in prod',
      Message: expect.stringContaining(`Would have replaced:\n• ${a.ec2InstanceId} (prod-asg): agent disconnected on 2 consecutive checks; dry run, nothing changed`),
    })]);
  });

  test('NOTIFY_ONLY over several runs: nothing is ever changed; the instance is counted again after each "would replace"', async () => {
    // Prepare
    const [a] = clusterWithGroup('prod', 4);
    disconnect(a);
    const handler = monitor({ ACTION: 'NOTIFY_ONLY' });
    const subjects: string[][] = [];
    const counts: Array<number | undefined> = [];
    const mutations: RecordedCall[] = [];

    // Act: four runs down, then one connected
    for (let i = 0; i < 5; i++) {
      if (i === 4) fleet.setAgentConnected(a.arn, true);
      await (i === 0 ? run(handler) : nextRun(handler));
      subjects.push(messages().map((m) => m.Subject!));
      counts.push(table.count('prod', a.arn));
      mutations.push(...mutatingCalls());
    }

    // Assess
    expect(mutations).toEqual([]);
    expect(counts).toEqual([1, undefined, 1, undefined, undefined]);
    expect(subjects).toEqual([
      ['[WARNING] 1 instance(s) in prod failed an ECS agent check'],
      ['[WARNING] Dry run: would replace 1 instance(s) in prod'],
      ['[WARNING] 1 instance(s) in prod failed an ECS agent check'],
      ['[WARNING] Dry run: would replace 1 instance(s) in prod'],
      [],
    ]);
    expect(fleet.groupMembership(a.ec2InstanceId)?.member).toMatchObject({ healthStatus: 'Healthy', lifecycleState: 'InService' });
  });
});

describe('the time budget', () => {
  test('with the time spent when it is due, no replacement starts: its count is kept, the error says so, and the next run acts', async () => {
    // Prepare: the instance is due at this run, which has 0.1 s of work left after the 15 s reserve and the 1 s margin
    const [a] = clusterWithGroup('prod', 4);
    disconnect(a);
    const handler = monitor({ FAIL_AFTER: '2' });
    await run(handler);
    advanceClock(SCHEDULE_MS);
    fleet.resetCalls();
    sns.resetHistory();

    // Act
    const result = await handler({}, { awsRequestId: 'c0ffee00-late', getRemainingTimeInMillis: () => 16_100 });

    // Assess
    expect(mutatingCalls()).toEqual([]);
    expect(table.count('prod', a.arn)).toBe(2);
    expect(result.clusters[0]).toMatchObject({
      done: [],
      errors: [`not done: out of time (SET_UNHEALTHY ${a.ec2InstanceId}; its count is kept and the next run acts)`],
    });
    expect(messages()).toHaveLength(1);
    expect(messages()[0].Message).toContain('not done: out of time');

    // Act: the next run, with its time, replaces it
    const next = await nextRun(handler);

    // Assess
    expect(next.clusters[0].done).toEqual([expect.objectContaining({ kind: 'replace', action: 'SET_UNHEALTHY' })]);
  });
});

describe('safety limits', () => {
  test('outage guard: 3 of 4 disconnected replaces nothing, freezes the counts and says why once', async () => {
    // Prepare
    const [a, b, c] = clusterWithGroup('prod', 4);
    disconnect(a);
    const handler = monitor();
    await run(handler);
    expect(table.counts('prod')).toEqual(new Map([[a.arn, 1]]));
    disconnect(b, c);

    // Act
    const result = await nextRun(handler);

    // Assess
    expect(result.clusters[0]).toMatchObject({ errors: [], done: [], assessment: { outage: 'cluster', failingPercent: 75, checked: 4 } });
    expect(table.counts('prod')).toEqual(new Map([[a.arn, 1]])); // not incremented, not created, not cleared
    expect(table.callsTo('UpdateItem').map((call) => call.input.UpdateExpression)).toEqual(['SET expiresAt = :exp']); // kept alive
    expect(fleet.calls.filter((call) => call.service !== 'ecs')).toEqual([]);
    expect(messages()).toHaveLength(1);
    expect(messages()[0]).toMatchObject({
      Subject: '[ERROR] Outage guard tripped in prod: replacing nothing',
      Message: expect.stringContaining('3 of 4 checked instances (75%) failed the check at once, above the outage threshold of 50%.'),
    });
    expect(messages()[0].Message).toContain('failure counts are kept as they are (they neither expire nor go up) until it clears');
    for (const i of [a, b, c]) expect(messages()[0].Message).toContain(`• ${i.ec2InstanceId}: agent disconnected`);

    // Act: the outage lasts two more runs (longer than a count lives without the guard: 450 s)
    await nextRun(handler);
    await nextRun(handler);
    expect(table.counts('prod')).toEqual(new Map([[a.arn, 1]]));
    // then clears except for the first instance, whose count resumes from where it was frozen
    fleet.setAgentConnected(b.arn, true);
    fleet.setAgentConnected(c.arn, true);
    await nextRun(handler);

    // Assess
    expect(inputsOf('autoscaling', 'SetInstanceHealth')).toEqual([{ InstanceId: a.ec2InstanceId, HealthStatus: 'Unhealthy', ShouldRespectGracePeriod: false }]);
  });

  test('per-run cap: with 4 due and a cap of 1, one is replaced per run, the most-failed first', async () => {
    // Prepare: by ARN order d < a < b < c, so ties go a, b, c and d would win any tie
    const [d, a, b, c] = clusterWithGroup('prod', 10).sort(byArn);
    const handler = monitor({ MAX_REPLACEMENTS_PER_RUN: '1' });
    disconnect(a, b, c);
    await run(handler);
    disconnect(d);
    const replacedPerRun: string[][] = [];
    const countsPerRun: Array<Map<string, number>> = [];
    const waitingLines: string[] = [];

    // Act: four runs; between runs the group replaces what was marked unhealthy
    for (let i = 0; i < 4; i++) {
      const result = await nextRun(handler);
      replacedPerRun.push(inputsOf('autoscaling', 'SetInstanceHealth').map((x) => x.InstanceId));
      countsPerRun.push(table.counts('prod'));
      waitingLines.push(String(messages()[0]?.Message?.match(/\d+ more instance\(s\).*per run\)\./)?.[0]));
      expect(result.clusters[0].errors).toEqual([]);
      fleet.reconcile();
    }

    // Assess
    expect(replacedPerRun).toEqual([[a.ec2InstanceId], [b.ec2InstanceId], [c.ec2InstanceId], [d.ec2InstanceId]]);
    expect(countsPerRun).toEqual([
      new Map([[b.arn, 2], [c.arn, 2], [d.arn, 1]]), // a (2) first among equals
      new Map([[c.arn, 3], [d.arn, 2]]), // b (3) before d (2) although d's ARN is first
      new Map([[d.arn, 3]]), // c (4) before d (3)
      new Map(),
    ]);
    expect(waitingLines).toEqual([
      '2 more instance(s) reached the threshold and wait for a later run (at most 1 per run).',
      '2 more instance(s) reached the threshold and wait for a later run (at most 1 per run).',
      '1 more instance(s) reached the threshold and wait for a later run (at most 1 per run).',
      'undefined',
    ]);
  });

  test('an instance outside any Auto Scaling group is reported once, not terminated', async () => {
    // Prepare
    clusterWithGroup('prod', 3);
    const standalone = fleet.addContainerInstance('prod', { agentConnected: false });
    const handler = monitor();
    await run(handler);

    // Act
    const result = await nextRun(handler);

    // Assess
    expect(inputsOf('autoscaling', 'DescribeAutoScalingInstances')).toEqual([{ InstanceIds: [standalone.ec2InstanceId], MaxRecords: 1 }]);
    expect(mutatingCalls()).toEqual([]);
    expect(fleet.requireEc2Instance(standalone.ec2InstanceId).state).toBe('running');
    expect(result.clusters[0].plan?.steps).toEqual([expect.objectContaining({ kind: 'skip', failures: 2 })]);
    expect(messages()).toEqual([expect.objectContaining({
      Subject: '[WARNING] 1 failing instance(s) in prod cannot be replaced',
      Message: expect.stringContaining(`• ${standalone.ec2InstanceId}: belongs to no Auto Scaling group; set terminateStandaloneInstances`),
    })]);
    expect(table.count('prod', standalone.arn)).toBe(2);

    // Act: still down on the next run
    await nextRun(handler);

    // Assess: reported once only, still not terminated
    expect(messages()).toEqual([]);
    expect(mutatingCalls()).toEqual([]);
  });

  test('an instance outside any Auto Scaling group is terminated with TERMINATE_STANDALONE_INSTANCES=true', async () => {
    // Prepare
    clusterWithGroup('prod', 3);
    const standalone = fleet.addContainerInstance('prod', { agentConnected: false });
    const handler = monitor({ TERMINATE_STANDALONE_INSTANCES: 'true' });
    await run(handler);

    // Act
    const result = await nextRun(handler);

    // Assess
    expect(mutatingCalls().map((c) => [c.service, c.command, c.input])).toEqual([
      ['ec2', 'TerminateInstances', { InstanceIds: [standalone.ec2InstanceId] }],
    ]);
    expect(fleet.requireEc2Instance(standalone.ec2InstanceId).state).toBe('shutting-down');
    expect(result.clusters[0].done).toEqual([expect.objectContaining({ kind: 'replace', action: 'TERMINATE', group: undefined })]);
    expect(table.count('prod', standalone.arn)).toBeUndefined();
    expect(messages()[0].Message).toContain(`• ${standalone.ec2InstanceId} (no Auto Scaling group): agent disconnected on 2 consecutive checks; terminate the EC2 instance (no Auto Scaling group)`);
  });

  test('an instance of a group outside AUTO_SCALING_GROUPS is reported, not replaced', async () => {
    // Prepare
    clusterWithGroup('prod', 3);
    fleet.addAutoScalingGroup('legacy-asg', { instances: 2, cluster: 'prod' });
    const legacy = fleet.containerInstancesOf('prod').find((i) => fleet.groupMembership(i.ec2InstanceId)?.group.name === 'legacy-asg')!;
    disconnect(legacy);
    const handler = monitor({ AUTO_SCALING_GROUPS: 'prod-asg' });
    await run(handler);

    // Act
    const result = await nextRun(handler);

    // Assess
    expect(mutatingCalls()).toEqual([]);
    expect(fleet.groupMembership(legacy.ec2InstanceId)?.member.healthStatus).toBe('Healthy');
    expect(result.clusters[0].plan?.steps).toEqual([expect.objectContaining({ kind: 'skip', group: 'legacy-asg' })]);
    expect(messages()).toEqual([expect.objectContaining({
      Subject: '[WARNING] 1 failing instance(s) in prod cannot be replaced',
      Message: expect.stringContaining(`• ${legacy.ec2InstanceId}: its Auto Scaling group legacy-asg is not one this monitor may act on`),
    })]);
  });

  test('an instance already leaving its group is not acted on again', async () => {
    // Prepare
    const [a] = clusterWithGroup('prod', 4);
    disconnect(a);
    const handler = monitor();
    await run(handler);
    fleet.setLifecycleState(a.ec2InstanceId, 'Terminating:Wait');

    // Act
    const result = await nextRun(handler);

    // Assess
    expect(mutatingCalls()).toEqual([]);
    expect(result.clusters[0].plan?.steps).toEqual([expect.objectContaining({
      kind: 'skip', why: 'already leaving its Auto Scaling group (lifecycle state Terminating:Wait)',
    })]);
  });
});

describe('overlapping runs (EventBridge delivers at least once; a throttled invocation can run late; a hand-run)', () => {
  test('two invocations at once count one failed period once: one first-failure message, no replacement', async () => {
    // Prepare
    const [a] = clusterWithGroup('prod', 4);
    disconnect(a);
    const handler = monitor();

    // Act
    const [one, two] = await Promise.all([run(handler), handler({ 'detail-type': 'Scheduled Event', 'source': 'aws.events' })]);

    // Assess
    expect(table.counts('prod')).toEqual(new Map([[a.arn, 1]]));
    expect([one, two].map((r) => r.clusters[0].alreadyCounted)).toEqual(expect.arrayContaining([[], [a.arn]]));
    expect(messages()).toHaveLength(1);
    expect(mutatingCalls()).toEqual([]);

    // Act: the next scheduled run counts the second failed period, and replaces
    await nextRun(handler);

    // Assess
    expect(inputsOf('autoscaling', 'SetInstanceHealth').map((i) => i.InstanceId)).toEqual([a.ec2InstanceId]);
  });

  test('a late duplicate of a run does not count again, and sends nothing', async () => {
    // Prepare
    const [a] = clusterWithGroup('prod', 4);
    disconnect(a);
    const handler = monitor();
    await run(handler);

    // Act: the same scheduled event, one minute later (under the one-minute maximum event age)
    advanceClock(60_000);
    const late = await run(handler);

    // Assess
    expect(table.counts('prod')).toEqual(new Map([[a.arn, 1]]));
    expect(late.clusters[0]).toMatchObject({ alreadyCounted: [a.arn], done: [], errors: [] });
    expect(messages()).toEqual([]);
    expect(mutatingCalls()).toEqual([]);
  });
});

describe('instances the group does not replace, or that are not EC2 instances', () => {
  test('an instance already Unhealthy in its group (ReplaceUnhealthy suspended) is marked once, then waited on, not marked again', async () => {
    // Prepare: the group does not replace it (no reconcile: its ReplaceUnhealthy process is suspended)
    const [a] = clusterWithGroup('prod', 4);
    disconnect(a);
    const handler = monitor();
    await run(handler);
    await nextRun(handler);
    expect(inputsOf('autoscaling', 'SetInstanceHealth')).toHaveLength(1);

    // Act: two more failed checks bring its count back to failAfter
    await nextRun(handler);
    const waiting = await nextRun(handler);

    // Assess
    expect(inputsOf('autoscaling', 'SetInstanceHealth')).toEqual([]);
    expect(waiting.clusters[0].done).toEqual([]);
    expect(waiting.clusters[0].plan?.steps).toEqual([expect.objectContaining({ kind: 'skip', why: expect.stringMatching(/^already Unhealthy in its Auto Scaling group prod-asg: waiting on the group/) })]);
    expect(messages()).toEqual([expect.objectContaining({
      Subject: '[WARNING] 1 failing instance(s) in prod cannot be replaced',
      Message: expect.stringContaining('already Unhealthy in its Auto Scaling group prod-asg: waiting on the group to replace it'),
    })]);
    // and it does not hold the per-run cap: another due instance is still replaced
    const [, b] = fleet.containerInstancesOf('prod');
    disconnect(b);
    await nextRun(handler);
    const next = await nextRun(handler);
    expect(next.clusters[0].done).toEqual([expect.objectContaining({ kind: 'replace', instance: expect.objectContaining({ arn: b.arn }) })]);
  });

  test('an instance in Standby is reported with its own reason', async () => {
    const [a] = clusterWithGroup('prod', 4);
    disconnect(a);
    fleet.setLifecycleState(a.ec2InstanceId, 'Standby');
    const handler = monitor();
    await run(handler);

    const due = await nextRun(handler);

    expect(mutatingCalls()).toEqual([]);
    expect(due.clusters[0].plan?.steps).toEqual([expect.objectContaining({ kind: 'skip', why: expect.stringMatching(/^in Standby in its Auto Scaling group prod-asg/) })]);
  });

  test('an ECS Anywhere instance (mi-...) is reported as not replaceable, even with terminateStandaloneInstances', async () => {
    // Prepare
    fleet.addCluster('prod');
    const external = fleet.addContainerInstance('prod', { agentConnected: false });
    fleet.updateContainerInstance(external.arn, { ec2InstanceId: 'mi-0123456789abcdef0' });
    fleet.addAutoScalingGroup('prod-asg', { instances: 3, cluster: 'prod' });
    const handler = monitor({ TERMINATE_STANDALONE_INSTANCES: 'true' });
    await run(handler);

    // Act
    const due = await nextRun(handler);

    // Assess
    expect(mutatingCalls()).toEqual([]);
    expect(fleet.callsTo('autoscaling', 'DescribeAutoScalingInstances')).toEqual([]);
    expect(due.clusters[0].plan?.steps).toEqual([expect.objectContaining({ kind: 'skip', why: expect.stringContaining('mi-0123456789abcdef0 is not an EC2 instance') })]);
    expect(messages()[0].Message).toContain('mi-0123456789abcdef0 is not an EC2 instance (an ECS Anywhere instance?)');
  });

  test('an instance ECS lists but cannot describe (MISSING) is an error: its count is kept and nothing is done to it', async () => {
    // Prepare
    const [a, b] = clusterWithGroup('prod', 4);
    disconnect(a);
    const handler = monitor();
    await run(handler);
    fleet.missingOnDescribe.add(a.arn);

    // Act
    const result = await nextRun(handler);

    // Assess
    expect(table.counts('prod')).toEqual(new Map([[a.arn, 1]]));
    expect(mutatingCalls()).toEqual([]);
    expect(result.clusters[0].errors).toEqual([`DescribeContainerInstances could not describe ${a.arn} (MISSING): its count is kept, nothing is done to it`]);
    expect(messages()).toEqual([expect.objectContaining({ Subject: '[ERROR] ECS agent monitor could not finish its check of prod' })]);
    expect(b).toBeDefined();
  });
});

describe('DETACH_AND_TERMINATE when EC2 refuses to terminate (termination protection)', () => {
  test('the detached instance is remembered, reported at error severity every run, and terminated once it can be', async () => {
    // Prepare
    const [a] = clusterWithGroup('prod', 4);
    disconnect(a);
    fleet.setTerminationProtection(a.ec2InstanceId, true);
    const handler = monitor({ ACTION: 'DETACH_AND_TERMINATE' });
    await run(handler);

    // Act: detached, but EC2 refuses the terminate
    const due = await nextRun(handler);

    // Assess
    expect(inputsOf('autoscaling', 'DetachInstances')).toHaveLength(1);
    expect(fleet.groupMembership(a.ec2InstanceId)).toBeUndefined();
    expect(fleet.requireEc2Instance(a.ec2InstanceId).state).toBe('running');
    expect(table.detached('prod')).toEqual(new Map([[a.ec2InstanceId, 'prod-asg']]));
    expect(due.clusters[0].errors).toEqual([expect.stringMatching(new RegExp(`^DETACH_AND_TERMINATE ${a.ec2InstanceId}: Error: detached from prod-asg, but not terminated: OperationNotPermitted`))]);
    expect(messages()).toEqual([expect.objectContaining({ Subject: '[ERROR] 1 instance(s) detached from their group in prod are not terminated' })]);

    // Act: the next run tries again (still protected), and reports it again
    const again = await nextRun(handler);
    expect(inputsOf('ec2', 'TerminateInstances').map((i) => i.InstanceIds)).toEqual([[a.ec2InstanceId]]);
    expect(again.clusters[0].detached).toEqual([expect.objectContaining({ ec2InstanceId: a.ec2InstanceId, outcome: 'failed' })]);
    expect(messages()).toEqual([expect.objectContaining({
      Subject: '[ERROR] 1 instance(s) detached from their group in prod are not terminated',
      Message: expect.stringContaining(`${a.ec2InstanceId} (from prod-asg): OperationNotPermitted`),
    })]);

    // Act: someone lifts the protection; the next run terminates it and forgets it
    fleet.setTerminationProtection(a.ec2InstanceId, false);
    const done = await nextRun(handler);

    // Assess
    expect(fleet.requireEc2Instance(a.ec2InstanceId).state).toBe('shutting-down');
    expect(done.clusters[0].detached).toEqual([expect.objectContaining({ ec2InstanceId: a.ec2InstanceId, outcome: 'terminated' })]);
    expect(table.detached('prod')).toEqual(new Map());
    expect(messages()).toEqual([expect.objectContaining({ Subject: '[OK] Terminated 1 instance(s) detached by an earlier run in prod' })]);
  });

  test('a detach that did not happen leaves the instance in its group: the record is dropped and nothing is terminated', async () => {
    // Prepare: the record was written, the detach failed
    const [a] = clusterWithGroup('prod', 4);
    table.items.set(`prod\u0000detached#${a.ec2InstanceId}`, {
      cluster: { S: 'prod' },
      instance: { S: `detached#${a.ec2InstanceId}` },
      group: { S: 'prod-asg' },
      detachedAt: { S: new Date().toISOString() },
      expiresAt: { N: String(Math.floor(Date.now() / 1000) + 86_400) },
    });
    const handler = monitor({ ACTION: 'DETACH_AND_TERMINATE' });

    // Act
    const result = await run(handler);

    // Assess
    expect(inputsOf('ec2', 'TerminateInstances')).toEqual([]);
    expect(table.detached('prod')).toEqual(new Map());
    expect(result.clusters[0].errors).toEqual([]);
  });
});

describe('the guards across clusters', () => {
  test('at most MAX_REPLACEMENTS_PER_RUN_TOTAL replacements across every cluster; the others wait', async () => {
    // Prepare: one due instance in each of three clusters, a total of 2 per run
    const down = ['a', 'b', 'c'].map((name) => clusterWithGroup(name, 10)[0]);
    disconnect(...down);
    const handler = monitor({ CLUSTERS: 'a,b,c', MAX_REPLACEMENTS_PER_RUN_TOTAL: '2' });
    await run(handler);

    // Act
    const due = await nextRun(handler);

    // Assess
    expect(inputsOf('autoscaling', 'SetInstanceHealth')).toHaveLength(2);
    expect(due.clusters.map((c) => c.done.length)).toEqual([1, 1, 0]);
    expect(due.clusters[2].plan?.waiting).toEqual([expect.objectContaining({ arn: down[2].arn })]);
  });

  test('a problem spread over many small clusters, none over its own threshold, trips the guard everywhere', async () => {
    // Prepare: six one-instance clusters; one failing instance is never an outage on its own
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const down = names.map((name) => clusterWithGroup(name, 1)[0]);
    const handler = monitor({ CLUSTERS: names.join(','), MAX_REPLACEMENTS_PER_RUN_TOTAL: '6' });
    disconnect(down[0]);
    await run(handler);
    disconnect(...down.slice(1));

    // Act
    const result = await nextRun(handler);

    // Assess
    expect(result.clusters.map((c) => c.assessment?.outage)).toEqual(names.map(() => 'fleet'));
    expect(mutatingCalls()).toEqual([]);
    expect(table.counts('a')).toEqual(new Map([[down[0].arn, 1]])); // kept, not increased
    expect(messages()[0]).toMatchObject({
      Subject: expect.stringMatching(/^\[ERROR\] Outage guard tripped across the monitored clusters: replacing nothing in /),
    });
  });
});

describe('scale', () => {
  test('250 instances in 3 clusters: the fewest ECS calls, batches of at most 100, Auto Scaling only for due instances', async () => {
    // Prepare
    const sizes: Record<string, number> = { web: 120, batch: 80, jobs: 50 };
    const instances: Record<string, ContainerInstanceState[]> = {};
    for (const [name, size] of Object.entries(sizes)) instances[name] = clusterWithGroup(name, size);
    const down = { web: [instances.web[7], instances.web[111]], batch: [instances.batch[40]], jobs: [] as ContainerInstanceState[] };
    disconnect(...down.web, ...down.batch);
    const handler = monitor({ CLUSTERS: 'web,batch,jobs', MAX_REPLACEMENTS_PER_RUN_TOTAL: '3' });

    // Act
    const first = await run(handler);

    // Assess
    const ecsCalls = () => fleet.calls.filter((c) => c.service === 'ecs');
    const expectMinimalEcsCalls = () => {
      const pages = (n: number) => Math.ceil(n / 100);
      for (const [name, size] of Object.entries(sizes)) {
        const lists = ecsCalls().filter((c) => c.command === 'ListContainerInstances' && c.input.cluster === name);
        const describes = ecsCalls().filter((c) => c.command === 'DescribeContainerInstances' && c.input.cluster === name);
        expect(lists).toHaveLength(pages(size));
        lists.forEach((c) => expect(c.input).toMatchObject({ status: 'ACTIVE', maxResults: 100 }));
        expect(describes).toHaveLength(pages(size));
        describes.forEach((c) => expect(c.input.containerInstances.length).toBeLessThanOrEqual(100));
        const described = describes.flatMap((c) => c.input.containerInstances);
        expect(described.sort()).toEqual(instances[name].map((i) => i.arn).sort()); // each exactly once
      }
      expect(ecsCalls()).toHaveLength(8);
      expect(new Set(ecsCalls().map((c) => c.command))).toEqual(new Set(['ListContainerInstances', 'DescribeContainerInstances']));
    };
    expectMinimalEcsCalls();
    expect(first.clusters.map((c) => [c.cluster, c.assessment?.checked, c.assessment?.failing.length, c.errors])).toEqual([
      ['web', 120, 2, []], ['batch', 80, 1, []], ['jobs', 50, 0, []],
    ]);
    expect(fleet.calls.filter((c) => c.service !== 'ecs')).toEqual([]);
    expect(table.callsTo('Query')).toHaveLength(3);
    expect(table.callsTo('UpdateItem')).toHaveLength(3);

    // Act
    const second = await nextRun(handler);

    // Assess
    expectMinimalEcsCalls();
    expect(inputsOf('autoscaling', 'DescribeAutoScalingInstances').map((i) => [...i.InstanceIds].sort())).toEqual(expect.arrayContaining([
      down.web.map((i) => i.ec2InstanceId).sort(),
      down.batch.map((i) => i.ec2InstanceId),
    ]));
    expect(fleet.callsTo('autoscaling', 'DescribeAutoScalingInstances')).toHaveLength(2);
    const marked = inputsOf('autoscaling', 'SetInstanceHealth').map((i) => i.InstanceId).sort();
    const firstOfWeb = [...down.web].sort(byArn)[0];
    expect(marked).toEqual([firstOfWeb.ec2InstanceId, down.batch[0].ec2InstanceId].sort());
    expect(second.clusters.map((c) => c.plan?.waiting.length ?? 0)).toEqual([1, 0, 0]);
    expect(messages().map((m) => m.Subject).sort()).toEqual([
      '[OK] Replacing 1 instance(s) with a disconnected ECS agent in batch',
      '[OK] Replacing 1 instance(s) with a disconnected ECS agent in web',
    ]);
  });
});

describe('faults', () => {
  /** Two clusters with one disconnected instance each, counted once already. */
  async function twoClustersCountedOnce(handler: MonitorHandler) {
    const prod = clusterWithGroup('prod', 4)[0];
    const batch = clusterWithGroup('batch', 4)[0];
    disconnect(prod, batch);
    await run(handler);
    expect(table.counts('prod')).toEqual(new Map([[prod.arn, 1]]));
    expect(table.counts('batch')).toEqual(new Map([[batch.arn, 1]]));
    return { prod, batch };
  }

  test('a ThrottlingException on DescribeContainerInstances: that cluster does nothing, the other runs, the next run recovers', async () => {
    // Prepare
    const handler = monitor({ CLUSTERS: 'prod,batch', MAX_REPLACEMENTS_PER_RUN_TOTAL: '2' });
    const down = await twoClustersCountedOnce(handler);
    fleet.injectFault({ service: 'ecs', command: 'DescribeContainerInstances', error: 'throttle', onCall: 1 });

    // Act
    const result = await nextRun(handler);

    // Assess
    const hit = fleet.calls.find((c) => c.faulted)!.input.cluster as 'prod' | 'batch';
    const other = hit === 'prod' ? 'batch' : 'prod';
    const byCluster = Object.fromEntries(result.clusters.map((c) => [c.cluster, c]));
    expect(byCluster[hit]).toEqual({ cluster: hit, done: [], detached: [], alreadyCounted: [], errors: ['ThrottlingException (HTTP 400): Rate exceeded'] });
    expect(table.counts(hit)).toEqual(new Map([[down[hit].arn, 1]])); // not touched
    expect(byCluster[other].done).toHaveLength(1);
    expect(inputsOf('autoscaling', 'SetInstanceHealth').map((i) => i.InstanceId)).toEqual([down[other].ec2InstanceId]);
    expect(inputsOf('autoscaling', 'DescribeAutoScalingInstances').map((i) => i.InstanceIds)).toEqual([[down[other].ec2InstanceId]]);
    const hitMessage = messages().find((m) => m.Subject!.endsWith(` ${hit}`))!;
    expect(hitMessage).toMatchObject({
      Subject: `[ERROR] ECS agent monitor could not finish its check of ${hit}`,
      Message: expect.stringContaining('Errors (nothing unconfirmed was replaced):\n• ThrottlingException (HTTP 400): Rate exceeded'),
    });
    expect(messages()).toHaveLength(2);

    // Act: the throttling is over. The missed check broke the run of consecutive failures: the count (last
    // incremented two periods ago, past its lifetime of one and a half) restarts at 1...
    fleet.reconcile();
    const next = await nextRun(handler);
    expect(inputsOf('autoscaling', 'SetInstanceHealth')).toEqual([]);
    expect(next.clusters.flatMap((c) => c.errors)).toEqual([]);
    expect(table.counts(hit)).toEqual(new Map([[down[hit].arn, 1]]));
    // ...and the next failed check replaces it.
    await nextRun(handler);

    // Assess
    expect(inputsOf('autoscaling', 'SetInstanceHealth').map((i) => i.InstanceId)).toEqual([down[hit].ec2InstanceId]);
    expect(table.counts(hit)).toEqual(new Map());
  });

  test('a 500 on SetInstanceHealth: the count is kept, the error reported, and the next run retries', async () => {
    // Prepare
    const handler = monitor({ CLUSTERS: 'prod,batch', MAX_REPLACEMENTS_PER_RUN_TOTAL: '2' });
    const down = await twoClustersCountedOnce(handler);
    fleet.injectFault({ service: 'autoscaling', command: 'SetInstanceHealth', error: 'http500', onCall: 1 });

    // Act
    const result = await nextRun(handler);

    // Assess
    const failedId = fleet.calls.find((c) => c.faulted)!.input.InstanceId as string;
    const hit = failedId === down.prod.ec2InstanceId ? 'prod' : 'batch';
    const other = hit === 'prod' ? 'batch' : 'prod';
    const byCluster = Object.fromEntries(result.clusters.map((c) => [c.cluster, c]));
    expect(byCluster[hit]).toMatchObject({ done: [], errors: [`SET_UNHEALTHY ${failedId}: InternalFailure (HTTP 500): An internal error has occurred.`] });
    expect(fleet.groupMembership(failedId)?.member.healthStatus).toBe('Healthy');
    expect(table.counts(hit)).toEqual(new Map([[down[hit].arn, 2]]));
    expect(byCluster[other]).toMatchObject({ errors: [], done: [expect.objectContaining({ kind: 'replace' })] });
    expect(fleet.groupMembership(down[other].ec2InstanceId)?.member.healthStatus).toBe('Unhealthy');
    expect(messages().find((m) => m.Subject!.endsWith(` ${hit}`))).toMatchObject({
      Subject: `[ERROR] ECS agent monitor could not finish its check of ${hit}`,
      Message: expect.stringContaining(`• SET_UNHEALTHY ${failedId}: InternalFailure (HTTP 500)`),
    });

    // Act
    fleet.reconcile();
    await nextRun(handler);

    // Assess
    expect(inputsOf('autoscaling', 'SetInstanceHealth')).toEqual([{ InstanceId: failedId, HealthStatus: 'Unhealthy', ShouldRespectGracePeriod: false }]);
    expect(fleet.groupMembership(failedId)?.member.healthStatus).toBe('Unhealthy');
    expect(table.counts(hit)).toEqual(new Map());
    expect(messages()).toEqual([expect.objectContaining({
      Subject: `[OK] Replacing 1 instance(s) with a disconnected ECS agent in ${hit}`,
      Message: expect.stringContaining('agent disconnected on 3 consecutive checks'),
    })]);
  });

  test('a 500 on DescribeAutoScalingInstances: nothing is replaced there, the finding is kept, the next run replaces', async () => {
    // Prepare
    const handler = monitor({ CLUSTERS: 'prod,batch', MAX_REPLACEMENTS_PER_RUN_TOTAL: '2' });
    const down = await twoClustersCountedOnce(handler);
    fleet.injectFault({ service: 'autoscaling', command: 'DescribeAutoScalingInstances', error: 'http500', onCall: 1 });

    // Act
    const result = await nextRun(handler);

    // Assess
    const lookedUp = fleet.calls.find((c) => c.faulted)!.input.InstanceIds[0] as string;
    const hit = lookedUp === down.prod.ec2InstanceId ? 'prod' : 'batch';
    const other = hit === 'prod' ? 'batch' : 'prod';
    const byCluster = Object.fromEntries(result.clusters.map((c) => [c.cluster, c]));
    expect(byCluster[hit]).toMatchObject({
      done: [],
      errors: ['InternalFailure (HTTP 500): An internal error has occurred.'],
      assessment: { failing: [expect.objectContaining({ arn: down[hit].arn })] }, // what the check found is not lost
    });
    expect(inputsOf('autoscaling', 'SetInstanceHealth').map((i) => i.InstanceId)).toEqual([down[other].ec2InstanceId]);
    expect(table.counts(hit)).toEqual(new Map([[down[hit].arn, 2]]));
    expect(messages().find((m) => m.Subject!.endsWith(` ${hit}`))?.Message).toContain('• InternalFailure (HTTP 500): An internal error has occurred.');
    expect(stdout.metricsOf(hit)).toEqual([{ DisconnectedAgents: 1, ReplacementsRequested: 0, OutageGuardTrips: 0, Errors: 1 }]);

    // Act
    fleet.reconcile();
    await nextRun(handler);

    // Assess
    expect(inputsOf('autoscaling', 'SetInstanceHealth').map((i) => i.InstanceId)).toEqual([down[hit].ec2InstanceId]);
    expect(table.counts(hit)).toEqual(new Map());
  });

  test('the failure store unavailable: nothing is replaced, every cluster reports the error, the handler resolves', async () => {
    // Prepare
    const handler = monitor({ CLUSTERS: 'prod,batch', MAX_REPLACEMENTS_PER_RUN_TOTAL: '2' });
    const down = await twoClustersCountedOnce(handler);
    table.startOutage();

    // Act
    const result = await nextRun(handler);

    // Assess
    expect(result.clusters).toEqual([
      { cluster: 'prod', done: [], detached: [], alreadyCounted: [], errors: ['InternalServerError (HTTP 500): Internal server error'] },
      { cluster: 'batch', done: [], detached: [], alreadyCounted: [], errors: ['InternalServerError (HTTP 500): Internal server error'] },
    ]);
    expect(fleet.calls.filter((c) => c.service !== 'ecs')).toEqual([]);
    expect(messages().map((m) => m.Subject).sort()).toEqual([
      '[ERROR] ECS agent monitor could not finish its check of batch',
      '[ERROR] ECS agent monitor could not finish its check of prod',
    ]);

    // Act: back again. The run without a store broke the run of consecutive checks: both counts, last incremented
    // two periods ago, are past their lifetime and restart at 1; the next failed check replaces both.
    table.endOutage();
    await nextRun(handler);
    expect([table.counts('prod'), table.counts('batch')]).toEqual([new Map([[down.prod.arn, 1]]), new Map([[down.batch.arn, 1]])]);
    expect(inputsOf('autoscaling', 'SetInstanceHealth')).toEqual([]);
    await nextRun(handler);

    // Assess
    expect(inputsOf('autoscaling', 'SetInstanceHealth').map((i) => i.InstanceId).sort())
      .toEqual([down.prod.ec2InstanceId, down.batch.ec2InstanceId].sort());
  });

  test('the failure store failing only its updates: an instance at failAfter - 1 is not replaced on an unconfirmed count', async () => {
    // Prepare
    const [a] = clusterWithGroup('prod', 4);
    disconnect(a);
    const handler = monitor();
    await run(handler);
    table.startOutage({ commands: ['UpdateItem'] });

    // Act
    const result = await nextRun(handler);

    // Assess
    expect(mutatingCalls()).toEqual([]);
    expect(fleet.calls.filter((c) => c.service !== 'ecs')).toEqual([]);
    expect(table.count('prod', a.arn)).toBe(1);
    expect(result.clusters[0].errors).toEqual([
      `failure store: FailureStoreIncrementError: failure store (DynamoDB table ${TABLE}, cluster prod): could not increment any of 1 instance(s); first error: Internal server error`,
    ]);
    expect(messages()).toEqual([expect.objectContaining({ Subject: '[ERROR] ECS agent monitor could not finish its check of prod' })]);
  });
});

describe('configuration', () => {
  test('fails with one ConfigError naming every bad variable, before any AWS call', async () => {
    // Prepare
    const { handler, ConfigError } = loadMonitor({
      FAIL_AFTER: 'zero', ACTION: 'REBOOT', FAILURE_STORE: 'dynamodb', FAILURE_TABLE_NAME: TABLE,
    });

    // Act
    const error = await handler({}).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/CLUSTERS is not set/);
    expect((error as Error).message).toMatch(/FAIL_AFTER is "zero"; expected a whole number from 1 to 100/);
    expect((error as Error).message).toMatch(/ACTION is "REBOOT"; expected one of SET_UNHEALTHY, TERMINATE, DETACH_AND_TERMINATE, NOTIFY_ONLY/);
    expect((error as InstanceType<typeof ConfigError>).problems).toHaveLength(3);
    expect(fleet.calls).toEqual([]);
    expect(table.calls).toEqual([]);
    expect(sns.calls()).toEqual([]);
    await expect(handler({})).rejects.toBeInstanceOf(ConfigError); // every invocation, not only the first
  });

  test('the failure store and notification channels are checked with the rest, in the same error', async () => {
    // Prepare
    const { handler, ConfigError } = loadMonitor({
      CLUSTERS: 'prod', MAX_REPLACEMENTS_PER_RUN: '-1', FAILURE_STORE: 'dynamodb', NOTIFICATION_CHANNELS: '[{"type":"sns"}]',
    });

    // Act
    const act = handler({});

    // Assess
    await expect(act).rejects.toBeInstanceOf(ConfigError);
    await expect(handler({})).rejects.toThrow(/MAX_REPLACEMENTS_PER_RUN is "-1"/);
    await expect(handler({})).rejects.toThrow(/FAILURE_TABLE_NAME is required/);
    await expect(handler({})).rejects.toThrow(/NOTIFICATION_CHANNELS\[0\]: topicArn must be an SNS topic ARN/);
    expect(fleet.calls).toEqual([]);
    expect(table.calls).toEqual([]);
    expect(sns.calls()).toEqual([]);
  });
});

describe('metrics', () => {
  test('EMF per cluster: DisconnectedAgents, ReplacementsRequested, OutageGuardTrips and Errors with a ClusterName dimension', async () => {
    // Prepare: prod goes into an outage, batch has one instance to replace, gone was deleted
    const prod = clusterWithGroup('prod', 4);
    const [b] = clusterWithGroup('batch', 4);
    disconnect(b);
    const handler = monitor({ CLUSTERS: 'prod,batch,gone' });
    await run(handler);
    disconnect(prod[0], prod[1], prod[2]);

    // Act
    await nextRun(handler);

    // Assess
    expect(stdout.metricsOf('prod')).toEqual([{ DisconnectedAgents: 3, ReplacementsRequested: 0, OutageGuardTrips: 1, Errors: 0 }]);
    expect(stdout.metricsOf('batch')).toEqual([{ DisconnectedAgents: 1, ReplacementsRequested: 1, OutageGuardTrips: 0, Errors: 0 }]);
    // A cluster that could not be read reports its error but no DisconnectedAgents value (unknown is not 0).
    expect(stdout.metricsOf('gone')).toEqual([{ ReplacementsRequested: 0, OutageGuardTrips: 0, Errors: 1 }]);
    const doc = stdout.emf().find((d) => d.ClusterName === 'batch');
    expect(doc).toMatchObject({
      service: 'ecs-agent-monitor',
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [{
          Namespace: 'CdkEcsOps',
          Dimensions: [expect.arrayContaining(['service', 'ClusterName'])],
          Metrics: expect.arrayContaining([
            { Name: 'DisconnectedAgents', Unit: 'Count' },
            { Name: 'ReplacementsRequested', Unit: 'Count' },
            { Name: 'OutageGuardTrips', Unit: 'Count' },
            { Name: 'Errors', Unit: 'Count' },
          ]),
        }],
      },
    });
  });
});

describe('logs', () => {
  test('every log line of a run carries the Lambda request id, the store\'s and the notifier\'s included', async () => {
    // Prepare: the store fails its updates, so the store logs an error of its own
    const [a] = clusterWithGroup('prod', 4);
    disconnect(a);
    const handler = monitor();
    table.startOutage({ commands: ['UpdateItem'] });
    stdout.clear();

    // Act
    await handler({}, { awsRequestId: 'c0ffee00-run-1', getRemainingTimeInMillis: () => 60_000 });

    // Assess
    const logs = stdout.json().filter((l) => !l._aws);
    expect(logs.map((l) => l.message)).toEqual(expect.arrayContaining([
      'checked cluster',
      'Could not increment the failure count; the instance is left unconfirmed',
      'Notification delivered',
    ]));
    expect(logs.filter((l) => l.function_request_id !== 'c0ffee00-run-1')).toEqual([]);
  });

  test('a run that fails as a whole logs one structured error and publishes an Errors metric without a cluster', async () => {
    // Prepare
    const { handler } = loadMonitor({ CLUSTERS: 'prod', FAILURE_STORE: 'dynamodb' });
    stdout.clear();

    // Act
    await handler({}, { awsRequestId: 'c0ffee00-run-2', getRemainingTimeInMillis: () => 60_000 }).catch(() => undefined);

    // Assess
    expect(stdout.json().filter((l) => l.level === 'ERROR')).toEqual([expect.objectContaining({
      message: 'invalid function configuration; nothing was done',
      function_request_id: 'c0ffee00-run-2',
      problems: [expect.stringMatching(/^FAILURE_TABLE_NAME is required/)],
    })]);
    expect(stdout.emf()).toEqual([expect.objectContaining({ service: 'ecs-agent-monitor', Errors: 1 })]);
    expect(stdout.emf()[0]).not.toHaveProperty('ClusterName');
  });
});
