/**
 * What every handler's AWS calls share: client settings (timeouts, and retries bounded by the invocation's time
 * budget), pagination to the end, describe calls batched at their documented maximum, and bounded concurrency.
 *
 * Each handler creates its own clients at module scope (or on first use) with `clientConfig()`, so a bundle contains
 * only the clients its handler uses, and each client has a retry strategy (and adaptive rate limiter) of its own.
 */
import { AdaptiveRetryStrategy } from '@smithy/core/retry';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type {
  HttpHandlerOptions, RetryErrorInfo, RetryStrategyV2, RetryToken, StandardRetryBackoffStrategy, StandardRetryToken,
} from '@smithy/types';
import { BudgetExhausted, MIN_CALL_MS, currentBudget, isOutOfTime, markOutOfTime } from './budget';
import { redact } from './redact';

/** What `clientConfig` sets unless told otherwise. */
export const CLIENT_DEFAULTS = {
  /** Longest wait for a TCP (and TLS) connection. */
  connectionTimeoutMs: 3_000,
  /**
   * Longest wait for one request's answer to start (and, as the socket's idle timeout, between two of its
   * packets); less when the invocation's budget has less left.
   */
  requestTimeoutMs: 5_000,
  /**
   * Tries of one call in total, the first included: a burst of `ThrottlingException` slows a run down instead of
   * failing it. Retries stop earlier when the next one could not finish within the budget.
   */
  maxAttempts: 6,
} as const;

/** Longest backoff between two tries of a call (the SDK's own limit). */
const MAX_RETRY_DELAY_MS = 20_000;

export interface ClientSettings {
  /** @default CLIENT_DEFAULTS.connectionTimeoutMs */
  readonly connectionTimeoutMs?: number;
  /** @default CLIENT_DEFAULTS.requestTimeoutMs */
  readonly requestTimeoutMs?: number;
  /** @default CLIENT_DEFAULTS.maxAttempts */
  readonly maxAttempts?: number;
}

/**
 * SDK v3 client settings, fresh for each client (`new ECSClient(clientConfig())`, `{ ...clientConfig(), region }`):
 *
 * - a connection timeout, and a request timeout that is also the socket's idle timeout, each request's capped by
 *   the time the current budget has left (budget.ts), and the request aborted at the budget's deadline;
 * - adaptive retries (client-side rate limiting on throttling) that stop when the next try could not finish before
 *   the budget's deadline: the caller gets the last error, which `isOutOfTime` recognizes;
 * - no call started once the budget is spent: it fails with `BudgetExhausted`.
 *
 * Outside an invocation (no current budget) only the timeouts and the attempts bound a call.
 */
export function clientConfig(settings: ClientSettings = {}): {
  maxAttempts: number;
  retryStrategy: BudgetRetryStrategy;
  requestHandler: BudgetHttpHandler;
} {
  const maxAttempts = settings.maxAttempts ?? CLIENT_DEFAULTS.maxAttempts;
  return {
    maxAttempts,
    retryStrategy: new BudgetRetryStrategy(maxAttempts),
    requestHandler: new BudgetHttpHandler({
      connectionTimeoutMs: settings.connectionTimeoutMs ?? CLIENT_DEFAULTS.connectionTimeoutMs,
      requestTimeoutMs: settings.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs,
    }),
  };
}

/**
 * The SDK's adaptive retry strategy, bounded by the current budget: no call is started with less than
 * `MIN_CALL_MS` left (`BudgetExhausted`), no backoff is waited that would leave less, and no wait (a backoff, the
 * rate limiter's) goes past that point. A call whose retries it stopped fails with its last error, marked so that
 * `isOutOfTime` recognizes it.
 */
export class BudgetRetryStrategy implements RetryStrategyV2 {
  public readonly mode = 'adaptive';
  private readonly inner: AdaptiveRetryStrategy;

  constructor(maxAttempts: number) {
    this.inner = new AdaptiveRetryStrategy(maxAttempts, { maxAttempts, backoff: new BudgetBackoff() });
  }

