/**
 * EcsAgentUpdater handler: on a schedule, reads every cluster (or the configured ones), leaves unhealthy clusters
 * alone, and asks ECS to update container agents one healthy cluster at a time, never more than
 * MAX_CONCURRENT_UPDATES in flight per cluster. Reports per cluster only what changed.
 *
 * A run: (1) read the last scheduled event run (a late or duplicate delivery stops here) and what earlier runs
 * remembered, (2) find the clusters and their tags, (3) read every cluster's instances, (4) update, cluster by
 * cluster, sharing what ECS answered about each agent version, (5) with REPORT_AMI_DRIFT, compare AMIs with the
 * groups' launch templates, (6) log, publish metrics, notify, and remember (with this event as the last one run).
 *
 * Steps 1 to 5 run under the invocation's time budget: once it is spent no cluster starts its updates (each says
 * "not done: out of time", and the next run takes them up), and no call is retried past it. Step 6 has the
 * handler's reserve (RESERVE_MS): the messages first, then the state, which always keeps SAVE_RESERVE_MS.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  ECSClient,
  ListClustersCommand,
  ListContainerInstancesCommand,
  UpdateContainerAgentCommand,
} from '@aws-sdk/client-ecs';
import {
  AgentCounts, InstanceState, UpdateOutcome, UpdaterSettings, Verdicts, assessCluster, hasSkipTag, newestVersion,
  rollCluster, summarize, unsupportedPlatform,
} from './core';
import { ClusterRun, clusterReport, describeCounts, nextConditions, undelivered, unsupportedForLog } from './report';
import { StateTable, StoredCluster } from './state';
import {
  clientConfig, DESCRIBE_BATCH_MAX, LIST_PAGE_MAX, describeError, describeInBatches, errorName, lazy, paginate,
  settleWithConcurrency,
} from '../common/aws';
import { BudgetExhausted, MIN_CALL_MS, currentBudget, isOutOfTime } from '../common/budget';
import { env, readConfig, readConfigParts } from '../common/config';
import { Invocation, lambdaHandler } from '../common/handler';
import { notifierFromEnv } from '../common/notifier';
import { MetricUnit, logger } from '../common/powertools';

const SERVICE = 'ecs-agent-updater';
// Every run reads ECS and the state table. Auto Scaling and EC2 are needed only for the AMI drift report: they
// load with it, on first use, in a chunk of their own.
const ecs = new ECSClient(clientConfig());
const dynamodb = new DynamoDBClient(clientConfig());
const drift = lazy(() => import('./drift'));

/** Clusters read at once; each cluster's calls are themselves paginated and batched. */
const CLUSTER_CONCURRENCY = 3;
/** Attempts of one UpdateContainerAgent call while ECS throttles it (after the SDK's own retries). */
const THROTTLE_ATTEMPTS = 4;
const THROTTLE_BASE_DELAY_MS = 250;
const THROTTLING = ['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded'];
/** Time kept from the work for the reports (metrics and messages) and the state. */
const RESERVE_MS = 20_000;
/** Of the reserve, what the messages leave for saving the state. */
const SAVE_RESERVE_MS = 8_000;
/** What a cluster whose updates did not start for lack of time says. */
const OUT_OF_TIME = new BudgetExhausted('no update was asked for in this cluster; the next run does it').message;

function readSettings() {
  const { notifier, c } = readConfigParts({
    notifier: () => notifierFromEnv({ logger }),
    c: () => readConfig({
      CLUSTERS: env.list({ default: [] }),
      MAX_CONCURRENT_UPDATES: env.int({ min: 1, max: 100, default: 1 }),
      SKIP_TAG_KEY: env.string({ default: 'ecs-ops:agent-updates' }),
      SKIP_TAG_VALUE: env.optionalString(),
      DRY_RUN: env.bool({ default: false }),
      REPORT_AMI_DRIFT: env.bool({ default: false }),
      STATE_TABLE_NAME: env.string(),
      STATE_TTL_SECONDS: env.int({ min: 3600, max: 366 * 86_400, default: 7 * 86_400 }),
    }),
  });
  const settings: UpdaterSettings = {
    maxConcurrentUpdates: c.MAX_CONCURRENT_UPDATES,
    skipTag: { key: c.SKIP_TAG_KEY, value: c.SKIP_TAG_VALUE },
    dryRun: c.DRY_RUN,
  };
  return {
    clusters: c.CLUSTERS,
    settings,
    reportAmiDrift: c.REPORT_AMI_DRIFT,
    state: new StateTable(dynamodb, c.STATE_TABLE_NAME, c.STATE_TTL_SECONDS),
    notifier,
  };
}
type Config = ReturnType<typeof readSettings>;

