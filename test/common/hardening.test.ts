/**
 * The hardening vocabulary, prop by prop, on every construct that has it: the log groups carry the key and the key
 * policy lets CloudWatch Logs use it for exactly those log groups; the functions run in the VPC and are traced;
 * what the construct creates is encrypted with `encryptionKey`, and the roles may use that key through the service
 * that needs it and for nothing more (proven with the IAM simulator). Bad combinations fail at synth.
 */
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  EcsAgentMonitor, EcsAgentUpdater, EcsParrot, EcsStatusApi, EcsTaskRunner, FailureStore, HardeningProps, NotificationChannel, TaskLaunchTarget,
} from '../../src';
import { IamRequest, IamSimulator, IntrinsicResolver, expectAllowed, expectDenied } from '../support/iam';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/** A construct built with the given hardening props; `services` names the AWS services its encrypted resources use. */
interface Hardenable {
  readonly name: string;
  /**
   * The service (kms:ViaService prefix) each resource encrypted with `encryptionKey` is used through; none for a
   * construct that creates no table, queue or topic (`encryptionKey` does not apply: it must not create any, or use the key).
   */
  readonly keyServices: readonly string[];
  /** Services through which the functions only read data encrypted with `encryptionKey` (kms:Decrypt alone). */
  readonly keyReadServices?: readonly string[];
  build(stack: Stack, hardening: HardeningProps): { functions: lambda.IFunction[] };
}

