import {
  AttributeValue,
  BatchWriteItemCommand,
  BatchWriteItemCommandInput,
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  QueryCommand,
  QueryCommandInput,
  UpdateItemCommand,
  UpdateItemCommandInput,
  WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DynamoDbFailureStore } from '../../../lambda/ecs-agent-monitor/store/dynamodb';
import { FailureStoreIncrementError } from '../../../lambda/ecs-agent-monitor/store/errors';

const TABLE = 'ecs-agent-monitor-failures';
const CLUSTER = 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod';
const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const NOW_SECONDS = NOW / 1000;
const instance = (i: number): string => `arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/${String(i).padStart(4, '0')}`;

type Item = Record<string, AttributeValue>;

/**
 * An in-memory table that understands exactly the calls DynamoDbFailureStore makes, and fails loudly on anything else,
 * so a change of request shape breaks these tests.
 */
class FakeFailureTable {
  readonly items = new Map<string, Item>();
  pageSize = 1000;
  /** BatchWriteItem leaves the last N requests of its next calls unprocessed, once per entry. */
  unprocessedPlan: number[] = [];
  /** UpdateItem throttles these instances. */
  readonly failingInstances = new Set<string>();
  inFlight = 0;
  maxInFlight = 0;

  put(cluster: string, instanceArn: string, failures: number, expiresAt = NOW_SECONDS + 3600): void {
    this.items.set(`${cluster}|${instanceArn}`, {
      cluster: { S: cluster },
      instance: { S: instanceArn },
      failures: { N: String(failures) },
      updatedAt: { S: '2026-03-01T11:00:00.000Z' },
      expiresAt: { N: String(expiresAt) },
    });
  }

  count(cluster: string, instanceArn: string): number | undefined {
    const item = this.items.get(`${cluster}|${instanceArn}`);
    return item ? Number(item.failures.N) : undefined;
  }

  query(input: QueryCommandInput) {
    expect(input).toMatchObject({
      TableName: TABLE,
      KeyConditionExpression: '#cluster = :cluster',
      ExpressionAttributeNames: expect.objectContaining({ '#cluster': 'cluster' }),
      ConsistentRead: true,
    });
    const cluster = input.ExpressionAttributeValues![':cluster'].S!;
    const all = [...this.items.values()]
      .filter((item) => item.cluster.S === cluster)
      .sort((a, b) => a.instance.S!.localeCompare(b.instance.S!));
    const start = input.ExclusiveStartKey
      ? all.findIndex((item) => item.instance.S === input.ExclusiveStartKey!.instance.S) + 1
      : 0;
    const page = all.slice(start, start + this.pageSize);
    const last = page[page.length - 1];
    return {
      Items: page.map((item) => ({ instance: item.instance, failures: item.failures, expiresAt: item.expiresAt })),
      LastEvaluatedKey: start + this.pageSize < all.length ? { cluster: last.cluster, instance: last.instance } : undefined,
    };
  }

  async updateItem(input: UpdateItemCommandInput) {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((resolve) => setImmediate(resolve));
      expect(input.TableName).toBe(TABLE);
      expect(Object.keys(input.Key!).sort()).toEqual(['cluster', 'instance']);
      expect(input.ReturnValues).toBe('UPDATED_NEW');
      const cluster = input.Key!.cluster.S!;
      const instanceArn = input.Key!.instance.S!;
      if (this.failingInstances.has(instanceArn)) {
        throw new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} });
      }
      const values = input.ExpressionAttributeValues!;
      const key = `${cluster}|${instanceArn}`;
      const item = this.items.get(key);
      const expired = item?.expiresAt !== undefined && Number(item.expiresAt.N) <= Number(values[':nowSeconds'].N);
      let failures: number;
      if (input.UpdateExpression === 'ADD failures :one SET updatedAt = :now, expiresAt = :exp') {
        expect(input.ConditionExpression).toBe('attribute_not_exists(expiresAt) OR expiresAt > :nowSeconds');
        if (item && expired) {
          throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
        }
        failures = (item ? Number(item.failures.N) : 0) + Number(values[':one'].N);
      } else if (input.UpdateExpression === 'SET failures = :one, updatedAt = :now, expiresAt = :exp') {
        expect(input.ConditionExpression).toBe('expiresAt <= :nowSeconds');
        if (!item || !expired) {
          throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
        }
        failures = Number(values[':one'].N);
      } else {
        throw new Error(`fake table: unexpected UpdateExpression ${input.UpdateExpression}`);
      }
      const updated: Item = {
        cluster: { S: cluster },
        instance: { S: instanceArn },
        failures: { N: String(failures) },
        updatedAt: values[':now'],
        expiresAt: values[':exp'],
      };
      this.items.set(key, updated);
      return { Attributes: { failures: updated.failures, updatedAt: updated.updatedAt, expiresAt: updated.expiresAt } };
    } finally {
      this.inFlight--;
    }
  }

  batchWriteItem(input: BatchWriteItemCommandInput) {
    expect(Object.keys(input.RequestItems!)).toEqual([TABLE]);
    const requests = input.RequestItems![TABLE];
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.length).toBeLessThanOrEqual(25);
    const unprocessedCount = this.unprocessedPlan.shift() ?? 0;
    const processed = requests.slice(0, requests.length - unprocessedCount);
    const unprocessed: WriteRequest[] = requests.slice(requests.length - unprocessedCount);
    for (const request of processed) {
      const key = request.DeleteRequest!.Key!;
      expect(Object.keys(key).sort()).toEqual(['cluster', 'instance']);
      this.items.delete(`${key.cluster.S}|${key.instance.S}`);
    }
    return { UnprocessedItems: unprocessed.length ? { [TABLE]: unprocessed } : {} };
  }
}

