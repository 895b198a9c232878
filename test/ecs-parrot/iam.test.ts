/**
 * IAM proof of EcsParrot: run the handler, configured with the environment of a synthesized EcsParrot, through a
 * batch that needs every permission (enrichment, the dedupe table, a Slack secret, an SNS topic), add the calls
 * Lambda's event source mapping makes with the function's role, and check with the IAM policy simulator that each
 * one is allowed, and that the same requests elsewhere (and what the function must never do) are denied.
 */
jest.mock('@aws-sdk/client-ecs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ecs'));
jest.mock('@aws-sdk/client-dynamodb', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-dynamodb'));
jest.mock('@aws-sdk/client-sns', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-sns'));
jest.mock('@aws-sdk/client-secrets-manager', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-secrets-manager'));

import { App, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ACCOUNT, REGION, hexId, sqsBatch, taskEvent } from './support/events';
import { ParrotWorld, SLACK_SECRET_ARN, TOPIC_ARN } from './support/parrot';
import { EcsParrot, NotificationChannel } from '../../src';
import { IamRequest, IamSimulator, expectAllowed, expectDenied } from '../support/iam';
import { synthesizedEnvironment } from '../support/synthesized-environment';

let world: ParrotWorld;

beforeEach(async () => {
  world = await new ParrotWorld().start();
});

afterEach(async () => {
  await world.stop();
});

function synthesize(options: { clusters: boolean; enrichment: boolean }) {
  const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
  const parrot = new EcsParrot(stack, 'Parrot', {
    notifications: [
      NotificationChannel.slack(secretsmanager.Secret.fromSecretCompleteArn(stack, 'Slack', SLACK_SECRET_ARN)),
      NotificationChannel.snsTopic(sns.Topic.fromTopicArn(stack, 'Topic', TOPIC_ARN)),
    ],
    clusters: options.clusters ? [ecs.Cluster.fromClusterArn(stack, 'Prod', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`)] : undefined,
    enrichment: options.enrichment,
  });
  return { stack, parrot };
}

interface Proof {
  readonly sim: IamSimulator;
  readonly requests: IamRequest[];
  readonly queueArn: string;
  readonly deadLetterQueueArn: string;
  readonly tableArn: string;
}

/** One batch: an OOM-killed task of service api on an instance of prod, its task definition registered. */
async function runScenario(options: { clusters: boolean; enrichment: boolean }): Promise<Proof> {
  const { stack, parrot } = synthesize(options);
  const sim = await IamSimulator.forRole(stack, parrot.handler);
  const arn = (value: string) => String(sim.resolve(stack.resolve(value)));
  const tableArn = arn(parrot.table.tableArn);
  const queueArn = arn(parrot.queue.queueArn);
  const deadLetterQueueArn = arn(parrot.deadLetterQueue.queueArn);
  const handler = world.handlerWith(synthesizedEnvironment(stack, parrot.handler), tableArn);

  world.fleet.addCluster('prod');
  world.fleet.addAutoScalingGroup('prod-asg', { instances: 1, cluster: 'prod' });
  const [instance] = world.fleet.containerInstancesOf('prod');
  world.fleet.registerTaskDefinition('api', { containers: [{ name: 'web' }] });
  const event = taskEvent({
    taskId: hexId('iam'),
    group: 'service:api',
    taskDefinition: 'api:1',
    lastStatus: 'STOPPED',
    containerInstanceId: instance.id,
    containers: [{ name: 'web', exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' }],
    createdAt: new Date(),
    startedAt: new Date(),
    at: new Date(),
    version: 4,
  });

  const result = await handler(sqsBatch([event]));
  expect(result).toEqual({ batchItemFailures: [] });
  expect(world.slackMessages()).toHaveLength(1);

  const requests: IamRequest[] = [
    ...world.fleet.iamRequests(),
    ...world.table.iamRequests(),
    { action: 'secretsmanager:GetSecretValue', resource: SLACK_SECRET_ARN },
    ...world.snsMessages().map((m) => ({ action: 'sns:Publish', resource: m.TopicArn! })),
    // What Lambda's event source mapping does with the function's role.
    ...['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'].map((action) => ({ action, resource: queueArn })),
  ];
  return { sim, requests: [...new Map(requests.map((r) => [JSON.stringify(r), r])).values()], queueArn, deadLetterQueueArn, tableArn };
}

describe('EcsParrot role with clusters and enrichment', () => {
  test('allows every request the scenario made', async () => {
    const { sim, requests, tableArn } = await runScenario({ clusters: true, enrichment: true });

    expect(requests.map((r) => r.action).sort()).toEqual([
      'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'ecs:DescribeContainerInstances', 'ecs:DescribeTaskDefinition',
      'secretsmanager:GetSecretValue', 'sns:Publish', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage',
    ]);
    expect(requests.filter((r) => r.action.startsWith('dynamodb:')).every((r) => r.resource === tableArn)).toBe(true);
    await expectAllowed(sim, requests);
  });

  test('denies the same reads in another cluster, and everything the function must never do', async () => {
    const { sim, requests, queueArn, deadLetterQueueArn, tableArn } = await runScenario({ clusters: true, enrichment: true });
    const describe = requests.find((r) => r.action === 'ecs:DescribeContainerInstances')!;
    const other = JSON.parse(JSON.stringify(describe).split(':container-instance/prod/').join(':container-instance/batch/').split(':cluster/prod').join(':cluster/batch'));

    await expectDenied(sim, [
      other,
      { action: 'ecs:DescribeTasks', resource: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/prod/${hexId('x')}` },
      { action: 'ecs:StopTask', resource: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/prod/${hexId('x')}` },
      { action: 'ecs:UpdateService', resource: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/api` },
      { action: 'dynamodb:Scan', resource: tableArn },
      { action: 'dynamodb:DeleteItem', resource: tableArn },
      { action: 'dynamodb:PutItem', resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/someone-elses` },
      { action: 'sqs:SendMessage', resource: queueArn },
      { action: 'sqs:PurgeQueue', resource: queueArn },
      { action: 'sqs:ReceiveMessage', resource: deadLetterQueueArn },
      { action: 'sqs:ReceiveMessage', resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:another-queue` },
      { action: 'secretsmanager:GetSecretValue', resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:database-AbCdEf` },
      { action: 'sns:Publish', resource: `arn:aws:sns:${REGION}:${ACCOUNT}:another-topic` },
    ]);
  });
});

describe('EcsParrot role without clusters', () => {
  test('may read the container instances of every cluster (the finding the README names)', async () => {
    const { sim, requests } = await runScenario({ clusters: false, enrichment: true });
    const describe = requests.find((r) => r.action === 'ecs:DescribeContainerInstances')!;
    const other = JSON.parse(JSON.stringify(describe).split(':container-instance/prod/').join(':container-instance/batch/').split(':cluster/prod').join(':cluster/batch'));

    await expectAllowed(sim, [...requests, other]);
  });
});

describe('EcsParrot role without enrichment', () => {
  test('has no ECS permission at all, and still does its job', async () => {
    const { sim, requests } = await runScenario({ clusters: true, enrichment: false });

    expect(requests.filter((r) => r.action.startsWith('ecs:'))).toEqual([]);
    await expectAllowed(sim, requests);
    await expectDenied(sim, [
      { action: 'ecs:DescribeTaskDefinition' },
      {
        action: 'ecs:DescribeContainerInstances',
        resource: `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/prod/${hexId('ci')}`,
        context: { 'ecs:cluster': `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod` },
      },
    ]);
  });
});
