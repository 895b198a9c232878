/**
 * What aws-cdk-lib's custom resource Provider framework (its runtime from node_modules, the code its three functions
 * run) shows of a runner's request: the README's EcsTaskRunner section says which parts of it log or keep the
 * resource properties, container overrides included, and this test holds it to that. Should a release of aws-cdk-lib
 * stop doing so, this fails, and the README's note changes with it.
 */
import * as path from 'node:path';
import { SECRET, SECRET_ENVIRONMENT } from '../support/shown-secrets';

const RUNTIME = path.join(path.dirname(require.resolve('aws-cdk-lib/package.json')), 'custom-resources', 'lib', 'provider-framework', 'runtime');
const ORIGINAL_ENV = { ...process.env };

interface Outbound {
  invokeFunction: jest.Mock;
  startExecution: jest.Mock;
  httpRequest: jest.Mock;
}

/** The framework's runtime with its AWS calls (Lambda Invoke, Step Functions StartExecution, the response PUT) recorded. */
function loadFramework(userResult: unknown): { framework: any; outbound: Outbound; logged: () => string } {
  jest.resetModules();
  const outbound: Outbound = {
    invokeFunction: jest.fn(async () => ({ Payload: Buffer.from(JSON.stringify(userResult)) })),
    startExecution: jest.fn(async () => ({})),
    httpRequest: jest.fn(async () => undefined),
  };
  jest.doMock(path.join(RUNTIME, 'outbound'), () => outbound);
  const lines: string[] = [];
  jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(' '));
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const framework = require(path.join(RUNTIME, 'framework'));
  return { framework, outbound, logged: () => lines.join('\n') };
}

const request = {
  RequestType: 'Create',
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:framework-onEvent',
  ResponseURL: 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/response?X-Amz-Signature=abc',
  StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Deploy/0a1b2c3d-0000-4000-8000-000000000001',
  RequestId: '6d8e2f2a-8f7b-4a3e-9b1c-2d3e4f5a6b7c',
  LogicalResourceId: 'Migrate',
  ResourceType: 'Custom::EcsTaskRunner',
  ResourceProperties: {
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:framework-onEvent',
    ContainerOverrides: [{ Name: 'app', Environment: Object.entries(SECRET_ENVIRONMENT).map(([Name, Value]) => ({ Name, Value })) }],
  },
};

beforeEach(() => {
  Object.assign(process.env, {
    USER_ON_EVENT_FUNCTION_ARN: 'arn:aws:lambda:us-east-1:123456789012:function:runner-onEvent',
    USER_IS_COMPLETE_FUNCTION_ARN: 'arn:aws:lambda:us-east-1:123456789012:function:runner-isComplete',
    WAITER_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:waiter',
  });
});

afterEach(() => {
  jest.restoreAllMocks();
  process.env = { ...ORIGINAL_ENV };
});

test('the framework\'s onEvent function logs the request with its properties, and starts the waiter with them as its input', async () => {
  // Prepare
  const { framework, outbound, logged } = loadFramework({ PhysicalResourceId: 'ecs-task-runner-0123456789abcdef0123', EcsTaskRunner: { Run: true } });

  // Act
  await framework.onEvent(request);

  // Assess: the request is logged as it came ("onEventHandler"), as passed on, and as handed to the waiter ("event:")
  expect(logged()).toContain('onEventHandler');
  expect(logged().split(SECRET.overrideEnvironment).length - 1).toBeGreaterThanOrEqual(3);
  // The waiter's execution input (in the Step Functions execution history) is the whole request.
  expect(outbound.startExecution.mock.calls[0][0].input).toContain(SECRET.overrideDbPassword);
});

test('the framework\'s isComplete function logs the request on every poll, and fails an unfinished poll with the whole request', async () => {
  // Prepare
  const { framework, logged } = loadFramework({ IsComplete: false });

  // Act
  const poll = framework.isComplete({ ...request, PhysicalResourceId: 'ecs-task-runner-0123456789abcdef0123' });

  // Assess: the error (in the function's log and the execution history, each poll) holds the request
  await expect(poll).rejects.toThrow(SECRET.overrideEnvironment);
  expect(logged()).toContain(SECRET.overrideDbPassword);
});
