/**
 * EcsParrot's decisions, as pure functions: which events are worth a message and how severe they are
 * (`classify`), which findings of a batch go into one message (`digest`), and whether a repeat of an ongoing
 * failure is worth another message (`decideIncident`). No AWS calls here; the shell (index.ts) reads the queue,
 * the dedupe table and ECS, calls these and delivers.
 */
import type { ApiCallEvent, ContainerInstanceEvent, DeploymentEvent, ParrotEvent, ServiceActionEvent, TaskStateEvent } from './events';
import { DESTRUCTIVE_API_CALLS, ROLLBACK_REASON, SCALE_IN_REASON_PREFIX } from '../../src/ecs-parrot/vocabulary';

export type Severity = 'INFO' | 'WARNING' | 'ERROR';
export const SEVERITIES: readonly Severity[] = ['INFO', 'WARNING', 'ERROR'];
const RANK: Record<Severity, number> = { INFO: 0, WARNING: 1, ERROR: 2 };

/** The kinds of event that can be turned on and off (`ParrotEvents`). */
export type EventKind = 'TASK_STOPPED' | 'DEPLOYMENT' | 'SERVICE_ACTION' | 'CONTAINER_INSTANCE' | 'API_CALL';
export const EVENT_KINDS: readonly EventKind[] = ['TASK_STOPPED', 'DEPLOYMENT', 'SERVICE_ACTION', 'CONTAINER_INSTANCE', 'API_CALL'];

export interface ParrotSettings {
  readonly minimumSeverity: Severity;
  readonly kinds: ReadonlySet<EventKind>;
  /** Report tasks stopped by a Spot interruption. */
  readonly spotInterruptions: boolean;
  /** Report container instances that are DRAINING or were deregistered (INACTIVE). */
  readonly instanceDraining: boolean;
  /** Cluster names; empty: every cluster. */
  readonly clusters: ReadonlySet<string>;
  /** Service names; empty: every service. */
  readonly servicesInclude: ReadonlySet<string>;
  readonly servicesExclude: ReadonlySet<string>;
  /** Containers whose exit codes never alert. */
  readonly ignoreContainers: ReadonlySet<string>;
  /** The CloudTrail event names reported (with API_CALL). */
  readonly apiCalls: ReadonlySet<string>;
  /** Whether the shell looks up task definitions and container instances. */
  readonly enrichment: boolean;
}

/** What enrichment learnt about a task definition (DescribeTaskDefinition). */
export interface TaskDefinitionFacts {
  readonly family: string;
  readonly revision: number;
  readonly containers: ReadonlyMap<string, ContainerFacts>;
}

export interface ContainerFacts {
  readonly essential: boolean;
  /** The `awslogs` log configuration, when the container has one. */
  readonly logs?: { readonly group: string; readonly region?: string; readonly streamPrefix?: string };
}

/** What enrichment learnt about a container instance (DescribeContainerInstances), at the time of the run. */
export interface InstanceFacts {
  readonly ec2InstanceId?: string;
  readonly status?: string;
  readonly agentConnected?: boolean;
}

export interface EventFacts {
  readonly taskDefinition?: TaskDefinitionFacts;
  readonly instance?: InstanceFacts;
}

export type FindingKind =
  | 'start-failure' | 'oom' | 'exit' | 'health-check' | 'spot' | 'host' | 'stopped' | 'user-stop'
  | 'deployment-failed' | 'rollback' | 'deployment-started' | 'deployment-completed' | 'deployment'
  | 'service-action'
  | 'agent-disconnected' | 'agent-update-failed' | 'draining' | 'deregistered' | 'registration-failed'
  | 'api-call';

/** What one message is about: a service, a task family (standalone tasks), a cluster's instances, or API calls. */
export interface Subject {
  readonly kind: 'service' | 'family' | 'instances' | 'api';
  readonly name: string;
  readonly cluster: string;
}

export interface Finding {
  readonly event: ParrotEvent;
  readonly severity: Severity;
  readonly kind: FindingKind;
  /** The same for every event of one failure, e.g. `OutOfMemoryError (web)`; what a message counts by. */
  readonly label: string;
  readonly subject: Subject;
  /** Whether repeats back off (failures that recur); deployments and API calls are always reported. */
  readonly backsOff: boolean;
}

export type Classification =
  | { readonly interesting: true; readonly finding: Finding }
  | { readonly interesting: false; readonly why: string };

