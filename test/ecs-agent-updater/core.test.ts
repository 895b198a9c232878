/**
 * The agent updater's decisions, as plain functions of a snapshot: which instances may be updated, in which order,
 * how many at once, what each ECS answer means, and what is worth reporting.
 */
import {
  InstanceState, STUCK_AFTER_SECONDS, UpdateOutcome, UpdaterSettings, Verdicts, assessCluster, classifyVersion, compareVersions,
  rollCluster, summarize, unsupportedPlatform,
} from '../../lambda/ecs-agent-updater/core';
import { findDrift } from '../../lambda/ecs-agent-updater/drift';
import { ClusterRun, clusterReport, nextConditions, undelivered } from '../../lambda/ecs-agent-updater/report';

const NOW = 1_772_000_000;
const SETTINGS: UpdaterSettings = { maxConcurrentUpdates: 1, skipTag: { key: 'ecs-ops:agent-updates', value: 'skip' }, dryRun: false };

let n = 0;
function instance(overrides: Partial<InstanceState> = {}): InstanceState {
  n += 1;
  const id = n.toString(16).padStart(32, '0');
  return {
    arn: `arn:aws:ecs:us-east-1:123456789012:container-instance/prod/${id}`,
    id,
    ec2InstanceId: `i-0${n.toString(16).padStart(16, '0')}`,
    status: 'ACTIVE',
    agentConnected: true,
    agentVersion: '1.80.0',
    agentHash: 'abc1234',
    dockerVersion: '25.0.8',
    attributes: { 'ecs.os-type': 'linux', 'ecs.os-family': 'LINUX', 'ecs.cpu-architecture': 'x86_64', 'ecs.ami-id': 'ami-0000000000000aaaa' },
    tags: {},
    registeredAt: new Date((NOW - 86_400 + n) * 1000),
    ...overrides,
  };
}

/** An update function that answers from a script and records what it was asked. */
function answering(answers: Record<string, UpdateOutcome['kind']> | ((i: InstanceState) => UpdateOutcome)) {
  const asked: InstanceState[] = [];
  const update = async (i: InstanceState): Promise<UpdateOutcome> => {
    asked.push(i);
    if (typeof answers === 'function') return answers(i);
    const kind = answers[i.agentVersion!] ?? 'accepted';
    return kind === 'error' ? { kind, error: 'boom' } : { kind } as UpdateOutcome;
  };
  return { asked, update };
}

describe('unsupportedPlatform', () => {
  test.each([
    ['external', instance({ attributes: { 'ecs.os-type': 'linux', 'ecs.capability.external': '' }, ec2InstanceId: 'mi-0123456789abcdef0' })],
    ['windows', instance({ attributes: { 'ecs.os-type': 'windows', 'ecs.os-family': 'WINDOWS_SERVER_2022_CORE' } })],
    ['bottlerocket', instance({ attributes: { 'ecs.os-type': 'linux', 'bottlerocket.variant': 'aws-ecs-2', 'ecs.cpu-architecture': 'arm64' } })],
    ['arm64', instance({ attributes: { 'ecs.os-type': 'linux', 'ecs.cpu-architecture': 'arm64' } })],
    ['no-version', instance({ agentHash: undefined })],
    [undefined, instance()],
  ])('%s', (reason, i) => {
    expect(unsupportedPlatform(i)).toBe(reason);
  });
});

describe('compareVersions and classifyVersion', () => {
  test('compares numerically', () => {
    expect(['1.10.0', '1.9.1', '1.9.0', '2.0'].sort(compareVersions)).toEqual(['1.9.0', '1.9.1', '1.10.0', '2.0']);
  });

  test('what each answer says about a version and the versions around it', () => {
    const verdicts: Verdicts = new Map([['1.95.0', 'no-update'], ['1.20.0', 'no-update'], ['1.80.0', 'accepted']]);
    expect(classifyVersion('1.95.0', verdicts)).toBe('up-to-date');
    expect(classifyVersion('1.96.0', verdicts)).toBe('up-to-date');
    expect(classifyVersion('1.80.0', verdicts)).toBe('outdated');
    expect(classifyVersion('1.90.0', verdicts)).toBe('outdated');
    expect(classifyVersion('1.20.0', verdicts)).toBe('no-update-path');
    // Without an accepted newer agent, no update for 1.95.0 and 1.96.0 says both are current (1.96.0 may come
    // with a newer AMI before UpdateContainerAgent offers it): 1.95.0 is not taken for too old.
    expect(classifyVersion('1.95.0', new Map([['1.95.0', 'no-update'], ['1.96.0', 'no-update']]))).toBe('up-to-date');
    expect(classifyVersion('1.90.0', new Map(), '1.95.0')).toBe('outdated');
    expect(classifyVersion('1.95.0', new Map(), '1.95.0')).toBe('unchecked');
  });
});

