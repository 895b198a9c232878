/**
 * The one rule for what the constructs show a person: chat messages (every format), CloudFormation reasons, HTTP
 * error bodies, and the functions' own logs.
 *
 * **Shown**: identifiers and facts AWS wrote: cluster, service, task, container instance and container names, task
 * definition `family:revision`, ARNs, who called (the principal's name) and when, counts and statuses, error codes
 * and AWS error names, and the text AWS itself writes about its resources (a stopped reason, a deployment reason, a
 * service event), masked as below.
 *
 * **Never shown**: free text a user typed into a command, and values a user gave a task:
 * - `command`, `reason` (StopTask) and `overrides` of an API call: an API call is shown by its identifiers only, with
 *   such parameters named as `(not shown)`; the reason given to StopTask is also what ECS reports as the task's
 *   stopped reason, which is not shown either;
 * - the values of a task's container overrides: environment values and command arguments;
 * - the text of an AWS error in an HTTP answer (it may name roles and accounts): an answer says the error's name and
 *   HTTP status and gives a request id; the function's log has the rest.
 *
 * **Masked** as {@link MASK} wherever text is shown (a log line, an AWS error message, a container's last log lines):
 * - known secret values the caller gives (a {@link Redactor}'s `values`, anywhere in the text; `words`, as whole words
 *   only), with the password of a URL and the value of a `KEY=value` they hold; values shorter than
 *   {@link MIN_SECRET_LENGTH} characters are not masked (they are no secret, and masking them would hide every number);
 * - secret-looking text: the password of a URL (`scheme://user:***@host`, a user-only `scheme://***@host`),
 *   `KEY=value` and `KEY: value` (JSON and quoted forms too) where KEY names a password, secret, token, key, credential,
 *   signature or authorization, `Bearer` and `Basic` credentials, AWS access key ids (`AKIA…`, `ASIA…`), JSON web
 *   tokens, Slack and GitHub tokens, Slack, Teams and Discord webhook paths, and PEM private keys.
 *
 * Where the rule is applied:
 * - the functions' logger passes every string of every log line through {@link activeRedactor}
 *   (lambda/common/powertools.ts), `describeError` masks what it returns (lambda/common/aws.ts), and the notifier masks
 *   every string of every message, its `data` too, before any channel renders it (lambda/common/notifier);
 * - a handler that knows secret values runs under {@link withRedactor} (EcsTaskRunner: its overrides, from
 *   {@link containerOverrideSecrets}), and values read once for the container's life are {@link rememberSecrets}
 *   (webhook URLs, the Redis AUTH token), so all three mask them too;
 * - what a handler shows it builds from {@link shownIdentifier} (a request parameter shown only with an identifier's
 *   shape) and {@link shownError} (an HTTP answer's error: name and status, or a {@link ShownError}'s own message).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** What replaces a masked secret. */
export const MASK = '***';

/** Known values shorter than this are not masked. */
export const MIN_SECRET_LENGTH = 4;

/** Shown in place of a parameter or value that is never shown, e.g. `command=(not shown)`. */
export const NOT_SHOWN = '(not shown)';

/** Known secrets: `values` are masked wherever they occur, `words` only where they stand as a whole word. */
export interface KnownSecrets {
  /** Secret values (e.g. environment values), masked anywhere in a text. */
  readonly values?: Iterable<string | undefined | null>;
  /** Secret words (e.g. command arguments), masked where they are not part of a longer word of letters, digits and `_`. */
  readonly words?: Iterable<string | undefined | null>;
  /**
   * Identifiers the caller shows as they are (a cluster, a task definition family, a container name): a value or word
   * equal to one of them is no secret and is not masked (a command `migrate` of the family `migrate`).
   */
  readonly identifiers?: Iterable<string | undefined | null>;
}

