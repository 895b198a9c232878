import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import Redis, { RedisOptions } from 'ioredis';
import { distinct, errorMessage } from './concurrency';
import { FailureStoreIncrementError } from './errors';
import type { FailureStoreClients, RedisFailureStoreConfig } from './index';
import { DEFAULT_FAILURE_TTL_SECONDS, DETACHED_TTL_SECONDS, DetachedInstance, FailureStore, IncrementResult, StoredCluster } from './types';
import { clientConfig, lazy } from '../../common/aws';
import { logger } from '../../common/powertools';
import { rememberSecrets } from '../../common/redact';

/** Default prefix of the per-cluster hash key. */
export const DEFAULT_REDIS_KEY_PREFIX = 'ecs-agent-monitor';
/**
 * Every Redis command the store sends, directly or from its Lua script: what a Redis ACL user needs
 * (`+<command>` for each, on the key pattern `<keyPrefix>:*`). A test runs the store as such a user.
 */
export const REDIS_ACL_COMMANDS = ['EVALSHA', 'EVAL', 'MULTI', 'EXEC', 'HMGET', 'HINCRBY', 'HSET', 'HGETALL', 'HDEL', 'EXPIRE'] as const;

/** Default Redis port. */
export const DEFAULT_REDIS_PORT = 6379;

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
  /** Hash keys are `<keyPrefix>:<cluster>` (counts) and `<keyPrefix>:<cluster>:at` (timestamps). @default 'ecs-agent-monitor' */
  readonly keyPrefix?: string;
  /** Seconds after its last increment at which a count expires. @default 86400 (24 h) */
  readonly ttlSeconds?: number;
  /** Least time between two increments of one count: half the schedule period. @default 0 (no limit) */
  readonly minIncrementGapSeconds?: number;
  /** TCP (and TLS) connect timeout. @default 2000 */
  readonly connectTimeoutMs?: number;
  /** Time after which one command (queued or sent) fails. @default 2000 */
  readonly commandTimeoutMs?: number;
  /** Reconnect attempts after a failed or lost connection before giving up. @default 2 */
  readonly maxReconnectAttempts?: number;
  /** Clock (epoch milliseconds) that stamps and ages the counts, for tests. @default Date.now */
  readonly now?: () => number;
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
    // No INFO on connect: an ACL user needs only REDIS_ACL_COMMANDS, and ElastiCache is ready when it accepts.
    enableReadyCheck: false,
    // How long disconnect() waits for a half-closed socket before destroying it.
    disconnectTimeout: 200,
  };
}

/**
 * Adds one to each instance's count (or restarts it at 1 when it has expired), stamps it and pushes back the expiry
 * of both hashes, unless the count is live and was stamped less than `minGap` seconds ago (another run counted it
 * this period): then it answers -1 for that instance and changes nothing. Returns, per instance (in ARGV order),
 * the new count, -1, or the error message of that field.
 *
 * KEYS[1] = counts hash, KEYS[2] = timestamps hash; ARGV[1] = now (epoch seconds), ARGV[2] = ttlSeconds,
 * ARGV[3] = minGap (seconds), ARGV[4..] = distinct container instance ARNs.
 *
 * Every read comes before the first write, so a key of the wrong type (or any other error of a read) fails the
 * script before it has written anything. A count whose HINCRBY fails (not an integer) is reported in its slot and
 * keeps its old timestamp. Runs the same on Redis 6 and 7 (no shebang, no functions). `unpack` takes up to
 * about 8,000 instances per call, more than an ECS cluster can hold (5,000).
 */
const INCREMENT_SCRIPT = `
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local minGap = tonumber(ARGV[3])
local n = #ARGV - 3
local instances = {}
for i = 1, n do
  instances[i] = ARGV[i + 3]
end
local counts = redis.call('HMGET', KEYS[1], unpack(instances))
local stamps = redis.call('HMGET', KEYS[2], unpack(instances))
local result = {}
for i = 1, n do
  local stamp = tonumber(stamps[i])
  local reply
  local live = counts[i] and stamp and now - stamp < ttl
  if live and now - stamp < minGap then
    reply = -1
  elseif live then
    reply = redis.pcall('HINCRBY', KEYS[1], instances[i], 1)
  else
    -- no count, or a count that has expired or was never stamped: this failure is the first in a row
    reply = redis.pcall('HSET', KEYS[1], instances[i], 1)
    if type(reply) == 'number' then
      reply = 1
    end
  end
  if type(reply) == 'table' and reply.err then
    result[i] = reply.err
  elseif reply == -1 then
    result[i] = reply
  else
    redis.call('HSET', KEYS[2], instances[i], ARGV[1])
    result[i] = reply
  end
end
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
return result
`;
const INCREMENT_SCRIPT_SHA = createHash('sha1').update(INCREMENT_SCRIPT).digest('hex');

