/**
 * The HTTP side of the status API: an API Gateway REST API (payload 1.0) proxy event made into a request, and the
 * responses, with the headers every answer carries. An HTTP API (payload 2.0) event, or anything else, is named as
 * such instead of being half-read.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';

export interface HttpRequest {
  readonly method: string;
  /** The API resource path: `/`, `/services`, `/list`, or the request path when it is none of them. */
  readonly path: string;
  /** Query parameters with every value, in the order given. */
  readonly query: ReadonlyMap<string, readonly string[]>;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** API Gateway's request id, when there is one. */
  readonly requestId?: string;
  /** The caller's address (API Gateway's sourceIp). */
  readonly sourceIp?: string;
}

export type HttpResponse = APIGatewayProxyResult;

export const ROUTES = ['/', '/services', '/list'] as const;

/** Reads a REST API proxy event; anything else is a `problem` to answer with 400. */
export function requestFromEvent(event: unknown): { request: HttpRequest } | { problem: string } {
  const e = (event ?? {}) as Record<string, any>;
  if (e.version === '2.0' || (e.requestContext && typeof e.requestContext.http === 'object' && e.routeKey !== undefined)) {
    return {
      problem: 'This function answers API Gateway REST API proxy events (payload format 1.0); it got an HTTP API event (payload format 2.0). '
        + 'Integrate it with a REST API, as EcsStatusApi does.',
    };
  }
  if (typeof e.httpMethod !== 'string' || (typeof e.path !== 'string' && typeof e.resource !== 'string')) {
    return { problem: 'This function answers API Gateway REST API proxy events (payload format 1.0); the event is not one.' };
  }
  // The resource is the API's own path: with a custom domain, `path` also has the base path mapping in front.
  const resource = typeof e.resource === 'string' && (ROUTES as readonly string[]).includes(e.resource) ? e.resource : undefined;
  const rawPath = resource ?? String(e.path ?? e.resource);
  const path = rawPath.length > 1 ? rawPath.replace(/\/+$/, '') || '/' : rawPath || '/';

  const query = new Map<string, string[]>();
  const multi = e.multiValueQueryStringParameters as Record<string, string[] | null> | null | undefined;
  const single = e.queryStringParameters as Record<string, string | null> | null | undefined;
  if (multi && typeof multi === 'object') {
    for (const [name, values] of Object.entries(multi)) query.set(name, (values ?? []).map(String));
  } else if (single && typeof single === 'object') {
    for (const [name, value] of Object.entries(single)) query.set(name, value === null ? [] : [String(value)]);
  }

  const headers: Record<string, string> = {};
  const multiHeaders = e.multiValueHeaders as Record<string, string[] | null> | null | undefined;
  if (multiHeaders && typeof multiHeaders === 'object') {
    for (const [name, values] of Object.entries(multiHeaders)) headers[name.toLowerCase()] = (values ?? []).join(', ');
  }
  if (e.headers && typeof e.headers === 'object') {
    for (const [name, value] of Object.entries(e.headers as Record<string, string | null>)) {
      if (value !== null && value !== undefined && !(name.toLowerCase() in headers)) headers[name.toLowerCase()] = String(value);
    }
  }
  return {
    request: {
      method: e.httpMethod.toUpperCase(),
      path,
      query,
      headers,
      requestId: e.requestContext?.requestId,
      sourceIp: e.requestContext?.identity?.sourceIp,
    },
  };
}

/** Whether the client prefers HTML to JSON (a browser's navigation), from its Accept header. */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  let html = 0;
  let json = 0;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().toLowerCase().split(';').map((x) => x.trim());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q)) continue;
    if (type === 'text/html' || type === 'application/xhtml+xml') html = Math.max(html, q);
    if (type === 'application/json') json = Math.max(json, q);
  }
  return html > 0 && html >= json;
}

/** Headers on every answer: nothing is cached on the way (the data may be behind authorization), no sniffing. */
const COMMON_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return text(statusCode, typeof body === 'string' ? body : JSON.stringify(body), 'application/json; charset=utf-8', headers);
}

export function text(statusCode: number, body: string, contentType: string, headers: Record<string, string> = {}): HttpResponse {
  return {
    statusCode,
    headers: { ...COMMON_HEADERS, 'Content-Type': contentType, ...headers },
    body,
    isBase64Encoded: false,
  };
}

/** A JSON error: `{ error, ...details }`. */
export function errorResponse(
  statusCode: number, error: string, details: Record<string, unknown> = {}, headers: Record<string, string> = {},
): HttpResponse {
  return jsonResponse(statusCode, { error, ...details }, headers);
}
