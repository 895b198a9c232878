/**
 * EcsAgentMonitor handler: runs on a schedule, checks every ACTIVE container instance of the
 * configured clusters, keeps a count of consecutive failed checks per instance, and has the
 * instance's Auto Scaling group replace it once the count reaches FAIL_AFTER.
 *
 * A run goes in phases: read every cluster and its stored state; decide the outage guard, per cluster and over the
 * whole fleet; update the counts and plan each cluster's replacements; apply the cap across clusters; act; report.
 *
 * In time: the reads end ACT_RESERVE_MS (or a third of the work's time) before the time budget does, so a cluster that does not answer leaves the
 * others time to count and act; no replacement starts once the budget is spent (its count is kept, the next run
 * acts); the metrics and messages have the handler's reserve (RESERVE_MS).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { DescribeContainerInstancesCommand, ECSClient, ListContainerInstancesCommand } from '@aws-sdk/client-ecs';
import type { ScheduledEvent } from 'aws-lambda';
import {
  Assessment, ClusterResult, DetachedOutcome, GroupMembership, InstanceState, MonitorSettings, PlannedStep, ReplacementAction,
  ReplacementPlan, UnknownInstance, applyFleetOutage, assessCluster, capAcrossClusters, dueForReplacement, isEc2InstanceId,
  planReplacements,
} from './core';
import { clusterReport } from './report';
import { createFailureStore, parseFailureStoreConfig } from './store';
import type { DetachedInstance, FailureStore, StoredCluster } from './store/types';
import {
  clientConfig, DESCRIBE_BATCH_MAX, LIST_PAGE_MAX, chunk, describeError, describeInBatches, errorName, lazy, paginate,
  settleWithConcurrency,
} from '../common/aws';
import { BudgetExhausted } from '../common/budget';
import { env, readConfig, readConfigParts } from '../common/config';
import { Invocation, lambdaHandler } from '../common/handler';
import { notifierFromEnv } from '../common/notifier';
import { MetricUnit, logger } from '../common/powertools';

const SERVICE = 'ecs-agent-monitor';
// Every run reads ECS. Auto Scaling is needed only when an instance reaches failAfter, and EC2 only to
// terminate one: their clients load on first use, in chunks of their own.
const ecs = new ECSClient(clientConfig());
const autoscaling = lazy(async () => {
  const sdk = await import('@aws-sdk/client-auto-scaling');
  return { sdk, client: new sdk.AutoScalingClient(clientConfig()) };
});
const ec2 = lazy(async () => {
  const sdk = await import('@aws-sdk/client-ec2');
  return { sdk, client: new sdk.EC2Client(clientConfig()) };
});

const ACTIONS: readonly ReplacementAction[] = ['SET_UNHEALTHY', 'TERMINATE', 'DETACH_AND_TERMINATE', 'NOTIFY_ONLY'];

/** The function's configuration; every part is checked before any is used, so one ConfigError names every bad variable. */
function readSettings() {
  const { store, notifier, c } = readConfigParts({
    store: () => parseFailureStoreConfig(process.env),
    notifier: () => notifierFromEnv({ logger }),
    c: () => readConfig({
      CLUSTERS: env.list({ minItems: 1 }),
      FAIL_AFTER: env.int({ min: 1, max: 100, default: 2 }),
      GRACE_PERIOD_SECONDS: env.int({ min: 0, max: 86_400, default: 600 }),
      ACTION: env.oneOf<ReplacementAction>(ACTIONS, { default: 'SET_UNHEALTHY' }),
      MAX_REPLACEMENTS_PER_RUN: env.int({ min: 1, max: 100, default: 1 }),
      MAX_REPLACEMENTS_PER_RUN_TOTAL: env.int({ min: 1, max: 1000, default: 1 }),
      OUTAGE_THRESHOLD_PERCENT: env.int({ min: 1, max: 99, default: 50 }),
      TREAT_IMPAIRED_AS_FAILED: env.bool({ default: false }),
      TERMINATE_STANDALONE_INSTANCES: env.bool({ default: false }),
      AUTO_SCALING_GROUPS: env.list({ default: [] }),
    }),
  });
  const monitor: MonitorSettings = {
    failAfter: c.FAIL_AFTER,
    gracePeriodMs: c.GRACE_PERIOD_SECONDS * 1000,
    action: c.ACTION,
    maxReplacementsPerRun: c.MAX_REPLACEMENTS_PER_RUN,
    maxReplacementsPerRunTotal: c.MAX_REPLACEMENTS_PER_RUN_TOTAL,
    outageThresholdPercent: c.OUTAGE_THRESHOLD_PERCENT,
    treatImpairedAsFailed: c.TREAT_IMPAIRED_AS_FAILED,
    terminateStandaloneInstances: c.TERMINATE_STANDALONE_INSTANCES,
    allowedGroups: c.AUTO_SCALING_GROUPS.length > 0 ? c.AUTO_SCALING_GROUPS : undefined,
  };
  return { clusters: c.CLUSTERS, monitor, store, notifier };
}
type Settings = ReturnType<typeof readSettings>;

