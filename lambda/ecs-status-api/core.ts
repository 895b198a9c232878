/**
 * The status API's decisions, as pure functions: what a service's status is (from DescribeServices), whether it is
 * healthy and by which rule, what a request's filters are (or why they are refused), which services match, how the
 * answer is paged, and how it is written as JSON or CSV. No AWS calls and no clock here: the shell (index.ts) reads
 * ECS, keeps the cache and calls these.
 */
import { createHash } from 'node:crypto';
import type { Service } from '@aws-sdk/client-ecs';

// ------------------------------------------------------------------ the status of a service

export type Health = 'OK' | 'DEGRADED' | 'DOWN';
export const HEALTH_VALUES: readonly Health[] = ['OK', 'DEGRADED', 'DOWN'];

/** What a service runs on, as the `launchType` filter sees it. */
export type LaunchType = 'FARGATE' | 'EC2' | 'EXTERNAL' | 'MANAGED_INSTANCES';
export const LAUNCH_TYPES: readonly LaunchType[] = ['FARGATE', 'EC2', 'EXTERNAL', 'MANAGED_INSTANCES'];

/** Service statuses ListServices returns (INACTIVE services are not listed). */
export const SERVICE_STATUSES = ['ACTIVE', 'DRAINING'] as const;

/** The rules of the health verdict, in the order they are tried; the first that applies decides. */
export const HEALTH_RULES = {
  SERVICE_DRAINING: { verdict: 'DEGRADED', description: 'the service is being deleted (status DRAINING)' },
  SCALED_TO_ZERO: { verdict: 'OK', description: 'the desired count is 0' },
  NO_RUNNING_TASKS: { verdict: 'DOWN', description: 'tasks are desired but none is running' },
  ROLLOUT_FAILED: { verdict: 'DEGRADED', description: 'the rollout of the primary deployment failed (circuit breaker or alarm)' },
  BELOW_DESIRED: { verdict: 'DEGRADED', description: 'fewer tasks are running than desired' },
  TASKS_FAILING: { verdict: 'DEGRADED', description: 'tasks of the deployment in progress failed to start' },
  AT_DESIRED: { verdict: 'OK', description: 'at least the desired number of tasks is running' },
} as const satisfies Record<string, { verdict: Health; description: string }>;
export type HealthRule = keyof typeof HEALTH_RULES;

export interface HealthVerdict {
  readonly verdict: Health;
  /** The rule that decided (`HEALTH_RULES`). */
  readonly rule: HealthRule;
  /** The rule applied to this service, e.g. "2 of 3 tasks running". */
  readonly reason: string;
}

/** One ECS service as the API reports it. */
export interface ServiceStatus {
  readonly cluster: string;
  readonly name: string;
  readonly arn: string;
  /** ACTIVE or DRAINING. */
  readonly status: string;
  /**
   * The service's launch type; for a capacity provider strategy, FARGATE when every provider is FARGATE or
   * FARGATE_SPOT, else EC2 (an Auto Scaling group or Managed Instances provider).
   */
  readonly launchType: LaunchType | null;
  /** The providers of its capacity provider strategy (empty with a launch type). */
  readonly capacityProviders: string[];
  /** REPLICA or DAEMON. */
  readonly schedulingStrategy: string | null;
  readonly desired: number;
  readonly running: number;
  readonly pending: number;
  /** The primary deployment's rollout. */
  readonly rollout: { readonly state: string | null; readonly reason: string | null; readonly updatedAt: string | null };
  /** Tasks of the primary deployment that failed to start. */
  readonly failedTasks: number;
  /** `family:revision` of the primary deployment's task definition. */
  readonly taskDefinition: string | null;
  readonly health: HealthVerdict;
  /** The service's own tags. */
  readonly tags: Record<string, string>;
  /** With inheritClusterTags: the cluster's tags the service does not override. */
  readonly inheritedTags?: Record<string, string>;
  /** The newest service event. */
  readonly lastEventAt: string | null;
  readonly lastEvent: string | null;
}