  public async acquireInitialRetryToken(retryTokenScope: string): Promise<RetryToken> {
    const budget = currentBudget();
    if (!budget) return this.inner.acquireInitialRetryToken(retryTokenScope);
    try {
      if (budget.remainingMs() < MIN_CALL_MS) throw new BudgetExhausted('an AWS call was not started');
      // The adaptive rate limiter may wait for a send token: not past the deadline.
      return await budget.race(this.inner.acquireInitialRetryToken(retryTokenScope), 'an AWS call was not started', MIN_CALL_MS);
    } catch (error) {
      if (error instanceof BudgetExhausted) budget.noteRefused();
      throw error;
    }
  }

  public async refreshRetryTokenForRetry(token: RetryToken, errorInfo: RetryErrorInfo): Promise<RetryToken> {
    const budget = currentBudget();
    if (!budget) return this.inner.refreshRetryTokenForRetry(token as StandardRetryToken, errorInfo);
    try {
      return await budget.race(this.inner.refreshRetryTokenForRetry(token as StandardRetryToken, errorInfo), 'a retry was not made', MIN_CALL_MS);
    } catch (error) {
      if (isOutOfTime(error)) {
        budget.noteRetryStopped();
        markOutOfTime(errorInfo.error);
      }
      throw error;
    }
  }

  public recordSuccess(token: RetryToken): void {
    this.inner.recordSuccess(token as StandardRetryToken);
  }
}

/**
 * The SDK's backoff (full jitter: a random delay up to the base doubled each retry, at most 20 s), refusing a
 * delay that would leave the retry less than `MIN_CALL_MS` before the current budget's deadline.
 */
class BudgetBackoff implements StandardRetryBackoffStrategy {
  private base = 50;

  public setDelayBase(delay: number): void {
    this.base = delay;
  }

  public computeNextBackoffDelay(retry: number): number {
    const delay = Math.floor(Math.random() * Math.min(this.base * 2 ** retry, MAX_RETRY_DELAY_MS));
    const budget = currentBudget();
    if (budget && delay + MIN_CALL_MS > budget.remainingMs()) throw new BudgetExhausted('a retry was not made');
    return delay;
  }
}

/**
 * The SDK's Node.js HTTP handler with a connection timeout, a request timeout that throws (the SDK's default only
 * warns), and each request's timeout capped by the current budget's time left, aborted at its deadline.
 */
export class BudgetHttpHandler extends NodeHttpHandler {
  private readonly requestTimeoutMs: number;

  constructor(settings: { connectionTimeoutMs: number; requestTimeoutMs: number }) {
    super({
      connectionTimeout: settings.connectionTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      socketTimeout: settings.requestTimeoutMs,
      throwOnRequestTimeout: true,
    });
    this.requestTimeoutMs = settings.requestTimeoutMs;
  }

  public async handle(request: Parameters<NodeHttpHandler['handle']>[0], options: HttpHandlerOptions = {}): ReturnType<NodeHttpHandler['handle']> {
    const budget = currentBudget();
    if (!budget || !Number.isFinite(budget.deadline)) return super.handle(request, options);
    const left = budget.remainingMs();
    if (left < MIN_CALL_MS) {
      budget.noteRefused();
      throw new BudgetExhausted('an AWS request was not sent');
    }
    const given = options.abortSignal as AbortSignal | undefined;
    return super.handle(request, {
      ...options,
      requestTimeout: Math.min(options.requestTimeout ?? this.requestTimeoutMs, left),
      abortSignal: given ? AbortSignal.any([given, budget.signal]) : budget.signal,
    });
  }
}

/** Documented maximum number of items one describe call accepts. */
export const DESCRIBE_BATCH_MAX = {
  DescribeClusters: 100,
  DescribeContainerInstances: 100,
  DescribeServices: 10,
  DescribeTasks: 100,
  /** Auto Scaling DescribeAutoScalingInstances: InstanceIds, at most 50. */
  DescribeAutoScalingInstances: 50,
} as const;

/** Largest page a list call may ask for. */
export const LIST_PAGE_MAX = {
  ListClusters: 100,
  ListContainerInstances: 100,
  ListServices: 100,
  ListTasks: 100,
} as const;

/** Safety stop: no list in this library should need more pages than this. */
const MAX_PAGES = 10_000;

