/**
 * EcsTaskRunner handlers, behind aws-cdk-lib's custom resource Provider framework:
 *
 * - `onEvent` gets CloudFormation's request. An update first stops the tasks of an earlier request of the resource
 *   that still run (a run the update or its rollback replaces). Create and Update decide whether the task runs
 *   (runOn, triggers, updateCriteria, rollback), start it with RunTask (a client token per request, so a duplicate
 *   delivery starts nothing more) or StartTask, and hand the tasks to `isComplete`. When anything fails after the
 *   launch was asked for (a launch that half succeeded, a RunTask that never answered), it stops the tasks of its
 *   request before it fails: on a failed create the framework answers with its marker and skips the delete that
 *   follows, so nothing else would. Delete stops the resource's tasks that still run.
 * - `isComplete` is called every poll interval until it answers complete or throws: it describes the tasks, fails
 *   the resource at once when one failed, and stops them and fails it when they outlive the timeout. On an error it
 *   cannot retry, or on any error past the deadline, it stops the run's tasks before it fails. A run that succeeded
 *   answers with its results as the resource's attributes (`TaskArns`, `ExitCode`, `StartedAt`).
 *
 * A failure is a thrown error whose message is the reason CloudFormation shows: one line, short enough for the
 * response (see REASON_MAX_BYTES), naming the task, each failing container's exit code, the stop reasons, a console
 * link and its last log lines (with `IncludeLogLinesInReason`, the default), in that order of priority.
 *
 * The values of the container overrides (environment values, command arguments) are never written by the runner:
 * both handlers run under a redactor that knows them (from the new and the old properties), so its logs, its
 * reasons and the errors it throws mask them wherever they appear (a container's log lines, an ECS reason quoting a
 * command), along with secret-looking text (lambda/common/redact.ts).
 *
 * In time: both run under the invocation's time budget, keeping RESERVE_MS to answer, and each phase has a slice of
 * its own so that what must be done after it still can be: onEvent keeps CLEANUP_MS after the launch to stop what it
 * started; isComplete keeps AFTER_DESCRIBE_MS after DescribeTasks to stop tasks and read log lines, and reads the log
 * lines last, for at most LOG_LINES_BUDGET_MS: the exit code it already knows is never held back by CloudWatch Logs;
 * a poll that ran out of time before ECS answered is polled again (before the deadline).
 *
 * Properties of an earlier deployment (`OldResourceProperties`, a deleted resource's) may come from another version
 * of the library: they are read tolerantly (readEarlierProperties), keys this version does not know are ignored.
 */
import {
  DescribeTaskDefinitionCommand, DescribeTasksCommand, ECSClient, ListTasksCommand, RunTaskCommand, RunTaskCommandInput,
  StartTaskCommand, StopTaskCommand, Task, TaskDefinition,
} from '@aws-sdk/client-ecs';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import {
  ContainerInfo, LaunchFailure, LogExcerpt, PropertiesError, ROLLBACK_STATUSES, RunnerProperties, TAG_KEYS, TaskLike,
  changedCriteria, checkAgainstTaskDefinition, chosenContainers, clientTokenFor, composeReason, containerInfo, decideCreate,
  effectiveEnvironment, exitCodeOf, failureReason, fitReason, isRunnerPhysicalId, judge, lostReason, overrideSecrets, parseProperties,
  placementReason, planUpdate, readEarlierProperties, runnerDimension, startedByFor, taskIdOf, taskTags, timeoutReason, Decision,
} from './core';
import { clientConfig, LIST_PAGE_MAX, describeError, lazy, paginate, settleWithConcurrency } from '../common/aws';
import { Budget, isOutOfTime } from '../common/budget';
import { Invocation, lambdaHandler } from '../common/handler';
import { MetricUnit, logger } from '../common/powertools';
import { Redactor, activeRedactor, withRedactor } from '../common/redact';

const SERVICE = 'ecs-task-runner';

// Every run calls ECS. CloudWatch Logs is read only when a run failed (its last log lines), and CloudFormation only
// on an update that would run (is it a rollback?): both load on first use, in chunks of their own.
// RunTask may take a few seconds to answer; a retry after a timeout is safe (its client token).
const ecs = new ECSClient(clientConfig({ requestTimeoutMs: 10_000 }));
const logsClients = new Map<string, () => Promise<{ sdk: typeof import('@aws-sdk/client-cloudwatch-logs'); client: import('@aws-sdk/client-cloudwatch-logs').CloudWatchLogsClient }>>();
function logsIn(region: string | undefined) {
  const key = region ?? '';
  let client = logsClients.get(key);
  if (!client) {
    client = lazy(async () => {
      const sdk = await import('@aws-sdk/client-cloudwatch-logs');
      return { sdk, client: new sdk.CloudWatchLogsClient({ ...clientConfig(), ...(region ? { region } : {}) }) };
    });
    logsClients.set(key, client);
  }
  return client();
}
const stackStatus = lazy(() => import('./stack-status'));

