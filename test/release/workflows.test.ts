/**
 * The GitHub workflows projen generates from .projenrc.ts do what README "Develop" says, as a maintainer would check
 * them: the pull request build and the release run `.ci/run`, the release publishes to the five registries with npm
 * provenance, the upgrade leaves the compatibility pins alone, the canary tests the newest releases and reports a
 * failure; and actionlint, which lints them in every build, can find what it is there to find.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { lintWorkflow, workflowFiles } from '../../scripts/actionlint';

const ROOT = path.join(__dirname, '..', '..');
const tasks = JSON.parse(fs.readFileSync(path.join(ROOT, '.projen', 'tasks.json'), 'utf8')).tasks;

interface Step { readonly name?: string; readonly id?: string; readonly run?: string; readonly uses?: string; readonly env?: Record<string, string> }
interface Job {
  readonly name?: string;
  readonly if?: string;
  readonly needs?: string | string[];
  readonly container?: { image: string; options?: string };
  readonly permissions?: Record<string, string>;
  readonly env?: Record<string, string>;
  readonly steps: Step[];
}
interface Workflow { readonly on: Record<string, any>; readonly jobs: Record<string, Job> }

function workflow(name: string): Workflow {
  return parse(fs.readFileSync(path.join(ROOT, '.github', 'workflows', `${name}.yml`), 'utf8'));
}

/** The README's "Releases, upgrades and the canary" subsection. */
function releaseSection(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('### Releases, upgrades and the canary');
  expect(start).toBeGreaterThan(0);
  const end = readme.indexOf('\n#', start + 10);
  return readme.slice(start, end < 0 ? undefined : end);
}

describe('build (pull requests)', () => {
  const build = workflow('build');

  test('runs on every pull request', () => {
    expect(Object.keys(build.on)).toEqual(expect.arrayContaining(['pull_request']));
  });

  test('is .ci/run in the CI container, with no second setup or build beside it', () => {
    const job = build.jobs.build;
    expect(job.container).toEqual({ image: 'node:24-bookworm', options: '--shm-size=1g' });
    expect(job.steps.filter((s) => s.run).map((s) => s.run)[0]).toBe('bash .ci/run');
    expect(job.steps.map((s) => s.uses ?? '')).not.toContainEqual(expect.stringContaining('actions/setup-node'));
    expect(job.steps.map((s) => s.run ?? '')).not.toContainEqual(expect.stringMatching(/npx projen build|npm (ci|install)/));
  });

  test('pushes nothing back to the branch: no self-mutation job', () => {
    expect(Object.keys(build.jobs)).not.toContain('self-mutation');
    expect(JSON.stringify(build)).not.toContain('PROJEN_GITHUB_TOKEN');
  });

  test('packages every jsii language from the build\'s output', () => {
    expect(Object.keys(build.jobs).sort()).toEqual(['build', 'package-dotnet', 'package-go', 'package-java', 'package-js', 'package-python']);
  });
});

describe('release (main)', () => {
  const release = workflow('release');

  test('runs on every push to main', () => {
    expect(release.on.push).toEqual({ branches: ['main'] });
  });

  test('runs .ci/run on the commit before projen\'s release task, in the CI container', () => {
    const job = release.jobs.release;
    const runs = job.steps.map((s) => s.run);
    expect(job.container).toEqual({ image: 'node:24-bookworm', options: '--shm-size=1g' });
    expect(runs.indexOf('bash .ci/run')).toBeGreaterThanOrEqual(0);
    expect(runs.indexOf('bash .ci/run')).toBeLessThan(runs.indexOf('npx projen release'));
  });

  test.each([
    ['release_npm', 'publib-npm'],
    ['release_pypi', 'publib-pypi'],
    ['release_maven', 'publib-maven'],
    ['release_nuget', 'publib-nuget'],
    ['release_golang', 'publib-golang'],
  ])('%s publishes with %s after the release job', (jobId, command) => {
    const job = release.jobs[jobId];
    expect(job.needs).toBe('release');
    expect(job.steps.map((s) => s.run ?? '')).toContainEqual(expect.stringContaining(command));
  });

  test('publishes to npm with provenance (an OIDC token for the job)', () => {
    const job = release.jobs.release_npm;
    expect(job.permissions).toEqual({ 'id-token': 'write', 'contents': 'read' });
    expect(job.steps.find((s) => s.run?.includes('publib-npm'))!.env).toMatchObject({ NPM_CONFIG_PROVENANCE: 'true' });
  });

  test('makes the first release 0.1.0 and releases only for features, fixes, performance changes and reverts', () => {
    expect(tasks['bump:next-version'].steps).toEqual([{ exec: 'node -e "process.env.LATEST_TAG || console.log(\'0.1.0\')"' }]);
    expect(tasks['bump:releasable-commits'].steps[0].exec).toContain("--grep '^(feat|fix|perf|revert){1}");
  });
});

