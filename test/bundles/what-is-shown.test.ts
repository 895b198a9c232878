/**
 * What the shipped bundles show a person, scanned for the planted secrets of test/support/shown-secrets.ts: EcsParrot,
 * EcsTaskRunner (onEvent and isComplete) and EcsStatusApi run in fresh Node.js processes against the AWS stand-in with
 * the environment their constructs synthesize. The parrot posts to HTTPS webhooks on 127.0.0.1 (a certificate made
 * for the run, trusted through NODE_EXTRA_CA_CERTS), so every format goes through the bundle as it ships.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:https';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ACCOUNT, REGION, TASK_RUNNER_TASK, TASK_RUNNER_TASK_DEFINITION } from './typical-runs';
import { EcsParrot, NotificationChannel, Severity } from '../../src';
import { sqsBatch } from '../ecs-parrot/support/events';
import { defaultStatusApiEnvironment } from '../ecs-status-api/support/environment';
import { restEvent } from '../ecs-status-api/support/status';
import { taskRunnerEvents, taskRunnerStack } from '../ecs-task-runner/support/typical';
import { AwsStandin } from '../support/aws-standin';
import { RunBundleResult, runBundle } from '../support/run-bundle';
import {
  SECRETS, SECRET_COMMAND, SECRET_ENVIRONMENT, SECRET_ERROR_MESSAGE, numbered, parrotCarriers, shownSecrets, webhookPath,
} from '../support/shown-secrets';
import { synthesizedEnvironment } from '../support/synthesized-environment';

const ASSETS = path.join(__dirname, '..', '..', 'assets');

let standin: AwsStandin;

beforeEach(async () => {
  standin = await new AwsStandin().start();
});

afterEach(async () => {
  await standin.stop();
});

/** What a bundle run showed: its log lines (stdout and stderr) and what it threw. */
function runShown(run: RunBundleResult): Array<[string, unknown]> {
  return [...numbered('log line', run.logs), ['stderr', run.stderr], ['thrown', run.error ?? '']];
}

/** An HTTPS server on 127.0.0.1 with a certificate made for it, recording every request and answering 200. */
class HttpsWebhooks {
  public static async start(): Promise<HttpsWebhooks> {
    const dir = mkdtempSync(path.join(tmpdir(), 'webhooks-'));
    const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const hooks = new HttpsWebhooks(dir, cert, readFileSync(key), readFileSync(cert));
    await new Promise<void>((resolve) => hooks.server.listen(0, '127.0.0.1', resolve));
    return hooks;
  }

  public readonly requests: Array<{ path: string; body: string }> = [];
  private readonly server: Server;

