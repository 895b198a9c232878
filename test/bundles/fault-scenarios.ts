/**
 * Each shipped handler against a dependency that (a) never answers, (b) throttles every call, or (c) answers 500:
 * the built bundle, the environment and the timeout its construct synthesizes, a run that has something to do, and
 * a fault on the dependency whose failure matters most to it. The bundle fault tests (faults.test.ts) assert what
 * each run did and reported, and `npx projen bench:faults` measures each run's time against the function's timeout.
 *
 * | handler     | what it has to do                                   | the fault                                        |
 * |-------------|-----------------------------------------------------|--------------------------------------------------|
 * | parrot      | 30 OOM kills of 6 services: 6 messages to SNS       | its DynamoDB dedupe table (SNS refuses 1 message) |
 * | updater     | update 1 of 3 outdated agents, save state, notify   | ECS UpdateContainerAgent                         |
 * | monitor     | count a disconnected agent in green, read blue      | ECS in cluster blue, and Auto Scaling            |
 * | status API  | GET /services                                       | ECS                                              |
 * | onEvent     | start the migration task                            | ECS RunTask                                      |
 * | isComplete  | fail the resource: the task exited 1                | CloudWatch Logs (the container's last lines)     |
 */
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ACCOUNT, REGION, TASK_RUNNER_TASK, TASK_RUNNER_TASK_DEFINITION } from './typical-runs';
import { EcsAgentMonitor, EcsAgentUpdater, EcsParrot, EcsStatusApi, NotificationChannel } from '../../src';
import type { HandlerBundle } from '../../src/common/handler-function';
import { SCHEDULED_EVENT, clusterWithAgents, emptyStateTable } from '../ecs-agent-updater/typical-run';
import { hexId, sqsBatch, taskEvent } from '../ecs-parrot/support/events';
import { restEvent } from '../ecs-status-api/support/status';
import { taskRunnerEvents, taskRunnerStack } from '../ecs-task-runner/support/typical';
import { AwsStandin, AwsStandinCall, AwsStandinFaultMode } from '../support/aws-standin';
import { RunBundleResult, runBundle } from '../support/run-bundle';
import { synthesizedEnvironment, synthesizedTimeoutMs } from '../support/synthesized-environment';

export type FaultMode = AwsStandinFaultMode;

/** The three faults, in the order of the table. */
export const FAULT_MODES: readonly FaultMode[] = ['hang', 'throttle', 'error500'];

/** How the table names a fault. */
export const FAULT_NAMES: Readonly<Record<FaultMode, string>> = {
  hang: 'never answers',
  throttle: 'throttles every call',
  error500: 'answers 500',
};

