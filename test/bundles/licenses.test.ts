/**
 * Every shipped handler bundle carries the licences of what it bundles: `assets/<name>/THIRD_PARTY_LICENSES`
 * (written by the bundle step that runs before jest) names every npm package in the bundle with its
 * version and licence text, and nothing that is not in it. What is bundled comes from a fresh build with
 * the shipped options, read here independently of the generator.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { build, Metafile } from 'esbuild';
import { handlerBuildOptions } from '../../scripts/bundle-handlers';
import { NO_LICENSE_FILE, thirdPartyLicenses } from '../../scripts/third-party-licenses';

const ROOT = path.join(__dirname, '..', '..');
const HANDLERS = fs.readdirSync(path.join(ROOT, 'lambda'))
  .filter((name) => name !== 'common' && fs.existsSync(path.join(ROOT, 'lambda', name, 'index.ts')));

interface Bundled {
  readonly id: string;
  readonly dir: string;
}

/** name@version of every package with bytes in any output, from the innermost node_modules folder of the input. */
function bundledPackages(meta: Metafile): Bundled[] {
  const byId = new Map<string, Bundled>();
  for (const output of Object.values(meta.outputs)) {
    for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
      const at = file.lastIndexOf('node_modules/');
      if (bytesInOutput === 0 || at < 0) continue;
      const rest = file.slice(at + 'node_modules/'.length).split('/');
      const name = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
      const dir = path.resolve(ROOT, file.slice(0, at), 'node_modules', name);
      const { version } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      byId.set(`${name}@${version}`, { id: `${name}@${version}`, dir });
    }
  }
  return [...byId.values()];
}

interface Listed {
  readonly license: string;
  /** `--- <source> ---` heading -> the text under it. */
  readonly sections: Map<string, string>;
}

/** The package blocks of a THIRD_PARTY_LICENSES file, by name@version. */
function listedPackages(text: string): Map<string, Listed> {
  const listed = new Map<string, Listed>();
  for (const block of text.split(`\n${'='.repeat(80)}\n`).slice(1)) {
    const [id, licenseLine] = block.split('\n');
    const parts = block.split(/^--- (.+) ---$/m);
    const sections = new Map<string, string>();
    for (let i = 1; i < parts.length; i += 2) sections.set(parts[i], parts[i + 1].trim());
    expect(listed.has(id)).toBe(false);
    listed.set(id, { license: licenseLine.replace(/^License: /, ''), sections });
  }
  return listed;
}

const normalize = (text: string) => text.replace(/\r\n?/g, '\n').trim();
const files = (dir: string) => fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'licenses-test-'));
const builds = new Map<string, Promise<Metafile>>();

/** The metafile of a handler built with the shipped options into a temporary folder, built once per run. */
function metafileOf(name: string): Promise<Metafile> {
  if (!builds.has(name)) {
    const entry = path.join(ROOT, 'lambda', name, 'index.ts');
    builds.set(name, build(handlerBuildOptions(entry, path.join(out, name))).then((result) => result.metafile!));
  }
  return builds.get(name)!;
}

afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

describe.each(HANDLERS)('THIRD_PARTY_LICENSES of the %s bundle', (name) => {
  const file = path.join(ROOT, 'assets', name, 'THIRD_PARTY_LICENSES');
  let meta: Metafile;

  beforeAll(async () => {
    meta = await metafileOf(name);
  });

  test('ships next to the bundle', () => {
    expect(fs.existsSync(file)).toBe(true);
  });

  test('lists every bundled package with its version and licence text, and nothing else', () => {
    // Prepare
    const bundled = bundledPackages(meta);
    const listed = listedPackages(fs.readFileSync(file, 'utf8'));

    // Assess: the same name@version set, and not an empty one
    expect(bundled.length).toBeGreaterThan(0);
    expect([...listed.keys()].sort()).toEqual(bundled.map((b) => b.id).sort());

    for (const { id, dir } of bundled) {
      const { license, sections } = listed.get(id)!;
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      expect({ id, license }).toEqual({ id, license: pkg.license });
      // a non-empty licence text, and each licence and NOTICE file of the package word for word
      const licenseTexts = [...sections].filter(([source, text]) => !/^notice/i.test(source) && /\S/.test(text));
      expect({ id, hasLicenseText: licenseTexts.length > 0 }).toEqual({ id, hasLicenseText: true });
      for (const entry of files(dir).filter((f) => /^(licen[cs]e|copying|notice)/i.test(f))) {
        expect({ id, entry, text: sections.get(entry) }).toEqual({ id, entry, text: normalize(fs.readFileSync(path.join(dir, entry), 'utf8')) });
      }
    }
  });

  test('is what the generator writes for the bundle as it is built now', () => {
    expect(fs.readFileSync(file, 'utf8')).toBe(thirdPartyLicenses(meta, ROOT, name).text);
  });
});

test('every NO_LICENSE_FILE entry is still bundled and still ships no licence file', async () => {
  const dirs = new Map<string, string[]>();
  for (const name of HANDLERS) {
    for (const { id, dir } of bundledPackages(await metafileOf(name))) {
      const pkg = id.slice(0, id.lastIndexOf('@'));
      dirs.set(pkg, [...dirs.get(pkg) ?? [], dir]);
    }
  }

  const stale = NO_LICENSE_FILE.filter(({ name }) => !dirs.has(name)
    || dirs.get(name)!.every((dir) => files(dir).some((f) => /^(licen[cs]e|copying)/i.test(f))));
  expect(stale.map((f) => f.name)).toEqual([]);
});
