import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  DescribeReplicationGroupsCommand,
  ElastiCacheClient,
  ReplicationGroupNotFoundFault,
} from '@aws-sdk/client-elasticache';
import Redis, { RedisOptions } from 'ioredis';
import { distinct, errorMessage } from './concurrency';
import { DEFAULT_FAILURE_TTL_SECONDS } from './dynamodb';
import { FailureStoreIncrementError } from './errors';
import { FailureStore } from './types';

/** Default prefix of the per-cluster hash key. */
export const DEFAULT_REDIS_KEY_PREFIX = 'ecs-agent-monitor';
/** Default Redis port. */
export const DEFAULT_REDIS_PORT = 6379;

const logger = new Logger({ serviceName: 'ecs-agent-monitor' });

/** Options of {@link RedisFailureStore}. */
export interface RedisFailureStoreOptions {
  /** Host name or IP of a cluster-mode-disabled endpoint (ElastiCache primary endpoint). */
  readonly host: string;
  /** @default 6379 */
  readonly port?: number;
  /**
   * TLS (ElastiCache in-transit encryption). `true` verifies against the default CAs with SNI = host;
   * an object adds to that (e.g. `{ ca }`).
   * @default false
   */
  readonly tls?: boolean | ConnectionOptions;
  /** ACL / RBAC user name; needs `password`. @default - the default user */
  readonly username?: string;
  /** AUTH token or password. Never logged. @default - no AUTH */
  readonly password?: string;
  /** Hash key is `<keyPrefix>:<cluster>`. @default 'ecs-agent-monitor' */
  readonly keyPrefix?: string;
  /** Seconds after the last increment at which a cluster's hash expires. @default 86400 (24 h) */
  readonly ttlSeconds?: number;
  /** TCP (and TLS) connect timeout. @default 2000 */
  readonly connectTimeoutMs?: number;
  /** Time after which one command (queued or sent) fails. @default 2000 */
  readonly commandTimeoutMs?: number;
  /** Reconnect attempts after a failed or lost connection before giving up. @default 2 */
  readonly maxReconnectAttempts?: number;
}

/**
 * The ioredis options of a {@link RedisFailureStore}: lazy connect, short timeouts and bounded retries, so
 * that a dead or unreachable Redis fails a run within a few seconds instead of hanging the Lambda.
 */
export function redisClientOptions(options: RedisFailureStoreOptions): RedisOptions {
  const maxReconnectAttempts = options.maxReconnectAttempts ?? 2;
  const tlsOptions = options.tls === true ? {} : options.tls || undefined;
  return {
    host: options.host,
    port: options.port ?? DEFAULT_REDIS_PORT,
    username: options.username,
    password: options.password,
    // SNI must be a host name, never an IP (RFC 6066).
    tls: tlsOptions && { ...(isIP(options.host) ? {} : { servername: options.host }), ...tlsOptions },
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    commandTimeout: options.commandTimeoutMs ?? 2000,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => (times > maxReconnectAttempts ? null : Math.min(100 * times, 500)),
    enableOfflineQueue: true,
    // How long disconnect() waits for a half-closed socket before destroying it.
    disconnectTimeout: 200,
  };
}

/**
 * Failure counts in Redis (ElastiCache for Redis OSS or Valkey): one hash per cluster, key `<keyPrefix>:<cluster>`,
 * field = container instance ARN, value = count.
 *
 * Only cluster-mode-disabled endpoints (a single shard: the primary endpoint, or a standalone server) are supported;
 * a cluster-mode-enabled configuration endpoint would answer MOVED for keys on other shards.
 *
 * `increment` runs HINCRBY for each instance and EXPIRE on the hash in one MULTI/EXEC transaction, so overlapping
 * runs never lose an increment. The TTL applies to the whole hash (Redis 7.0 has no per-field TTL): a cluster
 * whose instances have all stopped failing for `ttlSeconds` loses its counts; a single abandoned field lives on
 * while other instances of the cluster keep failing, until the caller clears it (instance gone).
 *
 * Errors name the endpoint and the last connection error but never the password. Like the DynamoDB store,
 * a transaction that answers with an error for one field leaves that instance out of `increment`'s result;
 * a connection failure or timeout rejects the whole call.
 */
