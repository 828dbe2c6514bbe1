// BENCH_BASELINE=<dir>: also run "ours" contenders on another build of the library (e.g. a copy
// of libs/datastar/dist taken before a change), alternating with the current build in one run.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BENCH_DIR } from './proc.mjs';

export function withBaseline(contenders, isOurs) {
  const dir = process.env.BENCH_BASELINE;
  if (!dir) return contenders;
  const abs = resolve(join(BENCH_DIR, '..'), dir);
  if (!existsSync(join(abs, 'index.js'))) throw new Error(`BENCH_BASELINE=${dir}: no index.js there`);
  const out = [];
  for (const c of contenders) {
    out.push(c);
    if (isOurs(c)) out.push({ ...c, key: `${c.key}-baseline`, label: `${c.label} [baseline]`, env: { BENCH_LIB_DIR: abs } });
  }
  return out;
}
