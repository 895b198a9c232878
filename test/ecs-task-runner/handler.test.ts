/**
 * Scenario tests of the EcsTaskRunner handlers as CloudFormation and the Provider framework drive them (support/runner.ts),
 * with the properties a synthesized runner writes, against the fake fleet, fake CloudWatch Logs and, for the stack's
 * status, the AWS stand-in.
 */
jest.mock('@aws-sdk/client-ecs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ecs'));
jest.mock('@aws-sdk/client-cloudwatch-logs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-cloudwatch-logs'));

import { RunTaskCommand } from '@aws-sdk/client-ecs';
import { Duration } from 'aws-cdk-lib';
import { FakeLogs } from './support/fake-logs';
import {
  ACCOUNT, CLUSTER_ARN, CloudFormationResource, EXECUTION_ROLE, Handlers, REGION, SECURITY_GROUP, STACK_NAME, SUBNETS, StdoutCapture,
  Synthesized, TASK_ROLE, loadHandlers, synthesize, useFakeClock,
} from './support/runner';
import { startedByFor } from '../../lambda/ecs-task-runner/core';
import { RunOn, SuccessCriteria, TaskLaunchTarget } from '../../src';
import { AwsStandin } from '../support/aws-standin';
import { FakeFleet, TaskBehavior } from '../support/fake-fleet';
import { serverError } from '../support/fake-fleet/errors';

const T0 = new Date('2026-03-02T08:00:00.000Z');
const LOG_GROUP = '/ecs/migrate';
const ORIGINAL_ENV = { ...process.env };

let fleet: FakeFleet;
let logs: FakeLogs;
let standin: AwsStandin;
let stdout: StdoutCapture;
let handlers: Handlers;

beforeAll(async () => {
  standin = await new AwsStandin().start();
});

afterAll(async () => {
  await standin.stop();
});

beforeEach(() => {
  useFakeClock(T0);
  Object.assign(process.env, {
    AWS_REGION: REGION, AWS_ENDPOINT_URL: standin.url, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token',
  });
  standin.reset();
  stackStatus('UPDATE_IN_PROGRESS');
  fleet = new FakeFleet({ region: REGION, accountId: ACCOUNT, now: () => new Date() }).install();
  logs = new FakeLogs(REGION, ACCOUNT).install();
  fleet.addCluster('prod');
  registerMigrate();
  stdout = new StdoutCapture().start();
  handlers = loadHandlers();
});

afterEach(() => {
  stdout.stop();
  logs.uninstall();
  fleet.uninstall();
  jest.useRealTimers();
  process.env = { ...ORIGINAL_ENV };
});

/** The task definition migrate (app, essential, and a non-essential envoy sidecar), revision 1, 2, ... */
function registerMigrate(environment: Record<string, string> = { DB_HOST: 'db-1', LOG_LEVEL: 'info' }) {
  return fleet.registerTaskDefinition('migrate', {
    containers: [
      {
        name: 'app',
        environment,
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': LOG_GROUP, 'awslogs-region': REGION, 'awslogs-stream-prefix': 'migrate' } },
      },
      { name: 'envoy', essential: false },
    ],
    networkMode: 'awsvpc',
    requiresCompatibilities: ['EC2', 'FARGATE'],
    taskRoleArn: TASK_ROLE,
    executionRoleArn: EXECUTION_ROLE,
  });
}

function stackStatus(status: string) {
  standin.on('cloudformation', 'DescribeStacks', { Stacks: [{ StackName: STACK_NAME, StackStatus: status, CreationTime: new Date() }] });
}

/** A runner synthesized with these props (the task definition migrate:1, Fargate in the VPC's subnets by default). */
function runnerWith(props: Parameters<typeof synthesize>[0] = () => ({})): { resource: CloudFormationResource; synthesized: Synthesized } {
  const synthesized = synthesize((u) => ({
    containerOverrides: [{ containerName: 'app', command: ['npm', 'run', 'migrate'], environment: { STEP: '1' } }],
    launchTarget: TaskLaunchTarget.fargate({ securityGroups: [u.securityGroup] }),
    ...props(u),
  }));
  return { resource: new CloudFormationResource(handlers, synthesized), synthesized };
}

/** A runner that starts its tasks with StartTask on these container instances. */
function onInstances(arns: string[]) {
  return runnerWith((u) => ({ launchTarget: TaskLaunchTarget.containerInstances(arns, { securityGroups: [u.securityGroup] }) }));
}

function behave(behavior: TaskBehavior) {
  fleet.setTaskBehavior('migrate', behavior);
}

const runTaskInputs = () => fleet.callsTo('ecs', 'RunTask').map((c) => c.input);
const stopTaskInputs = () => fleet.callsTo('ecs', 'StopTask').map((c) => c.input);
const tasks = () => [...fleet.tasks.values()];
/** The first line of a reason: what our handler wrote (the framework adds the "Logs:" line). */
const ourPart = (reason?: string) => reason?.split('\n')[0];

