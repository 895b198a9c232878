/**
 * The updater's state table: the run claim, loading and saving conditions, against the in-memory table.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RUN_ITEM, StateTable, StoredCluster } from '../../lambda/ecs-agent-updater/state';
import { FakeDynamoDb } from '../support/fake-dynamodb';

const NOW = 1_772_000_000;
const TTL = 7 * 86_400;
let table: FakeDynamoDb;
let state: StateTable;

beforeEach(() => {
  table = new FakeDynamoDb({ tableName: 'state', keySchema: { partitionKey: 'cluster' } }).install();
  state = new StateTable(new DynamoDBClient({ region: 'us-east-1' }), 'state', TTL, 1);
});

afterEach(() => {
  table.uninstall();
});

test('claims each scheduled event once, and never an event older than the last one claimed', async () => {
  const t0 = new Date('2026-03-02T08:00:00Z');
  const t1 = new Date('2026-03-02T09:00:00Z');

  const claims = [
    await state.claimRun('a', t0, NOW), await state.claimRun('a', t0, NOW + 30), await state.claimRun('b', t1, NOW + 3600),
    await state.claimRun('a', t0, NOW + 3700),
  ];

  expect(claims).toEqual([true, false, true, false]);
  expect(table.item(RUN_ITEM)).toMatchObject({ lastEventId: { S: 'b' }, lastEventTime: { N: String(t1.getTime()) }, expiresAt: { N: String(NOW + 3600 + TTL) } });
});

test('loads every cluster in batches of 100, retrying unprocessed keys, and ignores expired items', async () => {
  const clusters = Array.from({ length: 150 }, (_, i) => `c${i}`);
  table.putItem({ cluster: { S: 'c1' }, conditions: { S: JSON.stringify({ unhealthy: NOW - 10 }) }, expiresAt: { N: String(NOW + 100) } });
  table.putItem({ cluster: { S: 'c2' }, conditions: { S: JSON.stringify({ unhealthy: NOW - 10 }) }, expiresAt: { N: String(NOW - 1) } });
  table.putItem({ cluster: { S: 'c149' }, conditions: { S: 'not json' }, expiresAt: { N: String(NOW + 100) } });
  table.returnUnprocessed(30);

  const loaded = await state.load(clusters, NOW);

  expect(table.callsTo('BatchGetItem').map((c) => c.input.RequestItems.state.Keys.length)).toEqual([100, 30, 50]);
  expect(loaded.size).toBe(150);
  expect(loaded.get('c1')).toEqual({ conditions: { unhealthy: NOW - 10 }, expiresAt: NOW + 100 });
  expect(loaded.get('c2')).toEqual({ conditions: {} });
  expect(loaded.get('c149')).toEqual({ conditions: {}, expiresAt: NOW + 100 });
});

test('saves only what changed or is half way to expiring, 25 a call', async () => {
  const previous = new Map<string, StoredCluster>([
    ['same', { conditions: { a: 1 }, expiresAt: NOW + TTL }],
    ['changed', { conditions: { a: 1 }, expiresAt: NOW + TTL }],
    ['aging', { conditions: { a: 1 }, expiresAt: NOW + TTL / 2 - 1 }],
    ['new', { conditions: {} }],
  ]);

  const written = await state.save([
    { cluster: 'same', conditions: { a: 1 } },
    { cluster: 'changed', conditions: { a: 1, b: 2 } },
    { cluster: 'aging', conditions: { a: 1 } },
    { cluster: 'new', conditions: {} },
  ], previous, NOW);

  expect(written).toEqual(['changed', 'aging', 'new']);
  expect(table.item('changed')).toEqual({
    cluster: { S: 'changed' }, conditions: { S: '{"a":1,"b":2}' }, updatedAt: { S: new Date(NOW * 1000).toISOString() }, expiresAt: { N: String(NOW + TTL) },
  });
  expect(table.item('same')).toBeUndefined();
});

test('gives up on writes still unprocessed after six attempts', async () => {
  table.returnUnprocessed(100);

  await expect(state.save([{ cluster: 'a', conditions: {} }, { cluster: 'b', conditions: {} }], new Map(), NOW))
    .rejects.toThrow(/state table state: 2 write\(s\) of BatchWriteItem still unprocessed after 6 attempts/);
});
