/**
 * Bundles every handler `lambda/<name>/index.ts` into `assets/<name>/index.js` (CommonJS, minified,
 * for the Node.js 24 Lambda runtime), with the AWS SDK v3 clients bundled at the versions pinned in
 * package-lock.json, and writes `assets/<name>/THIRD_PARTY_LICENSES` with the licences of the bundled
 * packages. The assets folder ships in the npm package, so a user's synth never bundles.
 *
 * Usage: ts-node scripts/bundle-handlers.ts [--sourcemap] [--metafile]  (metafiles go to .tmp/)
 */
import * as fs from 'fs';
import * as path from 'path';
import { BuildOptions, build } from 'esbuild';
import { thirdPartyLicenses } from './third-party-licenses';

const root = path.join(__dirname, '..');
const lambdaDir = path.join(root, 'lambda');
const assetsDir = path.join(root, 'assets');
const withSourcemap = process.argv.includes('--sourcemap');
const withMetafile = process.argv.includes('--metafile');

/** The esbuild options every handler bundle is built with (also used by bench/bundle-size.ts). */
export function handlerBuildOptions(entry: string, outfile: string, sourcemap = false): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    // Bundle everything, the AWS SDK included: the runtime's copy is not pinned and changes under users.
    external: [],
    mainFields: ['module', 'main'],
    sourcemap: sourcemap ? 'linked' : false,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
  };
}

async function main(): Promise<void> {
  const handlers = fs.readdirSync(lambdaDir)
    .filter((name) => name !== 'common' && fs.existsSync(path.join(lambdaDir, name, 'index.ts')));
  if (handlers.length === 0) throw new Error(`no handler found: expected lambda/<name>/index.ts under ${lambdaDir}`);

  fs.rmSync(assetsDir, { recursive: true, force: true });
  for (const name of handlers) {
    const outfile = path.join(assetsDir, name, 'index.js');
    const result = await build(handlerBuildOptions(path.join(lambdaDir, name, 'index.ts'), outfile, withSourcemap));
    if (withMetafile) {
      fs.mkdirSync(path.join(root, '.tmp'), { recursive: true });
      fs.writeFileSync(path.join(root, '.tmp', `${name}.meta.json`), JSON.stringify(result.metafile));
    }
    const licenses = thirdPartyLicenses(result.metafile!, root, name);
    fs.writeFileSync(path.join(assetsDir, name, 'THIRD_PARTY_LICENSES'), licenses.text);
    const bytes = fs.statSync(outfile).size;
    console.log(`bundled lambda/${name} -> assets/${name}/index.js (${(bytes / 1024).toFixed(1)} KiB, ${licenses.summary})`);
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
