/**
 * EcsParrot refuses at synth resources of another account or region than its stack (its rules see only their own
 * region's events, its function reads only there) and durations from tokens, which it computes the queue's timing with.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EcsParrot, EcsParrotProps, NotificationChannel } from '../../src';
import { Environments, HOME, OTHER_ACCOUNT, OTHER_REGION, arnIn, clusterNamed, environments, numberParameter, warningsOf } from '../support/environments';

function slack(stack: Stack): NotificationChannel {
  return NotificationChannel.slack(secretsmanager.Secret.fromSecretNameV2(stack, 'Slack', 'chatops/slack'));
}

function parrot(props: (e: Environments) => Partial<EcsParrotProps>) {
  const e = environments();
  const given = props(e);
  const construct = new EcsParrot(e.stack, 'Parrot', { ...given, notifications: given.notifications ?? [slack(e.stack)] });
  return { ...e, parrot: construct, template: Template.fromStack(e.stack) };
}

const make = (props: (e: Environments) => Partial<EcsParrotProps>) => () => parrot(props);

describe('EcsParrot: resources of another account or region', () => {
  test('fails on a cluster of another region, naming the prop, the cluster and both regions', () => {
    const arn = arnIn({ region: OTHER_REGION }, 'ecs', 'cluster/prod');
    expect(make((e) => ({ clusters: [ecs.Cluster.fromClusterArn(e.stack, 'Ireland', arn)] })))
      .toThrow(new RegExp(`clusters\\[0\\] \\(cluster Stack/Ireland, ${arn}\\) is in region eu-west-1, but the stack Stack deploys to region us-east-1: `
        + 'EcsParrot acts in its own stack\'s account and region only .*Give a cluster of region us-east-1, or put the EcsParrot in a stack of region eu-west-1'));
  });

  test('fails on a cluster of another account', () => {
    expect(make((e) => ({ clusters: [clusterNamed(e.otherAccount, 'Prod', 'prod')] })))
      .toThrow(/clusters\[0\] \(cluster OtherAccount\/Prod\) is in account 210987654321, but the stack Stack deploys to account 123456789012/);
  });

  test('fails on a notification topic of another region and an encryption key of another region', () => {
    expect(make((e) => ({
      notifications: [NotificationChannel.snsTopic(sns.Topic.fromTopicArn(e.stack, 'Pager', arnIn({ region: OTHER_REGION }, 'sns', 'pager')))],
      encryptionKey: new kms.Key(e.otherRegion, 'Key'),
    }))).toThrow(new RegExp([
      'notifications\\[0\\] \\(SNS topic Stack/Pager, arn:aws:sns:eu-west-1:123456789012:pager\\) is in region eu-west-1, but the stack Stack deploys to region us-east-1: '
        + 'EcsParrot\'s function calls AWS in its own region, where another region\'s SNS topic cannot be reached. Give a topic of us-east-1',
      'encryptionKey \\(KMS key OtherRegion/Key\\) is in region eu-west-1, but the stack Stack deploys to region us-east-1',
    ].join('[\\s\\S]*')));
  });

  test('fails on the KMS key of an SSM parameter channel of another region', () => {
    expect(make((e) => ({
      notifications: [NotificationChannel.teamsFromParameter('/chatops/teams', { encryptionKey: new kms.Key(e.otherRegion, 'ParameterKey') })],
    }))).toThrow(/notifications\[0\] encryptionKey \(KMS key OtherRegion\/ParameterKey\) is in region eu-west-1, .*SSM decrypts a parameter of us-east-1 with a key of us-east-1/);
  });

  test('takes clusters and channels of its own account and region', () => {
    const { template, stack } = parrot((e) => ({
      clusters: [ecs.Cluster.fromClusterArn(e.stack, 'Prod', arnIn(HOME, 'ecs', 'cluster/prod'))],
      notifications: [slack(e.stack), NotificationChannel.snsTopic(new sns.Topic(e.stack, 'Pager'))],
    }));

    template.resourceCountIs('AWS::Lambda::Function', 1);
    expect(warningsOf(stack, 'cdk-ecs-ops/EcsParrot:crossAccount')).toEqual([]);
  });

  test('takes a topic of another account in its region, with a warning', () => {
    const { stack } = parrot((e) => ({
      notifications: [NotificationChannel.snsTopic(sns.Topic.fromTopicArn(e.stack, 'Central', arnIn({ account: OTHER_ACCOUNT }, 'sns', 'ecs-events')))],
    }));

    expect(warningsOf(stack, 'cdk-ecs-ops/EcsParrot:crossAccount')).toEqual([expect.stringMatching(/notifications\[0\] .* is in account 210987654321/)]);
  });

  test('an environment-agnostic stack synthesizes: silently with its own resources, with a warning for an ARN of an account', () => {
    const e = environments();
    new EcsParrot(e.agnostic, 'Own', { notifications: [slack(e.agnostic)] });
    new EcsParrot(e.agnostic, 'Given', {
      notifications: [NotificationChannel.snsTopic(sns.Topic.fromTopicArn(e.agnostic, 'Topic', arnIn({ account: OTHER_ACCOUNT }, 'sns', 'ops')))],
    });

    Template.fromStack(e.agnostic).resourceCountIs('AWS::Lambda::Function', 2);
    expect(warningsOf(e.agnostic, 'cdk-ecs-ops/EcsParrot:environmentAgnostic'))
      .toEqual([expect.stringMatching(/: notifications\[0\] is in account 210987654321 and region us-east-1\. EcsParrot works only when the stack deploys there/)]);
  });
});

describe('EcsParrot: durations from tokens', () => {
  test.each([
    ['batchWindow', (s: Stack) => ({ batchWindow: Duration.seconds(numberParameter(s, 'Window')) }), /batchWindow is a duration built from a token \(\{"Ref":"Window"\} seconds\); give a literal Duration/],
    ['retryPeriod', (s: Stack) => ({ retryPeriod: Duration.hours(numberParameter(s, 'Retry')) }), /retryPeriod is a duration built from a token \(\{"Ref":"Retry"\} hours\); give a literal Duration/],
  ])('fails on %s from a token: the queue\'s visibility timeout and receive count are computed from it', (_name, props, message) => {
    expect(make((e) => props(e.stack))).toThrow(message);
  });
});

describe('EcsParrot: every mistake at once', () => {
  test('reports a foreign cluster, a duration from a token and an empty service list in one error', () => {
    expect(make((e) => ({
      clusters: [ecs.Cluster.fromClusterArn(e.stack, 'Ireland', arnIn({ region: OTHER_REGION }, 'ecs', 'cluster/prod'))],
      retryPeriod: Duration.minutes(numberParameter(e.stack, 'Retry')),
      ignoreContainers: [],
    }))).toThrow(/^Invalid EcsParrot props:\n- retryPeriod is a duration built from a token .*\n- ignoreContainers is empty.*\n- clusters\[0\] \(cluster Stack\/Ireland, .*\) is in region eu-west-1/);
  });
});
