/**
 * The consumer promise, tested as a user meets it: the packed library installs into a bare CDK app that has
 * only aws-cdk-lib, constructs and cdk-nag, and every documented configuration synthesizes there offline with
 * no esbuild, no Docker and nothing from this repository, leaves to cdk-nag exactly the findings the README
 * lists, and passes AWS's default template rules (as errors) where the aws-cdk-lib has them.
 *
 * The matrix, one app (one npm install) per aws-cdk-lib version, each run once per cdk-nag major:
 * - the peer floor, 2.224.0, with cdk-nag 2.37 (the newest that installs next to constructs 10.0.5), on the lowest
 *   Node.js of `engines` and on Node.js 24;
 * - 2.257.0, the first with `Validations` (cdk-nag 3's acknowledgements), which gives plugins no construct tree;
 * - 2.268.0, the last that refuses acknowledgement ids with several `::` (2.257.0 to 2.268.0), with the default
 *   template rules (2.262.0 and later);
 * - 2.269.0, the first that takes them;
 * - the latest release (`LATEST`), the first to know each newer Node.js runtime,
 * each with cdk-nag 2 and cdk-nag 3 (installed under an alias in the same app; each run loads one).
 *
 * "Latest" is pinned so a run is reproducible; environment variables override it (a version, or `newest` for the
 * registry's newest release): CONSUMER_CDK_LIB_LATEST, CONSUMER_CONSTRUCTS_LATEST, CONSUMER_NAG2_LATEST,
 * CONSUMER_NAG3_LATEST.
 *
 * Slow (five npm installs, two at a time, and ten synths of every configuration, those of one app at once), so it is
 * its own task: `npx projen test:consumer`,
 * which .ci/run runs after the build.
 */
import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { buildSync } from 'esbuild';
import { TESTED_NODEJS_RUNTIMES, nodejsMajor } from '../../src/common/runtimes';
import { DOCUMENTED_CONFIGURATIONS } from '../support/documented-configurations';

