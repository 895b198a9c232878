import { Annotations, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { AlarmWindow, alarmWindowProblems, longestFittingPeriod, runErrorsAlarm, runErrorsAlarmWindow } from '../common/alarms';
import { bindNotificationChannels, channelSubjects } from '../common/bind-notification-channels';
import { environmentProblems, hardeningSubjects, subjectsOf } from '../common/environment';
import { HandlerBundle, createHandlerFunction } from '../common/handler-function';
import { grantKeyThroughService, validateHardening } from '../common/hardening';
import { HardeningProps } from '../common/hardening-props';
import { acknowledgeNagFinding, acknowledgeWildcardResources, defaultPolicyOf } from '../common/nag';
import { METRICS_NAMESPACE } from '../common/names';
import { NotificationChannel } from '../common/notification-channel';
import { ratePeriodOf, unresolvedScheduleProblem } from '../common/schedule';
import { throwIfInvalid } from '../common/validation';

/**
 * The tag that makes the updater leave a container instance, or a whole cluster, alone.
 */
export interface AgentUpdateSkipTag {
  /** The tag key. */
  readonly key: string;

  /**
   * The tag value.
   *
   * @default - any value of `key`
   */
  readonly value?: string;
}

/**
 * Properties of an `EcsAgentUpdater`.
 */
export interface EcsAgentUpdaterProps extends HardeningProps {
  /**
   * The clusters whose agents are updated, in this stack's account and region (synth refuses others).
   *
   * @default - every cluster of this account and region (synth warns, and the IAM grants are account-wide)
   */
  readonly clusters?: ecs.ICluster[];

  /**
   * How often a run updates agents. A rate must be at least 5 minutes, so runs never queue behind each other.
   *
   * @default Schedule.rate(Duration.hours(1))
   */
  readonly schedule?: events.Schedule;

  /**
   * The most agent updates in flight at once in one cluster, counting updates already running (started by an
   * earlier run or by someone else).
   *
   * @default 1
   */
  readonly maxConcurrentUpdates?: number;

  /**
   * Container instances with this tag, and every instance of a cluster with it, are left alone: not updated, and
   * not counted when the updater judges whether a cluster is healthy.
   *
   * @default { key: 'ecs-ops:agent-updates', value: 'skip' }
   */
  readonly skipTag?: AgentUpdateSkipTag;

  /**
   * Decide, log and report what would be updated, and update nothing. The function then has no permission to
   * update an agent at all.
   *
   * @default false
   */
  readonly dryRun?: boolean;

  /**
   * Where to report what changed: updates requested, failed or stuck updates, a cluster turning unhealthy or
   * healthy again, agents that cannot be updated, AMI drift, errors. A condition is reported once, not every run.
   *
   * @default - no messages; logs and metrics only
   */
  readonly notifications?: NotificationChannel[];

  /**
   * Also report container instances whose AMI differs from the one their Auto Scaling group launches now (its
   * launch template or launch configuration). Report only: replacing them is the job of an instance refresh.
   * Adds read-only Auto Scaling and EC2 describe permissions.
   *
   * @default false
   */
  readonly reportAmiDrift?: boolean;

  /**
   * Whether the schedule is enabled.
   *
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * Create CloudWatch alarms: agents that stay outdated for a day, and updater errors. Add actions to them with
   * `alarmActions` or through `alarms`.
   *
   * @default false
   */
  readonly createAlarms?: boolean;

  /**
   * What the alarms do when they go off (only with `createAlarms`). Control Tower's CT.CLOUDWATCH.PR.1 asks every
   * alarm to have one.
   *
   * @default - none; add them later through `alarms`
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];

  /**
   * What happens to the state table when the updater is removed from the stack. It only holds what was reported
   * and what ECS said about agents, which the next updater learns again.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

const DEFAULTS = {
  schedulePeriod: Duration.hours(1),
  maxConcurrentUpdates: 1,
  skipTag: { key: 'ecs-ops:agent-updates', value: 'skip' } as AgentUpdateSkipTag,
};

/** A run takes at most `TIMEOUT`, and a scheduled event waits at most `MAX_EVENT_AGE`: together less than `MIN_RATE`. */
const TIMEOUT = Duration.minutes(3);
const MAX_EVENT_AGE = Duration.minutes(1);
const MIN_RATE = Duration.minutes(5);

/** The handler bundle, which is also the `service` dimension of its metrics. */
const SERVICE_NAME = 'ecs-agent-updater' satisfies HandlerBundle;

/**
 * Rolls ECS container agent updates through clusters, a few healthy instances at a time.
 *
 * Every `schedule`, a function reads each cluster, leaves alone any with a disconnected agent or a failed agent
 * update, and calls `UpdateContainerAgent` on supported instances, oldest agent first, until
 * `maxConcurrentUpdates` updates (counting those already in flight) run in that cluster. Runs never overlap: the
 * function's reserved concurrency is 1, a scheduled event is neither retried nor kept waiting, and a late or
 * duplicate delivery of one is recognised and does nothing.
 *
 * @exampleMetadata fixture=updater
 * @example
 * declare const cluster: ecs.ICluster;
 * declare const slackSecret: secretsmanager.ISecret;
 * new EcsAgentUpdater(this, 'Updater', {
 *   clusters: [cluster],
 *   notifications: [NotificationChannel.slack(slackSecret)],
 * });
 */
export class EcsAgentUpdater extends Construct implements iam.IGrantable {
  /** The function that runs the updates. */
  public readonly handler: lambda.IFunction;
  /** The EventBridge rule that runs the function on the schedule. */
  public readonly rule: events.Rule;
  /** The state table: the conditions reported per cluster, and the last scheduled event run. */
  public readonly table: dynamodb.ITable;
  /** The alarms, when `createAlarms` is set; empty otherwise. */
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly grantPrincipal: iam.IPrincipal;

  private readonly clusters?: ecs.ICluster[];
  private readonly metricPeriod: Duration;

  constructor(scope: Construct, id: string, props: EcsAgentUpdaterProps = {}) {
    super(scope, id);
    validate(this, props);

    const schedule = props.schedule ?? events.Schedule.rate(DEFAULTS.schedulePeriod);
    const period = ratePeriodOf(schedule);
    const maxConcurrentUpdates = props.maxConcurrentUpdates ?? DEFAULTS.maxConcurrentUpdates;
    const skipTag = props.skipTag ?? DEFAULTS.skipTag;
    const dryRun = props.dryRun ?? false;
    this.clusters = props.clusters;
    this.metricPeriod = metricPeriodOf(period);

    const table = new dynamodb.Table(this, 'StateTable', {
      partitionKey: { name: 'cluster', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: props.encryptionKey ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED,
      encryptionKey: props.encryptionKey,
      timeToLiveAttribute: 'expiresAt',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.table = table;

    const environment: { [key: string]: string } = {
      MAX_CONCURRENT_UPDATES: String(maxConcurrentUpdates),
      SKIP_TAG_KEY: skipTag.key,
      DRY_RUN: String(dryRun),
      REPORT_AMI_DRIFT: String(props.reportAmiDrift ?? false),
      STATE_TABLE_NAME: table.tableName,
      STATE_TTL_SECONDS: String(stateLifetime(period).toSeconds()),
    };
    if (skipTag.value !== undefined) environment.SKIP_TAG_VALUE = skipTag.value;
    if (props.clusters) environment.CLUSTERS = props.clusters.map((c) => c.clusterName).join(',');

    const fn = createHandlerFunction(this, 'Function', {
      bundle: SERVICE_NAME,
      description: `cdk-ecs-ops EcsAgentUpdater: updates ECS container agents, at most ${maxConcurrentUpdates} at a time per cluster`
        + (dryRun ? ' (dry run: updates nothing)' : ''),
      memorySize: 256,
      timeout: TIMEOUT,
      hardening: props,
      environment,
      // Runs never overlap: a second invocation waits (and is dropped after MAX_EVENT_AGE) while one runs.
      reservedConcurrentExecutions: 1,
    });
    fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: MAX_EVENT_AGE });
    if (props.notifications && props.notifications.length > 0) {
      fn.addEnvironment('NOTIFICATION_CHANNELS', bindNotificationChannels(this, fn, props.notifications));
    }
    this.handler = fn;
    this.grantPrincipal = fn.grantPrincipal;

    // The two calls the state table sees: load what was remembered (BatchGetItem), remember (BatchWriteItem).
    table.grant(fn, 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem');
    if (props.encryptionKey) grantKeyThroughService(fn, props.encryptionKey, 'dynamodb', this);
    this.grantFleetAccess(fn, props, dryRun);

    this.rule = new events.Rule(this, 'Schedule', {
      description: props.clusters
        ? `Runs the ECS agent updater of ${props.clusters.length} cluster(s)`
        : 'Runs the ECS agent updater of every cluster in this account and region',
      schedule,
      enabled: props.enabled ?? true,
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 0, maxEventAge: MAX_EVENT_AGE })],
    });

    this.acknowledgeScheduleFindings(fn);
    if (props.createAlarms) this.createAlarms();
    for (const alarm of this.alarms) alarm.addAlarmAction(...props.alarmActions ?? []);
  }

  /**
   * ACTIVE instances whose agent is known to be outdated (Maximum per period).
   *
   * @param cluster one of the updater's clusters; @default - every cluster
   */
  public metricOutdatedAgents(cluster?: ecs.ICluster, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('OutdatedAgents', 'Maximum', cluster, props);
  }

  /**
   * Agent updates ECS accepted (Sum per period).
   *
   * @param cluster one of the updater's clusters; @default - every cluster
   */
  public metricUpdatesRequested(cluster?: ecs.ICluster, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('UpdatesRequested', 'Sum', cluster, props);
  }

  /** Clusters left alone because they were unhealthy (Maximum per period). */
  public metricUnhealthyClusters(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('UnhealthyClusters', 'Maximum', undefined, props);
  }

  /**
   * Errors met in clusters, and runs that failed as a whole (Sum per period).
   *
   * @param cluster one of the updater's clusters (its errors only); @default - every error and failed run
   */
  public metricErrors(cluster?: ecs.ICluster, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('Errors', 'Sum', cluster, props);
  }

  /** One metric of the updater: per cluster (ClusterName), or the run's total (service only). */
  private metric(metricName: string, statistic: string, cluster: ecs.ICluster | undefined, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    const dimensionsMap: Record<string, string> = { service: SERVICE_NAME };
    if (cluster) {
      if (this.clusters && !this.clusters.includes(cluster)) {
        throw new Error(`${metricName} metric: cluster ${cluster.node.path} is not one of this updater's clusters`);
      }
      dimensionsMap.ClusterName = cluster.clusterName;
    }
    return new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap, statistic, period: this.metricPeriod, ...props });
  }

  private createAlarms(): void {
    const { period, evaluationPeriods: periods } = outdatedAlarmWindow(this.metricPeriod);
    this.alarms.push(new cloudwatch.Alarm(this, 'OutdatedAgentsAlarm', {
      alarmDescription: 'ECS container agents stayed outdated for a day: raise maxConcurrentUpdates, or see why the updater holds back (its logs)',
      metric: this.metricOutdatedAgents(undefined, { statistic: 'Minimum', period }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }));
    this.alarms.push(runErrorsAlarm(this, 'The ECS agent updater met errors in two of its last three runs', this.metricErrors()));
  }

  /**
   * Least privilege: list and describe read-only; UpdateContainerAgent only on container instances of the given
   * clusters (the ecs:cluster condition), or of this account's clusters when none are given; nothing else.
   */
  private grantFleetAccess(fn: lambda.IFunction, props: EcsAgentUpdaterProps, dryRun: boolean): void {
    const stack = Stack.of(this);
    const deliberate: Array<{ statement: iam.PolicyStatement; reason: string }> = [];
    const grant = (statement: iam.PolicyStatement, wildcardReason?: string) => {
      fn.addToRolePolicy(statement);
      if (wildcardReason) deliberate.push({ statement, reason: wildcardReason });
    };
    const scoped = props.clusters !== undefined;
    const clusterArns = scoped
      ? props.clusters!.map((c) => c.clusterArn)
      : [stack.formatArn({ service: 'ecs', resource: 'cluster', resourceName: '*' })];
    const instanceArns = scoped
      ? props.clusters!.map((c) => stack.formatArn({ service: 'ecs', resource: 'container-instance', resourceName: `${c.clusterName}/*` }))
      : [stack.formatArn({ service: 'ecs', resource: 'container-instance', resourceName: '*' })];
    const inClusters = scoped ? { ArnEquals: { 'ecs:cluster': clusterArns } } : { ArnLike: { 'ecs:cluster': clusterArns } };
    const instancesReason = 'Container instance ids are known only at run time: each resource is scoped to one of the given clusters by name, and the ecs:cluster condition repeats the cluster ARN.';

    if (!scoped) {
      // Left for the user to see: the fix is theirs to make (clusters), not ours to excuse.
      Annotations.of(this).addWarningV2('cdk-ecs-ops/EcsAgentUpdater:allClusters',
        'clusters is not set, so the updater reads every ECS cluster of this account and region and '
        + `${dryRun ? 'would update' : 'may update'} container agents in any of them. Pass the clusters in clusters to scope it.`);
      grant(new iam.PolicyStatement({ sid: 'ListClusters', actions: ['ecs:ListClusters'], resources: ['*'] }));
    }
    grant(new iam.PolicyStatement({
      sid: 'ReadClusters',
      actions: ['ecs:DescribeClusters', 'ecs:ListContainerInstances'],
      resources: clusterArns,
    }));
    grant(new iam.PolicyStatement({
      sid: 'DescribeContainerInstances',
      actions: ['ecs:DescribeContainerInstances'],
      resources: instanceArns,
      conditions: inClusters,
    }), scoped ? instancesReason : undefined);
    if (!dryRun) {
      grant(new iam.PolicyStatement({
        sid: 'UpdateContainerAgents',
        actions: ['ecs:UpdateContainerAgent'],
        resources: instanceArns,
        conditions: inClusters,
      }), scoped ? instancesReason : undefined);
    }
    if (props.reportAmiDrift) {
      grant(new iam.PolicyStatement({
        sid: 'ReadLaunchTemplatesOfGroups',
        actions: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeLaunchConfigurations', 'ec2:DescribeLaunchTemplateVersions'],
        resources: ['*'],
      }), 'reportAmiDrift: autoscaling:DescribeAutoScalingGroups, autoscaling:DescribeLaunchConfigurations and ec2:DescribeLaunchTemplateVersions '
        + 'support no resource-level permissions (Service Authorization Reference), so they are granted on *; all three only read.');
    }

    const policy = defaultPolicyOf(fn.role!);
    for (const { statement, reason } of deliberate) acknowledgeWildcardResources(policy, statement, reason);
  }

  /** The findings of a scheduled function that is deliberately not retried. */
  private acknowledgeScheduleFindings(fn: lambda.Function): void {
    const notRetried = 'A scheduled run is deliberately not retried (retryAttempts 0, a one-minute maximum event age): a failed run is counted by the '
      + 'Errors metric (metricErrors, createAlarms) and the next scheduled run reads the fleet again, so there is nothing to keep for a replay.';
    acknowledgeNagFinding(fn, 'Serverless-LambdaDLQ', notRetried);
    acknowledgeNagFinding(fn.node.findChild('EventInvokeConfig'), 'Serverless-LambdaAsyncFailureDestination', notRetried);
    acknowledgeNagFinding(this.rule, 'Serverless-EventBusDLQ', notRetried);
  }
}

