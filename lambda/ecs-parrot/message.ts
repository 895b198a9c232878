/**
 * One digest as one chat message: a title that says what happened and how often, a line per failure, the facts a
 * responder looks for first (task definition, uptime, exit codes, the instance and whether it was draining), links
 * to the ECS console and the containers' logs, and the normalized events as data for the generic webhook.
 */
import { describeExit, type Digest, type EventFacts, type IncidentDecision, type Line, type Severity, type Subject, UNKNOWN_CLUSTER } from './core';
import {
  type ApiCallEvent, type ContainerInstanceEvent, type DeploymentEvent, type ParrotEvent, type ServiceActionEvent, type TaskStateEvent, shownEvent,
} from './events';
import type { MessageField, MessageSection, NotificationMessage, Severity as MessageSeverity } from '../common/notifier/message';

export const SOURCE = 'EcsParrot';
/** The `data.schema` of the generic webhook's JSON; changes only with a breaking change. */
export const DATA_SCHEMA = 'ecs-parrot/1';
/** Items listed per section; the rest are counted. */
const MAX_LISTED = 10;
/** Lines named in a title. */
const TITLE_LINES = 2;

export interface RenderContext {
  /** What enrichment found for an event (nothing when it is off or failed). */
  readonly facts: (event: ParrotEvent) => EventFacts;
  /** The incident decision of each line, by signature (lines that do not back off have none). */
  readonly incidents: ReadonlyMap<string, IncidentDecision>;
}

/** The normalized event with its finding and links, as the generic webhook's `data.events` carries it. */
export interface EventData {
  readonly event: ParrotEvent;
  readonly severity: Severity;
  readonly label: string;
  readonly instance?: EventFacts['instance'];
  readonly links: { readonly console?: string; readonly logs?: readonly { readonly container: string; readonly url: string }[] };
}

/**
 * The message of a digest. It shows each event as `shownEvent` shows it (never the reason given to StopTask, API calls
 * by their identifiers only); the notifier masks secret-looking text in all of it (lambda/common/redact.ts).
 */
export function renderDigest(digest: Digest, context: RenderContext): NotificationMessage {
  const d = shownDigest(digest);
  const first = d.findings[0].event;
  const times = d.findings.map((f) => f.event.time).sort();
  const tasks = d.findings.filter((f) => f.event.type === 'task').map((f) => f.event as TaskStateEvent);
  const links = digestLinks(d, tasks, context);
  return {
    source: SOURCE,
    title: title(d),
    severity: messageSeverity(d),
    summary: d.lines.map((line) => `• ${lineSummary(line, context.incidents.get(line.signature))}`).join('\n'),
    fields: fields(d, tasks),
    sections: sections(d, context),
    ...(links.length > 0 ? { link: links[0], links: links.slice(1) } : {}),
    context: [first.account, first.region, timeRange(times[0], times[times.length - 1])].filter((c) => c),
    data: {
      schema: DATA_SCHEMA,
      account: first.account,
      region: first.region,
      cluster: d.subject.cluster === UNKNOWN_CLUSTER ? null : d.subject.cluster,
      subject: { kind: d.subject.kind, name: d.subject.name },
      severity: d.severity,
      lines: d.lines.map((line) => {
        const incident = context.incidents.get(line.signature);
        return {
          kind: line.kind,
          label: line.label,
          severity: line.severity,
          count: line.findings.length,
          ...(incident
            ? { occurrences: incident.total, sinceLastReport: incident.sinceLastReport, since: new Date(incident.firstAt * 1000).toISOString() }
            : {}),
        };
      }),
      events: d.findings.map((f): EventData => {
        const facts = context.facts(f.event);
        return {
          event: f.event,
          severity: f.severity,
          label: f.label,
          ...(facts.instance ? { instance: facts.instance } : {}),
          links: eventLinks(f.event, facts),
        };
      }),
    },
  };
}

/** The digest with each finding's event as it may be shown; findings stay one object per finding across lines. */
function shownDigest(d: Digest): Digest {
  const shown = new Map(d.findings.map((f) => [f, { ...f, event: shownEvent(f.event) }]));
  return {
    ...d,
    findings: d.findings.map((f) => shown.get(f)!),
    lines: d.lines.map((line) => ({ ...line, findings: line.findings.map((f) => shown.get(f) ?? { ...f, event: shownEvent(f.event) }) })),
  };
}

