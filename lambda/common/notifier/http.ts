import { createHash } from 'node:crypto';

/** Time, injectable so tests can run retries and rate limits without waiting. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolve after `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: ms => new Promise(resolve => setTimeout(resolve, Math.max(0, ms))),
};

export interface DeliveryOptions {
  /**
   * Time source for retries and the rate gate.
   * @default systemClock
   */
  readonly clock?: Clock;
  /**
   * Abort one request after this long (real time).
   * @default 5000
   */
  readonly timeoutMs?: number;
  /**
   * Tries in total, including the first.
   * @default 3
   */
  readonly maxAttempts?: number;
  /**
   * First backoff after a 5xx or network error; doubles each retry, with jitter.
   * @default 1000
   */
  readonly baseDelayMs?: number;
  /**
   * Longest single wait before a retry. A 429 whose Retry-After asks for more is not retried.
   * @default 30000
   */
  readonly maxDelayMs?: number;
  /**
   * Epoch milliseconds (per `clock`) by which delivery must be over, e.g. from the Lambda's remaining time.
   * No wait or request is started that would end after it.
   * @default - no deadline
   */
  readonly deadline?: number;
  /**
   * Least time between two requests to one webhook.
   * @default 1000
   */
  readonly minIntervalMs?: number;
  /**
   * Random number in [0, 1) for jitter.
   * @default Math.random
   */
  readonly random?: () => number;
}

export interface DeliveryOutcome {
  readonly ok: boolean;
  /** Requests made (0 if none could be started). */
  readonly attempts: number;
  /** HTTP status of the last response, if there was one. */
  readonly status?: number;
  /** What went wrong; never contains the URL. */
  readonly error?: string;
}

export const DEFAULT_DELIVERY = {
  timeoutMs: 5000,
  maxAttempts: 3,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  minIntervalMs: 1000,
} as const;

/** Length of the response body excerpt kept in an error. */
const BODY_EXCERPT = 200;

/**
 * When each webhook may next be called, keyed by a hash of its URL (the URL itself is not kept here).
 * Module scope, so it holds across invocations in one container.
 */
const nextSlot = new Map<string, number>();

/** Forget the rate gate's state (tests). */
export function resetRateGate(): void {
  nextSlot.clear();
}

/** The rate gate key of a URL. */
export function webhookKey(url: string): string {
  return createHash('sha256').update(url).digest('hex');
}

/** Shortest time worth starting a request in before the deadline. */
const MIN_REQUEST_MS = 250;

/**
 * POST `body` as JSON to a webhook, at most one request per `minIntervalMs` to that webhook.
 *
 * - 2xx: delivered.
 * - 429: waits for `Retry-After` (seconds or an HTTP date; backoff if absent) and tries again.
 * - 5xx, timeout, network error: exponential backoff with jitter, then tries again.
 * - Other status (4xx, 3xx): not retried.
 *
 * Never throws; gives up after `maxAttempts`, or when a wait would pass `maxDelayMs` or the deadline.
 */
export async function postJson(url: string, body: unknown, options: DeliveryOptions = {}): Promise<DeliveryOutcome> {
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? DEFAULT_DELIVERY.timeoutMs;
  const maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_DELIVERY.maxAttempts);
  const baseDelayMs = options.baseDelayMs ?? DEFAULT_DELIVERY.baseDelayMs;
  const maxDelayMs = options.maxDelayMs ?? DEFAULT_DELIVERY.maxDelayMs;
  const minIntervalMs = options.minIntervalMs ?? DEFAULT_DELIVERY.minIntervalMs;
  const random = options.random ?? Math.random;
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  const key = webhookKey(url);
  const payload = JSON.stringify(body);
  const redact = (text: string) => redactUrl(text, url);

  let attempts = 0;
  let last: { status?: number; error: string } = { error: 'not sent' };
  /** Earliest start of the next attempt (after a backoff or Retry-After). */
  let notBefore = 0;

  for (;;) {
    // One wait covers both the backoff and this webhook's rate slot; give up if it would pass the deadline.
    // The slot is reserved synchronously, so concurrent sends to one webhook line up one interval apart.
    const now = clock.now();
    const slot = Math.max(now, notBefore, nextSlot.get(key) ?? 0);
    if (slot + MIN_REQUEST_MS > deadline) {
      return { ok: false, attempts, status: last.status, error: outOfTime(last.error, attempts) };
    }
    nextSlot.set(key, slot + minIntervalMs);
    if (slot > now) await clock.sleep(slot - now);

    const requestTimeout = Math.min(timeoutMs, deadline - clock.now());
    attempts += 1;
    const result = await attempt(url, payload, requestTimeout, redact);
    if (result.ok) return { ok: true, attempts, status: result.status };
    last = { status: result.status, error: result.error };

    if (!result.retry) return { ok: false, attempts, status: result.status, error: result.error };
    if (attempts >= maxAttempts) {
      return { ok: false, attempts, status: result.status, error: `${result.error}; gave up after ${attempts} attempts` };
    }

    let delay: number;
    const retryAfterMs = result.status === 429 ? parseRetryAfter(result.retryAfter ?? null, clock.now()) : undefined;
    if (retryAfterMs !== undefined) {
      if (retryAfterMs > maxDelayMs) {
        return {
          ok: false,
          attempts,
          status: result.status,
          error: `${result.error}; Retry-After ${Math.ceil(retryAfterMs / 1000)} s is over the ${Math.round(maxDelayMs / 1000)} s limit, not retried`,
        };
      }
      delay = retryAfterMs;
    } else {
      delay = backoff(attempts, baseDelayMs, maxDelayMs, random);
    }
    notBefore = clock.now() + delay;
  }
}

