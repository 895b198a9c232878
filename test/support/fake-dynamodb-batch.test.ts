/**
 * The batch calls of the fake DynamoDB's generic tables (here one keyed by a partition key alone, as the agent
 * updater's state table): they behave as DynamoDB documents them, and requests it does not model fail loudly.
 */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { FakeDynamoDb } from './fake-dynamodb';

const TABLE = 'state';
let table: FakeDynamoDb;
const client = new DynamoDBClient({ region: 'us-east-1' });

beforeEach(() => {
  table = new FakeDynamoDb({ tableName: TABLE, keySchema: { partitionKey: 'cluster' } }).install();
});

afterEach(() => {
  table.uninstall();
});

async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to reject');
}

describe('BatchGetItem and BatchWriteItem', () => {
  test('writes items with PutRequests and reads them back, leaving out keys without an item', async () => {
    await client.send(new BatchWriteItemCommand({
      RequestItems: { [TABLE]: ['a', 'b'].map((c) => ({ PutRequest: { Item: { cluster: { S: c }, v: { S: `value ${c}` } } } })) },
    }));

    const out = await client.send(new BatchGetItemCommand({
      RequestItems: { [TABLE]: { Keys: ['a', 'b', 'c'].map((c) => ({ cluster: { S: c } })), ConsistentRead: true } },
    }));

    expect(out.Responses![TABLE]).toEqual([
      { cluster: { S: 'a' }, v: { S: 'value a' } },
      { cluster: { S: 'b' }, v: { S: 'value b' } },
    ]);
    expect(out.UnprocessedKeys).toEqual({});
  });

  test('leaves requests unprocessed when asked, as DynamoDB does under load', async () => {
    table.returnUnprocessed(2);
    const write = await client.send(new BatchWriteItemCommand({
      RequestItems: { [TABLE]: ['a', 'b', 'c'].map((c) => ({ PutRequest: { Item: { cluster: { S: c } } } })) },
    }));
    expect(write.UnprocessedItems![TABLE].map((r) => r.PutRequest!.Item!.cluster.S)).toEqual(['b', 'c']);
    expect(table.item('b')).toBeUndefined();

    table.returnUnprocessed(1);
    const read = await client.send(new BatchGetItemCommand({
      RequestItems: { [TABLE]: { Keys: [{ cluster: { S: 'a' } }, { cluster: { S: 'x' } }], ConsistentRead: true } },
    }));
    expect(read.Responses![TABLE]).toEqual([{ cluster: { S: 'a' } }]);
    expect(read.UnprocessedKeys).toEqual({ [TABLE]: { Keys: [{ cluster: { S: 'x' } }], ConsistentRead: true } });
  });

  test('fails BatchGetItem above 100 keys or with a repeated key', async () => {
    const keys = (n: number) => Array.from({ length: n }, (_, i) => ({ cluster: { S: `c${i}` } }));
    expect(await rejection(client.send(new BatchGetItemCommand({ RequestItems: { [TABLE]: { Keys: keys(101) } } }))))
      .toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/1 to 100 keys/) });
    expect(await rejection(client.send(new BatchGetItemCommand({ RequestItems: { [TABLE]: { Keys: [...keys(1), ...keys(1)] } } }))))
      .toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/contains duplicates/) });
  });

  test('fails on an unknown table or a request without the table\'s key', async () => {
    expect(await rejection(client.send(new BatchGetItemCommand({ RequestItems: { other: { Keys: [{ cluster: { S: 'x' } }] } } }))))
      .toBeInstanceOf(ResourceNotFoundException);
    expect(await rejection(client.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: [{ PutRequest: { Item: { name: { S: 'x' } } } }] } }))))
      .toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/Missing the key cluster/) });
  });

  test('fails BatchWriteItem above 25 requests or with two requests on one key, before writing any', async () => {
    const puts = (n: number) => Array.from({ length: n }, (_, i) => ({ PutRequest: { Item: { cluster: { S: `c${i}` } } } }));
    expect(await rejection(client.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: puts(26) } }))))
      .toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/1 to 25 requests/) });
    expect(await rejection(client.send(new BatchWriteItemCommand({
      RequestItems: { [TABLE]: [...puts(2), { DeleteRequest: { Key: { cluster: { S: 'c0' } } } }] },
    })))).toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/contains duplicates/) });
    expect(table.item('c1')).toBeUndefined();
  });

  test('records every call for the IAM proof', async () => {
    await client.send(new BatchGetItemCommand({ RequestItems: { [TABLE]: { Keys: [{ cluster: { S: 'a' } }] } } }));

    expect(table.iamRequests()).toEqual([{ action: 'dynamodb:BatchGetItem', resource: `arn:aws:dynamodb:us-east-1:123456789012:table/${TABLE}` }]);
  });
});

test('the failure table of the agent monitor keeps its shape', async () => {
  const failures = new FakeDynamoDb();
  table.uninstall();
  failures.install();
  try {
    failures.put('prod', 'arn:instance', 2);
    await client.send(new BatchWriteItemCommand({
      RequestItems: { [failures.tableName]: [{ DeleteRequest: { Key: { cluster: { S: 'prod' }, instance: { S: 'arn:instance' } } } }] },
    }));
    expect(failures.count('prod', 'arn:instance')).toBeUndefined();
  } finally {
    failures.uninstall();
  }
});
