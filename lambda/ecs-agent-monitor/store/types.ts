/** Default time after the last increment at which a count expires: 24 hours. */
export const DEFAULT_FAILURE_TTL_SECONDS = 24 * 60 * 60;

/** How long the store remembers an instance the monitor detached and has not yet seen terminated. */
export const DETACHED_TTL_SECONDS = 30 * 24 * 60 * 60;

/** An EC2 instance the monitor detached from its Auto Scaling group (DETACH_AND_TERMINATE) to terminate it. */
export interface DetachedInstance {
  readonly ec2InstanceId: string;
  /** The group it was detached from. */
  readonly group: string;
  /** When the monitor recorded it, before detaching. */
  readonly detachedAt: Date;
}

/** What the store holds for one cluster. */
export interface StoredCluster {
  /** Live failure counts, keyed by container instance ARN. */
  readonly counts: Map<string, number>;
  /** Instances detached (or about to be) and not yet seen terminated. */
  readonly detached: DetachedInstance[];
}

/** What `increment` did. */
export interface IncrementResult {
  /** The new counts the store confirmed, keyed by container instance ARN. */
  readonly counts: Map<string, number>;
  /**
   * Instances whose count was already incremented less than half a schedule period ago (by an overlapping or
   * duplicate run): not incremented again, and not to be acted on by this run.
   */
  readonly alreadyCounted: Set<string>;
}

/**
 * Where the agent monitor keeps each container instance's count of consecutive failed checks.
 *
 * Only non-zero counts are stored: a run loads one cluster's counts with a single `load`, increments
 * the instances that failed this check and clears the ones that passed (or vanished), so store traffic
 * grows with the number of disconnected instances, not with the size of the fleet.
 *
 * A count goes up at most once per schedule period: an increment within `minIncrementGapSeconds` (half a period)
 * of the last one is refused, so a duplicate delivery, a late throttled invocation or a hand-run overlapping a
 * scheduled one cannot count one failed period twice.
 */
export interface FailureStore {
  /** The cluster's live counts and detached instances. One round trip (paginated if needed). */
  load(cluster: string): Promise<StoredCluster>;
  /**
   * Atomically add one to each instance's count (or restart an expired one at 1). An instance in neither
   * `counts` nor `alreadyCounted` of the result was not confirmed: act on nothing for it.
   */
  increment(cluster: string, instanceArns: readonly string[]): Promise<IncrementResult>;
  /** Keep these live counts as they are for another lifetime, without adding to them (the outage guard's freeze). */
  keep(cluster: string, instanceArns: readonly string[]): Promise<void>;
  /** Delete the counts of these instances (a connected check, a replacement done, or an instance gone). */
  clear(cluster: string, instanceArns: readonly string[]): Promise<void>;
  /** Remember that the monitor detaches this instance, before it does: a later run terminates it if this run cannot. */
  rememberDetached(cluster: string, instance: DetachedInstance): Promise<void>;
  /** Forget detached instances that are terminated (or gone). */
  forgetDetached(cluster: string, ec2InstanceIds: readonly string[]): Promise<void>;
  /** Release connections (Redis); a no-op where there is nothing to release. */
  close(): Promise<void>;
}