const skip = (why: string): Classification => ({ interesting: false, why });

/**
 * Is this event worth a message, and how severe is it? `facts` is what enrichment found (nothing when it is off or
 * failed): an essential flag per container, the container instance's state now.
 */
export function classify(event: ParrotEvent, settings: ParrotSettings, facts: EventFacts = {}): Classification {
  const kind = KIND_OF[event.type];
  if (!settings.kinds.has(kind)) return skip(`${kind} events are not reported`);
  if (settings.clusters.size > 0 && event.cluster !== undefined && !settings.clusters.has(event.cluster)) {
    return skip(`cluster ${event.cluster} is not one of the clusters`);
  }
  const service = 'service' in event ? event.service : undefined;
  if (service !== undefined) {
    if (settings.servicesInclude.size > 0 && !settings.servicesInclude.has(service)) return skip(`service ${service} is not included`);
    if (settings.servicesExclude.has(service)) return skip(`service ${service} is excluded`);
  }
  let result: Classification;
  switch (event.type) {
    case 'task': result = classifyTask(event, settings, facts); break;
    case 'deployment': result = classifyDeployment(event); break;
    case 'service-action': result = classifyServiceAction(event); break;
    case 'container-instance': result = classifyInstance(event, settings, facts); break;
    case 'api-call': result = classifyApiCall(event, settings); break;
  }
  if (result.interesting && RANK[result.finding.severity] < RANK[settings.minimumSeverity]) {
    return skip(`${result.finding.severity} is below the minimum severity ${settings.minimumSeverity}`);
  }
  return result;
}

const KIND_OF: Record<ParrotEvent['type'], EventKind> = {
  'task': 'TASK_STOPPED',
  'deployment': 'DEPLOYMENT',
  'service-action': 'SERVICE_ACTION',
  'container-instance': 'CONTAINER_INSTANCE',
  'api-call': 'API_CALL',
};

// ------------------------------------------------------------------------------------------------ tasks

/** Errors that keep a task from starting (Amazon ECS stopped task error codes). */
const START_FAILURE = new RegExp('\\b(CannotPullContainerError|CannotPullImageManifestError|CannotStartContainerError|CannotCreateVolumeError|'
  + 'CannotInspectContainerError|ContainerRuntimeError|ContainerRuntimeTimeoutError|ResourceInitializationError|ResourceNotFoundException|'
  + 'InternalError|TaskFailedToStart)\\b');
/** Exit codes of a container that a stop request ended: 0, or killed by SIGINT, SIGKILL or SIGTERM. */
const REQUESTED_STOP_EXITS = new Set([0, 130, 137, 143]);
const SIGNALS: Record<number, string> = { 130: 'SIGINT', 134: 'SIGABRT', 137: 'SIGKILL', 139: 'SIGSEGV', 143: 'SIGTERM' };

/** `exit 137 (SIGKILL)`. */
export function describeExit(code: number): string {
  return SIGNALS[code] ? `exit ${code} (${SIGNALS[code]})` : `exit ${code}`;
}

function taskSubject(event: TaskStateEvent): Subject {
  const cluster = event.cluster ?? 'default';
  if (event.service) return { kind: 'service', name: event.service, cluster };
  const family = event.group?.startsWith('family:') ? event.group.slice('family:'.length) : event.taskDefinition?.split(':')[0];
  return { kind: 'family', name: family ?? event.taskId, cluster };
}

