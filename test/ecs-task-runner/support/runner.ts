/**
 * Running the EcsTaskRunner handlers as CloudFormation and aws-cdk-lib's Provider framework run them, against the
 * fake fleet: CloudFormation's requests (the documented samples in test/fixtures/aws/cfn-custom-resource with the
 * properties a synthesized runner writes), onEvent, then isComplete once at once and once every poll interval (the
 * clock moves by the interval between polls) until it answers complete or fails, and the reason CloudFormation would
 * show, built from the thrown error the way Lambda and the framework build it.
 *
 * The handler modules read nothing at load but share module-scope clients, so each test loads a fresh copy
 * (`jest.resetModules`) and the test file shares the SDK client packages across registries:
 *
 * ```ts
 * jest.mock('@aws-sdk/client-ecs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ecs'));
 * jest.mock('@aws-sdk/client-cloudwatch-logs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-cloudwatch-logs'));
 * ```
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IsCompleteResult, OnEventResult } from '../../../lambda/ecs-task-runner';
import { EcsTaskRunner, EcsTaskRunnerProps } from '../../../src';
import { IntrinsicResolver } from '../../support/iam';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const STACK_NAME = 'Deploy';
export const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`;
export const SUBNETS = ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788'];
export const SECURITY_GROUP = 'sg-0123456789abcdef0';
export const TASK_ROLE = `arn:aws:iam::${ACCOUNT}:role/migrate-task`;
export const EXECUTION_ROLE = `arn:aws:iam::${ACCOUNT}:role/migrate-execution`;

const SAMPLES = path.join(__dirname, '..', '..', 'fixtures', 'aws', 'cfn-custom-resource');

/** A documented CloudFormation request sample (Create, Update or Delete). */
export function sampleRequest(kind: 'create' | 'update' | 'delete'): Record<string, any> {
  return JSON.parse(readFileSync(path.join(SAMPLES, `cfn-docs-${kind}-request.json`), 'utf8'));
}

export interface Synthesized {
  readonly stack: Stack;
  readonly runner: EcsTaskRunner;
  /** The custom resource's properties as CloudFormation sends them (intrinsics resolved, ServiceToken included). */
  readonly properties: Record<string, any>;
  readonly logicalId: string;
  readonly stackId: string;
  readonly serviceTimeoutSeconds: number;
  /** The waiter's poll interval and total timeout, from the synthesized state machine. */
  readonly pollSeconds: number;
  readonly totalTimeoutSeconds: number;
  /** The onEvent and isComplete functions' physical names, for the framework's "Logs:" line. */
  readonly functionNames: { onEvent: string; isComplete: string };
}