const CONSTRUCTS: readonly Hardenable[] = [
  {
    name: 'EcsAgentMonitor',
    build: (stack, hardening) => {
      const cluster = ecs.Cluster.fromClusterArn(stack, 'Cluster', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`);
      return { functions: [new EcsAgentMonitor(stack, 'Construct', { clusters: [cluster], ...hardening }).handler] };
    },
    keyServices: ['dynamodb'],
  },
  {
    name: 'EcsStatusApi',
    build: (stack, hardening) => {
      const cluster = ecs.Cluster.fromClusterArn(stack, 'Cluster', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`);
      return { functions: [new EcsStatusApi(stack, 'Construct', { clusters: [cluster], ...hardening }).handler] };
    },
    keyServices: [],
  },
  {
    name: 'EcsAgentUpdater',
    build: (stack, hardening) => {
      const cluster = ecs.Cluster.fromClusterArn(stack, 'Cluster', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`);
      return { functions: [new EcsAgentUpdater(stack, 'Construct', { clusters: [cluster], ...hardening }).handler] };
    },
    keyServices: ['dynamodb'],
  },
  {
    name: 'EcsParrot',
    build: (stack, hardening) => {
      const cluster = ecs.Cluster.fromClusterArn(stack, 'Cluster', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`);
      const topic = sns.Topic.fromTopicArn(stack, 'Topic', `arn:aws:sns:${REGION}:${ACCOUNT}:ops`);
      return { functions: [new EcsParrot(stack, 'Construct', { clusters: [cluster], notifications: [NotificationChannel.snsTopic(topic)], ...hardening }).handler] };
    },
    // The dedupe table is read and written through DynamoDB; the event queue is only read (Lambda's event source mapping).
    keyServices: ['dynamodb'],
    keyReadServices: ['sqs'],
  },
  {
    name: 'EcsTaskRunner',
    build: (stack, hardening) => {
      const cluster = ecs.Cluster.fromClusterArn(stack, 'Cluster', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`);
      const taskDefinition = ecs.TaskDefinition.fromTaskDefinitionArn(stack, 'Migrations', `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/migrate:1`);
      const runner = new EcsTaskRunner(stack, 'Construct', { cluster, taskDefinition, launchTarget: TaskLaunchTarget.ec2(), ...hardening });
      return { functions: [runner.onEventHandler, runner.isCompleteHandler] };
    },
    keyServices: [],
  },
];

function hardened(build: Hardenable['build'], extra: Partial<HardeningProps> = {}) {
  const stack = new Stack(new App(), 'Hardened', { env: { account: ACCOUNT, region: REGION } });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const securityGroup = new ec2.SecurityGroup(stack, 'Sg', { vpc });
  const props: HardeningProps = {
    logRetention: logs.RetentionDays.ONE_YEAR,
    logEncryptionKey: key,
    encryptionKey: key,
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    securityGroups: [securityGroup],
    tracing: lambda.Tracing.ACTIVE,
    ...extra,
  };
  const { functions } = build(stack, props);
  return { stack, key, vpc, securityGroup, functions, template: Template.fromStack(stack) };
}

describe.each(CONSTRUCTS)('$name', ({ build, keyServices, keyReadServices = [] }) => {
  test('logRetention and logEncryptionKey: every log group is kept a year and encrypted with the key', () => {
    const { stack, key, template } = hardened(build);

    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThan(0);
    for (const group of groups) {
      expect(group.Properties.RetentionInDays).toBe(365);
      expect(group.Properties.KmsKeyId).toEqual(stack.resolve(key.keyArn));
    }
  });

  test('logEncryptionKey: the key policy lets CloudWatch Logs in the region use it for exactly these log groups', () => {
    const { stack, key, template } = hardened(build);

    const policy = template.toJSON().Resources[stack.getLogicalId(key.node.defaultChild as CfnElement)].Properties.KeyPolicy;
    const forLogs = policy.Statement.filter((s: any) => s.Principal?.Service === `logs.${REGION}.amazonaws.com`);
    // A log group's name is the construct's own, or the one a service decides (API Gateway's execution logs hold
    // the API's id): resolved as after deployment, each is named exactly by its statement.
    const resolver = new IntrinsicResolver(template.toJSON(), { account: ACCOUNT, region: REGION });
    const groupNames = Object.values(template.findResources('AWS::Logs::LogGroup'))
      .map((g) => resolver.resolveString(g.Properties.LogGroupName, 'LogGroupName'));
    expect(forLogs).toHaveLength(groupNames.length);
    for (const [i, statement] of forLogs.entries()) {
      expect(statement).toMatchObject({
        Effect: 'Allow',
        Action: expect.arrayContaining(['kms:Encrypt*', 'kms:Decrypt*', 'kms:GenerateDataKey*']),
        Condition: { ArnEquals: { 'kms:EncryptionContext:aws:logs:arn': expect.anything() } },
      });
      const arn = resolver.resolveString(statement.Condition.ArnEquals['kms:EncryptionContext:aws:logs:arn'], 'kms:EncryptionContext:aws:logs:arn');
      expect(arn).toBe(`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${groupNames[i]}`);
    }
  });

  test('logEncryptionKey: an imported key cannot be changed, so synth warns with the statement to add', () => {
    const stack = new Stack(new App(), 'Imported', { env: { account: ACCOUNT, region: REGION } });
    const key = kms.Key.fromKeyArn(stack, 'Key', `arn:aws:kms:${REGION}:${ACCOUNT}:key/0a1b2c3d-1111-2222-3333-444455556666`);

    build(stack, { logEncryptionKey: key });

    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('logEncryptionKey is an imported key'));
    expect(warnings.length).toBeGreaterThan(0);
    expect(JSON.stringify(warnings[0].entry.data)).toContain(`logs.${REGION}.amazonaws.com`);
  });

  test('vpc, vpcSubnets, securityGroups and tracing: every function runs in the VPC with the groups, traced', () => {
    const { stack, vpc, securityGroup, template } = hardened(build);

    const privateSubnets = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds.map((id) => stack.resolve(id));
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) {
      expect(fn.Properties.VpcConfig).toEqual({
        SubnetIds: privateSubnets,
        SecurityGroupIds: [stack.resolve(securityGroup.securityGroupId)],
      });
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    }
  });

  test('encryptionKey: every table, queue and topic the construct creates uses the key', () => {
    const { stack, key, template } = hardened(build);

    const keyArn = stack.resolve(key.keyArn);
    const tables = Object.values(template.findResources('AWS::DynamoDB::Table'));
    const queues = Object.values(template.findResources('AWS::SQS::Queue'));
    const topics = Object.values(template.findResources('AWS::SNS::Topic'));
    if (keyServices.length === 0) {
      expect(tables.length + queues.length + topics.length).toBe(0);
      return;
    }
    expect(tables.length + queues.length + topics.length).toBeGreaterThan(0);
    for (const table of tables) expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn });
    for (const queue of queues) expect(queue.Properties.KmsMasterKeyId).toEqual(keyArn);
    for (const topic of topics) expect(topic.Properties.KmsMasterKeyId).toEqual(keyArn);
  });

  test('encryptionKey: the roles may use the key only through the services that need it, and only to read and write data', async () => {
    const { stack, key, functions } = hardened(build);

    for (const fn of functions) {
      const sim = await IamSimulator.forRole(stack, fn);
      const keyArnResolved = String(sim.resolve(stack.resolve(key.keyArn)));
      const keyLogicalId = stack.getLogicalId(key.node.defaultChild as CfnElement);
      const keyPolicy = sim.resolve(Template.fromStack(stack).toJSON().Resources[keyLogicalId].Properties.KeyPolicy) as any;
      const through = (service: string, action: string): IamRequest => ({
        action, resource: keyArnResolved, resourcePolicy: keyPolicy, context: { 'kms:ViaService': `${service}.${REGION}.amazonaws.com` },
      });
      const needed = [
        ...keyServices.flatMap((service) => ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'].map((a) => through(service, a))),
        ...keyReadServices.map((service) => through(service, 'kms:Decrypt')),
      ];
      // A construct that keeps nothing under the key (no table, queue or topic) needs none of it: see the denials.
      if (needed.length > 0) await expectAllowed(sim, needed);
      await expectDenied(sim, [
        ...(needed.length === 0 ? ['dynamodb', 'sqs', 'sns'].map((service) => through(service, 'kms:Decrypt')) : []),
        { action: 'kms:Decrypt', resource: keyArnResolved, resourcePolicy: keyPolicy },
        through('s3', 'kms:Decrypt'),
        ...keyServices.flatMap((service) => ['kms:CreateGrant', 'kms:ScheduleKeyDeletion', 'kms:PutKeyPolicy', 'kms:ReEncryptFrom'].map((a) => through(service, a))),
        ...keyReadServices.flatMap((service) => ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:CreateGrant'].map((a) => through(service, a))),
      ]);
    }
  });
});

describe('validation', () => {
  const monitor = (stack: Stack, props: Partial<ConstructorParameters<typeof EcsAgentMonitor>[2]>) => new EcsAgentMonitor(stack, 'Monitor', {
    clusters: [ecs.Cluster.fromClusterArn(stack, 'Cluster', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`)],
    ...props,
  });
  const stack = () => new Stack(new App(), 'Test', { env: { account: ACCOUNT, region: REGION } });

  test('fails on vpcSubnets or securityGroups without vpc, and on an empty securityGroups, naming each', () => {
    const s = stack();
    const vpc = new ec2.Vpc(s, 'Vpc');
    const sg = new ec2.SecurityGroup(s, 'Sg', { vpc });

    expect(() => monitor(s, { vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }, securityGroups: [sg] }))
      .toThrow(/vpcSubnets is set without vpc[\s\S]*securityGroups is set without vpc/);
    expect(() => monitor(stack(), { vpc: new ec2.Vpc(s, 'Vpc2'), securityGroups: [] })).toThrow(/securityGroups is empty/);
  });

  test('fails on a tracing or logRetention value outside their enums', () => {
    expect(() => monitor(stack(), { tracing: 'Sometimes' as lambda.Tracing, logRetention: 42 as logs.RetentionDays }))
      .toThrow(/logRetention is 42; give one of the logs.RetentionDays values[\s\S]*tracing is "Sometimes"; give one of Active, PassThrough, Disabled/);
  });

  test('fails when the Redis store and the monitor name different VPCs', () => {
    const s = stack();
    const a = new ec2.Vpc(s, 'A');
    const b = new ec2.Vpc(s, 'B');

    expect(() => monitor(s, { vpc: a, failureStore: FailureStore.redis({ vpc: b, host: 'redis.internal' }) }))
      .toThrow(/failureStore: FailureStore.redis\(\) vpc is Test\/B, but the monitor's vpc is Test\/A/);
  });

  test('runs the function in the Redis store\'s VPC when the monitor names none, and in the monitor\'s subnets when it names the same', () => {
    const s = stack();
    const vpc = new ec2.Vpc(s, 'Vpc', { maxAzs: 2 });
    monitor(s, { vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }, failureStore: FailureStore.redis({ vpc, host: 'redis.internal' }) });

    const fn = Object.values(Template.fromStack(s).findResources('AWS::Lambda::Function'))[0];
    expect(fn.Properties.VpcConfig.SubnetIds).toEqual(vpc.privateSubnets.map((subnet) => s.resolve(subnet.subnetId)));
  });
});
