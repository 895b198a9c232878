import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { systemClock, type Clock } from './http';
import { clientConfig } from '../aws';
import { rememberSecrets } from '../redact';

/**
 * Where a webhook URL is stored: a Secrets Manager secret (the whole string, or one key of a JSON
 * secret) or an SSM parameter. The URL itself is a credential: it is never logged and never put in
 * an error message.
 */
export type WebhookUrlSource =
  | { readonly secretArn: string; readonly secretJsonKey?: string }
  | { readonly parameterName: string };

export interface ResolveWebhookUrlOptions {
  /**
   * Accept `http://127.0.0.1`, `http://localhost` and `http://[::1]` as well as `https:` URLs.
   * Only for tests and local development.
   * @default false
   */
  readonly allowInsecureLocalhost?: boolean;
  /**
   * Time source for the cache's `WEBHOOK_URL_MAX_AGE_MS`.
   * @default systemClock
   */
  readonly clock?: Pick<Clock, 'now'>;
  /**
   * Read the value again even if the cached one is younger than `WEBHOOK_URL_MAX_AGE_MS`, e.g. after the
   * webhook rejected the cached URL.
   * @default false
   */
  readonly refresh?: boolean;
}

/** Longest time a value read from Secrets Manager or SSM is used before it is read again. */
export const WEBHOOK_URL_MAX_AGE_MS = 10 * 60_000;

/** A webhook URL could not be read or is not usable. The message names the secret or parameter, never the URL. */
export class WebhookUrlError extends Error {
  constructor(message: string, public readonly reason: WebhookUrlErrorReason) {
    super(message);
    this.name = 'WebhookUrlError';
  }
}

export type WebhookUrlErrorReason =
  | 'not-found'
  | 'access-denied'
  | 'no-value'
  | 'not-json'
  | 'missing-json-key'
  | 'json-without-key'
  | 'invalid-url'
  | 'not-https'
  | 'read-failed';

let secretsManagerClient: SecretsManagerClient | undefined;
let ssmClient: SSMClient | undefined;

/**
 * The module's Secrets Manager client. The SDK module is loaded and the client created on first use (not when
 * this module is imported), then kept for the life of the container.
 */
export async function getSecretsManagerClient(): Promise<SecretsManagerClient> {
  const sdk = await import('@aws-sdk/client-secrets-manager');
  return (secretsManagerClient ??= new sdk.SecretsManagerClient(clientConfig()));
}

/** The module's SSM client, loaded and created on first use like `getSecretsManagerClient`. */
export async function getSsmClient(): Promise<SSMClient> {
  const sdk = await import('@aws-sdk/client-ssm');
  return (ssmClient ??= new sdk.SSMClient(clientConfig()));
}

/**
 * Raw secret strings, keyed by the reference (never by the value), each with when its read started. A value is
 * used for at most `WEBHOOK_URL_MAX_AGE_MS`, so a warm container picks up a rotated URL. The promise is cached,
 * so concurrent calls share one request; a failed read is forgotten so the next invocation tries again.
 */
const cache = new Map<string, { readonly value: Promise<string>; readonly readAt: number }>();

/** Forget every cached value (tests, or after a rotation is detected). */
export function clearWebhookUrlCache(): void {
  cache.clear();
}

/** A short description of where the URL comes from, safe to log. */
export function describeSource(source: WebhookUrlSource): string {
  if ('secretArn' in source) {
    return source.secretJsonKey
      ? `secret ${source.secretArn} (JSON key "${source.secretJsonKey}")`
      : `secret ${source.secretArn}`;
  }
  return `parameter ${source.parameterName}`;
}

/**
 * Read a webhook URL from Secrets Manager or SSM Parameter Store (with decryption), at most once per
 * `WEBHOOK_URL_MAX_AGE_MS` unless `refresh` is set, and check that it is an `https:` URL.
 * @throws WebhookUrlError naming the secret or parameter and what is wrong with it
 */
export async function resolveWebhookUrl(source: WebhookUrlSource, options: ResolveWebhookUrlOptions = {}): Promise<string> {
  const raw = await readCached(source, (options.clock ?? systemClock).now(), options.refresh ?? false);
  const value = 'secretArn' in source ? extractFromSecret(source, raw) : raw;
  // Whatever shows it from now on (a log line, an error) shows it masked.
  rememberSecrets({ values: [value.trim()] });
  return validateUrl(value.trim(), describeSource(source), options);
}

