/**
 * The agent monitor's decisions, as pure functions of a snapshot of one cluster, the stored failure
 * counts and the configuration. No AWS calls here: the shell (index.ts) reads AWS, calls these and
 * carries out the plan.
 */

export type ReplacementAction = 'SET_UNHEALTHY' | 'TERMINATE' | 'DETACH_AND_TERMINATE' | 'NOTIFY_ONLY';

export interface MonitorSettings {
  /** Consecutive failed checks before an instance is replaced. */
  readonly failAfter: number;
  /** Instances registered less than this long ago are never counted. */
  readonly gracePeriodMs: number;
  readonly action: ReplacementAction;
  /** Per cluster and run. */
  readonly maxReplacementsPerRun: number;
  /** Across every cluster, per run. */
  readonly maxReplacementsPerRunTotal: number;
  /** Percent of checked instances failing at once (in a cluster, or in the whole fleet) above which nothing is replaced. */
  readonly outageThresholdPercent: number;
  /** Count a CONTAINER_INSTANCE_HEALTH status of IMPAIRED as a failed check. */
  readonly treatImpairedAsFailed: boolean;
  /** Terminate a failing instance that belongs to no Auto Scaling group (otherwise report it). */
  readonly terminateStandaloneInstances: boolean;
  /** When set, only instances of these Auto Scaling groups may be acted on. */
  readonly allowedGroups?: readonly string[];
}

/**
 * An outage needs at least this many failing instances at once: a single disconnected agent,
 * even in a one-instance cluster, is an instance problem, not an ECS-side one.
 */
export const OUTAGE_MIN_FAILING = 2;

/** One container instance as the monitor sees it (from DescribeContainerInstances). */
export interface InstanceState {
  readonly arn: string;
  readonly ec2InstanceId?: string;
  readonly status: string;
  readonly agentConnected: boolean;
  /** CONTAINER_INSTANCE_HEALTH overall status, when asked for. */
  readonly health?: string;
  readonly registeredAt?: Date;
}

export interface FailingInstance {
  readonly arn: string;
  readonly ec2InstanceId?: string;
  /** Why the check failed, for logs and messages. */
  readonly reason: 'agent disconnected' | 'instance health IMPAIRED';
}

/** An instance ECS listed but could not describe (a `failures` entry such as MISSING): its state is unknown. */
export interface UnknownInstance {
  readonly arn: string;
  /** ECS's reason, e.g. `MISSING`. */
  readonly reason: string;
}

/** Whether an id is an EC2 instance id (`i-` and 8 or 17 hex digits); ECS Anywhere instances have `mi-...` ids. */
export function isEc2InstanceId(id: string | undefined): id is string {
  return id !== undefined && /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/.test(id);
}

/**
 * Whether so many checks fail at once that it is taken for an ECS-side problem: more than the threshold percent
 * of the instances checked, and at least {@link OUTAGE_MIN_FAILING} of them. Unknown instances count as failing.
 */
export function isOutage(failing: number, checked: number, thresholdPercent: number): boolean {
  return failing >= OUTAGE_MIN_FAILING && checked > 0 && (failing / checked) * 100 > thresholdPercent;
}

/** What one check of one cluster found, before the store is touched. */
export interface Assessment {
  /** ACTIVE instances outside the grace period: the ones checked. */
  readonly checked: number;
  /** ACTIVE instances inside the grace period, not counted. */
  readonly inGracePeriod: number;
  readonly failing: readonly FailingInstance[];
  /** Instances ECS could not describe: reported as errors, their counts kept, counted as failing for the outage guard. */
  readonly unknown: readonly UnknownInstance[];
  /** Percent of checked (and unknown) instances failing or unknown (0 when none are checked). */
  readonly failingPercent: number;
  /**
   * Whether so many fail at once that it is taken for an ECS-side problem: in this cluster, or in the whole fleet
   * (see {@link applyFleetOutage}).
   */
  readonly outage: false | 'cluster' | 'fleet';
  /** Instances whose count to add one to (none during an outage). */
  readonly toIncrement: readonly string[];
  /** During an outage, the stored counts of failing instances: kept alive, not increased (frozen). */
  readonly toKeep: readonly string[];
  /** Stored counts to delete: instances that passed, left ACTIVE or are gone (never an unknown one). */
  readonly toClear: readonly string[];
}

/**
 * Decides what this check means for one cluster. `stored` is the cluster's stored counts; `unknown` the instances
 * DescribeContainerInstances answered with a failure.
 */