describe('assessCluster', () => {
  test('a disconnected agent or a failed update makes the cluster unhealthy; the skip tag takes an instance out entirely', () => {
    const down = instance({ agentConnected: false });
    const failed = instance({ agentUpdateStatus: 'FAILED' });
    const acknowledged = instance({ agentUpdateStatus: 'FAILED', tags: { 'ecs-ops:agent-updates': 'skip' } });
    const ok = instance();

    const a = assessCluster([down, failed, acknowledged, ok], {}, SETTINGS, NOW);

    expect(a.healthy).toBe(false);
    expect(a.problems.map((p) => [p.instance, p.kind])).toEqual([[down, 'disconnected'], [failed, 'update-failed']]);
    expect(a.skipped).toEqual([acknowledged]);
    expect(a.candidates).toEqual([ok]);
  });

  test('only ACTIVE instances count for health and candidates; updates in flight on DRAINING ones still count', () => {
    const draining = instance({ status: 'DRAINING', agentConnected: false, agentUpdateStatus: 'STAGED' });
    const registering = instance({ status: 'REGISTERING', agentConnected: false });

    const a = assessCluster([draining, registering], {}, SETTINGS, NOW);

    expect(a).toMatchObject({ healthy: true, active: [], candidates: [] });
    expect(a.inFlight.map((f) => f.instance)).toEqual([draining]);
  });

  test('an update in flight with its agent disconnected is a restart, until it has been in flight an hour', () => {
    const restarting = instance({ agentConnected: false, agentUpdateStatus: 'UPDATING' });
    const fresh = assessCluster([restarting], {}, SETTINGS, NOW);
    const key = `inflight:${restarting.id}`;
    const hourLater = assessCluster([restarting], { [key]: NOW }, SETTINGS, NOW + STUCK_AFTER_SECONDS);
    const later = assessCluster([restarting], { [key]: NOW }, SETTINGS, NOW + STUCK_AFTER_SECONDS + 1);

    expect(fresh).toMatchObject({ healthy: true, inFlight: [{ since: NOW, stuck: false }] });
    expect(hourLater.healthy).toBe(true);
    expect(later).toMatchObject({ healthy: false, problems: [{ kind: 'update-stuck' }], inFlight: [{ stuck: true }] });
  });

  test('candidates are supported, idle and connected, oldest agent first, then the longest registered', () => {
    const newer = instance({ agentVersion: '1.90.0' });
    const older = instance({ agentVersion: '1.9.0' });
    const sameLater = instance({ agentVersion: '1.80.0', registeredAt: new Date(NOW * 1000) });
    const same = instance({ agentVersion: '1.80.0', registeredAt: new Date((NOW - 100) * 1000) });
    const arm = instance({ attributes: { 'ecs.os-type': 'linux', 'ecs.cpu-architecture': 'arm64' } });
    const remembered = instance({ agentVersion: '1.70.0' });

    const a = assessCluster([newer, older, sameLater, same, arm, remembered], { [`mv:${remembered.id}:1.70.0:abc1234`]: NOW }, SETTINGS, NOW);

    expect(a.candidates).toEqual([older, same, sameLater, newer]);
    expect(a.unsupported).toEqual([{ instance: arm, reason: 'arm64' }, { instance: remembered, reason: 'missing-version' }]);
  });

  test('a remembered MissingVersionException is forgotten when the agent changes', () => {
    const i = instance({ agentVersion: '1.81.0' });

    const a = assessCluster([i], { [`mv:${i.id}:1.70.0:abc1234`]: NOW }, SETTINGS, NOW);

    expect(a.candidates).toEqual([i]);
  });
});

