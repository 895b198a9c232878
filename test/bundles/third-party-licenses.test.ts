/**
 * The THIRD_PARTY_LICENSES generator, on a synthetic esbuild metafile over a temporary node_modules tree.
 * The tree lives outside the repository and the metafile names it relative to the repository root,
 * as esbuild does when node_modules is a symlink to another checkout.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Metafile } from 'esbuild';
import { LicenseFallback, thirdPartyLicenses } from '../../scripts/third-party-licenses';

const ROOT = path.join(__dirname, '..', '..');
const MIT_TEXT = 'MIT License\n\nCopyright (c) Alice\n\nPermission is hereby granted...';

interface FakePackage {
  readonly version: string;
  readonly license?: string;
  readonly author?: unknown;
  readonly files?: Record<string, string>;
}

let tmp: string;

/** Writes `<tmp>/<dir>/package.json`, its files and an index.js. */
function install(dir: string, pkg: FakePackage): void {
  const full = path.join(tmp, dir);
  fs.mkdirSync(full, { recursive: true });
  const { files = {}, ...manifest } = pkg;
  fs.writeFileSync(path.join(full, 'package.json'), JSON.stringify({ name: path.basename(dir), repository: { url: 'git+https://github.com/example/repo.git', directory: 'packages/x' }, ...manifest }));
  fs.writeFileSync(path.join(full, 'index.js'), 'module.exports = 1;');
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(full, name), text);
}

/** An input path the way esbuild's metafile names it: relative to its working directory, the repository root. */
function input(file: string): string {
  return path.relative(ROOT, path.join(tmp, file)).split(path.sep).join('/');
}

/** A metafile with one output per list of [file, bytesInOutput]: the entry and its split chunks. */
function metafile(...outputs: Array<Array<[string, number]>>): Metafile {
  const result: Metafile = { inputs: {}, outputs: {} };
  outputs.forEach((inputs, i) => {
    result.outputs[i === 0 ? 'out/index.mjs' : `out/chunk-${i}.mjs`] = {
      bytes: 100,
      inputs: Object.fromEntries(inputs.map(([file, bytes]) => [file, { bytesInOutput: bytes }])),
      imports: [],
      exports: [],
    };
  });
  return result;
}

const NO_FILE: LicenseFallback[] = [
  { name: 'notice-only', license: 'Apache-2.0', reason: 'Published without its LICENSE file.' },
  { name: 'bare-mit', license: 'MIT', reason: 'Its repository is MIT.' },
];

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'third-party-licenses-'));
  install('node_modules/alpha', { version: '1.0.0', license: 'MIT', files: { LICENSE: MIT_TEXT } });
  // the same version installed twice, and a second version of beta nested under alpha
  install('node_modules/zeta/node_modules/alpha', { version: '1.0.0', license: 'MIT', files: { LICENSE: MIT_TEXT } });
  install('node_modules/zeta', { version: '0.1.0', license: 'ISC', files: { 'LICENSE.md': 'ISC License\r\n\r\nCopyright (c) Zed\r\n' } });
  install('node_modules/beta', { version: '1.0.0', license: 'MIT', files: { license: 'beta one licence' } });
  install('node_modules/alpha/node_modules/beta', { version: '2.0.0', license: 'MIT', files: { 'Licence.txt': 'beta two licence' } });
  install('node_modules/@scope/gamma', {
    version: '3.0.0',
    license: 'Apache-2.0',
    files: { 'LICENSE.txt': 'gamma licence', 'NOTICE': 'gamma NOTICE: includes software from Example Corp.', 'README.md': 'not a licence' },
  });
  install('node_modules/notice-only', { version: '1.2.3', license: 'Apache-2.0', files: { 'NOTICE.md': 'notice-only NOTICE text' } });
  install('node_modules/bare-mit', { version: '0.0.1', license: 'MIT', author: 'Jane Doe <jane@example.com> (https://example.com)' });
  install('node_modules/unlisted', { version: '4.0.0', license: 'ISC', author: 'Someone' });
  install('node_modules/other-unlisted', { version: '5.0.0', license: 'BSD-3-Clause' });
  install('node_modules/tree-shaken', { version: '1.0.0', license: 'MIT' });
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Every package with a licence file or a fallback, spread over an entry and a chunk, plus code that is not a package. */
function goodMetafile(): Metafile {
  return metafile(
    [
      ['lambda/handler/index.ts', 500],
      [input('node_modules/alpha/index.js'), 10],
      [input('node_modules/alpha/node_modules/beta/index.js'), 10],
      [input('node_modules/@scope/gamma/index.js'), 10],
      [input('node_modules/tree-shaken/index.js'), 0],
    ],
    [
      ['lambda/common/aws.ts', 50],
      [input('node_modules/beta/index.js'), 10],
      [input('node_modules/zeta/node_modules/alpha/index.js'), 10],
      [input('node_modules/zeta/index.js'), 10],
      [input('node_modules/notice-only/index.js'), 10],
      [input('node_modules/bare-mit/index.js'), 10],
    ],
  );
}