const ddb = mockClient(DynamoDBClient);
let table: FakeFailureTable;
let store: DynamoDbFailureStore;

beforeEach(() => {
  table = new FakeFailureTable();
  ddb.on(QueryCommand).callsFake((input) => table.query(input));
  ddb.on(UpdateItemCommand).callsFake((input) => table.updateItem(input));
  ddb.on(BatchWriteItemCommand).callsFake((input) => table.batchWriteItem(input));
  store = new DynamoDbFailureStore({
    tableName: TABLE, ttlSeconds: 3600, client: new DynamoDBClient({ region: 'eu-west-1' }), now: () => NOW, retryBaseDelayMs: 0,
  });
});
afterEach(() => {
  ddb.reset();
});

describe('load', () => {
  test('reads every page of the cluster with consistent reads', async () => {
    // Prepare
    table.pageSize = 2;
    for (let i = 1; i <= 5; i++) table.put(CLUSTER, instance(i), i);
    table.put('other-cluster', instance(9), 9);
    // Act
    const counts = await store.load(CLUSTER);
    // Assess
    expect(counts).toEqual(new Map([1, 2, 3, 4, 5].map((i) => [instance(i), i])));
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, 3);
    const calls = ddb.commandCalls(QueryCommand);
    expect(calls.every((call) => call.args[0].input.ConsistentRead === true)).toBe(true);
    expect(calls[0].args[0].input.ExclusiveStartKey).toBeUndefined();
    expect(calls[1].args[0].input.ExclusiveStartKey).toEqual({ cluster: { S: CLUSTER }, instance: { S: instance(2) } });
    expect(calls[2].args[0].input.ExclusiveStartKey).toEqual({ cluster: { S: CLUSTER }, instance: { S: instance(4) } });
  });

  test('skips items past their TTL that DynamoDB has not deleted yet', async () => {
    table.put(CLUSTER, instance(1), 2, NOW_SECONDS - 1);
    table.put(CLUSTER, instance(2), 1, NOW_SECONDS + 1);
    expect(await store.load(CLUSTER)).toEqual(new Map([[instance(2), 1]]));
  });

  test('an empty cluster is an empty map', async () => {
    expect(await store.load(CLUSTER)).toEqual(new Map());
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, 1);
  });
});

