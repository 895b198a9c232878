import * as fs from 'fs';
import { createServer, Server, Socket } from 'node:net';
import * as path from 'path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import Redis from 'ioredis';
import { createFailureStore } from '../../../lambda/ecs-agent-monitor/store';
import { FailureStoreIncrementError } from '../../../lambda/ecs-agent-monitor/store/errors';
import { REDIS_ACL_COMMANDS, RedisFailureStore, redisClientOptions } from '../../../lambda/ecs-agent-monitor/store/redis';
import { freePort, RunningRedisServer, startRedisServer } from '../../support/redis-server';

const CLUSTER = 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod';
const I1 = 'arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/1111';
const I2 = 'arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/2222';
const I3 = 'arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/3333';

const stores: RedisFailureStore[] = [];
function newStore(options: ConstructorParameters<typeof RedisFailureStore>[0]): RedisFailureStore {
  const store = new RedisFailureStore(options);
  stores.push(store);
  return store;
}
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

describe('RedisFailureStore against a real redis-server', () => {
  let server: RunningRedisServer;
  let admin: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis({ host: server.host, port: server.port, lazyConnect: true });
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });
  beforeEach(async () => {
    await admin.flushall();
  });

  test('increment, load and clear round trip in one hash per cluster', async () => {
    // Prepare
    const store = newStore({ host: server.host, port: server.port });
    // Act
    const first = (await store.increment(CLUSTER, [I1, I2])).counts;
    const second = (await store.increment(CLUSTER, [I1, I1])).counts; // duplicates count once
    const loaded = (await store.load(CLUSTER)).counts;
    await store.clear(CLUSTER, [I1, I3]);
    // Assess
    expect(first).toEqual(new Map([[I1, 1], [I2, 1]]));
    expect(second).toEqual(new Map([[I1, 2]]));
    expect(loaded).toEqual(new Map([[I1, 2], [I2, 1]]));
    expect((await store.load(CLUSTER)).counts).toEqual(new Map([[I2, 1]]));
    expect(await admin.hgetall(`ecs-agent-monitor:${CLUSTER}`)).toEqual({ [I2]: '1' });
    expect(Object.keys(await admin.hgetall(`ecs-agent-monitor:${CLUSTER}:at`))).toEqual([I2]);
    expect((await store.load('other-cluster')).counts).toEqual(new Map());
    await expect(store.increment(CLUSTER, [])).resolves.toEqual({ counts: new Map(), alreadyCounted: new Set() });
    await expect(store.clear(CLUSTER, [])).resolves.toBeUndefined();
  });

  test('uses the key prefix', async () => {
    const store = newStore({ host: server.host, port: server.port, keyPrefix: 'custom' });
    await store.increment('c1', [I1]);
    expect((await admin.keys('*')).sort()).toEqual(['custom:c1', 'custom:c1:at']);
  });

  test('concurrent increments from two stores are never lost', async () => {
    // Prepare
    const a = newStore({ host: server.host, port: server.port });
    const b = newStore({ host: server.host, port: server.port });
    // Act
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).increment(CLUSTER, [I1, I2])));
    // Assess
    expect((await a.load(CLUSTER)).counts).toEqual(new Map([[I1, 50], [I2, 50]]));
    // every call saw a distinct count: each was atomic
    expect(new Set(results.map((r) => r.counts.get(I1))).size).toBe(50);
  });

  test('sets the TTL on both hashes at every increment', async () => {
    const store = newStore({ host: server.host, port: server.port, ttlSeconds: 600 });
    await store.increment(CLUSTER, [I1]);
    const key = store.keyOf(CLUSTER);
    const timestampsKey = store.timestampsKeyOf(CLUSTER);
    expect(timestampsKey).toBe(`ecs-agent-monitor:${CLUSTER}:at`);
    for (const k of [key, timestampsKey]) {
      const ttl = await admin.ttl(k);
      expect(ttl).toBeGreaterThan(590);
      expect(ttl).toBeLessThanOrEqual(600);
      await admin.expire(k, 5);
    }
    await store.increment(CLUSTER, [I2]);
    expect(await admin.ttl(key)).toBeGreaterThan(590);
    expect(await admin.ttl(timestampsKey)).toBeGreaterThan(590);
  });

  test('default TTL is 24 hours', async () => {
    const store = newStore({ host: server.host, port: server.port });
    await store.increment(CLUSTER, [I1]);
    expect(await admin.ttl(store.keyOf(CLUSTER))).toBeGreaterThan(24 * 3600 - 10);
    expect(await admin.ttl(store.timestampsKeyOf(CLUSTER))).toBeGreaterThan(24 * 3600 - 10);
  });

  test('each count expires ttlSeconds after its own last increment, even while others keep counting', async () => {
    // Prepare: a 5-minute schedule (ttl 450 s) and a clock the test moves
    let nowMs = Date.UTC(2026, 0, 1, 12, 0, 0);
    const store = newStore({ host: server.host, port: server.port, ttlSeconds: 450, now: () => nowMs });
    const other = newStore({ host: server.host, port: server.port, ttlSeconds: 450, now: () => nowMs });
    expect((await store.increment(CLUSTER, [I1, I2])).counts).toEqual(new Map([[I1, 1], [I2, 1]]));
    // Act / Assess: one period later both counts are live; I2's clear "failed", so only I1 is incremented
    nowMs += 300_000;
    expect((await store.load(CLUSTER)).counts).toEqual(new Map([[I1, 1], [I2, 1]]));
    expect((await other.increment(CLUSTER, [I1])).counts).toEqual(new Map([[I1, 2]]));
    // 449 s after I2's last increment it is still live
    nowMs += 149_000;
    expect((await store.load(CLUSTER)).counts).toEqual(new Map([[I1, 2], [I2, 1]]));
    // 450 s after it, I2 has expired: not loaded, although the hash (kept alive by I1) still holds it
    nowMs += 1_000;
    expect((await store.load(CLUSTER)).counts).toEqual(new Map([[I1, 2]]));
    expect(await admin.hget(store.keyOf(CLUSTER), I2)).toBe('1');
    // I1 (last incremented 150 s ago) keeps counting; I2 restarts at 1 instead of carrying over
    expect((await store.increment(CLUSTER, [I1, I2])).counts).toEqual(new Map([[I1, 3], [I2, 1]]));
    expect((await store.load(CLUSTER)).counts).toEqual(new Map([[I1, 3], [I2, 1]]));
    expect(await admin.hget(store.timestampsKeyOf(CLUSTER), I2)).toBe(String(nowMs / 1000));
    // a stale count with a higher value restarts too: a count is always consecutive
    await admin.hset(store.keyOf(CLUSTER), I3, '7');
    await admin.hset(store.timestampsKeyOf(CLUSTER), I3, String(nowMs / 1000 - 450));
    expect((await store.load(CLUSTER)).counts).toEqual(new Map([[I1, 3], [I2, 1]]));
    expect((await store.increment(CLUSTER, [I3])).counts).toEqual(new Map([[I3, 1]]));
  });

  test('a count without a timestamp (written by the previous version) is loaded, and restarts at 1 when incremented', async () => {
    // Prepare
    let nowMs = Date.UTC(2026, 0, 1, 12, 0, 0);
    const store = newStore({ host: server.host, port: server.port, ttlSeconds: 450, now: () => nowMs });
    await admin.hset(store.keyOf(CLUSTER), I1, '4', I2, '2');
    // Act / Assess: loaded as before, so the caller can clear it...
    expect((await store.load(CLUSTER)).counts).toEqual(new Map([[I1, 4], [I2, 2]]));
    await store.clear(CLUSTER, [I2]);
    // ...or increment it, which does not trust its unknown age
    expect((await store.increment(CLUSTER, [I1])).counts).toEqual(new Map([[I1, 1]]));
    nowMs += 300_000;
    expect((await store.increment(CLUSTER, [I1])).counts).toEqual(new Map([[I1, 2]]));
    expect((await store.load(CLUSTER)).counts).toEqual(new Map([[I1, 2]]));
  });

  test('clear removes the count and its timestamp', async () => {
    const store = newStore({ host: server.host, port: server.port });
    await store.increment(CLUSTER, [I1, I2, I3]);
    await store.clear(CLUSTER, [I1, I3]);
    expect(Object.keys(await admin.hgetall(store.keyOf(CLUSTER)))).toEqual([I2]);
    expect(Object.keys(await admin.hgetall(store.timestampsKeyOf(CLUSTER)))).toEqual([I2]);
    await store.clear(CLUSTER, [I2]);
    expect(await admin.exists(store.keyOf(CLUSTER), store.timestampsKeyOf(CLUSTER))).toBe(0);
  });

  test('loads the script again after SCRIPT FLUSH (EVALSHA falls back to EVAL)', async () => {
    const store = newStore({ host: server.host, port: server.port });
    expect((await store.increment(CLUSTER, [I1])).counts).toEqual(new Map([[I1, 1]]));
    await admin.script('FLUSH');
    expect((await store.increment(CLUSTER, [I1])).counts).toEqual(new Map([[I1, 2]]));
  });

  test('a live field that is not a count is left out of increment and load; one without a timestamp restarts at 1', async () => {
    // Prepare
    const store = newStore({ host: server.host, port: server.port });
    const nowSeconds = Math.floor(Date.now() / 1000);
    await admin.hset(store.keyOf(CLUSTER), I2, 'garbage', I3, 'garbage');
    await admin.hset(store.timestampsKeyOf(CLUSTER), I2, String(nowSeconds));
    // Act
    const { counts } = await store.increment(CLUSTER, [I1, I2, I3]);
    // Assess
    expect(counts).toEqual(new Map([[I1, 1], [I3, 1]]));
    expect((await store.load(CLUSTER)).counts).toEqual(new Map([[I1, 1], [I3, 1]]));
    expect(await admin.hget(store.keyOf(CLUSTER), I2)).toBe('garbage');
    expect(await admin.hget(store.timestampsKeyOf(CLUSTER), I2)).toBe(String(nowSeconds));
  });

  test('fails with FailureStoreIncrementError when no instance could be incremented', async () => {
    const store = newStore({ host: server.host, port: server.port });
    const nowSeconds = String(Math.floor(Date.now() / 1000));
    await admin.hset(store.keyOf(CLUSTER), I1, 'garbage');
    await admin.hset(store.timestampsKeyOf(CLUSTER), I1, nowSeconds);
    await expect(store.increment(CLUSTER, [I1])).rejects.toThrow(FailureStoreIncrementError);
    await expect(store.increment(CLUSTER, [I1])).rejects.toThrow(/could not increment any of 1 instance.*not an integer/);
  });

  test('a key of the wrong type fails the whole increment before anything is written', async () => {
    // Prepare: the counts hash is fine, the timestamps key is not a hash
    const store = newStore({ host: server.host, port: server.port });
    await store.increment(CLUSTER, [I1]);
    await admin.set(store.timestampsKeyOf(CLUSTER), 'not a hash');
    // Act
    const error = await store.increment(CLUSTER, [I1, I2]).then(() => new Error('resolved'), (e) => e);
    // Assess: every instance failed (the caller acts on none), and no count moved
    expect(error).toBeInstanceOf(FailureStoreIncrementError);
    expect(error.message).toMatch(/could not increment any of 2 instance.*WRONGTYPE/);
    expect((error as FailureStoreIncrementError).failures.size).toBe(2);
    expect(await admin.hgetall(store.keyOf(CLUSTER))).toEqual({ [I1]: '1' });
    // the counts key of the wrong type fails the same way
    await admin.del(store.timestampsKeyOf(CLUSTER));
    await admin.set(store.keyOf(CLUSTER), 'not a hash');
    await expect(store.increment(CLUSTER, [I1])).rejects.toThrow(/could not increment any of 1 instance.*WRONGTYPE/);
    // load and clear reject as before
    await expect(store.load(CLUSTER)).rejects.toThrow(/HGETALL .* failed: .*WRONGTYPE/);
    await expect(store.clear(CLUSTER, [I1])).rejects.toThrow(/HDEL .* failed: .*WRONGTYPE/);
  });

  test('counts an instance at most once per period: a run within half a period of the last increment leaves it', async () => {
    // Prepare: a 5-minute schedule (gap 150 s, ttl 450 s)
    let nowMs = Date.UTC(2026, 0, 1, 12, 0, 0);
    const options = { host: server.host, port: server.port, ttlSeconds: 450, minIncrementGapSeconds: 150, now: () => nowMs };
    const store = newStore(options);
    const duplicate = newStore(options);
    // Act
    const [a, b] = await Promise.all([store.increment(CLUSTER, [I1, I2]), duplicate.increment(CLUSTER, [I1, I2])]);
    nowMs += 60_000;
    const late = await duplicate.increment(CLUSTER, [I1]);
    nowMs += 240_000; // the next scheduled run
    const next = await store.increment(CLUSTER, [I1]);
    // Assess: one of the two concurrent runs counted, the other was told so; the late one too
    expect([a, b].map((r) => [...r.counts.values()]).flat()).toEqual([1, 1]);
    expect([a, b].map((r) => r.alreadyCounted.size).sort()).toEqual([0, 2]);
    expect(late).toEqual({ counts: new Map(), alreadyCounted: new Set([I1]) });
    expect(next).toEqual({ counts: new Map([[I1, 2]]), alreadyCounted: new Set() });
  });

  test('keep moves a count\'s lifetime forward without adding to it (the outage guard\'s freeze)', async () => {
    let nowMs = Date.UTC(2026, 0, 1, 12, 0, 0);
    const store = newStore({ host: server.host, port: server.port, ttlSeconds: 450, now: () => nowMs });
    await store.increment(CLUSTER, [I1]);
    // Three outage runs: without keep, the count would expire 450 s after its increment
    for (let run = 1; run <= 3; run++) {
      nowMs += 300_000;
      await store.keep(CLUSTER, [I1]);
    }
    nowMs += 300_000;
    expect((await store.load(CLUSTER)).counts).toEqual(new Map([[I1, 1]]));
    expect((await store.increment(CLUSTER, [I1])).counts).toEqual(new Map([[I1, 2]]));
    expect(await admin.ttl(store.keyOf(CLUSTER))).toBeGreaterThan(440);
  });

  test('remembers detached instances in a hash of their own, loads them with the counts, and forgets them', async () => {
    const store = newStore({ host: server.host, port: server.port });
    const detachedAt = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));
    await store.rememberDetached(CLUSTER, { ec2InstanceId: 'i-0123456789abcdef0', group: 'prod-asg', detachedAt });
    await store.increment(CLUSTER, [I1]);

    const loaded = await store.load(CLUSTER);
    await store.forgetDetached(CLUSTER, ['i-0123456789abcdef0']);

    expect(loaded).toEqual({ counts: new Map([[I1, 1]]), detached: [{ ec2InstanceId: 'i-0123456789abcdef0', group: 'prod-asg', detachedAt }] });
    expect(store.detachedKeyOf(CLUSTER)).toBe(`ecs-agent-monitor:${CLUSTER}:detached`);
    expect((await store.load(CLUSTER)).detached).toEqual([]);
  });

  test('works as an ACL user with exactly the commands the README lists, and not without any of them', async () => {
    // Prepare: a user allowed only REDIS_ACL_COMMANDS on the key prefix
    const acl = (user: string, commands: readonly string[]) => admin.call('ACL', 'SETUSER', user, 'reset', 'on', '>acl-password',
      '~ecs-agent-monitor:*', ...commands.map((c) => `+${c.toLowerCase()}`));
    await acl('monitor', REDIS_ACL_COMMANDS);
    const exercise = async (user: string) => {
      const store = newStore({ host: server.host, port: server.port, username: user, password: 'acl-password', ttlSeconds: 600, minIncrementGapSeconds: 0 });
      await admin.script('FLUSH'); // the first increment must load the script (EVALSHA, then EVAL)
      await store.increment(CLUSTER, [I1, I2]);
      await store.load(CLUSTER);
      await store.keep(CLUSTER, [I1]);
      await store.rememberDetached(CLUSTER, { ec2InstanceId: 'i-0123456789abcdef0', group: 'g', detachedAt: new Date() });
      await store.forgetDetached(CLUSTER, ['i-0123456789abcdef0']);
      await store.clear(CLUSTER, [I1]);
    };
    // Act / Assess
    await expect(exercise('monitor')).resolves.toBeUndefined();
    expect(readmeAclCommands()).toEqual([...REDIS_ACL_COMMANDS]);
    for (const missing of REDIS_ACL_COMMANDS) {
      await acl(`without-${missing}`, REDIS_ACL_COMMANDS.filter((c) => c !== missing));
      // Refused as NOPERM; from a script as "can't run this command"; in a transaction as EXECABORT (or, without MULTI, EXEC fails).
      await expect(exercise(`without-${missing}`)).rejects.toThrow(/NOPERM|can't run this command|EXECABORT|EXEC without MULTI/);
    }
  });

  test('fails after close()', async () => {
    const store = newStore({ host: server.host, port: server.port });
    await store.load(CLUSTER);
    await store.close();
    await expect(store.load(CLUSTER)).rejects.toThrow(/after close\(\)/);
  });
});

