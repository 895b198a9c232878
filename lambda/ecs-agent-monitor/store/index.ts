import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDbFailureStore } from './dynamodb';
import { RedisFailureStore, resolveRedisEndpoint } from './redis';
import { FailureStore } from './types';

export type { FailureStore } from './types';
export { FailureStoreIncrementError } from './errors';
export { DynamoDbFailureStore, DEFAULT_FAILURE_TTL_SECONDS } from './dynamodb';
export type { DynamoDbFailureStoreOptions } from './dynamodb';
export { RedisFailureStore, resolveRedisEndpoint, redisClientOptions, DEFAULT_REDIS_KEY_PREFIX, DEFAULT_REDIS_PORT } from './redis';
export type { RedisFailureStoreOptions, RedisEndpoint, RedisEndpointQuery } from './redis';

/** Failure counts in a DynamoDB table. */
export interface DynamoDbFailureStoreConfig {
  readonly kind: 'dynamodb';
  readonly tableName: string;
  readonly ttlSeconds?: number;
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
 * `FAILURE_STORE` = `dynamodb` (needs `FAILURE_TABLE_NAME`) or `redis` (needs exactly one of `REDIS_HOST` and
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
  let config: FailureStoreConfig | undefined;
  if (kind === 'dynamodb') {
    const tableName = get('FAILURE_TABLE_NAME');
    if (!tableName) {
      problems.push(`FAILURE_TABLE_NAME is required when FAILURE_STORE is dynamodb, got ${JSON.stringify(env.FAILURE_TABLE_NAME)}`);
    }
    config = { kind, tableName: tableName ?? '', ttlSeconds };
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
    };
  } else {
    problems.push(`FAILURE_STORE must be "dynamodb" or "redis", got ${JSON.stringify(env.FAILURE_STORE)}`);
  }
  if (problems.length > 0 || !config) {
    throw new Error(`Invalid failure store configuration:\n- ${problems.join('\n- ')}`);
  }
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
    return new DynamoDbFailureStore({ tableName: config.tableName, ttlSeconds: config.ttlSeconds, client: clients.dynamoDb });
  }
  const endpoint = await resolveRedisEndpoint(config, clients.elastiCache);
  if (endpoint.authTokenEnabled && !config.authSecretArn) {
    throw new Error(`ElastiCache replication group ${config.replicationGroupId} requires an AUTH token, ` +
      'but REDIS_AUTH_SECRET_ARN is not set');
  }
  const auth = config.authSecretArn ? await resolveRedisAuth(config.authSecretArn, clients.secretsManager) : undefined;
  return new RedisFailureStore({
    host: endpoint.host,
    port: endpoint.port,
    tls: config.tls ?? endpoint.tls ?? false,
    username: config.username ?? auth?.username,
    password: auth?.password,
    keyPrefix: config.keyPrefix,
    ttlSeconds: config.ttlSeconds,
  });
}

interface RedisAuth {
  readonly password: string;
  readonly username?: string;
}

const secretsManager = new SecretsManagerClient({ retryMode: 'adaptive' });
const authCache = new Map<string, Promise<RedisAuth>>();

/** The AUTH token in a secret, fetched once per container (a failure is not cached). */
function resolveRedisAuth(secretArn: string, client: SecretsManagerClient = secretsManager): Promise<RedisAuth> {
  let cached = authCache.get(secretArn);
  if (!cached) {
    cached = fetchRedisAuth(secretArn, client);
    authCache.set(secretArn, cached);
    cached.catch(() => authCache.delete(secretArn));
  }
  return cached;
}

async function fetchRedisAuth(secretArn: string, client: SecretsManagerClient): Promise<RedisAuth> {
  let secret: string | undefined;
  try {
    secret = (await client.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
  } catch (err) {
    // The SDK error names the secret and the reason, never its value.
    throw new Error(`could not read the Redis AUTH secret ${secretArn}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (!secret) {
    throw new Error(`the Redis AUTH secret ${secretArn} has no SecretString`);
  }
  if (secret.trimStart().startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(secret);
    } catch {
      throw new Error(`the Redis AUTH secret ${secretArn} looks like JSON but does not parse`); // no value in the message
    }
    const fields = parsed as Record<string, unknown>;
    const password = fields.password ?? fields.authToken ?? fields.token;
    if (typeof password !== 'string' || !password) {
      throw new Error(`the Redis AUTH secret ${secretArn} is JSON without a string "password" (or "authToken") field`);
    }
    return { password, username: typeof fields.username === 'string' ? fields.username : undefined };
  }
  return { password: secret };
}
