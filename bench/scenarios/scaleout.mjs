// Scenario 4: scale-out. Two server processes and a real Redis (started here): streams open on
// process B, messages published on process A; publish-to-receive latency across processes, next
// to the same app publishing on B itself (local delivery through the same Redis adapter).
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort, runChild, startServer } from '../lib/proc.mjs';
import { fmt, percentile, table } from '../lib/stats.mjs';

export function findRedis() {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const candidate of [process.env.REDIS_SERVER_BIN, ...dirs.map((d) => join(d, 'redis-server'))].filter(Boolean)) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

function ping(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(String(data).startsWith('+PONG')));
  });
}

export async function startRedis(binary) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'], { stdio: 'ignore' });
  process.on('exit', () => child.kill('SIGKILL'));
  const deadline = Date.now() + 10_000;
  while (!(await ping(port))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => {
      child.once('exit', () => {
        rmSync(dir, { recursive: true, force: true });
        resolve();
      });
      child.kill('SIGTERM');
    }),
  };
}

export async function scaleoutScenario({ quick }) {
  const settings = quick
    ? { streams: 20, messages: 200, rounds: 2, intervalMs: 2 }
    : { streams: 100, messages: 1000, rounds: 2, intervalMs: 2 };
  const binary = findRedis();
  console.log(
    `\n## scaleout: ${settings.streams} streams on process B, ${fmt(settings.messages)} messages per contender ` +
      `(${settings.rounds} rounds), one every ~${settings.intervalMs} ms, real Redis\n`,
  );
  if (!binary) {
    return { name: 'scaleout', settings, text: '(skipped: redis-server not found; apt-get install redis-server or set REDIS_SERVER_BIN)', goals: [] };
  }
  const redis = await startRedis(binary);
  const env = { BENCH_REDIS_URL: redis.url };
  const servers = [];
  const contenders = [
    { key: 'cross', label: 'publish on A, streams on B (via Redis)' },
    { key: 'local', label: 'publish on B, streams on B (same process)' },
  ];
  const results = { cross: [], local: [] };
  const missing = { cross: 0, local: 0 };
  try {
    const a = await startServer('scaleout A', 'servers/scaleout-nest.ts', [], { env });
    servers.push(a);
    const b = await startServer('scaleout B', 'servers/scaleout-nest.ts', [], { env });
    servers.push(b);
    let seq = 1;
    const perRound = Math.ceil(settings.messages / settings.rounds);
    for (let round = 0; round < settings.rounds; round++) {
      for (const c of contenders) {
        const r = await runChild('clients/scaleout.mjs', {
          streamPort: b.port,
          publishPort: c.key === 'cross' ? a.port : b.port,
          streams: settings.streams,
          messages: perRound,
          firstSeq: seq,
          intervalMs: settings.intervalMs,
        }, { timeout: 120_000 });
        seq += perRound;
        results[c.key].push(...r.latencies);
        missing[c.key] += r.missing;
        console.log(
          `  round ${round + 1} ${c.label.padEnd(42)} p50 ${fmt(percentile(r.latencies, 50), 2)} ms  p99 ${fmt(percentile(r.latencies, 99), 2)} ms` +
            (r.missing ? `  missing ${r.missing}` : ''),
        );
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await redis.stop();
  }
  const summary = {};
  const rows = contenders.map((c) => {
    const list = results[c.key];
    summary[c.key] = { p50: percentile(list, 50), p99: percentile(list, 99), max: percentile(list, 100), receipts: list.length, missing: missing[c.key] };
    const s = summary[c.key];
    return [c.label, fmt(s.p50, 2), fmt(s.p99, 2), fmt(s.max, 1), fmt(s.receipts), s.missing];
  });
  const text = table(['path', 'p50 ms', 'p99 ms', 'max ms', 'receipts', 'missing'], rows);
  const goals = [{ ok: true, info: true, text: `scale-out has no numeric goal: cross-process p50 ${fmt(summary.cross.p50, 2)} ms, p99 ${fmt(summary.cross.p99, 2)} ms` }];
  return { name: 'scaleout', settings, text, goals, summary };
}
