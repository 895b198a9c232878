import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { build, BuildOptions } from 'esbuild';
import { AwsStandin, STANDIN_ERROR_CODES } from './aws-standin';
import { DEFAULT_RUNTIME, benchmarkBundle, median, nodeForFunctions, nodeForRuntime, runBundle } from './run-bundle';
import { TESTED_NODEJS_RUNTIMES, nodejsMajor } from '../../src/common/runtimes';

// The fixture handler (bundle-fixture/) is built here the way the handlers ship: ESM with code splitting and the
// createRequire banner, and, as today, one CommonJS file. Each run is a fresh Node.js process against the stand-in.

const FIXTURE = join(__dirname, 'bundle-fixture', 'handler.ts');
const BANNER = "import { createRequire as __cdkEcsOpsCreateRequire } from 'node:module'; const require = __cdkEcsOpsCreateRequire(import.meta.url);";
const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:ops';
const CLUSTER_ARN = 'arn:aws:ecs:us-east-1:123456789012:cluster/prod';

const common: BuildOptions = {
  bundle: true,
  minify: true,
  platform: 'node',
  target: 'node24',
  mainFields: ['module', 'main'],
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  define: { 'process.env.NODE_ENV': '"production"' },
};

const standin = new AwsStandin();
let work: string;
let esmDir: string;
let cjsDir: string;
/** The lazy chunk's path in the ESM asset, e.g. `chunks/lazy-X2Y3.mjs`. */
let lazyChunk: string;

beforeAll(async () => {
  await standin.start();
  work = mkdtempSync(join(tmpdir(), 'run-bundle-test-'));
  esmDir = join(work, 'esm');
  cjsDir = join(work, 'cjs');
  const [esm] = await Promise.all([
    build({
      ...common,
      entryPoints: { index: FIXTURE },
      outdir: esmDir,
      format: 'esm',
      splitting: true,
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunks/[name]-[hash]',
      banner: { js: BANNER },
    }),
    build({ ...common, entryPoints: [FIXTURE], outfile: join(cjsDir, 'index.js'), format: 'cjs' }),
  ]);
  const lazy = Object.entries(esm.metafile!.outputs).find(([, output]) => output.entryPoint?.endsWith('bundle-fixture/lazy.ts'));
  if (!lazy) throw new Error('esbuild made no chunk for bundle-fixture/lazy.ts');
  lazyChunk = relative(esmDir, lazy[0]).split('\\').join('/');
});
afterEach(() => standin.reset());
afterAll(async () => {
  await standin.stop();
  rmSync(work, { recursive: true, force: true });
});

function answerFleet(): void {
  standin.on('ecs', 'ListClusters', { clusterArns: [CLUSTER_ARN] });
  standin.on('dynamodb', 'Query', (input) => ({ Items: [{ cluster: input.ExpressionAttributeValues[':cluster'], failures: { N: '2' } }], Count: 1 }));
  standin.on('autoscaling', 'DescribeAutoScalingInstances', (input) => ({
    AutoScalingInstances: input.InstanceIds.map((id: string) => ({
      InstanceId: id,
      AutoScalingGroupName: 'prod-asg',
      AvailabilityZone: 'us-east-1a',
      LifecycleState: 'InService',
      HealthStatus: 'HEALTHY',
      ProtectedFromScaleIn: false,
    })),
  }));
  standin.on('ec2', 'TerminateInstances', (input) => ({
    TerminatingInstances: input.InstanceId.map((id: string) => ({ InstanceId: id, CurrentState: { Code: 32, Name: 'shutting-down' } })),
  }));
}

const FLEET_RESULT = {
  clusterArns: [CLUSTER_ARN],
  failures: [{ cluster: { S: 'prod' }, failures: { N: '2' } }],
  groups: [['i-1', 'prod-asg', false], ['i-2', 'prod-asg', false]],
  terminating: [['i-1', 'shutting-down'], ['i-2', 'shutting-down']],
};

