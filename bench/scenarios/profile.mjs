// `npm run bench -- profile [express|fastify|sdk-express|sdk-http] [seconds]`: runs one dispatch
// server under `node --cpu-prof`, loads it like the dispatch scenario, and prints where the
// server's CPU time goes (self time per function and per area), from the .cpuprofile itself.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, runChild, startServer } from '../lib/proc.mjs';
import { summariseProfile } from '../lib/cpuprofile.mjs';
import { fmt } from '../lib/stats.mjs';

const SERVERS = {
  express: ['servers/dispatch-nest.ts', ['express']],
  fastify: ['servers/dispatch-nest.ts', ['fastify']],
  'sdk-express': ['servers/dispatch-sdk-express.mjs', []],
  'sdk-http': ['servers/dispatch-sdk-http.mjs', []],
};

export async function profileScenario({ quick, args }) {
  const which = args[0] ?? 'express';
  if (!SERVERS[which]) throw new Error(`profile: use one of ${Object.keys(SERVERS).join(', ')}`);
  const seconds = Number(args[1] ?? (quick ? 5 : 10));
  const dir = join(BENCH_DIR, 'results', 'profiles', which);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const [file, serverArgs] = SERVERS[which];
  const server = await startServer(which, file, serverArgs, { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] });
  let r;
  try {
    r = await runChild('clients/load.mjs', {
      url: `${server.url}/ds/counter/increment`,
      body: JSON.stringify({ count: 41 }),
      connections: 32,
      duration: seconds,
      warmup: 2,
    }, { timeout: (seconds + 40) * 1000 });
  } finally {
    await server.stop();
  }
  console.log(`\n## profile of the ${which} dispatch server: ${fmt(r.rps)} req/s under --cpu-prof (slower than unprofiled), p99 ${r.latency.p99} ms\n`);
  const profiles = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (!profiles.length) throw new Error(`no .cpuprofile written in ${dir}`);
  const summary = summariseProfile(join(dir, profiles[0]), 30);
  console.log(summary.text);
  console.log(`\n(the profile includes start-up and the 2 s warm-up; open ${join(dir, profiles[0])} in Chrome DevTools for a flame graph)`);
}
