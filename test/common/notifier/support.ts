import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../../lambda/common/notifier/http';
import type { NotificationMessage } from '../../../lambda/common/notifier/message';

/**
 * A virtual clock. `sleep(ms)` records `ms` and ends at `now() + ms` in virtual time without waiting:
 * pending sleeps end one per event-loop turn, earliest first, and each moves the time to its end.
 * Concurrent sleeps therefore overlap as real ones would.
 */
export class FakeClock implements Clock {
  public readonly sleeps: number[] = [];
  private readonly timers: { wake: number; resolve: () => void }[] = [];
  constructor(public time: number = Date.UTC(2025, 5, 1, 12, 0, 0)) {}

  public now(): number {
    return this.time;
  }

  public sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    return new Promise(resolve => {
      this.timers.push({ wake: this.time + ms, resolve });
      setImmediate(() => this.fireNext());
    });
  }

  private fireNext(): void {
    this.timers.sort((a, b) => a.wake - b.wake);
    const timer = this.timers.shift();
    if (!timer) return;
    this.time = Math.max(this.time, timer.wake);
    timer.resolve();
  }
}

export interface ScriptedResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Never answer (for timeouts). */
  readonly hang?: boolean;
}

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** `clock.now()` when the request arrived, if the server was given a clock. */
  readonly at?: number;
  json(): any;
}

/**
 * A real HTTP server on 127.0.0.1 with a random port. Each request takes the next scripted response for
 * its path; when the script runs out it answers `fallback` (200 "ok" unless set).
 */
export class ScriptedServer {
  public static async start(clock?: Clock): Promise<ScriptedServer> {
    const server = new ScriptedServer(clock);
    await new Promise<void>(resolve => server.server.listen(0, '127.0.0.1', resolve));
    return server;
  }

  public readonly requests: ReceivedRequest[] = [];
  public fallback: ScriptedResponse = { status: 200, body: 'ok' };
  private readonly server: http.Server;
  private readonly scripts = new Map<string, ScriptedResponse[]>();

  private constructor(private readonly clock?: Clock) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const path = req.url ?? '/';
        this.requests.push({
          method: req.method ?? '',
          path,
          headers: req.headers,
          body,
          at: this.clock?.now(),
          json: () => JSON.parse(body),
        });
        const next = this.scripts.get(path)?.shift() ?? this.fallback;
        if (next.hang) return;
        res.writeHead(next.status, next.headers ?? { 'content-type': 'text/plain' });
        res.end(next.body ?? '');
      });
    });
  }

  /** The URL of a webhook on this server, e.g. `http://127.0.0.1:PORT/services/T000/B000/secret`. */
  public url(path: string = '/hook'): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}${path}`;
  }

  /** Answer the next requests to `path` with these responses, in order. */
  public script(path: string, ...responses: ScriptedResponse[]): void {
    this.scripts.set(path, [...(this.scripts.get(path) ?? []), ...responses]);
  }

  public requestsTo(path: string): ReceivedRequest[] {
    return this.requests.filter(r => r.path === path);
  }

  public async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }
}

/**
 * The report an ECS agent monitor sends when container agents disconnect. Instance IDs and ARNs are
 * from the AWS DescribeContainerInstances and container instance state change examples.
 */
export function agentMonitorReport(extraInstances: number = 0): NotificationMessage {
  const instances = [
    'i-807f3249  arn:aws:ecs:us-east-1:012345678910:container-instance/f2756532-8f13-4d53-87c9-aed50dc94cd7  agent 1.13.0  running 1  disconnected since 2025-06-01T11:41:06Z',
    'i-f3a8506b  arn:aws:ecs:us-east-1:111122223333:container-instance/b54a2a04-046f-4331-9d74-3f6d7f6ca315  agent 1.13.0  running 0  disconnected since 2025-06-01T11:44:52Z',
  ];
  for (let i = 0; i < extraInstances; i++) {
    const id = (0x10000000 + i).toString(16);
    instances.push(`i-${id}  arn:aws:ecs:us-east-1:111122223333:container-instance/${id}-0000-4000-8000-000000000000  agent 1.13.0  running 2  disconnected since 2025-06-01T11:50:00Z`);
  }
  return {
    source: 'EcsAgentMonitor',
    title: `${instances.length} container instances in cluster default have a disconnected ECS agent`,
    severity: 'warning',
    summary: 'The ECS container agent on these instances has not connected for more than 10 minutes. '
      + 'Their tasks keep running, but ECS cannot place, stop or update tasks on them. '
      + 'Instances still disconnected at the next check will be drained & replaced (<2 checks> policy).',
    fields: [
      { name: 'Cluster', value: 'default' },
      { name: 'Region', value: 'us-east-1' },
      { name: 'Account', value: '111122223333' },
      { name: 'Disconnected', value: String(instances.length) },
      { name: 'Checked', value: String(instances.length + 40) },
      { name: 'Action', value: 'Replace after 2 consecutive checks' },
    ],
    sections: [
      { heading: 'Disconnected instances', text: instances.join('\n') },
      { heading: 'Next step', text: 'Check /var/log/ecs/ecs-agent.log on the instance, or run `systemctl restart ecs`.' },
    ],
    link: {
      text: 'Open the cluster in the ECS console',
      url: 'https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/default/infrastructure?region=us-east-1',
    },
  };
}
