import {
  GroupMembership, InstanceState, MonitorSettings, assessCluster, dueForReplacement, planReplacements,
} from '../../lambda/ecs-agent-monitor/core';

const NOW = new Date('2026-11-21T12:00:00Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);

const SETTINGS: MonitorSettings = {
  failAfter: 2,
  gracePeriodMs: 10 * 60_000,
  action: 'SET_UNHEALTHY',
  maxReplacementsPerRun: 1,
  outageThresholdPercent: 50,
  treatImpairedAsFailed: false,
  terminateStandaloneInstances: false,
};

function instance(n: number, overrides: Partial<InstanceState> = {}): InstanceState {
  return {
    arn: `arn:aws:ecs:us-east-1:123456789012:container-instance/prod/${String(n).padStart(32, '0')}`,
    ec2InstanceId: `i-${String(n).padStart(17, '0')}`,
    status: 'ACTIVE',
    agentConnected: true,
    registeredAt: minutesAgo(60),
    ...overrides,
  };
}

const inGroup = (groupName = 'prod-asg', lifecycleState = 'InService'): GroupMembership => ({ groupName, lifecycleState, healthStatus: 'HEALTHY' });

describe('assessCluster', () => {
  test('counts a disconnected ACTIVE instance outside the grace period as failing', () => {
    const a = assessCluster([instance(1), instance(2, { agentConnected: false })], new Map(), SETTINGS, NOW);

    expect(a.checked).toBe(2);
    expect(a.failing).toEqual([{ arn: instance(2).arn, ec2InstanceId: instance(2).ec2InstanceId, reason: 'agent disconnected' }]);
    expect(a.toIncrement).toEqual([instance(2).arn]);
    expect(a.outage).toBe(false);
  });

  test('never counts an instance registered inside the grace period', () => {
    const a = assessCluster([instance(1, { agentConnected: false, registeredAt: minutesAgo(9) }), instance(2)], new Map(), SETTINGS, NOW);

    expect(a.failing).toEqual([]);
    expect(a.inGracePeriod).toBe(1);
    expect(a.checked).toBe(1);
  });

  test('ignores DRAINING, REGISTERING and DEREGISTERING instances and clears their counts', () => {
    const draining = instance(1, { status: 'DRAINING', agentConnected: false });
    const registering = instance(2, { status: 'REGISTERING', agentConnected: false });
    const deregistering = instance(3, { status: 'DEREGISTERING', agentConnected: false });
    const stored = new Map([[draining.arn, 1]]);

    const a = assessCluster([draining, registering, deregistering, instance(4)], stored, SETTINGS, NOW);

    expect(a.failing).toEqual([]);
    expect(a.checked).toBe(1);
    expect(a.toClear).toEqual([draining.arn]);
  });

  test('clears the count of an instance that passed and of one that is gone, keeps a failing one', () => {
    const reconnected = instance(1);
    const failing = instance(2, { agentConnected: false });
    const gone = 'arn:aws:ecs:us-east-1:123456789012:container-instance/prod/gone';
    const stored = new Map([[reconnected.arn, 1], [failing.arn, 1], [gone, 3]]);

    const a = assessCluster([reconnected, failing], stored, SETTINGS, NOW);

    expect(a.toClear).toEqual([reconnected.arn, gone].sort());
    expect(a.toIncrement).toEqual([failing.arn]);
  });

  test('trips the outage guard above the threshold and freezes the counts', () => {
    const down = { agentConnected: false };
    const fleet = [instance(1, down), instance(2, down), instance(3, down), instance(4)];

    const a = assessCluster(fleet, new Map(), SETTINGS, NOW);

    expect(a.failingPercent).toBe(75);
    expect(a.outage).toBe(true);
    expect(a.toIncrement).toEqual([]);
  });

  test('does not trip at exactly the threshold', () => {
    const down = { agentConnected: false };
    const a = assessCluster([instance(1, down), instance(2, down), instance(3), instance(4)], new Map(), SETTINGS, NOW);
    expect(a.outage).toBe(false);
    expect(a.toIncrement).toHaveLength(2);
  });

  test('one disconnected agent is never an outage, even in a one-instance cluster', () => {
    const a = assessCluster([instance(1, { agentConnected: false })], new Map(), SETTINGS, NOW);
    expect(a.failingPercent).toBe(100);
    expect(a.outage).toBe(false);
    expect(a.toIncrement).toHaveLength(1);
  });

  test('counts IMPAIRED health only when asked to', () => {
    const impaired = instance(1, { health: 'IMPAIRED' });
    expect(assessCluster([impaired, instance(2)], new Map(), SETTINGS, NOW).failing).toEqual([]);

    const a = assessCluster([impaired, instance(2)], new Map(), { ...SETTINGS, treatImpairedAsFailed: true }, NOW);
    expect(a.failing).toEqual([{ arn: impaired.arn, ec2InstanceId: impaired.ec2InstanceId, reason: 'instance health IMPAIRED' }]);
  });
});

describe('planReplacements', () => {
  const failing = (n: number) => ({ arn: instance(n).arn, ec2InstanceId: instance(n).ec2InstanceId as string, reason: 'agent disconnected' as const });

  test('replaces nothing below failAfter and reports a first failure', () => {
    const plan = planReplacements([failing(1)], new Map([[failing(1).arn, 1]]), new Map(), SETTINGS);

    expect(plan.steps).toEqual([]);
    expect(plan.firstFailures).toEqual([failing(1)]);
  });

  test('replaces at failAfter with the configured action, in the instance\'s group', () => {
    const plan = planReplacements([failing(1)], new Map([[failing(1).arn, 2]]), new Map([[failing(1).ec2InstanceId, inGroup()]]), SETTINGS);

    expect(plan.steps).toEqual([{ kind: 'replace', instance: failing(1), failures: 2, group: 'prod-asg', action: 'SET_UNHEALTHY' }]);
  });

  test('replaces at most maxReplacementsPerRun, most failures first; the rest wait', () => {
    const counts = new Map([[failing(1).arn, 2], [failing(2).arn, 5], [failing(3).arn, 3]]);
    const groups = new Map([1, 2, 3].map((n) => [failing(n).ec2InstanceId, inGroup()]));

    const plan = planReplacements([failing(1), failing(2), failing(3)], counts, groups, { ...SETTINGS, maxReplacementsPerRun: 2 });

    expect(plan.steps.map((s) => s.instance.arn)).toEqual([failing(2).arn, failing(3).arn]);
    expect(plan.waiting).toEqual([failing(1)]);
  });

  test('acts only on counts the store confirmed', () => {
    const plan = planReplacements([failing(1)], new Map(), new Map([[failing(1).ec2InstanceId, inGroup()]]), SETTINGS);
    expect(plan.steps).toEqual([]);
    expect(dueForReplacement([failing(1)], new Map(), SETTINGS)).toEqual([]);
  });

  test('reports, and does not terminate, an instance outside any group unless opted in', () => {
    const counts = new Map([[failing(1).arn, 2]]);

    const reported = planReplacements([failing(1)], counts, new Map(), SETTINGS);
    expect(reported.steps).toEqual([expect.objectContaining({ kind: 'skip', why: expect.stringContaining('terminateStandaloneInstances') })]);

    const terminated = planReplacements([failing(1)], counts, new Map(), { ...SETTINGS, terminateStandaloneInstances: true });
    expect(terminated.steps).toEqual([expect.objectContaining({ kind: 'replace', action: 'TERMINATE', group: undefined })]);
  });

  test('a skipped instance does not use up the per-run cap', () => {
    const counts = new Map([[failing(1).arn, 9], [failing(2).arn, 2]]);
    const groups = new Map([[failing(2).ec2InstanceId, inGroup()]]);

    const plan = planReplacements([failing(1), failing(2)], counts, groups, SETTINGS);

    expect(plan.steps.map((s) => s.kind)).toEqual(['skip', 'replace']);
  });

  test('does not act on a group outside autoScalingGroups', () => {
    const plan = planReplacements([failing(1)], new Map([[failing(1).arn, 2]]), new Map([[failing(1).ec2InstanceId, inGroup('other-asg')]]), { ...SETTINGS, allowedGroups: ['prod-asg'] });
    expect(plan.steps).toEqual([expect.objectContaining({ kind: 'skip', why: expect.stringContaining('other-asg') })]);
  });

  test('leaves an instance alone that is already leaving its group', () => {
    const plan = planReplacements([failing(1)], new Map([[failing(1).arn, 4]]), new Map([[failing(1).ec2InstanceId, inGroup('prod-asg', 'Terminating')]]), SETTINGS);
    expect(plan.steps).toEqual([expect.objectContaining({ kind: 'skip', why: expect.stringContaining('Terminating') })]);
  });

  test('in a dry run, plans NOTIFY_ONLY steps even for an instance outside any group', () => {
    const plan = planReplacements([failing(1)], new Map([[failing(1).arn, 2]]), new Map([[failing(1).ec2InstanceId, inGroup()]]), { ...SETTINGS, action: 'NOTIFY_ONLY' });
    expect(plan.steps).toEqual([expect.objectContaining({ kind: 'replace', action: 'NOTIFY_ONLY' })]);
  });

  test('skips an instance without an EC2 instance id', () => {
    const external = { arn: 'arn:aws:ecs:us-east-1:123456789012:container-instance/prod/ext', reason: 'agent disconnected' as const };
    const plan = planReplacements([external], new Map([[external.arn, 2]]), new Map(), { ...SETTINGS, terminateStandaloneInstances: true });
    expect(plan.steps).toEqual([expect.objectContaining({ kind: 'skip', why: expect.stringContaining('no EC2 instance id') })]);
  });
});
