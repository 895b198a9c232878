/**
 * The status page in a real browser: Debian's Chromium, driven by playwright-core (which downloads no browser),
 * against the local preview (`npx projen preview:status`) started as a user starts it. The page loads without a
 * console error (the Content-Security-Policy lets its inline script and style run), shows the seeded services,
 * narrows them with the filter, marks the degraded and down ones with a label, sorts, and a screenshot is kept.
 *
 * The screenshot is written to test-reports/ecs-status-api/status-page.png on every run (a test artifact git
 * ignores); `npx projen screenshot:status` (UPDATE_SCREENSHOTS=1) also writes docs/ecs-status-api/status-page.png,
 * the one the README shows, so a CI run never changes the tree.
 */
// The in-process preview (for the partial answer) loads the handler in this registry; share the ECS client with the fleet.
jest.mock('@aws-sdk/client-ecs', () => jest.requireActual('../support/shared-modules').sharedModule('@aws-sdk/client-ecs'));

import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, copyFileSync } from 'node:fs';
import * as path from 'node:path';
import { Browser, ConsoleMessage, Page, chromium } from 'playwright-core';
import { startPreview } from './support/preview';

const ROOT = path.join(__dirname, '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACT = path.join(ROOT, 'test-reports', 'ecs-status-api', 'status-page.png');
const COMMITTED = path.join(ROOT, 'docs', 'ecs-status-api', 'status-page.png');

jest.setTimeout(120_000);

let browser: Browser;
let preview: ChildProcess;
let url: string;

/** Starts `scripts/preview-status.ts` (what `npx projen preview:status` runs) on a free port; resolves with its URL. */
function startPreviewCommand(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [
    require.resolve('ts-node/dist/bin.js'), '--transpile-only', '--project', 'tsconfig.dev.json', 'scripts/preview-status.ts', '--port', '0',
  ], { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`the preview printed no URL within 60 s:\n${output}`)), 60_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const found = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve({ child, url: found[1] });
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the preview exited with ${code}:\n${output}`));
    });
  });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium), as .ci/run does`);
  const started = await startPreviewCommand();
  preview = started.child;
  url = started.url;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  preview?.kill('SIGTERM');
});

/** A fresh page (a fresh context: no cookies, no storage) that records console errors and uncaught exceptions. */
async function openPage(at: string): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, deviceScaleFactor: 1, locale: 'en-GB', timezoneId: 'UTC' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error' || message.type() === 'warning') errors.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  await page.goto(at);
  await page.waitForSelector('main#clusters table tbody tr');
  return { page, errors };
}

/** The services shown, as cluster/name, in table order. */
async function shownServices(page: Page): Promise<string[]> {
  return page.$$eval('main#clusters section', (sections) => sections.flatMap((section) => {
    const cluster = section.querySelector('h2')!.firstChild!.textContent!.trim();
    return [...section.querySelectorAll('tbody th[scope=row]')].map((th) => `${cluster}/${th.firstChild!.textContent}`);
  }));
}

test('the page loads without console errors and shows every seeded service, grouped by cluster', async () => {
  const { page, errors } = await openPage(url);

  expect(await page.title()).toBe('ECS services');
  expect(await page.$$eval('main#clusters h2', (h) => h.map((x) => x.firstChild!.textContent!.trim()))).toEqual(['batch', 'prod', 'staging']);
  expect((await shownServices(page)).sort()).toEqual([
    'batch/edge-sync', 'batch/nightly-export',
    'prod/checkout-api', 'prod/image-resizer', 'prod/payments-worker', 'prod/recommendations', 'prod/search', 'prod/web',
    'staging/checkout-api', 'staging/legacy-admin', 'staging/search', 'staging/web',
  ]);
  expect(await page.textContent('#summary')).toMatch(/DOWN: 1.*DEGRADED: 3.*OK: 8.*Showing 12 of 12 services in 3 cluster\(s\)/);
  expect(await page.textContent('#generated')).toMatch(/\d{2}:\d{2}:\d{2} \(\d+ s ago\)/);
  expect(await page.isHidden('#missing')).toBe(true);
  expect(errors).toEqual([]);

  // Kept as the test's artifact; written over the README's only on request (npx projen screenshot:status).
  mkdirSync(path.dirname(ARTIFACT), { recursive: true });
  await page.screenshot({ path: ARTIFACT, fullPage: true });
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    mkdirSync(path.dirname(COMMITTED), { recursive: true });
    copyFileSync(ARTIFACT, COMMITTED);
  }
  expect(existsSync(ARTIFACT)).toBe(true);
});

test('a degraded or down service is marked by a label and a symbol, not by colour alone, with the rule\'s reason', async () => {
  const { page } = await openPage(url);

  const row = (name: string) => page.locator('section[aria-labelledby="cluster-prod"] tbody tr', { has: page.locator(`th:text-is("${name}")`) });
  const badge = async (name: string) => ({
    text: (await row(name).locator('.badge').innerText()).trim(),
    rowClass: await row(name).getAttribute('class'),
    reason: await row(name).locator('td').first().locator('.sub').innerText(),
  });
  expect(await badge('payments-worker')).toEqual({
    text: '\u25B2 DEGRADED', rowClass: 'DEGRADED', reason: 'rollout failed: ECS deployment circuit breaker: 3 tasks failed to start; 2 of 4 tasks running',
  });
  expect(await badge('recommendations')).toEqual({ text: '\u2715 DOWN', rowClass: 'DOWN', reason: '0 of 2 tasks running' });
  expect((await badge('checkout-api')).text).toBe('\u2713 OK');
  // The symbol is decoration for sighted users; assistive technology reads the label.
  expect(await row('payments-worker').locator('.badge [aria-hidden=true]').count()).toBe(1);
});

