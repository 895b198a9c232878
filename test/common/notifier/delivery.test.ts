import { FakeClock, ScriptedServer } from './support';
import { backoff, parseRetryAfter, postJson, redactUrl, resetRateGate, type DeliveryOptions } from '../../../lambda/common/notifier/http';

/** The path holds the token, as in a Slack or Teams webhook URL. */
const HOOK = '/services/T000/B000/s3cr3t-t0k3n';

let clock: FakeClock;
let server: ScriptedServer;
let options: DeliveryOptions;

beforeEach(async () => {
  clock = new FakeClock();
  server = await ScriptedServer.start(clock);
  // random() = 0.5: backoff is exactly 3/4 of the doubled delay
  options = { clock, random: () => 0.5, timeoutMs: 2000 };
});

afterEach(async () => {
  await server.close();
  resetRateGate();
});

describe('postJson', () => {
  test('delivers on 200 with one request', async () => {
    // Act
    const result = await postJson(server.url(HOOK), { text: 'hello' }, options);

    // Assess
    expect(result).toEqual({ ok: true, attempts: 1, status: 200 });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ method: 'POST', path: HOOK });
    expect(server.requests[0].headers['content-type']).toBe('application/json; charset=utf-8');
    expect(server.requests[0].json()).toEqual({ text: 'hello' });
    expect(clock.sleeps).toEqual([]);
  });

  test('accepts 202 (Teams Workflows)', async () => {
    server.script(HOOK, { status: 202 });
    await expect(postJson(server.url(HOOK), {}, options)).resolves.toEqual({ ok: true, attempts: 1, status: 202 });
  });

  test('on 429 waits for Retry-After, then delivers', async () => {
    // Prepare
    server.script(HOOK, { status: 429, headers: { 'retry-after': '7' }, body: 'rate_limited' });

    // Act
    const result = await postJson(server.url(HOOK), { text: 'x' }, options);

    // Assess
    expect(result).toEqual({ ok: true, attempts: 2, status: 200 });
    expect(server.requests).toHaveLength(2);
    expect(clock.sleeps).toEqual([7000]);
    expect(server.requests[1].at! - server.requests[0].at!).toBe(7000);
  });

  test('on 429 with an HTTP-date Retry-After waits until then', async () => {
    server.script(HOOK, { status: 429, headers: { 'retry-after': new Date(clock.now() + 12_000).toUTCString() } });
    const result = await postJson(server.url(HOOK), {}, options);
    expect(result.ok).toBe(true);
    expect(clock.sleeps).toEqual([12_000]);
  });

  test('on 429 does not wait longer than the limit', async () => {
    server.script(HOOK, { status: 429, headers: { 'retry-after': '120' }, body: 'slow down' });

    const result = await postJson(server.url(HOOK), {}, options);

    expect(result).toEqual({
      ok: false,
      attempts: 1,
      status: 429,
      error: 'HTTP 429: slow down; Retry-After 120 s is over the 30 s limit, not retried',
    });
    expect(clock.sleeps).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  test('on 429 does not wait past the deadline', async () => {
    server.script(HOOK, { status: 429, headers: { 'retry-after': '10' } });
    const result = await postJson(server.url(HOOK), {}, { ...options, deadline: clock.now() + 5000 });
    expect(result.ok).toBe(false);
    expect(result.attempts).toBe(1);
    expect(result.error).toMatch(/no time left before the deadline/);
    expect(clock.sleeps).toEqual([]);
  });

  test('on 500 and 502 backs off exponentially, then delivers', async () => {
    // Prepare
    server.script(HOOK, { status: 500 }, { status: 502 });

    // Act
    const result = await postJson(server.url(HOOK), {}, options);

    // Assess: backoff 1 s then 2 s, each 3/4 of it with random() = 0.5, but never under the 1 s rate gate
    expect(result).toEqual({ ok: true, attempts: 3, status: 200 });
    expect(server.requests).toHaveLength(3);
    expect(clock.sleeps).toEqual([1000, 1500]);
    expect(server.requests.map(r => r.at! - server.requests[0].at!)).toEqual([0, 1000, 2500]);
  });

  test('backoff has jitter between half and all of the doubled delay, capped', () => {
    expect(backoff(1, 1000, 30_000, () => 0)).toBe(500);
    expect(backoff(1, 1000, 30_000, () => 0.99)).toBe(995);
    expect(backoff(3, 1000, 30_000, () => 0)).toBe(2000);
    expect(backoff(20, 1000, 30_000, () => 0.999)).toBeLessThanOrEqual(30_000);
  });

  test('gives up on a webhook that always fails, without throwing', async () => {
    // Prepare
    server.fallback = { status: 500, body: '{"error":"internal"}' };

    // Act
    const result = await postJson(server.url(HOOK), {}, { ...options, maxAttempts: 4 });

    // Assess
    expect(result).toEqual({ ok: false, attempts: 4, status: 500, error: 'HTTP 500: {"error":"internal"}; gave up after 4 attempts' });
    expect(server.requests).toHaveLength(4);
    expect(clock.sleeps).toEqual([1000, 1500, 3000]);
  });

  test('does not retry a 400, and reports its body', async () => {
    server.script(HOOK, { status: 400, body: 'invalid_blocks\n' });

    const result = await postJson(server.url(HOOK), {}, options);

    expect(result).toEqual({ ok: false, attempts: 1, status: 400, error: 'HTTP 400: invalid_blocks' });
    expect(server.requests).toHaveLength(1);
  });

  test('does not follow a redirect', async () => {
    server.script(HOOK, { status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } });
    const result = await postJson(server.url(HOOK), {}, options);
    expect(result).toMatchObject({ ok: false, attempts: 1, status: 302 });
    expect(result.error).toMatch(/redirects are not followed/);
  });

  test('keeps only a short excerpt of the body, and never the URL', async () => {
    server.script(HOOK, { status: 404, body: `no_service for ${server.url(HOOK)} at path ${HOOK} ${'x'.repeat(500)}` });

    const result = await postJson(server.url(HOOK), {}, options);

    expect(result.error!.length).toBeLessThan(260);
    expect(result.error).toMatch(/^HTTP 404: no_service for \[webhook URL\] at path \[webhook path\] x+…$/);
    expect(result.error).not.toContain('s3cr3t');
  });

  test.each([
    ['URL', () => server.url(HOOK)],
    ['path', () => HOOK],
  ])('redacts the webhook %s even where the excerpt cuts through it', async (_, echoed) => {
    // Prepare: the body echoes the URL so that the 200-character excerpt ends inside the token
    const text = echoed();
    const prefix = 'x'.repeat(200 - text.length + 4);
    server.script(HOOK, { status: 404, body: `${prefix}${text} not found` });

    // Act
    const result = await postJson(server.url(HOOK), {}, options);

    // Assess
    expect(result.error).toBe(`HTTP 404: ${prefix}${text === HOOK ? '[webhook path]' : '[webhook URL]'} not found`);
    expect(result.error).not.toContain('s3cr3t');
  });

  test('times out a request that gets no answer and retries it', async () => {
    // Prepare: the server never answers; the timeout is real time, so keep it short
    server.fallback = { status: 200, hang: true };

    // Act
    const result = await postJson(server.url(HOOK), {}, { ...options, timeoutMs: 100, maxAttempts: 2 });

    // Assess
    expect(result).toEqual({ ok: false, attempts: 2, error: 'timed out after 100 ms; gave up after 2 attempts' });
    expect(server.requests).toHaveLength(2);
    expect(clock.sleeps).toEqual([1000]);
  });

  test('retries a network error and reports it without the URL', async () => {
    // Prepare: a port with nothing listening
    const url = server.url(HOOK);
    await server.close();

    // Act
    const result = await postJson(url, {}, options);

    // Assess
    expect(result).toEqual({ ok: false, attempts: 3, error: 'network error (ECONNREFUSED); gave up after 3 attempts' });
    expect(clock.sleeps).toEqual([1000, 1500]);
    server = await ScriptedServer.start(clock); // for afterEach
  });

  test('does not start a request after the deadline', async () => {
    const result = await postJson(server.url(HOOK), {}, { ...options, deadline: clock.now() });
    expect(result).toEqual({ ok: false, attempts: 0, error: 'not sent: no time left before the deadline' });
    expect(server.requests).toHaveLength(0);
  });
});