/** Log lines of each failing container quoted in a reason. */
const LOG_LINES = 5;
/** Time kept from the work to answer the Provider framework (log, metrics, the result or the reason). */
const RESERVE_MS = 5_000;
/** onEvent: time kept after the launch (RunTask, StartTask) to find and stop what it started, should anything fail. */
export const CLEANUP_MS = 30_000;
/** onEvent: the most an update spends stopping the tasks of the run it replaces. */
const REPLACED_RUN_MS = 20_000;
/** Longest isComplete waits for the failing containers' last log lines: the reason goes without them after it. */
const LOG_LINES_BUDGET_MS = 5_000;
/** isComplete: time kept after DescribeTasks to stop the run's tasks (15 s) and read the log lines. */
export const AFTER_DESCRIBE_MS = 15_000 + LOG_LINES_BUDGET_MS;
/** The least the launch and DescribeTasks get of a budget shorter than their share (one try of the call). */
const LEAST_LAUNCH_MS = 10_000;
const LEAST_DESCRIBE_MS = 2_000;
/** onEvent: how long it waits before it looks a second time for tasks a launch of unknown outcome may have started. */
const LOOK_AGAIN_MS = 2_000;
/** Stop calls in flight at once. */
const STOP_CONCURRENCY = 5;

/**
 * The error whose message CloudFormation shows as the resource's status reason. Its stack is its first line only:
 * the Provider framework appends the stack's lines to the reason, and a reason must stay one short line. The message
 * is masked by the active redactor.
 */
