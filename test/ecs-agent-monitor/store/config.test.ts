import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { createFailureStore, parseFailureStoreConfig } from '../../../lambda/ecs-agent-monitor/store';
import { DynamoDbFailureStore } from '../../../lambda/ecs-agent-monitor/store/dynamodb';
import { RedisFailureStore } from '../../../lambda/ecs-agent-monitor/store/redis';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redis-auth-AbCdEf';

describe('parseFailureStoreConfig', () => {
  test('dynamodb', () => {
    expect(parseFailureStoreConfig({ FAILURE_STORE: 'dynamodb', FAILURE_TABLE_NAME: 'counts' }))
      .toEqual({ kind: 'dynamodb', tableName: 'counts', ttlSeconds: undefined });
    expect(parseFailureStoreConfig({ FAILURE_STORE: 'dynamodb', FAILURE_TABLE_NAME: 'counts', FAILURE_TTL_SECONDS: '7200' }))
      .toEqual({ kind: 'dynamodb', tableName: 'counts', ttlSeconds: 7200 });
  });

  test('redis with every variable', () => {
    expect(parseFailureStoreConfig({
      FAILURE_STORE: 'redis',
      REDIS_HOST: 'redis.internal',
      REDIS_PORT: '6380',
      REDIS_TLS: 'true',
      REDIS_AUTH_SECRET_ARN: SECRET_ARN,
      REDIS_USERNAME: 'monitor',
      REDIS_KEY_PREFIX: 'agent',
      FAILURE_TTL_SECONDS: '600',
    })).toEqual({
      kind: 'redis',
      host: 'redis.internal',
      port: 6380,
      replicationGroupId: undefined,
      tls: true,
      authSecretArn: SECRET_ARN,
      username: 'monitor',
      keyPrefix: 'agent',
      ttlSeconds: 600,
    });
  });

  test('redis by replication group, defaults left unset', () => {
    expect(parseFailureStoreConfig({ FAILURE_STORE: 'redis', REDIS_REPLICATION_GROUP_ID: 'rg', REDIS_TLS: 'false', REDIS_PORT: '' }))
      .toEqual({
        kind: 'redis',
        replicationGroupId: 'rg',
        tls: false,
        host: undefined,
        port: undefined,
        authSecretArn: undefined,
        username: undefined,
        keyPrefix: undefined,
        ttlSeconds: undefined,
      });
  });

  test('fails naming FAILURE_STORE when it is missing or unknown', () => {
    expect(() => parseFailureStoreConfig({})).toThrow(/FAILURE_STORE must be "dynamodb" or "redis", got undefined/);
    expect(() => parseFailureStoreConfig({ FAILURE_STORE: 'mysql' })).toThrow(/FAILURE_STORE must be "dynamodb" or "redis", got "mysql"/);
  });

  test('fails naming FAILURE_TABLE_NAME', () => {
    expect(() => parseFailureStoreConfig({ FAILURE_STORE: 'dynamodb', FAILURE_TABLE_NAME: ' ' }))
      .toThrow(/FAILURE_TABLE_NAME is required when FAILURE_STORE is dynamodb, got " "/);
  });

  test('fails naming the Redis endpoint variables', () => {
    expect(() => parseFailureStoreConfig({ FAILURE_STORE: 'redis' }))
      .toThrow(/REDIS_HOST or REDIS_REPLICATION_GROUP_ID is required when FAILURE_STORE is redis, got neither/);
    expect(() => parseFailureStoreConfig({ FAILURE_STORE: 'redis', REDIS_HOST: 'h', REDIS_REPLICATION_GROUP_ID: 'rg' }))
      .toThrow(/REDIS_HOST \("h"\) and REDIS_REPLICATION_GROUP_ID \("rg"\) are mutually exclusive/);
  });

  test.each([
    ['REDIS_PORT', 'abc', /REDIS_PORT must be an integer from 1 to 65535, got "abc"/],
    ['REDIS_PORT', '70000', /REDIS_PORT must be an integer from 1 to 65535, got "70000"/],
    ['REDIS_PORT', '-1', /REDIS_PORT must be an integer from 1 to 65535, got "-1"/],
    ['REDIS_TLS', 'yes', /REDIS_TLS must be "true" or "false", got "yes"/],
    ['REDIS_AUTH_SECRET_ARN', 'my-secret', /REDIS_AUTH_SECRET_ARN must be a Secrets Manager secret ARN, got "my-secret"/],
    ['REDIS_KEY_PREFIX', 'a b', /REDIS_KEY_PREFIX must not contain whitespace, got "a b"/],
    ['FAILURE_TTL_SECONDS', '1.5', /FAILURE_TTL_SECONDS must be an integer from 1 to 31536000, got "1.5"/],
    ['FAILURE_TTL_SECONDS', '0', /FAILURE_TTL_SECONDS must be an integer from 1 to 31536000, got "0"/],
  ])('fails naming %s when it is %j', (name, value, message) => {
    expect(() => parseFailureStoreConfig({ FAILURE_STORE: 'redis', REDIS_HOST: 'h', [name]: value })).toThrow(message);
  });

  test('fails naming REDIS_USERNAME without a secret', () => {
    expect(() => parseFailureStoreConfig({ FAILURE_STORE: 'redis', REDIS_HOST: 'h', REDIS_USERNAME: 'monitor' }))
      .toThrow(/REDIS_USERNAME \("monitor"\) needs REDIS_AUTH_SECRET_ARN/);
  });

  test('reports every problem at once', () => {
    const act = () => parseFailureStoreConfig({ FAILURE_STORE: 'redis', REDIS_PORT: 'x', REDIS_TLS: '1', FAILURE_TTL_SECONDS: 'y' });
    expect(act).toThrow(/^Invalid function configuration:\n- FAILURE_TTL_SECONDS .*\n- REDIS_HOST or REDIS_REPLICATION_GROUP_ID .*\n- REDIS_PORT .*\n- REDIS_TLS .*$/);
  });
});

describe('createFailureStore', () => {
  test('dynamodb', async () => {
    const store = await createFailureStore({ kind: 'dynamodb', tableName: 't' }, { dynamoDb: new DynamoDBClient({ region: 'eu-west-1' }) });
    expect(store).toBeInstanceOf(DynamoDbFailureStore);
  });

  test('redis with a plain-string AUTH secret, never putting it in an error', async () => {
    // Prepare
    const secrets = mockClient(SecretsManagerClient);
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'plain-token' });
    try {
      // Act
      const store = await createFailureStore({ kind: 'redis', host: '127.0.0.1', port: 1, authSecretArn: SECRET_ARN });
      // Assess
      expect(store).toBeInstanceOf(RedisFailureStore);
      const error: Error = await store.load('c').catch((e) => e);
      expect(error.message).toMatch(/failure store \(Redis redis:\/\/127\.0\.0\.1:1\)/);
      expect(error.message).not.toContain('plain-token');
      await store.close();
    } finally {
      secrets.restore();
    }
  });

  test('fails clearly when the secret is JSON without a password, without echoing it', async () => {
    const secrets = mockClient(SecretsManagerClient);
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '{"pass":"hunter2"}' });
    try {
      const act = createFailureStore({ kind: 'redis', host: 'h', authSecretArn: `${SECRET_ARN}-json` });
      await expect(act).rejects.toThrow(/secret .*-json is JSON without a string "password"/);
      await expect(act).rejects.not.toThrow(/hunter2/);
    } finally {
      secrets.restore();
    }
  });
});