test('the filter box narrows the rows by name and by key=value tag; the health filter by verdict; the address keeps them', async () => {
  const { page, errors } = await openPage(url);

  await page.fill('#filter', 'checkout');
  expect(await shownServices(page)).toEqual(['prod/checkout-api', 'staging/checkout-api']);

  await page.fill('#filter', 'owner=payments env');
  // (In the default order: the worst health first.)
  expect(await shownServices(page)).toEqual(['prod/payments-worker', 'prod/checkout-api', 'staging/checkout-api']);

  await page.fill('#filter', 'environment=staging');
  await page.selectOption('#health', 'DEGRADED');
  expect(await shownServices(page)).toEqual(['staging/legacy-admin', 'staging/web']);
  expect(new URL(page.url()).hash).toBe('#q=environment%3Dstaging&health=DEGRADED');

  await page.fill('#filter', 'no-such-service');
  expect(await page.textContent('main#clusters')).toContain('No service matches the filter.');

  // A shared link opens with its filter.
  const shared = await openPage(`${url}#q=discovery`);
  expect(await shownServices(shared.page)).toEqual(['prod/recommendations', 'prod/search', 'staging/search']);
  expect([...errors, ...shared.errors]).toEqual([]);
});

test('columns sort, with aria-sort on the sorted column; the tables have captions and scoped headers', async () => {
  const { page } = await openPage(url);
  const prod = 'section[aria-labelledby="cluster-prod"]';

  // By default the worst health comes first.
  expect((await shownServices(page)).filter((s) => s.startsWith('prod/')).slice(0, 2)).toEqual(['prod/recommendations', 'prod/payments-worker']);
  expect(await page.getAttribute(`${prod} th[aria-sort]`, 'aria-sort')).toBe('ascending');

  await page.click(`${prod} button[data-sort=name]`);
  expect((await shownServices(page)).filter((s) => s.startsWith('prod/'))).toEqual([
    'prod/checkout-api', 'prod/image-resizer', 'prod/payments-worker', 'prod/recommendations', 'prod/search', 'prod/web',
  ]);
  await page.click(`${prod} button[data-sort=name]`);
  expect((await shownServices(page)).filter((s) => s.startsWith('prod/'))[0]).toBe('prod/web');
  expect(await page.getAttribute(`${prod} th[aria-sort]`, 'aria-sort')).toBe('descending');
  // The keyboard stays on the header that was used.
  expect(await page.evaluate(() => (globalThis as any).document.activeElement?.getAttribute('data-sort'))).toBe('name');

  const tables = await page.$$eval('table', (all) => all.map((t) => ({
    caption: t.querySelector('caption')?.textContent ?? '',
    columns: t.querySelectorAll('thead th[scope=col]').length,
    rowHeaders: t.querySelectorAll('tbody th[scope=row]').length,
    rows: t.querySelectorAll('tbody tr').length,
  })));
  expect(tables).toHaveLength(3);
  for (const table of tables) {
    expect(table.caption).toMatch(/^Services in cluster \S+, sorted by name$/);
    expect(table.columns).toBe(7);
    expect(table.rowHeaders).toBe(table.rows);
  }
});

test('a partial answer names the missing cluster in a banner, and the other clusters are shown', async () => {
  jest.resetModules();
  const partial = await startPreview({ port: 0, failCluster: 'batch', environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' } });
  try {
    const { page, errors } = await openPage(partial.url);

    expect(await page.isVisible('#missing')).toBe(true);
    expect(await page.textContent('#missing')).toMatch(/Partial data: 1 cluster\(s\) could not be read[\s\S]*batch: ThrottlingException/);
    expect(await page.$$eval('main#clusters h2', (h) => h.map((x) => x.firstChild!.textContent!.trim()))).toEqual(['prod', 'staging']);
    expect(errors).toEqual([]);
  } finally {
    await partial.stop();
  }
});

test('with an API key, the page asks for it and sends it as x-api-key with every request for data', async () => {
  jest.resetModules();
  const keyed = await startPreview({ port: 0, environment: { AUTHORIZATION: 'API_KEY', POWERTOOLS_LOG_LEVEL: 'SILENT' } });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const keys: Array<string | undefined> = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/services') keys.push(request.headers()['x-api-key']);
    });
    await page.goto(keyed.url);

    await page.waitForSelector('#error:not([hidden])');
    expect(await page.textContent('#error')).toBe('Give the API key to read the services.');
    expect(keys).toEqual([]);

    await page.fill('#key', 'k3y-from-the-usage-plan');
    await page.press('#key', 'Enter');
    await page.waitForSelector('main#clusters table tbody tr');
    expect(keys).toEqual(['k3y-from-the-usage-plan']);
    expect(await page.isHidden('#error')).toBe(true);
  } finally {
    await keyed.stop();
  }
});
