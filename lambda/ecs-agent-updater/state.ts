/**
 * The updater's small DynamoDB table (partition key `cluster`, TTL on `expiresAt`):
 * - one item per cluster with its conditions (see report.ts): what was reported, and what ECS told earlier runs
 *   about its instances;
 * - the item `$run` (a name no cluster can have) with the time of the last scheduled event run, so a late or
 *   duplicate delivery of an EventBridge event does not run again. Runs never overlap (the function's reserved
 *   concurrency is 1), so reading it first and writing it last is enough: a delivery that waited for a run to end
 *   reads what that run wrote.
 *
 * Calls: BatchGetItem (the `$run` item and 100 clusters a call) and BatchWriteItem (25 items a call: the `$run`
 * item, and the clusters whose conditions changed or whose item is half way to expiring).
 */
import {
  AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DynamoDBClient,
  WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { Conditions } from './core';
import { chunk } from '../common/aws';

/** The key of the last scheduled event's item: `$` is not allowed in a cluster name. */
export const RUN_ITEM = '$run';

const BATCH_GET_MAX = 100;
const BATCH_WRITE_MAX = 25;
const MAX_ATTEMPTS = 6;

export interface StoredCluster {
  readonly conditions: Conditions;
  /** Epoch second the item expires; undefined when there was no item. */
  readonly expiresAt?: number;
}

/** The last scheduled event a run was made for. */
export interface LastRun {
  readonly eventId: string;
  /** Epoch milliseconds of the event's `time`. */
  readonly eventTime: number;
}

export interface Loaded {
  /** With `includeRun`: the last scheduled event run, if any. */
  readonly lastRun?: LastRun;
  readonly clusters: Map<string, StoredCluster>;
}

export class StateTable {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly ttlSeconds: number,
    private readonly retryBaseDelayMs = 50,
  ) {}

  /**
   * The stored conditions of each cluster (empty for a cluster without an item, or with an expired one), and with
   * `includeRun` the last scheduled event run.
   */
  public async load(clusters: readonly string[], nowSeconds: number, includeRun = false): Promise<Loaded> {
    const stored = new Map<string, StoredCluster>(clusters.map((c) => [c, { conditions: {} }]));
    let lastRun: LastRun | undefined;
    const names = [...(includeRun ? [RUN_ITEM] : []), ...new Set(clusters)];
    for (const batch of chunk(names, BATCH_GET_MAX)) {
      let keys: Array<Record<string, AttributeValue>> = batch.map((cluster) => ({ cluster: { S: cluster } }));
      for (let attempt = 1; keys.length > 0; attempt++) {
        const out = await this.client.send(new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }));
        for (const item of out.Responses?.[this.tableName] ?? []) {
          const cluster = item.cluster?.S;
          if (cluster === RUN_ITEM) {
            const eventTime = Number(item.lastEventTime?.N);
            if (Number.isFinite(eventTime)) lastRun = { eventId: item.lastEventId?.S ?? '', eventTime };
            continue;
          }
          const expiresAt = item.expiresAt?.N === undefined ? undefined : Number(item.expiresAt.N);
          if (!cluster || (expiresAt !== undefined && expiresAt <= nowSeconds)) continue; // expired, not yet deleted by TTL
          stored.set(cluster, { conditions: parseConditions(item.conditions?.S), expiresAt });
        }
        keys = out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
        if (keys.length > 0) await this.backoff(attempt, `${keys.length} key(s) of BatchGetItem still unprocessed`);
      }
    }
    return { lastRun, clusters: stored };
  }

  /**
   * Writes the last scheduled event run (when given), and the clusters whose conditions changed or whose item has
   * used half its lifetime (so it never expires under a running updater). Returns the clusters written.
   */
  public async save(
    entries: ReadonlyArray<{ readonly cluster: string; readonly conditions: Conditions }>,
    previous: ReadonlyMap<string, StoredCluster>,
    nowSeconds: number,
    lastRun?: LastRun,
  ): Promise<string[]> {
    const due = entries.filter(({ cluster, conditions }) => {
      const before = previous.get(cluster);
      const stale = before?.expiresAt === undefined || before.expiresAt - nowSeconds < this.ttlSeconds / 2;
      return stale || !sameConditions(before.conditions, conditions);
    });
    const written = { updatedAt: { S: new Date(nowSeconds * 1000).toISOString() }, expiresAt: { N: String(nowSeconds + this.ttlSeconds) } };
    const items: Array<Record<string, AttributeValue>> = due.map(({ cluster, conditions }) => ({
      cluster: { S: cluster }, conditions: { S: JSON.stringify(conditions) }, ...written,
    }));
    if (lastRun) {
      items.unshift({ cluster: { S: RUN_ITEM }, lastEventId: { S: lastRun.eventId }, lastEventTime: { N: String(lastRun.eventTime) }, ...written });
    }
    for (const batch of chunk(items, BATCH_WRITE_MAX)) {
      let requests: WriteRequest[] = batch.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 1; requests.length > 0; attempt++) {
        const out = await this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: requests } }));
        requests = out.UnprocessedItems?.[this.tableName] ?? [];
        if (requests.length > 0) await this.backoff(attempt, `${requests.length} write(s) of BatchWriteItem still unprocessed`);
      }
    }
    return due.map((e) => e.cluster);
  }

  private async backoff(attempt: number, what: string): Promise<void> {
    if (attempt >= MAX_ATTEMPTS) throw new Error(`state table ${this.tableName}: ${what} after ${attempt} attempts`);
    await new Promise((resolve) => setTimeout(resolve, Math.random() * this.retryBaseDelayMs * 2 ** attempt));
  }
}

function parseConditions(json: string | undefined): Record<string, number> {
  if (!json) return {};
  try {
    const parsed: unknown = JSON.parse(json);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === 'number'));
  } catch {
    // A malformed item is as good as none: its conditions are reported again.
    return {};
  }
}

function sameConditions(a: Conditions, b: Conditions): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
