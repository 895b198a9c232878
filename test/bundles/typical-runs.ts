/**
 * One typical invocation of each shipped handler: the function's environment as its construct synthesizes it at
 * defaults, the event, the AWS answers of a quiet run (nothing to replace, nothing to send) and the calls it makes.
 * The bundle smoke tests run it against the built asset, and `npx projen bench` measures its cold start.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { EcsAgentMonitor } from '../../src';
import type { HandlerBundle } from '../../src/common/handler-function';
import { taskRunnerEvents, taskRunnerStack } from '../ecs-task-runner/support/typical';
import type { AwsStandin } from '../support/aws-standin';
import { synthesizedEnvironment } from '../support/synthesized-environment';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

export interface TypicalRun {
  readonly bundle: HandlerBundle;
  /** `_HANDLER`, for a bundle with several handlers. @default 'index.handler' */
  readonly handler?: string;
  /** What the run is, for reports. */
  readonly description: string;
  readonly event: unknown;
  /** The calls the run makes, as `service:Operation`, in order of first call. */
  readonly calls: readonly string[];
  /** The clients whose code the run loads (see `clientsLoaded`): no more than it calls. */
  readonly clients: readonly string[];
  /** Every AWS SDK client package (and client library) the handler can use: the naive bundle creates them all at cold start. */
  readonly clientPackages: readonly string[];
  /** The function's environment, synthesized by the construct at its defaults. */
  environment(): Record<string, string>;
  /** Registers the AWS answers of the run on the stand-in. */
  answer(standin: AwsStandin): void;
}

/** The task definition of the typical EcsTaskRunner runs, as DescribeTaskDefinition answers. */
export const TASK_RUNNER_TASK_DEFINITION = {
  taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/migrate:1`,
  family: 'migrate',
  revision: 1,
  containerDefinitions: [{
    name: 'app',
    image: 'public.ecr.aws/acme/app:42',
    essential: true,
    logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/migrate', 'awslogs-region': REGION, 'awslogs-stream-prefix': 'migrate' } },
  }],
};

/** The task of the typical EcsTaskRunner runs. */
export const TASK_RUNNER_TASK = {
  taskArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/prod/0123456789abcdef0123456789abcdef`,
  clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`,
  taskDefinitionArn: TASK_RUNNER_TASK_DEFINITION.taskDefinitionArn,
  launchType: 'FARGATE',
};

/** Three connected, ACTIVE container instances in the cluster `prod`, registered a day before the run. */
export function quietCluster(standin: AwsStandin, cluster = 'prod', count = 3): string[] {
  const arns = Array.from({ length: count }, (_, i) => `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/${cluster}/${String(i).padStart(32, '0')}`);
  standin.on('ecs', 'ListContainerInstances', { containerInstanceArns: arns });
  standin.on('ecs', 'DescribeContainerInstances', (input: { containerInstances: string[] }) => ({
    containerInstances: input.containerInstances.map((arn, i) => ({
      containerInstanceArn: arn,
      ec2InstanceId: `i-0${String(i).padStart(16, '0')}`,
      status: 'ACTIVE',
      agentConnected: true,
      registeredAt: new Date(Date.now() - 86_400_000),
    })),
    failures: [],
  }));
  return arns;
}

export const TYPICAL_RUNS: readonly TypicalRun[] = [
  {
    bundle: 'ecs-agent-monitor',
    description: 'a scheduled check of 3 connected instances: ListContainerInstances, DescribeContainerInstances, one DynamoDB Query',
    environment: () => {
      const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
      const cluster = ecs.Cluster.fromClusterArn(stack, 'Cluster', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`);
      return synthesizedEnvironment(stack, new EcsAgentMonitor(stack, 'Monitor', { clusters: [cluster] }).handler);
    },
    event: { 'version': '0', 'detail-type': 'Scheduled Event', 'source': 'aws.events', 'account': ACCOUNT, 'region': REGION, 'detail': {} },
    answer: (standin) => {
      quietCluster(standin);
      standin.on('dynamodb', 'Query', { Items: [], Count: 0, ScannedCount: 0 });
    },
    calls: ['ecs:ListContainerInstances', 'ecs:DescribeContainerInstances', 'dynamodb:Query'],
    clients: ['DynamoDB', 'ECS'],
    clientPackages: [
      '@aws-sdk/client-ecs', '@aws-sdk/client-auto-scaling', '@aws-sdk/client-ec2', '@aws-sdk/client-dynamodb',
      '@aws-sdk/client-elasticache', '@aws-sdk/client-secrets-manager', '@aws-sdk/client-ssm', '@aws-sdk/client-sns', 'ioredis',
    ],
  },
  {
    bundle: 'ecs-task-runner',
    handler: 'index.onEvent',
    description: 'onEvent of a create: DescribeTaskDefinition, then RunTask of one Fargate task',
    environment: () => {
      const { stack, runner } = taskRunnerStack();
      return synthesizedEnvironment(stack, runner.onEventHandler);
    },
    get event() {
      return taskRunnerEvents().create;
    },
    answer: (standin) => {
      standin.on('ecs', 'DescribeTaskDefinition', { taskDefinition: TASK_RUNNER_TASK_DEFINITION });
      standin.on('ecs', 'RunTask', (input: { cluster: string; startedBy: string }) => ({
        tasks: [{ ...TASK_RUNNER_TASK, lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', startedBy: input.startedBy, createdAt: new Date() }],
        failures: [],
      }));
    },
    calls: ['ecs:DescribeTaskDefinition', 'ecs:RunTask'],
    clients: ['ECS'],
    clientPackages: ['@aws-sdk/client-ecs', '@aws-sdk/client-cloudwatch-logs'],
  },
  {
    bundle: 'ecs-task-runner',
    handler: 'index.isComplete',
    description: 'isComplete of a run whose task exited 0: one DescribeTasks',
    environment: () => {
      const { stack, runner } = taskRunnerStack();
      return synthesizedEnvironment(stack, runner.isCompleteHandler);
    },
    get event() {
      return taskRunnerEvents().isComplete;
    },
    answer: (standin) => {
      standin.on('ecs', 'DescribeTasks', {
        tasks: [{
          ...TASK_RUNNER_TASK,
          lastStatus: 'STOPPED',
          desiredStatus: 'STOPPED',
          stopCode: 'EssentialContainerExited',
          stoppedReason: 'Essential container in task exited',
          containers: [{ name: 'app', exitCode: 0, lastStatus: 'STOPPED' }],
        }],
        failures: [],
      });
    },
    calls: ['ecs:DescribeTasks'],
    clients: ['ECS'],
    clientPackages: ['@aws-sdk/client-ecs', '@aws-sdk/client-cloudwatch-logs'],
  },
];

/**
 * The AWS SDK clients (by service id, e.g. `ECS`, `Auto Scaling`) and `ioredis` whose code a bundle run loaded,
 * read from the loaded files: each client's configuration names its `serviceId`.
 */
export function clientsLoaded(assetDir: string, loadedFiles: ReadonlyArray<{ path: string }>): string[] {
  const found = new Set<string>();
  for (const file of loadedFiles) {
    const code = readFileSync(join(assetDir, file.path), 'utf8');
    for (const match of code.matchAll(/serviceId\?\?"([^"]+)"/g)) found.add(match[1]);
    if (/ioredis/.test(code)) found.add('ioredis');
  }
  return [...found].sort();
}