/**
 * Masks known secrets and secret-looking text. Immutable; `with()` makes one that knows more.
 *
 * ```ts
 * const redactor = new Redactor({ values: ['postgres://admin:S3cr3t@db/app'], words: ['migrate'] });
 * redactor.text('connecting to postgres://admin:S3cr3t@db/app');   // 'connecting to ***'
 * redactor.text('psql postgres://u:pw@h DB_PASSWORD=hunter2');    // 'psql postgres://u:***@h DB_PASSWORD=***'
 * redactor.value({ reason: 'token=abc123' });                     // { reason: 'token=***' }
 * ```
 */
export class Redactor {
  /** Masks secret-looking text only (no known values). */
  public static readonly PATTERNS = new Redactor();

  private readonly values: readonly string[];
  private readonly words: readonly string[];
  private readonly identifiers: readonly string[];
  private readonly pattern?: RegExp;

  constructor(secrets: KnownSecrets = {}) {
    const identifiers = new Set([...secrets.identifiers ?? []].filter((i): i is string => typeof i === 'string' && i !== ''));
    const values = new Set<string>();
    const words = new Set<string>();
    for (const value of secrets.values ?? []) for (const part of secretParts(value)) values.add(part);
    for (const word of secrets.words ?? []) {
      if (typeof word !== 'string') continue;
      if (word.length >= MIN_SECRET_LENGTH) words.add(word);
      // A word's own secret parts (`--password=hunter2`: hunter2) are masked anywhere.
      for (const part of secretParts(word)) if (part !== word) values.add(part);
    }
    this.identifiers = [...identifiers];
    this.values = [...values].filter((v) => !identifiers.has(v));
    this.words = [...words].filter((w) => !values.has(w) && !identifiers.has(w));
    const alternatives = [
      ...[...this.values].sort(longestFirst).map(escapeRegExp),
      ...[...this.words].sort(longestFirst).map((w) => `(?<![A-Za-z0-9_])${escapeRegExp(w)}(?![A-Za-z0-9_])`),
    ];
    // One pass, longest first: a value inside a longer one is masked with it.
    if (alternatives.length > 0) this.pattern = new RegExp(alternatives.join('|'), 'g');
  }

  /** How many known values and words it masks (after deriving their parts). */
  public get size(): number {
    return this.values.length + this.words.length;
  }

  /** What it knows, as the secrets to make another redactor with. */
  public secrets(): KnownSecrets {
    return { values: this.values, words: this.words, identifiers: this.identifiers };
  }

  /** A redactor that knows these secrets too. */
  public with(secrets: KnownSecrets): Redactor {
    return new Redactor({
      values: [...this.values, ...(secrets.values ?? [])],
      words: [...this.words, ...(secrets.words ?? [])],
      identifiers: [...this.identifiers, ...(secrets.identifiers ?? [])],
    });
  }

  /** The text with known secrets, then secret-looking text, masked. */
  public text(text: string): string {
    if (typeof text !== 'string' || text === '') return text;
    const known = this.pattern ? text.replace(this.pattern, MASK) : text;
    return maskPatterns(known);
  }

  /** A copy of `value` with every string in it (not the keys) passed through `text()`. */
  public value<T>(value: T): T {
    return deep(value, (s) => this.text(s), new WeakMap()) as T;
  }
}

/**
 * `text` masked by the active redactor, or, with `secrets`, by a redactor that knows only those (and the patterns).
 */
export function redact(text: string, secrets?: KnownSecrets): string {
  return (secrets ? new Redactor(secrets) : activeRedactor()).text(text);
}

/** A copy of `value` with every string in it (not the keys) masked as `redact` masks text. */
export function redactValue<T>(value: T, secrets?: KnownSecrets): T {
  return (secrets ? new Redactor(secrets) : activeRedactor()).value(value);
}

// ------------------------------------------------------------------------------------------------ the active redactor

const scope = new AsyncLocalStorage<Redactor>();
/** Secrets known for the container's life (`rememberSecrets`), masked in every scope. */
let remembered = Redactor.PATTERNS;
/** Each scope's redactor combined with what is remembered, made again when more is remembered. */
const combined = new WeakMap<Redactor, { readonly base: Redactor; readonly redactor: Redactor }>();