const FARGATE_PROVIDERS = new Set(['FARGATE', 'FARGATE_SPOT']);

function iso(date: Date | undefined): string | null {
  return date instanceof Date && !Number.isNaN(date.getTime()) ? date.toISOString() : null;
}

/** The cluster name of a cluster ARN (`arn:aws:ecs:r:a:cluster/prod`) or name. */
export function clusterNameOf(ref: string): string {
  const match = /:cluster\/(.+)$/.exec(ref);
  return match ? match[1] : ref;
}

/** `family:revision` of a task definition ARN. */
function taskDefinitionName(arn: string | undefined): string | null {
  if (!arn) return null;
  const match = /:task-definition\/(.+)$/.exec(arn);
  return match ? match[1] : arn;
}

function tagRecord(tags: Service['tags']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tag of tags ?? []) {
    if (tag.key !== undefined) out[tag.key] = tag.value ?? '';
  }
  return out;
}

/** Decides a service's health from its counts and its primary deployment. */
export function healthOf(s: {
  status: string; desired: number; running: number; rolloutState: string | null; rolloutReason: string | null; failedTasks: number;
}): HealthVerdict {
  const verdict = (rule: HealthRule, reason: string): HealthVerdict => ({ verdict: HEALTH_RULES[rule].verdict, rule, reason });
  const tasks = `${s.running} of ${s.desired} task${s.desired === 1 ? '' : 's'} running`;
  const rolloutReason = s.rolloutReason?.trim().replace(/\.$/, '');
  const failedRollout = s.rolloutState === 'FAILED' ? `rollout failed${rolloutReason ? `: ${rolloutReason}` : ''}` : undefined;
  if (s.status === 'DRAINING') return verdict('SERVICE_DRAINING', `the service is being deleted; ${tasks}`);
  if (s.desired === 0) return verdict('SCALED_TO_ZERO', 'desired count is 0');
  if (s.running === 0) return verdict('NO_RUNNING_TASKS', failedRollout ? `${tasks}; ${failedRollout}` : tasks);
  if (failedRollout) return verdict('ROLLOUT_FAILED', `${failedRollout}; ${tasks}`);
  if (s.running < s.desired) return verdict('BELOW_DESIRED', s.rolloutState === 'IN_PROGRESS' ? `${tasks}; a deployment is in progress` : tasks);
  if (s.rolloutState === 'IN_PROGRESS' && s.failedTasks > 0) {
    return verdict('TASKS_FAILING', `${s.failedTasks} task(s) of the deployment in progress failed to start; ${tasks}`);
  }
  return verdict('AT_DESIRED', tasks);
}

/**
 * A service as DescribeServices returned it, made into what the API reports. `cluster` is the cluster it was listed
 * in; `clusterTags` are merged under the service's own tags when clusters' tags are inherited.
 */