export class RunFailure extends Error {
  constructor(message: string) {
    super(activeRedactor().text(message));
    this.name = 'EcsTaskRunnerFailure';
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** What onEvent hands isComplete (merged into its event by the Provider framework). Deterministic for one request. */
export interface RunState {
  readonly Run: boolean;
  readonly Why: string;
  readonly Cluster?: string;
  readonly Tasks?: string[];
  /** `family:revision`, for reasons. */
  readonly TaskDefinition?: string;
  readonly StartedAt?: string;
  readonly Deadline?: string;
  readonly Containers?: ContainerInfo[];
}

/**
 * The resource's attributes (`Fn::GetAtt`): the run of this deployment. Empty strings when the deployment did not run
 * the task; every key is always there, so a template that reads one never fails on a missing key.
 */
export interface RunAttributes {
  /** The tasks' ARNs, sorted, joined with commas. */
  readonly TaskArns: string;
  /** The exit code of the task definition's first essential container (with several tasks, the first that is not 0). */
  readonly ExitCode: string;
  /** When ECS created the run's first task, ISO 8601. */
  readonly StartedAt: string;
}

const NOT_RUN: RunAttributes = { TaskArns: '', ExitCode: '', StartedAt: '' };

export interface OnEventResult {
  readonly PhysicalResourceId: string;
  readonly EcsTaskRunner: RunState;
  /** The attributes, when the request runs nothing (a run's come from isComplete). */
  readonly Data?: RunAttributes;
}

export type IsCompleteEvent = CloudFormationCustomResourceEvent & { PhysicalResourceId: string; EcsTaskRunner?: RunState };

export interface IsCompleteResult {
  readonly IsComplete: boolean;
  /** The attributes of a run that succeeded. */
  readonly Data?: RunAttributes;
}

type Settings = Record<string, never>;

/**
 * A phase of the work: a slice of the budget that keeps `keepMs` for what must follow it, but gets at least `leastMs`
 * (all there is, when there is less).
 */
function phaseOf(budget: Budget, keepMs: number, leastMs: number): Budget {
  return budget.child({ reserveMs: Math.max(0, Math.min(keepMs, budget.remainingMs() - leastMs)) });
}

/** The metrics of one runner (dimension `Runner`: `<stack name>/<logical id>`), besides `service`. */
function runnerMetrics(invocation: Invocation<Settings>, event: { StackId: string; LogicalResourceId: string }) {
  return invocation.metrics({ Runner: runnerDimension(event.StackId, event.LogicalResourceId) });
}

// ============================================================================================== onEvent

export const onEvent = lambdaHandler({
  service: SERVICE,
  reserveMs: RESERVE_MS,
  config: (): Settings => ({}),
  // Under a redactor that knows the overrides' values: every log line, reason and error of the request masks them.
  run: (event: CloudFormationCustomResourceEvent, invocation: Invocation<Settings>) =>
    withRedactor(redactorFor(event), () => handleEvent(event, invocation)),
});

async function handleEvent(event: CloudFormationCustomResourceEvent, invocation: Invocation<Settings>): Promise<OnEventResult> {
  logger.appendKeys({ requestType: event.RequestType, logicalResourceId: event.LogicalResourceId, requestId: event.RequestId });
  if (event.RequestType === 'Delete') return onDelete(event);
  try {
    return await onCreateOrUpdate(event, invocation);
  } catch (error) {
    throw asRunFailure(error, `${event.RequestType} of the task run`);
  }
}

/**
 * A redactor that knows the values of the request's container overrides, new and old, and the identifiers the runner
 * shows as they are (with isComplete's event, also the task definition and containers onEvent found).
 */
function redactorFor(event: CloudFormationCustomResourceEvent | IsCompleteEvent): Redactor {
  const secrets = overrideSecrets(event?.ResourceProperties, (event as { OldResourceProperties?: unknown })?.OldResourceProperties);
  const state = (event as IsCompleteEvent)?.EcsTaskRunner;
  const found = state ? [state.TaskDefinition, state.TaskDefinition?.split(':')[0], ...(state.Containers ?? []).map((c) => c.name)] : [];
  return new Redactor({ ...secrets, identifiers: [...secrets.identifiers ?? [], ...found] });
}

async function onCreateOrUpdate(
  event: Exclude<CloudFormationCustomResourceEvent, { RequestType: 'Delete' }>, invocation: Invocation<Settings>,
): Promise<OnEventResult> {
  const properties = parseProperties(event.ResourceProperties);
  const physicalId = event.RequestType === 'Create'
    ? startedByFor(event.StackId, event.LogicalResourceId)
    : event.PhysicalResourceId;
  const metrics = runnerMetrics(invocation, event);

  let decision: Decision;
  if (event.RequestType === 'Create') {
    // A create of a resource whose earlier create failed (its delete skipped by the framework) ends what that left.
    await stopReplacedRun(properties.cluster, physicalId, event.RequestId, invocation);
    decision = decideCreate(properties);
  } else {
    const earlier = readEarlierProperties(event.OldResourceProperties);
    if (earlier.problems.length > 0) {
      logger.warn('the earlier properties hold values this version does not know or cannot read; they count as changed', { problems: earlier.problems });
    }
    // The run this update (or its rollback) replaces ends here, whatever is decided next.
    if (isRunnerPhysicalId(physicalId)) {
      await stopReplacedRun(earlier.properties.cluster || properties.cluster, physicalId, event.RequestId, invocation);
    }
    decision = await decideUpdate(event.StackId, earlier.properties, properties);
  }
  if (!decision.run) {
    logger.info('not running the task', { why: decision.why });
    metrics.addMetric('RunsSkipped', MetricUnit.Count, 1);
    return { PhysicalResourceId: physicalId, EcsTaskRunner: { Run: false, Why: decision.why }, Data: NOT_RUN };
  }

  const taskDefinition = await describeTaskDefinition(properties.taskDefinition);
  const label = `${taskDefinition.family}:${taskDefinition.revision}`;
  const containers = containerInfo(taskDefinition.containerDefinitions ?? []);
  const problems = checkAgainstTaskDefinition(properties, containers, label);
  if (problems.length > 0) throw new RunFailure(fitReason([`Not started: ${problems.join('; ')}.`]));

  // From the launch on, a failure stops what the request started before it is reported.
  const launched: Launched = { asked: false, tasks: [] };
  try {
    const tasks = await phaseOf(invocation.budget, CLEANUP_MS, LEAST_LAUNCH_MS)
      .within(() => launch(event, properties, physicalId, taskDefinition.taskDefinitionArn!, launched));
    const startedAt = new Date(Math.min(...tasks.map((t) => new Date(t.createdAt ?? Date.now()).getTime())));
    const deadline = new Date(startedAt.getTime() + properties.runSeconds * 1000);
    logger.info('started the task run', { why: decision.why, tasks: tasks.map((t) => t.taskArn), taskDefinition: label, deadline: deadline.toISOString() });
    metrics.addMetric('TasksStarted', MetricUnit.Count, tasks.length);
    return {
      PhysicalResourceId: physicalId,
      EcsTaskRunner: {
        Run: true,
        Why: decision.why,
        Cluster: properties.cluster,
        Tasks: tasks.map((t) => t.taskArn!).sort(),
        TaskDefinition: label,
        StartedAt: startedAt.toISOString(),
        Deadline: deadline.toISOString(),
        Containers: containers,
      },
    };
  } catch (error) {
    if (!launched.asked) throw error;
    const shortfall = error instanceof LaunchShortfall;
    const cleanup = await stopRequestTasks(properties.cluster, physicalId, event.RequestId, launched.tasks, !shortfall,
      shortfall ? `EcsTaskRunner: ${error.operation} could not start every task` : 'EcsTaskRunner: the launch failed, so its run is stopped');
    logger.error('the launch failed; stopped what this request started', {
      error: describeError(error), stopped: cleanup.stopped, stopErrors: cleanup.errors, ...(shortfall ? { failures: error.failures } : {}),
    });
    metrics.addMetric('RunsFailed', MetricUnit.Count, 1);
    if (shortfall) {
      throw new RunFailure(placementReason({
        operation: error.operation,
        asked: error.asked,
        started: error.started.length,
        cluster: properties.cluster,
        failures: error.failures,
        stopped: cleanup.stopped,
        stopErrors: cleanup.errors,
      }));
    }
    throw new RunFailure(composeReason([
      { text: sentence(`${event.RequestType} of the task run failed: ${error instanceof RunFailure ? error.message : describeError(error)}`), priority: 0 },
      {
        text: cleanup.stopped.length > 0
          ? `Stopped the ${cleanup.stopped.length} task(s) it had started: ${cleanup.stopped.join(', ')}.`
          : 'No task of this request was found running.',
        priority: 0,
        whole: cleanup.stopped.length <= 3,
      },
      ...(cleanup.errors.length > 0 ? [{ text: `Could not stop: ${cleanup.errors.join('; ')}.`, priority: 0, maxBytes: 400 }] : []),
    ]));
  }
}

/**
 * Whether an update runs the task: triggers, runOn and what changed (or the updateCriteria values, read from the old
 * and new task definitions), and never in a rollback unless runOnRollback.
 */
async function decideUpdate(stackId: string, before: RunnerProperties, after: RunnerProperties): Promise<Decision> {
  const plan = planUpdate(before, after);
  let decision: Decision;
  if ('compareCriteria' in plan) {
    const [oldDefinition, newDefinition] = await Promise.all([
      describeTaskDefinition(before.taskDefinition).catch((error) => {
        logger.warn('cannot read the previous task definition; taking every criterion as changed', { error: describeError(error) });
        return undefined;
      }),
      describeTaskDefinition(after.taskDefinition),
    ]);
    const changed = oldDefinition
      ? changedCriteria(after.updateCriteria,
        (name) => effectiveEnvironment(oldDefinition.containerDefinitions ?? [], before.containerOverrides, name),
        (name) => effectiveEnvironment(newDefinition.containerDefinitions ?? [], after.containerOverrides, name))
      : after.updateCriteria.flatMap((c) => c.environmentKeys.map((k) => `${c.containerName}.${k}`));
    decision = changed.length > 0
      ? { run: true, why: `updateCriteria changed: ${changed.join(', ')}` }
      : { run: false, why: 'none of the updateCriteria values changed' };
  } else {
    decision = plan;
  }
  if (!decision.run || after.runOnRollback) return decision;

  const { describeStackStatus } = await stackStatus();
  const status = await describeStackStatus(stackId);
  if ((ROLLBACK_STATUSES as readonly string[]).includes(status)) {
    return { run: false, why: `the stack is rolling back (${status}) and runOnRollback is false; it would have run because ${decision.why}` };
  }
  return decision;
}

async function describeTaskDefinition(taskDefinition: string): Promise<TaskDefinition> {
  const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition }));
  if (!out.taskDefinition?.taskDefinitionArn) throw new RunFailure(`DescribeTaskDefinition found no task definition ${taskDefinition}.`);
  return out.taskDefinition;
}

