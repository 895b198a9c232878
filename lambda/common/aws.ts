/**
 * What every handler's AWS calls share: client settings, pagination to the end, describe calls
 * batched at their documented maximum, and bounded concurrency.
 *
 * Each handler creates its own clients at module scope with `CLIENT_CONFIG`, so a bundle contains
 * only the clients its handler uses.
 */
import { redact } from './redact';

/**
 * SDK v3 client settings: adaptive retries (client-side rate limiting on throttling) with a few
 * more attempts than the default 3, so a burst of `ThrottlingException` slows a run down instead of failing it.
 */
export const CLIENT_CONFIG = { retryMode: 'adaptive', maxAttempts: 6 } as const;

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
 * (lambda/common/redact.ts). An HTTP answer shows `shownError(error)` instead.
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return redact(`${error.name}${status ? ` (HTTP ${status})` : ''}: ${error.message}`);
  }
  return redact(String(error));
}

/**
 * A value made on first use and kept for the container's life, for clients whose SDK module is loaded with
 * `import()` (a chunk of its own in the ESM bundle) only when a run needs it. A failed load is tried again
 * on the next use.
 *
 * @example const ec2 = lazy(async () => { const sdk = await import('@aws-sdk/client-ec2'); return { sdk, client: new sdk.EC2Client(CLIENT_CONFIG) }; });
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