export function toServiceStatus(service: Service, cluster: string, clusterTags?: Record<string, string>): ServiceStatus {
  const primary = service.deployments?.find((d) => d.status === 'PRIMARY');
  const launch = primary?.launchType ?? service.launchType;
  const strategy = (primary?.capacityProviderStrategy?.length ? primary.capacityProviderStrategy : service.capacityProviderStrategy) ?? [];
  const capacityProviders = launch ? [] : strategy.map((p) => p.capacityProvider).filter((p): p is string => !!p);
  let launchType: LaunchType | null = null;
  if (launch && (LAUNCH_TYPES as readonly string[]).includes(launch)) launchType = launch as LaunchType;
  else if (capacityProviders.length > 0) launchType = capacityProviders.every((p) => FARGATE_PROVIDERS.has(p)) ? 'FARGATE' : 'EC2';

  const status = service.status ?? 'UNKNOWN';
  const desired = service.desiredCount ?? 0;
  const running = service.runningCount ?? 0;
  const rolloutState = primary?.rolloutState ?? null;
  const rolloutReason = primary?.rolloutStateReason ?? null;
  const failedTasks = primary?.failedTasks ?? 0;
  const newest = (service.events ?? []).reduce<{ createdAt?: Date; message?: string } | undefined>(
    (latest, e) => (e.createdAt && (!latest?.createdAt || e.createdAt > latest.createdAt) ? e : latest), undefined);
  const tags = tagRecord(service.tags);
  const inherited = clusterTags
    ? Object.fromEntries(Object.entries(clusterTags).filter(([key]) => !(key in tags)))
    : undefined;

  return {
    cluster,
    name: service.serviceName ?? service.serviceArn?.split('/').pop() ?? 'unknown',
    arn: service.serviceArn ?? '',
    status,
    launchType,
    capacityProviders,
    schedulingStrategy: service.schedulingStrategy ?? null,
    desired,
    running,
    pending: service.pendingCount ?? 0,
    rollout: { state: rolloutState, reason: rolloutReason, updatedAt: iso(primary?.updatedAt) },
    failedTasks,
    taskDefinition: taskDefinitionName(primary?.taskDefinition ?? service.taskDefinition),
    health: healthOf({ status, desired, running, rolloutState, rolloutReason, failedTasks }),
    tags,
    ...(inherited ? { inheritedTags: inherited } : {}),
    lastEventAt: iso(newest?.createdAt),
    lastEvent: newest?.message ?? null,
  };
}

// ------------------------------------------------------------------ filters

/** Which tag keys the `environment`, `owner` and `contact` shortcuts read. */
export interface ShortcutTagKeys {
  readonly environment?: string;
  readonly owner?: string;
  readonly contact?: string;
}
export const SHORTCUTS = ['environment', 'owner', 'contact'] as const;
export type Shortcut = typeof SHORTCUTS[number];

/** One condition on tags: a key (exact, or any case for a shortcut without a configured key) and its accepted values. */
export interface TagCondition {
  /** The parameter it came from, for the answer's `filters`. */
  readonly parameter: string;
  readonly key: string;
  /** Match the key in any letter case (the shortcuts, unless a key is configured). */
  readonly anyCase: boolean;
  /** Accepted values (compared in any letter case); `*` accepts any value of a present tag. */
  readonly values: readonly string[];
}

export interface Filters {
  readonly tags: readonly TagCondition[];
  readonly clusters: readonly string[];
  readonly launchTypes: readonly LaunchType[];
  readonly health: readonly Health[];
  readonly statuses: readonly string[];
  /** Parts of the service name (any case). */
  readonly names: readonly string[];
}

export type Format = 'json' | 'csv';

/** A valid request to `/services`. */
export interface ServicesQuery {
  readonly filters: Filters;
  readonly format: Format;
  /** Services per page; undefined for CSV without `limit` (every row that fits). */
  readonly limit?: number;
  readonly after?: PageKey;
}

/** A parameter the request got wrong, answered with HTTP 400. */
export interface ParameterProblem {
  readonly parameter: string;
  readonly message: string;
  readonly allowed?: readonly string[];
}

export const LIMIT = { default: 500, max: 1000 } as const;
/** The status page reads the list in pages of this many. */
export const PAGE_READ_LIMIT = LIMIT.max;

/** Every parameter `/services` takes besides `tag:<key>`, with what it means (the help document lists them). */
export const PARAMETERS: ReadonlyArray<{ name: string; description: string; values?: readonly string[] }> = [
  { name: 'tag:<key>', description: 'services with this tag; the value in any letter case, or * for any value. Repeat a parameter for either of several values.' },
  { name: 'environment', description: 'shortcut for the environment tag' },
  { name: 'owner', description: 'shortcut for the owner tag' },
  { name: 'contact', description: 'shortcut for the contact tag' },
  { name: 'cluster', description: 'cluster name or ARN' },
  { name: 'name', description: 'part of the service name, in any letter case' },
  { name: 'launchType', description: 'what the service runs on (a capacity provider strategy counts as FARGATE when every provider is Fargate, else EC2)', values: LAUNCH_TYPES },
  { name: 'health', description: 'the health verdict', values: HEALTH_VALUES },
  { name: 'status', description: 'the service status', values: SERVICE_STATUSES },
  { name: 'format', description: 'json (paged) or csv (every matching service unless limit is given)', values: ['json', 'csv'] },
  { name: 'limit', description: `services per page, 1 to ${LIMIT.max} (default ${LIMIT.default})` },
  { name: 'nextToken', description: 'the nextToken of the previous page, with the same filters' },
];