function classifyTask(event: TaskStateEvent, settings: ParrotSettings, facts: EventFacts): Classification {
  if (event.lastStatus !== 'STOPPED') return skip(`a task state change to ${event.lastStatus ?? 'an unknown status'}, not STOPPED`);
  const subject = taskSubject(event);
  const finding = (severity: Severity, kind: FindingKind, label: string, backsOff = true): Classification =>
    ({ interesting: true, finding: { event, severity, kind, label, subject, backsOff } });
  const reason = event.stoppedReason ?? '';
  const stopCode = event.stopCode ?? '';
  const considered = event.containers.filter((c) => !settings.ignoreContainers.has(c.name));
  const essential = (name: string) => facts.taskDefinition?.containers.get(name)?.essential ?? true;

  // Spot capacity taken back: expected on Spot, reported unless turned off.
  if (stopCode === 'SpotInterruption' || stopCode === 'TerminationNotice' || /\bSpot\b.*interrupt/i.test(reason) || /SpotInterruptionError/.test(reason)) {
    return settings.spotInterruptions ? finding('WARNING', 'spot', 'Spot interruption') : skip('a Spot interruption (spotInterruptions is off)');
  }
  // A task that never ran.
  const startError = [reason, ...event.containers.map((c) => c.reason ?? '')].map((t) => START_FAILURE.exec(t)?.[1]).find((name) => name);
  if (startError || stopCode === 'TaskFailedToStart' || /^Task failed to start/i.test(reason)) {
    return finding('ERROR', 'start-failure', startError && startError !== 'TaskFailedToStart' ? startError : 'failed to start');
  }
  // The service scheduler's normal scale-in (a deployment replacing tasks, or service auto scaling).
  if (reason.startsWith(SCALE_IN_REASON_PREFIX)) return skip('a normal scale-in');
  const oom = considered.find((c) => /OutOfMemoryError/.test(c.reason ?? ''));
  if (oom) return finding('WARNING', 'oom', `OutOfMemoryError (${oom.name})`);
  if (/OutOfMemoryError/.test(reason) && !event.containers.some((c) => /OutOfMemoryError/.test(c.reason ?? ''))) {
    return finding('WARNING', 'oom', 'OutOfMemoryError');
  }
  if (/failed ELB health checks/i.test(reason)) return finding('WARNING', 'health-check', 'failed ELB health checks');
  if (/failed container health checks/i.test(reason)) return finding('WARNING', 'health-check', 'failed container health checks');
  if (/^Host EC2 \(instance [^)]*\) (stopped|terminated)/i.test(reason)) return finding('WARNING', 'host', 'its EC2 instance stopped or terminated');

  // A stop someone asked for (a user, or the service scheduler) ends containers with SIGTERM, then SIGKILL: those
  // exit codes are the stop itself, not a crash.
  const requested = stopCode === 'UserInitiated' || stopCode === 'ServiceSchedulerInitiated' || /stopped by user/i.test(reason);
  const exited = considered.filter((c) => c.exitCode !== undefined && c.exitCode !== 0 && essential(c.name)
    && !(requested && REQUESTED_STOP_EXITS.has(c.exitCode)));
  if (stopCode === 'UserInitiated' || /stopped by user/i.test(reason)) {
    if (exited.length === 0) return skip('stopped by a user');
    return finding('INFO', 'user-stop', `stopped by a user; ${exited[0].name} ${describeExit(exited[0].exitCode!)}`);
  }
  if (/maintenance/i.test(reason)) return finding('INFO', 'stopped', 'retired for maintenance');
  if (/deregistration forced/i.test(reason)) return finding('INFO', 'stopped', 'its container instance was deregistered');
  if (facts.instance?.status === 'DRAINING' || /\bdraining\b/i.test(reason)) {
    if (exited.length === 0) return skip('moved off a draining container instance');
  }
  if (exited.length > 0) return finding('WARNING', 'exit', `${exited[0].name} ${describeExit(exited[0].exitCode!)}`);
  if (event.containers.some((c) => settings.ignoreContainers.has(c.name) && c.exitCode !== undefined && c.exitCode !== 0)) {
    return skip('only an ignored container exited non-zero');
  }
  if (subject.kind === 'service') {
    // A service's tasks are meant to keep running: an essential container that exits, even with 0, is a stop.
    if (stopCode === 'EssentialContainerExited' || /Essential container in task exited/i.test(reason)) {
      const first = considered.find((c) => essential(c.name) && c.exitCode === 0) ?? considered[0];
      return finding('WARNING', 'exit', first ? `${first.name} exit 0` : 'an essential container exited');
    }
    return finding('INFO', 'stopped', reason ? shortReason(reason) : 'stopped');
  }
  return skip('a standalone task completed');
}

function shortReason(reason: string): string {
  const oneLine = reason.replace(/\s+/g, ' ').trim();
  return oneLine.length > 80 ? `${oneLine.slice(0, 77)}...` : oneLine;
}

// ------------------------------------------------------------------------------------------------ services

/**
 * The cluster of a service whose ARN is in the older format `service/<name>` (services created before 2021 that were
 * never migrated): its deployment events name no cluster anywhere.
 */
export const UNKNOWN_CLUSTER = '(unknown)';

