// Scenario 5: live sessions at scale. N live sessions of a small @LiveView, each with its stream
// open, in one server process; clients in another. Memory per session after GC (idle, and after
// the broadcasts), the p99 of a pub/sub broadcast whose handleInfo re-renders the view in every
// session (trigger to each stream's receipt), and events per second on one session.
// Then two server processes sharing a Redis started here: the latency of an event POSTed to the
// process that does not own the session (forwarded to its owner) next to one POSTed to the owner.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, runChild, startServer } from '../lib/proc.mjs';
import { fmt, fmtRatio, median, percentile, ratio, table, verdict } from '../lib/stats.mjs';
import { withBaseline } from '../lib/baseline.mjs';
import { findRedis, startRedis } from './scaleout.mjs';

const CONTENDERS = [
  { key: 'ours', label: 'nestjs-datastar live view, Express', file: 'servers/live-nest.ts' },
  { key: 'ours-fastify', label: 'nestjs-datastar live view, Fastify', file: 'servers/live-nest.ts', args: ['fastify'] },
];

const KIB = 1024;
const PAGE_PATH = '/live/counter';

async function oneRun(c, settings) {
  const extra = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : [];
  const server = await startServer(c.label, c.file, c.args ?? [], { nodeArgs: ['--expose-gc', ...extra], env: c.env });
  const mem = {};
  let openCount;
  try {
    const result = await runChild('clients/live.mjs', {
      port: server.port,
      pagePath: PAGE_PATH,
      sessions: settings.sessions,
      warmupSessions: 50,
      settleMs: 1_000, // > the server's graceMs: the warm-up sessions have ended
      concurrency: 100,
      broadcasts: settings.broadcasts,
      pauseMs: 300,
      eventSeconds: settings.eventSeconds,
      eventConnections: 4,
      timeout: 20_000,
    }, {
      timeout: 300_000,
      onMessage: async (m, child) => {
        if (m.type !== 'phase') return;
        if (m.phase === 'warmed') mem.before = await server.memory();
        if (m.phase === 'opened') {
          openCount = await server.probe('sessions');
          mem.idle = await server.memory();
          // For investigations: a CPU profile of the broadcasts alone, to the file named.
          if (process.env.BENCH_LIVE_CPUPROF) await server.probe('cpuprof-start');
        }
        if (m.phase === 'broadcasted') {
          if (process.env.BENCH_LIVE_CPUPROF) await server.probe('cpuprof-stop', process.env.BENCH_LIVE_CPUPROF);
          mem.active = await server.memory();
        }
        child.send({ type: 'go' }, () => undefined);
      },
    });
    return { ...result, openCount, mem };
  } finally {
    await server.stop();
  }
}

/**
 * One session, page and stream on process A; its events POSTed one at a time, alternately to A
 * and to B, which forwards them to A through Redis. Undefined without redis-server.
 */
async function forwardRun(settings) {
  const binary = findRedis();
  if (!binary) return undefined;
  const redis = await startRedis(binary);
  const servers = [];
  try {
    const env = { BENCH_REDIS_URL: redis.url };
    for (const name of ['live A (owner)', 'live B']) servers.push(await startServer(name, 'servers/live-nest.ts', [], { env }));
    const r = await runChild('clients/live-forward.mjs', {
      ownerPort: servers[0].port, otherPort: servers[1].port, pagePath: PAGE_PATH,
      events: settings.forwardEvents, warmup: 50, timeout: 10_000,
    }, { timeout: 120_000 });
    if (r.refused.length) throw new Error(`live events across processes refused: ${r.refused.join('; ')}`);
    const stats = (list) => ({ p50: percentile(list, 50), p99: percentile(list, 99), max: percentile(list, 100), events: list.length });
    return { owner: stats(r.owner), forwarded: stats(r.forwarded) };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await redis.stop();
  }
}

