/**
 * The status of the stack a custom resource belongs to (CloudFormation DescribeStacks), which tells a rollback's
 * update request (UPDATE_ROLLBACK_IN_PROGRESS) from a deployment's. Loaded only for an update that would run.
 *
 * This package bundles no CloudFormation client (the library's devDependencies have none), so the one query is
 * made here: an awsQuery POST signed with Signature Version 4 and the function's credentials, with the endpoint and
 * retry rules an SDK client would apply (AWS_ENDPOINT_URL_CLOUDFORMATION / AWS_ENDPOINT_URL, throttling and 5xx
 * retried with backoff). Swapping in `@aws-sdk/client-cloudformation`'s DescribeStacksCommand changes this file only.
 */
import { createHash, createHmac } from 'node:crypto';

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface SignInput {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly region: string;
  readonly service: string;
  readonly credentials: Credentials;
  readonly date: Date;
}

const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding, as SigV4 wants it (`encodeURIComponent` leaves `!'()*` alone). */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Signs a request with AWS Signature Version 4 (header form) and returns its headers with `x-amz-date`,
 * `x-amz-security-token` (with a session token) and `authorization` added.
 */
export function signV4(input: SignInput): Record<string, string> {
  const amzDate = input.date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = { ...input.headers, 'host': input.url.host, 'x-amz-date': amzDate };
  if (input.credentials.sessionToken) headers['x-amz-security-token'] = input.credentials.sessionToken;
  const names = Object.keys(headers).map((n) => n.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const canonicalHeaders = names.map((n) => `${n}:${lower[n].trim().replace(/\s+/g, ' ')}\n`).join('');
  const signedHeaders = names.join(';');
  const query = [...input.url.searchParams.entries()]
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const path = input.url.pathname.split('/').map((s) => uriEncode(decodeURIComponent(s))).join('/') || '/';
  const canonicalRequest = [input.method, path, query, canonicalHeaders, signedHeaders, sha256(input.body)].join('\n');
  const scope = `${day}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${input.credentials.secretAccessKey}`, day), input.region), input.service), 'aws4_request');
  const signature = createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${input.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

/** The DNS suffix of a partition's regional endpoints. */
function dnsSuffix(partition: string): string {
  return {
    'aws-cn': 'amazonaws.com.cn',
    'aws-iso': 'c2s.ic.gov',
    'aws-iso-b': 'sc2s.sgov.gov',
    'aws-iso-e': 'cloud.adc-e.uk',
    'aws-iso-f': 'csp.hci.ic.gov',
    'aws-eusc': 'amazonaws.eu',
  }[partition] ?? 'amazonaws.com';
}

/** The CloudFormation endpoint for a stack: the configured one (as the SDK reads it), else the stack's region's. */
export function cloudFormationEndpoint(stackId: string, env: Record<string, string | undefined> = process.env): { url: URL; region: string } {
  const m = /^arn:(aws[a-z-]*):cloudformation:([a-z0-9-]+):/.exec(stackId);
  const region = m?.[2] ?? env.AWS_REGION ?? 'us-east-1';
  const configured = env.AWS_ENDPOINT_URL_CLOUDFORMATION ?? env.AWS_ENDPOINT_URL;
  if (configured) return { url: new URL(configured), region };
  const fips = env.AWS_USE_FIPS_ENDPOINT === 'true' ? '-fips' : '';
  return { url: new URL(`https://cloudformation${fips}.${region}.${dnsSuffix(m?.[1] ?? 'aws')}/`), region };
}

/** An error CloudFormation answered (its `<Code>`), or a failure to reach it. */
export class StackStatusError extends Error {
  /** The HTTP status, where CloudFormation answered (as the SDK's errors carry it). */
  public readonly $metadata: { httpStatusCode?: number };

  constructor(message: string, public readonly code: string, public readonly retryable: boolean, httpStatusCode?: number) {
    super(message);
    this.name = code;
    this.$metadata = { httpStatusCode };
  }
}

const RETRYABLE_CODES = new Set(['Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'InternalFailure', 'ServiceUnavailable']);
const ATTEMPTS = 4;
const ATTEMPT_TIMEOUT_MS = 5_000;

function xmlValue(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m?.[1]?.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, '\'').replace(/&amp;/g, '&');
}

async function describeOnce(stackId: string, env: Record<string, string | undefined>): Promise<string> {
  const { url, region } = cloudFormationEndpoint(stackId, env);
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw new StackStatusError('no AWS credentials in the environment', 'CredentialsMissing', false);
  const body = `Action=DescribeStacks&StackName=${uriEncode(stackId)}&Version=2010-05-15`;
  const headers = signV4({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
    region,
    service: 'cloudformation',
    credentials: { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN },
    date: new Date(),
  });
  delete headers.host; // fetch sets it from the URL
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS) });
  } catch (error) {
    throw new StackStatusError(`CloudFormation did not answer: ${error instanceof Error ? error.message : String(error)}`, 'NetworkError', true);
  }
  const text = await response.text();
  if (!response.ok) {
    const code = xmlValue(text, 'Code') ?? `HTTP${response.status}`;
    throw new StackStatusError(xmlValue(text, 'Message') ?? text.slice(0, 200), code, response.status >= 500 || RETRYABLE_CODES.has(code), response.status);
  }
  const status = xmlValue(text, 'StackStatus');
  if (!status) throw new StackStatusError('DescribeStacks answered without a StackStatus', 'MalformedResponse', false);
  return status;
}

/**
 * The stack's status, e.g. `UPDATE_IN_PROGRESS` or `UPDATE_ROLLBACK_IN_PROGRESS`. Throttling, 5xx and network errors
 * are tried again up to four attempts in all, with backoff; anything else fails at once.
 */
export async function describeStackStatus(stackId: string, env: Record<string, string | undefined> = process.env): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await describeOnce(stackId, env);
    } catch (error) {
      if (!(error instanceof StackStatusError) || !error.retryable || attempt >= ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt * (0.5 + Math.random())));
    }
  }
}
