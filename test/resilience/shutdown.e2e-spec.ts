import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { request } from 'node:http';
import { ADAPTERS } from '../core/fixtures/harness';
import { SseStream, within } from '../streams/fixtures/sse-client';

const FIXTURES = join(__dirname, 'fixtures');

/** The server in a child process; resolves with its port once it listens. */
function startServer(adapter: string): Promise<{ child: ChildProcess; base: string; output: () => string }> {
  const child = spawn(process.execPath, ['-r', join(FIXTURES, 'ts-register.cjs'), join(FIXTURES, 'shutdown.server.ts'), adapter], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return within(20_000, new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening:\n${output}`)));
    child.stdout!.on('data', () => {
      const port = /listening (\d+)/.exec(output)?.[1];
      if (port) resolve({ child, base: `http://127.0.0.1:${port}`, output: () => output });
    });
  }), 'the server to listen');
}

/** A gzip stream read raw: the decoded text so far, and how the connection ended. */
function openCompressed(base: string, path: string): Promise<{ text: () => string; ended: Promise<'end' | 'reset'> }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { agent: false, headers: { 'datastar-request': 'true', 'accept-encoding': 'gzip' } }, (res) => {
      let text = '';
      const gunzip = createGunzip({ finishFlush: 2 /* Z_SYNC_FLUSH: a cut stream still yields its text */ });
      gunzip.on('data', (chunk) => (text += chunk));
      gunzip.on('error', () => undefined);
      res.pipe(gunzip);
      // Settled once the decoder has released what arrived (it works on another thread).
      const ended = new Promise<'end' | 'reset'>((done) => {
        res.once('close', () => {
          const how = res.complete ? 'end' : 'reset';
          gunzip.once('end', () => done(how));
          gunzip.once('error', () => done(how));
          gunzip.end();
        });
      });
      if (res.headers['content-encoding'] !== 'gzip') reject(new Error('not compressed'));
      resolve({ text: () => text, ended });
    });
    req.on('error', reject);
    req.end();
  });
}

// A topic's stream opens with the topic's position (an id alone), then nothing until the hint.
const HINT = /^(?:id: [\w-]+:\d+\n\n)?retry: (\d+)\n\n$/;

describe.each(ADAPTERS)('SIGTERM with open streams: every client sees a retryable end (%s)', (adapter) => {
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  afterEach(() => server?.child.kill('SIGKILL'));

  it('a retry: hint in the window, then the connection dropped (not a clean end); the process exits', async () => {
    server = await startServer(adapter);
    const { child, base } = server;
    const plain = await Promise.all(Array.from({ length: 20 }, (_, i) => SseStream.open(base, i % 2 ? '/ds/shutdown/idle' : '/ds/shutdown/topic')));
    const compressed = await openCompressed(base, '/ds/shutdown/idle');
    expect(plain.every((s) => s.status === 200 && s.open)).toBe(true);
    const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(String(code ?? signal))));
    child.kill('SIGTERM');
    const ends = await within(5000, Promise.all(plain.map((s) => s.ended)), 'every stream to end');
    // The Datastar client: a clean end of a 200 stream is never retried; a dropped one is.
    expect(ends).toEqual(plain.map(() => 'reset'));
    const hints = plain.map((s) => HINT.exec(s.text)?.[1]).map(Number);
    expect(hints.filter((ms) => !(ms >= 500 && ms <= 3000))).toEqual([]);
    expect(new Set(hints).size).toBeGreaterThan(1);
    expect(await within(5000, compressed.ended, 'the compressed stream to end')).toBe('reset');
    expect(compressed.text()).toMatch(HINT);
    // Nest's shutdown hook closes the app, then re-raises the signal: app.close() did not hang.
    expect(await within(10_000, exited, 'the process to exit')).toBe('SIGTERM');
  });
});
