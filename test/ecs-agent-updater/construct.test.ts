import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EcsAgentUpdater, EcsAgentUpdaterProps, NotificationChannel } from '../../src';

const ENV = { account: '123456789012', region: 'us-east-1' };

function setup() {
  const stack = new Stack(new App(), 'Stack', { env: ENV });
  const cluster = ecs.Cluster.fromClusterArn(stack, 'Cluster', 'arn:aws:ecs:us-east-1:123456789012:cluster/prod');
  const other = ecs.Cluster.fromClusterArn(stack, 'Other', 'arn:aws:ecs:us-east-1:123456789012:cluster/batch');
  return { stack, cluster, other };
}

function updaterTemplate(props: (s: ReturnType<typeof setup>) => EcsAgentUpdaterProps = (s) => ({ clusters: [s.cluster] })) {
  const s = setup();
  const updater = new EcsAgentUpdater(s.stack, 'Updater', props(s));
  return { ...s, updater, template: Template.fromStack(s.stack) };
}

/** Every statement of the updater function's role policy. */
function statements(template: Template): any[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

function actions(template: Template): string[] {
  return statements(template).flatMap((s) => [s.Action].flat()).sort();
}

function variables(template: Template): Record<string, unknown> {
  return Object.values<any>(template.findResources('AWS::Lambda::Function'))[0].Properties.Environment.Variables;
}

describe('EcsAgentUpdater', () => {
  test('creates a Node.js 24 ARM function from the prebuilt bundle that never runs twice at once', () => {
    const { template } = updaterTemplate();

    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 256,
      Timeout: 180,
      ReservedConcurrentExecutions: 1,
      Description: 'cdk-ecs-ops EcsAgentUpdater: updates ECS container agents, at most 1 at a time per cluster',
      LoggingConfig: { LogGroup: Match.anyValue() },
    });
    expect(variables(template)).toEqual({
      POWERTOOLS_SERVICE_NAME: 'ecs-agent-updater',
      POWERTOOLS_METRICS_NAMESPACE: 'CdkEcsOps',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      CLUSTERS: 'prod',
      MAX_CONCURRENT_UPDATES: '1',
      SKIP_TAG_KEY: 'ecs-ops:agent-updates',
      SKIP_TAG_VALUE: 'skip',
      DRY_RUN: 'false',
      REPORT_AMI_DRIFT: 'false',
      STATE_TABLE_NAME: { Ref: expect.stringMatching(/^UpdaterStateTable/) },
      STATE_TTL_SECONDS: '604800',
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  test('runs hourly by default; a run is neither retried nor kept waiting more than a minute', () => {
    const { template } = updaterTemplate();

    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } })],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 });
  });

  test('creates an on-demand, encrypted state table with TTL and point-in-time recovery, and grants exactly the two calls it makes', () => {
    const { template, updater } = updaterTemplate();

    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'cluster', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    const table = statements(template).find((s) => JSON.stringify(s.Action).includes('dynamodb'));
    expect([...table.Action].sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem']);
    expect(updater.table).toBeDefined();
  });

  test('with encryptionKey, the table uses the key, and the function may use it only through DynamoDB', () => {
    const { template, stack } = updaterTemplate((s) => ({ clusters: [s.cluster], encryptionKey: new kms.Key(s.stack, 'Key', { enableKeyRotation: true }) }));

    template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() } });
    const key = statements(template).find((s) => JSON.stringify(s.Action).includes('kms:'));
    expect(key).toMatchObject({
      Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
      Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com' } },
    });
    expect(stack).toBeDefined();
  });

  test('grants UpdateContainerAgent only on the given clusters\' container instances, with the ecs:cluster condition; list and describe only read', () => {
    const { template, stack } = updaterTemplate((s) => ({ clusters: [s.cluster, s.other] }));

    expect(actions(template)).toEqual([
      'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem',
      'ecs:DescribeClusters', 'ecs:DescribeContainerInstances', 'ecs:ListContainerInstances', 'ecs:UpdateContainerAgent',
      'logs:CreateLogStream', 'logs:PutLogEvents',
    ]);
    const update = statements(template).find((s) => s.Sid === 'UpdateContainerAgents');
    expect(stack.resolve(update)).toMatchObject({
      Effect: 'Allow',
      Action: 'ecs:UpdateContainerAgent',
      Resource: [
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:us-east-1:123456789012:container-instance/prod/*']] },
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:us-east-1:123456789012:container-instance/batch/*']] },
      ],
      Condition: { ArnEquals: { 'ecs:cluster': ['arn:aws:ecs:us-east-1:123456789012:cluster/prod', 'arn:aws:ecs:us-east-1:123456789012:cluster/batch'] } },
    });
    expect(statements(template).find((s) => s.Sid === 'ReadClusters').Resource)
      .toEqual(['arn:aws:ecs:us-east-1:123456789012:cluster/prod', 'arn:aws:ecs:us-east-1:123456789012:cluster/batch']);
  });

  test('a dry run has no permission to update an agent at all', () => {
    const { template } = updaterTemplate((s) => ({ clusters: [s.cluster], dryRun: true }));

    expect(actions(template)).not.toContain('ecs:UpdateContainerAgent');
    expect(variables(template).DRY_RUN).toBe('true');
    template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('dry run: updates nothing') });
  });

  test('without clusters: every cluster of the account, scoped by the ecs:cluster condition to the account, and synth warns', () => {
    const { template, stack } = updaterTemplate(() => ({}));

    expect(variables(template).CLUSTERS).toBeUndefined();
    expect(statements(template).find((s) => s.Sid === 'ListClusters')).toMatchObject({ Action: 'ecs:ListClusters', Resource: '*' });
    const update = stack.resolve(statements(template).find((s) => s.Sid === 'UpdateContainerAgents'));
    expect(update.Condition).toEqual({ ArnLike: { 'ecs:cluster': [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:us-east-1:123456789012:cluster/*']] }] } });
    Annotations.fromStack(stack).hasWarning('/Stack/Updater', Match.stringLikeRegexp('clusters is not set, so the updater reads every ECS cluster'));
  });

  test('no Auto Scaling or EC2 permission by default; reportAmiDrift adds three describe actions and nothing else', () => {
    const plain = updaterTemplate().template;
    const drift = updaterTemplate((s) => ({ clusters: [s.cluster], reportAmiDrift: true })).template;

    expect(actions(plain).filter((a) => /^(autoscaling|ec2):/.test(a))).toEqual([]);
    expect(statements(drift).find((s) => s.Sid === 'ReadLaunchTemplatesOfGroups')).toEqual({
      Sid: 'ReadLaunchTemplatesOfGroups',
      Effect: 'Allow',
      Action: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeLaunchConfigurations', 'ec2:DescribeLaunchTemplateVersions'],
      Resource: '*',
    });
    expect(variables(drift).REPORT_AMI_DRIFT).toBe('true');
  });

  test('passes every setting to the function', () => {
    const { template } = updaterTemplate((s) => ({
      clusters: [s.cluster, s.other],
      maxConcurrentUpdates: 3,
      skipTag: { key: 'team/agent-updates' },
      schedule: events.Schedule.rate(Duration.days(3)),
      enabled: false,
      removalPolicy: RemovalPolicy.RETAIN,
    }));

    expect(variables(template)).toMatchObject({
      CLUSTERS: 'prod,batch',
      MAX_CONCURRENT_UPDATES: '3',
      SKIP_TAG_KEY: 'team/agent-updates',
      STATE_TTL_SECONDS: String(9 * 86_400),
    });
    expect(variables(template).SKIP_TAG_VALUE).toBeUndefined();
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(3 days)', State: 'DISABLED' });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
  });

  test('state lives a week, three periods of a slower rate, or 35 days with a cron schedule', () => {
    const ttl = (schedule: events.Schedule) => variables(updaterTemplate((s) => ({ clusters: [s.cluster], schedule })).template).STATE_TTL_SECONDS;

    expect(ttl(events.Schedule.rate(Duration.minutes(5)))).toBe('604800');
    expect(ttl(events.Schedule.rate(Duration.days(7)))).toBe(String(21 * 86_400));
    expect(ttl(events.Schedule.cron({ minute: '0', hour: '3' }))).toBe(String(35 * 86_400));
  });

  test('binds notification channels: secret read, SNS publish, and the channel list in the environment', () => {
    const { template } = updaterTemplate((s) => ({
      clusters: [s.cluster],
      notifications: [
        NotificationChannel.slack(secretsmanager.Secret.fromSecretNameV2(s.stack, 'Slack', 'chatops/slack'), { jsonKey: 'url' }),
        NotificationChannel.snsTopic(sns.Topic.fromTopicArn(s.stack, 'Topic', 'arn:aws:sns:us-east-1:123456789012:ops')),
      ],
    }));

    expect(actions(template)).toEqual(expect.arrayContaining(['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret', 'sns:Publish']));
    const channels = JSON.stringify(variables(template).NOTIFICATION_CHANNELS);
    expect(channels).toContain('\\"type\\":\\"slack\\"');
    expect(channels).toContain('\\"topicArn\\":\\"arn:aws:sns:us-east-1:123456789012:ops\\"');
  });

  test('creates the alarms only when asked: outdated agents for a day, and errors in two of three runs', () => {
    expect(updaterTemplate().template.findResources('AWS::CloudWatch::Alarm')).toEqual({});

    const { template, updater, stack } = updaterTemplate((s) => ({
      clusters: [s.cluster],
      createAlarms: true,
      alarmActions: [new cloudwatchActions.SnsAction(sns.Topic.fromTopicArn(s.stack, 'Alarms', 'arn:aws:sns:us-east-1:123456789012:alarms'))],
    }));

    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'OutdatedAgents',
      Namespace: 'CdkEcsOps',
      Statistic: 'Minimum',
      Period: 3600,
      EvaluationPeriods: 24,
      DatapointsToAlarm: 24,
      Dimensions: [{ Name: 'service', Value: 'ecs-agent-updater' }],
      AlarmActions: ['arn:aws:sns:us-east-1:123456789012:alarms'],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', EvaluationPeriods: 3, DatapointsToAlarm: 2, Period: 3600 });
    expect(updater.alarms).toHaveLength(2);
    expect(stack).toBeDefined();
  });

  test('metrics: per cluster by dimension, the fleet without one; a cluster that is not the updater\'s fails', () => {
    const { updater, cluster, stack } = updaterTemplate((s) => ({ clusters: [s.cluster] }));

    expect(stack.resolve(updater.metricOutdatedAgents(cluster).dimensions)).toEqual({ service: 'ecs-agent-updater', ClusterName: 'prod' });
    expect(updater.metricOutdatedAgents().dimensions).toEqual({ service: 'ecs-agent-updater' });
    expect(updater.metricUpdatesRequested().statistic).toBe('Sum');
    expect(updater.metricUnhealthyClusters().metricName).toBe('UnhealthyClusters');
    expect(updater.metricErrors().period.toMinutes()).toBe(60);
    expect(() => updater.metricErrors(ecs.Cluster.fromClusterArn(stack, 'X', 'arn:aws:ecs:us-east-1:123456789012:cluster/x')))
      .toThrow(/Errors metric: cluster Stack\/X is not one of this updater's clusters/);
  });
});

describe('EcsAgentUpdater props validation', () => {
  const make = (props: (s: ReturnType<typeof setup>) => EcsAgentUpdaterProps) => () => {
    const s = setup();
    new EcsAgentUpdater(s.stack, 'Updater', props(s));
  };

  test('fails on an empty cluster list, or a cluster listed twice', () => {
    expect(make(() => ({ clusters: [] }))).toThrow(/clusters is empty; give at least one ecs.ICluster, or leave clusters out/);
    expect(make((s) => ({ clusters: [s.cluster, s.cluster] }))).toThrow(/clusters lists the same cluster more than once/);
  });

  test.each([
    ['maxConcurrentUpdates 0', { maxConcurrentUpdates: 0 }, /maxConcurrentUpdates is 0; give a whole number from 1 to 100/],
    ['maxConcurrentUpdates 1.5', { maxConcurrentUpdates: 1.5 }, /maxConcurrentUpdates is 1.5/],
    ['a schedule faster than 5 minutes', { schedule: events.Schedule.rate(Duration.minutes(2)) }, /schedule is rate\(2 minutes\); give a rate of at least 5 minutes/],
    ['an aws: skip tag', { skipTag: { key: 'aws:cloudformation:stack-name' } }, /skipTag.key is "aws:cloudformation:stack-name"; give 1 to 128 letters/],
    ['an empty skip tag key', { skipTag: { key: '' } }, /skipTag.key is ""/],
    ['a skip tag value with a bad character', { skipTag: { key: 'k', value: 'skip!' } }, /skipTag.value is "skip!"/],
  ])('fails on %s', (_name, props, message) => {
    expect(make((s) => ({ clusters: [s.cluster], ...props }))).toThrow(message);
  });

  test('fails on alarmActions without createAlarms', () => {
    expect(make((s) => ({
      clusters: [s.cluster],
      alarmActions: [new cloudwatchActions.SnsAction(sns.Topic.fromTopicArn(s.stack, 'T', 'arn:aws:sns:us-east-1:123456789012:t'))],
    }))).toThrow(/alarmActions is set without createAlarms/);
  });

  test('reports every mistake at once', () => {
    expect(make(() => ({ clusters: [], maxConcurrentUpdates: 1000, schedule: events.Schedule.rate(Duration.minutes(1)) })))
      .toThrow(/clusters is empty[\s\S]*maxConcurrentUpdates is 1000[\s\S]*schedule is rate\(1 minute\)/);
  });
});