describe('an ESM bundle with code splitting', () => {
  test('runs against the stand-in: every protocol\'s answer arrives deserialized and every call is recorded with its input', async () => {
    // Prepare
    answerFleet();

    // Act
    const run = await runBundle({ assetDir: esmDir, event: { action: 'fleet', cluster: 'prod', instanceIds: ['i-1', 'i-2'] }, standin });

    // Assess
    expect(run.error).toBeUndefined();
    expect(run.result).toEqual(FLEET_RESULT);
    expect(standin.calls.map(({ service, operation, protocol, input, status }) => ({ service, operation, protocol, input, status }))).toEqual([
      { service: 'ecs', operation: 'ListClusters', protocol: 'awsJson1_1', input: { maxResults: 10 }, status: 200 },
      {
        service: 'dynamodb',
        operation: 'Query',
        protocol: 'awsJson1_0',
        input: { TableName: 'failures', KeyConditionExpression: 'cluster = :cluster', ExpressionAttributeValues: { ':cluster': { S: 'prod' } } },
        status: 200,
      },
      { service: 'autoscaling', operation: 'DescribeAutoScalingInstances', protocol: 'awsQuery', input: { InstanceIds: ['i-1', 'i-2'] }, status: 200 },
      { service: 'ec2', operation: 'TerminateInstances', protocol: 'ec2Query', input: { InstanceId: ['i-1', 'i-2'] }, status: 200 },
    ]);
    expect(standin.calls.every((call) => call.region === 'us-east-1')).toBe(true);
  });

  test('the loaded files are the entry and its static chunks, with their sizes, and nothing from outside the asset', async () => {
    standin.on('ecs', 'ListClusters', { clusterArns: [] });

    const run = await runBundle({ assetDir: esmDir, event: { action: 'list-clusters' }, standin });

    expect(run.error).toBeUndefined();
    expect(run.loadedFiles[0]).toEqual({ path: 'index.mjs', bytes: statSync(join(esmDir, 'index.mjs')).size });
    for (const file of run.loadedFiles.slice(1)) {
      expect(file.path).toMatch(/^chunks\/[\w-]+\.mjs$/);
      expect(file.bytes).toBe(statSync(join(esmDir, file.path)).size);
    }
    expect(run.loadedBytes).toBe(run.loadedFiles.reduce((sum, file) => sum + file.bytes, 0));
    expect(run.outsideFiles).toEqual([]);
  });

  test('the lazy chunk is loaded only when the handler takes the path that imports it', async () => {
    standin.on('ecs', 'ListClusters', { clusterArns: [] });
    standin.on('sns', 'Publish', { MessageId: 'msg-1' });
    const environment = { TOPIC_ARN };

    const listed = await runBundle({ assetDir: esmDir, environment, event: { action: 'list-clusters' }, standin });
    const notified = await runBundle({ assetDir: esmDir, environment, event: { action: 'notify', cluster: 'prod' }, standin });

    expect(listed.error).toBeUndefined();
    expect(listed.loadedFiles.map((file) => file.path)).not.toContain(lazyChunk);
    expect(notified.error).toBeUndefined();
    expect(notified.result).toEqual({ messageId: 'msg-1' });
    expect(notified.loadedFiles.map((file) => file.path)).toContain(lazyChunk);
    expect(notified.loadedBytes).toBeGreaterThan(listed.loadedBytes);
    expect(standin.callsTo('sns', 'Publish').map((call) => call.input)).toEqual([
      { TopicArn: TOPIC_ARN, Subject: 'cdk-ecs-ops', Message: 'cluster prod needs a look' },
    ]);
  });

  test('a ThrottlingException answered twice is retried by the SDK\'s own strategy, and the third attempt succeeds', async () => {
    let calls = 0;
    standin.on('ecs', 'ListClusters', () => (++calls <= 2 ? standin.error('ThrottlingException', 'Rate exceeded') : { clusterArns: [CLUSTER_ARN] }));

    const run = await runBundle({ assetDir: esmDir, event: { action: 'list-clusters' }, standin });

    expect(run.error).toBeUndefined();
    expect(run.result).toEqual({ clusterArns: [CLUSTER_ARN], attempts: 3 });
    expect(standin.callsTo('ecs', 'ListClusters').map((call) => [call.status, call.errorCode])).toEqual([
      [400, 'ThrottlingException'],
      [400, 'ThrottlingException'],
      [200, undefined],
    ]);
  });

  test('a ClusterNotFoundException reaches the handler as that class', async () => {
    standin.on('ecs', 'DescribeClusters', () => standin.error('ClusterNotFoundException', 'Cluster not found.'));

    const run = await runBundle({ assetDir: esmDir, event: { action: 'describe-cluster', cluster: 'gone' }, standin });

    expect(run.result).toEqual({ caught: 'ClusterNotFoundException', isClusterNotFound: true });
    expect(standin.callsTo('ecs', 'DescribeClusters')[0].input).toEqual({ clusters: ['gone'] });
  });

  test('fails clearly on an operation nobody registered', async () => {
    standin.on('ecs', 'ListClusters', { clusterArns: [CLUSTER_ARN] });

    const run = await runBundle({ assetDir: esmDir, event: { action: 'fleet', instanceIds: ['i-1'] }, standin });

    expect(run.error).toMatchObject({
      name: STANDIN_ERROR_CODES.noAnswer,
      message: expect.stringContaining('no answer registered for dynamodb Query'),
      phase: 'invoke',
    });
    expect(standin.calls.map((call) => [call.service, call.operation, call.status])).toEqual([
      ['ecs', 'ListClusters', 200],
      ['dynamodb', 'Query', 400],
    ]);
  });

  test('an error the handler throws comes back as error', async () => {
    const run = await runBundle({ assetDir: esmDir, event: { action: 'throw', cluster: 'gone' }, standin });

    expect(run.result).toBeUndefined();
    expect(run.error).toMatchObject({ name: 'TypeError', message: 'no such cluster: gone', phase: 'invoke' });
    expect(run.error?.stack).toContain('index.mjs');
  });

  test('the process has exactly PATH, HOME, the function environment, the stand-in and what Lambda sets; the context is Lambda\'s', async () => {
    const run = await runBundle({
      assetDir: esmDir,
      environment: { TOPIC_ARN, POWERTOOLS_SERVICE_NAME: 'monitor' },
      event: { action: 'environment' },
      standin,
      functionName: 'monitor',
      memoryMb: 256,
      region: 'eu-west-1',
      timeoutMs: 20_000,
    });

    const { environment, context, cwd } = run.result;
    expect(environment).toEqual({
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      TOPIC_ARN,
      POWERTOOLS_SERVICE_NAME: 'monitor',
      AWS_ENDPOINT_URL: standin.url,
      AWS_ACCESS_KEY_ID: expect.any(String),
      AWS_SECRET_ACCESS_KEY: expect.any(String),
      AWS_SESSION_TOKEN: expect.any(String),
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      AWS_LAMBDA_FUNCTION_NAME: 'monitor',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/monitor',
      AWS_LAMBDA_LOG_STREAM_NAME: context.logStreamName,
      LAMBDA_TASK_ROOT: cwd,
      _HANDLER: 'index.handler',
      TZ: ':UTC',
    });
    expect(cwd).not.toBe(esmDir);
    expect(context).toEqual({
      awsRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      functionName: 'monitor',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:monitor',
      logGroupName: '/aws/lambda/monitor',
      logStreamName: expect.stringMatching(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/),
      memoryLimitInMB: '256',
      remainingMs: expect.any(Number),
    });
    expect(context.remainingMs).toBeGreaterThan(15_000);
    expect(context.remainingMs).toBeLessThanOrEqual(20_000);
    expect(standin.calls).toEqual([]);
  });

  test('stdout lines come back as logs, parsed where they are JSON', async () => {
    const run = await runBundle({ assetDir: esmDir, event: { action: 'log', cluster: 'prod' }, standin });

    expect(run.logs).toEqual([{ level: 'INFO', message: 'checked', cluster: 'prod' }, 'plain text line']);
    expect(run.stderr).toBe('');
  });

  test('an invocation that outlives the timeout fails with Sandbox.Timedout', async () => {
    const run = await runBundle({ assetDir: esmDir, event: { action: 'hang' }, standin, timeoutMs: 300 });

    expect(run.error).toMatchObject({ name: 'Sandbox.Timedout', message: 'Task timed out after 0.30 seconds', phase: 'invoke' });
    expect(run.wallMs - run.initMs).toBeGreaterThanOrEqual(290);
  });

  test('CPU and wall time cover the start-up and the invocation', async () => {
    standin.on('ecs', 'ListClusters', { clusterArns: [] });

    const run = await runBundle({ assetDir: esmDir, event: { action: 'list-clusters' }, standin });

    expect(run.initCpuMs).toBeGreaterThan(0);
    expect(run.cpuMs).toBeGreaterThan(run.initCpuMs);
    expect(run.initMs).toBeGreaterThan(0);
    expect(run.wallMs).toBeGreaterThan(run.initMs);
    expect(run.maxRssBytes).toBeGreaterThan(10 * 1024 * 1024);
  });
});

