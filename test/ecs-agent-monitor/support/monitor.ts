/**
 * Loading the agent monitor handler with a configuration (the clock and the stdout capture are in
 * ../../support/handler-harness.ts).
 *
 * The handler reads its environment once per module, so each configuration needs a fresh copy of the
 * module: `loadMonitor(env)` loads one in a fresh module registry (`jest.resetModules`), which also reloads
 * node_modules, so the test file must share the AWS SDK client packages across registries (otherwise the
 * handler's clients are other classes than the ones the fakes mock). Put this at the top of the test file:
 *
 * ```ts
 * jest.mock('@aws-sdk/client-ecs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ecs'));
 * // ... one line per client package
 * ```
 */
import type { RunResult } from '../../../lambda/ecs-agent-monitor';

export type MonitorHandler = (event?: object, context?: object) => Promise<RunResult>;

export interface LoadedMonitor {
  readonly handler: MonitorHandler;
  /** The ConfigError class of the loaded copy (for `instanceof`). */
  readonly ConfigError: new (...args: any[]) => Error & { readonly problems: readonly string[] };
}

/** Every variable the handler (and its store and notifier) reads; cleared before each load. */
export const MONITOR_VARIABLES = [
  'CLUSTERS', 'FAIL_AFTER', 'GRACE_PERIOD_SECONDS', 'ACTION', 'MAX_REPLACEMENTS_PER_RUN', 'MAX_REPLACEMENTS_PER_RUN_TOTAL', 'OUTAGE_THRESHOLD_PERCENT',
  'TREAT_IMPAIRED_AS_FAILED', 'TERMINATE_STANDALONE_INSTANCES', 'AUTO_SCALING_GROUPS', 'NOTIFICATION_CHANNELS',
  'FAILURE_STORE', 'FAILURE_TABLE_NAME', 'FAILURE_TTL_SECONDS', 'FAILURE_MIN_GAP_SECONDS', 'REDIS_HOST', 'REDIS_PORT', 'REDIS_REPLICATION_GROUP_ID',
  'REDIS_TLS', 'REDIS_AUTH_SECRET_ARN', 'REDIS_USERNAME', 'REDIS_KEY_PREFIX',
  'POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_DEV',
] as const;

/**
 * Set the environment (only `env`'s monitor variables; the others are removed) and load a fresh handler.
 * The environment stays set: the handler reads it on its first call. Restore `process.env` in `afterEach`.
 */
export function loadMonitor(env: Record<string, string | undefined>): LoadedMonitor {
  for (const name of MONITOR_VARIABLES) delete process.env[name];
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined) process.env[name] = value;
  }
  // A fresh registry rather than jest.isolateModules: modules the handler imports later, on first use
  // (the store, the Auto Scaling and EC2 clients), then come from the same registry as the handler.
  jest.resetModules();
  /* eslint-disable @typescript-eslint/no-require-imports */
  const handlerModule = require('../../../lambda/ecs-agent-monitor');
  const configModule = require('../../../lambda/common/config');
  /* eslint-enable @typescript-eslint/no-require-imports */
  return { handler: handlerModule.handler, ConfigError: configModule.ConfigError };
}