const TAG_KEY_MAX = 128;
const TAG_VALUE_MAX = 256;
const NAME_MAX = 255;

/**
 * Reads the query string of `/services`: every parameter (with each of its values) is checked, and every problem
 * is returned so one 400 names them all.
 */
export function parseServicesQuery(
  params: ReadonlyMap<string, readonly string[]>, shortcutKeys: ShortcutTagKeys = {},
): { query: ServicesQuery; problems: [] } | { query?: undefined; problems: ParameterProblem[] } {
  const problems: ParameterProblem[] = [];
  const tags: TagCondition[] = [];
  const clusters: string[] = [];
  const launchTypes: LaunchType[] = [];
  const health: Health[] = [];
  const statuses: string[] = [];
  const names: string[] = [];
  let format: Format = 'json';
  let limit: number | undefined;
  let token: string | undefined;

  const oneOf = <T extends string>(parameter: string, values: readonly string[], allowed: readonly T[], into: T[]) => {
    for (const value of values) {
      const found = allowed.find((a) => a === value.toUpperCase());
      if (found) into.push(found);
      else problems.push({ parameter, message: `${parameter}=${show(value)} is not one of the allowed values`, allowed });
    }
  };
  const single = (parameter: string, values: readonly string[]): string | undefined => {
    if (values.length > 1) problems.push({ parameter, message: `${parameter} is given ${values.length} times; give it once` });
    return values[values.length - 1];
  };

  for (const [parameter, values] of params) {
    if (parameter.startsWith('tag:')) {
      const key = parameter.slice('tag:'.length);
      if (key.length === 0 || key.length > TAG_KEY_MAX) {
        problems.push({ parameter, message: `${show(parameter)} needs a tag key of 1 to ${TAG_KEY_MAX} characters after "tag:"` });
        continue;
      }
      const condition = tagCondition(parameter, key, false, values, problems);
      if (condition) tags.push(condition);
      continue;
    }
    switch (parameter) {
      case 'environment':
      case 'owner':
      case 'contact': {
        const configured = shortcutKeys[parameter];
        const condition = tagCondition(parameter, configured ?? parameter, configured === undefined, values, problems);
        if (condition) tags.push(condition);
        break;
      }
      case 'cluster':
        for (const value of values) {
          if (value.trim() === '') problems.push({ parameter, message: 'cluster is empty; give a cluster name or ARN' });
          else clusters.push(clusterNameOf(value.trim()));
        }
        break;
      case 'name':
        for (const value of values) {
          if (value.trim() === '' || value.length > NAME_MAX) problems.push({ parameter, message: `name=${show(value)}: give 1 to ${NAME_MAX} characters of a service name` });
          else names.push(value.trim().toLowerCase());
        }
        break;
      case 'launchType':
        oneOf(parameter, values, LAUNCH_TYPES, launchTypes);
        break;
      case 'health':
        oneOf(parameter, values, HEALTH_VALUES, health);
        break;
      case 'status':
        oneOf(parameter, values, SERVICE_STATUSES, statuses);
        break;
      case 'format': {
        const value = single(parameter, values);
        if (value === undefined) break;
        if (value.toLowerCase() === 'json' || value.toLowerCase() === 'csv') format = value.toLowerCase() as Format;
        else problems.push({ parameter, message: `format=${show(value)} is not one of the allowed values`, allowed: ['json', 'csv'] });
        break;
      }
      case 'limit': {
        const value = single(parameter, values);
        if (value === undefined) break;
        const n = /^\d{1,7}$/.test(value) ? Number(value) : NaN;
        if (!Number.isInteger(n) || n < 1 || n > LIMIT.max) problems.push({ parameter, message: `limit=${show(value)}: give a whole number from 1 to ${LIMIT.max}` });
        else limit = n;
        break;
      }
      case 'nextToken':
        token = single(parameter, values);
        break;
      default:
        problems.push({
          parameter,
          message: `unknown parameter ${show(parameter)}`,
          allowed: PARAMETERS.map((p) => p.name),
        });
    }
  }

  const filters: Filters = { tags, clusters, launchTypes, health, statuses, names };
  let after: PageKey | undefined;
  if (token !== undefined) {
    const decoded = decodePageToken(token, filters);
    if ('problem' in decoded) problems.push({ parameter: 'nextToken', message: decoded.problem });
    else after = decoded.after;
  }
  if (problems.length > 0) return { problems };
  return {
    query: { filters, format, limit: limit ?? (format === 'csv' ? undefined : LIMIT.default), after },
    problems: [],
  };
}

