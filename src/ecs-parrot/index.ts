import { Annotations, Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { eventPatterns, EventKindName, PatternOptions } from './patterns';
import { DEDUPE_WINDOW_SECONDS, DEFAULT_API_CALLS } from './vocabulary';
import { bindNotificationChannels, channelSubjects } from '../common/bind-notification-channels';
import { environmentProblems, hardeningSubjects, subjectsOf } from '../common/environment';
import { HandlerBundle, createHandlerFunction } from '../common/handler-function';
import { grantKeyThroughService, validateHardening } from '../common/hardening';
import { HardeningProps } from '../common/hardening-props';
import { acknowledgeNagFinding, acknowledgeWildcardResources, defaultPolicyOf } from '../common/nag';
import { METRICS_NAMESPACE } from '../common/names';
import { NotificationChannel } from '../common/notification-channel';
import { literalDurationProblems, throwIfInvalid } from '../common/validation';

/**
 * How severe an ECS event is, for `minimumSeverity`.
 */
export enum Severity {
  /** Routine changes worth knowing: a deployment completed, a service reached a steady state, an API call. */
  INFO = 'INFO',
  /** Tasks that stopped unexpectedly, impaired services, draining instances, disconnected agents. */
  WARNING = 'WARNING',
  /** Tasks that cannot start, failed deployments and rollbacks, service actions ECS grades ERROR. */
  ERROR = 'ERROR',
}

/**
 * Which kinds of ECS event EcsParrot reports (every one of the default policy unless turned off).
 */
export interface ParrotEventsOptions {
  /**
   * Tasks that stopped unexpectedly (`ECS Task State Change` to STOPPED): an essential container exited non-zero,
   * OutOfMemoryError, failures to start, failed health checks, Spot interruptions.
   *
   * @default true
   */
  readonly stoppedTasks?: boolean;

  /**
   * Service deployments (`ECS Deployment State Change`): failed and rolled back (ERROR), started and completed (INFO).
   *
   * @default true
   */
  readonly deployments?: boolean;

  /**
   * Service actions (`ECS Service Action`), graded by their `eventType` (INFO, WARN, ERROR).
   *
   * @default true
   */
  readonly serviceActions?: boolean;

  /**
   * Container instances (`ECS Container Instance State Change`): an agent that stays disconnected, an agent update
   * that FAILED, a registration that failed, and (with `instanceDraining`) DRAINING and deregistered instances.
   *
   * @default true
   */
  readonly containerInstances?: boolean;

  /**
   * Report tasks stopped by a Spot interruption (`SpotInterruption`, `TerminationNotice`).
   *
   * @default true
   */
  readonly spotInterruptions?: boolean;

  /**
   * Report container instances that are DRAINING or were deregistered (INACTIVE), as scale-in and instance
   * refreshes do.
   *
   * @default true
   */
  readonly instanceDraining?: boolean;
}

/**
 * The kinds of ECS event EcsParrot reports.
 *
 * @example
 * // Everything but Spot interruptions and draining instances:
 * const quieter = ParrotEvents.of({ spotInterruptions: false, instanceDraining: false });
 */
export class ParrotEvents {
  /** Every kind: stopped tasks, deployments, service actions and container instances. */
  public static readonly DEFAULT = new ParrotEvents({});

  /** The kinds and parts turned on or off. */
  public static of(options: ParrotEventsOptions): ParrotEvents {
    return new ParrotEvents(options);
  }

  private constructor(private readonly options: ParrotEventsOptions) {}

  /** The event kinds turned on. @internal */
  public _kinds(): EventKindName[] {
    const o = this.options;
    return [
      ...(o.stoppedTasks ?? true ? ['TASK_STOPPED' as const] : []),
      ...(o.deployments ?? true ? ['DEPLOYMENT' as const] : []),
      ...(o.serviceActions ?? true ? ['SERVICE_ACTION' as const] : []),
      ...(o.containerInstances ?? true ? ['CONTAINER_INSTANCE' as const] : []),
    ];
  }

  /** @internal */
  public get _spotInterruptions(): boolean {
    return this.options.spotInterruptions ?? true;
  }

  /** @internal */
  public get _instanceDraining(): boolean {
    return this.options.instanceDraining ?? true;
  }
}

/**
 * Which services EcsParrot reports on, by name.
 */
export interface ServiceFilter {
  /**
   * Only these services (their tasks, deployments and service actions). Standalone tasks are then not reported.
   *
   * @default - every service
   */
  readonly include?: string[];

  /**
   * Never these services.
   *
   * @default - none
   */
  readonly exclude?: string[];
}

/**
 * Properties of an `EcsParrot`.
 */
export interface EcsParrotProps extends HardeningProps {
  /** Where the messages go; at least one channel. */
  readonly notifications: NotificationChannel[];

  /**
   * The clusters whose events are reported, in this stack's account and region (synth refuses others). The rules match only their events,
   * and enrichment reads only their container instances. (Deployment events of a service whose ARN is in the older
   * format `service/<name>` name no cluster; they are reported whatever their cluster, with the cluster unknown.)
   *
   * @default - every cluster in the account and region (enrichment may then read every container instance)
   */
  readonly clusters?: ecs.ICluster[];

  /**
   * Which kinds of event are reported.
   *
   * @default ParrotEvents.DEFAULT
   */
  readonly events?: ParrotEvents;

  /**
   * The least severity reported.
   *
   * @default Severity.WARNING
   */
  readonly minimumSeverity?: Severity;

  /**
   * Also report ECS API calls (`AWS API Call via CloudTrail`) as who did what: failed and destructive calls
   * (`StopTask`, `DeleteService`, `ExecuteCommand`, ...) as WARNING, the others as INFO. Needs a CloudTrail trail
   * that logs management events in this region; EcsParrot does not create one.
   *
   * @default false
   */
  readonly includeApiCalls?: boolean;

  /**
   * The ECS API calls reported with `includeApiCalls`, by event name. Add `SubmitTaskStateChange` and the like to see
   * the agent's own calls.
   *
   * @default - RunTask, StartTask, StopTask, ExecuteCommand, CreateService, UpdateService, DeleteService,
   * RegisterTaskDefinition, DeregisterTaskDefinition, DeleteTaskDefinitions, RegisterContainerInstance,
   * DeregisterContainerInstance, UpdateContainerAgent, UpdateContainerInstancesState, CreateCluster, UpdateCluster,
   * DeleteCluster, PutClusterCapacityProviders, CreateTaskSet, UpdateTaskSet, DeleteTaskSet, UpdateServicePrimaryTaskSet
   */
  readonly apiCalls?: string[];

  /**
   * Containers whose exit codes never alert, e.g. sidecars that exit non-zero whenever their task stops.
   *
   * @default - none
   */
  readonly ignoreContainers?: string[];

  /**
   * Which services are reported, by name.
   *
   * @default - every service
   */
  readonly services?: ServiceFilter;

  /**
   * How long the queue gathers events before the function reads them in one batch: the coalescing window. Longer
   * means fewer, fuller messages and later ones. From 1 second to 5 minutes.
   *
   * @default Duration.seconds(20)
   */
  readonly batchWindow?: Duration;

  /**
   * Look up what the events do not say: each task definition (essential containers, `awslogs` log streams to link)
   * and container instance (its EC2 instance, whether it is draining, whether a disconnected agent is back).
   * Without it the function has no ECS permissions at all, and a disconnected agent is reported as INFO.
   *
   * @default true
   */
  readonly enrichment?: boolean;

  /**
   * How long a message that cannot be delivered (a chat webhook that is down) is retried before its events go to
   * the dead-letter queue. From 15 minutes to 3 days.
   *
   * @default Duration.hours(2)
   */
  readonly retryPeriod?: Duration;

  /**
   * What the dead-letter queue alarm does when it goes off, e.g. `new cloudwatch_actions.SnsAction(topic)`.
   * Control Tower's CT.CLOUDWATCH.PR.1 asks every alarm to have one.
   *
   * @default - none; add them later through `alarms`
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];
}

const DEFAULTS = {
  batchWindow: Duration.seconds(20),
  retryPeriod: Duration.hours(2),
  minimumSeverity: Severity.WARNING,
};

/** The handler bundle, which is also the `service` dimension of its metrics. */
const SERVICE_NAME = 'ecs-parrot' satisfies HandlerBundle;
/** The function's timeout: a batch's messages, webhook retries included, fit well inside it. */
const FUNCTION_TIMEOUT = Duration.seconds(60);
/** Records per batch: the batch window usually ends a batch first; the 6 MB payload limit would end it before 1,500 events. */
const BATCH_SIZE = 500;
/** Concurrent batches: keeps the chat channels' rate limits and the coalescing of a burst. The least Lambda allows. */
const MAX_CONCURRENCY = 2;

/**
 * Posts ECS events to chat: concise, deduplicated and never lost.
 *
 * EventBridge rules match the interesting subset of ECS task, deployment, service action and container instance
 * events (and, optionally, ECS API calls from CloudTrail) of the given clusters and put them on an encrypted SQS
 * queue. A function reads the queue in batches over `batchWindow`, drops repeats (a DynamoDB table remembers what
 * reached which channel for an hour), coalesces each service's failures into one message and sends it to Slack,
 * Teams, a webhook or SNS. A failed delivery is retried for `retryPeriod`, then kept in a dead-letter queue with
 * an alarm.
 *
 * @example
 * declare const cluster: ecs.ICluster;
 * declare const slackSecret: secretsmanager.ISecret;
 * new EcsParrot(this, 'Parrot', {
 *   notifications: [NotificationChannel.slack(slackSecret)],
 *   clusters: [cluster],
 * });
 */
export class EcsParrot extends Construct implements iam.IGrantable {
  /** The function that reads the queue and sends the messages. */
  public readonly handler: lambda.IFunction;
  /** The queue the rules put the events on. */
  public readonly queue: sqs.IQueue;
  /** Where events go that could not be delivered to the queue, or whose message could not be sent within `retryPeriod`. */
  public readonly deadLetterQueue: sqs.IQueue;
  /** The dedupe table: what reached which channel, and the ongoing failures. */
  public readonly table: dynamodb.ITable;
  /** One rule per kind of event reported. */
  public readonly rules: events.Rule[] = [];
  /** The alarm on the dead-letter queue, first; add actions here or with `alarmActions`. */
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly grantPrincipal: iam.IPrincipal;

  constructor(scope: Construct, id: string, props: EcsParrotProps) {
    super(scope, id);
    validate(this, props);
    const stack = Stack.of(this);
    const key = props.encryptionKey;
    const parrotEvents = props.events ?? ParrotEvents.DEFAULT;
    const minimumSeverity = props.minimumSeverity ?? DEFAULTS.minimumSeverity;
    const batchWindow = props.batchWindow ?? DEFAULTS.batchWindow;
    const retryPeriod = props.retryPeriod ?? DEFAULTS.retryPeriod;
    const enrichment = props.enrichment ?? true;
    const apiCalls = props.includeApiCalls ? props.apiCalls ?? [...DEFAULT_API_CALLS] : [];
    const clusters = props.clusters ?? [];

    // AWS recommends a visibility timeout of at least six times the function's timeout (throttled invocations are
    // retried within it), plus the batch window the messages wait in before the function sees them.
    const visibilityTimeout = Duration.seconds(6 * FUNCTION_TIMEOUT.toSeconds() + batchWindow.toSeconds());
    // Each receive of a message whose delivery fails is one attempt; it is visible again one visibility timeout later.
    const maxReceiveCount = Math.max(3, Math.ceil(retryPeriod.toSeconds() / visibilityTimeout.toSeconds()));

    // The queue has a name of its own, so the dead-letter queue can allow exactly it without a dependency cycle.
    const queueName = `${Names.uniqueResourceName(this, { maxLength: 72, separator: '-' })}-events`;
    const queueArn = stack.formatArn({ service: 'sqs', resource: queueName });
    const encryption = key
      ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key }
      // EventBridge cannot send to a queue under the AWS managed key alias/aws/sqs: SQS-managed encryption instead.
      : { encryption: sqs.QueueEncryption.SQS_MANAGED };
    const deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...encryption,
      // A standard queue counts a message's age from when it was first sent, in the dead-letter queue too.
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      redriveAllowPolicy: {
        redrivePermission: sqs.RedrivePermission.BY_QUEUE,
        sourceQueues: [sqs.Queue.fromQueueArn(this, 'EventQueueArn', queueArn)],
      },
    });
    const queue = new sqs.Queue(this, 'Queue', {
      queueName,
      ...encryption,
      visibilityTimeout,
      retentionPeriod: Duration.days(4),
      enforceSSL: true,
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount },
    });
    this.queue = queue;
    this.deadLetterQueue = deadLetterQueue;

    const table = new dynamodb.Table(this, 'DedupeTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: key ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED,
      encryptionKey: key,
      timeToLiveAttribute: 'expiresAt',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.table = table;

    const kinds: EventKindName[] = [...parrotEvents._kinds(), ...(props.includeApiCalls ? ['API_CALL' as const] : [])];
    const fn = createHandlerFunction(this, 'Function', {
      bundle: SERVICE_NAME,
      description: 'cdk-ecs-ops EcsParrot: posts ECS events to chat, deduplicated and coalesced',
      memorySize: 256,
      timeout: FUNCTION_TIMEOUT,
      hardening: props,
      environment: {
        DEDUPE_TABLE_NAME: table.tableName,
        DEDUPE_WINDOW_SECONDS: String(DEDUPE_WINDOW_SECONDS),
        MINIMUM_SEVERITY: minimumSeverity,
        EVENT_KINDS: kinds.join(','),
        SPOT_INTERRUPTIONS: String(parrotEvents._spotInterruptions),
        INSTANCE_DRAINING: String(parrotEvents._instanceDraining),
        CLUSTERS: clusters.map((c) => c.clusterName).join(','),
        SERVICES_INCLUDE: (props.services?.include ?? []).join(','),
        SERVICES_EXCLUDE: (props.services?.exclude ?? []).join(','),
        IGNORE_CONTAINERS: (props.ignoreContainers ?? []).join(','),
        API_CALLS: apiCalls.join(','),
        ENRICHMENT: String(enrichment),
      },
    });
    fn.addEnvironment('NOTIFICATION_CHANNELS', bindNotificationChannels(this, fn, props.notifications));
    this.handler = fn;
    this.grantPrincipal = fn.grantPrincipal;

    // Exactly the three calls the dedupe store makes; the key only through DynamoDB.
    table.grant(fn, 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    if (key) grantKeyThroughService(fn, key, 'dynamodb', this);
    this.grantQueueConsumption(fn, queue, key);
    if (enrichment) this.grantEnrichment(fn, clusters);

    const mapping = new lambda.EventSourceMapping(this, 'EventSource', {
      target: fn,
      eventSourceArn: queue.queueArn,
      batchSize: BATCH_SIZE,
      maxBatchingWindow: batchWindow,
      reportBatchItemFailures: true,
      maxConcurrency: MAX_CONCURRENCY,
    });
    // Lambda checks the role's permissions on the queue when it creates the mapping.
    mapping.node.addDependency(fn.role!);

    const patterns = eventPatterns({
      kinds,
      clusters,
      minimumSeverity,
      instanceDraining: parrotEvents._instanceDraining,
      apiCalls,
      servicesInclude: props.services?.include ?? [],
      servicesExclude: props.services?.exclude ?? [],
    } satisfies PatternOptions, stack);
    const ruleArns: string[] = [];
    for (const { id: ruleId, description, pattern } of patterns) {
      // Named, so the queues' and the key's policies can name each rule without a dependency cycle.
      const ruleName = Names.uniqueResourceName(this, { maxLength: 64 - ruleId.length - 1, separator: '-' }) + `-${ruleId}`;
      const rule = new events.Rule(this, `${ruleId}Rule`, {
        ruleName,
        description: `${description} -> ${this.node.path}`.slice(0, 512),
        eventPattern: pattern,
        targets: [new QueueTarget(queue, deadLetterQueue)],
      });
      this.rules.push(rule);
      ruleArns.push(stack.formatArn({ service: 'events', resource: 'rule', resourceName: ruleName }));
    }
    this.allowRulesToSend(queue, deadLetterQueue, ruleArns, key);

    const alarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmDescription: 'EcsParrot: ECS events could not be delivered to chat and wait in the dead-letter queue. '
        + 'Fix the channel, then move them back to the queue (StartMessageMoveTask).',
      metric: this.metricDeadLetterMessages(),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(...props.alarmActions ?? []);
    this.alarms.push(alarm);

    this.acknowledgeFindings(fn, mapping);
  }

  /** Messages sent (Sum per period): one per service (or cluster, or API calls) and batch. */
  public metricMessagesSent(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('MessagesSent', 'Sum', props);
  }

  /** Deliveries that failed, one per message and channel; their events are retried (Sum per period). */
  public metricDeliveryFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('DeliveryFailures', 'Sum', props);
  }

  /** Invocations that failed as a whole, e.g. a bad configuration (Sum per period). */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('Errors', 'Sum', props);
  }

  /** Events waiting in the dead-letter queue (Maximum per period). */
  public metricDeadLetterMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(5), ...props });
  }

  private metric(metricName: string, statistic: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: SERVICE_NAME }, statistic, period: Duration.minutes(5), ...props,
    });
  }

  /** What Lambda's event source mapping needs to read the queue: receive, delete, the queue's attributes; the key only through SQS. */
  private grantQueueConsumption(fn: lambda.IFunction, queue: sqs.IQueue, key: kms.IKey | undefined): void {
    fn.addToRolePolicy(new iam.PolicyStatement({
      sid: 'ReadEventQueue',
      actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
      resources: [queue.queueArn],
    }));
    if (key) grantKeyThroughService(fn, key, 'sqs', this, ['kms:Decrypt']);
  }

  /** The ECS reads of enrichment: task definitions (no resource-level scope exists) and the clusters' container instances. */
  private grantEnrichment(fn: lambda.IFunction, clusters: readonly ecs.ICluster[]): void {
    const stack = Stack.of(this);
    const policy = () => defaultPolicyOf(fn.role!);
    const definitions = new iam.PolicyStatement({
      sid: 'DescribeTaskDefinitions',
      actions: ['ecs:DescribeTaskDefinition'],
      resources: ['*'],
    });
    fn.addToRolePolicy(definitions);
    acknowledgeWildcardResources(policy(), definitions,
      'ecs:DescribeTaskDefinition supports no resource-level permissions (Service Authorization Reference), so it is granted on *. '
      + 'The function reads only essential flags and awslogs settings; set enrichment: false to grant no ECS read at all.');
    if (clusters.length > 0) {
      const instances = new iam.PolicyStatement({
        sid: 'DescribeContainerInstancesOfClusters',
        actions: ['ecs:DescribeContainerInstances'],
        resources: clusters.map((c) => stack.formatArn({ service: 'ecs', resource: 'container-instance', resourceName: `${c.clusterName}/*` })),
        conditions: { ArnEquals: { 'ecs:cluster': clusters.map((c) => c.clusterArn) } },
      });
      fn.addToRolePolicy(instances);
      acknowledgeWildcardResources(policy(), instances,
        'Container instance ids are known only at run time: each resource is scoped to one of the clusters by name, and the ecs:cluster condition repeats the cluster ARN.');
    } else {
      // Left for the user to see: the scope is theirs to give (clusters), not ours to excuse.
      fn.addToRolePolicy(new iam.PolicyStatement({
        sid: 'DescribeContainerInstancesOfEveryCluster',
        actions: ['ecs:DescribeContainerInstances'],
        resources: [stack.formatArn({ service: 'ecs', resource: 'container-instance', resourceName: '*' })],
      }));
    }
  }

  /**
   * Lets EventBridge send the rules' events to the queue and, for an event it cannot deliver, to the dead-letter
   * queue (only from these rules: aws:SourceArn in the queue policies); with a customer managed key, lets EventBridge
   * use the key.
   */
  private allowRulesToSend(queue: sqs.Queue, deadLetterQueue: sqs.Queue, ruleArns: string[], key: kms.IKey | undefined): void {
    if (ruleArns.length === 0) return;
    const eventBridge = new iam.ServicePrincipal('events.amazonaws.com');
    for (const q of [queue, deadLetterQueue]) {
      q.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'EcsParrotRulesSend',
        principals: [eventBridge],
        actions: ['sqs:SendMessage'],
        resources: [q.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': ruleArns } },
      }));
    }
    if (!key) return;
    // The statement AWS documents for an AWS service that sends to an encrypted queue, without conditions: KMS is not
    // documented to see the rule's aws:SourceArn or aws:SourceAccount when EventBridge sends through SQS (for SNS it
    // is documented not to), and a condition it cannot match would lose every event. The queue policies above are
    // what keep other rules out.
    const statement = new iam.PolicyStatement({
      sid: `EcsParrotRulesEncrypt${Names.uniqueId(this).slice(-8)}`,
      principals: [eventBridge],
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: ['*'],
    });
    if (!key.addToResourcePolicy(statement).statementAdded) {
      Annotations.of(this).addWarningV2('cdk-ecs-ops/EcsParrot:encryptionKeyPolicy',
        'encryptionKey is an imported key, so its key policy cannot be changed here. For EventBridge to put events on the encrypted queues, '
        + `add this statement to the key policy: ${JSON.stringify(Stack.of(this).resolve(statement.toStatementJson()))}`);
    }
  }

  private acknowledgeFindings(fn: lambda.Function, mapping: lambda.EventSourceMapping): void {
    const fromQueue = 'The function is invoked by an SQS event source mapping, not asynchronously: a failed batch item returns to the queue '
      + 'and, after retryPeriod, moves to the queue\'s dead-letter queue, which has an alarm.';
    acknowledgeNagFinding(fn, 'Serverless-LambdaDLQ', fromQueue);
    acknowledgeNagFinding(mapping, 'Serverless-LambdaEventSourceMappingDestination',
      'Lambda supports no on-failure destination for an SQS event source: a record that keeps failing moves to the queue\'s dead-letter queue '
      + '(maxReceiveCount from retryPeriod), which has an alarm.');
    acknowledgeNagFinding(this.deadLetterQueue as sqs.Queue, 'Serverless-SQSRedrivePolicy',
      'This queue is the dead-letter queue itself: it keeps undeliverable events for 14 days under an alarm, to be moved back once the channel works.');
  }
}

