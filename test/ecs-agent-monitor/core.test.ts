import {
  Assessment, GroupMembership, InstanceState, MonitorSettings, ReplacementPlan, applyFleetOutage, assessCluster, capAcrossClusters,
  dueForReplacement, isEc2InstanceId, planReplacements,
} from '../../lambda/ecs-agent-monitor/core';

const NOW = new Date('2026-11-21T12:00:00Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);

const SETTINGS: MonitorSettings = {
  failAfter: 2,
  gracePeriodMs: 10 * 60_000,
  action: 'SET_UNHEALTHY',
  maxReplacementsPerRun: 1,
  maxReplacementsPerRunTotal: 1,
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

  test('trips the outage guard above the threshold and freezes the counts: nothing goes up, the stored ones are kept', () => {
    const down = { agentConnected: false };
    const fleet = [instance(1, down), instance(2, down), instance(3, down), instance(4)];
    const stored = new Map([[instance(1).arn, 1], [instance(4).arn, 2]]);

    const a = assessCluster(fleet, stored, SETTINGS, NOW);

    expect(a.failingPercent).toBe(75);
    expect(a.outage).toBe('cluster');
    expect(a.toIncrement).toEqual([]);
    expect(a.toKeep).toEqual([instance(1).arn]);
    expect(a.toClear).toEqual([instance(4).arn]); // it passed: a passed check still clears
  });

  test('computes the outage share over the checked instances only, not those in the grace period', () => {
    const down = { agentConnected: false };
    const fresh = { registeredAt: minutesAgo(1) };
    // 2 of 3 checked fail (67%): an outage. Counting the 5 new, connected instances would make it 2 of 8 (25%).
    const fleet = [instance(1, down), instance(2, down), instance(3), ...[4, 5, 6, 7, 8].map((n) => instance(n, fresh))];

    const a = assessCluster(fleet, new Map(), SETTINGS, NOW);

    expect(a.checked).toBe(3);
    expect(a.inGracePeriod).toBe(5);
    expect(a.outage).toBe('cluster');
  });

  test('two failing instances are enough to trip, in a two-instance cluster', () => {
    const down = { agentConnected: false };
    const a = assessCluster([instance(1, down), instance(2, down)], new Map(), SETTINGS, NOW);
    expect(a.outage).toBe('cluster');
    expect(a.toIncrement).toEqual([]);
  });

  test('an instance ECS could not describe is an error, keeps its count and counts as failing for the guard', () => {
    const missing = { arn: instance(3).arn, reason: 'MISSING' };
    const stored = new Map([[missing.arn, 1]]);

    const a = assessCluster([instance(1, { agentConnected: false }), instance(2), instance(4)], stored, SETTINGS, NOW, [missing]);

    expect(a.unknown).toEqual([missing]);
    expect(a.toClear).toEqual([]); // its count is kept
    expect(a.toIncrement).toEqual([instance(1).arn]); // and not increased: nothing is known of it
    expect(a.failingPercent).toBe(50); // 1 failing + 1 unknown of 3 checked + 1 unknown
    expect(a.outage).toBe(false);
    expect(assessCluster([instance(1, { agentConnected: false }), instance(2)], stored, SETTINGS, NOW, [missing]).outage).toBe('cluster');
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
});

describe('applyFleetOutage', () => {
  const down = { agentConnected: false };
  const cluster = (n: number, failing: number, size: number): Assessment => assessCluster(
    Array.from({ length: size }, (_, i) => instance(n * 100 + i, i < failing ? down : {})), new Map(), SETTINGS, NOW);

  test('trips every cluster when the whole fleet fails above the threshold, though none does on its own', () => {
    // A regional problem over five one-instance clusters: one failing instance each is never an outage on its own.
    const stored = [1, 2, 3, 4, 5].map((n) => new Map([[instance(n * 100).arn, 1]]));
    const assessed = stored.map((counts, i) => assessCluster([instance((i + 1) * 100, down)], counts, SETTINGS, NOW));
    expect(assessed.map((a) => a.outage)).toEqual([false, false, false, false, false]);

    const fleet = applyFleetOutage(assessed, stored, SETTINGS);

    expect(fleet.map((a) => a.outage)).toEqual(['fleet', 'fleet', 'fleet', 'fleet', 'fleet']);
    expect(fleet.every((a) => a.toIncrement.length === 0)).toBe(true);
    expect(fleet.map((a) => a.toKeep)).toEqual([1, 2, 3, 4, 5].map((n) => [instance(n * 100).arn]));
  });

  test('leaves the clusters as they are when the fleet as a whole is under the threshold', () => {
    const assessed = [cluster(1, 3, 4), cluster(2, 0, 10), cluster(3, 0, 10)]; // 3 of 24: 12.5%
    const fleet = applyFleetOutage(assessed, assessed.map(() => new Map()), SETTINGS);
    expect(fleet.map((a) => a.outage)).toEqual(['cluster', false, false]);
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
    const plan = planReplacements([failing(1)], new Map([[failing(1).arn, 2]]), new Map(), { ...SETTINGS, action: 'NOTIFY_ONLY', terminateStandaloneInstances: true });
    expect(plan.steps).toEqual([expect.objectContaining({ kind: 'replace', action: 'NOTIFY_ONLY', group: undefined })]);
  });

  test('skips an instance without an EC2 instance id', () => {
    const external = { arn: 'arn:aws:ecs:us-east-1:123456789012:container-instance/prod/ext', reason: 'agent disconnected' as const };
    const plan = planReplacements([external], new Map([[external.arn, 2]]), new Map(), { ...SETTINGS, terminateStandaloneInstances: true });
    expect(plan.steps).toEqual([expect.objectContaining({ kind: 'skip', why: expect.stringContaining('no EC2 instance id') })]);
  });

  test('reports an ECS Anywhere instance (mi-...) as not replaceable, never terminates it', () => {
    const anywhere = { arn: instance(7).arn, ec2InstanceId: 'mi-0123456789abcdef0', reason: 'agent disconnected' as const };
    const plan = planReplacements([anywhere], new Map([[anywhere.arn, 3]]), new Map(), { ...SETTINGS, terminateStandaloneInstances: true });
    expect(plan.steps).toEqual([expect.objectContaining({ kind: 'skip', why: expect.stringMatching(/^mi-0123456789abcdef0 is not an EC2 instance/) })]);
  });

  test.each([
    ['i-0123456789abcdef0', true], ['i-01234567', true], ['mi-0123456789abcdef0', false], ['i-0123', false], ['i-0123456789ABCDEF0', false], ['', false],
  ])('isEc2InstanceId(%j) is %s', (id, expected) => {
    expect(isEc2InstanceId(id)).toBe(expected);
  });

  test('waits on the group for an instance it already marked Unhealthy, without using the per-run cap', () => {
    const counts = new Map([[failing(1).arn, 6], [failing(2).arn, 2]]);
    const groups = new Map([
      [failing(1).ec2InstanceId, { groupName: 'prod-asg', lifecycleState: 'InService', healthStatus: 'UNHEALTHY' }],
      [failing(2).ec2InstanceId, inGroup()],
    ]);

    const plan = planReplacements([failing(1), failing(2)], counts, groups, SETTINGS);

    expect(plan.steps).toEqual([
      expect.objectContaining({ kind: 'skip', instance: failing(1), why: expect.stringMatching(/^already Unhealthy in its Auto Scaling group prod-asg: waiting on the group/) }),
      expect.objectContaining({ kind: 'replace', instance: failing(2) }),
    ]);
  });

  test('gives a Standby instance its own reason', () => {
    const plan = planReplacements([failing(1)], new Map([[failing(1).arn, 2]]), new Map([[failing(1).ec2InstanceId, inGroup('prod-asg', 'Standby')]]), SETTINGS);
    expect(plan.steps).toEqual([expect.objectContaining({ kind: 'skip', why: expect.stringMatching(/^in Standby in its Auto Scaling group prod-asg/) })]);
  });
});

describe('capAcrossClusters', () => {
  const step = (n: number, failures: number) => ({
    kind: 'replace' as const,
    instance: { arn: instance(n).arn, ec2InstanceId: instance(n).ec2InstanceId, reason: 'agent disconnected' as const },
    failures,
    group: 'asg',
    action: 'SET_UNHEALTHY' as const,
  });
  const plan = (...steps: ReturnType<typeof step>[]): ReplacementPlan => ({ steps, waiting: [], firstFailures: [] });

  test('lets at most the total go ahead, most failures first, and makes the rest wait', () => {
    const capped = capAcrossClusters([plan(step(1, 2)), plan(step(2, 4)), plan(step(3, 3))], 2);

    expect(capped.map((p) => p.steps.map((s) => s.instance.arn))).toEqual([[], [instance(2).arn], [instance(3).arn]]);
    expect(capped[0].waiting).toEqual([step(1, 2).instance]);
    expect(capped[0].waitingForFleetCap).toBe(1);
  });

  test('keeps every plan as it is when the total allows it', () => {
    const plans = [plan(step(1, 2)), plan(step(2, 4))];
    expect(capAcrossClusters(plans, 2)).toEqual(plans);
  });
});
