/**
 * EcsTaskRunner's decisions, as pure functions: the resource's properties read and checked, the identifiers derived
 * from a CloudFormation request, whether an update runs the task, what the tasks' end means, and the reason
 * CloudFormation shows when it failed. No AWS calls here: the shell (index.ts) reads AWS, calls these and acts.
 */
import { createHash } from 'node:crypto';
import { activeRedactor, containerOverrideSecrets, type KnownSecrets } from '../common/redact';

// ---------------------------------------------------------------------------------------------- properties

export type RequestKind = 'CREATE' | 'UPDATE';
/** How the tasks are launched; `CLUSTER_DEFAULT` is RunTask with neither a launch type nor a strategy: the cluster's default strategy. */
export type LaunchKind = 'FARGATE' | 'EC2' | 'CAPACITY_PROVIDERS' | 'CLUSTER_DEFAULT' | 'CONTAINER_INSTANCES';
export type SuccessKind = 'ESSENTIAL_CONTAINERS' | 'ALL_CONTAINERS' | 'CONTAINERS';

export interface ContainerOverride {
  readonly name: string;
  readonly command?: string[];
  readonly environment?: Array<{ name: string; value: string }>;
}

export interface Launch {
  readonly kind: LaunchKind;
  readonly platformVersion?: string;
  readonly subnets?: string[];
  readonly securityGroups?: string[];
  readonly assignPublicIp?: 'ENABLED' | 'DISABLED';
  readonly capacityProviderStrategy?: Array<{ capacityProvider: string; base?: number; weight?: number }>;
  readonly placementConstraints?: Array<{ type: string; expression?: string }>;
  readonly placementStrategy?: Array<{ type: string; field?: string }>;
  readonly containerInstances?: string[];
}

/** The resource's properties, checked and typed (CloudFormation passes every scalar as a string). */
export interface RunnerProperties {
  readonly cluster: string;
  readonly taskDefinition: string;
  readonly launch: Launch;
  readonly count: number;
  readonly containerOverrides: ContainerOverride[];
  readonly runOn: RequestKind[];
  readonly runOnRollback: boolean;
  readonly updateCriteria: Array<{ containerName: string; environmentKeys: string[] }>;
  readonly triggers: Record<string, string>;
  readonly timeoutSeconds: number;
  /** How long the tasks may run before they are stopped: the timeout less a poll interval and a minute to report. */
  readonly runSeconds: number;
  readonly successCriteria: { kind: SuccessKind; containers: string[] };
  readonly stopTasksOnDelete: boolean;
  readonly propagateTags: boolean;
  readonly enableExecuteCommand: boolean;
  /** Quote the failing containers' last log lines in the reason (else only the console link). */
  readonly includeLogLinesInReason: boolean;
}

/** The properties are not what the construct writes (a hand-edited template, or another version of the library). */
export class PropertiesError extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(`invalid EcsTaskRunner properties: ${problems.join('; ')}`);
    this.name = 'PropertiesError';
  }
}

const LAUNCH_KINDS: readonly LaunchKind[] = ['FARGATE', 'EC2', 'CAPACITY_PROVIDERS', 'CLUSTER_DEFAULT', 'CONTAINER_INSTANCES'];
const SUCCESS_KINDS: readonly SuccessKind[] = ['ESSENTIAL_CONTAINERS', 'ALL_CONTAINERS', 'CONTAINERS'];

/**
 * Reads the resource's properties as this version of the library writes them (the request's `ResourceProperties`);
 * throws one PropertiesError naming every problem. Keys it does not know are ignored.
 */
export function parseProperties(raw: unknown): RunnerProperties {
  const { properties, problems } = readProperties(raw);
  if (problems.length > 0) throw new PropertiesError(problems);
  return properties;
}

/** Properties written by an earlier deployment, read as well as they can be, and what could not be read. */
export interface EarlierProperties {
  readonly properties: RunnerProperties;
  /** Values this version does not know (kept as they are, so they compare as changed) or could not read (defaults). */
  readonly problems: readonly string[];
}

/**
 * Reads properties another version of the library may have written (an update's `OldResourceProperties`, the
 * properties of a resource being deleted): never throws. Keys it does not know are ignored; a value it does not know
 * (a launch type of a later version) is kept as it is, so it compares as changed; a value it cannot read takes its
 * default. The problems say which, for the logs.
 */
export function readEarlierProperties(raw: unknown): EarlierProperties {
  return readProperties(raw);
}

