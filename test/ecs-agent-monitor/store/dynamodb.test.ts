import { BatchWriteItemCommand, DynamoDBClient, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import 'aws-sdk-client-mock-jest';
import { DynamoDbFailureStore } from '../../../lambda/ecs-agent-monitor/store/dynamodb';
import { FailureStoreIncrementError } from '../../../lambda/ecs-agent-monitor/store/errors';
import { FakeDynamoDb } from '../../support/fake-dynamodb';

const TABLE = 'ecs-agent-monitor-failures';
const CLUSTER = 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod';
const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const NOW_SECONDS = NOW / 1000;
const instance = (i: number): string => `arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/${String(i).padStart(4, '0')}`;

let table: FakeDynamoDb;
let store: DynamoDbFailureStore;
let clock: number;

function storeWith(options: Partial<ConstructorParameters<typeof DynamoDbFailureStore>[0]> = {}): DynamoDbFailureStore {
  return new DynamoDbFailureStore({
    tableName: TABLE,
    ttlSeconds: 3600,
    minIncrementGapSeconds: 150,
    client: new DynamoDBClient({ region: 'eu-west-1' }),
    now: () => clock,
    retryBaseDelayMs: 0,
    ...options,
  });
}

beforeEach(() => {
  clock = NOW;
  table = new FakeDynamoDb({ tableName: TABLE }).install();
  store = storeWith();
});
afterEach(() => {
  table.uninstall();
});

describe('load', () => {
  test('reads every page of the cluster with consistent reads', async () => {
    // Prepare
    table.pageSize = 2;
    for (let i = 1; i <= 5; i++) table.put(CLUSTER, instance(i), i, NOW_SECONDS + 3600);
    table.put('other-cluster', instance(9), 9);
    // Act
    const { counts, detached } = await store.load(CLUSTER);
    // Assess
    expect(counts).toEqual(new Map([1, 2, 3, 4, 5].map((i) => [instance(i), i])));
    expect(detached).toEqual([]);
    expect(table.mock).toHaveReceivedCommandTimes(QueryCommand, 3);
    const calls = table.callsTo('Query');
    expect(calls.every((call) => call.input.ConsistentRead === true)).toBe(true);
    expect(calls[0].input.ExclusiveStartKey).toBeUndefined();
    expect(calls[1].input.ExclusiveStartKey).toEqual({ cluster: { S: CLUSTER }, instance: { S: instance(2) } });
  });

  test('skips items past their TTL that DynamoDB has not deleted yet', async () => {
    table.put(CLUSTER, instance(1), 2, NOW_SECONDS - 1);
    table.put(CLUSTER, instance(2), 1, NOW_SECONDS + 1);
    expect((await store.load(CLUSTER)).counts).toEqual(new Map([[instance(2), 1]]));
  });

  test('an empty cluster is empty, in one call', async () => {
    expect(await store.load(CLUSTER)).toEqual({ counts: new Map(), detached: [] });
    expect(table.mock).toHaveReceivedCommandTimes(QueryCommand, 1);
  });
});

describe('increment', () => {
  test('adds one, stamps the increment and pushes expiresAt to now + TTL', async () => {
    // Prepare
    table.put(CLUSTER, instance(1), 2, NOW_SECONDS + 1000, NOW_SECONDS - 300);
    // Act
    const result = await store.increment(CLUSTER, [instance(1), instance(2), instance(2)]);
    // Assess
    expect(result).toEqual({ counts: new Map([[instance(1), 3], [instance(2), 1]]), alreadyCounted: new Set() });
    expect(table.mock).toHaveReceivedCommandTimes(UpdateItemCommand, 2); // duplicates count once
    expect(table.mock).toHaveReceivedCommandWith(UpdateItemCommand, {
      TableName: TABLE,
      Key: { cluster: { S: CLUSTER }, instance: { S: instance(1) } },
      UpdateExpression: 'ADD failures :one SET updatedAt = :now, expiresAt = :exp, countedAt = :nowSeconds',
      ExpressionAttributeValues: expect.objectContaining({
        ':one': { N: '1' },
        ':now': { S: '2026-03-01T12:00:00.000Z' },
        ':exp': { N: String(NOW_SECONDS + 3600) },
        ':countedBefore': { N: String(NOW_SECONDS - 150) },
      }),
      ReturnValues: 'UPDATED_NEW',
    });
    expect(table.item(CLUSTER, instance(2))).toEqual({
      cluster: { S: CLUSTER },
      instance: { S: instance(2) },
      failures: { N: '1' },
      updatedAt: { S: '2026-03-01T12:00:00.000Z' },
      expiresAt: { N: String(NOW_SECONDS + 3600) },
      countedAt: { N: String(NOW_SECONDS) },
    });
  });

  test('counts an instance at most once per period: a second run within half a period leaves it', async () => {
    // Prepare: a run counted it 2 minutes ago (the gap is 150 s)
    table.put(CLUSTER, instance(1), 1, NOW_SECONDS + 3480, NOW_SECONDS - 120);
    // Act
    const soon = await store.increment(CLUSTER, [instance(1)]);
    clock = NOW + 31_000; // 151 s after that increment
    const later = await store.increment(CLUSTER, [instance(1)]);
    // Assess
    expect(soon).toEqual({ counts: new Map(), alreadyCounted: new Set([instance(1)]) });
    expect(later).toEqual({ counts: new Map([[instance(1), 2]]), alreadyCounted: new Set() });
  });

  test('two runs at once: the count goes up once, and the second run is told another run counted it', async () => {
    const [a, b] = await Promise.all([store.increment(CLUSTER, [instance(1)]), storeWith().increment(CLUSTER, [instance(1)])]);

    expect(table.count(CLUSTER, instance(1))).toBe(1);
    expect([a, b].filter((r) => r.counts.get(instance(1)) === 1 && !r.alreadyCounted.has(instance(1)))).toHaveLength(1);
    expect([a, b].filter((r) => !r.counts.has(instance(1)) && r.alreadyCounted.has(instance(1)))).toHaveLength(1);
  });

  test('the default TTL is 24 hours', async () => {
    await storeWith({ ttlSeconds: undefined }).increment(CLUSTER, [instance(1)]);
    expect(table.expiresAt(CLUSTER, instance(1))).toBe(NOW_SECONDS + 86400);
  });

  test('restarts an expired count at 1 instead of adding to it, even if it was counted recently', async () => {
    table.put(CLUSTER, instance(1), 7, NOW_SECONDS - 60, NOW_SECONDS - 10);
    expect((await store.increment(CLUSTER, [instance(1)])).counts).toEqual(new Map([[instance(1), 1]]));
    expect(table.count(CLUSTER, instance(1))).toBe(1);
    expect(table.mock).toHaveReceivedCommandTimes(UpdateItemCommand, 2);
  });

  test('runs at most 10 updates at once', async () => {
    const instances = Array.from({ length: 35 }, (_, i) => instance(i));
    const { counts } = await store.increment(CLUSTER, instances);
    expect(counts.size).toBe(35);
    expect(table.maxInFlight).toBe(10);
  });

  test('an instance whose update failed is left out and unchanged; the others are confirmed', async () => {
    // Prepare
    table.put(CLUSTER, instance(2), 2);
    table.throttledInstances.add(instance(2));
    // Act
    const { counts, alreadyCounted } = await store.increment(CLUSTER, [instance(1), instance(2), instance(3)]);
    // Assess
    expect(counts).toEqual(new Map([[instance(1), 1], [instance(3), 1]]));
    expect(alreadyCounted.has(instance(2))).toBe(false);
    expect(table.count(CLUSTER, instance(2))).toBe(2);
  });

  test('fails with every cause when no instance could be incremented', async () => {
    // Prepare
    table.throttledInstances.add(instance(1)).add(instance(2));
    // Act
    const error = await store.increment(CLUSTER, [instance(1), instance(2)]).catch((e) => e);
    // Assess
    expect(error).toBeInstanceOf(FailureStoreIncrementError);
    expect(error.message).toMatch(/could not increment any of 2 instance\(s\); first error: Rate exceeded/);
    expect([...error.failures.keys()]).toEqual([instance(1), instance(2)]);
  });

  test('nothing to increment is no call', async () => {
    expect(await store.increment(CLUSTER, [])).toEqual({ counts: new Map(), alreadyCounted: new Set() });
    expect(table.mock).not.toHaveReceivedCommand(UpdateItemCommand);
  });
});

describe('keep (the outage guard\'s freeze)', () => {
  test('pushes a live count\'s expiry forward without adding to it; an expired or cleared one stays as it is', async () => {
    table.put(CLUSTER, instance(1), 2, NOW_SECONDS + 10);
    table.put(CLUSTER, instance(2), 4, NOW_SECONDS - 10);

    await store.keep(CLUSTER, [instance(1), instance(2), instance(3)]);

    expect([table.count(CLUSTER, instance(1)), table.expiresAt(CLUSTER, instance(1))]).toEqual([2, NOW_SECONDS + 3600]);
    expect(table.expiresAt(CLUSTER, instance(2))).toBe(NOW_SECONDS - 10);
    expect(table.item(CLUSTER, instance(3))).toBeUndefined();
  });
});

describe('detached instances', () => {
  test('are remembered in the cluster\'s partition, loaded with the counts, and forgotten', async () => {
    await store.rememberDetached(CLUSTER, { ec2InstanceId: 'i-0123456789abcdef0', group: 'prod-asg', detachedAt: new Date(NOW) });
    table.put(CLUSTER, instance(1), 1, NOW_SECONDS + 100);

    const loaded = await store.load(CLUSTER);
    await store.forgetDetached(CLUSTER, ['i-0123456789abcdef0']);

    expect(loaded).toEqual({
      counts: new Map([[instance(1), 1]]),
      detached: [{ ec2InstanceId: 'i-0123456789abcdef0', group: 'prod-asg', detachedAt: new Date(NOW) }],
    });
    expect((await store.load(CLUSTER)).detached).toEqual([]);
    expect(table.mock).toHaveReceivedCommandTimes(QueryCommand, 2); // no call of its own to load them
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
    const sizes = table.callsTo('BatchWriteItem').map((call) => call.input.RequestItems[TABLE].length);
    expect(sizes.slice(0, 3).sort()).toEqual([10, 25, 25]);
    expect(sizes.slice(3)).toEqual([5]); // the retry carries only the unprocessed ones
    expect((await store.load(CLUSTER)).counts).toEqual(new Map());
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
    expect(table.mock).toHaveReceivedCommandTimes(BatchWriteItemCommand, 6);
  });

  test('nothing to clear is no call', async () => {
    await store.clear(CLUSTER, []);
    expect(table.mock).not.toHaveReceivedCommand(BatchWriteItemCommand);
  });
});

test('fails on a missing table name or a bad TTL', () => {
  expect(() => new DynamoDbFailureStore({ tableName: '' })).toThrow(/tableName is required/);
  expect(() => new DynamoDbFailureStore({ tableName: TABLE, ttlSeconds: 0 })).toThrow(/ttlSeconds must be a positive integer, got 0/);
});
