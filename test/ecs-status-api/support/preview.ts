/**
 * The status API on localhost: the real handler (lambda/ecs-status-api, from source) behind a small HTTP adapter
 * that turns each request into the REST API proxy event API Gateway would send, against the fake fleet seeded with
 * the sample fleet (three clusters, Fargate and EC2 services, a failing deployment, tags).
 *
 * `npx projen preview:status` (scripts/preview-status.ts) runs it; the browser test starts it too.
 */
import { randomUUID } from 'node:crypto';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { REGION, defaultStatusApiEnvironment } from './environment';
import { seedSampleFleet } from './sample-fleet';
import { FakeFleet } from '../../support/fake-fleet';

export interface PreviewOptions {
  /** Port on 127.0.0.1; 0 picks a free one. @default 8787 */
  readonly port?: number;
  /** Added to every fake ECS call, to see the page wait as it would for ECS. @default 0 */
  readonly latencyMs?: number;
  /** A cluster whose ECS calls fail (throttled), to see a partial answer. @default - none */
  readonly failCluster?: string;
  /** The function's configuration, over the construct's defaults. */
  readonly environment?: Record<string, string>;
}

export interface Preview {
  /** `http://127.0.0.1:<port>/`: the status page. */
  readonly url: string;
  readonly fleet: FakeFleet;
  stop(): Promise<void>;
}

/** The handler's configuration as EcsStatusApi synthesizes it at its defaults, quieter and with the fake's region. */
const previewEnvironment = (): Record<string, string> => ({
  ...defaultStatusApiEnvironment(),
  POWERTOOLS_LOG_LEVEL: 'WARN',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_REGION: REGION,
});

const ROUTES = new Set(['/', '/services', '/list']);

/** The REST API proxy event (payload 1.0) API Gateway sends for a request. */
export function proxyEvent(request: IncomingMessage, url: URL): Record<string, unknown> {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const [name, value] = [request.rawHeaders[i], request.rawHeaders[i + 1]];
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const multi: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) (multi[name] ??= []).push(value);
  const single = Object.fromEntries(Object.entries(multi).map(([name, values]) => [name, values[values.length - 1]]));
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
  const resource = ROUTES.has(path) ? path : '/{proxy+}';
  const method = request.method ?? 'GET';
  return {
    resource,
    path,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: Object.keys(single).length > 0 ? single : null,
    multiValueQueryStringParameters: Object.keys(multi).length > 0 ? multi : null,
    pathParameters: resource === '/{proxy+}' ? { proxy: path.slice(1) } : null,
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'localpreview',
      stage: 'local',
      requestId: randomUUID(),
      identity: { sourceIp: request.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['User-Agent'] ?? headers['user-agent'] ?? '' },
      resourcePath: resource,
      httpMethod: method,
      path: url.pathname,
      protocol: `HTTP/${request.httpVersion}`,
      requestTimeEpoch: Date.now(),
    },
    body: null,
    isBase64Encoded: false,
  };
}

/** Starts the preview; the handler reads `process.env` (set here) on its first request. */
export async function startPreview(options: PreviewOptions = {}): Promise<Preview> {
  Object.assign(process.env, previewEnvironment(), options.environment);
  const fleet = new FakeFleet({ now: () => new Date() });
  seedSampleFleet(fleet);
  if (options.latencyMs) fleet.injectFault({ service: 'ecs', latencyMs: options.latencyMs });
  if (options.failCluster) {
    fleet.injectFault({ service: 'ecs', when: (input) => input?.cluster === options.failCluster, error: 'throttle' });
  }
  fleet.install();
  // Loaded after the fleet is installed and the environment set, as Lambda loads it: one container, warm after.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require('../../../lambda/ecs-status-api') as typeof import('../../../lambda/ecs-status-api');

  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    handler(proxyEvent(request, url))
      .then((answer) => {
        response.writeHead(answer.statusCode, answer.headers as Record<string, string>);
        response.end(answer.body);
      })
      .catch((error: Error) => {
        response.writeHead(502, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ message: 'Internal server error', error: error.message }));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    fleet,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections(); // the browser's keep-alive connections would hold close() open
      await closed;
      fleet.uninstall();
    },
  };
}
