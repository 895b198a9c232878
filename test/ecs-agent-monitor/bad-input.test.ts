/**
 * EcsAgentMonitor refuses at synth what would fail or misbehave at deploy or run time: resources of another account or
 * region than its stack, tokens where it computes with a number, alarms CloudWatch cannot evaluate. It takes what it
 * cannot compare (an environment-agnostic stack or resource) and carries the tokens it only hands on.
 */
import { CfnParameter, Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EcsAgentMonitor, EcsAgentMonitorProps, FailureStore, NotificationChannel, ReplacementAction, TerminationScope } from '../../src';
import { Environments, HOME, OTHER_ACCOUNT, OTHER_REGION, arnIn, clusterNamed, environments, numberParameter, warningsOf } from '../support/environments';

function homeCluster(stack: Stack, id = 'Cluster'): ecs.ICluster {
  return ecs.Cluster.fromClusterArn(stack, id, arnIn(HOME, 'ecs', 'cluster/prod'));
}

function monitor(props: (e: Environments) => Partial<EcsAgentMonitorProps>) {
  const e = environments();
  const given = props(e);
  const construct = new EcsAgentMonitor(e.stack, 'Monitor', { ...given, clusters: given.clusters ?? [homeCluster(e.stack)] });
  return { ...e, monitor: construct };
}

const make = (props: (e: Environments) => Partial<EcsAgentMonitorProps>) => () => monitor(props);

function variables(stack: Stack): Record<string, unknown> {
  const fns = Template.fromStack(stack).findResources('AWS::Lambda::Function');
  return Object.values<any>(fns)[0].Properties.Environment.Variables;
}