let store: Promise<FailureStore> | undefined;
/** The store, connected once per container; a failed connection is tried again on the next use. */
function failureStore(config: Settings['store']): Promise<FailureStore> {
  store ??= createFailureStore(config).catch((error) => {
    store = undefined;
    throw error;
  });
  return store;
}

export interface RunResult {
  readonly clusters: readonly ClusterResult[];
}

/** Clusters worked on at once; each cluster's calls are themselves batched and paginated. */
const CLUSTER_CONCURRENCY = 3;
/** Time kept from the work for the metrics and one message per cluster. */
const RESERVE_MS = 15_000;
/** Of the work's time, what the reads leave for updating the counts and acting on them (at most a third of it). */
const ACT_RESERVE_MS = 30_000;

/** One cluster through the phases of a run. */
interface ClusterRun {
  readonly cluster: string;
  readonly log: Logger;
  readonly errors: string[];
  failures?: FailureStore;
  stored?: StoredCluster;
  assessment?: Assessment;
  counts: Map<string, number>;
  alreadyCounted: Set<string>;
  plan?: ReplacementPlan;
  done: PlannedStep[];
  detached: DetachedOutcome[];
  /** Set when a step failed so that nothing more is done in the cluster this run. */
  stopped: boolean;
}

export const handler = lambdaHandler({
  service: SERVICE,
  reserveMs: RESERVE_MS,
  config: readSettings,
  run: async (_event: Partial<ScheduledEvent> | undefined, invocation: Invocation<Settings>): Promise<RunResult> => {
    const budget = invocation.budget;
    const settings = invocation.config;
    const { clusters, monitor, notifier } = settings;
    const now = new Date();
    const runs: ClusterRun[] = clusters.map((cluster) => ({
      cluster,
      log: logger.createChild({ persistentLogAttributes: { cluster } }),
      errors: [],
      counts: new Map(),
      alreadyCounted: new Set(),
      done: [],
      detached: [],
      stopped: false,
    }));
    const each = (phase: (run: ClusterRun) => Promise<void>, which = (run: ClusterRun) => !run.stopped) =>
      settleWithConcurrency(runs.filter(which), CLUSTER_CONCURRENCY, async (run) => {
        try {
          await phase(run);
        } catch (error) {
          run.errors.push(describeError(error));
          run.stopped = true;
          run.log.error('could not finish the cluster; nothing more is done in it this run', { error: describeError(error) });
        }
      });

    // 1. Read each cluster and what the store holds for it. A cluster that cannot be read (in time) does nothing more.
    const readBudget = budget.child({ reserveMs: Math.min(ACT_RESERVE_MS, budget.remainingMs() / 3) });
    await readBudget.within(() => each((run) => readCluster(run, settings, now)));
    // 2. The outage guard over the whole fleet: every cluster read counts, each under the threshold or not.
    const read = runs.filter((run) => run.assessment);
    applyFleetOutage(read.map((r) => r.assessment!), read.map((r) => r.stored!.counts), monitor)
      .forEach((assessment, i) => { read[i].assessment = assessment; });
    // 3. Finish instances detached earlier, update the counts, and plan each cluster's replacements.
    await each((run) => finishDetached(run, monitor, now), (run) => run.stored !== undefined && run.stored.detached.length > 0);
    await each((run) => countAndPlan(run, monitor));
    // 4. The cap across clusters, then act.
    const planned = runs.filter((run) => run.plan && !run.stopped);
    capAcrossClusters(planned.map((r) => r.plan!), monitor.maxReplacementsPerRunTotal)
      .forEach((plan, i) => { planned[i].plan = plan; });
    await each((run) => act(run, now, budget), (run) => run.plan !== undefined && !run.stopped);

    // 5. Metrics and one message per cluster.
    const results = runs.map((run): ClusterResult => ({
      cluster: run.cluster,
      assessment: run.assessment,
      plan: run.plan,
      done: run.done,
      detached: run.detached,
      alreadyCounted: [...run.alreadyCounted],
      errors: run.errors,
    }));
    for (const result of results) recordMetrics(result, invocation);
    await invocation.budget.bookkeeping.within(() => settleWithConcurrency(results, CLUSTER_CONCURRENCY, async (result) => {
      const message = clusterReport(result, monitor);
      if (message) await notifier.send(message);
    }));
    return { clusters: results };
  },
});

