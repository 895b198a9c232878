/**
 * ECS events as EventBridge delivers them, parsed tolerantly into one normalized shape per kind.
 *
 * AWS adds fields over time, old events lack some (`launchType`, `clusterArn` in short ARNs, a task definition
 * revision), containers may lack `exitCode` or `reason`, service events name their service only in
 * `resources[0]`, and timestamps come as ISO strings with or without fractions or an offset, or as epoch numbers.
 * Nothing here throws on such an event: what cannot be read is left out, and an event that cannot be used at all
 * (no `detail`, an unknown `detail-type`, a task without containers) comes back as `{ malformed: reason }`.
 *
 * The normalized events are also the `data.events` of the generic webhook's JSON (README, "EcsParrot"), as
 * `shownEvent` shows them.
 */
import { NOT_SHOWN, Redactor, containerOverrideSecrets, shownIdentifier } from '../common/redact';

/** The detail types EcsParrot reads. */
export const DETAIL_TYPES = {
  task: 'ECS Task State Change',
  containerInstance: 'ECS Container Instance State Change',
  deployment: 'ECS Deployment State Change',
  serviceAction: 'ECS Service Action',
  apiCall: 'AWS API Call via CloudTrail',
} as const;

/** What every normalized event has. */
interface EventBase {
  /** The EventBridge event id. */
  readonly id: string;
  /**
   * What identifies a repeat of the same event across deliveries: a stopped task by its ARN (a task stops once),
   * a container instance by its ARN and `detail.version`, a deployment by service, deployment, event and reason,
   * a service action by service, event and `createdAt`, an API call by its CloudTrail `eventID`.
   */
  readonly key: string;
  readonly account: string;
  readonly region: string;
  /** `aws`, `aws-cn`, `aws-us-gov`, ... from the resource ARNs. */
  readonly partition: string;
  /** When EventBridge says it happened, ISO 8601 UTC. */
  readonly time: string;
  /** The cluster name, when the event names one. */
  readonly cluster?: string;
}

export interface ContainerState {
  readonly name: string;
  readonly exitCode?: number;
  readonly reason?: string;
  readonly lastStatus?: string;
  readonly image?: string;
}

export interface TaskStateEvent extends EventBase {
  readonly type: 'task';
  readonly taskArn: string;
  readonly taskId: string;
  readonly lastStatus?: string;
  readonly desiredStatus?: string;
  /** `service:api` or `family:migrate`. */
  readonly group?: string;
  /** The service, from `group`. */
  readonly service?: string;
  readonly taskDefinitionArn?: string;
  /** `family:revision` (or `family` when the ARN has no revision). */
  readonly taskDefinition?: string;
  readonly launchType?: string;
  readonly capacityProviderName?: string;
  readonly containerInstanceArn?: string;
  readonly availabilityZone?: string;
  readonly startedBy?: string;
  readonly stopCode?: string;
  readonly stoppedReason?: string;
  readonly startedAt?: string;
  readonly stoppedAt?: string;
  /** From `startedAt` to `stoppedAt` (or `executionStoppedAt`, `stoppingAt`). */
  readonly uptimeSeconds?: number;
  readonly containers: readonly ContainerState[];
  readonly version?: number;
}

export interface DeploymentEvent extends EventBase {
  readonly type: 'deployment';
  readonly serviceArn: string;
  readonly service: string;
  /** `SERVICE_DEPLOYMENT_IN_PROGRESS`, `SERVICE_DEPLOYMENT_COMPLETED`, `SERVICE_DEPLOYMENT_FAILED`. */
  readonly eventName: string;
  /** `INFO` or `ERROR`. */
  readonly eventType?: string;
  readonly deploymentId?: string;
  readonly reason?: string;
  readonly updatedAt?: string;
}

export interface ServiceActionEvent extends EventBase {
  readonly type: 'service-action';
  readonly serviceArn: string;
  readonly service: string;
  readonly eventName: string;
  /** `INFO`, `WARN` or `ERROR`. */
  readonly eventType?: string;
  readonly reason?: string;
  readonly createdAt?: string;
  readonly containerInstanceArns?: readonly string[];
  readonly capacityProviderArns?: readonly string[];
}

export interface ContainerInstanceEvent extends EventBase {
  readonly type: 'container-instance';
  readonly containerInstanceArn: string;
  readonly containerInstanceId: string;
  readonly ec2InstanceId?: string;
  readonly status?: string;
  readonly statusReason?: string;
  readonly agentConnected?: boolean;
  readonly agentUpdateStatus?: string;
  readonly agentVersion?: string;
  readonly version?: number;
}