describe('upgrade-main (weekly)', () => {
  const upgrade = workflow('upgrade-main');
  const NOT_UPGRADED = ['aws-cdk-lib', 'constructs', 'aws-cdk', 'cdk-nag', 'projen'];

  test('runs weekly and opens a pull request with PROJEN_GITHUB_TOKEN', () => {
    expect(upgrade.on.schedule).toEqual([{ cron: '0 0 * * 1' }]);
    const pr = upgrade.jobs.pr.steps.find((s) => s.uses?.startsWith('peter-evans/create-pull-request'))!;
    expect(JSON.stringify(pr)).toContain('${{ secrets.PROJEN_GITHUB_TOKEN }}');
  });

  test('leaves the compatibility pins alone', () => {
    const commands = tasks.upgrade.steps.map((s: { exec?: string; execArgs?: string[] }) => s.execArgs ?? [s.exec]);
    const touched: string[] = commands.flatMap((args: string[]) => args.flatMap((a) => (a?.startsWith('--filter=') ? a.slice('--filter='.length).split(',') : [a])));
    for (const name of NOT_UPGRADED) expect(touched).not.toContain(name);
    // ... while the rest is upgraded (the bundled SDK clients' transitive dependencies move through `npm update`).
    expect(touched).toEqual(expect.arrayContaining(['@aws-sdk/client-ecs', 'jest', 'jsii', 'typescript']));
  });
});

describe('canary (daily)', () => {
  const canary = workflow('canary');

  test('runs .ci/canary every day with the newest aws-cdk-lib, cdk-nag 2 and cdk-nag 3', () => {
    expect(canary.on.schedule).toEqual([{ cron: '30 5 * * *' }]);
    const job = canary.jobs.consumer;
    expect(job.container).toEqual({ image: 'node:24-bookworm' });
    expect(job.env).toEqual({ CONSUMER_CDK_LIB_LATEST: 'newest', CONSUMER_NAG2_LATEST: 'newest', CONSUMER_NAG3_LATEST: 'newest' });
    expect(job.steps.map((s) => s.run).filter(Boolean)).toEqual(['bash .ci/canary']);
  });

  test('opens an issue (or comments on the open one) only when the consumer tests fail', () => {
    const report = canary.jobs.report;
    expect(report.needs).toBe('consumer');
    expect(report.if).toBe('failure()');
    expect(report.permissions).toEqual({ issues: 'write' });
    const script = report.steps[0].run!;
    expect(script).toContain('gh issue list --label canary --state open');
    expect(script).toContain('gh issue comment "$open"');
    expect(script).toContain('gh issue create');
    // What a user of the workflow's inputs could type never reaches the script: only the job's own outputs, by env.
    expect(script).not.toContain('${{');
  });
});

