/**
 * EcsStatusApi handler, behind an API Gateway REST API (Lambda proxy integration):
 *
 * - `GET /services` (and `GET /list`, the original path): every ECS service of the clusters, with counts, rollout,
 *   health verdict and tags, filtered by the query parameters, as paged JSON or as CSV;
 * - `GET /`: the status page to a browser, a JSON help document to anything else.
 *
 * What it reads from ECS is kept in the function for CACHE_TTL_SECONDS (cache.ts), read with as few calls as the
 * APIs allow (fleet.ts); the decisions are in core.ts.
 */
import { ECSClient } from '@aws-sdk/client-ecs';
import { ClusterListError, Snapshot, StatusCache } from './cache';
import {
  PAGE_READ_LIMIT, ParameterProblem, ServicesQuery, csvHeader, helpDocument, parseServicesQuery, selectPage, servicesJson, shownMissing,
} from './core';
import { listClusterNames, readClusters } from './fleet';
import { HttpRequest, HttpResponse, errorResponse, jsonResponse, prefersHtml, requestFromEvent, text } from './http';
import type { Page } from './page';
import { clientConfig, describeError, errorName } from '../common/aws';
import { isOutOfTime } from '../common/budget';
import { env, readConfig } from '../common/config';
import { Invocation, lambdaHandler } from '../common/handler';
import { MetricUnit } from '../common/powertools';
import { ShownError } from '../common/redact';

const SERVICE = 'ecs-status-api';
const AUTHORIZATIONS = ['IAM', 'IP_ALLOW_LIST', 'API_KEY', 'NONE'] as const;

/** Lambda returns at most 6 MB to API Gateway; an answer stops short of it and gives a next token. */
const MAX_BODY_BYTES = 5 * 1024 * 1024;
/**
 * Time kept from the read for writing the answer (the time budget's reserve): an answer that cannot wait for ECS is a
 * JSON 503 or 504 with the request id, never Lambda's timeout.
 */
const RESERVE_MS = 2_000;
/** Seconds a caller is asked to wait after a 503 (ECS throttled the read). */
const RETRY_AFTER_SECONDS = 5;

// A person waits for the answer: three tries, so a throttled read answers 503 (Retry-After) in seconds.
const ecs = new ECSClient(clientConfig({ maxAttempts: 3 }));

function readSettings() {
  const c = readConfig({
    CLUSTERS: env.list({ default: [] }),
    CACHE_TTL_SECONDS: env.int({ min: 0, max: 900, default: 30 }),
    INHERIT_CLUSTER_TAGS: env.bool({ default: false }),
    AUTHORIZATION: env.oneOf(AUTHORIZATIONS, { default: 'IAM' }),
    TAG_KEY_ENVIRONMENT: env.optionalString(),
    TAG_KEY_OWNER: env.optionalString(),
    TAG_KEY_CONTACT: env.optionalString(),
    PAGE_TITLE: env.string({ default: 'ECS services' }),
    REFRESH_SECONDS: env.int({ min: 10, max: 3600, default: 60 }),
    READ_TIMEOUT_SECONDS: env.int({ min: 1, max: 900, default: 25 }),
  });
  const shortcutKeys = { environment: c.TAG_KEY_ENVIRONMENT, owner: c.TAG_KEY_OWNER, contact: c.TAG_KEY_CONTACT };
  const cache = new StatusCache({
    clusters: c.CLUSTERS,
    ttlMs: c.CACHE_TTL_SECONDS * 1000,
    reader: {
      listClusters: (signal) => listClusterNames(ecs, signal),
      readClusters: (clusters, signal, onRead) => readClusters(ecs, clusters, { clusterTags: c.INHERIT_CLUSTER_TAGS, signal, onRead }),
    },
  });
  return {
    cache,
    shortcutKeys,
    authorization: c.AUTHORIZATION,
    cacheTtlSeconds: c.CACHE_TTL_SECONDS,
    inheritClusterTags: c.INHERIT_CLUSTER_TAGS,
    readTimeoutMs: c.READ_TIMEOUT_SECONDS * 1000,
    page: { title: c.PAGE_TITLE, refreshSeconds: c.REFRESH_SECONDS },
  };
}
type Settings = ReturnType<typeof readSettings>;