const ROOT = path.join(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

/**
 * The newest releases on the day the matrix was last raised: raise them on purpose (README, "Develop"), or
 * override them for one run with the environment variables above.
 */
const PINNED_LATEST = { cdkLib: '2.278.0', constructs: '10.8.1', nag2: '2.38.2', nag3: '3.0.2' };
const LATEST = {
  // `newest` stays within the majors the package supports (its peer ranges) and the two cdk-nag majors.
  cdkLib: latest('aws-cdk-lib@2', 'CONSUMER_CDK_LIB_LATEST', PINNED_LATEST.cdkLib),
  constructs: latest('constructs@10', 'CONSUMER_CONSTRUCTS_LATEST', PINNED_LATEST.constructs),
  nag2: latest('cdk-nag@2', 'CONSUMER_NAG2_LATEST', PINNED_LATEST.nag2),
  nag3: latest('cdk-nag@3', 'CONSUMER_NAG3_LATEST', PINNED_LATEST.nag3),
};
const FLOOR = { cdkLib: minimum(pkg.peerDependencies['aws-cdk-lib']), constructs: minimum(pkg.peerDependencies.constructs), nag2: '2.37.55' };

/** cdk-nag 3's peer dependencies: aws-cdk-lib 2.257.0 (`Validations`) and constructs 10.5.1. */
const NAG3_CDK_LIB_FLOOR = '2.257.0';
/** The first aws-cdk-lib that gives validation plugins the construct tree (`appConstruct`), which cdk-nag 3's packs need. */
const PLUGINS_GET_CONSTRUCT_TREE = '2.258.0';
/** The first aws-cdk-lib with `@aws-cdk/core:validateAgainstDefaultRules` and the default template rules. */
const DEFAULT_RULES_SINCE = '2.262.0';

interface MatrixApp {
  readonly cdkLib: string;
  readonly constructs: string;
  readonly nag2: string;
  /** cdk-nag 3, where this aws-cdk-lib is one it supports. */
  readonly nag3?: string;
  /** What this version is in the matrix for. */
  readonly why: string;
}

const MATRIX: readonly MatrixApp[] = [
  { cdkLib: FLOOR.cdkLib, constructs: FLOOR.constructs, nag2: FLOOR.nag2, why: 'the peer floor' },
  { cdkLib: '2.257.0', constructs: LATEST.constructs, nag2: LATEST.nag2, nag3: LATEST.nag3, why: 'the first with Validations; refuses ids with several ::' },
  { cdkLib: '2.268.0', constructs: LATEST.constructs, nag2: LATEST.nag2, nag3: LATEST.nag3, why: 'the last that refuses ids with several ::' },
  { cdkLib: '2.269.0', constructs: LATEST.constructs, nag2: LATEST.nag2, nag3: LATEST.nag3, why: 'the first that takes them' },
  { cdkLib: LATEST.cdkLib, constructs: LATEST.constructs, nag2: LATEST.nag2, nag3: LATEST.nag3, why: 'the latest release' },
  // A "latest" set to one of the versions above is tested once.
].filter((app, i, all) => all.findIndex((other) => other.cdkLib === app.cdkLib) === i);

/**
 * Rules of the floor's cdk-nag (2.37, the last that installs next to constructs 10.0.5) that throw on a resource
 * instead of judging it, fixed in later releases: what they report says nothing about the constructs.
 */
const FLOOR_NAG_RULE_FAILURES = [
  {
    // Reads stageDescription.accessLogSetting of every AWS::ApiGateway::Deployment, which CDK never gives a
    // stageDescription (the stage is its own resource); cdk-nag 2.38 reads it with ?. and finds nothing.
    id: 'CdkNagValidationFailure[Serverless-APIGWStructuredLogging]',
    path: /\/Api\/Deployment\/Resource$/,
  },
];

interface Finding { readonly id: string; readonly path: string; readonly by?: string }

interface AppRun {
  readonly node: string;
  readonly cdkLib: string;
  readonly cdkLibVersion: string;
  readonly library: string;
  readonly nag: string;
  readonly defaultRulesFlag: string | null;
  /** What the default rules report on a template they reject (see app.js). */
  readonly defaultRulesControl: Array<{ id: string; severity: string; path: string; description: string }>;
  readonly nodejsRuntimes: string[];
  readonly configurations: Array<{
    readonly name: string;
    /** The stack outputs that are attributes, by output id: `<resource type>.<attribute>`. */
    readonly attributes: Record<string, string>;
    readonly findings: Finding[];
    readonly nagPluginFailures: Array<{ plugin: string; error: string }>;
    readonly defaultRuleViolations: Array<{ id: string; severity: string; path: string; description: string }>;
    readonly otherPluginFailures: Array<{ plugin: string; error: string }>;
    readonly functions: Array<{ runtime: string; architectures: string[]; handler: string; assetDir: string }>;
  }>;
}

/** The version to test as "latest": the environment's (`newest` asks the registry), else the pinned one. */
function latest(spec: string, variable: string, pinned: string): string {
  const wanted = process.env[variable]?.trim();
  if (!wanted) return pinned;
  if (wanted !== 'newest') {
    if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(wanted)) throw new Error(`${variable}=${wanted}: expected a version such as ${pinned}, or "newest"`);
    return wanted;
  }
  // One version for a name, every matching one (in no particular order) for a range such as cdk-nag@2.
  const found: string | string[] = JSON.parse(execFileSync('npm', ['view', spec, 'version', '--json'], { encoding: 'utf8' }));
  return (Array.isArray(found) ? found : [found]).filter((v) => !v.includes('-')).sort(compareVersions).pop()!;
}

function minimum(range: string): string {
  const match = /^\^?(\d+\.\d+\.\d+)$/.exec(range);
  if (!match) throw new Error(`peer dependency range ${range} is not ^x.y.z`);
  return match[1];
}

/** Compares two x.y.z versions. */
function compareVersions(a: string, b: string): number {
  const [pa, pb] = [a, b].map((v) => v.split(/[.-]/).slice(0, 3).map(Number));
  return pa[0] - pb[0] || pa[1] - pb[1] || pa[2] - pb[2];
}

/** The environment of a user's shell: nothing of this repository's npm run or node_modules; the default rules on. */
function userEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_')
    && !['NODE_PATH', 'INIT_CWD', 'CDK_VALIDATION'].includes(k)));
  env.PATH = (process.env.PATH ?? '').split(path.delimiter).filter((p) => !p.startsWith(path.join(ROOT, 'node_modules'))).join(path.delimiter);
  return env;
}

