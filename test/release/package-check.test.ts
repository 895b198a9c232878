/**
 * A package is never made without its handlers: `npx projen package` on a tree whose handlers were never bundled
 * fails before jsii-pacmak runs, naming each missing `assets/<name>/...` file, instead of making a package whose
 * constructs throw at a user's synth.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REQUIRED_BUNDLE_FILES, missingAssets } from '../../scripts/check-assets';

const ROOT = path.join(__dirname, '..', '..');
const tasks = JSON.parse(fs.readFileSync(path.join(ROOT, '.projen', 'tasks.json'), 'utf8')).tasks;

let work: string;

beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-ecs-ops-package-check-'));
});

afterEach(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

/** A tree with `lambda/<name>/index.ts` for each handler (and lambda/common), and the given bundles in assets/. */
function tree(handlers: string[], bundled: Record<string, string[]> = {}): string {
  fs.mkdirSync(path.join(work, 'lambda', 'common'), { recursive: true });
  fs.writeFileSync(path.join(work, 'lambda', 'common', 'index.ts'), 'export {};\n');
  for (const name of handlers) {
    fs.mkdirSync(path.join(work, 'lambda', name));
    fs.writeFileSync(path.join(work, 'lambda', name, 'index.ts'), 'export const handler = async () => undefined;\n');
  }
  for (const [name, files] of Object.entries(bundled)) {
    fs.mkdirSync(path.join(work, 'assets', name), { recursive: true });
    for (const file of files) fs.writeFileSync(path.join(work, 'assets', name, file), '// bundled\n');
  }
  return work;
}

describe('missingAssets', () => {
  test('names the entry and the licences of every handler when nothing was bundled', () => {
    // Prepare
    const root = tree(['ecs-parrot', 'ecs-task-runner']);

    // Act
    const missing = missingAssets(root);

    // Assess
    expect(missing).toEqual([
      'assets/ecs-parrot/index.mjs', 'assets/ecs-parrot/THIRD_PARTY_LICENSES',
      'assets/ecs-task-runner/index.mjs', 'assets/ecs-task-runner/THIRD_PARTY_LICENSES',
    ]);
  });

  test('names only what is missing: one handler not bundled, another without its licences', () => {
    // Prepare
    const root = tree(['ecs-agent-monitor', 'ecs-parrot', 'ecs-status-api'], {
      'ecs-agent-monitor': ['index.mjs', 'THIRD_PARTY_LICENSES'],
      'ecs-parrot': ['index.mjs'],
    });

    // Act
    const missing = missingAssets(root);

    // Assess
    expect(missing).toEqual(['assets/ecs-parrot/THIRD_PARTY_LICENSES', 'assets/ecs-status-api/index.mjs', 'assets/ecs-status-api/THIRD_PARTY_LICENSES']);
  });

  test('finds nothing missing when every handler is bundled (lambda/common is not a handler)', () => {
    // Prepare
    const root = tree(['ecs-parrot'], { 'ecs-parrot': REQUIRED_BUNDLE_FILES });

    // Act
    const missing = missingAssets(root);

    // Assess
    expect(missing).toEqual([]);
  });

  test('fails when there is no lambda/ to say which handlers there are', () => {
    expect(() => missingAssets(work)).toThrow(/lambda is missing: run the package step in a checkout of the repository/);
  });

  test('finds nothing missing in this repository after the build bundled it', () => {
    // The test task bundles before jest runs (`npx projen test`, `npx projen build`).
    expect(missingAssets(ROOT)).toEqual([]);
  });
});

describe('npx projen package', () => {
  test('fails without the handler bundles, naming them, before jsii-pacmak runs', () => {
    // Prepare: a project tree with this repository's tasks, scripts and tools, and two handlers, one bundled.
    const root = tree(['ecs-agent-updater', 'ecs-status-api'], { 'ecs-agent-updater': REQUIRED_BUNDLE_FILES });
    fs.mkdirSync(path.join(root, '.projen'));
    fs.copyFileSync(path.join(ROOT, '.projen', 'tasks.json'), path.join(root, '.projen', 'tasks.json'));
    for (const file of ['package.json', 'tsconfig.json', 'tsconfig.dev.json']) fs.copyFileSync(path.join(ROOT, file), path.join(root, file));
    fs.symlinkSync(path.join(ROOT, 'scripts'), path.join(root, 'scripts'));
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));

    // Act
    const run = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'projen'), ['package'], { cwd: root, encoding: 'utf8', timeout: 60_000 });

    // Assess
    const output = `${run.stdout}${run.stderr}`;
    expect(run.status).not.toBe(0);
    expect(output).toContain('Refusing to package without the handler bundles: assets/ecs-status-api/index.mjs, '
      + 'assets/ecs-status-api/THIRD_PARTY_LICENSES are missing. Run "npx projen bundle" (or the whole "npx projen build") first.');
    expect(output).not.toContain('jsii-pacmak');
    expect(fs.existsSync(path.join(root, 'dist'))).toBe(false);
  });

  test.each(['js', 'python', 'java', 'dotnet', 'go'])('package:%s checks the bundles first', (language) => {
    expect(tasks[`package:${language}`].steps[0]).toEqual({ spawn: 'bundle:check' });
  });

  test('is the npm package and the other languages\' code, after the bundle check', () => {
    expect(tasks.package.steps).toEqual([{ spawn: 'package:js' }, { spawn: 'package:code-only' }]);
    expect(tasks['bundle:check'].steps).toEqual([{ exec: 'ts-node --transpile-only --project tsconfig.dev.json scripts/check-assets.ts' }]);
  });
});