describe('one message per second per webhook', () => {
  test('a second send to one webhook waits until 1 s after the first', async () => {
    // Act
    await postJson(server.url(HOOK), { n: 1 }, options);
    clock.time += 300; // the handler did other work for 300 ms
    await postJson(server.url(HOOK), { n: 2 }, options);

    // Assess
    expect(server.requests.map(r => r.json())).toEqual([{ n: 1 }, { n: 2 }]);
    expect(server.requests[1].at! - server.requests[0].at!).toBe(1000);
    expect(clock.sleeps).toEqual([700]);
  });

  test('concurrent sends to one webhook go out one interval apart', async () => {
    await Promise.all([1, 2, 3].map(n => postJson(server.url(HOOK), { n }, options)));

    expect(server.requests).toHaveLength(3);
    expect([...clock.sleeps].sort((a, b) => a - b)).toEqual([1000, 2000]);
  });

  test('sends to two different webhooks are not delayed', async () => {
    await postJson(server.url('/hook-a'), {}, options);
    await postJson(server.url('/hook-b'), {}, options);

    expect(server.requests.map(r => r.path)).toEqual(['/hook-a', '/hook-b']);
    expect(server.requests[1].at).toBe(server.requests[0].at);
    expect(clock.sleeps).toEqual([]);
  });

  test('retries count as messages: a retry after a 750 ms backoff still waits out the full second', async () => {
    server.script(HOOK, { status: 500 });
    const result = await postJson(server.url(HOOK), {}, options);
    expect(result.attempts).toBe(2);
    expect(server.requests[1].at! - server.requests[0].at!).toBe(1000);
    expect(clock.sleeps).toEqual([1000]);
  });

  test('without the gate, the backoff alone sets the wait', async () => {
    server.script(HOOK, { status: 500 });
    await postJson(server.url(HOOK), {}, { ...options, minIntervalMs: 0 });
    expect(clock.sleeps).toEqual([750]);
  });
});

describe('helpers', () => {
  test('parseRetryAfter reads seconds and HTTP dates', () => {
    const now = Date.UTC(2025, 0, 1);
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter(new Date(now + 4000).toUTCString(), now)).toBe(4000);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  test('redactUrl removes the URL and its path', () => {
    const url = 'https://hooks.slack.com/services/T0/B0/abc';
    expect(redactUrl(`posting to ${url} failed; /services/T0/B0/abc`, url)).toBe('posting to [webhook URL] failed; [webhook path]');
  });
});
