import {
  AttributeValue,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  QueryCommand,
  UpdateItemCommand,
  WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { chunk, distinct, errorMessage, settleWithConcurrency } from './concurrency';
import { FailureStoreIncrementError } from './errors';
import { DEFAULT_FAILURE_TTL_SECONDS, DETACHED_TTL_SECONDS, DetachedInstance, FailureStore, IncrementResult, StoredCluster } from './types';
import { clientConfig } from '../../common/aws';
import { logger } from '../../common/powertools';

export { DEFAULT_FAILURE_TTL_SECONDS };

/** Sort key prefix of the items that remember a detached instance (counts are keyed by container instance ARN). */
const DETACHED_PREFIX = 'detached#';

/** `incrementOne`'s answer for a count another run incremented this period. */
const ALREADY_COUNTED = 'already-counted' as const;

/** BatchWriteItem accepts at most 25 requests. */
const BATCH_WRITE_MAX = 25;

const defaultClient = new DynamoDBClient(clientConfig());

/** Options of {@link DynamoDbFailureStore}. */
export interface DynamoDbFailureStoreOptions {
  /** Table with partition key `cluster` (S), sort key `instance` (S) and TTL attribute `expiresAt`. */
  readonly tableName: string;
  /** Seconds after the last increment at which a count expires. @default 86400 (24 h) */
  readonly ttlSeconds?: number;
  /** Least time between two increments of one count: half the schedule period. @default 0 (no limit) */
  readonly minIncrementGapSeconds?: number;
  /** @default - a module-scope client with the library's timeouts and budget-bounded retries (`clientConfig()`) */
  readonly client?: DynamoDBClient;
  /** UpdateItem calls in flight at once during `increment`. @default 10 */
  readonly concurrency?: number;
  /** Attempts of one BatchWriteItem chunk while it returns `UnprocessedItems`. @default 6 */
  readonly maxBatchAttempts?: number;
  /** First backoff delay before retrying `UnprocessedItems`, doubled (with full jitter) each attempt. @default 50 */
  readonly retryBaseDelayMs?: number;
  /** Clock, for tests. @default Date.now */
  readonly now?: () => number;
}

/**
 * Failure counts in a DynamoDB table: one item per (cluster, container instance ARN).
 *
 * Item: `cluster` (S, partition key), `instance` (S, sort key), `failures` (N), `updatedAt` (S, ISO 8601)
 * and `expiresAt` (N, epoch seconds, the table's TTL attribute, pushed to now + `ttlSeconds` on every increment).
 *
 * DynamoDB deletes expired items lazily (usually within a few days), so this store also treats an item whose
 * `expiresAt` has passed as absent: `load` skips it and `increment` restarts it at 1 instead of adding to it.
 *
 * `increment` returns partial results: an instance whose UpdateItem failed is logged and left out of the
 * returned map (so the caller acts on nothing for it); only when every update failed does it throw a
 * {@link FailureStoreIncrementError}. A timed-out update may still have been applied: the count is then one
 * higher than confirmed, which at worst brings a replacement one check forward for an instance that is
 * disconnected anyway.
 */
export class DynamoDbFailureStore implements FailureStore {
  private readonly tableName: string;
  private readonly ttlSeconds: number;
  private readonly minIncrementGapSeconds: number;
  private readonly client: DynamoDBClient;
  private readonly concurrency: number;
  private readonly maxBatchAttempts: number;
  private readonly retryBaseDelayMs: number;
  private readonly now: () => number;

  constructor(options: DynamoDbFailureStoreOptions) {
    if (!options.tableName) {
      throw new Error('DynamoDbFailureStore: tableName is required');
    }
    this.tableName = options.tableName;
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_FAILURE_TTL_SECONDS;
    if (!Number.isInteger(this.ttlSeconds) || this.ttlSeconds < 1) {
      throw new Error(`DynamoDbFailureStore: ttlSeconds must be a positive integer, got ${options.ttlSeconds}`);
    }
    this.minIncrementGapSeconds = options.minIncrementGapSeconds ?? 0;
    this.client = options.client ?? defaultClient;
    this.concurrency = options.concurrency ?? 10;
    this.maxBatchAttempts = options.maxBatchAttempts ?? 6;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 50;
    this.now = options.now ?? Date.now;
  }

  public async load(cluster: string): Promise<StoredCluster> {
    const nowSeconds = this.nowSeconds();
    const counts = new Map<string, number>();
    const detached: DetachedInstance[] = [];
    let exclusiveStartKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#cluster = :cluster',
        ProjectionExpression: '#instance, #failures, #expiresAt, #group, #detachedAt',
        ExpressionAttributeNames: {
          '#cluster': 'cluster',
          '#instance': 'instance',
          '#failures': 'failures',
          '#expiresAt': 'expiresAt',
          '#group': 'group',
          '#detachedAt': 'detachedAt',
        },
        ExpressionAttributeValues: { ':cluster': { S: cluster } },
        ConsistentRead: true,
        ExclusiveStartKey: exclusiveStartKey,
      }));
      for (const item of page.Items ?? []) {
        const instance = item.instance?.S;
        const expiresAt = item.expiresAt?.N === undefined ? undefined : Number(item.expiresAt.N);
        if (expiresAt !== undefined && expiresAt <= nowSeconds) {
          continue; // expired, not yet deleted by DynamoDB TTL
        }
        if (instance?.startsWith(DETACHED_PREFIX)) {
          detached.push({
            ec2InstanceId: instance.slice(DETACHED_PREFIX.length),
            group: item.group?.S ?? '',
            detachedAt: new Date(item.detachedAt?.S ?? 0),
          });
          continue;
        }
        const failures = Number(item.failures?.N);
        if (!instance || !Number.isInteger(failures) || failures <= 0) {
          logger.warn('Ignoring a malformed failure count item', { table: this.tableName, cluster, instance });
          continue;
        }
        counts.set(instance, failures);
      }
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey);
    return { counts, detached };
  }

  public async increment(cluster: string, instanceArns: readonly string[]): Promise<IncrementResult> {
    const instances = distinct(instanceArns);
    const settled = await settleWithConcurrency(instances, this.concurrency, (instance) => this.incrementOne(cluster, instance));
    const counts = new Map<string, number>();
    const alreadyCounted = new Set<string>();
    const failures = new Map<string, unknown>();
    settled.forEach((result, index) => {
      const instance = instances[index];
      if (result.status === 'rejected') {
        failures.set(instance, result.reason);
        logger.error('Could not increment the failure count; the instance is left unconfirmed', {
          table: this.tableName, cluster, instance, error: errorMessage(result.reason),
        });
      } else if (result.value === ALREADY_COUNTED) {
        alreadyCounted.add(instance);
      } else {
        counts.set(instance, result.value);
      }
    });
    if (alreadyCounted.size > 0) {
      logger.info('Counts already incremented this period by another run; not incremented again', {
        table: this.tableName, cluster, instances: [...alreadyCounted],
      });
    }
    if (instances.length > 0 && failures.size === instances.length) {
      throw new FailureStoreIncrementError(`DynamoDB table ${this.tableName}, cluster ${cluster}`, failures);
    }
    return { counts, alreadyCounted };
  }

  public async keep(cluster: string, instanceArns: readonly string[]): Promise<void> {
    const nowSeconds = this.nowSeconds();
    const settled = await settleWithConcurrency(distinct(instanceArns), this.concurrency, async (instance) => {
      try {
        await this.client.send(new UpdateItemCommand({
          TableName: this.tableName,
          Key: { cluster: { S: cluster }, instance: { S: instance } },
          UpdateExpression: 'SET expiresAt = :exp',
          ConditionExpression: 'attribute_exists(failures) AND expiresAt > :nowSeconds',
          ExpressionAttributeValues: { ':exp': { N: String(nowSeconds + this.ttlSeconds) }, ':nowSeconds': { N: String(nowSeconds) } },
          ReturnValues: 'UPDATED_NEW',
        }));
      } catch (err) {
        // A count that expired or was cleared meanwhile has nothing to keep.
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
    });
    const errors = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    if (errors.length > 0) {
      throw new AggregateError(errors, `failure store (DynamoDB table ${this.tableName}, cluster ${cluster}): could not keep `
        + `${errors.length} count(s) through the outage; first error: ${errorMessage(errors[0])}`);
    }
  }

  public async rememberDetached(cluster: string, instance: DetachedInstance): Promise<void> {
    await this.client.send(new UpdateItemCommand({
      TableName: this.tableName,
      Key: { cluster: { S: cluster }, instance: { S: DETACHED_PREFIX + instance.ec2InstanceId } },
      UpdateExpression: 'SET #group = :group, detachedAt = :detachedAt, expiresAt = :exp',
      ExpressionAttributeNames: { '#group': 'group' },
      ExpressionAttributeValues: {
        ':group': { S: instance.group },
        ':detachedAt': { S: instance.detachedAt.toISOString() },
        ':exp': { N: String(this.nowSeconds() + DETACHED_TTL_SECONDS) },
      },
      ReturnValues: 'UPDATED_NEW',
    }));
  }

  public async forgetDetached(cluster: string, ec2InstanceIds: readonly string[]): Promise<void> {
    await this.clear(cluster, ec2InstanceIds.map((id) => DETACHED_PREFIX + id));
  }

  public async clear(cluster: string, instanceArns: readonly string[]): Promise<void> {
    const chunks = chunk(distinct(instanceArns), BATCH_WRITE_MAX);
    const settled = await settleWithConcurrency(chunks, 4, (instances) => this.deleteChunk(cluster, instances));
    const errors = settled.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    if (errors.length > 0) {
      throw new AggregateError(errors,
        `failure store (DynamoDB table ${this.tableName}, cluster ${cluster}): could not clear ${errors.length} ` +
        `of ${chunks.length} batch(es); first error: ${errorMessage(errors[0])}`);
    }
  }

  public async close(): Promise<void> {
    // Nothing to release: the client is shared for the container's life.
  }

  /**
   * Add one to a live count that was not incremented in the last `minIncrementGapSeconds`, or restart an expired
   * one at 1. Returns the new count, or ALREADY_COUNTED when the count is live and was incremented too recently.
   */
  private async incrementOne(cluster: string, instance: string): Promise<number | typeof ALREADY_COUNTED> {
    const key = { cluster: { S: cluster }, instance: { S: instance } };
    const nowMs = this.now();
    const nowSeconds = Math.floor(nowMs / 1000);
    const values = {
      ':one': { N: '1' },
      ':now': { S: new Date(nowMs).toISOString() },
      ':exp': { N: String(nowSeconds + this.ttlSeconds) },
      ':nowSeconds': { N: String(nowSeconds) },
    };
    try {
      const added = await this.client.send(new UpdateItemCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: 'ADD failures :one SET updatedAt = :now, expiresAt = :exp, countedAt = :nowSeconds',
        ConditionExpression: '(attribute_not_exists(expiresAt) OR expiresAt > :nowSeconds) '
          + 'AND (attribute_not_exists(countedAt) OR countedAt <= :countedBefore)',
        ExpressionAttributeValues: { ...values, ':countedBefore': { N: String(nowSeconds - this.minIncrementGapSeconds) } },
        ReturnValues: 'UPDATED_NEW',
      }));
      return parseCount(added.Attributes);
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) {
        throw err;
      }
    }
    // The item exists and is expired (restart it), or is live and was counted too recently (leave it).
    try {
      const restarted = await this.client.send(new UpdateItemCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: 'SET failures = :one, updatedAt = :now, expiresAt = :exp, countedAt = :nowSeconds',
        ConditionExpression: 'attribute_exists(expiresAt) AND expiresAt <= :nowSeconds',
        ExpressionAttributeValues: values,
        ReturnValues: 'UPDATED_NEW',
      }));
      return parseCount(restarted.Attributes);
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) {
        throw err;
      }
    }
    return ALREADY_COUNTED;
  }

  private async deleteChunk(cluster: string, instances: readonly string[]): Promise<void> {
    let pending: WriteRequest[] = instances.map((instance) => ({
      DeleteRequest: { Key: { cluster: { S: cluster }, instance: { S: instance } } },
    }));
    for (let attempt = 1; ; attempt++) {
      const result = await this.client.send(new BatchWriteItemCommand({
        RequestItems: { [this.tableName]: pending },
      }));
      pending = result.UnprocessedItems?.[this.tableName] ?? [];
      if (pending.length === 0) {
        return;
      }
      if (attempt >= this.maxBatchAttempts) {
        throw new Error(`${pending.length} delete(s) still unprocessed after ${attempt} BatchWriteItem attempts`);
      }
      // Exponential backoff with full jitter.
      await sleep(Math.random() * this.retryBaseDelayMs * 2 ** (attempt - 1));
    }
  }

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }
}

function parseCount(attributes: Record<string, AttributeValue> | undefined): number {
  const count = Number(attributes?.failures?.N);
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`UpdateItem returned no valid failures count: ${JSON.stringify(attributes?.failures)}`);
  }
  return count;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
