/**
 * EcsAgentMonitor handler: runs on a schedule, checks every ACTIVE container instance of the
 * configured clusters, keeps a count of consecutive failed checks per instance, and has the
 * instance's Auto Scaling group replace it once the count reaches FAIL_AFTER.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { DescribeContainerInstancesCommand, ECSClient, ListContainerInstancesCommand } from '@aws-sdk/client-ecs';
import type { ScheduledEvent } from 'aws-lambda';
import {
  Assessment, ClusterResult, GroupMembership, InstanceState, MonitorSettings, PlannedStep, ReplacementAction,
  assessCluster, dueForReplacement, planReplacements,
} from './core';
import { clusterReport } from './report';
import { createFailureStore, parseFailureStoreConfig } from './store';
import type { FailureStore } from './store/types';
import {
  CLIENT_CONFIG, DESCRIBE_BATCH_MAX, LIST_PAGE_MAX, chunk, describeError, describeInBatches, lazy, paginate, settleWithConcurrency,
} from '../common/aws';
import { env, readConfig, readConfigParts } from '../common/config';
import { Invocation, lambdaHandler } from '../common/handler';
import { notifierFromEnv } from '../common/notifier';
import { MetricUnit, logger } from '../common/powertools';

const SERVICE = 'ecs-agent-monitor';
// Every run reads ECS. Auto Scaling is needed only when an instance reaches failAfter, and EC2 only to
// terminate one: their clients load on first use, in chunks of their own.
const ecs = new ECSClient(CLIENT_CONFIG);
const autoscaling = lazy(async () => {
  const sdk = await import('@aws-sdk/client-auto-scaling');
  return { sdk, client: new sdk.AutoScalingClient(CLIENT_CONFIG) };
});
const ec2 = lazy(async () => {
  const sdk = await import('@aws-sdk/client-ec2');
  return { sdk, client: new sdk.EC2Client(CLIENT_CONFIG) };
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
      OUTAGE_THRESHOLD_PERCENT: env.int({ min: 1, max: 100, default: 50 }),
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

/** Clusters checked at once; each cluster's calls are themselves batched and paginated. */
const CLUSTER_CONCURRENCY = 3;

export const handler = lambdaHandler({
  service: SERVICE,
  config: readSettings,
  run: async (_event: Partial<ScheduledEvent> | undefined, invocation: Invocation<Settings>): Promise<RunResult> => {
    const { clusters, monitor, notifier } = invocation.config;
    const now = new Date();
    const outcomes = await settleWithConcurrency(clusters, CLUSTER_CONCURRENCY,
      (cluster) => checkCluster(cluster, invocation.config, now));
    const results = outcomes.map((outcome, i): ClusterResult => outcome.status === 'fulfilled'
      ? outcome.value
      : { cluster: clusters[i], done: [], errors: [describeError(outcome.reason)] });

    await settleWithConcurrency(results, CLUSTER_CONCURRENCY, async (result) => {
      recordMetrics(result, invocation);
      const message = clusterReport(result, monitor);
      if (message) await notifier.send(message, { remainingTimeMs: invocation.remainingTimeMs() });
    });
    return { clusters: results };
  },
});

async function checkCluster(cluster: string, settings: Settings, now: Date): Promise<ClusterResult> {
  const { monitor } = settings;
  const log = logger.createChild({ persistentLogAttributes: { cluster } });
  const errors: string[] = [];

  // 1. Read the cluster. Any failure here ends this cluster's run before the store is touched.
  const instances = await readInstances(cluster, monitor.treatImpairedAsFailed);
  const failures = await failureStore(settings.store);
  const stored = await failures.load(cluster);
  const assessment = assessCluster(instances, stored, monitor, now);
  log.info('checked cluster', {
    checked: assessment.checked,
    inGracePeriod: assessment.inGracePeriod,
    failing: assessment.failing.map((f) => ({ containerInstance: f.arn, ec2InstanceId: f.ec2InstanceId, reason: f.reason })),
    outage: assessment.outage,
  });

  // From here on a failure keeps what the check found (metrics and the message still show the failing
  // instances) and records the error; what is not confirmed is not acted on.
  try {
    return await actOn(cluster, assessment, failures, monitor, errors, log);
  } catch (error) {
    errors.push(describeError(error));
    log.error('could not finish the cluster; nothing more is done in it this run', { error: describeError(error) });
    return { cluster, assessment, done: [], errors };
  }
}