/** What a launch got to: whether it was asked for (a task may have started), and the tasks it knows started. */
interface Launched {
  asked: boolean;
  tasks: string[];
}

/** A launch that started fewer tasks than asked (RunTask's and StartTask's `failures`). */
class LaunchShortfall extends Error {
  constructor(
    public readonly operation: 'RunTask' | 'StartTask',
    public readonly asked: number,
    public readonly started: string[],
    public readonly failures: LaunchFailure[],
  ) {
    super(`${operation} started ${started.length} of ${asked} task(s)`);
    this.name = 'LaunchShortfall';
  }
}

/**
 * Starts the tasks (or finds the ones a first delivery of this request started); throws LaunchShortfall when not
 * all could start. Notes in `launched` that the launch was asked for, and the tasks it knows of, as soon as it does.
 */
async function launch(
  event: Exclude<CloudFormationCustomResourceEvent, { RequestType: 'Delete' }>,
  properties: RunnerProperties,
  startedBy: string,
  taskDefinitionArn: string,
  launched: Launched,
): Promise<Task[]> {
  const { launch: target } = properties;
  const common = {
    cluster: properties.cluster,
    taskDefinition: taskDefinitionArn,
    startedBy,
    tags: taskTags(event.StackId, event.LogicalResourceId, event.RequestId),
    ...(properties.containerOverrides.length > 0 ? {
      overrides: {
        containerOverrides: properties.containerOverrides.map((o) => ({
          name: o.name,
          ...(o.command ? { command: o.command } : {}),
          ...(o.environment ? { environment: o.environment } : {}),
        })),
      },
    } : {}),
    ...(target.subnets ? {
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: target.subnets,
          ...(target.securityGroups ? { securityGroups: target.securityGroups } : {}),
          ...(target.assignPublicIp ? { assignPublicIp: target.assignPublicIp } : {}),
        },
      },
    } : {}),
    ...(properties.propagateTags ? { propagateTags: 'TASK_DEFINITION' as const } : {}),
    ...(properties.enableExecuteCommand ? { enableExecuteCommand: true } : {}),
  };

  let operation: 'RunTask' | 'StartTask';
  let asked: number;
  let tasks: Task[];
  let failures: LaunchFailure[];
  if (target.kind === 'CONTAINER_INSTANCES') {
    operation = 'StartTask';
    asked = target.containerInstances!.length;
    // StartTask takes no client token: a duplicate delivery finds the tasks of its request by their request tag.
    const earlier = await tasksOfRequest(properties.cluster, startedBy, event.RequestId, ['RUNNING', 'STOPPED']);
    if (earlier.length > 0) {
      logger.info('this request already started its tasks (a duplicate delivery); not starting more', { tasks: earlier.map((t) => t.taskArn) });
      return earlier;
    }
    launched.asked = true;
    const out = await ecs.send(new StartTaskCommand({ ...common, containerInstances: target.containerInstances }));
    tasks = out.tasks ?? [];
    failures = out.failures ?? [];
  } else {
    operation = 'RunTask';
    asked = properties.count;
    const input: RunTaskCommandInput = {
      ...common,
      count: properties.count,
      clientToken: clientTokenFor(event.StackId, event.LogicalResourceId, event.RequestId),
      // CLUSTER_DEFAULT: neither a launch type nor a strategy, so ECS uses the cluster's default capacity provider strategy.
      ...(target.kind === 'FARGATE' ? { launchType: 'FARGATE' as const } : {}),
      ...(target.kind === 'EC2' ? { launchType: 'EC2' as const } : {}),
      ...(target.platformVersion ? { platformVersion: target.platformVersion } : {}),
      ...(target.capacityProviderStrategy ? { capacityProviderStrategy: target.capacityProviderStrategy } : {}),
      ...(target.placementConstraints ? { placementConstraints: target.placementConstraints.map((c) => ({ type: c.type as 'memberOf' | 'distinctInstance', expression: c.expression })) } : {}),
      ...(target.placementStrategy ? { placementStrategy: target.placementStrategy.map((s) => ({ type: s.type as 'binpack' | 'random' | 'spread', field: s.field })) } : {}),
    };
    launched.asked = true;
    const out = await ecs.send(new RunTaskCommand(input));
    tasks = out.tasks ?? [];
    failures = out.failures ?? [];
  }
  launched.tasks = tasks.map((t) => t.taskArn!).filter(Boolean);

  // A partial launch is a failed run: what did start is stopped (by the caller), so nothing of it keeps running.
  if (failures.length > 0 || tasks.length < asked) throw new LaunchShortfall(operation, asked, launched.tasks, failures);
  return tasks;
}

