import { Logger } from '@aws-lambda-powertools/logger';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AuthorizationErrorException, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { agentMonitorReport, FakeClock, ScriptedServer } from './support';
import { Budget } from '../../../lambda/common/budget';
import { resetRateGate } from '../../../lambda/common/notifier/http';
import {
  clearWebhookUrlCache,
  createNotifier,
  notifierFromEnv,
  parseChannels,
  renderSns,
  SNS_LIMITS,
  type ChannelConfig,
  type NotificationMessage,
  type NotifierLogger,
  type NotifierOptions,
  WEBHOOK_URL_MAX_AGE_MS,
} from '../../../lambda/common/notifier/index';
import { Redactor, withRedactor } from '../../../lambda/common/redact';

const secretsManager = mockClient(SecretsManagerClient);
const ssm = mockClient(SSMClient);
const sns = mockClient(SNSClient);

const SLACK_SECRET = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:ops/slack-AbCdEf';
const TEAMS_PARAMETER = '/ops/teams-webhook';
const WEBHOOK_SECRET = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:ops/pagerbridge-AbCdEf';
const TOPIC = 'arn:aws:sns:us-east-1:111122223333:ops-alerts';
const SLACK_PATH = '/services/T0AAA/B0BBB/slack-s3cr3t';
/** The Slack webhook after a rotation. */
const ROTATED_SLACK_PATH = '/services/T0AAA/B0BBB/rotated-s3cr3t';
const TEAMS_PATH = '/workflows/teams-s3cr3t/triggers/manual/paths/invoke?sig=teams-sig';
const WEBHOOK_PATH = '/hooks/webhook-s3cr3t';

let clock: FakeClock;
let server: ScriptedServer;