/** One cluster's run, as the handler returns it (compact: the instances are in the logs). */
export interface ClusterOutcome {
  readonly cluster: string;
  /** Why the cluster was not read (its skip tag, or it is not ACTIVE). */
  readonly leftAlone?: string;
  readonly healthy?: boolean;
  readonly counts?: AgentCounts;
  /** Container instance ARNs whose update ECS accepted this run. */
  readonly requested: readonly string[];
  /** Dry run: container instance ARNs whose update would be asked for. */
  readonly wouldUpdate: readonly string[];
  /** What makes the cluster unhealthy. */
  readonly problems: ReadonlyArray<{ readonly containerInstance: string; readonly kind: string }>;
  /** Not updatable instances by reason. */
  readonly unsupported: Readonly<Record<string, number>>;
  /** Why nothing (more) was asked for although candidates remain. */
  readonly held?: string;
  readonly drift: ReadonlyArray<{ readonly group: string; readonly expected: readonly string[]; readonly instances: readonly string[] }>;
  readonly errors: readonly string[];
  /** The title of the message sent for this run, if one was. */
  readonly reported?: string;
}

export interface RunResult {
  /** Set when the run did nothing: a duplicate or late delivery of a scheduled event. */
  readonly skipped?: string;
  readonly dryRun: boolean;
  readonly clusters: readonly ClusterOutcome[];
}

/** The parts of an EventBridge scheduled event the run uses. */
interface ScheduleEvent {
  readonly 'id'?: string;
  readonly 'time'?: string;
  readonly 'source'?: string;
  readonly 'detail-type'?: string;
}

