/**
 * EcsStatusApi over a large fleet: 2,000 services in 20 clusters, every ECS call answered after 50 ms by the fake
 * fleet (about what the API takes from a Lambda function in-region). Prints the latency of `GET /services` with an
 * empty cache (cold: every cluster read) and from the function's cache, the calls made, and the same calls made one
 * after another (a sequential implementation, as the original function made them) for comparison. Nothing is asserted.
 *
 * Goals (issue 12): cold at most 0.7 s, cached at most 5 ms.
 *
 * Usage: npx projen bench:status [-- --runs 5]
 */
import { DescribeServicesCommand, ECSClient, ListClustersCommand, ListServicesCommand, type Service } from '@aws-sdk/client-ecs';
import { prepare, selectPage, servicesJson, parseServicesQuery, toServiceStatus } from '../lambda/ecs-status-api/core';
import { seedLargeFleet } from '../test/ecs-status-api/support/sample-fleet';
import { restEvent } from '../test/ecs-status-api/support/status';
import { FakeFleet } from '../test/support/fake-fleet';

const CLUSTERS = 20;
const PER_CLUSTER = 100;
const LATENCY_MS = 50;
const RUNS = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const CACHED_RUNS = 200;
const GOAL = { coldMs: 700, cachedMs: 5 };

type Handler = (event: unknown) => Promise<{ statusCode: number; body: string }>;

/** A handler module loaded afresh: a new container, its cache empty. */
function freshHandler(env: Record<string, string>): Handler {
  Object.assign(process.env, env);
  for (const key of Object.keys(require.cache)) {
    if (key.includes('/lambda/')) delete require.cache[key];
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../lambda/ecs-status-api').handler;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, value };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * p) - 1)];

/** The same ECS calls, one at a time, then the same answer. */
async function sequential(ecs: ECSClient, query: URLSearchParams): Promise<string> {
  const clusterArns: string[] = [];
  let token: string | undefined;
  do {
    const page: { clusterArns?: string[]; nextToken?: string } = await ecs.send(new ListClustersCommand({ maxResults: 100, nextToken: token }));
    clusterArns.push(...page.clusterArns ?? []);
    token = page.nextToken;
  } while (token);
  const prepared = [];
  for (const arn of clusterArns) {
    const cluster = arn.split(':cluster/')[1];
    const serviceArns: string[] = [];
    token = undefined;
    do {
      const page: { serviceArns?: string[]; nextToken?: string } =
        await ecs.send(new ListServicesCommand({ cluster, maxResults: 100, nextToken: token }));
      serviceArns.push(...page.serviceArns ?? []);
      token = page.nextToken;
    } while (token);
    for (let i = 0; i < serviceArns.length; i += 10) {
      const answer = await ecs.send(new DescribeServicesCommand({ cluster, services: serviceArns.slice(i, i + 10), include: ['TAGS'] }));
      prepared.push(...(answer.services ?? []).map((s: Service) => prepare(toServiceStatus(s, cluster))));
    }
  }
  const params = new Map<string, string[]>();
  for (const [k, v] of query) params.set(k, [...params.get(k) ?? [], v]);
  const parsed = parseServicesQuery(params).query!;
  const { page, total, nextToken } = selectPage(prepared, parsed);
  return servicesJson({ generatedAt: new Date(), clusters: clusterArns, missing: [], filters: parsed.filters, page, total, nextToken });
}

async function main(): Promise<void> {
  const fleet = new FakeFleet({ now: () => new Date() });
  seedLargeFleet(fleet, CLUSTERS, PER_CLUSTER);
  fleet.injectFault({ service: 'ecs', latencyMs: LATENCY_MS });
  fleet.install();
  const env = {
    CLUSTERS: '',
    CACHE_TTL_SECONDS: '30',
    INHERIT_CLUSTER_TAGS: 'false',
    AUTHORIZATION: 'IAM',
    POWERTOOLS_SERVICE_NAME: 'ecs-status-api',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_REGION: 'us-east-1',
  };
  const event = restEvent('/services', { query: { limit: '1000' } });
  const filtered = restEvent('/services', { query: { environment: 'prod', launchType: 'FARGATE', health: ['DEGRADED', 'DOWN', 'OK'] } });
  const csv = restEvent('/services', { query: { format: 'csv' } });
  console.log(`fleet: ${CLUSTERS * PER_CLUSTER} services in ${CLUSTERS} clusters, ${LATENCY_MS} ms added to every ECS call; GET /services?limit=1000`);

  const cold: number[] = [];
  let calls = 0;
  let handler!: Handler;
  for (let run = 0; run < RUNS; run++) {
    handler = freshHandler(env);
    await handler(restEvent('/', { query: { format: 'json' } })); // the module's own start, outside the timing
    fleet.resetCalls();
    const { ms, value } = await timed(() => handler(event));
    if (value.statusCode !== 200 || JSON.parse(value.body).total !== CLUSTERS * PER_CLUSTER) throw new Error(`cold run ${run}: ${value.statusCode} ${value.body.slice(0, 200)}`);
    cold.push(ms);
    calls = fleet.calls.length;
  }
  const byCommand = ['ListClusters', 'ListServices', 'DescribeServices'].map((c) => `${fleet.callsTo('ecs', c).length} ${c}`).join(', ');

  const cached: number[] = [];
  const cachedFiltered: number[] = [];
  const cachedCsv: number[] = [];
  fleet.resetCalls();
  for (let run = 0; run < CACHED_RUNS; run++) {
    cached.push((await timed(() => handler(event))).ms);
    cachedFiltered.push((await timed(() => handler(filtered))).ms);
    if (run % 10 === 0) cachedCsv.push((await timed(() => handler(csv))).ms);
  }
  const cachedCalls = fleet.calls.length;

  fleet.resetCalls();
  const ecs = new ECSClient({ region: 'us-east-1' });
  const seq = await timed(() => sequential(ecs, new URLSearchParams({ limit: '1000' })));
  const seqCalls = fleet.calls.length;
  fleet.uninstall();

  const verdict = (value: number, goal: number) => (value <= goal ? 'met' : 'MISSED');
  const coldMedian = median(cold);
  const cachedMedian = median(cached);
  console.log(`cold (empty cache)   median ${coldMedian.toFixed(0)} ms of ${RUNS} (min ${Math.min(...cold).toFixed(0)}, max ${Math.max(...cold).toFixed(0)}), `
    + `${calls} ECS calls (${byCommand})   goal <= ${GOAL.coldMs} ms: ${verdict(coldMedian, GOAL.coldMs)}`);
  console.log(`cached               median ${cachedMedian.toFixed(2)} ms, p95 ${percentile(cached, 0.95).toFixed(2)} ms of ${CACHED_RUNS} (first page of 1,000), `
    + `${cachedCalls} ECS calls   goal <= ${GOAL.cachedMs} ms: ${verdict(cachedMedian, GOAL.cachedMs)}`);
  console.log(`cached, filtered     median ${median(cachedFiltered).toFixed(2)} ms (environment, launchType and health filters over 2,000)`);
  console.log(`cached, CSV          median ${median(cachedCsv).toFixed(2)} ms (all 2,000 rows)`);
  console.log(`sequential           ${seq.ms.toFixed(0)} ms, ${seqCalls} ECS calls one after another: ${(seq.ms / coldMedian).toFixed(1)} times the cold read`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
