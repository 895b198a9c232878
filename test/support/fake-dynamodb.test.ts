/**
 * The generic tables of the fake DynamoDB (a table with `keySchema`): requests through the real DynamoDBClient,
 * answered as DynamoDB answers them. (The agent monitor's failure table is exercised by its own store tests.)
 */
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { FakeDynamoDb } from './fake-dynamodb';

const TABLE = 'dedupe';
let table: FakeDynamoDb;
let client: DynamoDBClient;

beforeEach(() => {
  table = new FakeDynamoDb({ tableName: TABLE, keySchema: { partitionKey: 'pk' } }).install();
  client = new DynamoDBClient({ region: 'us-east-1' });
});

afterEach(() => table.uninstall());

const claim = (pk: string, now: number, token = 't1') => client.send(new PutItemCommand({
  TableName: TABLE,
  Item: { pk: { S: pk }, token: { S: token }, expiresAt: { N: String(now + 3600) } },
  ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
  ExpressionAttributeValues: { ':now': { N: String(now) } },
  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
}));

describe('PutItem with a condition', () => {
  test('writes a new item, refuses a live one with the item it found, and replaces an expired one', async () => {
    await claim('event#1', 1000);

    const refused = await claim('event#1', 1001, 't2').catch((e) => e);
    expect(refused).toBeInstanceOf(ConditionalCheckFailedException);
    expect(refused.Item).toEqual({ pk: { S: 'event#1' }, token: { S: 't1' }, expiresAt: { N: '4600' } });

    await claim('event#1', 4600, 't3');
    expect(table.itemByKey({ pk: { S: 'event#1' } })?.token).toEqual({ S: 't3' });
  });

  test('fails as DynamoDB does on an undefined or an unused placeholder, and on a missing key attribute', async () => {
    await expect(client.send(new PutItemCommand({
      TableName: TABLE, Item: { pk: { S: 'a' } }, ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
    }))).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/attribute value: :now/) });
    await expect(client.send(new PutItemCommand({
      TableName: TABLE,
      Item: { pk: { S: 'a' } },
      ConditionExpression: 'attribute_not_exists(pk)',
      ExpressionAttributeValues: { ':now': { N: '1' } },
    }))).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/unused in expressions: keys: \{:now\}/) });
    await expect(client.send(new PutItemCommand({ TableName: TABLE, Item: { id: { S: 'a' } } })))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/Missing the key pk/) });
  });
});

describe('UpdateItem', () => {
  test('SET, ADD to a number and a string set, REMOVE and if_not_exists, returning the new item', async () => {
    table.putItem({ pk: { S: 'e' }, token: { S: 't1' }, leaseUntil: { N: '50' }, delivered: { SS: ['sns#1'] } });

    const out = await client.send(new UpdateItemCommand({
      TableName: TABLE,
      Key: { pk: { S: 'e' } },
      UpdateExpression: 'ADD delivered :channels, #n :one SET firstAt = if_not_exists(firstAt, :now), expiresAt = :exp REMOVE leaseUntil, #token',
      ConditionExpression: '#token = :token',
      ExpressionAttributeNames: { '#token': 'token', '#n': 'count' },
      ExpressionAttributeValues: { ':channels': { SS: ['slack#0'] }, ':one': { N: '1' }, ':now': { N: '100' }, ':exp': { N: '3700' }, ':token': { S: 't1' } },
      ReturnValues: 'ALL_NEW',
    }));

    expect(out.Attributes).toEqual({
      pk: { S: 'e' }, delivered: { SS: ['sns#1', 'slack#0'] }, count: { N: '1' }, firstAt: { N: '100' }, expiresAt: { N: '3700' },
    });
  });

  test('a failed condition changes nothing; a comparison with a missing attribute is false', async () => {
    table.putItem({ pk: { S: 'e' }, expiresAt: { N: '200' } });

    const failed = await client.send(new UpdateItemCommand({
      TableName: TABLE,
      Key: { pk: { S: 'e' } },
      UpdateExpression: 'SET leaseUntil = :lease',
      ConditionExpression: 'expiresAt > :now AND leaseUntil <= :now',
      ExpressionAttributeValues: { ':lease': { N: '160' }, ':now': { N: '100' } },
    })).catch((e) => e);

    expect(failed).toBeInstanceOf(ConditionalCheckFailedException);
    expect(table.itemByKey({ pk: { S: 'e' } })).toEqual({ pk: { S: 'e' }, expiresAt: { N: '200' } });
  });

  test('creates the item from its key when there is none (an upsert)', async () => {
    await client.send(new UpdateItemCommand({
      TableName: TABLE, Key: { pk: { S: 'incident#1' } }, UpdateExpression: 'ADD occurrences :k', ExpressionAttributeValues: { ':k': { N: '3' } },
    }));
    expect(table.itemByKey({ pk: { S: 'incident#1' } })).toEqual({ pk: { S: 'incident#1' }, occurrences: { N: '3' } });
  });

  test('refuses to update a key attribute, a nested path and a <> on a missing attribute (not modelled)', async () => {
    const update = (UpdateExpression: string, ConditionExpression?: string) => client.send(new UpdateItemCommand({
      TableName: TABLE, Key: { pk: { S: 'x' } }, UpdateExpression, ConditionExpression, ExpressionAttributeValues: { ':v': { S: 'v' } },
    }));
    await expect(update('SET pk = :v')).rejects.toMatchObject({ message: expect.stringMatching(/part of the key/) });
    await expect(update('SET a.b = :v')).rejects.toMatchObject({ message: expect.stringMatching(/top-level attributes only/) });
    await expect(update('SET a = :v', 'b <> :v')).rejects.toMatchObject({ message: expect.stringMatching(/does not model "<>"/) });
  });
});