function tagCondition(
  parameter: string, key: string, anyCase: boolean, values: readonly string[], problems: ParameterProblem[],
): TagCondition | undefined {
  const bad = values.filter((v) => v.length > TAG_VALUE_MAX);
  if (bad.length > 0) {
    problems.push({ parameter, message: `${parameter}: a tag value has at most ${TAG_VALUE_MAX} characters` });
    return undefined;
  }
  return { parameter, key, anyCase, values: values.map((v) => v.toLowerCase()) };
}

function show(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

/**
 * A service prepared for filtering, paging and writing once, when it enters the cache, so a request served from
 * the cache only compares and concatenates.
 */
export interface PreparedService {
  readonly status: ServiceStatus;
  /** Own tags over the inherited ones. */
  readonly effectiveTags: Readonly<Record<string, string>>;
  /** The same, keys and values in lower case. */
  readonly lowerTags: ReadonlyMap<string, string>;
  readonly lowerName: string;
  /** The sort and page key. */
  readonly key: PageKey;
  /** The service as JSON. */
  readonly json: string;
  /** The service as a CSV row (without the line end), made on first use. */
  csv(): string;
}

export function prepare(status: ServiceStatus): PreparedService {
  const effectiveTags = { ...status.inheritedTags, ...status.tags };
  let row: string | undefined;
  return {
    status,
    effectiveTags,
    lowerTags: new Map(Object.entries(effectiveTags).map(([k, v]) => [k.toLowerCase(), v.toLowerCase()])),
    lowerName: status.name.toLowerCase(),
    key: [status.cluster, status.name],
    json: JSON.stringify(status),
    csv: () => (row ??= csvRow(status)),
  };
}

/** Orders services by cluster, then name: the order of every answer, and of its pages. */
export function compareKeys(a: PageKey, b: PageKey): number {
  return compareText(a[0], b[0]) || compareText(a[1], b[1]);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function tagMatches(service: PreparedService, condition: TagCondition): boolean {
  let value: string | undefined;
  if (condition.anyCase) value = service.lowerTags.get(condition.key.toLowerCase());
  else if (condition.key in service.effectiveTags) value = service.effectiveTags[condition.key].toLowerCase();
  if (value === undefined) return false;
  return condition.values.some((v) => v === '*' || v === value);
}

/** Whether a service passes every filter (each filter: any of its values). */
export function matches(service: PreparedService, filters: Filters): boolean {
  const s = service.status;
  if (filters.clusters.length > 0 && !filters.clusters.includes(s.cluster)) return false;
  if (filters.health.length > 0 && !filters.health.includes(s.health.verdict)) return false;
  if (filters.statuses.length > 0 && !filters.statuses.includes(s.status)) return false;
  if (filters.launchTypes.length > 0 && (s.launchType === null || !filters.launchTypes.includes(s.launchType))) return false;
  if (filters.names.length > 0 && !filters.names.some((n) => service.lowerName.includes(n))) return false;
  return filters.tags.every((condition) => tagMatches(service, condition));
}

// ------------------------------------------------------------------ pages

/** [cluster, service name]: services are ordered by it, and a page starts after the previous page's last key. */
export type PageKey = readonly [string, string];

/** A fingerprint of the filters, so a token is not used with other filters. */
function filterFingerprint(filters: Filters): string {
  const text = JSON.stringify([
    filters.tags.map((t) => [t.key, t.anyCase, [...t.values].sort()]).sort(),
    [...filters.clusters].sort(), [...filters.launchTypes].sort(), [...filters.health].sort(),
    [...filters.statuses].sort(), [...filters.names].sort(),
  ]);
  // Short and stable: a token is a cursor, not a secret.
  return createHash('sha256').update(text).digest('base64url').slice(0, 12);
}

export function encodePageToken(after: PageKey, filters: Filters): string {
  return Buffer.from(JSON.stringify({ v: 1, a: after, f: filterFingerprint(filters) }), 'utf8').toString('base64url');
}

function decodePageToken(token: string, filters: Filters): { after: PageKey } | { problem: string } {
  let parsed: any;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const valid = parsed?.v === 1 && Array.isArray(parsed.a) && parsed.a.length === 2 && parsed.a.every((x: unknown) => typeof x === 'string')
    && typeof parsed.f === 'string';
  if (!valid) return { problem: 'nextToken is not a token this API gave out; pass the nextToken of the previous page as it was' };
  if (parsed.f !== filterFingerprint(filters)) {
    return { problem: 'nextToken was given out for other filters; repeat the filters of the first page with it' };
  }
  return { after: [parsed.a[0], parsed.a[1]] };
}

/** One page of the matching services, in key order, and the token of the next page if any. */
export function selectPage(
  services: readonly PreparedService[], query: ServicesQuery, options: { maxBytes?: number } = {},
): { page: PreparedService[]; total: number; nextToken?: string } {
  const matching = services.filter((s) => matches(s, query.filters));
  const start = query.after ? matching.findIndex((s) => compareKeys(s.key, query.after!) > 0) : 0;
  const rest = start < 0 ? [] : matching.slice(start);
  const byCount = query.limit !== undefined ? rest.slice(0, query.limit) : rest;
  let page = byCount;
  if (options.maxBytes !== undefined) {
    // Stop before the answer outgrows what Lambda can return; the rest comes with the next token.
    let bytes = 0;
    const fit = byCount.findIndex((s) => {
      bytes += (query.format === 'csv' ? s.csv().length : s.json.length) + 1;
      return bytes > options.maxBytes!;
    });
    if (fit >= 0) page = byCount.slice(0, Math.max(1, fit));
  }
  const more = page.length < rest.length;
  return {
    page,
    total: matching.length,
    ...(more && page.length > 0 ? { nextToken: encodePageToken(page[page.length - 1].key, query.filters) } : {}),
  };
}

// ------------------------------------------------------------------ writing

export const CSV_COLUMNS = [
  'cluster', 'service', 'status', 'health', 'healthRule', 'healthReason', 'launchType', 'capacityProviders', 'desired', 'running',
  'pending', 'rolloutState', 'failedTasks', 'taskDefinition', 'lastEventAt', 'tags', 'arn',
] as const;

/**
 * One CSV field (RFC 4180). A field that a spreadsheet would read as a formula (starting with = + - @ or a tab or
 * carriage return) is prefixed with an apostrophe: tag values are written by whoever may tag a service.
 */
export function csvField(value: string | number | null): string {
  let text = value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvRow(s: ServiceStatus): string {
  const tags = Object.entries({ ...s.inheritedTags, ...s.tags }).map(([k, v]) => `${k}=${v}`).join(';');
  return [
    s.cluster, s.name, s.status, s.health.verdict, s.health.rule, s.health.reason, s.launchType, s.capacityProviders.join(';'),
    s.desired, s.running, s.pending, s.rollout.state, s.failedTasks, s.taskDefinition, s.lastEventAt, tags, s.arn,
  ].map(csvField).join(',');
}

export function csvHeader(): string {
  return CSV_COLUMNS.join(',');
}

/** A cluster whose services are not in the answer, and why. */
export interface MissingCluster {
  readonly cluster: string;
  /** What the answer shows: the error's name and HTTP status (`shownError`), never an AWS error's message. */
  readonly error: string;
  /** The whole error, masked (`describeError`), for the function's log only. */
  readonly detail?: string;
}

/** The missing clusters as an answer shows them: each cluster and its `error`, never its `detail`. */
export function shownMissing(missing: readonly MissingCluster[]): Array<{ cluster: string; error: string }> {
  return missing.map(({ cluster, error }) => ({ cluster, error }));
}

/** The filters as the answer echoes them. */
export function describeFilters(filters: Filters): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const t of filters.tags) out[t.parameter] = [...t.values];
  if (filters.clusters.length) out.cluster = [...filters.clusters];
  if (filters.names.length) out.name = [...filters.names];
  if (filters.launchTypes.length) out.launchType = [...filters.launchTypes];
  if (filters.health.length) out.health = [...filters.health];
  if (filters.statuses.length) out.status = [...filters.statuses];
  return out;
}

/**
 * The JSON answer of `/services`, written around the services' prepared JSON (so a cached answer is a concatenation).
 * `generatedAt` is when the oldest of the data was read from ECS.
 */
export function servicesJson(answer: {
  generatedAt: Date;
  clusters: readonly string[];
  missing: readonly MissingCluster[];
  filters: Filters;
  page: readonly PreparedService[];
  total: number;
  nextToken?: string;
}): string {
  const head = {
    generatedAt: answer.generatedAt.toISOString(),
    partial: answer.missing.length > 0,
    clusters: answer.clusters,
    missingClusters: shownMissing(answer.missing),
    filters: describeFilters(answer.filters),
    total: answer.total,
    count: answer.page.length,
    ...(answer.nextToken ? { nextToken: answer.nextToken } : {}),
  };
  const opening = JSON.stringify(head).slice(0, -1);
  return `${opening},"services":[${answer.page.map((s) => s.json).join(',')}]}`;
}

// ------------------------------------------------------------------ help

/** The JSON help document `GET /` gives to anything but a browser. */
export function helpDocument(options: {
  authorization: string; cacheTtlSeconds: number; shortcutKeys: ShortcutTagKeys; inheritClusterTags: boolean;
}) {
  const keyOf = (s: Shortcut) => options.shortcutKeys[s] ?? `${s} (any letter case)`;
  return {
    name: 'ECS status API',
    description: 'What runs where across ECS clusters, and whether it is healthy. Open this URL in a browser for the status page.',
    authorization: options.authorization,
    cacheTtlSeconds: options.cacheTtlSeconds,
    endpoints: [
      { method: 'GET', path: '/', description: 'the status page (Accept: text/html), or this document' },
      { method: 'GET', path: '/services', description: 'every service with its counts, rollout, health verdict and tags, filtered and paged' },
      { method: 'GET', path: '/list', description: 'the same as /services (the original path)' },
    ],
    parameters: PARAMETERS.map((p) => ({
      ...p,
      ...(SHORTCUTS.includes(p.name as Shortcut) ? { description: `${p.description}: tag key ${keyOf(p.name as Shortcut)}` } : {}),
    })),
    filtersCombine: 'every parameter must match (AND); a repeated parameter matches any of its values (OR)',
    inheritClusterTags: options.inheritClusterTags,
    health: Object.entries(HEALTH_RULES).map(([rule, { verdict, description }]) => ({ rule, verdict, description })),
    examples: [
      'services?environment=prod&health=DEGRADED&health=DOWN',
      'services?tag:team=payments&launchType=FARGATE',
      'services?cluster=prod&format=csv',
      'services?limit=100&nextToken=<nextToken of the previous page>',
    ],
    partialAnswers: 'when a cluster cannot be read, the answer leaves it out, lists it in missingClusters and sets partial: true',
  };
}