function serviceSubject(event: DeploymentEvent | ServiceActionEvent): Subject {
  return { kind: 'service', name: event.service, cluster: event.cluster ?? UNKNOWN_CLUSTER };
}

function classifyDeployment(event: DeploymentEvent): Classification {
  const subject = serviceSubject(event);
  const finding = (severity: Severity, kind: FindingKind, label: string): Classification =>
    ({ interesting: true, finding: { event, severity, kind, label, subject, backsOff: false } });
  switch (event.eventName) {
    case 'SERVICE_DEPLOYMENT_FAILED': return finding('ERROR', 'deployment-failed', 'deployment failed');
    case 'SERVICE_DEPLOYMENT_IN_PROGRESS':
      return (event.reason ?? '').includes(ROLLBACK_REASON)
        ? finding('ERROR', 'rollback', 'rolling back')
        : finding('INFO', 'deployment-started', 'deployment started');
    case 'SERVICE_DEPLOYMENT_COMPLETED': return finding('INFO', 'deployment-completed', 'deployment completed');
    default: return finding(event.eventType === 'ERROR' ? 'ERROR' : 'INFO', 'deployment', event.eventName);
  }
}

function classifyServiceAction(event: ServiceActionEvent): Classification {
  const severity: Severity = event.eventType === 'ERROR' ? 'ERROR' : event.eventType === 'WARN' ? 'WARNING' : 'INFO';
  const label = event.reason ? `${event.eventName} (${event.reason})` : event.eventName;
  return { interesting: true, finding: { event, severity, kind: 'service-action', label, subject: serviceSubject(event), backsOff: true } };
}

// ------------------------------------------------------------------------------------------------ container instances

function classifyInstance(event: ContainerInstanceEvent, settings: ParrotSettings, facts: EventFacts): Classification {
  const subject: Subject = { kind: 'instances', name: event.cluster ?? 'default', cluster: event.cluster ?? 'default' };
  const finding = (severity: Severity, kind: FindingKind, label: string): Classification =>
    ({ interesting: true, finding: { event, severity, kind, label, subject, backsOff: true } });
  if (event.status === 'REGISTRATION_FAILED') return finding('WARNING', 'registration-failed', 'registration failed');
  if (event.agentUpdateStatus === 'FAILED') return finding('WARNING', 'agent-update-failed', 'agent update FAILED');
  if (event.status === 'DRAINING') {
    return settings.instanceDraining ? finding('WARNING', 'draining', 'DRAINING') : skip('DRAINING (instanceDraining is off)');
  }
  if (event.status === 'INACTIVE') {
    return settings.instanceDraining ? finding('WARNING', 'deregistered', 'deregistered (INACTIVE)') : skip('deregistered (instanceDraining is off)');
  }
  if (event.agentConnected === false && (event.status === undefined || event.status === 'ACTIVE')) {
    // ECS agents disconnect and reconnect several times an hour as part of normal operation: only a disconnect that
    // lasts until the batch is read is worth a warning, and only enrichment can tell.
    if (facts.instance?.agentConnected === true) return skip('the agent has reconnected');
    if (facts.instance?.agentConnected === false || settings.enrichment) return finding('WARNING', 'agent-disconnected', 'agent disconnected');
    return finding('INFO', 'agent-disconnected', 'agent disconnected (not checked again: enrichment is off)');
  }
  return skip('a routine container instance change');
}

// ------------------------------------------------------------------------------------------------ API calls

const DESTRUCTIVE_CALLS = new Set(DESTRUCTIVE_API_CALLS);

function classifyApiCall(event: ApiCallEvent, settings: ParrotSettings): Classification {
  if (!settings.apiCalls.has(event.eventName)) return skip(`${event.eventName} is not one of the API calls reported`);
  if (event.errorCode === 'InternalFailure') return skip('an API call that failed inside AWS (InternalFailure)');
  const subject: Subject = { kind: 'api', name: 'API calls', cluster: event.cluster ?? '(account)' };
  const finding = (severity: Severity, label: string): Classification =>
    ({ interesting: true, finding: { event, severity, kind: 'api-call', label, subject, backsOff: false } });
  if (event.errorCode) return finding('WARNING', `${event.actor}: ${event.eventName} failed (${event.errorCode})`);
  return finding(DESTRUCTIVE_CALLS.has(event.eventName) ? 'WARNING' : 'INFO', `${event.actor}: ${event.eventName}`);
}