describe('a CommonJS single-file bundle', () => {
  test('runs, and loads nothing but index.js, on either path', async () => {
    answerFleet();
    standin.on('sns', 'Publish', { MessageId: 'msg-2' });
    const environment = { TOPIC_ARN };

    const fleet = await runBundle({ assetDir: cjsDir, environment, event: { action: 'fleet', cluster: 'prod', instanceIds: ['i-1', 'i-2'] }, standin });
    const notified = await runBundle({ assetDir: cjsDir, environment, event: { action: 'notify', cluster: 'prod' }, standin });

    expect(fleet.result).toEqual(FLEET_RESULT);
    expect(notified.result).toEqual({ messageId: 'msg-2' });
    const only = [{ path: 'index.js', bytes: statSync(join(cjsDir, 'index.js')).size }];
    expect(fleet.loadedFiles).toEqual(only);
    expect(notified.loadedFiles).toEqual(only);
  });

  test('a ClusterNotFoundException reaches the handler as that class', async () => {
    standin.on('ecs', 'DescribeClusters', () => standin.error('ClusterNotFoundException', 'Cluster not found.'));

    const run = await runBundle({ assetDir: cjsDir, event: { action: 'describe-cluster' }, standin });

    expect(run.result).toEqual({ caught: 'ClusterNotFoundException', isClusterNotFound: true });
  });
});

