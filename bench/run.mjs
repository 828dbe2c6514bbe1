#!/usr/bin/env node
// nestjs-datastar benchmarks: `npm run bench` (every scenario) or `npm run bench -- <scenario>`.
// Scenarios: dispatch, fanout, encoding, scaleout, validation, live, replay; `profile [server] [seconds]`
// profiles one dispatch server (see scenarios/profile.mjs). BENCH_QUICK=1 for short development runs.
// See README "Benchmarks".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR, killAll } from './lib/proc.mjs';

const ROOT = join(BENCH_DIR, '..');
const args = process.argv.slice(2);
const quick = process.env.BENCH_QUICK === '1';
const SCENARIOS = ['dispatch', 'fanout', 'encoding', 'scaleout', 'validation', 'live', 'replay'];

// The bench builds its own copy of the library into bench/.lib (tsc, as users get it) and every
// server loads `nestjs-datastar` from there: other work on libs/datastar/dist (clean, rebuild,
// pack) cannot pull the floor from under a run. BENCH_NO_BUILD=1 reuses the last build.
const LIB_DIR = join(BENCH_DIR, '.lib');

function buildLibrary() {
  process.env.BENCH_LIB_DIR ??= LIB_DIR;
  if (process.env.BENCH_NO_BUILD === '1' && existsSync(join(LIB_DIR, 'index.js'))) return;
  process.stdout.write('building the library into bench/.lib (tsc -p libs/datastar/tsconfig.lib.json)... ');
  const tsc = spawnSync(process.execPath, [
    join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'libs/datastar/tsconfig.lib.json',
    '--outDir', LIB_DIR, '--declaration', 'false', '--declarationMap', 'false', '--sourceMap', 'false',
  ], { cwd: ROOT, encoding: 'utf8' });
  if (tsc.status === 0) {
    console.log('done');
    return;
  }
  // tsc still emits on type errors (someone may be mid-edit): run on what was emitted, loudly.
  console.log(`tsc exited ${tsc.status}; running on what it emitted:\n${(tsc.stdout + tsc.stderr).slice(0, 2000)}`);
  if (!existsSync(join(LIB_DIR, 'index.js'))) throw new Error('bench/.lib/index.js was not emitted');
}

async function main() {
  const wanted = args.filter((a) => !a.startsWith('-'));
  const scenario = wanted[0] ?? 'all';
  if (scenario !== 'all' && scenario !== 'profile' && !SCENARIOS.includes(scenario)) {
    console.error(`Unknown scenario "${scenario}": use one of ${[...SCENARIOS, 'profile'].join(', ')}.`);
    process.exit(2);
  }
  buildLibrary();
  const started = Date.now();
  console.log(
    `\n# nestjs-datastar bench ${new Date().toISOString()}  node ${process.version}, ` +
      `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}` +
      (quick ? '  (BENCH_QUICK=1: short runs, indicative only)' : ''),
  );
  const reports = [];
  const run = async (name, fn) => {
    const mod = await import(`./scenarios/${name}.mjs`);
    // `reports`: the earlier scenarios of this run (live compares its broadcast with fanout's).
    reports.push(await mod[fn]({ quick, only: process.env.BENCH_ONLY?.split(','), args: wanted.slice(1), reports: [...reports] }));
    const last = reports.at(-1);
    console.log(`\n${last.text}\n`);
    for (const goal of last.goals) console.log(`  ${goal.info ? 'info  ' : goal.ok ? 'met   ' : 'MISSED'}  ${goal.text}`);
  };
  if (scenario === 'profile') {
    const mod = await import('./scenarios/profile.mjs');
    await mod.profileScenario({ quick, args: wanted.slice(1) });
  } else {
    for (const name of scenario === 'all' ? SCENARIOS : [scenario]) await run(name, `${name}Scenario`);
  }
  if (reports.length) {
    const dir = join(BENCH_DIR, 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
    writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, quick, loadavg: loadavg(), reports }, null, 2));
    console.log(`\n(${((Date.now() - started) / 1000).toFixed(0)} s; results saved to ${file.slice(ROOT.length + 1)})`);
    console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (numbers are only comparable on a quiet machine)`);
  }
}

main().then(
  () => {
    killAll();
    process.exit(0);
  },
  (error) => {
    console.error(error);
    killAll();
    process.exit(1);
  },
);