describe('increment', () => {
  test('adds one, sets updatedAt and pushes expiresAt to now + TTL', async () => {
    // Prepare
    table.put(CLUSTER, instance(1), 2);
    // Act
    const counts = await store.increment(CLUSTER, [instance(1), instance(2), instance(2)]);
    // Assess
    expect(counts).toEqual(new Map([[instance(1), 3], [instance(2), 1]]));
    expect(ddb).toHaveReceivedCommandTimes(UpdateItemCommand, 2); // duplicates count once
    expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, {
      TableName: TABLE,
      Key: { cluster: { S: CLUSTER }, instance: { S: instance(1) } },
      UpdateExpression: 'ADD failures :one SET updatedAt = :now, expiresAt = :exp',
      ExpressionAttributeValues: expect.objectContaining({
        ':one': { N: '1' },
        ':now': { S: '2026-03-01T12:00:00.000Z' },
        ':exp': { N: String(NOW_SECONDS + 3600) },
      }),
      ReturnValues: 'UPDATED_NEW',
    });
    expect(table.items.get(`${CLUSTER}|${instance(2)}`)).toEqual({
      cluster: { S: CLUSTER },
      instance: { S: instance(2) },
      failures: { N: '1' },
      updatedAt: { S: '2026-03-01T12:00:00.000Z' },
      expiresAt: { N: String(NOW_SECONDS + 3600) },
    });
  });

  test('the default TTL is 24 hours', async () => {
    const defaults = new DynamoDbFailureStore({ tableName: TABLE, client: new DynamoDBClient({ region: 'eu-west-1' }), now: () => NOW });
    await defaults.increment(CLUSTER, [instance(1)]);
    expect(table.items.get(`${CLUSTER}|${instance(1)}`)?.expiresAt).toEqual({ N: String(NOW_SECONDS + 86400) });
  });

  test('restarts an expired count at 1 instead of adding to it', async () => {
    table.put(CLUSTER, instance(1), 7, NOW_SECONDS - 60);
    expect(await store.increment(CLUSTER, [instance(1)])).toEqual(new Map([[instance(1), 1]]));
    expect(table.count(CLUSTER, instance(1))).toBe(1);
    expect(ddb).toHaveReceivedCommandTimes(UpdateItemCommand, 2);
  });

  test('runs at most 10 updates at once', async () => {
    const instances = Array.from({ length: 35 }, (_, i) => instance(i));
    const counts = await store.increment(CLUSTER, instances);
    expect(counts.size).toBe(35);
    expect(table.maxInFlight).toBe(10);
  });

  test('an instance whose update failed is left out and unchanged; the others are confirmed', async () => {
    // Prepare
    table.put(CLUSTER, instance(2), 2);
    table.failingInstances.add(instance(2));
    // Act
    const counts = await store.increment(CLUSTER, [instance(1), instance(2), instance(3)]);
    // Assess
    expect(counts).toEqual(new Map([[instance(1), 1], [instance(3), 1]]));
    expect(counts.has(instance(2))).toBe(false);
    expect(table.count(CLUSTER, instance(2))).toBe(2);
  });

  test('fails with every cause when no instance could be incremented', async () => {
    // Prepare
    table.failingInstances.add(instance(1)).add(instance(2));
    // Act
    const error = await store.increment(CLUSTER, [instance(1), instance(2)]).catch((e) => e);
    // Assess
    expect(error).toBeInstanceOf(FailureStoreIncrementError);
    expect(error.message).toMatch(/could not increment any of 2 instance\(s\); first error: Rate exceeded/);
    expect([...error.failures.keys()]).toEqual([instance(1), instance(2)]);
  });

  test('nothing to increment is no call', async () => {
    expect(await store.increment(CLUSTER, [])).toEqual(new Map());
    expect(ddb).not.toHaveReceivedCommand(UpdateItemCommand);
  });
});

describe('clear', () => {
  test('deletes in chunks of 25 and retries unprocessed items', async () => {
    // Prepare
    const instances = Array.from({ length: 60 }, (_, i) => instance(i));
    instances.forEach((arn) => table.put(CLUSTER, arn, 1));
    table.put('other-cluster', instance(0), 1);
    table.unprocessedPlan = [5];
    // Act
    await store.clear(CLUSTER, instances);
    // Assess
    const sizes = ddb.commandCalls(BatchWriteItemCommand).map((call) => call.args[0].input.RequestItems![TABLE].length);
    expect(sizes.slice(0, 3).sort()).toEqual([10, 25, 25]);
    expect(sizes.slice(3)).toEqual([5]); // the retry carries only the unprocessed ones
    expect(await store.load(CLUSTER)).toEqual(new Map());
    expect(table.count('other-cluster', instance(0))).toBe(1);
  });

  test('gives up after a bounded number of attempts, naming what is left', async () => {
    // Prepare
    table.put(CLUSTER, instance(1), 1);
    table.unprocessedPlan = Array(100).fill(1);
    // Act
    const act = store.clear(CLUSTER, [instance(1)]);
    // Assess
    await expect(act).rejects.toThrow(/could not clear 1 of 1 batch\(es\); first error: 1 delete\(s\) still unprocessed after 6 BatchWriteItem attempts/);
    expect(ddb).toHaveReceivedCommandTimes(BatchWriteItemCommand, 6);
  });

  test('nothing to clear is no call', async () => {
    await store.clear(CLUSTER, []);
    expect(ddb).not.toHaveReceivedCommand(BatchWriteItemCommand);
  });
});

test('fails on a missing table name or a bad TTL', () => {
  expect(() => new DynamoDbFailureStore({ tableName: '' })).toThrow(/tableName is required/);
  expect(() => new DynamoDbFailureStore({ tableName: TABLE, ttlSeconds: 0 })).toThrow(/ttlSeconds must be a positive integer, got 0/);
});