export class RedisFailureStore implements FailureStore {
  private readonly redis: Redis;
  private readonly endpoint: string;
  private readonly keyPrefix: string;
  private readonly ttlSeconds: number;
  private lastConnectionError: Error | undefined;
  private closed = false;

  constructor(options: RedisFailureStoreOptions) {
    this.keyPrefix = options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX;
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_FAILURE_TTL_SECONDS;
    if (!Number.isInteger(this.ttlSeconds) || this.ttlSeconds < 1) {
      throw new Error(`RedisFailureStore: ttlSeconds must be a positive integer, got ${options.ttlSeconds}`);
    }
    const clientOptions = redisClientOptions(options);
    this.endpoint = `${clientOptions.tls ? 'rediss' : 'redis'}://${clientOptions.host}:${clientOptions.port}`;
    this.redis = new Redis(clientOptions);
    // Without a listener ioredis prints every connection error; keep the last one for our error messages.
    this.redis.on('error', (err: Error) => {
      this.lastConnectionError = err;
    });
    this.redis.on('ready', () => {
      this.lastConnectionError = undefined;
    });
  }

  /** The hash key of a cluster. */
  public keyOf(cluster: string): string {
    return `${this.keyPrefix}:${cluster}`;
  }

  public async load(cluster: string): Promise<Map<string, number>> {
    const key = this.keyOf(cluster);
    const hash = await this.run('HGETALL', key, () => this.redis.hgetall(key));
    const counts = new Map<string, number>();
    for (const [instance, value] of Object.entries(hash)) {
      const count = Number(value);
      if (Number.isInteger(count) && count > 0) {
        counts.set(instance, count);
      } else {
        logger.warn('Ignoring a malformed failure count field', { key, cluster, instance });
      }
    }
    return counts;
  }

  public async increment(cluster: string, instanceArns: readonly string[]): Promise<Map<string, number>> {
    const instances = distinct(instanceArns);
    const counts = new Map<string, number>();
    if (instances.length === 0) {
      return counts;
    }
    const key = this.keyOf(cluster);
    const results = await this.run('MULTI HINCRBY/EXPIRE', key, async () => {
      const multi = this.redis.multi();
      for (const instance of instances) {
        multi.hincrby(key, instance, 1);
      }
      multi.expire(key, this.ttlSeconds);
      const replies = await multi.exec();
      if (!replies) {
        throw new Error('transaction aborted');
      }
      return replies;
    });
    const failures = new Map<string, unknown>();
    instances.forEach((instance, index) => {
      const [err, value] = results[index] ?? [new Error('no reply')];
      if (err || typeof value !== 'number') {
        failures.set(instance, err ?? new Error(`unexpected HINCRBY reply ${String(value)}`));
        logger.error('Could not increment the failure count; the instance is left unconfirmed', {
          key, cluster, instance, error: errorMessage(err),
        });
      } else {
        counts.set(instance, value);
      }
    });
    if (counts.size === 0) {
      throw new FailureStoreIncrementError(`Redis ${this.endpoint}, key ${key}`, failures);
    }
    return counts;
  }

  public async clear(cluster: string, instanceArns: readonly string[]): Promise<void> {
    const instances = distinct(instanceArns);
    if (instances.length === 0) {
      return;
    }
    const key = this.keyOf(cluster);
    await this.run('HDEL', key, () => this.redis.hdel(key, ...instances));
  }

  /** Quit politely; if Redis does not answer within the command timeout, drop the connection. */
  public async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    if (this.redis.status === 'ready') {
      try {
        await this.redis.quit();
        return;
      } catch {
        // fall through
      }
    }
    if (this.redis.status !== 'end') {
      // (after 'end' the socket is already gone; ioredis would only arm a useless destroy timer)
      this.redis.disconnect();
    }
  }

  /** Run one Redis operation and turn its failure into an error that names the endpoint and the cause. */
  private async run<T>(operation: string, key: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) {
      throw new Error(`failure store (Redis ${this.endpoint}): ${operation} ${key} after close()`);
    }
    if (this.redis.status === 'end') {
      // Gave up on an earlier run in this container: try again from scratch.
      this.redis.connect().catch(() => undefined);
    }
    try {
      return await fn();
    } catch (err) {
      if (err instanceof Error && err.message === 'Command timed out' && this.redis.status === 'ready') {
        // A socket that went silent (e.g. across a Lambda freeze) would time out every later command too:
        // drop it, and let the bounded retry strategy reconnect.
        this.redis.disconnect(true);
      }
      const cause = this.lastConnectionError && this.lastConnectionError !== err
        ? `${errorMessage(err)} (last connection error: ${errorMessage(this.lastConnectionError)})`
        : errorMessage(err);
      throw new Error(`failure store (Redis ${this.endpoint}): ${operation} ${key} failed: ${cause}`, { cause: err });
    }
  }
}

