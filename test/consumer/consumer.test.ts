/**
 * The consumer promise, tested as a user meets it: the packed library installs into a bare CDK app that has
 * only aws-cdk-lib, constructs and cdk-nag, and every documented configuration synthesizes there offline with
 * no esbuild, no Docker and nothing from this repository, and leaves to cdk-nag exactly the findings the
 * README lists.
 *
 * Three apps: the peer floor (aws-cdk-lib 2.224.0 with cdk-nag 2, on the lowest Node.js of `engines` and on
 * Node.js 24), and the latest aws-cdk-lib with cdk-nag 2 and with cdk-nag 3.
 *
 * Slow (three npm installs), so it is its own task: `npx projen test:consumer`, which .ci/run runs after the build.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSync } from 'esbuild';
import { DOCUMENTED_CONFIGURATIONS } from '../support/documented-configurations';

const ROOT = path.join(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

/**
 * The newest aws-cdk-lib and cdk-nag releases, pinned so a run is reproducible; raise them on purpose.
 * cdk-nag 3 needs aws-cdk-lib 2.257.0 and constructs 10.5.1 or later.
 */
const LATEST = { cdkLib: '2.276.0', constructs: '10.8.1', nag2: '2.38.2', nag3: '3.0.2' };
const FLOOR = { cdkLib: minimum(pkg.peerDependencies['aws-cdk-lib']), constructs: minimum(pkg.peerDependencies.constructs), nag2: '2.37.55' };

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

interface AppRun {
  readonly node: string;
  readonly cdkLib: string;
  readonly cdkLibVersion: string;
  readonly library: string;
  readonly nag: string;
  readonly configurations: Array<{
    readonly name: string;
    readonly findings: Array<{ id: string; path: string }>;
    readonly functions: Array<{ runtime: string; architectures: string[]; handler: string; assetDir: string }>;
  }>;
}

function minimum(range: string): string {
  const match = /^\^?(\d+\.\d+\.\d+)$/.exec(range);
  if (!match) throw new Error(`peer dependency range ${range} is not ^x.y.z`);
  return match[1];
}

/** The environment of a user's shell: nothing of this repository's npm run or node_modules. */
function userEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') && k !== 'NODE_PATH' && k !== 'INIT_CWD'));
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

beforeAll(() => {
  for (const built of ['lib/index.js', '.jsii', 'assets/ecs-agent-monitor/index.mjs']) {
    if (!fs.existsSync(path.join(ROOT, built))) throw new Error(`${built} is missing: run "npx projen build" (or compile and bundle) first`);
  }
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-ecs-ops-consumer-'));
  tarball = path.join(work, execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop()!);
}, 120_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** A bare app: package.json, the user's app.js and the documented configurations, and an npm install. */
function installApp(name: string, deps: Record<string, string>): string {
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
  // --prefer-offline: the npm cache serves what it has, the registry the rest (a cache filled by `npm ci`
  // alone lacks the registry metadata that --offline needs).
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball,
    ...Object.entries(deps).map(([dep, version]) => `${dep}@${version}`)], { cwd: app, env: userEnv(), stdio: 'pipe' });
  return app;
}