function fakeLogger(): NotifierLogger & { calls: { level: string; message: string; extra: unknown }[] } {
  const calls: { level: string; message: string; extra: unknown }[] = [];
  const log = (level: string) => (message: string, extra?: unknown) => {
    calls.push({ level, message, extra });
  };
  return { calls, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') } as any;
}

function options(extra: Partial<NotifierOptions> = {}): NotifierOptions {
  return { clock, allowInsecureLocalhost: true, delivery: { random: () => 0.5 }, logger: fakeLogger(), ...extra };
}

beforeEach(async () => {
  clock = new FakeClock();
  server = await ScriptedServer.start(clock);
  secretsManager.on(GetSecretValueCommand, { SecretId: SLACK_SECRET }).resolves({ SecretString: server.url(SLACK_PATH) });
  secretsManager.on(GetSecretValueCommand, { SecretId: WEBHOOK_SECRET }).resolves({
    SecretString: JSON.stringify({ url: server.url(WEBHOOK_PATH), owner: 'ops' }),
  });
  ssm.on(GetParameterCommand, { Name: TEAMS_PARAMETER }).resolves({ Parameter: { Value: server.url(TEAMS_PATH) } });
  sns.on(PublishCommand).resolves({ MessageId: 'c4b1d3e0-0000-4000-8000-000000000001', $metadata: { attempts: 1, httpStatusCode: 200 } });
});

afterEach(async () => {
  await server.close();
  secretsManager.reset();
  ssm.reset();
  sns.reset();
  clearWebhookUrlCache();
  resetRateGate();
  jest.restoreAllMocks();
});

const ALL_CHANNELS: ChannelConfig[] = [
  { type: 'slack', secretArn: SLACK_SECRET },
  { type: 'teams', parameterName: TEAMS_PARAMETER },
  { type: 'webhook', secretArn: WEBHOOK_SECRET, secretJsonKey: 'url' },
  { type: 'sns', topicArn: TOPIC },
];

describe('createNotifier', () => {
  test('delivers one message to every channel in its own format', async () => {
    // Prepare
    const notifier = createNotifier(ALL_CHANNELS, options());
    const message = agentMonitorReport();

    // Act
    const results = await notifier.send(message);

    // Assess
    expect(results).toEqual([
      { channel: 'slack#0', ok: true, attempts: 1, status: 200 },
      { channel: 'teams#1', ok: true, attempts: 1, status: 200 },
      { channel: 'webhook#2', ok: true, attempts: 1, status: 200 },
      { channel: 'sns#3', ok: true, attempts: 1, status: 200 },
    ]);
    const [slack] = server.requestsTo(SLACK_PATH);
    expect(slack.json().blocks[0].text.text).toBe(`:warning: ${message.title}`);
    const [teams] = server.requestsTo(TEAMS_PATH);
    expect(teams.json().attachments[0].content.type).toBe('AdaptiveCard');
    const [webhook] = server.requestsTo(WEBHOOK_PATH);
    expect(webhook.json()).toEqual({ ...message, version: 1, sentAt: new Date(clock.time).toISOString() });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: TOPIC,
      Subject: '[WARNING] 2 container instances in cluster default have a disconnected ECS agent',
      Message: expect.stringContaining('\nCluster: default\n'),
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'warning' },
        source: { DataType: 'String', StringValue: 'EcsAgentMonitor' },
      },
    });
  });

  test('sets a message group and deduplication ID for a FIFO topic', async () => {
    const notifier = createNotifier([{ type: 'sns', topicArn: `${TOPIC}.fifo` }], options());
    await notifier.send(agentMonitorReport());
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: `${TOPIC}.fifo`,
      MessageGroupId: 'cdk-ecs-ops',
      MessageDeduplicationId: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  test('keeps an SNS message and its attributes together under 256 KiB', async () => {
    // Prepare: a body 20 bytes under the limit on its own; the two attributes add 31 bytes
    const withText = (text: string): NotificationMessage => ({ source: 's', title: 't', severity: 'info', sections: [{ text }] });
    const frame = Buffer.byteLength(renderSns(withText('')).message);
    const message = withText('x'.repeat(SNS_LIMITS.messageBytes - 20 - frame));

    // Act
    const results = await createNotifier([{ type: 'sns', topicArn: TOPIC }], options()).send(message);

    // Assess: what SNS counts is the body plus every attribute's name, data type and value
    expect(results[0].ok).toBe(true);
    const input = sns.commandCalls(PublishCommand)[0].args[0].input;
    const attributeBytes = Object.entries(input.MessageAttributes!)
      .reduce((sum, [name, a]) => sum + Buffer.byteLength(name + a.DataType + a.StringValue), 0);
    expect(attributeBytes).toBe(31);
    expect(Buffer.byteLength(input.Message!) + attributeBytes).toBeLessThanOrEqual(SNS_LIMITS.messageBytes);
    expect(input.Message).toMatch(/\n\n… \d+ more bytes not shown$/);
  });

  test('when one channel fails the others still deliver, and the failure is logged', async () => {
    // Prepare: Teams rejects the card, SNS denies access
    server.script(TEAMS_PATH, { status: 400, body: 'Bad payload' });
    sns.on(PublishCommand).rejects(new AuthorizationErrorException({ message: 'User is not authorized to perform SNS:Publish', $metadata: { attempts: 1 } }));
    const logger = fakeLogger();
    const notifier = createNotifier(ALL_CHANNELS, options({ logger }));

    // Act
    const results = await notifier.send(agentMonitorReport());

    // Assess
    expect(results).toEqual([
      { channel: 'slack#0', ok: true, attempts: 1, status: 200 },
      { channel: 'teams#1', ok: false, attempts: 1, status: 400, error: 'HTTP 400: Bad payload' },
      { channel: 'webhook#2', ok: true, attempts: 1, status: 200 },
      {
        channel: 'sns#3',
        ok: false,
        attempts: 1,
        error: `SNS Publish to ${TOPIC} failed: AuthorizationErrorException: User is not authorized to perform SNS:Publish`,
      },
    ]);
    expect(server.requestsTo(SLACK_PATH)).toHaveLength(1);
    expect(server.requestsTo(WEBHOOK_PATH)).toHaveLength(1);
    const errors = logger.calls.filter(c => c.level === 'error');
    expect(errors.map(c => (c.extra as { channel: string }).channel).sort()).toEqual(['sns#3', 'teams#1']);
    expect(errors[0]).toMatchObject({ message: 'Notification not delivered' });
  });

  test('a webhook whose URL cannot be read fails alone, with attempts 0', async () => {
    secretsManager.on(GetSecretValueCommand, { SecretId: SLACK_SECRET }).resolves({ SecretString: '{"webhook":"x"}' });
    const notifier = createNotifier(ALL_CHANNELS.slice(0, 2), options());

    const results = await notifier.send(agentMonitorReport());

    expect(results[0]).toEqual({
      channel: 'slack#0',
      ok: false,
      attempts: 0,
      error: `Webhook URL secret ${SLACK_SECRET} holds a JSON object; set secretJsonKey to the key that holds the URL`,
    });
    expect(results[1]).toMatchObject({ channel: 'teams#1', ok: true });
  });

  test('reads each webhook URL once across sends, and rate-limits the second send', async () => {
    // Prepare
    const notifier = createNotifier(ALL_CHANNELS.slice(0, 2), options());

    // Act
    await notifier.send(agentMonitorReport());
    await notifier.send({ ...agentMonitorReport(), severity: 'success', title: 'All container agents connected' });

    // Assess
    expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 1);
    const slack = server.requestsTo(SLACK_PATH);
    expect(slack).toHaveLength(2);
    expect(slack[1].at! - slack[0].at!).toBeGreaterThanOrEqual(1000);
    expect(slack[1].json().text).toMatch(/^:white_check_mark: All container agents connected/);
  });

  test('a webhook that keeps failing gives up within the attempt cap and never throws', async () => {
    server.fallback = { status: 503, body: 'Service Unavailable' };
    const notifier = createNotifier([{ type: 'slack', secretArn: SLACK_SECRET }], options());

    const results = await notifier.send(agentMonitorReport());

    expect(results).toEqual([{ channel: 'slack#0', ok: false, attempts: 3, status: 503, error: 'HTTP 503: Service Unavailable; gave up after 3 attempts' }]);
  });

  test('stops retrying when the invocation is about to time out', async () => {
    server.fallback = { status: 500 };
    const notifier = createNotifier([{ type: 'slack', secretArn: SLACK_SECRET }], options());

    // 1.2 s left, less the 0.5 s reserve: the first backoff (750 ms) would end too late
    const results = await notifier.send(agentMonitorReport(), { remainingTimeMs: 1200 });

    expect(results[0]).toMatchObject({ ok: false, attempts: 1 });
    expect(results[0].error).toMatch(/no time left before the deadline/);
  });

  test('stops retrying when the current time budget is about to run out, without being told the time left', async () => {
    // Prepare
    server.fallback = { status: 500 };
    const notifier = createNotifier([{ type: 'slack', secretArn: SLACK_SECRET }], options());
    const budget = Budget.until(Date.now() + 700);

    // Act: the first backoff (750 ms) would end after the budget's deadline
    const results = await budget.within(() => notifier.send(agentMonitorReport()));

    // Assess
    expect(results[0]).toMatchObject({ ok: false, attempts: 1 });
    expect(results[0].error).toMatch(/no time left before the deadline/);
  });

  test('delivers only to the channels chosen, reporting them by their own index', async () => {
    // Prepare
    const notifier = createNotifier(ALL_CHANNELS, options());

    // Act
    const results = await notifier.send(agentMonitorReport(), { channels: [1, 3] });

    // Assess
    expect(results.map(r => r.channel)).toEqual(['teams#1', 'sns#3']);
    expect(server.requestsTo(SLACK_PATH)).toHaveLength(0);
    expect(server.requestsTo(TEAMS_PATH)).toHaveLength(1);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  test('with no channels sends nothing', async () => {
    await expect(createNotifier([], options()).send(agentMonitorReport())).resolves.toEqual([]);
  });

  test('never logs or reports a webhook URL', async () => {
    // Prepare: a real Powertools Logger at DEBUG, its output captured
    const output: string[] = [];
    const capture = (chunk: unknown) => {
      output.push(String(chunk));
      return true;
    };
    jest.spyOn(process.stdout, 'write').mockImplementation(capture as any);
    jest.spyOn(process.stderr, 'write').mockImplementation(capture as any);
    const logger = new Logger({ serviceName: 'test', logLevel: 'DEBUG' });
    // the Teams endpoint echoes its URL in an error, as some proxies do
    server.script(TEAMS_PATH, { status: 403, body: `forbidden: ${server.url(TEAMS_PATH)}` });
    server.script(SLACK_PATH, { status: 500, body: `error at ${SLACK_PATH}` });
    const notifier = createNotifier(ALL_CHANNELS, options({ logger }));

    // Act
    const results = await notifier.send(agentMonitorReport());

    // Assess
    jest.restoreAllMocks();
    const everything = output.join('') + JSON.stringify(results);
    expect(output.length).toBeGreaterThan(0);
    expect(everything).toContain('Notification not delivered');
    for (const secret of ['slack-s3cr3t', 'teams-s3cr3t', 'teams-sig', 'webhook-s3cr3t']) {
      expect(everything).not.toContain(secret);
    }
  });
});

describe('rotated webhook URLs', () => {
  const SLACK: ChannelConfig[] = [{ type: 'slack', secretArn: SLACK_SECRET }];

  test('a URL rotated in the secret is used once the cached one is 10 minutes old', async () => {
    // Prepare: one send reads and caches the URL, then the secret is rotated
    const notifier = createNotifier(SLACK, options());
    await notifier.send(agentMonitorReport());
    secretsManager.on(GetSecretValueCommand, { SecretId: SLACK_SECRET }).resolves({ SecretString: server.url(ROTATED_SLACK_PATH) });

    // Act: one send a second short of 10 minutes later, one at 10 minutes
    clock.time += WEBHOOK_URL_MAX_AGE_MS - 1000;
    await notifier.send(agentMonitorReport());
    clock.time += 1000;
    const results = await notifier.send(agentMonitorReport());

    // Assess
    expect(WEBHOOK_URL_MAX_AGE_MS).toBe(10 * 60 * 1000);
    expect(results).toEqual([{ channel: 'slack#0', ok: true, attempts: 1, status: 200 }]);
    expect(server.requestsTo(SLACK_PATH)).toHaveLength(2);
    expect(server.requestsTo(ROTATED_SLACK_PATH)).toHaveLength(1);
    expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  test.each([
    [404, 'no_service'],
    [410, 'channel_is_archived'],
  ])('a %i from the old URL makes one re-read and one post to the new URL', async (status, answer) => {
    // Prepare: the cached URL is the old one; the secret now holds the new one
    secretsManager.on(GetSecretValueCommand, { SecretId: SLACK_SECRET })
      .resolvesOnce({ SecretString: server.url(SLACK_PATH) })
      .resolves({ SecretString: server.url(ROTATED_SLACK_PATH) });
    server.script(SLACK_PATH, { status, body: answer });

    // Act
    const results = await createNotifier(SLACK, options()).send(agentMonitorReport());

    // Assess
    expect(results).toEqual([{ channel: 'slack#0', ok: true, attempts: 2, status: 200 }]);
    expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    const [rejected] = server.requestsTo(SLACK_PATH);
    const [delivered] = server.requestsTo(ROTATED_SLACK_PATH);
    expect(server.requests).toEqual([rejected, delivered]);
    expect(delivered.json()).toEqual(rejected.json());
  });

  test('a 401 with an unchanged URL gives up after one re-read', async () => {
    // Prepare: the Teams URL in SSM has not changed; the workflow rejects its signature
    server.script(TEAMS_PATH, { status: 401, body: 'DirectApiAuthorizationRequired' });
    const notifier = createNotifier([{ type: 'teams', parameterName: TEAMS_PARAMETER }], options());

    // Act
    const results = await notifier.send(agentMonitorReport());

    // Assess
    expect(results).toEqual([{
      channel: 'teams#0',
      ok: false,
      attempts: 1,
      status: 401,
      error: 'HTTP 401: DirectApiAuthorizationRequired; the webhook rejected the request, and the URL re-read from '
        + `parameter ${TEAMS_PARAMETER} is unchanged: put a working webhook URL there`,
    }]);
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 2);
    expect(server.requests).toHaveLength(1);
  });

  test('a 403 whose re-read fails reports both, without the URL', async () => {
    secretsManager.on(GetSecretValueCommand, { SecretId: SLACK_SECRET })
      .resolvesOnce({ SecretString: server.url(SLACK_PATH) })
      .rejects(new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} }));
    server.script(SLACK_PATH, { status: 403, body: 'invalid_token' });

    const results = await createNotifier(SLACK, options()).send(agentMonitorReport());

    expect(results).toEqual([{
      channel: 'slack#0',
      ok: false,
      attempts: 1,
      status: 403,
      error: 'HTTP 403: invalid_token; the webhook rejected the request, and reading its URL again failed: '
        + `Webhook URL secret ${SLACK_SECRET} was not found (ResourceNotFoundException)`,
    }]);
  });

  test.each([400, 500])('a %i does not make a re-read', async status => {
    // Prepare: the secret was rotated, but a 400 or 500 says nothing about the URL
    secretsManager.on(GetSecretValueCommand, { SecretId: SLACK_SECRET })
      .resolvesOnce({ SecretString: server.url(SLACK_PATH) })
      .resolves({ SecretString: server.url(ROTATED_SLACK_PATH) });
    server.fallback = { status, body: 'invalid_payload' };

    // Act
    const results = await createNotifier(SLACK, options()).send(agentMonitorReport());

    // Assess
    expect(results[0]).toMatchObject({ ok: false, status });
    expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    expect(server.requestsTo(ROTATED_SLACK_PATH)).toHaveLength(0);
  });
});