/** Where to reach Redis: an explicit host, or an ElastiCache replication group to look up. */
export interface RedisEndpointQuery {
  readonly host?: string;
  readonly port?: number;
  readonly replicationGroupId?: string;
}

/** A resolved cluster-mode-disabled Redis endpoint. */
export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
  /** `true` when the replication group has in-transit encryption; `undefined` for an explicit host. */
  readonly tls?: boolean;
  /** `true` when the replication group requires an AUTH token; `undefined` for an explicit host. */
  readonly authTokenEnabled?: boolean;
}

const elastiCache = new ElastiCacheClient({ retryMode: 'adaptive' });
const endpointCache = new Map<string, Promise<RedisEndpoint>>();

/**
 * Resolve the endpoint to connect to. An explicit `host` wins (port defaults to 6379). Otherwise the
 * replication group is described once per container (a failure is not cached, so a group that is still
 * being created is looked up again on the next run) and its primary endpoint is used, with TLS when the
 * group has in-transit encryption. Cluster mode enabled groups are rejected.
 */
export function resolveRedisEndpoint(query: RedisEndpointQuery, client: ElastiCacheClient = elastiCache): Promise<RedisEndpoint> {
  if (query.host) {
    return Promise.resolve({ host: query.host, port: query.port ?? DEFAULT_REDIS_PORT });
  }
  const groupId = query.replicationGroupId;
  if (!groupId) {
    return Promise.reject(new Error('Redis endpoint: give either a host or an ElastiCache replication group id'));
  }
  let cached = endpointCache.get(groupId);
  if (!cached) {
    cached = describeEndpoint(groupId, query.port, client);
    endpointCache.set(groupId, cached);
    cached.catch(() => endpointCache.delete(groupId));
  }
  return cached;
}

async function describeEndpoint(groupId: string, portOverride: number | undefined, client: ElastiCacheClient): Promise<RedisEndpoint> {
  let group;
  try {
    const result = await client.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: groupId }));
    group = result.ReplicationGroups?.find((g) => g.ReplicationGroupId === groupId) ?? result.ReplicationGroups?.[0];
  } catch (err) {
    if (err instanceof ReplicationGroupNotFoundFault) {
      throw new Error(`ElastiCache replication group ${groupId} not found (check REDIS_REPLICATION_GROUP_ID and the region)`, { cause: err });
    }
    throw new Error(`could not describe ElastiCache replication group ${groupId}: ${errorMessage(err)}`, { cause: err });
  }
  if (!group) {
    throw new Error(`ElastiCache replication group ${groupId} not found (check REDIS_REPLICATION_GROUP_ID and the region)`);
  }
  if (group.ClusterEnabled || group.ConfigurationEndpoint?.Address) {
    throw new Error(
      `ElastiCache replication group ${groupId} has cluster mode enabled ` +
      `(configuration endpoint ${group.ConfigurationEndpoint?.Address ?? 'n/a'}); ` +
      'the failure store supports cluster-mode-disabled groups only');
  }
  const primary = group.NodeGroups?.[0]?.PrimaryEndpoint;
  if (!primary?.Address) {
    throw new Error(`ElastiCache replication group ${groupId} has no primary endpoint yet (status ${group.Status ?? 'unknown'})`);
  }
  return {
    host: primary.Address,
    port: portOverride ?? primary.Port ?? DEFAULT_REDIS_PORT,
    tls: group.TransitEncryptionEnabled ?? false,
    authTokenEnabled: group.AuthTokenEnabled ?? false,
  };
}
