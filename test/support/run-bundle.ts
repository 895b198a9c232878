/**
 * Runs a built handler bundle (`assets/<name>/`) in a fresh Node.js process of the Lambda runtime's major version
 * (`nodejs24.x` by default, or any runtime of TESTED_NODEJS_RUNTIMES), the way Lambda runs it, against an
 * {@link AwsStandin}: what is tested is what ships, chunks, banner and bundled SDK clients included.
 *
 * ```ts
 * const standin = await new AwsStandin().start();
 * standin.on('ecs', 'ListClusters', { clusterArns: [] });
 * const run = await runBundle({ assetDir: 'assets/ecs-agent-monitor', environment: { CLUSTERS: 'prod' }, event: {}, standin });
 * expect(run.error).toBeUndefined();
 * expect(run.loadedFiles.map((f) => f.path)).toEqual(['index.mjs', expect.stringMatching(/^chunks\//)]);
 * ```
 *
 * The process gets exactly: PATH and HOME from the test process (with AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE at
 * /dev/null, so nothing of ~/.aws reaches the SDK), the function's environment, the variables Lambda
 * sets (`AWS_REGION`, `AWS_DEFAULT_REGION`, `AWS_LAMBDA_FUNCTION_NAME`, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`,
 * `AWS_LAMBDA_FUNCTION_VERSION`, `AWS_LAMBDA_LOG_GROUP_NAME`, `AWS_LAMBDA_LOG_STREAM_NAME`, `AWS_LAMBDA_INITIALIZATION_TYPE`,
 * `AWS_EXECUTION_ENV` (`AWS_Lambda_<runtime>`), `LAMBDA_TASK_ROOT`, `_HANDLER`, `TZ=:UTC`, fake `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
 * `AWS_SESSION_TOKEN`) and `AWS_ENDPOINT_URL` pointing at the stand-in. A function environment that sets one of these
 * is refused, as Lambda refuses reserved keys.
 *
 * By default the asset folder is copied into a fresh temporary folder that stands for `/var/task`, so the bundle
 * cannot resolve anything next to it in the repository (node_modules) that Lambda would not have either.
 *
 * The handler module is found as the runtime finds it: `index.mjs` is imported, `index.js` is required (imported when
 * the asset's package.json says `"type": "module"`), `index.cjs` is required. An asset folder with both `index.js` and
 * `index.mjs` is refused: Lambda would run `index.js`, which is most likely the stale one.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { TESTED_NODEJS_RUNTIMES, nodejsMajor } from '../../src/common/runtimes';

/** Where the stand-in listens: an {@link AwsStandin}, started. */
export interface StandinEndpoint {
  readonly url: string;
}

export interface RunBundleOptions {
  /** The built asset folder: `index.mjs` (or `index.js`) and its chunks. */
  readonly assetDir: string;
  /** The function's environment variables, as the construct synthesizes them. @default {} */
  readonly environment?: Readonly<Record<string, string>>;
  /** The event the handler is invoked with. @default {} */
  readonly event?: unknown;
  /** The stand-in the bundled SDK clients call (`AWS_ENDPOINT_URL`). */
  readonly standin: StandinEndpoint;
  /**
   * The function's timeout: `context.getRemainingTimeInMillis()` counts down from it, and an invocation still
   * running after it fails with `Sandbox.Timedout`. The process itself gets 10 s more for start-up.
   * @default 30_000
   */
  readonly timeoutMs?: number;
  /** `_HANDLER`: the module (without extension) and the exported function. @default 'index.handler' */
  readonly handler?: string;
  /**
   * The Lambda runtime to run on, one of TESTED_NODEJS_RUNTIMES: the process runs on the Node.js that .ci/node.sh pins
   * for its major version ({@link nodeForRuntime}), and `AWS_EXECUTION_ENV` names it.
   * @default DEFAULT_RUNTIME ('nodejs24.x', the runtime of the functions with the aws-cdk-lib the tests use)
   */
  readonly runtime?: string;
  /** @default 'cdk-ecs-ops-test' */
  readonly functionName?: string;
  /** `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (nothing limits the process's memory). @default 128 */
  readonly memoryMb?: number;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** The account in the context's `invokedFunctionArn`. @default '123456789012' */
  readonly accountId?: string;
  /**
   * Copy the asset folder into a fresh temporary folder and run it from there, as Lambda runs it from `/var/task`.
   * With `false`, it runs where it is (and could resolve modules next to it in the repository).
   * @default true
   */
  readonly isolate?: boolean;
}

