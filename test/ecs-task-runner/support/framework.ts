/**
 * The runner as it runs deployed: aws-cdk-lib's custom resource Provider framework (its runtime from node_modules, the
 * code its three functions run) calling the runner's shipped bundle, each call in a fresh Node.js process
 * (test/support/run-bundle.ts) with the environment and timeout the construct synthesizes, against the AWS stand-in.
 *
 * Only the framework's outbound calls are stand-ins (its `outbound` module): Lambda Invoke runs the bundle; Step
 * Functions StartExecution records the waiter's input, and the harness then does what the waiter state machine does
 * (the framework's isComplete every poll interval, `Retry` on every error up to its attempts, then onTimeout); the
 * PUT to the response URL records what CloudFormation would get.
 *
 * ECS answers from a fake fleet (serveFleet), so the tasks the bundle starts exist, run and stop, and every call's IAM
 * requests are recorded.
 */
import * as path from 'node:path';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Synthesized, asCloudFormationSends, sampleRequest } from './runner';
import { AwsStandin, AwsStandinCall } from '../../support/aws-standin';
import { FakeFleet } from '../../support/fake-fleet';
import type { IamRequest } from '../../support/iam';
import { RunBundleResult, runBundle } from '../../support/run-bundle';
import { synthesizedEnvironment, synthesizedTimeoutMs } from '../../support/synthesized-environment';

const RUNTIME = path.join(path.dirname(require.resolve('aws-cdk-lib/package.json')), 'custom-resources', 'lib', 'provider-framework', 'runtime');
const ASSET = path.join(__dirname, '..', '..', '..', 'assets', 'ecs-task-runner');
const ON_EVENT_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:Deploy-RunnerOnEvent';
const IS_COMPLETE_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:Deploy-RunnerIsComplete';

/** The ECS operations the runner calls, answered by the fleet. */
const ECS_OPERATIONS = ['DescribeTaskDefinition', 'RunTask', 'StartTask', 'ListTasks', 'DescribeTasks', 'StopTask'];

/**
 * Answers the runner's ECS calls from the fake fleet (its state, its IAM requests, its SDK errors as AWS errors).
 * `before` may act on a call first (let the fleet start the task, then fail the answer): return `undefined` to let the
 * fleet answer, or throw a stand-in error.
 */
export function serveFleet(standin: AwsStandin, fleet: FakeFleet, before?: (operation: string, input: any) => Promise<unknown> | unknown): void {
  for (const operation of ECS_OPERATIONS) {
    standin.on('ecs', operation, async (input: any) => {
      const answered = await before?.(operation, input);
      if (answered !== undefined) return answered;
      try {
        const { $metadata, ...output } = await fleet.handle('ecs', operation, input);
        return output;
      } catch (error) {
        const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
        throw standin.error(e.name ?? 'Error', e.message ?? String(error), e.$metadata?.httpStatusCode ?? 400);
      }
    });
  }
}

/** The IAM requests of the stand-in's CloudFormation and CloudWatch Logs calls (ECS's are the fleet's). */
export function otherIamRequests(calls: readonly AwsStandinCall[], region: string, account: string): IamRequest[] {
  return calls.flatMap((c): IamRequest[] => {
    if (c.service === 'cloudformation') return [{ action: `cloudformation:${c.operation}`, resource: c.input.StackName }];
    if (c.service === 'logs') {
      return [{
        action: `logs:${c.operation}`,
        resource: `arn:aws:logs:${region}:${account}:log-group:${c.input.logGroupName}:log-stream:${c.input.logStreamName}`,
      }];
    }
    return [];
  });
}

/** What CloudFormation got at the response URL. */
export interface CfnResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason: string;
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/** One call of one of the runner's functions. */
export interface Invocation {
  readonly handler: 'onEvent' | 'isComplete';
  readonly event: any;
  readonly run: RunBundleResult;
}

export interface FrameworkOutcome {
  /** The response CloudFormation got (every request gets exactly one). */
  readonly response: CfnResponse;
  readonly invocations: Invocation[];
  /** The waiter's calls of the framework's isComplete. */
  readonly polls: number;
}