describe('create', () => {
  test('runs the task with the resource\'s overrides, network and tags, and succeeds when it exits 0', async () => {
    // Prepare
    const { resource, synthesized } = runnerWith();

    // Act
    const outcome = await resource.create();

    // Assess
    expect(outcome).toMatchObject({ status: 'SUCCESS', physicalResourceId: expect.stringMatching(/^ecs-task-runner-[0-9a-f]{20}$/), polls: 3 });
    expect(runTaskInputs()).toEqual([{
      cluster: CLUSTER_ARN,
      taskDefinition: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/migrate:1`,
      count: 1,
      clientToken: expect.stringMatching(/^[0-9a-f]{64}$/),
      launchType: 'FARGATE',
      startedBy: outcome.physicalResourceId,
      networkConfiguration: { awsvpcConfiguration: { subnets: SUBNETS, securityGroups: [SECURITY_GROUP], assignPublicIp: 'DISABLED' } },
      overrides: { containerOverrides: [{ name: 'app', command: ['npm', 'run', 'migrate'], environment: [{ name: 'STEP', value: '1' }] }] },
      tags: [
        { key: 'cdk-ecs-ops:stack', value: STACK_NAME },
        { key: 'cdk-ecs-ops:resource', value: synthesized.logicalId },
        { key: 'cdk-ecs-ops:request', value: expect.stringMatching(/^request-\d+$/) },
      ],
    }]);
    expect(tasks().map((t) => t.lastStatus)).toEqual(['STOPPED']);
    expect(logs.calls).toEqual([]);
  });

  test('fails with the essential container\'s exit code, the stop code and reason, and its last log lines', async () => {
    // Prepare
    const { resource, synthesized } = runnerWith();
    behave({ outcome: { exitCode: 1, containers: { envoy: { exitCode: 0 } } } });
    const onEvent = handlers.onEvent;
    handlers.onEvent = async (event) => {
      const result = await onEvent(event);
      const id = result.EcsTaskRunner.Tasks![0].split('/').pop()!;
      logs.write(LOG_GROUP, `migrate/app/${id}`, 'Running migration 0042_add_index', 'ERROR: relation "users" does not exist', 'Migration failed');
      return result;
    };

    // Act
    const outcome = await resource.create();

    // Assess
    const task = tasks()[0];
    expect(outcome.status).toBe('FAILED');
    expect(outcome.reason).toBe(
      `The ECS task failed. Task ${task.arn} (migrate:1) failed: container app exited with code 1 `
      + '(stopped: EssentialContainerExited: Essential container in task exited). '
      + 'Last log lines of app: "Running migration 0042_add_index" | "ERROR: relation \\"users\\" does not exist" | "Migration failed". '
      + `Logs: https://${REGION}.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/${task.id}/logs?region=${REGION}`
      + `\n\nLogs: /aws/lambda/${synthesized.functionNames.isComplete}\n`);
    expect(logs.calls).toEqual([{ logGroupName: LOG_GROUP, logStreamName: `migrate/app/${task.id}`, limit: 5, startFromHead: false }]);
  });

  test('a sidecar that exits 0 does not hide the main container\'s failure; a failing sidecar fails only ALL_CONTAINERS', async () => {
    // Prepare + Act: the main container fails, the sidecar exits 0
    behave({ outcome: { containers: { app: { exitCode: 2 }, envoy: { exitCode: 0 } } } });
    const mainFails = await runnerWith().resource.create();
    // the main container exits 0, the sidecar is killed
    behave({ outcome: { containers: { app: { exitCode: 0 }, envoy: { exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' } } } });
    const essentialOnly = await runnerWith().resource.create();
    const all = await runnerWith(() => ({ successCriteria: SuccessCriteria.ALL_CONTAINERS })).resource.create();
    const named = await runnerWith(() => ({ successCriteria: SuccessCriteria.containers(['envoy']) })).resource.create();

    // Assess
    expect(ourPart(mainFails.reason)).toMatch(/failed: container app exited with code 2 \(stopped: EssentialContainerExited/);
    expect(ourPart(mainFails.reason)).not.toMatch(/envoy/);
    expect(essentialOnly.status).toBe('SUCCESS');
    for (const outcome of [all, named]) {
      expect(ourPart(outcome.reason)).toMatch(/failed: container envoy exited with code 137 \(OutOfMemoryError: Container killed due to memory usage\)/);
    }
  });

  test('a task that never started: its stop code and reason (CannotPullContainerError), without exit codes', async () => {
    // Prepare
    const pull = 'CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref public.ecr.aws/acme/migrate:42: not found';
    behave({ lifecycle: ['PENDING', 'STOPPED'], outcome: { stopCode: 'TaskFailedToStart', stoppedReason: pull, containers: { app: { reason: pull } } } });
    const { resource } = runnerWith();

    // Act
    const outcome = await resource.create();

    // Assess
    const task = tasks()[0];
    expect(ourPart(outcome.reason)).toBe(`The ECS task failed. Task ${task.arn} (migrate:1) never started: TaskFailedToStart: ${pull}. `
      + `Logs: https://${REGION}.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/${task.id}/logs?region=${REGION}`);
    // No log stream exists for a container that never ran: the read fails quietly and the link stays.
    expect(logs.calls).toHaveLength(1);
  });

  test('a placement failure (RESOURCE:MEMORY) fails in onEvent with the failures list, and the delete that follows is ignored', async () => {
    // Prepare
    fleet.addAutoScalingGroup('prod-asg', { instances: 2, cluster: 'prod' });
    behave({ placementFailure: 'RESOURCE:MEMORY' });
    const { resource, synthesized } = runnerWith((u) => ({ launchTarget: TaskLaunchTarget.ec2({ securityGroups: [u.securityGroup] }) }));

    // Act
    const created = await resource.create();

    // Assess
    expect(created).toMatchObject({ status: 'FAILED', physicalResourceId: 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED', polls: 0 });
    expect(created.reason).toBe(`RunTask started 0 of 1 task(s) in cluster prod: RESOURCE:MEMORY on ${fleet.containerInstancesOf('prod')[0].arn}.`
      + `\n\nLogs: /aws/lambda/${synthesized.functionNames.onEvent}\n`);
    expect(tasks()).toEqual([]);
  });

  test('a launch that half succeeds (StartTask: one instance\'s agent is disconnected) stops what started and fails', async () => {
    // Prepare
    fleet.addAutoScalingGroup('prod-asg', { instances: 2, cluster: 'prod' });
    const [a, b] = fleet.containerInstancesOf('prod');
    fleet.setAgentConnected(b.arn, false);
    const { resource } = onInstances([a.arn, b.arn]);

    // Act
    const outcome = await resource.create();

    // Assess
    const started = tasks()[0];
    expect(ourPart(outcome.reason)).toBe(`StartTask started 1 of 2 task(s) in cluster prod: AGENT on ${b.arn}. `
      + `Stopped the 1 task(s) that did start: ${started.arn}.`);
    expect(stopTaskInputs()).toEqual([{ cluster: CLUSTER_ARN, task: started.arn, reason: 'EcsTaskRunner: StartTask could not start every task' }]);
    expect(started.desiredStatus).toBe('STOPPED');
  });

  test('timeout: stops the task that still runs and fails before CloudFormation\'s ServiceTimeout, saying so', async () => {
    // Prepare
    behave({ lifecycle: ['PENDING', 'RUNNING'] });
    const { resource, synthesized } = runnerWith(() => ({ timeout: Duration.minutes(5), pollInterval: Duration.seconds(30) }));

    // Act
    const outcome = await resource.create();

    // Assess
    const task = tasks()[0];
    expect(ourPart(outcome.reason)).toBe('Timed out: the ECS task (migrate:1) did not finish within 3 min 30 s (timeout 5 min, less the poll interval '
      + `and a minute to report). Stopped 1 task(s): ${task.arn} (RUNNING). `
      + `Logs: https://${REGION}.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/${task.id}/logs?region=${REGION}`);
    expect(stopTaskInputs()).toEqual([{ cluster: CLUSTER_ARN, task: task.arn, reason: 'EcsTaskRunner: not finished within 210 s (timeout 300 s)' }]);
    expect(task.desiredStatus).toBe('STOPPED');
    // It answered after the deadline (210 s) and before CloudFormation gives up (300 s), within one poll of the deadline.
    expect(outcome.elapsedSeconds).toBeGreaterThanOrEqual(210);
    expect(outcome.elapsedSeconds).toBeLessThan(210 + synthesized.pollSeconds + 1);
    expect(outcome.elapsedSeconds).toBeLessThan(synthesized.serviceTimeoutSeconds);
  });

  test('count 3: all three must succeed; when one fails, the others still running are stopped and the run fails at once', async () => {
    // Prepare
    const { resource } = runnerWith(() => ({ count: 3 }));

    // Act: three tasks that succeed
    const ok = await resource.create();
    // ... then three that run until one of them fails
    behave({ lifecycle: ['PENDING', 'RUNNING'] });
    const second = runnerWith(() => ({ count: 3 }));
    const onEvent = handlers.onEvent;
    handlers.onEvent = async (event) => {
      const result = await onEvent(event);
      fleet.setTaskStatus(result.EcsTaskRunner.Tasks![1], 'RUNNING');
      fleet.setTaskStatus(result.EcsTaskRunner.Tasks![1], 'STOPPED', { exitCode: 3 });
      return result;
    };
    const failed = await second.resource.create();

    // Assess
    expect(ok.status).toBe('SUCCESS');
    expect(runTaskInputs()[0]).toMatchObject({ count: 3 });
    const run = failed.onEventResult!.EcsTaskRunner.Tasks!;
    expect(ourPart(failed.reason)).toMatch(new RegExp(`^1 of 3 ECS tasks failed\\. Task ${run[1]} \\(migrate:1\\) failed: container app exited with code 3 .*`
      + 'Stopped the other 2 task\\(s\\), still running\\.'));
    expect(stopTaskInputs().map((s) => s.task).sort()).toEqual([run[0], run[2]].sort());
    expect(failed.polls).toBe(1);
  });

  test('container instances: StartTask starts one task on each, and the run succeeds when all do', async () => {
    // Prepare
    fleet.addAutoScalingGroup('prod-asg', { instances: 3, cluster: 'prod' });
    const instances = fleet.containerInstancesOf('prod').map((ci) => ci.arn);
    const { resource } = onInstances(instances);

    // Act
    const outcome = await resource.create();

    // Assess
    expect(outcome.status).toBe('SUCCESS');
    expect(fleet.callsTo('ecs', 'RunTask')).toEqual([]);
    expect(fleet.callsTo('ecs', 'StartTask').map((c) => c.input.containerInstances)).toEqual([instances]);
    expect(tasks().map((t) => t.containerInstanceArn).sort()).toEqual([...instances].sort());
  });

  test('a duplicate delivery of the create request starts nothing more and hands on the same run', async () => {
    // Prepare
    const { resource, synthesized } = runnerWith();
    const request = resource.request('create', synthesized.properties, 'the-one-request');

    // Act
    const first = await handlers.onEvent(request);
    const again = await handlers.onEvent(structuredClone(request));

    // Assess: the same answer, so the framework's StartExecution (named after the request) is idempotent too
    expect(again).toEqual(first);
    expect(fleet.tasks.size).toBe(1);
    const tokens = runTaskInputs().map((i) => i.clientToken);
    expect(tokens).toHaveLength(2);
    expect(new Set(tokens).size).toBe(1);
  });

  test('a duplicate delivery of a StartTask create finds the tasks of its request by their tag', async () => {
    // Prepare
    fleet.addAutoScalingGroup('prod-asg', { instances: 2, cluster: 'prod' });
    const instances = fleet.containerInstancesOf('prod').map((ci) => ci.arn);
    const { resource, synthesized } = onInstances(instances);
    const request = resource.request('create', synthesized.properties, 'start-request');
    const other = resource.request('create', synthesized.properties, 'another-request');

    // Act
    const first = await handlers.onEvent(request);
    const again = await handlers.onEvent(structuredClone(request));
    const another = await handlers.onEvent(other);

    // Assess
    expect(again).toEqual(first);
    expect(fleet.callsTo('ecs', 'StartTask')).toHaveLength(2);
    expect(another.EcsTaskRunner.Tasks).not.toEqual(first.EcsTaskRunner.Tasks);
    expect(fleet.tasks.size).toBe(4);
  });

  test('runOn without CREATE: the create succeeds without running anything', async () => {
    const { resource } = runnerWith(() => ({ runOn: [RunOn.UPDATE] }));

    const outcome = await resource.create();

    expect(outcome).toMatchObject({ status: 'SUCCESS', polls: 1, physicalResourceId: expect.stringMatching(/^ecs-task-runner-/) });
    // It only looked for what an earlier failed create of the resource may have left running.
    expect(fleet.calls.map((c) => c.command)).toEqual(['ListTasks']);
  });

  test('a create stops what an earlier failed create of the resource left running (the framework skipped its delete)', async () => {
    // Prepare: a task of the resource from an earlier request still runs
    const { resource } = runnerWith(() => ({ runOn: [RunOn.UPDATE] }));
    const physicalId = startedByFor(resource.synthesized.stackId, resource.synthesized.logicalId);
    const left = fleet.addTask('prod', { taskDefinition: 'migrate', startedBy: physicalId, tags: { 'cdk-ecs-ops:request': 'an-earlier-request' } });

    // Act
    const outcome = await resource.create();

    // Assess
    expect(outcome.status).toBe('SUCCESS');
    expect(stopTaskInputs()).toEqual([{ cluster: CLUSTER_ARN, task: left.arn, reason: 'EcsTaskRunner: a later request of the resource replaces this run' }]);
    expect(left.desiredStatus).toBe('STOPPED');
  });
});

describe('update', () => {
  /** A resource created (its task ran), with the recorders reset. */
  async function created(props: Parameters<typeof runnerWith>[0] = () => ({})) {
    const { resource, synthesized } = runnerWith(props);
    expect((await resource.create()).status).toBe('SUCCESS');
    fleet.resetCalls();
    logs.calls.length = 0;
    return { resource, synthesized };
  }

  /** The resource's properties with `change` applied. */
  function changed(resource: CloudFormationResource, change: (p: Record<string, any>) => void): Record<string, any> {
    const next = structuredClone(resource.properties!);
    change(next);
    return next;
  }

  const newRevision = (p: Record<string, any>) => { p.TaskDefinition = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/migrate:2`; };

  test('a new task definition revision runs the task again, keeping the physical id', async () => {
    const { resource } = await created();
    registerMigrate({ DB_HOST: 'db-1', LOG_LEVEL: 'debug' });
    const before = resource.physicalResourceId;

    const outcome = await resource.update(changed(resource, newRevision));

    expect(outcome).toMatchObject({ status: 'SUCCESS', physicalResourceId: before });
    expect(runTaskInputs().map((i) => i.taskDefinition)).toEqual([`arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/migrate:2`]);
    // The stack's status was read: a rollback would not have run it.
    expect(standin.callsTo('cloudformation', 'DescribeStacks')).toHaveLength(1);
    expect(standin.callsTo('cloudformation', 'DescribeStacks')[0].input).toMatchObject({ StackName: resource.request('delete', {}).StackId });
  });

  test('an update of the timeout alone succeeds without running, keeping the physical id', async () => {
    const { resource } = await created();

    const outcome = await resource.update(changed(resource, (p) => { p.TimeoutSeconds = 900; p.RunSeconds = 825; }));

    expect(outcome).toMatchObject({ status: 'SUCCESS', physicalResourceId: resource.physicalResourceId, polls: 1 });
    // It only looked for a run of an earlier request that still runs (there is none).
    expect(fleet.calls.map((c) => c.command)).toEqual(['ListTasks']);
    expect(fleet.calls[0].input).toMatchObject({ cluster: CLUSTER_ARN, startedBy: resource.physicalResourceId, desiredStatus: 'RUNNING' });
    expect(standin.callsTo('cloudformation', 'DescribeStacks')).toEqual([]);
  });

  test('updateCriteria: runs when DB_HOST changed in the new task definition, not when only LOG_LEVEL did', async () => {
    const { resource } = await created(() => ({ updateCriteria: [{ containerName: 'app', environmentKeys: ['DB_HOST'] }] }));
    registerMigrate({ DB_HOST: 'db-1', LOG_LEVEL: 'debug' }); // migrate:2, DB_HOST unchanged
    registerMigrate({ DB_HOST: 'db-2', LOG_LEVEL: 'debug' }); // migrate:3, DB_HOST changed

    const unchanged = await resource.update(changed(resource, newRevision));
    const describedFirst = fleet.callsTo('ecs', 'DescribeTaskDefinition').map((c) => c.input.taskDefinition).sort();
    const moved = await resource.update(changed(resource, (p) => { p.TaskDefinition = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/migrate:3`; }));

    expect(unchanged).toMatchObject({ status: 'SUCCESS', onEventResult: { EcsTaskRunner: { Run: false, Why: 'none of the updateCriteria values changed' } } });
    expect(describedFirst).toEqual([1, 2].map((r) => `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/migrate:${r}`));
    expect(moved).toMatchObject({ status: 'SUCCESS', onEventResult: { EcsTaskRunner: { Run: true, Why: 'updateCriteria changed: app.DB_HOST' } } });
    expect(runTaskInputs().map((i) => i.taskDefinition)).toEqual([`arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/migrate:3`]);
  });

  test('updateCriteria: a changed override value counts as the value the container runs with', async () => {
    const { resource } = await created(() => ({ updateCriteria: [{ containerName: 'app', environmentKeys: ['STEP'] }] }));

    const outcome = await resource.update(changed(resource, (p) => { p.ContainerOverrides[0].Environment[0].Value = '2'; }));

    expect(outcome.onEventResult!.EcsTaskRunner).toMatchObject({ Run: true, Why: 'updateCriteria changed: app.STEP' });
    expect(runTaskInputs()[0].overrides.containerOverrides[0].environment).toEqual([{ name: 'STEP', value: '2' }]);
  });

  test('triggers: a changed trigger runs the task even when runOn has only CREATE', async () => {
    const { resource } = await created(() => ({ runOn: [RunOn.CREATE], triggers: { schema: '41' } }));
    registerMigrate();

    const same = await resource.update(changed(resource, newRevision));
    const bumped = await resource.update(changed(resource, (p) => { p.Triggers.schema = '42'; }));

    expect(same.onEventResult!.EcsTaskRunner).toMatchObject({ Run: false, Why: 'runOn does not include UPDATE and no trigger changed' });
    expect(bumped.onEventResult!.EcsTaskRunner).toMatchObject({ Run: true, Why: 'triggers changed: schema' });
    expect(runTaskInputs()).toHaveLength(1);
  });

  test('rollback: the update CloudFormation makes while it rolls back runs nothing, unless runOnRollback', async () => {
    const { resource } = await created();
    registerMigrate({ DB_HOST: 'db-2', LOG_LEVEL: 'info' });
    stackStatus('UPDATE_ROLLBACK_IN_PROGRESS');

    const rollback = await resource.update(changed(resource, newRevision));
    const withRunOnRollback = await resource.update(changed(resource, (p) => { p.RunOnRollback = true; p.TaskDefinition = p.TaskDefinition.replace(':2', ':1'); }));

    expect(rollback).toMatchObject({ status: 'SUCCESS', physicalResourceId: resource.physicalResourceId });
    expect(rollback.onEventResult!.EcsTaskRunner.Why).toBe('the stack is rolling back (UPDATE_ROLLBACK_IN_PROGRESS) and runOnRollback is false; '
      + 'it would have run because changed: taskDefinition');
    expect(withRunOnRollback.onEventResult!.EcsTaskRunner).toMatchObject({ Run: true });
    expect(runTaskInputs()).toHaveLength(1);
    expect(standin.callsTo('cloudformation', 'DescribeStacks')).toHaveLength(1);
  });

  test('an update fails with a clear reason when the stack\'s status cannot be read', async () => {
    const { resource } = await created();
    standin.on('cloudformation', 'DescribeStacks', () => standin.error('AccessDenied', 'User is not authorized to perform: cloudformation:DescribeStacks', 403));

    const outcome = await resource.update(changed(resource, (p) => { p.Count = 2; }));

    expect(ourPart(outcome.reason)).toBe('Update of the task run failed: AccessDenied (HTTP 403): User is not authorized to perform: cloudformation:DescribeStacks');
    expect(runTaskInputs()).toEqual([]);
  });
});

describe('delete', () => {
  test('after a failed create: stops the task still running and succeeds', async () => {
    // Prepare: the create times out and its stop fails, so the task still runs
    behave({ lifecycle: ['PENDING', 'RUNNING'] });
    const { resource } = runnerWith(() => ({ timeout: Duration.minutes(3) }));
    fleet.injectFault({ command: 'StopTask', error: 'http500', times: 1 });
    const failed = await resource.create();
    const task = tasks()[0];
    expect(ourPart(failed.reason)).toMatch(/Could not stop: [0-9a-f]{32}: ServerException \(HTTP 500\)/);
    expect(task.desiredStatus).toBe('RUNNING');

    // Act
    const deleted = await resource.delete();

    // Assess
    expect(deleted).toMatchObject({ status: 'SUCCESS', physicalResourceId: failed.physicalResourceId });
    expect(fleet.callsTo('ecs', 'ListTasks').map((c) => c.input).pop()).toEqual({
      cluster: CLUSTER_ARN, startedBy: failed.physicalResourceId, desiredStatus: 'RUNNING', maxResults: 100,
    });
    expect(stopTaskInputs().pop()).toEqual({ cluster: CLUSTER_ARN, task: task.arn, reason: 'EcsTaskRunner: the resource was deleted' });
    expect(task.desiredStatus).toBe('STOPPED');
  });

  test('stops only this resource\'s tasks, and nothing with stopTasksOnDelete false', async () => {
    behave({ lifecycle: ['PENDING', 'RUNNING'] });
    const other = fleet.addTask('prod', { taskDefinition: 'migrate', startedBy: 'someone-else' });
    const { resource } = runnerWith(() => ({ stopTasksOnDelete: false }));
    await handlers.onEvent(resource.request('create', resource.synthesized.properties));
    resource.physicalResourceId = runTaskInputs()[0].startedBy;
    resource.properties = resource.synthesized.properties;

    const kept = await resource.delete();
    resource.properties = { ...resource.properties, StopTasksOnDelete: true };
    const stopped = await resource.delete();

    expect(kept.status).toBe('SUCCESS');
    expect(stopped.status).toBe('SUCCESS');
    expect(stopTaskInputs().map((s) => s.task)).toEqual([tasks().find((t) => t.startedBy === resource.physicalResourceId)!.arn]);
    expect(other.desiredStatus).toBe('RUNNING');
  });

  test('succeeds when the cluster is gone or ECS cannot be reached', async () => {
    const { resource, synthesized } = runnerWith();
    await resource.create();
    fleet.clusters.delete('prod');
    const gone = await resource.delete();
    fleet.addCluster('prod');
    fleet.injectFault({ command: 'ListTasks', error: 'throttle' });
    const throttled = await resource.delete();

    expect([gone.status, throttled.status]).toEqual(['SUCCESS', 'SUCCESS']);
    expect(synthesized.properties.StopTasksOnDelete).toBe(true);
  });
});

/** A Lambda context with this much time left, for runs under the time budget. */
function withTimeLeft(remainingMs: number) {
  return { awsRequestId: 'c0ffee00-budget', getRemainingTimeInMillis: () => remainingMs } as any;
}

describe('the time budget', () => {
  test('isComplete answers with the exit code it knows when CloudWatch Logs never answers: the log lines wait only their budget', async () => {
    // Prepare: half a second of work after the 5 s reserve and the 1 s margin
    const { resource } = runnerWith();
    behave({ outcome: { exitCode: 1, containers: { envoy: { exitCode: 0 } } } });
    logs.neverAnswer();
    const isComplete = handlers.isComplete as (event: object, context?: unknown) => Promise<any>;
    handlers.isComplete = (event) => isComplete(event, withTimeLeft(6_500));

    // Act
    const outcome = await resource.create();

    // Assess
    expect(outcome.status).toBe('FAILED');
    expect(ourPart(outcome.reason)).toMatch(/^The ECS task failed\. Task .* failed: container app exited with code 1 .*Logs: https:\/\//);
    expect(outcome.reason).not.toMatch(/Last log lines/);
    expect(logs.calls).toHaveLength(1);
    expect(stdout.json().filter((l) => l.message === 'the containers\' last log lines did not come in time; the reason goes without them'))
      .toEqual([expect.objectContaining({ late: 1, of: 1 })]);
  });
});

describe('failure modes', () => {
  test('a throttled or failing DescribeTasks poll is tried again at the next poll', async () => {
    fleet.injectFault({ command: 'DescribeTasks', error: 'throttle', onCall: 1 });
    fleet.injectFault({ command: 'DescribeTasks', error: 'http500', onCall: 2 });
    const { resource } = runnerWith();

    const outcome = await resource.create();

    expect(outcome).toMatchObject({ status: 'SUCCESS', polls: 5 });
  });

  test('a DescribeTasks denied by IAM fails the run, naming the error', async () => {
    fleet.injectFault({ command: 'DescribeTasks', error: 'access-denied' });
    const { resource } = runnerWith();

    const outcome = await resource.create();

    expect(ourPart(outcome.reason)).toMatch(/^Checking the task run failed: AccessDeniedException \(HTTP 400\): User: .* is not authorized to perform: ecs:DescribeTasks/);
    expect(tasks().map((t) => t.desiredStatus)).toEqual(['STOPPED']);
  });

  test('RunTask answering HTTP 500 fails the create with the error, one line, no stack trace', async () => {
    fleet.injectFault({ command: 'RunTask', error: 'http500' });
    const { resource, synthesized } = runnerWith();

    const outcome = await resource.create();

    expect(outcome.reason).toBe('Create of the task run failed: ServerException (HTTP 500): Service Unavailable. Please try again later. '
      + `No task of this request was found running.\n\nLogs: /aws/lambda/${synthesized.functionNames.onEvent}\n`);
    // A 500 may come after ECS started the task: it looked twice for tasks of the request before it failed (after
    // once, before the launch, for what an earlier create left).
    expect(fleet.callsTo('ecs', 'ListTasks')).toHaveLength(3);
  });

  test('malformed properties fail with every problem named, and start nothing', async () => {
    const { resource, synthesized } = runnerWith();
    const broken = { ...synthesized.properties, Count: '11', Launch: { Type: 'MOON' }, RunOn: ['SOMETIMES'], TaskDefinition: undefined };

    const outcome = await resource.create(broken);

    expect(ourPart(outcome.reason)).toBe('Create of the task run failed: invalid EcsTaskRunner properties: TaskDefinition is missing; '
      + 'Launch.Type is "MOON"; expected one of FARGATE, EC2, CAPACITY_PROVIDERS, CLUSTER_DEFAULT, CONTAINER_INSTANCES; RunOn has "SOMETIMES"; expected CREATE or UPDATE; '
      + 'Count is "11"; expected a whole number from 1 to 10.');
    expect(fleet.calls).toEqual([]);
  });

  test('an override naming a container the task definition lacks fails before anything starts', async () => {
    const { resource, synthesized } = runnerWith();
    const wrong = structuredClone(synthesized.properties);
    wrong.ContainerOverrides[0].Name = 'ap';

    const outcome = await resource.create(wrong);

    expect(ourPart(outcome.reason)).toBe('Not started: containerOverrides names container ap, which is not in migrate:1 (its containers are app, envoy).');
    expect(runTaskInputs()).toEqual([]);
  });

  test('a task ECS no longer finds fails the run after a grace period', async () => {
    behave({ lifecycle: ['PENDING', 'RUNNING'] });
    const { resource } = runnerWith();
    const onEvent = handlers.onEvent;
    handlers.onEvent = async (event) => {
      const result = await onEvent(event);
      fleet.tasks.clear();
      return result;
    };

    const outcome = await resource.create();

    expect(ourPart(outcome.reason)).toMatch(/^ECS no longer finds 1 task\(s\) of this run \(migrate:1\): arn:aws:ecs:.*:task\/prod\/[0-9a-f]{32} \(DescribeTasks: MISSING\)\.$/);
    expect(outcome.elapsedSeconds).toBeGreaterThan(120);
  });

  test('a reason stays within CloudFormation\'s response limit, whatever the logs and reasons hold', async () => {
    const { resource, synthesized } = runnerWith(() => ({ count: 5 }));
    const huge = 'é'.repeat(3000);
    behave({ outcome: { exitCode: 1, reason: huge, stoppedReason: huge } });
    const onEvent = handlers.onEvent;
    handlers.onEvent = async (event) => {
      const result = await onEvent(event);
      for (const arn of result.EcsTaskRunner.Tasks!) logs.write(LOG_GROUP, `migrate/app/${arn.split('/').pop()}`, ...Array(20).fill(huge));
      return result;
    };

    const outcome = await resource.create();

    const response = JSON.stringify({
      Status: 'FAILED',
      Reason: outcome.reason,
      StackId: synthesized.stackId,
      RequestId: 'a'.repeat(36),
      PhysicalResourceId: outcome.physicalResourceId,
      LogicalResourceId: synthesized.logicalId,
    });
    expect(Buffer.byteLength(response)).toBeLessThan(4096);
    // Three tasks described, their stop reasons cut to their share, and the note of the two others whole.
    expect(ourPart(outcome.reason)).toMatch(/^5 of 5 ECS tasks failed\. Task .* failed: container app exited with code 1 \(stopped: EssentialContainerExited: é+…\)\. /);
    expect(ourPart(outcome.reason)!.split('exited with code 1')).toHaveLength(4);
    expect(ourPart(outcome.reason)).toMatch(/ 2 more failed task\(s\) are not described here \(the runner's log has them\)\.$/);
  });
});

describe('every failure stops what it started', () => {
  test('onEvent: RunTask answers 500 after ECS started the task; the create stops it before it fails', async () => {
    // Prepare: ECS starts the task, then every answer (the first and the retries with the same client token) is a 500
    const { resource, synthesized } = runnerWith();
    fleet.mocks!.ecs.on(RunTaskCommand).callsFake(async (input: unknown) => {
      await fleet.handle('ecs', 'RunTask', input);
      throw serverError('ecs');
    });

    // Act
    const outcome = await resource.create();

    // Assess: the framework's marker (its delete is skipped), so onEvent itself stopped the task
    const task = tasks()[0];
    expect(outcome).toMatchObject({ status: 'FAILED', physicalResourceId: 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED' });
    expect(ourPart(outcome.reason)).toBe('Create of the task run failed: ServerException (HTTP 500): Service Unavailable. Please try again later. '
      + `Stopped the 1 task(s) it had started: ${task.arn}.`);
    expect(stopTaskInputs()).toEqual([{ cluster: CLUSTER_ARN, task: task.arn, reason: 'EcsTaskRunner: the launch failed, so its run is stopped' }]);
    expect(task.desiredStatus).toBe('STOPPED');
    expect(synthesized.properties.StopTasksOnDelete).toBe(true);
  });

  test('isComplete: an error it cannot retry (DescribeTasks denied) stops the run\'s tasks before it fails', async () => {
    // Prepare
    behave({ lifecycle: ['PENDING', 'RUNNING'] });
    fleet.injectFault({ command: 'DescribeTasks', error: 'access-denied', onCall: 2 });
    const { resource } = runnerWith();

    // Act
    const outcome = await resource.create();

    // Assess
    const task = tasks()[0];
    expect(ourPart(outcome.reason)).toMatch(/^Checking the task run failed: AccessDeniedException \(HTTP 400\): User: .* is not authorized to perform: ecs:DescribeTasks.* Stopped the run's 1 task\(s\)\.$/);
    expect(stopTaskInputs()).toEqual([{ cluster: CLUSTER_ARN, task: task.arn, reason: 'EcsTaskRunner: the run cannot be checked, so it is stopped' }]);
    expect(task.desiredStatus).toBe('STOPPED');
  });

  test('isComplete: an error it would retry, past the deadline, stops the run\'s tasks', async () => {
    // Prepare: the task runs on; from the second poll on, ECS throttles every DescribeTasks
    behave({ lifecycle: ['PENDING', 'RUNNING'] });
    fleet.injectFault({ command: 'DescribeTasks', error: 'throttle', onCall: 2, times: 1_000 });
    const { resource, synthesized } = runnerWith(() => ({ timeout: Duration.minutes(4), pollInterval: Duration.seconds(30) }));

    // Act
    const outcome = await resource.create();

    // Assess: polls before the deadline were tried again; the first past it stopped the task
    const task = tasks()[0];
    expect(ourPart(outcome.reason)).toMatch(/^Checking the task run failed past its deadline: ThrottlingException \(HTTP 400\).* Stopped the run's 1 task\(s\)\.$/);
    expect(task.desiredStatus).toBe('STOPPED');
    expect(outcome.elapsedSeconds).toBeGreaterThanOrEqual(150); // the run's deadline: 4 min less the poll and a minute
    expect(outcome.elapsedSeconds).toBeLessThan(synthesized.serviceTimeoutSeconds);
  });

  test('an update stops the tasks of the run it replaces: a rollback after CloudFormation cancelled the update\'s run', async () => {
    // Prepare: the update starts a run that CloudFormation then cancels (another resource failed), so nobody polls it
    behave({ lifecycle: ['PENDING', 'RUNNING'] });
    const { resource } = runnerWith();
    const created = await handlers.onEvent(resource.request('create', resource.synthesized.properties));
    resource.physicalResourceId = created.PhysicalResourceId;
    resource.properties = resource.synthesized.properties;
    fleet.tasks.get(created.EcsTaskRunner.Tasks![0])!.desiredStatus = 'STOPPED'; // the create's run ended
    registerMigrate();
    const update = { ...resource.properties, TaskDefinition: resource.properties.TaskDefinition.replace(/:1$/, ':2') };
    const cancelled = await handlers.onEvent(resource.request('update', update));
    const replaced = fleet.tasks.get(cancelled.EcsTaskRunner.Tasks![0])!;
    resource.properties = update;
    stackStatus('UPDATE_ROLLBACK_IN_PROGRESS');

    // Act: the rollback restores the first properties
    const rollback = await resource.update(resource.synthesized.properties);

    // Assess
    expect(rollback).toMatchObject({ status: 'SUCCESS', onEventResult: { EcsTaskRunner: { Run: false } } });
    expect(stopTaskInputs()).toEqual([{ cluster: CLUSTER_ARN, task: replaced.arn, reason: 'EcsTaskRunner: a later request of the resource replaces this run' }]);
    expect(replaced.desiredStatus).toBe('STOPPED');
    expect(runTaskInputs()).toHaveLength(2);
  });

  test('an update that cannot look for the run it replaces goes on, and says so in its log', async () => {
    const { resource } = runnerWith();
    expect((await resource.create()).status).toBe('SUCCESS');
    fleet.injectFault({ command: 'ListTasks', error: 'access-denied' });

    const outcome = await resource.update({ ...resource.properties!, TimeoutSeconds: 900, RunSeconds: 825 });

    expect(outcome.status).toBe('SUCCESS');
    expect(stdout.json().filter((l) => l.message === 'could not look for tasks of an earlier request that still run; the request goes on'))
      .toEqual([expect.objectContaining({ level: 'WARN', error: expect.stringMatching(/^AccessDeniedException/) })]);
  });

  test('ECS losing one of the tasks stops the others before the run fails', async () => {
    behave({ lifecycle: ['PENDING', 'RUNNING'] });
    const { resource } = runnerWith(() => ({ count: 2 }));
    const onEvent = handlers.onEvent;
    let lost = '';
    handlers.onEvent = async (event) => {
      const result = await onEvent(event);
      lost = result.EcsTaskRunner.Tasks![0];
      fleet.tasks.delete(lost);
      return result;
    };

    const outcome = await resource.create();

    const other = tasks()[0];
    expect(ourPart(outcome.reason)).toBe(`ECS no longer finds 1 task(s) of this run (migrate:1): ${lost} (DescribeTasks: MISSING). `
      + 'Stopped the other 1 task(s), still running.');
    expect(other.desiredStatus).toBe('STOPPED');
  });
});

describe('results as attributes', () => {
  test('a run that succeeded answers with its tasks, the essential container\'s exit code and when it started', async () => {
    const { resource } = runnerWith(() => ({ count: 2 }));
    const isComplete = handlers.isComplete;
    let last: any;
    handlers.isComplete = async (event) => {
      last = await isComplete(event);
      return last;
    };

    const outcome = await resource.create();

    expect(outcome.status).toBe('SUCCESS');
    expect(last).toEqual({
      IsComplete: true,
      Data: { TaskArns: tasks().map((t) => t.arn).sort().join(','), ExitCode: '0', StartedAt: T0.toISOString() },
    });
  });

  test('a deployment that runs nothing answers with empty attributes, every key there', async () => {
    const { resource } = runnerWith(() => ({ runOn: [RunOn.UPDATE] }));

    const result = await handlers.onEvent(resource.request('create', resource.synthesized.properties));

    expect(result).toMatchObject({ EcsTaskRunner: { Run: false }, Data: { TaskArns: '', ExitCode: '', StartedAt: '' } });
  });
});

describe('what it shows', () => {
  const SECRETS = ['S3cr3t-in-the-url', 'hunter2-in-the-environment'];
  const secretOverrides = () => runnerWith(() => ({
    containerOverrides: [{
      containerName: 'app',
      command: ['psql', `postgres://admin:${SECRETS[0]}@db.internal/app`, '-f', 'migrate.sql'],
      environment: { DB_PASSWORD: SECRETS[1] },
    }],
  }));

  test('the overrides\' values reach neither the reason nor a log line, where ECS quotes the command or the container prints them', async () => {
    // Prepare: ECS quotes the command in the container's reason; the container logs its environment
    const { resource } = secretOverrides();
    behave({ outcome: { exitCode: 1, reason: `CannotStartContainerError: exec: "psql postgres://admin:${SECRETS[0]}@db.internal/app": permission denied` } });
    const onEvent = handlers.onEvent;
    handlers.onEvent = async (event) => {
      const result = await onEvent(event);
      const id = result.EcsTaskRunner.Tasks![0].split('/').pop()!;
      logs.write(LOG_GROUP, `migrate/app/${id}`, `DB_PASSWORD is ${SECRETS[1]}`, `psql: connecting to db.internal with ${SECRETS[0]}`);
      return result;
    };

    // Act
    const outcome = await resource.create();

    // Assess
    expect(outcome.status).toBe('FAILED');
    // Each argument of the command is masked as a whole word, the environment value wherever it stands.
    expect(ourPart(outcome.reason)).toContain('container app exited with code 1 (CannotStartContainerError: exec: "*** ***": permission denied)');
    expect(ourPart(outcome.reason)).toContain('Last log lines of app: "DB_PASSWORD is ***" | "***: connecting to db.internal with ***"');
    for (const text of [outcome.reason!, ...stdout.lines]) for (const secret of SECRETS) expect(text).not.toContain(secret);
  });

  test('includeLogLinesInReason false: the reason links to the task\'s logs and quotes none, and no log is read', async () => {
    // Prepare
    const { resource } = runnerWith(() => ({ includeLogLinesInReason: false }));
    behave({ outcome: { exitCode: 1 } });

    // Act
    const outcome = await resource.create();

    // Assess
    const task = tasks()[0];
    expect(ourPart(outcome.reason)).toBe(`The ECS task failed. Task ${task.arn} (migrate:1) failed: container app exited with code 1 `
      + '(stopped: EssentialContainerExited: Essential container in task exited). '
      + `Logs: https://${REGION}.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/${task.id}/logs?region=${REGION}`);
    expect(logs.calls).toEqual([]);
  });
});
