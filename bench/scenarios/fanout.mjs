// Scenario 2: fan-out. N open streams in one server process, clients in another; one warm-up
// broadcast, then measured broadcasts of a small patch-signals event: time from the trigger to
// each stream's receipt (p50/p99), and memory per open stream after GC. Plain Express and plain
// node:http writing the same bytes are the floors ours is compared with (ratios in the same run).
import { runChild, startServer } from '../lib/proc.mjs';
import { fmt, fmtRatio, median, ratio, table, verdict } from '../lib/stats.mjs';
import { withBaseline } from '../lib/baseline.mjs';

const CONTENDERS = [
  { key: 'ours', label: 'nestjs-datastar (pubsub.subscribe)', file: 'servers/fanout-nest.ts', streamPath: '/ds/room/stream', broadcastPath: '/bench/broadcast' },
  { key: 'ours-fastify', label: 'nestjs-datastar on Fastify', file: 'servers/fanout-nest.ts', args: ['fastify'], streamPath: '/ds/room/stream', broadcastPath: '/bench/broadcast' },
  { key: 'nest-sse', label: "Nest's @Sse() + Subject", file: 'servers/fanout-nest-sse.ts', streamPath: '/room/stream', broadcastPath: '/room/broadcast' },
  { key: 'express', label: 'plain Express, same bytes', file: 'servers/fanout-express.mjs', streamPath: '/stream', broadcastPath: '/broadcast' },
  { key: 'http', label: 'plain node:http, same bytes', file: 'servers/fanout-http.mjs', streamPath: '/stream', broadcastPath: '/broadcast' },
];

const KIB = 1024;

async function oneRun(c, settings) {
  // BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the servers.
  const extra = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : [];
  const server = await startServer(c.label, c.file, c.args ?? [], { nodeArgs: ['--expose-gc', ...extra], env: c.env });
  const mem = {};
  let openCount;
  try {
    const result = await runChild('clients/fanout.mjs', {
      port: server.port,
      streamPath: c.streamPath,
      broadcastPath: c.broadcastPath,
      streams: settings.streams,
      warmupStreams: 50,
      concurrency: 200,
      broadcasts: settings.broadcasts,
      pauseMs: 300,
      timeout: 15_000,
    }, {
      timeout: 300_000,
      onMessage: async (m, child) => {
        if (m.type !== 'phase') return;
        if (m.phase === 'warmed') mem.before = await server.memory();
        if (m.phase === 'opened') openCount = await server.probe('streams');
        if (m.phase === 'warm') mem.after = await server.memory();
        child.send({ type: 'go' }, () => undefined);
      },
    });
    return { ...result, openCount, mem };
  } finally {
    await server.stop();
  }
}

export async function fanoutScenario({ quick, only }) {
  const settings = quick ? { streams: 1000, broadcasts: 3, rounds: 1 } : { streams: 10_000, broadcasts: 5, rounds: 3 };
  if (process.env.BENCH_ROUNDS) settings.rounds = Number(process.env.BENCH_ROUNDS);
  if (process.env.BENCH_STREAMS) settings.streams = Number(process.env.BENCH_STREAMS);
  const all = withBaseline(CONTENDERS, (c) => c.key.startsWith('ours'));
  const contenders = only ? all.filter((c) => only.includes(c.key)) : all;
  console.log(
    `\n## fanout: ${fmt(settings.streams)} open streams, 1 warm-up + ${settings.broadcasts} measured broadcasts, ` +
      `${settings.rounds} round(s) per contender, a fresh server process each\n`,
  );
  const results = new Map(contenders.map((c) => [c.key, []]));
  for (let round = 0; round < settings.rounds; round++) {
    for (const c of contenders) {
      const r = await oneRun(c, settings);
      const n = settings.streams;
      r.heapPerStream = (r.mem.after.heapUsed - r.mem.before.heapUsed) / n;
      r.rssPerStream = (r.mem.after.rss - r.mem.before.rss) / n;
      results.get(c.key).push(r);
      const missing = r.runs.reduce((sum, b) => sum + (b.expected - b.received), 0);
      console.log(
        `  round ${round + 1} ${c.label.padEnd(46)} open ${fmt(r.openMs)} ms (${r.openCount} counted)  ` +
          `p50 ${r.runs.map((b) => fmt(b.p50)).join('/')} ms  p99 ${r.runs.map((b) => fmt(b.p99)).join('/')} ms  ` +
          `heap ${fmt(r.heapPerStream / KIB, 1)} KiB  rss ${fmt(r.rssPerStream / KIB, 1)} KiB per stream` +
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
      heap: median(list.map((r) => r.heapPerStream)) / KIB,
      rss: median(list.map((r) => r.rssPerStream)) / KIB,
      openMs: median(list.map((r) => r.openMs)),
      missing: runs.reduce((sum, b) => sum + (b.expected - b.received), 0),
    };
  }
  const floor = summary.http ?? {};
  const rows = contenders.map((c) => {
    const s = summary[c.key];
    return [
      c.label, fmt(s.p50), fmt(s.p99), fmtRatio(ratio(s.p99, floor.p99)), fmt(s.max), fmt(s.heap, 1), fmt(s.rss, 1),
      fmt(s.openMs), fmtRatio(ratio(s.openMs, floor.openMs)), s.missing,
    ];
  });
  const text = table(
    [
      'contender', 'p50 ms', 'p99 ms', 'p99 / http', 'last ms', 'heap KiB/stream', 'RSS KiB/stream',
      `open ${fmt(settings.streams)} ms`, 'open / http', 'missed',
    ],
    rows,
  );
  // Judged on each adapter; plain Express, when measured, shows what Express itself costs.
  const goals = [];
  for (const [key, name] of [['ours', 'Express'], ['ours-fastify', 'Fastify']]) {
    const ours = summary[key];
    if (!ours) continue;
    goals.push(
      verdict(`${name}: fanout p99 <= 1.2x plain node:http`, ratio(ours.p99, floor.p99), 1.2, { atMost: true, unit: 'x' }),
      verdict(`${name}: heap <= 6 KiB per stream`, ours.heap, 6, { atMost: true, unit: ' KiB', digits: 1 }),
      verdict(`${name}: opening the streams <= 1.5x plain node:http`, ratio(ours.openMs, floor.openMs), 1.5, { atMost: true, unit: 'x' }),
      verdict(`${name}: RSS <= 20 KiB per stream`, ours.rss, 20, { atMost: true, unit: ' KiB', digits: 1 }),
    );
  }
  const express = summary.express;
  if (express) {
    goals.push({
      ok: false, info: true,
      text: `plain Express, same bytes (the floor for ours on Express): ${fmt(express.heap, 1)} KiB per stream, ` +
        `p99 ${fmtRatio(ratio(express.p99, floor.p99))} and opening ${fmtRatio(ratio(express.openMs, floor.openMs))} plain node:http` +
        (summary.ours ? `; ours on Express: p99 ${fmtRatio(ratio(summary.ours.p99, express.p99))} and opening ${fmtRatio(ratio(summary.ours.openMs, express.openMs))} plain Express` : ''),
    });
  }
  if (quick) goals.push({ ok: false, info: true, text: `measured with ${fmt(settings.streams)} streams (BENCH_QUICK): the goals are for 10,000` });
  return { name: 'fanout', settings, text, goals, summary };
}