function readProperties(raw: unknown): EarlierProperties {
  const problems: string[] = [];
  const p = isRecord(raw) ? raw : {};
  if (!isRecord(raw)) problems.push('ResourceProperties is not an object');

  const str = (value: unknown, name: string, required = true): string | undefined => {
    if (value === undefined || value === null || value === '') {
      if (required) problems.push(`${name} is missing`);
      return undefined;
    }
    if (typeof value !== 'string') {
      problems.push(`${name} is not a string`);
      return undefined;
    }
    return value;
  };
  const int = (value: unknown, name: string, min: number, max: number, fallback?: number): number => {
    if (value === undefined || value === null || value === '') {
      if (fallback === undefined) problems.push(`${name} is missing`);
      return fallback ?? min;
    }
    const n = typeof value === 'number' ? value : /^-?\d+$/.test(String(value)) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} is ${JSON.stringify(value)}; expected a whole number from ${min} to ${max}`);
      return fallback ?? min;
    }
    return n;
  };
  const bool = (value: unknown, name: string, fallback: boolean): boolean => {
    if (value === undefined || value === null || value === '') return fallback;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    problems.push(`${name} is ${JSON.stringify(value)}; expected true or false`);
    return fallback;
  };
  const strings = (value: unknown, name: string): string[] => {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) {
      problems.push(`${name} is not a list of non-empty strings`);
      return [];
    }
    return value as string[];
  };
  const list = (value: unknown, name: string): Record<string, unknown>[] => {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value) || value.some((v) => !isRecord(v))) {
      problems.push(`${name} is not a list of objects`);
      return [];
    }
    return value as Record<string, unknown>[];
  };

  const cluster = str(p.Cluster, 'Cluster') ?? '';
  const taskDefinition = str(p.TaskDefinition, 'TaskDefinition') ?? '';

  const rawLaunch = isRecord(p.Launch) ? p.Launch : {};
  if (!isRecord(p.Launch)) problems.push('Launch is missing');
  const kind = str(rawLaunch.Type, 'Launch.Type') as LaunchKind | undefined;
  if (kind !== undefined && !LAUNCH_KINDS.includes(kind)) problems.push(`Launch.Type is ${JSON.stringify(kind)}; expected one of ${LAUNCH_KINDS.join(', ')}`);
  const assignPublicIp = str(rawLaunch.AssignPublicIp, 'Launch.AssignPublicIp', false);
  if (assignPublicIp !== undefined && assignPublicIp !== 'ENABLED' && assignPublicIp !== 'DISABLED') {
    problems.push(`Launch.AssignPublicIp is ${JSON.stringify(assignPublicIp)}; expected ENABLED or DISABLED`);
  }
  const subnets = strings(rawLaunch.Subnets, 'Launch.Subnets');
  const securityGroups = strings(rawLaunch.SecurityGroups, 'Launch.SecurityGroups');
  const containerInstances = strings(rawLaunch.ContainerInstances, 'Launch.ContainerInstances');
  if (kind === 'CONTAINER_INSTANCES' && (containerInstances.length < 1 || containerInstances.length > 10)) {
    problems.push(`Launch.ContainerInstances has ${containerInstances.length} item(s); expected 1 to 10`);
  }
  const strategy = list(rawLaunch.CapacityProviderStrategy, 'Launch.CapacityProviderStrategy').map((s, i) => ({
    capacityProvider: str(s.CapacityProvider, `Launch.CapacityProviderStrategy[${i}].CapacityProvider`) ?? '',
    ...(s.Base !== undefined ? { base: int(s.Base, `Launch.CapacityProviderStrategy[${i}].Base`, 0, 100_000) } : {}),
    ...(s.Weight !== undefined ? { weight: int(s.Weight, `Launch.CapacityProviderStrategy[${i}].Weight`, 0, 1000) } : {}),
  }));
  if (kind === 'CAPACITY_PROVIDERS' && strategy.length === 0) problems.push('Launch.CapacityProviderStrategy is empty');
  const launch: Launch = {
    kind: kind ?? 'FARGATE',
    ...(str(rawLaunch.PlatformVersion, 'Launch.PlatformVersion', false) ? { platformVersion: rawLaunch.PlatformVersion as string } : {}),
    ...(subnets.length > 0 ? { subnets } : {}),
    ...(securityGroups.length > 0 ? { securityGroups } : {}),
    ...(assignPublicIp === 'ENABLED' || assignPublicIp === 'DISABLED' ? { assignPublicIp } : {}),
    ...(strategy.length > 0 ? { capacityProviderStrategy: strategy } : {}),
    ...placement(list(rawLaunch.PlacementConstraints, 'Launch.PlacementConstraints'), 'Expression', 'placementConstraints'),
    ...placement(list(rawLaunch.PlacementStrategy, 'Launch.PlacementStrategy'), 'Field', 'placementStrategy'),
    ...(containerInstances.length > 0 ? { containerInstances } : {}),
  };

  const containerOverrides = list(p.ContainerOverrides, 'ContainerOverrides').map((o, i): ContainerOverride => {
    const name = str(o.Name, `ContainerOverrides[${i}].Name`) ?? '';
    const command = o.Command === undefined ? undefined : strings(o.Command, `ContainerOverrides[${i}].Command`);
    const environment = list(o.Environment, `ContainerOverrides[${i}].Environment`).map((e, j) => ({
      name: str(e.Name, `ContainerOverrides[${i}].Environment[${j}].Name`) ?? '',
      value: typeof e.Value === 'string' ? e.Value : e.Value === undefined ? '' : String(e.Value),
    }));
    return { name, ...(command ? { command } : {}), ...(environment.length > 0 ? { environment } : {}) };
  });

  const runOn = strings(p.RunOn, 'RunOn') as RequestKind[];
  for (const r of runOn) if (r !== 'CREATE' && r !== 'UPDATE') problems.push(`RunOn has ${JSON.stringify(r)}; expected CREATE or UPDATE`);

  const updateCriteria = list(p.UpdateCriteria, 'UpdateCriteria').map((c, i) => ({
    containerName: str(c.ContainerName, `UpdateCriteria[${i}].ContainerName`) ?? '',
    environmentKeys: strings(c.EnvironmentKeys, `UpdateCriteria[${i}].EnvironmentKeys`),
  }));

  const triggers: Record<string, string> = {};
  if (p.Triggers !== undefined && p.Triggers !== null) {
    if (!isRecord(p.Triggers)) problems.push('Triggers is not an object');
    else for (const [k, v] of Object.entries(p.Triggers)) triggers[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }

  const timeoutSeconds = int(p.TimeoutSeconds, 'TimeoutSeconds', 60, 3600);
  const runSeconds = int(p.RunSeconds, 'RunSeconds', 30, 3600);
  if (runSeconds >= timeoutSeconds) problems.push(`RunSeconds (${runSeconds}) is not less than TimeoutSeconds (${timeoutSeconds})`);

  const rawCriteria = isRecord(p.SuccessCriteria) ? p.SuccessCriteria : {};
  const successKind = (str(rawCriteria.Type, 'SuccessCriteria.Type', false) ?? 'ESSENTIAL_CONTAINERS') as SuccessKind;
  if (!SUCCESS_KINDS.includes(successKind)) problems.push(`SuccessCriteria.Type is ${JSON.stringify(successKind)}; expected one of ${SUCCESS_KINDS.join(', ')}`);
  const successContainers = strings(rawCriteria.Containers, 'SuccessCriteria.Containers');
  if (successKind === 'CONTAINERS' && successContainers.length === 0) problems.push('SuccessCriteria.Containers is empty');

  const properties: RunnerProperties = {
    cluster,
    taskDefinition,
    launch,
    count: int(p.Count, 'Count', 1, 10, 1),
    containerOverrides,
    runOn,
    runOnRollback: bool(p.RunOnRollback, 'RunOnRollback', false),
    updateCriteria,
    triggers,
    timeoutSeconds,
    runSeconds,
    successCriteria: { kind: successKind, containers: successContainers },
    stopTasksOnDelete: bool(p.StopTasksOnDelete, 'StopTasksOnDelete', true),
    propagateTags: bool(p.PropagateTags, 'PropagateTags', false),
    enableExecuteCommand: bool(p.EnableExecuteCommand, 'EnableExecuteCommand', false),
    includeLogLinesInReason: bool(p.IncludeLogLinesInReason, 'IncludeLogLinesInReason', true),
  };
  return { properties, problems };

  function placement(items: Record<string, unknown>[], second: 'Expression' | 'Field', key: 'placementConstraints' | 'placementStrategy') {
    if (items.length === 0) return {};
    const lower = second === 'Expression' ? 'expression' : 'field';
    return {
      [key]: items.map((item, i) => ({
        type: str(item.Type, `Launch.${key}[${i}].Type`) ?? '',
        ...(typeof item[second] === 'string' ? { [lower]: item[second] } : {}),
      })),
    };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The values of the container overrides in these resource properties (the new and the old ones), read tolerantly
 * (properties that do not parse still give what they hold), as secrets to mask in everything the runner shows:
 * every environment value anywhere, a whole command anywhere, and each command argument as a whole word. The
 * identifiers the runner shows (cluster, task definition family, container names) stay as they are, also when a
 * value equals one of them.
 */
export function overrideSecrets(...rawProperties: unknown[]): KnownSecrets {
  const values: string[] = [];
  const words: string[] = [];
  const identifiers: string[] = [];
  const lastPart = (arn: unknown) => (typeof arn === 'string' ? arn.slice(arn.lastIndexOf('/') + 1) : undefined);
  for (const raw of rawProperties) {
    if (!isRecord(raw)) continue;
    const taskDefinition = lastPart(raw.TaskDefinition);
    identifiers.push(...[lastPart(raw.Cluster), taskDefinition, taskDefinition?.split(':')[0]].filter((i): i is string => !!i));
    const criteria = isRecord(raw.SuccessCriteria) && Array.isArray(raw.SuccessCriteria.Containers) ? raw.SuccessCriteria.Containers : [];
    identifiers.push(...criteria.filter((c): c is string => typeof c === 'string'));
    const overrides = containerOverrideSecrets(raw.ContainerOverrides);
    values.push(...overrides.values);
    words.push(...overrides.words);
    identifiers.push(...overrides.identifiers);
  }
  return { values, words, identifiers };
}

// ---------------------------------------------------------------------------------------------- identifiers

/** Prefix of every physical resource id and `startedBy` this runner writes. */
export const STARTED_BY_PREFIX = 'ecs-task-runner-';
const STARTED_BY_PATTERN = /^ecs-task-runner-[0-9a-f]{20}$/;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The physical resource id, which is also the `startedBy` of every task the resource starts: one per resource of one
 * stack (ECS allows 36 characters: letters, digits, `-`, `/`, `_`), stable across updates, so ListTasks finds them.
 */
export function startedByFor(stackId: string, logicalResourceId: string): string {
  return `${STARTED_BY_PREFIX}${sha256(`${stackId}\n${logicalResourceId}`).slice(0, 20)}`;
}

/** Whether a physical resource id is one this runner wrote (so its tasks can be looked up by it). */
export function isRunnerPhysicalId(id: string | undefined): id is string {
  return id !== undefined && STARTED_BY_PATTERN.test(id);
}

/**
 * RunTask's `clientToken` for one CloudFormation request (at most 64 ASCII characters): a duplicate delivery of the
 * same request gets the tasks of the first, and ECS refuses to start others under it.
 */
export function clientTokenFor(stackId: string, logicalResourceId: string, requestId: string): string {
  return sha256(`${stackId}\n${logicalResourceId}\n${requestId}`);
}

/** The stack name in a stack ARN (`arn:aws:cloudformation:<region>:<account>:stack/<name>/<id>`), else the whole id. */
export function stackNameOf(stackId: string): string {
  return /:stack\/([^/]+)\//.exec(stackId)?.[1] ?? stackId;
}

/** Tags of every task: which stack, resource and request started it (the request tag makes StartTask idempotent). */
export const TAG_KEYS = { stack: 'cdk-ecs-ops:stack', resource: 'cdk-ecs-ops:resource', request: 'cdk-ecs-ops:request' } as const;

export function taskTags(stackId: string, logicalResourceId: string, requestId: string): Array<{ key: string; value: string }> {
  return [
    { key: TAG_KEYS.stack, value: stackNameOf(stackId).slice(0, 256) },
    { key: TAG_KEYS.resource, value: logicalResourceId.slice(0, 256) },
    { key: TAG_KEYS.request, value: requestId.slice(0, 256) },
  ];
}

// ---------------------------------------------------------------------------------------------- task definitions

/** What the runner needs of one container of the task definition. */
export interface ContainerInfo {
  readonly name: string;
  readonly essential: boolean;
  /** awslogs settings, when the container logs with awslogs and a stream prefix (so its stream name is known). */
  readonly awslogs?: { group: string; region?: string; streamPrefix: string };
}

/** The part of DescribeTaskDefinition's container definitions the runner reads. */
export interface ContainerDefinitionLike {
  readonly name?: string;
  readonly essential?: boolean;
  readonly environment?: ReadonlyArray<{ name?: string; value?: string }>;
  readonly secrets?: ReadonlyArray<{ name?: string; valueFrom?: string }>;
  readonly logConfiguration?: { logDriver?: string; options?: Record<string, string> };
}

export function containerInfo(definitions: readonly ContainerDefinitionLike[]): ContainerInfo[] {
  return definitions.filter((d) => d.name).map((d) => {
    const options = d.logConfiguration?.options ?? {};
    const awslogs = d.logConfiguration?.logDriver === 'awslogs' && options['awslogs-group'] && options['awslogs-stream-prefix']
      ? { group: options['awslogs-group'], streamPrefix: options['awslogs-stream-prefix'], ...(options['awslogs-region'] ? { region: options['awslogs-region'] } : {}) }
      : undefined;
    // A container is essential unless it says otherwise (ECS default).
    return { name: d.name!, essential: d.essential !== false, ...(awslogs ? { awslogs } : {}) };
  });
}

/**
 * The environment a container runs with: the task definition's variables (a secret as `secret:<valueFrom>`, so a
 * changed reference counts as changed) with the overrides' variables over them.
 */
export function effectiveEnvironment(
  definitions: readonly ContainerDefinitionLike[], overrides: readonly ContainerOverride[], containerName: string,
): Record<string, string> {
  const definition = definitions.find((d) => d.name === containerName);
  const env: Record<string, string> = {};
  for (const e of definition?.environment ?? []) if (e.name) env[e.name] = e.value ?? '';
  for (const s of definition?.secrets ?? []) if (s.name) env[s.name] = `secret:${s.valueFrom ?? ''}`;
  for (const o of overrides.filter((x) => x.name === containerName)) {
    for (const e of o.environment ?? []) env[e.name] = e.value;
  }
  return env;
}

/** Problems with the properties that only the task definition can tell: containers that are not in it. */
export function checkAgainstTaskDefinition(properties: RunnerProperties, containers: readonly ContainerInfo[], label: string): string[] {
  const names = containers.map((c) => c.name);
  const known = `its containers are ${names.join(', ')}`;
  const problems: string[] = [];
  for (const o of properties.containerOverrides) {
    if (!names.includes(o.name)) problems.push(`containerOverrides names container ${o.name}, which is not in ${label} (${known})`);
  }
  if (properties.successCriteria.kind === 'CONTAINERS') {
    for (const name of properties.successCriteria.containers) {
      if (!names.includes(name)) problems.push(`successCriteria names container ${name}, which is not in ${label} (${known})`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------- when it runs

export interface Decision {
  readonly run: boolean;
  /** Why, for the logs. */
  readonly why: string;
}

export function decideCreate(properties: RunnerProperties): Decision {
  return properties.runOn.includes('CREATE')
    ? { run: true, why: 'the resource is created' }
    : { run: false, why: 'runOn does not include CREATE' };
}

/** Canonical JSON, so that two equal values compare equal whatever their key order. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isRecord(value)) {
    return `{${Object.keys(value).sort().filter((k) => value[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The trigger keys of the new properties whose value changed or that appeared. A key that disappeared runs nothing:
 * removing a trigger says "no longer run on this", not "run once more".
 */
export function changedTriggers(before: RunnerProperties, after: RunnerProperties): string[] {
  return Object.keys(after.triggers).sort().filter((k) => before.triggers[k] !== after.triggers[k]);
}

/**
 * What the task runs, among the properties that changed: the cluster, task definition, overrides, launch target,
 * count, tag propagation and ECS Exec. The others (timeout, poll interval, success criteria, the rules of when it
 * runs) change how the runner waits or decides, not what runs, so they alone never run the task.
 */
export function changedRunInputs(before: RunnerProperties, after: RunnerProperties): string[] {
  const inputs: Array<[string, (p: RunnerProperties) => unknown]> = [
    ['cluster', (p) => p.cluster],
    ['taskDefinition', (p) => p.taskDefinition],
    ['containerOverrides', (p) => p.containerOverrides],
    ['launchTarget', (p) => p.launch],
    ['count', (p) => (p.launch.kind === 'CONTAINER_INSTANCES' ? undefined : p.count)],
    ['propagateTags', (p) => p.propagateTags],
    ['enableExecuteCommand', (p) => p.enableExecuteCommand],
  ];
  return inputs.filter(([, read]) => canonical(read(before)) !== canonical(read(after))).map(([name]) => name);
}

/** The first decision on an update, from the properties alone; `criteria` says the task definitions must be compared. */
export type UpdatePlan = Decision | { readonly compareCriteria: true };

export function planUpdate(before: RunnerProperties, after: RunnerProperties): UpdatePlan {
  const triggers = changedTriggers(before, after);
  if (triggers.length > 0) return { run: true, why: `triggers changed: ${triggers.join(', ')}` };
  if (!after.runOn.includes('UPDATE')) return { run: false, why: 'runOn does not include UPDATE and no trigger changed' };
  if (after.updateCriteria.length > 0) return { compareCriteria: true };
  const changed = changedRunInputs(before, after);
  return changed.length > 0
    ? { run: true, why: `changed: ${changed.join(', ')}` }
    : { run: false, why: 'nothing the task runs with changed (only how the runner waits or decides)' };
}

/** Each criterion's environment keys whose effective value differs between the old and the new environment. */
export function changedCriteria(
  criteria: RunnerProperties['updateCriteria'],
  before: (containerName: string) => Record<string, string>,
  after: (containerName: string) => Record<string, string>,
): string[] {
  const changed: string[] = [];
  for (const c of criteria) {
    const old = before(c.containerName);
    const now = after(c.containerName);
    for (const key of c.environmentKeys) if (old[key] !== now[key]) changed.push(`${c.containerName}.${key}`);
  }
  return changed;
}

/** CloudFormation's status while it rolls an update back: the update requests it sends then restore old properties. */
export const ROLLBACK_STATUSES = ['UPDATE_ROLLBACK_IN_PROGRESS'] as const;

// ---------------------------------------------------------------------------------------------- the tasks' end

/** The part of DescribeTasks' task the runner reads. */
export interface TaskLike {
  readonly taskArn?: string;
  readonly lastStatus?: string;
  readonly desiredStatus?: string;
  readonly stopCode?: string;
  readonly stoppedReason?: string;
  readonly createdAt?: Date | string;
  readonly startedAt?: Date | string;
  readonly containers?: ReadonlyArray<{ name?: string; exitCode?: number; reason?: string; lastStatus?: string }>;
}

export interface ContainerFailure {
  readonly name: string;
  readonly exitCode?: number;
  readonly reason?: string;
}

export interface TaskFailure {
  readonly taskArn: string;
  readonly stopCode?: string;
  readonly stoppedReason?: string;
  /** The containers chosen by the success criteria that did not exit 0. */
  readonly containers: ContainerFailure[];
}

/** Which containers of a task must exit 0 for the run to succeed. */
export function chosenContainers(criteria: RunnerProperties['successCriteria'], containers: readonly ContainerInfo[]): string[] {
  switch (criteria.kind) {
    case 'ALL_CONTAINERS': return containers.map((c) => c.name);
    case 'CONTAINERS': return [...criteria.containers];
    case 'ESSENTIAL_CONTAINERS': return containers.filter((c) => c.essential).map((c) => c.name);
  }
}

/**
 * Whether a STOPPED task succeeded: it started (stopCode other than TaskFailedToStart) and every chosen container
 * exited with code 0. A chosen container without an exit code did not run to its end, which is a failure too.
 */
export function taskFailure(task: TaskLike, chosen: readonly string[]): TaskFailure | undefined {
  const containers: ContainerFailure[] = [];
  for (const name of chosen) {
    const c = task.containers?.find((x) => x.name === name);
    if (c?.exitCode === 0) continue;
    containers.push({ name, ...(c?.exitCode !== undefined ? { exitCode: c.exitCode } : {}), ...(c?.reason ? { reason: c.reason } : {}) });
  }
  if (containers.length === 0 && task.stopCode !== 'TaskFailedToStart') return undefined;
  return {
    taskArn: task.taskArn ?? 'unknown task',
    ...(task.stopCode ? { stopCode: task.stopCode } : {}),
    ...(task.stoppedReason ? { stoppedReason: task.stoppedReason } : {}),
    containers,
  };
}

export type Verdict =
  | { readonly state: 'running' }
  | { readonly state: 'succeeded' }
  /** `running`: the tasks still running, which the shell stops before it reports. */
  | { readonly state: 'failed'; readonly failures: TaskFailure[]; readonly running: string[] }
  | { readonly state: 'timed-out'; readonly running: string[] }
  | { readonly state: 'lost'; readonly missing: string[] };

/** How long a task ECS does not find (DescribeTasks: MISSING) is taken for one not yet visible, after it started. */
export const MISSING_GRACE_MS = 2 * 60_000;

/**
 * What the tasks' state means: all stopped and successful, one failed (the run fails at once, and the others are
 * stopped), the deadline passed, ECS lost a task, or still running.
 */
export function judge(input: {
  tasks: readonly TaskLike[];
  missing: readonly string[];
  chosen: readonly string[];
  now: Date;
  startedAt: Date;
  deadline: Date;
}): Verdict {
  const stopped = input.tasks.filter((t) => t.lastStatus === 'STOPPED');
  const running = input.tasks.filter((t) => t.lastStatus !== 'STOPPED').map((t) => t.taskArn!).filter(Boolean);
  const failures = stopped.map((t) => taskFailure(t, input.chosen)).filter((f): f is TaskFailure => f !== undefined);
  if (failures.length > 0) return { state: 'failed', failures, running };
  if (input.missing.length > 0 && input.now.getTime() - input.startedAt.getTime() > MISSING_GRACE_MS) {
    return { state: 'lost', missing: [...input.missing] };
  }
  if (running.length === 0 && input.missing.length === 0) return { state: 'succeeded' };
  if (input.now.getTime() >= input.deadline.getTime()) return { state: 'timed-out', running: [...running, ...input.missing] };
  return { state: 'running' };
}

// ---------------------------------------------------------------------------------------------- reasons

/**
 * The most a reason may take, in bytes of its JSON-escaped UTF-8. CloudFormation takes a response body of at most
 * 4,096 bytes; the Provider framework adds the handler's log group to the reason, and the body also carries the
 * stack id, request id, logical and physical ids: 2,000 bytes for the reason leaves room for all of them.
 */
export const REASON_MAX_BYTES = 2000;

/** Bytes a string takes in the JSON response body. */
export function jsonBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text), 'utf8') - 2;
}

/** One line: whitespace runs and line breaks become one space. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** `text` cut to at most `maxBytes` (JSON-escaped UTF-8), ending in `…` when cut; never splits a character. */
export function truncate(text: string, maxBytes: number): string {
  if (jsonBytes(text) <= maxBytes) return text;
  const chars = [...text];
  let low = 0;
  let high = chars.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (jsonBytes(`${chars.slice(0, mid).join('')}…`) <= maxBytes) low = mid;
    else high = mid - 1;
  }
  return `${chars.slice(0, low).join('')}…`;
}

/**
 * One part of a reason. Priority 0 is always shown (cut when the required parts do not fit together, the longest
 * first); the others are shown while they fit, priority 1 before 2 before 3, and in reading order within a priority.
 */
export interface ReasonPart {
  readonly text: string;
  readonly priority: number;
  /** The most the part may take on its own (JSON-escaped UTF-8 bytes): a longer text is cut after it is masked. */
  readonly maxBytes?: number;
  /** Never cut (a note that must be read whole, such as how many tasks are not described). */
  readonly whole?: boolean;
  /** What stands between it and the part before it. @default ' ' */
  readonly lead?: string;
}

/** The order in which a failed run's reason spends its bytes, after the parts it always has. */
export const REASON_PRIORITY = { exitCodes: 0, stoppedReasons: 1, consoleLink: 2, logLines: 3 } as const;

/** Longest stopped reason of a task, and of a container, in a reason. */
export const STOPPED_REASON_MAX_BYTES = 240;
export const CONTAINER_REASON_MAX_BYTES = 160;

/**
 * A reason from parts in reading order (see ReasonPart), within `maxBytes`. Each part is masked by the active
 * redactor (lambda/common/redact.ts: the overrides' values, secret-looking text) and made one line before it is cut.
 */
export function composeReason(parts: readonly ReasonPart[], maxBytes = REASON_MAX_BYTES): string {
  const redactor = activeRedactor();
  const items = parts.map((p, index) => {
    const text = oneLine(redactor.text(p.text));
    return { ...p, index, lead: p.lead ?? ' ', text: p.maxBytes !== undefined ? truncate(text, p.maxBytes) : text };
  }).filter((p) => p.text !== '');
  const admitted = new Set(items.filter((p) => p.priority === 0).map((p) => p.index));
  const render = () => {
    let out = '';
    for (const p of items) if (admitted.has(p.index)) out = out === '' ? p.text : `${out}${p.lead}${p.text}`;
    return out;
  };
  // The required parts, cut longest first until they fit (a whole part is never cut).
  for (let excess = jsonBytes(render()) - maxBytes; excess > 0; excess = jsonBytes(render()) - maxBytes) {
    const longest = items.filter((p) => p.priority === 0 && !p.whole && jsonBytes(p.text) > 16)
      .sort((a, b) => jsonBytes(b.text) - jsonBytes(a.text))[0];
    if (!longest) break;
    longest.text = truncate(longest.text, Math.max(16, jsonBytes(longest.text) - excess));
  }
  const optional = items.filter((p) => p.priority > 0).sort((a, b) => a.priority - b.priority || a.index - b.index);
  for (const p of optional) {
    admitted.add(p.index);
    if (jsonBytes(render()) > maxBytes) admitted.delete(p.index);
  }
  return truncate(render(), maxBytes);
}

/** Whether the parts that are always shown fit in `maxBytes` uncut. */
function requiredFits(parts: readonly ReasonPart[], maxBytes = REASON_MAX_BYTES): boolean {
  const required = parts.filter((p) => p.priority === 0);
  const redactor = activeRedactor();
  const text = required.map((p, i) => {
    const t = oneLine(redactor.text(p.text));
    return `${i === 0 ? '' : p.lead ?? ' '}${p.maxBytes !== undefined ? truncate(t, p.maxBytes) : t}`;
  }).join('');
  return jsonBytes(text) <= maxBytes;
}

/**
 * A reason from required parts and optional ones, the optional ones shown while they fit, in order. Each part is
 * masked by the active redactor before it is cut.
 */
export function fitReason(required: readonly string[], optional: readonly string[] = [], maxBytes = REASON_MAX_BYTES): string {
  return composeReason([
    ...required.map((text) => ({ text, priority: 0 })),
    ...optional.map((text) => ({ text, priority: 1 })),
  ], maxBytes);
}

const ECS_TASK_ARN = /^arn:(aws[a-z-]*):ecs:([a-z0-9-]+):\d{12}:task\/([^/]+)\/([0-9a-zA-Z]+)$/;

/** The console domain of a partition. */
function consoleHost(partition: string): string {
  switch (partition) {
    case 'aws-cn': return 'console.amazonaws.cn';
    case 'aws-us-gov': return 'console.amazonaws-us-gov.com';
    default: return 'console.aws.amazon.com';
  }
}

/** The ECS console's Logs tab of a task (it shows every log driver's output that ECS knows of). */
export function taskLogsUrl(taskArn: string): string | undefined {
  const m = ECS_TASK_ARN.exec(taskArn);
  if (!m) return undefined;
  const [, partition, region, cluster, id] = m;
  return `https://${region}.${consoleHost(partition)}/ecs/v2/clusters/${encodeURIComponent(cluster)}/tasks/${id}/logs?region=${region}`;
}

/** The task id (last part of the ARN). */
export function taskIdOf(taskArn: string): string {
  return taskArn.slice(taskArn.lastIndexOf('/') + 1);
}

/** The last lines of one container's log, for a reason. */
export interface LogExcerpt {
  readonly container: string;
  readonly lines: readonly string[];
}

/** Longest log line kept in a reason. */
export const LOG_LINE_MAX_BYTES = 240;

/** The quoted log lines of one container, each masked before it is cut (a cut secret would no longer be found). */
function logPart(excerpt: LogExcerpt): string {
  const redactor = activeRedactor();
  const lines = excerpt.lines.map((l) => truncate(oneLine(redactor.text(l)), LOG_LINE_MAX_BYTES)).filter(Boolean);
  return lines.length > 0 ? `Last log lines of ${excerpt.container}: ${lines.map((l) => JSON.stringify(l)).join(' | ')}.` : '';
}

/** What ECS says of a container, when it adds to what it says of the task (said once, never twice). */
function distinctReason(c: ContainerFailure, taskReason: string | undefined): string | undefined {
  if (!c.reason) return undefined;
  const reason = oneLine(c.reason);
  const task = taskReason ? oneLine(taskReason) : '';
  return task.includes(reason) ? undefined : reason;
}

function containerVerdict(c: ContainerFailure): string {
  return c.exitCode !== undefined ? `container ${c.name} exited with code ${c.exitCode}` : `container ${c.name} did not run to its end`;
}

/**
 * The parts of one failed task's sentence, in reading order: what failed (always), each container's own reason and
 * the task's stop code and reason (REASON_PRIORITY.stoppedReasons), its log lines and console link.
 */
export function taskFailureParts(f: TaskFailure, label: string, logs: readonly LogExcerpt[] = []): ReasonPart[] {
  const reasons = REASON_PRIORITY.stoppedReasons;
  const parts: ReasonPart[] = [];
  if (f.stopCode === 'TaskFailedToStart') {
    // The containers usually repeat the stopped reason; name only those that add to it.
    parts.push({ text: `Task ${f.taskArn} (${label}) never started: TaskFailedToStart`, priority: 0 });
    if (f.stoppedReason) parts.push({ text: `: ${shown(f.stoppedReason, STOPPED_REASON_MAX_BYTES)}`, priority: reasons, lead: '' });
    for (const c of f.containers) {
      const own = distinctReason(c, f.stoppedReason);
      if (own) parts.push({ text: `; ${containerVerdict(c)} (${shown(own, CONTAINER_REASON_MAX_BYTES)})`, priority: reasons, lead: '' });
    }
  } else {
    parts.push({ text: `Task ${f.taskArn} (${label}) failed:`, priority: 0 });
    f.containers.forEach((c, i) => {
      parts.push({ text: `${i === 0 ? '' : '; '}${containerVerdict(c)}`, priority: 0, lead: i === 0 ? ' ' : '' });
      const own = distinctReason(c, f.stoppedReason);
      if (own) parts.push({ text: `(${shown(own, CONTAINER_REASON_MAX_BYTES)})`, priority: reasons });
    });
    const stopped = [f.stopCode, f.stoppedReason].filter(Boolean).join(': ');
    if (stopped) parts.push({ text: `(stopped: ${shown(stopped, STOPPED_REASON_MAX_BYTES)})`, priority: reasons });
  }
  parts.push({ text: '.', priority: 0, lead: '' });
  parts.push(...excerptParts(f.taskArn, logs));
  return parts;
}

/** Text as a reason shows it: masked, one line, then cut to `maxBytes` (masked first: a cut secret would not be found). */
function shown(text: string, maxBytes: number): string {
  return truncate(oneLine(activeRedactor().text(text)), maxBytes);
}

/** A task's last log lines and console link, as optional parts. */
function excerptParts(taskArn: string, logs: readonly LogExcerpt[]): ReasonPart[] {
  const link = taskLogsUrl(taskArn);
  return [
    ...logs.map((e) => ({ text: logPart(e), priority: REASON_PRIORITY.logLines })),
    ...(link ? [{ text: `Logs: ${link}`, priority: REASON_PRIORITY.consoleLink }] : []),
  ];
}

/** The sentence of one failed task, everything included (the runner's log; a reason fits it with the others). */
export function describeTaskFailure(f: TaskFailure, label: string): string {
  return composeReason(taskFailureParts(f, label).filter((p) => !p.text.startsWith('Logs: ')), Number.POSITIVE_INFINITY);
}

/** Tasks described in a reason; the others are counted. */
const TASKS_IN_REASON = 3;

/**
 * The reason of a run whose tasks failed (the success criteria are not met). Whatever it holds, it says how many
 * tasks failed, what each described one's chosen containers did (one entry a container), how many are not
 * described, and what was stopped; then, while they fit: the stop reasons, the console links, the log lines.
 */
export function failureReason(input: {
  failures: readonly TaskFailure[];
  total: number;
  stoppedOthers: readonly string[];
  label: string;
  logs: ReadonlyMap<string, readonly LogExcerpt[]>;
  stopErrors?: readonly string[];
  /** @default REASON_MAX_BYTES */
  maxBytes?: number;
}): string {
  const { failures, total } = input;
  const maxBytes = input.maxBytes ?? REASON_MAX_BYTES;
  const parts = (described: number): ReasonPart[] => [
    { text: total === 1 ? 'The ECS task failed.' : `${failures.length} of ${total} ECS tasks failed.`, priority: 0, whole: true },
    ...failures.slice(0, described).flatMap((f) => taskFailureParts(f, input.label, input.logs.get(f.taskArn) ?? [])),
    ...(failures.length > described
      ? [{ text: `${failures.length - described} more failed task(s) are not described here (the runner's log has them).`, priority: 0, whole: true }]
      : []),
    ...(input.stoppedOthers.length > 0 ? [{ text: `Stopped the other ${input.stoppedOthers.length} task(s), still running.`, priority: 0, whole: true }] : []),
    ...stopErrorParts(input.stopErrors),
  ];
  let described = Math.min(TASKS_IN_REASON, failures.length);
  while (described > 1 && !requiredFits(parts(described), maxBytes)) described -= 1;
  return composeReason(parts(described), maxBytes);
}

function stopErrorParts(stopErrors: readonly string[] = []): ReasonPart[] {
  return stopErrors.length > 0 ? [{ text: `Could not stop: ${stopErrors.join('; ')}.`, priority: 0, maxBytes: 400 }] : [];
}

/** `525` -> `8 min 45 s`. */
export function humanDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h ? `${h} h` : '', m ? `${m} min` : '', s || (!h && !m) ? `${s} s` : ''].filter(Boolean).join(' ');
}