/** The period of the metrics: the rate of a rate schedule, a day for a cron schedule. */
function metricPeriodOf(ratePeriod: Duration | undefined): Duration {
  return ratePeriod ?? Duration.days(1);
}

/**
 * The OutdatedAgents alarm: a day of runs that all found an outdated agent (updates do not keep up, or something
 * holds them back), on periods of at least an hour; one period of a slower schedule.
 */
function outdatedAlarmWindow(metricPeriod: Duration): AlarmWindow {
  const period = Duration.seconds(Math.max(metricPeriod.toSeconds(), 3600));
  return { alarm: 'OutdatedAgents', period, evaluationPeriods: Math.max(1, Math.round(86_400 / period.toSeconds())) };
}

/**
 * How long a cluster's state lives after the last run that wrote it: a week, or three periods of a slower rate
 * schedule (35 days with a cron schedule). State of a cluster no longer updated goes away by itself.
 */
function stateLifetime(period: Duration | undefined): Duration {
  if (!period) return Duration.days(35);
  return Duration.seconds(Math.min(366 * 86_400, Math.max(7 * 86_400, 3 * period.toSeconds())));
}

/** ECS tag keys and values: letters, digits, spaces and + - = . _ : / @ (keys up to 128, values up to 256). */
const TAG_TEXT = /^[\p{L}\p{N}\s+\-=._:/@]*$/u;

