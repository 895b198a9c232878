/**
 * Bundle sizes: a minimal handler (ECS client + Logger + Metrics) and every real handler, built with the
 * same esbuild options as the shipped bundles, with the largest packages in each.
 *
 * Usage: npx ts-node --transpile-only --project tsconfig.dev.json bench/bundle-size.ts
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { build, Metafile } from 'esbuild';
import { handlerBuildOptions } from '../scripts/bundle-handlers';

const root = path.join(__dirname, '..');
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-size-'));

function topPackages(meta: Metafile, count = 6): string {
  const byPackage = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = file.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
      const key = match ? match[1] : '(project code)';
      byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
    }
  }
  return [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, count)
    .map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(0)} KiB`).join(', ');
}

async function measure(label: string, entry: string): Promise<void> {
  const result = await build(handlerBuildOptions(entry, path.join(out, label)));
  const bytes = Object.entries(result.metafile!.outputs).filter(([f]) => f.endsWith('.mjs')).reduce((sum, [, o]) => sum + o.bytes, 0);
  console.log(`${label.padEnd(24)} ${(bytes / 1024).toFixed(1).padStart(8)} KiB   ${topPackages(result.metafile!)}`);
}

async function main(): Promise<void> {
  console.log('bundle                       size   largest parts');
  await measure('minimal (ECS+Logger+Metrics)', path.join(root, 'bench', 'fixtures', 'minimal-handler.ts'));
  for (const name of fs.readdirSync(path.join(root, 'lambda'))) {
    const entry = path.join(root, 'lambda', name, 'index.ts');
    if (name !== 'common' && fs.existsSync(entry)) await measure(name, entry);
  }
  fs.rmSync(out, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