describe('parseChannels', () => {
  test('parses every channel kind', () => {
    expect(parseChannels(JSON.stringify(ALL_CHANNELS))).toEqual(ALL_CHANNELS);
  });

  test('unset or blank means no channels', () => {
    expect(parseChannels(undefined)).toEqual([]);
    expect(parseChannels('  ')).toEqual([]);
  });

  test('fails for invalid JSON, naming the variable', () => {
    expect(() => parseChannels('[{"type":')).toThrow(/^NOTIFICATION_CHANNELS is not valid JSON/);
  });

  test('fails for a value that is not an array', () => {
    expect(() => parseChannels('{"type":"sns"}')).toThrow('NOTIFICATION_CHANNELS must be a JSON array of channels, got an object');
  });

  test('fails listing every bad entry by index', () => {
    const json = JSON.stringify([
      { type: 'slack', secretArn: SLACK_SECRET },
      { type: 'discord', url: 'https://x' },
      { type: 'teams', secretArn: SLACK_SECRET, parameterName: TEAMS_PARAMETER },
      { type: 'webhook', parameterName: TEAMS_PARAMETER, secretJsonKey: 'url' },
      { type: 'sns', topicArn: 'ops-alerts' },
      { type: 'slack', secretArn: SLACK_SECRET, webhookUrl: 'https://hooks.slack.com/x' },
      'slack',
    ]);
    let message = '';
    try {
      parseChannels(json);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'Invalid NOTIFICATION_CHANNELS:',
      '  NOTIFICATION_CHANNELS[1]: type "discord" is not one of slack, teams, webhook, sns',
      '  NOTIFICATION_CHANNELS[2]: a teams channel needs exactly one of secretArn or parameterName',
      '  NOTIFICATION_CHANNELS[3]: secretJsonKey is only allowed with secretArn',
      '  NOTIFICATION_CHANNELS[4]: topicArn must be an SNS topic ARN, got "ops-alerts"',
      '  NOTIFICATION_CHANNELS[5]: unknown property "webhookUrl" for a slack channel (allowed: secretArn, secretJsonKey, parameterName)',
      '  NOTIFICATION_CHANNELS[6]: must be an object, got string "slack"',
    ]);
  });

  test('fails for a secretArn that is not a Secrets Manager ARN', () => {
    expect(() => parseChannels(JSON.stringify([{ type: 'slack', secretArn: 'ops/slack' }])))
      .toThrow('NOTIFICATION_CHANNELS[0]: secretArn must be a Secrets Manager secret ARN, got "ops/slack"');
  });
});