/**
 * Failure counts in Redis (ElastiCache for Redis OSS or Valkey): per cluster, one hash of counts, key
 * `<keyPrefix>:<cluster>` (field = container instance ARN, value = count), and one hash of the time of each
 * count's last increment, key `<keyPrefix>:<cluster>:at` (same field, value = epoch seconds from `now`).
 * (An ECS cluster name or ARN never ends in `:at`, so the `:at` key of one cluster is never the counts key of another.)
 *
 * Only cluster-mode-disabled endpoints (a single shard: the primary endpoint, or a standalone server) are supported;
 * a cluster-mode-enabled configuration endpoint would answer MOVED for keys on other shards.
 *
 * Each count lives `ttlSeconds` after its own last increment, like an item of the DynamoDB store (Redis 7.0 has no
 * per-field TTL, so the store keeps the timestamps itself):
 * - `increment` runs one Lua script ({@link INCREMENT_SCRIPT}, EVALSHA with a fallback to EVAL) that, per instance,
 *   adds one to a live count or restarts at 1 a count whose last increment is `ttlSeconds` or more ago (or that has
 *   no timestamp), stamps it, and sets the TTL of both hashes to `ttlSeconds`. A script is atomic, so overlapping
 *   runs never lose an increment.
 * - `load` reads both hashes in one MULTI and leaves out counts whose last increment is `ttlSeconds` or more ago.
 *   A count without a timestamp (written before the timestamps existed) is returned: the caller then clears it
 *   (instance connected or gone) or increments it, which restarts it at 1, so it does not outlive the next run.
 * - `clear` deletes the fields from both hashes in one MULTI.
 * An expired field that nobody clears stays (invisible) until the whole hashes expire, `ttlSeconds` after the
 * cluster's last increment.
 *
 * Errors name the endpoint and the last connection error but never the password. Like the DynamoDB store,
 * a field whose count cannot be incremented (not an integer) is left out of `increment`'s result; only when no
 * instance could be incremented does it throw a {@link FailureStoreIncrementError}. An error of the script as
 * a whole (e.g. a key holding another type than a hash: WRONGTYPE) fails every instance of the call, before the
 * script has written anything, and so throws a `FailureStoreIncrementError` too. A connection failure or timeout
 * rejects the whole call (a timed-out script may still have run: a count one higher than confirmed at worst
 * brings a replacement one check forward for an instance that is disconnected anyway).
 */
export class RedisFailureStore implements FailureStore {
  private readonly redis: Redis;
  private readonly endpoint: string;
  private readonly keyPrefix: string;
  private readonly ttlSeconds: number;
  private readonly minIncrementGapSeconds: number;
  private readonly now: () => number;
  private lastConnectionError: Error | undefined;
  private closed = false;

