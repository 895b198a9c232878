import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { ROLE_INLINE_POLICY_QUOTA, estimatePolicyLength } from './policy-size';
import { HandlerBundle, createHandlerFunction } from '../common/handler-function';
import { createLogGroup } from '../common/hardening';
import { HardeningProps } from '../common/hardening-props';
import { acknowledgeNagFinding, acknowledgeWildcardResources, defaultPolicyOf } from '../common/nag';

/** The handler bundle (two exports, two functions), which is also the `service` dimension of its metrics. */
export const RUNNER_SERVICE = 'ecs-task-runner' satisfies HandlerBundle;

/** Construct id of the one provider of a stack, a child of the stack. */
const PROVIDER_ID = 'CdkEcsOpsEcsTaskRunnerProvider';

/**
 * CloudFormation's limit for a custom resource (ServiceTimeout at most 3,600 s), and so the waiter's total timeout:
 * every runner of the stack shares the waiter, and each stops its own tasks at its own deadline (see EcsTaskRunner).
 */
export const MAX_TIMEOUT = Duration.hours(1);

/** What the runners of one stack must agree on, because they share the provider. */
export interface RunnerProviderSettings {
  readonly pollInterval: Duration;
  readonly hardening: HardeningProps;
}

/** The waiter's total timeout for a poll interval: the longest whole number of intervals within an hour. */
export function waiterTotalTimeout(pollInterval: Duration): Duration {
  const p = pollInterval.toSeconds();
  return Duration.seconds(Math.floor(MAX_TIMEOUT.toSeconds() / p) * p);
}

/**
 * The one custom resource provider of a stack that every EcsTaskRunner in it uses: the onEvent and isComplete
 * functions (each with its own role; every runner adds its own, scoped policy to them), aws-cdk-lib's Provider
 * framework (three functions and a waiter state machine) with roles and log groups of its own, all hardened with
 * the runners' hardening props. Internal: not exported from the package.
 */
