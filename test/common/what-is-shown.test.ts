/**
 * What every construct shows a person, scanned for the planted secrets of test/support/shown-secrets.ts: each handler,
 * configured as its construct synthesizes it, runs against the fakes over events and requests that carry them, and
 * every chat body (Slack, Teams, the generic webhook's JSON, SNS), CloudFormation reason, HTTP body and log line it
 * produced is searched. The built bundles get the same scan in test/bundles/what-is-shown.test.ts.
 */
// Each handler is loaded in a fresh module registry; share the SDK client packages with the fakes.
jest.mock('@aws-sdk/client-ecs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ecs'));
jest.mock('@aws-sdk/client-dynamodb', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-dynamodb'));
jest.mock('@aws-sdk/client-sns', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-sns'));
jest.mock('@aws-sdk/client-secrets-manager', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-secrets-manager'));
jest.mock('@aws-sdk/client-auto-scaling', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-auto-scaling'));
jest.mock('@aws-sdk/client-ec2', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ec2'));
jest.mock('@aws-sdk/client-cloudwatch-logs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-cloudwatch-logs'));

import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { App, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { EcsAgentMonitor, EcsParrot, NotificationChannel, Severity, TaskLaunchTarget } from '../../src';
import { loadMonitor } from '../ecs-agent-monitor/support/monitor';
import { loadUpdater, updaterEnvironment } from '../ecs-agent-updater/support/updater';
import { ACCOUNT, REGION, hexId, sqsBatch } from '../ecs-parrot/support/events';
import { ParrotWorld, SLACK_SECRET_ARN, TOPIC_ARN, loadParrot } from '../ecs-parrot/support/parrot';
import { defaultStatusApiEnvironment } from '../ecs-status-api/support/environment';
import { seedSampleFleet } from '../ecs-status-api/support/sample-fleet';
import { loadStatusApi, restEvent } from '../ecs-status-api/support/status';
import { FakeLogs } from '../ecs-task-runner/support/fake-logs';
import { CloudFormationResource, EXECUTION_ROLE, Outcome, TASK_ROLE, loadHandlers, synthesize } from '../ecs-task-runner/support/runner';
import { FakeDynamoDb } from '../support/fake-dynamodb';
import { FakeFleet } from '../support/fake-fleet';
import { StdoutCapture, advanceClock, useFakeClock } from '../support/handler-harness';
import {
  SECRET, SECRETS, SECRET_COMMAND, SECRET_ENVIRONMENT, SECRET_ERROR_MESSAGE, numbered, parrotCarriers, shownSecrets, webhookPath,
} from '../support/shown-secrets';
import { synthesizedEnvironment } from '../support/synthesized-environment';

const T0 = new Date('2026-03-02T08:00:00.000Z');
const ORIGINAL_ENV = { ...process.env };

/** An AWS error whose message quotes secret-looking text (the SDK's shape: name, message, HTTP status). */
function secretError(name = 'InvalidParameterException', status = 400): Error {
  return Object.assign(new Error(SECRET_ERROR_MESSAGE), { name, $metadata: { httpStatusCode: status } });
}

afterEach(() => {
  jest.useRealTimers();
  process.env = { ...ORIGINAL_ENV };
});

describe('EcsParrot: every format and every log line', () => {
  const TEAMS_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:chatops/teams-AbCdEf`;
  const WEBHOOK_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:chatops/hook-AbCdEf`;
  let world: ParrotWorld;

  beforeEach(async () => {
    useFakeClock(T0);
    world = await new ParrotWorld().start();
    for (const [arn, channel] of [[SLACK_SECRET_ARN, 'slack'], [TEAMS_SECRET_ARN, 'teams'], [WEBHOOK_SECRET_ARN, 'webhook']]) {
      world.secrets.on(GetSecretValueCommand, { SecretId: arn }).resolves({ SecretString: world.slack.url(webhookPath(channel)) });
    }
  });

  afterEach(async () => {
    await world.stop();
  });

  /** The parrot's environment with Slack, Teams, a generic webhook (each from a secret) and SNS, at INFO, with API calls. */
  function environment(): Record<string, string> {
    const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
    const secret = (id: string, arn: string) => secretsmanager.Secret.fromSecretCompleteArn(stack, id, arn);
    const parrot = new EcsParrot(stack, 'Parrot', {
      notifications: [
        NotificationChannel.slack(secret('Slack', SLACK_SECRET_ARN)),
        NotificationChannel.teams(secret('Teams', TEAMS_SECRET_ARN)),
        NotificationChannel.webhook(secret('Hook', WEBHOOK_SECRET_ARN)),
        NotificationChannel.snsTopic(sns.Topic.fromTopicArn(stack, 'Topic', TOPIC_ARN)),
      ],
      minimumSeverity: Severity.INFO,
      includeApiCalls: true,
      apiCalls: ['ExecuteCommand', 'StopTask', 'RunTask'],
    });
    return synthesizedEnvironment(stack, parrot.handler);
  }

  test('no chat body of any format, no log line, carries a secret, a command, a reason given to StopTask or an override value', async () => {
    // Prepare: the Teams webhook answers 404 with a body that quotes its URL; the others take the messages
    world.slack.script(webhookPath('teams'), { status: 404, body: `no such webhook: ${world.slack.url(webhookPath('teams'))}` });
    const handler = loadParrot(environment(), world.clock);

    // Act
    const result = await handler(sqsBatch(parrotCarriers(T0)));

    // Assess: messages went out in every format (so the scan is over something)...
    const bodies = (channel: string) => world.slack.requestsTo(webhookPath(channel)).map((r) => r.body);
    expect(bodies('slack').length).toBeGreaterThanOrEqual(3);
    expect(bodies('teams').length).toBeGreaterThanOrEqual(1);
    expect(bodies('webhook').length).toBeGreaterThanOrEqual(3);
    expect(world.snsMessages().length).toBeGreaterThanOrEqual(3);
    expect(result.batchItemFailures.length).toBeGreaterThan(0); // Teams refused: those records are retried
    expect(world.stdout.lines.length).toBeGreaterThan(0);
    // ...and none of it shows a planted value.
    expect(shownSecrets([
      ...numbered('Slack body', bodies('slack')),
      ...numbered('Teams body', bodies('teams')),
      ...numbered('webhook body', bodies('webhook')),
      ...numbered('SNS message', world.snsMessages()),
      ...numbered('log line', world.stdout.lines),
    ])).toEqual([]);
    // What is shown instead.
    const webhook = bodies('webhook').map((b) => JSON.parse(b));
    const apiTargets = webhook.flatMap((m) => m.data.events).filter((e: any) => e.event.type === 'api-call').map((e: any) => e.event.target);
    expect(apiTargets).toEqual(expect.arrayContaining([
      `task=${hexId('secret-task')} container=web command=(not shown)`, `task=${hexId('secret-task')} reason=(not shown)`,
      'taskDefinition=migrate:3 count=1 overrides=(not shown)',
    ]));
    expect(JSON.stringify(webhook)).toContain('the reason given to StopTask (not shown)');
  });
});

describe('EcsTaskRunner: every reason and every log line', () => {
  const LOG_GROUP = '/ecs/migrate';
  let fleet: FakeFleet;
  let logs: FakeLogs;
  let stdout: StdoutCapture;

  beforeEach(() => {
    useFakeClock(T0);
    process.env.AWS_REGION = REGION;
    fleet = new FakeFleet({ region: REGION, accountId: ACCOUNT, now: () => new Date() }).install();
    logs = new FakeLogs(REGION, ACCOUNT).install();
    fleet.addCluster('prod');
    fleet.registerTaskDefinition('migrate', {
      containers: [{
        name: 'app',
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': LOG_GROUP, 'awslogs-region': REGION, 'awslogs-stream-prefix': 'migrate' } },
      }],
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      taskRoleArn: TASK_ROLE,
      executionRoleArn: EXECUTION_ROLE,
    });
    stdout = new StdoutCapture().start();
  });

  afterEach(() => {
    stdout.stop();
    logs.uninstall();
    fleet.uninstall();
  });

  test('no reason, no onEvent result and no log line of a create, a failed run, a failed update and a failed check carries an override value', async () => {
    // Prepare: the overrides carry the secrets; ECS quotes the command, the container logs them
    const handlers = loadHandlers();
    const synthesized = synthesize((u) => ({
      containerOverrides: [{ containerName: 'app', command: SECRET_COMMAND, environment: SECRET_ENVIRONMENT }],
      launchTarget: TaskLaunchTarget.fargate({ securityGroups: [u.securityGroup] }),
      runOnRollback: true, // an update runs without reading the stack's status
    }));
    const resource = new CloudFormationResource(handlers, synthesized);
    fleet.setTaskBehavior('migrate', { outcome: { exitCode: 1, reason: `CannotStartContainerError: exec: "${SECRET_COMMAND.join(' ')}": permission denied` } });
    const onEvent = handlers.onEvent;
    handlers.onEvent = async (event) => {
      const result = await onEvent(event);
      for (const arn of result.EcsTaskRunner.Tasks ?? []) {
        logs.write(LOG_GROUP, `migrate/app/${arn.split('/').pop()}`, `env: ${JSON.stringify(SECRET_ENVIRONMENT)}`, `running ${SECRET_COMMAND.join(' ')}`, SECRET_ERROR_MESSAGE);
      }
      return result;
    };
    const outcomes: Outcome[] = [];

    // Act: a create whose task fails...
    outcomes.push(await resource.create());
    // ...and an update (new overrides, the old ones in OldResourceProperties) whose RunTask ECS refuses, quoting them.
    const updated = { ...synthesized.properties, ContainerOverrides: [{ Name: 'app', Command: ['run', SECRET.commandText], Environment: [] }], Triggers: { run: '2' } };
    fleet.injectFault({ command: 'RunTask', error: Object.assign(new Error(`Container Overrides invalid: ${SECRET_COMMAND.join(' ')} ${SECRET.overrideDbPassword}`), { name: 'InvalidParameterException' }) });
    advanceClock(60_000);
    outcomes.push(await resource.update(updated));
    // ...and a create whose check fails with an error quoting them: the reason names the error, and the run is stopped.
    fleet.clearFaults();
    fleet.setTaskBehavior('migrate', { lifecycle: ['PENDING', 'RUNNING'] });
    fleet.injectFault({
      command: 'DescribeTasks',
      onCall: 2,
      error: Object.assign(new Error(`Access denied for ${SECRET.overrideDbPassword} (${SECRET_COMMAND.join(' ')})`), { name: 'AccessDeniedException' }),
    });
    outcomes.push(await new CloudFormationResource(handlers, synthesized).create());

    // Assess
    expect(outcomes.map((o) => o.status)).toEqual(['FAILED', 'FAILED', 'FAILED']);
    expect(outcomes[0].reason).toContain('Last log lines of app');
    expect(outcomes[1].reason).toMatch(/^Update of the task run failed: InvalidParameterException: Container Overrides invalid: \*\*\* \*\*\*/);
    expect(outcomes[2].reason).toMatch(/^Checking the task run failed: AccessDeniedException: Access denied for \*\*\* .*Stopped the run's 1 task\(s\)\./);
    expect(shownSecrets([
      ...numbered('reason', outcomes.map((o) => o.reason)),
      ...numbered('onEvent result', outcomes.map((o) => o.onEventResult)),
      ...numbered('log line', stdout.lines),
    ])).toEqual([]);
  });
});

describe('EcsStatusApi: every HTTP body and every log line', () => {
  let fleet: FakeFleet;
  let stdout: StdoutCapture;

  beforeEach(() => {
    useFakeClock(T0);
    fleet = new FakeFleet({ now: () => new Date() }).install();
    stdout = new StdoutCapture().start();
  });

  afterEach(() => {
    stdout.stop();
    fleet.uninstall();
  });

  test('no answer shows an AWS error\'s text, and no log line a secret it quoted', async () => {
    // Prepare: the clusters cannot be listed; then one cluster's services cannot be read; then none
    seedSampleFleet(fleet);
    const handler = loadStatusApi({ ...defaultStatusApiEnvironment(), CACHE_TTL_SECONDS: '0' });
    const bodies: string[] = [];

    // Act
    fleet.injectFault({ command: 'ListClusters', error: secretError('AccessDeniedException'), times: 1 });
    bodies.push((await handler(restEvent('/services'))).body);
    fleet.injectFault({ command: 'ListServices', when: (input) => input.cluster === 'prod', error: secretError(), times: 1 });
    bodies.push((await handler(restEvent('/services'))).body);
    fleet.injectFault({ command: 'ListServices', error: secretError('ServerException', 500) });
    bodies.push((await handler(restEvent('/services'))).body);
    bodies.push((await handler(restEvent('/services', { query: { format: 'csv' } }))).body);

    // Assess: the answers name the errors without their text; the log has the text, masked
    expect(bodies.map((b) => b.slice(0, 100))).toEqual([
      expect.stringContaining('could not list the clusters: AccessDeniedException (HTTP 400)'),
      expect.stringContaining('"partial":true'),
      expect.stringContaining('none of the'),
      expect.stringContaining('none of the'),
    ]);
    expect(shownSecrets(numbered('HTTP body', bodies), [...SECRETS, 'Invalid request', 'Authorization'])).toEqual([]);
    expect(shownSecrets(numbered('log line', stdout.lines))).toEqual([]);
    expect(stdout.lines.join('\n')).toContain('Invalid request: DB_PASSWORD=***');
  });
});

describe('EcsAgentMonitor and EcsAgentUpdater: every chat message and every log line', () => {
  let fleet: FakeFleet;
  let stdout: StdoutCapture;
  let topic: ReturnType<typeof mockClient>;
  let table: FakeDynamoDb;

  beforeEach(() => {
    useFakeClock(T0);
    fleet = new FakeFleet({ now: () => new Date(), latestAgentVersion: '1.95.0' }).install();
    topic = mockClient(SNSClient);
    topic.on(PublishCommand).resolves({ MessageId: 'message-1' });
    stdout = new StdoutCapture().start();
  });

  afterEach(() => {
    stdout.stop();
    topic.restore();
    table.uninstall();
    fleet.uninstall();
  });

  const published = () => topic.commandCalls(PublishCommand).map((c) => c.args[0].input);

  test('the monitor: an AWS error that quotes secrets is reported masked', async () => {
    // Prepare
    const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
    const monitor = new EcsAgentMonitor(stack, 'Monitor', {
      clusters: [ecs.Cluster.fromClusterArn(stack, 'Cluster', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`)],
      notifications: [NotificationChannel.snsTopic(sns.Topic.fromTopicArn(stack, 'Topic', TOPIC_ARN))],
    });
    const environment = synthesizedEnvironment(stack, monitor.handler);
    table = new FakeDynamoDb({ tableName: environment.FAILURE_TABLE_NAME }).install();
    fleet.addCluster('prod');
    fleet.addAutoScalingGroup('prod-asg', { instances: 2, cluster: 'prod' });
    fleet.injectFault({ service: 'ecs', command: 'DescribeContainerInstances', error: secretError() });

    // Act
    await loadMonitor(environment).handler({ 'detail-type': 'Scheduled Event', 'source': 'aws.events' });

    // Assess
    expect(published()).toHaveLength(1);
    expect(JSON.stringify(published())).toContain('DB_PASSWORD=***');
    expect(shownSecrets([...numbered('SNS message', published()), ...numbered('log line', stdout.lines)])).toEqual([]);
  });

  test('the updater: an AWS error that quotes secrets is reported masked', async () => {
    // Prepare
    const environment = updaterEnvironment({ clusters: ['prod'] }, (stack) => ({
      notifications: [NotificationChannel.snsTopic(sns.Topic.fromTopicArn(stack, 'Ops', TOPIC_ARN))],
    }));
    table = new FakeDynamoDb({ tableName: environment.STATE_TABLE_NAME, keySchema: { partitionKey: 'cluster' } }).install();
    fleet.addCluster('prod');
    fleet.addContainerInstance('prod', { agentVersion: '1.80.0', registeredAt: new Date(T0.getTime() - 86_400_000) });
    fleet.injectFault({ command: 'UpdateContainerAgent', error: secretError() });

    // Act
    await loadUpdater(environment)({ 'detail-type': 'Scheduled Event', 'source': 'aws.events', 'time': T0.toISOString() });

    // Assess
    expect(published()).toHaveLength(1);
    expect(JSON.stringify(published())).toContain('DB_PASSWORD=***');
    expect(shownSecrets([...numbered('SNS message', published()), ...numbered('log line', stdout.lines)])).toEqual([]);
  });
});