  private constructor(private readonly dir: string, public readonly certificateFile: string, key: Buffer, cert: Buffer) {
    this.server = createServer({ key, cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests.push({ path: req.url ?? '/', body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
  }

  public url(urlPath: string): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}${urlPath}`;
  }

  public bodiesTo(urlPath: string): string[] {
    return this.requests.filter((r) => r.path === urlPath).map((r) => r.body);
  }

  public async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

test('EcsParrot: no chat body of any format and no log line carries a secret, a command, a reason given to StopTask or an override value', async () => {
  // Prepare: Slack, Teams and a generic webhook (URLs from Secrets Manager) on HTTPS, and SNS
  const hooks = await HttpsWebhooks.start();
  try {
    const secrets: Record<string, string> = {};
    const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
    const channel = (kind: 'slack' | 'teams' | 'webhook') => {
      const arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:chatops/${kind}-AbCdEf`;
      secrets[arn] = hooks.url(webhookPath(kind));
      const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, kind, arn);
      return kind === 'slack' ? NotificationChannel.slack(secret) : kind === 'teams' ? NotificationChannel.teams(secret) : NotificationChannel.webhook(secret);
    };
    const parrot = new EcsParrot(stack, 'Parrot', {
      notifications: [channel('slack'), channel('teams'), channel('webhook'), NotificationChannel.snsTopic(sns.Topic.fromTopicArn(stack, 'Topic', `arn:aws:sns:${REGION}:${ACCOUNT}:ops`))],
      minimumSeverity: Severity.INFO,
      includeApiCalls: true,
      apiCalls: ['ExecuteCommand', 'StopTask', 'RunTask'],
    });
    const environment = { ...synthesizedEnvironment(stack, parrot.handler), NODE_EXTRA_CA_CERTS: hooks.certificateFile };
    standin.on('secretsmanager', 'GetSecretValue', (input: { SecretId: string }) => ({ ARN: input.SecretId, Name: 'hook', SecretString: secrets[input.SecretId] }));
    standin.on('dynamodb', 'PutItem', {});
    standin.on('dynamodb', 'UpdateItem', {});
    standin.on('dynamodb', 'BatchGetItem', (input: { RequestItems: Record<string, unknown> }) => ({
      Responses: Object.fromEntries(Object.keys(input.RequestItems).map((table) => [table, []])), UnprocessedKeys: {},
    }));
    standin.on('ecs', 'DescribeTaskDefinition', () => standin.error('ClientException', 'Unable to describe task definition.'));
    standin.on('ecs', 'DescribeContainerInstances', { containerInstances: [], failures: [] });
    standin.on('sns', 'Publish', { MessageId: '6a1f4b2e-0000-4000-8000-000000000001' });

    // Act
    const run = await runBundle({ assetDir: path.join(ASSETS, 'ecs-parrot'), environment, event: sqsBatch(parrotCarriers(new Date())), standin, timeoutMs: 60_000 });

    // Assess: every channel got messages (so the scan is over something), and nothing shown holds a planted value
    expect(run.error).toBeUndefined();
    expect(run.result).toEqual({ batchItemFailures: [] });
    const published = standin.callsTo('sns', 'Publish').map((c) => c.input);
    for (const kind of ['slack', 'teams', 'webhook']) expect(hooks.bodiesTo(webhookPath(kind)).length).toBeGreaterThanOrEqual(3);
    expect(published.length).toBeGreaterThanOrEqual(3);
    expect(shownSecrets([
      ...numbered('Slack body', hooks.bodiesTo(webhookPath('slack'))),
      ...numbered('Teams body', hooks.bodiesTo(webhookPath('teams'))),
      ...numbered('webhook body', hooks.bodiesTo(webhookPath('webhook'))),
      ...numbered('SNS message', published),
      ...runShown(run),
    ])).toEqual([]);
    expect(hooks.bodiesTo(webhookPath('webhook')).join('\n')).toContain('command=(not shown)');
  } finally {
    await hooks.stop();
  }
});

