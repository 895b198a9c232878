/**
 * Cold start plus one typical run, per shipped handler, side by side with a naive bundle of the same handler's
 * clients: every AWS SDK client it can use (and ioredis), with Logger and Metrics, created at module scope in one
 * CommonJS file, making the same calls. Each runs in fresh Node.js 24 processes against the local AWS stand-in
 * (test/support), alternately, and the medians are compared.
 *
 * Goals (issue "Foundation to release grade"): the code a cold start plus a typical run loads is at most 400 KiB,
 * and its CPU time at most 0.6 times the naive bundle's.
 *
 * Usage: npx projen bench (after the bundle step) [-- --runs 10]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { build } from 'esbuild';
import { TYPICAL_RUNS, TypicalRun } from '../test/bundles/typical-runs';
import { AwsStandin } from '../test/support/aws-standin';
import { RunBundleResult, median, runBundle } from '../test/support/run-bundle';

const ROOT = path.join(__dirname, '..');
const RUNS = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 10;
const GOAL = { loadedKiB: 400, cpuRatio: 0.6 };

/** The client class of each SDK package, and the stand-in service name its calls are recorded under. */
const CLIENTS: Record<string, { client: string; service?: string }> = {
  '@aws-sdk/client-ecs': { client: 'ECSClient', service: 'ecs' },
  '@aws-sdk/client-auto-scaling': { client: 'AutoScalingClient', service: 'autoscaling' },
  '@aws-sdk/client-ec2': { client: 'EC2Client', service: 'ec2' },
  '@aws-sdk/client-dynamodb': { client: 'DynamoDBClient', service: 'dynamodb' },
  '@aws-sdk/client-elasticache': { client: 'ElastiCacheClient', service: 'elasticache' },
  '@aws-sdk/client-secrets-manager': { client: 'SecretsManagerClient', service: 'secretsmanager' },
  '@aws-sdk/client-ssm': { client: 'SSMClient', service: 'ssm' },
  '@aws-sdk/client-sns': { client: 'SNSClient', service: 'sns' },
  '@aws-sdk/client-cloudwatch-logs': { client: 'CloudWatchLogsClient', service: 'logs' },
  '@aws-sdk/client-cloudformation': { client: 'CloudFormationClient', service: 'cloudformation' },
  'ioredis': { client: 'default' },
};

/**
 * The naive handler: every client created at module scope, then the calls the real bundle made (their recorded
 * JSON inputs replayed; the typical runs make only awsJson calls, whose recorded input is the SDK's input).
 */
function naiveSource(run: TypicalRun, calls: Array<{ service: string; operation: string; input: unknown }>): string {
  const lines = [
    "import { Logger } from '@aws-lambda-powertools/logger';",
    "import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';",
  ];
  run.clientPackages.forEach((pkg, i) => {
    const { client } = CLIENTS[pkg];
    lines.push(client === 'default' ? `import C${i} from '${pkg}';` : `import * as M${i} from '${pkg}';`);
  });
  lines.push('const logger = new Logger();', "const metrics = new Metrics({ namespace: 'CdkEcsOps' });");
  run.clientPackages.forEach((pkg, i) => {
    const { client } = CLIENTS[pkg];
    lines.push(client === 'default'
      ? `const c${i} = new C${i}({ lazyConnect: true });`
      : `const c${i} = new M${i}.${client}({ retryMode: 'adaptive', maxAttempts: 6 });`);
  });
  lines.push(`export async function ${(run.handler ?? 'index.handler').split('.').pop()}() {`);
  for (const call of calls) {
    const i = run.clientPackages.findIndex((pkg) => CLIENTS[pkg].service === call.service);
    if (i < 0) throw new Error(`${run.bundle}: no client package for ${call.service} in clientPackages`);
    lines.push(`  await c${i}.send(new M${i}.${call.operation}Command(${JSON.stringify(call.input)}));`);
  }
  lines.push("  logger.info('done');", "  metrics.addMetric('Runs', MetricUnit.Count, 1);", '  metrics.publishStoredMetrics();', '  return true;', '}');
  return lines.join('\n');
}

