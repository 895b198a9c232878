/**
 * The EcsStatusApi handler against the fake fleet, called with API Gateway REST API proxy events made from the
 * published sample: routing, the answers' shape, every filter, bad requests, large fleets, failures and the cache.
 */
// The handler is loaded in a fresh module registry per configuration; share the ECS client so the fleet answers it.
jest.mock('@aws-sdk/client-ecs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ecs'));

import { FakeFleet } from '../support/fake-fleet';
import { StdoutCapture, advanceClock, useFakeClock } from '../support/handler-harness';
import { defaultStatusApiEnvironment } from './support/environment';
import { seedLargeFleet, seedSampleFleet } from './support/sample-fleet';
import { StatusHandler, json, listAllServices, listServices, loadStatusApi, restEvent, sampleEvent } from './support/status';

const T0 = new Date('2026-03-02T08:00:00.000Z');
const ORIGINAL_ENV = { ...process.env };

let fleet: FakeFleet;
let stdout: StdoutCapture;

beforeEach(() => {
  useFakeClock(T0);
  fleet = new FakeFleet({ now: () => new Date() }).install();
  stdout = new StdoutCapture().start();
});

afterEach(() => {
  stdout.stop();
  fleet.uninstall();
  jest.useRealTimers();
  process.env = { ...ORIGINAL_ENV };
});

/** A Lambda context with this request id and this much time left. */
function lambdaContext(awsRequestId: string, remainingMs = 29_000): any {
  return { awsRequestId, getRemainingTimeInMillis: () => remainingMs };
}

/** A handler configured as the construct configures it by default (every cluster, IAM, 30 s cache), plus `env`. */
function statusApi(env: Record<string, string> = {}): StatusHandler {
  return loadStatusApi({ ...defaultStatusApiEnvironment(), ...env });
}

const names = (services: any[]) => services.map((s) => `${s.cluster}/${s.name}`);
const ecsCalls = () => fleet.calls.filter((c) => c.service === 'ecs');
const countOf = (command: string) => fleet.callsTo('ecs', command).length;