describe('EcsAgentMonitor: resources of another account or region', () => {
  test('fails on a cluster of another region, naming the prop, the cluster and both regions', () => {
    const arn = arnIn({ region: OTHER_REGION }, 'ecs', 'cluster/prod');
    expect(make((e) => ({ clusters: [homeCluster(e.stack), ecs.Cluster.fromClusterArn(e.stack, 'Ireland', arn)] })))
      .toThrow(new RegExp(`clusters\\[1\\] \\(cluster Stack/Ireland, ${arn}\\) is in region eu-west-1, but the stack Stack deploys to region us-east-1: `
        + 'EcsAgentMonitor acts in its own stack\'s account and region only .*Give a cluster of region us-east-1, or put the EcsAgentMonitor in a stack of region eu-west-1'));
  });

  test('fails on a cluster of another account', () => {
    expect(make((e) => ({ clusters: [ecs.Cluster.fromClusterArn(e.stack, 'Theirs', arnIn({ account: OTHER_ACCOUNT }, 'ecs', 'cluster/prod'))] })))
      .toThrow(/clusters\[0\] \(cluster Stack\/Theirs, .*\) is in account 210987654321, but the stack Stack deploys to account 123456789012/);
  });

  test('fails on a cluster defined in a stack of another region (no ARN to read: its stack says where it is)', () => {
    expect(make((e) => ({ clusters: [clusterNamed(e.otherRegion, 'Cluster', 'prod')] })))
      .toThrow(/clusters\[0\] \(cluster OtherRegion\/Cluster\) is in region eu-west-1, but the stack Stack deploys to region us-east-1/);
  });

  test('fails on an Auto Scaling group, a failure table and an instance profile of other accounts or regions', () => {
    expect(make((e) => ({
      autoScalingGroups: [autoscaling.AutoScalingGroup.fromAutoScalingGroupName(e.otherRegion, 'Asg', 'prod-asg')],
      failureStore: FailureStore.dynamoDb({ table: dynamodb.Table.fromTableArn(e.stack, 'Table', arnIn({ region: OTHER_REGION }, 'dynamodb', 'table/counts')) }),
      action: ReplacementAction.DETACH_AND_TERMINATE,
      terminationScope: TerminationScope.instanceProfiles([
        iam.InstanceProfile.fromInstanceProfileArn(e.stack, 'Profile', `arn:aws:iam::${OTHER_ACCOUNT}:instance-profile/ecs`),
      ]),
    }))).toThrow(new RegExp([
      'autoScalingGroups\\[0\\] \\(Auto Scaling group OtherRegion/Asg.*\\) is in region eu-west-1, but the stack Stack deploys to region us-east-1',
      'failureStore: FailureStore.dynamoDb\\(\\) table \\(DynamoDB table Stack/Table, arn:aws:dynamodb:eu-west-1:123456789012:table/counts\\) is in region eu-west-1',
      'terminationScope: TerminationScope.instanceProfiles\\(\\)\\[0\\] \\(instance profile Stack/Profile, .*\\) is in account 210987654321, but the stack Stack deploys to account 123456789012',
    ].join('[\\s\\S]*')));
  });

  test('fails on a Redis store whose VPC, security group and AUTH secret are of another region', () => {
    expect(make((e) => {
      const vpc = ec2.Vpc.fromVpcAttributes(e.otherRegion, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['eu-west-1a'], privateSubnetIds: ['subnet-1'] });
      return {
        failureStore: FailureStore.redis({
          vpc,
          host: 'redis.example.internal',
          securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(e.otherRegion, 'Sg', 'sg-1')],
          authToken: secretsmanager.Secret.fromSecretCompleteArn(e.stack, 'Auth', arnIn({ region: OTHER_REGION }, 'secretsmanager', 'secret:redis-AbCdEf')),
        }),
      };
    })).toThrow(new RegExp([
      'failureStore: FailureStore.redis\\(\\) vpc \\(VPC OtherRegion/Vpc.*\\) is in region eu-west-1',
      'failureStore: FailureStore.redis\\(\\) securityGroups\\[0\\] \\(security group OtherRegion/Sg\\) is in region eu-west-1',
      'failureStore: FailureStore.redis\\(\\) authToken \\(secret Stack/Auth, .*\\) is in region eu-west-1, but the stack Stack deploys to region us-east-1: '
        + 'EcsAgentMonitor\'s function calls AWS in its own region, where another region\'s secret cannot be reached. Replicate the secret to us-east-1',
    ].join('[\\s\\S]*')));
  });

  test('fails on a notification secret or topic of another region, which the function cannot reach', () => {
    expect(make((e) => ({
      notifications: [
        NotificationChannel.slack(secretsmanager.Secret.fromSecretCompleteArn(e.stack, 'Slack', arnIn({ region: OTHER_REGION }, 'secretsmanager', 'secret:slack-AbCdEf'))),
        NotificationChannel.snsTopic(sns.Topic.fromTopicArn(e.stack, 'Topic', arnIn({ region: OTHER_REGION }, 'sns', 'oncall'))),
      ],
    }))).toThrow(new RegExp([
      'notifications\\[0\\] \\(secret Stack/Slack, arn:aws:secretsmanager:eu-west-1:123456789012:secret:slack-AbCdEf\\) is in region eu-west-1, '
        + 'but the stack Stack deploys to region us-east-1: .*Replicate the secret to us-east-1 \\(Secrets Manager replica regions\\)',
      'notifications\\[1\\] \\(SNS topic Stack/Topic, arn:aws:sns:eu-west-1:123456789012:oncall\\) is in region eu-west-1, .*Give a topic of us-east-1',
    ].join('[\\s\\S]*')));
  });

  test('takes a notification topic of another account in its region, and warns that its policy must allow the function', () => {
    const { stack } = monitor((e) => ({
      notifications: [NotificationChannel.snsTopic(sns.Topic.fromTopicArn(e.stack, 'Central', arnIn({ account: OTHER_ACCOUNT }, 'sns', 'oncall')))],
    }));

    const [warning] = warningsOf(stack, 'cdk-ecs-ops/EcsAgentMonitor:crossAccount');
    expect(warning).toMatch(/notifications\[0\] \(SNS topic Stack\/Central, arn:aws:sns:us-east-1:210987654321:oncall\) is in account 210987654321, not the stack's account 123456789012/);
    expect(warning).toMatch(/its resource policy \(and the policy of the KMS key that encrypts it\) allows the function's role/);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'sns:Publish', Resource: 'arn:aws:sns:us-east-1:210987654321:oncall' })]) },
    });
  });

  test('fails on hardening props of another region: the log key, the VPC and its subnets, the security groups', () => {
    expect(make((e) => {
      const vpc = ec2.Vpc.fromVpcAttributes(e.otherRegion, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['eu-west-1a'], privateSubnetIds: ['subnet-1'] });
      return {
        logEncryptionKey: kms.Key.fromKeyArn(e.stack, 'LogKey', arnIn({ region: OTHER_REGION }, 'kms', 'key/1234abcd-12ab-34cd-56ef-1234567890ab')),
        encryptionKey: new kms.Key(e.otherAccount, 'TableKey'),
        vpc,
        vpcSubnets: { subnets: [ec2.Subnet.fromSubnetId(e.otherRegion, 'Subnet', 'subnet-1')] },
        securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(e.otherRegion, 'Sg', 'sg-1')],
      };
    })).toThrow(new RegExp([
      'logEncryptionKey \\(KMS key Stack/LogKey, arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\\) is in region eu-west-1',
      'encryptionKey \\(KMS key OtherAccount/TableKey\\) is in account 210987654321, but the stack Stack deploys to account 123456789012',
      'vpc \\(VPC OtherRegion/Vpc.*\\) is in region eu-west-1',
      'vpcSubnets.subnets\\[0\\] \\(subnet OtherRegion/Subnet\\) is in region eu-west-1',
      'securityGroups\\[0\\] \\(security group OtherRegion/Sg\\) is in region eu-west-1',
    ].join('[\\s\\S]*')));
  });

  test('takes resources of its own account and region, by ARN, by name and from another stack there', () => {
    const { stack } = monitor((e) => {
      const sibling = new Stack(e.app, 'Sibling', { env: HOME });
      return {
        clusters: [homeCluster(e.stack), clusterNamed(sibling, 'Batch', 'batch')],
        autoScalingGroups: [autoscaling.AutoScalingGroup.fromAutoScalingGroupName(e.stack, 'Asg', 'prod-asg')],
        notifications: [NotificationChannel.slack(secretsmanager.Secret.fromSecretNameV2(e.stack, 'Slack', 'chatops/slack'))],
        encryptionKey: new kms.Key(sibling, 'Key'),
      };
    });

    Template.fromStack(stack).resourceCountIs('AWS::Lambda::Function', 1);
    expect(warningsOf(stack, 'cdk-ecs-ops/EcsAgentMonitor:environmentAgnostic')).toEqual([]);
    expect(warningsOf(stack, 'cdk-ecs-ops/EcsAgentMonitor:crossAccount')).toEqual([]);
  });

  test('an environment-agnostic stack with resources of its own (imported by name) synthesizes without a warning', () => {
    const e = environments();
    new EcsAgentMonitor(e.agnostic, 'Monitor', {
      clusters: [clusterNamed(e.agnostic, 'Cluster', 'prod')],
      autoScalingGroups: [autoscaling.AutoScalingGroup.fromAutoScalingGroupName(e.agnostic, 'Asg', 'prod-asg')],
      notifications: [NotificationChannel.slack(secretsmanager.Secret.fromSecretNameV2(e.agnostic, 'Slack', 'chatops/slack'))],
    });

    Template.fromStack(e.agnostic).resourceCountIs('AWS::Lambda::Function', 1);
    expect(warningsOf(e.agnostic, 'cdk-ecs-ops/EcsAgentMonitor:environmentAgnostic')).toEqual([]);
  });

  test('an environment-agnostic stack given an ARN of a region synthesizes, and warns that synth cannot check it', () => {
    const e = environments();
    new EcsAgentMonitor(e.agnostic, 'Monitor', {
      clusters: [ecs.Cluster.fromClusterArn(e.agnostic, 'Cluster', arnIn({ region: OTHER_REGION }, 'ecs', 'cluster/prod'))],
    });

    expect(warningsOf(e.agnostic, 'cdk-ecs-ops/EcsAgentMonitor:environmentAgnostic')).toEqual([
      expect.stringMatching(/The stack Agnostic is environment-agnostic, so synth cannot check .*: clusters\[0\] is in account 123456789012 and region eu-west-1\. .*give the stack an env/),
    ]);
  });
});

