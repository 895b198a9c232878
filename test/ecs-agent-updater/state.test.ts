/**
 * The updater's state table: the last scheduled event run, loading and saving conditions, against the in-memory table.
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

test('remembers the last scheduled event run, read back with the clusters in one call', async () => {
  const eventTime = Date.parse('2026-03-02T08:00:00Z');

  await state.save([], new Map(), NOW, { eventId: 'a', eventTime });
  const loaded = await state.load(['prod'], NOW + 60, true);
  const withoutRun = await state.load(['prod'], NOW + 60);

  expect(table.item(RUN_ITEM)).toMatchObject({ lastEventId: { S: 'a' }, lastEventTime: { N: String(eventTime) }, expiresAt: { N: String(NOW + TTL) } });
  expect(loaded).toEqual({ lastRun: { eventId: 'a', eventTime }, clusters: new Map([['prod', { conditions: {} }]]) });
  expect(table.callsTo('BatchGetItem')[0].input.RequestItems.state.Keys).toEqual([{ cluster: { S: RUN_ITEM } }, { cluster: { S: 'prod' } }]);
  expect(withoutRun.lastRun).toBeUndefined();
});

test('loads every cluster in batches of 100, retrying unprocessed keys, and ignores expired items', async () => {
  const clusters = Array.from({ length: 150 }, (_, i) => `c${i}`);
  table.putItem({ cluster: { S: 'c1' }, conditions: { S: JSON.stringify({ unhealthy: NOW - 10 }) }, expiresAt: { N: String(NOW + 100) } });
  table.putItem({ cluster: { S: 'c2' }, conditions: { S: JSON.stringify({ unhealthy: NOW - 10 }) }, expiresAt: { N: String(NOW - 1) } });
  table.putItem({ cluster: { S: 'c149' }, conditions: { S: 'not json' }, expiresAt: { N: String(NOW + 100) } });
  table.returnUnprocessed(30);

  const { clusters: loaded } = await state.load(clusters, NOW);

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
  expect(table.item(RUN_ITEM)).toBeUndefined();
});

test('gives up on writes still unprocessed after six attempts', async () => {
  table.returnUnprocessed(100);

  await expect(state.save([{ cluster: 'a', conditions: {} }, { cluster: 'b', conditions: {} }], new Map(), NOW))
    .rejects.toThrow(/state table state: 2 write\(s\) of BatchWriteItem still unprocessed after 6 attempts/);
});
