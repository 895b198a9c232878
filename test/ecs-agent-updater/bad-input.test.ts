/**
 * EcsAgentUpdater refuses at synth what would fail or misbehave at deploy or run time: resources of another account or
 * region than its stack, a rate from a token, alarms CloudWatch cannot evaluate (with the monitor's rule and message).
 * It takes what it cannot compare and carries the tokens it only hands on.
 */
import { CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EcsAgentMonitor, EcsAgentUpdater, EcsAgentUpdaterProps, NotificationChannel } from '../../src';
import { Environments, HOME, OTHER_ACCOUNT, OTHER_REGION, arnIn, clusterNamed, environments, numberParameter, warningsOf } from '../support/environments';

function homeCluster(stack: Stack, id = 'Cluster'): ecs.ICluster {
  return ecs.Cluster.fromClusterArn(stack, id, arnIn(HOME, 'ecs', 'cluster/prod'));
}

function updater(props: (e: Environments) => EcsAgentUpdaterProps) {
  const e = environments();
  const given = props(e);
  const construct = new EcsAgentUpdater(e.stack, 'Updater', { ...given, clusters: given.clusters ?? [homeCluster(e.stack)] });
  return { ...e, updater: construct, template: Template.fromStack(e.stack) };
}

const make = (props: (e: Environments) => EcsAgentUpdaterProps) => () => updater(props);

describe('EcsAgentUpdater: resources of another account or region', () => {
  test('fails on a cluster of another region, naming the prop, the cluster and both regions', () => {
    const arn = arnIn({ region: OTHER_REGION }, 'ecs', 'cluster/prod');
    expect(make((e) => ({ clusters: [ecs.Cluster.fromClusterArn(e.stack, 'Ireland', arn)] })))
      .toThrow(new RegExp(`clusters\\[0\\] \\(cluster Stack/Ireland, ${arn}\\) is in region eu-west-1, but the stack Stack deploys to region us-east-1: `
        + 'EcsAgentUpdater acts in its own stack\'s account and region only .*Give a cluster of region us-east-1, or put the EcsAgentUpdater in a stack of region eu-west-1'));
  });

  test('fails on a cluster of another account, and one defined in a stack of another account', () => {
    expect(make((e) => ({
      clusters: [
        ecs.Cluster.fromClusterArn(e.stack, 'Theirs', arnIn({ account: OTHER_ACCOUNT }, 'ecs', 'cluster/prod')),
        clusterNamed(e.otherAccount, 'Batch', 'batch'),
      ],
    }))).toThrow(/clusters\[0\] \(cluster Stack\/Theirs, .*\) is in account 210987654321, but the stack Stack deploys to account 123456789012[\s\S]*clusters\[1\] \(cluster OtherAccount\/Batch\) is in account 210987654321/);
  });

  test('fails on a notification secret of another region, and on hardening props of other accounts or regions', () => {
    expect(make((e) => ({
      notifications: [NotificationChannel.webhook(secretsmanager.Secret.fromSecretCompleteArn(e.stack, 'Hook', arnIn({ region: OTHER_REGION }, 'secretsmanager', 'secret:hook-AbCdEf')))],
      encryptionKey: kms.Key.fromKeyArn(e.stack, 'Key', arnIn({ account: OTHER_ACCOUNT }, 'kms', 'key/1234abcd-12ab-34cd-56ef-1234567890ab')),
      vpc: ec2.Vpc.fromVpcAttributes(e.otherRegion, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['eu-west-1a'], privateSubnetIds: ['subnet-1'] }),
    }))).toThrow(new RegExp([
      'notifications\\[0\\] \\(secret Stack/Hook, arn:aws:secretsmanager:eu-west-1:123456789012:secret:hook-AbCdEf\\) is in region eu-west-1, '
        + 'but the stack Stack deploys to region us-east-1: EcsAgentUpdater\'s function calls AWS in its own region',
      'encryptionKey \\(KMS key Stack/Key, arn:aws:kms:us-east-1:210987654321:key/.*\\) is in account 210987654321, but the stack Stack deploys to account 123456789012',
      'vpc \\(VPC OtherRegion/Vpc.*\\) is in region eu-west-1',
    ].join('[\\s\\S]*')));
  });

  test('takes a notification secret of another account in its region, and warns that its policies must allow the function', () => {
    const { stack } = updater((e) => ({
      notifications: [NotificationChannel.slack(secretsmanager.Secret.fromSecretCompleteArn(e.stack, 'Shared', arnIn({ account: OTHER_ACCOUNT }, 'secretsmanager', 'secret:slack-AbCdEf')))],
    }));

    expect(warningsOf(stack, 'cdk-ecs-ops/EcsAgentUpdater:crossAccount')).toEqual([
      expect.stringMatching(/notifications\[0\] \(secret Stack\/Shared, arn:aws:secretsmanager:us-east-1:210987654321:secret:slack-AbCdEf\) is in account 210987654321, not the stack's account 123456789012/),
    ]);
  });

  test('takes a cluster of its own account and region, and warns about nothing', () => {
    const { template, stack } = updater((e) => ({ clusters: [homeCluster(e.stack), clusterNamed(e.stack, 'Batch', 'batch')] }));

    template.resourceCountIs('AWS::Lambda::Function', 1);
    expect(warningsOf(stack, 'cdk-ecs-ops/EcsAgentUpdater:environmentAgnostic')).toEqual([]);
  });

  test('an environment-agnostic stack synthesizes: silently with its own resources, with a warning for an ARN of a region', () => {
    const e = environments();
    new EcsAgentUpdater(e.agnostic, 'Own', { clusters: [clusterNamed(e.agnostic, 'Prod', 'prod')] });
    new EcsAgentUpdater(e.agnostic, 'Given', { clusters: [ecs.Cluster.fromClusterArn(e.agnostic, 'Ireland', arnIn({ region: OTHER_REGION }, 'ecs', 'cluster/prod'))] });

    Template.fromStack(e.agnostic).resourceCountIs('AWS::Lambda::Function', 2);
    const warnings = warningsOf(e.agnostic, 'cdk-ecs-ops/EcsAgentUpdater:environmentAgnostic');
    expect(warnings).toEqual([expect.stringMatching(/synth cannot check .*: clusters\[0\] is in account 123456789012 and region eu-west-1/)]);
  });
});