const ASSETS = path.join(__dirname, '..', '..', 'assets');
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:ops`;

/** The function as its construct synthesizes it. */
interface Synthesized {
  readonly environment: Record<string, string>;
  readonly timeoutMs: number;
}

function synthesized(stack: Stack, fn: lambda.IFunction): Synthesized {
  return { environment: synthesizedEnvironment(stack, fn), timeoutMs: synthesizedTimeoutMs(stack, fn) };
}

export interface FaultScenario {
  /** The handler, as the table names it. */
  readonly handler: string;
  readonly bundle: HandlerBundle;
  /** `_HANDLER`. @default 'index.handler' */
  readonly exportName?: string;
  /** What the run has to do. */
  readonly work: string;
  /** The dependency that fails. */
  readonly faulted: string;
  synthesize(): Synthesized;
  event(): unknown;
  /** The answers of a healthy AWS. */
  answer(standin: AwsStandin): void;
  /** The fault, on top of the answers. */
  inject(standin: AwsStandin, mode: FaultMode): void;
  /** What the run did and what it reported, in a few words each, read from the run (for the table). */
  summarize(run: FaultRun): { readonly done: string; readonly reported: string };
}

/** One run of a scenario under one fault. */
export interface FaultRun {
  readonly scenario: FaultScenario;
  readonly mode: FaultMode;
  readonly timeoutMs: number;
  /** The event the handler was invoked with. */
  readonly event: unknown;
  readonly run: RunBundleResult;
  /** Every AWS call the stand-in received. */
  readonly calls: readonly AwsStandinCall[];
  /** The log lines (JSON, not EMF). */
  readonly logs: ReadonlyArray<Record<string, any>>;
  /** The EMF documents. */
  readonly metrics: ReadonlyArray<Record<string, any>>;
}

/** Runs the scenario's bundle once under the fault, on a stand-in of its own, with the function's own timeout. */
export async function runFaultScenario(scenario: FaultScenario, mode: FaultMode): Promise<FaultRun> {
  const standin = await new AwsStandin().start();
  try {
    scenario.answer(standin);
    scenario.inject(standin, mode);
    const { environment, timeoutMs } = scenario.synthesize();
    const event = scenario.event();
    const run = await runBundle({
      assetDir: path.join(ASSETS, scenario.bundle),
      handler: scenario.exportName,
      environment,
      event,
      standin,
      timeoutMs,
    });
    // Powertools writes errors and warnings to stderr, the rest (and EMF) to stdout.
    const json = [...run.logs, ...parseLines(run.stderr)].filter((l): l is Record<string, any> => typeof l === 'object' && l !== null);
    return {
      scenario,
      mode,
      timeoutMs,
      event,
      run,
      calls: [...standin.calls],
      logs: json.filter((l) => !('_aws' in l)),
      metrics: json.filter((l) => '_aws' in l),
    };
  } finally {
    await standin.stop();
  }
}

function parseLines(text: string): unknown[] {
  return text.split('\n').filter((line) => line.trim() !== '').map((line) => {
    try {
      return JSON.parse(line);
    } catch {
      return line;
    }
  });
}

/** The calls of one operation. */
export function callsTo(run: FaultRun, service: string, operation: string): AwsStandinCall[] {
  return run.calls.filter((c) => c.service === service && c.operation === operation);
}

/** The calls of one operation that were answered 200. */
function answered(run: FaultRun, service: string, operation: string): number {
  return callsTo(run, service, operation).filter((c) => c.status === 200).length;
}

/** The log lines with this message. */
export function logged(run: FaultRun, message: string | RegExp): Array<Record<string, any>> {
  return run.logs.filter((l) => (typeof message === 'string' ? l.message === message : message.test(String(l.message))));
}

/** ` OutOfTime n` when the budget cut calls short. */
function outOfTime(run: FaultRun): string {
  const n = metricSum(run, 'OutOfTime');
  return n ? `, OutOfTime ${n}` : '';
}

/** The sum of a metric over the run's EMF documents (undefined when it was not published). */
export function metricSum(run: FaultRun, name: string, dimensions: Record<string, string> = {}): number | undefined {
  const docs = run.metrics.filter((d) => d[name] !== undefined && Object.entries(dimensions).every(([k, v]) => d[k] === v));
  if (docs.length === 0) return undefined;
  return docs.reduce((sum, d) => sum + (Array.isArray(d[name]) ? d[name].reduce((a: number, b: number) => a + b, 0) : d[name]), 0);
}

// ---------------------------------------------------------------------------------------------------- the parrot

/** The six services whose tasks the parrot's batch reports, five OOM kills each. */
export const PARROT_SERVICES = ['api', 'web', 'worker', 'billing', 'search', 'mailer'];
/** The service whose message SNS refuses (500), so its five records, and only those, go back to the queue. */
export const PARROT_REFUSED_SERVICE = 'mailer';

const parrot: FaultScenario = {
  handler: 'parrot',
  bundle: 'ecs-parrot',
  work: `30 OOM kills of ${PARROT_SERVICES.length} services: ${PARROT_SERVICES.length} messages to SNS, an exact partial batch response`,
  // SNS also refuses (500) the message of one service: its records, and only those, go back to the queue.
  faulted: 'its DynamoDB dedupe table',
  synthesize: () => {
    const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
    const topic = sns.Topic.fromTopicArn(stack, 'Topic', TOPIC_ARN);
    return synthesized(stack, new EcsParrot(stack, 'Parrot', { notifications: [NotificationChannel.snsTopic(topic)] }).handler);
  },
  event: () => {
    const now = Date.now();
    return sqsBatch(PARROT_SERVICES.flatMap((service) => Array.from({ length: 5 }, (_, i) => taskEvent({
      taskId: hexId(`faults:${service}:${i}`),
      group: `service:${service}`,
      taskDefinition: `${service}:7`,
      lastStatus: 'STOPPED',
      containers: [{ name: 'app', exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' }],
      fargate: true,
      createdAt: new Date(now - 600_000),
      startedAt: new Date(now - 580_000),
      at: new Date(now - 60_000 + i * 1000),
      version: 5,
    }))));
  },
  answer: (standin) => {
    standin.on('dynamodb', 'PutItem', {});
    standin.on('dynamodb', 'UpdateItem', {});
    standin.on('dynamodb', 'BatchGetItem', (input: { RequestItems: Record<string, unknown> }) => ({
      Responses: Object.fromEntries(Object.keys(input.RequestItems).map((table) => [table, []])), UnprocessedKeys: {},
    }));
    standin.on('ecs', 'DescribeTaskDefinition', (input: { taskDefinition: string }) => {
      const family = input.taskDefinition.split('/').pop()!.split(':')[0];
      return {
        taskDefinition: {
          taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:7`,
          family,
          revision: 7,
          status: 'ACTIVE',
          containerDefinitions: [{ name: 'app', image: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${family}:7`, essential: true }],
        },
      };
    });
    standin.on('sns', 'Publish', { MessageId: '6a1f4b2e-0000-4000-8000-000000000001' });
  },
  inject: (standin, mode) => {
    standin.fault({ service: 'dynamodb', mode });
    standin.fault({
      service: 'sns', operation: 'Publish', when: (input) => String(input.Subject).includes(`service ${PARROT_REFUSED_SERVICE} `), mode: 'error500',
    });
  },
  summarize: (run) => {
    const failures: unknown[] = run.run.result?.batchItemFailures ?? [];
    const unclaimed = logged(run, /go out without a claim/)[0]?.events ?? 0;
    return {
      done: `${answered(run, 'sns', 'Publish')} of ${PARROT_SERVICES.length} messages sent (SNS refused 1), ${unclaimed} events without a claim; `
        + `batch response: ${failures.length} of 30 records back to the queue`,
      reported: `log "go out without a claim"; DedupeErrors ${metricSum(run, 'DedupeErrors') ?? 0}${outOfTime(run)}`,
    };
  },
};

// ---------------------------------------------------------------------------------------------------- the updater

const updater: FaultScenario = {
  handler: 'updater',
  bundle: 'ecs-agent-updater',
  work: 'update 1 of 3 outdated agents in prod, notify, save its state and metrics',
  faulted: 'ECS UpdateContainerAgent',
  synthesize: () => {
    const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
    const updaterConstruct = new EcsAgentUpdater(stack, 'Updater', {
      clusters: [ecs.Cluster.fromClusterArn(stack, 'Cluster', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`)],
      notifications: [NotificationChannel.snsTopic(sns.Topic.fromTopicArn(stack, 'Topic', TOPIC_ARN))],
    });
    return synthesized(stack, updaterConstruct.handler);
  },
  event: () => SCHEDULED_EVENT,
  answer: (standin) => {
    clusterWithAgents(standin, ['1.80.0', '1.85.0', '1.90.0']);
    emptyStateTable(standin);
    standin.on('ecs', 'UpdateContainerAgent', (input: { containerInstance: string }) => ({
      containerInstance: { containerInstanceArn: input.containerInstance, agentUpdateStatus: 'PENDING', agentConnected: true },
    }));
    standin.on('sns', 'Publish', { MessageId: 'message-1' });
  },
  inject: (standin, mode) => {
    standin.fault({ service: 'ecs', operation: 'UpdateContainerAgent', mode });
  },
  summarize: (run) => {
    const saved = callsTo(run, 'dynamodb', 'BatchWriteItem').filter((c) => c.status === 200)
      .flatMap((c) => Object.values(c.input.RequestItems as Record<string, unknown[]>).flat()).length;
    const error = String(run.run.result?.clusters?.[0]?.errors?.[0] ?? '');
    return {
      done: `0 of 1 update asked (${callsTo(run, 'ecs', 'UpdateContainerAgent').length} tries); state saved (${saved} items), metrics published`,
      reported: `message "${run.run.result?.clusters?.[0]?.reported ?? 'none'}" (${shortError(error)}); Errors ${metricSum(run, 'Errors', { ClusterName: 'prod' }) ?? 0}`
        + outOfTime(run),
    };
  },
};