/** Runs the app with a node binary; CDK_DOCKER points at a command that fails, so any Docker bundling breaks it. */
function runApp(app: string, node: string, label: string): AppRun {
  const out = path.join(app, `cdk.out-${label}`);
  const printed = execFileSync(node, ['app.js', out], { cwd: app, env: { ...userEnv(), CDK_DOCKER: '/bin/false' }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(printed.trim().split('\n').pop()!);
}

function expectUserApp(app: string, run: AppRun, cdkLibVersion: string, ruleFailures: typeof FLOOR_NAG_RULE_FAILURES = []): void {
  // Nothing came from this repository, no bundler was installed, and only what the user asked for is a dependency.
  expect(run.cdkLib.startsWith(app)).toBe(true);
  expect(run.library.startsWith(app)).toBe(true);
  expect(run.cdkLibVersion).toBe(cdkLibVersion);
  expect(fs.existsSync(path.join(app, 'node_modules', 'esbuild'))).toBe(false);
  expect(Object.keys(JSON.parse(fs.readFileSync(path.join(app, 'package.json'), 'utf8')).dependencies).sort())
    .toEqual(['aws-cdk-lib', 'cdk-ecs-ops', 'cdk-nag', 'constructs']);

  // Every configuration is there, each leaving exactly its documented findings.
  expect(run.configurations.map((c) => c.name)).toEqual(DOCUMENTED_CONFIGURATIONS.map((c) => c.name));
  for (const [i, configuration] of run.configurations.entries()) {
    const findings = configuration.findings.filter((f) => !ruleFailures.some((r) => r.id === f.id && r.path.test(f.path)));
    expect({ name: configuration.name, findings: findings.map((f) => f.id).sort() })
      .toEqual({ name: configuration.name, findings: [...DOCUMENTED_CONFIGURATIONS[i].expectedFindings].sort() });
  }

  // Each function runs the shipped bundle on Node.js 24 (ARM): the ES module, its chunks and the licences. The others
  // are the functions of aws-cdk-lib's custom resource Provider framework (EcsTaskRunner is built on it): its code.
  const all = run.configurations.flatMap((c) => c.functions);
  const functions = all.filter((fn) => !/^framework\.(onEvent|isComplete|onTimeout)$/.test(fn.handler));
  expect(functions.length).toBeGreaterThan(0);
  for (const fn of functions) {
    expect(fn).toMatchObject({ runtime: 'nodejs24.x', architectures: ['arm64'], handler: expect.stringMatching(/^index\.(handler|onEvent|isComplete)$/) });
    expect(fs.readdirSync(fn.assetDir).sort()).toEqual(['THIRD_PARTY_LICENSES', 'chunks', 'index.mjs']);
    expect(fs.statSync(path.join(fn.assetDir, 'index.mjs')).size).toBeGreaterThan(10_000);
  }
}

test(`the peer floor: aws-cdk-lib ${FLOOR.cdkLib} with cdk-nag ${FLOOR.nag2}, on the lowest Node.js of engines and on Node.js 24`, () => {
  // Prepare
  const app = installApp('floor', { 'aws-cdk-lib': FLOOR.cdkLib, 'constructs': FLOOR.constructs, 'cdk-nag': FLOOR.nag2 });
  const floorNode = nodeBinary(process.env.NODE_FLOOR_VERSION);
  const engines: string = pkg.engines.node;

  // Act
  const onCurrent = runApp(app, process.execPath, 'current');
  const onFloor = floorNode ? runApp(app, floorNode, 'floor') : undefined;

  // Assess
  expectUserApp(app, onCurrent, FLOOR.cdkLib, FLOOR_NAG_RULE_FAILURES);
  expect(Number(onCurrent.node.slice(1).split('.')[0])).toBeGreaterThanOrEqual(24);
  if (process.env.CI) expect(floorNode).toBeDefined(); // .ci/node.sh installs it
  if (onFloor) {
    expectUserApp(app, onFloor, FLOOR.cdkLib, FLOOR_NAG_RULE_FAILURES);
    // engines names the lowest major the app was synthesized with.
    expect(engines).toBe(`>= ${onFloor.node.slice(1).split('.')[0]}.0.0`);
  }
}, 600_000);

test(`the latest aws-cdk-lib ${LATEST.cdkLib} with cdk-nag ${LATEST.nag2}`, () => {
  const app = installApp('latest-nag2', { 'aws-cdk-lib': LATEST.cdkLib, 'constructs': LATEST.constructs, 'cdk-nag': LATEST.nag2 });

  const run = runApp(app, process.execPath, 'current');

  expectUserApp(app, run, LATEST.cdkLib);
  expect(run.nag).toBe(LATEST.nag2);
}, 600_000);

test(`the latest aws-cdk-lib ${LATEST.cdkLib} with cdk-nag ${LATEST.nag3} (acknowledgements through Validations)`, () => {
  const app = installApp('latest-nag3', { 'aws-cdk-lib': LATEST.cdkLib, 'constructs': LATEST.constructs, 'cdk-nag': LATEST.nag3 });

  const run = runApp(app, process.execPath, 'current');

  expectUserApp(app, run, LATEST.cdkLib);
  expect(run.nag).toBe(LATEST.nag3);
}, 600_000);