/** The node binary of a Node.js version installed by .ci/node.sh (`.tools/node-<version>`), or undefined. */
function nodeBinary(version: string | undefined): string | undefined {
  if (!version) return undefined;
  const bin = path.join(ROOT, '.tools', `node-${version}`, 'node_modules', '.bin', 'node');
  return fs.existsSync(bin) ? bin : undefined;
}

let work: string;
let tarball: string;
/** Each matrix app's folder, installed in the background two at a time, in the order of the matrix. */
const installs = new Map<MatrixApp, Promise<string>>();

beforeAll(() => {
  for (const built of ['lib/index.js', '.jsii', 'assets/ecs-agent-monitor/index.mjs']) {
    if (!fs.existsSync(path.join(ROOT, built))) throw new Error(`${built} is missing: run "npx projen build" (or compile and bundle) first`);
  }
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-ecs-ops-consumer-'));
  tarball = path.join(work, execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop()!);
  // The next apps install while the first ones synthesize.
  const slots = [Promise.resolve(''), Promise.resolve('')];
  for (const [i, matrixApp] of MATRIX.entries()) {
    const installed = slots[i % slots.length].catch(() => '').then(() => installApp(`cdk-${matrixApp.cdkLib}`, matrixApp));
    installed.catch(() => undefined);
    slots[i % slots.length] = installed;
    installs.set(matrixApp, installed);
  }
}, 120_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** The dependency name cdk-nag 3 is installed under next to cdk-nag 2 (an npm alias). */
const NAG3_ALIAS = 'cdk-nag-3';

/**
 * A bare app: package.json, the user's app.js and the documented configurations, and one npm install of the packed
 * library with aws-cdk-lib, constructs, cdk-nag 2 and, where given, cdk-nag 3 under an alias.
 */
async function installApp(name: string, matrixApp: MatrixApp): Promise<string> {
  const app = path.join(work, name);
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: `consumer-${name}`, private: true, version: '1.0.0' }));
  fs.copyFileSync(path.join(__dirname, 'app.js'), path.join(app, 'app.js'));
  // The documented configurations, bundled: they import only types from aws-cdk-lib and the library.
  buildSync({
    entryPoints: [path.join(ROOT, 'test', 'support', 'documented-configurations.ts')],
    outfile: path.join(app, 'configurations.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    logLevel: 'error',
    external: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', 'cdk-ecs-ops'],
  });
  const deps = [`aws-cdk-lib@${matrixApp.cdkLib}`, `constructs@${matrixApp.constructs}`, `cdk-nag@${matrixApp.nag2}`,
    ...(matrixApp.nag3 ? [`${NAG3_ALIAS}@npm:cdk-nag@${matrixApp.nag3}`] : [])];
  // --prefer-offline: the npm cache serves what it has, the registry the rest (a cache filled by `npm ci`
  // alone lacks the registry metadata that --offline needs).
  await promisify(execFile)('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball, ...deps],
    { cwd: app, env: userEnv(), maxBuffer: 64 * 1024 * 1024 });
  return app;
}

