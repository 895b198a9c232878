/**
 * EcsTaskRunner handlers, behind aws-cdk-lib's custom resource Provider framework:
 *
 * - `onEvent` gets CloudFormation's request. Create and Update decide whether the task runs (runOn, triggers,
 *   updateCriteria, rollback), start it with RunTask (a client token per request, so a duplicate delivery starts
 *   nothing more) or StartTask, and hand the tasks to `isComplete`. Delete stops the resource's tasks that still run.
 * - `isComplete` is called every poll interval until it answers complete or throws: it describes the tasks, fails
 *   the resource at once when one failed, and stops them and fails it when they outlive the timeout.
 *
 * A failure is a thrown error whose message is the reason CloudFormation shows: one line, short enough for the
 * response (see REASON_MAX_BYTES), naming the task, its stop code and reason, each failing container's exit code,
 * and its last log lines (with `IncludeLogLinesInReason`, the default) or a console link.
 *
 * The values of the container overrides (environment values, command arguments) are never written by the runner:
 * both handlers run under a redactor that knows them (from the new and the old properties), so its logs, its
 * reasons and the errors it throws mask them wherever they appear (a container's log lines, an ECS reason quoting a
 * command), along with secret-looking text (lambda/common/redact.ts).
 *
 * In time: both run under the invocation's time budget, keeping RESERVE_MS to answer. isComplete reads the log lines
 * last, for at most LOG_LINES_BUDGET_MS: the exit code it already knows is never held back by CloudWatch Logs; a poll
 * that ran out of time before ECS answered is polled again.
 */
import {
  DescribeTaskDefinitionCommand, DescribeTasksCommand, ECSClient, ListTasksCommand, RunTaskCommand, RunTaskCommandInput,
  StartTaskCommand, StopTaskCommand, Task, TaskDefinition,
} from '@aws-sdk/client-ecs';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import {
  ContainerInfo, LaunchFailure, LogExcerpt, PropertiesError, ROLLBACK_STATUSES, RunnerProperties, TAG_KEYS, TaskLike,
  changedCriteria, checkAgainstTaskDefinition, chosenContainers, clientTokenFor, containerInfo, decideCreate, effectiveEnvironment,
  failureReason, fitReason, isRunnerPhysicalId, judge, lostReason, overrideSecrets, parseProperties, placementReason, planUpdate, startedByFor,
  taskIdOf, taskTags, timeoutReason, Decision,
} from './core';
import { clientConfig, LIST_PAGE_MAX, describeError, lazy, paginate, settleWithConcurrency } from '../common/aws';
import { isOutOfTime } from '../common/budget';
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
/** Longest isComplete waits for the failing containers' last log lines: the reason goes without them after it. */
const LOG_LINES_BUDGET_MS = 5_000;
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

export interface OnEventResult {
  readonly PhysicalResourceId: string;
  readonly EcsTaskRunner: RunState;
}

export type IsCompleteEvent = CloudFormationCustomResourceEvent & { PhysicalResourceId: string; EcsTaskRunner?: RunState };

export interface IsCompleteResult {
  readonly IsComplete: boolean;
}

type Settings = Record<string, never>;

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

  const decision = event.RequestType === 'Create'
    ? decideCreate(properties)
    : await decideUpdate(event.StackId, parseProperties(event.OldResourceProperties), properties);
  if (!decision.run) {
    logger.info('not running the task', { why: decision.why });
    invocation.metrics().addMetric('RunsSkipped', MetricUnit.Count, 1);
    return { PhysicalResourceId: physicalId, EcsTaskRunner: { Run: false, Why: decision.why } };
  }

  const taskDefinition = await describeTaskDefinition(properties.taskDefinition);
  const label = `${taskDefinition.family}:${taskDefinition.revision}`;
  const containers = containerInfo(taskDefinition.containerDefinitions ?? []);
  const problems = checkAgainstTaskDefinition(properties, containers, label);
  if (problems.length > 0) throw new RunFailure(fitReason([`Not started: ${problems.join('; ')}.`]));

  const tasks = await launch(event, properties, physicalId, taskDefinition.taskDefinitionArn!);
  const startedAt = new Date(Math.min(...tasks.map((t) => new Date(t.createdAt ?? Date.now()).getTime())));
  const deadline = new Date(startedAt.getTime() + properties.runSeconds * 1000);
  logger.info('started the task run', { why: decision.why, tasks: tasks.map((t) => t.taskArn), taskDefinition: label, deadline: deadline.toISOString() });
  invocation.metrics().addMetric('TasksStarted', MetricUnit.Count, tasks.length);
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