describe('routing', () => {
  test('the published REST API sample (POST /hello/world through {proxy+}) is answered 404 with the endpoints', async () => {
    const response = await statusApi()(sampleEvent('rest-v1-proxy-aws-lambda-go'));

    expect(response.statusCode).toBe(404);
    expect(json(response)).toEqual({
      error: 'no such endpoint: POST /hello/world',
      endpoints: ['GET /', 'GET /services', 'GET /list'],
    });
    expect(ecsCalls()).toEqual([]);
  });

  test('the published HTTP API (payload 2.0) sample gets a clear 400, not a crash', async () => {
    const response = await statusApi()(sampleEvent('http-v2-no-authorizer-aws-lambda-go'));

    expect(response.statusCode).toBe(400);
    expect(json(response).error).toMatch(/answers API Gateway REST API proxy events \(payload format 1\.0\); it got an HTTP API event \(payload format 2\.0\)/);
  });

  test.each([
    ['an empty event', {}],
    ['a scheduled event', { 'detail-type': 'Scheduled Event', 'source': 'aws.events' }],
    ['no event', undefined],
  ])('%s gets a 400 naming what the function answers', async (_name, event) => {
    const response = await statusApi()(event);

    expect(response.statusCode).toBe(400);
    expect(json(response).error).toBe('This function answers API Gateway REST API proxy events (payload format 1.0); the event is not one.');
  });

  test('a method other than GET on an endpoint gets 405 with Allow: GET', async () => {
    const response = await statusApi()(restEvent('/services', { method: 'POST' }));

    expect(response.statusCode).toBe(405);
    expect(response.headers).toMatchObject({ Allow: 'GET' });
  });

  test('GET / gives a browser the status page, with a strict Content-Security-Policy', async () => {
    const response = await statusApi({ PAGE_TITLE: 'Payments <fleet>' })(restEvent('/', {
      headers: { Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8' },
    }));

    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'Vary': 'Accept' });
    const csp = String(response.headers!['Content-Security-Policy']);
    expect(csp).toMatch(/^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]{44}'; style-src 'sha256-[A-Za-z0-9+/=]{44}'; connect-src 'self'; /);
    expect(response.body).toMatch(/^<!doctype html>/);
    expect(response.body).toContain('<title>Payments &lt;fleet&gt;</title>');
    // Self-contained: nothing is fetched from anywhere but this API.
    expect(response.body).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(ecsCalls()).toEqual([]);
  });

  test('GET / gives anything else the JSON help document; format= chooses explicitly', async () => {
    const handler = statusApi({ TAG_KEY_OWNER: 'team' });

    const help = json(await handler(restEvent('/', { headers: { Accept: '*/*' } })));
    expect(help).toMatchObject({
      name: 'ECS status API',
      authorization: 'IAM',
      cacheTtlSeconds: 30,
      endpoints: [{ path: '/' }, { path: '/services' }, { path: '/list' }],
      examples: expect.arrayContaining(['services?environment=prod&health=DEGRADED&health=DOWN']),
    });
    expect(help.parameters.map((p: any) => p.name)).toEqual([
      'tag:<key>', 'environment', 'owner', 'contact', 'cluster', 'name', 'launchType', 'health', 'status', 'format', 'limit', 'nextToken',
    ]);
    expect(help.parameters.find((p: any) => p.name === 'owner').description).toMatch(/tag key team$/);
    expect((await handler(restEvent('/', { headers: { Accept: 'text/html' }, query: { format: 'json' } }))).headers!['Content-Type'])
      .toMatch(/^application\/json/);
    expect((await handler(restEvent('/', { query: { format: 'html' } }))).headers!['Content-Type']).toMatch(/^text\/html/);
    expect((await handler(restEvent('/', { query: { format: 'xml' } }))).statusCode).toBe(400);
  });

  test('behind a custom domain the resource decides the route, not the path with its base path', async () => {
    seedSampleFleet(fleet);

    const response = await statusApi()(restEvent('/services', { path: '/ops/status/services' }));

    expect(response.statusCode).toBe(200);
    expect(json(response).total).toBe(12);
  });
});

