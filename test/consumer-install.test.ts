/**
 * The consumer promise: the packed library installs into a fresh CDK app that has only aws-cdk-lib
 * and constructs, and synthesizes there offline with no esbuild, no Docker and nothing from this
 * repository's node_modules.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const CDK_LIB = pkg.devDependencies['aws-cdk-lib'];
const CONSTRUCTS = pkg.devDependencies.constructs;

/** Compiles the library with jsii unless lib/ is newer than every source file. */
function ensureCompiled(): void {
  const newest = (dir: string): number => fs.readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
    const p = path.join(dir, e.name);
    return Math.max(max, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }, 0);
  const built = path.join(ROOT, '.jsii');
  if (!fs.existsSync(built) || !fs.existsSync(path.join(ROOT, 'lib', 'index.js')) || fs.statSync(built).mtimeMs < newest(path.join(ROOT, 'src'))) {
    execFileSync('npx', ['projen', 'compile'], { cwd: ROOT, stdio: 'pipe' });
  }
  if (!fs.existsSync(path.join(ROOT, 'assets', 'ecs-agent-monitor', 'index.js'))) {
    execFileSync('npx', ['projen', 'bundle'], { cwd: ROOT, stdio: 'pipe' });
  }
}

const APP = `
const { App, Stack } = require('aws-cdk-lib');
const ecs = require('aws-cdk-lib/aws-ecs');
const { EcsAgentMonitor } = require('cdk-ecs-ops');

const app = new App({ outdir: process.argv[2] });
const stack = new Stack(app, 'ConsumerStack', { env: { account: '123456789012', region: 'us-east-1' } });
const cluster = ecs.Cluster.fromClusterArn(stack, 'Cluster', 'arn:aws:ecs:us-east-1:123456789012:cluster/prod');
new EcsAgentMonitor(stack, 'Monitor', { clusters: [cluster] });
app.synth();
console.log(JSON.stringify({ cdkLib: require.resolve('aws-cdk-lib'), library: require.resolve('cdk-ecs-ops') }));
`;

describe('consumer install', () => {
  let work: string;

  beforeAll(() => {
    ensureCompiled();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-ecs-ops-consumer-'));
  }, 300_000);

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test('npm pack installs into a fresh app that synthesizes offline without esbuild or Docker', () => {
    // Prepare: pack the library and install it with only aws-cdk-lib and constructs, from the npm cache.
    const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop()!;
    const app = path.join(work, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer-app', private: true, version: '1.0.0' }));
    fs.writeFileSync(path.join(app, 'app.js'), APP);
    const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') && k !== 'NODE_PATH' && k !== 'INIT_CWD'));
    cleanEnv.PATH = (process.env.PATH ?? '').split(path.delimiter).filter((p) => !p.startsWith(ROOT)).join(path.delimiter);
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', path.join(work, tarball), `aws-cdk-lib@${CDK_LIB}`, `constructs@${CONSTRUCTS}`],
      { cwd: app, env: cleanEnv, stdio: 'pipe' });

    // Act: synthesize; CDK_DOCKER points at a command that fails, so any Docker bundling would break the synth.
    const out = path.join(work, 'cdk.out');
    const printed = execFileSync(process.execPath, ['app.js', out], { cwd: app, env: { ...cleanEnv, CDK_DOCKER: '/bin/false' }, encoding: 'utf8' });

    // Assess: nothing came from this repository, no bundler was installed, and the function uses the shipped bundle.
    const resolved = JSON.parse(printed.trim().split('\n').pop()!);
    expect(resolved.cdkLib.startsWith(app)).toBe(true);
    expect(resolved.library.startsWith(app)).toBe(true);
    expect(fs.existsSync(path.join(app, 'node_modules', 'esbuild'))).toBe(false);
    expect(Object.keys(JSON.parse(fs.readFileSync(path.join(app, 'package.json'), 'utf8')).dependencies).sort()).toEqual(['aws-cdk-lib', 'cdk-ecs-ops', 'constructs']);

    const template = JSON.parse(fs.readFileSync(path.join(out, 'ConsumerStack.template.json'), 'utf8'));
    const functions = Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(1);
    expect(functions[0].Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler' });

    const assetHash = functions[0].Properties.Code.S3Key.replace(/\.zip$/, '');
    const bundle = path.join(out, `asset.${assetHash}`, 'index.js');
    expect(fs.statSync(bundle).size).toBeGreaterThan(10_000);
    expect(fs.readdirSync(path.join(out, `asset.${assetHash}`))).toEqual(['index.js']);
  }, 300_000);
});