/** The reason of a run stopped at its deadline. */
export function timeoutReason(input: {
  running: readonly TaskLike[];
  runSeconds: number;
  timeoutSeconds: number;
  label: string;
  stopErrors: readonly string[];
  logs: ReadonlyMap<string, readonly LogExcerpt[]>;
}): string {
  const tasks = input.running.slice(0, TASKS_IN_REASON);
  return composeReason([
    {
      text: `Timed out: the ECS task (${input.label}) did not finish within ${humanDuration(input.runSeconds)}`
        + ` (timeout ${humanDuration(input.timeoutSeconds)}, less the poll interval and a minute to report).`,
      priority: 0,
    },
    {
      text: `Stopped ${input.running.length} task(s): ${tasks.map((t) => `${t.taskArn} (${t.lastStatus ?? 'status unknown'})`).join(', ')}`
        + `${input.running.length > tasks.length ? ` and ${input.running.length - tasks.length} more` : ''}.`,
      priority: 0,
    },
    ...stopErrorParts(input.stopErrors),
    ...tasks.flatMap((t) => excerptParts(t.taskArn!, input.logs.get(t.taskArn!) ?? [])),
  ]);
}

/** The part of RunTask's and StartTask's failures the runner reads. */
export interface LaunchFailure {
  readonly arn?: string;
  readonly reason?: string;
  readonly detail?: string;
}