/** The commands the README's failure store paragraph tells a Redis ACL user to allow, in its order. */
function readmeAclCommands(): string[] {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'README.md'), 'utf8').replace(/\s+/g, ' ');
  const sentence = /a Redis ACL user needs (.*?) on the key prefix/.exec(readme);
  if (!sentence) throw new Error('README.md no longer says which commands a Redis ACL user needs');
  return [...sentence[1].matchAll(/`([A-Z]+)`/g)].map((m) => m[1]);
}

describe('RedisFailureStore with AUTH', () => {
  let server: RunningRedisServer;
  beforeAll(async () => {
    server = await startRedisServer({ password: 's3cret-token' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('works with the password', async () => {
    const store = newStore({ host: server.host, port: server.port, password: 's3cret-token' });
    expect((await store.increment(CLUSTER, [I1])).counts).toEqual(new Map([[I1, 1]]));
  });

  test('fails clearly without a password', async () => {
    const store = newStore({ host: server.host, port: server.port });
    await expect(store.load(CLUSTER)).rejects.toThrow(/failure store \(Redis redis:\/\/127\.0\.0\.1:\d+\): HGETALL .* failed: .*NOAUTH/);
  });

  test('fails clearly with a wrong password, without echoing it', async () => {
    const store = newStore({ host: server.host, port: server.port, password: 'wrong-password' });
    const started = Date.now();
    const error: Error = await store.increment(CLUSTER, [I1]).then(() => new Error('resolved'), (e) => e);
    expect(error.message).toMatch(/failed: .*WRONGPASS/);
    expect(error.message).not.toContain('wrong-password');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('createFailureStore reads the AUTH token from Secrets Manager once', async () => {
    // Prepare
    const secrets = mockClient(SecretsManagerClient);
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redis-auth-AbCdEf';
    secrets.on(GetSecretValueCommand, { SecretId: arn }).resolves({ SecretString: JSON.stringify({ password: 's3cret-token' }) });
    try {
      const config = { kind: 'redis' as const, host: server.host, port: server.port, authSecretArn: arn };
      // Act
      const first = await createFailureStore(config);
      const second = await createFailureStore(config);
      // Assess
      try {
        expect((await first.increment('secret-cluster', [I1])).counts).toEqual(new Map([[I1, 1]]));
        expect((await second.load('secret-cluster')).counts).toEqual(new Map([[I1, 1]]));
        expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
      } finally {
        await first.close();
        await second.close();
      }
    } finally {
      secrets.restore();
    }
  });
});

describe('RedisFailureStore over TLS', () => {
  let server: RunningRedisServer;
  beforeAll(async () => {
    server = await startRedisServer({ tls: true, password: 'tls-token' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('connects with the CA', async () => {
    const store = newStore({ host: server.host, port: server.port, password: 'tls-token', tls: { ca: server.ca } });
    expect((await store.increment(CLUSTER, [I1])).counts).toEqual(new Map([[I1, 1]]));
    expect((await store.load(CLUSTER)).counts).toEqual(new Map([[I1, 1]]));
  });

  test('connects to a host name with SNI', async () => {
    const store = newStore({ host: 'localhost', port: server.port, password: 'tls-token', tls: { ca: server.ca } });
    expect(redisClientOptions({ host: 'localhost', tls: true }).tls).toEqual({ servername: 'localhost' });
    // localhost may resolve to ::1 first, where nothing listens; the store must still work or fail clearly
    await expect(store.load(CLUSTER)).resolves.toEqual({ counts: expect.any(Map), detached: [] });
  });

  test('refuses a server certificate it cannot verify', async () => {
    const store = newStore({ host: server.host, port: server.port, password: 'tls-token', tls: true });
    await expect(store.load(CLUSTER)).rejects.toThrow(/rediss:\/\/127\.0\.0\.1:\d+.*(self[- ]signed|unable to (get|verify)|certificate)/i);
  });

  test('a plain-text client cannot talk to the TLS port', async () => {
    const store = newStore({ host: server.host, port: server.port, password: 'tls-token' });
    const started = Date.now();
    await expect(store.load(CLUSTER)).rejects.toThrow(/failure store \(Redis redis:\/\/127\.0\.0\.1:\d+\)/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('RedisFailureStore when Redis is down', () => {
  test('increment rejects fast when nothing listens', async () => {
    const port = await freePort();
    const store = newStore({ host: '127.0.0.1', port });
    const started = Date.now();
    await expect(store.increment(CLUSTER, [I1])).rejects.toThrow(/failure store \(Redis redis:\/\/127\.0\.0\.1:\d+\): EVALSHA .* failed: .*ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('increment rejects fast when the server dies after connecting, and recovers when it is back', async () => {
    // Prepare
    const server = await startRedisServer();
    const store = newStore({ host: server.host, port: server.port });
    let restarted: RunningRedisServer | undefined;
    try {
      await store.increment(CLUSTER, [I1]);
      await server.stop();
      // Act
      const started = Date.now();
      const result = store.increment(CLUSTER, [I1]);
      // Assess
      await expect(result).rejects.toThrow(/failure store \(Redis .*\): EVALSHA .* failed/);
      expect(Date.now() - started).toBeLessThan(5000);
      await expect(store.load(CLUSTER)).rejects.toThrow(/failure store/); // still down, still fast
      // the next run of the same container reconnects once Redis is back (data was not persisted)
      restarted = await startRedisServer({ port: server.port });
      expect((await store.increment(CLUSTER, [I1])).counts).toEqual(new Map([[I1, 1]]));
    } finally {
      await server.stop();
      await restarted?.stop();
    }
  });

  test('increment rejects within the command timeout when the server accepts but never answers', async () => {
    // Prepare: a black hole on loopback
    const sockets: Socket[] = [];
    const blackHole: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const port = (blackHole.address() as { port: number }).port;
    const store = newStore({ host: '127.0.0.1', port });
    try {
      // Act
      const started = Date.now();
      await expect(store.increment(CLUSTER, [I1])).rejects.toThrow(/failure store \(Redis .*\): EVALSHA .* failed: .*timed out/i);
      // Assess
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await store.close();
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => blackHole.close(resolve));
    }
  });
});

describe('redisClientOptions', () => {
  test('lazy, short timeouts, bounded retries, no SNI for an IP', () => {
    const options = redisClientOptions({ host: '10.0.0.1', tls: true, password: 'x' });
    expect(options).toMatchObject({
      host: '10.0.0.1',
      port: 6379,
      lazyConnect: true,
      connectTimeout: 2000,
      commandTimeout: 2000,
      maxRetriesPerRequest: 1,
      tls: {},
      enableReadyCheck: false,
    });
    expect(options.retryStrategy!(1)).toBe(100);
    expect(options.retryStrategy!(2)).toBe(200);
    expect(options.retryStrategy!(3)).toBeNull();
    expect(redisClientOptions({ host: 'h' }).tls).toBeUndefined();
    expect(redisClientOptions({ host: 'h', tls: false }).tls).toBeUndefined();
  });
});