export const handler = lambdaHandler({
  service: SERVICE,
  reserveMs: RESERVE_MS,
  config: readSettings,
  run: async (event: ScheduleEvent | undefined, invocation: Invocation<Config>): Promise<RunResult> => {
    const config = invocation.config;
    const { settings } = config;
    const nowSeconds = Math.floor(Date.now() / 1000);

    // 1. At most one run per scheduled event, and none for an event older than the last one run (what was remembered
    //    about the configured clusters comes in the same read).
    const eventTime = scheduled(event) ? Date.parse(event!.time!) : undefined;
    const loaded = await config.state.load(config.clusters, nowSeconds, true);
    if (eventTime !== undefined && loaded.lastRun && loaded.lastRun.eventTime >= eventTime) {
      logger.warn('a run was already made for this scheduled event or a later one (a duplicate or late delivery); doing nothing', {
        eventId: event!.id,
        eventTime: event!.time,
        lastRun: { eventId: loaded.lastRun.eventId, eventTime: new Date(loaded.lastRun.eventTime).toISOString() },
      });
      invocation.metrics().addMetric('DuplicateDeliveries', MetricUnit.Count, 1);
      return { skipped: 'duplicate or late delivery of a scheduled event', dryRun: settings.dryRun, clusters: [] };
    }
    if (eventTime === undefined) logger.info('not a scheduled event (a manual run): running without the duplicate delivery check');

    // 2. The clusters, their status and tags (and, when none are configured, what earlier runs remembered about them).
    const clusters = await clustersToCheck(config);
    const stored = config.clusters.length > 0 ? loaded.clusters : (await config.state.load(clusters.map((c) => c.name), nowSeconds)).clusters;

    // 3. Read every cluster that is not left alone.
    const reads = await settleWithConcurrency(clusters, CLUSTER_CONCURRENCY, async (c) => (c.leftAlone || c.error ? [] : readInstances(c.name)));
    const runs: ClusterRun[] = [];
    const instancesOf = new Map<string, InstanceState[]>();
    clusters.forEach((c, i) => {
      const read = reads[i];
      if (c.leftAlone) runs.push({ cluster: c.name, leftAlone: c.leftAlone, errors: [] });
      else if (c.error) runs.push({ cluster: c.name, errors: [c.error] });
      else if (read.status === 'rejected') runs.push({ cluster: c.name, errors: [describeError(read.reason)] });
      else instancesOf.set(c.name, read.value);
    });

    // 4. Update, one cluster after another, sharing what ECS said about each version.
    const supported = [...instancesOf.values()].flat().filter((i) => i.status === 'ACTIVE' && !unsupportedPlatform(i));
    const newestSeen = newestVersion(supported);
    const verdicts: Verdicts = new Map();
    const rolled: Array<ClusterRun & { instances: InstanceState[] }> = [];
    for (const [cluster, instances] of instancesOf) {
      const assessment = assessCluster(instances, stored.get(cluster)?.conditions ?? {}, settings, nowSeconds);
      if (invocation.budget.expired() && !settings.dryRun) {
        // The time is spent: nothing is asked in this cluster, and it says so (its counts still go out).
        logger.warn('not done: out of time; no update is asked for in this cluster this run', { cluster });
        const roll = { requested: [], wouldUpdate: [], alreadyUpdating: [], missingVersion: [], calls: [], held: OUT_OF_TIME };
        rolled.push({ cluster, assessment, roll, errors: [OUT_OF_TIME], instances });
        continue;
      }
      const roll = await rollCluster(assessment, verdicts, settings, newestSeen, (instance) => updateAgent(cluster, instance));
      rolled.push({ cluster, assessment, roll, errors: roll.error ? [roll.error.error] : [], instances });
    }
    // The summaries use every verdict of the run, so a version answered in a later cluster counts in earlier ones.
    for (const run of rolled) runs.push({ ...run, summary: summarize(run.assessment!, run.roll, verdicts, newestSeen) });

    // 5. AMI drift, after the updates: a failure here holds no update back.
    if (config.reportAmiDrift) await addDrift(runs, rolled);

    // 6. Report, remember: with the reserve, the messages leaving SAVE_RESERVE_MS for the state.
    const ordered = clusters.map((c) => runs.find((r) => r.cluster === c.name)!);
    publishFleetMetrics(ordered, invocation);
    const reporting = invocation.budget.bookkeeping.child({ reserveMs: SAVE_RESERVE_MS });
    const outcomes = await reporting.within(() => settleWithConcurrency(ordered, CLUSTER_CONCURRENCY,
      (run) => report(run, stored.get(run.cluster)!, config, invocation, nowSeconds)));
    const toSave = outcomes.map((o, i) => (o.status === 'fulfilled'
      ? o.value.remember
      : { cluster: ordered[i].cluster, conditions: stored.get(ordered[i].cluster)!.conditions }));
    const lastRun = eventTime !== undefined ? { eventId: event!.id!, eventTime } : undefined;
    const written = await invocation.budget.bookkeeping.within(() => config.state.save(toSave, stored, nowSeconds, lastRun));
    logger.debug('state saved', { clusters: written });

    return {
      dryRun: settings.dryRun,
      clusters: ordered.map((run, i) => outcome(run, outcomes[i].status === 'fulfilled' ? (outcomes[i] as PromiseFulfilledResult<Reported>).value.title : undefined)),
    };
  },
});

/** Whether the event is a scheduled event that can be told from a duplicate: it has an id and a time. */
function scheduled(event: ScheduleEvent | undefined): boolean {
  return event?.['detail-type'] === 'Scheduled Event' && typeof event.id === 'string' && typeof event.time === 'string'
    && !Number.isNaN(Date.parse(event.time));
}

interface ClusterToCheck {
  readonly name: string;
  readonly leftAlone?: string;
  readonly error?: string;
}

