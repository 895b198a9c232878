/**
 * One EcsAgentMonitor run over a large fleet: 1,000 container instances in 5 clusters, 2% with a
 * disconnected agent, every ECS and Auto Scaling call answered after 40 ms (about what the APIs take
 * from a Lambda function in-region). Prints wall time, AWS calls and memory per run, to size the
 * function's timeout and memory. Nothing is asserted.
 *
 * Usage: npx projen bench:monitor
 */
import { FakeDynamoDb } from '../test/support/fake-dynamodb';
import { FakeFleet } from '../test/support/fake-fleet';

const CLUSTERS = 5;
const PER_CLUSTER = 200;
const DISCONNECTED_EVERY = 50;
const LATENCY_MS = 40;

async function main(): Promise<void> {
  const fleet = new FakeFleet({ region: 'us-east-1', accountId: '123456789012', now: () => new Date() }).install();
  const table = new FakeDynamoDb().install();
  const clusters: string[] = [];
  for (let c = 0; c < CLUSTERS; c++) {
    const cluster = `cluster-${c}`;
    clusters.push(cluster);
    fleet.addCluster(cluster);
    fleet.addAutoScalingGroup(`${cluster}-asg`, { cluster, instances: PER_CLUSTER });
  }
  let n = 0;
  for (const cluster of clusters) {
    for (const instance of fleet.containerInstancesOf(cluster)) {
      if (n++ % DISCONNECTED_EVERY === 0) fleet.setAgentConnected(instance.arn, false);
    }
  }
  fleet.injectFault({ service: 'ecs', latencyMs: LATENCY_MS });
  fleet.injectFault({ service: 'autoscaling', latencyMs: LATENCY_MS });

  Object.assign(process.env, {
    CLUSTERS: clusters.join(','),
    FAIL_AFTER: '2',
    GRACE_PERIOD_SECONDS: '0',
    ACTION: 'SET_UNHEALTHY',
    MAX_REPLACEMENTS_PER_RUN: '1',
    FAILURE_STORE: 'dynamodb',
    FAILURE_TABLE_NAME: table.tableName,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_REGION: 'us-east-1',
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require('../lambda/ecs-agent-monitor') as typeof import('../lambda/ecs-agent-monitor');

  console.log(`fleet: ${CLUSTERS * PER_CLUSTER} instances in ${CLUSTERS} clusters, ${Math.ceil(n / DISCONNECTED_EVERY)} disconnected, ${LATENCY_MS} ms per ECS/Auto Scaling call`);
  for (let run = 1; run <= 3; run++) {
    fleet.resetCalls();
    const dynamoBefore = table.calls.length;
    const started = process.hrtime.bigint();
    const result = await handler({});
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const ecs = fleet.calls.filter((c) => c.service === 'ecs').length;
    const autoscaling = fleet.calls.filter((c) => c.service === 'autoscaling').length;
    const replaced = result.clusters.reduce((sum, c) => sum + c.done.length, 0);
    const rss = process.memoryUsage().rss / 1024 / 1024;
    console.log(`run ${run}: ${ms.toFixed(0)} ms, ${ecs} ECS calls, ${autoscaling} Auto Scaling calls, ` +
      `${table.calls.length - dynamoBefore} DynamoDB calls, ${replaced} replaced, rss ${rss.toFixed(0)} MiB (ts-node and the fakes included)`);
  }
  fleet.uninstall();
  table.uninstall();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
