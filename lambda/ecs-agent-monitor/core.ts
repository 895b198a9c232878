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
  /** Percent of checked instances failing at once above which nothing is replaced. */
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

/** What one check of one cluster found, before the store is touched. */
export interface Assessment {
  /** ACTIVE instances outside the grace period: the ones checked. */
  readonly checked: number;
  /** ACTIVE instances inside the grace period, not counted. */
  readonly inGracePeriod: number;
  readonly failing: readonly FailingInstance[];
  /** Percent of checked instances failing (0 when none are checked). */
  readonly failingPercent: number;
  /** True when so many fail at once that it is taken for an ECS-side problem. */
  readonly outage: boolean;
  /** Instances whose count to add one to (none during an outage: counts are frozen). */
  readonly toIncrement: readonly string[];
  /** Stored counts to delete: instances that passed, left ACTIVE or are gone. */
  readonly toClear: readonly string[];
}

/** Decides what this check means for one cluster. `stored` is the cluster's stored counts. */
export function assessCluster(
  instances: readonly InstanceState[],
  stored: ReadonlyMap<string, number>,
  settings: MonitorSettings,
  now: Date,
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

  const failingPercent = checked.length === 0 ? 0 : (failing.length / checked.length) * 100;
  const outage = failing.length >= OUTAGE_MIN_FAILING && failingPercent > settings.outageThresholdPercent;
  const failingArns = new Set(failing.map((f) => f.arn));

  return {
    checked: checked.length,
    inGracePeriod: active.length - checked.length,
    failing,
    failingPercent,
    outage,
    toIncrement: outage ? [] : failing.map((f) => f.arn),
    toClear: [...stored.keys()].filter((arn) => !failingArns.has(arn)).sort(),
  };
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

    if (!instance.ec2InstanceId) {
      skip('no EC2 instance id (external instance?): nothing to replace');
      continue;
    }
    if (membership && settings.allowedGroups && !settings.allowedGroups.includes(membership.groupName)) {
      skip(`its Auto Scaling group ${membership.groupName} is not one this monitor may act on`);
      continue;
    }
    if (membership && membership.lifecycleState !== 'InService') {
      skip(`already leaving its Auto Scaling group (lifecycle state ${membership.lifecycleState})`);
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
  readonly errors: readonly string[];
}