/** A file the process loaded from the asset folder. */
export interface LoadedFile {
  /** Relative to the asset folder, with `/`: `index.mjs`, `chunks/lazy-X2Y3.mjs`. */
  readonly path: string;
  readonly bytes: number;
}

/** What the handler threw (or a failure to load it, or a timeout), as it crossed the process boundary. */
export interface BundleError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  /** `init` when loading the module failed, `invoke` when the handler did. */
  readonly phase: 'init' | 'invoke';
}

export interface RunBundleResult {
  /** What the handler resolved to, through JSON as Lambda returns it. */
  readonly result?: any;
  /** What the handler threw, when it did. */
  readonly error?: BundleError;
  /** CPU time (user + system) of the whole process from its start to the end of the invocation, start-up included. */
  readonly cpuMs: number;
  /** Wall time from the process's start to the end of the invocation. */
  readonly wallMs: number;
  /** CPU time from the process's start until the handler module was loaded (Node.js start-up and the module's init). */
  readonly initCpuMs: number;
  /** Wall time from the process's start until the handler module was loaded. */
  readonly initMs: number;
  /** Wall time of the invocation alone (`wallMs` less `initMs`): what Lambda measures against the function's timeout. */
  readonly invokeMs: number;
  /** Peak resident set size of the process. */
  readonly maxRssBytes: number;
  /** The asset's files the process loaded (imported or required), in load order. */
  readonly loadedFiles: LoadedFile[];
  /** Total size of `loadedFiles`. */
  readonly loadedBytes: number;
  /**
   * Files the process loaded from outside the asset folder (absolute paths): a bundle that is not self-contained.
   * Always empty for a good bundle (Node.js builtins are not files).
   */
  readonly outsideFiles: string[];
  /** The handler's stdout, one entry a line: parsed where the line is JSON (Powertools logs, EMF), else the text. */
  readonly logs: unknown[];
  /** The process's stderr. */
  readonly stderr: string;
}

/** Variables Lambda reserves (a function may not set them), and the stand-in's own. */
const RESERVED_VARIABLES = new Set([
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR', 'AWS_ENDPOINT_URL',
]);

/** Time the process gets beyond the function's timeout, for start-up (Lambda's init phase may take 10 s). */
const INIT_ALLOWANCE_MS = 10_000;

const REPOSITORY_ROOT = resolve(__dirname, '..', '..');
const RUNNER = join(__dirname, 'run-bundle-runner.mjs');

/** The runtime a bundle runs on unless told: the oldest tested one, which the functions get with the aws-cdk-lib of the tests. */
export const DEFAULT_RUNTIME = TESTED_NODEJS_RUNTIMES[0];