/**
 * Runs `fn` with `redactor` as the active one: the logger, `describeError`, the notifier and `redact()` without
 * secrets mask what it knows, in `fn` and in everything it awaits.
 */
export function withRedactor<T>(redactor: Redactor, fn: () => T): T {
  return scope.run(redactor, fn);
}

/**
 * Secrets read once and kept for the container's life (a webhook URL, a password from Secrets Manager): the active
 * redactor masks them in every scope from now on.
 */
export function rememberSecrets(secrets: KnownSecrets): void {
  remembered = remembered.with(secrets);
}

/** Forgets what `rememberSecrets` remembered (tests). */
export function forgetRememberedSecrets(): void {
  remembered = Redactor.PATTERNS;
}

/** The redactor of the current {@link withRedactor} scope with the remembered secrets, or the remembered ones alone. */
export function activeRedactor(): Redactor {
  const own = scope.getStore();
  if (!own) return remembered;
  if (remembered.size === 0) return own;
  const made = combined.get(own);
  if (made?.base === remembered) return made.redactor;
  const redactor = own.with(remembered.secrets());
  combined.set(own, { base: remembered, redactor });
  return redactor;
}

// ------------------------------------------------------------------------------------------------ what is shown

/**
 * An error whose message this library wrote from identifiers and numbers only, so an HTTP answer may show it as is
 * (`DeadlineExceeded: not read within 25 s`).
 */
export class ShownError extends Error {
  constructor(message: string, name = 'Error') {
    super(message);
    this.name = name;
  }
}

/**
 * An error as an HTTP answer (or anyone outside the account) may see it: its name and HTTP status
 * (`AccessDeniedException (HTTP 403)`), never an AWS error's message, which may name roles, accounts and resources.
 * A {@link ShownError} keeps its message.
 */
export function shownError(error: unknown): string {
  if (error instanceof ShownError) return `${error.name}: ${error.message}`;
  if (error instanceof Error || (typeof error === 'object' && error !== null && 'name' in error)) {
    const e = error as { name?: unknown; $metadata?: { httpStatusCode?: number } };
    const name = typeof e.name === 'string' && /^[A-Za-z0-9_.:-]{1,100}$/.test(e.name) ? e.name : 'Error';
    const status = e.$metadata?.httpStatusCode;
    return `${name}${status ? ` (HTTP ${status})` : ''}`;
  }
  return 'Error';
}

/** Longest identifier shown (an ARN is at most 2,048 characters). */
const IDENTIFIER_MAX = 2048;
const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9._:/@+,-]*$/;

/**
 * `value` as a string when it has an identifier's shape (a name, an id, an ARN, a number or a boolean: letters,
 * digits and `._:/@+,-`, no spaces, no `=`), else undefined: text that could be anything a user typed is not shown.
 */
export function shownIdentifier(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value !== 'string' || value.length > IDENTIFIER_MAX || !IDENTIFIER.test(value) || value.includes('://')) return undefined;
  return value;
}

// ------------------------------------------------------------------------------------------------ known values

/**
 * The values of ECS container overrides as secrets: each environment value (masked anywhere), each command (whole,
 * anywhere) and its arguments (as whole words); the containers' names are identifiers, never masked. Reads the API's
 * shape (`[{ name, command, environment: [{ name, value }] }]`, as RunTask takes it and a task event reports it) and
 * CloudFormation's (`Name`, `Command`, `Environment`, `Value`), tolerantly: what is not a list or a string is skipped.
 */
export function containerOverrideSecrets(containerOverrides: unknown): { values: string[]; words: string[]; identifiers: string[] } {
  const values: string[] = [];
  const words: string[] = [];
  const identifiers: string[] = [];
  const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  for (const o of Array.isArray(containerOverrides) ? containerOverrides.filter(isRecord) : []) {
    const name = o.name ?? o.Name;
    if (typeof name === 'string') identifiers.push(name);
    const environment = o.environment ?? o.Environment;
    for (const e of Array.isArray(environment) ? environment.filter(isRecord) : []) {
      const value = e.value ?? e.Value;
      if (value !== undefined && value !== null) values.push(String(value));
    }
    const given = o.command ?? o.Command;
    const command = Array.isArray(given) ? given.filter((c): c is string => typeof c === 'string') : [];
    if (command.length > 0) {
      values.push(command.join(' '));
      words.push(...command);
    }
  }
  return { values, words, identifiers };
}

