/**
 * Loading the status API handler with a configuration, and the API Gateway events it is called with.
 *
 * The handler reads its environment once per module, so each configuration needs a fresh copy: `loadStatusApi(env)`
 * loads one in a fresh module registry. Test files share the ECS client package across registries with
 * `jest.mock('@aws-sdk/client-ecs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ecs'))`,
 * so the fake fleet answers the handler's client.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import type { APIGatewayProxyResult } from 'aws-lambda';

export type StatusHandler = (event: unknown, context?: object) => Promise<APIGatewayProxyResult>;

/** Every variable the handler reads; cleared before each load. */
export const STATUS_VARIABLES = [
  'CLUSTERS', 'CACHE_TTL_SECONDS', 'INHERIT_CLUSTER_TAGS', 'AUTHORIZATION', 'TAG_KEY_ENVIRONMENT', 'TAG_KEY_OWNER', 'TAG_KEY_CONTACT',
  'PAGE_TITLE', 'REFRESH_SECONDS', 'READ_TIMEOUT_SECONDS',
  'POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_DEV',
] as const;

/**
 * Set the environment (only `env`'s status API variables; the others are removed) and load a fresh handler.
 * Restore `process.env` in `afterEach`.
 */
export function loadStatusApi(env: Record<string, string | undefined> = {}): StatusHandler {
  for (const name of STATUS_VARIABLES) delete process.env[name];
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined) process.env[name] = value;
  }
  jest.resetModules();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../../../lambda/ecs-status-api').handler;
}

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'aws', 'apigateway');

/** A published API Gateway sample event (test/fixtures/aws/apigateway). */
export function sampleEvent(name: 'rest-v1-proxy-aws-lambda-go' | 'http-v2-no-authorizer-aws-lambda-go'): any {
  return JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8'));
}

export interface RestEventOptions {
  readonly method?: string;
  /** The API resource (`/services`); for a custom domain the request path can differ (`path`). */
  readonly resource?: string;
  readonly path?: string;
  /** Query parameters; an array repeats the parameter. */
  readonly query?: Record<string, string | string[]>;
  readonly headers?: Record<string, string>;
}

/**
 * A REST API proxy event for the status API's own resources, made from the published sample (so every field API
 * Gateway sends is there, in its real shape) with the resource, method, query and headers of the request.
 */
export function restEvent(resource: string, options: RestEventOptions = {}): any {
  const event = sampleEvent('rest-v1-proxy-aws-lambda-go');
  const method = options.method ?? 'GET';
  const query = Object.entries(options.query ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v : [v]] as const);
  const headers = { Accept: 'application/json', ...options.headers };
  event.resource = options.resource ?? resource;
  event.path = options.path ?? resource;
  event.httpMethod = method;
  event.body = null;
  event.pathParameters = null;
  event.headers = { ...event.headers, ...headers };
  event.multiValueHeaders = { ...event.multiValueHeaders, ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])) };
  event.queryStringParameters = query.length > 0 ? Object.fromEntries(query.map(([k, v]) => [k, v[v.length - 1]])) : null;
  event.multiValueQueryStringParameters = query.length > 0 ? Object.fromEntries(query) : null;
  event.requestContext = { ...event.requestContext, resourcePath: event.resource, httpMethod: method, path: `/v1${event.path}`, stage: 'v1' };
  return event;
}

/** The parsed JSON body of an answer. */
export function json(response: APIGatewayProxyResult): any {
  expect(response.headers?.['Content-Type']).toMatch(/^application\/json/);
  return JSON.parse(response.body);
}

/** `GET /services` with the query, answered by `handler`, as parsed JSON (status 200 asserted). */
export async function listServices(handler: StatusHandler, query: Record<string, string | string[]> = {}): Promise<any> {
  const response = await handler(restEvent('/services', { query }));
  if (response.statusCode !== 200) throw new Error(`GET /services answered ${response.statusCode}: ${response.body}`);
  return json(response);
}

/** Every service of a paged list, following nextToken. */
export async function listAllServices(handler: StatusHandler, query: Record<string, string | string[]> = {}): Promise<any[]> {
  const services: any[] = [];
  let token: string | undefined;
  do {
    const page = await listServices(handler, { ...query, ...(token ? { nextToken: token } : {}) });
    services.push(...page.services);
    token = page.nextToken;
  } while (token);
  return services;
}