/** Runs the handler of a built bundle once, in a fresh Node.js process of the runtime's major version. */
export async function runBundle(options: RunBundleOptions): Promise<RunBundleResult> {
  const assetDir = resolve(options.assetDir);
  if (!existsSync(assetDir)) {
    throw new Error(`runBundle: no asset folder at ${assetDir}; build the handlers first (npx projen bundle)`);
  }
  const environment = options.environment ?? {};
  const reserved = Object.keys(environment).filter((name) => RESERVED_VARIABLES.has(name) || name.startsWith('AWS_ENDPOINT_URL_'));
  if (reserved.length > 0) {
    throw new Error(`runBundle: the function environment sets ${reserved.join(', ')}, which Lambda (or the stand-in) sets itself`);
  }
  const notStrings = Object.entries(environment).filter(([, value]) => typeof value !== 'string').map(([name]) => name);
  if (notStrings.length > 0) {
    throw new Error(`runBundle: environment variables must be strings (resolve tokens first): ${notStrings.join(', ')}`);
  }
  const handlerSetting = options.handler ?? 'index.handler';
  const dot = handlerSetting.lastIndexOf('.');
  if (dot <= 0) throw new Error(`runBundle: handler ${JSON.stringify(handlerSetting)} is not <module>.<export>`);
  const moduleName = handlerSetting.slice(0, dot);
  const exportName = handlerSetting.slice(dot + 1);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const functionName = options.functionName ?? 'cdk-ecs-ops-test';
  const region = options.region ?? 'us-east-1';
  const memoryMb = options.memoryMb ?? 128;
  const runtime = options.runtime ?? DEFAULT_RUNTIME;
  const node = nodeForRuntime(runtime);

  const work = realpathSync(mkdtempSync(join(tmpdir(), 'run-bundle-')));
  try {
    let taskRoot = realpathSync(assetDir);
    if (options.isolate ?? true) {
      taskRoot = join(work, 'task');
      cpSync(assetDir, taskRoot, { recursive: true, dereference: true });
    }
    const { entry, entryIsModule } = handlerModule(taskRoot, moduleName);
    const now = new Date();
    const logGroupName = `/aws/lambda/${functionName}`;
    const logStreamName = `${now.toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]${randomBytes(16).toString('hex')}`;
    const reportPath = join(work, 'report.json');
    const configPath = join(work, 'config.json');
    const runnerConfig = {
      entry,
      entryIsModule,
      exportName,
      handlerSetting,
      event: options.event ?? {},
      timeoutMs,
      functionName,
      region,
      memoryMb,
      accountId: options.accountId ?? '123456789012',
      logGroupName,
      logStreamName,
      taskRoot,
      reportPath,
    };
    writeFileSync(configPath, JSON.stringify(runnerConfig));

    const env: Record<string, string> = {
      ...(process.env.PATH !== undefined ? { PATH: process.env.PATH } : {}),
      ...(process.env.HOME !== undefined ? { HOME: process.env.HOME } : {}),
      // No shared config or credentials files: nothing of this machine's ~/.aws reaches the SDK.
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      ...environment,
      AWS_ENDPOINT_URL: options.standin.url,
      AWS_ACCESS_KEY_ID: 'AKIDSTANDIN',
      AWS_SECRET_ACCESS_KEY: 'standin-secret-access-key',
      AWS_SESSION_TOKEN: 'standin-session-token',
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}`,
      AWS_LAMBDA_FUNCTION_NAME: functionName,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: logGroupName,
      AWS_LAMBDA_LOG_STREAM_NAME: logStreamName,
      LAMBDA_TASK_ROOT: taskRoot,
      _HANDLER: handlerSetting,
      TZ: ':UTC',
    };

    const child = spawn(node, [RUNNER, configPath], { cwd: taskRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const { stdout, stderr, code, signal, killed } = await finish(child, timeoutMs + INIT_ALLOWANCE_MS);
    if (!existsSync(reportPath)) {
      const why = killed ? `was killed after ${timeoutMs + INIT_ALLOWANCE_MS} ms` : `exited (${signal ?? `code ${code}`})`;
      throw new Error(`runBundle: the process running ${entry} ${why} before reporting.\nstderr:\n${stderr}\nstdout:\n${stdout}`);
    }
    const report = JSON.parse(readFileSync(reportPath, 'utf8'));
    const loadedFiles: LoadedFile[] = report.loadedFiles;
    return {
      ...(report.result !== undefined ? { result: report.result } : {}),
      ...(report.error !== undefined ? { error: report.error } : {}),
      cpuMs: report.cpuMs,
      wallMs: report.wallMs,
      initCpuMs: report.initCpuMs,
      initMs: report.initMs,
      invokeMs: report.wallMs - report.initMs,
      maxRssBytes: report.maxRssBytes,
      loadedFiles,
      loadedBytes: loadedFiles.reduce((sum, file) => sum + file.bytes, 0),
      outsideFiles: report.outsideFiles,
      logs: parseLogs(stdout),
      stderr,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface BundleBenchmark {
  /** Median of the runs' `cpuMs`. */
  readonly medianCpuMs: number;
  /** Median of the runs' `wallMs`. */
  readonly medianWallMs: number;
  /** Median of the runs' `initCpuMs`. */
  readonly medianInitCpuMs: number;
  /** Every run, in order. */
  readonly runs: RunBundleResult[];
}

/**
 * Runs the handler `runs` times, one fresh process after the other (a cold start each), and reports the medians.
 * Fails when a run fails: the cost of a failing handler is not the one to size a function by.
 */
export async function benchmarkBundle(options: RunBundleOptions, runs = 5): Promise<BundleBenchmark> {
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`benchmarkBundle: runs must be a positive integer, got ${runs}`);
  const results: RunBundleResult[] = [];
  for (let i = 1; i <= runs; i++) {
    const run = await runBundle(options);
    if (run.error) {
      throw new Error(`benchmarkBundle: run ${i} of ${runs} failed: ${run.error.name}: ${run.error.message}\n${run.stderr}`);
    }
    results.push(run);
  }
  return {
    medianCpuMs: median(results.map((r) => r.cpuMs)),
    medianWallMs: median(results.map((r) => r.wallMs)),
    medianInitCpuMs: median(results.map((r) => r.initCpuMs)),
    runs: results,
  };
}

/** The middle value (the mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * The Node.js binary of a Lambda runtime of TESTED_NODEJS_RUNTIMES: this process's when it is of the runtime's major
 * version, else the one .ci/node.sh pins for it (`NODE_<major>_VERSION`) and installs into .tools/ (in this checkout,
 * or in the checkout whose node_modules this one links to). Fails, saying how to install it, when it is missing:
 * a bundle that is not run on each tested runtime is not tested on it.
 */
export function nodeForRuntime(runtime: string): string {
  if (!TESTED_NODEJS_RUNTIMES.includes(runtime)) {
    throw new Error(`nodeForRuntime: ${runtime} is not a runtime the bundles are tested on (${TESTED_NODEJS_RUNTIMES.join(', ')}; src/common/runtimes.ts)`);
  }
  const major = nodejsMajor(runtime);
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  const script = readFileSync(join(REPOSITORY_ROOT, '.ci', 'node.sh'), 'utf8');
  const version = new RegExp(`^NODE_${major}_VERSION=(${major}\\.\\d+\\.\\d+)\\b`, 'm').exec(script)?.[1];
  if (!version) throw new Error(`nodeForRuntime: .ci/node.sh pins no Node.js ${major} for ${runtime} (a line NODE_${major}_VERSION=${major}.x.y)`);
  const roots = new Set([REPOSITORY_ROOT]);
  const modules = join(REPOSITORY_ROOT, 'node_modules');
  if (existsSync(modules)) roots.add(dirname(realpathSync(modules)));
  const candidates = [...roots].map((root) => join(root, '.tools', `node-${version}`, 'node_modules', '.bin', 'node'));
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) {
    throw new Error(`Bundles run on the Node.js of each Lambda runtime they are tested on: ${runtime} needs Node.js ${version}, this process ` +
      `runs ${process.version}, and there is no ${candidates.join(' nor ')}${process.env.CI ? ' (CI must install it)' : ''}. ` +
      `Install it with \`. .ci/node.sh\` (it installs Node.js ${version} into .tools/), then run the tests again.`);
  }
  return found;
}

