/**
 * The runner of the typical bundle runs (test/bundles/typical-runs.ts) and the benchmark: a migration on Fargate with an
 * imported task definition in the cluster prod, and the requests the Provider framework hands its two functions.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ACCOUNT, REGION, SECURITY_GROUP, SUBNETS, asCloudFormationSends, readSynthesized, sampleRequest } from './runner';
import { EcsTaskRunner, TaskLaunchTarget } from '../../../src';

/** The stack Ops (123456789012/us-east-1) with the runner Migrate: its defaults, an override and the tasks' security group. */
export function taskRunnerStack(): { stack: Stack; runner: EcsTaskRunner } {
  const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0a1b2c3d4e5f60718', availabilityZones: [`${REGION}a`, `${REGION}b`], privateSubnetIds: SUBNETS });
  const runner = new EcsTaskRunner(stack, 'Migrate', {
    cluster: ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod', vpc }),
    taskDefinition: ecs.TaskDefinition.fromTaskDefinitionAttributes(stack, 'Migrations', {
      taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/migrate:1`,
      compatibility: ecs.Compatibility.FARGATE,
      networkMode: ecs.NetworkMode.AWS_VPC,
      taskRole: iam.Role.fromRoleArn(stack, 'TaskRole', `arn:aws:iam::${ACCOUNT}:role/migrate-task`),
    }),
    containerOverrides: [{ containerName: 'app', command: ['npm', 'run', 'migrate'] }],
    launchTarget: TaskLaunchTarget.fargate({ securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', SECURITY_GROUP)] }),
  });
  return { stack, runner };
}

/** CloudFormation's create request as onEvent gets it, and the event isComplete gets for the task it started. */
export function taskRunnerEvents(): { create: Record<string, unknown>; isComplete: Record<string, unknown> } {
  const { stack, runner } = taskRunnerStack();
  const synthesized = readSynthesized(stack, runner);
  const create = {
    ...sampleRequest('create'),
    RequestId: '6d8e2f2a-8f7b-4a3e-9b1c-2d3e4f5a6b7c',
    ResponseURL: 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/response',
    ResourceType: 'Custom::EcsTaskRunner',
    LogicalResourceId: synthesized.logicalId,
    StackId: synthesized.stackId,
    ServiceToken: synthesized.properties.ServiceToken,
    ResourceProperties: asCloudFormationSends(synthesized.properties),
  };
  const taskArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/prod/0123456789abcdef0123456789abcdef`;
  const isComplete = {
    ...create,
    PhysicalResourceId: 'ecs-task-runner-0123456789abcdef0123',
    EcsTaskRunner: {
      Run: true,
      Why: 'the resource is created',
      Cluster: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`,
      Tasks: [taskArn],
      TaskDefinition: 'migrate:1',
      StartedAt: '2026-03-02T08:00:00.000Z',
      Deadline: '2100-01-01T00:00:00.000Z',
      Containers: [{ name: 'app', essential: true, awslogs: { group: '/ecs/migrate', region: REGION, streamPrefix: 'migrate' } }],
    },
  };
  return { create, isComplete };
}