export function assessCluster(
  instances: readonly InstanceState[],
  stored: ReadonlyMap<string, number>,
  settings: MonitorSettings,
  now: Date,
  unknown: readonly UnknownInstance[] = [],
): Assessment {
  const active = instances.filter((i) => i.status === 'ACTIVE');
  const isNew = (i: InstanceState) =>
    i.registeredAt !== undefined && now.getTime() - i.registeredAt.getTime() < settings.gracePeriodMs;
  const checked = active.filter((i) => !isNew(i));

  const failing: FailingInstance[] = [];
  for (const instance of checked) {
    if (!instance.agentConnected) {
      failing.push({ arn: instance.arn, ec2InstanceId: instance.ec2InstanceId, reason: 'agent disconnected' });
    } else if (settings.treatImpairedAsFailed && instance.health === 'IMPAIRED') {
      failing.push({ arn: instance.arn, ec2InstanceId: instance.ec2InstanceId, reason: 'instance health IMPAIRED' });
    }
  }

  const failingOrUnknown = failing.length + unknown.length;
  const considered = checked.length + unknown.length;
  const failingPercent = considered === 0 ? 0 : (failingOrUnknown / considered) * 100;
  const outage = isOutage(failingOrUnknown, considered, settings.outageThresholdPercent) ? 'cluster' as const : false as const;
  return withOutage({
    checked: checked.length,
    inGracePeriod: active.length - checked.length,
    failing,
    unknown,
    failingPercent,
    outage: false,
    toIncrement: failing.map((f) => f.arn),
    toKeep: [],
    toClear: [],
  }, outage, stored);
}

/** The assessment with its outage decided: during an outage nothing is counted up and failing counts are kept. */
function withOutage(a: Assessment, outage: Assessment['outage'], stored: ReadonlyMap<string, number>): Assessment {
  const failingArns = new Set(a.failing.map((f) => f.arn));
  const keepArns = new Set([...failingArns, ...a.unknown.map((u) => u.arn)]);
  return {
    ...a,
    outage,
    toIncrement: outage ? [] : a.failing.map((f) => f.arn),
    toKeep: outage ? a.failing.map((f) => f.arn).filter((arn) => stored.has(arn)) : [],
    toClear: [...stored.keys()].filter((arn) => !keepArns.has(arn)).sort(),
  };
}

/**
 * The fleet-wide outage guard: when, over every cluster checked in this run, more than the threshold percent of
 * the instances fail at once (and at least two), every cluster is taken to be in an ECS-side outage, even those
 * each under the threshold on its own. `stored` gives each cluster's stored counts, in the same order.
 */
export function applyFleetOutage(
  assessments: readonly Assessment[],
  stored: ReadonlyArray<ReadonlyMap<string, number>>,
  settings: MonitorSettings,
): Assessment[] {
  const failing = assessments.reduce((sum, a) => sum + a.failing.length + a.unknown.length, 0);
  const considered = assessments.reduce((sum, a) => sum + a.checked + a.unknown.length, 0);
  if (!isOutage(failing, considered, settings.outageThresholdPercent)) return [...assessments];
  return assessments.map((a, i) => (a.outage ? a : withOutage(a, 'fleet', stored[i])));
}

/** Where a failing instance's EC2 instance stands in Auto Scaling (from DescribeAutoScalingInstances). */
export interface GroupMembership {
  readonly groupName: string;
  readonly lifecycleState: string;
  readonly healthStatus?: string;
}

export type PlannedStep =
  | { readonly kind: 'replace'; readonly instance: FailingInstance; readonly failures: number; readonly group?: string; readonly action: ReplacementAction }
  | { readonly kind: 'skip'; readonly instance: FailingInstance; readonly failures: number; readonly group?: string; readonly why: string };

export interface ReplacementPlan {
  /** In the order to carry out; at most `maxReplacementsPerRun` of kind `replace`. */
  readonly steps: readonly PlannedStep[];
  /** Instances that reached `failAfter` but wait for a later run because of the per-run cap. */
  readonly waiting: readonly FailingInstance[];
  /** Instances that failed for the first time this run (count 1). */
  readonly firstFailures: readonly FailingInstance[];
  /** How many of `waiting` wait because of the cap across clusters (not this cluster's own). */
  readonly waitingForFleetCap?: number;
}

/** Instances that reached `failAfter`, in the order they should be replaced (most failures first). */
export function dueForReplacement(
  failing: readonly FailingInstance[],
  counts: ReadonlyMap<string, number>,
  settings: MonitorSettings,
): FailingInstance[] {
  return failing
    .filter((f) => (counts.get(f.arn) ?? 0) >= settings.failAfter)
    .sort((a, b) => (counts.get(b.arn)! - counts.get(a.arn)!) || a.arn.localeCompare(b.arn));
}

/**
 * Plans the replacements of one cluster. Only instances whose new count the store confirmed
 * (present in `counts`) are considered. `groups` maps EC2 instance id to its group membership
 * (absent: the instance belongs to no group).
 */
