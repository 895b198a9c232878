/**
 * Structured JSON logs and EMF metrics through Powertools for AWS Lambda.
 *
 * The construct sets `POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE` and
 * `POWERTOOLS_LOG_LEVEL` on every function; these factories only supply fallbacks.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export { MetricUnit } from '@aws-lambda-powertools/metrics';

/** The CloudWatch namespace every construct of this library publishes its metrics in. */
export const METRICS_NAMESPACE = 'CdkEcsOps';

export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? serviceName });
}

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
