/**
 * EcsTaskRunner refuses at synth what it was given from another account or region than its stack (its functions run
 * tasks in their own region and account) and a timeout or poll interval from a token, which it computes the tasks'
 * deadline with; it carries `count` from a token to its custom resource, whose function checks it.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { parseProperties } from '../../lambda/ecs-task-runner/core';
import { EcsTaskRunner, EcsTaskRunnerProps, TaskLaunchTarget } from '../../src';
import { Environments, HOME, OTHER_ACCOUNT, OTHER_REGION, arnIn, environments, numberParameter, warningsOf } from '../support/environments';

function vpcOf(stack: Stack, id = 'Vpc'): ec2.IVpc {
  const { region } = stack;
  return ec2.Vpc.fromVpcAttributes(stack, id, {
    vpcId: 'vpc-0a1b2c3d4e5f60718',
    availabilityZones: [`${region}a`, `${region}b`],
    privateSubnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788'],
  });
}

function clusterOf(stack: Stack, id = 'Cluster', name = 'prod'): ecs.ICluster {
  return ecs.Cluster.fromClusterAttributes(stack, id, { clusterName: name, vpc: vpcOf(stack, `${id}Vpc`) });
}

function taskDefinitionOf(stack: Stack, id = 'Migrations'): ecs.FargateTaskDefinition {
  const td = new ecs.FargateTaskDefinition(stack, id, { family: 'migrate' });
  td.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/acme/app:42') });
  return td;
}

function runner(props: (e: Environments) => Partial<EcsTaskRunnerProps>) {
  const e = environments();
  const given = props(e);
  const construct = new EcsTaskRunner(e.stack, 'Migrate', {
    ...given,
    cluster: given.cluster ?? clusterOf(e.stack),
    taskDefinition: given.taskDefinition ?? taskDefinitionOf(e.stack),
  });
  return { ...e, runner: construct, template: Template.fromStack(e.stack) };
}

const make = (props: (e: Environments) => Partial<EcsTaskRunnerProps>) => () => runner(props);

describe('EcsTaskRunner: resources of another account or region', () => {
  test('fails on a cluster of another region, naming the prop, the cluster and both regions', () => {
    const arn = arnIn({ region: OTHER_REGION }, 'ecs', 'cluster/prod');
    expect(make((e) => ({
      cluster: ecs.Cluster.fromClusterArn(e.stack, 'Ireland', arn),
      launchTarget: TaskLaunchTarget.fargate({ vpc: vpcOf(e.stack) }),
    }))).toThrow(new RegExp(`cluster \\(cluster Stack/Ireland, ${arn}\\) is in region eu-west-1, but the stack Stack deploys to region us-east-1: `
      + 'EcsTaskRunner acts in its own stack\'s account and region only .*Give a cluster of region us-east-1, or put the EcsTaskRunner in a stack of region eu-west-1'));
  });

  test('fails on a cluster of another account', () => {
    expect(make((e) => ({ cluster: clusterOf(e.otherAccount, 'Theirs') })))
      .toThrow(/cluster \(cluster OtherAccount\/Theirs\) is in account 210987654321, but the stack Stack deploys to account 123456789012/);
  });

  test('fails on a task definition of another region, and roles of another account', () => {
    expect(make((e) => ({
      taskDefinition: ecs.TaskDefinition.fromTaskDefinitionAttributes(e.stack, 'Imported', {
        taskDefinitionArn: arnIn({ region: OTHER_REGION }, 'ecs', 'task-definition/migrate:3'),
        compatibility: ecs.Compatibility.FARGATE,
        networkMode: ecs.NetworkMode.AWS_VPC,
        taskRole: iam.Role.fromRoleArn(e.stack, 'TaskRole', `arn:aws:iam::${OTHER_ACCOUNT}:role/migrate`),
      }),
    }))).toThrow(new RegExp([
      'taskDefinition \\(task definition Stack/Imported, arn:aws:ecs:eu-west-1:123456789012:task-definition/migrate:3\\) is in region eu-west-1',
      'taskDefinition.taskRole \\(IAM role Stack/TaskRole, arn:aws:iam::210987654321:role/migrate\\) is in account 210987654321, but the stack Stack deploys to account 123456789012',
    ].join('[\\s\\S]*')));
  });

  test('fails on the tasks\' VPC, subnets and security groups of another region, and container instances of another account', () => {
    expect(make((e) => ({
      launchTarget: TaskLaunchTarget.fargate({
        vpc: vpcOf(e.otherRegion),
        vpcSubnets: { subnets: [ec2.Subnet.fromSubnetId(e.otherRegion, 'Subnet', 'subnet-1')] },
        securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(e.otherRegion, 'Sg', 'sg-1')],
      }),
    }))).toThrow(new RegExp([
      'launchTarget: vpc \\(VPC OtherRegion/Vpc.*\\) is in region eu-west-1, but the stack Stack deploys to region us-east-1',
      'launchTarget: vpcSubnets.subnets\\[0\\] \\(subnet OtherRegion/Subnet\\) is in region eu-west-1',
      'launchTarget: securityGroups\\[0\\] \\(security group OtherRegion/Sg\\) is in region eu-west-1',
    ].join('[\\s\\S]*')));

    const instance = arnIn({ account: OTHER_ACCOUNT }, 'ecs', 'container-instance/prod/0123456789abcdef0123456789abcdef');
    expect(make((e) => {
      const td = new ecs.Ec2TaskDefinition(e.stack, 'Seed', { family: 'seed' });
      td.addContainer('seed', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/acme/seed:1'), memoryLimitMiB: 256 });
      return { taskDefinition: td, launchTarget: TaskLaunchTarget.containerInstances([arnIn(HOME, 'ecs', 'container-instance/prod/1'), instance]) };
    })).toThrow(new RegExp(`launchTarget: TaskLaunchTarget.containerInstances\\(\\)\\[1\\] \\(container instance, ${instance}\\) is in account 210987654321`));
  });

  test('fails on a log key of another account', () => {
    expect(make((e) => ({ logEncryptionKey: new kms.Key(e.otherAccount, 'LogKey') })))
      .toThrow(/logEncryptionKey \(KMS key OtherAccount\/LogKey\) is in account 210987654321, but the stack Stack deploys to account 123456789012/);
  });

  test('takes a cluster, task definition and VPC of its own account and region', () => {
    const { template, stack } = runner((e) => ({
      cluster: ecs.Cluster.fromClusterArn(e.stack, 'Prod', arnIn(HOME, 'ecs', 'cluster/prod')),
      launchTarget: TaskLaunchTarget.fargate({ vpc: vpcOf(e.stack) }),
    }));

    template.resourceCountIs('Custom::EcsTaskRunner', 1);
    expect(warningsOf(stack, 'cdk-ecs-ops/EcsTaskRunner:environmentAgnostic')).toEqual([]);
  });

  test('an environment-agnostic stack synthesizes: silently with its own resources, with a warning for a cluster ARN of a region', () => {
    const e = environments();
    new EcsTaskRunner(e.agnostic, 'Own', { cluster: clusterOf(e.agnostic), taskDefinition: taskDefinitionOf(e.agnostic) });
    Template.fromStack(e.agnostic).resourceCountIs('Custom::EcsTaskRunner', 1);
    expect(warningsOf(e.agnostic, 'cdk-ecs-ops/EcsTaskRunner:environmentAgnostic')).toEqual([]);

    new EcsTaskRunner(e.agnostic, 'Given', {
      cluster: ecs.Cluster.fromClusterArn(e.agnostic, 'Ireland', arnIn({ region: OTHER_REGION }, 'ecs', 'cluster/prod')),
      taskDefinition: taskDefinitionOf(e.agnostic, 'Other'),
      launchTarget: TaskLaunchTarget.fargate({ vpc: vpcOf(e.agnostic, 'TaskVpc') }),
    });
    expect(warningsOf(e.agnostic, 'cdk-ecs-ops/EcsTaskRunner:environmentAgnostic'))
      .toEqual([expect.stringMatching(/: cluster is in account 123456789012 and region eu-west-1\./)]);
  });
});

describe('EcsTaskRunner: numbers and durations from tokens', () => {
  test.each([
    ['timeout', (s: Stack) => ({ timeout: Duration.minutes(numberParameter(s, 'Timeout')) }), /timeout is a duration built from a token \(\{"Ref":"Timeout"\} minutes\); give a literal Duration/],
    ['pollInterval', (s: Stack) => ({ pollInterval: Duration.seconds(numberParameter(s, 'Poll')) }), /pollInterval is a duration built from a token \(\{"Ref":"Poll"\} seconds\); give a literal Duration/],
  ])('fails on %s from a token: the tasks\' deadline is computed from it', (_name, props, message) => {
    expect(make((e) => props(e.stack))).toThrow(message);
  });

  test('carries count from a token to the custom resource, whose function checks it (1 to 10) before it starts a task', () => {
    const { template } = runner((e) => ({ count: numberParameter(e.stack, 'Count') }));

    template.hasResourceProperties('Custom::EcsTaskRunner', { Count: { Ref: 'Count' } });
    // CloudFormation passes a custom resource's properties as strings.
    const properties = (count: string) => ({
      Cluster: arnIn(HOME, 'ecs', 'cluster/prod'),
      TaskDefinition: arnIn(HOME, 'ecs', 'task-definition/migrate:1'),
      Launch: { Type: 'FARGATE', Subnets: ['subnet-1'], SecurityGroups: ['sg-1'], AssignPublicIp: 'DISABLED' },
      Count: count,
      TimeoutSeconds: '600',
      RunSeconds: '525',
    });
    expect(parseProperties(properties('3')).count).toBe(3);
    expect(() => parseProperties(properties('11'))).toThrow(/Count is "11"; expected a whole number from 1 to 10/);
  });

  test('carries a capacity provider strategy\'s base and weight from tokens to the custom resource', () => {
    const { template } = runner((e) => ({
      launchTarget: TaskLaunchTarget.capacityProviders([
        { capacityProvider: 'FARGATE_SPOT', base: numberParameter(e.stack, 'Base'), weight: numberParameter(e.stack, 'Weight') },
      ]),
    }));

    template.hasResourceProperties('Custom::EcsTaskRunner', {
      Launch: Match.objectLike({ CapacityProviderStrategy: [{ CapacityProvider: 'FARGATE_SPOT', Base: { Ref: 'Base' }, Weight: { Ref: 'Weight' } }] }),
    });
  });

  test('a count from a token with container instances names the token in its warning', () => {
    const { stack } = runner((e) => {
      const td = new ecs.Ec2TaskDefinition(e.stack, 'Seed', { family: 'seed' });
      td.addContainer('seed', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/acme/seed:1'), memoryLimitMiB: 256 });
      return { taskDefinition: td, count: numberParameter(e.stack, 'Count'), launchTarget: TaskLaunchTarget.containerInstances(['0123456789abcdef']) };
    });

    Annotations.fromStack(stack).hasWarning('/Stack/Migrate', Match.stringLikeRegexp('count is \\{"Ref":"Count"\\}, but TaskLaunchTarget.containerInstances\\(\\) starts one task'));
  });
});

describe('EcsTaskRunner: every mistake at once', () => {
  test('reports a foreign cluster, a duration from a token and a bad count in one error', () => {
    expect(make((e) => ({
      cluster: clusterOf(e.otherRegion, 'Ireland'),
      timeout: Duration.minutes(numberParameter(e.stack, 'Timeout')),
      count: 11,
    }))).toThrow(/^Invalid EcsTaskRunner props:\n- count is 11.*\n- timeout is a duration built from a token .*\n- cluster \(cluster OtherRegion\/Ireland\) is in region eu-west-1/);
  });
});
