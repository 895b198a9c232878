/**
 * IAM proof of EcsTaskRunner: drive the handlers through create, update, failure, timeout and delete against the fake
 * fleet with the properties of a synthesized runner, and check with the IAM policy simulator that every request each
 * function made is allowed by its synthesized role, and that the same requests elsewhere are denied.
 */
jest.mock('@aws-sdk/client-ecs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ecs'));
jest.mock('@aws-sdk/client-cloudwatch-logs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-cloudwatch-logs'));

import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { FakeLogs } from './support/fake-logs';
import {
  ACCOUNT, CLUSTER_ARN, CloudFormationResource, Handlers, REGION, SECURITY_GROUP, STACK_NAME, SUBNETS, StdoutCapture, loadHandlers,
  readSynthesized, useFakeClock,
} from './support/runner';
import { EcsTaskRunner, TaskLaunchTarget } from '../../src';
import { AwsStandin } from '../support/aws-standin';
import { FakeFleet } from '../support/fake-fleet';
import { IamRequest, IamSimulator, expectAllowed, expectDenied, distinctRequests, inOtherCluster } from '../support/iam';

const LOG_GROUP = '/ecs/migrate';
const OTHER_CLUSTER = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/other`;
const ORIGINAL_ENV = { ...process.env };

let standin: AwsStandin;

beforeAll(async () => {
  standin = await new AwsStandin().start();
});

afterAll(async () => {
  await standin.stop();
});

/** The user's runner: a Fargate task definition of this app with awslogs, in the imported cluster prod. */
function synthesize(launch: 'fargate' | 'instances' = 'fargate') {
  const stack = new Stack(new App(), STACK_NAME, { env: { account: ACCOUNT, region: REGION } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0a1b2c3d4e5f60718', availabilityZones: [`${REGION}a`, `${REGION}b`], privateSubnetIds: SUBNETS });
  const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod', vpc });
  const taskDefinition = new ecs.TaskDefinition(stack, 'Migrations', {
    family: 'migrate', compatibility: ecs.Compatibility.EC2_AND_FARGATE, networkMode: ecs.NetworkMode.AWS_VPC, cpu: '256', memoryMiB: '512',
  });
  const logGroup = new logs.LogGroup(stack, 'Logs', { logGroupName: LOG_GROUP, retention: logs.RetentionDays.ONE_MONTH });
  taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/acme/app:42'), logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'migrate' }) });
  const securityGroups = [ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', SECURITY_GROUP)];
  const runner = new EcsTaskRunner(stack, 'Migrate', {
    cluster,
    taskDefinition,
    containerOverrides: [{ containerName: 'app', command: ['npm', 'run', 'migrate'] }],
    updateCriteria: [{ containerName: 'app', environmentKeys: ['DB_HOST'] }],
    timeout: Duration.minutes(4),
    launchTarget: launch === 'fargate'
      ? TaskLaunchTarget.fargate({ securityGroups })
      : TaskLaunchTarget.containerInstances(['arn:aws:ecs:us-east-1:123456789012:container-instance/prod/0'], { securityGroups }),
  });
  return { stack, runner, taskDefinition, synthesized: readSynthesized(stack, runner) };
}

interface Proof {
  readonly onEvent: IamSimulator;
  readonly isComplete: IamSimulator;
  /** The requests each function made. */
  readonly requests: { onEvent: IamRequest[]; isComplete: IamRequest[] };
  readonly roles: { task: string; execution: string };
  readonly stackId: string;
}

/**
 * Create (the task fails; its log is read), update (the task definition's DB_HOST changed: both revisions are read,
 * the stack's status too), a second create that times out (its task is stopped), and the delete of the first resource
 * while a task it started runs.
 */
async function runScenario(launch: 'fargate' | 'instances' = 'fargate'): Promise<Proof> {
  const { stack, runner, taskDefinition, synthesized } = synthesize(launch);
  const onEvent = await IamSimulator.forRole(stack, runner.onEventHandler);
  const isComplete = await IamSimulator.forRole(stack, runner.isCompleteHandler);
  const roles = {
    task: String(onEvent.resolve(stack.resolve(taskDefinition.taskRole.roleArn))),
    execution: String(onEvent.resolve(stack.resolve(taskDefinition.executionRole!.roleArn))),
  };

  useFakeClock(new Date('2026-03-02T08:00:00.000Z'));
  Object.assign(process.env, { AWS_REGION: REGION, AWS_ENDPOINT_URL: standin.url, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret' });
  standin.reset();
  standin.on('cloudformation', 'DescribeStacks', { Stacks: [{ StackName: STACK_NAME, StackStatus: 'UPDATE_IN_PROGRESS', CreationTime: new Date() }] });
  const fleet = new FakeFleet({ region: REGION, accountId: ACCOUNT, now: () => new Date() }).install();
  const cloudWatchLogs = new FakeLogs(REGION, ACCOUNT).install();
  const stdout = new StdoutCapture().start();
  const requests = { onEvent: [] as IamRequest[], isComplete: [] as IamRequest[] };
  try {
    fleet.addCluster('prod');
    fleet.addAutoScalingGroup('prod-asg', { instances: 1, cluster: 'prod' });
    const instance = fleet.containerInstancesOf('prod')[0];
    // The synthesized properties name container instance "0": point them at the fleet's.
    if (launch === 'instances') synthesized.properties.Launch.ContainerInstances = [instance.arn];
    for (const environment of [{ DB_HOST: 'db-1' }, { DB_HOST: 'db-2' }]) {
      fleet.registerTaskDefinition('migrate', {
        containers: [{ name: 'app', environment, logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': LOG_GROUP, 'awslogs-region': REGION, 'awslogs-stream-prefix': 'migrate' } } }],
        networkMode: 'awsvpc',
        requiresCompatibilities: ['EC2', 'FARGATE'],
        taskRoleArn: roles.task,
        executionRoleArn: roles.execution,
      });
    }
    const handlers: Handlers = loadHandlers();
    // Record each function's requests apart.
    const recorded = (fn: keyof Handlers) => async (event: object) => {
      const from = fleet.calls.length;
      const fromLogs = cloudWatchLogs.calls.length;
      const fromStandin = standin.calls.length;
      try {
        return await (handlers[fn] as (e: object) => Promise<any>)(event);
      } finally {
        requests[fn].push(
          ...fleet.calls.slice(from).flatMap((c) => c.iam),
          ...cloudWatchLogs.iamRequests().slice(fromLogs),
          ...standin.calls.slice(fromStandin).map((c) => ({ action: `cloudformation:${c.operation}`, resource: c.input.StackName })),
        );
      }
    };
    const driven: Handlers = { onEvent: recorded('onEvent'), isComplete: recorded('isComplete') };

    // 1. The create's task fails: the run ends at once and its last log lines are read.
    fleet.setTaskBehavior('migrate', { outcome: { exitCode: 1 } });
    const first = new CloudFormationResource(driven, synthesized);
    const { properties } = synthesized;
    const created = await (async () => {
      const onEventOnce = driven.onEvent;
      driven.onEvent = async (event) => {
        const result = await onEventOnce(event);
        cloudWatchLogs.write(LOG_GROUP, `migrate/app/${result.EcsTaskRunner.Tasks![0].split('/').pop()}`, 'ERROR: migration failed');
        return result;
      };
      try {
        return await first.create(properties);
      } finally {
        driven.onEvent = onEventOnce;
      }
    })();
    expect(created.status).toBe('FAILED');
    // 2. An update to the next revision, whose DB_HOST changed: both revisions and the stack's status are read.
    first.physicalResourceId = created.physicalResourceId;
    fleet.setTaskBehavior('migrate', { lifecycle: ['PENDING', 'RUNNING'] });
    const updated = await first.update({ ...properties, TaskDefinition: properties.TaskDefinition.replace(/:1$/, ':2') });
    expect(ourPart(updated.reason)).toMatch(/^Timed out: /); // it ran, and its task was stopped at the deadline
    // 3. The delete finds and stops a task of this resource that still runs.
    fleet.addTask('prod', { taskDefinition: 'migrate', startedBy: first.physicalResourceId, containerInstance: instance.arn });
    expect((await first.delete()).status).toBe('SUCCESS');

    const actions = (r: IamRequest[]) => [...new Set(r.map((x) => x.action))].sort();
    expect(actions(requests.onEvent)).toEqual([
      'cloudformation:DescribeStacks',
      'ecs:DescribeTaskDefinition',
      ...(launch === 'instances' ? ['ecs:DescribeTasks'] : []),
      'ecs:ListTasks',
      ...(launch === 'fargate' ? ['ecs:RunTask'] : ['ecs:StartTask']),
      'ecs:StopTask', 'ecs:TagResource', 'iam:PassRole',
    ].sort());
    expect(actions(requests.isComplete)).toEqual(['ecs:DescribeTasks', 'ecs:StopTask', 'logs:GetLogEvents']);
    return {
      onEvent,
      isComplete,
      roles,
      requests: { onEvent: distinctRequests(requests.onEvent), isComplete: distinctRequests(requests.isComplete) },
      stackId: synthesized.stackId,
    };
  } finally {
    stdout.stop();
    cloudWatchLogs.uninstall();
    fleet.uninstall();
    jest.useRealTimers();
    process.env = { ...ORIGINAL_ENV };
  }
}

const ourPart = (reason?: string) => reason?.split('\n')[0];

describe.each(['fargate', 'instances'] as const)('EcsTaskRunner roles (%s)', (launch) => {
  test('allow every request each function made in the scenario', async () => {
    const { onEvent, isComplete, requests } = await runScenario(launch);

    await expectAllowed(onEvent, requests.onEvent);
    await expectAllowed(isComplete, requests.isComplete);
  });

  test('deny the same requests in another cluster', async () => {
    const { onEvent, isComplete, requests } = await runScenario(launch);

    const inCluster = (r: IamRequest) => r.action.startsWith('ecs:') && r.action !== 'ecs:DescribeTaskDefinition';
    expect(requests.onEvent.filter(inCluster).length).toBeGreaterThan(3);
    await expectDenied(onEvent, requests.onEvent.filter(inCluster).map((r) => inOtherCluster(r, ['prod'])));
    await expectDenied(isComplete, requests.isComplete.filter(inCluster).map((r) => inOtherCluster(r, ['prod'])));
  });

  test('deny another family, a start without the cluster condition, another role, other logs and stacks, and the other function\'s work', async () => {
    const { onEvent, isComplete, requests, roles, stackId } = await runScenario(launch);
    const action = launch === 'fargate' ? 'ecs:RunTask' : 'ecs:StartTask';
    const start = requests.onEvent.find((r) => r.action === action)!;
    const passRole = requests.onEvent.find((r) => r.action === 'iam:PassRole')!;
    const describe = requests.isComplete.find((r) => r.action === 'ecs:DescribeTasks')!;
    const logRead = requests.isComplete.find((r) => r.action === 'logs:GetLogEvents')!;
    const tag = requests.onEvent.find((r) => r.action === 'ecs:TagResource')!;

    expect(start.resource).toBe(`arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/migrate:1`);
    expect([roles.task, roles.execution]).toContain(passRole.resource);
    await expectDenied(onEvent, [
      { ...start, resource: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/billing:1` },
      { ...start, context: { ...start.context, 'ecs:cluster': OTHER_CLUSTER } },
      { action, resource: start.resource },
      { ...passRole, resource: `arn:aws:iam::${ACCOUNT}:role/admin` },
      { ...passRole, context: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
      { ...tag, context: { ...tag.context, 'ecs:CreateAction': 'CreateService' } },
      { action: 'cloudformation:DescribeStacks', resource: stackId.replace(`stack/${STACK_NAME}/`, 'stack/Other/') },
      { action: 'ecs:DeleteCluster', resource: CLUSTER_ARN },
      { action: 'ecs:UpdateService', resource: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/web`, context: { 'ecs:cluster': CLUSTER_ARN } },
    ]);
    await expectDenied(isComplete, [
      { ...logRead, resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/ecs/other:log-stream:migrate/app/0` },
      { ...start },
      { ...passRole },
      { action: 'ecs:DescribeTasks', resource: describe.resource },
    ]);
  });
});