describe('a bundle that is not self-contained', () => {
  let assetDir: string;
  beforeAll(() => {
    // index.js requires a package that sits in node_modules next to the asset, as the repository's would.
    const root = join(work, 'leaky');
    assetDir = join(root, 'asset');
    mkdirSync(join(root, 'node_modules', 'left-behind'), { recursive: true });
    mkdirSync(assetDir, { recursive: true });
    writeFileSync(join(root, 'node_modules', 'left-behind', 'index.js'), 'exports.answer = 42;\n');
    writeFileSync(join(assetDir, 'index.js'), "const { answer } = require('left-behind');\nexports.handler = async () => ({ answer });\n");
  });

  test('fails at init when run as Lambda would, from a copy of its folder', async () => {
    const run = await runBundle({ assetDir, standin });

    expect(run.error).toMatchObject({ name: 'Error', message: expect.stringContaining("Cannot find module 'left-behind'"), phase: 'init' });
  });

  test('run in place, it works, and the file it loaded from outside the asset is reported', async () => {
    const run = await runBundle({ assetDir, standin, isolate: false });

    expect(run.result).toEqual({ answer: 42 });
    expect(run.loadedFiles.map((file) => file.path)).toEqual(['index.js']);
    expect(run.outsideFiles).toEqual([join(assetDir, '..', 'node_modules', 'left-behind', 'index.js')]);
  });
});

