/**
 * The third-party packages an esbuild bundle contains, and the text of its `THIRD_PARTY_LICENSES` file.
 *
 * The handler bundles redistribute npm packages (the AWS SDK, Smithy, Powertools, ioredis...), and
 * `legalComments: 'none'` strips their notices from the code, so every bundle folder ships this file
 * instead: each bundled package once per version, with its licence id, where it comes from, and the
 * full text of its licence and NOTICE files. The output is sorted and has no timestamps or local paths,
 * so rebuilding the same bundle gives the identical file.
 *
 * A bundled package that ships no licence file fails the build, unless it is listed in `NO_LICENSE_FILE`
 * below with the reason its fallback text is right.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Metafile } from 'esbuild';

/** A bundled package that ships no licence file, and why the fallback text is its licence. */
export interface LicenseFallback {
  /** npm package name. */
  readonly name: string;
  /** The SPDX id its package.json declares; the fallback applies only while it still declares this one. */
  readonly license: string;
  /** Why the fallback text is right, written into THIRD_PARTY_LICENSES above the text. */
  readonly reason: string;
}

const AWS_SDK = 'Published from https://github.com/aws/aws-sdk-js-v3, which is licensed under Apache-2.0, without the LICENSE file that its other packages ship.';
const POWERTOOLS = 'Published from https://github.com/aws-powertools/powertools-lambda-typescript, which is licensed under MIT-0, without a LICENSE file.';

/**
 * Bundled packages whose npm package ships no licence file (checked against the installed versions;
 * test/bundles/licenses.test.ts fails when an entry is no longer needed). Each gets the standard text
 * of the licence its package.json declares: Apache-2.0 from this repository's LICENSE (the same text),
 * MIT and MIT-0 from scripts/licenses/ with the copyright holder taken from package.json `author`.
 */
export const NO_LICENSE_FILE: readonly LicenseFallback[] = [
  { name: '@aws-lambda-powertools/commons', license: 'MIT-0', reason: POWERTOOLS },
  { name: '@aws-lambda-powertools/logger', license: 'MIT-0', reason: POWERTOOLS },
  { name: '@aws-lambda-powertools/metrics', license: 'MIT-0', reason: POWERTOOLS },
  { name: '@aws-sdk/credential-provider-http', license: 'Apache-2.0', reason: AWS_SDK },
  { name: '@aws-sdk/credential-provider-login', license: 'Apache-2.0', reason: AWS_SDK },
  { name: '@aws-sdk/nested-clients', license: 'Apache-2.0', reason: AWS_SDK },
];

/** One licence or NOTICE text of a package. */
export interface LicenseText {
  /** The file it comes from (e.g. `LICENSE`, `NOTICE.md`), or a description of the fallback text. */
  readonly source: string;
  readonly text: string;
}

export interface BundledPackage {
  readonly name: string;
  readonly version: string;
  /** The licence its package.json declares (`license`, or the old `licenses` array), `UNKNOWN` if none. */
  readonly license: string;
  readonly homepage?: string;
  readonly repository?: string;
  /** Where it is installed, absolute (the first one, if the same version is installed twice). */
  readonly dir: string;
  /** Its licence files, in name order, or the one fallback text. Never empty. */
  readonly licenseTexts: readonly LicenseText[];
  /** Its NOTICE files (Apache-2.0 section 4(d) requires passing them on). */
  readonly noticeTexts: readonly LicenseText[];
  /** Set when the text is a fallback: why, and where it came from. */
  readonly fallbackNote?: string;
}

export interface ThirdPartyLicenses {
  /** Sorted by name, then version. */
  readonly packages: readonly BundledPackage[];
  /** The content of THIRD_PARTY_LICENSES. */
  readonly text: string;
  /** e.g. `48 packages: Apache-2.0 (35), MIT (10), MIT-0 (3)`. */
  readonly summary: string;
}

const RULE = '='.repeat(80);
const LICENSE_FILE = /^(?:licen[cs]e|copying)(?:-[a-z0-9.-]+)?(?:\.(?:md|markdown|txt|rst))?$/i;
const NOTICE_FILE = /^notice(?:\.(?:md|markdown|txt))?$/i;
const PACKAGE_DIR = /^(.*\/node_modules\/(?:@[^/]+\/)?[^/]+)\//;
const PLACEHOLDER = '<COPYRIGHT HOLDER>';

/**
 * The package folders a build bundled, relative to esbuild's working directory: the innermost
 * `node_modules/<name>` or `node_modules/@scope/<name>` of every input that put bytes into any output.
 */
