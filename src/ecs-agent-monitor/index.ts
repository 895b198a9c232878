import { Annotations, ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { FailureStore } from './failure-store';
import { TerminationScope } from './termination-scope';
import { AlarmWindow, alarmWindowProblems, runErrorsAlarm, runErrorsAlarmWindow } from '../common/alarms';
import { bindNotificationChannels, channelSubjects } from '../common/bind-notification-channels';
import { environmentProblems, hardeningSubjects, subjectsOf } from '../common/environment';
import { HandlerBundle, createHandlerFunction } from '../common/handler-function';
import { validateHardening } from '../common/hardening';
import { HardeningProps } from '../common/hardening-props';
import { acknowledgeNagFinding, acknowledgeWildcardResources, defaultPolicyOf } from '../common/nag';
import { METRICS_NAMESPACE } from '../common/names';
import { NotificationChannel } from '../common/notification-channel';
import { ratePeriodOf, unresolvedScheduleProblem } from '../common/schedule';
import { literalDurationProblems, literalNumberProblems, throwIfInvalid } from '../common/validation';


export * from './failure-store';
export * from './termination-scope';

/**
 * What the monitor does with a container instance whose agent failed `failAfter` consecutive checks.
 */
export enum ReplacementAction {
  /**
   * `SetInstanceHealth(Unhealthy, ShouldRespectGracePeriod=false)`: the Auto Scaling group replaces the
   * instance through its own lifecycle hooks and ECS managed draining.
   */
  SET_UNHEALTHY = 'SET_UNHEALTHY',
  /** `TerminateInstanceInAutoScalingGroup(ShouldDecrementDesiredCapacity=false)`: the group launches a replacement. */
  TERMINATE = 'TERMINATE',
  /** `DetachInstances(ShouldDecrementDesiredCapacity=false)`, then EC2 `TerminateInstances`. */
  DETACH_AND_TERMINATE = 'DETACH_AND_TERMINATE',
  /** A dry run: count, log and notify what would be done, change nothing. */
  NOTIFY_ONLY = 'NOTIFY_ONLY',
}

/**
 * Properties of an `EcsAgentMonitor`.
 */
export interface EcsAgentMonitorProps extends HardeningProps {
  /** The clusters whose container instances are checked; at least one, in this stack's account and region (synth refuses others). */
  readonly clusters: ecs.ICluster[];

  /**
   * Consecutive failed checks before an instance is replaced.
   *
   * @default 2
   */
  readonly failAfter?: number;

  /**
   * How often the check runs.
   *
   * @default Schedule.rate(Duration.minutes(5))
   */
  readonly schedule?: events.Schedule;

  /**
   * How often a cron `schedule` runs (a rate schedule says so itself). The monitor needs the period: a count goes
   * up at most once per period, lives one and a half periods, and the alarms and metrics use it.
   *
   * @default - the rate of `schedule`; required with a cron schedule
   */
  readonly schedulePeriod?: Duration;

  /**
   * Instances registered with their cluster more recently than this are never counted.
   *
   * @default Duration.minutes(10)
   */
  readonly gracePeriod?: Duration;

  /**
   * What to do with an instance that failed `failAfter` consecutive checks.
   *
   * @default ReplacementAction.SET_UNHEALTHY
   */
  readonly action?: ReplacementAction;

  /**
   * The most instances replaced per cluster in one run; the rest wait for the next run.
   *
   * @default 1
   */
  readonly maxReplacementsPerRun?: number;

  /**
   * The most instances replaced in one run across all `clusters`, so a regional ECS problem spread over many
   * clusters (each under its own outage threshold) cannot replace one instance in every cluster at once.
   *
   * @default - `maxReplacementsPerRun`
   */
  readonly maxReplacementsPerRunTotal?: number;

  /**
   * Percent of a cluster's checked instances failing at once above which the monitor takes it for an
   * ECS-side problem: it replaces nothing in that cluster, keeps the counts as they are (they neither expire
   * nor go up) and notifies. The same share over every monitored cluster together stops replacement everywhere.
   * It takes at least two failing instances to trip. From 1 to 99 (100 could never be exceeded).
   *
   * @default 50
   */
  readonly outageThreshold?: number;

  /**
   * Where the per-instance failure counts are kept between runs.
   *
   * @default FailureStore.dynamoDb()
   */
  readonly failureStore?: FailureStore;

  /**
   * Where to send a message when an instance first fails a check, is replaced, or the outage guard trips.
   * One message per cluster per run at most.
   *
   * @default - no messages; logs and metrics only
   */
  readonly notifications?: NotificationChannel[];

  /**
   * The Auto Scaling groups of the clusters' instances. When given, the replacement permissions are
   * granted on these groups only, and instances of any other group are reported, not replaced.
   *
   * @default - replacement is allowed on any Auto Scaling group of this account and region (a warning says so)
   */
  readonly autoScalingGroups?: autoscaling.IAutoScalingGroup[];

  /**
   * Terminate a failing instance that belongs to no Auto Scaling group. Nothing will replace it. Needs
   * `terminationScope`.
   *
   * @default false - such an instance is reported, not terminated
   */
  readonly terminateStandaloneInstances?: boolean;

  /**
   * Which instances `ec2:TerminateInstances` may terminate, for `DETACH_AND_TERMINATE` and
   * `terminateStandaloneInstances` (required with either): the clusters' instance profiles (recommended) or a
   * tag their instances carry.
   *
   * @default - no EC2 termination is granted
   */
  readonly terminationScope?: TerminationScope;

  /**
   * Also count a `CONTAINER_INSTANCE_HEALTH` status of `IMPAIRED` as a failed check.
   *
   * @default false
   */
  readonly treatImpairedAsFailed?: boolean;

  /**
   * Whether the schedule is enabled.
   *
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * Create CloudWatch alarms: agents still disconnected long after they should have been replaced,
   * and monitor errors. Add actions to them through `alarms`.
   *
   * @default false
   */
  readonly createAlarms?: boolean;

  /**
   * What the alarms do when they go off, e.g. `new cloudwatch_actions.SnsAction(topic)` (only with `createAlarms`).
   * Control Tower's CT.CLOUDWATCH.PR.1 asks every alarm to have one.
   *
   * @default - none; add them later through `alarms`
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];
}

const DEFAULTS = {
  failAfter: 2,
  gracePeriod: Duration.minutes(10),
  maxReplacementsPerRun: 1,
  outageThreshold: 50,
  schedulePeriod: Duration.minutes(5),
};

/** The handler bundle, which is also the `service` dimension of its metrics. */
const SERVICE_NAME = 'ecs-agent-monitor' satisfies HandlerBundle;

/**
 * Finds ECS container instances whose agent stays disconnected and has their Auto Scaling group replace them.
 *
 * Every `schedule`, a function checks each ACTIVE container instance of `clusters`. A failed check adds one to
 * the instance's count in the failure store; a passed check deletes it. At `failAfter`, the `action` runs,
 * at most `maxReplacementsPerRun` per cluster, and never while more than `outageThreshold` percent of a
 * cluster fails at once.
 *
 * @example
 * declare const cluster: ecs.ICluster;
 * declare const asg: autoscaling.IAutoScalingGroup;
 * declare const slackSecret: secretsmanager.ISecret;
 * new EcsAgentMonitor(this, 'Monitor', {
 *   clusters: [cluster],
 *   autoScalingGroups: [asg],
 *   notifications: [NotificationChannel.slack(slackSecret)],
 * });
 */
export class EcsAgentMonitor extends Construct implements iam.IGrantable {
  /** The function that runs the checks. */
  public readonly handler: lambda.IFunction;
  /** The EventBridge rule that runs the function on the schedule. */
  public readonly rule: events.Rule;
  /** The DynamoDB table of failure counts, when the store is DynamoDB. */
  public readonly table?: dynamodb.ITable;
  /** The alarms, when `createAlarms` is set; empty otherwise. */
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly grantPrincipal: iam.IPrincipal;

  private readonly clusters: ecs.ICluster[];
  private readonly metricPeriod: Duration;

  constructor(scope: Construct, id: string, props: EcsAgentMonitorProps) {
    super(scope, id);
    validate(this, props);

    const action = props.action ?? ReplacementAction.SET_UNHEALTHY;
    const failAfter = props.failAfter ?? DEFAULTS.failAfter;
    const schedule = props.schedule ?? events.Schedule.rate(DEFAULTS.schedulePeriod);
    const period = schedulePeriodOf(schedule, props.schedulePeriod)!; // validate() requires it with a cron schedule
    const maxPerRun = props.maxReplacementsPerRun ?? DEFAULTS.maxReplacementsPerRun;
    this.clusters = props.clusters;
    this.metricPeriod = period;

    // A count lives one and a half periods after its last increment: it survives from one check to the next, but a
    // check that did not add to it (it passed, or the run failed) lets it expire, so a count is always consecutive
    // even if clearing it failed. It goes up at most once per period: not again within half a period.
    const countLifetime = Duration.seconds(Math.ceil(period.toSeconds() * 1.5));
    const store = (props.failureStore ?? FailureStore.dynamoDb())._bind(this, countLifetime, props.encryptionKey);
    this.table = store.table;

    const fn = createHandlerFunction(this, 'Function', {
      bundle: SERVICE_NAME,
      description: `cdk-ecs-ops EcsAgentMonitor: replaces ECS container instances whose agent stays disconnected (${action})`,
      memorySize: 256,
      timeout: Duration.minutes(2),
      // Runs never overlap: a duplicate delivery or a hand-run waits (throttled) instead of counting alongside.
      reservedConcurrentExecutions: 1,
      // The Redis store brings its VPC when the monitor is given none (validate() rejects two different ones).
      hardening: {
        ...props,
        vpc: props.vpc ?? store.vpc,
        vpcSubnets: props.vpc ? props.vpcSubnets : store.vpcSubnets,
        securityGroups: props.vpc ? props.securityGroups : store.securityGroups,
      },
      environment: {
        CLUSTERS: props.clusters.map((c) => c.clusterName).join(','),
        FAIL_AFTER: String(failAfter),
        GRACE_PERIOD_SECONDS: String((props.gracePeriod ?? DEFAULTS.gracePeriod).toSeconds()),
        ACTION: action,
        MAX_REPLACEMENTS_PER_RUN: String(maxPerRun),
        MAX_REPLACEMENTS_PER_RUN_TOTAL: String(props.maxReplacementsPerRunTotal ?? maxPerRun),
        OUTAGE_THRESHOLD_PERCENT: String(props.outageThreshold ?? DEFAULTS.outageThreshold),
        TREAT_IMPAIRED_AS_FAILED: String(props.treatImpairedAsFailed ?? false),
        TERMINATE_STANDALONE_INSTANCES: String(props.terminateStandaloneInstances ?? false),
        AUTO_SCALING_GROUPS: (props.autoScalingGroups ?? []).map((g) => g.autoScalingGroupName).join(','),
        FAILURE_MIN_GAP_SECONDS: String(Math.floor(period.toSeconds() / 2)),
        ...store.environment,
      },
    });
    // A failed run is not retried: the next scheduled run checks again, so counts stay one per period. A throttled
    // invocation (one is already running) is dropped after a minute rather than run late, next to the next run.
    fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
    if (props.notifications && props.notifications.length > 0) {
      fn.addEnvironment('NOTIFICATION_CHANNELS', bindNotificationChannels(this, fn, props.notifications));
    }
    store.grant(fn);
    this.handler = fn;
    this.grantPrincipal = fn.grantPrincipal;

    this.grantFleetAccess(fn, props, action);

    this.rule = new events.Rule(this, 'Schedule', {
      description: `Runs the ECS agent monitor of ${props.clusters.length} cluster(s)`,
      schedule,
      enabled: props.enabled ?? true,
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 0 })],
    });

    this.acknowledgeScheduleFindings(fn);
    if (props.createAlarms) this.createAlarms(failAfter, period);
    for (const alarm of this.alarms) alarm.addAlarmAction(...props.alarmActions ?? []);
  }

  /**
   * Container instances whose check failed in the last run (Maximum per period).
   *
   * @param cluster one of the monitored clusters; @default - the sum over every monitored cluster
   */
  public metricDisconnectedAgents(cluster?: ecs.ICluster, props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return this.clusterMetric('DisconnectedAgents', 'Maximum', cluster, props);
  }

  /**
   * Replacements requested (Sum per period).
   *
   * @param cluster one of the monitored clusters; @default - the sum over every monitored cluster
   */
  public metricReplacements(cluster?: ecs.ICluster, props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return this.clusterMetric('ReplacementsRequested', 'Sum', cluster, props);
  }

  /**
   * Runs in which the outage guard stopped all replacement in a cluster (Sum per period).
   *
   * @param cluster one of the monitored clusters; @default - the sum over every monitored cluster
   */
  public metricOutageGuardTrips(cluster?: ecs.ICluster, props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return this.clusterMetric('OutageGuardTrips', 'Sum', cluster, props);
  }

  /**
   * Errors met while checking or replacing, and runs that failed as a whole (Sum per period).
   *
   * @param cluster one of the monitored clusters (its errors only); @default - every cluster's errors and failed runs
   */
  public metricErrors(cluster?: ecs.ICluster, props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    if (cluster) return this.clusterMetric('Errors', 'Sum', cluster, props);
    // A run that fails as a whole (a bad configuration, a crash) publishes Errors without a cluster.
    const failedRuns = this.metric('Errors', 'Sum', { service: SERVICE_NAME }, props);
    return this.sum('Errors', [...this.clusters.map((c) => this.clusterMetric('Errors', 'Sum', c, props)), failedRuns], props);
  }

  private metric(
    metricName: string, statistic: string, dimensionsMap: Record<string, string>, props: cloudwatch.MetricOptions = {},
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap, statistic, period: this.metricPeriod, ...props });
  }

  private clusterMetric(
    metricName: string,
    statistic: string,
    cluster: ecs.ICluster | undefined,
    props: cloudwatch.MetricOptions = {},
  ): cloudwatch.IMetric {
    const one = (c: ecs.ICluster) => this.metric(metricName, statistic, { service: SERVICE_NAME, ClusterName: c.clusterName }, props);
    if (cluster) {
      if (!this.clusters.includes(cluster)) {
        throw new Error(`${metricName} metric: cluster ${cluster.node.path} is not one of this monitor's clusters`);
      }
      return one(cluster);
    }
    return this.sum(metricName, this.clusters.map(one), props);
  }

  /** One metric as it is; several summed, a period without data counting as 0. */
  private sum(metricName: string, metrics: cloudwatch.IMetric[], props: cloudwatch.MetricOptions = {}): cloudwatch.IMetric {
    if (metrics.length === 1) return metrics[0];
    const usingMetrics: Record<string, cloudwatch.IMetric> = {};
    metrics.forEach((m, i) => { usingMetrics[`m${i}`] = m; });
    return new cloudwatch.MathExpression({
      expression: Object.keys(usingMetrics).map((k) => `FILL(${k}, 0)`).join(' + '),
      usingMetrics,
      label: `${metricName} (all clusters)`,
      period: props.period ?? this.metricPeriod,
    });
  }

  /**
   * The alarms, on metrics of one period per scheduled run, so every period has its datapoint whatever the schedule
   * (validate() checks that the evaluation range fits CloudWatch's limits).
   */
  private createAlarms(failAfter: number, period: Duration): void {
    const disconnected = disconnectedAlarmWindow(failAfter, period).evaluationPeriods;
    this.alarms.push(new cloudwatch.Alarm(this, 'DisconnectedAgentsAlarm', {
      alarmDescription: 'ECS container agents stay disconnected although the monitor should have replaced their instances '
        + `(${disconnected} runs in a row: ${failAfter} to decide, 3 for the replacement to take effect)`,
      metric: this.metricDisconnectedAgents(),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: disconnected,
      datapointsToAlarm: disconnected,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }));
    this.alarms.push(runErrorsAlarm(this, 'The ECS agent monitor met errors in two of its last three runs', this.metricErrors()));
  }

  /** Least privilege: read only the given clusters; replace only in the given groups. */
  private grantFleetAccess(fn: lambda.IFunction, props: EcsAgentMonitorProps, action: ReplacementAction): void {
    const stack = Stack.of(this);
    const clusterArns = props.clusters.map((c) => c.clusterArn);
    const deliberate: Array<{ statement: iam.PolicyStatement; reason: string }> = [];
    const grant = (statement: iam.PolicyStatement, wildcardReason?: string) => {
      fn.addToRolePolicy(statement);
      if (wildcardReason) deliberate.push({ statement, reason: wildcardReason });
    };

    grant(new iam.PolicyStatement({
      sid: 'ListContainerInstancesOfMonitoredClusters',
      actions: ['ecs:ListContainerInstances'],
      resources: clusterArns,
    }));
    grant(new iam.PolicyStatement({
      sid: 'DescribeContainerInstancesOfMonitoredClusters',
      actions: ['ecs:DescribeContainerInstances'],
      resources: props.clusters.map((c) => stack.formatArn({ service: 'ecs', resource: 'container-instance', resourceName: `${c.clusterName}/*` })),
      conditions: { ArnEquals: { 'ecs:cluster': clusterArns } },
    }), 'Container instance ids are known only at run time: each resource is scoped to one monitored cluster by name, and the ecs:cluster condition repeats the cluster ARN.');

    const replacementActions = {
      [ReplacementAction.SET_UNHEALTHY]: ['autoscaling:SetInstanceHealth'],
      [ReplacementAction.TERMINATE]: ['autoscaling:TerminateInstanceInAutoScalingGroup'],
      [ReplacementAction.DETACH_AND_TERMINATE]: ['autoscaling:DetachInstances'],
      [ReplacementAction.NOTIFY_ONLY]: [],
    }[action];
    const groups = props.autoScalingGroups ?? [];

    // Which group an instance is in: DescribeAutoScalingInstances has no resource-level permissions.
    grant(new iam.PolicyStatement({
      sid: 'FindAutoScalingGroupOfInstance',
      actions: ['autoscaling:DescribeAutoScalingInstances'],
      resources: ['*'],
    }), 'autoscaling:DescribeAutoScalingInstances supports no resource-level permissions (Service Authorization Reference), so it is granted on *.');
    if (replacementActions.length > 0) {
      const statement = new iam.PolicyStatement({
        sid: 'ReplaceInstancesInGroups',
        actions: replacementActions,
        resources: groups.length > 0
          ? groups.map((g) => g.autoScalingGroupArn)
          : [stack.formatArn({ service: 'autoscaling', resource: 'autoScalingGroup', resourceName: '*:autoScalingGroupName/*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      });
      if (groups.length === 0) {
        // Left for the user to see: the fix is theirs to make (autoScalingGroups), not ours to excuse.
        Annotations.of(this).addWarningV2('cdk-ecs-ops/EcsAgentMonitor:unscopedReplacement',
          `autoScalingGroups is not set, so ${replacementActions.join(', ')} is granted on every Auto Scaling group in this account and region. ` +
          'Pass the clusters\' groups in autoScalingGroups to scope it.');
        grant(statement);
      } else {
        grant(statement, 'Each resource is one of the given autoScalingGroups by name; a group imported by name has a wildcard in place of its generated id.');
      }
    }
    if (terminates(props, action)) {
      // Nothing for a dry run; otherwise only instances of the termination scope (validate() requires one).
      grant(new iam.PolicyStatement({
        sid: 'TerminateReplacedInstances',
        actions: ['ec2:TerminateInstances'],
        resources: [stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' })],
        conditions: props.terminationScope!._conditions(),
      }), 'The instance to terminate is known only at run time (after it is detached from its group, or because it is in none); '
        + `the terminationScope condition (${props.terminationScope!._describe()}) keeps the grant to the clusters' instances.`);
    }

    const policy = defaultPolicyOf(fn.role!);
    for (const { statement, reason } of deliberate) acknowledgeWildcardResources(policy, statement, reason);
  }

  /** The findings of a scheduled function that is deliberately not retried. */
  private acknowledgeScheduleFindings(fn: lambda.Function): void {
    const notRetried = 'A scheduled check is deliberately not retried (retryAttempts 0): a failed run is counted by the Errors metric '
      + '(metricErrors, createAlarms) and the next scheduled run checks again, so there is nothing to keep for a replay.';
    acknowledgeNagFinding(fn, 'Serverless-LambdaDLQ', notRetried);
    acknowledgeNagFinding(fn.node.findChild('EventInvokeConfig'), 'Serverless-LambdaAsyncFailureDestination', notRetried);
    acknowledgeNagFinding(this.rule, 'Serverless-EventBusDLQ', notRetried);
  }
}

/** Whether the monitor may terminate instances with EC2: never in a dry run. */
function terminates(props: EcsAgentMonitorProps, action: ReplacementAction): boolean {
  return action !== ReplacementAction.NOTIFY_ONLY
    && (action === ReplacementAction.DETACH_AND_TERMINATE || props.terminateStandaloneInstances === true);
}

/** The period of a rate schedule, or the given `schedulePeriod` (required for a cron schedule). */
function schedulePeriodOf(schedule: events.Schedule, given: Duration | undefined): Duration | undefined {
  return given ?? ratePeriodOf(schedule);
}

/** The DisconnectedAgents alarm: the runs to decide, and three for the replacement to take effect. */
function disconnectedAlarmWindow(failAfter: number, period: Duration): AlarmWindow {
  return { alarm: 'DisconnectedAgents', period, evaluationPeriods: failAfter + 3 };
}

/** The schedule's period (known at synth, when there is one) and the alarms over it. */
function periodProblems(props: EcsAgentMonitorProps, schedule: events.Schedule, period: Duration | undefined, failAfterKnown: boolean): string[] {
  if (!period) {
    return [`schedule is ${schedule.expressionString}, a cron schedule; give schedulePeriod, how often it runs `
      + '(a count goes up at most once per period, and the alarms use it)'];
  }
  if (period.toSeconds() < 60 || period.toSeconds() % 60 !== 0) {
    return [`schedulePeriod is ${period.toHumanString()}; give whole minutes, at least one`];
  }
  if (!props.createAlarms || !failAfterKnown) return [];
  const failAfter = props.failAfter ?? DEFAULTS.failAfter;
  return alarmWindowProblems([disconnectedAlarmWindow(failAfter, period), runErrorsAlarmWindow(period)],
    'lower failAfter, change the schedule, or leave createAlarms out');
}

/** Checks every prop and throws one error that lists each mistake. */
function validate(scope: Construct, props: EcsAgentMonitorProps): void {
  const problems: string[] = [];
  const wholeIn = (name: string, value: number | undefined, min: number, max: number) => {
    if (value === undefined || Token.isUnresolved(value)) return;
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} is ${value}; give a whole number from ${min} to ${max}`);
    }
  };

  if (!props.clusters || props.clusters.length === 0) {
    problems.push('clusters is empty; give at least one ecs.ICluster to monitor');
  } else if (new Set(props.clusters).size !== props.clusters.length) {
    problems.push('clusters lists the same cluster more than once');
  }
  wholeIn('failAfter', props.failAfter, 1, 100);
  wholeIn('maxReplacementsPerRun', props.maxReplacementsPerRun, 1, 100);
  wholeIn('maxReplacementsPerRunTotal', props.maxReplacementsPerRunTotal, 1, 1000);
  if (props.outageThreshold !== undefined && !Token.isUnresolved(props.outageThreshold)
    && !(Number.isInteger(props.outageThreshold) && props.outageThreshold >= 1 && props.outageThreshold <= 99)) {
    problems.push(`outageThreshold is ${props.outageThreshold}; give a whole percent from 1 to 99 `
      + '(the guard trips when more than this share fails, so 100 could never trip)');
  }
  // What the monitor computes with must be known at synth; the numbers it only hands to its function (which checks
  // them when it starts) may be tokens: maxReplacementsPerRun, maxReplacementsPerRunTotal, outageThreshold.
  const numbers = literalNumberProblems(scope, { failAfter: props.failAfter });
  const durations = literalDurationProblems(scope, { schedulePeriod: props.schedulePeriod, gracePeriod: props.gracePeriod });
  const scheduleToken = unresolvedScheduleProblem(scope, props.schedule);
  problems.push(...numbers, ...durations, ...(scheduleToken ? [scheduleToken] : []));
  const schedule = props.schedule ?? events.Schedule.rate(DEFAULTS.schedulePeriod);
  const period = schedulePeriodOf(schedule, props.schedulePeriod);
  // A period or failAfter from a token is reported above: what depends on it cannot be checked.
  if (!scheduleToken && !period?.isUnresolved()) problems.push(...periodProblems(props, schedule, period, numbers.length === 0));
  const action = props.action ?? ReplacementAction.SET_UNHEALTHY;
  if (terminates(props, action) && !props.terminationScope) {
    problems.push(`${action === ReplacementAction.DETACH_AND_TERMINATE ? 'action is DETACH_AND_TERMINATE' : 'terminateStandaloneInstances is true'}, `
      + 'so the monitor terminates instances with ec2:TerminateInstances; give terminationScope (TerminationScope.instanceProfiles() '
      + 'with the clusters\' instance profiles, or TerminationScope.tag()) so the grant is not every instance in the account');
  }
  if (props.terminationScope) problems.push(...props.terminationScope._validate().map((p) => `terminationScope: ${p}`));
  if (props.gracePeriod && !props.gracePeriod.isUnresolved()) {
    const seconds = props.gracePeriod.toSeconds();
    if (seconds > 86_400) problems.push(`gracePeriod is ${props.gracePeriod.toHumanString()}; give at most 1 day`);
  }
  if (props.action !== undefined && !Object.values(ReplacementAction).includes(props.action)) {
    problems.push(`action is ${JSON.stringify(props.action)}; give one of ${Object.values(ReplacementAction).join(', ')}`);
  }
  if (props.alarmActions && props.alarmActions.length > 0 && !props.createAlarms) {
    problems.push('alarmActions is set without createAlarms; set createAlarms: true for the alarms to have them, or leave alarmActions out');
  }
  if (props.autoScalingGroups && props.autoScalingGroups.length === 0) {
    problems.push('autoScalingGroups is empty; give the clusters\' groups, or leave it out to allow any group (with a warning)');
  }
  if (props.failureStore) problems.push(...props.failureStore._validate(props.vpc));
  problems.push(...validateHardening(props));

  problems.push(...environmentProblems(scope, 'EcsAgentMonitor', [
    ...subjectsOf('clusters', 'cluster', props.clusters, (c) => c.clusterArn),
    ...subjectsOf('autoScalingGroups', 'Auto Scaling group', props.autoScalingGroups, (g) => g.autoScalingGroupArn),
    ...(props.failureStore?._environmentSubjects() ?? []),
    ...(props.terminationScope?._environmentSubjects() ?? []),
    ...channelSubjects(props.notifications),
    ...hardeningSubjects(props),
  ]));

  throwIfInvalid('EcsAgentMonitor', problems);
}