/** Starts the tasks (or finds the ones a first delivery of this request started); fails when not all could start. */
async function launch(
  event: Exclude<CloudFormationCustomResourceEvent, { RequestType: 'Delete' }>,
  properties: RunnerProperties,
  startedBy: string,
  taskDefinitionArn: string,
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
    const earlier = await tasksOfRequest(properties.cluster, startedBy, event.RequestId);
    if (earlier.length > 0) {
      logger.info('this request already started its tasks (a duplicate delivery); not starting more', { tasks: earlier.map((t) => t.taskArn) });
      return earlier;
    }
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
      ...(target.kind === 'FARGATE' ? { launchType: 'FARGATE' as const } : {}),
      ...(target.kind === 'EC2' ? { launchType: 'EC2' as const } : {}),
      ...(target.platformVersion ? { platformVersion: target.platformVersion } : {}),
      ...(target.capacityProviderStrategy ? { capacityProviderStrategy: target.capacityProviderStrategy } : {}),
      ...(target.placementConstraints ? { placementConstraints: target.placementConstraints.map((c) => ({ type: c.type as 'memberOf' | 'distinctInstance', expression: c.expression })) } : {}),
      ...(target.placementStrategy ? { placementStrategy: target.placementStrategy.map((s) => ({ type: s.type as 'binpack' | 'random' | 'spread', field: s.field })) } : {}),
    };
    const out = await ecs.send(new RunTaskCommand(input));
    tasks = out.tasks ?? [];
    failures = out.failures ?? [];
  }

  if (failures.length > 0 || tasks.length < asked) {
    // A partial launch is a failed run: stop what did start, so nothing of it keeps running, then report.
    const started = tasks.map((t) => t.taskArn!).filter(Boolean);
    const stopErrors = await stopTasks(properties.cluster, started, `EcsTaskRunner: ${operation} could not start every task`);
    logger.error('not every task started', { operation, asked, started, failures, stopErrors });
    throw new RunFailure(placementReason({ operation, asked, started: started.length, cluster: properties.cluster, failures, stopped: started }));
  }
  return tasks;
}

/** The tasks an earlier delivery of this request started (found by startedBy, then by their request tag). */
async function tasksOfRequest(cluster: string, startedBy: string, requestId: string): Promise<Task[]> {
  const arns = (await Promise.all((['RUNNING', 'STOPPED'] as const).map((desiredStatus) => paginate(
    (nextToken) => ecs.send(new ListTasksCommand({ cluster, startedBy, desiredStatus, maxResults: LIST_PAGE_MAX.ListTasks, nextToken })),
    (page) => page.taskArns,
    (page) => page.nextToken,
  )))).flat();
  if (arns.length === 0) return [];
  const found: Task[] = [];
  for (let i = 0; i < arns.length; i += 100) {
    const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100), include: ['TAGS'] }));
    found.push(...(out.tasks ?? []).filter((t) => t.tags?.some((tag) => tag.key === TAG_KEYS.request && tag.value === requestId)));
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
 * Delete always succeeds (a stack must be deletable, after a failed create too): with stopTasksOnDelete, the tasks
 * this resource started that still run are stopped, and what cannot be stopped is logged.
 */
