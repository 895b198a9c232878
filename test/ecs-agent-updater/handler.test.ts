/**
 * Scenario tests of the EcsAgentUpdater handler against the fake fleet, an in-memory state table and a mocked SNS
 * topic, with the environment the construct synthesizes. Each run is one scheduled invocation, an hour after the
 * last (the default schedule).
 */
// The handler is loaded in an isolated module registry per configuration (it reads its environment once), which
// would also load other copies of the SDK clients; share them so the fakes answer the handler's clients.
jest.mock('@aws-sdk/client-ecs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ecs'));
jest.mock('@aws-sdk/client-auto-scaling', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-auto-scaling'));
jest.mock('@aws-sdk/client-ec2', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ec2'));
jest.mock('@aws-sdk/client-dynamodb', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-dynamodb'));
jest.mock('@aws-sdk/client-sns', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-sns'));

import { UpdateInProgressException } from '@aws-sdk/client-ecs';
import { PublishCommand, PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsStub, mockClient } from 'aws-sdk-client-mock';
import { EcsAgentUpdaterProps, NotificationChannel } from '../../src';
import { FakeDynamoDb } from '../support/fake-dynamodb';
import { ContainerInstanceOptions, ContainerInstanceState, FakeFleet } from '../support/fake-fleet';
import {
  ACCOUNT, REGION, StdoutCapture, UpdaterHandler, advanceClock, loadUpdater, scheduledEvent, updaterEnvironment, useFakeClock,
} from './support/updater';

const T0 = new Date('2026-03-02T08:00:00.000Z');
const HOUR = 3_600_000;
const LATEST = '1.95.0';
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:ops`;
const ORIGINAL_ENV = { ...process.env };

let fleet: FakeFleet;
let table: FakeDynamoDb;
let topic: AwsStub<any, any, any>;
let stdout: StdoutCapture;
let tableName: string;

beforeEach(() => {
  useFakeClock(T0);
  fleet = new FakeFleet({ now: () => new Date(), latestAgentVersion: LATEST }).install();
  topic = mockClient(SNSClient);
  topic.on(PublishCommand).resolves({ MessageId: 'message-1' });
  stdout = new StdoutCapture().start();
});

afterEach(() => {
  stdout.stop();
  topic.restore();
  table?.uninstall();
  fleet.uninstall();
  jest.useRealTimers();
  process.env = { ...ORIGINAL_ENV };
});

type Props = Omit<EcsAgentUpdaterProps, 'clusters' | 'notifications'> & { clusters?: string[] };

/** The handler as an `EcsAgentUpdater` with these props configures it (clusters `prod` and `batch` by default, SNS). */
function updater(props: Props = {}): UpdaterHandler {
  const environment = updaterEnvironment({ clusters: ['prod', 'batch'], ...props }, (stack) => ({
    notifications: [NotificationChannel.snsTopic(sns.Topic.fromTopicArn(stack, 'Ops', TOPIC_ARN))],
  }));
  tableName = environment.STATE_TABLE_NAME;
  table?.uninstall();
  table = new FakeDynamoDb({ tableName, keySchema: { partitionKey: 'cluster' } }).install();
  return loadUpdater(environment);
}

let now = T0;
/** One scheduled run at the current time, with the recorders reset so assertions see only this run. */
async function run(handler: UpdaterHandler) {
  fleet.resetCalls();
  table.resetCalls();
  topic.resetHistory();
  stdout.clear();
  now = new Date(Date.now());
  return handler(scheduledEvent(now));
}

/** The next scheduled run, an hour later. */
async function nextRun(handler: UpdaterHandler) {
  advanceClock(HOUR);
  return run(handler);
}

function messages(): PublishCommandInput[] {
  return topic.commandCalls(PublishCommand).map((c) => c.args[0].input as PublishCommandInput);
}

function subjects(): string[] {
  return messages().map((m) => m.Subject!).sort();
}

/** The UpdateContainerAgent calls of the last run, as [cluster, EC2 instance id]. */
function updateCalls(): Array<[string, string]> {
  return fleet.callsTo('ecs', 'UpdateContainerAgent').map((c) => [c.input.cluster, fleet.requireContainerInstance(c.input.containerInstance).ec2InstanceId]);
}

/** A cluster with one container instance per agent version given, registered a minute apart in that order. */
function cluster(name: string, versions: string[], options: ContainerInstanceOptions = {}): ContainerInstanceState[] {
  if (!fleet.clusters.has(name)) fleet.addCluster(name);
  return versions.map((agentVersion, i) => fleet.addContainerInstance(name, {
    agentVersion,
    registeredAt: new Date(T0.getTime() - 86_400_000 + i * 60_000),
    ...options,
  }));
}

/** Finish every agent update in flight. */
function finishUpdates(): void {
  for (const ci of fleet.containerInstances.values()) {
    if (ci.agentUpdateStatus && ci.agentUpdateStatus !== 'UPDATED' && ci.agentUpdateStatus !== 'FAILED') fleet.progressAgentUpdate(ci.arn, 'UPDATED');
  }
}

describe('rolling updates', () => {
  test('a healthy cluster is updated one instance per run, oldest agent first, until every agent is current', async () => {
    // Prepare
    const [a, b, c] = cluster('prod', ['1.80.0', '1.90.0', '1.80.0']);
    fleet.addCluster('batch');
    const handler = updater();

    // Act: run 1 asks about the newest agent first (1.90.0, which ECS accepts), run 2 waits for that update
    const first = await run(handler);
    const firstCalls = updateCalls();
    const second = await nextRun(handler);
    const secondCalls = updateCalls();

    // Assess
    expect(firstCalls).toEqual([['prod', b.ec2InstanceId]]);
    expect(first.clusters[0]).toMatchObject({
      cluster: 'prod',
      healthy: true,
      requested: [b.arn],
      errors: [],
      counts: { instances: 3, upToDate: 0, updating: 1, outdated: 2, unsupported: 0, skipped: 0, unchecked: 0 },
    });
    expect(messages()).toEqual([]); // run 2 reports nothing new
    expect(secondCalls).toEqual([]);
    expect(second.clusters[0]).toMatchObject({ requested: [], held: '1 update(s) in flight use the concurrency of 1' });

    // Act: the update finishes; run 3 learns 1.95.0 is current, then updates the oldest 1.80.0 agent
    finishUpdates();
    await nextRun(handler);

    // Assess
    expect(updateCalls()).toEqual([['prod', b.ec2InstanceId], ['prod', a.ec2InstanceId]]);
    expect(fleet.callsTo('ecs', 'UpdateContainerAgent')[0].error?.name).toBe('NoUpdateAvailableException');
    expect(messages()).toEqual([expect.objectContaining({
      Subject: '[OK] Updating 1 ECS agent(s) in prod',
      Message: expect.stringContaining(`• ${a.ec2InstanceId} (container instance ${a.id}): agent 1.80.0`),
    })]);

    // Act: two more rounds finish the rollout
    finishUpdates();
    await nextRun(handler);
    // The first call asks about the newest agent on the instance registered first: a, updated the run before.
    expect(updateCalls()).toEqual([['prod', a.ec2InstanceId], ['prod', c.ec2InstanceId]]);
    finishUpdates();
    const done = await nextRun(handler);

    // Assess
    expect(done.clusters[0].counts).toEqual({ instances: 3, upToDate: 3, updating: 0, outdated: 0, unsupported: 0, skipped: 0, unchecked: 0 });
    expect(updateCalls()).toEqual([['prod', a.ec2InstanceId]]); // one call learns 1.95.0 is current
    expect(messages()).toEqual([expect.objectContaining({
      Subject: '[OK] Every ECS agent in prod is up to date',
      Message: expect.stringContaining('3 agent(s) up to date (1.95.0).'),
    })]);
    await nextRun(handler);
    expect(messages()).toEqual([]);
  });

  test('maxConcurrentUpdates counts updates already in flight, whoever started them', async () => {
    // Prepare
    const [started, a, b, c] = cluster('prod', ['1.80.0', '1.80.0', '1.80.0', '1.80.0']);
    fleet.addCluster('batch');
    fleet.updateContainerInstance(started.arn, { agentUpdateStatus: 'STAGING' });
    const handler = updater({ maxConcurrentUpdates: 3 });

    // Act
    const result = await run(handler);

    // Assess
    expect(updateCalls()).toEqual([['prod', a.ec2InstanceId], ['prod', b.ec2InstanceId]]);
    expect(result.clusters[0].counts).toMatchObject({ updating: 3, outdated: 1 });
    expect(fleet.requireContainerInstance(c.arn).agentUpdateStatus).toBeUndefined();

    // Act: nothing finished
    await nextRun(handler);

    // Assess
    expect(updateCalls()).toEqual([]);
  });

  test('clusters are independent: an unhealthy cluster is skipped with a warning, the others proceed', async () => {
    // Prepare: the original tool compared agentConnected with a string and stopped the whole run at the first unhealthy cluster
    const [down] = cluster('prod', ['1.80.0', '1.80.0']);
    const [failed] = cluster('staging', ['1.80.0', '1.80.0']);
    const [ok] = cluster('batch', ['1.80.0', '1.80.0']);
    fleet.setAgentConnected(down.arn, false);
    fleet.updateContainerInstance(failed.arn, { agentUpdateStatus: 'FAILED' });
    const handler = updater({ clusters: ['prod', 'staging', 'batch'] });

    // Act
    const result = await run(handler);

    // Assess
    expect(updateCalls()).toEqual([['batch', ok.ec2InstanceId]]);
    expect(result.clusters.map((c) => [c.cluster, c.healthy, c.problems])).toEqual([
      ['prod', false, [{ containerInstance: down.arn, kind: 'disconnected' }]],
      ['staging', false, [{ containerInstance: failed.arn, kind: 'update-failed' }]],
      ['batch', true, []],
    ]);
    expect(subjects()).toEqual([
      '[ERROR] 1 ECS agent update(s) failed in staging',
      '[OK] Updating 1 ECS agent(s) in batch',
      '[WARNING] prod is unhealthy: no agent is updated there until it recovers',
    ]);
    expect(messages().find((m) => m.Subject!.includes('prod'))!.Message).toContain(`• ${down.ec2InstanceId} (container instance ${down.id}): agent disconnected`);
    expect(messages().find((m) => m.Subject!.includes('staging'))!.Message).toContain('Unhealthy');
    expect(stdout.json().filter((l) => l.message === 'cluster unhealthy: no agent is updated in it this run').map((l) => [l.cluster, l.level]))
      .toEqual([['prod', 'WARN'], ['staging', 'WARN']]);
    // ECS accepted an update of 1.80.0 in batch, so prod's two 1.80.0 agents are outdated too.
    expect(stdout.metricsOf('prod')).toEqual([expect.objectContaining({ OutdatedAgents: 2, UpdatesRequested: 0, Errors: 0 })]);

    // Act: still unhealthy an hour later: not reported again, and logged at INFO only
    finishUpdates();
    await nextRun(handler);
    expect(subjects()).toEqual(['[OK] Updating 1 ECS agent(s) in batch']);
    expect(stdout.json().filter((l) => l.message === 'cluster unhealthy: no agent is updated in it this run').map((l) => [l.cluster, l.level]))
      .toEqual([['prod', 'INFO'], ['staging', 'INFO']]);

    // Act: prod's agent reconnects
    finishUpdates();
    fleet.setAgentConnected(down.arn, true);
    await nextRun(handler);

    // Assess
    expect(updateCalls().filter(([c]) => c === 'prod')).toHaveLength(1);
    expect(messages().find((m) => m.Subject!.includes('prod'))).toMatchObject({
      Subject: '[OK] prod is healthy again: agent updates resume',
      Message: expect.stringMatching(/Healthy again[\s\S]*Update requested/),
    });
  });

  test('an agent restarting for its update (disconnected, update in flight) is updating, until it is stuck for an hour', async () => {
    // Prepare
    const [restarting] = cluster('prod', ['1.80.0', '1.80.0']);
    fleet.addCluster('batch');
    fleet.updateContainerInstance(restarting.arn, { agentUpdateStatus: 'UPDATING', agentConnected: false });
    const handler = updater({ maxConcurrentUpdates: 2 });

    // Act
    const first = await run(handler);

    // Assess
    expect(first.clusters[0]).toMatchObject({ healthy: true, counts: { updating: 2 } });
    expect(updateCalls()).toHaveLength(1);

    // Act: still UPDATING and disconnected 61 minutes after the updater first saw it
    advanceClock(61 * 60_000 - HOUR);
    const later = await nextRun(handler);

    // Assess
    expect(later.clusters[0]).toMatchObject({ healthy: false, problems: [{ containerInstance: restarting.arn, kind: 'update-stuck' }] });
    expect(subjects()).toEqual(['[WARNING] prod is unhealthy: no agent is updated there until it recovers']);
    expect(messages()[0].Message).toMatch(/Unhealthy[\s\S]*agent update stuck and agent disconnected[\s\S]*Stuck updates/);
  });
});

describe('UpdateContainerAgent answers', () => {
  test('NoUpdateAvailableException: up to date; one call per agent version for the whole fleet', async () => {
    // Prepare
    cluster('prod', [LATEST, LATEST, LATEST]);
    cluster('batch', [LATEST, LATEST]);
    const handler = updater();

    // Act
    const result = await run(handler);

    // Assess
    expect(updateCalls()).toHaveLength(1);
    expect(result.clusters.map((c) => c.counts)).toEqual([
      { instances: 3, upToDate: 3, updating: 0, outdated: 0, unsupported: 0, skipped: 0, unchecked: 0 },
      { instances: 2, upToDate: 2, updating: 0, outdated: 0, unsupported: 0, skipped: 0, unchecked: 0 },
    ]);
    expect(messages()).toEqual([]);
  });

  test('UpdateInProgressException: counted as in flight, so the next instance waits', async () => {
    // Prepare: DescribeContainerInstances did not show the update yet
    const [a, b] = cluster('prod', ['1.80.0', '1.80.0']);
    fleet.addCluster('batch');
    fleet.injectFault({
      command: 'UpdateContainerAgent',
      error: new UpdateInProgressException({ message: 'There is already a current update in progress for this container agent.', $metadata: {} }),
      onCall: 1,
    });
    const handler = updater();

    // Act
    const result = await run(handler);

    // Assess
    expect(updateCalls()).toEqual([['prod', a.ec2InstanceId]]);
    // Nothing told whether 1.80.0 is outdated: ECS answered neither accepted nor up to date.
    expect(result.clusters[0]).toMatchObject({ requested: [], counts: { updating: 1, outdated: 0, unchecked: 1 } });
    expect(fleet.requireContainerInstance(b.arn).agentUpdateStatus).toBeUndefined();
  });

  test('MissingVersionException: the instance is not updatable, reported once and not asked again', async () => {
    // Prepare
    const [custom, normal] = cluster('prod', ['1.80.0', '1.80.0']);
    fleet.addCluster('batch');
    fleet.updateContainerInstance(custom.arn, { agentUpdateSupported: false });
    const handler = updater();

    // Act
    const first = await run(handler);

    // Assess
    expect(updateCalls()).toEqual([['prod', custom.ec2InstanceId], ['prod', normal.ec2InstanceId]]);
    expect(first.clusters[0]).toMatchObject({ requested: [normal.arn], unsupported: { 'missing-version': 1 } });
    expect(messages()[0].Message).toContain('1 instance(s) skipped, each ECS answered MissingVersionException');

    // Act
    finishUpdates();
    const second = await nextRun(handler);

    // Assess
    expect(updateCalls().map(([, id]) => id)).not.toContain(custom.ec2InstanceId);
    expect(second.clusters[0].unsupported).toEqual({ 'missing-version': 1 });
    expect(messages().map((m) => m.Message).join('\n')).not.toContain('MissingVersionException');
  });

  test('an agent too old for an update path (NoUpdateAvailableException while a newer one updates) is not updatable', async () => {
    // Prepare
    const [ancient, old] = cluster('prod', ['1.20.0', '1.80.0', LATEST]);
    fleet.addCluster('batch');
    fleet.oldestUpdatableAgentVersion = '1.50.0';
    const handler = updater();

    // Act
    const first = await run(handler);

    // Assess: 1.95.0 is current, 1.20.0 has no update, 1.80.0 updates
    expect(updateCalls().map(([, id]) => id)).toEqual([expect.any(String), ancient.ec2InstanceId, old.ec2InstanceId]);
    expect(first.clusters[0]).toMatchObject({ requested: [old.arn], unsupported: { 'no-update-path': 1 }, counts: { upToDate: 1, updating: 1 } });
    expect(messages()[0].Message).toContain(`each ECS has no update path from this agent (NoUpdateAvailableException, while it updates newer agents): replace the instance:\n• ${ancient.ec2InstanceId}`);

    // Act: the next runs do not ask about 1.20.0 again, nor report it
    finishUpdates();
    await nextRun(handler);

    // Assess
    expect(updateCalls().map(([, id]) => id)).not.toContain(ancient.ec2InstanceId);
    expect(messages().map((m) => m.Message).join('\n')).not.toContain('no update path');
  });

  test('throttling is retried, and an update that still cannot be asked stops that cluster only', async () => {
    // Prepare
    const [a] = cluster('prod', ['1.80.0', '1.80.0']);
    const [x] = cluster('batch', ['1.80.0', '1.80.0']);
    fleet.injectFault({ command: 'UpdateContainerAgent', error: 'throttle', onCall: 1, times: 2 });
    const handler = updater();

    // Act
    const result = await run(handler);

    // Assess
    expect(updateCalls()).toEqual([['prod', a.ec2InstanceId], ['prod', a.ec2InstanceId], ['prod', a.ec2InstanceId], ['batch', x.ec2InstanceId]]);
    expect(result.clusters.map((c) => c.requested)).toEqual([[a.arn], [x.arn]]);

    // Act: throttled on every attempt
    fleet.injectFault({ command: 'UpdateContainerAgent', error: 'throttle', onCall: 1, times: 4 });
    finishUpdates();
    fleet.latestAgentVersion = '1.96.0';
    const throttled = await nextRun(handler);

    // Assess
    expect(throttled.clusters[0].errors).toEqual([`UpdateContainerAgent ${a.ec2InstanceId}: ThrottlingException (HTTP 400): Rate exceeded`]);
    expect(throttled.clusters[1]).toMatchObject({ errors: [], requested: [expect.any(String)] });
  });

  test('any other error is reported once, stops that cluster for the run, and the others proceed', async () => {
    // Prepare
    const [a] = cluster('prod', ['1.80.0', '1.80.0']);
    const [x] = cluster('batch', ['1.80.0', '1.80.0']);
    fleet.injectFault({ service: 'ecs', command: 'UpdateContainerAgent', error: 'http500', onCall: 1, times: 1 });
    const handler = updater({ maxConcurrentUpdates: 2 });

    // Act
    const result = await run(handler);

    // Assess
    const error = `UpdateContainerAgent ${a.ec2InstanceId}: ServerException (HTTP 500): Service Unavailable. Please try again later.`;
    expect(updateCalls()).toEqual([['prod', a.ec2InstanceId], ['batch', x.ec2InstanceId], ['batch', expect.any(String)]]);
    expect(result.clusters[0]).toMatchObject({ errors: [error], requested: [] });
    expect(result.clusters[1].requested).toHaveLength(2);
    expect(subjects()).toEqual(['[ERROR] ECS agent updater could not finish prod', '[OK] Updating 2 ECS agent(s) in batch']);
    expect(stdout.metricsOf('prod')).toEqual([expect.objectContaining({ Errors: 1, UpdatesRequested: 0 })]);

    // Act: the same error the next run is not reported again (batch's rollout is done); then it clears
    finishUpdates();
    fleet.injectFault({ service: 'ecs', command: 'UpdateContainerAgent', error: 'http500', onCall: 1, times: 1 });
    await nextRun(handler);
    expect(subjects()).toEqual(['[OK] Every ECS agent in batch is up to date']);
    await nextRun(handler);
    expect(subjects()).toEqual(['[OK] Updating 2 ECS agent(s) in prod']);
  });
});

describe('what is left alone', () => {
  test('Windows, Arm, Bottlerocket, ECS Anywhere and agents without version information are skipped before any call, reported once', async () => {
    // Prepare
    fleet.addCluster('prod');
    fleet.addCluster('batch');
    const skipped = [
      fleet.addContainerInstance('prod', { agentVersion: '1.80.0', platform: 'windows' }),
      fleet.addContainerInstance('prod', { agentVersion: '1.80.0', architecture: 'arm64', platform: 'amazon-linux-2' }),
      fleet.addContainerInstance('prod', { agentVersion: '1.80.0', platform: 'bottlerocket' }),
      fleet.addContainerInstance('prod', { agentVersion: '1.80.0', platform: 'external' }),
      fleet.addContainerInstance('prod', { agentVersion: undefined, agentHash: null }),
    ];
    fleet.setAgentVersion(skipped[4].arn, undefined, null);
    const [updatable] = cluster('prod', ['1.80.0']);
    const handler = updater();

    // Act
    const result = await run(handler);

    // Assess
    expect(updateCalls()).toEqual([['prod', updatable.ec2InstanceId]]);
    expect(result.clusters[0].unsupported).toEqual({ 'windows': 1, 'arm64': 1, 'bottlerocket': 1, 'external': 1, 'no-version': 1 });
    const text = messages().find((m) => m.Subject === '[WARNING] Some ECS agents in prod cannot be updated with UpdateContainerAgent')!.Message!;
    expect(text).toContain('each a Windows container instance: UpdateContainerAgent does not update Windows agents');
    expect(text).toContain('each an Arm (arm64) instance');
    expect(text).toContain(`• ${skipped[3].ec2InstanceId} (container instance ${skipped[3].id})`);
    expect(messages()).toHaveLength(1); // one message per cluster per run, the update requested in it too
    expect(text).toContain(`Update requested\n----------------\n• ${updatable.ec2InstanceId}`);
    const summary = stdout.json().find((l) => l.message === 'cluster summary' && l.cluster === 'prod');
    expect(summary.unsupported).toMatchObject({ windows: [skipped[0].ec2InstanceId], arm64: [skipped[1].ec2InstanceId] });

    // Act
    finishUpdates();
    fleet.addContainerInstance('prod', { agentVersion: '1.80.0', platform: 'windows' });
    await nextRun(handler);

    // Assess: a second Windows instance is no news; the rollout of what can be updated is
    expect(messages()).toEqual([expect.objectContaining({
      Subject: '[OK] Every updatable ECS agent in prod is up to date',
      Message: expect.stringContaining('1 agent(s) up to date (1.95.0); 6 not updatable.'),
    })]);
  });

  test('the skip tag on an instance, or on its cluster, leaves it alone', async () => {
    // Prepare
    const [tagged, failedButTagged] = cluster('prod', ['1.80.0', '1.80.0'], { tags: { 'ecs-ops:agent-updates': 'skip' } });
    fleet.updateContainerInstance(failedButTagged.arn, { agentUpdateStatus: 'FAILED' });
    const [other] = cluster('prod', ['1.80.0']);
    cluster('batch', ['1.80.0']);
    fleet.setClusterTags('batch', { 'ecs-ops:agent-updates': 'skip' });
    const handler = updater();

    // Act
    const result = await run(handler);

    // Assess
    expect(updateCalls()).toEqual([['prod', other.ec2InstanceId]]);
    expect(result.clusters[0]).toMatchObject({ healthy: true, counts: { skipped: 2, updating: 1 } });
    expect(result.clusters[1]).toMatchObject({ cluster: 'batch', leftAlone: 'it has the tag ecs-ops:agent-updates=skip' });
    expect(fleet.calls.filter((c) => c.input.cluster === 'batch')).toEqual([]);
    expect(subjects()).toContain('[INFO] batch is left alone: it has the tag ecs-ops:agent-updates=skip');
    expect(tagged.tags).toEqual({ 'ecs-ops:agent-updates': 'skip' });

    // Act
    await nextRun(handler);
    expect(subjects()).toEqual([]);
  });

  test('a skip tag without a value matches any value of its key', async () => {
    // Prepare
    cluster('prod', ['1.80.0'], { tags: { 'no-agent-updates': 'until friday' } });
    fleet.addCluster('batch');
    const handler = updater({ skipTag: { key: 'no-agent-updates' } });

    // Act
    const result = await run(handler);

    // Assess
    expect(updateCalls()).toEqual([]);
    expect(result.clusters[0].counts).toMatchObject({ instances: 1, skipped: 1 });
  });
});

describe('dry run', () => {
  test('calls nothing that changes anything, reports what it would do once', async () => {
    // Prepare
    const [old, , newest] = cluster('prod', ['1.80.0', '1.90.0', '1.90.0']);
    cluster('batch', [LATEST]);
    const handler = updater({ dryRun: true });

    // Act
    const first = await run(handler);

    // Assess
    expect(updateCalls()).toEqual([]);
    expect(first.dryRun).toBe(true);
    expect(first.clusters[0]).toMatchObject({ requested: [], wouldUpdate: [old.arn], counts: { outdated: 3, unchecked: 0 } });
    expect(first.clusters[1]).toMatchObject({ wouldUpdate: [], counts: { unchecked: 1 } }); // the newest agent seen: only ECS can tell
    expect(messages()).toEqual([expect.objectContaining({
      Subject: '[INFO] Dry run: would update 1 ECS agent(s) in prod',
      Message: expect.stringContaining('Mode: dry run: nothing is updated'),
    })]);
    expect(newest.agentUpdateStatus).toBeUndefined();

    // Act
    await nextRun(handler);
    expect(messages()).toEqual([]);
  });
});

describe('scale', () => {
  test('1,000 instances in 10 clusters: list pages of 100, describe batches of 100, one update per cluster', async () => {
    // Prepare: 10 clusters of uneven size, most agents outdated, a few current
    const sizes = [250, 150, 120, 100, 100, 80, 70, 60, 40, 30];
    const names = sizes.map((_, i) => `cluster-${i}`);
    sizes.forEach((size, i) => cluster(names[i], Array.from({ length: size }, (_, n) => (n % 10 === 0 ? LATEST : '1.90.0'))));
    const handler = updater({ clusters: names });

    // Act
    const result = await run(handler);

    // Assess
    const pages = sizes.reduce((n, size) => n + Math.ceil(size / 100), 0); // 14
    const ecs = (command: string) => fleet.callsTo('ecs', command).length;
    expect({
      DescribeClusters: ecs('DescribeClusters'),
      ListContainerInstances: ecs('ListContainerInstances'),
      DescribeContainerInstances: ecs('DescribeContainerInstances'),
      UpdateContainerAgent: ecs('UpdateContainerAgent'),
    }).toEqual({ DescribeClusters: 1, ListContainerInstances: pages, DescribeContainerInstances: pages, UpdateContainerAgent: 11 });
    expect(fleet.calls.filter((c) => c.service === 'ecs')).toHaveLength(1 + 2 * pages + 11);
    expect(fleet.callsTo('ecs', 'ListContainerInstances').every((c) => c.input.maxResults === 100)).toBe(true);
    expect(fleet.callsTo('ecs', 'DescribeContainerInstances').map((c) => c.input.containerInstances.length).sort((a, b) => b - a))
      .toEqual([100, 100, 100, 100, 100, 100, 80, 70, 60, 50, 50, 40, 30, 20]);
    expect(table.calls.map((c) => c.command)).toEqual(['BatchGetItem', 'BatchWriteItem']);
    expect(result.clusters.every((c) => c.requested.length === 1 && c.errors.length === 0)).toBe(true);
    expect(result.clusters.reduce((n, c) => n + c.counts!.instances, 0)).toBe(1000);
    expect(result.clusters.reduce((n, c) => n + c.counts!.upToDate, 0)).toBe(100);
  });
});

describe('the time budget', () => {
  test('once the time is spent, no cluster starts its updates: each says so, and the metrics, the message and the state still go out', async () => {
    // Prepare: 0.1 s of work after the 20 s reserve and the 1 s margin
    cluster('prod', ['1.80.0', '1.90.0']);
    const handler = updater({ clusters: ['prod'] });

    // Act
    const result = await handler(scheduledEvent(new Date()), { awsRequestId: 'c0ffee00-late', getRemainingTimeInMillis: () => 21_100 });

    // Assess
    expect(updateCalls()).toEqual([]);
    expect(result.clusters).toEqual([expect.objectContaining({
      cluster: 'prod',
      requested: [],
      held: 'not done: out of time (no update was asked for in this cluster; the next run does it)',
      errors: ['not done: out of time (no update was asked for in this cluster; the next run does it)'],
    })]);
    expect(subjects()).toEqual([expect.stringMatching(/could not finish prod/)]);
    expect(table.item('$run')).toBeDefined();
    expect(stdout.emf()).toEqual(expect.arrayContaining([expect.objectContaining({ ClusterName: 'prod', Instances: 2, OutdatedAgents: 1, Errors: 1 })]));
  });
});

describe('faults', () => {
  test('a 500 or throttling on reading a cluster: that cluster reports it, the others proceed', async () => {
    // Prepare
    const instances = [cluster('prod', ['1.80.0'])[0], cluster('batch', ['1.80.0'])[0], cluster('staging', ['1.80.0'])[0]];
    fleet.injectFault({ service: 'ecs', command: 'DescribeContainerInstances', error: 'http500', onCall: 1 });
    fleet.injectFault({ service: 'ecs', command: 'ListContainerInstances', error: 'throttle', onCall: 2 });
    const handler = updater({ clusters: ['prod', 'batch', 'staging'] });

    // Act
    const result = await run(handler);

    // Assess
    const faulted = fleet.calls.filter((c) => c.faulted).map((c) => c.input.cluster as string);
    expect(faulted).toHaveLength(2);
    const healthy = ['prod', 'batch', 'staging'].filter((c) => !faulted.includes(c));
    expect(healthy).toHaveLength(1);
    expect(Object.fromEntries(result.clusters.map((c) => [c.cluster, c.errors.map((e) => e.split(':')[0])]))).toEqual({
      [faulted[0]]: [fleet.calls.find((c) => c.faulted && c.input.cluster === faulted[0])!.command === 'ListContainerInstances'
        ? 'ThrottlingException (HTTP 400)' : 'ServerException (HTTP 500)'],
      [faulted[1]]: [fleet.calls.find((c) => c.faulted && c.input.cluster === faulted[1])!.command === 'ListContainerInstances'
        ? 'ThrottlingException (HTTP 400)' : 'ServerException (HTTP 500)'],
      [healthy[0]]: [],
    });
    expect(updateCalls()).toEqual([[healthy[0], instances[['prod', 'batch', 'staging'].indexOf(healthy[0])].ec2InstanceId]]);
    expect(subjects().filter((s) => s.startsWith('[ERROR]'))).toHaveLength(2);
  });

  test('a cluster that does not exist is an error of its own', async () => {
    // Prepare
    const [a] = cluster('prod', ['1.80.0']);
    const handler = updater();

    // Act
    const result = await run(handler);

    // Assess
    expect(result.clusters[1]).toEqual(expect.objectContaining({ cluster: 'batch', errors: ['DescribeClusters: MISSING: cluster batch was not found'] }));
    expect(updateCalls()).toEqual([['prod', a.ec2InstanceId]]);
  });

  test('the state table unavailable: the run fails before any ECS call', async () => {
    // Prepare
    cluster('prod', ['1.80.0']);
    const handler = updater();
    table.startOutage();

    // Act + Assess
    await expect(run(handler)).rejects.toThrow(/Internal server error/);
    expect(fleet.calls).toEqual([]);
    expect(stdout.emf().some((d) => d.Errors === 1)).toBe(true);
  });

  test('a report that reached no channel is sent again next run', async () => {
    // Prepare
    const [down] = cluster('prod', ['1.80.0']);
    fleet.addCluster('batch');
    fleet.setAgentConnected(down.arn, false);
    topic.on(PublishCommand).rejects(Object.assign(new Error('SNS is down'), { name: 'InternalErrorException', $metadata: { httpStatusCode: 500 } }));
    const handler = updater();

    // Act
    await run(handler);
    topic.on(PublishCommand).resolves({ MessageId: 'message-2' });
    await nextRun(handler);

    // Assess
    expect(subjects()).toEqual(['[WARNING] prod is unhealthy: no agent is updated there until it recovers']);
    await nextRun(handler);
    expect(subjects()).toEqual([]);
  });
});

describe('at-least-once delivery', () => {
  test('a duplicate delivery of the same scheduled event, or a late older one, does nothing', async () => {
    // Prepare
    const [a] = cluster('prod', ['1.80.0', '1.80.0']);
    fleet.addCluster('batch');
    const handler = updater();
    const event = scheduledEvent(T0);
    await handler(event);
    fleet.resetCalls();

    // Act: the same event again (after the first run), then an older one
    const duplicate = await handler(event);
    const older = await handler(scheduledEvent(new Date(T0.getTime() - HOUR)));

    // Assess
    expect(duplicate).toEqual({ skipped: 'duplicate or late delivery of a scheduled event', dryRun: false, clusters: [] });
    expect(older.skipped).toBeDefined();
    expect(fleet.calls).toEqual([]);
    expect(fleet.requireContainerInstance(a.arn).agentUpdateStatus).toBe('PENDING');
    expect(stdout.emf().filter((d) => d.DuplicateDeliveries === 1)).toHaveLength(2);

    // Act: the next event runs
    advanceClock(HOUR);
    const next = await handler(scheduledEvent(new Date(Date.now())));
    expect(next.skipped).toBeUndefined();
  });

  test('a manual invocation (not a scheduled event) runs without the duplicate check', async () => {
    // Prepare
    cluster('prod', ['1.80.0']);
    fleet.addCluster('batch');
    const handler = updater();

    // Act
    const result = await handler({});

    // Assess
    expect(result.clusters[0].requested).toHaveLength(1);
    expect(table.item('$run')).toBeUndefined();
  });
});

describe('every cluster of the account', () => {
  test('without clusters, lists them; an INACTIVE one is left alone', async () => {
    // Prepare
    const [a] = cluster('alpha', ['1.80.0']);
    const [b] = cluster('beta', [LATEST]);
    fleet.addCluster('gone').status = 'INACTIVE';
    const handler = updater({ clusters: undefined });

    // Act
    const result = await run(handler);

    // Assess
    expect(fleet.callsTo('ecs', 'ListClusters')).toHaveLength(1);
    expect(result.clusters.map((c) => c.cluster)).toEqual(['alpha', 'beta']); // ListClusters lists ACTIVE clusters only
    expect(updateCalls()).toEqual([['alpha', a.ec2InstanceId], ['beta', b.ec2InstanceId]]);
    expect(result.clusters.map((c) => c.counts?.upToDate)).toEqual([0, 1]);
  });
});

describe('AMI drift', () => {
  test('instances whose AMI is not their group\'s are reported once, with launch templates and configurations', async () => {
    // Prepare
    fleet.addCluster('prod');
    fleet.addCluster('batch');
    fleet.addAutoScalingGroup('prod-asg', { instances: 2, cluster: 'prod', imageId: 'ami-0000000000000aaaa' });
    fleet.addAutoScalingGroup('batch-asg', { instances: 1, cluster: 'batch', launchConfiguration: true, imageId: 'ami-0000000000000cccc' });
    fleet.setGroupImage('prod-asg', 'ami-0000000000000bbbb');
    const fresh = fleet.addInstanceToGroup('prod-asg').containerInstance!;
    const drifted = fleet.containerInstancesOf('prod').filter((ci) => ci.arn !== fresh.arn);
    const handler = updater({ reportAmiDrift: true });

    // Act
    const result = await run(handler);

    // Assess
    expect(result.clusters[0].drift).toEqual([{
      group: 'prod-asg', expected: ['ami-0000000000000bbbb'], instances: drifted.map((ci) => ci.ec2InstanceId),
    }]);
    expect(result.clusters[1].drift).toEqual([]);
    expect(fleet.calls.filter((c) => c.service !== 'ecs').map((c) => c.command).sort())
      .toEqual(['DescribeAutoScalingGroups', 'DescribeLaunchConfigurations', 'DescribeLaunchTemplateVersions']);
    const text = messages().map((m) => m.Message).join('\n');
    expect(text).toContain('2 instance(s) of prod-asg run another AMI than it launches now (ami-0000000000000bbbb); replace them with an instance refresh');
    expect(stdout.emf().find((d) => d.AmiDriftInstances !== undefined)?.AmiDriftInstances).toBe(2);

    // Act
    await nextRun(handler);
    expect(messages().map((m) => m.Message).join('\n')).not.toContain('another AMI');
  });

  test('a launch template that resolves an SSM parameter at launch cannot be compared, and says so', async () => {
    // Prepare
    fleet.addCluster('prod');
    fleet.addCluster('batch');
    fleet.addAutoScalingGroup('prod-asg', { instances: 1, cluster: 'prod', imageId: 'resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id' });
    const handler = updater({ reportAmiDrift: true });

    // Act
    await run(handler);

    // Assess
    expect(messages().map((m) => m.Message).join('\n'))
      .toContain('prod-asg: AMI drift cannot be checked: launch template prod-asg-lt takes its AMI from /aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id at launch');
  });

  test('a failed drift check is an error, and holds no update back', async () => {
    // Prepare
    const [a] = cluster('prod', ['1.80.0']);
    fleet.addCluster('batch');
    fleet.injectFault({ service: 'autoscaling', error: 'access-denied' });
    const handler = updater({ reportAmiDrift: true });

    // Act
    const result = await run(handler);

    // Assess
    expect(updateCalls()).toEqual([['prod', a.ec2InstanceId]]);
    expect(result.clusters[0].errors).toEqual([expect.stringMatching(/^AMI drift check: AccessDenied \(HTTP 403\)/)]);
  });
});

describe('metrics', () => {
  test('a run publishes each cluster\'s counts and the fleet\'s totals and versions as EMF', async () => {
    // Prepare
    cluster('prod', ['1.80.0', LATEST]);
    fleet.addCluster('batch');
    const handler = updater();

    // Act
    await run(handler);

    // Assess
    expect(stdout.metricsOf('prod')).toEqual([{
      Instances: 2, UpToDateAgents: 1, UpdatingAgents: 1, OutdatedAgents: 0, UnsupportedAgents: 0, UpdatesRequested: 1, Errors: 0,
    }]);
    const fleetDoc = stdout.emf().find((d) => d.UnhealthyClusters !== undefined && d.ClusterName === undefined);
    expect(fleetDoc).toMatchObject({ service: 'ecs-agent-updater', OutdatedAgents: 0, UpdatesRequested: 1, UnhealthyClusters: 0, Errors: 0 });
    const versions = stdout.emf().filter((d) => d.AgentVersion !== undefined).map((d) => [d.AgentVersion, d.AgentVersionInstances]);
    expect(versions.sort()).toEqual([['1.80.0', 1], [LATEST, 1]]);
    expect(stdout.emf().find((d) => d.DockerVersion === '25.0.8')?.DockerVersionInstances).toBe(2);
  });
});