/** A rule target that puts the event on the queue, and an event it cannot deliver on the dead-letter queue. */
class QueueTarget implements events.IRuleTarget {
  constructor(private readonly queue: sqs.IQueue, private readonly deadLetterQueue: sqs.IQueue) {}

  public bind(): events.RuleTargetConfig {
    // Permissions are the queues' and the key's policies, granted per rule by the construct (never a target role:
    // EventBridge fails to deliver to an encrypted queue through one).
    return {
      arn: this.queue.queueArn,
      targetResource: this.queue,
      deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
      retryPolicy: { maximumEventAgeInSeconds: 24 * 3600, maximumRetryAttempts: 185 },
    };
  }
}

const NAME = /^[A-Za-z0-9_-]{1,255}$/;

/** Checks every prop and throws one error that lists each mistake. */
function validate(scope: Construct, props: EcsParrotProps): void {
  const problems: string[] = [];
  if (!props.notifications || props.notifications.length === 0) {
    problems.push('notifications is empty; give at least one NotificationChannel (Slack, Teams, a webhook or an SNS topic)');
  }
  if (props.clusters !== undefined) {
    if (props.clusters.length === 0) problems.push('clusters is empty; give the clusters to report on, or leave it out for every cluster');
    else if (new Set(props.clusters).size !== props.clusters.length) problems.push('clusters lists the same cluster more than once');
  }
  if (props.minimumSeverity !== undefined && !Object.values(Severity).includes(props.minimumSeverity)) {
    problems.push(`minimumSeverity is ${JSON.stringify(props.minimumSeverity)}; give one of ${Object.values(Severity).join(', ')}`);
  }
  // The queue's visibility timeout and receive count are computed from these.
  problems.push(...literalDurationProblems(scope, { batchWindow: props.batchWindow, retryPeriod: props.retryPeriod }));
  const seconds = (d: Duration | undefined) => (d === undefined || d.isUnresolved() ? undefined : d.toSeconds({ integral: false }));
  const window = seconds(props.batchWindow);
  if (window !== undefined && (!Number.isInteger(window) || window < 1 || window > 300)) {
    problems.push(`batchWindow is ${props.batchWindow!.toHumanString()}; give whole seconds from 1 second to 5 minutes`);
  }
  const retry = seconds(props.retryPeriod);
  if (retry !== undefined && (retry < 15 * 60 || retry > 3 * 86_400)) {
    problems.push(`retryPeriod is ${props.retryPeriod!.toHumanString()}; give from 15 minutes to 3 days`);
  }
  const names = (prop: string, values: readonly string[] | undefined, what: string) => {
    if (values === undefined) return;
    if (values.length === 0) problems.push(`${prop} is empty; give ${what}, or leave it out`);
    const bad = values.filter((v) => !Token.isUnresolved(v) && !NAME.test(v));
    if (bad.length > 0) problems.push(`${prop} has ${bad.map((b) => JSON.stringify(b)).join(', ')}; give ${what} (letters, digits, - and _)`);
  };
  names('services.include', props.services?.include, 'service names');
  names('services.exclude', props.services?.exclude, 'service names');
  names('ignoreContainers', props.ignoreContainers, 'container names');
  const both = (props.services?.include ?? []).filter((s) => (props.services?.exclude ?? []).includes(s));
  if (both.length > 0) problems.push(`services lists ${both.join(', ')} in both include and exclude; give each service in one of them`);
  if (props.apiCalls !== undefined) {
    if (!props.includeApiCalls) problems.push('apiCalls is set without includeApiCalls; set includeApiCalls: true to report them, or leave apiCalls out');
    if (props.apiCalls.length === 0) problems.push('apiCalls is empty; give the ECS API calls to report (e.g. "RunTask"), or leave it out for the default list');
    const bad = props.apiCalls.filter((a) => !Token.isUnresolved(a) && !/^[A-Z][A-Za-z]{2,63}$/.test(a));
    if (bad.length > 0) problems.push(`apiCalls has ${bad.map((b) => JSON.stringify(b)).join(', ')}; give ECS API action names such as "RunTask", without the "ecs:" prefix`);
  }
  if (props.includeApiCalls && props.minimumSeverity === Severity.ERROR) {
    problems.push('includeApiCalls is set with minimumSeverity ERROR, but API calls are reported as INFO or WARNING: lower minimumSeverity, or leave includeApiCalls out');
  }
  if ((props.events ?? ParrotEvents.DEFAULT)._kinds().length === 0 && !props.includeApiCalls) {
    problems.push('events turns every kind of event off and includeApiCalls is not set: there is nothing to report');
  }
  problems.push(...validateHardening(props));
  problems.push(...environmentProblems(scope, 'EcsParrot', [
    ...subjectsOf('clusters', 'cluster', props.clusters, (c) => c.clusterArn),
    ...channelSubjects(props.notifications),
    ...hardeningSubjects(props),
  ]));
  throwIfInvalid('EcsParrot', problems);
}