describe('GET /services', () => {
  test('reports every service of every cluster with counts, launch, rollout, health, tags and the last event', async () => {
    seedSampleFleet(fleet);

    const body = await listServices(statusApi());

    expect(body).toMatchObject({ generatedAt: T0.toISOString(), partial: false, clusters: ['batch', 'prod', 'staging'], missingClusters: [], total: 12, count: 12 });
    expect(names(body.services)).toEqual([
      'batch/edge-sync', 'batch/nightly-export',
      'prod/checkout-api', 'prod/image-resizer', 'prod/payments-worker', 'prod/recommendations', 'prod/search', 'prod/web',
      'staging/checkout-api', 'staging/legacy-admin', 'staging/search', 'staging/web',
    ]);
    const byName = Object.fromEntries(body.services.map((s: any) => [`${s.cluster}/${s.name}`, s]));
    expect(byName['prod/payments-worker']).toEqual({
      cluster: 'prod',
      name: 'payments-worker',
      arn: 'arn:aws:ecs:us-east-1:123456789012:service/prod/payments-worker',
      status: 'ACTIVE',
      launchType: 'FARGATE',
      capacityProviders: [],
      schedulingStrategy: 'REPLICA',
      desired: 4,
      running: 2,
      pending: 0,
      rollout: { state: 'FAILED', reason: 'ECS deployment circuit breaker: 3 tasks failed to start.', updatedAt: T0.toISOString() },
      failedTasks: 3,
      taskDefinition: 'payments-worker:1',
      health: { verdict: 'DEGRADED', rule: 'ROLLOUT_FAILED', reason: 'rollout failed: ECS deployment circuit breaker: 3 tasks failed to start; 2 of 4 tasks running' },
      tags: { environment: 'prod', owner: 'payments', contact: 'payments-oncall@example.com', team: 'payments' },
      lastEventAt: new Date(T0.getTime() - 7 * 60_000).toISOString(),
      lastEvent: '(service payments-worker) (deployment ecs-svc/0123) deployment failed: tasks failed to start.',
    });
    expect(byName['prod/recommendations'].health).toEqual({ verdict: 'DOWN', rule: 'NO_RUNNING_TASKS', reason: '0 of 2 tasks running' });
    expect(byName['staging/checkout-api']).toMatchObject({ launchType: 'FARGATE', capacityProviders: ['FARGATE_SPOT', 'FARGATE'] });
    expect(byName['prod/image-resizer']).toMatchObject({ launchType: 'EC2', capacityProviders: ['prod-asg-provider'] });
    expect(byName['batch/edge-sync'].launchType).toBe('EXTERNAL');
    expect(byName['staging/legacy-admin']).toMatchObject({ status: 'DRAINING', health: { verdict: 'DEGRADED', rule: 'SERVICE_DRAINING' } });
    expect(byName['staging/search'].health).toMatchObject({ verdict: 'OK', rule: 'SCALED_TO_ZERO' });
    expect(byName['staging/web'].health).toEqual({ verdict: 'DEGRADED', rule: 'BELOW_DESIRED', reason: '1 of 2 tasks running; a deployment is in progress' });
    expect(body.services.map((s: any) => s.health.verdict).sort()).toEqual([
      'DEGRADED', 'DEGRADED', 'DEGRADED', 'DOWN', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK',
    ]);
  });

  test('reads tags with DescribeServices (include TAGS): no ListTagsForResource, no DescribeClusters', async () => {
    seedSampleFleet(fleet);

    await listServices(statusApi());

    expect([...new Set(ecsCalls().map((c) => c.command))].sort()).toEqual(['DescribeServices', 'ListClusters', 'ListServices']);
    expect(fleet.callsTo('ecs', 'DescribeServices').every((c) => c.input.include?.includes('TAGS') && c.input.services.length <= 10)).toBe(true);
  });

  test('GET /list, the original path, answers the same', async () => {
    seedSampleFleet(fleet);
    const handler = statusApi();

    const list = json(await handler(restEvent('/list', { query: { environment: 'prod' } })));
    const services = await listServices(handler, { environment: 'prod' });

    expect(list).toEqual(services);
  });

  test('configured clusters are read without ListClusters; a configured cluster that does not exist is missing', async () => {
    seedSampleFleet(fleet);

    const body = await listServices(statusApi({ CLUSTERS: 'prod,gone' }));

    expect(countOf('ListClusters')).toBe(0);
    expect(body).toMatchObject({ partial: true, clusters: ['prod'], missingClusters: [{ cluster: 'gone', error: 'ClusterNotFoundException (HTTP 400)' }] });
    expect(new Set(body.services.map((s: any) => s.cluster))).toEqual(new Set(['prod']));
  });

  test('an account without clusters is an empty list', async () => {
    expect(await listServices(statusApi())).toMatchObject({ clusters: [], missingClusters: [], partial: false, total: 0, services: [] });
  });
});