function readCached(source: WebhookUrlSource, now: number, refresh: boolean): Promise<string> {
  const key = 'secretArn' in source ? `secretsmanager:${source.secretArn}` : `ssm:${source.parameterName}`;
  const cached = cache.get(key);
  if (cached && !refresh && now - cached.readAt < WEBHOOK_URL_MAX_AGE_MS) return cached.value;
  const entry = {
    value: 'secretArn' in source ? readSecret(source.secretArn) : readParameter(source.parameterName),
    readAt: now,
  };
  cache.set(key, entry);
  entry.value.catch(() => {
    if (cache.get(key) === entry) cache.delete(key);
  });
  return entry.value;
}

async function readSecret(secretArn: string): Promise<string> {
  const where = `secret ${secretArn}`;
  const { GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = await getSecretsManagerClient();
  let response;
  try {
    response = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
  } catch (err) {
    throw awsError(err, where, 'secretsmanager:GetSecretValue (and kms:Decrypt if the secret uses a customer managed key)');
  }
  if (typeof response.SecretString !== 'string' || response.SecretString.length === 0) {
    throw new WebhookUrlError(`Webhook URL ${where} has no SecretString (binary secrets are not supported)`, 'no-value');
  }
  return response.SecretString;
}

async function readParameter(parameterName: string): Promise<string> {
  const where = `parameter ${parameterName}`;
  const { GetParameterCommand } = await import('@aws-sdk/client-ssm');
  const client = await getSsmClient();
  let response;
  try {
    response = await client.send(new GetParameterCommand({ Name: parameterName, WithDecryption: true }));
  } catch (err) {
    throw awsError(err, where, 'ssm:GetParameter (and kms:Decrypt for a SecureString with a customer managed key)');
  }
  const value = response.Parameter?.Value;
  if (typeof value !== 'string' || value.length === 0) {
    throw new WebhookUrlError(`Webhook URL ${where} has no value`, 'no-value');
  }
  return value;
}

function extractFromSecret(source: { secretArn: string; secretJsonKey?: string }, raw: string): string {
  const where = describeSource(source);
  const trimmed = raw.trim();
  if (source.secretJsonKey === undefined) {
    if (trimmed.startsWith('{')) {
      throw new WebhookUrlError(
        `Webhook URL ${where} holds a JSON object; set secretJsonKey to the key that holds the URL`, 'json-without-key');
    }
    return raw;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    // the parser's message may quote the secret: do not pass it on
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new WebhookUrlError(`Webhook URL ${where}: the secret is not a JSON object, but secretJsonKey is set`, 'not-json');
  }
  const value = (parsed as Record<string, unknown>)[source.secretJsonKey];
  if (typeof value !== 'string' || value.length === 0) {
    const keys = Object.keys(parsed).map(k => `"${k}"`).join(', ') || 'none';
    throw new WebhookUrlError(
      `Webhook URL ${where}: the secret has no string value at key "${source.secretJsonKey}" (keys present: ${keys})`,
      'missing-json-key');
  }
  return value;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function validateUrl(value: string, where: string, options: ResolveWebhookUrlOptions): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new WebhookUrlError(`Webhook URL ${where} is not a valid URL`, 'invalid-url');
  }
  if (url.protocol === 'https:') return value;
  if (url.protocol === 'http:' && options.allowInsecureLocalhost && LOCAL_HOSTS.has(url.hostname)) return value;
  throw new WebhookUrlError(`Webhook URL ${where} is not an https URL (scheme ${url.protocol.replace(/:$/, '')})`, 'not-https');
}

function awsError(err: unknown, where: string, permission: string): WebhookUrlError {
  const name = (err as { name?: string } | undefined)?.name ?? 'Error';
  switch (name) {
    case 'ResourceNotFoundException':
    case 'ParameterNotFound':
    case 'ParameterVersionNotFound':
      return new WebhookUrlError(`Webhook URL ${where} was not found (${name})`, 'not-found');
    case 'AccessDeniedException':
    case 'AccessDenied':
    case 'KMSAccessDeniedException':
    case 'DecryptionFailure':
      return new WebhookUrlError(`Webhook URL ${where}: access denied (${name}); the function needs ${permission}`, 'access-denied');
    default:
      // SDK messages for these calls carry no secret material, but keep only the error name to be sure
      return new WebhookUrlError(`Webhook URL ${where} could not be read (${name})`, 'read-failed');
  }
}
