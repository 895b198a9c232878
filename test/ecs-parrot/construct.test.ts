/**
 * The EcsParrot construct: what it creates, the rule patterns per option (and that they let through every event
 * the handler would report, and hold back the noise), the queue's timing, the key policy, and props validation.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { corpus } from './support/corpus';
import { ACCOUNT, REGION } from './support/events';
import { EventKind, ParrotSettings, Severity as CoreSeverity, classify } from '../../lambda/ecs-parrot/core';
import { parseEvent } from '../../lambda/ecs-parrot/events';
import { EcsParrot, EcsParrotProps, NotificationChannel, ParrotEvents, Severity } from '../../src';
import { matchesEventPattern } from '../support/event-pattern';
import { IntrinsicResolver } from '../support/iam';
import { synthesizedEnvironment } from '../support/synthesized-environment';

const ENV = { account: ACCOUNT, region: REGION };

function setup() {
  const stack = new Stack(new App(), 'Stack', { env: ENV });
  const prod = ecs.Cluster.fromClusterArn(stack, 'Prod', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`);
  const batch = ecs.Cluster.fromClusterArn(stack, 'Batch', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/batch`);
  const slack = NotificationChannel.slack(secretsmanager.Secret.fromSecretNameV2(stack, 'Slack', 'chatops/slack'));
  return { stack, prod, batch, slack };
}

function parrot(props: (s: ReturnType<typeof setup>) => Partial<EcsParrotProps> = () => ({})) {
  const s = setup();
  const construct = new EcsParrot(s.stack, 'Parrot', { notifications: [s.slack], ...props(s) });
  return { ...s, parrot: construct, template: Template.fromStack(s.stack) };
}

/** The rules' event patterns, by rule id suffix (`Tasks`, `Deployments`, ...), resolved as CloudFormation would. */
function patterns(stack: Stack): Record<string, any> {
  const template = Template.fromStack(stack).toJSON();
  const resolver = new IntrinsicResolver(template, ENV);
  return Object.fromEntries(Object.entries<any>(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Events::Rule')
    .map(([id, r]) => [id.replace(/^Parrot/, '').replace(/Rule[0-9A-F]{8}$/, ''), resolver.resolve(r.Properties.EventPattern, id)]));
}

/** The handler's settings, read from the environment the construct gives its function. */
function settingsOf(stack: Stack, construct: EcsParrot): ParrotSettings {
  const env = synthesizedEnvironment(stack, construct.handler);
  const list = (name: string) => (env[name] ?? '').split(',').filter(Boolean);
  return {
    minimumSeverity: env.MINIMUM_SEVERITY as CoreSeverity,
    kinds: new Set(list('EVENT_KINDS') as EventKind[]),
    spotInterruptions: env.SPOT_INTERRUPTIONS === 'true',
    instanceDraining: env.INSTANCE_DRAINING === 'true',
    clusters: new Set(list('CLUSTERS')),
    servicesInclude: new Set(list('SERVICES_INCLUDE')),
    servicesExclude: new Set(list('SERVICES_EXCLUDE')),
    ignoreContainers: new Set(list('IGNORE_CONTAINERS')),
    apiCalls: new Set(list('API_CALLS')),
    enrichment: env.ENRICHMENT === 'true',
  };
}

const CONFIGURATIONS: Array<[string, (s: ReturnType<typeof setup>) => Partial<EcsParrotProps>]> = [
  ['the defaults', () => ({})],
  ['one cluster', (s) => ({ clusters: [s.prod] })],
  ['two clusters, one service', (s) => ({ clusters: [s.prod, s.batch], services: { include: ['api'] } })],
  ['a service excluded, sidecars ignored', () => ({ services: { exclude: ['canary'] }, ignoreContainers: ['xray-daemon'] })],
  ['a service included in every cluster', () => ({ services: { include: ['canary'] } })],
  ['INFO with API calls', () => ({ minimumSeverity: Severity.INFO, includeApiCalls: true })],
  ['WARNING with API calls', (s) => ({ clusters: [s.prod], includeApiCalls: true })],
  ['ERROR only', () => ({ minimumSeverity: Severity.ERROR })],
  ['quieter events', () => ({ events: ParrotEvents.of({ spotInterruptions: false, instanceDraining: false, serviceActions: false }) })],
];

describe('rule patterns', () => {
  test.each(CONFIGURATIONS)('with %s, every event the handler would report reaches the queue', (_name, props) => {
    const { stack, parrot: construct } = parrot(props);
    const rules = Object.values(patterns(stack));
    const settings = settingsOf(stack, construct);

    const missed = corpus().filter(({ event }) => {
      const parsed = parseEvent(event);
      if ('malformed' in parsed) throw new Error(parsed.malformed);
      return classify(parsed.event, settings, {}).interesting && !rules.some((p) => matchesEventPattern(p, event));
    }).map(({ name }) => name);

    expect(missed).toEqual([]);
  });

  test('at the defaults, most of the noise never reaches the queue', () => {
    const { stack } = parrot();
    const rules = Object.values(patterns(stack));
    const reaches = (name: string) => {
      const found = corpus().find((e) => e.name === name);
      if (!found) throw new Error(`no event ${name}`);
      return rules.some((p) => matchesEventPattern(p, found.event));
    };

    expect(['prod/api: running', 'prod/api: scale-in', 'prod/api: user stop', 'prod: instance routine', 'prod/api: SERVICE_STEADY_STATE',
      'prod/api: SERVICE_DEPLOYMENT_COMPLETED ECS deployment ecs-svc/2 completed.', 'prod: UpdateService '].map(reaches)).toEqual([false, false, false, false, false, false, false]);
    expect(['prod/api: OOM', 'prod/api: pull', 'prod: instance draining', 'prod/api: SERVICE_TASK_START_IMPAIRED',
      'prod/api: SERVICE_DEPLOYMENT_IN_PROGRESS ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1.'].map(reaches)).toEqual([true, true, true, true, true]);
  });

  test('one rule per kind; narrowed to the clusters and services given', () => {
    const { stack } = parrot((s) => ({ clusters: [s.prod], services: { include: ['api', 'worker'] } }));
    const p = patterns(stack);

    expect(Object.keys(p).sort()).toEqual(['ContainerInstances', 'Deployments', 'ServiceActions', 'Tasks']);
    expect(p.Tasks.detail).toMatchObject({ lastStatus: ['STOPPED'], clusterArn: [`arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`], group: ['service:api', 'service:worker'] });
    // Long ARNs in the cluster, and the older short ARNs (services created before 2021), which name no cluster.
    const named = ['service/prod/api', 'service/prod/worker', 'service/api', 'service/worker'].map((r) => `arn:aws:ecs:${REGION}:${ACCOUNT}:${r}`);
    expect(p.Deployments.resources).toEqual(named);
    expect(p.ServiceActions.resources).toEqual(named);
    expect(p.ServiceActions.detail).toEqual({ clusterArn: [`arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`], eventType: ['WARN', 'ERROR'] });
    expect(p.ContainerInstances.detail.$or).toEqual([{ status: ['REGISTRATION_FAILED', 'DRAINING', 'INACTIVE'] }, { agentConnected: [false] }, { agentUpdateStatus: ['FAILED'] }]);
  });

  test('narrowed to a cluster: its services\' events and short-ARN deployment events reach the queue, other clusters\' do not', () => {
    const { stack } = parrot((s) => ({ clusters: [s.prod] }));
    const p = patterns(stack);
    const reaches = (name: string) => {
      const found = corpus().find((e) => e.name === name);
      if (!found) throw new Error(`no event ${name}`);
      return Object.values(p).some((pattern) => matchesEventPattern(pattern, found.event));
    };

    expect(p.Deployments.resources).toEqual([
      { prefix: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/` },
      { 'anything-but': { wildcard: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/*/*` } },
    ]);
    // A service action names its cluster in detail.clusterArn, whatever its service's ARN.
    expect(p.ServiceActions.resources).toBeUndefined();
    expect(['prod/api: SERVICE_DEPLOYMENT_FAILED ECS deployment circuit breaker: task failed to start.', 'prod/api: short ARN SERVICE_DEPLOYMENT_FAILED',
      'prod/api: SERVICE_TASK_START_IMPAIRED', 'prod/api: short ARN SERVICE_TASK_START_IMPAIRED'].map(reaches)).toEqual([true, true, true, true]);
    // A short ARN names no cluster: its deployment events pass the rule whatever their cluster (the handler reports them
    // without one); every other event of another cluster stays out.
    expect(['batch/api: SERVICE_DEPLOYMENT_FAILED ECS deployment circuit breaker: task failed to start.', 'batch/api: short ARN SERVICE_DEPLOYMENT_FAILED',
      'batch/api: SERVICE_TASK_START_IMPAIRED', 'batch/api: short ARN SERVICE_TASK_START_IMPAIRED', 'batch/api: OOM'].map(reaches))
      .toEqual([false, true, false, false, false]);
  });

  test('API calls: a rule for the CloudTrail events of the calls listed, failed or destructive ones below INFO', () => {
    const { stack } = parrot(() => ({ includeApiCalls: true, apiCalls: ['RunTask', 'StopTask', 'SubmitTaskStateChange'] }));

    expect(patterns(stack).ApiCalls).toEqual({
      'source': ['aws.ecs'],
      'detail-type': ['AWS API Call via CloudTrail'],
      'detail': {
        eventSource: ['ecs.amazonaws.com'],
        // Each call list once per branch, never both beside and inside $or.
        $or: [{ eventName: ['StopTask'] }, { eventName: ['RunTask', 'StopTask', 'SubmitTaskStateChange'], errorCode: [{ exists: true }] }],
      },
    });
  });

  test('at ERROR there is no container instance rule (nothing there is an error)', () => {
    const { stack } = parrot(() => ({ minimumSeverity: Severity.ERROR }));
    expect(Object.keys(patterns(stack)).sort()).toEqual(['Deployments', 'ServiceActions', 'Tasks']);
  });

  test('each rule puts its events on the queue, and an event it cannot deliver on the dead-letter queue', () => {
    const { template, stack, parrot: construct } = parrot();
    const rules = Object.values(template.findResources('AWS::Events::Rule'));

    expect(rules).toHaveLength(4);
    for (const rule of rules) {
      expect(rule.Properties.Targets).toEqual([{
        Arn: stack.resolve(construct.queue.queueArn),
        Id: 'Target0',
        DeadLetterConfig: { Arn: stack.resolve(construct.deadLetterQueue.queueArn) },
        RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
      }]);
      expect(rule.Properties.Name).toMatch(/^Stack-Parrot-[0-9A-F]{8}-(Tasks|Deployments|ServiceActions|ContainerInstances)$/);
    }
  });
});

