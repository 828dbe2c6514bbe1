// Child processes for the bench: servers (IPC "ready"), load generators and clients (IPC
// "result"), all bounded in time and killed on the way out, whatever happens.
import { fork } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
const REGISTER = join(BENCH_DIR, 'lib', 'register.cjs');
const live = new Set();

/** Kill every child still running (on exit, on Ctrl-C, on a failure). */
export function killAll() {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

function spawnNode(file, args = [], { nodeArgs = [], env = {}, silent = false } = {}) {
  const execArgv = [...nodeArgs];
  if (file.endsWith('.ts')) execArgv.push('-r', REGISTER);
  const child = fork(join(BENCH_DIR, file), args, {
    execArgv,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: silent ? ['ignore', 'ignore', 'pipe', 'ipc'] : ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
    if (process.env.BENCH_VERBOSE) process.stderr.write(chunk);
  });
  child.stderrText = () => stderr;
  child.on('error', () => undefined); // IPC write races with exits: exits are handled by 'exit'
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Waits for one IPC message matching `test`, or fails after `timeout` ms or on exit. */
function nextMessage(child, test, timeout, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${what}: no answer within ${timeout} ms\n${child.stderrText()}`)), timeout);
    const onMessage = (message) => {
      if (test(message)) done(null, message);
    };
    const onExit = (code, signal) =>
      done(new Error(`${what}: exited (${code ?? signal}) before answering\n${child.stderrText()}`));
    function done(error, value) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(value);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

let probeIds = 0;

/** Starts a server child and waits until it listens. */
export async function startServer(name, file, args = [], options = {}) {
  const child = spawnNode(file, args, options);
  const ready = await nextMessage(child, (m) => m?.type === 'ready', options.startTimeout ?? 30_000, `server ${name}`);
  const ask = (message, type) => {
    const id = ++probeIds;
    const answer = nextMessage(child, (m) => m?.type === type && m.id === id, 30_000, `server ${name} ${type}`);
    child.send({ ...message, id }, () => undefined);
    return answer;
  };
  return {
    name,
    child,
    port: ready.port,
    url: `http://127.0.0.1:${ready.port}`,
    /** heapUsed / rss after forced GC (needs --expose-gc). */
    memory: () => ask({ type: 'mem' }, 'mem'),
    probe: async (probeName, arg) => (await ask({ type: 'probe', name: probeName, arg }, 'probe')).value,
    stop: () => stopChild(child),
  };
}

/** Asks a child to exit, then kills it if it does not. Resolves when it is gone. */
export function stopChild(child, grace = 5_000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), grace);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    const fallback = () => child.kill('SIGTERM');
    if (!child.connected) return fallback();
    // A callback turns a late EPIPE (the child is already leaving) into a no-op instead of an 'error'.
    child.send({ type: 'stop' }, (error) => error && fallback());
  });
}

/**
 * Runs a client/load child to completion: it gets `config` as JSON in argv and answers with one
 * `{ type: 'result', ... }` message. `onMessage` sees its other messages (and may answer them).
 */
export async function runChild(file, config, { timeout = 120_000, onMessage, nodeArgs = [], env = {} } = {}) {
  const child = spawnNode(file, [JSON.stringify(config)], { nodeArgs, env });
  if (onMessage) child.on('message', (m) => m?.type !== 'result' && onMessage(m, child));
  try {
    const result = await nextMessage(child, (m) => m?.type === 'result', timeout, file);
    if (result.error) throw new Error(`${file}: ${result.error}`);
    return result;
  } finally {
    await stopChild(child, 2_000);
  }
}

/** A free loopback port (for redis-server). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
