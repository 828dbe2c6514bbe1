import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const START_TIMEOUT = 10_000;
const STOP_TIMEOUT = 5_000;

/** The `redis-server` binary: `$REDIS_SERVER_BIN`, else the first one on `$PATH`. */
export function findRedisServer(): string | undefined {
  const candidates = process.env.REDIS_SERVER_BIN
    ? [process.env.REDIS_SERVER_BIN]
    : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'redis-server'));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  return undefined;
}

/**
 * The binary, or undefined after a loud warning so the caller skips its Redis tests. On CI a
 * missing binary is a failure, never a silent skip: `.ci/run` must install Debian's redis-server.
 */
export function requireRedisServer(): string | undefined {
  const binary = findRedisServer();
  if (binary) return binary;
  const message =
    '\n\n  !!! redis-server NOT FOUND: the Redis tests cannot run. !!!\n' +
    '  Install it (Debian/Ubuntu: apt-get install -y redis-server) or set REDIS_SERVER_BIN.\n\n';
  if (process.env.CI === 'true') throw new Error(`${message}  CI=true: refusing to skip them.`);
  console.warn(`${message}  Skipping the Redis tests (they fail instead when CI=true).\n`);
  return undefined;
}

/** A throwaway `redis-server` on a free loopback port, with persistence off. */
export class RedisServer {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'datastar-redis-'));

  private constructor(private readonly binary: string, readonly port: number) {}

  static async start(binary: string): Promise<RedisServer> {
    const server = new RedisServer(binary, await freePort());
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** (Re)starts the server on the SAME port and waits until it answers PING. */
  async restart(): Promise<void> {
    if (this.child) throw new Error('redis-server is already running: stop() it first.');
    const child = spawn(this.binary, [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', this.dir, '--daemonize', 'no', '--loglevel', 'warning',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    const exited = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`redis-server exited early (${code}):\n${output}`)));
    });
    exited.catch(() => undefined);
    try {
      await Promise.race([waitForPong(this.port, START_TIMEOUT), exited]);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Stops the server; `SIGKILL` simulates a crash (no goodbye to clients). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`redis-server did not stop within ${STOP_TIMEOUT} ms of ${signal}.`));
      }, STOP_TIMEOUT);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill(signal);
    });
  }

  /** Stops the server and removes its working directory. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port ? resolve(port) : reject(new Error('No free port found.'))));
    });
  });
}

/** Polls the port with a raw PING until Redis answers +PONG. */
async function waitForPong(port: number, timeout: number): Promise<void> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (await ping(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server did not answer PING on port ${port} within ${timeout} ms.`);
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}
