/**
 * Thrown by `FailureStore.increment` when not one of the requested instances could be confirmed as
 * incremented (the store is unreachable, throttled to a halt, or misconfigured).
 *
 * When only some updates fail, `increment` does not throw: it returns the confirmed counts and leaves
 * the failed instances out (see `FailureStore.increment`), logging each failure. The caller acts only on
 * instances present in the returned map.
 */
export class FailureStoreIncrementError extends AggregateError {
  constructor(
    /** What failed, for the message: e.g. `DynamoDB table t, cluster c`. */
    where: string,
    /** Why each instance failed, keyed by container instance ARN. */
    public readonly failures: ReadonlyMap<string, unknown>,
  ) {
    const first = failures.values().next().value;
    super(
      [...failures.values()],
      `failure store (${where}): could not increment any of ${failures.size} instance(s); ` +
        `first error: ${first instanceof Error ? first.message : String(first)}`,
    );
    this.name = 'FailureStoreIncrementError';
  }
}