/** The configured clusters, or every cluster of the account and region; with their status and tags. */
async function clustersToCheck(config: Config): Promise<ClusterToCheck[]> {
  const names = config.clusters.length > 0
    ? config.clusters
    : (await paginate(
      (nextToken) => ecs.send(new ListClustersCommand({ maxResults: LIST_PAGE_MAX.ListClusters, nextToken })),
      (page) => page.clusterArns,
      (page) => page.nextToken,
    )).map((arn) => arn.slice(arn.indexOf(':cluster/') + ':cluster/'.length)).sort();
  const { items, failures } = await describeInBatches(names, DESCRIBE_BATCH_MAX.DescribeClusters, async (batch) => {
    const out = await ecs.send(new DescribeClustersCommand({ clusters: batch, include: ['TAGS'] }));
    return { items: out.clusters, failures: out.failures };
  });
  return names.map((name): ClusterToCheck => {
    const cluster = items.find((c) => c.clusterName === name);
    if (!cluster) {
      const failure = failures.find((f) => f.arn?.endsWith(`:cluster/${name}`));
      return { name, error: `DescribeClusters: ${failure?.reason ?? 'MISSING'}${failure?.detail ? ` (${failure.detail})` : ''}: cluster ${name} was not found` };
    }
    const tags = Object.fromEntries((cluster.tags ?? []).filter((t) => t.key).map((t) => [t.key!, t.value ?? '']));
    if (cluster.status !== 'ACTIVE') return { name, leftAlone: `its status is ${cluster.status}` };
    if (hasSkipTag(tags, config.settings.skipTag)) return { name, leftAlone: `it has the tag ${tagText(config.settings.skipTag)}` };
    return { name };
  });
}

function tagText(tag: UpdaterSettings['skipTag']): string {
  return tag.value === undefined ? tag.key : `${tag.key}=${tag.value}`;
}

/** Every container instance of a cluster but the INACTIVE ones: 100 a page, described 100 at a time, with tags. */
async function readInstances(cluster: string): Promise<InstanceState[]> {
  const arns = await paginate(
    (nextToken) => ecs.send(new ListContainerInstancesCommand({ cluster, maxResults: LIST_PAGE_MAX.ListContainerInstances, nextToken })),
    (page) => page.containerInstanceArns,
    (page) => page.nextToken,
  );
  const { items } = await describeInBatches(arns, DESCRIBE_BATCH_MAX.DescribeContainerInstances, async (batch) => {
    const out = await ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: batch, include: ['TAGS'] }));
    return { items: out.containerInstances, failures: out.failures };
  });
  return items.filter((i) => i.containerInstanceArn).map((i): InstanceState => ({
    arn: i.containerInstanceArn!,
    id: i.containerInstanceArn!.slice(i.containerInstanceArn!.lastIndexOf('/') + 1),
    ec2InstanceId: i.ec2InstanceId,
    status: i.status ?? 'UNKNOWN',
    agentConnected: i.agentConnected === true,
    agentUpdateStatus: i.agentUpdateStatus,
    agentVersion: i.versionInfo?.agentVersion || undefined,
    agentHash: i.versionInfo?.agentHash || undefined,
    dockerVersion: i.versionInfo?.dockerVersion?.replace(/^DockerVersion:\s*/, '') || undefined,
    attributes: Object.fromEntries((i.attributes ?? []).filter((a) => a.name).map((a) => [a.name!, a.value ?? ''])),
    tags: Object.fromEntries((i.tags ?? []).filter((t) => t.key).map((t) => [t.key!, t.value ?? ''])),
    registeredAt: i.registeredAt,
  }));
}

/** One UpdateContainerAgent call, with throttling retried; every ECS answer the updater expects is an outcome. */
async function updateAgent(cluster: string, instance: InstanceState): Promise<UpdateOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      await ecs.send(new UpdateContainerAgentCommand({ cluster, containerInstance: instance.arn }));
      return { kind: 'accepted' };
    } catch (error) {
      switch (errorName(error)) {
        case 'NoUpdateAvailableException': return { kind: 'no-update' };
        case 'UpdateInProgressException': return { kind: 'in-progress' };
        case 'MissingVersionException': return { kind: 'missing-version' };
      }
      const throttled = THROTTLING.includes(errorName(error)) || (error as { $retryable?: { throttling?: boolean } }).$retryable?.throttling === true;
      const delay = Math.random() * THROTTLE_BASE_DELAY_MS * 2 ** attempt;
      // No retry the time budget has no room for (nor one it already stopped).
      if (throttled && attempt < THROTTLE_ATTEMPTS && !isOutOfTime(error) && (currentBudget()?.hasTimeFor(delay + MIN_CALL_MS) ?? true)) {
        logger.warn('UpdateContainerAgent throttled; retrying', { cluster, containerInstance: instance.arn, attempt });
        await new Promise((resolve) => setTimeout(resolve, delay));
        continue;
      }
      return { kind: 'error', error: `UpdateContainerAgent ${instance.ec2InstanceId ?? instance.id}: ${describeError(error)}` };
    }
  }
}