/** Runs the app with a node binary and a cdk-nag; CDK_DOCKER points at a command that fails, so any Docker bundling breaks it. */
async function runApp(app: string, node: string, label: string, nagModule = 'cdk-nag'): Promise<AppRun> {
  const out = path.join(app, `cdk.out-${label}`);
  const { stdout } = await promisify(execFile)(node, ['app.js', out, nagModule], {
    cwd: app, env: { ...userEnv(), CDK_DOCKER: '/bin/false' }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

/** The runtime the library's functions must have with an aws-cdk-lib that knows these runtimes: the newest tested one. */
function expectedRuntime(known: readonly string[]): string {
  const tested = TESTED_NODEJS_RUNTIMES.filter((r) => known.includes(r));
  return tested.sort((a, b) => nodejsMajor(b) - nodejsMajor(a))[0];
}

function expectUserApp(app: string, run: AppRun, matrixApp: MatrixApp, ruleFailures: typeof FLOOR_NAG_RULE_FAILURES = []): void {
  // Nothing came from this repository, no bundler was installed, and only what the user asked for is a dependency.
  expect(run.cdkLib.startsWith(app)).toBe(true);
  expect(run.library.startsWith(app)).toBe(true);
  expect(run.cdkLibVersion).toBe(matrixApp.cdkLib);
  expect(fs.existsSync(path.join(app, 'node_modules', 'esbuild'))).toBe(false);
  expect(Object.keys(JSON.parse(fs.readFileSync(path.join(app, 'package.json'), 'utf8')).dependencies).sort())
    .toEqual(['aws-cdk-lib', 'cdk-ecs-ops', 'cdk-nag', ...(matrixApp.nag3 ? [NAG3_ALIAS] : []), 'constructs'].sort());

  // Every configuration is there, each leaving exactly its documented findings, and nothing for AWS's default
  // template rules (errors and warnings alike), where this aws-cdk-lib has them.
  const hasDefaultRules = compareVersions(matrixApp.cdkLib, DEFAULT_RULES_SINCE) >= 0;
  expect(run.defaultRulesFlag).toBe(hasDefaultRules ? '@aws-cdk/core:validateAgainstDefaultRules' : null);
  // They run, and what they find is an error (the flag), as the control shows.
  expect(run.defaultRulesControl).toEqual(hasDefaultRules
    ? [expect.objectContaining({ severity: 'error', path: 'ControlStack/Queue', description: expect.stringMatching(/MessageRetentionPeriod: 10 is less than the minimum of 60/) })]
    : []);
  expect(run.configurations.map((c) => c.name)).toEqual(DOCUMENTED_CONFIGURATIONS.map((c) => c.name));
  for (const [i, configuration] of run.configurations.entries()) {
    const findings = configuration.findings.filter((f) => !ruleFailures.some((r) => r.id === f.id && r.path.test(f.path)));
    expect({ name: configuration.name, findings: findings.map((f) => f.id).sort(), defaultRules: configuration.defaultRuleViolations })
      .toEqual({ name: configuration.name, findings: [...DOCUMENTED_CONFIGURATIONS[i].expectedFindings].sort(), defaultRules: [] });
    expect(configuration.otherPluginFailures).toEqual([]);
    // A construct's attributes resolve in the user's app: each output the configuration makes of one is its Fn::GetAtt.
    const expectedAttributes = DOCUMENTED_CONFIGURATIONS[i].expectedAttributes ?? {};
    expect(Object.fromEntries(Object.entries(configuration.attributes).filter(([id]) => id in expectedAttributes))).toEqual(expectedAttributes);
  }

  // Each function runs the shipped bundle on the newest Node.js runtime this aws-cdk-lib knows among those the
  // bundles are tested on (ARM): the ES module, its chunks and the licences. The others are the functions of
  // aws-cdk-lib's custom resource Provider framework (EcsTaskRunner is built on it): its code, its runtime.
  const runtime = expectedRuntime(run.nodejsRuntimes);
  expect(runtime).toBe(compareVersions(matrixApp.cdkLib, '2.277.0') >= 0 ? 'nodejs26.x' : 'nodejs24.x');
  const all = run.configurations.flatMap((c) => c.functions);
  const functions = all.filter((fn) => !/^framework\.(onEvent|isComplete|onTimeout)$/.test(fn.handler));
  expect(functions.length).toBeGreaterThan(0);
  for (const fn of functions) {
    expect(fn).toMatchObject({ runtime, architectures: ['arm64'], handler: expect.stringMatching(/^index\.(handler|onEvent|isComplete)$/) });
    expect(fs.readdirSync(fn.assetDir).sort()).toEqual(['THIRD_PARTY_LICENSES', 'chunks', 'index.mjs']);
    expect(fs.statSync(path.join(fn.assetDir, 'index.mjs')).size).toBeGreaterThan(10_000);
  }
}

describe.each(MATRIX)('aws-cdk-lib $cdkLib ($why)', (matrixApp) => {
  const isFloor = matrixApp.cdkLib === FLOOR.cdkLib;
  const isLatest = matrixApp.cdkLib === LATEST.cdkLib;
  let app: string;
  /** The runs of this app, started together (they share nothing but the installed folder); each test awaits its own. */
  let runs: { nag2: Promise<AppRun>; nag3?: Promise<AppRun>; floorNode?: Promise<AppRun> };

  beforeAll(async () => {
    app = await installs.get(matrixApp)!;
    const floorNode = isFloor ? nodeBinary(process.env.NODE_FLOOR_VERSION) : undefined;
    runs = {
      nag2: runApp(app, process.execPath, 'nag2'),
      nag3: matrixApp.nag3 ? runApp(app, process.execPath, 'nag3', NAG3_ALIAS) : undefined,
      floorNode: floorNode ? runApp(app, floorNode, 'floor-node') : undefined,
    };
    // A run that fails fails the test that awaits it (not the others), after the runs started with it are done.
    for (const run of Object.values(runs)) run?.catch(() => undefined);
  }, 300_000);

  test(`with cdk-nag ${matrixApp.nag2}${isFloor ? ', on Node.js 24 and on the lowest Node.js of engines' : ''}`, async () => {
    const nag2 = await runs.nag2;
    const floorNode = await runs.floorNode;
    const ruleFailures = isFloor ? FLOOR_NAG_RULE_FAILURES : [];

    expectUserApp(app, nag2, matrixApp, ruleFailures);
    expect(nag2.nag).toBe(matrixApp.nag2);
    for (const configuration of nag2.configurations) expect(configuration.nagPluginFailures).toEqual([]);
    expect(Number(nag2.node.slice(1).split('.')[0])).toBeGreaterThanOrEqual(24);
    if (isFloor) {
      if (process.env.CI) expect(floorNode).toBeDefined(); // .ci/run installs it
      if (floorNode) {
        expectUserApp(app, floorNode, matrixApp, ruleFailures);
        // engines names the lowest major the app was synthesized with.
        expect(pkg.engines.node).toBe(`>= ${floorNode.node.slice(1).split('.')[0]}.0.0`);
      }
    }
  }, 600_000);

  if (matrixApp.nag3) {
    const pluginsGetTree = compareVersions(matrixApp.cdkLib, PLUGINS_GET_CONSTRUCT_TREE) >= 0;
    test(`with cdk-nag ${matrixApp.nag3}${pluginsGetTree ? ' as policy validation plugins' : ': its plugins fail, validateScope(app) finds what the README lists'}`, async () => {
      const nag3 = await runs.nag3;

      expectUserApp(app, nag3!, matrixApp);
      expect(nag3!.nag).toBe(matrixApp.nag3);
      for (const configuration of nag3!.configurations) {
        if (pluginsGetTree) {
          expect(configuration.nagPluginFailures).toEqual([]);
          expect(configuration.findings.filter((f) => f.by)).toEqual([]);
        } else {
          // The README's cdk-nag section says so: cdk-nag 3's packs need the construct tree, which this release
          // does not give plugins; cdk-nag's own `validateScope(app)` reads the same acknowledgements.
          expect(configuration.nagPluginFailures).toEqual(['AwsSolutions', 'Serverless'].map((plugin) => ({
            plugin, error: expect.stringMatching(/NagPack requires a construct tree on the validation context/),
          })));
          expect(configuration.findings.filter((f) => f.by !== 'validateScope')).toEqual([]);
        }
      }
    }, 600_000);
  }

  if (compareVersions(matrixApp.cdkLib, NAG3_CDK_LIB_FLOOR) >= 0 && !matrixApp.nag3) {
    throw new Error(`aws-cdk-lib ${matrixApp.cdkLib} supports cdk-nag 3: give it one in the matrix`);
  }

  if (isLatest) {
    test('knows no Node.js runtime newer than those the bundles are tested on', async () => {
      const nag2 = await runs.nag2;
      const newest = [...nag2.nodejsRuntimes].sort((a, b) => nodejsMajor(b) - nodejsMajor(a))[0];

      if (!TESTED_NODEJS_RUNTIMES.includes(newest)) {
        throw new Error(`aws-cdk-lib ${matrixApp.cdkLib} knows ${newest}, and the handler bundles are tested on ${TESTED_NODEJS_RUNTIMES.join(' and ')} only, `
          + 'so the functions stay on an older runtime and cdk-nag\'s AwsSolutions-L1 / Serverless-LambdaLatestVersion flag each of them. '
          + `Pin Node.js ${nodejsMajor(newest)} in .ci/node.sh (NODE_${nodejsMajor(newest)}_VERSION, installed for the smoke runs), add '${newest}' `
          + 'to TESTED_NODEJS_RUNTIMES in src/common/runtimes.ts, and run the bundle smoke tests and this test again.');
      }
      expect(TESTED_NODEJS_RUNTIMES).toContain(newest);
    }, 600_000);
  }
});