async function actOn(
  cluster: string, assessment: Assessment, failures: FailureStore, monitor: MonitorSettings, errors: string[], log: Logger,
): Promise<ClusterResult> {
  // 2. Counts. Stale counts go first: if they cannot be cleared, nothing is incremented or replaced,
  //    so a count can never carry over a connected check.
  if (assessment.toClear.length > 0) await failures.clear(cluster, assessment.toClear);
  if (assessment.outage) {
    log.warn('outage guard: too many instances failing at once; replacing nothing', { failingPercent: assessment.failingPercent });
    return { cluster, assessment, done: [], errors };
  }
  let counts = new Map<string, number>();
  if (assessment.toIncrement.length > 0) {
    try {
      counts = await failures.increment(cluster, assessment.toIncrement);
      const unconfirmed = assessment.toIncrement.filter((arn) => !counts.has(arn));
      if (unconfirmed.length > 0) {
        errors.push(`failure store: ${unconfirmed.length} count(s) could not be updated; those instances wait for the next run`);
      }
    } catch (error) {
      // Not one count was confirmed: act on none.
      counts = new Map();
      errors.push(`failure store: ${describeError(error)}`);
      log.error('could not update every failure count; acting only on confirmed ones', { error: describeError(error) });
    }
  }

  // 3. Plan: only instances that reached failAfter need their Auto Scaling group looked up.
  const due = dueForReplacement(assessment.failing, counts, monitor);
  const groups = await groupsOf(due.map((d) => d.ec2InstanceId).filter((id): id is string => !!id));
  const plan = planReplacements(assessment.failing, counts, groups, monitor);

  // 4. Act, one step at a time; a failed step is retried next run (its count is kept).
  const done: PlannedStep[] = [];
  for (const step of plan.steps) {
    if (step.kind === 'skip') {
      log.warn('not replacing a failing instance', { containerInstance: step.instance.arn, ec2InstanceId: step.instance.ec2InstanceId, failures: step.failures, why: step.why });
      continue;
    }
    try {
      await carryOut(step);
    } catch (error) {
      errors.push(`${step.action} ${step.instance.ec2InstanceId}: ${describeError(error)}`);
      log.error('replacement failed', {
        containerInstance: step.instance.arn, ec2InstanceId: step.instance.ec2InstanceId, action: step.action, error: describeError(error),
      });
      continue;
    }
    done.push(step);
    log.info(step.action === 'NOTIFY_ONLY' ? 'dry run: would replace instance' : 'replacement requested', {
      containerInstance: step.instance.arn,
      ec2InstanceId: step.instance.ec2InstanceId,
      group: step.group,
      action: step.action,
      failures: step.failures,
    });
    // A dry run clears the count just as a replacement does, so it shows what the monitor would do
    // run by run, and an instance that stays down does not hold the per-run cap for ever.
    try {
      await failures.clear(cluster, [step.instance.arn]);
    } catch (error) {
      // The replacement was requested; a count left behind at worst repeats the request next run.
      errors.push(`failure store: the count of ${step.instance.ec2InstanceId} was not cleared after its replacement: ${describeError(error)}`);
      log.error('could not clear the count of a replaced instance', { containerInstance: step.instance.arn, error: describeError(error) });
    }
  }
  return { cluster, assessment, plan, done, errors };
}

async function readInstances(cluster: string, withHealth: boolean): Promise<InstanceState[]> {
  const arns = await paginate(
    (nextToken) => ecs.send(new ListContainerInstancesCommand({ cluster, status: 'ACTIVE', maxResults: LIST_PAGE_MAX.ListContainerInstances, nextToken })),
    (page) => page.containerInstanceArns,
    (page) => page.nextToken,
  );
  const { items } = await describeInBatches(arns, DESCRIBE_BATCH_MAX.DescribeContainerInstances, async (batch) => {
    const page = await ecs.send(new DescribeContainerInstancesCommand({
      cluster,
      containerInstances: batch,
      include: withHealth ? ['CONTAINER_INSTANCE_HEALTH'] : undefined,
    }));
    return { items: page.containerInstances, failures: page.failures };
  });
  return items
    .filter((i) => i.containerInstanceArn)
    .map((i) => ({
      arn: i.containerInstanceArn!,
      ec2InstanceId: i.ec2InstanceId,
      status: i.status ?? 'UNKNOWN',
      agentConnected: i.agentConnected === true,
      health: i.healthStatus?.overallStatus,
      registeredAt: i.registeredAt,
    }));
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

async function carryOut(step: Extract<PlannedStep, { kind: 'replace' }>): Promise<void> {
  const InstanceId = step.instance.ec2InstanceId!;
  if (step.action === 'NOTIFY_ONLY') return;
  const terminate = async () => {
    const { sdk, client } = await ec2();
    await client.send(new sdk.TerminateInstancesCommand({ InstanceIds: [InstanceId] }));
  };
  if (!step.group) return terminate(); // a standalone instance can only be terminated
  const { sdk, client } = await autoscaling();
  switch (step.action) {
    case 'SET_UNHEALTHY':
      await client.send(new sdk.SetInstanceHealthCommand({ InstanceId, HealthStatus: 'Unhealthy', ShouldRespectGracePeriod: false }));
      return;
    case 'TERMINATE':
      await client.send(new sdk.TerminateInstanceInAutoScalingGroupCommand({ InstanceId, ShouldDecrementDesiredCapacity: false }));
      return;
    case 'DETACH_AND_TERMINATE':
      await client.send(new sdk.DetachInstancesCommand({
        AutoScalingGroupName: step.group,
        InstanceIds: [InstanceId],
        ShouldDecrementDesiredCapacity: false,
      }));
      await terminate();
      return;
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
