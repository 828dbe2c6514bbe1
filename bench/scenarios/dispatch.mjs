// Scenario 1: the dispatch round trip. POST an `increment` event with {"count": 41}; the answer is
// the patched `count` signal and one <li> appended from the same Handlebars partial.
import { runChild, startServer } from '../lib/proc.mjs';
import { fmt, fmtRatio, median, ratio, table, verdict } from '../lib/stats.mjs';
import { parseSse, sameEvents } from '../lib/sse.mjs';
import { withBaseline } from '../lib/baseline.mjs';

// Ours and the peer to beat (the official SDK hand-wired in a plain Nest controller, issue 12) side
// by side, each pair with the sample's class-validator DTO and without one; then the other floors.
const NEST = 'servers/dispatch-nest.ts';
const SDK_NEST = 'servers/dispatch-sdk-nest.ts';
const CONTENDERS = [
  { key: 'ours-express', label: 'nestjs-datastar, Express', file: NEST, args: ['express'] },
  { key: 'sdk-nest-express', label: 'SDK hand-wired in Nest, Express', file: SDK_NEST, args: ['express'] },
  { key: 'ours-express-dto', label: 'nestjs-datastar, Express, DTO', file: NEST, args: ['express', 'dto'] },
  { key: 'sdk-nest-express-dto', label: 'SDK hand-wired in Nest, Express, DTO', file: SDK_NEST, args: ['express', 'dto'] },
  { key: 'ours-fastify', label: 'nestjs-datastar, Fastify', file: NEST, args: ['fastify'] },
  { key: 'sdk-nest-fastify', label: 'SDK hand-wired in Nest, Fastify', file: SDK_NEST, args: ['fastify'] },
  { key: 'ours-fastify-dto', label: 'nestjs-datastar, Fastify, DTO', file: NEST, args: ['fastify', 'dto'] },
  { key: 'sdk-nest-fastify-dto', label: 'SDK hand-wired in Nest, Fastify, DTO', file: SDK_NEST, args: ['fastify', 'dto'] },
  { key: 'sdk-express', label: 'SDK, Express 5 + express.json()', file: 'servers/dispatch-sdk-express.mjs' },
  { key: 'sdk-http', label: 'SDK, node:http (its readSignals)', file: 'servers/dispatch-sdk-http.mjs' },
  { key: 'http', label: 'hand-written node:http (floor)', file: 'servers/dispatch-http.mjs' },
];

/** Ours against the SDK hand-wired in Nest: same adapter, same DTO (or none) on both sides. */
const PAIRS = [
  { label: 'Express, with the DTO', ours: 'ours-express-dto', peer: 'sdk-nest-express-dto' },
  { label: 'Express, no DTO', ours: 'ours-express', peer: 'sdk-nest-express' },
  { label: 'Fastify, with the DTO', ours: 'ours-fastify-dto', peer: 'sdk-nest-fastify-dto' },
  { label: 'Fastify, no DTO', ours: 'ours-fastify', peer: 'sdk-nest-fastify' },
];

// BENCH_DIAG=1: Nest without nestjs-datastar on the same route, to split framework cost from ours.
const DIAGNOSTICS = [
  { key: 'nest-express-raw', label: 'diag: plain Nest route, Express', file: 'servers/dispatch-nest-raw.ts', args: ['express'] },
  { key: 'nest-fastify-raw', label: 'diag: plain Nest route, Fastify', file: 'servers/dispatch-nest-raw.ts', args: ['fastify'] },
  { key: 'nest-express-als', label: 'diag: plain Nest route + ALS, Express', file: 'servers/dispatch-nest-raw.ts', args: ['express', 'als'] },
  { key: 'nest-fastify-als', label: 'diag: plain Nest route + ALS, Fastify', file: 'servers/dispatch-nest-raw.ts', args: ['fastify', 'als'] },
  // Our dispatch pipeline with a handler that does nothing (an empty 200 stream): pipeline cost alone.
  { key: 'ours-express-noop', label: 'diag: ours, no-op handler, Express', file: 'servers/dispatch-nest.ts', args: ['express'], path: '/ds/counter/noop', check: false },
  { key: 'ours-fastify-noop', label: 'diag: ours, no-op handler, Fastify', file: 'servers/dispatch-nest.ts', args: ['fastify'], path: '/ds/counter/noop', check: false },
];