describe('thirdPartyLicenses', () => {
  test('lists every package with bytes in any output once per name@version: nested, two versions, scoped', () => {
    // Act
    const { packages, summary } = thirdPartyLicenses(goodMetafile(), ROOT, 'handler', NO_FILE);

    // Assess: beta twice (1.0.0 at the top, 2.0.0 nested under alpha), alpha once although installed twice,
    // tree-shaken (0 bytes) and the project's own code not at all
    expect(packages.map((p) => `${p.name}@${p.version}`)).toEqual([
      '@scope/gamma@3.0.0', 'alpha@1.0.0', 'bare-mit@0.0.1', 'beta@1.0.0', 'beta@2.0.0', 'notice-only@1.2.3', 'zeta@0.1.0',
    ]);
    expect(packages.find((p) => p.name === 'alpha')!.dir).toBe(path.join(tmp, 'node_modules/alpha'));
    expect(packages.find((p) => p.version === '2.0.0')!.dir).toBe(path.join(tmp, 'node_modules/alpha/node_modules/beta'));
    expect(packages.find((p) => p.name === '@scope/gamma')).toMatchObject({ license: 'Apache-2.0', dir: path.join(tmp, 'node_modules/@scope/gamma') });
    expect(summary).toBe('7 packages: Apache-2.0 (2), ISC (1), MIT (4)');
  });

  test('passes on the licence files of any name and case, and NOTICE files', () => {
    const { packages, text } = thirdPartyLicenses(goodMetafile(), ROOT, 'handler', NO_FILE);

    const gamma = packages.find((p) => p.name === '@scope/gamma')!;
    expect(gamma.licenseTexts).toEqual([{ source: 'LICENSE.txt', text: 'gamma licence' }]);
    expect(gamma.noticeTexts).toEqual([{ source: 'NOTICE', text: 'gamma NOTICE: includes software from Example Corp.' }]);
    expect(text).toContain([
      '================================================================================',
      '@scope/gamma@3.0.0',
      'License: Apache-2.0',
      'Repository: https://github.com/example/repo.git (packages/x)',
      '',
      '--- LICENSE.txt ---',
      '',
      'gamma licence',
      '',
      '--- NOTICE ---',
      '',
      'gamma NOTICE: includes software from Example Corp.',
      '',
    ].join('\n'));
    expect(text).not.toContain('not a licence');
    expect(text).toContain('--- license ---\n\nbeta one licence\n');
    expect(text).toContain('--- Licence.txt ---\n\nbeta two licence\n');
    expect(text).toContain('--- LICENSE.md ---\n\nISC License\n\nCopyright (c) Zed\n');
    expect(text).not.toContain('\r');
  });

  test('gives a listed package with only a NOTICE the Apache-2.0 text of the repository and its NOTICE, saying so', () => {
    const { packages, text } = thirdPartyLicenses(goodMetafile(), ROOT, 'handler', NO_FILE);

    const pkg = packages.find((p) => p.name === 'notice-only')!;
    const apache = fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8').trim();
    expect(pkg.licenseTexts).toEqual([{ source: 'Apache-2.0 (fallback)', text: expect.stringContaining(apache) }]);
    expect(pkg.noticeTexts).toEqual([{ source: 'NOTICE.md', text: 'notice-only NOTICE text' }]);
    expect(pkg.fallbackNote).toBe('This package ships no licence file. Published without its LICENSE file. '
      + 'Below is the Apache License 2.0, from the LICENSE file of cdk-ecs-ops.');
    expect(text).toMatch(/notice-only@1\.2\.3\nLicense: Apache-2\.0\n.*\nNote: This package ships no licence file\. Published without its LICENSE file\. .*\n\n--- Apache-2\.0 \(fallback\) ---\n\n\s*Apache License\n[^]*\n--- NOTICE\.md ---\n\nnotice-only NOTICE text\n/);
  });

  test('gives a listed MIT package without a licence file the MIT text with its package.json author as copyright holder', () => {
    const { packages } = thirdPartyLicenses(goodMetafile(), ROOT, 'handler', NO_FILE);

    const pkg = packages.find((p) => p.name === 'bare-mit')!;
    expect(pkg.fallbackNote).toContain('the standard MIT text, with the copyright holder taken from package.json "author" (Jane Doe)');
    expect(pkg.licenseTexts).toHaveLength(1);
    expect(pkg.licenseTexts[0].text).toMatch(/^MIT License\n\nCopyright \(c\) Jane Doe\n\nPermission is hereby granted, free of charge/);
    expect(pkg.licenseTexts[0].text).toContain('The above copyright notice and this permission notice shall be included');
  });

  test('fails naming every package that ships no licence file and is not listed', () => {
    const meta = metafile([
      [input('node_modules/alpha/index.js'), 10],
      [input('node_modules/unlisted/index.js'), 10],
      [input('node_modules/other-unlisted/index.js'), 10],
      [input('node_modules/notice-only/index.js'), 10],
    ]);

    expect(() => thirdPartyLicenses(meta, ROOT, 'handler', NO_FILE)).toThrow(
      /THIRD_PARTY_LICENSES for handler[^]*\n- other-unlisted@5\.0\.0 \(BSD-3-Clause\) ships no licence file[^]*\n- unlisted@4\.0\.0 \(ISC\) ships no licence file in .*: add it to NO_LICENSE_FILE/,
    );
    // with no fallbacks at all, a NOTICE alone is not a licence
    expect(() => thirdPartyLicenses(meta, ROOT, 'handler', [])).toThrow(/- notice-only@1\.2\.3 \(Apache-2\.0\) ships no licence file/);
  });

  test('fails when a listed package now declares another licence than its fallback', () => {
    const meta = metafile([[input('node_modules/bare-mit/index.js'), 10]]);

    expect(() => thirdPartyLicenses(meta, ROOT, 'handler', [{ name: 'bare-mit', license: 'Apache-2.0', reason: 'x' }]))
      .toThrow(/bare-mit@0\.0\.1 now declares MIT, but its NO_LICENSE_FILE entry is for Apache-2\.0/);
  });

  test('fails when a bundled package has no package.json', () => {
    fs.mkdirSync(path.join(tmp, 'node_modules/no-manifest'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'node_modules/no-manifest/index.js'), '');

    expect(() => thirdPartyLicenses(metafile([[input('node_modules/no-manifest/index.js'), 10]]), ROOT, 'handler', NO_FILE))
      .toThrow(/no-manifest \(.*node_modules\/no-manifest\): no readable package\.json/);
  });

  test('is deterministic: the same text whatever the order of outputs and inputs, with no local paths or dates', () => {
    // Prepare: the same bundle with its outputs and inputs in reverse order
    const forward = goodMetafile();
    const reversed: Metafile = { inputs: {}, outputs: {} };
    for (const [file, output] of Object.entries(forward.outputs).reverse()) {
      reversed.outputs[file] = { ...output, inputs: Object.fromEntries(Object.entries(output.inputs).reverse()) };
    }

    // Act
    const first = thirdPartyLicenses(forward, ROOT, 'handler', NO_FILE).text;
    const second = thirdPartyLicenses(reversed, ROOT, 'handler', NO_FILE).text;

    // Assess
    expect(second).toBe(first);
    expect(thirdPartyLicenses(forward, ROOT, 'handler', NO_FILE).text).toBe(first);
    expect(first).not.toContain(tmp);
    expect(first).not.toContain('node_modules');
    expect(first).not.toMatch(/20\d\d-\d\d-\d\d/);
    expect(first.split('\n').slice(0, 8).join('\n')).toBe([
      'THIRD_PARTY_LICENSES of the cdk-ecs-ops Lambda handler bundle "handler"',
      '',
      'The bundle in this folder contains the third-party npm packages listed below. Each is listed once',
      'per version with the licence its package.json declares and the full text of its licence and NOTICE',
      'files.',
      '',
      'Generated by scripts/bundle-handlers.ts from the esbuild metafile of the bundle: do not edit.',
      '7 packages: Apache-2.0 (2), ISC (1), MIT (4).',
    ].join('\n'));
    expect(first.endsWith('\n') && !first.endsWith('\n\n')).toBe(true);
  });

  test('writes a header and no package for a bundle with no third-party code', () => {
    const { packages, text } = thirdPartyLicenses(metafile([['lambda/handler/index.ts', 100]]), ROOT, 'handler', NO_FILE);

    expect(packages).toEqual([]);
    expect(text).toContain('0 packages.');
    expect(text).not.toContain('====');
  });
});