/**
 * Calls a list operation page by page until it returns no next token, and returns every item.
 * Fails on a repeated token (a service bug or a fake that loops) rather than looping forever.
 */
export async function paginate<TPage, TItem>(
  fetchPage: (nextToken: string | undefined) => Promise<TPage>,
  itemsOf: (page: TPage) => readonly TItem[] | undefined,
  nextTokenOf: (page: TPage) => string | undefined,
): Promise<TItem[]> {
  const items: TItem[] = [];
  const seen = new Set<string>();
  let token: string | undefined;
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    const page = await fetchPage(token);
    items.push(...(itemsOf(page) ?? []));
    token = nextTokenOf(page);
    if (!token) return items;
    if (seen.has(token)) throw new Error(`Pagination returned the same next token twice; stopped after ${pages + 1} pages`);
    seen.add(token);
  }
  throw new Error(`Pagination did not finish after ${MAX_PAGES} pages`);
}

/** Splits `items` into arrays of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new Error(`chunk size must be a positive integer, got ${size}`);
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/**
 * Runs `fn` over `items` with at most `limit` calls in flight and returns the results in input order.
 * Rejects with the first error once the calls in flight have settled; starts no new call after an error.
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const settled = await settleWithConcurrency(items, limit, fn, { stopOnError: true });
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<R>).value);
}

/**
 * Like `mapWithConcurrency`, but runs every item and returns each outcome, so one failure
 * (one cluster, one channel) does not stop the others.
 */
export async function settleWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  options: { stopOnError?: boolean } = {},
): Promise<PromiseSettledResult<R>[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`concurrency limit must be a positive integer, got ${limit}`);
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !(failed && options.stopOnError)) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await fn(items[index], index) };
      } catch (reason) {
        failed = true;
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  // With stopOnError, items never started have no result; report them as not run.
  for (let i = 0; i < items.length; i++) {
    if (!results[i]) results[i] = { status: 'rejected', reason: new Error('not run: an earlier call failed') };
  }
  return results;
}

/** What a batched describe call returns: the items found and the ids AWS reported as failures. */
export interface Described<TItem, TFailure> {
  readonly items: TItem[];
  readonly failures: TFailure[];
}

/**
 * Describes `ids` in batches of `batchSize` (use `DESCRIBE_BATCH_MAX`), `concurrency` batches at a time,
 * and merges the items and failures of every batch.
 */
export async function describeInBatches<TId, TItem, TFailure>(
  ids: readonly TId[],
  batchSize: number,
  describe: (batch: TId[]) => Promise<{ items?: readonly TItem[]; failures?: readonly TFailure[] }>,
  concurrency = 4,
): Promise<Described<TItem, TFailure>> {
  const pages = await mapWithConcurrency(chunk(ids, batchSize), concurrency, describe);
  return {
    items: pages.flatMap((p) => [...(p.items ?? [])]),
    failures: pages.flatMap((p) => [...(p.failures ?? [])]),
  };
}

/** Name of an AWS SDK error (`ThrottlingException`, `ClusterNotFoundException`), or `Error`. */
export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}

/**
 * A one-line description of an error for logs and notifications; never includes request data, and secrets are masked
 * (lambda/common/redact.ts); an HTTP answer shows `shownError(error)` instead. An error whose retries the time budget
 * stopped says so; a `BudgetExhausted` is its own message ("not done: out of time (...)").
 */
export function describeError(error: unknown): string {
  if (error instanceof BudgetExhausted) return error.message;
  if (error instanceof Error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const cut = isOutOfTime(error) ? '; not retried: out of time' : '';
    return redact(`${error.name}${status ? ` (HTTP ${status})` : ''}: ${error.message}${cut}`);
  }
  return redact(String(error));
}

/**
 * A value made on first use and kept for the container's life, for clients whose SDK module is loaded with
 * `import()` (a chunk of its own in the ESM bundle) only when a run needs it. A failed load is tried again
 * on the next use.
 *
 * @example const ec2 = lazy(async () => { const sdk = await import('@aws-sdk/client-ec2'); return { sdk, client: new sdk.EC2Client(clientConfig()) }; });
 */
export function lazy<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= make().catch((error) => {
      made = undefined;
      throw error;
    });
    return made;
  };
}
