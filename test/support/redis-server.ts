import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket, connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';

/** The Debian package's binary; override with REDIS_SERVER_BIN. */
const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';

export interface RedisServerOptions {
  /** Require AUTH with this password (`--requirepass`). */
  readonly password?: string;
  /** Serve TLS only (a throwaway CA and server certificate for 127.0.0.1 / localhost). */
  readonly tls?: boolean;
  /** Listen on this port (e.g. to restart a server where a client expects it). @default - a free port */
  readonly port?: number;
}

export interface RunningRedisServer {
  readonly host: string;
  readonly port: number;
  /** PEM of the CA that signed the server certificate (TLS only). */
  readonly ca?: string;
  /** Kill the server and remove its temporary files. Safe to call twice. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Start a real `redis-server` on 127.0.0.1 at a free port, with no persistence, and wait until it answers PING.
 * Fails (never skips) when the binary is missing.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RunningRedisServer> {
  if (!existsSync(REDIS_SERVER_BIN)) {
    throw new Error(`${REDIS_SERVER_BIN} not found: these tests need a real Redis. ` +
      'Install the Debian package redis-server (sudo apt-get install redis-server), or set REDIS_SERVER_BIN.');
  }
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), 'redis-test-'));
  const port = options.port ?? await freePort();
  const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'];
  let ca: string | undefined;
  if (options.tls) {
    const certs = makeCertificates(dir);
    ca = readFileSync(certs.ca, 'utf8');
    args.push('--port', '0', '--tls-port', String(port),
      '--tls-cert-file', certs.cert, '--tls-key-file', certs.key, '--tls-ca-cert-file', certs.ca,
      '--tls-auth-clients', 'no');
  } else {
    args.push('--port', String(port));
  }
  if (options.password) {
    args.push('--requirepass', options.password);
  }

  const child = spawn(REDIS_SERVER_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  child.stdout?.on('data', (data) => { output += String(data); });
  child.stderr?.on('data', (data) => { output += String(data); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    running.delete(child);
    resolve();
  }));

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (!stopped) {
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
      }
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  };

  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`redis-server exited (${child.exitCode ?? child.signalCode}) before answering PING: ${output}`);
    }
    if (await answersPing(port, options.password, ca)) {
      return { host: '127.0.0.1', port, ca, stop };
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not answer PING on 127.0.0.1:${port} within 10 s: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function answersPing(port: number, password: string | undefined, ca: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket: Socket = ca
      ? tlsConnect({ host: '127.0.0.1', port, ca })
      : netConnect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once(ca ? 'secureConnect' : 'connect', () => {
      socket.write(`${password ? `AUTH ${password}\r\n` : ''}PING\r\n`);
    });
    socket.on('data', (data) => {
      reply += String(data);
      if (reply.includes('+PONG')) {
        done(true);
      } else if (reply.includes('-')) {
        done(false);
      }
    });
  });
}

/** A throwaway CA and a server certificate for localhost / 127.0.0.1, written with openssl into `dir`. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=cdk-ecs-ops test CA',
    '-keyout', file('ca.key'), '-out', file('ca.crt'));
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost',
    '-keyout', file('server.key'), '-out', file('server.csr'));
  writeFileSync(file('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl('x509', '-req', '-days', '1', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'),
    '-CAcreateserial', '-extfile', file('server.ext'), '-out', file('server.crt'));
  return { ca: file('ca.crt'), cert: file('server.crt'), key: file('server.key') };
}

function installExitHook(): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const child of running) {
        child.kill('SIGKILL');
      }
    });
  }
}
