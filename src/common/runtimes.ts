/**
 * The Lambda Node.js runtimes the handler bundles are tested on, oldest first: each bundle's smoke run
 * (test/bundles/smoke.test.ts) runs on the Node.js of each (.ci/node.sh pins one version per major), and the
 * bundles are built for the oldest (scripts/bundle-handlers.ts). A function gets the newest of these that the
 * user's aws-cdk-lib knows (see `functionRuntime` in handler-function.ts).
 *
 * To add a runtime: pin its Node.js in .ci/node.sh (`NODE_<major>_VERSION`), add it here, and run the smoke tests
 * and `npx projen test:consumer` (which fails when the newest aws-cdk-lib of its matrix knows a Node.js runtime
 * that is not here).
 *
 * No imports: the bundle script and the tests read it without loading aws-cdk-lib.
 */
export const TESTED_NODEJS_RUNTIMES: readonly string[] = ['nodejs24.x', 'nodejs26.x'];

/** The Node.js major version of a Lambda runtime name: 24 for `nodejs24.x`. */
export function nodejsMajor(runtimeName: string): number {
  const match = /^nodejs(\d+)\.x$/.exec(runtimeName);
  if (!match) throw new Error(`${runtimeName} is not a Lambda Node.js runtime name (nodejs<major>.x)`);
  return Number(match[1]);
}

/** The name of the static member of aws-cdk-lib's `lambda.Runtime` for a runtime name: `NODEJS_24_X` for `nodejs24.x`. */
export function runtimeMemberName(runtimeName: string): string {
  return `NODEJS_${nodejsMajor(runtimeName)}_X`;
}
