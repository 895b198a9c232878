import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EcsAgentMonitor, EcsAgentMonitorProps, FailureStore, NotificationChannel, ReplacementAction, TerminationScope } from '../../src';

const ENV = { account: '123456789012', region: 'us-east-1' };

function setup() {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: ENV });
  const cluster = ecs.Cluster.fromClusterArn(stack, 'Cluster', 'arn:aws:ecs:us-east-1:123456789012:cluster/prod');
  const other = ecs.Cluster.fromClusterArn(stack, 'Other', 'arn:aws:ecs:us-east-1:123456789012:cluster/batch');
  const asg = autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Asg', 'prod-asg');
  const profile = iam.InstanceProfile.fromInstanceProfileName(stack, 'Profile', 'ecs-instance');
  return { app, stack, cluster, other, asg, profile };
}

function monitorTemplate(props: (s: ReturnType<typeof setup>) => Partial<EcsAgentMonitorProps> = () => ({})) {
  const s = setup();
  const monitor = new EcsAgentMonitor(s.stack, 'Monitor', { clusters: [s.cluster], ...props(s) });
  return { ...s, monitor, template: Template.fromStack(s.stack) };
}

/** Every statement of the monitor function's role policy. */
function statements(template: Template): any[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

describe('EcsAgentMonitor', () => {
  test('creates a Node.js 24 ARM function from the prebuilt bundle with its own log group', () => {
    const { template } = monitorTemplate();

    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 256,
      Timeout: 120,
      Description: Match.stringLikeRegexp('EcsAgentMonitor'),
      LoggingConfig: { LogGroup: Match.anyValue() },
      Environment: {
        Variables: Match.objectLike({
          CLUSTERS: 'prod',
          FAIL_AFTER: '2',
          GRACE_PERIOD_SECONDS: '600',
          ACTION: 'SET_UNHEALTHY',
          MAX_REPLACEMENTS_PER_RUN: '1',
          OUTAGE_THRESHOLD_PERCENT: '50',
          TERMINATE_STANDALONE_INSTANCES: 'false',
          FAILURE_STORE: 'dynamodb',
          FAILURE_TTL_SECONDS: '450',
          POWERTOOLS_SERVICE_NAME: 'ecs-agent-monitor',
        }),
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  test('runs every five minutes by default and does not retry a failed run', () => {
    const { template } = monitorTemplate();

    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 0 } })],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
  });

  test('passes every setting to the function', () => {
    const { template } = monitorTemplate((s) => ({
      clusters: [s.cluster, s.other],
      failAfter: 4,
      gracePeriod: Duration.minutes(20),
      action: ReplacementAction.DETACH_AND_TERMINATE,
      maxReplacementsPerRun: 3,
      outageThreshold: 30,
      treatImpairedAsFailed: true,
      terminateStandaloneInstances: true,
      terminationScope: TerminationScope.instanceProfiles([s.profile]),
      autoScalingGroups: [s.asg],
      schedule: events.Schedule.rate(Duration.minutes(2)),
      maxReplacementsPerRunTotal: 5,
    }));

    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          CLUSTERS: 'prod,batch',
          FAIL_AFTER: '4',
          GRACE_PERIOD_SECONDS: '1200',
          ACTION: 'DETACH_AND_TERMINATE',
          MAX_REPLACEMENTS_PER_RUN: '3',
          OUTAGE_THRESHOLD_PERCENT: '30',
          TREAT_IMPAIRED_AS_FAILED: 'true',
          TERMINATE_STANDALONE_INSTANCES: 'true',
          AUTO_SCALING_GROUPS: 'prod-asg',
          MAX_REPLACEMENTS_PER_RUN_TOTAL: '5',
          FAILURE_MIN_GAP_SECONDS: '60',
        }),
      },
    });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(2 minutes)' });
  });

  test('a failure count lives one and a half periods and goes up at most once per half period; a cron schedule says its period', () => {
    const variables = (props: Partial<EcsAgentMonitorProps>) => {
      const fn = Object.values<any>(monitorTemplate(() => props).template.findResources('AWS::Lambda::Function'))[0];
      const v = fn.Properties.Environment.Variables;
      return [v.FAILURE_TTL_SECONDS, v.FAILURE_MIN_GAP_SECONDS];
    };
    expect(variables({ schedule: events.Schedule.rate(Duration.minutes(1)) })).toEqual(['90', '30']);
    expect(variables({ schedule: events.Schedule.rate(Duration.hours(1)) })).toEqual(['5400', '1800']);
    expect(variables({ schedule: events.Schedule.cron({ minute: '*/10' }), schedulePeriod: Duration.minutes(10) })).toEqual(['900', '300']);
  });

  test('runs never overlap: reserved concurrency 1, and a throttled invocation is dropped after a minute', () => {
    const { template } = monitorTemplate();

    template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 1 });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 0 });
  });

  test.each([
    [1, 60], [5, 300], [15, 900], [60, 3600],
  ])('with a %i minute rate, the alarms and metrics use %i-second periods, so every period has its run\'s datapoint', (minutes, seconds) => {
    const { template, monitor } = monitorTemplate(() => ({ schedule: events.Schedule.rate(Duration.minutes(minutes)), createAlarms: true }));

    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DisconnectedAgents', Period: seconds, EvaluationPeriods: 5, DatapointsToAlarm: 5,
    });
    const errors = Object.values<any>(template.findResources('AWS::CloudWatch::Alarm')).find((a) => !a.Properties.MetricName);
    expect(errors.Properties).toMatchObject({ EvaluationPeriods: 3, DatapointsToAlarm: 2 });
    expect(errors.Properties.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Period)).toEqual([seconds, seconds]);
    expect((monitor.metricReplacements() as any).period.toSeconds()).toBe(seconds);
  });

  test('the alarm actions go on both alarms', () => {
    const { template } = monitorTemplate((s) => ({
      createAlarms: true,
      alarmActions: [{ bind: () => ({ alarmActionArn: 'arn:aws:sns:us-east-1:123456789012:alarms' }) }],
      clusters: [s.cluster],
    }));
    const alarms = Object.values<any>(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.map((a) => a.Properties.AlarmActions)).toEqual([['arn:aws:sns:us-east-1:123456789012:alarms'], ['arn:aws:sns:us-east-1:123456789012:alarms']]);
  });

  test('ec2:TerminateInstances is granted only to terminate, and only within the termination scope', () => {
    const terminate = (props: (s: ReturnType<typeof setup>) => Partial<EcsAgentMonitorProps>) =>
      statements(monitorTemplate(props).template).find((st) => st.Action === 'ec2:TerminateInstances');

    expect(terminate(() => ({}))).toBeUndefined();
    expect(terminate((s) => ({
      action: ReplacementAction.NOTIFY_ONLY, terminateStandaloneInstances: true, terminationScope: TerminationScope.instanceProfiles([s.profile]),
    }))).toBeUndefined();
    expect(terminate((s) => ({
      action: ReplacementAction.DETACH_AND_TERMINATE, terminationScope: TerminationScope.instanceProfiles([s.profile]),
    }))).toMatchObject({
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:us-east-1:123456789012:instance/*']] },
      Condition: { ArnEquals: { 'ec2:InstanceProfile': [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:instance-profile/ecs-instance']] }] } },
    });
    expect(terminate(() => ({ terminateStandaloneInstances: true, terminationScope: TerminationScope.tag('ecs-cluster', 'prod') }))).toMatchObject({
      Condition: { StringEquals: { 'aws:ResourceTag/ecs-cluster': 'prod' } },
    });
  });

  test('grants the key of a failure table passed in, through DynamoDB only', () => {
    const { template } = monitorTemplate((s) => {
      const key = new kms.Key(s.stack, 'TableKey');
      const table = new dynamodb.Table(s.stack, 'Counts', {
        partitionKey: { name: 'cluster', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'instance', type: dynamodb.AttributeType.STRING },
        encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: key,
      });
      return { failureStore: FailureStore.dynamoDb({ table }) };
    });

    expect(statements(template).find((st) => JSON.stringify(st.Action).includes('kms:'))).toEqual({
      Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^TableKey/), 'Arn'] },
      Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com' } },
    });
  });

  test('creates an on-demand encrypted failure table with TTL and point-in-time recovery', () => {
    const { template, monitor } = monitorTemplate();

    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'cluster', KeyType: 'HASH' }, { AttributeName: 'instance', KeyType: 'RANGE' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(monitor.table).toBeDefined();
    const table = statements(template).find((s) => JSON.stringify(s.Action).includes('dynamodb'));
    expect([...table.Action].sort()).toEqual(['dynamodb:BatchWriteItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
  });

  test('grants only the chosen replacement action, on the given groups', () => {
    const { template } = monitorTemplate((s) => ({ autoScalingGroups: [s.asg] }));
    const actions = statements(template).flatMap((s) => [s.Action].flat());

    expect(actions).toContain('autoscaling:SetInstanceHealth');
    expect(actions).not.toContain('autoscaling:TerminateInstanceInAutoScalingGroup');
    expect(actions).not.toContain('autoscaling:DetachInstances');
    expect(actions).not.toContain('ec2:TerminateInstances');
    expect(actions).not.toContain('ecs:UpdateContainerAgent');
    const replace = statements(template).find((s) => s.Sid === 'ReplaceInstancesInGroups');
    expect(JSON.stringify(replace.Resource)).toContain('autoScalingGroupName/prod-asg');
  });

  test('a dry run grants no replacement action at all', () => {
    const { template } = monitorTemplate(() => ({ action: ReplacementAction.NOTIFY_ONLY }));
    const actions = statements(template).flatMap((s) => [s.Action].flat());

    expect(actions.filter((a) => /SetInstanceHealth|Terminate|Detach/.test(a))).toEqual([]);
  });

  test('warns when replacement is not scoped to groups', () => {
    const { stack } = monitorTemplate();

    Annotations.fromStack(stack).hasWarning('/Stack/Monitor', Match.stringLikeRegexp('autoScalingGroups is not set'));
  });

  test('binds notification channels: secret read, SNS publish, and the channel list in the environment', () => {
    const { template } = monitorTemplate((s) => ({
      notifications: [
        NotificationChannel.slack(secretsmanager.Secret.fromSecretNameV2(s.stack, 'Slack', 'chatops/slack'), { jsonKey: 'url' }),
        NotificationChannel.teamsFromParameter('/chatops/teams'),
        NotificationChannel.snsTopic(new sns.Topic(s.stack, 'Topic', { enforceSSL: true })),
      ],
    }));

    const actions = statements(template).flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['secretsmanager:GetSecretValue', 'ssm:GetParameter', 'sns:Publish']));
    const ssm = statements(template).find((s) => s.Action === 'ssm:GetParameter');
    expect(JSON.stringify(ssm.Resource)).toContain(':parameter/chatops/teams');
    const fn = Object.values<any>(template.findResources('AWS::Lambda::Function'))[0];
    const channels = JSON.stringify(fn.Properties.Environment.Variables.NOTIFICATION_CHANNELS);
    expect(channels).toContain('\\"type\\":\\"slack\\"');
    expect(channels).toContain('\\"secretJsonKey\\":\\"url\\"');
    expect(channels).toContain('\\"parameterName\\":\\"/chatops/teams\\"');
    expect(channels).not.toMatch(/https:\/\//);
  });

  test('with a Redis store, runs in the VPC and passes the endpoint settings', () => {
    const { template } = monitorTemplate((s) => {
      const vpc = new ec2.Vpc(s.stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
      return {
        failureStore: FailureStore.redis({
          vpc,
          replicationGroupId: 'agent-counts',
          authToken: secretsmanager.Secret.fromSecretNameV2(s.stack, 'RedisAuth', 'redis/auth'),
        }),
      };
    });

    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue(), SecurityGroupIds: Match.anyValue() }),
      Environment: { Variables: Match.objectLike({ FAILURE_STORE: 'redis', REDIS_REPLICATION_GROUP_ID: 'agent-counts', REDIS_AUTH_SECRET_ARN: Match.anyValue() }) },
    });
    const describe = statements(template).find((s) => s.Action === 'elasticache:DescribeReplicationGroups');
    expect(JSON.stringify(describe.Resource)).toContain(':replicationgroup:agent-counts');
  });

  test('creates the alarms only when asked', () => {
    expect(monitorTemplate().template.findResources('AWS::CloudWatch::Alarm')).toEqual({});

    const { template, monitor } = monitorTemplate(() => ({ createAlarms: true }));
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DisconnectedAgents',
      Namespace: 'CdkEcsOps',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      Period: 300,
      Dimensions: Match.arrayWith([{ Name: 'ClusterName', Value: 'prod' }]),
    });
    expect(monitor.alarms).toHaveLength(2);
  });

  test('metrics: one cluster by dimension, several summed', () => {
    const { monitor, cluster, other, stack } = monitorTemplate((s) => ({ clusters: [s.cluster, s.other] }));

    const one = stack.resolve((monitor.metricReplacements(cluster) as any).dimensions);
    expect(one).toEqual({ service: 'ecs-agent-monitor', ClusterName: 'prod' });
    expect((monitor.metricDisconnectedAgents() as any).expression).toBe('FILL(m0, 0) + FILL(m1, 0)');
    // Errors also counts runs that failed as a whole, published without a cluster dimension.
    const errors = monitor.metricErrors() as any;
    expect(errors.expression).toBe('FILL(m0, 0) + FILL(m1, 0) + FILL(m2, 0)');
    expect(stack.resolve(errors.usingMetrics.m2.dimensions)).toEqual({ service: 'ecs-agent-monitor' });
    expect(() => monitor.metricErrors(ecs.Cluster.fromClusterArn(stack, 'X', 'arn:aws:ecs:us-east-1:123456789012:cluster/x'))).toThrow(/not one of this monitor's clusters/);
    expect(other).toBeDefined();
  });
});

describe('EcsAgentMonitor props validation', () => {
  const make = (props: (s: ReturnType<typeof setup>) => Partial<EcsAgentMonitorProps>) => () => {
    const s = setup();
    new EcsAgentMonitor(s.stack, 'Monitor', { clusters: [s.cluster], ...props(s) });
  };

  test('fails without a cluster', () => {
    expect(make(() => ({ clusters: [] }))).toThrow(/clusters is empty; give at least one ecs.ICluster/);
  });

  test('fails on a cluster listed twice', () => {
    expect(make((s) => ({ clusters: [s.cluster, s.cluster] }))).toThrow(/clusters lists the same cluster more than once/);
  });

  test.each([
    ['failAfter', { failAfter: 0 }, /failAfter is 0; give a whole number from 1 to 100/],
    ['failAfter', { failAfter: 1.5 }, /failAfter is 1.5/],
    ['maxReplacementsPerRun', { maxReplacementsPerRun: 0 }, /maxReplacementsPerRun is 0; give a whole number from 1 to 100/],
    ['outageThreshold', { outageThreshold: 150 }, /outageThreshold is 150; give a whole percent from 1 to 99/],
    ['outageThreshold', { outageThreshold: 100 }, /outageThreshold is 100; give a whole percent from 1 to 99 \(the guard trips when more than this share fails, so 100 could never trip\)/],
    ['maxReplacementsPerRunTotal', { maxReplacementsPerRunTotal: 0 }, /maxReplacementsPerRunTotal is 0; give a whole number from 1 to 1000/],
    ['schedule', { schedule: events.Schedule.cron({ minute: '*/10' }) }, /schedule is cron\(\*\/10 \* \* \* \? \*\), a cron schedule; give schedulePeriod/],
    ['schedulePeriod', { schedulePeriod: Duration.seconds(90) }, /schedulePeriod is 1 minute 30 seconds; give whole minutes, at least one/],
    ['action', { action: ReplacementAction.DETACH_AND_TERMINATE }, /action is DETACH_AND_TERMINATE, so the monitor terminates instances with ec2:TerminateInstances; give terminationScope/],
    ['terminateStandaloneInstances', { terminateStandaloneInstances: true }, /terminateStandaloneInstances is true, so the monitor terminates instances .*; give terminationScope/],
    ['terminationScope', { terminationScope: TerminationScope.tag('aws:autoscaling:groupName', 'x') }, /terminationScope: TerminationScope.tag\(\) key is "aws:autoscaling:groupName"/],
    ['createAlarms', { createAlarms: true, failAfter: 100, schedule: events.Schedule.rate(Duration.minutes(15)) }, /createAlarms: the DisconnectedAgents alarm would evaluate 103 periods of 15 minutes \(92,700 s\), more than the 86,400 s \(1 day\) CloudWatch allows/],
    ['alarmActions', { alarmActions: [{ bind: () => ({ alarmActionArn: 'arn:aws:sns:us-east-1:123456789012:a' }) }] }, /alarmActions is set without createAlarms/],
    ['gracePeriod', { gracePeriod: Duration.days(2) }, /gracePeriod is 2 days; give at most 1 day/],
    ['action', { action: 'REBOOT' as ReplacementAction }, /action is "REBOOT"; give one of SET_UNHEALTHY/],
    ['autoScalingGroups', { autoScalingGroups: [] }, /autoScalingGroups is empty/],
  ])('fails on a bad %s', (_name, props, message) => {
    expect(make(() => props as Partial<EcsAgentMonitorProps>)).toThrow(message);
  });

  test('fails on a Redis store with neither host nor replication group, and a bad port', () => {
    expect(make((s) => ({
      failureStore: FailureStore.redis({ vpc: new ec2.Vpc(s.stack, 'Vpc'), port: 70000 }),
    }))).toThrow(/needs exactly one of host or replicationGroupId \(got neither\)[\s\S]*port is 70000/);
  });

  test('reports every mistake at once', () => {
    expect(make(() => ({ failAfter: -1, maxReplacementsPerRun: 1000, outageThreshold: 0 })))
      .toThrow(/failAfter is -1[\s\S]*maxReplacementsPerRun is 1000[\s\S]*outageThreshold is 0/);
  });

  test('fails on an SSM parameter channel given a URL', () => {
    expect(() => NotificationChannel.slackFromParameter('https://hooks.slack.com/services/x'))
      .toThrow(/parameterName is "https:\/\/hooks.slack.com\/services\/x"; give an SSM parameter name/);
  });
});