/** The tasks of this resource, of the given desired statuses, that this request started (by their request tag). */
async function tasksOfRequest(cluster: string, startedBy: string, requestId: string, statuses: ReadonlyArray<'RUNNING' | 'STOPPED'>): Promise<Task[]> {
  const tasks = await tasksOfResource(cluster, startedBy, statuses);
  return tasks.filter((t) => requestOf(t) === requestId);
}

/** The request a task of this runner was started by (its request tag). */
function requestOf(task: Task): string | undefined {
  return task.tags?.find((tag) => tag.key === TAG_KEYS.request)?.value;
}

/** The tasks this resource started (by startedBy, its physical id), of the given desired statuses, with their tags. */
async function tasksOfResource(cluster: string, startedBy: string, statuses: ReadonlyArray<'RUNNING' | 'STOPPED'>): Promise<Task[]> {
  const arns = (await Promise.all(statuses.map((desiredStatus) => paginate(
    (nextToken) => ecs.send(new ListTasksCommand({ cluster, startedBy, desiredStatus, maxResults: LIST_PAGE_MAX.ListTasks, nextToken })),
    (page) => page.taskArns,
    (page) => page.nextToken,
  )))).flat();
  const found: Task[] = [];
  for (let i = 0; i < arns.length; i += 100) {
    const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100), include: ['TAGS'] }));
    found.push(...out.tasks ?? []);
  }
  return found;
}

/** Stops tasks; returns one line per task it could not stop. */
async function stopTasks(cluster: string, taskArns: readonly string[], reason: string): Promise<string[]> {
  const outcomes = await settleWithConcurrency(taskArns, STOP_CONCURRENCY,
    (task) => ecs.send(new StopTaskCommand({ cluster, task, reason: reason.slice(0, 255) })));
  return outcomes.flatMap((o, i) => (o.status === 'rejected' ? [`${taskIdOf(taskArns[i])}: ${describeError(o.reason)}`] : []));
}

/**
 * Stops the tasks this request started: those the launch answered with, and those ECS lists for the request (a launch
 * whose answer never came may have started them; `lookAgain` looks once more after a moment when the first look finds
 * none, as a task may not be listed at once). What cannot be stopped or looked for is returned, never thrown.
 */