describe('the queue and the function', () => {
  test('a queue read in batches over the window, failures reported per item, its dead-letter queue kept 14 days under an alarm', () => {
    const { template } = parrot();

    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 20,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    // 6 x the 60 s timeout + the 20 s window; retried for 2 hours: ceil(7200 / 380) receives.
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 380,
      MessageRetentionPeriod: 345600,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 19 },
    });
    const dlq = Object.values(template.findResources('AWS::SQS::Queue', { Properties: { MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true } }));
    expect(dlq).toHaveLength(1);
    // Only the event queue may use it as its dead-letter queue (named, so no dependency cycle).
    expect(new IntrinsicResolver(template.toJSON(), ENV).resolve(dlq[0].Properties.RedriveAllowPolicy, 'RedriveAllowPolicy')).toEqual({
      redrivePermission: 'byQueue', sourceQueueArns: [`arn:aws:sqs:${REGION}:${ACCOUNT}:Stack-Parrot-5571D965-events`],
    });
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'Stack-Parrot-5571D965-events' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Statistic: 'Maximum', Threshold: 1, EvaluationPeriods: 1,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 60,
      MemorySize: 256,
      Environment: {
        Variables: Match.objectLike({
          MINIMUM_SEVERITY: 'WARNING',
          EVENT_KINDS: 'TASK_STOPPED,DEPLOYMENT,SERVICE_ACTION,CONTAINER_INSTANCE',
          ENRICHMENT: 'true',
          DEDUPE_WINDOW_SECONDS: '3600',
          CLUSTERS: '',
          POWERTOOLS_SERVICE_NAME: 'ecs-parrot',
        }),
      },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
  });

  test.each([
    [Duration.minutes(15), Duration.seconds(20), 380, 3],
    [Duration.hours(6), Duration.minutes(5), 660, 33],
    [Duration.days(3), Duration.seconds(1), 361, 719],
  ])('retryPeriod %s with batchWindow %s: visibility timeout %ss, maxReceiveCount %s', (retryPeriod, batchWindow, visibility, receives) => {
    const { template } = parrot(() => ({ retryPeriod, batchWindow }));
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: visibility, RedrivePolicy: Match.objectLike({ maxReceiveCount: receives }) });
  });

  test('only the rules may send to the queues', () => {
    const { template, stack } = parrot();
    const ruleArns = Object.values(template.findResources('AWS::Events::Rule'))
      .map((r) => `arn:${'${AWS::Partition}'}:events:${REGION}:${ACCOUNT}:rule/${r.Properties.Name}`);

    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    expect(policies).toHaveLength(2);
    for (const policy of policies) {
      const send = policy.Properties.PolicyDocument.Statement.find((st: any) => st.Sid === 'EcsParrotRulesSend');
      expect(send).toMatchObject({ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage' });
      const arns = (stack.resolve(send.Condition.ArnEquals['aws:SourceArn']) as any[]).map((a) => JSON.stringify(a));
      expect(arns.length).toBe(ruleArns.length);
    }
  });

  test('with encryptionKey: the queues, the table and a key policy that lets EventBridge use the key, as AWS documents it', () => {
    const { template, stack } = parrot((s) => ({ encryptionKey: new kms.Key(s.stack, 'Key', { enableKeyRotation: true }) }));
    const keyArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] };

    template.resourcePropertiesCountIs('AWS::SQS::Queue', { KmsMasterKeyId: keyArn }, 2);
    template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn } });
    const key = Object.values(template.findResources('AWS::KMS::Key'))[0];
    const forEvents = key.Properties.KeyPolicy.Statement.filter((st: any) => st.Principal?.Service === 'events.amazonaws.com');
    expect(forEvents).toHaveLength(1);
    expect(forEvents[0].Action).toEqual(['kms:GenerateDataKey', 'kms:Decrypt']);
    // No aws:SourceArn or aws:SourceAccount: KMS does not get them when EventBridge sends through SQS, so such a
    // condition would drop every event. The queue policies keep other rules out (previous test).
    expect(forEvents[0].Condition).toBeUndefined();
    expect(stack.resolve(stack.account)).toBe(ACCOUNT);
  });

  test('with an imported encryptionKey: synth warns with the key policy statement to add', () => {
    const { stack } = parrot((s) => ({ encryptionKey: kms.Key.fromKeyArn(s.stack, 'Key', `arn:aws:kms:${REGION}:${ACCOUNT}:key/0a1b2c3d-1111-2222-3333-444455556666`) }));

    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('encryptionKey is an imported key'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0].entry.data)).toContain('events.amazonaws.com');
  });

  test('alarmActions go to the dead-letter alarm; metrics name the service', () => {
    const { template, parrot: construct, stack } = parrot((s) => ({ alarmActions: [new cloudwatchActions.SnsAction(sns.Topic.fromTopicArn(s.stack, 'Alarms', `arn:aws:sns:${REGION}:${ACCOUNT}:alarms`))] }));

    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [`arn:aws:sns:${REGION}:${ACCOUNT}:alarms`] });
    expect(construct.alarms).toHaveLength(1);
    expect(stack.resolve(construct.metricMessagesSent().dimensions)).toEqual({ service: 'ecs-parrot' });
    expect(construct.metricDeliveryFailures().metricName).toBe('DeliveryFailures');
    expect(construct.metricErrors().namespace).toBe('CdkEcsOps');
  });

  test('the function\'s settings follow the props', () => {
    const { stack, parrot: construct } = parrot((s) => ({
      clusters: [s.prod, s.batch],
      events: ParrotEvents.of({ spotInterruptions: false, containerInstances: false }),
      minimumSeverity: Severity.INFO,
      includeApiCalls: true,
      apiCalls: ['RunTask'],
      ignoreContainers: ['xray-daemon'],
      services: { exclude: ['canary'] },
      enrichment: false,
    }));

    expect(synthesizedEnvironment(stack, construct.handler)).toMatchObject({
      CLUSTERS: 'prod,batch',
      EVENT_KINDS: 'TASK_STOPPED,DEPLOYMENT,SERVICE_ACTION,API_CALL',
      SPOT_INTERRUPTIONS: 'false',
      INSTANCE_DRAINING: 'true',
      MINIMUM_SEVERITY: 'INFO',
      API_CALLS: 'RunTask',
      IGNORE_CONTAINERS: 'xray-daemon',
      SERVICES_EXCLUDE: 'canary',
      SERVICES_INCLUDE: '',
      ENRICHMENT: 'false',
    });
  });
});