/** The Node.js binary of the default runtime ({@link DEFAULT_RUNTIME}). */
export function nodeForFunctions(): string {
  return nodeForRuntime(DEFAULT_RUNTIME);
}

/** The handler module's file as the Lambda runtime looks for it, and whether it is loaded with import(). */
function handlerModule(taskRoot: string, moduleName: string): { entry: string; entryIsModule: boolean } {
  const base = join(taskRoot, moduleName);
  const [js, mjs, cjs] = ['.js', '.mjs', '.cjs'].map((extension) => `${base}${extension}`);
  if (existsSync(js) && existsSync(mjs)) {
    throw new Error(`runBundle: ${taskRoot} has both ${moduleName}.js and ${moduleName}.mjs; Lambda would load ${moduleName}.js. ` +
      'Remove the stale one (scripts/bundle-handlers.ts empties assets/ before it builds).');
  }
  if (existsSync(mjs)) return { entry: mjs, entryIsModule: true };
  if (existsSync(js)) return { entry: js, entryIsModule: packageType(dirname(js)) === 'module' };
  if (existsSync(cjs)) return { entry: cjs, entryIsModule: false };
  throw new Error(`runBundle: no ${moduleName}.mjs, ${moduleName}.js nor ${moduleName}.cjs in ${taskRoot}`);
}

/** The `type` of the package.json nearest to `dir`, up to the filesystem root. */
function packageType(dir: string): string | undefined {
  for (let current = dir; ; current = dirname(current)) {
    const file = join(current, 'package.json');
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')).type;
    if (dirname(current) === current) return undefined;
  }
}

interface Finished {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
  readonly signal: string | null;
  /** Killed for running past the limit. */
  readonly killed: boolean;
}

/** Collects the output of `child` until it closes, killing it after `limitMs`. */
function finish(child: ChildProcess, limitMs: number): Promise<Finished> {
  return new Promise((resolveFinish, reject) => {
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout?.setEncoding('utf8').on('data', (data: string) => { stdout += data; });
    child.stderr?.setEncoding('utf8').on('data', (data: string) => { stderr += data; });
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolveFinish({ stdout, stderr, code, signal, killed });
    });
  });
}

function parseLogs(stdout: string): unknown[] {
  return stdout.split('\n').filter((line) => line.trim() !== '').map((line) => {
    try {
      return JSON.parse(line);
    } catch {
      return line;
    }
  });
}