function messageSeverity(d: Digest): MessageSeverity {
  if (d.lines.every((l) => l.kind === 'deployment-completed')) return 'success';
  return ({ INFO: 'info', WARNING: 'warning', ERROR: 'error' } as const)[d.severity];
}

const plural = (n: number, word: string, words = `${word}s`) => `${n} ${n === 1 ? word : words}`;

function subjectName(subject: Subject): string {
  switch (subject.kind) {
    case 'service': return `service ${subject.name}`;
    case 'family': return `task family ${subject.name}`;
    case 'instances': return `cluster ${subject.cluster}`;
    case 'api': return subject.cluster === '(account)' ? 'the account' : `cluster ${subject.cluster}`;
  }
}

function counted(lines: readonly Line[]): string {
  const shown = lines.slice(0, TITLE_LINES).map((l) => (l.findings.length > 1 ? `${l.label} ×${l.findings.length}` : l.label));
  return lines.length > TITLE_LINES ? `${shown.join(', ')}, +${lines.length - TITLE_LINES} more` : shown.join(', ');
}

function title(d: Digest): string {
  const of = subjectName(d.subject);
  const has = (kind: Line['kind']) => d.lines.some((l) => l.kind === kind);
  const taskLines = d.lines.filter((l) => l.findings[0].event.type === 'task');
  const taskCount = taskLines.reduce((n, l) => n + l.findings.length, 0);
  switch (d.subject.kind) {
    case 'service':
      if (has('deployment-failed')) return `Deployment of ${of} failed${has('rollback') ? ' and is rolling back' : ''}`;
      if (has('rollback')) return `${capitalize(of)} is rolling back a failed deployment`;
      if (taskCount > 0 && taskLines.some((l) => l.severity === d.severity)) {
        return `${plural(taskCount, 'task')} of ${of} stopped: ${counted(taskLines)}`;
      }
      if (d.lines.some((l) => l.kind === 'service-action')) return `${capitalize(of)}: ${counted(d.lines.filter((l) => l.kind === 'service-action'))}`;
      if (taskCount > 0) return `${plural(taskCount, 'task')} of ${of} stopped: ${counted(taskLines)}`;
      if (has('deployment-completed')) return `Deployment of ${of} completed`;
      return `Deployment of ${of}: ${counted(d.lines)}`;
    case 'family':
      return `${plural(taskCount, 'task')} of ${of} stopped: ${counted(taskLines)}`;
    case 'instances':
      return `${plural(d.findings.length, 'container instance')} in ${of}: ${counted(d.lines)}`;
    case 'api': {
      if (d.findings.length > 1) return `${plural(d.findings.length, 'ECS API call')} in ${of}: ${counted(d.lines)}`;
      const call = d.findings[0].event as ApiCallEvent;
      return `${call.actor} called ${call.eventName} in ${of}${call.errorCode ? ` (${call.errorCode})` : ''}`;
    }
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function lineSummary(line: Line, incident: IncidentDecision | undefined): string {
  const first = line.findings[0].event;
  let text = line.findings.length > 1 ? `${line.label} ×${line.findings.length}` : line.label;
  if (first.type === 'deployment') {
    const d = first as DeploymentEvent;
    text = `${capitalize(line.label)}${d.deploymentId ? ` (${d.deploymentId})` : ''}${d.reason ? `: ${d.reason}` : ''}`;
  }
  if (incident?.ongoing) {
    text += ` (ongoing: ${incident.total} since ${clock(incident.firstAt * 1000)}, ${incident.sinceLastReport} since the last message)`;
  }
  return `[${line.severity}] ${text}`;
}

function fields(d: Digest, tasks: readonly TaskStateEvent[]): MessageField[] {
  const out: MessageField[] = [{
    name: 'Cluster',
    value: d.subject.cluster === UNKNOWN_CLUSTER
      ? 'unknown (the service has an ARN in the older format; migrate it to the long ARN format)'
      : d.subject.cluster,
  }];
  if (d.subject.kind === 'service') out.push({ name: 'Service', value: d.subject.name });
  if (d.subject.kind === 'family') out.push({ name: 'Task family', value: d.subject.name });
  const distinct = (values: Array<string | undefined>) => [...new Set(values.filter((v): v is string => !!v))];
  const definitions = distinct(tasks.map((t) => t.taskDefinition));
  if (definitions.length > 0) out.push({ name: definitions.length === 1 ? 'Task definition' : 'Task definitions', value: listed(definitions, 3) });
  const launch = distinct(tasks.map((t) => t.capacityProviderName ?? t.launchType));
  if (launch.length > 0) out.push({ name: 'Capacity', value: listed(launch, 3) });
  const deployments = distinct(d.findings.map((f) => (f.event.type === 'deployment' ? f.event.deploymentId : undefined)));
  if (deployments.length > 0) out.push({ name: 'Deployment', value: listed(deployments, 2) });
  return out;
}

function listed(values: readonly string[], max: number): string {
  return values.length > max ? `${values.slice(0, max).join(', ')} and ${values.length - max} more` : values.join(', ');
}

function sections(d: Digest, context: RenderContext): MessageSection[] {
  const out: MessageSection[] = [];
  const of = <T extends ParrotEvent['type']>(type: T) =>
    d.findings.filter((f) => f.event.type === type).map((f) => ({ event: f.event as Extract<ParrotEvent, { type: T }>, label: f.label }));
  const section = (heading: string, items: string[]) => {
    if (items.length === 0) return;
    const shown = items.slice(0, MAX_LISTED);
    out.push({ heading, text: [...shown, ...(items.length > shown.length ? [`… and ${items.length - shown.length} more`] : [])].join('\n') });
  };
  section('Deployments', of('deployment').map(({ event }) => deploymentText(event)));
  const stopped = stoppedTasksText(of('task').map(({ event }) => event), context);
  if (stopped) out.push({ heading: 'Stopped tasks', text: stopped });
  section('Service events', of('service-action').map(({ event }) => serviceActionText(event)));
  section('Container instances', of('container-instance').map(({ event, label }) => instanceText(event, label, context.facts(event))));
  section('API calls', of('api-call').map(({ event }) => apiCallText(event)));
  return out;
}

function deploymentText(e: DeploymentEvent): string {
  return `${clock(e.time)} ${e.eventName}${e.deploymentId ? ` ${e.deploymentId}` : ''}${e.reason ? `: ${e.reason}` : ''}`;
}

/**
 * The stopped tasks, grouped by how they stopped: each way once (stop code, reason, every container's exit code and
 * reason), then one line per task (id, task definition, how long it ran, its instance). At most `MAX_LISTED` tasks.
 */
function stoppedTasksText(tasks: readonly TaskStateEvent[], context: RenderContext): string | undefined {
  if (tasks.length === 0) return undefined;
  const groups = new Map<string, { header: string[]; tasks: TaskStateEvent[] }>();
  for (const t of tasks) {
    const facts = context.facts(t);
    const header = [
      [t.stopCode, t.stoppedReason].filter((x) => x).join(' · ') || 'stopped',
      ...t.containers.map((c) => {
        const essential = facts.taskDefinition?.containers.get(c.name)?.essential;
        const code = c.exitCode === undefined ? 'no exit code' : describeExit(c.exitCode);
        return `  ${c.name}${essential === false ? ' (not essential)' : ''}: ${code}${c.reason ? `, ${c.reason}` : ''}`;
      }),
    ];
    const key = header.join('\n');
    groups.set(key, { header, tasks: [...(groups.get(key)?.tasks ?? []), t] });
  }
  const lines: string[] = [];
  let shown = 0;
  for (const group of [...groups.values()].sort((a, b) => b.tasks.length - a.tasks.length)) {
    if (shown >= MAX_LISTED) break;
    lines.push(`${group.tasks.length > 1 ? `${group.tasks.length} tasks: ` : ''}${group.header[0]}`, ...group.header.slice(1));
    for (const t of group.tasks.slice(0, MAX_LISTED - shown)) lines.push(`  ${taskLine(t, context.facts(t))}`);
    shown += Math.min(group.tasks.length, MAX_LISTED - shown);
  }
  if (tasks.length > shown) lines.push(`… and ${tasks.length - shown} more`);
  return lines.join('\n');
}

/** `c94c707fb3c0 api:42 · ran 40s · on i-0836d2e65b7e6d3ce (DRAINING)`. */
function taskLine(t: TaskStateEvent, facts: EventFacts): string {
  const parts = [`${t.taskId.slice(0, 12)} ${t.taskDefinition ?? ''}`.trim()];
  parts.push(t.uptimeSeconds !== undefined ? `ran ${formatDuration(t.uptimeSeconds)}` : t.startedAt ? 'running time unknown' : 'never started');
  const instance = facts.instance;
  if (instance?.ec2InstanceId) parts.push(`on ${instance.ec2InstanceId}${instance.status && instance.status !== 'ACTIVE' ? ` (${instance.status})` : ''}`);
  else if (t.launchType === 'FARGATE' || t.capacityProviderName?.startsWith('FARGATE')) parts.push('on Fargate');
  return parts.join(' · ');
}

function serviceActionText(e: ServiceActionEvent): string {
  return `${clock(e.createdAt ?? e.time)} ${e.eventName}${e.eventType ? ` (${e.eventType})` : ''}${e.reason ? `: ${e.reason}` : ''}`
    + (e.containerInstanceArns && e.containerInstanceArns.length > 0 ? ` on ${plural(e.containerInstanceArns.length, 'container instance')}` : '');
}

function instanceText(e: ContainerInstanceEvent, label: string, facts: EventFacts): string {
  const ec2 = facts.instance?.ec2InstanceId ?? e.ec2InstanceId;
  const now = facts.instance?.status && facts.instance.status !== e.status ? `; now ${facts.instance.status}` : '';
  return `${clock(e.time)} ${e.containerInstanceId.slice(0, 12)}${ec2 ? ` (${ec2})` : ''}: ${label}${e.statusReason ? ` (${e.statusReason})` : ''}`
    + `${e.agentVersion ? `, agent ${e.agentVersion}` : ''}${now}`;
}

function apiCallText(e: ApiCallEvent): string {
  const error = e.errorCode ? ` → ${e.errorCode}${e.errorMessage ? `: ${e.errorMessage}` : ''}` : '';
  const from = e.invokedBy ? ` via ${e.invokedBy}` : e.sourceIp ? ` from ${e.sourceIp}` : '';
  return `${clock(e.time)} ${e.actor} ${e.eventName}${e.target ? ` ${e.target}` : ''}${error}${from}`;
}

// ------------------------------------------------------------------------------------------------ links

/** The AWS console of a partition and region. */
export function consoleHost(partition: string, region: string): string {
  switch (partition) {
    case 'aws-cn': return `https://${region}.console.amazonaws.cn`;
    case 'aws-us-gov': return 'https://console.amazonaws-us-gov.com';
    default: return `https://${region}.console.aws.amazon.com`;
  }
}

/** The ECS console's page of a task, a service (one of its tabs), or a cluster's infrastructure or tasks. */
export function ecsConsoleUrl(
  e: Pick<ParrotEvent, 'partition' | 'region'>, cluster: string, page: { task: string } | { service: string; tab: string } | { cluster: 'infrastructure' | 'tasks' },
): string {
  const base = `${consoleHost(e.partition, e.region)}/ecs/v2/clusters/${encodeURIComponent(cluster)}`;
  const query = `?region=${e.region}`;
  if ('task' in page) return `${base}/tasks/${encodeURIComponent(page.task)}/configuration${query}`;
  if ('service' in page) return `${base}/services/${encodeURIComponent(page.service)}/${page.tab}${query}`;
  return `${base}/${page.cluster}${query}`;
}

/**
 * The CloudWatch Logs console's page of one log stream (or of the log group, when the stream name is unknown).
 * The console's fragment encodes each name twice, with `$` for `%`.
 */
export function logsConsoleUrl(partition: string, region: string, group: string, stream?: string): string {
  const encode = (s: string) => encodeURIComponent(encodeURIComponent(s)).replace(/%/g, '$');
  return `${consoleHost(partition, region)}/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${encode(group)}`
    + (stream ? `/log-events/${encode(stream)}` : '');
}

/** The awslogs stream of a task's container: `<prefix>/<container>/<task id>` (needs `awslogs-stream-prefix`). */
function logLinks(t: TaskStateEvent, facts: EventFacts): Array<{ container: string; url: string }> {
  const containers = facts.taskDefinition?.containers;
  if (!containers) return [];
  return t.containers.flatMap((c) => {
    const logs = containers.get(c.name)?.logs;
    if (!logs) return [];
    const stream = logs.streamPrefix ? `${logs.streamPrefix}/${c.name}/${t.taskId}` : undefined;
    return [{ container: c.name, url: logsConsoleUrl(t.partition, logs.region ?? t.region, logs.group, stream) }];
  });
}

function eventLinks(e: ParrotEvent, facts: EventFacts): EventData['links'] {
  const cluster = e.cluster ?? 'default';
  switch (e.type) {
    case 'task': {
      const logs = logLinks(e, facts);
      return { console: ecsConsoleUrl(e, cluster, { task: e.taskId }), ...(logs.length > 0 ? { logs } : {}) };
    }
    // A service with an ARN in the older format names no cluster: no link rather than one to the wrong cluster.
    case 'deployment': return e.cluster ? { console: ecsConsoleUrl(e, cluster, { service: e.service, tab: 'deployments' }) } : {};
    case 'service-action': return { console: ecsConsoleUrl(e, cluster, { service: e.service, tab: 'events' }) };
    case 'container-instance': return { console: ecsConsoleUrl(e, cluster, { cluster: 'infrastructure' }) };
    case 'api-call': return { console: `${consoleHost(e.partition, e.region)}/cloudtrailv2/home?region=${e.region}#/events/${encodeURIComponent(e.eventId)}` };
  }
}

/** The message's buttons: the subject's console page, the first failed task, its logs, an instance. */
function digestLinks(d: Digest, tasks: readonly TaskStateEvent[], context: RenderContext): Array<{ text: string; url: string }> {
  const e = d.findings[0].event;
  const cluster = d.subject.cluster;
  const links: Array<{ text: string; url: string }> = [];
  switch (d.subject.kind) {
    case 'service': {
      if (cluster === UNKNOWN_CLUSTER) break;
      const deployment = d.lines.some((l) => l.findings[0].event.type === 'deployment');
      links.push({ text: `Service ${d.subject.name}`, url: ecsConsoleUrl(e, cluster, { service: d.subject.name, tab: deployment ? 'deployments' : 'health' }) });
      break;
    }
    case 'family': links.push({ text: `Tasks of ${cluster}`, url: ecsConsoleUrl(e, cluster, { cluster: 'tasks' }) }); break;
    case 'instances': links.push({ text: `Instances of ${cluster}`, url: ecsConsoleUrl(e, cluster, { cluster: 'infrastructure' }) }); break;
    case 'api': {
      const call = e as ApiCallEvent;
      const url = eventLinks(call, {}).console!;
      links.push({ text: d.findings.length === 1 ? 'The event in CloudTrail' : 'The first event in CloudTrail', url });
      break;
    }
  }
  const task = tasks[0];
  if (task) {
    links.push({ text: `Task ${task.taskId.slice(0, 8)}`, url: ecsConsoleUrl(task, task.cluster ?? cluster, { task: task.taskId }) });
    const logs = logLinks(task, context.facts(task));
    const failed = task.containers.find((c) => c.exitCode !== 0 || c.reason);
    const log = logs.find((l) => l.container === failed?.name) ?? logs[0];
    if (log) links.push({ text: `Logs of ${log.container}`, url: log.url });
  }
  const instanceEvent = d.findings.find((f) => f.event.type === 'container-instance')?.event as ContainerInstanceEvent | undefined;
  const ec2 = instanceEvent ? context.facts(instanceEvent).instance?.ec2InstanceId ?? instanceEvent.ec2InstanceId : undefined;
  if (instanceEvent && ec2) {
    links.push({ text: `EC2 instance ${ec2}`, url: `${consoleHost(e.partition, e.region)}/ec2/home?region=${e.region}#InstanceDetails:instanceId=${ec2}` });
  }
  return links;
}

// ------------------------------------------------------------------------------------------------ time

/** `42s`, `3m 12s`, `2h 5m`, `3d 4h`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** `08:01:02` (UTC). */
function clock(time: string | number): string {
  return new Date(time).toISOString().slice(11, 19);
}

/** `2026-03-02 08:01 UTC`, or `2026-03-02 08:01–08:03 UTC` for a range. */
function timeRange(from: string, to: string): string {
  const day = from.slice(0, 10);
  const start = from.slice(11, 16);
  const end = to.slice(11, 16);
  if (!/^\d{4}-/.test(day)) return '';
  return start === end || to.slice(0, 10) !== day ? `${day} ${start} UTC` : `${day} ${start}–${end} UTC`;
}
