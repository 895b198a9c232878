/**
 * The function's cache of the fleet: each cluster's services (prepared for filtering and writing) and the list of
 * clusters are kept for `ttlMs`, so requests within it are answered without an ECS call. A cluster is read again
 * once its entry is older than that; a cluster that cannot be read is reported missing, never served stale. Requests
 * that arrive while a read is under way wait for it instead of reading again.
 */
import { MissingCluster, PreparedService, compareKeys, prepare, toServiceStatus } from './core';
import type { ClusterRead } from './fleet';
import { shownError } from '../common/redact';

/** How the cache reads ECS (fleet.ts, or a fake in tests). */
export interface FleetReader {
  listClusters(signal?: AbortSignal): Promise<string[]>;
  /** Reads the clusters; `onRead` gets each cluster's outcome as soon as it is read. */
  readClusters(clusters: readonly string[], signal: AbortSignal | undefined, onRead: (read: ClusterRead) => void): Promise<ClusterRead[]>;
}

/** What one request is answered from. */
export interface Snapshot {
  /** Every answered cluster's services, ordered by cluster and name. */
  readonly services: readonly PreparedService[];
  /** The clusters answered, in order. */
  readonly clusters: readonly string[];
  /** The clusters left out, with why. */
  readonly missing: readonly MissingCluster[];
  /** When the oldest data in the answer was read from ECS. */
  readonly generatedAt: Date;
  /** How many clusters this request read from ECS (0: all from the cache). */
  readonly clustersRead: number;
}

/**
 * The cluster list could not be read, so nothing can be answered. Its message is what the answer shows (the error's
 * name and HTTP status); the function logs the `cause`.
 */
export class ClusterListError extends Error {
  constructor(public readonly cause: unknown) {
    super(`could not list the clusters: ${shownError(cause)}`);
    this.name = 'ClusterListError';
  }
}

interface Entry {
  readonly services: PreparedService[];
  /** When the read of this entry started (ms). */
  readonly at: number;
  /** Tells entries apart for the merged list (two reads can start in the same millisecond). */
  readonly version: number;
}

export interface StatusCacheOptions {
  readonly reader: FleetReader;
  /** The configured clusters; empty for every cluster in the account and region. */
  readonly clusters: readonly string[];
  readonly ttlMs: number;
  readonly now?: () => number;
}

export class StatusCache {
  private readonly reader: FleetReader;
  private readonly configured: readonly string[];
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry>();
  private clusterList?: { names: string[]; at: number };
  private reading?: Promise<unknown>;
  private merged?: { signature: string; services: PreparedService[] };
  private versions = 0;

  constructor(options: StatusCacheOptions) {
    this.reader = options.reader;
    this.configured = [...new Set(options.clusters)];
    this.ttlMs = options.ttlMs;
    this.now = options.now ?? Date.now;
  }

  /** The fleet as of at most `ttlMs` ago, reading what is older. `signal` is the read's deadline. */
  public async snapshot(signal?: AbortSignal): Promise<Snapshot> {
    // One read at a time: a request that arrives during a read waits for it, then takes what it cached.
    while (this.reading) await this.reading.catch(() => undefined);
    const read = this.read(signal);
    this.reading = read;
    try {
      return await read;
    } finally {
      if (this.reading === read) this.reading = undefined;
    }
  }

  private fresh(at: number, now: number): boolean {
    return now - at < this.ttlMs;
  }

  private async read(signal?: AbortSignal): Promise<Snapshot> {
    const started = this.now();
    const names = [...await this.clusterNames(started, signal)].sort(compareText);
    const current = new Map<string, Entry>();
    const stale: string[] = [];
    for (const name of names) {
      const entry = this.entries.get(name);
      if (entry && this.fresh(entry.at, started)) current.set(name, entry);
      else stale.push(name);
    }
    // Forget clusters that are gone from the account or the configuration.
    for (const name of this.entries.keys()) if (!names.includes(name)) this.entries.delete(name);

    const missing: MissingCluster[] = [];
    if (stale.length > 0) {
      // A cluster's services are prepared as soon as it is read, while the others are still being read.
      const prepared = new Map<string, PreparedService[]>();
      const prepareRead = (outcome: ClusterRead) => {
        if ('error' in outcome) return;
        prepared.set(outcome.cluster, outcome.services
          .map((s) => prepare(toServiceStatus(s, outcome.cluster, outcome.tags)))
          .sort((a, b) => compareKeys(a.key, b.key)));
      };
      for (const outcome of await this.reader.readClusters(stale, signal, prepareRead)) {
        if ('error' in outcome) {
          this.entries.delete(outcome.cluster);
          missing.push({ cluster: outcome.cluster, error: outcome.error, detail: outcome.detail });
          continue;
        }
        if (!prepared.has(outcome.cluster)) prepareRead(outcome);
        const entry = { services: prepared.get(outcome.cluster)!, at: started, version: ++this.versions };
        this.entries.set(outcome.cluster, entry);
        current.set(outcome.cluster, entry);
      }
    }

    const answered = names.filter((n) => current.has(n));
    const oldest = Math.min(...answered.map((n) => current.get(n)!.at));
    return {
      services: this.merge(answered, current),
      clusters: answered,
      missing,
      generatedAt: new Date(answered.length > 0 ? oldest : started),
      clustersRead: stale.length,
    };
  }

  private async clusterNames(now: number, signal?: AbortSignal): Promise<string[]> {
    if (this.configured.length > 0) return [...this.configured];
    if (this.clusterList && this.fresh(this.clusterList.at, now)) return this.clusterList.names;
    try {
      const names = await this.reader.listClusters(signal);
      this.clusterList = { names, at: now };
      return names;
    } catch (error) {
      throw new ClusterListError(error);
    }
  }

  /** The clusters' services in one ordered list, made again only when an entry changed. */
  private merge(clusters: readonly string[], entries: ReadonlyMap<string, Entry>): PreparedService[] {
    const signature = clusters.map((c) => entries.get(c)!.version).join(',');
    if (this.merged?.signature !== signature) {
      // Clusters are in name order and each entry is in key order, so the concatenation is in key order.
      this.merged = { signature, services: clusters.flatMap((c) => entries.get(c)!.services) };
    }
    return this.merged.services;
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