describe('rollCluster', () => {
  test('asks about the newest agent first, then the oldest, until the concurrency is used', async () => {
    const [a, b, c] = [instance({ agentVersion: '1.70.0' }), instance({ agentVersion: '1.80.0' }), instance({ agentVersion: '1.90.0' })];
    const { asked, update } = answering({});

    const result = await rollCluster(assessCluster([a, b, c], {}, { ...SETTINGS, maxConcurrentUpdates: 2 }, NOW), new Map(), { ...SETTINGS, maxConcurrentUpdates: 2 }, '1.90.0', update);

    expect(asked).toEqual([c, a]);
    expect(result.requested).toEqual([c, a]);
  });

  test('a current newest agent costs one call; the same version is never asked twice in a run, even in another cluster', async () => {
    const verdicts: Verdicts = new Map();
    const first = [instance({ agentVersion: '1.95.0' }), instance({ agentVersion: '1.95.0' }), instance({ agentVersion: '1.90.0' })];
    const second = [instance({ agentVersion: '1.95.0' }), instance({ agentVersion: '1.90.0' })];
    const { asked, update } = answering({ '1.95.0': 'no-update' });

    await rollCluster(assessCluster(first, {}, SETTINGS, NOW), verdicts, SETTINGS, '1.95.0', update);
    await rollCluster(assessCluster(second, {}, SETTINGS, NOW), verdicts, SETTINGS, '1.95.0', update);

    expect(asked).toEqual([first[0], first[2], second[1]]);
  });

  test('UpdateInProgressException uses a place; MissingVersionException does not; an error stops the cluster', async () => {
    const [busy, missing, next, last] = ['1.60.0', '1.70.0', '1.80.0', '1.85.0'].map((agentVersion) => instance({ agentVersion }));
    const settings = { ...SETTINGS, maxConcurrentUpdates: 3 };
    const answers = new Map<InstanceState, UpdateOutcome>([
      [last, { kind: 'accepted' }], [busy, { kind: 'in-progress' }], [missing, { kind: 'missing-version' }], [next, { kind: 'error', error: 'boom' }],
    ]);
    const { asked, update } = answering((i) => answers.get(i)!);

    const result = await rollCluster(assessCluster([busy, missing, next, last], {}, settings, NOW), new Map(), settings, '1.85.0', update);

    expect(asked).toEqual([last, busy, missing, next]);
    expect(result).toMatchObject({ requested: [last], alreadyUpdating: [busy], missingVersion: [missing], error: { instance: next, error: 'boom' } });
  });

  test('an unhealthy cluster, or one whose concurrency is used, is not asked anything', async () => {
    const { asked, update } = answering({});
    const unhealthy = assessCluster([instance(), instance({ agentConnected: false })], {}, SETTINGS, NOW);
    const busy = assessCluster([instance(), instance({ agentUpdateStatus: 'PENDING' })], {}, SETTINGS, NOW);

    const results = [
      await rollCluster(unhealthy, new Map(), SETTINGS, undefined, update),
      await rollCluster(busy, new Map(), SETTINGS, undefined, update),
    ];

    expect(asked).toEqual([]);
    expect(results.map((r) => r.held)).toEqual(['the cluster is unhealthy', '1 update(s) in flight use the concurrency of 1']);
  });

  test('a dry run calls nothing: it would update known-outdated agents, and would ask about the newest', async () => {
    const [old, newest] = [instance({ agentVersion: '1.80.0' }), instance({ agentVersion: '1.90.0' })];
    const settings = { ...SETTINGS, dryRun: true, maxConcurrentUpdates: 2 };
    const { asked, update } = answering({});

    const result = await rollCluster(assessCluster([old, newest], {}, settings, NOW), new Map(), settings, '1.90.0', update);

    expect(asked).toEqual([]);
    expect(result).toMatchObject({ wouldUpdate: [old], wouldProbe: newest, requested: [] });
  });
});

describe('summarize', () => {
  test('every ACTIVE instance is in exactly one state, with histograms of versions', async () => {
    const instances = [
      instance({ agentVersion: '1.95.0' }), instance({ agentVersion: '1.80.0' }), instance({ agentVersion: '1.80.0', agentUpdateStatus: 'PENDING' }),
      instance({ attributes: { 'ecs.os-type': 'windows' } }), instance({ tags: { 'ecs-ops:agent-updates': 'skip' } }),
      instance({ agentVersion: '1.80.0', agentConnected: false, dockerVersion: '20.10.25' }), instance({ status: 'DRAINING' }),
    ];
    const assessment = assessCluster(instances, {}, SETTINGS, NOW);
    const verdicts: Verdicts = new Map([['1.95.0', 'no-update']]);

    const { counts, agentVersions, dockerVersions, upToDateVersions } = summarize(assessment, undefined, verdicts, '1.95.0');

    expect(counts).toEqual({ instances: 6, upToDate: 1, updating: 1, outdated: 2, unsupported: 1, skipped: 1, unchecked: 0 });
    expect(agentVersions).toEqual({ '1.95.0': 1, '1.80.0': 5 });
    expect(dockerVersions).toEqual({ '25.0.8': 5, '20.10.25': 1 });
    expect(upToDateVersions).toEqual(['1.95.0']);
  });
});

