/**
 * The one wrapper every handler uses, so each handler is its decisions and its AWS calls, nothing else.
 *
 * ```ts
 * export const handler = lambdaHandler({
 *   service: 'ecs-agent-monitor',
 *   reserveMs: 15_000,
 *   config: () => readConfig({ CLUSTERS: env.list({ minItems: 1 }) }),
 *   run: async (event: ScheduledEvent, { config, logger, metrics, budget }) => {
 *     for (const cluster of config.CLUSTERS) if (!budget.expired()) await check(cluster);
 *     await budget.bookkeeping.within(() => store.save(...));
 *   },
 * });
 * ```
 *
 * - The configuration is read once per container (the first invocation), with every problem reported
 *   together; a bad configuration fails every invocation with the same `ConfigError`.
 * - The Lambda request id is on every log line of the shared `logger` and of loggers created from it
 *   during the invocation.
 * - Metrics buffers taken from `metrics()` are flushed when the invocation ends, even when it fails.
 * - A failed invocation logs one structured error and publishes `Errors` = 1 (dimension `service` only),
 *   then fails, so Lambda counts it too.
 * - `run` runs under the invocation's time budget (budget.ts): the remaining time less the handler's `reserveMs`.
 *   Every AWS call it makes is bounded by it; `budget.bookkeeping` has the reserve. When the budget cut calls short,
 *   the invocation logs how many and publishes `OutOfTime` (their count).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { describeError } from './aws';
import { InvocationBudget, isOutOfTime } from './budget';
import { ConfigError, once } from './config';
import { MetricUnit, createMetrics, logger } from './powertools';

/** What `run` gets besides the event. */
export interface Invocation<C> {
  /** The configuration, read once per container. */
  readonly config: C;
  /** The shared logger; its lines carry the request id. */
  readonly logger: Logger;
  /** The Lambda context (a stand-in with a request id when the handler is called without one). */
  readonly context: Context;
  /**
   * The work's time budget: Lambda's remaining time less the handler's `reserveMs` (no deadline outside Lambda).
   * It is the current budget while `run` runs, so every AWS call is bounded by it; run the bookkeeping under
   * `budget.bookkeeping.within(...)`, which has the reserve too.
   */
  readonly budget: InvocationBudget;
  /**
   * A metrics buffer with these dimensions besides `service` (one buffer per dimension set, e.g. per cluster),
   * flushed when the invocation ends. Without dimensions: the invocation's own buffer.
   */
  metrics(dimensions?: Record<string, string>): Metrics;
  /** Milliseconds left before Lambda stops the invocation (undefined outside Lambda). */
  remainingTimeMs(): number | undefined;
}

export interface HandlerOptions<E, R, C> {
  /** Powertools service name used when `POWERTOOLS_SERVICE_NAME` is not set. */
  readonly service: string;
  /** Reads and checks the configuration; throw a `ConfigError` listing every problem. Called once per container. */
  readonly config: () => C;
  /**
   * Time kept from the work for the handler's own bookkeeping after it: state writes, metrics, the partial batch
   * response, the CloudFormation answer. The work's budget ends this long (plus a 1 s margin) before Lambda's deadline.
   * @default DEFAULT_RESERVE_MS
   */
  readonly reserveMs?: number;
  readonly run: (event: E, invocation: Invocation<C>) => Promise<R>;
}

/** The reserve of a handler that does not declare one. */
export const DEFAULT_RESERVE_MS = 3_000;

/** The metric of the AWS calls the time budget refused or whose retries it stopped, in one invocation. */
export const OUT_OF_TIME_METRIC = 'OutOfTime';

/** The metric a failed invocation publishes; the constructs' `metricErrors()` include it. */
export const ERRORS_METRIC = 'Errors';

/** Wraps `run` in the configuration, logging and metrics every handler of this library shares. */
export function lambdaHandler<E, R, C>(options: HandlerOptions<E, R, C>): (event: E, context?: Context) => Promise<R> {
  const config = once(options.config);
  return async (event: E, context?: Context): Promise<R> => {
    const ctx = context ?? localContext();
    logger.addContext(ctx);
    const buffers = new Map<string, Metrics>();
    const metrics = (dimensions: Record<string, string> = {}): Metrics => {
      const key = JSON.stringify(Object.entries(dimensions).sort());
      let buffer = buffers.get(key);
      if (!buffer) {
        buffer = createMetrics(options.service, dimensions);
        buffers.set(key, buffer);
      }
      return buffer;
    };
    const budget = InvocationBudget.start({
      remainingMs: context ? context.getRemainingTimeInMillis() : Number.POSITIVE_INFINITY,
      reserveMs: options.reserveMs ?? DEFAULT_RESERVE_MS,
    });
    try {
      const configuration = config();
      return await budget.within(() => options.run(event, {
        config: configuration,
        logger,
        context: ctx,
        metrics,
        remainingTimeMs: () => (context ? context.getRemainingTimeInMillis() : undefined),
        budget,
      }));
    } catch (error) {
      const message = error instanceof ConfigError
        ? 'invalid function configuration; nothing was done'
        : isOutOfTime(error) ? 'invocation stopped: out of time' : 'invocation failed';
      logger.error(message, {
        error: describeError(error),
        ...(error instanceof ConfigError ? { problems: error.problems } : {}),
      });
      metrics().addMetric(ERRORS_METRIC, MetricUnit.Count, 1);
      throw error;
    } finally {
      const { callsRefused, retriesStopped } = budget.tally;
      if (callsRefused + retriesStopped > 0) {
        logger.warn('the time budget cut AWS calls short; what they were for is reported as not done', {
          callsRefused, retriesStopped, reserveMs: options.reserveMs ?? DEFAULT_RESERVE_MS,
        });
        metrics().addMetric(OUT_OF_TIME_METRIC, MetricUnit.Count, callsRefused + retriesStopped);
      }
      budget.dispose();
      for (const buffer of buffers.values()) {
        if (buffer.hasStoredMetrics()) buffer.publishStoredMetrics();
      }
      logger.resetKeys();
    }
  };
}

/** A context for a call outside Lambda (a test, a local run): a request id, no deadline. */
function localContext(): Context {
  const id = `local-${Date.now().toString(36)}`;
  return {
    awsRequestId: id,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local',
    functionVersion: '$LATEST',
    invokedFunctionArn: '',
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '',
    logGroupName: '',
    logStreamName: '',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Number.MAX_SAFE_INTEGER,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