/** Adds each cluster's AMI drift; an error is each cluster's error, and stops nothing else. */
async function addDrift(runs: ClusterRun[], rolled: ReadonlyArray<{ cluster: string; instances: InstanceState[] }>): Promise<void> {
  const checked = rolled.map((r) => ({
    cluster: r.cluster,
    instances: r.instances.filter((i) => i.status === 'ACTIVE' && i.ec2InstanceId?.startsWith('i-') && i.attributes['ecs.ami-id']),
  }));
  const ids = new Set(checked.flatMap((c) => c.instances.map((i) => i.ec2InstanceId!)));
  if (ids.size === 0) return;
  try {
    const module = await drift();
    const { groupOf, images } = await module.readGroupImages(ids);
    for (const c of checked) {
      const index = runs.findIndex((r) => r.cluster === c.cluster);
      runs[index] = { ...runs[index], drift: module.findDrift(c.instances, groupOf, images) };
    }
  } catch (error) {
    const message = `AMI drift check: ${describeError(error)}`;
    logger.error('could not check AMI drift; nothing else is affected', { error: describeError(error) });
    for (const c of checked) {
      const index = runs.findIndex((r) => r.cluster === c.cluster);
      runs[index] = { ...runs[index], errors: [...runs[index].errors, message] };
    }
  }
}

interface Reported {
  readonly remember: { readonly cluster: string; readonly conditions: Record<string, number> };
  readonly title?: string;
}

/** Logs the cluster's summary, publishes its metrics, sends its message if something changed, and says what to remember. */
async function report(run: ClusterRun, stored: StoredCluster, config: Config, invocation: Invocation<Config>, nowSeconds: number): Promise<Reported> {
  const { settings } = config;
  const log = logger.createChild({ persistentLogAttributes: { cluster: run.cluster } });
  const next = nextConditions(run, stored.conditions, nowSeconds, settings.dryRun);
  const { assessment, roll, summary } = run;

  if (run.leftAlone) log.info('cluster left alone', { why: run.leftAlone });
  if (assessment && summary) {
    log.info('cluster summary', {
      dryRun: settings.dryRun,
      healthy: assessment.healthy,
      ...summary.counts,
      agentVersions: summary.agentVersions,
      dockerVersions: summary.dockerVersions,
      inFlight: assessment.inFlight.map((f) => ({
        containerInstance: f.instance.arn, ec2InstanceId: f.instance.ec2InstanceId, status: f.instance.agentUpdateStatus,
      })),
      requested: roll?.requested.map((i) => ({ containerInstance: i.arn, ec2InstanceId: i.ec2InstanceId, agentVersion: i.agentVersion })) ?? [],
      wouldUpdate: roll?.wouldUpdate.map((i) => i.ec2InstanceId ?? i.id) ?? [],
      calls: roll?.calls.map((c) => ({
        ec2InstanceId: c.instance.ec2InstanceId, agentVersion: c.instance.agentVersion, outcome: c.outcome.kind,
      })) ?? [],
      held: roll?.held,
      unsupported: unsupportedForLog(summary.unsupported),
    });
    if (!assessment.healthy) {
      // A warning when the cluster turns unhealthy; while it stays so, each run says so at INFO.
      log[stored.conditions.unhealthy === undefined ? 'warn' : 'info']('cluster unhealthy: no agent is updated in it this run', {
        problems: assessment.problems.map((p) => ({ containerInstance: p.instance.arn, ec2InstanceId: p.instance.ec2InstanceId, kind: p.kind })),
      });
    }
    const metric = invocation.metrics({ ClusterName: run.cluster });
    metric.addMetric('Instances', MetricUnit.Count, summary.counts.instances);
    metric.addMetric('UpToDateAgents', MetricUnit.Count, summary.counts.upToDate);
    metric.addMetric('UpdatingAgents', MetricUnit.Count, summary.counts.updating);
    metric.addMetric('OutdatedAgents', MetricUnit.Count, summary.counts.outdated);
    metric.addMetric('UnsupportedAgents', MetricUnit.Count, summary.counts.unsupported);
    metric.addMetric('UpdatesRequested', MetricUnit.Count, roll?.requested.length ?? 0);
  }
  for (const error of run.errors) log.error('error in this cluster', { error });
  if (!run.leftAlone) invocation.metrics({ ClusterName: run.cluster }).addMetric('Errors', MetricUnit.Count, run.errors.length);

  const message = clusterReport(run, stored.conditions, next, settings.dryRun);
  if (!message) return { remember: { cluster: run.cluster, conditions: next } };
  // Reported once: the log has it even without notification channels.
  const text = (message.sections ?? []).map((s) => `${s.heading ? `${s.heading}:\n` : ''}${s.text}`).join('\n');
  const level = message.severity === 'error' || message.severity === 'warning' ? 'warn' : 'info';
  log[level]('report', { title: message.title, severity: message.severity, agents: summary ? describeCounts(summary.counts) : undefined, text });
  const results = await config.notifier.send(message);
  const delivered = results.length === 0 || results.some((r) => r.ok);
  if (!delivered) log.error('the report reached no channel; it is sent again next run', { title: message.title });
  return { remember: { cluster: run.cluster, conditions: delivered ? next : undelivered(stored.conditions, next) }, title: message.title };
}