describe('filters', () => {
  let handler: StatusHandler;
  beforeEach(() => {
    seedSampleFleet(fleet);
    handler = statusApi();
  });

  test.each([
    [{ environment: 'staging' }, ['staging/checkout-api', 'staging/legacy-admin', 'staging/search', 'staging/web']],
    [{ owner: 'payments' }, ['prod/checkout-api', 'prod/payments-worker', 'staging/checkout-api']],
    [{ contact: '#discovery-alerts' }, ['prod/recommendations', 'prod/search', 'staging/search']],
    [{ 'tag:team': 'storefront' }, ['prod/web', 'staging/web']],
    [{ 'tag:team': '*' }, ['prod/checkout-api', 'prod/payments-worker', 'prod/web', 'staging/checkout-api', 'staging/web']],
    [{ cluster: 'batch' }, ['batch/edge-sync', 'batch/nightly-export']],
    [{ cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/batch' }, ['batch/edge-sync', 'batch/nightly-export']],
    [{ launchType: 'FARGATE', environment: 'prod' }, ['prod/checkout-api', 'prod/payments-worker', 'prod/web']],
    [{ launchType: 'EC2' }, ['batch/nightly-export', 'prod/image-resizer', 'prod/recommendations', 'prod/search']],
    [{ launchType: 'EXTERNAL' }, ['batch/edge-sync']],
    [{ health: ['DOWN', 'DEGRADED'] }, ['prod/payments-worker', 'prod/recommendations', 'staging/legacy-admin', 'staging/web']],
    [{ status: 'DRAINING' }, ['staging/legacy-admin']],
    [{ name: 'CHECKOUT' }, ['prod/checkout-api', 'staging/checkout-api']],
    [{ environment: 'prod', owner: 'discovery', health: 'DOWN' }, ['prod/recommendations']],
    [{ environment: 'prod', owner: 'nobody' }, []],
  ])('%j', async (query, expected) => {
    const body = await listServices(handler, query);

    expect(names(body.services)).toEqual(expected);
    expect(body.total).toBe(expected.length);
  });

  test('the filters are echoed, and one read serves every filter (the cache)', async () => {
    const body = await listServices(handler, { 'environment': 'Prod', 'tag:team': ['payments', 'storefront'] });
    fleet.resetCalls();
    await listServices(handler, { launchType: 'EC2' });

    expect(body.filters).toEqual({ 'environment': ['prod'], 'tag:team': ['payments', 'storefront'] });
    expect(ecsCalls()).toEqual([]);
  });

  test('with inheritClusterTags, services match their cluster\'s tags (one DescribeClusters call)', async () => {
    const inheriting = statusApi({ INHERIT_CLUSTER_TAGS: 'true' });

    const body = await listServices(inheriting, { 'tag:cost-center': 'cc-2077' });

    expect(names(body.services)).toEqual(['batch/edge-sync', 'batch/nightly-export']);
    // edge-sync says environment=prod itself; nightly-export has no environment tag and inherits batch's.
    expect(body.services.map((s: any) => [s.tags.environment, s.inheritedTags.environment])).toEqual([['prod', undefined], [undefined, 'prod']]);
    expect(countOf('DescribeClusters')).toBe(1);
    expect(fleet.callsTo('ecs', 'DescribeClusters')[0].input).toEqual({ clusters: ['batch', 'prod', 'staging'], include: ['TAGS'] });
  });

  test('organisation tag keys: the shortcuts read the configured keys', async () => {
    const custom = statusApi({ TAG_KEY_OWNER: 'team' });

    expect(names((await listServices(custom, { owner: 'storefront' })).services)).toEqual(['prod/web', 'staging/web']);
  });
});

describe('bad requests', () => {
  test('unknown parameters and bad values get 400 naming each parameter and its allowed values, and read nothing', async () => {
    seedSampleFleet(fleet);

    const response = await statusApi()(restEvent('/services', { query: { env: 'prod', health: 'RED', launchType: 'fargate' } }));

    expect(response.statusCode).toBe(400);
    expect(json(response)).toEqual({
      error: 'invalid query: unknown parameter "env"; health="RED" is not one of the allowed values',
      parameters: ['env', 'health'],
      problems: [
        { parameter: 'env', message: 'unknown parameter "env"', allowed: expect.arrayContaining(['environment', 'tag:<key>']) },
        { parameter: 'health', message: 'health="RED" is not one of the allowed values', allowed: ['OK', 'DEGRADED', 'DOWN'] },
      ],
    });
    expect(ecsCalls()).toEqual([]);
  });

  test('a nextToken from other filters, or made up, gets 400', async () => {
    seedSampleFleet(fleet);
    const handler = statusApi();
    const first = await listServices(handler, { environment: 'prod', limit: '2' });

    const other = await handler(restEvent('/services', { query: { environment: 'staging', limit: '2', nextToken: first.nextToken } }));
    const madeUp = await handler(restEvent('/services', { query: { nextToken: 'eyJ2IjoyfQ' } }));

    expect([other.statusCode, json(other).parameters]).toEqual([400, ['nextToken']]);
    expect([madeUp.statusCode, json(madeUp).parameters]).toEqual([400, ['nextToken']]);
  });
});

describe('large fleets', () => {
  test('2,000 services in 20 clusters: 1 ListClusters, 20 ListServices, 200 DescribeServices, no call more', async () => {
    seedLargeFleet(fleet, 20, 100);
    const handler = statusApi();

    const all = await listAllServices(handler, { limit: '1000' });

    expect(all).toHaveLength(2000);
    expect(new Set(names(all)).size).toBe(2000);
    expect([countOf('ListClusters'), countOf('ListServices'), countOf('DescribeServices'), ecsCalls().length]).toEqual([1, 20, 200, 221]);
    expect(fleet.callsTo('ecs', 'ListServices').every((c) => c.input.maxResults === 100 && c.input.nextToken === undefined)).toBe(true);
  });

  test('pages: 500 by default, limit and nextToken walk the list in order without gaps or repeats', async () => {
    seedLargeFleet(fleet, 3, 250);
    const handler = statusApi();

    const first = await listServices(handler);
    const walked = await listAllServices(handler, { limit: '200', environment: 'prod' });

    expect([first.count, first.total, typeof first.nextToken]).toEqual([500, 750, 'string']);
    expect(walked).toHaveLength(500);
    expect(names(walked)).toEqual([...names(walked)].sort());
    expect(new Set(names(walked)).size).toBe(500);
    // Two pages of 250 services per cluster: 3 ListServices pages each, all read once.
    expect([countOf('ListServices'), countOf('DescribeServices')]).toEqual([9, 75]);
  });

  test('CSV: every matching service with a header, tags as key=value, and the data time in a header', async () => {
    seedSampleFleet(fleet);
    fleet.updateService('prod', 'search', { tags: { environment: 'prod', owner: '=cmd|"/c calc"!A1', contact: 'a, b' } });

    const response = await statusApi()(restEvent('/services', { query: { format: 'csv', cluster: 'prod' } }));

    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({
      'Content-Type': 'text/csv; charset=utf-8; header=present',
      'Content-Disposition': 'attachment; filename="ecs-services-2026-03-02T08-00-00-000Z.csv"',
      'X-Generated-At': T0.toISOString(),
      'X-Total-Count': '6',
    });
    const lines = response.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe('cluster,service,status,health,healthRule,healthReason,launchType,capacityProviders,desired,running,pending,rolloutState,failedTasks,taskDefinition,lastEventAt,tags,arn');
    expect(lines).toHaveLength(7);
    expect(lines.find((l) => l.startsWith('prod,search,'))).toContain(',"environment=prod;owner==cmd|""/c calc""!A1;contact=a, b",');
  });
});

describe('failures', () => {
  test('a cluster throttled past the SDK\'s retries is missing from a partial answer; the others are answered', async () => {
    seedLargeFleet(fleet, 3, 30);
    fleet.injectFault({ command: 'DescribeServices', when: (input) => input.cluster === 'cluster-01', error: 'throttle', onCall: 2 });

    const body = await listServices(statusApi());

    expect(body).toMatchObject({
      partial: true,
      clusters: ['cluster-00', 'cluster-02'],
      missingClusters: [{ cluster: 'cluster-01', error: 'ThrottlingException (HTTP 400)' }],
      total: 60,
    });
    expect(body.services.some((s: any) => s.cluster === 'cluster-01')).toBe(false);
    const metrics = stdout.emf().find((doc) => 'MissingClusters' in doc);
    expect(metrics).toMatchObject({ MissingClusters: 1, ClustersRead: 3, service: 'ecs-status-api' });
  });

  test('a missing cluster is read again on the next request; the clusters read are served from the cache', async () => {
    seedLargeFleet(fleet, 3, 5);
    fleet.injectFault({ command: 'ListServices', when: (input) => input.cluster === 'cluster-02', error: 'http500', times: 1 });
    const handler = statusApi();
    await listServices(handler);
    fleet.resetCalls();

    const second = await listServices(handler);

    expect(second).toMatchObject({ partial: false, missingClusters: [], total: 15 });
    expect([...new Set(ecsCalls().map((c) => c.input.cluster))]).toEqual(['cluster-02']);
    expect(countOf('ListClusters')).toBe(0);
  });

  test('when no cluster can be read, 502 with every cluster and its error\'s name, and the request id; the log has the rest', async () => {
    seedLargeFleet(fleet, 2, 5);
    fleet.injectFault({ command: 'ListServices', error: 'http500' });

    const response = await statusApi()(restEvent('/services'));

    expect(response.statusCode).toBe(502);
    expect(json(response)).toEqual({
      error: 'none of the 2 cluster(s) could be read',
      missingClusters: [
        { cluster: 'cluster-00', error: 'ServerException (HTTP 500)' },
        { cluster: 'cluster-01', error: 'ServerException (HTTP 500)' },
      ],
      requestId: expect.stringMatching(/^local-/),
    });
    expect(stdout.json().find((l) => l.message === 'answering without some clusters')?.missingClusters).toContainEqual({
      cluster: 'cluster-00', error: 'ServerException (HTTP 500)', detail: 'ServerException (HTTP 500): Service Unavailable. Please try again later.',
    });
  });

  test('when the clusters cannot be listed, 502 with the error\'s name and the request id, never the AWS error text; the log has it', async () => {
    seedSampleFleet(fleet);
    fleet.injectFault({ command: 'ListClusters', error: 'access-denied' });

    const response = await statusApi()(restEvent('/services'));

    expect(response.statusCode).toBe(502);
    expect(json(response)).toEqual({
      error: 'could not list the clusters: AccessDeniedException (HTTP 400)',
      missingClusters: [],
      requestId: expect.stringMatching(/^local-/),
    });
    expect(response.body).not.toMatch(/arn:|\d{12}|not authorized/);
    expect(stdout.json().find((l) => l.message === 'could not list the clusters')?.error)
      .toMatch(/^AccessDeniedException \(HTTP 400\): User: .* is not authorized to perform: ecs:ListClusters/);
  });

  test('when ECS throttles the list of clusters, 503 with Retry-After and the request id', async () => {
    seedSampleFleet(fleet);
    fleet.injectFault({ command: 'ListClusters', error: 'throttle' });

    const response = await statusApi()(restEvent('/services'), lambdaContext('c0ffee00-throttled'));

    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({ 'Retry-After': '5' });
    expect(json(response)).toMatchObject({ error: expect.stringMatching(/^could not list the clusters: ThrottlingException/), requestId: 'c0ffee00-throttled' });
  });

  test('when no cluster is read by the deadline, 504 with every cluster, in time, with the request id', async () => {
    jest.useRealTimers();
    seedLargeFleet(fleet, 2, 5);
    fleet.injectFault({ command: 'ListServices', latencyMs: 1300 });
    const handler = statusApi({ READ_TIMEOUT_SECONDS: '1' });

    const response = await handler(restEvent('/services'), lambdaContext('c0ffee00-slow'));

    expect(response.statusCode).toBe(504);
    expect(json(response)).toMatchObject({
      error: 'none of the 2 cluster(s) could be read',
      missingClusters: [
        { cluster: 'cluster-00', error: expect.stringMatching(/^DeadlineExceeded: not read within 1 s/) },
        { cluster: 'cluster-01', error: expect.stringMatching(/^DeadlineExceeded: not read within 1 s/) },
      ],
      requestId: 'c0ffee00-slow',
    });
  });

  test('the read ends with the time budget: the function\'s remaining time less the reserve, whatever READ_TIMEOUT_SECONDS says', async () => {
    jest.useRealTimers();
    seedLargeFleet(fleet, 1, 5);
    fleet.injectFault({ command: 'ListServices', latencyMs: 2500 });
    const handler = statusApi({ READ_TIMEOUT_SECONDS: '25' });

    // 4.5 s left: the 2 s reserve and the 1 s margin leave 1.5 s to read
    const response = await handler(restEvent('/services'), lambdaContext('c0ffee00-budget', 4_500));

    expect(response.statusCode).toBe(504);
    expect(json(response).missingClusters).toEqual([{ cluster: 'cluster-00', error: expect.stringMatching(/^DeadlineExceeded: not read within 1\.5 s/) }]);
  });

  test('a cluster not read by the deadline is missing, and the answer comes in time with the rest', async () => {
    jest.useRealTimers();
    seedLargeFleet(fleet, 2, 5);
    fleet.injectFault({ command: 'ListServices', when: (input) => input.cluster === 'cluster-01', latencyMs: 1300 });
    const handler = statusApi({ READ_TIMEOUT_SECONDS: '1' });

    const body = await listServices(handler);

    expect(body).toMatchObject({
      clusters: ['cluster-00'],
      missingClusters: [{ cluster: 'cluster-01', error: "DeadlineExceeded: not read within 1 s; the answer leaves it out rather than miss API Gateway's 29 s" }],
    });
  });
});

describe('the cache', () => {
  test('within cacheTtl a request makes no ECS call; after it, the fleet is read again and changes show', async () => {
    seedSampleFleet(fleet);
    const handler = statusApi({ CACHE_TTL_SECONDS: '30' });
    await listServices(handler);
    fleet.updateService('prod', 'search', { runningCount: 1 });
    fleet.resetCalls();

    advanceClock(29_000);
    const cached = await listServices(handler, { cluster: 'prod', name: 'search' });
    expect(ecsCalls()).toEqual([]);
    expect(cached.services[0].running).toBe(3);
    expect(cached.generatedAt).toBe(T0.toISOString());

    advanceClock(2_000);
    const fresh = await listServices(handler, { cluster: 'prod', name: 'search' });
    expect(countOf('ListClusters')).toBe(1);
    expect(fresh.services[0]).toMatchObject({ running: 1, health: { verdict: 'DEGRADED', rule: 'BELOW_DESIRED' } });
    expect(fresh.generatedAt).toBe(new Date(T0.getTime() + 31_000).toISOString());
  });

  test('cacheTtl 0 reads ECS on every request', async () => {
    seedLargeFleet(fleet, 2, 3);
    const handler = statusApi({ CACHE_TTL_SECONDS: '0' });

    await listServices(handler);
    await listServices(handler);

    expect([countOf('ListClusters'), countOf('ListServices')]).toEqual([2, 4]);
  });

  test('requests that overlap share one read', async () => {
    jest.useRealTimers();
    seedLargeFleet(fleet, 4, 20);
    fleet.injectFault({ service: 'ecs', latencyMs: 20 });
    const handler = statusApi();

    const answers = await Promise.all([listServices(handler), listServices(handler, { environment: 'prod' }), listServices(handler)]);

    expect(answers.map((a) => a.total)).toEqual([80, 40, 80]);
    expect([countOf('ListClusters'), countOf('ListServices'), countOf('DescribeServices')]).toEqual([1, 4, 8]);
  });

  test('a cluster removed from the account is dropped when the cluster list is read again', async () => {
    seedLargeFleet(fleet, 2, 2);
    const handler = statusApi();
    await listServices(handler);
    fleet.clusters.get('cluster-01')!.status = 'INACTIVE';

    advanceClock(31_000);
    const body = await listServices(handler);

    expect(body).toMatchObject({ clusters: ['cluster-00'], total: 2, partial: false });
  });
});
