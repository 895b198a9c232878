import * as fs from 'fs';
import * as path from 'path';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { createLogGroup } from './hardening';
import { HardeningProps } from './hardening-props';
import { acknowledgeNagFinding, acknowledgeWildcardResources, defaultPolicyOf } from './nag';
import { METRICS_NAMESPACE } from './names';
import { TESTED_NODEJS_RUNTIMES, nodejsMajor, runtimeMemberName } from './runtimes';

/** Where the build puts the prebuilt handler bundles: `<package root>/assets/<handler>/index.mjs` and its chunks. */
export const ASSETS_DIR = path.join(__dirname, '..', '..', 'assets');


/**
 * Every handler the package ships: `lambda/<name>` is bundled into `assets/<name>`, and one construct uses it.
 * (test/common/bundles.test.ts checks all three agree.)
 */
export const HANDLER_BUNDLES = ['ecs-agent-monitor', 'ecs-agent-updater', 'ecs-parrot', 'ecs-status-api', 'ecs-task-runner'] as const;
export type HandlerBundle = typeof HANDLER_BUNDLES[number];

export interface HandlerFunctionProps {
  /**
   * The prebuilt bundle under `assets/`. It is also the Powertools service name: the `service` key of
   * every log line and metric of the function.
   */
  readonly bundle: HandlerBundle;
  /**
   * The exported function of the bundle's `index.mjs` that Lambda calls, for a bundle with several.
   *
   * @default 'handler'
   */
  readonly exportName?: string;
  /** Shown in the Lambda console. */
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment?: { [key: string]: string };
  /**
   * The construct's hardening props: log retention and key, VPC, tracing. (`encryptionKey` is for the resources
   * the construct creates, not the function.)
   */
  readonly hardening: HardeningProps;
  /** Caps concurrent runs, e.g. 1 for a scheduled job that must never overlap itself. */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * Creates the Lambda function of a construct from its prebuilt bundle: the newest Node.js runtime the user's
 * aws-cdk-lib knows among those the bundles are tested on (`functionRuntime`), on ARM64, an explicit log group
 * with retention (and the log key), in the VPC and with the tracing of the hardening props, and a role that starts
 * with nothing but writing to that log group. A user's synth never bundles, so it needs neither esbuild nor Docker.
 */
export function createHandlerFunction(scope: Construct, id: string, props: HandlerFunctionProps): NodejsFunction {
  const codeDir = path.join(ASSETS_DIR, props.bundle);
  if (!fs.existsSync(path.join(codeDir, 'index.mjs'))) {
    throw new Error(
      `cdk-ecs-ops: the prebuilt handler "${props.bundle}" is missing from ${codeDir}. ` +
      'In a clone of the repository run "npx projen bundle"; in an installed package, reinstall cdk-ecs-ops.',
    );
  }

  const { hardening } = props;
  const logGroup = createLogGroup(scope, `${id}LogGroup`, hardening);

  // An own role instead of the AWSLambdaBasicExecutionRole managed policy: logs go to this log group only.
  const role = new iam.Role(scope, `${id}ServiceRole`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Runs ${props.description}`.slice(0, 1000),
  });
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    resources: [logGroup.logGroupArn],
  }));
  if (hardening.vpc) {
    // What AWSLambdaVPCAccessExecutionRole grants, which Lambda does not add to a role it did not create.
    // The network interface actions have no resource-level scoping that Lambda's calls fit.
    const networkInterfaces = new iam.PolicyStatement({
      sid: 'ManageFunctionNetworkInterfaces',
      actions: [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ],
      resources: ['*'],
    });
    role.addToPrincipalPolicy(networkInterfaces);
    acknowledgeWildcardResources(defaultPolicyOf(role), networkInterfaces,
      'A function in a VPC manages its own network interfaces (what AWSLambdaVPCAccessExecutionRole grants); '
      + 'ec2:CreateNetworkInterface and the describe actions take no narrower resource.');
  }

  const fn = new NodejsFunction(scope, id, {
    code: lambda.Code.fromAsset(codeDir),
    handler: `index.${props.exportName ?? 'handler'}`,
    runtime: functionRuntime(),
    architecture: lambda.Architecture.ARM_64,
    description: props.description,
    memorySize: props.memorySize,
    timeout: props.timeout,
    role,
    logGroup,
    reservedConcurrentExecutions: props.reservedConcurrentExecutions,
    vpc: hardening.vpc,
    vpcSubnets: hardening.vpcSubnets,
    securityGroups: hardening.securityGroups,
    tracing: hardening.tracing,
    environment: {
      POWERTOOLS_SERVICE_NAME: props.bundle,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      ...props.environment,
    },
  });
  if (hardening.tracing === lambda.Tracing.ACTIVE) {
    // Lambda adds xray:PutTraceSegments and xray:PutTelemetryRecords on *: X-Ray takes no narrower resource.
    acknowledgeNagFinding(defaultPolicyOf(role), 'AwsSolutions-IAM5',
      'With tracing ACTIVE the function writes X-Ray segments; xray:PutTraceSegments and xray:PutTelemetryRecords take no resource narrower than *.',
      ['Resource::*']);
  } else {
    acknowledgeNagFinding(fn, 'Serverless-LambdaTracing',
      'X-Ray tracing is off by default: each run is described by its structured logs and EMF metrics, at no tracing cost. Set tracing to Tracing.ACTIVE to trace.');
  }
  return fn;
}

/**
 * The runtime of every function of the library: the newest Node.js runtime that the user's aws-cdk-lib knows
 * (`lambda.Runtime.NODEJS_<major>_X`), among those the bundles are tested on (TESTED_NODEJS_RUNTIMES). So
 * `nodejs26.x` from aws-cdk-lib 2.277.0, which added `Runtime.NODEJS_26_X`, and `nodejs24.x` before it (the
 * peer floor, 2.224.0, is the first with `NODEJS_24_X`). Detected by the member, not by aws-cdk-lib's version.
 *
 * @param runtimes aws-cdk-lib's `lambda.Runtime` class, or a stand-in for it in tests
 */
export function functionRuntime(runtimes: object = lambda.Runtime): lambda.Runtime {
  const newestFirst = [...TESTED_NODEJS_RUNTIMES].sort((a, b) => nodejsMajor(b) - nodejsMajor(a));
  for (const name of newestFirst) {
    const runtime: unknown = (runtimes as Record<string, unknown>)[runtimeMemberName(name)];
    if (runtime instanceof lambda.Runtime && runtime.name === name) return runtime;
  }
  throw new Error(`cdk-ecs-ops: this aws-cdk-lib knows none of the Node.js runtimes the handlers are built for (${newestFirst.join(', ')}); `
    + 'upgrade aws-cdk-lib to 2.224.0 or later.');
}