/** Phase 1: the cluster's instances (any failure here ends the cluster's run before the store is touched) and stored state. */
async function readCluster(run: ClusterRun, settings: Settings, now: Date): Promise<void> {
  const { instances, unknown } = await readInstances(run.cluster, settings.monitor.treatImpairedAsFailed);
  run.failures = await failureStore(settings.store);
  run.stored = await run.failures.load(run.cluster);
  run.assessment = assessCluster(instances, run.stored.counts, settings.monitor, now, unknown);
  for (const u of unknown) run.errors.push(`DescribeContainerInstances could not describe ${u.arn} (${u.reason}): its count is kept, nothing is done to it`);
  run.log.info('checked cluster', {
    checked: run.assessment.checked,
    inGracePeriod: run.assessment.inGracePeriod,
    failing: run.assessment.failing.map((f) => ({ containerInstance: f.arn, ec2InstanceId: f.ec2InstanceId, reason: f.reason })),
    unknown,
    outage: run.assessment.outage,
  });
}

/**
 * Phase 3a: terminate the instances an earlier run detached but could not terminate (termination protection, an
 * error, a timeout). Until one is gone it is reported at error severity every run.
 */
async function finishDetached(run: ClusterRun, monitor: MonitorSettings, now: Date): Promise<void> {
  const records = run.stored!.detached;
  if (monitor.action === 'NOTIFY_ONLY') {
    for (const r of records) run.detached.push({ ...r, outcome: 'left', why: 'the monitor is in dry run (NOTIFY_ONLY) and terminates nothing' });
    return;
  }
  // A record written before a detach that did not happen: the instance is still in its group, and the count will bring it back.
  const groups = await groupsOf(records.map((r) => r.ec2InstanceId));
  const stillInGroup = records.filter((r) => groups.has(r.ec2InstanceId));
  const toTerminate = records.filter((r) => !groups.has(r.ec2InstanceId));
  const forget: string[] = stillInGroup.map((r) => r.ec2InstanceId);
  for (const record of toTerminate) {
    try {
      await terminate(record.ec2InstanceId);
      forget.push(record.ec2InstanceId);
      run.detached.push({ ...record, outcome: 'terminated' });
      run.log.info('terminated an instance detached by an earlier run', { ec2InstanceId: record.ec2InstanceId, group: record.group });
    } catch (error) {
      if (errorName(error) === 'InvalidInstanceID.NotFound') {
        forget.push(record.ec2InstanceId);
        continue;
      }
      const hours = Math.floor((now.getTime() - record.detachedAt.getTime()) / 3_600_000);
      run.detached.push({ ...record, outcome: 'failed', why: describeError(error) });
      run.errors.push(`${record.ec2InstanceId} was detached from ${record.group} ${hours} hour(s) ago and is still not terminated: ${describeError(error)}`);
      run.log.error('could not terminate an instance detached by an earlier run', { ec2InstanceId: record.ec2InstanceId, group: record.group, error: describeError(error) });
    }
  }
  if (forget.length > 0) await run.failures!.forgetDetached(run.cluster, forget);
}

/**
 * Phase 3b: counts and the plan. Stale counts go first: if they cannot be cleared, nothing is incremented or
 * replaced, so a count can never carry over a connected check. During an outage the failing counts are kept
 * (their lifetime moves forward) and not increased.
 */