async function stopRequestTasks(
  cluster: string, startedBy: string, requestId: string, known: readonly string[], lookAgain: boolean, reason: string,
): Promise<{ stopped: string[]; errors: string[] }> {
  const errors: string[] = [];
  const arns = new Set(known);
  for (let look = 0; look < (lookAgain ? 2 : 1); look++) {
    if (look > 0) {
      if (arns.size > 0) break;
      await new Promise((resolve) => setTimeout(resolve, LOOK_AGAIN_MS));
    }
    try {
      for (const t of await tasksOfRequest(cluster, startedBy, requestId, ['RUNNING'])) if (t.taskArn) arns.add(t.taskArn);
    } catch (error) {
      errors.push(`looking for the tasks of this request: ${describeError(error)}`);
      break;
    }
  }
  const stopErrors = await stopTasks(cluster, [...arns], reason);
  const failed = new Set(stopErrors.map((e) => e.split(':')[0]));
  return { stopped: [...arns].filter((arn) => !failed.has(taskIdOf(arn))).sort(), errors: [...errors, ...stopErrors] };
}

/**
 * Stops the tasks of this resource that an earlier request started and that still run: a run whose request is over
 * (CloudFormation cancelled it, or rolls it back; a failed create whose delete the framework skipped), which this
 * request replaces. Never fails the request: what cannot be looked for or stopped (the earlier cluster is no longer
 * granted, ECS does not answer in time) is logged.
 */
async function stopReplacedRun(cluster: string, startedBy: string, requestId: string, invocation: Invocation<Settings>): Promise<void> {
  try {
    await invocation.budget.child({ maxMs: REPLACED_RUN_MS }).within(async () => {
      const replaced = (await tasksOfResource(cluster, startedBy, ['RUNNING'])).filter((t) => requestOf(t) !== requestId && t.taskArn);
      if (replaced.length === 0) return;
      const arns = replaced.map((t) => t.taskArn!);
      const errors = await stopTasks(cluster, arns, 'EcsTaskRunner: a later request of the resource replaces this run');
      logger.warn('stopped the tasks of an earlier request of this resource that still ran: this request replaces its run', {
        tasks: arns, requests: [...new Set(replaced.map(requestOf))], stopErrors: errors,
      });
    });
  } catch (error) {
    logger.warn('could not look for tasks of an earlier request that still run; the request goes on', { error: describeError(error) });
  }
}

/**
 * Delete always succeeds (a stack must be deletable, after a failed create too): with stopTasksOnDelete, the tasks
 * this resource started that still run are stopped, and what cannot be stopped is logged. The properties may have
 * been written by another version of the library: they are read tolerantly.
 */
async function onDelete(event: Extract<CloudFormationCustomResourceEvent, { RequestType: 'Delete' }>): Promise<OnEventResult> {
  const result: OnEventResult = { PhysicalResourceId: event.PhysicalResourceId, EcsTaskRunner: { Run: false, Why: 'the resource is deleted' } };
  if (!isRunnerPhysicalId(event.PhysicalResourceId)) {
    logger.info('nothing to stop: the physical id is not one this runner wrote', { physicalResourceId: event.PhysicalResourceId });
    return result;
  }
  const { properties, problems } = readEarlierProperties(event.ResourceProperties);
  if (!properties.cluster) {
    logger.warn('the deleted resource\'s properties name no cluster; nothing is stopped', { problems });
    return result;
  }
  if (!properties.stopTasksOnDelete) return result;
  try {
    const running = await paginate(
      (nextToken) => ecs.send(new ListTasksCommand({
        cluster: properties.cluster, startedBy: event.PhysicalResourceId, desiredStatus: 'RUNNING', maxResults: LIST_PAGE_MAX.ListTasks, nextToken,
      })),
      (page) => page.taskArns,
      (page) => page.nextToken,
    );
    const errors = await stopTasks(properties.cluster, running, 'EcsTaskRunner: the resource was deleted');
    if (errors.length > 0) logger.warn('could not stop every task of the deleted resource', { errors });
    logger.info('stopped the tasks the deleted resource started that still ran', { tasks: running, errors });
  } catch (error) {
    logger.warn('could not look for tasks of the deleted resource; the delete succeeds anyway', { error: describeError(error) });
  }
  return result;
}

// ============================================================================================== isComplete

export const isComplete = lambdaHandler({
  service: SERVICE,
  reserveMs: RESERVE_MS,
  config: (): Settings => ({}),
  run: (event: IsCompleteEvent, invocation: Invocation<Settings>) => withRedactor(redactorFor(event), () => handleCheck(event, invocation)),
});

/**
 * Checks the run. A failure it reports itself (RunFailure) has stopped what it had to; any other error is tried again
 * at the next poll when it may pass (throttling, 5xx, out of time) and the deadline has not passed, and otherwise
 * stops the run's tasks and fails the resource with it.
 */
