/**
 * Running the EcsParrot handler in tests: the environment a synthesized EcsParrot gives its function, a fresh copy
 * of the handler per configuration (it reads its environment once), a Slack webhook on 127.0.0.1 and an SNS topic,
 * the dedupe table and the fake fleet for enrichment.
 *
 * A test file that loads the handler shares the SDK client packages across module registries (otherwise the
 * handler's clients are other classes than the ones the fakes mock); put these lines at its top:
 *
 * ```ts
 * jest.mock('@aws-sdk/client-ecs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ecs'));
 * // ... client-dynamodb, client-sns, client-secrets-manager, client-ssm
 * ```
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { App, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { AwsStub, mockClient } from 'aws-sdk-client-mock';
import { ACCOUNT, REGION } from './events';
import { EcsParrot, EcsParrotProps, NotificationChannel } from '../../../src';
import { FakeClock, ScriptedServer } from '../../common/notifier/support';
import { FakeDynamoDb } from '../../support/fake-dynamodb';
import { FakeFleet } from '../../support/fake-fleet';
import { StdoutCapture } from '../../support/handler-harness';
import { synthesizedEnvironment } from '../../support/synthesized-environment';

export { StdoutCapture };

export const SLACK_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:chatops/slack-AbCdEf`;
export const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:ops`;
export const SLACK_PATH = '/services/T0AAA/B0BBB/parrot';

export type ParrotHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

/** Every variable the handler and its notifier read; cleared before each load. */
const VARIABLES = [
  'DEDUPE_TABLE_NAME', 'DEDUPE_WINDOW_SECONDS', 'MINIMUM_SEVERITY', 'EVENT_KINDS', 'SPOT_INTERRUPTIONS', 'INSTANCE_DRAINING', 'CLUSTERS',
  'SERVICES_INCLUDE', 'SERVICES_EXCLUDE', 'IGNORE_CONTAINERS', 'API_CALLS', 'ENRICHMENT', 'NOTIFICATION_CHANNELS',
  'POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_DEV',
];

/**
 * The environment of an EcsParrot synthesized with `props` (Slack from a secret and an SNS topic unless
 * `notifications` says otherwise), resolved as CloudFormation would in 123456789012/us-east-1.
 */
export function parrotEnvironment(props: Partial<EcsParrotProps> & { clusterNames?: string[] } = {}): Record<string, string> {
  const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
  const { clusterNames, ...rest } = props;
  const parrot = new EcsParrot(stack, 'Parrot', {
    notifications: [
      NotificationChannel.slack(secretsmanager.Secret.fromSecretCompleteArn(stack, 'Slack', SLACK_SECRET_ARN)),
      NotificationChannel.snsTopic(sns.Topic.fromTopicArn(stack, 'Topic', TOPIC_ARN)),
    ],
    clusters: clusterNames?.map((name) => ecs.Cluster.fromClusterArn(stack, `Cluster-${name}`, `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${name}`)),
    ...rest,
  });
  return synthesizedEnvironment(stack, parrot.handler);
}

/** The handler loaded fresh with `env` (the environment stays set: it is read on the first call). */
export function loadParrot(env: Record<string, string>, clock: FakeClock): ParrotHandler {
  for (const name of VARIABLES) delete process.env[name];
  Object.assign(process.env, env);
  jest.resetModules();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require('../../../lambda/ecs-parrot');
  return module.createHandler({ clock, allowInsecureLocalhost: true, delivery: { random: () => 0.5 } });
}

/** The world a handler test runs in. Start it in `beforeEach`, stop it in `afterEach`. */
export class ParrotWorld {
  public readonly clock = new FakeClock(Date.parse('2026-03-02T08:00:00.000Z'));
  public fleet!: FakeFleet;
  public table!: FakeDynamoDb;
  public slack!: ScriptedServer;
  public sns!: AwsStub<any, any, any>;
  public secrets!: AwsStub<any, any, any>;
  public readonly stdout = new StdoutCapture();
  private readonly originalEnv = { ...process.env };

  public async start(tableName = 'dedupe'): Promise<this> {
    this.fleet = new FakeFleet({ region: REGION, accountId: ACCOUNT }).install();
    this.table = new FakeDynamoDb({ tableName, keySchema: { partitionKey: 'pk' } }).install();
    this.slack = await ScriptedServer.start(this.clock);
    this.sns = mockClient(SNSClient);
    this.sns.on(PublishCommand).resolves({ MessageId: 'message-1' });
    this.secrets = mockClient(SecretsManagerClient);
    this.secrets.on(GetSecretValueCommand, { SecretId: SLACK_SECRET_ARN }).resolves({ SecretString: this.slack.url(SLACK_PATH) });
    this.stdout.start();
    return this;
  }

  public async stop(): Promise<void> {
    this.stdout.stop();
    await this.slack.close();
    this.secrets.restore();
    this.sns.restore();
    this.table.uninstall();
    this.fleet.uninstall();
    process.env = { ...this.originalEnv };
  }

  /** The handler with the environment of an EcsParrot synthesized with `props`, its table the fake one. */
  public handler(props: Parameters<typeof parrotEnvironment>[0] = {}): ParrotHandler {
    return this.handlerWith(parrotEnvironment(props));
  }

  /** The handler with this environment, its table the fake one (with this ARN for IAM requests). */
  public handlerWith(env: Record<string, string>, tableArn?: string): ParrotHandler {
    if (env.DEDUPE_TABLE_NAME !== this.table.tableName || tableArn) {
      this.table.uninstall();
      this.table = new FakeDynamoDb({ tableName: env.DEDUPE_TABLE_NAME, tableArn, keySchema: { partitionKey: 'pk' } }).install();
    }
    return loadParrot(env, this.clock);
  }

  /** The Slack messages received (Block Kit payloads), in order. */
  public slackMessages(): any[] {
    return this.slack.requestsTo(SLACK_PATH).map((r) => r.json());
  }

  /** The headers of the Slack messages received. */
  public slackTitles(): string[] {
    return this.slackMessages().map((m) => m.blocks[0].text.text);
  }

  /** The SNS messages published, in order. */
  public snsMessages(): PublishCommandInput[] {
    return this.sns.commandCalls(PublishCommand).map((c) => c.args[0].input as PublishCommandInput);
  }

  /** The summary line the handler logged for its last batch. */
  public lastSummary(): Record<string, number> {
    const done = this.stdout.json().filter((l) => l.message === 'batch done');
    return done[done.length - 1]?.summary;
  }

  /** The handler's log lines with this message. */
  public logs(message: string): any[] {
    return this.stdout.json().filter((l) => l.message === message);
  }
}