async function countAndPlan(run: ClusterRun, monitor: MonitorSettings): Promise<void> {
  const assessment = run.assessment!;
  const failures = run.failures!;
  if (assessment.toClear.length > 0) await failures.clear(run.cluster, assessment.toClear);
  if (assessment.outage) {
    run.log.warn('outage guard: too many instances failing at once; counts are kept as they are and nothing is replaced', {
      scope: assessment.outage, failingPercent: assessment.failingPercent,
    });
    if (assessment.toKeep.length > 0) await failures.keep(run.cluster, assessment.toKeep);
    return;
  }
  if (assessment.toIncrement.length > 0) {
    try {
      const { counts, alreadyCounted } = await failures.increment(run.cluster, assessment.toIncrement);
      run.counts = counts;
      run.alreadyCounted = alreadyCounted;
      const unconfirmed = assessment.toIncrement.filter((arn) => !counts.has(arn) && !alreadyCounted.has(arn));
      if (unconfirmed.length > 0) {
        run.errors.push(`failure store: ${unconfirmed.length} count(s) could not be updated; those instances wait for the next run`);
      }
    } catch (error) {
      // Not one count was confirmed: act on none.
      run.errors.push(`failure store: ${describeError(error)}`);
      run.log.error('could not update every failure count; acting only on confirmed ones', { error: describeError(error) });
    }
  }
  // Only instances that reached failAfter need their Auto Scaling group looked up.
  const due = dueForReplacement(assessment.failing, run.counts, monitor);
  const groups = await groupsOf(due.map((d) => d.ec2InstanceId).filter(isEc2InstanceId));
  run.plan = planReplacements(assessment.failing, run.counts, groups, monitor);
}

/** Phase 4: carry out the plan one step at a time; a failed step keeps its count and is retried next run. */
async function act(run: ClusterRun, now: Date, budget: Invocation<Settings>['budget']): Promise<void> {
  for (const step of run.plan!.steps) {
    if (step.kind === 'skip') {
      run.log.warn('not replacing a failing instance', {
        containerInstance: step.instance.arn, ec2InstanceId: step.instance.ec2InstanceId, failures: step.failures, why: step.why,
      });
      continue;
    }
    if (budget.expired() && step.action !== 'NOTIFY_ONLY') {
      // Its count is kept: the next run acts on it.
      const why = new BudgetExhausted(`${step.action} ${step.instance.ec2InstanceId}; its count is kept and the next run acts`).message;
      run.errors.push(why);
      run.log.warn('replacement not started: out of time', { containerInstance: step.instance.arn, ec2InstanceId: step.instance.ec2InstanceId, action: step.action });
      continue;
    }
    try {
      await carryOut(run, step, now);
    } catch (error) {
      run.errors.push(`${step.action} ${step.instance.ec2InstanceId}: ${describeError(error)}`);
      run.log.error('replacement failed', {
        containerInstance: step.instance.arn, ec2InstanceId: step.instance.ec2InstanceId, action: step.action, error: describeError(error),
      });
      continue;
    }
    run.done.push(step);
    run.log.info(step.action === 'NOTIFY_ONLY' ? 'dry run: would replace instance' : 'replacement requested', {
      containerInstance: step.instance.arn,
      ec2InstanceId: step.instance.ec2InstanceId,
      group: step.group,
      action: step.action,
      failures: step.failures,
    });
    // A dry run clears the count just as a replacement does, so it shows what the monitor would do
    // run by run, and an instance that stays down does not hold the per-run cap for ever.
    try {
      await run.failures!.clear(run.cluster, [step.instance.arn]);
    } catch (error) {
      // The replacement was requested; a count left behind at worst repeats the request next run.
      run.errors.push(`failure store: the count of ${step.instance.ec2InstanceId} was not cleared after its replacement: ${describeError(error)}`);
      run.log.error('could not clear the count of a replaced instance', { containerInstance: step.instance.arn, error: describeError(error) });
    }
  }
}

/** The cluster's ACTIVE container instances, and those ECS listed but could not describe (a `failures` entry). */
async function readInstances(cluster: string, withHealth: boolean): Promise<{ instances: InstanceState[]; unknown: UnknownInstance[] }> {
  const arns = await paginate(
    (nextToken) => ecs.send(new ListContainerInstancesCommand({ cluster, status: 'ACTIVE', maxResults: LIST_PAGE_MAX.ListContainerInstances, nextToken })),
    (page) => page.containerInstanceArns,
    (page) => page.nextToken,
  );
  const { items, failures } = await describeInBatches(arns, DESCRIBE_BATCH_MAX.DescribeContainerInstances, async (batch) => {
    const page = await ecs.send(new DescribeContainerInstancesCommand({
      cluster,
      containerInstances: batch,
      include: withHealth ? ['CONTAINER_INSTANCE_HEALTH'] : undefined,
    }));
    return { items: page.containerInstances, failures: page.failures };
  });
  const instances = items
    .filter((i) => i.containerInstanceArn)
    .map((i) => ({
      arn: i.containerInstanceArn!,
      ec2InstanceId: i.ec2InstanceId,
      status: i.status ?? 'UNKNOWN',
      agentConnected: i.agentConnected === true,
      health: i.healthStatus?.overallStatus,
      registeredAt: i.registeredAt,
    }));
  const unknown = failures
    .filter((f) => f.arn)
    .map((f) => ({ arn: f.arn!, reason: [f.reason, f.detail].filter(Boolean).join(': ') || 'unknown failure' }));
  return { instances, unknown };
}