describe('the canary\'s report', () => {
  const script = workflow('canary').jobs.report.steps[0].run!;

  /** Runs the report step's script with a stand-in `gh` that records its calls and knows of the given open issue. */
  function report(openIssue: string): string[][] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-ecs-ops-canary-report-'));
    try {
      const log = path.join(dir, 'calls.json');
      fs.writeFileSync(path.join(dir, 'gh'), [
        '#!/usr/bin/env node',
        'const fs = require("fs");',
        'const calls = fs.existsSync(process.env.GH_LOG) ? JSON.parse(fs.readFileSync(process.env.GH_LOG, "utf8")) : [];',
        'calls.push(process.argv.slice(2));',
        'fs.writeFileSync(process.env.GH_LOG, JSON.stringify(calls));',
        'if (process.argv[2] === "issue" && process.argv[3] === "list") console.log(process.env.OPEN_ISSUE);',
      ].join('\n'), { mode: 0o755 });
      // As GitHub runs a step's script (`bash -e`), without the machine's profile.
      const run = spawnSync('bash', ['--noprofile', '--norc', '-e', '-c', script], {
        encoding: 'utf8',
        env: {
          PATH: `${dir}${path.delimiter}${process.env.PATH}`,
          GH_LOG: log,
          OPEN_ISSUE: openIssue,
          TESTED: 'aws-cdk-lib 2.278.0, cdk-nag 2.38.2 and 3.0.2',
          RUN_URL: 'https://github.com/cdk-ecs-ops/cdk-ecs-ops/actions/runs/42',
        },
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      return JSON.parse(fs.readFileSync(log, 'utf8'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  test('opens an issue labelled canary with the versions tested and the run, when none is open', () => {
    // Act
    const calls = report('');

    // Assess
    expect(calls.map((c) => c.slice(0, 2).join(' '))).toEqual(['issue list', 'label create', 'issue create']);
    const create = calls[2];
    expect(create[create.indexOf('--label') + 1]).toBe('canary');
    const body = create[create.indexOf('--body') + 1];
    expect(body).toMatch(/^The consumer tests failed on \d{4}-\d{2}-\d{2} against the newest releases: aws-cdk-lib 2\.278\.0, cdk-nag 2\.38\.2 and 3\.0\.2\./);
    expect(body).toContain('Reproduce it with `bash .ci/canary`;');
    expect(body).toContain('Run: https://github.com/cdk-ecs-ops/cdk-ecs-ops/actions/runs/42');
  });

  test('comments on the open canary issue instead of opening another', () => {
    // Act
    const calls = report('17');

    // Assess
    expect(calls.map((c) => c.slice(0, 3).join(' '))).toEqual(['issue list --label', 'issue comment 17']);
    expect(calls[1][calls[1].indexOf('--body') + 1]).toContain('aws-cdk-lib 2.278.0');
  });
});

describe('secrets', () => {
  test('the README lists exactly the secrets the workflows use (GITHUB_TOKEN is the workflows\' own)', () => {
    const used = new Set<string>();
    for (const file of workflowFiles(ROOT)) {
      for (const match of fs.readFileSync(file, 'utf8').matchAll(/\$\{\{\s*secrets\.([A-Z0-9_]+)\s*\}\}/g)) used.add(match[1]);
    }
    used.delete('GITHUB_TOKEN');
    const documented = [...releaseSection().matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...used].sort());
    expect(documented).toEqual(expect.arrayContaining(['NPM_TOKEN', 'TWINE_PASSWORD', 'MAVEN_PASSWORD', 'NUGET_API_KEY', 'GO_GITHUB_TOKEN', 'PROJEN_GITHUB_TOKEN']));
  });
});

describe('actionlint', () => {
  const BROKEN = [
    'on:',
    '  pull_request_target: {}',
    'jobs:',
    '  greet:',
    '    runs-on: ubuntu-latest',
    '    steps:',
    '      - run: echo "${{ github.event.pull_request.title }}"',
    '  publish:',
    '    needs: build',
    '    runs-on: ubuntu-latest',
    '    steps:',
    '      - run: echo ${{ needs.greet.outputs.name }}',
    '',
  ].join('\n');

  test('finds untrusted input in a script, a job that needs one that does not exist and an output it cannot read', async () => {
    // Act
    const findings = await lintWorkflow(BROKEN, 'broken.yml');

    // Assess
    expect(findings.map((f) => `${f.file}:${f.line}:${f.kind}`)).toEqual(['broken.yml:7:expression', 'broken.yml:8:job-needs', 'broken.yml:12:expression']);
    expect(findings[0].message).toContain('"github.event.pull_request.title" is potentially untrusted');
    expect(findings[1].message).toContain('"build" which does not exist');
  });

  test('finds the same again and again (a fresh linter for each workflow)', async () => {
    const runs = [];
    for (let i = 0; i < 4; i++) runs.push((await lintWorkflow(BROKEN, 'broken.yml')).map((f) => f.message));
    expect(runs[3]).toEqual(runs[0]);
    expect(runs[0].length).toBeGreaterThan(1);
  });

  test('fails the build step on a finding, printing where it is', () => {
    // Prepare
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-ecs-ops-actionlint-'));
    const file = path.join(dir, 'broken.yml');
    fs.writeFileSync(file, BROKEN);

    // Act
    const run = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'ts-node'),
      ['--transpile-only', '--project', 'tsconfig.dev.json', 'scripts/actionlint.ts', file], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    fs.rmSync(dir, { recursive: true, force: true });

    // Assess
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/broken\.yml:7:\d+: "github\.event\.pull_request\.title" is potentially untrusted.* \[expression\]/);
    expect(run.stderr).toContain('actionlint: 3 finding(s) in 1 workflow(s)');
  });

  test('lints every generated workflow', () => {
    expect(workflowFiles(ROOT).map((f) => path.basename(f))).toEqual(['build.yml', 'canary.yml', 'pull-request-lint.yml', 'release.yml', 'upgrade-main.yml']);
    expect(tasks.test.steps.at(-1)).toEqual({ spawn: 'actionlint' });
  });
});
