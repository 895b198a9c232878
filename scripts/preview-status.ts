/**
 * The status page and API on localhost, against a realistic fake fleet: the real handler behind a small HTTP
 * adapter (test/ecs-status-api/support/preview.ts). Prints the URL and serves until stopped.
 *
 * Usage: npx projen preview:status [-- --port 8787] [--latency-ms 50] [--fail-cluster batch]
 *   --port          port on 127.0.0.1, 0 for any free one (default 8787)
 *   --latency-ms    added to every fake ECS call (default 0)
 *   --fail-cluster  a cluster whose ECS calls are throttled, to see a partial answer
 *   --title         the page's title
 */
import { startPreview } from '../test/ecs-status-api/support/preview';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const port = Number(option('port') ?? 8787);
  const latencyMs = Number(option('latency-ms') ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${option('port')}: give a port from 0 to 65535`);
  if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error(`--latency-ms ${option('latency-ms')}: give a number of milliseconds`);
  const title = option('title');
  const preview = await startPreview({
    port,
    latencyMs,
    failCluster: option('fail-cluster'),
    environment: title ? { PAGE_TITLE: title } : {},
  });
  console.log(`ECS status page (local preview, fake fleet): ${preview.url}`);
  console.log(`  JSON: ${preview.url}services   CSV: ${preview.url}services?format=csv   help: curl ${preview.url}`);
  const stop = () => {
    preview.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
