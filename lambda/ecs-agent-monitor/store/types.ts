/** Default time after the last increment at which a count expires: 24 hours. */
export const DEFAULT_FAILURE_TTL_SECONDS = 24 * 60 * 60;

/**
 * Where the agent monitor keeps each container instance's count of consecutive failed checks.
 *
 * Only non-zero counts are stored: a run loads one cluster's counts with a single `load`, increments
 * the instances that failed this check and clears the ones that passed (or vanished), so store traffic
 * grows with the number of disconnected instances, not with the size of the fleet.
 */
export interface FailureStore {
  /** Every stored count of one cluster, keyed by container instance ARN. One round trip (paginated if needed). */
  load(cluster: string): Promise<Map<string, number>>;
  /**
   * Atomically add one to each instance's count and return the new counts, keyed by container instance ARN.
   * An instance missing from the result was not incremented (treat it as unconfirmed and act on nothing).
   */
  increment(cluster: string, instanceArns: readonly string[]): Promise<Map<string, number>>;
  /** Delete the counts of these instances (a connected check, a replacement done, or an instance gone). */
  clear(cluster: string, instanceArns: readonly string[]): Promise<void>;
  /** Release connections (Redis); a no-op where there is nothing to release. */
  close(): Promise<void>;
}
