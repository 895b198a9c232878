/**
 * Structured JSON logs and EMF metrics through Powertools for AWS Lambda.
 *
 * The construct sets `POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE` and `POWERTOOLS_LOG_LEVEL`
 * on every function. One logger serves the whole function (handler, stores, notifier), so the request id
 * that `lambdaHandler` adds to it is on every line. Every string of every line (the message, each attribute, an
 * error's message and stack) goes through the active redactor (lambda/common/redact.ts) on its way out.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { activeRedactor } from './redact';
import { METRICS_NAMESPACE } from '../../src/common/names';

export { MetricUnit } from '@aws-lambda-powertools/metrics';
export { METRICS_NAMESPACE };

/** Masks every string a log line holds, as JSON.stringify meets it (errors are formatted first, then masked too). */
export function redactingReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? activeRedactor().text(value) : value;
}

/** The function's logger. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'cdk-ecs-ops', jsonReplacerFn: redactingReplacer });

/**
 * A metrics buffer; flush it with `publishStoredMetrics()`. Give `dimensions` (e.g. the cluster)
 * for metrics that are published per resource: use one buffer per resource.
 */
export function createMetrics(serviceName: string, dimensions?: Record<string, string>): Metrics {
  return new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? serviceName,
    defaultDimensions: dimensions,
  });
}
