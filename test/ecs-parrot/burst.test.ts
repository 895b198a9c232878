/**
 * A rolling deployment gone wrong, as EventBridge would see it: 400 events, of which the construct's rules let
 * through the interesting ones, delivered to the handler in the batches Lambda's event source mapping would make
 * (one per 20-second window), and the messages a team would read.
 *
 * The service `api` runs 100 tasks on 10 EC2 instances of cluster `prod`. Revision api:42 is deployed
 * (minimum healthy 100 %, maximum 200 %): 100 new tasks start; their containers are OOM-killed after about a minute,
 * 50 of them before the deployment circuit breaker (threshold 50 for 100 tasks) fails the deployment and rolls back
 * to api:41, whose scheduler stops the other 50 new tasks. Each task placement and stop also changes its container
 * instance's resources (a container instance state change), and EventBridge delivers 16 of the stop events twice.
 *
 * `PARROT_BURST_OUT=<file>` writes the messages (title, summary and sections) to that file.
 */
jest.mock('@aws-sdk/client-ecs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ecs'));
jest.mock('@aws-sdk/client-dynamodb', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-dynamodb'));
jest.mock('@aws-sdk/client-sns', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-sns'));
jest.mock('@aws-sdk/client-secrets-manager', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-secrets-manager'));

import { writeFileSync } from 'fs';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { SQSEvent } from 'aws-lambda';
import { ACCOUNT, REGION, containerInstanceEvent, deploymentEvent, hexId, sqsRecord, taskEvent } from './support/events';
import { ParrotWorld, SLACK_SECRET_ARN, TOPIC_ARN } from './support/parrot';
import { EcsParrot, NotificationChannel } from '../../src';
import { matchesEventPattern } from '../support/event-pattern';
import { useFakeClock } from '../support/handler-harness';
import { IntrinsicResolver } from '../support/iam';
import { synthesizedEnvironment } from '../support/synthesized-environment';

const T0 = Date.parse('2026-03-02T10:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const OOM = 'OutOfMemoryError: Container killed due to memory usage';
const NEW_DEPLOYMENT = 'ecs-svc/7391849562048201937';
const OLD_DEPLOYMENT = 'ecs-svc/2208745913368027415';
/** EventBridge puts an event on the queue about half a second after it happens. */
const DELIVERY_DELAY_S = 0.5;
/** The construct's defaults: the batch window and the batch size. */
const WINDOW_S = 20;
const BATCH_SIZE = 500;

interface Timed {
  readonly arrival: number;
  readonly event: any;
}

/** The 400 events of the deployment, in the order they reach EventBridge. */
function rollingDeployment(instances: Array<{ id: string; ec2InstanceId: string }>): Timed[] {
  const events: Timed[] = [];
  const add = (seconds: number, event: any) => events.push({ arrival: seconds + DELIVERY_DELAY_S, event });
  const newTask = (i: number) => hexId(`api-42-${i}`);
  const instanceOf = (i: number) => instances[i % instances.length];
  let instanceVersion = 100;
  const instanceChanged = (seconds: number, i: number) => {
    const ci = instanceOf(i);
    add(seconds, containerInstanceEvent({ id: ci.id, ec2InstanceId: ci.ec2InstanceId, status: 'ACTIVE', agentConnected: true, version: instanceVersion++, at: at(seconds) }));
  };
  const task = (i: number, lastStatus: 'PENDING' | 'RUNNING' | 'STOPPED', seconds: number, version: number, stop: Partial<Parameters<typeof taskEvent>[0]> = {}) =>
    taskEvent({
      taskId: newTask(i),
      group: 'service:api',
      taskDefinition: 'api:42',
      lastStatus,
      containerInstanceId: instanceOf(i).id,
      startedBy: NEW_DEPLOYMENT,
      containers: [{ name: 'web' }, { name: 'xray-daemon' }],
      createdAt: at(2 + i * 0.5),
      startedAt: lastStatus === 'PENDING' ? undefined : at(20 + i * 0.7),
      at: at(seconds),
      version,
      ...stop,
    });

  add(0, deploymentEvent({ service: 'api', eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS', eventType: 'INFO', deploymentId: NEW_DEPLOYMENT, reason: `ECS deployment ${NEW_DEPLOYMENT} in progress.`, at: at(0) }));
  for (let i = 0; i < 100; i++) {
    add(2 + i * 0.5, task(i, 'PENDING', 2 + i * 0.5, 1));
    if (i < 40) instanceChanged(2 + i * 0.5, i);
  }
  for (let i = 0; i < 100; i++) add(20 + i * 0.7, task(i, 'RUNNING', 20 + i * 0.7, 3));
  // The first 50 new tasks' web containers are OOM-killed 40 to 128 seconds after they started.
  for (let i = 0; i < 50; i++) {
    const seconds = 60 + i * 1.8;
    const stop = task(i, 'STOPPED', seconds, 5, {
      containers: [{ name: 'web', exitCode: 137, reason: OOM }, { name: 'xray-daemon', exitCode: 143 }],
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      stoppedAt: at(seconds),
    });
    add(seconds, stop);
    if (i < 48 && i % 3 === 0) add(seconds + 2.5, stop); // EventBridge delivers at least once
    if (i < 20) instanceChanged(seconds, i);
  }
  add(150, deploymentEvent({ service: 'api', eventName: 'SERVICE_DEPLOYMENT_FAILED', eventType: 'ERROR', deploymentId: NEW_DEPLOYMENT, reason: 'ECS deployment circuit breaker: task failed to start.', at: at(150) }));
  add(150, deploymentEvent({
    service: 'api',
    eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS',
    eventType: 'INFO',
    deploymentId: OLD_DEPLOYMENT,
    reason: `ECS deployment circuit breaker: rolling back to deploymentId ${OLD_DEPLOYMENT}.`,
    at: at(150),
  }));
  // The rollback scales the other 50 new tasks in.
  for (let i = 50; i < 100; i++) {
    const seconds = 155 + (i - 50) * 0.9;
    add(seconds, task(i, 'STOPPED', seconds, 6, {
      containers: [{ name: 'web', exitCode: 143 }, { name: 'xray-daemon', exitCode: 143 }],
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason: `Scaling activity initiated by (deployment ${OLD_DEPLOYMENT})`,
      stoppedAt: at(seconds),
    }));
    if (i < 70) instanceChanged(seconds, i);
  }
  add(240, deploymentEvent({ service: 'api', eventName: 'SERVICE_DEPLOYMENT_COMPLETED', eventType: 'INFO', deploymentId: OLD_DEPLOYMENT, reason: `ECS deployment ${OLD_DEPLOYMENT} completed.`, at: at(240) }));
  return events.sort((a, b) => a.arrival - b.arrival);
}

/**
 * The batches the event source mapping makes: a batch opens with the first message that arrives and closes a
 * window later (or at the batch size); messages that arrive meanwhile wait for the next one.
 */
function batches(arrivals: readonly Timed[]): Array<{ closesAt: number; events: any[] }> {
  const out: Array<{ closesAt: number; events: any[] }> = [];
  let i = 0;
  while (i < arrivals.length) {
    const closesAt = arrivals[i].arrival + WINDOW_S;
    const events: any[] = [];
    while (i < arrivals.length && arrivals[i].arrival < closesAt && events.length < BATCH_SIZE) events.push(arrivals[i++].event);
    out.push({ closesAt, events });
  }
  return out;
}

let world: ParrotWorld;

beforeEach(async () => {
  useFakeClock(new Date(T0));
  world = await new ParrotWorld().start();
});

afterEach(async () => {
  await world.stop();
  jest.useRealTimers();
});

test('a rolling deployment of 100 tasks: 400 events, at most 5 messages, every failure counted', async () => {
  // Prepare: the fleet, and the EcsParrot a team would deploy for it (defaults, one cluster).
  world.fleet.addCluster('prod');
  world.fleet.addAutoScalingGroup('prod-asg', { instances: 10, cluster: 'prod' });
  for (let revision = 1; revision <= 42; revision++) {
    world.fleet.registerTaskDefinition('api', {
      containers: [
        { name: 'web', logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/prod/api', 'awslogs-region': REGION, 'awslogs-stream-prefix': 'api' } } },
        { name: 'xray-daemon', essential: false },
      ],
    });
  }
  const instances = world.fleet.containerInstancesOf('prod').map((ci) => ({ id: ci.id, ec2InstanceId: ci.ec2InstanceId }));
  const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
  const parrot = new EcsParrot(stack, 'Parrot', {
    notifications: [
      NotificationChannel.slack(secretsmanager.Secret.fromSecretCompleteArn(stack, 'Slack', SLACK_SECRET_ARN)),
      NotificationChannel.snsTopic(sns.Topic.fromTopicArn(stack, 'Topic', TOPIC_ARN)),
    ],
    clusters: [ecs.Cluster.fromClusterArn(stack, 'Prod', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`)],
  });
  const template = Template.fromStack(stack).toJSON();
  const resolver = new IntrinsicResolver(template, { account: ACCOUNT, region: REGION });
  const rules = Object.entries<any>(template.Resources).filter(([, r]) => r.Type === 'AWS::Events::Rule')
    .map(([id, r]) => resolver.resolve(r.Properties.EventPattern, id));
  const handler = world.handlerWith(synthesizedEnvironment(stack, parrot.handler));
  const all = rollingDeployment(instances);

  // Act: EventBridge keeps what the rules match; the event source mapping batches it; the handler runs per batch.
  const queued = all.filter(({ event }) => rules.some((p) => matchesEventPattern(p, event)));
  const failures: string[] = [];
  let messageId = 0;
  for (const batch of batches(queued)) {
    jest.setSystemTime(new Date(T0 + batch.closesAt * 1000));
    const sqsEvent: SQSEvent = { Records: batch.events.map((e) => sqsRecord(e, `m-${messageId++}`)) };
    expect(Buffer.byteLength(JSON.stringify(sqsEvent))).toBeLessThan(6 * 1024 * 1024);
    const result = await handler(sqsEvent);
    failures.push(...result.batchItemFailures.map((f) => f.itemIdentifier));
  }

  // Assess
  const messages = world.slackMessages();
  if (process.env.PARROT_BURST_OUT) writeFileSync(process.env.PARROT_BURST_OUT, describe(all.length, queued.length, batches(queued).length, world));
  expect(all).toHaveLength(400);
  // Only the OOM stops (50, 16 of them twice) and the failed deployment and its rollback reach the queue.
  expect(queued).toHaveLength(68);
  expect(failures).toEqual([]);
  expect(messages.length).toBeGreaterThanOrEqual(2);
  expect(messages.length).toBeLessThanOrEqual(5);
  expect(world.snsMessages()).toHaveLength(messages.length);
  // The first says what is happening; the last says the deployment failed and rolls back, with all 50 OOM kills.
  expect(messages[0].blocks[0].text.text).toMatch(/^:warning: \d+ tasks of service api stopped: OutOfMemoryError \(web\) ×\d+$/);
  const last = messages[messages.length - 1];
  expect(last.blocks[0].text.text).toBe(':rotating_light: Deployment of service api failed and is rolling back');
  expect(JSON.stringify(last)).toContain('ongoing: 50 since 10:01:00');
  // Every OOM kill is counted once: the first message's count, then each message's count since the one before.
  const counted = messages.map((m) => {
    const summary: string = m.blocks[2].text.text;
    const since = /(\d+) since the last message/.exec(summary);
    return Number(since ? since[1] : /OutOfMemoryError \(web\) ×(\d+)/.exec(summary)![1]);
  });
  expect(counted.reduce((a, b) => a + b, 0)).toBe(50);
});

/** The messages as a reader sees them, for the report. */
function describe(total: number, queued: number, batchCount: number, w: ParrotWorld): string {
  const lines = [`${total} events, ${queued} matched the rules, ${batchCount} batches, ${w.slackMessages().length} messages`, ''];
  for (const m of w.snsMessages()) lines.push(`--- ${m.Subject}`, m.Message!, '');
  return lines.join('\n');
}