export interface ApiCallEvent extends EventBase {
  readonly type: 'api-call';
  readonly eventName: string;
  readonly eventId: string;
  /** Who: the IAM user, the role session's role, or the service that called. */
  readonly actor: string;
  readonly actorArn?: string;
  readonly invokedBy?: string;
  readonly sourceIp?: string;
  readonly userAgent?: string;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  /** The service the call names (`service` or `serviceName`). */
  readonly service?: string;
  /**
   * What the call was about, in a few words, from identifiers only: `service=api desiredCount=3`,
   * `task=0f1e2d3c container=app command=(not shown)`. Free-text parameters are named, never shown.
   */
  readonly target: string;
}

export type ParrotEvent = TaskStateEvent | DeploymentEvent | ServiceActionEvent | ContainerInstanceEvent | ApiCallEvent;

export type ParseResult = { readonly event: ParrotEvent } | { readonly malformed: string; readonly detailType?: string };

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function num(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  return undefined;
}

/**
 * A timestamp in any of the forms ECS events and APIs use: ISO 8601 with or without fractional seconds, `Z` or an
 * offset (or neither: UTC), a space instead of `T`, or epoch seconds or milliseconds (numbers or numeric strings).
 */
export function parseTime(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  const n = num(value);
  if (n !== undefined) {
    // Epoch seconds until the year 5138; milliseconds above.
    const date = new Date(n < 1e11 ? n * 1000 : n);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  const s = str(value)?.trim();
  if (!s) return undefined;
  const match = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(s);
  if (!match) {
    const date = new Date(s);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  const [, day, clock, fraction, zone] = match;
  const millis = fraction ? `.${fraction.slice(1, 4).padEnd(3, '0')}` : '';
  const offset = !zone || zone.toUpperCase() === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const date = new Date(`${day}T${clock.length === 5 ? `${clock}:00` : clock}${millis}${offset}`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function iso(value: unknown): string | undefined {
  return parseTime(value)?.toISOString();
}

export interface Arn {
  readonly partition: string;
  readonly service: string;
  readonly region: string;
  readonly account: string;
  readonly resource: string;
}

/** The parts of an ARN, or undefined when it is not one. */
export function parseArn(arn: string | undefined): Arn | undefined {
  const parts = arn?.split(':');
  if (!parts || parts.length < 6 || parts[0] !== 'arn') return undefined;
  return { partition: parts[1], service: parts[2], region: parts[3], account: parts[4], resource: parts.slice(5).join(':') };
}

/**
 * The cluster and the id of an ECS resource ARN: `task/<cluster>/<id>` (or the short `task/<id>`), the same for
 * `container-instance` and `service`.
 */
function resourceParts(arn: string | undefined): { cluster?: string; name?: string } {
  const resource = parseArn(arn)?.resource;
  if (!resource) return {};
  const parts = resource.split('/');
  return parts.length >= 3 ? { cluster: parts[1], name: parts.slice(2).join('/') } : { name: parts[1] };
}

function clusterName(clusterArnOrName: string | undefined): string | undefined {
  if (!clusterArnOrName) return undefined;
  return clusterArnOrName.startsWith('arn:') ? clusterArnOrName.split('/').slice(1).join('/') || undefined : clusterArnOrName;
}

/** `family:revision` of a task definition ARN (or a `family:revision` as is). */
export function taskDefinitionName(arnOrName: string | undefined): string | undefined {
  if (!arnOrName) return undefined;
  return arnOrName.startsWith('arn:') ? arnOrName.replace(/^.*:task-definition\//, '') : arnOrName;
}

/** Parses one event, as the body of an SQS message holds it. */
export function parseEvent(raw: unknown): ParseResult {
  if (!isObject(raw)) return { malformed: 'not a JSON object' };
  const detailType = str(raw['detail-type']);
  if (!detailType) return { malformed: 'no detail-type' };
  const detail = raw.detail;
  if (!isObject(detail)) return { malformed: 'no detail', detailType };
  const resources = Array.isArray(raw.resources) ? raw.resources.filter((r): r is string => typeof r === 'string') : [];
  const firstArn = [resources[0], str(detail.clusterArn), str(detail.taskArn), str(detail.containerInstanceArn)]
    .map(parseArn).find((arn) => arn !== undefined);
  const base = {
    id: str(raw.id) ?? '',
    account: str(raw.account) ?? firstArn?.account ?? '',
    region: str(raw.region) ?? firstArn?.region ?? '',
    partition: firstArn?.partition ?? 'aws',
    time: iso(raw.time) ?? new Date(0).toISOString(),
  };
  switch (detailType) {
    case DETAIL_TYPES.task: return parseTask(base, detail, resources, detailType);
    case DETAIL_TYPES.containerInstance: return parseContainerInstance(base, detail, resources, detailType);
    case DETAIL_TYPES.deployment: return parseService(base, detail, resources, detailType, 'deployment');
    case DETAIL_TYPES.serviceAction: return parseService(base, detail, resources, detailType, 'service-action');
    case DETAIL_TYPES.apiCall: return parseApiCall(base, detail, detailType);
    default: return { malformed: `unknown detail-type "${detailType}"`, detailType };
  }
}

type Base = Pick<EventBase, 'id' | 'account' | 'region' | 'partition' | 'time'>;

function parseTask(base: Base, d: Json, resources: string[], detailType: string): ParseResult {
  const taskArn = str(d.taskArn) ?? resources.find((r) => r.includes(':task/'));
  if (!taskArn) return { malformed: 'a task event without taskArn', detailType };
  if (!Array.isArray(d.containers) || d.containers.length === 0) return { malformed: 'a task event without containers', detailType };
  // The task's container overrides (a command, environment values) are never kept; where ECS quotes them in a reason
  // (`CannotStartContainerError: ... exec: "<command>"`), they are masked.
  const overrides = containerOverrideSecrets(isObject(d.overrides) ? d.overrides.containerOverrides : undefined);
  const redactor = overrides.values.length + overrides.words.length > 0 ? overridesRedactor(overrides, d) : undefined;
  const mask = (text: string | undefined) => (text === undefined || !redactor ? text : redactor.text(text));
  const containers: ContainerState[] = d.containers.filter(isObject).map((c, i) => ({
    name: str(c.name) ?? `container ${i + 1}`,
    ...(num(c.exitCode) !== undefined ? { exitCode: num(c.exitCode) } : {}),
    ...(str(c.reason) ? { reason: mask(str(c.reason)) } : {}),
    ...(str(c.lastStatus) ? { lastStatus: str(c.lastStatus) } : {}),
    ...(str(c.image) ? { image: str(c.image) } : {}),
  }));
  const parts = resourceParts(taskArn);
  const group = str(d.group);
  const started = parseTime(d.startedAt);
  const stopped = parseTime(d.stoppedAt) ?? parseTime(d.executionStoppedAt) ?? parseTime(d.stoppingAt);
  const lastStatus = str(d.lastStatus);
  const taskDefinitionArn = str(d.taskDefinitionArn);
  return {
    event: clean<TaskStateEvent>({
      ...base,
      type: 'task',
      key: `task|${taskArn}|${lastStatus === 'STOPPED' ? 'STOPPED' : `${lastStatus}|${num(d.version) ?? base.id}`}`,
      cluster: clusterName(str(d.clusterArn)) ?? parts.cluster,
      taskArn,
      taskId: parts.name ?? taskArn,
      lastStatus,
      desiredStatus: str(d.desiredStatus),
      group,
      service: group?.startsWith('service:') ? group.slice('service:'.length) : undefined,
      taskDefinitionArn,
      taskDefinition: taskDefinitionName(taskDefinitionArn),
      launchType: str(d.launchType),
      capacityProviderName: str(d.capacityProviderName),
      containerInstanceArn: str(d.containerInstanceArn),
      availabilityZone: str(d.availabilityZone),
      startedBy: str(d.startedBy),
      stopCode: str(d.stopCode),
      stoppedReason: mask(str(d.stoppedReason)),
      startedAt: started?.toISOString(),
      stoppedAt: stopped?.toISOString(),
      uptimeSeconds: started && stopped && stopped >= started ? Math.round((stopped.getTime() - started.getTime()) / 1000) : undefined,
      containers,
      version: num(d.version),
    }),
  };
}

function parseContainerInstance(base: Base, d: Json, resources: string[], detailType: string): ParseResult {
  const arn = str(d.containerInstanceArn) ?? resources.find((r) => r.includes(':container-instance/'));
  if (!arn) return { malformed: 'a container instance event without containerInstanceArn', detailType };
  const parts = resourceParts(arn);
  const versionInfo = isObject(d.versionInfo) ? d.versionInfo : {};
  const version = num(d.version);
  return {
    event: clean<ContainerInstanceEvent>({
      ...base,
      type: 'container-instance',
      key: `container-instance|${arn}|${version ?? base.id}`,
      cluster: clusterName(str(d.clusterArn)) ?? parts.cluster,
      containerInstanceArn: arn,
      containerInstanceId: parts.name ?? arn,
      ec2InstanceId: str(d.ec2InstanceId),
      status: str(d.status),
      statusReason: str(d.statusReason),
      agentConnected: typeof d.agentConnected === 'boolean' ? d.agentConnected : undefined,
      agentUpdateStatus: str(d.agentUpdateStatus),
      agentVersion: str(versionInfo.agentVersion),
      version,
    }),
  };
}

function parseService(base: Base, d: Json, resources: string[], detailType: string, type: 'deployment' | 'service-action'): ParseResult {
  const serviceArn = resources.find((r) => r.includes(':service/'));
  if (!serviceArn) return { malformed: `a ${type} event without a service ARN in resources`, detailType };
  const eventName = str(d.eventName);
  if (!eventName) return { malformed: `a ${type} event without eventName`, detailType };
  const parts = resourceParts(serviceArn);
  const cluster = clusterName(str(d.clusterArn)) ?? parts.cluster;
  const service = parts.name ?? serviceArn;
  if (type === 'deployment') {
    const reason = str(d.reason);
    const deploymentId = str(d.deploymentId);
    return {
      event: clean<DeploymentEvent>({
        ...base,
        type,
        key: `deployment|${serviceArn}|${deploymentId ?? base.id}|${eventName}|${reason ?? ''}`,
        cluster,
        serviceArn,
        service,
        eventName,
        eventType: str(d.eventType),
        deploymentId,
        reason,
        updatedAt: iso(d.updatedAt),
      }),
    };
  }
  const createdAt = iso(d.createdAt);
  const stringList = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined);
  return {
    event: clean<ServiceActionEvent>({
      ...base,
      type,
      key: `service-action|${serviceArn}|${eventName}|${createdAt ?? base.id}`,
      cluster,
      serviceArn,
      service,
      eventName,
      eventType: str(d.eventType),
      reason: str(d.reason),
      createdAt,
      containerInstanceArns: stringList(d.containerInstanceArns),
      capacityProviderArns: stringList(d.capacityProviderArns),
    }),
  };
}

/** A redactor of a task's override values that keeps the names of its containers, cluster and task definition. */
function overridesRedactor(overrides: ReturnType<typeof containerOverrideSecrets>, d: Json): Redactor {
  const containerNames = Array.isArray(d.containers) ? d.containers.filter(isObject).map((c) => str(c.name)) : [];
  const definition = taskDefinitionName(str(d.taskDefinitionArn));
  return new Redactor({
    ...overrides,
    identifiers: [...overrides.identifiers, ...containerNames, clusterName(str(d.clusterArn)), definition, definition?.split(':')[0]],
  });
}

/**
 * Request parameters worth naming, in this order: identifiers and settings of what the call acted on. Each is shown
 * only with an identifier's shape (`shownIdentifier`); anything else a request holds is not shown.
 */
const TARGET_PARAMETERS = [
  'service', 'serviceName', 'taskDefinition', 'family', 'task', 'containerInstance', 'desiredCount', 'count', 'launchType',
  'forceNewDeployment', 'status', 'force', 'container', 'clusterName',
];
/**
 * Request parameters a user types as free text or fills with values (a command, a reason, container overrides and
 * their environment): never shown, only named as `command=(not shown)`, so a responder knows they were given.
 */
export const FREE_TEXT_PARAMETERS = ['command', 'reason', 'overrides', 'containerOverrides'];

function parseApiCall(base: Base, d: Json, detailType: string): ParseResult {
  const eventName = str(d.eventName);
  if (!eventName) return { malformed: 'an API call without eventName', detailType };
  const eventId = str(d.eventID) ?? base.id;
  const identity = isObject(d.userIdentity) ? d.userIdentity : {};
  const session = isObject(identity.sessionContext) ? identity.sessionContext : {};
  const issuer = isObject(session.sessionIssuer) ? session.sessionIssuer : {};
  const actorArn = str(identity.arn);
  const invokedBy = str(identity.invokedBy);
  const lastPart = (arn: string | undefined) => arn?.split(/[/:]/).slice(-1)[0] || undefined;
  let actor: string;
  switch (str(identity.type)) {
    case 'AssumedRole': {
      // The role and the session: `Admin/alice`, as the CloudTrail console shows a role session.
      const role = lastPart(str(issuer.arn)) ?? str(issuer.userName);
      const sessionName = lastPart(actorArn);
      actor = role && sessionName && role !== sessionName ? `${role}/${sessionName}` : role ?? sessionName ?? 'an assumed role';
      break;
    }
    case 'Root': actor = 'root'; break;
    case 'AWSService': actor = invokedBy ?? 'an AWS service'; break;
    default: actor = str(identity.userName) ?? lastPart(actorArn) ?? invokedBy ?? str(identity.type) ?? 'unknown';
  }
  const request = isObject(d.requestParameters) ? d.requestParameters : {};
  // A call that acts in a cluster and names none acts in the cluster named `default`.
  // A request holds what the caller typed, also where an identifier belongs (a call ECS refused): only identifiers are kept.
  const clusterParameter = str(request.cluster) ?? (eventName === 'CreateCluster' ? str(request.clusterName) : undefined);
  const cluster = clusterParameter !== undefined
    ? shownIdentifier(clusterName(clusterParameter)) ?? NOT_SHOWN
    : CLUSTERED_CALLS.has(eventName) ? 'default' : undefined;
  const serviceParameter = str(request.service) ?? str(request.serviceName);
  const service = shownIdentifier(serviceParameter?.startsWith('arn:') ? resourceParts(serviceParameter).name : serviceParameter);
  const target = [
    ...TARGET_PARAMETERS.flatMap((name) => {
      const shown = shownIdentifier(request[name]);
      return shown === undefined ? [] : [`${name}=${shorten(shown)}`];
    }),
    ...FREE_TEXT_PARAMETERS.filter((name) => request[name] !== undefined && request[name] !== null).map((name) => `${name}=${NOT_SHOWN}`),
  ].join(' ');
  return {
    event: clean<ApiCallEvent>({
      ...base,
      type: 'api-call',
      key: `api-call|${eventId}`,
      time: iso(d.eventTime) ?? base.time,
      region: str(d.awsRegion) ?? base.region,
      account: str(d.recipientAccountId) ?? base.account,
      cluster,
      eventName,
      eventId,
      actor,
      actorArn,
      invokedBy,
      sourceIp: str(d.sourceIPAddress),
      userAgent: str(d.userAgent),
      errorCode: str(d.errorCode),
      errorMessage: str(d.errorMessage),
      service,
      target,
    }),
  };
}

/** Calls that act in a cluster and default to the cluster named `default` when they name none. */
const CLUSTERED_CALLS = new Set([
  'RunTask', 'StartTask', 'StopTask', 'CreateService', 'UpdateService', 'DeleteService', 'DeregisterContainerInstance',
  'RegisterContainerInstance', 'UpdateContainerAgent', 'UpdateContainerInstancesState', 'ExecuteCommand', 'CreateTaskSet',
  'DeleteTaskSet', 'UpdateServicePrimaryTaskSet', 'UpdateTaskSet', 'SubmitTaskStateChange', 'SubmitContainerStateChange',
  'SubmitAttachmentStateChanges',
]);

/** An ARN as its last part, long values cut. */
function shorten(value: string): string {
  const short = value.startsWith('arn:') ? value.split(/[/:]/).slice(-1)[0] : value;
  return short.length > 60 ? `${short.slice(0, 57)}...` : short;
}

/** ECS's own stopped reason of a task stopped by StopTask without a reason. */
export const DEFAULT_USER_STOP_REASON = 'Task stopped by user';

/** What a message says instead of the reason given to StopTask. */
export const USER_STOP_REASON_NOT_SHOWN = `the reason given to StopTask ${NOT_SHOWN}`;

/**
 * The event as a person may see it (messages, the generic webhook's data): a task stopped by StopTask
 * (`UserInitiated`) has its stopped reason, which is the text given to StopTask, replaced, and its `startedBy` is
 * shown only with an identifier's shape. The rest is identifiers and what AWS wrote; API calls name identifiers only
 * from the start (`target`).
 */
export function shownEvent<E extends ParrotEvent>(event: E): E {
  if (event.type !== 'task') return event;
  const task = event as TaskStateEvent;
  const reasonHidden = task.stopCode === 'UserInitiated' && task.stoppedReason !== undefined && task.stoppedReason !== DEFAULT_USER_STOP_REASON;
  const startedByHidden = task.startedBy !== undefined && shownIdentifier(task.startedBy) === undefined;
  if (!reasonHidden && !startedByHidden) return event;
  return clean({
    ...task,
    stoppedReason: reasonHidden ? USER_STOP_REASON_NOT_SHOWN : task.stoppedReason,
    startedBy: startedByHidden ? NOT_SHOWN : task.startedBy,
  }) as E;
}

/** Drops undefined members, so the JSON and the tests see only what the event had. */
function clean<T>(value: T): T {
  return Object.fromEntries(Object.entries(value as Json).filter(([, v]) => v !== undefined)) as T;
}