  constructor(options: RedisFailureStoreOptions) {
    this.keyPrefix = options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX;
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_FAILURE_TTL_SECONDS;
    if (!Number.isInteger(this.ttlSeconds) || this.ttlSeconds < 1) {
      throw new Error(`RedisFailureStore: ttlSeconds must be a positive integer, got ${options.ttlSeconds}`);
    }
    this.minIncrementGapSeconds = options.minIncrementGapSeconds ?? 0;
    this.now = options.now ?? Date.now;
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

  /** The key of a cluster's hash of counts. */
  public keyOf(cluster: string): string {
    return `${this.keyPrefix}:${cluster}`;
  }

  /** The key of a cluster's hash of last-increment timestamps (epoch seconds). */
  public timestampsKeyOf(cluster: string): string {
    return `${this.keyOf(cluster)}:at`;
  }

  /** The key of a cluster's hash of detached instances (EC2 instance id -> JSON `{ group, detachedAt }`). */
  public detachedKeyOf(cluster: string): string {
    return `${this.keyOf(cluster)}:detached`;
  }

  public async load(cluster: string): Promise<StoredCluster> {
    const key = this.keyOf(cluster);
    const timestampsKey = this.timestampsKeyOf(cluster);
    const detachedKey = this.detachedKeyOf(cluster);
    const [hash, stamps, detachedHash] = await this.run('HGETALL', key, async () => {
      const replies = await this.redis.multi().hgetall(key).hgetall(timestampsKey).hgetall(detachedKey).exec();
      return [hashReply(replies, 0), hashReply(replies, 1), hashReply(replies, 2)];
    });
    const nowSeconds = this.nowSeconds();
    const counts = new Map<string, number>();
    for (const [instance, value] of Object.entries(hash)) {
      const count = Number(value);
      if (!Number.isInteger(count) || count <= 0) {
        logger.warn('Ignoring a malformed failure count field', { key, cluster, instance });
        continue;
      }
      const stamp = Number(stamps[instance]);
      if (stamps[instance] !== undefined && Number.isFinite(stamp) && nowSeconds - stamp >= this.ttlSeconds) {
        continue; // expired: its last increment is ttlSeconds or more ago
      }
      // (no or a malformed timestamp: returned, and restarted at 1 by the next increment)
      counts.set(instance, count);
    }
    const detached: DetachedInstance[] = [];
    for (const [ec2InstanceId, value] of Object.entries(detachedHash)) {
      try {
        const record = JSON.parse(value) as { group?: string; detachedAt?: string };
        detached.push({ ec2InstanceId, group: record.group ?? '', detachedAt: new Date(record.detachedAt ?? 0) });
      } catch {
        logger.warn('Ignoring a malformed detached-instance field', { key: detachedKey, cluster, ec2InstanceId });
      }
    }
    return { counts, detached };
  }

  public async increment(cluster: string, instanceArns: readonly string[]): Promise<IncrementResult> {
    const instances = distinct(instanceArns);
    const counts = new Map<string, number>();
    const alreadyCounted = new Set<string>();
    if (instances.length === 0) {
      return { counts, alreadyCounted };
    }
    const key = this.keyOf(cluster);
    const where = `Redis ${this.endpoint}, key ${key}`;
    const args = [key, this.timestampsKeyOf(cluster), this.nowSeconds(), this.ttlSeconds, this.minIncrementGapSeconds, ...instances];
    let results: unknown;
    try {
      results = await this.run('EVALSHA increment', key, async () => {
        try {
          return await this.redis.evalsha(INCREMENT_SCRIPT_SHA, 2, ...args);
        } catch (err) {
          if (!(err instanceof Error && err.message.startsWith('NOSCRIPT'))) {
            throw err;
          }
          // First run on this server (or after SCRIPT FLUSH / a restart): send the script itself, which caches it.
          return this.redis.eval(INCREMENT_SCRIPT, 2, ...args);
        }
      });
    } catch (err) {
      if (err instanceof Error && isScriptError(err.cause)) {
        // Redis answered, the script stopped before its first write: not one instance was incremented.
        logger.error('Could not increment any failure count; the instances are left unconfirmed', {
          key, cluster, instances, error: errorMessage(err.cause),
        });
        throw new FailureStoreIncrementError(where, new Map(instances.map((instance) => [instance, err.cause])));
      }
      throw err;
    }
    const replies = Array.isArray(results) && results.length === instances.length ? results : [];
    const failures = new Map<string, unknown>();
    instances.forEach((instance, index) => {
      const value: unknown = replies[index];
      if (value === -1) {
        alreadyCounted.add(instance);
        return;
      }
      if (typeof value === 'number' && Number.isInteger(value) && value > 0) {
        counts.set(instance, value);
        return;
      }
      const error = new Error(typeof value === 'string' ? value : `unexpected increment script reply ${JSON.stringify(results)}`);
      failures.set(instance, error);
      logger.error('Could not increment the failure count; the instance is left unconfirmed', {
        key, cluster, instance, error: error.message,
      });
    });
    if (failures.size === instances.length) {
      throw new FailureStoreIncrementError(where, failures);
    }
    if (alreadyCounted.size > 0) {
      logger.info('Counts already incremented this period by another run; not incremented again', { key, cluster, instances: [...alreadyCounted] });
    }
    return { counts, alreadyCounted };
  }

  public async keep(cluster: string, instanceArns: readonly string[]): Promise<void> {
    const instances = distinct(instanceArns);
    if (instances.length === 0) {
      return;
    }
    const key = this.keyOf(cluster);
    const timestampsKey = this.timestampsKeyOf(cluster);
    const now = String(this.nowSeconds());
    await this.run('HSET keep', key, async () => {
      const replies = await this.redis.multi()
        .hset(timestampsKey, Object.fromEntries(instances.map((instance) => [instance, now])))
        .expire(key, this.ttlSeconds)
        .expire(timestampsKey, this.ttlSeconds)
        .exec();
      [0, 1, 2].forEach((i) => execReply(replies, i));
    });
  }

  public async rememberDetached(cluster: string, instance: DetachedInstance): Promise<void> {
    const detachedKey = this.detachedKeyOf(cluster);
    const value = JSON.stringify({ group: instance.group, detachedAt: instance.detachedAt.toISOString() });
    await this.run('HSET detached', detachedKey, async () => {
      const replies = await this.redis.multi().hset(detachedKey, instance.ec2InstanceId, value).expire(detachedKey, DETACHED_TTL_SECONDS).exec();
      execReply(replies, 0);
      execReply(replies, 1);
    });
  }

  public async forgetDetached(cluster: string, ec2InstanceIds: readonly string[]): Promise<void> {
    const ids = distinct(ec2InstanceIds);
    if (ids.length === 0) {
      return;
    }
    const detachedKey = this.detachedKeyOf(cluster);
    await this.run('HDEL detached', detachedKey, () => this.redis.hdel(detachedKey, ...ids));
  }

  public async clear(cluster: string, instanceArns: readonly string[]): Promise<void> {
    const instances = distinct(instanceArns);
    if (instances.length === 0) {
      return;
    }
    const key = this.keyOf(cluster);
    const timestampsKey = this.timestampsKeyOf(cluster);
    await this.run('HDEL', key, async () => {
      const replies = await this.redis.multi().hdel(key, ...instances).hdel(timestampsKey, ...instances).exec();
      execReply(replies, 0);
      execReply(replies, 1);
    });
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

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }
}

type ExecReplies = [error: Error | null, result: unknown][] | null;

/** The reply of the `index`-th command of a MULTI/EXEC; throws its error, or when the transaction was aborted. */
function execReply(replies: ExecReplies, index: number): unknown {
  if (!replies) {
    throw new Error('transaction aborted');
  }
  const [err, value] = replies[index] ?? [new Error('no reply')];
  if (err) {
    throw err;
  }
  return value;
}

/** The HGETALL reply of the `index`-th command of a MULTI/EXEC, as an object. */
function hashReply(replies: ExecReplies, index: number): Record<string, string> {
  const value = execReply(replies, index);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`unexpected HGETALL reply ${JSON.stringify(value)}`);
  }
  return value as Record<string, string>;
}

