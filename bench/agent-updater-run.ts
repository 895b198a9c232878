/**
 * EcsAgentUpdater runs over a large fleet: 1,000 container instances in 10 clusters of uneven size (250 down to
 * 30), nine agents in ten outdated, every ECS and DynamoDB call answered after 40 ms (about what the APIs take from
 * a Lambda function in-region). Prints, per run, the calls made against the minimum a run needs (list pages of 100,
 * describe batches of 100, one update per cluster with an outdated agent plus one call that learns whether the
 * newest agent is current), wall time and memory. Nothing is asserted (test/ecs-agent-updater/handler.test.ts
 * asserts the calls).
 *
 * Usage: npx projen bench (or ts-node --transpile-only --project tsconfig.dev.json bench/agent-updater-run.ts)
 */
import { App, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { EcsAgentUpdater } from '../src';
import { FakeDynamoDb } from '../test/support/fake-dynamodb';
import { FakeFleet } from '../test/support/fake-fleet';
import { synthesizedEnvironment } from '../test/support/synthesized-environment';

const SIZES = [250, 150, 120, 100, 100, 80, 70, 60, 40, 30];
const LATEST = '1.95.0';
const LATENCY_MS = 40;
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

async function main(): Promise<void> {
  const clusters = SIZES.map((_, i) => `cluster-${i}`);
  const stack = new Stack(new App(), 'Ops', { env: { account: ACCOUNT, region: REGION } });
  const updater = new EcsAgentUpdater(stack, 'Updater', {
    clusters: clusters.map((name) => ecs.Cluster.fromClusterArn(stack, name, `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${name}`)),
  });
  const environment = synthesizedEnvironment(stack, updater.handler);

  const fleet = new FakeFleet({ region: REGION, accountId: ACCOUNT, now: () => new Date(), latestAgentVersion: LATEST }).install();
  const table = new FakeDynamoDb({ tableName: environment.STATE_TABLE_NAME, keySchema: { partitionKey: 'cluster' } }).install();
  SIZES.forEach((size, c) => {
    fleet.addCluster(clusters[c]);
    for (let n = 0; n < size; n++) fleet.addContainerInstance(clusters[c], { agentVersion: n % 10 === 0 ? LATEST : '1.90.0' });
  });
  fleet.injectFault({ service: 'ecs', latencyMs: LATENCY_MS });

  Object.assign(process.env, environment, { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true', AWS_REGION: REGION });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require('../lambda/ecs-agent-updater') as typeof import('../lambda/ecs-agent-updater');

  const pages = SIZES.reduce((n, size) => n + Math.ceil(size / 100), 0);
  const minimum: Record<string, number> = {
    'ecs:DescribeClusters': Math.ceil(clusters.length / 100),
    'ecs:ListContainerInstances': pages,
    'ecs:DescribeContainerInstances': pages,
    'ecs:UpdateContainerAgent': clusters.length + 1,
    'dynamodb:BatchGetItem': Math.ceil(clusters.length / 100),
    'dynamodb:BatchWriteItem': Math.ceil(clusters.length / 25),
  };
  console.log(`fleet: ${SIZES.reduce((a, b) => a + b, 0)} instances in ${clusters.length} clusters (${SIZES.join(', ')}), `
    + `9 in 10 agents outdated, ${LATENCY_MS} ms per ECS call, maxConcurrentUpdates 1`);
  for (let run = 1; run <= 2; run++) {
    fleet.resetCalls();
    table.resetCalls();
    const started = process.hrtime.bigint();
    const result = await handler({ 'detail-type': 'Scheduled Event', 'id': `bench-${run}`, 'time': new Date(Date.now() + run * 3_600_000).toISOString() });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const made: Record<string, number> = {};
    for (const call of [...fleet.calls.map((c) => `${c.service}:${c.command}`), ...table.calls.map((c) => `dynamodb:${c.command}`)]) {
      made[call] = (made[call] ?? 0) + 1;
    }
    const requested = result.clusters.reduce((n, c) => n + c.requested.length, 0);
    console.log(`\nrun ${run}: ${ms.toFixed(0)} ms, ${requested} update(s) requested, rss ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MiB (ts-node and the fakes included)`);
    console.log(`  ${'call'.padEnd(34)}${'made'.padStart(6)}${'minimum'.padStart(9)}`);
    for (const call of [...new Set([...Object.keys(minimum), ...Object.keys(made)])]) {
      console.log(`  ${call.padEnd(34)}${String(made[call] ?? 0).padStart(6)}${String(minimum[call] ?? 0).padStart(9)}`);
    }
    for (const ci of fleet.containerInstances.values()) if (ci.agentUpdateStatus === 'PENDING') fleet.progressAgentUpdate(ci.arn, 'UPDATED');
  }
  fleet.uninstall();
  table.uninstall();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
