import { sep } from 'node:path';
import { agentMonitorReport, FakeClock, ScriptedServer } from './support';
import type { NotifierLogger } from '../../../lambda/common/notifier/index';

/*
 * A cold start must load only what the run needs. Each AWS SDK client module is replaced by a stand-in that
 * records when it is loaded; the notifier is imported afresh in every test (jest.resetModules), so a module
 * loaded by one test does not count for the next.
 */
const mockLoaded: string[] = [];
const mockSnsClients: { sent: { input: Record<string, unknown> }[] }[] = [];
let mockParameterValue = '';

jest.mock('@aws-sdk/client-sns', () => {
  mockLoaded.push('@aws-sdk/client-sns');
  return {
    SNSClient: class {
      public readonly sent: { input: Record<string, unknown> }[] = [];
      constructor() {
        mockSnsClients.push(this);
      }
      public async send(command: { input: Record<string, unknown> }) {
        this.sent.push(command);
        return { MessageId: 'c4b1d3e0-0000-4000-8000-000000000001', $metadata: { attempts: 1, httpStatusCode: 200 } };
      }
    },
    PublishCommand: class {
      constructor(public readonly input: Record<string, unknown>) {}
    },
  };
});
jest.mock('@aws-sdk/client-ssm', () => {
  mockLoaded.push('@aws-sdk/client-ssm');
  return {
    SSMClient: class {
      public async send() {
        return { Parameter: { Value: mockParameterValue } };
      }
    },
    GetParameterCommand: class {
      constructor(public readonly input: Record<string, unknown>) {}
    },
  };
});
jest.mock('@aws-sdk/client-secrets-manager', () => {
  mockLoaded.push('@aws-sdk/client-secrets-manager');
  return {};
});

const TOPIC = 'arn:aws:sns:us-east-1:111122223333:ops-alerts';
const silent: NotifierLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** A fresh copy of the notifier's index, as a handler's cold start imports it. */
function importNotifier(): typeof import('../../../lambda/common/notifier/index') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../../../lambda/common/notifier/index');
}

/** Real (not stand-in) AWS SDK client modules in the module registry. */
function realClientsLoaded(): string[] {
  return Object.keys(require.cache).filter(path => path.includes(`${sep}@aws-sdk${sep}client-`));
}

beforeEach(() => {
  jest.resetModules();
  mockLoaded.length = 0;
  mockSnsClients.length = 0;
});

test('importing the notifier loads no AWS SDK client module', () => {
  // Act
  const notifier = importNotifier();

  // Assess
  expect(typeof notifier.createNotifier).toBe('function');
  expect(mockLoaded).toEqual([]);
  expect(realClientsLoaded()).toEqual([]);
});

test('sending to an SNS channel loads only client-sns, and keeps one client across sends', async () => {
  // Prepare
  const { createNotifier } = importNotifier();
  const notifier = createNotifier([{ type: 'sns', topicArn: TOPIC }], { clock: new FakeClock(), logger: silent });
  expect(mockLoaded).toEqual([]);

  // Act
  const first = await notifier.send(agentMonitorReport());
  const second = await notifier.send(agentMonitorReport());

  // Assess
  expect([first, second]).toEqual([
    [{ channel: 'sns#0', ok: true, attempts: 1, status: 200 }],
    [{ channel: 'sns#0', ok: true, attempts: 1, status: 200 }],
  ]);
  expect(mockLoaded).toEqual(['@aws-sdk/client-sns']);
  expect(mockSnsClients).toHaveLength(1);
  expect(mockSnsClients[0].sent.map(c => c.input.TopicArn)).toEqual([TOPIC, TOPIC]);
  expect(realClientsLoaded()).toEqual([]);
});

test('sending to a webhook whose URL is in SSM loads only client-ssm', async () => {
  // Prepare
  const server = await ScriptedServer.start();
  mockParameterValue = server.url('/workflows/teams-s3cr3t');
  const { createNotifier } = importNotifier();
  const notifier = createNotifier([{ type: 'teams', parameterName: '/ops/teams-webhook' }], {
    clock: new FakeClock(),
    logger: silent,
    allowInsecureLocalhost: true,
  });

  // Act
  const results = await notifier.send(agentMonitorReport());
  await server.close();

  // Assess
  expect(results).toEqual([{ channel: 'teams#0', ok: true, attempts: 1, status: 200 }]);
  expect(mockLoaded).toEqual(['@aws-sdk/client-ssm']);
  expect(realClientsLoaded()).toEqual([]);
});
