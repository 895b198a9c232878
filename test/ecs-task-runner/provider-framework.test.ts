/**
 * The runner inside aws-cdk-lib's custom resource Provider framework (its runtime from node_modules, the code its
 * three functions run): every way a run ends, through the shipped bundle (below), and first what the framework shows
 * of a runner's request: the README's EcsTaskRunner section says which parts of it log or keep the
 * resource properties, container overrides included, and this test holds it to that. Should a release of aws-cdk-lib
 * stop doing so, this fails, and the README's note changes with it.
 */
import { FrameworkHarness, FrameworkHarnessOptions, cfnRequest, loadFrameworkRuntime, serveFleet } from './support/framework';
import { ACCOUNT, CLUSTER_ARN, EXECUTION_ROLE, REGION, STACK_NAME, TASK_ROLE, synthesize } from './support/runner';
import { RunOn, TaskLaunchTarget } from '../../src';
import { AwsStandin } from '../support/aws-standin';
import { FakeFleet } from '../support/fake-fleet';
import { SECRET, SECRET_ENVIRONMENT } from '../support/shown-secrets';
import { synthesizedTimeoutMs } from '../support/synthesized-environment';

const ORIGINAL_ENV = { ...process.env };

interface Outbound {
  invokeFunction: jest.Mock;
  startExecution: jest.Mock;
  httpRequest: jest.Mock;
}

/** The framework's runtime with its AWS calls (Lambda Invoke, Step Functions StartExecution, the response PUT) recorded. */
function loadFramework(userResult: unknown): { framework: any; outbound: Outbound; logged: () => string } {
  const outbound: Outbound = {
    invokeFunction: jest.fn(async () => ({ Payload: Buffer.from(JSON.stringify(userResult)) })),
    startExecution: jest.fn(async () => ({})),
    httpRequest: jest.fn(async () => undefined),
  };
  const lines: string[] = [];
  jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(' '));
  });
  const framework = loadFrameworkRuntime(outbound);
  return { framework, outbound, logged: () => lines.join('\n') };
}

const request = {
  RequestType: 'Create',
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:framework-onEvent',
  ResponseURL: 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/response?X-Amz-Signature=abc',
  StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Deploy/0a1b2c3d-0000-4000-8000-000000000001',
  RequestId: '6d8e2f2a-8f7b-4a3e-9b1c-2d3e4f5a6b7c',
  LogicalResourceId: 'Migrate',
  ResourceType: 'Custom::EcsTaskRunner',
  ResourceProperties: {
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:framework-onEvent',
    ContainerOverrides: [{ Name: 'app', Environment: Object.entries(SECRET_ENVIRONMENT).map(([Name, Value]) => ({ Name, Value })) }],
  },
};

beforeEach(() => {
  Object.assign(process.env, {
    USER_ON_EVENT_FUNCTION_ARN: 'arn:aws:lambda:us-east-1:123456789012:function:runner-onEvent',
    USER_IS_COMPLETE_FUNCTION_ARN: 'arn:aws:lambda:us-east-1:123456789012:function:runner-isComplete',
    WAITER_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:waiter',
  });
});

afterEach(() => {
  jest.restoreAllMocks();
  process.env = { ...ORIGINAL_ENV };
});

test('the framework\'s onEvent function logs the request with its properties, and starts the waiter with them as its input', async () => {
  // Prepare
  const { framework, outbound, logged } = loadFramework({ PhysicalResourceId: 'ecs-task-runner-0123456789abcdef0123', EcsTaskRunner: { Run: true } });

  // Act
  await framework.onEvent(request);

  // Assess: the request is logged as it came ("onEventHandler"), as passed on, and as handed to the waiter ("event:")
  expect(logged()).toContain('onEventHandler');
  expect(logged().split(SECRET.overrideEnvironment).length - 1).toBeGreaterThanOrEqual(3);
  // The waiter's execution input (in the Step Functions execution history) is the whole request.
  expect(outbound.startExecution.mock.calls[0][0].input).toContain(SECRET.overrideDbPassword);
});

test('the framework\'s isComplete function logs the request on every poll, and fails an unfinished poll with the whole request', async () => {
  // Prepare
  const { framework, logged } = loadFramework({ IsComplete: false });

  // Act
  const poll = framework.isComplete({ ...request, PhysicalResourceId: 'ecs-task-runner-0123456789abcdef0123' });

  // Assess: the error (in the function's log and the execution history, each poll) holds the request
  await expect(poll).rejects.toThrow(SECRET.overrideEnvironment);
  expect(logged()).toContain(SECRET.overrideDbPassword);
});