export interface FrameworkHarnessOptions {
  readonly standin: AwsStandin;
  /** The synthesized runner whose functions run (their environment and timeouts) and whose waiter polls. */
  readonly synthesized: Synthesized;
  /** The most polls a request may take here (the waiter's own limit is its total timeout). @default 12 */
  readonly maxPolls?: number;
  /** Called with the waiter's input before each poll: a test may move the run's clock (its deadline). */
  readonly beforePoll?: (input: any, poll: number) => void;
  /** Called before each call of one of the runner's functions: a test may tell which function made which AWS calls. */
  readonly beforeInvocation?: (handler: 'onEvent' | 'isComplete') => void;
}

/** The framework's three handlers. */
interface FrameworkRuntime {
  onEvent(event: unknown): Promise<void>;
  isComplete(event: unknown): Promise<void>;
  onTimeout(event: unknown): Promise<void>;
}

interface Outbound {
  invokeFunction(request: { FunctionName: string; Payload: string }): Promise<{ Payload: Uint8Array; FunctionError?: string }>;
  startExecution(request: { stateMachineArn: string; name: string; input: string }): Promise<unknown>;
  httpRequest(options: unknown, body: string): Promise<void>;
}

/**
 * The framework's runtime (its `framework` module, which its three functions export) with its outbound calls
 * replaced, in a module registry of its own: the rest of the test keeps its modules (aws-cdk-lib loads some lazily,
 * and a second copy would fail its instanceof checks), and each load gets its own `outbound`.
 */
export function loadFrameworkRuntime(outbound: object): any {
  let framework: unknown;
  jest.isolateModules(() => {
    jest.doMock(path.join(RUNTIME, 'outbound'), () => outbound);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    framework = require(path.join(RUNTIME, 'framework'));
  });
  return framework;
}

/**
 * The Provider framework driving the runner's bundle. One instance per test: it loads the framework's runtime into
 * a module registry of its own with its outbound calls replaced.
 */
export class FrameworkHarness {
  private readonly framework: FrameworkRuntime;
  private invocations: Invocation[] = [];
  private responses: CfnResponse[] = [];
  private executions: string[] = [];
  private readonly functions: Record<'onEvent' | 'isComplete', { environment: Record<string, string>; timeoutMs: number }>;
  private readonly frameworkLog: string[] = [];

  constructor(private readonly options: FrameworkHarnessOptions) {
    const { stack, runner } = options.synthesized;
    const fn = (f: lambda.IFunction) => ({ environment: synthesizedEnvironment(stack, f), timeoutMs: synthesizedTimeoutMs(stack, f) });
    this.functions = { onEvent: fn(runner.onEventHandler), isComplete: fn(runner.isCompleteHandler) };
    const outbound: Outbound = {
      invokeFunction: (request) => this.invoke(request),
      startExecution: async (request) => {
        this.executions.push(request.input);
        return { executionArn: `arn:aws:states:us-east-1:123456789012:execution:waiter:${request.name}` };
      },
      httpRequest: async (_options, body) => {
        this.responses.push(JSON.parse(body));
      },
    };
    this.framework = loadFrameworkRuntime(outbound);
  }

  /** What the framework logged (it logs every request and answer). */
  public get log(): readonly string[] {
    return this.frameworkLog;
  }

  /**
   * One CloudFormation request through the framework: its onEvent, then (when it started the waiter) the waiter's
   * polls of its isComplete until one answers CloudFormation, or its attempts run out and onTimeout does.
   */
  public async request(request: Record<string, unknown>): Promise<FrameworkOutcome> {
    return this.run(request, true) as Promise<FrameworkOutcome>;
  }

  /**
   * The framework's onEvent alone, as when CloudFormation cancels the request before the waiter's first poll (another
   * resource failed): what the runner's onEvent returned.
   */
  public async onEventOnly(request: Record<string, unknown>): Promise<any> {
    const { invocations } = await this.run(request, false);
    return invocations[0].run.result;
  }