describe('notifierFromEnv', () => {
  test('reads NOTIFICATION_CHANNELS once, when created', async () => {
    const env = { NOTIFICATION_CHANNELS: JSON.stringify([{ type: 'sns', topicArn: TOPIC }]) };
    const notifier = notifierFromEnv(options(), env);
    env.NOTIFICATION_CHANNELS = '[]';

    const results = await notifier.send(agentMonitorReport());

    expect(notifier.channels).toEqual([{ type: 'sns', topicArn: TOPIC }]);
    expect(results).toEqual([{ channel: 'sns#0', ok: true, attempts: 1, status: 200 }]);
  });

  test('fails at creation for a bad NOTIFICATION_CHANNELS', () => {
    expect(() => notifierFromEnv(options(), { NOTIFICATION_CHANNELS: '[{"type":"sms"}]' })).toThrow(/NOTIFICATION_CHANNELS\[0\]/);
  });
});

describe('what a message shows', () => {
  test('every channel gets the message with secret-looking text and the active redactor\'s values masked, data included', async () => {
    // Prepare
    const notifier = createNotifier(ALL_CHANNELS, options());
    const message: NotificationMessage = {
      ...agentMonitorReport(),
      summary: 'UpdateContainerAgent failed: psql postgres://admin:S3cr3t@db DB_PASSWORD=hunter2 and known-value-42',
      fields: [{ name: 'Error', value: 'Authorization: Bearer 0123456789abcdef' }],
      data: { nested: ['token=abc123def', { why: 'known-value-42' }] },
    };

    // Act
    await withRedactor(new Redactor({ values: ['known-value-42'] }), () => notifier.send(message));

    // Assess
    const bodies = [
      ...[SLACK_PATH, TEAMS_PATH, WEBHOOK_PATH].flatMap((path) => server.requestsTo(path).map((r) => r.body)),
      ...sns.commandCalls(PublishCommand).map((c) => JSON.stringify(c.args[0].input)),
    ];
    expect(bodies).toHaveLength(4);
    for (const body of bodies) {
      for (const secret of ['S3cr3t', 'hunter2', 'known-value-42', '0123456789abcdef', 'abc123def']) expect(body).not.toContain(secret);
      expect(body).toContain('postgres://admin:***@db');
    }
    expect(JSON.parse(server.requestsTo(WEBHOOK_PATH)[0].body).data).toEqual({ nested: ['token=***', { why: '***' }] });
    expect(message.summary).toContain('hunter2');
  });
});