describe('finding the handler module, and what runBundle refuses', () => {
  test('fails on a function environment that sets what Lambda or the stand-in sets', async () => {
    await expect(runBundle({ assetDir: esmDir, environment: { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://x', OK: '1' }, standin }))
      .rejects.toThrow('runBundle: the function environment sets AWS_REGION, AWS_ENDPOINT_URL, which Lambda (or the stand-in) sets itself');
  });

  test('imports an index.js whose package.json says "type": "module", as the runtime does', async () => {
    const typed = join(work, 'typed');
    mkdirSync(typed, { recursive: true });
    writeFileSync(join(typed, 'package.json'), '{ "type": "module" }\n');
    // Top-level await: require() cannot load this, only import() can.
    writeFileSync(join(typed, 'index.js'), 'const ready = await Promise.resolve(true);\nexport const handler = async (event) => ({ echo: event, ready });\n');

    const run = await runBundle({ assetDir: typed, standin, event: { a: 1 } });

    expect(run.result).toEqual({ echo: { a: 1 }, ready: true });
    expect(run.loadedFiles.map((file) => file.path)).toEqual(['index.js']);
  });

  test('fails on an asset folder with both index.js and index.mjs', async () => {
    const both = join(work, 'both');
    mkdirSync(both, { recursive: true });
    copyFileSync(join(cjsDir, 'index.js'), join(both, 'index.js'));
    writeFileSync(join(both, 'index.mjs'), 'export const handler = async () => 1;\n');

    await expect(runBundle({ assetDir: both, standin })).rejects.toThrow(/has both index\.js and index\.mjs; Lambda would load index\.js/);
  });

  test('fails on a missing asset folder, and on one without the handler module', async () => {
    const empty = join(work, 'empty');
    mkdirSync(empty, { recursive: true });

    await expect(runBundle({ assetDir: join(work, 'nothing-here'), standin })).rejects.toThrow(/no asset folder at .*nothing-here; build the handlers first/);
    await expect(runBundle({ assetDir: empty, standin })).rejects.toThrow(/no index\.mjs, index\.js nor index\.cjs in /);
  });

  test('reports a module without the handler export as an init error', async () => {
    const run = await runBundle({ assetDir: esmDir, standin, handler: 'index.main' });

    expect(run.error).toMatchObject({ name: 'Runtime.HandlerNotFound', message: 'index.main is undefined or not exported', phase: 'init' });
  });
});

describe('benchmarkBundle', () => {
  test('runs fresh processes and reports the median CPU', async () => {
    standin.on('ecs', 'ListClusters', { clusterArns: [] });

    const benchmark = await benchmarkBundle({ assetDir: esmDir, event: { action: 'list-clusters' }, standin }, 3);

    expect(benchmark.runs).toHaveLength(3);
    expect(standin.callsTo('ecs', 'ListClusters')).toHaveLength(3);
    expect(benchmark.medianCpuMs).toBe(median(benchmark.runs.map((run) => run.cpuMs)));
    expect(benchmark.medianWallMs).toBe(median(benchmark.runs.map((run) => run.wallMs)));
    expect(benchmark.medianInitCpuMs).toBe(median(benchmark.runs.map((run) => run.initCpuMs)));
    expect(benchmark.medianCpuMs).toBeGreaterThan(0);
  });

  test('fails when a run fails', async () => {
    await expect(benchmarkBundle({ assetDir: esmDir, event: { action: 'throw', cluster: 'x' }, standin }, 2))
      .rejects.toThrow('benchmarkBundle: run 1 of 2 failed: TypeError: no such cluster: x');
  });
});

describe('median', () => {
  test.each([
    [[3], 3],
    [[5, 1, 3], 3],
    [[4, 1, 3, 2], 2.5],
  ])('of %j is %d', (values, expected) => {
    expect(median(values)).toBe(expected);
  });
});

describe('the runtime', () => {
  test.each(TESTED_NODEJS_RUNTIMES)('%s: the bundle runs on its Node.js, and AWS_EXECUTION_ENV names it', async (runtime) => {
    const run = await runBundle({ assetDir: esmDir, event: { action: 'environment' }, standin, runtime });

    expect(run.error).toBeUndefined();
    expect(Number(run.result.node.split('.')[0])).toBe(nodejsMajor(runtime));
    expect(run.result.environment.AWS_EXECUTION_ENV).toBe(`AWS_Lambda_${runtime}`);
  });

  test('is the oldest tested runtime unless told', () => {
    expect(DEFAULT_RUNTIME).toBe('nodejs24.x');
    expect(nodeForFunctions()).toBe(nodeForRuntime('nodejs24.x'));
  });

  test('fails for a runtime the bundles are not tested on', () => {
    expect(() => nodeForRuntime('nodejs18.x')).toThrow(/nodejs18\.x is not a runtime the bundles are tested on \(nodejs24\.x, nodejs26\.x/);
  });
});
