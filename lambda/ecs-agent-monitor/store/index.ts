/**
 * The failure store the function is configured with. Only the configured kind is loaded: the DynamoDB store
 * and its client, or the Redis store with ioredis (and ElastiCache and Secrets Manager when it needs them),
 * each a chunk of its own in the bundle.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { FailureStore } from './types';
import { ConfigError } from '../../common/config';

export type { FailureStore } from './types';

/** Failure counts in a DynamoDB table. */
export interface DynamoDbFailureStoreConfig {
  readonly kind: 'dynamodb';
  readonly tableName: string;
  readonly ttlSeconds?: number;
  readonly minIncrementGapSeconds?: number;
}

/** Failure counts in a cluster-mode-disabled Redis: an explicit host, or an ElastiCache replication group. */
export interface RedisFailureStoreConfig {
  readonly kind: 'redis';
  readonly host?: string;
  readonly port?: number;
  readonly replicationGroupId?: string;
  /** @default - on when the replication group has in-transit encryption, else off */
  readonly tls?: boolean;
  /** Secrets Manager secret holding the AUTH token: a plain string, or JSON `{ "password": ..., "username"?: ... }`. */
  readonly authSecretArn?: string;
  readonly username?: string;
  readonly keyPrefix?: string;
  readonly ttlSeconds?: number;
  readonly minIncrementGapSeconds?: number;
}

export type FailureStoreConfig = DynamoDbFailureStoreConfig | RedisFailureStoreConfig;

/** Clients for {@link createFailureStore}; module-scope clients by default. */
export interface FailureStoreClients {
  readonly dynamoDb?: DynamoDBClient;
  readonly elastiCache?: ElastiCacheClient;
  readonly secretsManager?: SecretsManagerClient;
}

/**
 * Read the failure store configuration from environment variables, checking every one and throwing a single
 * error that names each missing or malformed variable with the value it got.
 *
 * `FAILURE_MIN_GAP_SECONDS` (optional, both kinds) is the least time between two increments of a count (half the
 * schedule period). `FAILURE_STORE` = `dynamodb` (needs `FAILURE_TABLE_NAME`) or `redis` (needs exactly one of `REDIS_HOST` and
 * `REDIS_REPLICATION_GROUP_ID`; optional `REDIS_PORT`, `REDIS_TLS` = `true`|`false`, `REDIS_AUTH_SECRET_ARN`,
 * `REDIS_USERNAME` (needs `REDIS_AUTH_SECRET_ARN`), `REDIS_KEY_PREFIX`). `FAILURE_TTL_SECONDS` (optional, both
 * kinds) is a positive integer. Empty values count as unset.
 */
export function parseFailureStoreConfig(env: Readonly<Record<string, string | undefined>> = process.env): FailureStoreConfig {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const integer = (name: string, min: number, max: number): number | undefined => {
    const raw = get(name);
    if (raw === undefined) {
      return undefined;
    }
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(env[name])}`);
      return undefined;
    }
    return value;
  };

  const kind = get('FAILURE_STORE');
  const ttlSeconds = integer('FAILURE_TTL_SECONDS', 1, 365 * 24 * 60 * 60);
  const minIncrementGapSeconds = integer('FAILURE_MIN_GAP_SECONDS', 0, 7 * 24 * 60 * 60);
  let config: FailureStoreConfig | undefined;
  if (kind === 'dynamodb') {
    const tableName = get('FAILURE_TABLE_NAME');
    if (!tableName) {
      problems.push(`FAILURE_TABLE_NAME is required when FAILURE_STORE is dynamodb, got ${JSON.stringify(env.FAILURE_TABLE_NAME)}`);
    }
    config = { kind, tableName: tableName ?? '', ttlSeconds, minIncrementGapSeconds };
  } else if (kind === 'redis') {
    const host = get('REDIS_HOST');
    const replicationGroupId = get('REDIS_REPLICATION_GROUP_ID');
    if (!host && !replicationGroupId) {
      problems.push('REDIS_HOST or REDIS_REPLICATION_GROUP_ID is required when FAILURE_STORE is redis, got neither');
    } else if (host && replicationGroupId) {
      problems.push(`REDIS_HOST (${JSON.stringify(host)}) and REDIS_REPLICATION_GROUP_ID (${JSON.stringify(replicationGroupId)}) ` +
        'are mutually exclusive: set one');
    }
    const port = integer('REDIS_PORT', 1, 65535);
    const tlsRaw = get('REDIS_TLS');
    let tls: boolean | undefined;
    if (tlsRaw !== undefined) {
      if (tlsRaw === 'true' || tlsRaw === 'false') {
        tls = tlsRaw === 'true';
      } else {
        problems.push(`REDIS_TLS must be "true" or "false", got ${JSON.stringify(env.REDIS_TLS)}`);
      }
    }
    const authSecretArn = get('REDIS_AUTH_SECRET_ARN');
    if (authSecretArn !== undefined && !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/.test(authSecretArn)) {
      problems.push(`REDIS_AUTH_SECRET_ARN must be a Secrets Manager secret ARN, got ${JSON.stringify(env.REDIS_AUTH_SECRET_ARN)}`);
    }
    const username = get('REDIS_USERNAME');
    if (username !== undefined && authSecretArn === undefined) {
      problems.push(`REDIS_USERNAME (${JSON.stringify(username)}) needs REDIS_AUTH_SECRET_ARN for its password, got none`);
    }
    const keyPrefix = get('REDIS_KEY_PREFIX');
    if (keyPrefix !== undefined && /\s/.test(keyPrefix)) {
      problems.push(`REDIS_KEY_PREFIX must not contain whitespace, got ${JSON.stringify(env.REDIS_KEY_PREFIX)}`);
    }
    config = {
      kind,
      host,
      port,
      replicationGroupId,
      tls,
      authSecretArn,
      username,
      keyPrefix,
      ttlSeconds,
      minIncrementGapSeconds,
    };
  } else {
    problems.push(`FAILURE_STORE must be "dynamodb" or "redis", got ${JSON.stringify(env.FAILURE_STORE)}`);
  }
  if (problems.length > 0 || !config) throw new ConfigError(problems);
  return config;
}

/**
 * Create the failure store of a configuration. For Redis this resolves the endpoint (ElastiCache
 * DescribeReplicationGroups, cached for the container's life) and the AUTH token (Secrets Manager,
 * cached for the container's life); neither is ever logged. The connection itself is opened lazily
 * on the first command.
 */
export async function createFailureStore(config: FailureStoreConfig, clients: FailureStoreClients = {}): Promise<FailureStore> {
  if (config.kind === 'dynamodb') {
    const { DynamoDbFailureStore } = await import('./dynamodb');
    return new DynamoDbFailureStore({
      tableName: config.tableName, ttlSeconds: config.ttlSeconds, minIncrementGapSeconds: config.minIncrementGapSeconds, client: clients.dynamoDb,
    });
  }
  const { connectRedisFailureStore } = await import('./redis');
  return connectRedisFailureStore(config, clients);
}
