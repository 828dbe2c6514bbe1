// Scenario 3: encoding throughput. Events built and encoded to bytes per second, nestjs-datastar
// vs the official SDK, each measurement in a fresh process, contenders alternating.
import { runChild } from '../lib/proc.mjs';
import { fmt, fmtRatio, median, ratio, table, verdict } from '../lib/stats.mjs';
import { withBaseline } from '../lib/baseline.mjs';

const CASES = ['patchElements small', 'patchElements 2 KiB, 26 lines', 'patchSignals'];
const CONTENDERS = [
  { key: 'ours', label: 'nestjs-datastar' },
  { key: 'sdk', label: 'official SDK' },
  { key: 'floor', label: 'floor: the same text to bytes, no framing' },
];

export async function encodingScenario({ quick }) {
  const contenders = withBaseline(CONTENDERS, (c) => c.key === 'ours');
  const settings = quick ? { rounds: 2, ms: 500, warmupMs: 300 } : { rounds: 4, ms: 2000, warmupMs: 700 };
  console.log(`\n## encoding: build + encode to bytes, ${settings.rounds} rounds x ${settings.ms} ms per case and contender\n`);
  const results = {};
  for (let round = 0; round < settings.rounds; round++) {
    for (const kase of CASES) {
      for (const c of contenders) {
        const r = await runChild('clients/encoding.mjs', {
          contender: c.key.startsWith('ours') ? 'ours' : c.key, case: kase, ms: settings.ms, warmupMs: settings.warmupMs,
        }, { timeout: 60_000, env: c.env });
        ((results[kase] ??= {})[c.key] ??= []).push(r);
      }
    }
    console.log(`  round ${round + 1} done`);
  }
  const rows = [];
  const goals = [];
  const summary = {};
  for (const kase of CASES) {
    const perSecond = (key) => (results[kase][key] ? median(results[kase][key].map((r) => r.perSecond)) : undefined);
    const [ours, sdk, floorRate, baseline] = ['ours', 'sdk', 'floor', 'ours-baseline'].map(perSecond);
    summary[kase] = {
      ours, sdk, floor: floorRate, ratio: ratio(ours, sdk), floorRatio: ratio(floorRate, sdk),
      bytes: results[kase].ours[0].bytesPerEvent, sdkBytes: results[kase].sdk[0].bytesPerEvent, baseline,
    };
    rows.push([
      kase, fmt(ours), fmt(sdk), fmtRatio(ratio(ours, sdk)), fmt(floorRate), fmtRatio(ratio(floorRate, sdk)), fmtRatio(ratio(ours, floorRate)),
      `${summary[kase].bytes} / ${summary[kase].sdkBytes}`,
      ...(baseline === undefined ? [] : [`${fmt(baseline)} (${fmtRatio(ratio(baseline, sdk))})`]),
    ]);
    const goal = verdict(`${kase} >= 2x SDK`, ratio(ours, sdk), 2, { unit: 'x' });
    goals.push(goal);
    if (!goal.ok) {
      goals.push({
        ok: false, info: true,
        text: `${kase}: the floor (bytes of the same text, no framing) is ${fmtRatio(summary[kase].floorRatio)} the SDK; ` +
          `2x needs ours within ${Math.round((2 / summary[kase].floorRatio) * 100)}% of it (ours is at ${Math.round(ratio(ours, floorRate) * 100)}%)`,
      });
    }
  }
  const headers = ['event', 'ours events/s', 'SDK events/s', 'ours / SDK', 'floor events/s', 'floor / SDK', 'ours / floor', 'bytes (ours / SDK)'];
  if (contenders.length > CONTENDERS.length) headers.push('baseline events/s (/ SDK)');
  const text = table(headers, rows);
  return { name: 'encoding', settings, text, goals, summary };
}