export class TaskRunnerProvider extends Construct {
  /** The stack's provider, created by its first runner. */
  public static of(scope: IConstruct, settings: RunnerProviderSettings): TaskRunnerProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(PROVIDER_ID);
    if (existing) return existing as TaskRunnerProvider;
    return new TaskRunnerProvider(stack, PROVIDER_ID, settings);
  }

  /**
   * What a runner's settings do not share with the stack's provider (empty when there is none yet, or they agree),
   * each as "prop is <value>; <what to give>".
   */
  public static conflicts(scope: IConstruct, settings: RunnerProviderSettings): string[] {
    const existing = Stack.of(scope).node.tryFindChild(PROVIDER_ID) as TaskRunnerProvider | undefined;
    return existing ? existing.differences(settings) : [];
  }

  public readonly onEventFunction: lambda.Function;
  public readonly isCompleteFunction: lambda.Function;
  public readonly provider: cr.Provider;
  public readonly serviceToken: string;
  public readonly settings: RunnerProviderSettings;
  /** The policies each runner added to the functions' roles, by role. */
  private readonly runnerPolicies = new Map<iam.IRole, iam.Policy[]>();

  private constructor(scope: Construct, id: string, settings: RunnerProviderSettings) {
    super(scope, id);
    this.settings = settings;
    const { hardening, pollInterval } = settings;

    this.onEventFunction = createHandlerFunction(this, 'OnEvent', {
      bundle: RUNNER_SERVICE,
      exportName: 'onEvent',
      description: 'cdk-ecs-ops EcsTaskRunner: decides whether a deployment runs its ECS tasks, and starts or stops them',
      memorySize: 256,
      timeout: Duration.minutes(2),
      hardening,
    });
    this.isCompleteFunction = createHandlerFunction(this, 'IsComplete', {
      bundle: RUNNER_SERVICE,
      exportName: 'isComplete',
      description: 'cdk-ecs-ops EcsTaskRunner: checks whether the ECS tasks of a deployment have ended, and how',
      memorySize: 256,
      timeout: Duration.minutes(1),
      hardening,
    });

    // The framework's functions get roles and a log group of their own instead of the Lambda defaults
    // (AWSLambdaBasicExecutionRole, a log group that never expires), hardened like ours.
    const frameworkLogGroup = createLogGroup(this, 'FrameworkLogGroup', hardening);
    const frameworkRole = (roleId: string, what: string) => {
      const role = new iam.Role(this, roleId, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Runs the custom resource provider framework's ${what} for cdk-ecs-ops EcsTaskRunner`,
      });
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [frameworkLogGroup.logGroupArn],
      }));
      if (hardening.vpc) {
        const networkInterfaces = new iam.PolicyStatement({
          sid: 'ManageFunctionNetworkInterfaces',
          actions: [
            'ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        });
        role.addToPrincipalPolicy(networkInterfaces);
        acknowledgeWildcardResources(defaultPolicyOf(role), networkInterfaces,
          'A function in a VPC manages its own network interfaces (what AWSLambdaVPCAccessExecutionRole grants); '
          + 'ec2:CreateNetworkInterface and the describe actions take no narrower resource.');
      }
      if (hardening.tracing === lambda.Tracing.ACTIVE) role.addToPrincipalPolicy(xrayWrite());
      return role;
    };
    const onEventRole = frameworkRole('FrameworkOnEventRole', 'onEvent function');
    const completeRole = frameworkRole('FrameworkCompleteRole', 'isComplete and onTimeout functions');

    const waiterLogGroup = createLogGroup(this, 'WaiterLogGroup', hardening);
    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.onEventFunction,
      isCompleteHandler: this.isCompleteFunction,
      queryInterval: pollInterval,
      totalTimeout: waiterTotalTimeout(pollInterval),
      logGroup: frameworkLogGroup,
      vpc: hardening.vpc,
      vpcSubnets: hardening.vpcSubnets,
      securityGroups: hardening.securityGroups,
      frameworkOnEventRole: onEventRole,
      frameworkCompleteAndTimeoutRole: completeRole,
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: { destination: waiterLogGroup, level: sfn.LogLevel.ERROR, includeExecutionData: false },
    });
    this.serviceToken = this.provider.serviceToken;

    const frameworkFunctions = ['framework-onEvent', 'framework-isComplete', 'framework-onTimeout']
      .map((child) => this.providerChild<lambda.Function>(child));
    const waiter = this.providerChild<Construct>('waiter-state-machine');
    const stateMachine = waiter.node.defaultChild as sfn.CfnStateMachine;
    const waiterRole = waiter.node.findChild('Role') as iam.Role;
    if (hardening.tracing === lambda.Tracing.ACTIVE) {
      // The Provider has no tracing option: turn it on for its functions and its waiter as for ours.
      for (const fn of frameworkFunctions) (fn.node.defaultChild as lambda.CfnFunction).tracingConfig = { mode: 'Active' };
      stateMachine.tracingConfiguration = { enabled: true };
      waiterRole.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
        resources: ['*'],
      }));
    }
    this.acknowledgeFindings(frameworkFunctions, [onEventRole, completeRole], waiterRole, stateMachine, hardening);
  }

  /** Adds a runner's own policy to one of the functions' roles; synth fails if the role's inline policies outgrow IAM's quota. */
  public addRunnerPolicy(policy: iam.Policy, role: iam.IRole): void {
    const policies = this.runnerPolicies.get(role);
    if (policies) {
      policies.push(policy);
      return;
    }
    this.runnerPolicies.set(role, [policy]);
    this.node.addValidation({
      validate: () => {
        const all = this.runnerPolicies.get(role)!;
        const own = (role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined)?.document;
        const length = estimatePolicyLength(Stack.of(this), [...(own ? [own] : []), ...all.map((p) => p.document)]);
        if (length <= ROLE_INLINE_POLICY_QUOTA) return [];
        return [`the ${all.length} EcsTaskRunners of this stack give the role ${role.node.path} about ${length} characters of inline policy `
          + `(counted at the longest their ARNs can be); IAM allows a role ${ROLE_INLINE_POLICY_QUOTA} in all, so the deployment would fail. `
          + 'Put some of the runners in another stack (each stack has a provider of its own).'];
      },
    });
  }

  /** A child the Provider creates (ids of aws-cdk-lib's custom-resources Provider). */
  private providerChild<T extends IConstruct>(id: string): T {
    const child = this.provider.node.tryFindChild(id);
    if (!child) throw new Error(`cdk-ecs-ops EcsTaskRunner: aws-cdk-lib's custom resource Provider has no "${id}"; this aws-cdk-lib version is not supported`);
    return child as T;
  }

  private differences(settings: RunnerProviderSettings): string[] {
    const mine = this.settings;
    const problems: string[] = [];
    const path = this.node.path;
    if (settings.pollInterval.toSeconds() !== mine.pollInterval.toSeconds()) {
      problems.push(`pollInterval is ${settings.pollInterval.toHumanString()}, but the EcsTaskRunners of this stack share one provider (${path}), `
        + `which polls every ${mine.pollInterval.toHumanString()}; give every runner of the stack the same pollInterval`);
    }
    const same = (a: unknown, b: unknown) => a === b;
    const sameList = (a: readonly unknown[] = [], b: readonly unknown[] = []) => a.length === b.length && a.every((x, i) => x === b[i]);
    const selection = (h: HardeningProps) => (h.vpc ? JSON.stringify(Stack.of(this).resolve(h.vpc.selectSubnets(h.vpcSubnets).subnetIds)) : '');
    const checks: Array<[keyof HardeningProps, boolean]> = [
      ['logRetention', same(settings.hardening.logRetention, mine.hardening.logRetention)],
      ['logEncryptionKey', same(settings.hardening.logEncryptionKey, mine.hardening.logEncryptionKey)],
      ['vpc', same(settings.hardening.vpc, mine.hardening.vpc)],
      ['vpcSubnets', !settings.hardening.vpc || !mine.hardening.vpc || selection(settings.hardening) === selection(mine.hardening)],
      ['securityGroups', sameList(settings.hardening.securityGroups, mine.hardening.securityGroups)],
      ['tracing', (settings.hardening.tracing ?? lambda.Tracing.DISABLED) === (mine.hardening.tracing ?? lambda.Tracing.DISABLED)],
    ];
    for (const [prop, ok] of checks) {
      if (!ok) {
        problems.push(`${prop} differs from the first EcsTaskRunner of this stack: the runners of a stack share one provider (${path}) `
          + 'and its functions; give every runner of the stack the same hardening props');
      }
    }
    return problems;
  }

  /** The deliberate findings of the shared functions, the framework's functions and the waiter. */
  private acknowledgeFindings(
    frameworkFunctions: lambda.Function[], frameworkRoles: iam.Role[], waiterRole: iam.Role, stateMachine: sfn.CfnStateMachine,
    hardening: HardeningProps,
  ): void {
    const synchronous = 'The Provider framework invokes this function synchronously and reports its every failure to CloudFormation '
      + 'as the resource\'s status reason: there is no asynchronous invocation to keep for a replay.';
    for (const fn of [this.onEventFunction, this.isCompleteFunction]) acknowledgeNagFinding(fn, 'Serverless-LambdaDLQ', synchronous);

    const framework = 'A function of aws-cdk-lib\'s custom resource Provider framework, which offers no such option; ';
    for (const fn of frameworkFunctions) {
      acknowledgeNagFinding(fn, 'Serverless-LambdaDLQ', `${framework}it reports every failure to CloudFormation itself, `
        + 'and a lost invocation ends at the custom resource\'s ServiceTimeout (the runner\'s timeout).');
      const runtime = `${framework}its runtime is the newest Node.js that aws-cdk-lib's Provider knows, `
        + 'and the code is aws-cdk-lib\'s: the runtime follows aws-cdk-lib upgrades.';
      acknowledgeNagFinding(fn, 'AwsSolutions-L1', runtime);
      acknowledgeNagFinding(fn, 'Serverless-LambdaLatestVersion', runtime);
      acknowledgeNagFinding(fn, 'Serverless-LambdaDefaultMemorySize', `${framework}it only relays requests between CloudFormation, `
        + 'the waiter and the runner\'s functions, for which 128 MB is ample.');
      if (hardening.tracing !== lambda.Tracing.ACTIVE) {
        acknowledgeNagFinding(fn, 'Serverless-LambdaTracing',
          'X-Ray tracing is off by default: each run is described by the runner\'s structured logs and EMF metrics, at no tracing cost. Set tracing to Tracing.ACTIVE to trace.');
      }
    }
    const invokeVersions = 'aws-cdk-lib\'s Provider grants lambda:InvokeFunction on the runner\'s two functions and their versions '
      + '(<function ARN>:*); the functions are named, only their versions are a wildcard.';
    for (const role of frameworkRoles) {
      acknowledgeNagFinding(defaultPolicyOf(role), 'AwsSolutions-IAM5', invokeVersions, [
        ...[this.onEventFunction, this.isCompleteFunction].map((fn) => `Resource::<${Stack.of(this).getLogicalId(fn.node.defaultChild as lambda.CfnFunction)}.Arn>:*`),
      ]);
      if (hardening.tracing === lambda.Tracing.ACTIVE) {
        acknowledgeNagFinding(defaultPolicyOf(role), 'AwsSolutions-IAM5',
          'With tracing ACTIVE the function writes X-Ray segments; xray:PutTraceSegments and xray:PutTelemetryRecords take no resource narrower than *.',
          ['Resource::*']);
      }
    }
    acknowledgeNagFinding(defaultPolicyOf(waiterRole), 'AwsSolutions-IAM5',
      'aws-cdk-lib\'s Provider lets its waiter invoke the framework\'s isComplete and onTimeout functions and their versions (<function ARN>:*); '
      + 'the CloudWatch Logs delivery actions a state machine needs to log take no resource narrower than *.',
      [
        ...['framework-isComplete', 'framework-onTimeout'].map((id) => {
          const fn = this.providerChild<lambda.Function>(id);
          return `Resource::<${Stack.of(this).getLogicalId(fn.node.defaultChild as lambda.CfnFunction)}.Arn>:*`;
        }),
        'Resource::*',
      ]);
    acknowledgeNagFinding(stateMachine, 'AwsSolutions-SF1',
      'The waiter logs at ERROR level: at ALL it would log three events per poll of every run. Its failures are logged, and each run is '
      + 'described by the runner\'s own logs.');
    if (hardening.tracing !== lambda.Tracing.ACTIVE) {
      const tracingOff = 'X-Ray tracing is off by default, for the waiter as for the functions. Set tracing to Tracing.ACTIVE to trace.';
      acknowledgeNagFinding(stateMachine, 'AwsSolutions-SF2', tracingOff);
      acknowledgeNagFinding(stateMachine, 'Serverless-StepFunctionStateMachineXray', tracingOff);
    }
  }
}

function xrayWrite(): iam.PolicyStatement {
  return new iam.PolicyStatement({ actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] });
}