describe('EcsAgentMonitor: numbers and durations from tokens', () => {
  test.each([
    ['failAfter', (s: Stack) => ({ failAfter: numberParameter(s, 'FailAfter') }), /failAfter is a token \(\{"Ref":"FailAfter"\}\), not a number known when the construct is created; give a literal number/],
    ['failAfter (Lazy)', () => ({ failAfter: Lazy.number({ produce: () => 3 }) }), /failAfter is a token \(3\), not a number known when the construct is created/],
    ['schedulePeriod', (s: Stack) => ({ schedule: events.Schedule.cron({ minute: '*/5' }), schedulePeriod: Duration.minutes(numberParameter(s, 'Period')) }),
      /schedulePeriod is a duration built from a token \(\{"Ref":"Period"\} minutes\); give a literal Duration/],
    ['gracePeriod', (s: Stack) => ({ gracePeriod: Duration.seconds(numberParameter(s, 'Grace')) }), /gracePeriod is a duration built from a token \(.*"Ref":"Grace".*\); give a literal Duration/],
    ['schedule', (s: Stack) => ({ schedule: events.Schedule.rate(Duration.minutes(numberParameter(s, 'Rate'))) }),
      /schedule is a schedule built from a token \(rate\(\{"Ref":"Rate"\} minutes\)\); give Schedule.rate\(\) with a literal Duration, or Schedule.cron\(\)/],
  ])('fails on %s from a token', (_name, props, message) => {
    expect(make((e) => props(e.stack))).toThrow(message);
  });

  test('carries the numbers it only hands to its function (which checks them when it starts), and a log retention', () => {
    const { stack } = monitor((e) => ({
      maxReplacementsPerRun: numberParameter(e.stack, 'PerRun'),
      maxReplacementsPerRunTotal: numberParameter(e.stack, 'Total'),
      outageThreshold: numberParameter(e.stack, 'Outage'),
      logRetention: numberParameter(e.stack, 'Retention') as logs.RetentionDays,
    }));

    expect(variables(stack)).toMatchObject({
      MAX_REPLACEMENTS_PER_RUN: { Ref: 'PerRun' },
      MAX_REPLACEMENTS_PER_RUN_TOTAL: { Ref: 'Total' },
      OUTAGE_THRESHOLD_PERCENT: { Ref: 'Outage' },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: { Ref: 'Retention' } });
  });

  test('carries a Redis port from a token to its function', () => {
    const { stack } = monitor((e) => ({
      failureStore: FailureStore.redis({ vpc: new ec2.Vpc(e.stack, 'Vpc'), host: 'redis.example.internal', port: numberParameter(e.stack, 'Port') }),
    }));

    expect(variables(stack)).toMatchObject({ REDIS_PORT: { Ref: 'Port' } });
  });

  test('a cron schedule with tokens in its fields is carried to the rule', () => {
    const { stack } = monitor((e) => ({
      schedule: events.Schedule.cron({ minute: new CfnParameter(e.stack, 'Minute', { type: 'String' }).valueAsString }),
      schedulePeriod: Duration.hours(1),
    }));

    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: { 'Fn::Join': ['', ['cron(', { Ref: 'Minute' }, ' * * * ? *)']] },
    });
  });
});

