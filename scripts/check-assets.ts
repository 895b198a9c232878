/**
 * A package is never made without its handlers: every `package:*` task starts with this check, which fails when
 * a handler bundle is missing, naming each missing file. `npx projen build` bundles the handlers (in its test step)
 * before it packages, so a build always passes; `npx projen package` on a tree that was compiled but never bundled
 * (or whose `assets/` was cleaned) fails here instead of making a package whose constructs throw at synth.
 *
 * It checks rather than bundles: the package must hold the bundles the tests ran against, not new ones made after.
 *
 * Expected: for each `lambda/<name>/index.ts` (but `common`), `assets/<name>/index.mjs` (the function's entry) and
 * `assets/<name>/THIRD_PARTY_LICENSES` (the licences of what the bundle redistributes).
 *
 * Usage: ts-node scripts/check-assets.ts  (in the project root; projen runs tasks there)
 */
import * as fs from 'fs';
import * as path from 'path';
import { ENTRY_FILE, handlerNames } from './bundle-handlers';

/** The files each handler bundle must have, relative to `assets/<name>/`. */
export const REQUIRED_BUNDLE_FILES = [ENTRY_FILE, 'THIRD_PARTY_LICENSES'];

/** The missing bundle files under `root`, as `assets/<name>/<file>` paths; empty when every handler is bundled. */
export function missingAssets(root: string): string[] {
  const lambdaDir = path.join(root, 'lambda');
  if (!fs.existsSync(lambdaDir)) {
    throw new Error(`${lambdaDir} is missing: run the package step in a checkout of the repository, where lambda/ lists the handlers`);
  }
  const names = handlerNames(lambdaDir);
  if (names.length === 0) throw new Error(`no handler found: expected lambda/<name>/index.ts under ${lambdaDir}`);
  return names.flatMap((name) => REQUIRED_BUNDLE_FILES
    .map((file) => `assets/${name}/${file}`)
    .filter((file) => !fs.existsSync(path.join(root, file))));
}

if (require.main === module) {
  try {
    const missing = missingAssets(process.cwd());
    if (missing.length > 0) {
      console.error(`Refusing to package without the handler bundles: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing. `
        + 'Run "npx projen bundle" (or the whole "npx projen build") first.');
      process.exit(1);
    }
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