  private async run(request: Record<string, unknown>, waiter: boolean): Promise<FrameworkOutcome | { invocations: Invocation[] }> {
    this.invocations = [];
    this.responses = [];
    this.executions = [];
    const environment = {
      USER_ON_EVENT_FUNCTION_ARN: ON_EVENT_ARN,
      USER_IS_COMPLETE_FUNCTION_ARN: IS_COMPLETE_ARN,
      WAITER_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:waiter',
    };
    const saved = { ...process.env };
    Object.assign(process.env, environment);
    const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      this.frameworkLog.push(args.map(String).join(' '));
    });
    let polls = 0;
    try {
      await this.framework.onEvent(structuredClone(request));
      const input = this.executions.shift();
      if (!waiter) return { invocations: this.invocations };
      if (input !== undefined) {
        const maxAttempts = this.options.synthesized.totalTimeoutSeconds / this.options.synthesized.pollSeconds;
        let waiterInput = JSON.parse(input);
        for (;;) {
          if (polls >= (this.options.maxPolls ?? 12)) throw new Error(`the waiter polled ${polls} times and CloudFormation still has no answer`);
          this.options.beforePoll?.(waiterInput, polls);
          polls += 1;
          try {
            await this.framework.isComplete(structuredClone(waiterInput));
            break;
          } catch (error) {
            // The waiter retries every error (States.ALL) every poll interval; then its Catch calls onTimeout.
            if (polls >= maxAttempts) {
              await this.framework.onTimeout({ Cause: JSON.stringify({ errorMessage: (error as Error).message }) });
              break;
            }
            // The poll interval passes between polls: nothing here waits for it.
            waiterInput = JSON.parse((error as Error).message);
          }
        }
      }
    } finally {
      log.mockRestore();
      process.env = saved;
    }
    if (this.responses.length !== 1) throw new Error(`CloudFormation got ${this.responses.length} responses to one request`);
    return { response: this.responses[0], invocations: this.invocations, polls };
  }

  private async invoke(request: { FunctionName: string; Payload: string }): Promise<{ Payload: Uint8Array; FunctionError?: string }> {
    const handler = request.FunctionName === ON_EVENT_ARN ? 'onEvent' : request.FunctionName === IS_COMPLETE_ARN ? 'isComplete' : undefined;
    if (!handler) throw new Error(`the framework invoked ${request.FunctionName}, which is not one of the runner's functions`);
    const event = JSON.parse(request.Payload);
    const { environment, timeoutMs } = this.functions[handler];
    this.options.beforeInvocation?.(handler);
    const run = await runBundle({ assetDir: ASSET, environment, timeoutMs, event, standin: this.options.standin, handler: `index.${handler}` });
    this.invocations.push({ handler, event, run });
    if (run.error) {
      // What Lambda answers for a function error: its name, message and the stack's lines.
      const payload = { errorType: run.error.name, errorMessage: run.error.message, trace: (run.error.stack ?? `${run.error.name}: ${run.error.message}`).split('\n') };
      return { Payload: Buffer.from(JSON.stringify(payload)), FunctionError: 'Unhandled' };
    }
    return { Payload: Buffer.from(JSON.stringify(run.result ?? null)) };
  }
}

let requests = 0;

/**
 * A CloudFormation request for the synthesized runner (a documented sample, with the runner's ids and properties as
 * CloudFormation sends them: every scalar a string).
 */
export function cfnRequest(
  synthesized: Synthesized,
  kind: 'create' | 'update' | 'delete',
  options: { properties?: Record<string, any>; oldProperties?: Record<string, any>; physicalResourceId?: string; requestId?: string } = {},
): Record<string, unknown> {
  const requestId = options.requestId ?? `6d8e2f2a-0000-4000-8000-${String(++requests).padStart(12, '0')}`;
  return {
    ...sampleRequest(kind),
    RequestId: requestId,
    ResponseURL: `https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/${requestId}?X-Amz-Signature=abc`,
    ResourceType: 'Custom::EcsTaskRunner',
    LogicalResourceId: synthesized.logicalId,
    StackId: synthesized.stackId,
    ServiceToken: synthesized.properties.ServiceToken,
    ResourceProperties: asCloudFormationSends(options.properties ?? synthesized.properties),
    ...(kind === 'update' ? { OldResourceProperties: asCloudFormationSends(options.oldProperties) } : {}),
    ...(kind !== 'create' ? { PhysicalResourceId: options.physicalResourceId } : {}),
  };
}