const PATH = '/ds/counter/increment';
const BODY = JSON.stringify({ count: 41 });
const EXPECTED = parseSse(
  'event: datastar-patch-signals\ndata: signals {"count":42}\n\n' +
    'event: datastar-patch-elements\ndata: selector #history-list\ndata: mode append\n' +
    'data: elements <li>count became 42; its square, computed on the server, is 1764</li>\n\n',
);

/** One request to each contender first: same status, same events, or the bench stops. */
async function check(server) {
  const res = await fetch(server.url + PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'datastar-request': 'true' },
    body: BODY,
  });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  if (res.status !== 200 || !type.startsWith('text/event-stream') || !sameEvents(parseSse(text), EXPECTED)) {
    throw new Error(`${server.name} answered ${res.status} ${type}:\n${text}`);
  }
}

export async function dispatchScenario({ quick, only, profile }) {
  const settings = quick
    ? { rounds: 2, duration: 3, warmup: 1, connections: 32 }
    : { rounds: 4, duration: 8, warmup: 3, connections: 32 };
  if (process.env.BENCH_ROUNDS) settings.rounds = Number(process.env.BENCH_ROUNDS);
  if (process.env.BENCH_DURATION) settings.duration = Number(process.env.BENCH_DURATION);
  const all = withBaseline([...CONTENDERS, ...(process.env.BENCH_DIAG === '1' ? DIAGNOSTICS : [])], (c) => c.key.startsWith('ours'));
  const contenders = only ? all.filter((c) => only.includes(c.key)) : all;
  console.log(
    `\n## dispatch: POST ${PATH} ${BODY}, ${settings.connections} connections, ` +
      `${settings.rounds} rounds x ${settings.duration} s per contender (warm-up ${settings.warmup} s)\n`,
  );
  const servers = new Map();
  const results = new Map(contenders.map((c) => [c.key, []]));
  try {
    for (const c of contenders) {
      const nodeArgs = profile?.key === c.key ? profile.nodeArgs : [];
      servers.set(c.key, await startServer(c.label, c.file, c.args, { nodeArgs, env: c.env }));
      if (c.check !== false) await check(servers.get(c.key));
    }
    console.log('  checked: every contender answers 200 text/event-stream with the same two events (no-op diagnostics aside)');
    // Warm-up (JIT, pools), not recorded: every measured round then counts its own CPU time.
    for (const c of contenders) {
      await runChild('clients/load.mjs', {
        url: servers.get(c.key).url + (c.path ?? PATH), body: BODY, connections: settings.connections, duration: settings.warmup,
      }, { timeout: (settings.warmup + 30) * 1000 });
    }
    for (let round = 0; round < settings.rounds; round++) {
      for (const c of contenders) {
        const server = servers.get(c.key);
        const cpuBefore = await server.probe('cpu');
        const r = await runChild('clients/load.mjs', {
          url: server.url + (c.path ?? PATH),
          body: BODY,
          connections: settings.connections,
          duration: settings.duration,
        }, { timeout: (settings.duration + 30) * 1000 });
        const cpuAfter = await server.probe('cpu');
        r.cpuPerRequest = (cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) / r.requests;
        results.get(c.key).push(r);
        console.log(
          `  round ${round + 1} ${c.label.padEnd(44)} ${fmt(r.rps).padStart(7)} req/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms` +
            (Number.isFinite(r.cpuPerRequest) ? `  server CPU ${fmt(r.cpuPerRequest)} us/req` : '') +
            (r.non2xx || r.errors || r.timeouts ? `  non2xx ${r.non2xx} errors ${r.errors} timeouts ${r.timeouts}` : ''),
        );
      }
    }
  } finally {
    await Promise.all([...servers.values()].map((s) => s.stop()));
  }

  const summary = new Map();
  for (const c of contenders) {
    const list = results.get(c.key);
    summary.set(c.key, {
      rps: median(list.map((r) => r.rps)),
      min: Math.min(...list.map((r) => r.rps)),
      max: Math.max(...list.map((r) => r.rps)),
      p50: median(list.map((r) => r.latency.p50)),
      p99: median(list.map((r) => r.latency.p99)),
      cpu: median(list.map((r) => r.cpuPerRequest)),
      bad: list.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
    });
  }
  const sdkExpress = summary.get('sdk-express')?.rps;
  const sdkHttp = summary.get('sdk-http')?.rps;
  const rows = contenders.map((c) => {
    const s = summary.get(c.key);
    return [
      c.label, fmt(s.rps), `${fmt(s.min)}–${fmt(s.max)}`, fmt(s.p50, 1), fmt(s.p99, 1), fmt(s.cpu),
      fmtRatio(ratio(s.rps, sdkExpress)), fmtRatio(ratio(s.rps, sdkHttp)), s.bad,
    ];
  });
  const get = (key, field) => summary.get(key)?.[field];
  const floorCpu = get('http', 'cpu');
  // With BENCH_BASELINE, each pair again with the baseline build of ours: before/after in one run.
  const pairList = PAIRS.flatMap((p) => (summary.has(`${p.ours}-baseline`)
    ? [p, { ...p, label: `${p.label} [baseline]`, ours: `${p.ours}-baseline` }]
    : [p]));
  const pairRows = pairList.map((p) => [
    p.label, fmt(get(p.ours, 'rps')), fmt(get(p.peer, 'rps')), fmtRatio(ratio(get(p.ours, 'rps'), get(p.peer, 'rps'))),
    fmt(get(p.ours, 'p99'), 1), fmt(get(p.peer, 'p99'), 1), fmt(get(p.ours, 'cpu')), fmt(get(p.peer, 'cpu')),
    fmtRatio(ratio(get(p.ours, 'cpu'), floorCpu)),
  ]);
  const text = table(['contender', 'req/s (median)', 'range', 'p50 ms', 'p99 ms', 'server CPU us/req', 'vs SDK/Express', 'vs SDK/http', 'errors'], rows) +
    '\n\nours / the SDK hand-wired in a Nest controller (same adapter, same DTO or none):\n\n' +
    table(['pair', 'ours req/s', 'SDK-in-Nest req/s', 'ours / SDK-in-Nest', 'p99 ours ms', 'p99 SDK-in-Nest ms', 'CPU us/req ours', 'CPU us/req SDK-in-Nest', 'CPU ours / node:http floor'], pairRows);
  const goals = [
    ...PAIRS.map((p) => verdict(`ours >= 1.2x the SDK hand-wired in Nest, ${p.label}`, ratio(get(p.ours, 'rps'), get(p.peer, 'rps')), 1.2, { unit: 'x' })),
    ...PAIRS.map((p) => verdict(`p99 ours <= the SDK hand-wired in Nest, ${p.label}`, get(p.ours, 'p99'), get(p.peer, 'p99'), { atMost: true, unit: ' ms', digits: 1 })),
    verdict('server CPU per request ours/Fastify <= 2x the node:http floor', ratio(get('ours-fastify', 'cpu'), floorCpu), 2, { atMost: true, unit: 'x' }),
  ];
  // The floor validates nothing: with the DTO it is shown, not judged.
  const dtoCpu = verdict('server CPU per request ours/Fastify with the DTO <= 2x the node:http floor', ratio(get('ours-fastify-dto', 'cpu'), floorCpu), 2, { atMost: true, unit: 'x' });
  goals.push({ ...dtoCpu, info: true, text: `(the floor validates nothing) ${dtoCpu.text}` });
  goals.push(
    verdict('ours/Express >= 0.9x SDK/Express', ratio(get('ours-express', 'rps'), sdkExpress), 0.9, { unit: 'x' }),
    verdict('ours/Fastify >= 2x SDK/Express', ratio(get('ours-fastify', 'rps'), sdkExpress), 2, { unit: 'x' }),
    verdict('ours/Fastify >= 0.6x SDK/http', ratio(get('ours-fastify', 'rps'), sdkHttp), 0.6, { unit: 'x' }),
    verdict('p99 ours/Express <= SDK/Express', get('ours-express', 'p99'), get('sdk-express', 'p99'), { atMost: true, unit: ' ms', digits: 1 }),
  );
  return { name: 'dispatch', settings, text, goals, summary: Object.fromEntries(summary) };
}
