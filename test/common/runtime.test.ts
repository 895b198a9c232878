/**
 * The functions' runtime: the newest Node.js runtime the user's aws-cdk-lib knows, among those the bundles are tested
 * on. The tests run on the aws-cdk-lib floor (2.224.0, which knows nodejs24.x but not nodejs26.x); a stand-in for a
 * newer `lambda.Runtime` shows the choice a newer aws-cdk-lib gets, and the consumer tests check it with real releases.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { functionRuntime } from '../../src/common/handler-function';
import { TESTED_NODEJS_RUNTIMES, nodejsMajor, runtimeMemberName } from '../../src/common/runtimes';
import { ACCOUNT, DOCUMENTED_CONFIGURATIONS, REGION } from '../support/documented-configurations';
import { MODULES } from '../support/modules';

const NODEJS_26_X = new lambda.Runtime('nodejs26.x', lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true });
const NODEJS_28_X = new lambda.Runtime('nodejs28.x', lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true });

describe('functionRuntime', () => {
  test('is nodejs24.x with an aws-cdk-lib that knows no newer tested runtime (the floor, 2.224.0)', () => {
    expect((lambda.Runtime as unknown as Record<string, unknown>).NODEJS_26_X).toBeUndefined();

    expect(functionRuntime()).toBe(lambda.Runtime.NODEJS_24_X);
  });

  test('is nodejs26.x with an aws-cdk-lib that knows Runtime.NODEJS_26_X (2.277.0 and later)', () => {
    const runtimes = { NODEJS_22_X: lambda.Runtime.NODEJS_22_X, NODEJS_24_X: lambda.Runtime.NODEJS_24_X, NODEJS_26_X };

    expect(functionRuntime(runtimes)).toBe(NODEJS_26_X);
  });

  test('is never a runtime the bundles are not tested on, however new', () => {
    const runtimes = { NODEJS_24_X: lambda.Runtime.NODEJS_24_X, NODEJS_26_X, NODEJS_28_X };

    expect(functionRuntime(runtimes).name).toBe('nodejs26.x');
  });

  test('fails with an aws-cdk-lib that knows none of the tested runtimes', () => {
    expect(() => functionRuntime({ NODEJS_22_X: lambda.Runtime.NODEJS_22_X }))
      .toThrow(/knows none of the Node.js runtimes the handlers are built for \(nodejs26\.x, nodejs24\.x\); upgrade aws-cdk-lib to 2\.224\.0 or later/);
  });

  test('fails when a member is not the runtime its name says', () => {
    expect(() => functionRuntime({ NODEJS_24_X: lambda.Runtime.NODEJS_22_X })).toThrow(/knows none/);
  });
});

describe.each(DOCUMENTED_CONFIGURATIONS)('$name', ({ build }) => {
  test('every function of the construct runs on the runtime functionRuntime chooses (nodejs24.x here)', () => {
    const stack = new Stack(new App(), 'UserStack', { env: { account: ACCOUNT, region: REGION } });
    build(stack, MODULES);

    const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))
      .filter((fn) => /^index\./.test(fn.Properties.Handler));

    expect(functions.length).toBeGreaterThan(0);
    expect([...new Set(functions.map((fn) => fn.Properties.Runtime))]).toEqual([functionRuntime().name]);
  });
});

describe('the tested runtimes', () => {
  test('are Lambda Node.js runtime names, each with its aws-cdk-lib member', () => {
    expect(TESTED_NODEJS_RUNTIMES.map(runtimeMemberName)).toEqual(['NODEJS_24_X', 'NODEJS_26_X']);
  });

  test('each has its Node.js pinned in .ci/node.sh, which installs it for the smoke runs', () => {
    const script = fs.readFileSync(path.join(__dirname, '..', '..', '.ci', 'node.sh'), 'utf8');

    for (const runtime of TESTED_NODEJS_RUNTIMES) {
      const major = nodejsMajor(runtime);
      expect(script).toMatch(new RegExp(`^NODE_${major}_VERSION=${major}\\.\\d+\\.\\d+\\b`, 'm'));
      expect(script).toMatch(new RegExp(`for runtime_version in [^\\n]*"\\$NODE_${major}_VERSION"`));
    }
  });

  test('fails for a name that is not a Node.js runtime', () => {
    expect(() => nodejsMajor('python3.13')).toThrow(/python3\.13 is not a Lambda Node.js runtime name/);
  });
});