/** Totals over every cluster (no cluster dimension): what account-wide metrics and alarms read. */
function publishFleetMetrics(runs: readonly ClusterRun[], invocation: Invocation<Config>): void {
  const fleet = invocation.metrics();
  const sum = (f: (run: ClusterRun) => number) => runs.reduce((n, run) => n + f(run), 0);
  fleet.addMetric('OutdatedAgents', MetricUnit.Count, sum((r) => r.summary?.counts.outdated ?? 0));
  fleet.addMetric('UpdatesRequested', MetricUnit.Count, sum((r) => r.roll?.requested.length ?? 0));
  fleet.addMetric('UnhealthyClusters', MetricUnit.Count, sum((r) => (r.assessment && !r.assessment.healthy ? 1 : 0)));
  fleet.addMetric('Errors', MetricUnit.Count, sum((r) => r.errors.length));
  const versions = new Map<string, Map<string, number>>([['AgentVersion', new Map()], ['DockerVersion', new Map()]]);
  for (const run of runs) {
    for (const [v, n] of Object.entries(run.summary?.agentVersions ?? {})) versions.get('AgentVersion')!.set(v, (versions.get('AgentVersion')!.get(v) ?? 0) + n);
    for (const [v, n] of Object.entries(run.summary?.dockerVersions ?? {})) versions.get('DockerVersion')!.set(v, (versions.get('DockerVersion')!.get(v) ?? 0) + n);
  }
  for (const [dimension, counts] of versions) {
    for (const [version, n] of counts) invocation.metrics({ [dimension]: version }).addMetric(`${dimension}Instances`, MetricUnit.Count, n);
  }
  if (runs.some((r) => r.drift)) {
    fleet.addMetric('AmiDriftInstances', MetricUnit.Count, sum((r) => (r.drift?.drift ?? []).reduce((n, d) => n + d.instances.length, 0)));
  }
}

function outcome(run: ClusterRun, reported: string | undefined): ClusterOutcome {
  const unsupported: Record<string, number> = {};
  for (const [reason, list] of run.summary?.unsupported ?? []) unsupported[reason] = list.length;
  return {
    cluster: run.cluster,
    ...(run.leftAlone ? { leftAlone: run.leftAlone } : {}),
    ...(run.assessment ? { healthy: run.assessment.healthy } : {}),
    ...(run.summary ? { counts: run.summary.counts } : {}),
    requested: run.roll?.requested.map((i) => i.arn) ?? [],
    wouldUpdate: run.roll?.wouldUpdate.map((i) => i.arn) ?? [],
    problems: run.assessment?.problems.map((p) => ({ containerInstance: p.instance.arn, kind: p.kind })) ?? [],
    unsupported,
    ...(run.roll?.held ? { held: run.roll.held } : {}),
    drift: (run.drift?.drift ?? []).map((d) => ({
      group: d.group, expected: d.expected, instances: d.instances.map((i) => i.instance.ec2InstanceId!),
    })),
    errors: run.errors,
    ...(reported ? { reported } : {}),
  };
}

