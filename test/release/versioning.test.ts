/**
 * The versions the release workflow publishes (README "Versioning and compatibility"): projen's `bump` task, as the
 * release job runs it, in a scratch git repository with this project's tasks and Conventional Commits.
 *
 * The first release is 0.1.0; while the version is 0.x, a feature or a fix releases a patch and a breaking change a
 * minor; commits that change nothing for users (docs, tests, chores) release nothing.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const GIT_ENV = {
  GIT_AUTHOR_NAME: 'cdk-ecs-ops developers',
  GIT_AUTHOR_EMAIL: 'cdk-ecs-ops@users.noreply.github.com',
  GIT_COMMITTER_NAME: 'cdk-ecs-ops developers',
  GIT_COMMITTER_EMAIL: 'cdk-ecs-ops@users.noreply.github.com',
};

// Each bump runs projen's release builtins and commit-and-tag-version: several seconds, more on a busy machine.
jest.setTimeout(120_000);

let repo: string;

beforeEach(() => {
  repo = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-ecs-ops-versioning-'));
  fs.mkdirSync(path.join(repo, '.projen'));
  fs.copyFileSync(path.join(ROOT, '.projen', 'tasks.json'), path.join(repo, '.projen', 'tasks.json'));
  // The committed package.json: version 0.0.0, as projen keeps it between releases.
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(repo, 'package.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(repo, 'node_modules'));
  fs.writeFileSync(path.join(repo, '.gitignore'), '/node_modules\n/dist/\n');
  git('init', '--quiet', '--initial-branch=main');
  git('add', '-A');
  git('commit', '--quiet', '-m', 'chore: start');
});

afterEach(() => {
  fs.rmSync(repo, { recursive: true, force: true });
});

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: repo, env: { ...process.env, ...GIT_ENV }, encoding: 'utf8' });
}

/** A commit with the given message (a change to a source file). */
function commit(message: string): void {
  fs.appendFileSync(path.join(repo, 'change.txt'), `${message}\n`);
  git('add', 'change.txt');
  git('commit', '--quiet', '-m', message);
}

/** `npx projen bump`, as the release task runs it: the version and tag it would release, and the release notes. */
function bump(): { version: string; tag: string; notes: string } {
  const run = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'projen'), ['bump'], { cwd: repo, encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`projen bump failed (${run.status}):\n${run.stdout}${run.stderr}`);
  const read = (file: string) => fs.readFileSync(path.join(repo, 'dist', file), 'utf8').trim();
  return { version: read('version.txt'), tag: read('releasetag.txt'), notes: read('changelog.md') };
}

test('the first release is 0.1.0, even with a breaking change among the commits', () => {
  // Prepare
  commit('feat(parrot): post ECS events to chat');
  commit('feat(runner)!: runs ECS tasks during a deployment');

  // Act
  const release = bump();

  // Assess
  expect(release.version).toBe('0.1.0');
  expect(release.tag).toBe('v0.1.0');
  expect(release.notes).toMatch(/^## 0\.1\.0 /);
  expect(release.notes).toContain('post ECS events to chat');
});

test('after a release, features and fixes release the next patch while the version is 0.x', () => {
  // Prepare
  commit('feat(parrot): post ECS events to chat');
  git('tag', 'v0.1.0');
  commit('fix(parrot): no repeat of a stopped task');
  commit('feat(monitor): alarm on disconnected agents');

  // Act
  const release = bump();

  // Assess
  expect(release.version).toBe('0.1.1');
  expect(release.tag).toBe('v0.1.1');
  expect(release.notes).toMatch(/### Features[\s\S]*alarm on disconnected agents[\s\S]*### Bug Fixes[\s\S]*no repeat of a stopped task/);
});

test('a breaking change releases the next minor while the version is 0.x', () => {
  // Prepare
  commit('feat(parrot): post ECS events to chat');
  git('tag', 'v0.1.3');
  commit('feat(status-api)!: the JSON of GET /services is schema 2');

  // Act
  const release = bump();

  // Assess
  expect(release.version).toBe('0.2.0');
  expect(release.notes).toMatch(/BREAKING CHANGES[\s\S]*the JSON of GET \/services is schema 2/);
});

test('commits that change nothing for users release nothing: the release tag is the existing one', () => {
  // Prepare
  commit('feat(parrot): post ECS events to chat');
  git('tag', 'v0.1.0');
  commit('docs: the compatibility policy');
  commit('test(runner): a task that never starts');
  commit('chore(deps): upgrade dependencies');

  // Act
  const release = bump();

  // Assess: the release workflow finds v0.1.0 already tagged and publishes nothing.
  expect(release.version).toBe('0.1.0');
  expect(release.tag).toBe('v0.1.0');
});