/** The status page, made on the first GET / of the container; its code is a chunk of its own, not read for /services. */
let page: Page | undefined;

export const handler = lambdaHandler({
  service: SERVICE,
  reserveMs: RESERVE_MS,
  config: readSettings,
  run: async (event: unknown, invocation: Invocation<Settings>): Promise<HttpResponse> => {
    const started = Date.now();
    const parsed = requestFromEvent(event);
    if ('problem' in parsed) {
      invocation.logger.warn('not a REST API proxy event', { problem: parsed.problem });
      return errorResponse(400, parsed.problem);
    }
    const { request } = parsed;
    let response: HttpResponse;
    try {
      response = await route(request, invocation);
    } catch (error) {
      invocation.logger.error('request failed', { path: request.path, error: describeError(error) });
      invocation.metrics(metricDimensions()).addMetric('Errors', MetricUnit.Count, 1);
      response = isOutOfTime(error)
        ? errorResponse(504, 'not answered in time; the function log has the details', { requestId: invocation.context.awsRequestId })
        : errorResponse(500, 'internal error; the function log has the details', { requestId: invocation.context.awsRequestId });
    }
    invocation.logger.info('answered', {
      method: request.method,
      path: request.path,
      status: response.statusCode,
      apiRequestId: request.requestId,
      ms: Date.now() - started,
    });
    return response;
  },
});

async function route(request: HttpRequest, invocation: Invocation<Settings>): Promise<HttpResponse> {
  const known = request.path === '/' || request.path === '/services' || request.path === '/list';
  if (!known) {
    return errorResponse(404, `no such endpoint: ${request.method} ${request.path}`, { endpoints: ['GET /', 'GET /services', 'GET /list'] });
  }
  if (request.method !== 'GET') {
    return errorResponse(405, `${request.method} is not allowed on ${request.path}; use GET`, {}, { Allow: 'GET' });
  }
  return request.path === '/' ? root(request, invocation.config) : services(request, invocation);
}

async function root(request: HttpRequest, settings: Settings): Promise<HttpResponse> {
  const format = request.query.get('format')?.[0]?.toLowerCase();
  if (format !== undefined && format !== 'html' && format !== 'json') {
    return badRequest([{ parameter: 'format', message: `format=${JSON.stringify(format)} is not one of the allowed values`, allowed: ['html', 'json'] }]);
  }
  const html = format === 'html' || (format === undefined && prefersHtml(request.headers.accept));
  if (!html) {
    return jsonResponse(200, helpDocument({
      authorization: settings.authorization,
      cacheTtlSeconds: settings.cacheTtlSeconds,
      shortcutKeys: settings.shortcutKeys,
      inheritClusterTags: settings.inheritClusterTags,
    }), { Vary: 'Accept' });
  }
  const { statusPage } = await import('./page');
  page ??= statusPage({
    ...settings.page,
    authorization: settings.authorization,
    cacheTtlSeconds: settings.cacheTtlSeconds,
    pageLimit: PAGE_READ_LIMIT,
  });
  return text(200, page.html, 'text/html; charset=utf-8', {
    'Content-Security-Policy': page.contentSecurityPolicy,
    'Vary': 'Accept',
  });
}

