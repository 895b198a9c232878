/**
 * Bundles every handler `lambda/<name>/index.ts` into `assets/<name>/` for the Lambda Node.js runtimes the functions
 * may get (src/common/runtimes.ts: nodejs24.x and nodejs26.x; built for the oldest, which the newer runs as is):
 * an ES module `index.mjs` (the runtime's `index.handler` finds it) plus the chunks it loads, minified, with
 * the AWS SDK v3 clients bundled at the versions pinned in package-lock.json, and `THIRD_PARTY_LICENSES` with
 * the licences of the bundled packages. The assets folder ships in the npm package, so a user's synth never bundles.
 *
 * Code splitting keeps a cold start small: a module a handler loads with `import()` (a client that only some
 * runs need, the failure store that is not configured) becomes a chunk of its own, read only when used.
 *
 * Usage: ts-node scripts/bundle-handlers.ts [--sourcemap] [--metafile]  (metafiles go to .tmp/)
 */
import * as fs from 'fs';
import * as path from 'path';
import { BuildOptions, Plugin, build } from 'esbuild';
import { thirdPartyLicenses } from './third-party-licenses';
import { TESTED_NODEJS_RUNTIMES, nodejsMajor } from '../src/common/runtimes';

const root = path.join(__dirname, '..');
const lambdaDir = path.join(root, 'lambda');
const assetsDir = path.join(root, 'assets');
const withSourcemap = process.argv.includes('--sourcemap');
const withMetafile = process.argv.includes('--metafile');

/**
 * esbuild's target: the oldest Node.js a function may run on. A newer Node.js runs what is built for an older one,
 * and the smoke tests run every bundle on each runtime.
 */
export const NODE_TARGET = `node${Math.min(...TESTED_NODEJS_RUNTIMES.map(nodejsMajor))}`;

/** The file the Lambda runtime loads for `index.handler`. */
export const ENTRY_FILE = 'index.mjs';

/**
 * CommonJS dependencies (ioredis, parts of the SDK) call `require()` for Node.js built-ins, which an ES module
 * does not have: every output file starts by making one.
 */
const REQUIRE_SHIM = "import { createRequire as __cdkEcsOpsCreateRequire } from 'node:module'; const require = __cdkEcsOpsCreateRequire(import.meta.url);";

/**
 * Node.js built-ins that an ES module must not import: importing `node:http` as an ES module builds its ES module
 * facade, which reads every export, and one of them is a lazy getter that loads undici (about 10 ms of CPU in each
 * cold start that makes an HTTP request, measured with `bench/cold-start.ts`). Required as CommonJS (through the
 * banner's `require`), the module is loaded without the facade, as a CommonJS bundle would.
 */
const REQUIRED_BUILTINS = /^(node:)?http$/;

const requireBuiltins: Plugin = {
  name: 'require-builtins',
  setup(b) {
    b.onResolve({ filter: REQUIRED_BUILTINS }, (args) => (args.namespace === 'require-builtin'
      ? { path: `node:${args.path.replace(/^node:/, '')}`, external: true }
      : { path: args.path.replace(/^node:/, ''), namespace: 'require-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'require-builtin' }, (args) => ({ contents: `module.exports = require('node:${args.path}');`, loader: 'js' }));
  },
};

/** The esbuild options every handler bundle is built with (also used by the benchmarks and tests). */
export function handlerBuildOptions(entry: string, outdir: string, sourcemap = false): BuildOptions {
  return {
    entryPoints: { index: entry },
    outdir,
    // Metafile paths are relative to the repository root, wherever the build is started.
    absWorkingDir: root,
    bundle: true,
    minify: true,
    platform: 'node',
    target: NODE_TARGET,
    format: 'esm',
    splitting: true,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    banner: { js: REQUIRE_SHIM },
    // Bundle everything, the AWS SDK included: the runtime's copy is not pinned and changes under users.
    external: [],
    plugins: [requireBuiltins],
    mainFields: ['module', 'main'],
    sourcemap: sourcemap ? 'linked' : false,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
  };
}

/** The handlers to bundle: every `lambda/<name>/index.ts` but `common` (of this repository, or of the `lambda` folder given). */
export function handlerNames(dir: string = lambdaDir): string[] {
  return fs.readdirSync(dir)
    .filter((name) => name !== 'common' && fs.existsSync(path.join(dir, name, 'index.ts')));
}

async function main(): Promise<void> {
  const handlers = handlerNames();
  if (handlers.length === 0) throw new Error(`no handler found: expected lambda/<name>/index.ts under ${lambdaDir}`);

  fs.rmSync(assetsDir, { recursive: true, force: true });
  for (const name of handlers) {
    const outdir = path.join(assetsDir, name);
    const result = await build(handlerBuildOptions(path.join(lambdaDir, name, 'index.ts'), outdir, withSourcemap));
    if (withMetafile) {
      fs.mkdirSync(path.join(root, '.tmp'), { recursive: true });
      fs.writeFileSync(path.join(root, '.tmp', `${name}.meta.json`), JSON.stringify(result.metafile));
    }
    const licenses = thirdPartyLicenses(result.metafile!, root, name);
    fs.writeFileSync(path.join(outdir, 'THIRD_PARTY_LICENSES'), licenses.text);
    const outputs = Object.entries(result.metafile!.outputs).filter(([file]) => file.endsWith('.mjs'));
    const entry = outputs.find(([file]) => file.endsWith(`/${ENTRY_FILE}`));
    const total = outputs.reduce((sum, [, o]) => sum + o.bytes, 0);
    console.log(`bundled lambda/${name} -> assets/${name}/${ENTRY_FILE} (${kib(entry?.[1].bytes ?? 0)} KiB) `
      + `and ${outputs.length - 1} chunk(s), ${kib(total)} KiB in all; ${licenses.summary}`);
  }
}

function kib(bytes: number): string {
  return (bytes / 1024).toFixed(1);
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
