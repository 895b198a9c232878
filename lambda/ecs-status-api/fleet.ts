/**
 * Reading the services of many clusters with as few ECS calls and as little waiting as possible:
 *
 * - ListClusters (only when no clusters are configured) and ListServices are paginated to the end at their largest
 *   page (100);
 * - DescribeServices is called in batches of 10 (its maximum) with `include: ['TAGS']`, so tags come with the
 *   services and no ListTagsForResource is ever needed; a cluster's batches start as soon as its ListServices page
 *   arrives, while the next page is listed;
 * - every call of one read, in every cluster, shares one bound on calls in flight (`concurrency`), so twenty clusters
 *   are read at once without a burst of hundreds of calls;
 * - a cluster that fails (after the SDK's own retries) or is not read by the deadline is reported with its error,
 *   and the others are still answered.
 */
import {
  DescribeClustersCommand, DescribeServicesCommand, ListClustersCommand, ListServicesCommand,
  type DescribeClustersCommandOutput, type ECSClient, type Service,
} from '@aws-sdk/client-ecs';
import { DESCRIBE_BATCH_MAX, LIST_PAGE_MAX, chunk, describeError, paginate } from '../common/aws';
import { ShownError, shownError, shownIdentifier } from '../common/redact';

/** What the read needs of an ECS client. */
export type EcsSend = Pick<ECSClient, 'send'>;

/** Calls in flight at once in one read, over every cluster. */
export const READ_CONCURRENCY = 20;

/**
 * The outcome of reading one cluster. A failure has the `error` an answer shows (its name and HTTP status:
 * `shownError`) and the `detail` the function logs (`describeError`, masked).
 */
export type ClusterRead =
  | { readonly cluster: string; readonly services: Service[]; readonly tags?: Record<string, string> }
  | { readonly cluster: string; readonly error: string; readonly detail: string };

function failedRead(cluster: string, error: unknown): ClusterRead {
  return { cluster, error: shownError(error), detail: describeError(error) };
}

export interface ReadOptions {
  /** Calls in flight at once. @default READ_CONCURRENCY */
  readonly concurrency?: number;
  /** Also read each cluster's tags (DescribeClusters, 100 clusters a call). */
  readonly clusterTags?: boolean;
  /** Stop starting calls and report the clusters not read yet when this is aborted (the deadline). */
  readonly signal?: AbortSignal;
  /**
   * Called with each cluster's outcome as soon as it is read (before the read ends), so its services can be
   * prepared while the other clusters are still being read. Not called for a cluster the deadline cut off.
   */
  readonly onRead?: (read: ClusterRead) => void;
}

/**
 * Runs at most `limit` tasks at once, in the order they asked; a finishing task hands its place to the next one
 * waiting. Tasks waiting when `signal` aborts are rejected with its reason.
 */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number, private readonly signal?: AbortSignal) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`concurrency limit must be a positive integer, got ${limit}`);
    signal?.addEventListener('abort', () => {
      const woken = this.waiting.splice(0);
      this.active += woken.length; // each takes a place, and gives it back when it fails
      for (const wake of woken) wake();
    }, { once: true });
  }

  public async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) this.active += 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      if (this.signal?.aborted) throw this.signal.reason;
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}

/** Every ACTIVE cluster's name, ListClusters paginated to the end. */
export async function listClusterNames(ecs: EcsSend, signal?: AbortSignal): Promise<string[]> {
  const arns = await paginate(
    (nextToken) => ecs.send(new ListClustersCommand({ maxResults: LIST_PAGE_MAX.ListClusters, nextToken }), { abortSignal: signal }),
    (page) => page.clusterArns,
    (page) => page.nextToken,
  );
  return arns.map((arn) => arn.slice(arn.indexOf(':cluster/') + ':cluster/'.length));
}

