/**
 * Loading the agent updater handler with the environment its construct synthesizes, against the fake fleet and an
 * in-memory state table.
 *
 * The handler reads its environment once per module, so each configuration needs a fresh copy of the module:
 * `loadUpdater(env)` loads one in a fresh module registry (`jest.resetModules`), which also reloads node_modules,
 * so a test file must share the AWS SDK client packages across registries. Put at its top:
 *
 * ```ts
 * jest.mock('@aws-sdk/client-ecs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ecs'));
 * // ... one line per client package
 * ```
 */
import { App, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type { RunResult } from '../../../lambda/ecs-agent-updater';
import { EcsAgentUpdater, EcsAgentUpdaterProps } from '../../../src';
import { synthesizedEnvironment } from '../../support/synthesized-environment';

export { StdoutCapture, advanceClock, useFakeClock } from '../../support/handler-harness';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

export type UpdaterHandler = (event?: object, context?: object) => Promise<RunResult>;

/** Every variable the handler (and its notifier) reads; cleared before each load. */
export const UPDATER_VARIABLES = [
  'CLUSTERS', 'MAX_CONCURRENT_UPDATES', 'SKIP_TAG_KEY', 'SKIP_TAG_VALUE', 'DRY_RUN', 'REPORT_AMI_DRIFT',
  'STATE_TABLE_NAME', 'STATE_TTL_SECONDS', 'NOTIFICATION_CHANNELS',
  'POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_DEV',
] as const;

/**
 * The environment an `EcsAgentUpdater` with these props synthesizes for its function, resolved as deployed in
 * 123456789012/us-east-1. `clusters` are imported by name.
 */
export function updaterEnvironment(
  props: Omit<EcsAgentUpdaterProps, 'clusters'> & { clusters?: string[] } = {},
  more: (stack: Stack) => Partial<EcsAgentUpdaterProps> = () => ({}),
): Record<string, string> {
  const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
  const clusters = props.clusters?.map((name) => ecs.Cluster.fromClusterArn(stack, `Cluster-${name}`, `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${name}`));
  const updater = new EcsAgentUpdater(stack, 'Updater', { ...props, clusters, ...more(stack) });
  return synthesizedEnvironment(stack, updater.handler);
}

/**
 * Set the environment (only `env`'s updater variables; the others are removed) and load a fresh handler. The
 * environment stays set: the handler reads it on its first call. Restore `process.env` in `afterEach`.
 */
export function loadUpdater(env: Record<string, string | undefined>): UpdaterHandler {
  for (const name of UPDATER_VARIABLES) delete process.env[name];
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined) process.env[name] = value;
  }
  jest.resetModules();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../../../lambda/ecs-agent-updater').handler;
}

/** An EventBridge scheduled event for `time`, as the rule delivers it. */
export function scheduledEvent(time: Date, id = `evt-${time.getTime().toString(36)}`): object {
  return {
    'version': '0',
    id,
    'detail-type': 'Scheduled Event',
    'source': 'aws.events',
    'account': ACCOUNT,
    'time': time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'region': REGION,
    'resources': [`arn:aws:events:${REGION}:${ACCOUNT}:rule/Ops-UpdaterSchedule`],
    'detail': {},
  };
}
