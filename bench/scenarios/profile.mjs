// `npm run bench -- profile [server] [seconds]`: loads one dispatch server like the dispatch scenario
// and prints where its CPU time goes (self time per function and per area, in % and in µs per
// request), from a CPU profile of the measured window only: taken through the inspector after a
// warm-up, so start-up and JIT warm-up are not in it.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, runChild, startServer } from '../lib/proc.mjs';
import { summariseProfile } from '../lib/cpuprofile.mjs';
import { fmt } from '../lib/stats.mjs';

const SERVERS = {
  express: ['servers/dispatch-nest.ts', ['express']],
  fastify: ['servers/dispatch-nest.ts', ['fastify']],
  'express-dto': ['servers/dispatch-nest.ts', ['express', 'dto']],
  'fastify-dto': ['servers/dispatch-nest.ts', ['fastify', 'dto']],
  'sdk-nest-express': ['servers/dispatch-sdk-nest.ts', ['express']],
  'sdk-nest-fastify': ['servers/dispatch-sdk-nest.ts', ['fastify']],
  'sdk-express': ['servers/dispatch-sdk-express.mjs', []],
  'sdk-http': ['servers/dispatch-sdk-http.mjs', []],
  http: ['servers/dispatch-http.mjs', []],
};

export async function profileScenario({ quick, args }) {
  const which = args[0] ?? 'express';
  if (!SERVERS[which]) throw new Error(`profile: use one of ${Object.keys(SERVERS).join(', ')}`);
  const seconds = Number(args[1] ?? (quick ? 5 : 10));
  const dir = join(BENCH_DIR, 'results', 'profiles', which);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'dispatch.cpuprofile');
  const [serverFile, serverArgs] = SERVERS[which];
  const server = await startServer(which, serverFile, serverArgs);
  const load = (duration) => runChild('clients/load.mjs', {
    url: `${server.url}/ds/counter/increment`,
    body: JSON.stringify({ count: 41 }),
    connections: 32,
    duration,
  }, { timeout: (duration + 40) * 1000 });
  let r;
  let cpu;
  try {
    await load(quick ? 2 : 4); // warm-up: JIT, pools
    await server.probe('cpuprof-start');
    const before = await server.probe('cpu');
    r = await load(seconds);
    const after = await server.probe('cpu');
    await server.probe('cpuprof-stop', file);
    cpu = (after.user + after.system - before.user - before.system) / r.requests;
  } finally {
    await server.stop();
  }
  console.log(
    `\n## profile of the ${which} dispatch server: ${fmt(r.rps)} req/s while profiled (slower than unprofiled), ` +
      `p99 ${r.latency.p99} ms, server CPU ${fmt(cpu)} us/req\n`,
  );
  console.log(summariseProfile(file, 30, r.requests).text);
  console.log(`\n(the measured window only; open ${file} in Chrome DevTools for a flame graph)`);
}