// ---------------------------------------------------------------------------------------------------- the monitor

/** Container instance `i` of a monitor cluster. */
export function monitorInstance(cluster: string, i: number): string {
  return `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/${cluster}/${hexId(`monitor:${cluster}:${i}`)}`;
}

const monitor: FaultScenario = {
  handler: 'monitor',
  bundle: 'ecs-agent-monitor',
  work: 'count the disconnected agent of green (due for replacement), check blue',
  faulted: 'ECS in cluster blue, and Auto Scaling',
  synthesize: () => {
    const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
    const monitorConstruct = new EcsAgentMonitor(stack, 'Monitor', {
      clusters: ['green', 'blue'].map((name) => ecs.Cluster.fromClusterArn(stack, name, `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${name}`)),
      autoScalingGroups: [autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Group', 'prod-asg')],
      notifications: [NotificationChannel.snsTopic(sns.Topic.fromTopicArn(stack, 'Topic', TOPIC_ARN))],
    });
    return synthesized(stack, monitorConstruct.handler);
  },
  event: () => ({ 'version': '0', 'detail-type': 'Scheduled Event', 'source': 'aws.events', 'account': ACCOUNT, 'region': REGION, 'detail': {} }),
  answer: (standin) => {
    const arns = (cluster: string) => [0, 1, 2].map((i) => monitorInstance(cluster, i));
    standin.on('ecs', 'ListContainerInstances', (input: { cluster: string }) => ({ containerInstanceArns: arns(input.cluster) }));
    standin.on('ecs', 'DescribeContainerInstances', (input: { cluster: string; containerInstances: string[] }) => ({
      containerInstances: input.containerInstances.map((arn, i) => ({
        containerInstanceArn: arn,
        ec2InstanceId: `i-0${hexId(`ec2:${input.cluster}:${i}`, 16)}`,
        status: 'ACTIVE',
        // Instance 0 of green has a disconnected agent.
        agentConnected: !(input.cluster === 'green' && arn === monitorInstance('green', 0)),
        registeredAt: new Date(Date.now() - 86_400_000),
      })),
      failures: [],
    }));
    const live = String(Math.floor(Date.now() / 1000) + 3600);
    standin.on('dynamodb', 'Query', (input: { ExpressionAttributeValues: { ':cluster': { S: string } } }) => (
      input.ExpressionAttributeValues[':cluster'].S === 'green'
        ? { Items: [{ instance: { S: monitorInstance('green', 0) }, failures: { N: '1' }, expiresAt: { N: live } }], Count: 1 }
        : { Items: [], Count: 0 }));
    standin.on('dynamodb', 'UpdateItem', { Attributes: { failures: { N: '2' } } });
    standin.on('dynamodb', 'BatchWriteItem', { UnprocessedItems: {} });
    standin.on('autoscaling', 'DescribeAutoScalingInstances', (input: { InstanceIds: string[] }) => ({
      AutoScalingInstances: input.InstanceIds.map((InstanceId) => ({
        InstanceId, AutoScalingGroupName: 'prod-asg', LifecycleState: 'InService', HealthStatus: 'HEALTHY', AvailabilityZone: `${REGION}a`, ProtectedFromScaleIn: false,
      })),
    }));
    standin.on('autoscaling', 'SetInstanceHealth', {});
    standin.on('sns', 'Publish', { MessageId: 'message-1' });
  },
  inject: (standin, mode) => {
    standin.fault({ service: 'ecs', when: (input) => input.cluster === 'blue', mode });
    standin.fault({ service: 'autoscaling', mode });
  },
  summarize: (run) => {
    const counted = callsTo(run, 'dynamodb', 'UpdateItem').filter((c) => c.status === 200 && c.input.Key?.cluster?.S === 'green').length;
    const acted = ['SetInstanceHealth', 'TerminateInstanceInAutoScalingGroup', 'DetachInstances'].reduce((n, op) => n + answered(run, 'autoscaling', op), 0)
      + answered(run, 'ec2', 'TerminateInstances');
    const clusters: Array<{ cluster: string; errors: string[] }> = run.run.result?.clusters ?? [];
    return {
      done: `green: count written (${counted} UpdateItem), ${acted === 0 ? 'no' : acted} instance acted on; blue: not read, nothing written`,
      reported: `${answered(run, 'sns', 'Publish')} messages; errors: ${clusters.map((c) => `${c.cluster} ${c.errors.length}`).join(', ')}${outOfTime(run)}`,
    };
  },
};

// ---------------------------------------------------------------------------------------------------- the status API

const statusApi: FaultScenario = {
  handler: 'status API',
  bundle: 'ecs-status-api',
  work: 'answer GET /services',
  faulted: 'ECS',
  synthesize: () => {
    const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
    return synthesized(stack, new EcsStatusApi(stack, 'Status').handler);
  },
  event: () => restEvent('/services'),
  answer: (standin) => {
    standin.on('ecs', 'ListClusters', { clusterArns: [`arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`] });
    standin.on('ecs', 'ListServices', { serviceArns: [] });
  },
  inject: (standin, mode) => {
    standin.fault({ service: 'ecs', mode });
  },
  summarize: (run) => {
    const result = run.run.result;
    const body = result ? JSON.parse(result.body) : {};
    return {
      done: result ? `answered ${result.statusCode}${result.headers?.['Retry-After'] ? ` (Retry-After ${result.headers['Retry-After']} s)` : ''}` : 'no answer',
      reported: `JSON error${body.requestId ? ' with the request id' : ''}; Errors ${metricSum(run, 'Errors') ?? 0}${outOfTime(run)}`,
    };
  },
};

// ---------------------------------------------------------------------------------------------------- the runner

const onEvent: FaultScenario = {
  handler: 'runner onEvent',
  bundle: 'ecs-task-runner',
  exportName: 'index.onEvent',
  work: 'start the task of a create (DescribeTaskDefinition, RunTask), or fail the resource with why, having stopped what it may have started',
  faulted: 'ECS RunTask',
  synthesize: () => {
    const { stack, runner } = taskRunnerStack();
    return synthesized(stack, runner.onEventHandler);
  },
  event: () => taskRunnerEvents().create,
  answer: (standin) => {
    const create = taskRunnerEvents().create as { RequestId: string };
    standin.on('ecs', 'DescribeTaskDefinition', { taskDefinition: TASK_RUNNER_TASK_DEFINITION });
    standin.on('ecs', 'RunTask', (input: { startedBy: string }) => ({
      tasks: [{ ...TASK_RUNNER_TASK, lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', startedBy: input.startedBy, createdAt: new Date() }],
      failures: [],
    }));
    // A RunTask that reached ECS and got no answer, or a 500, may have started the task (the stand-in says it did);
    // a throttled one did not.
    const mayHaveStarted = () => standin.callsTo('ecs', 'RunTask').some((c) => c.fault === 'hang' || c.status >= 500);
    standin.on('ecs', 'ListTasks', () => ({ taskArns: mayHaveStarted() ? [TASK_RUNNER_TASK.taskArn] : [] }));
    standin.on('ecs', 'DescribeTasks', () => ({
      tasks: [{
        ...TASK_RUNNER_TASK, lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', tags: [{ key: 'cdk-ecs-ops:request', value: create.RequestId }],
      }],
      failures: [],
    }));
    standin.on('ecs', 'StopTask', { task: { ...TASK_RUNNER_TASK, desiredStatus: 'STOPPED' } });
  },
  inject: (standin, mode) => {
    standin.fault({ service: 'ecs', operation: 'RunTask', mode });
  },
  summarize: (run) => ({
    done: `task definition read, RunTask tried ${callsTo(run, 'ecs', 'RunTask').length} times; `
      + `${callsTo(run, 'ecs', 'StopTask').length > 0 ? 'the task it may have started found and stopped' : 'no task of the request found'}; the resource fails`,
    reported: `reason "${shortError(String(run.run.error?.message ?? ''))}"${/Stopped the 1 task/.test(String(run.run.error?.message)) ? ', the task stopped' : ''}${outOfTime(run)}`,
  }),
};

const isComplete: FaultScenario = {
  handler: 'runner isComplete',
  bundle: 'ecs-task-runner',
  exportName: 'index.isComplete',
  work: 'fail the resource with the exit code of the task (1), and its last log lines if they come in time',
  faulted: 'CloudWatch Logs',
  synthesize: () => {
    const { stack, runner } = taskRunnerStack();
    return synthesized(stack, runner.isCompleteHandler);
  },
  event: () => taskRunnerEvents().isComplete,
  answer: (standin) => {
    standin.on('ecs', 'DescribeTasks', {
      tasks: [{
        ...TASK_RUNNER_TASK,
        lastStatus: 'STOPPED',
        desiredStatus: 'STOPPED',
        stopCode: 'EssentialContainerExited',
        stoppedReason: 'Essential container in task exited',
        containers: [{ name: 'app', exitCode: 1, lastStatus: 'STOPPED' }],
      }],
      failures: [],
    });
    standin.on('logs', 'GetLogEvents', { events: [{ timestamp: Date.now(), message: 'migration 0042 failed', ingestionTime: Date.now() }] });
  },
  inject: (standin, mode) => {
    standin.fault({ service: 'logs', mode });
  },
  summarize: (run) => {
    const exit = /exited with code (\d+)/.exec(String(run.run.error?.message ?? ''))?.[1];
    const late = logged(run, /did not come in time/).length > 0;
    return {
      done: `resource failed with exit code ${exit ?? '?'}${/Last log lines/.test(String(run.run.error?.message)) ? ' and its last log lines' : ', without log lines'}`,
      reported: `${late ? 'log lines "did not come in time"' : 'log lines "could not be read"'}; RunsFailed ${metricSum(run, 'RunsFailed') ?? 0}${outOfTime(run)}`,
    };
  },
};

/**
 * Beyond the table: isComplete when ECS DescribeTasks never answers. The poll runs out of time and is answered
 * "not complete" (the next poll tries again), never with Lambda's timeout.
 */
export const IS_COMPLETE_WITHOUT_ECS: FaultScenario = {
  ...isComplete,
  handler: 'runner isComplete (ECS)',
  work: 'poll the task',
  faulted: 'ECS DescribeTasks',
  inject: (standin, mode) => {
    standin.fault({ service: 'ecs', operation: 'DescribeTasks', mode });
  },
  summarize: (run) => ({
    done: `answered ${JSON.stringify(run.run.result)} after ${callsTo(run, 'ecs', 'DescribeTasks').length} tries`,
    reported: `log "trying again at the next poll"${outOfTime(run)}`,
  }),
};

/** An error's name and, when the budget stopped it, that it ran out of time. */
function shortError(text: string): string {
  const name = /\b(TimeoutError|AbortError|ThrottlingException|Throttling|InternalFailure|InternalServerError|ProvisionedThroughputExceededException)\b/.exec(text)?.[1] ?? text.slice(0, 60);
  return /out of time/.test(text) ? `${name}, out of time` : name;
}

/** Every handler's scenario, in the order of the table. */
export const FAULT_SCENARIOS: readonly FaultScenario[] = [parrot, updater, monitor, statusApi, onEvent, isComplete];