/**
 * "Equal jitter" exponential backoff: half the doubled delay is fixed, half random, capped at `maxDelayMs`.
 * `retry` is 1 for the wait after the first attempt.
 */
export function backoff(retry: number, baseDelayMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** (retry - 1));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

/**
 * Parse `Retry-After`: delay-seconds or an HTTP date. Undefined if absent or unreadable.
 */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

type AttemptResult =
  | { ok: true; status: number }
  | { ok: false; retry: boolean; status?: number; error: string; retryAfter?: string | null };

async function attempt(url: string, payload: string, timeoutMs: number, redact: (s: string) => string): Promise<AttemptResult> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: payload,
      // a webhook that redirects is misconfigured; following it would send the message elsewhere
      redirect: 'manual',
      signal: AbortSignal.timeout(Math.max(1, timeoutMs)),
    });
  } catch (err) {
    return { ok: false, retry: true, error: redact(describeFetchError(err, timeoutMs)) };
  }

  const status = response.status;
  let text = '';
  try {
    text = await response.text();
  } catch {
    // body unreadable (timeout while reading); the status is what counts
  }
  if (status >= 200 && status < 300) return { ok: true, status };

  // redact the whole body before cutting it: a cut through the URL would leave a piece that no longer matches
  const excerpt = bodyExcerpt(redact(text));
  const error = `HTTP ${status}${excerpt ? `: ${excerpt}` : ''}`;
  if (status === 429) {
    return { ok: false, retry: true, status, error, retryAfter: response.headers.get('retry-after') };
  }
  if (status >= 500) return { ok: false, retry: true, status, error };
  if (status >= 300 && status < 400) return { ok: false, retry: false, status, error: `HTTP ${status}: the webhook redirects; redirects are not followed` };
  return { ok: false, retry: false, status, error };
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; cause?: { code?: string; name?: string } } | undefined;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  // undici puts the reason in `cause`; its message can hold the host and port, so keep only the code
  const code = e?.cause?.code ?? e?.cause?.name ?? e?.name ?? 'unknown';
  return `network error (${code})`;
}

function bodyExcerpt(text: string): string {
  // eslint-disable-next-line no-control-regex
  const oneLine = text.replace(/[\x00-\x1f\x7f]+/g, ' ').replace(/\s{2,}/g, ' ').trim();
  return oneLine.length > BODY_EXCERPT ? `${oneLine.slice(0, BODY_EXCERPT)}…` : oneLine;
}

/** Remove the URL, and its path (which holds the token in Slack and Teams URLs), from text. */
export function redactUrl(text: string, url: string): string {
  let out = text.split(url).join('[webhook URL]');
  try {
    const { pathname, search } = new URL(url);
    const pathAndQuery = pathname + search;
    if (pathAndQuery.length > 1) out = out.split(pathAndQuery).join('[webhook path]');
    if (search.length > 1) out = out.split(search.slice(1)).join('[webhook query]');
  } catch {
    // not a URL: nothing more to remove
  }
  return out;
}

function outOfTime(lastError: string, attempts: number): string {
  return attempts === 0
    ? 'not sent: no time left before the deadline'
    : `${lastError}; no time left before the deadline to retry (after ${attempts} attempt${attempts === 1 ? '' : 's'})`;
}