async function services(request: HttpRequest, invocation: Invocation<Settings>): Promise<HttpResponse> {
  const settings = invocation.config;
  const parsed = parseServicesQuery(request.query, settings.shortcutKeys);
  if (!parsed.query) return badRequest(parsed.problems);
  const query: ServicesQuery = parsed.query;

  // Stop reading ECS in time to answer with what was read: API Gateway gives up after 29 s, and the time budget ends
  // with time left to write the answer.
  const budget = Math.max(1000, Math.min(settings.readTimeoutMs, invocation.budget.remainingMs()));
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new DeadlineError(budget)), budget);
  let snapshot: Snapshot;
  try {
    snapshot = await settings.cache.snapshot(deadline.signal);
  } catch (error) {
    if (!(error instanceof ClusterListError)) throw error;
    invocation.logger.error('could not list the clusters', { error: describeError(error.cause) });
    invocation.metrics(metricDimensions()).addMetric('Errors', MetricUnit.Count, 1);
    // Aborted at the read's deadline, the list is "not in time" whatever error the abort surfaced as.
    return unavailable([deadline.signal.aborted ? deadline.signal.reason : error.cause], error.message, { missingClusters: [] }, invocation);
  } finally {
    clearTimeout(timer);
  }
  const metrics = invocation.metrics(metricDimensions());
  metrics.addMetric('MissingClusters', MetricUnit.Count, snapshot.missing.length);
  metrics.addMetric('ClustersRead', MetricUnit.Count, snapshot.clustersRead);
  if (snapshot.missing.length > 0) {
    invocation.logger.warn('answering without some clusters', { missingClusters: snapshot.missing });
  }
  if (snapshot.clusters.length === 0 && snapshot.missing.length > 0) {
    // Classified by each cluster's logged detail (the shown error is only its name), answered with the shown form.
    return unavailable(snapshot.missing.map((m) => m.detail ?? m.error), `none of the ${snapshot.missing.length} cluster(s) could be read`,
      { missingClusters: shownMissing(snapshot.missing) }, invocation);
  }

  const { page: selected, total, nextToken } = selectPage(snapshot.services, query, { maxBytes: MAX_BODY_BYTES });
  if (query.format === 'csv') {
    const body = [csvHeader(), ...selected.map((s) => s.csv())].join('\r\n') + '\r\n';
    const stamp = snapshot.generatedAt.toISOString().replace(/[:.]/g, '-');
    return text(200, body, 'text/csv; charset=utf-8; header=present', {
      'Content-Disposition': `attachment; filename="ecs-services-${stamp}.csv"`,
      'X-Generated-At': snapshot.generatedAt.toISOString(),
      'X-Total-Count': String(total),
      ...(snapshot.missing.length > 0 ? { 'X-Missing-Clusters': snapshot.missing.map((m) => m.cluster).join(',') } : {}),
      ...(nextToken ? { 'X-Next-Token': nextToken } : {}),
    });
  }
  return jsonResponse(200, servicesJson({
    generatedAt: snapshot.generatedAt,
    clusters: snapshot.clusters,
    missing: snapshot.missing,
    filters: query.filters,
    page: selected,
    total,
    nextToken,
  }));
}

/**
 * The answer when ECS could not be read: 504 when it did not answer in time (the read's deadline, the time budget, a
 * timeout), 503 with Retry-After when it throttled the read, else 502; each with the Lambda request id, which the
 * function's log has with the details.
 */
function unavailable(causes: readonly unknown[], error: string, details: Record<string, unknown>, invocation: Invocation<Settings>): HttpResponse {
  const timedOut = causes.length > 0 && causes.every((c) => slow(c));
  const throttled = !timedOut && causes.some((c) => throttling(c));
  const status = timedOut ? 504 : throttled ? 503 : 502;
  return errorResponse(status, error, { ...details, requestId: invocation.context.awsRequestId },
    throttled ? { 'Retry-After': String(RETRY_AFTER_SECONDS) } : {});
}

/** An error (or a missing cluster's error text) that says ECS did not answer in time. */
function slow(cause: unknown): boolean {
  if (typeof cause === 'string') return /^(DeadlineExceeded|TimeoutError|AbortError)\b|out of time/.test(cause);
  if (isOutOfTime(cause)) return true;
  for (let e = cause as { name?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.name === 'DeadlineExceeded' || e.name === 'TimeoutError') return true;
  }
  return false;
}

/** An error (or a missing cluster's error text) that says ECS throttled the read. */
function throttling(cause: unknown): boolean {
  const name = typeof cause === 'string' ? cause.split(/[\s:(]/)[0] : errorName(cause);
  return name === 'ThrottlingException' || name === 'TooManyRequestsException';
}

/** What a cluster not read in time is reported with (its message is the library's own, so an answer shows it). */
class DeadlineError extends ShownError {
  constructor(ms: number) {
    super(`not read within ${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s; the answer leaves it out rather than miss API Gateway's 29 s`, 'DeadlineExceeded');
  }
}

function badRequest(problems: readonly ParameterProblem[]): HttpResponse {
  return errorResponse(400, `invalid query: ${problems.map((p) => p.message).join('; ')}`, {
    parameters: [...new Set(problems.map((p) => p.parameter))],
    problems,
  });
}

/** Metrics are per function, so two status APIs in one account keep theirs apart. */
function metricDimensions(): Record<string, string> {
  return { FunctionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local' };
}