describe('reads and deletes', () => {
  test('BatchGetItem returns the items found, projected; refuses duplicate keys and more than 100', async () => {
    table.putItem({ pk: { S: 'a' }, delivered: { SS: ['slack#0'] }, token: { S: 't' } });
    table.putItem({ pk: { S: 'b' }, token: { S: 't' } });

    const out = await client.send(new BatchGetItemCommand({
      RequestItems: { [TABLE]: { Keys: [{ pk: { S: 'a' } }, { pk: { S: 'c' } }], ProjectionExpression: 'pk, delivered', ConsistentRead: true } },
    }));
    expect(out.Responses![TABLE]).toEqual([{ pk: { S: 'a' }, delivered: { SS: ['slack#0'] } }]);

    await expect(client.send(new BatchGetItemCommand({ RequestItems: { [TABLE]: { Keys: [{ pk: { S: 'a' } }, { pk: { S: 'a' } }] } } })))
      .rejects.toMatchObject({ message: expect.stringMatching(/duplicates/) });
    const many = Array.from({ length: 101 }, (_, i) => ({ pk: { S: `k${i}` } }));
    await expect(client.send(new BatchGetItemCommand({ RequestItems: { [TABLE]: { Keys: many } } })))
      .rejects.toMatchObject({ message: expect.stringMatching(/Too many items/) });
  });

  test('GetItem and a conditional DeleteItem', async () => {
    table.putItem({ pk: { S: 'a' }, token: { S: 'mine' } });

    await expect(client.send(new DeleteItemCommand({
      TableName: TABLE, Key: { pk: { S: 'a' } }, ConditionExpression: '#t = :t', ExpressionAttributeNames: { '#t': 'token' }, ExpressionAttributeValues: { ':t': { S: 'theirs' } },
    }))).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await client.send(new DeleteItemCommand({
      TableName: TABLE, Key: { pk: { S: 'a' } }, ConditionExpression: '#t = :t', ExpressionAttributeNames: { '#t': 'token' }, ExpressionAttributeValues: { ':t': { S: 'mine' } },
    }));

    expect((await client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'a' } } }))).Item).toBeUndefined();
    expect(table.iamRequests().map((r) => r.action)).toEqual(['dynamodb:DeleteItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem']);
  });

  test('an outage fails every call with HTTP 500', async () => {
    table.startOutage({ commands: ['PutItem'] });
    await expect(claim('a', 1)).rejects.toMatchObject({ name: 'InternalServerError' });
    await expect(client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'a' } } }))).resolves.toBeDefined();
  });
});