export function bundledPackageDirs(metafile: Metafile): string[] {
  const dirs = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      if (bytesInOutput <= 0) continue;
      const match = `/${input.replace(/\\/g, '/')}`.match(PACKAGE_DIR);
      if (match) dirs.add(match[1].slice(1));
    }
  }
  return [...dirs].sort(compare);
}

/**
 * Lists the third-party packages in a bundle and renders its THIRD_PARTY_LICENSES file.
 *
 * @param metafile from esbuild with `metafile: true`; with code splitting, the union of every output
 * @param root the repository root: esbuild's working directory, which metafile paths are relative to,
 *   and where the fallback texts are (LICENSE, scripts/licenses/)
 * @param bundle the bundle's name, for the header, e.g. `ecs-agent-monitor`
 * @param fallbacks packages allowed to ship no licence file
 * @throws if a package has no package.json, or ships no licence file and has no usable fallback; the
 *   error names every such package
 */
export function thirdPartyLicenses(
  metafile: Metafile,
  root: string,
  bundle: string,
  fallbacks: readonly LicenseFallback[] = NO_LICENSE_FILE,
): ThirdPartyLicenses {
  const problems: string[] = [];
  const byId = new Map<string, BundledPackage>();
  for (const relative of bundledPackageDirs(metafile)) {
    const dir = path.resolve(root, relative);
    const name = relative.slice(relative.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const manifest = readManifest(dir);
    if (!manifest) {
      problems.push(`${name} (${relative}): no readable package.json`);
      continue;
    }
    const version = typeof manifest.version === 'string' ? manifest.version : 'UNKNOWN';
    if (byId.has(`${name}@${version}`)) continue;
    try {
      byId.set(`${name}@${version}`, describe(name, version, manifest, dir, root, fallbacks));
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (problems.length > 0) {
    throw new Error(`THIRD_PARTY_LICENSES for ${bundle}: cannot pass on the licence of every bundled package:\n- ${problems.join('\n- ')}`);
  }

  const packages = [...byId.values()].sort((a, b) => compare(a.name, b.name) || compareVersions(a.version, b.version));
  const summary = summarize(packages);
  return { packages, summary, text: render(bundle, summary, packages) };
}

function describe(
  name: string, version: string, manifest: Manifest, dir: string, root: string, fallbacks: readonly LicenseFallback[],
): BundledPackage {
  const license = licenseId(manifest);
  const files = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name).sort(compare);
  const read = (file: string): LicenseText => ({ source: file, text: normalize(fs.readFileSync(path.join(dir, file), 'utf8')) });
  const licenseTexts = files.filter((f) => LICENSE_FILE.test(f)).map(read).filter((t) => t.text !== '');
  const noticeTexts = files.filter((f) => NOTICE_FILE.test(f)).map(read).filter((t) => t.text !== '');
  const common = { name, version, license, dir, noticeTexts, homepage: homepage(manifest), repository: repository(manifest) };
  if (licenseTexts.length > 0) return { ...common, licenseTexts };

  const at = `${name}@${version}`;
  const fallback = fallbacks.find((f) => f.name === name);
  if (!fallback) {
    throw new Error(`${at} (${license}) ships no licence file in ${dir}: add it to NO_LICENSE_FILE in scripts/third-party-licenses.ts with the reason, or bundle something else`);
  }
  if (fallback.license !== license) {
    throw new Error(`${at} now declares ${license}, but its NO_LICENSE_FILE entry is for ${fallback.license}: check its licence and update the entry`);
  }
  const { text, origin } = fallbackText(at, license, manifest, root);
  return {
    ...common,
    licenseTexts: [{ source: `${license} (fallback)`, text }],
    fallbackNote: `This package ships no licence file. ${fallback.reason} Below is ${origin}.`,
  };
}

/** The standard text of a licence, and where it comes from (for the note). */
function fallbackText(at: string, license: string, manifest: Manifest, root: string): { text: string; origin: string } {
  if (license === 'Apache-2.0') {
    const text = normalize(fs.readFileSync(path.join(root, 'LICENSE'), 'utf8'));
    if (!/^\s*Apache License\s+Version 2\.0, January 2004/.test(text)) {
      throw new Error(`${at}: the fallback for Apache-2.0 is ${path.join(root, 'LICENSE')}, which is not the Apache License 2.0`);
    }
    return { text, origin: 'the Apache License 2.0, from the LICENSE file of cdk-ecs-ops' };
  }
  if (license === 'MIT' || license === 'MIT-0') {
    const holder = authorName(manifest);
    if (!holder) throw new Error(`${at} (${license}) ships no licence file and its package.json names no author to credit`);
    const template = normalize(fs.readFileSync(path.join(root, 'scripts', 'licenses', `${license}.txt`), 'utf8'));
    return {
      text: template.replace(PLACEHOLDER, holder),
      origin: `the standard ${license} text, with the copyright holder taken from package.json "author" (${holder})`,
    };
  }
  throw new Error(`${at} ships no licence file, and there is no fallback text for ${license}`);
}

function render(bundle: string, summary: string, packages: readonly BundledPackage[]): string {
  const lines = [
    `THIRD_PARTY_LICENSES of the cdk-ecs-ops Lambda handler bundle "${bundle}"`,
    '',
    'The bundle in this folder contains the third-party npm packages listed below. Each is listed once',
    'per version with the licence its package.json declares and the full text of its licence and NOTICE',
    'files.',
    '',
    'Generated by scripts/bundle-handlers.ts from the esbuild metafile of the bundle: do not edit.',
    `${summary}.`,
  ];
  for (const pkg of packages) {
    lines.push('', RULE, `${pkg.name}@${pkg.version}`, `License: ${pkg.license}`);
    if (pkg.homepage) lines.push(`Homepage: ${pkg.homepage}`);
    if (pkg.repository) lines.push(`Repository: ${pkg.repository}`);
    if (pkg.fallbackNote) lines.push(`Note: ${pkg.fallbackNote}`);
    for (const { source, text } of [...pkg.licenseTexts, ...pkg.noticeTexts]) {
      lines.push('', `--- ${source} ---`, '', text);
    }
  }
  return `${lines.join('\n')}\n`;
}

function summarize(packages: readonly BundledPackage[]): string {
  const counts = new Map<string, number>();
  for (const { license } of packages) counts.set(license, (counts.get(license) ?? 0) + 1);
  const ids = [...counts.entries()].sort((a, b) => compare(a[0], b[0])).map(([id, n]) => `${id} (${n})`);
  return `${packages.length} package${packages.length === 1 ? '' : 's'}${ids.length ? `: ${ids.join(', ')}` : ''}`;
}

interface Manifest {
  readonly version?: unknown;
  readonly license?: unknown;
  readonly licenses?: unknown;
  readonly author?: unknown;
  readonly homepage?: unknown;
  readonly repository?: unknown;
}

function readManifest(dir: string): Manifest | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

function licenseId(manifest: Manifest): string {
  const id = (value: unknown): string | undefined =>
    typeof value === 'string' ? value : (value as { type?: unknown } | undefined)?.type as string | undefined;
  const single = id(manifest.license);
  if (single) return single;
  const list = Array.isArray(manifest.licenses) ? manifest.licenses.map(id).filter((x): x is string => !!x) : [];
  return list.length === 1 ? list[0] : list.length > 1 ? `(${list.join(' OR ')})` : 'UNKNOWN';
}

function authorName(manifest: Manifest): string | undefined {
  const author = manifest.author;
  const name = typeof author === 'string' ? author.replace(/[<(].*$/, '') : (author as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name.trim() !== '' ? name.trim() : undefined;
}

function homepage(manifest: Manifest): string | undefined {
  return typeof manifest.homepage === 'string' && manifest.homepage !== '' ? manifest.homepage : undefined;
}

function repository(manifest: Manifest): string | undefined {
  const repo = manifest.repository as string | { url?: unknown; directory?: unknown } | undefined;
  const url = typeof repo === 'string' ? repo : repo?.url;
  if (typeof url !== 'string' || url === '') return undefined;
  const directory = typeof repo === 'object' && typeof repo.directory === 'string' ? ` (${repo.directory})` : '';
  return `${url.replace(/^git\+/, '')}${directory}`;
}

/** LF line ends, no byte-order mark, no leading blank lines, no trailing white space. */
function normalize(text: string): string {
  return text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').replace(/^(?:[ \t]*\n)+/, '').trimEnd();
}

/** Code-unit order: the same on every machine, whatever its locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/);
  const pb = b.split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const [x, y] = [pa[i] ?? '', pb[i] ?? ''];
    const diff = /^\d+$/.test(x) && /^\d+$/.test(y) ? Number(x) - Number(y) : compare(x, y);
    if (diff !== 0) return diff;
  }
  return compare(a, b);
}