// ==================================================================================== runs through the framework

/**
 * Every way a run can end, through the framework's runtime calling the runner's shipped bundle (support/framework.ts):
 * CloudFormation's answer, and what is left running in ECS (nothing).
 */
describe('runs through the Provider framework and the bundle', () => {
  // Every call of a runner's function is a Node.js process.
  jest.setTimeout(180_000);
  const MARKER = 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED';
  let standin: AwsStandin;
  let fleet: FakeFleet;

  beforeAll(async () => {
    standin = await new AwsStandin().start();
  });

  afterAll(async () => {
    await standin.stop();
  });

  beforeEach(() => {
    standin.reset();
    fleet = new FakeFleet({ region: REGION, accountId: ACCOUNT, now: () => new Date() });
    fleet.addCluster('prod');
    registerMigrate();
    stackStatus('UPDATE_IN_PROGRESS');
    standin.on('logs', 'GetLogEvents', { events: [{ timestamp: Date.now(), message: 'ERROR: migration 0042 failed', ingestionTime: Date.now() }] });
  });

  function registerMigrate() {
    fleet.registerTaskDefinition('migrate', {
      containers: [{
        name: 'app',
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/migrate', 'awslogs-region': REGION, 'awslogs-stream-prefix': 'migrate' } },
      }],
      networkMode: 'awsvpc',
      requiresCompatibilities: ['EC2', 'FARGATE'],
      taskRoleArn: TASK_ROLE,
      executionRoleArn: EXECUTION_ROLE,
    });
  }

  function stackStatus(status: string) {
    standin.on('cloudformation', 'DescribeStacks', { Stacks: [{ StackName: STACK_NAME, StackStatus: status, CreationTime: new Date() }] });
  }

  /** The runner of the scenarios (migrate:1 in prod, with an override), its framework, and ECS from the fleet. */
  function deployed(props: Parameters<typeof synthesize>[0] = () => ({}), options: Partial<FrameworkHarnessOptions> = {}) {
    const synthesized = synthesize((u) => ({
      containerOverrides: [{ containerName: 'app', command: ['npm', 'run', 'migrate'] }],
      launchTarget: TaskLaunchTarget.fargate({ securityGroups: [u.securityGroup] }),
      ...props(u),
    }));
    return { synthesized, framework: new FrameworkHarness({ standin, synthesized, ...options }) };
  }

  const tasks = () => [...fleet.tasks.values()];
  const running = () => tasks().filter((t) => t.desiredStatus !== 'STOPPED');
  const ourPart = (reason: string) => reason.split('\n')[0];

  test('a run that succeeds answers with its results as the resource\'s attributes', async () => {
    // Prepare
    serveFleet(standin, fleet);
    const { synthesized, framework } = deployed();

    // Act
    const { response, invocations, polls } = await framework.request(cfnRequest(synthesized, 'create'));

    // Assess
    const [task] = tasks();
    expect(response).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: expect.stringMatching(/^ecs-task-runner-[0-9a-f]{20}$/),
      Data: { TaskArns: task.arn, ExitCode: '0', StartedAt: task.createdAt!.toISOString() },
    });
    expect(invocations.map((i) => i.handler)).toEqual(['onEvent', ...Array(polls).fill('isComplete')]);
    expect(running()).toEqual([]);
  });

  test('a deployment that runs nothing answers with every attribute, empty', async () => {
    serveFleet(standin, fleet);
    const { synthesized, framework } = deployed(() => ({ runOn: [RunOn.UPDATE] }));

    const { response } = await framework.request(cfnRequest(synthesized, 'create'));

    expect(response).toMatchObject({ Status: 'SUCCESS', Data: { TaskArns: '', ExitCode: '', StartedAt: '' } });
    expect(tasks()).toEqual([]);
  });

  test('onEvent failing after RunTask (ECS started the task, then answered 500) stops the task: the framework skips the delete that follows', async () => {
    // Prepare: every RunTask, the first and the SDK's retries with the same client token, starts (or finds) the task, then fails
    serveFleet(standin, fleet, async (operation, input) => {
      if (operation !== 'RunTask') return undefined;
      await fleet.handle('ecs', 'RunTask', input);
      throw standin.error('InternalFailure', 'The request processing has failed because of an unknown error', 500);
    });
    const { synthesized, framework } = deployed();

    // Act
    const created = await framework.request(cfnRequest(synthesized, 'create'));
    const deleted = await framework.request(cfnRequest(synthesized, 'delete', { physicalResourceId: created.response.PhysicalResourceId }));

    // Assess
    const [task] = tasks();
    expect(created.response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: MARKER });
    expect(ourPart(created.response.Reason)).toBe('Create of the task run failed: InternalFailure (HTTP 500): The request processing has failed because of '
      + `an unknown error. Stopped the 1 task(s) it had started: ${task.arn}.`);
    expect(task.desiredStatus).toBe('STOPPED');
    expect(deleted.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: MARKER });
    expect(deleted.invocations).toEqual([]);
  });

  test('onEvent failing after a RunTask that never answered (ECS started the task) stops the task it finds for the request', async () => {
    // Prepare: the first RunTask starts the task and never answers; the retries (same client token) answer 500
    let calls = 0;
    serveFleet(standin, fleet, async (operation, input) => {
      if (operation !== 'RunTask') return undefined;
      calls += 1;
      if (calls === 1) {
        await fleet.handle('ecs', 'RunTask', input);
        return new Promise(() => undefined);
      }
      throw standin.error('InternalFailure', 'The request processing has failed because of an unknown error', 500);
    });
    const { synthesized, framework } = deployed();

    // Act
    const { response, invocations } = await framework.request(cfnRequest(synthesized, 'create'));

    // Assess: the task was only listed, never answered: it was found by the request's tag and stopped
    const [task] = tasks();
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: MARKER });
    expect(ourPart(response.Reason)).toMatch(new RegExp(`^Create of the task run failed: InternalFailure \\(HTTP 500\\).* Stopped the 1 task\\(s\\) it had started: ${task.arn}\\.$`));
    expect(task.desiredStatus).toBe('STOPPED');
    expect(standin.callsTo('ecs', 'RunTask')[0].fault ?? standin.callsTo('ecs', 'RunTask')[0].status).toBe(0);
    expect(invocations[0].run.invokeMs).toBeLessThan(synthesized.serviceTimeoutSeconds * 1000);
  });

  test('AccessDenied mid-run: isComplete stops the run\'s tasks before the resource fails', async () => {
    // Prepare: the task runs; from the second poll on, DescribeTasks is denied (a policy changed under the run)
    fleet.setTaskBehavior('migrate', { lifecycle: ['PENDING', 'RUNNING'] });
    let describes = 0;
    serveFleet(standin, fleet, (operation) => {
      if (operation === 'DescribeTasks' && ++describes >= 2) {
        throw standin.error('AccessDeniedException', 'User: arn:aws:sts::123456789012:assumed-role/runner/x is not authorized to perform: ecs:DescribeTasks', 400);
      }
      return undefined;
    });
    const { synthesized, framework } = deployed();

    // Act
    const { response, polls } = await framework.request(cfnRequest(synthesized, 'create'));

    // Assess
    expect(response.Status).toBe('FAILED');
    expect(ourPart(response.Reason)).toMatch(/^Checking the task run failed: AccessDeniedException \(HTTP 400\): User: .* is not authorized to perform: ecs:DescribeTasks\. Stopped the run's 1 task\(s\)\.$/);
    expect(polls).toBe(2);
    expect(running()).toEqual([]);
    expect(standin.callsTo('ecs', 'StopTask').map((c) => c.input.reason)).toEqual(['EcsTaskRunner: the run cannot be checked, so it is stopped']);
  });

  test('a failing poll (500) is tried again before the deadline; past it, the run\'s tasks are stopped', async () => {
    // Prepare: the task runs on; every DescribeTasks from the second poll answers 500; the third poll comes after the deadline
    fleet.setTaskBehavior('migrate', { lifecycle: ['PENDING', 'RUNNING'] });
    let describes = 0;
    serveFleet(standin, fleet, (operation) => {
      if (operation === 'DescribeTasks' && ++describes >= 2) throw standin.error('InternalFailure', 'The request processing has failed', 500);
      return undefined;
    });
    const { synthesized, framework } = deployed(() => ({}), {
      beforePoll: (input, poll) => {
        if (poll >= 2) input.EcsTaskRunner.Deadline = new Date(Date.now() - 1000).toISOString();
      },
    });

    // Act
    const { response, polls } = await framework.request(cfnRequest(synthesized, 'create'));

    // Assess
    expect(polls).toBe(3);
    expect(response.Status).toBe('FAILED');
    expect(ourPart(response.Reason)).toBe('Checking the task run failed past its deadline: InternalFailure (HTTP 500): The request processing has failed. '
      + 'Stopped the run\'s 1 task(s).');
    expect(running()).toEqual([]);
  });

  test('a Logs endpoint that never answers: the reason has the exit code, in time', async () => {
    // Prepare
    fleet.setTaskBehavior('migrate', { outcome: { exitCode: 3 } });
    serveFleet(standin, fleet);
    standin.fault({ service: 'logs', mode: 'hang' });
    const { synthesized, framework } = deployed();

    // Act
    const { response, invocations } = await framework.request(cfnRequest(synthesized, 'create'));

    // Assess
    const last = invocations[invocations.length - 1];
    expect(response.Status).toBe('FAILED');
    expect(ourPart(response.Reason)).toMatch(/^The ECS task failed\. Task .* failed: container app exited with code 3 \(stopped: EssentialContainerExited: Essential container in task exited\)\. Logs: https:\/\//);
    expect(response.Reason).not.toMatch(/Task timed out|Last log lines/);
    expect(standin.callsTo('logs', 'GetLogEvents').length).toBeGreaterThan(0);
    expect(last.run.error?.name).toBe('EcsTaskRunnerFailure');
    // The log lines waited their 5 s; the function's timeout is far.
    expect(last.run.invokeMs).toBeLessThan(10_000);
    expect(last.run.invokeMs).toBeLessThan(synthesizedTimeoutMs(synthesized.stack, synthesized.runner.isCompleteHandler) / 2);
  });

  test('10 failing tasks with 2 KB reasons: the note of the tasks not described fits, and the response stays within 4 KiB', async () => {
    // Prepare
    const long = `CannotStartContainerError: ${'x'.repeat(2048)}`;
    fleet.setTaskBehavior('migrate', { outcome: { exitCode: 1, reason: long, stoppedReason: `Essential container in task exited: ${'y'.repeat(2048)}` } });
    serveFleet(standin, fleet);
    const { synthesized, framework } = deployed(() => ({ count: 10 }));

    // Act
    const { response } = await framework.request(cfnRequest(synthesized, 'create'));

    // Assess
    const reason = ourPart(response.Reason);
    expect(reason).toMatch(/^10 of 10 ECS tasks failed\. /);
    expect(reason.split('exited with code 1')).toHaveLength(4);
    expect(reason).toMatch(/ 7 more failed task\(s\) are not described here \(the runner's log has them\)\.$/);
    expect(Buffer.byteLength(JSON.stringify(response))).toBeLessThan(4096);
    expect(running()).toEqual([]);
  });

  test('a rollback stops the tasks of the update it rolls back, whose run CloudFormation cancelled', async () => {
    // Prepare: created; the update's run starts and CloudFormation cancels it (another resource failed): nobody polls it
    serveFleet(standin, fleet);
    const { synthesized, framework } = deployed();
    const created = await framework.request(cfnRequest(synthesized, 'create'));
    registerMigrate();
    fleet.setTaskBehavior('migrate', { lifecycle: ['PENDING', 'RUNNING'] });
    const next = { ...synthesized.properties, TaskDefinition: synthesized.properties.TaskDefinition.replace(/:1$/, ':2') };
    const physicalResourceId = created.response.PhysicalResourceId;
    const onEvent = await framework.onEventOnly(cfnRequest(synthesized, 'update', { properties: next, oldProperties: synthesized.properties, physicalResourceId }));
    const cancelled = fleet.tasks.get(onEvent.EcsTaskRunner.Tasks[0])!;
    stackStatus('UPDATE_ROLLBACK_IN_PROGRESS');

    // Act
    const rollback = await framework.request(cfnRequest(synthesized, 'update', { properties: synthesized.properties, oldProperties: next, physicalResourceId }));

    // Assess
    expect(rollback.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: physicalResourceId, Data: { TaskArns: '', ExitCode: '', StartedAt: '' } });
    expect(cancelled.desiredStatus).toBe('STOPPED');
    expect(standin.callsTo('ecs', 'StopTask').map((c) => c.input)).toEqual([{
      cluster: CLUSTER_ARN, task: cancelled.arn, reason: 'EcsTaskRunner: a later request of the resource replaces this run',
    }]);
    expect(running()).toEqual([]);
  });

  test('old properties written by a later version of the library are read: unknown keys ignored', async () => {
    serveFleet(standin, fleet);
    const { synthesized, framework } = deployed();
    const later = {
      ...synthesized.properties,
      Notifications: [{ Type: 'SLACK', Secret: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:chatops-AbCdEf' }],
      Launch: { ...synthesized.properties.Launch, EnableFaultInjection: 'true' },
    };

    const { response } = await framework.request(cfnRequest(synthesized, 'update', {
      properties: synthesized.properties, oldProperties: later, physicalResourceId: 'ecs-task-runner-0123456789abcdef0123',
    }));

    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'ecs-task-runner-0123456789abcdef0123' });
    expect(tasks()).toEqual([]);
  });
});