export function planReplacements(
  failing: readonly FailingInstance[],
  counts: ReadonlyMap<string, number>,
  groups: ReadonlyMap<string, GroupMembership>,
  settings: MonitorSettings,
): ReplacementPlan {
  const steps: PlannedStep[] = [];
  const waiting: FailingInstance[] = [];
  let replacements = 0;

  for (const instance of dueForReplacement(failing, counts, settings)) {
    const failures = counts.get(instance.arn)!;
    const membership = instance.ec2InstanceId ? groups.get(instance.ec2InstanceId) : undefined;
    const skip = (why: string) => steps.push({ kind: 'skip', instance, failures, group: membership?.groupName, why });

    if (!isEc2InstanceId(instance.ec2InstanceId)) {
      skip(instance.ec2InstanceId
        ? `${instance.ec2InstanceId} is not an EC2 instance (an ECS Anywhere instance?): the monitor replaces only EC2 instances`
        : 'no EC2 instance id (an external instance?): the monitor replaces only EC2 instances');
      continue;
    }
    if (membership && settings.allowedGroups && !settings.allowedGroups.includes(membership.groupName)) {
      skip(`its Auto Scaling group ${membership.groupName} is not one this monitor may act on`);
      continue;
    }
    if (membership?.lifecycleState === 'Standby') {
      skip(`in Standby in its Auto Scaling group ${membership.groupName}, which does not replace a Standby instance: `
        + 'put it back in service or replace it by hand');
      continue;
    }
    if (membership && membership.lifecycleState !== 'InService') {
      skip(`already leaving its Auto Scaling group (lifecycle state ${membership.lifecycleState})`);
      continue;
    }
    if (membership?.healthStatus?.toUpperCase() === 'UNHEALTHY') {
      skip(`already Unhealthy in its Auto Scaling group ${membership.groupName}: waiting on the group to replace it `
        + '(if it does not, check for a suspended ReplaceUnhealthy process or an instance maintenance policy that launches first)');
      continue;
    }
    if (!membership && !settings.terminateStandaloneInstances) {
      skip('belongs to no Auto Scaling group; set terminateStandaloneInstances to let the monitor terminate it');
      continue;
    }
    if (replacements >= settings.maxReplacementsPerRun) {
      waiting.push(instance);
      continue;
    }
    replacements++;
    steps.push({
      kind: 'replace',
      instance,
      failures,
      group: membership?.groupName,
      // An instance outside any group can only be terminated.
      action: settings.action === 'NOTIFY_ONLY' || membership ? settings.action : 'TERMINATE',
    });
  }

  const firstFailures = failing.filter((f) => counts.get(f.arn) === 1);
  return { steps, waiting, firstFailures };
}

/**
 * The cap across clusters: of the replacements planned in every cluster, at most `total` go ahead, most failures
 * first (then in cluster order); the others wait for a later run. Returns the plans in the same order.
 */
export function capAcrossClusters(plans: readonly ReplacementPlan[], total: number): ReplacementPlan[] {
  const candidates = plans.flatMap((plan, cluster) => plan.steps
    .filter((step): step is Extract<PlannedStep, { kind: 'replace' }> => step.kind === 'replace')
    .map((step) => ({ cluster, step })));
  candidates.sort((a, b) => b.step.failures - a.step.failures || a.cluster - b.cluster);
  const allowed = new Set<PlannedStep>(candidates.slice(0, total).map((c) => c.step));
  return plans.map((plan) => {
    const over = plan.steps.filter((step) => step.kind === 'replace' && !allowed.has(step));
    if (over.length === 0) return plan;
    return {
      ...plan,
      steps: plan.steps.filter((step) => !over.includes(step)),
      waiting: [...plan.waiting, ...over.map((step) => step.instance)],
      waitingForFleetCap: over.length,
    };
  });
}

/** One line saying what an action does, for logs and messages. */
export function describeAction(action: ReplacementAction, standalone: boolean): string {
  if (standalone) return 'terminate the EC2 instance (no Auto Scaling group)';
  switch (action) {
    case 'SET_UNHEALTHY': return 'mark unhealthy in its Auto Scaling group';
    case 'TERMINATE': return 'terminate in its Auto Scaling group';
    case 'DETACH_AND_TERMINATE': return 'detach from its Auto Scaling group and terminate';
    case 'NOTIFY_ONLY': return 'nothing (dry run)';
  }
}

/** What one run did in one cluster; returned by the handler and used for the notification. */
export interface ClusterResult {
  readonly cluster: string;
  readonly assessment?: Assessment;
  readonly plan?: ReplacementPlan;
  /** Replacement steps carried out (or, in a dry run, that would have been). */
  readonly done: readonly PlannedStep[];
  /** Instances detached by DETACH_AND_TERMINATE that this run terminated, or still could not. */
  readonly detached?: readonly DetachedOutcome[];
  /** Failing instances another run already counted this period: this run did nothing with them. */
  readonly alreadyCounted?: readonly string[];
  readonly errors: readonly string[];
}

/** What became of an instance the monitor detached from its group to terminate it. */
export interface DetachedOutcome {
  readonly ec2InstanceId: string;
  readonly group: string;
  readonly detachedAt: Date;
  /** `terminated` now, termination `failed` (reported every run until it is gone), or `left` alone (dry run). */
  readonly outcome: 'terminated' | 'failed' | 'left';
  readonly why?: string;
}