/** Reads the services (with their tags) of every cluster in `clusters`; one outcome per cluster, in order. */
export async function readClusters(ecs: EcsSend, clusters: readonly string[], options: ReadOptions = {}): Promise<ClusterRead[]> {
  const { signal } = options;
  const limiter = new Limiter(options.concurrency ?? READ_CONCURRENCY, signal);
  const send = <T>(command: Parameters<EcsSend['send']>[0]) => limiter.run(() => ecs.send(command as any, { abortSignal: signal }) as Promise<T>);

  const tags = options.clusterTags ? readClusterTags(clusters, send) : undefined;
  const readOne = async (cluster: string): Promise<ClusterRead> => {
    try {
      const services = await readCluster(cluster, send);
      if (!tags) return { cluster, services };
      const found = (await tags).get(cluster);
      if (found instanceof Error) return failedRead(cluster, found);
      return { cluster, services, tags: found ?? {} };
    } catch (error) {
      return failedRead(cluster, error);
    }
  };
  const reads = clusters.map(async (cluster) => {
    const read = await readOne(cluster);
    if (!signal?.aborted) options.onRead?.(read);
    return read;
  });
  if (!signal) return Promise.all(reads);
  // At the deadline, whatever is not read yet is reported as such; calls still in flight are aborted.
  const deadline = new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  const settled: Array<ClusterRead | undefined> = new Array(clusters.length);
  await Promise.race([
    Promise.all(reads.map(async (read, i) => { settled[i] = await read; })),
    deadline,
  ]);
  return clusters.map((cluster, i) => settled[i] ?? failedRead(cluster, signal.reason ?? new ShownError('the read was stopped')));
}

async function readCluster(cluster: string, send: <T>(command: any) => Promise<T>): Promise<Service[]> {
  const batches: Array<Promise<Service[]>> = [];
  await paginate(
    async (nextToken) => {
      const page = await send<{ serviceArns?: string[]; nextToken?: string }>(
        new ListServicesCommand({ cluster, maxResults: LIST_PAGE_MAX.ListServices, nextToken }));
      // Describe this page while the next one is listed.
      for (const batch of chunk(page.serviceArns ?? [], DESCRIBE_BATCH_MAX.DescribeServices)) {
        const described = send<{ services?: Service[] }>(new DescribeServicesCommand({ cluster, services: batch, include: ['TAGS'] }))
          .then((answer) => answer.services ?? []);
        described.catch(() => undefined); // awaited below; keep an early failure from going unhandled meanwhile
        batches.push(described);
      }
      return page;
    },
    (page) => page.serviceArns,
    (page) => page.nextToken,
  );
  // A service deleted between ListServices and DescribeServices comes back as a MISSING failure: it is gone, skip it.
  return (await Promise.all(batches)).flat();
}

/** Each cluster's tags, or the error that kept them from being read. */
async function readClusterTags(
  clusters: readonly string[], send: <T>(command: any) => Promise<T>,
): Promise<Map<string, Record<string, string> | Error>> {
  const found = new Map<string, Record<string, string> | Error>();
  await Promise.all(chunk(clusters, DESCRIBE_BATCH_MAX.DescribeClusters).map(async (batch) => {
    try {
      const answer = await send<DescribeClustersCommandOutput>(new DescribeClustersCommand({ clusters: batch, include: ['TAGS'] }));
      for (const c of answer.clusters ?? []) {
        if (!c.clusterName) continue;
        found.set(c.clusterName, Object.fromEntries((c.tags ?? []).filter((t) => t.key !== undefined).map((t) => [t.key!, t.value ?? ''])));
      }
      for (const f of answer.failures ?? []) {
        const name = f.arn?.slice(f.arn.indexOf(':cluster/') + ':cluster/'.length);
        if (name) found.set(name, new ShownError(`DescribeClusters: ${shownIdentifier(f.reason) ?? 'failed'}`));
      }
    } catch (error) {
      for (const cluster of batch) found.set(cluster, error as Error);
    }
  }));
  return found;
}