describe('EcsAgentMonitor: alarms CloudWatch can evaluate', () => {
  test('fails when the DisconnectedAgents alarm would evaluate more than a day of periods under an hour', () => {
    expect(make(() => ({ createAlarms: true, failAfter: 100, schedule: events.Schedule.rate(Duration.minutes(14)) })))
      .toThrow(/createAlarms: the DisconnectedAgents alarm would evaluate 103 periods of 14 minutes \(86,520 s\), more than the 86,400 s \(1 day\) CloudWatch allows for a period under an hour \(period × evaluation periods\); lower failAfter, change the schedule, or leave createAlarms out/);
  });

  test('fails when an alarm of a slow schedule would evaluate more than seven days: the errors alarm says so as in EcsAgentUpdater', () => {
    expect(make(() => ({ createAlarms: true, schedule: events.Schedule.rate(Duration.days(3)) })))
      .toThrow(new RegExp([
        'createAlarms: the DisconnectedAgents alarm would evaluate 5 periods of 3 days \\(1,296,000 s\\), more than the 604,800 s \\(7 days\\)',
        'createAlarms: the Errors alarm would evaluate 3 periods of 3 days \\(777,600 s\\), more than the 604,800 s \\(7 days\\) CloudWatch allows for a period of an hour or more',
      ].join('[\\s\\S]*')));
  });

  test('takes alarms right at the limits: a day under an hour, seven days from an hour', () => {
    // 103 periods of 13 minutes (80,340 s) fit a day; 103 of an hour (370,800 s) fit seven days.
    for (const minutes of [13, 60]) {
      const { stack } = monitor(() => ({ createAlarms: true, failAfter: 100, schedule: events.Schedule.rate(Duration.minutes(minutes)) }));
      Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', { EvaluationPeriods: 103, Period: minutes * 60 });
    }
    // 4 periods of 1 day 18 hours (failAfter 1) are exactly 604,800 s.
    const { stack } = monitor(() => ({ createAlarms: true, failAfter: 1, schedule: events.Schedule.rate(Duration.hours(42)) }));
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', { EvaluationPeriods: 4, Period: 151_200 });
  });
});

describe('EcsAgentMonitor: every mistake at once', () => {
  test('reports a foreign cluster, a token and a bad number in one error', () => {
    expect(make((e) => ({
      clusters: [ecs.Cluster.fromClusterArn(e.stack, 'Ireland', arnIn({ region: OTHER_REGION }, 'ecs', 'cluster/prod'))],
      failAfter: numberParameter(e.stack, 'FailAfter'),
      outageThreshold: 100,
    }))).toThrow(/^Invalid EcsAgentMonitor props:\n- outageThreshold is 100.*\n- failAfter is a token .*\n- clusters\[0\] \(cluster Stack\/Ireland, .*\) is in region eu-west-1/);
  });
});