/** The reason of a launch that placed fewer tasks than asked. */
export function placementReason(input: {
  operation: 'RunTask' | 'StartTask';
  asked: number;
  started: number;
  cluster: string;
  failures: readonly LaunchFailure[];
  stopped: readonly string[];
  stopErrors?: readonly string[];
}): string {
  const counted = new Map<string, number>();
  for (const f of input.failures) {
    const text = [f.reason ?? 'unknown reason', f.detail ? `(${oneLine(f.detail)})` : '', f.arn ? `on ${f.arn}` : ''].filter(Boolean).join(' ');
    counted.set(text, (counted.get(text) ?? 0) + 1);
  }
  const list = [...counted].map(([text, n]) => (n > 1 ? `${n} x ${text}` : text)).join('; ');
  const clusterName = input.cluster.slice(input.cluster.lastIndexOf('/') + 1);
  return composeReason([
    { text: `${input.operation} started ${input.started} of ${input.asked} task(s) in cluster ${clusterName}: ${list || 'no reason given'}.`, priority: 0 },
    ...(input.stopped.length > 0 ? [{ text: `Stopped the ${input.stopped.length} task(s) that did start: ${input.stopped.join(', ')}.`, priority: 0 }] : []),
    ...stopErrorParts(input.stopErrors),
  ]);
}