/** The user's side: the cluster prod (imported, in an imported VPC) and a Fargate task definition with awslogs. */
export function userApp(stack: Stack) {
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0a1b2c3d4e5f60718', availabilityZones: [`${REGION}a`, `${REGION}b`], privateSubnetIds: SUBNETS });
  const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod', vpc });
  const securityGroup = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', SECURITY_GROUP);
  const taskDefinition = ecs.TaskDefinition.fromTaskDefinitionAttributes(stack, 'Migrations', {
    taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/migrate:1`,
    compatibility: ecs.Compatibility.EC2_AND_FARGATE,
    networkMode: ecs.NetworkMode.AWS_VPC,
    taskRole: iam.Role.fromRoleArn(stack, 'TaskRole', TASK_ROLE),
    executionRole: iam.Role.fromRoleArn(stack, 'ExecutionRole', EXECUTION_ROLE),
  });
  return { vpc, cluster, securityGroup, taskDefinition };
}

/** Synthesizes a runner in the stack Deploy (123456789012/us-east-1) and reads what CloudFormation would send. */
export function synthesize(props: (u: ReturnType<typeof userApp>) => Partial<EcsTaskRunnerProps> = () => ({})): Synthesized {
  const stack = new Stack(new App(), STACK_NAME, { env: { account: ACCOUNT, region: REGION } });
  const u = userApp(stack);
  const runner = new EcsTaskRunner(stack, 'Migrate', { cluster: u.cluster, taskDefinition: u.taskDefinition, ...props(u) });
  return readSynthesized(stack, runner);
}

/** What CloudFormation would send for a runner of a stack (in 123456789012/us-east-1), and its waiter's settings. */
export function readSynthesized(stack: Stack, runner: EcsTaskRunner): Synthesized {
  const template = Template.fromStack(stack).toJSON();
  const resolver = new IntrinsicResolver(template, { account: ACCOUNT, region: REGION, stackName: stack.stackName });
  const logicalId = stack.getLogicalId(runner.customResource.node.defaultChild as CfnElement);
  const { ServiceTimeout, ...properties } = resolver.resolve(template.Resources[logicalId].Properties, logicalId) as Record<string, any>;
  const stateMachine = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  const definition = JSON.parse(resolver.resolveString(stateMachine.Properties.DefinitionString, 'waiter definition'));
  const retry = definition.States['framework-isComplete-task'].Retry[0];
  const fnName = (fn: { node: { defaultChild?: unknown } }) => String(resolver.ref(stack.getLogicalId(fn.node.defaultChild as CfnElement)));
  return {
    stack,
    runner,
    properties,
    logicalId,
    stackId: String(resolver.resolve({ Ref: 'AWS::StackId' }, 'stack id')),
    serviceTimeoutSeconds: Number(ServiceTimeout),
    pollSeconds: retry.IntervalSeconds,
    totalTimeoutSeconds: retry.IntervalSeconds * retry.MaxAttempts,
    functionNames: { onEvent: fnName(runner.onEventHandler), isComplete: fnName(runner.isCompleteHandler) },
  };
}

/** CloudFormation turns every scalar of a custom resource's properties into a string. */
export function asCloudFormationSends(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asCloudFormationSends);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asCloudFormationSends(v)]));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return value;
}

export interface Handlers {
  onEvent(event: object): Promise<OnEventResult>;
  isComplete(event: object): Promise<IsCompleteResult>;
}

/** A fresh copy of the handler module (its module-scope clients and caches new). */
export function loadHandlers(): Handlers {
  process.env.POWERTOOLS_SERVICE_NAME = 'ecs-task-runner';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'CdkEcsOps';
  jest.resetModules();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const handlers = require('../../../lambda/ecs-task-runner');
  return { onEvent: handlers.onEvent, isComplete: handlers.isComplete };
}

/**
 * The status reason CloudFormation shows for a user function that threw: Lambda reports the error's message and
 * its stack's lines; the Provider framework writes the message, a blank line, `Logs: /aws/lambda/<function>`, a blank
 * line, then the stack's lines after the first.
 */
export function frameworkReason(error: unknown, functionName: string): string {
  const e = error as Error;
  const trace = String(e.stack ?? `${e.name}: ${e.message}`).split('\n');
  return [[e.message, '', `Logs: /aws/lambda/${functionName}`, ''].join('\n'), ...trace.slice(1)].join('\n');
}

export interface Outcome {
  readonly status: 'SUCCESS' | 'FAILED';
  /** The reason CloudFormation shows (FAILED only). */
  readonly reason?: string;
  readonly physicalResourceId: string;
  /** isComplete calls. */
  readonly polls: number;
  /** Seconds from the request to the response. */
  readonly elapsedSeconds: number;
  /** What onEvent returned (merged into isComplete's event). */
  readonly onEventResult?: OnEventResult;
}

let requestCounter = 0;

/**
 * One custom resource through its life: CloudFormation's requests, the framework's calls, and the clock. The clock is
 * jest's system time (fake `Date`), which the fake fleet follows.
 */
export class CloudFormationResource {
  public physicalResourceId?: string;
  public properties?: Record<string, any>;
  /** Every response, in order. */
  public readonly responses: Outcome[] = [];

  constructor(private readonly handlers: Handlers, public readonly synthesized: Synthesized) {}

  public request(kind: 'create' | 'update' | 'delete', properties: Record<string, any>, requestId = `request-${++requestCounter}`) {
    const sample = sampleRequest(kind);
    return {
      ...sample,
      RequestId: requestId,
      ResponseURL: `https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/${requestId}`,
      ResourceType: 'Custom::EcsTaskRunner',
      LogicalResourceId: this.synthesized.logicalId,
      StackId: this.synthesized.stackId,
      ServiceToken: properties.ServiceToken,
      ResourceProperties: asCloudFormationSends(properties),
      ...(kind === 'update' ? { OldResourceProperties: asCloudFormationSends(this.properties) } : {}),
      ...(kind !== 'create' ? { PhysicalResourceId: this.physicalResourceId } : {}),
    };
  }

  public async create(properties = this.synthesized.properties, requestId?: string): Promise<Outcome> {
    return this.handle(this.request('create', properties, requestId), properties);
  }

  public async update(properties: Record<string, any>, requestId?: string): Promise<Outcome> {
    return this.handle(this.request('update', properties, requestId), properties);
  }

  public async delete(requestId?: string): Promise<Outcome> {
    return this.handle(this.request('delete', this.properties ?? this.synthesized.properties, requestId), this.properties ?? this.synthesized.properties);
  }

  /** What the Provider framework does with one request, as CloudFormation sees it. */
  public async handle(request: Record<string, any>, properties: Record<string, any>): Promise<Outcome> {
    const started = Date.now();
    const { onEvent, isComplete } = this.synthesized.functionNames;
    const finish = (outcome: Omit<Outcome, 'elapsedSeconds'>): Outcome => {
      const done = { ...outcome, elapsedSeconds: (Date.now() - started) / 1000 };
      this.responses.push(done);
      if (done.status === 'SUCCESS') {
        this.physicalResourceId = done.physicalResourceId;
        this.properties = properties;
      } else if (request.RequestType === 'Create') {
        // CloudFormation deletes a resource whose create failed, with the physical id of the FAILED response.
        this.physicalResourceId = done.physicalResourceId;
        this.properties = properties;
      }
      return done;
    };
    let result: OnEventResult;
    try {
      result = await this.handlers.onEvent(request);
    } catch (error) {
      // The framework answers FAILED with the request's physical id, or its CREATE_FAILED marker on a create.
      return finish({
        status: 'FAILED',
        reason: frameworkReason(error, onEvent),
        physicalResourceId: request.PhysicalResourceId ?? 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED',
        polls: 0,
      });
    }
    const physicalResourceId = result.PhysicalResourceId ?? request.PhysicalResourceId ?? request.RequestId;
    const event = { ...request, ...result, PhysicalResourceId: physicalResourceId };
    const { pollSeconds, totalTimeoutSeconds, serviceTimeoutSeconds } = this.synthesized;
    for (let attempt = 0; attempt <= totalTimeoutSeconds / pollSeconds; attempt++) {
      if (attempt > 0) jest.setSystemTime(Date.now() + pollSeconds * 1000);
      if ((Date.now() - started) / 1000 > serviceTimeoutSeconds) {
        throw new Error(`the waiter polled after CloudFormation gave up (ServiceTimeout ${serviceTimeoutSeconds} s)`);
      }
      let answer: IsCompleteResult;
      try {
        answer = await this.handlers.isComplete(event);
      } catch (error) {
        return finish({ status: 'FAILED', reason: frameworkReason(error, isComplete), physicalResourceId, polls: attempt + 1, onEventResult: result });
      }
      if (answer.IsComplete) return finish({ status: 'SUCCESS', physicalResourceId, polls: attempt + 1, onEventResult: result });
    }
    return finish({ status: 'FAILED', reason: 'Operation timed out', physicalResourceId, polls: totalTimeoutSeconds / pollSeconds + 1, onEventResult: result });
  }
}

export { StdoutCapture, useFakeClock } from '../../support/handler-harness';