describe('EcsTaskRunner', () => {
  const ASSET = path.join(ASSETS, 'ecs-task-runner');
  const events = () => {
    const { create, isComplete } = taskRunnerEvents();
    const properties = {
      ...(create.ResourceProperties as Record<string, unknown>),
      ContainerOverrides: [{ Name: 'app', Command: SECRET_COMMAND, Environment: Object.entries(SECRET_ENVIRONMENT).map(([Name, Value]) => ({ Name, Value })) }],
    };
    return { create: { ...create, ResourceProperties: properties }, isComplete: { ...isComplete, ResourceProperties: properties } };
  };
  const environment = (fn: 'onEventHandler' | 'isCompleteHandler') => {
    const { stack, runner } = taskRunnerStack();
    return synthesizedEnvironment(stack, runner[fn]);
  };

  test('onEvent: neither the result of a create nor the reason of a RunTask ECS refuses, nor a log line, carries an override value', async () => {
    // Prepare: one create starts the task; the next is refused with an error that quotes the command
    standin.on('ecs', 'DescribeTaskDefinition', { taskDefinition: TASK_RUNNER_TASK_DEFINITION });
    let calls = 0;
    standin.on('ecs', 'RunTask', (input: { startedBy: string }) => {
      if (++calls > 1) throw standin.error('InvalidParameterException', `Container Overrides invalid: ${SECRET_COMMAND.join(' ')} ${SECRET_ERROR_MESSAGE}`);
      return { tasks: [{ ...TASK_RUNNER_TASK, lastStatus: 'PROVISIONING', startedBy: input.startedBy, createdAt: new Date() }], failures: [] };
    });

    // Act
    const started = await runBundle({ assetDir: ASSET, environment: environment('onEventHandler'), event: events().create, standin, handler: 'index.onEvent' });
    const refused = await runBundle({ assetDir: ASSET, environment: environment('onEventHandler'), event: events().create, standin, handler: 'index.onEvent' });

    // Assess
    expect(started.result?.EcsTaskRunner?.Run).toBe(true);
    expect(refused.error?.message).toMatch(/^Create of the task run failed: InvalidParameterException \(HTTP 400\): Container Overrides invalid: \*\*\*/);
    expect(shownSecrets([['result', started.result], ...runShown(started), ...runShown(refused)])).toEqual([]);
  });

  test('isComplete: the reason of a failed run, with ECS quoting the command and the container logging its environment, carries no override value', async () => {
    // Prepare
    standin.on('ecs', 'DescribeTasks', {
      tasks: [{
        ...TASK_RUNNER_TASK,
        lastStatus: 'STOPPED',
        stopCode: 'EssentialContainerExited',
        stoppedReason: 'Essential container in task exited',
        containers: [{ name: 'app', exitCode: 1, lastStatus: 'STOPPED', reason: `CannotStartContainerError: exec: "${SECRET_COMMAND.join(' ')}": denied` }],
      }],
      failures: [],
    });
    standin.on('logs', 'GetLogEvents', {
      events: [`env: ${JSON.stringify(SECRET_ENVIRONMENT)}`, `running ${SECRET_COMMAND.join(' ')}`, SECRET_ERROR_MESSAGE]
        .map((message, i) => ({ timestamp: i, message })),
    });

    // Act
    const run = await runBundle({ assetDir: ASSET, environment: environment('isCompleteHandler'), event: events().isComplete, standin, handler: 'index.isComplete' });

    // Assess
    expect(run.error?.message).toContain('Last log lines of app: "env: {\\"FEATURE_KEYWORD\\":\\"***\\",\\"DATABASE_URL\\":\\"***\\"}"');
    expect(shownSecrets(runShown(run))).toEqual([]);
  });
});

test('EcsStatusApi: no answer shows an AWS error\'s text, and no log line a secret it quoted', async () => {
  // Prepare: the clusters cannot be listed, with an error that names the role and quotes secrets
  const denied = `User: arn:aws:sts::${ACCOUNT}:assumed-role/status-reader/fn is not authorized to perform: ecs:ListClusters. ${SECRET_ERROR_MESSAGE}`;
  standin.on('ecs', 'ListClusters', () => standin.error('AccessDeniedException', denied));

  // Act
  const run = await runBundle({ assetDir: path.join(ASSETS, 'ecs-status-api'), environment: defaultStatusApiEnvironment(), event: restEvent('/services'), standin });

  // Assess
  expect(run.result.statusCode).toBe(502);
  expect(JSON.parse(run.result.body)).toEqual({
    error: 'could not list the clusters: AccessDeniedException (HTTP 400)', missingClusters: [], requestId: expect.any(String),
  });
  expect(shownSecrets([['HTTP body', run.result.body]], [...SECRETS, ACCOUNT, 'not authorized', 'status-reader'])).toEqual([]);
  expect(shownSecrets(runShown(run))).toEqual([]);
  // The log has the AWS error (errors go to stderr), masked.
  expect(run.stderr).toContain('not authorized to perform: ecs:ListClusters. Invalid request: DB_PASSWORD=***');
});