async function groupsOf(instanceIds: readonly string[]): Promise<Map<string, GroupMembership>> {
  const groups = new Map<string, GroupMembership>();
  if (instanceIds.length === 0) return groups;
  const { sdk, client } = await autoscaling();
  for (const batch of chunk(instanceIds, DESCRIBE_BATCH_MAX.DescribeAutoScalingInstances)) {
    const found = await paginate(
      (NextToken) => client.send(new sdk.DescribeAutoScalingInstancesCommand({ InstanceIds: batch, MaxRecords: batch.length, NextToken })),
      (page) => page.AutoScalingInstances,
      (page) => page.NextToken,
    );
    for (const i of found) {
      if (i.InstanceId && i.AutoScalingGroupName) {
        groups.set(i.InstanceId, { groupName: i.AutoScalingGroupName, lifecycleState: i.LifecycleState ?? 'Unknown', healthStatus: i.HealthStatus });
      }
    }
  }
  return groups;
}

/** EC2 TerminateInstances of one instance (idempotent: an instance already terminating or terminated is fine). */
async function terminate(InstanceId: string): Promise<void> {
  const { sdk, client } = await ec2();
  await client.send(new sdk.TerminateInstancesCommand({ InstanceIds: [InstanceId] }));
}

async function carryOut(run: ClusterRun, step: Extract<PlannedStep, { kind: 'replace' }>, now: Date): Promise<void> {
  const InstanceId = step.instance.ec2InstanceId!;
  if (step.action === 'NOTIFY_ONLY') return;
  if (!step.group) return terminate(InstanceId); // a standalone instance can only be terminated
  const { sdk, client } = await autoscaling();
  switch (step.action) {
    case 'SET_UNHEALTHY':
      await client.send(new sdk.SetInstanceHealthCommand({ InstanceId, HealthStatus: 'Unhealthy', ShouldRespectGracePeriod: false }));
      return;
    case 'TERMINATE':
      await client.send(new sdk.TerminateInstanceInAutoScalingGroupCommand({ InstanceId, ShouldDecrementDesiredCapacity: false }));
      return;
    case 'DETACH_AND_TERMINATE': {
      // Remembered before the detach, so an instance detached but not terminated (termination protection, an error,
      // a timeout) is terminated by a later run instead of running on outside any group, unseen.
      const record: DetachedInstance = { ec2InstanceId: InstanceId, group: step.group, detachedAt: now };
      await run.failures!.rememberDetached(run.cluster, record);
      await client.send(new sdk.DetachInstancesCommand({
        AutoScalingGroupName: step.group,
        InstanceIds: [InstanceId],
        ShouldDecrementDesiredCapacity: false,
      }));
      try {
        await terminate(InstanceId);
      } catch (error) {
        run.detached.push({ ...record, outcome: 'failed', why: describeError(error) });
        throw new Error(`detached from ${step.group}, but not terminated: ${describeError(error)}; `
          + 'the monitor tries again on every run and reports it until it is gone', { cause: error });
      }
      try {
        await run.failures!.forgetDetached(run.cluster, [InstanceId]);
      } catch (error) {
        // Terminated: the next run finds it gone and forgets it then.
        run.errors.push(`failure store: ${InstanceId} is terminated, but not yet forgotten as detached: ${describeError(error)}`);
      }
      return;
    }
  }
}

function recordMetrics(result: ClusterResult, invocation: Invocation<Settings>): void {
  const metric = invocation.metrics({ ClusterName: result.cluster });
  // A cluster that could not be read has no count to report: leave the metric out rather than publish 0.
  if (result.assessment) metric.addMetric('DisconnectedAgents', MetricUnit.Count, result.assessment.failing.length);
  metric.addMetric('ReplacementsRequested', MetricUnit.Count, result.done.filter((s) => s.kind === 'replace' && s.action !== 'NOTIFY_ONLY').length);
  metric.addMetric('OutageGuardTrips', MetricUnit.Count, result.assessment?.outage ? 1 : 0);
  metric.addMetric('Errors', MetricUnit.Count, result.errors.length);
}