/** The reason of a run ECS lost track of; the tasks it still found were stopped. */
export function lostReason(missing: readonly string[], label: string, stopped: readonly string[] = [], stopErrors: readonly string[] = []): string {
  return composeReason([
    { text: `ECS no longer finds ${missing.length} task(s) of this run (${label}): ${missing.join(', ')} (DescribeTasks: MISSING).`, priority: 0 },
    ...(stopped.length > 0 ? [{ text: `Stopped the other ${stopped.length} task(s), still running.`, priority: 0, whole: true }] : []),
    ...stopErrorParts(stopErrors),
  ]);
}

// ---------------------------------------------------------------------------------------------- results

/**
 * The run's exit code, as the resource's `ExitCode` attribute: that of the task definition's first essential
 * container; with several tasks, the first that is not 0 (in the order of the task ARNs), else 0. Empty when that
 * container has no exit code in every task.
 */
export function exitCodeOf(tasks: readonly TaskLike[], containers: readonly ContainerInfo[]): string {
  const essential = containers.find((c) => c.essential)?.name;
  if (!essential || tasks.length === 0) return '';
  const codes = [...tasks].sort((a, b) => (a.taskArn ?? '').localeCompare(b.taskArn ?? ''))
    .map((t) => t.containers?.find((c) => c.name === essential)?.exitCode);
  if (codes.some((c) => c === undefined)) return codes.find((c) => c !== undefined && c !== 0)?.toString() ?? '';
  return String(codes.find((c) => c !== 0) ?? 0);
}

/** The `Runner` dimension of a runner's metrics: `<stack name>/<logical id>`, what its construct can name at synth. */
export function runnerDimension(stackId: string, logicalResourceId: string): string {
  return `${stackNameOf(stackId)}/${logicalResourceId}`;
}