describe('EcsAgentUpdater: numbers and schedules from tokens', () => {
  test('fails on a rate from a token: the minimum rate, the metrics and the alarms need it', () => {
    expect(make((e) => ({ schedule: events.Schedule.rate(Duration.hours(numberParameter(e.stack, 'Hours'))) })))
      .toThrow(/schedule is a schedule built from a token \(.*"Ref":"Hours".*\); give Schedule.rate\(\) with a literal Duration, or Schedule.cron\(\)/);
    expect(make((e) => ({ schedule: events.Schedule.expression(new CfnParameter(e.stack, 'Expression').valueAsString) })))
      .toThrow(/schedule is a schedule built from a token \(\{"Ref":"Expression"\}\)/);
  });

  test('carries maxConcurrentUpdates from a token to its function (which checks it when it starts), and a cron with token fields to its rule', () => {
    const { template } = updater((e) => ({
      maxConcurrentUpdates: numberParameter(e.stack, 'Concurrency'),
      schedule: events.Schedule.cron({ hour: new CfnParameter(e.stack, 'Hour', { type: 'String' }).valueAsString, minute: '0' }),
    }));

    const fn = Object.values<any>(template.findResources('AWS::Lambda::Function'))[0].Properties;
    expect(fn.Environment.Variables.MAX_CONCURRENT_UPDATES).toEqual({ Ref: 'Concurrency' });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: { 'Fn::Join': ['', ['cron(0 ', { Ref: 'Hour' }, ' * * ? *)']] } });
  });
});

describe('EcsAgentUpdater: alarms CloudWatch can evaluate', () => {
  test('fails on rate(3 days) with createAlarms: the errors alarm would evaluate 777,600 s, over the 604,800 s limit', () => {
    expect(make(() => ({ createAlarms: true, schedule: events.Schedule.rate(Duration.days(3)) })))
      .toThrow(/createAlarms: the Errors alarm would evaluate 3 periods of 3 days \(777,600 s\), more than the 604,800 s \(7 days\) CloudWatch allows for a period of an hour or more \(period × evaluation periods\); give a rate of at most 2 days 8 hours, or leave createAlarms out/);
  });

  test('fails on a period over 604,800 s: both alarms of rate(8 days)', () => {
    expect(make(() => ({ createAlarms: true, schedule: events.Schedule.rate(Duration.days(8)) })))
      .toThrow(/the OutdatedAgents alarm would evaluate 1 period of 8 days \(691,200 s\), more than the 604,800 s[\s\S]*the Errors alarm would evaluate 3 periods of 8 days/);
  });

  test('the errors alarm of a slow schedule reads the same in EcsAgentMonitor and EcsAgentUpdater', () => {
    const message = (build: (stack: Stack) => void) => {
      try {
        build(environments().stack);
      } catch (e) {
        return /- (createAlarms: the Errors alarm .*)/.exec((e as Error).message)?.[1];
      }
      return undefined;
    };
    const schedule = events.Schedule.rate(Duration.days(3));
    const fromUpdater = message((s) => new EcsAgentUpdater(s, 'Updater', { clusters: [homeCluster(s)], createAlarms: true, schedule }));
    const fromMonitor = message((s) => new EcsAgentMonitor(s, 'Monitor', { clusters: [homeCluster(s)], createAlarms: true, schedule }));

    expect(fromUpdater?.split(';')[0]).toBeDefined();
    expect(fromUpdater?.split(';')[0]).toEqual(fromMonitor?.split(';')[0]);
  });

  test('takes the longest rate that fits, 2 days 8 hours: the errors alarm evaluates exactly 604,800 s', () => {
    const { template } = updater(() => ({ createAlarms: true, schedule: events.Schedule.rate(Duration.hours(56)) }));

    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Period: 201_600, EvaluationPeriods: 3 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'OutdatedAgents', Period: 201_600, EvaluationPeriods: 1 });
  });

  test('takes rate(3 days) without alarms, and a cron schedule with them (a day per period)', () => {
    expect(updater(() => ({ schedule: events.Schedule.rate(Duration.days(3)) })).template.findResources('AWS::CloudWatch::Alarm')).toEqual({});
    const { template } = updater(() => ({ createAlarms: true, schedule: events.Schedule.cron({ minute: '0', hour: '3' }) }));
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Period: 86_400, EvaluationPeriods: 3 });
  });
});

describe('EcsAgentUpdater: every mistake at once', () => {
  test('reports a foreign topic, a rate from a token and a bad number in one error', () => {
    expect(make((e) => ({
      notifications: [NotificationChannel.snsTopic(sns.Topic.fromTopicArn(e.stack, 'Topic', arnIn({ region: OTHER_REGION }, 'sns', 'ops')))],
      schedule: events.Schedule.rate(Duration.minutes(numberParameter(e.stack, 'Minutes'))),
      maxConcurrentUpdates: 0,
    }))).toThrow(/^Invalid EcsAgentUpdater props:\n- maxConcurrentUpdates is 0.*\n- schedule is a schedule built from a token .*\n- notifications\[0\] \(SNS topic Stack\/Topic, .*\) is in region eu-west-1/);
  });
});