/** The fanout scenario's "ours" p99 at `streams`: from this `npm run bench`, else the newest saved run. */
function fanoutFigure(reports, streams) {
  const here = reports.find((r) => r.name === 'fanout' && r.settings.streams === streams);
  if (here?.summary?.ours) return { p99: here.summary.ours.p99, from: 'this run' };
  const dir = join(BENCH_DIR, 'results');
  let files = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort().reverse();
  } catch {
    return undefined;
  }
  for (const file of files) {
    try {
      const saved = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      const fanout = saved.reports?.find((r) => r.name === 'fanout' && r.settings?.streams === streams);
      if (Number.isFinite(fanout?.summary?.ours?.p99)) return { p99: fanout.summary.ours.p99, from: `bench/results/${file}` };
    } catch {
      // a file being written, or not ours
    }
  }
  return undefined;
}

export async function liveScenario({ quick, only, reports = [] }) {
  const settings = quick
    ? { sessions: 1000, broadcasts: 3, rounds: 1, eventSeconds: 2, forwardEvents: 200 }
    : { sessions: 10_000, broadcasts: 5, rounds: 2, eventSeconds: 5, forwardEvents: 1000 };
  if (process.env.BENCH_ROUNDS) settings.rounds = Number(process.env.BENCH_ROUNDS);
  if (process.env.BENCH_SESSIONS) settings.sessions = Number(process.env.BENCH_SESSIONS);
  const all = withBaseline(CONTENDERS, () => true);
  const contenders = only ? all.filter((c) => only.includes(c.key)) : all;
  console.log(
    `\n## live: ${fmt(settings.sessions)} live sessions with open streams (GET ${PAGE_PATH}, then its stream), ` +
      `1 warm-up + ${settings.broadcasts} measured handleInfo broadcasts, ${settings.eventSeconds} s of events on one session ` +
      `(4 senders), ${settings.rounds} round(s) per contender, a fresh server process each\n`,
  );
  const results = new Map(contenders.map((c) => [c.key, []]));
  for (let round = 0; round < settings.rounds; round++) {
    for (const c of contenders) {
      const r = await oneRun(c, settings);
      const n = settings.sessions;
      r.heapIdle = (r.mem.idle.heapUsed - r.mem.before.heapUsed) / n;
      r.rssIdle = (r.mem.idle.rss - r.mem.before.rss) / n;
      r.heapActive = (r.mem.active.heapUsed - r.mem.before.heapUsed) / n;
      results.get(c.key).push(r);
      const missing = r.runs.reduce((sum, b) => sum + (b.expected - b.received), 0);
      console.log(
        `  round ${round + 1} ${c.label.padEnd(38)} open ${fmt(r.openMs)} ms (${r.openCount} sessions)  ` +
          `broadcast p50 ${r.runs.map((b) => fmt(b.p50)).join('/')} ms  p99 ${r.runs.map((b) => fmt(b.p99)).join('/')} ms  ` +
          `heap ${fmt(r.heapIdle / KIB, 1)} KiB  rss ${fmt(r.rssIdle / KIB, 1)} KiB per idle session  ` +
          `${fmt(r.events.perSecond)} events/s` +
          (r.events.refused ? ` (${r.events.refused} refused)` : '') +
          (missing || r.lost ? `  MISSING ${missing} receipts, ${r.lost} streams lost` : ''),
      );
    }
  }
  const summary = {};
  for (const c of contenders) {
    const list = results.get(c.key);
    const runs = list.flatMap((r) => r.runs);
    summary[c.key] = {
      p50: median(runs.map((b) => b.p50)),
      p99: median(runs.map((b) => b.p99)),
      max: median(runs.map((b) => b.max)),
      heapIdle: median(list.map((r) => r.heapIdle)) / KIB,
      rssIdle: median(list.map((r) => r.rssIdle)) / KIB,
      heapActive: median(list.map((r) => r.heapActive)) / KIB,
      openMs: median(list.map((r) => r.openMs)),
      eventsPerSecond: median(list.map((r) => r.events.perSecond)),
      missing: runs.reduce((sum, b) => sum + (b.expected - b.received), 0) + list.reduce((sum, r) => sum + r.lost, 0),
    };
  }
  const fanout = fanoutFigure(reports, settings.sessions);
  const rows = contenders.map((c) => {
    const s = summary[c.key];
    return [
      c.label, fmt(s.heapIdle, 1), fmt(s.rssIdle, 1), fmt(s.heapActive, 1), fmt(s.p50), fmt(s.p99), fmt(s.max),
      fmtRatio(ratio(s.p99, fanout?.p99)), fmt(s.eventsPerSecond), fmt(s.openMs), s.missing,
    ];
  });
  const text = table(
    [
      'contender', 'heap KiB/idle session', 'RSS KiB/idle session', 'heap KiB/session after broadcasts',
      'broadcast p50 ms', 'broadcast p99 ms', 'last ms', 'p99 / fanout p99', 'events/s, one session',
      `open ${fmt(settings.sessions)} ms`, 'missed',
    ],
    rows,
  );
  const ours = summary.ours ?? {};
  const goals = [verdict('heap <= 24 KiB per idle live session', ours.heapIdle, 24, { atMost: true, unit: ' KiB', digits: 1 })];
  if (fanout?.from === 'this run') {
    goals.push(verdict(`broadcast p99 <= 1.5x the fanout p99 (${fmt(fanout.p99)} ms, ours, ${fmt(settings.sessions)} streams)`,
      ratio(ours.p99, fanout.p99), 1.5, { atMost: true, unit: 'x' }));
  } else {
    // Another run's figure (another machine load) makes no verdict: it is printed to compare with.
    const seen = fanout ? `${fmt(fanout.p99)} ms in ${fanout.from} (${fmtRatio(ratio(ours.p99, fanout.p99))})` : 'no saved fanout run';
    goals.push({
      ok: false, info: true,
      text: `broadcast p99 ${fmt(ours.p99)} ms vs the fanout p99 at ${fmt(settings.sessions)} streams (goal <= 1.5x): ` +
        `fanout not run here; ${seen}. Run \`npm run bench\` for the verdict`,
    });
  }
  if (settings.sessions !== 10_000) goals.push({ ok: false, info: true, text: `measured with ${fmt(settings.sessions)} sessions: the goals are for 10,000` });

  if (only && !only.includes('forward')) return { name: 'live', settings, text, goals, summary };
  console.log(`\n  events across processes: ${fmt(settings.forwardEvents)} POSTed to the session's owner, as many to the other process (Redis)`);
  const forward = await forwardRun(settings);
  if (!forward) {
    goals.push({ ok: false, info: true, text: 'events across processes not measured: redis-server not found (apt-get install redis-server or set REDIS_SERVER_BIN)' });
    return { name: 'live', settings, text, goals, summary };
  }
  summary.forward = forward;
  const forwardText = table(
    ['event POSTed to (stream on the owner)', 'p50 ms', 'p99 ms', 'max ms', 'events'],
    [
      ['the owner (process A)', forward.owner],
      ['the other process (B, forwarded to A through Redis)', forward.forwarded],
    ].map(([label, s]) => [label, fmt(s.p50, 2), fmt(s.p99, 2), fmt(s.max, 1), fmt(s.events)]),
  );
  goals.push({
    ok: true, info: true,
    text: `an event forwarded to its owner: p50 ${fmt(forward.forwarded.p50, 2)} ms (${fmtRatio(ratio(forward.forwarded.p50, forward.owner.p50))} the owner's), ` +
      `p99 ${fmt(forward.forwarded.p99, 2)} ms (${fmtRatio(ratio(forward.forwarded.p99, forward.owner.p99))})`,
  });
  return { name: 'live', settings, text: `${text}\n\n${forwardText}`, goals, summary };
}