/**
 * The parts of a known secret value to mask: the value itself (and its URL- and JSON-escaped forms), the password of
 * every URL in it, and the value of every `KEY=value` in it whose KEY names a secret (`isSecretKey`); parts shorter
 * than MIN_SECRET_LENGTH are dropped.
 */
export function secretParts(value: string | undefined | null): string[] {
  if (typeof value !== 'string') return [];
  const parts = new Set<string>([value]);
  for (const m of value.matchAll(URL_USERINFO)) if (m[3]) parts.add(m[3]);
  for (const m of value.matchAll(/(?:^|[\s;&,?])-{0,2}([A-Za-z_][A-Za-z0-9_.-]*)=([^\s;&,]+)/g)) if (isSecretKey(m[1])) parts.add(m[2]);
  for (const part of [...parts]) {
    parts.add(encodeURIComponent(part));
    parts.add(JSON.stringify(part).slice(1, -1));
  }
  return [...parts].filter((p) => p.length >= MIN_SECRET_LENGTH);
}

// ------------------------------------------------------------------------------------------------ secret-looking text

/** `scheme://user:password@` (password: everything up to the last `@` before a space or a quote). */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]{1,30}:\/\/)([^\s/?#@:"'<>]*)(?::([^\s"'<>]*))?@/gi;

/** Words that make a `KEY=value` a secret, as a part of the key (split at `_`, `-`, `.` and lowerUpper). */
const SECRET_KEY_PARTS = new Set([
  'password', 'passwd', 'passphrase', 'pwd', 'secret', 'secrets', 'token', 'tokens', 'key', 'keys', 'apikey', 'credential',
  'credentials', 'authorization', 'sig', 'signature', 'privatekey', 'accesskey', 'secretkey', 'sessiontoken', 'cookie',
]);
/** Whole keys that contain a secret word without a separator (`dbpassword`, `mysecret`). */
const SECRET_KEY_SUBSTRINGS = ['password', 'passwd', 'passphrase', 'secret', 'token', 'credential', 'apikey', 'privatekey'];

/**
 * Whether a key (`DB_PASSWORD`, `apiKey`, `X-Amz-Signature`) names a secret. An error's name (`ExpiredTokenException`,
 * `CredentialsProviderError`) does not: what follows it is its message.
 */
export function isSecretKey(key: string): boolean {
  if (/(?:Error|Exception|Fault|Failure)$/.test(key)) return false;
  const lower = key.toLowerCase();
  if (SECRET_KEY_SUBSTRINGS.some((s) => lower.includes(s))) return true;
  const parts = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').split(/[\s_.-]+/).map((p) => p.toLowerCase()).filter(Boolean);
  return parts.some((p) => SECRET_KEY_PARTS.has(p));
}

/** `KEY=value`, `KEY: value`, `"KEY": "value"`, `KEY='value'`, with an optional `Bearer ` before the value. */
const KEY_VALUE = /(["']?)\b([A-Za-z][A-Za-z0-9_.-]{0,63})\1(\s*[:=]\s*)(?:(["'])((?:(?:Bearer|Basic)\s+)?[^"'\n]*)\4|((?:(?:Bearer|Basic)\s+)?[^\s"',;&)}\]]+))/g;

interface Pattern {
  readonly regex: RegExp;
  readonly replace: string | ((match: string, ...groups: string[]) => string);
}

const PATTERNS: readonly Pattern[] = [
  // PEM private keys (a block cut short is masked to the end).
  { regex: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, replace: MASK },
  // Webhook URLs whose path is the credential.
  { regex: /\b(hooks\.slack\.com\/(?:services|workflows|triggers))\/[^\s"'<>)]+/gi, replace: `$1/${MASK}` },
  { regex: /\b([a-z0-9-]+\.webhook\.office\.com|[a-z0-9.-]+\.logic\.azure\.com(?::\d+)?|[a-z0-9.-]+\.api\.powerplatform\.com(?::\d+)?)\/[^\s"'<>)]+/gi, replace: `$1/${MASK}` },
  { regex: /\b(discord(?:app)?\.com\/api\/webhooks)\/[^\s"'<>)]+/gi, replace: `$1/${MASK}` },
  // Credentials in a URL.
  {
    regex: URL_USERINFO,
    replace: (_m, scheme: string, user: string, password: string | undefined) => (password !== undefined
      ? `${scheme}${user}:${MASK}@`
      : user ? `${scheme}${MASK}@` : `${scheme}@`),
  },
  // HTTP credentials.
  { regex: /\b(Bearer|Basic)(\s+)[A-Za-z0-9\-._~+/]{8,}=*/gi, replace: `$1$2${MASK}` },
  // JSON web tokens.
  { regex: /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, replace: MASK },
  // Slack and GitHub tokens, AWS access key ids.
  { regex: /\bxox[abposre]-[A-Za-z0-9-]{10,}/g, replace: MASK },
  { regex: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/g, replace: MASK },
  { regex: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, replace: MASK },
];

function maskPatterns(text: string): string {
  let out = text;
  for (const { regex, replace } of PATTERNS) {
    regex.lastIndex = 0;
    out = typeof replace === 'string' ? out.replace(regex, replace) : out.replace(regex, replace as (...args: any[]) => string);
  }
  return maskKeyValues(out);
}

/**
 * Masks the value of every `KEY=value` whose KEY names a secret. A KEY that does not is skipped alone, so its value
 * is still searched (`https://host/k?X-Amz-Signature=…`: `https:` is a key, and `X-Amz-Signature` is one in its value).
 */
function maskKeyValues(text: string): string {
  const regex = new RegExp(KEY_VALUE.source, 'g');
  let out = '';
  let copied = 0;
  for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
    const [match, quote, key, separator, valueQuote, quoted, bare] = m;
    const value = quoted ?? bare ?? '';
    if (!isSecretKey(key) || value === '' || value === MASK || /^(?:Bearer|Basic)\s+\*\*\*$/i.test(value)) {
      regex.lastIndex = m.index + quote.length + key.length;
      continue;
    }
    const scheme = /^(?:Bearer|Basic)\s+/i.exec(value)?.[0] ?? '';
    const masked = `${scheme}${MASK}`;
    out += text.slice(copied, m.index) + `${quote}${key}${quote}${separator}${valueQuote ? `${valueQuote}${masked}${valueQuote}` : masked}`;
    copied = m.index + match.length;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

// ------------------------------------------------------------------------------------------------ helpers

function deep(value: unknown, mask: (s: string) => string, seen: WeakMap<object, unknown>): unknown {
  if (typeof value === 'string') return mask(value);
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return seen.get(value);
  if (value instanceof Error) {
    const copy = new Error(mask(value.message));
    copy.name = value.name;
    copy.stack = value.stack === undefined ? undefined : mask(value.stack);
    seen.set(value, copy);
    return copy;
  }
  if (value instanceof Date || value instanceof Uint8Array) return value;
  if (value instanceof Map) {
    const copy = new Map();
    seen.set(value, copy);
    for (const [k, v] of value) copy.set(k, deep(v, mask, seen));
    return copy;
  }
  if (value instanceof Set) {
    const copy = new Set();
    seen.set(value, copy);
    for (const v of value) copy.add(deep(v, mask, seen));
    return copy;
  }
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    seen.set(value, copy);
    for (const v of value) copy.push(deep(v, mask, seen));
    return copy;
  }
  const copy: Record<string, unknown> = {};
  seen.set(value, copy);
  for (const [k, v] of Object.entries(value)) copy[k] = deep(v, mask, seen);
  return copy;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function longestFirst(a: string, b: string): number {
  return b.length - a.length;
}