async function onDelete(event: Extract<CloudFormationCustomResourceEvent, { RequestType: 'Delete' }>): Promise<OnEventResult> {
  const result: OnEventResult = { PhysicalResourceId: event.PhysicalResourceId, EcsTaskRunner: { Run: false, Why: 'the resource is deleted' } };
  if (!isRunnerPhysicalId(event.PhysicalResourceId)) {
    logger.info('nothing to stop: the physical id is not one this runner wrote', { physicalResourceId: event.PhysicalResourceId });
    return result;
  }
  let properties: RunnerProperties;
  try {
    properties = parseProperties(event.ResourceProperties);
  } catch (error) {
    logger.warn('cannot read the properties of the deleted resource; nothing is stopped', { error: describeError(error) });
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

async function handleCheck(event: IsCompleteEvent, invocation: Invocation<Settings>): Promise<IsCompleteResult> {
  logger.appendKeys({ requestType: event.RequestType, logicalResourceId: event.LogicalResourceId, requestId: event.RequestId });
  try {
    return await checkRun(event, invocation);
  } catch (error) {
    throw asRunFailure(error, 'Checking the task run');
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
  const now = new Date();
  const deadline = new Date(state.Deadline!);

  let tasks: Task[];
  let missing: string[];
  try {
    const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns }));
    tasks = out.tasks ?? [];
    missing = taskArns.filter((arn) => !tasks.some((t) => t.taskArn === arn));
  } catch (error) {
    if (!isTransient(error) || now >= deadline) throw error;
    // One throttled or failed poll does not fail a deployment: the next poll tries again.
    logger.warn('could not describe the tasks; trying again at the next poll', { error: describeError(error) });
    return { IsComplete: false };
  }

  const verdict = judge({
    tasks, missing, chosen: chosenContainers(properties.successCriteria, containers), now, startedAt: new Date(state.StartedAt!), deadline,
  });
  const metrics = invocation.metrics();
  switch (verdict.state) {
    case 'running':
      logger.info('the tasks are still running', { statuses: tasks.map((t) => ({ task: t.taskArn, lastStatus: t.lastStatus })), deadline: deadline.toISOString() });
      return { IsComplete: false };
    case 'succeeded':
      logger.info('the task run succeeded', { tasks: taskArns });
      metrics.addMetric('RunsSucceeded', MetricUnit.Count, 1);
      return { IsComplete: true };
    case 'lost':
      metrics.addMetric('RunsFailed', MetricUnit.Count, 1);
      throw new RunFailure(lostReason(verdict.missing, label));
    case 'failed': {
      const stopErrors = await stopTasks(cluster, verdict.running, 'EcsTaskRunner: another task of the run failed');
      const wanted = verdict.failures.map((f) => ({ taskArn: f.taskArn, containers: f.containers.map((c) => c.name) }));
      const logs = properties.includeLogLinesInReason ? await logExcerpts(invocation, wanted, containers) : new Map<string, LogExcerpt[]>();
      logger.error('the task run failed', { failures: verdict.failures, stoppedOthers: verdict.running, stopErrors });
      metrics.addMetric('RunsFailed', MetricUnit.Count, 1);
      throw new RunFailure(failureReason({ failures: verdict.failures, total: taskArns.length, stoppedOthers: verdict.running, label, logs }));
    }
    case 'timed-out': {
      const stopErrors = await stopTasks(cluster, verdict.running,
        `EcsTaskRunner: not finished within ${properties.runSeconds} s (timeout ${properties.timeoutSeconds} s)`);
      const running: TaskLike[] = verdict.running.map((arn) => tasks.find((t) => t.taskArn === arn) ?? { taskArn: arn, lastStatus: 'MISSING' });
      const essential = containers.filter((c) => c.essential).map((c) => c.name);
      const logs = properties.includeLogLinesInReason
        ? await logExcerpts(invocation, running.map((t) => ({ taskArn: t.taskArn!, containers: essential })), containers)
        : new Map<string, LogExcerpt[]>();
      logger.error('the task run timed out; stopped its tasks', { running: verdict.running, stopErrors });
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

/** Any error as a RunFailure, whose one-line message CloudFormation shows. */
function asRunFailure(error: unknown, doing: string): RunFailure {
  if (error instanceof RunFailure) return error;
  if (error instanceof PropertiesError) return new RunFailure(fitReason([`${doing} failed: ${error.message}.`]));
  return new RunFailure(fitReason([`${doing} failed: ${describeError(error)}`]));
}
