/**
 * The EcsParrot handler, configured as the construct configures it, against a Slack webhook on 127.0.0.1, a mocked
 * SNS topic, the fake dedupe table and the fake fleet: every sample through the whole handler, at-least-once
 * delivery, webhooks that throttle or fail, malformed events, enrichment and its failures, and back-off.
 */
// The handler is loaded in a fresh module registry per configuration; share the SDK client packages with the fakes.
jest.mock('@aws-sdk/client-ecs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ecs'));
jest.mock('@aws-sdk/client-dynamodb', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-dynamodb'));
jest.mock('@aws-sdk/client-sns', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-sns'));
jest.mock('@aws-sdk/client-secrets-manager', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-secrets-manager'));

import { PublishCommand } from '@aws-sdk/client-sns';
import { Duration } from 'aws-cdk-lib';
import 'aws-sdk-client-mock-jest';
import {
  ACCOUNT, REGION, apiCallEvent, cloudTrailFixtures, containerInstanceEvent, deploymentEvent, eventBridgeFixtures, hexId, serviceActionEvent,
  sqsBatch, sqsRecord, taskEvent, wrapCloudTrailRecord, type ContainerSpec,
} from './support/events';
import { ParrotWorld, SLACK_PATH, TOPIC_ARN } from './support/parrot';
import { Severity } from '../../src';
import { advanceClock, useFakeClock } from '../support/handler-harness';

const T0 = new Date('2026-03-02T08:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const OOM = 'OutOfMemoryError: Container killed due to memory usage';

let world: ParrotWorld;

beforeEach(async () => {
  useFakeClock(T0);
  world = await new ParrotWorld().start();
});

afterEach(async () => {
  await world.stop();
  jest.useRealTimers();
});

/** A task of service `service` in cluster prod that stopped with these containers. */
interface StopExtra {
  readonly service?: string;
  readonly stopCode?: string;
  readonly stoppedReason?: string;
  readonly containerInstanceId?: string;
  readonly taskDefinition?: string;
}

function stoppedTask(seed: string, containers: ContainerSpec[], extra: StopExtra = {}) {
  return taskEvent({
    taskId: hexId(seed),
    group: `service:${extra.service ?? 'api'}`,
    taskDefinition: extra.taskDefinition ?? 'api:42',
    lastStatus: 'STOPPED',
    containers,
    stopCode: extra.stopCode,
    stoppedReason: extra.stoppedReason,
    startedBy: 'ecs-svc/1234567890123456789',
    containerInstanceId: extra.containerInstanceId,
    createdAt: at(-600),
    startedAt: at(-580),
    at: at(-5),
    version: 6,
  });
}

const oom = (seed: string, extra = {}) => stoppedTask(seed, [{ name: 'web', exitCode: 137, reason: OOM }], extra);

describe('every sample through the whole handler', () => {
  test.each(eventBridgeFixtures())('$name at the defaults: nothing thrown, nothing failed', async ({ name, event }) => {
    const handler = world.handler();

    const result = await handler(sqsBatch([event]));

    expect(result).toEqual({ batchItemFailures: [] });
    const expected: Record<string, string[]> = {
      'deployment-state-change-failed.json': [':rotating_light: Deployment of service servicetest failed'],
      'service-action-task-placement-failure-ec2-cpu.json': [':rotating_light: Service servicetest: SERVICE_TASK_PLACEMENT_FAILURE (RESOURCE:CPU)'],
      'service-action-task-start-impaired.json': [':warning: Service servicetest: SERVICE_TASK_START_IMPAIRED'],
    };
    expect(world.slackTitles()).toEqual(expected[name] ?? []);
  });

  test('every sample at INFO with API calls: each INFO event is a message too, the CloudTrail record as who did what', async () => {
    const handler = world.handler({ minimumSeverity: Severity.INFO, includeApiCalls: true });
    const events = [...eventBridgeFixtures().map((f) => f.event), ...cloudTrailFixtures().map((f) => wrapCloudTrailRecord(f.record))];

    const result = await handler(sqsBatch(events));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(world.slackTitles().sort()).toEqual([
      ':information_source: Admin/Mary_Major called CreateCluster in cluster default',
      ':rotating_light: Deployment of service servicetest failed',
    ].sort());
    // servicetest's completed deployment, steady state and service actions share the failed deployment's message.
    const servicetest = world.slackMessages().find((m) => m.blocks[0].text.text.includes('servicetest'));
    expect(JSON.stringify(servicetest)).toContain('SERVICE_STEADY_STATE');
    expect(JSON.stringify(servicetest)).toContain('SERVICE_TASK_START_IMPAIRED');
    expect(world.lastSummary()).toMatchObject({ received: 10, malformed: 0, messagesSent: 2 });
  });
});

describe('at-least-once delivery', () => {
  test('the same event twice in one batch is one message', async () => {
    const handler = world.handler();
    const event = oom('dup');

    await handler(sqsBatch([event, event]));

    expect(world.slackTitles()).toEqual([':warning: 1 task of service api stopped: OutOfMemoryError (web)']);
    expect(world.snsMessages()).toHaveLength(1);
    expect(world.lastSummary()).toMatchObject({ received: 2, repeated: 1, messagesSent: 1 });
  });

  test('a redelivery in a later batch is dropped', async () => {
    const handler = world.handler();
    const event = oom('later');
    await handler(sqsBatch([event]));

    advanceClock(10 * 60_000);
    const again = await handler(sqsBatch([event], 1));

    expect(again).toEqual({ batchItemFailures: [] });
    expect(world.slackMessages()).toHaveLength(1);
    expect(world.lastSummary()).toMatchObject({ repeated: 1, messagesSent: 0 });
  });

  test('two copies in two batches handled at the same time: one message (the conditional write decides)', async () => {
    const handler = world.handler();
    const event = oom('concurrent');

    const results = await Promise.all([handler(sqsBatch([event], 0)), handler(sqsBatch([event], 1))]);

    expect(results).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    expect(world.slackMessages()).toHaveLength(1);
    expect(world.snsMessages()).toHaveLength(1);
  });

  test('after the dedupe window (an hour) the same event is news again', async () => {
    const handler = world.handler();
    const event = oom('window');
    await handler(sqsBatch([event]));

    advanceClock(61 * 60_000);
    await handler(sqsBatch([event], 1));

    expect(world.slackMessages()).toHaveLength(2);
  });
});

describe('webhooks that throttle or fail', () => {
  test('a 429 is retried after its Retry-After and delivered once', async () => {
    const handler = world.handler();
    world.slack.script(SLACK_PATH, { status: 429, headers: { 'retry-after': '3' }, body: 'rate_limited' });

    const result = await handler(sqsBatch([oom('throttled')]));

    expect(result).toEqual({ batchItemFailures: [] });
    const requests = world.slack.requestsTo(SLACK_PATH);
    expect(requests).toHaveLength(2);
    expect(requests[1].at! - requests[0].at!).toBeGreaterThanOrEqual(3000);
    expect(world.snsMessages()).toHaveLength(1);
  });

  test('a webhook that keeps answering 5xx fails the records back to the queue; the retry reaches only it', async () => {
    const handler = world.handler();
    world.slack.script(SLACK_PATH, { status: 503 }, { status: 503 }, { status: 503 });
    const batch = sqsBatch([oom('down-1'), oom('down-2'), deploymentEvent({
      service: 'web', eventName: 'SERVICE_DEPLOYMENT_FAILED', eventType: 'ERROR', deploymentId: 'ecs-svc/9', reason: 'ECS deployment circuit breaker: task failed to start.', at: at(-3),
    })]);

    const first = await handler(batch);

    // Slack failed for the first message and was not tried again for the second; SNS took both.
    expect(first.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m-0', 'm-1', 'm-2']);
    expect(world.slack.requestsTo(SLACK_PATH)).toHaveLength(3);
    expect(world.snsMessages()).toHaveLength(2);
    expect(world.lastSummary()).toMatchObject({ messagesSent: 2, deliveryFailures: 2 });

    // SQS delivers the records again after the visibility timeout; the webhook is back.
    advanceClock(380_000);
    world.sns.resetHistory();
    const retry = await handler({ Records: batch.Records.map((r) => sqsRecord(JSON.parse(r.body), r.messageId, 2)) });

    expect(retry).toEqual({ batchItemFailures: [] });
    expect(world.slackTitles().slice(3)).toEqual([
      ':rotating_light: Deployment of service web failed',
      ':warning: 2 tasks of service api stopped: OutOfMemoryError (web) ×2',
    ]);
    expect(world.sns).not.toHaveReceivedCommand(PublishCommand);
  });

  test('a webhook down for an hour: nothing is lost and nothing is sent twice', async () => {
    const handler = world.handler();
    world.slack.fallback = { status: 500, body: 'internal error' };
    const batch = sqsBatch([oom('hour')]);

    // Ten receives over an hour, each failing back to the queue.
    for (let receive = 1; receive <= 10; receive++) {
      const result = await handler({ Records: batch.Records.map((r) => sqsRecord(JSON.parse(r.body), r.messageId, receive)) });
      expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-0' }]);
      advanceClock(380_000);
    }
    world.slack.fallback = { status: 200, body: 'ok' };
    const last = await handler({ Records: batch.Records.map((r) => sqsRecord(JSON.parse(r.body), r.messageId, 11)) });

    expect(last).toEqual({ batchItemFailures: [] });
    expect(world.slack.requestsTo(SLACK_PATH).filter((r) => r.at !== undefined)).toHaveLength(31);
    expect(world.snsMessages()).toHaveLength(1);
  });
});

describe('malformed events', () => {
  test('no detail, an unknown detail-type, no containers and a body that is not JSON are logged and skipped; the rest of the batch goes on', async () => {
    const handler = world.handler();
    const noContainers = structuredClone(oom('empty'));
    noContainers.detail.containers = [];
    const records = [
      sqsRecord({ 'version': '0', 'detail-type': 'ECS Task State Change', 'source': 'aws.ecs' }, 'm-0'),
      sqsRecord({ 'version': '0', 'detail-type': 'ECS Cluster Party', 'source': 'aws.ecs', 'detail': {} }, 'm-1'),
      sqsRecord(noContainers, 'm-2'),
      sqsRecord(undefined, 'm-3', 1, '{"truncated'),
      sqsRecord(oom('fine'), 'm-4'),
    ];

    const result = await handler({ Records: records });

    expect(result).toEqual({ batchItemFailures: [] });
    expect(world.logs('malformed event skipped').map((l) => [l.messageId, l.reason])).toEqual([
      ['m-0', 'no detail'],
      ['m-1', 'unknown detail-type "ECS Cluster Party"'],
      ['m-2', 'a task event without containers'],
      ['m-3', 'the message body is not JSON'],
    ]);
    expect(world.slackMessages()).toHaveLength(1);
    expect(world.lastSummary()).toMatchObject({ received: 5, malformed: 4, messagesSent: 1 });
  });
});

describe('enrichment', () => {
  function fleetWithApi() {
    world.fleet.addCluster('prod');
    world.fleet.addAutoScalingGroup('prod-asg', { instances: 2, cluster: 'prod' });
    const [instance] = world.fleet.containerInstancesOf('prod');
    world.fleet.registerTaskDefinition('api', {
      containers: [
        { name: 'web', logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/api', 'awslogs-region': REGION, 'awslogs-stream-prefix': 'api' } } },
        { name: 'xray-daemon', essential: false },
      ],
    });
    return instance;
  }

  test('adds the EC2 instance and whether it drains, and links the container\'s log stream', async () => {
    const instance = fleetWithApi();
    world.fleet.setContainerInstanceStatus(instance.arn, 'DRAINING');
    const handler = world.handler({ clusterNames: ['prod'] });

    await handler(sqsBatch([oom('enriched', { containerInstanceId: instance.id, taskDefinition: 'api:1' })]));

    const [message] = world.slackMessages();
    const text = JSON.stringify(message);
    expect(text).toContain(`on ${instance.ec2InstanceId} (DRAINING)`);
    const buttons = message.blocks[message.blocks.length - 1].elements.map((e: any) => e.text.text);
    expect(buttons).toEqual(['Service api', `Task ${hexId('enriched').slice(0, 8)}`, 'Logs of web']);
    expect(world.fleet.calls.map((c) => c.command).sort()).toEqual(['DescribeContainerInstances', 'DescribeTaskDefinition']);
  });

  test('describes each task definition and container instance once per batch, in one call per cluster', async () => {
    const instance = fleetWithApi();
    const handler = world.handler({ clusterNames: ['prod'] });

    await handler(sqsBatch(Array.from({ length: 30 }, (_, i) => oom(`many-${i}`, { containerInstanceId: instance.id, taskDefinition: 'api:1' }))));

    expect(world.fleet.callsTo('ecs', 'DescribeTaskDefinition')).toHaveLength(1);
    expect(world.fleet.callsTo('ecs', 'DescribeContainerInstances')).toHaveLength(1);
    expect(world.slackTitles()).toEqual([':warning: 30 tasks of service api stopped: OutOfMemoryError (web) ×30']);
  });

  test('throttled ECS: the message goes out without enrichment, and says nothing wrong', async () => {
    const instance = fleetWithApi();
    world.fleet.injectFault({ service: 'ecs', error: 'throttle' });
    const handler = world.handler({ clusterNames: ['prod'] });

    const result = await handler(sqsBatch([oom('throttled-ecs', { containerInstanceId: instance.id, taskDefinition: 'api:1' })]));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(world.slackTitles()).toEqual([':warning: 1 task of service api stopped: OutOfMemoryError (web)']);
    expect(world.lastSummary()).toMatchObject({ enrichmentErrors: 2, messagesSent: 1 });
  });

  test('with enrichment off the function makes no ECS call', async () => {
    fleetWithApi();
    const handler = world.handler({ enrichment: false });

    await handler(sqsBatch([oom('plain')]));

    expect(world.fleet.calls).toEqual([]);
    expect(world.slackMessages()).toHaveLength(1);
  });

  test('an agent that disconnected and is back by the time the batch is read is not reported; one still away is', async () => {
    const [back, away] = (fleetWithApi(), world.fleet.containerInstancesOf('prod'));
    world.fleet.setAgentConnected(away.arn, false);
    const handler = world.handler({ clusterNames: ['prod'] });
    const disconnected = (ci: typeof back, version: number) => containerInstanceEvent({
      id: ci.id, ec2InstanceId: ci.ec2InstanceId, status: 'ACTIVE', agentConnected: false, version, at: at(-10),
    });

    await handler(sqsBatch([disconnected(back, 10), disconnected(away, 11)]));

    expect(world.slackTitles()).toEqual([':warning: 1 container instance in cluster prod: agent disconnected']);
    expect(JSON.stringify(world.slackMessages()[0])).toContain(away.ec2InstanceId);
  });
});

describe('the dedupe table fails', () => {
  test('messages still go out (a duplicate is better than a loss), and the errors are counted', async () => {
    const handler = world.handler();
    world.table.startOutage();

    const result = await handler(sqsBatch([oom('no-table')]));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(world.slackMessages()).toHaveLength(1);
    expect(world.lastSummary().dedupeErrors).toBeGreaterThanOrEqual(2);
  });
});

describe('the time budget', () => {
  test('a message with too little of the budget left is not started: its record goes back to the queue, its claim is released', async () => {
    // Prepare: 0.5 s of work after the 5 s reserve and the 1 s margin, less than a message needs
    const handler = world.handler();
    const context = { awsRequestId: 'c0ffee00-budget', getRemainingTimeInMillis: () => 6_500 } as any;
    const batch = sqsBatch([oom('late'), oom('late-2', { service: 'web' })]);

    // Act
    const result = await handler(batch, context);

    // Assess
    expect(result).toEqual({ batchItemFailures: batch.Records.map((r) => ({ itemIdentifier: r.messageId })) });
    expect(world.slackMessages()).toEqual([]);
    expect(world.logs('too little time left to send; the events go back to the queue')).toHaveLength(2);
    expect(world.lastSummary()).toMatchObject({ notSentInTime: 2, messagesSent: 0 });
    // Released (in the reserve), so the retry can claim them at once.
    await expect(handler(batch)).resolves.toEqual({ batchItemFailures: [] });
    expect(world.slackMessages()).toHaveLength(2);
  });
});

describe('an ongoing failure backs off', () => {
  test('a crash loop is reported at 1, 2, 4 and 8 failures, then hourly, each message saying how long it has lasted', async () => {
    const handler = world.handler();
    const crash = (i: number) => stoppedTask(`loop-${i}`, [{ name: 'web', exitCode: 1 }]);

    for (let i = 0; i < 12; i++) {
      await handler(sqsBatch([crash(i)], i));
      advanceClock(2 * 60_000);
    }

    expect(world.slackTitles()).toEqual(Array(4).fill(':warning: 1 task of service api stopped: web exit 1'));
    expect(world.slackMessages().map((m) => m.blocks[2].text.text)).toEqual([
      '• [WARNING] web exit 1',
      '• [WARNING] web exit 1 (ongoing: 2 since 07:59:55, 1 since the last message)',
      '• [WARNING] web exit 1 (ongoing: 4 since 07:59:55, 2 since the last message)',
      '• [WARNING] web exit 1 (ongoing: 8 since 07:59:55, 4 since the last message)',
    ]);
    // The eighth crash was reported 10 minutes ago: nine are not twice eight, but an hour after that report it goes out again.
    advanceClock(40 * 60_000);
    await handler(sqsBatch([crash(12)], 12));
    expect(world.slackMessages()).toHaveLength(4);
    advanceClock(10 * 60_000);
    await handler(sqsBatch([crash(13)], 13));
    expect(world.slackMessages()).toHaveLength(5);
  });

  test('API calls and deployments are always reported', async () => {
    const handler = world.handler({ minimumSeverity: Severity.INFO, includeApiCalls: true });
    for (let i = 0; i < 3; i++) {
      await handler(sqsBatch([apiCallEvent({ eventName: 'UpdateService', requestParameters: { cluster: 'prod', service: 'api', desiredCount: i }, at: at(i), seed: `${i}` })], i));
    }
    expect(world.slackMessages()).toHaveLength(3);
  });
});

describe('services with the older ARN format (service/<name>, no cluster)', () => {
  test('a failed deployment is reported without a cluster, never as the default cluster, and without a console link that guesses one', async () => {
    const handler = world.handler({ clusterNames: ['prod'] });

    await handler(sqsBatch([deploymentEvent({
      cluster: 'prod', service: 'legacy', eventName: 'SERVICE_DEPLOYMENT_FAILED', eventType: 'ERROR', deploymentId: 'ecs-svc/7', reason: 'ECS deployment circuit breaker: task failed to start.', at: at(0), shortArn: true,
    })]));

    const [message] = world.slackMessages();
    expect(world.slackTitles()).toEqual([expect.stringContaining('legacy')]);
    const fields = message.blocks.flatMap((b: any) => b.fields ?? []).map((f: any) => f.text);
    expect(fields).toContain('*Cluster*\nunknown (the service has an ARN in the older format; migrate it to the long ARN format)');
    expect(JSON.stringify(message)).not.toContain('/clusters/');
    expect(JSON.stringify(message)).not.toContain('default');
  });

  test('a service action names its cluster in the event, so it is reported with it', async () => {
    const handler = world.handler({ clusterNames: ['prod'] });

    await handler(sqsBatch([serviceActionEvent({ cluster: 'prod', service: 'legacy', eventName: 'SERVICE_TASK_START_IMPAIRED', eventType: 'WARN', at: at(0), shortArn: true })]));

    const fields = world.slackMessages()[0].blocks.flatMap((b: any) => b.fields ?? []).map((f: any) => f.text);
    expect(fields).toContain('*Cluster*\nprod');
    expect(JSON.stringify(world.slackMessages()[0])).toContain('/ecs/v2/clusters/prod/services/legacy/');
  });
});

test('the metrics of a batch are EMF under CdkEcsOps with the service dimension', async () => {
  const handler = world.handler({ batchWindow: Duration.seconds(10) });

  await handler(sqsBatch([oom('metrics'), oom('metrics')]));

  const doc = world.stdout.emf().find((d) => d.EventsReceived !== undefined);
  expect(doc).toMatchObject({ service: 'ecs-parrot', EventsReceived: 2, EventsRepeated: 1, MessagesSent: 1, DeliveryFailures: 0 });
  expect(doc._aws.CloudWatchMetrics[0].Namespace).toBe('CdkEcsOps');
  expect(TOPIC_ARN).toContain(ACCOUNT);
});

describe('what it shows', () => {
  const call = (eventName: string, requestParameters: Record<string, unknown>, seed: string) =>
    apiCallEvent({ eventName, requestParameters, at: at(0), user: 'alice', seed });
  const TASK_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/prod/${hexId('exec')}`;

  test('an API call shows its identifiers and who called, never a command, a reason or overrides; it names them as not shown', async () => {
    // Prepare
    const handler = world.handler({ minimumSeverity: Severity.INFO, includeApiCalls: true, apiCalls: ['ExecuteCommand', 'StopTask', 'RunTask'] });
    const secrets = ['S3cr3t', 'hunter2', 'rotating because', 'override-value-1'];

    // Act
    const result = await handler(sqsBatch([
      call('ExecuteCommand', { cluster: 'prod', task: TASK_ARN, container: 'app', command: 'psql postgres://admin:S3cr3t@db/app', interactive: true }, 'a'),
      call('StopTask', { cluster: 'prod', task: TASK_ARN, reason: 'rotating because DB_PASSWORD=hunter2 leaked' }, 'b'),
      call('RunTask', {
        cluster: 'prod',
        taskDefinition: 'migrate:3',
        count: 1,
        startedBy: 'deploy',
        overrides: { containerOverrides: [{ name: 'app', environment: [{ name: 'TOKEN', value: 'override-value-1' }] }] },
      }, 'c'),
    ]));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    const [message] = world.slackMessages();
    const calls = message.blocks.find((b: any) => b.text?.text?.startsWith('*API calls*')).text.text;
    expect(calls).toBe([
      '*API calls*',
      `08:00:00 Admin/alice ExecuteCommand task=${hexId('exec')} container=app command=(not shown) from 203.0.113.12`,
      `08:00:00 Admin/alice StopTask task=${hexId('exec')} reason=(not shown) from 203.0.113.12`,
      '08:00:00 Admin/alice RunTask taskDefinition=migrate:3 count=1 overrides=(not shown) from 203.0.113.12',
    ].join('\n'));
    const shown = [JSON.stringify(world.slackMessages()), JSON.stringify(world.snsMessages()), ...world.stdout.lines];
    for (const text of shown) for (const secret of secrets) expect(text).not.toContain(secret);
  });

  test('a task stopped by StopTask: the reason given to it is not shown', async () => {
    // Prepare: a user stop whose container crashed on the way out (INFO)
    const handler = world.handler({ minimumSeverity: Severity.INFO });
    const stop = stoppedTask('user-stop', [{ name: 'web', exitCode: 2 }], { stopCode: 'UserInitiated', stoppedReason: 'rotating because DB_PASSWORD=hunter2 leaked' });

    // Act
    await handler(sqsBatch([stop]));

    // Assess
    const [message] = world.slackMessages();
    const text = JSON.stringify(message);
    expect(text).toContain('UserInitiated · the reason given to StopTask (not shown)');
    expect(text).not.toContain('rotating because');
    expect(JSON.stringify(world.snsMessages())).not.toContain('rotating because');
  });

  test('ECS\'s own reason of a task stopped by StopTask without one is shown as it is', async () => {
    const handler = world.handler({ minimumSeverity: Severity.INFO });

    await handler(sqsBatch([stoppedTask('plain-stop', [{ name: 'web', exitCode: 2 }], { stopCode: 'UserInitiated', stoppedReason: 'Task stopped by user' })]));

    expect(JSON.stringify(world.slackMessages())).toContain('UserInitiated · Task stopped by user');
  });
});
