/**
 * One typical invocation of each shipped handler: the function's environment as its construct synthesizes it at
 * defaults, the event, the AWS answers of a quiet run (nothing to replace, nothing to send) and the calls it makes.
 * The bundle smoke tests run it against the built asset, and `npx projen bench` measures its cold start.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EcsAgentMonitor, EcsParrot, EcsStatusApi, NotificationChannel } from '../../src';
import type { HandlerBundle } from '../../src/common/handler-function';
import { AGENT_UPDATER_TYPICAL_RUN } from '../ecs-agent-updater/typical-run';
import { hexId, sqsBatch, taskEvent } from '../ecs-parrot/support/events';
import { restEvent } from '../ecs-status-api/support/status';
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
    bundle: 'ecs-status-api',
    description: 'GET /services on a cold function: ListClusters, ListServices and DescribeServices (with tags) of 3 services in 1 cluster',
    environment: () => {
      const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
      return synthesizedEnvironment(stack, new EcsStatusApi(stack, 'Status').handler);
    },
    event: restEvent('/services', { query: { environment: 'prod' } }),
    answer: (standin) => {
      const arns = ['api', 'web', 'worker'].map((name) => `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/${name}`);
      standin.on('ecs', 'ListClusters', { clusterArns: [`arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`] });
      standin.on('ecs', 'ListServices', { serviceArns: arns });
      standin.on('ecs', 'DescribeServices', (input: { services: string[] }) => ({
        services: input.services.map((arn) => ({
          serviceArn: arn,
          serviceName: arn.split('/').pop(),
          clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`,
          status: 'ACTIVE',
          desiredCount: 2,
          runningCount: 2,
          pendingCount: 0,
          launchType: 'FARGATE',
          deployments: [{ id: 'ecs-svc/1', status: 'PRIMARY', desiredCount: 2, runningCount: 2, rolloutState: 'COMPLETED', updatedAt: new Date() }],
          events: [{ id: '1', createdAt: new Date(), message: 'has reached a steady state.' }],
          tags: [{ key: 'environment', value: 'prod' }],
        })),
        failures: [],
      }));
    },
    calls: ['ecs:ListClusters', 'ecs:ListServices', 'ecs:DescribeServices'],
    clients: ['ECS'],
    clientPackages: ['@aws-sdk/client-ecs'],
  },
  AGENT_UPDATER_TYPICAL_RUN,
  {
    bundle: 'ecs-parrot',
    description: 'a batch of 3 events, one worth a message (a Fargate task OOM-killed): claim it, describe its task definition, '
      + 'read the ongoing failures, publish to SNS, record the delivery',
    environment: () => {
      const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
      const topic = sns.Topic.fromTopicArn(stack, 'Topic', `arn:aws:sns:${REGION}:${ACCOUNT}:ops`);
      return synthesizedEnvironment(stack, new EcsParrot(stack, 'Parrot', { notifications: [NotificationChannel.snsTopic(topic)] }).handler);
    },
    event: (() => {
      const now = Date.now();
      const task = (seed: string, lastStatus: 'RUNNING' | 'STOPPED', containers: Array<{ name: string; exitCode?: number; reason?: string }>, stopCode?: string) => taskEvent({
        taskId: hexId(seed),
        group: 'service:api',
        taskDefinition: 'api:42',
        lastStatus,
        containers,
        stopCode,
        fargate: true,
        stoppedReason: stopCode === 'UserInitiated' ? 'Task stopped by user' : undefined,
        createdAt: new Date(now - 600_000),
        startedAt: new Date(now - 580_000),
        at: new Date(now - 5000),
        version: 5,
      });
      return sqsBatch([
        task('typical-oom', 'STOPPED', [{ name: 'web', exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' }]),
        task('typical-running', 'RUNNING', [{ name: 'web' }]),
        task('typical-stopped', 'STOPPED', [{ name: 'web', exitCode: 0 }], 'UserInitiated'),
      ]);
    })(),
    answer: (standin) => {
      standin.on('dynamodb', 'PutItem', {});
      standin.on('dynamodb', 'BatchGetItem', (input: { RequestItems: Record<string, unknown> }) => ({
        Responses: Object.fromEntries(Object.keys(input.RequestItems).map((table) => [table, []])), UnprocessedKeys: {},
      }));
      standin.on('dynamodb', 'UpdateItem', {});
      standin.on('ecs', 'DescribeTaskDefinition', {
        taskDefinition: {
          taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/api:42`,
          family: 'api',
          revision: 42,
          status: 'ACTIVE',
          containerDefinitions: [{
            name: 'web',
            image: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/api:42`,
            essential: true,
            logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/api', 'awslogs-region': REGION, 'awslogs-stream-prefix': 'api' } },
          }],
        },
      });
      standin.on('sns', 'Publish', { MessageId: '6a1f4b2e-0000-4000-8000-000000000001' });
    },
    calls: ['dynamodb:PutItem', 'ecs:DescribeTaskDefinition', 'dynamodb:BatchGetItem', 'sns:Publish', 'dynamodb:UpdateItem'],
    clients: ['DynamoDB', 'ECS', 'SNS'],
    clientPackages: ['@aws-sdk/client-ecs', '@aws-sdk/client-dynamodb', '@aws-sdk/client-secrets-manager', '@aws-sdk/client-ssm', '@aws-sdk/client-sns'],
  },
  {
    bundle: 'ecs-task-runner',
    handler: 'index.onEvent',
    description: 'onEvent of a create: ListTasks (a run an earlier create left), DescribeTaskDefinition, then RunTask of one Fargate task',
    environment: () => {
      const { stack, runner } = taskRunnerStack();
      return synthesizedEnvironment(stack, runner.onEventHandler);
    },
    get event() {
      return taskRunnerEvents().create;
    },
    answer: (standin) => {
      standin.on('ecs', 'ListTasks', { taskArns: [] });
      standin.on('ecs', 'DescribeTaskDefinition', { taskDefinition: TASK_RUNNER_TASK_DEFINITION });
      standin.on('ecs', 'RunTask', (input: { cluster: string; startedBy: string }) => ({
        tasks: [{ ...TASK_RUNNER_TASK, lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', startedBy: input.startedBy, createdAt: new Date() }],
        failures: [],
      }));
    },
    calls: ['ecs:ListTasks', 'ecs:DescribeTaskDefinition', 'ecs:RunTask'],
    clients: ['ECS'],
    clientPackages: ['@aws-sdk/client-ecs', '@aws-sdk/client-cloudwatch-logs', '@aws-sdk/client-cloudformation'],
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
    clientPackages: ['@aws-sdk/client-ecs', '@aws-sdk/client-cloudwatch-logs', '@aws-sdk/client-cloudformation'],
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
