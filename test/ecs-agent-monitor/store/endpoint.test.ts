import {
  DescribeReplicationGroupsCommand,
  ElastiCacheClient,
  ReplicationGroup,
  ReplicationGroupNotFoundFault,
} from '@aws-sdk/client-elasticache';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createFailureStore } from '../../../lambda/ecs-agent-monitor/store';
import { resolveRedisEndpoint } from '../../../lambda/ecs-agent-monitor/store/redis';

const elastiCache = mockClient(ElastiCacheClient);
afterEach(() => {
  elastiCache.reset();
});

// The endpoint cache lives for the container: every test uses its own group id.
function group(id: string, overrides: Partial<ReplicationGroup> = {}): ReplicationGroup {
  return {
    ReplicationGroupId: id,
    Status: 'available',
    ClusterEnabled: false,
    TransitEncryptionEnabled: true,
    AuthTokenEnabled: true,
    NodeGroups: [{
      NodeGroupId: '0001',
      PrimaryEndpoint: { Address: `${id}.abc123.ng.0001.euw1.cache.amazonaws.com`, Port: 6380 },
      ReaderEndpoint: { Address: `${id}-ro.abc123.ng.0001.euw1.cache.amazonaws.com`, Port: 6380 },
    }],
    ...overrides,
  };
}

test('an explicit host needs no lookup', async () => {
  expect(await resolveRedisEndpoint({ host: 'redis.internal' })).toEqual({ host: 'redis.internal', port: 6379 });
  expect(await resolveRedisEndpoint({ host: 'redis.internal', port: 6380 })).toEqual({ host: 'redis.internal', port: 6380 });
  expect(elastiCache).not.toHaveReceivedCommand(DescribeReplicationGroupsCommand);
});

test('uses the primary endpoint, in-transit encryption and AUTH flags of the replication group', async () => {
  // Prepare
  elastiCache.on(DescribeReplicationGroupsCommand, { ReplicationGroupId: 'primary' }).resolves({ ReplicationGroups: [group('primary')] });
  // Act
  const endpoint = await resolveRedisEndpoint({ replicationGroupId: 'primary' });
  // Assess
  expect(endpoint).toEqual({
    host: 'primary.abc123.ng.0001.euw1.cache.amazonaws.com', port: 6380, tls: true, authTokenEnabled: true,
  });
  expect(elastiCache).toHaveReceivedCommandWith(DescribeReplicationGroupsCommand, { ReplicationGroupId: 'primary' });
});

test('TLS is off when the group has no in-transit encryption', async () => {
  elastiCache.on(DescribeReplicationGroupsCommand).resolves({
    ReplicationGroups: [group('plain', { TransitEncryptionEnabled: false, AuthTokenEnabled: false })],
  });
  expect(await resolveRedisEndpoint({ replicationGroupId: 'plain' })).toMatchObject({ tls: false, authTokenEnabled: false });
});

test('describes a group once for two resolutions', async () => {
  elastiCache.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [group('cached')] });
  const [first, second] = await Promise.all([
    resolveRedisEndpoint({ replicationGroupId: 'cached' }),
    resolveRedisEndpoint({ replicationGroupId: 'cached' }),
  ]);
  const third = await resolveRedisEndpoint({ replicationGroupId: 'cached' });
  expect(second).toEqual(first);
  expect(third).toEqual(first);
  expect(elastiCache).toHaveReceivedCommandTimes(DescribeReplicationGroupsCommand, 1);
});

test('fails when cluster mode is enabled', async () => {
  elastiCache.on(DescribeReplicationGroupsCommand).resolves({
    ReplicationGroups: [group('sharded', {
      ClusterEnabled: true,
      ConfigurationEndpoint: { Address: 'sharded.abc123.clustercfg.euw1.cache.amazonaws.com', Port: 6379 },
      NodeGroups: [{ NodeGroupId: '0001' }, { NodeGroupId: '0002' }],
    })],
  });
  await expect(resolveRedisEndpoint({ replicationGroupId: 'sharded' }))
    .rejects.toThrow(/replication group sharded has cluster mode enabled \(configuration endpoint sharded\.abc123\.clustercfg.*cluster-mode-disabled groups only/);
});

test('fails when the group is not found', async () => {
  elastiCache.on(DescribeReplicationGroupsCommand).rejects(
    new ReplicationGroupNotFoundFault({ message: 'ReplicationGroup missing not found.', $metadata: {} }));
  await expect(resolveRedisEndpoint({ replicationGroupId: 'missing' }))
    .rejects.toThrow(/ElastiCache replication group missing not found \(check REDIS_REPLICATION_GROUP_ID/);
});

test('fails while the group has no endpoint yet, and looks again next time', async () => {
  // Prepare
  elastiCache.on(DescribeReplicationGroupsCommand)
    .resolvesOnce({ ReplicationGroups: [group('creating', { Status: 'creating', NodeGroups: [{ NodeGroupId: '0001', Status: 'creating' }] })] })
    .resolves({ ReplicationGroups: [group('creating')] });
  // Act / Assess
  await expect(resolveRedisEndpoint({ replicationGroupId: 'creating' }))
    .rejects.toThrow(/replication group creating has no primary endpoint yet \(status creating\)/);
  await expect(resolveRedisEndpoint({ replicationGroupId: 'creating' }))
    .resolves.toMatchObject({ host: 'creating.abc123.ng.0001.euw1.cache.amazonaws.com' });
  expect(elastiCache).toHaveReceivedCommandTimes(DescribeReplicationGroupsCommand, 2);
});

test('fails on other describe errors with the group id', async () => {
  elastiCache.on(DescribeReplicationGroupsCommand).rejects(new Error('User is not authorized to perform elasticache:DescribeReplicationGroups'));
  await expect(resolveRedisEndpoint({ replicationGroupId: 'denied' }))
    .rejects.toThrow(/could not describe ElastiCache replication group denied: User is not authorized/);
});

test('fails without a host or a group id', async () => {
  await expect(resolveRedisEndpoint({})).rejects.toThrow(/either a host or an ElastiCache replication group id/);
});

test('createFailureStore fails when the group requires AUTH and no secret is configured', async () => {
  elastiCache.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [group('needs-auth')] });
  await expect(createFailureStore({ kind: 'redis', replicationGroupId: 'needs-auth' }))
    .rejects.toThrow(/needs-auth requires an AUTH token, but REDIS_AUTH_SECRET_ARN is not set/);
});
