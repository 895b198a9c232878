/**
 * What the documented configurations (test/support/documented-configurations.ts) are made of: their type, the
 * modules they are given, and what several share (the user's fleet, a hardened key, a private VPC).
 */
import type * as cdk from 'aws-cdk-lib';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import type * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as library from '../../src';

/** What a configuration may use: the library and the aws-cdk-lib modules of whoever runs it. */
export interface Modules {
  readonly lib: typeof library;
  readonly cdk: typeof cdk;
  readonly autoscaling: typeof autoscaling;
  readonly cloudwatchActions: typeof cloudwatchActions;
  readonly ec2: typeof ec2;
  readonly ecs: typeof ecs;
  readonly iam: typeof iam;
  readonly kms: typeof kms;
  readonly lambda: typeof lambda;
  readonly logs: typeof logs;
  readonly secretsmanager: typeof secretsmanager;
  readonly sns: typeof sns;
}

export interface DocumentedConfiguration {
  /** `<Construct>: <what>`, unique. */
  readonly name: string;
  /** The findings left for the user, as cdk-nag ids (`Rule[finding]`), on the construct's resources. */
  readonly expectedFindings: readonly string[];
  /**
   * The Control Tower proactive controls the configuration breaks (README, "Hardened deployment"), when checked.
   * @default - not checked
   */
  readonly expectedControlTowerViolations?: readonly string[];
  /**
   * Stack outputs the configuration makes of a construct's attributes, by output id: `<resource type>.<attribute>` of
   * the `Fn::GetAtt` each must synthesize to (checked in the construct tests and in the consumer apps).
   * @default - none
   */
  readonly expectedAttributes?: Readonly<Record<string, string>>;
  /** Adds the construct (and what it needs) to an empty stack in 123456789012/us-east-1. */
  build(stack: cdk.Stack, m: Modules): void;
}

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

/** What Control Tower's proactive controls reject in a construct's defaults, each fixed by a hardening prop. */
export const DEFAULT_CONTROL_TOWER_VIOLATIONS = {
  /** logRetention of a year or more */
  logRetention: 'CT.CLOUDWATCH.PR.2',
  /** logEncryptionKey */
  logEncryptionKey: 'CT.CLOUDWATCH.PR.3',
  /** vpc */
  vpc: 'CT.LAMBDA.PR.3',
} as const;

/**
 * A customer managed key that passes the Control Tower rules for keys: rotation on (CT.KMS.PR.1) and grants only
 * for AWS resources (CT.KMS.PR.3).
 */
export function hardenedKey(stack: cdk.Stack, m: Modules): kms.Key {
  const key = new m.kms.Key(stack, 'Key', { enableKeyRotation: true, description: 'ECS operations tooling' });
  key.addToResourcePolicy(new m.iam.PolicyStatement({
    effect: m.iam.Effect.DENY,
    principals: [new m.iam.AnyPrincipal()],
    actions: ['kms:CreateGrant'],
    resources: ['*'],
    conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
  }));
  return key;
}

/** A VPC of the user's with private subnets (imported: the hardened examples run their functions there). */
export function privateVpc(stack: cdk.Stack, m: Modules): ec2.IVpc {
  return m.ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0a1b2c3d4e5f60718',
    availabilityZones: [`${REGION}a`, `${REGION}b`],
    privateSubnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788'],
  });
}

/** What a platform team already runs: the cluster prod, its group, and the chat channels of the examples. */
export function userFleet(stack: cdk.Stack, m: Modules) {
  return {
    cluster: m.ecs.Cluster.fromClusterArn(stack, 'Cluster', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`),
    group: m.autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Group', 'prod-asg'),
    slack: m.lib.NotificationChannel.slack(m.secretsmanager.Secret.fromSecretNameV2(stack, 'Slack', 'chatops/slack'), { jsonKey: 'url' }),
    teams: m.lib.NotificationChannel.teamsFromParameter('/chatops/teams'),
    sns: m.lib.NotificationChannel.snsTopic(m.sns.Topic.fromTopicArn(stack, 'Topic', `arn:aws:sns:${REGION}:${ACCOUNT}:ops`)),
  };
}

