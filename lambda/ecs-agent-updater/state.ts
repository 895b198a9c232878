/**
 * The updater's small DynamoDB table (partition key `cluster`, TTL on `expiresAt`):
 * - one item per cluster with its conditions (see report.ts): what was reported, and what ECS told earlier runs
 *   about its instances;
 * - the item `$run` (a name no cluster can have) with the time of the last scheduled event a run started for,
 *   so a late or duplicate delivery of an EventBridge event does not run again.
 *
 * Calls: PutItem (the claim, conditional), BatchGetItem (100 clusters a call) and BatchWriteItem (25 a call, only
 * for clusters whose conditions changed or whose item is half way to expiring).
 */
import {
  AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { Conditions } from './core';
import { chunk } from '../common/aws';

/** The claim item's key: `$` is not allowed in a cluster name. */
export const RUN_ITEM = '$run';

const BATCH_GET_MAX = 100;
const BATCH_WRITE_MAX = 25;
const MAX_ATTEMPTS = 6;

export interface StoredCluster {
  readonly conditions: Conditions;
  /** Epoch second the item expires; undefined when there was no item. */
  readonly expiresAt?: number;
}

export class StateTable {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly ttlSeconds: number,
    private readonly retryBaseDelayMs = 50,
  ) {}

  /**
   * Claims the run of the scheduled event at `eventTime`: true, unless a run already started for this event or a
   * later one (a duplicate or late delivery), then false.
   */
  public async claimRun(eventId: string, eventTime: Date, nowSeconds: number): Promise<boolean> {
    try {
      await this.client.send(new PutItemCommand({
        TableName: this.tableName,
        Item: {
          cluster: { S: RUN_ITEM },
          lastEventTime: { N: String(eventTime.getTime()) },
          lastEventId: { S: eventId },
          startedAt: { S: new Date(nowSeconds * 1000).toISOString() },
          expiresAt: { N: String(nowSeconds + this.ttlSeconds) },
        },
        ConditionExpression: 'attribute_not_exists(#time) OR #time < :time',
        ExpressionAttributeNames: { '#time': 'lastEventTime' },
        ExpressionAttributeValues: { ':time': { N: String(eventTime.getTime()) } },
      }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** The stored conditions of each cluster (empty for a cluster without an item, or with an expired one). */
  public async load(clusters: readonly string[], nowSeconds: number): Promise<Map<string, StoredCluster>> {
    const stored = new Map<string, StoredCluster>(clusters.map((c) => [c, { conditions: {} }]));
    for (const batch of chunk([...new Set(clusters)], BATCH_GET_MAX)) {
      let keys: Array<Record<string, AttributeValue>> = batch.map((cluster) => ({ cluster: { S: cluster } }));
      for (let attempt = 1; keys.length > 0; attempt++) {
        const out = await this.client.send(new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }));
        for (const item of out.Responses?.[this.tableName] ?? []) {
          const cluster = item.cluster?.S;
          const expiresAt = item.expiresAt?.N === undefined ? undefined : Number(item.expiresAt.N);
          if (!cluster || (expiresAt !== undefined && expiresAt <= nowSeconds)) continue; // expired, not yet deleted by TTL
          stored.set(cluster, { conditions: parseConditions(item.conditions?.S), expiresAt });
        }
        keys = out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
        if (keys.length > 0) await this.backoff(attempt, `${keys.length} key(s) of BatchGetItem still unprocessed`);
      }
    }
    return stored;
  }

  /**
   * Writes the clusters whose conditions changed, or whose item has used half its lifetime (so it never expires
   * under a running updater). Returns the clusters written.
   */
  public async save(
    entries: ReadonlyArray<{ readonly cluster: string; readonly conditions: Conditions }>,
    previous: ReadonlyMap<string, StoredCluster>,
    nowSeconds: number,
  ): Promise<string[]> {
    const due = entries.filter(({ cluster, conditions }) => {
      const before = previous.get(cluster);
      const stale = before?.expiresAt === undefined || before.expiresAt - nowSeconds < this.ttlSeconds / 2;
      return stale || !sameConditions(before.conditions, conditions);
    });
    for (const batch of chunk(due, BATCH_WRITE_MAX)) {
      let requests: WriteRequest[] = batch.map(({ cluster, conditions }) => ({
        PutRequest: {
          Item: {
            cluster: { S: cluster },
            conditions: { S: JSON.stringify(conditions) },
            updatedAt: { S: new Date(nowSeconds * 1000).toISOString() },
            expiresAt: { N: String(nowSeconds + this.ttlSeconds) },
          },
        },
      }));
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