async function handleCheck(event: IsCompleteEvent, invocation: Invocation<Settings>): Promise<IsCompleteResult> {
  logger.appendKeys({ requestType: event.RequestType, logicalResourceId: event.LogicalResourceId, requestId: event.RequestId });
  try {
    return await checkRun(event, invocation);
  } catch (error) {
    if (error instanceof RunFailure) throw error;
    const state = event.EcsTaskRunner;
    const deadline = Date.parse(state?.Deadline ?? '');
    const pastDeadline = !Number.isFinite(deadline) || Date.now() >= deadline;
    if (state?.Run && isTransient(error) && !pastDeadline) {
      // One throttled or failed poll does not fail a deployment: the next poll tries again.
      logger.warn('could not check the tasks; trying again at the next poll', { error: describeError(error) });
      return { IsComplete: false };
    }
    const tasks = state?.Run && state.Cluster ? state.Tasks ?? [] : [];
    const stopErrors = tasks.length > 0
      ? await stopTasks(state!.Cluster!, tasks, 'EcsTaskRunner: the run cannot be checked, so it is stopped')
      : [];
    logger.error('checking the run failed; stopped its tasks', { error: describeError(error), pastDeadline, tasks, stopErrors });
    if (tasks.length > 0) runnerMetrics(invocation, event).addMetric('RunsFailed', MetricUnit.Count, 1);
    const doing = `Checking the task run failed${pastDeadline && isTransient(error) ? ' past its deadline' : ''}`;
    throw new RunFailure(composeReason([
      { text: sentence(`${doing}: ${error instanceof PropertiesError ? error.message : describeError(error)}`), priority: 0 },
      ...(tasks.length > 0 ? [{ text: `Stopped the run's ${tasks.length} task(s)${stopErrors.length > 0 ? `, except ${stopErrors.length}` : ''}.`, priority: 0, whole: true }] : []),
      ...(stopErrors.length > 0 ? [{ text: `Could not stop: ${stopErrors.join('; ')}.`, priority: 0, maxBytes: 400 }] : []),
    ]));
  }
}

async function checkRun(event: IsCompleteEvent, invocation: Invocation<Settings>): Promise<IsCompleteResult> {
  const state = event.EcsTaskRunner;
  if (!state) throw new RunFailure('The request carries no task run (the Provider framework did not pass on what onEvent returned).');
  if (event.RequestType === 'Delete' || !state.Run) return { IsComplete: true };
  const properties = parseProperties(event.ResourceProperties);
  const cluster = state.Cluster!;
  const taskArns = state.Tasks ?? [];
  const label = state.TaskDefinition ?? 'task definition';
  const containers = state.Containers ?? [];
  const deadline = new Date(state.Deadline!);

  // DescribeTasks leaves AFTER_DESCRIBE_MS of the budget: to stop tasks and read log lines once it knows.
  const { tasks, missing } = await phaseOf(invocation.budget, AFTER_DESCRIBE_MS, LEAST_DESCRIBE_MS).within(async () => {
    const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns }));
    const found = out.tasks ?? [];
    return { tasks: found, missing: taskArns.filter((arn) => !found.some((t) => t.taskArn === arn)) };
  });
  const now = new Date();

  const verdict = judge({
    tasks, missing, chosen: chosenContainers(properties.successCriteria, containers), now, startedAt: new Date(state.StartedAt!), deadline,
  });
  const metrics = runnerMetrics(invocation, event);
  // Log lines come last, within what the budget leaves them after the tasks are stopped.
  const readLogs = (wanted: ReadonlyArray<{ taskArn: string; containers: readonly string[] }>) => (properties.includeLogLinesInReason
    ? logExcerpts(invocation, wanted, containers)
    : Promise.resolve(new Map<string, LogExcerpt[]>()));
  switch (verdict.state) {
    case 'running':
      logger.info('the tasks are still running', { statuses: tasks.map((t) => ({ task: t.taskArn, lastStatus: t.lastStatus })), deadline: deadline.toISOString() });
      return { IsComplete: false };
    case 'succeeded': {
      const data: RunAttributes = { TaskArns: [...taskArns].sort().join(','), ExitCode: exitCodeOf(tasks, containers), StartedAt: state.StartedAt ?? '' };
      logger.info('the task run succeeded', { tasks: taskArns, exitCode: data.ExitCode });
      metrics.addMetric('RunsSucceeded', MetricUnit.Count, 1);
      return { IsComplete: true, Data: data };
    }
    case 'lost': {
      // The tasks ECS still finds are stopped: nothing of a failed run keeps running.
      const running = tasks.filter((t) => t.lastStatus !== 'STOPPED').map((t) => t.taskArn!).filter(Boolean);
      const stopErrors = await stopTasks(cluster, running, 'EcsTaskRunner: ECS lost another task of the run');
      logger.error('ECS lost tasks of the run; stopped the others', { missing: verdict.missing, stopped: running, stopErrors });
      metrics.addMetric('RunsFailed', MetricUnit.Count, 1);
      throw new RunFailure(lostReason(verdict.missing, label, running, stopErrors));
    }
    case 'failed': {
      const stopErrors = await stopTasks(cluster, verdict.running, 'EcsTaskRunner: another task of the run failed');
      const logs = await readLogs(verdict.failures.map((f) => ({ taskArn: f.taskArn, containers: f.containers.map((c) => c.name) })));
      logger.error('the task run failed', { failures: verdict.failures, stoppedOthers: verdict.running, stopErrors });
      metrics.addMetric('RunsFailed', MetricUnit.Count, 1);
      throw new RunFailure(failureReason({
        failures: verdict.failures, total: taskArns.length, stoppedOthers: verdict.running, label, logs, stopErrors,
      }));
    }
    case 'timed-out': {
      const stopErrors = await stopTasks(cluster, verdict.running,
        `EcsTaskRunner: not finished within ${properties.runSeconds} s (timeout ${properties.timeoutSeconds} s)`);
      const running: TaskLike[] = verdict.running.map((arn) => tasks.find((t) => t.taskArn === arn) ?? { taskArn: arn, lastStatus: 'MISSING' });
      const essential = containers.filter((c) => c.essential).map((c) => c.name);
      const logs = await readLogs(running.map((t) => ({ taskArn: t.taskArn!, containers: essential })));
      logger.error('the task run timed out; stopped its tasks', { running: verdict.running, stopErrors });
      metrics.addMetric('RunsFailed', MetricUnit.Count, 1);
      metrics.addMetric('RunsTimedOut', MetricUnit.Count, 1);
      throw new RunFailure(timeoutReason({
        running, runSeconds: properties.runSeconds, timeoutSeconds: properties.timeoutSeconds, label, stopErrors, logs,
      }));
    }
  }
}