/** An error raised inside a Lua script (Redis 6: `@user_script:N: ...`; 7: `... script: <sha>, on @user_script:N.`). */
function isScriptError(err: unknown): boolean {
  return err instanceof Error && err.name === 'ReplyError' && /@user_script/.test(err.message);
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

/** ElastiCache is needed only to look up a replication group: its client loads on first use. */
const elastiCache = lazy(async () => {
  const sdk = await import('@aws-sdk/client-elasticache');
  return { sdk, client: new sdk.ElastiCacheClient(clientConfig()) };
});
const endpointCache = new Map<string, Promise<RedisEndpoint>>();

/**
 * Resolve the endpoint to connect to. An explicit `host` wins (port defaults to 6379). Otherwise the
 * replication group is described once per container (a failure is not cached, so a group that is still
 * being created is looked up again on the next run) and its primary endpoint is used, with TLS when the
 * group has in-transit encryption. Cluster mode enabled groups are rejected.
 */
export function resolveRedisEndpoint(query: RedisEndpointQuery, client?: ElastiCacheClient): Promise<RedisEndpoint> {
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

async function describeEndpoint(groupId: string, portOverride: number | undefined, given: ElastiCacheClient | undefined): Promise<RedisEndpoint> {
  const { sdk, client: moduleClient } = await elastiCache();
  const client = given ?? moduleClient;
  let group;
  try {
    const result = await client.send(new sdk.DescribeReplicationGroupsCommand({ ReplicationGroupId: groupId }));
    group = result.ReplicationGroups?.find((g) => g.ReplicationGroupId === groupId) ?? result.ReplicationGroups?.[0];
  } catch (err) {
    if (err instanceof sdk.ReplicationGroupNotFoundFault) {
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

/** Resolves the endpoint and the AUTH token of a configuration and returns a store connected lazily. */
export async function connectRedisFailureStore(config: RedisFailureStoreConfig, clients: FailureStoreClients = {}): Promise<RedisFailureStore> {
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
    minIncrementGapSeconds: config.minIncrementGapSeconds,
  });
}

interface RedisAuth {
  readonly password: string;
  readonly username?: string;
}

const secretsManager = lazy(async () => {
  const sdk = await import('@aws-sdk/client-secrets-manager');
  return { sdk, client: new sdk.SecretsManagerClient(clientConfig()) };
});
const authCache = new Map<string, Promise<RedisAuth>>();

/** The AUTH token in a secret, fetched once per container (a failure is not cached). */
function resolveRedisAuth(secretArn: string, client?: SecretsManagerClient): Promise<RedisAuth> {
  let cached = authCache.get(secretArn);
  if (!cached) {
    cached = fetchRedisAuth(secretArn, client);
    authCache.set(secretArn, cached);
    cached.catch(() => authCache.delete(secretArn));
  }
  return cached;
}

async function fetchRedisAuth(secretArn: string, given: SecretsManagerClient | undefined): Promise<RedisAuth> {
  const { sdk, client: moduleClient } = await secretsManager();
  let secret: string | undefined;
  try {
    secret = (await (given ?? moduleClient).send(new sdk.GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
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
    rememberSecrets({ values: [password] });
    return { password, username: typeof fields.username === 'string' ? fields.username : undefined };
  }
  rememberSecrets({ values: [secret] });
  return { password: secret };
}