/** Checks every prop and throws one error that lists each mistake. */
function validate(scope: Construct, props: EcsAgentUpdaterProps): void {
  const problems: string[] = [];
  if (props.clusters !== undefined) {
    if (props.clusters.length === 0) {
      problems.push('clusters is empty; give at least one ecs.ICluster, or leave clusters out to update every cluster of the account and region');
    } else if (new Set(props.clusters).size !== props.clusters.length) {
      problems.push('clusters lists the same cluster more than once');
    }
  }
  const max = props.maxConcurrentUpdates;
  if (max !== undefined && !Token.isUnresolved(max) && (!Number.isInteger(max) || max < 1 || max > 100)) {
    problems.push(`maxConcurrentUpdates is ${max}; give a whole number from 1 to 100`);
  }
  // maxConcurrentUpdates may be a token: the updater only hands it to its function, which checks it when it starts.
  const scheduleToken = unresolvedScheduleProblem(scope, props.schedule);
  if (scheduleToken) {
    problems.push(scheduleToken);
  } else {
    const period = props.schedule ? ratePeriodOf(props.schedule) : undefined;
    if (props.schedule && period && period.toSeconds() < MIN_RATE.toSeconds()) {
      problems.push(`schedule is ${props.schedule.expressionString}; give a rate of at least ${MIN_RATE.toHumanString()} `
        + `(a run may take ${TIMEOUT.toHumanString()} and an event waits up to ${MAX_EVENT_AGE.toHumanString()}), or a cron schedule`);
    }
    if (props.createAlarms) {
      const metricPeriod = metricPeriodOf(ratePeriodOf(props.schedule ?? events.Schedule.rate(DEFAULTS.schedulePeriod)));
      const errors = runErrorsAlarmWindow(metricPeriod);
      problems.push(...alarmWindowProblems([outdatedAlarmWindow(metricPeriod), errors],
        `give a rate of at most ${longestFittingPeriod(errors.evaluationPeriods).toHumanString()}, or leave createAlarms out`));
    }
  }
  if (props.skipTag) {
    const { key, value } = props.skipTag;
    if (!Token.isUnresolved(key) && (key.length < 1 || key.length > 128 || !TAG_TEXT.test(key) || key.toLowerCase().startsWith('aws:'))) {
      problems.push(`skipTag.key is ${JSON.stringify(key)}; give 1 to 128 letters, digits, spaces or + - = . _ : / @, not starting with aws:`);
    }
    if (value !== undefined && !Token.isUnresolved(value) && (value.length > 256 || !TAG_TEXT.test(value))) {
      problems.push(`skipTag.value is ${JSON.stringify(value)}; give up to 256 letters, digits, spaces or + - = . _ : / @, or leave it out to match any value`);
    }
  }
  if (props.alarmActions && props.alarmActions.length > 0 && !props.createAlarms) {
    problems.push('alarmActions is set without createAlarms; set createAlarms: true for the alarms to have them, or leave alarmActions out');
  }
  problems.push(...validateHardening(props));

  problems.push(...environmentProblems(scope, 'EcsAgentUpdater', [
    ...subjectsOf('clusters', 'cluster', props.clusters, (c) => c.clusterArn),
    ...channelSubjects(props.notifications),
    ...hardeningSubjects(props),
  ]));

  throwIfInvalid('EcsAgentUpdater', problems);
}
