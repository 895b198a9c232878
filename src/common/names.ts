/**
 * Names both sides share: the constructs (compiled by jsii) and the handlers (bundled by esbuild, which
 * imports this file). Keep it free of imports so the handler bundles stay small.
 */

/** CloudWatch namespace of every metric this library's handlers publish. */
export const METRICS_NAMESPACE = 'CdkEcsOps';