describe('validation', () => {
  const build = (props: (s: ReturnType<typeof setup>) => Partial<EcsParrotProps>) => () => parrot(props);

  test('fails without a notification channel', () => {
    expect(build(() => ({ notifications: [] }))).toThrow(/notifications is empty; give at least one NotificationChannel/);
  });

  test('fails on an empty or repeated clusters list', () => {
    expect(build(() => ({ clusters: [] }))).toThrow(/clusters is empty/);
    expect(build((s) => ({ clusters: [s.prod, s.prod] }))).toThrow(/clusters lists the same cluster more than once/);
  });

  test('fails on a batchWindow or retryPeriod out of range, naming each', () => {
    expect(build(() => ({ batchWindow: Duration.minutes(6), retryPeriod: Duration.minutes(5) })))
      .toThrow(/batchWindow is 6 minutes; give whole seconds from 1 second to 5 minutes[\s\S]*retryPeriod is 5 minutes; give from 15 minutes to 3 days/);
    expect(build(() => ({ batchWindow: Duration.millis(500) }))).toThrow(/batchWindow is 500 millis/);
  });

  test('fails on bad service, container and API call names, and on a service both included and excluded', () => {
    expect(build(() => ({ services: { include: ['api', 'svc/x'], exclude: ['api'] }, ignoreContainers: ['x ray'], includeApiCalls: true, apiCalls: ['ecs:RunTask'] })))
      .toThrow(/services.include has "svc\/x"[\s\S]*ignoreContainers has "x ray"[\s\S]*services lists api in both include and exclude[\s\S]*apiCalls has "ecs:RunTask"/);
  });

  test('fails on apiCalls without includeApiCalls, and on API calls at minimumSeverity ERROR', () => {
    expect(build(() => ({ apiCalls: ['RunTask'] }))).toThrow(/apiCalls is set without includeApiCalls/);
    expect(build(() => ({ includeApiCalls: true, minimumSeverity: Severity.ERROR }))).toThrow(/API calls are reported as INFO or WARNING/);
  });

  test('fails when nothing is left to report, and on an unknown minimumSeverity', () => {
    const none = ParrotEvents.of({ stoppedTasks: false, deployments: false, serviceActions: false, containerInstances: false });
    expect(build(() => ({ events: none }))).toThrow(/there is nothing to report/);
    expect(build(() => ({ minimumSeverity: 'LOUD' as Severity }))).toThrow(/minimumSeverity is "LOUD"; give one of INFO, WARNING, ERROR/);
  });

  test('fails on the hardening props as every construct does', () => {
    expect(build(() => ({ vpcSubnets: {} }))).toThrow(/vpcSubnets is set without vpc/);
  });
});