// ------------------------------------------------------------------------------------------------ digests

/** The findings of one failure (one label) in one message. */
export interface Line {
  readonly kind: FindingKind;
  readonly label: string;
  readonly severity: Severity;
  readonly backsOff: boolean;
  /** Identifies the failure across batches: cluster, subject, kind and label. */
  readonly signature: string;
  readonly findings: readonly Finding[];
}

/** What one message is made of: the findings of one subject in one batch. */
export interface Digest {
  readonly subject: Subject;
  readonly severity: Severity;
  readonly lines: readonly Line[];
  readonly findings: readonly Finding[];
}

export function subjectKey(subject: Subject): string {
  return `${subject.cluster}|${subject.kind}|${subject.name}`;
}

/** Groups the findings of a batch into one digest per subject, and within it one line per failure. */
export function digest(findings: readonly Finding[]): Digest[] {
  const bySubject = new Map<string, Finding[]>();
  for (const f of findings) {
    const key = subjectKey(f.subject);
    bySubject.set(key, [...(bySubject.get(key) ?? []), f]);
  }
  const digests = [...bySubject.values()].map((group): Digest => {
    const byLine = new Map<string, Finding[]>();
    for (const f of group) {
      const key = `${f.kind}|${f.label}`;
      byLine.set(key, [...(byLine.get(key) ?? []), f]);
    }
    const lines = [...byLine.values()].map((fs): Line => ({
      kind: fs[0].kind,
      label: fs[0].label,
      severity: maxSeverity(fs.map((f) => f.severity)),
      backsOff: fs[0].backsOff,
      signature: `${subjectKey(fs[0].subject)}|${fs[0].kind}|${fs[0].label}`,
      findings: [...fs].sort(byTime),
    })).sort((a, b) => RANK[b.severity] - RANK[a.severity] || b.findings.length - a.findings.length || a.label.localeCompare(b.label));
    return { subject: group[0].subject, severity: maxSeverity(lines.map((l) => l.severity)), lines, findings: [...group].sort(byTime) };
  });
  return digests.sort((a, b) => RANK[b.severity] - RANK[a.severity] || byTime(a.findings[0], b.findings[0]));
}

function byTime(a: Finding, b: Finding): number {
  return a.event.time.localeCompare(b.event.time);
}

export function maxSeverity(severities: readonly Severity[]): Severity {
  return severities.reduce<Severity>((max, s) => (RANK[s] > RANK[max] ? s : max), 'INFO');
}

// ------------------------------------------------------------------------------------------------ incidents

/** How long after the last report an ongoing failure is reported again, whatever its count. */
export const REPORT_AGAIN_AFTER_SECONDS = 3600;

/** An ongoing failure, as the dedupe table keeps it between batches. */
export interface IncidentState {
  /** Events counted since it began. */
  readonly occurrences: number;
  /** `occurrences` when it was last reported. */
  readonly reported: number;
  /** Epoch seconds of the last report. */
  readonly reportedAt: number;
  /** Epoch seconds of its first event. */
  readonly firstAt: number;
}

export interface IncidentDecision {
  readonly report: boolean;
  /** Events counted, these included. */
  readonly total: number;
  /** Events since the last report, these included. */
  readonly sinceLastReport: number;
  /** When it began (epoch seconds). */
  readonly firstAt: number;
  /** Whether it was reported before. */
  readonly ongoing: boolean;
}

/**
 * Whether `fresh` new events of a failure are worth a message: always when it is new (or its record expired);
 * when it is ongoing, once its count has doubled since the last report, or an hour after the last report.
 * A crash loop is thus reported at 1, 2, 4, 8... failures, and at least hourly while it lasts.
 */
export function decideIncident(prior: IncidentState | undefined, fresh: number, nowSeconds: number): IncidentDecision {
  if (!prior || prior.reported <= 0) {
    const occurrences = (prior?.occurrences ?? 0) + fresh;
    return { report: true, total: occurrences, sinceLastReport: occurrences, firstAt: prior?.firstAt ?? nowSeconds, ongoing: false };
  }
  const total = prior.occurrences + fresh;
  const report = total >= 2 * prior.reported || nowSeconds - prior.reportedAt >= REPORT_AGAIN_AFTER_SECONDS;
  return { report, total, sinceLastReport: total - prior.reported, firstAt: prior.firstAt, ongoing: true };
}
