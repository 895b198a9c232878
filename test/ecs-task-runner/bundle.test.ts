/**
 * The shipped EcsTaskRunner bundle, run in fresh Node.js 24 processes against the AWS stand-in with the environment
 * the construct synthesizes: the error a failed run throws is what the Provider framework needs (one line), and the
 * code only some runs need (CloudWatch Logs on a failure, the stack's status on an update) loads on first use.
 */
import * as path from 'path';
import { taskRunnerEvents, taskRunnerStack } from './support/typical';
import { REGION, TASK_RUNNER_TASK, TYPICAL_RUNS, clientsLoaded } from '../bundles/typical-runs';
import { AwsStandin } from '../support/aws-standin';
import { RunBundleResult, runBundle } from '../support/run-bundle';
import { synthesizedEnvironment } from '../support/synthesized-environment';

const ASSET = path.join(__dirname, '..', '..', 'assets', 'ecs-task-runner');

let standin: AwsStandin;

beforeEach(async () => {
  standin = await new AwsStandin().start();
});

afterEach(async () => {
  await standin.stop();
});

const chunksOf = (run: RunBundleResult) => run.loadedFiles.map((f) => f.path);
const clientsOf = (run: RunBundleResult) => clientsLoaded(ASSET, run.loadedFiles);

function environment(fn: 'onEventHandler' | 'isCompleteHandler'): Record<string, string> {
  const { stack, runner } = taskRunnerStack();
  return synthesizedEnvironment(stack, runner[fn]);
}

/** A typical run (see TYPICAL_RUNS), on a stand-in of its own. */
async function typicalRun(handler: string): Promise<RunBundleResult> {
  const typical = TYPICAL_RUNS.find((r) => r.bundle === 'ecs-task-runner' && r.handler === handler)!;
  const own = await new AwsStandin().start();
  try {
    typical.answer(own);
    const run = await runBundle({ assetDir: ASSET, environment: typical.environment(), event: typical.event, standin: own, handler });
    expect(run.error).toBeUndefined();
    return run;
  } finally {
    await own.stop();
  }
}

test('a failed run loads CloudWatch Logs on first use, quotes the last log lines, and throws a one-line error', async () => {
  // Prepare
  const { isComplete } = taskRunnerEvents();
  const taskId = TASK_RUNNER_TASK.taskArn.split('/').pop();
  standin.on('ecs', 'DescribeTasks', {
    tasks: [{
      ...TASK_RUNNER_TASK,
      lastStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      containers: [{ name: 'app', exitCode: 1, lastStatus: 'STOPPED' }],
    }],
    failures: [],
  });
  standin.on('logs', 'GetLogEvents', { events: [{ timestamp: new Date(0).getTime(), message: 'ERROR: relation "users" does not exist' }] });
  const quiet = await typicalRun('index.isComplete');

  // Act
  const run = await runBundle({ assetDir: ASSET, environment: environment('isCompleteHandler'), event: isComplete, standin, handler: 'index.isComplete' });

  // Assess
  expect(run.error).toMatchObject({
    name: 'EcsTaskRunnerFailure',
    message: `The ECS task failed. Task ${TASK_RUNNER_TASK.taskArn} (migrate:1) failed: container app exited with code 1 `
      + '(stopped: EssentialContainerExited: Essential container in task exited). Last log lines of app: "ERROR: relation \\"users\\" does not exist". '
      + `Logs: https://${REGION}.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/${taskId}/logs?region=${REGION}`,
  });
  // Lambda reports the stack's lines and the framework appends all but the first: there are none.
  expect(run.error!.stack!.split('\n')).toHaveLength(1);
  expect(standin.callsTo('logs', 'GetLogEvents').map((c) => c.input)).toEqual([{
    logGroupName: '/ecs/migrate', logStreamName: `migrate/app/${taskId}`, limit: 5, startFromHead: false,
  }]);
  expect(clientsOf(quiet)).toEqual(['ECS']);
  expect(clientsOf(run)).toEqual(['CloudWatch Logs', 'ECS']);
  expect(chunksOf(quiet).every((f) => chunksOf(run).includes(f))).toBe(true);
  expect(chunksOf(run).length).toBeGreaterThan(chunksOf(quiet).length);
});

test('an update that would run reads the stack\'s status with the CloudFormation client, from a chunk a create never loads', async () => {
  // Prepare
  const { create } = taskRunnerEvents();
  const properties = create.ResourceProperties as Record<string, any>;
  const update = {
    ...create,
    RequestType: 'Update',
    PhysicalResourceId: 'ecs-task-runner-0123456789abcdef0123',
    OldResourceProperties: properties,
    ResourceProperties: { ...properties, TaskDefinition: properties.TaskDefinition.replace(/:1$/, ':2') },
  };
  standin.on('cloudformation', 'DescribeStacks', { Stacks: [{ StackName: 'Ops', StackStatus: 'UPDATE_ROLLBACK_IN_PROGRESS', CreationTime: new Date() }] });
  standin.on('ecs', 'ListTasks', { taskArns: [] });
  const created = await typicalRun('index.onEvent');

  // Act
  const run = await runBundle({ assetDir: ASSET, environment: environment('onEventHandler'), event: update, standin, handler: 'index.onEvent' });

  // Assess: a rollback, so nothing runs
  expect(run.error).toBeUndefined();
  expect(run.result).toEqual({
    PhysicalResourceId: 'ecs-task-runner-0123456789abcdef0123',
    EcsTaskRunner: {
      Run: false,
      Why: 'the stack is rolling back (UPDATE_ROLLBACK_IN_PROGRESS) and runOnRollback is false; it would have run because changed: taskDefinition',
    },
    Data: { TaskArns: '', ExitCode: '', StartedAt: '' },
  });
  // It first looked for a run of an earlier request that still runs (the run a rollback replaces): none.
  expect(standin.calls.map((c) => `${c.service}:${c.operation}`)).toEqual(['ecs:ListTasks', 'cloudformation:DescribeStacks']);
  expect(standin.calls[0].input).toMatchObject({ startedBy: 'ecs-task-runner-0123456789abcdef0123', desiredStatus: 'RUNNING' });
  expect(standin.calls[1]).toMatchObject({ protocol: 'awsQuery', region: REGION, input: { StackName: create.StackId } });
  expect(chunksOf(run).filter((f) => !chunksOf(created).includes(f)).length).toBeGreaterThan(0);
  expect(clientsOf(run)).toEqual(['CloudFormation', 'ECS']);
  expect(clientsOf(created)).toEqual(['ECS']);
});