describe('reports', () => {
  function runOf(instances: InstanceState[], extra: Partial<ClusterRun> = {}, verdicts: Verdicts = new Map()): ClusterRun {
    const assessment = assessCluster(instances, {}, SETTINGS, NOW);
    return { cluster: 'prod', assessment, summary: summarize(assessment, undefined, verdicts, undefined), errors: [], ...extra };
  }

  test('a condition is reported when it appears, not while it lasts; the end of unhealthy is reported', () => {
    const down = instance({ agentConnected: false });
    const first = runOf([down, instance()]);
    const c1 = nextConditions(first, {}, NOW, false);
    const c2 = nextConditions(first, c1, NOW + 3600, false);
    const healed = runOf([instance({ ...down, agentConnected: true }), instance()]);
    const c3 = nextConditions(healed, c2, NOW + 7200, false);

    expect(c1).toEqual({ unhealthy: NOW });
    expect(c2).toEqual({ unhealthy: NOW }); // first seen, kept
    expect(clusterReport(first, {}, c1, false)?.title).toBe('prod is unhealthy: no agent is updated there until it recovers');
    expect(clusterReport(first, c1, c2, false)).toBeUndefined();
    expect(clusterReport(healed, c2, c3, false)?.title).toBe('prod is healthy again: agent updates resume');
  });

  test('a cluster that could not be read keeps what was known, with this run\'s error instead of the last one', () => {
    const previous = { 'unhealthy': NOW, 'error:old': NOW, 'mv:abc:1:2': NOW };

    const next = nextConditions({ cluster: 'prod', errors: ['new'] }, previous, NOW + 3600, false);

    expect(next).toEqual({ 'unhealthy': NOW, 'mv:abc:1:2': NOW, 'error:new': NOW + 3600 });
  });

  test('undelivered: the reports are made again next run, the memory is kept', () => {
    const previous = { unhealthy: NOW, outdated: NOW };
    const next = { 'failed:x': NOW + 1, 'inflight:y': NOW + 1, 'mv:z:1:2': NOW + 1 };

    expect(undelivered(previous, next)).toEqual({ 'inflight:y': NOW + 1, 'mv:z:1:2': NOW + 1, 'unhealthy': NOW, 'outdated': NOW });
  });

  test('unsupported platforms are reported once per reason; a message lists at most 20 instances', () => {
    const arms = Array.from({ length: 25 }, () => instance({ attributes: { 'ecs.os-type': 'linux', 'ecs.cpu-architecture': 'arm64' } }));
    const run = runOf(arms);
    const next = nextConditions(run, {}, NOW, false);

    const message = clusterReport(run, {}, next, false)!;

    expect(next).toEqual({ 'unsupported:arm64': NOW });
    expect(message.severity).toBe('warning');
    expect(message.sections![0].text).toContain('25 instance(s) skipped, each an Arm (arm64) instance');
    expect(message.sections![0].text).toContain('… and 5 more');
    expect(message.fields).toEqual([{ name: 'Cluster', value: 'prod' }, { name: 'Agents', value: '25 instance(s): 25 not updatable' }]);
  });
});

describe('findDrift', () => {
  test('compares each instance\'s AMI with its group\'s, and says which groups cannot be compared', () => {
    const a = instance({ ec2InstanceId: 'i-0a00000000000000a' });
    const b = instance({ ec2InstanceId: 'i-0b00000000000000b', attributes: { 'ecs.ami-id': 'ami-0000000000000bbbb' } });
    const c = instance({ ec2InstanceId: 'i-0c00000000000000c' });
    const loose = instance({ ec2InstanceId: 'i-0d00000000000000d' });
    const groupOf = new Map([['i-0a00000000000000a', 'web'], ['i-0b00000000000000b', 'web'], ['i-0c00000000000000c', 'ssm']]);
    const images = new Map([['web', { amis: ['ami-0000000000000bbbb'] }], ['ssm', { unknown: 'takes its AMI from /x at launch' }]]);

    const found = findDrift([a, b, c, loose], groupOf, images);

    expect(found).toEqual({
      drift: [{ group: 'web', expected: ['ami-0000000000000bbbb'], instances: [{ instance: a, ami: 'ami-0000000000000aaaa' }] }],
      unknown: [{ group: 'ssm', why: 'takes its AMI from /x at launch' }],
    });
  });
});