/**
 * The last lines of the given containers' awslogs streams (`<prefix>/<container>/<task id>`), for at most three
 * tasks, within LOG_LINES_BUDGET_MS. Reading logs is a courtesy: a failure to read them (in time) leaves the reason
 * with its console link only.
 */
async function logExcerpts(
  invocation: Invocation<Settings>, wanted: ReadonlyArray<{ taskArn: string; containers: readonly string[] }>, containers: readonly ContainerInfo[],
): Promise<Map<string, LogExcerpt[]>> {
  const reads = wanted.slice(0, 3).flatMap(({ taskArn, containers: names }) => names.flatMap((name) => {
    const awslogs = containers.find((c) => c.name === name)?.awslogs;
    return awslogs ? [{ taskArn, container: name, awslogs }] : [];
  }));
  const excerpts = new Map<string, LogExcerpt[]>();
  const budget = invocation.budget.child({ maxMs: LOG_LINES_BUDGET_MS });
  /** The reads that ended in time, with lines or with an error other than the time. */
  const ended = new Set<number>();
  const reading = budget.within(() => settleWithConcurrency(reads, 4, async ({ taskArn, container, awslogs }, index) => {
    try {
      const { sdk, client } = await logsIn(awslogs.region);
      const out = await client.send(new sdk.GetLogEventsCommand({
        logGroupName: awslogs.group,
        logStreamName: `${awslogs.streamPrefix}/${container}/${taskIdOf(taskArn)}`,
        limit: LOG_LINES,
        startFromHead: false,
      }));
      const lines = (out.events ?? []).map((e) => e.message ?? '').filter((m) => m.trim() !== '');
      if (lines.length > 0) excerpts.set(taskArn, [...excerpts.get(taskArn) ?? [], { container, lines }]);
      ended.add(index);
    } catch (error) {
      if (isOutOfTime(error)) return; // said once, below
      ended.add(index);
      logger.warn('could not read the container\'s last log lines', { task: taskArn, container, error: describeError(error) });
    }
  }));
  try {
    // Whatever the clients do, the answer does not wait past the logs' budget.
    await budget.race(reading, 'reading the last log lines');
  } catch (error) {
    if (!isOutOfTime(error)) throw error;
  }
  const late = reads.length - ended.size;
  if (late > 0) {
    logger.warn('the containers\' last log lines did not come in time; the reason goes without them', { late, of: reads.length, waitedMs: LOG_LINES_BUDGET_MS });
  }
  // What came in time: a read that ends later does not change the reason.
  return new Map(excerpts);
}

/** Errors worth another poll: throttling, 5xx, timeouts and network failures (after the SDK's own retries), out of time. */
function isTransient(error: unknown): boolean {
  const e = error as { name?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number }; code?: string };
  if (isOutOfTime(error)) return true;
  if (e?.$retryable) return true;
  if ((e?.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  return ['ThrottlingException', 'ServerException', 'TimeoutError', 'RequestTimeout', 'NetworkingError'].includes(e?.name ?? '')
    || ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED'].includes(e?.code ?? '');
}

/** Text that ends as a sentence ends. */
function sentence(text: string): string {
  return /[.!?]$/.test(text.trimEnd()) ? text : `${text.trimEnd()}.`;
}

/** Any error as a RunFailure, whose one-line message CloudFormation shows. */
function asRunFailure(error: unknown, doing: string): RunFailure {
  if (error instanceof RunFailure) return error;
  if (error instanceof PropertiesError) return new RunFailure(fitReason([`${doing} failed: ${error.message}.`]));
  return new RunFailure(fitReason([`${doing} failed: ${describeError(error)}`]));
}