async function buildNaive(run: TypicalRun, calls: Array<{ service: string; operation: string; input: unknown }>, dir: string): Promise<string> {
  const name = `${run.bundle}${run.handler ? `-${run.handler.split('.').pop()}` : ''}`;
  const entry = path.join(ROOT, '.tmp', `naive-${name}.ts`);
  fs.mkdirSync(path.dirname(entry), { recursive: true });
  fs.writeFileSync(entry, naiveSource(run, calls));
  const outdir = path.join(dir, `naive-${name}`);
  await build({
    entryPoints: [entry],
    outfile: path.join(outdir, 'index.js'),
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    mainFields: ['module', 'main'],
    legalComments: 'none',
    logLevel: 'error',
    absWorkingDir: ROOT,
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  return outdir;
}

const kib = (bytes: number) => bytes / 1024;

async function measure(run: TypicalRun, dir: string): Promise<void> {
  const assetDir = path.join(ROOT, 'assets', run.bundle);
  const environment = run.environment();
  const standin = await new AwsStandin().start();
  try {
    run.answer(standin);
    const once = await runBundle({ assetDir, environment, event: run.event, standin, handler: run.handler });
    if (once.error) throw new Error(`${run.bundle}: the typical run failed: ${once.error.name}: ${once.error.message}`);
    const calls = standin.calls.map((c) => ({ service: c.service, operation: c.operation, input: c.input }));
    const naiveDir = await buildNaive(run, calls, dir);

    const ours: RunBundleResult[] = [];
    const naive: RunBundleResult[] = [];
    for (let i = 0; i < RUNS; i++) {
      ours.push(await runBundle({ assetDir, environment, event: run.event, standin, handler: run.handler }));
      naive.push(await runBundle({ assetDir: naiveDir, environment, event: run.event, standin, handler: run.handler }));
    }
    for (const r of [...ours, ...naive]) if (r.error) throw new Error(`${run.bundle}: a run failed: ${r.error.message}`);

    const loaded = kib(ours[0].loadedBytes);
    const naiveLoaded = kib(naive[0].loadedBytes);
    const cpu = median(ours.map((r) => r.cpuMs));
    const naiveCpu = median(naive.map((r) => r.cpuMs));
    const ratio = cpu / naiveCpu;
    console.log(`\n${run.bundle}${run.handler ? ` (${run.handler})` : ''}: ${run.description}`);
    console.log(`  code loaded   ${loaded.toFixed(0).padStart(5)} KiB in ${ours[0].loadedFiles.length} file(s)   naive ${naiveLoaded.toFixed(0).padStart(5)} KiB   `
      + `ratio ${(loaded / naiveLoaded).toFixed(2)}   goal <= ${GOAL.loadedKiB} KiB: ${loaded <= GOAL.loadedKiB ? 'met' : 'MISSED'}`);
    console.log(`  CPU (median of ${RUNS}) ${cpu.toFixed(0).padStart(5)} ms   naive ${naiveCpu.toFixed(0).padStart(5)} ms   `
      + `ratio ${ratio.toFixed(2)}   goal <= ${GOAL.cpuRatio}: ${ratio <= GOAL.cpuRatio ? 'met' : 'MISSED'}`);
    console.log(`  of which start-up (import) ${median(ours.map((r) => r.initCpuMs)).toFixed(0)} ms, naive ${median(naive.map((r) => r.initCpuMs)).toFixed(0)} ms; `
      + `wall ${median(ours.map((r) => r.wallMs)).toFixed(0)} ms, naive ${median(naive.map((r) => r.wallMs)).toFixed(0)} ms`);
  } finally {
    await standin.stop();
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cold-start-'));
  try {
    console.log(`Cold start plus one typical run, fresh Node.js 24 process each, ${RUNS} runs each, alternating.`);
    for (const run of TYPICAL_RUNS) await measure(run, dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
