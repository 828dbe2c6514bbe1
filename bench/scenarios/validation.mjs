// Scenario: @Signals() DTO validation. Signals turned into the DTO instance per second, compiled
// (dto-compiler.ts) vs class-transformer + class-validator, each measurement in a fresh process,
// contenders alternating; and how the compiled time grows from n to 4n nested items.
import { runChild } from '../lib/proc.mjs';
import { fmt, fmtRatio, median, ratio, table, verdict } from '../lib/stats.mjs';

const CASES = ['counter (sample)', 'chat (sample)', '20-field nested'];
const LINEARITY = ['20-field nested, 250 items', '20-field nested, 1,000 items'];
const CONTENDERS = ['compiled', 'class-validator'];

export async function validationScenario({ quick }) {
  const settings = quick ? { rounds: 2, ms: 400, warmupMs: 300 } : { rounds: 4, ms: 1500, warmupMs: 700 };
  console.log(`\n## validation: signals to a validated DTO instance, ${settings.rounds} rounds x ${settings.ms} ms per case and contender\n`);
  const results = {};
  for (let round = 0; round < settings.rounds; round++) {
    for (const kase of [...CASES, ...LINEARITY]) {
      for (const contender of CONTENDERS) {
        const r = await runChild('clients/validation.ts', { contender, case: kase, ms: settings.ms, warmupMs: settings.warmupMs }, { timeout: 60_000 });
        ((results[kase] ??= {})[contender] ??= []).push(r.perSecond);
      }
    }
    console.log(`  round ${round + 1} done`);
  }
  const ops = (kase, contender) => median(results[kase][contender]);
  const summary = {};
  const goals = [];
  const rows = [...CASES, ...LINEARITY].map((kase) => {
    const compiled = ops(kase, 'compiled');
    const reference = ops(kase, 'class-validator');
    summary[kase] = { compiled, classValidator: reference, ratio: ratio(compiled, reference) };
    if (CASES.includes(kase)) goals.push(verdict(`${kase}: compiled >= 10x class-validator + class-transformer`, ratio(compiled, reference), 10, { unit: 'x' }));
    return [kase, fmt(compiled), fmt(reference), fmtRatio(ratio(compiled, reference))];
  });
  // Time per call at 4n over time at n: 4 is linear; class-transformer's key comparison made it quadratic.
  const [n, n4] = LINEARITY;
  const growth = (contender) => ratio(ops(n, contender), ops(n4, contender));
  summary.linearity = { compiled: growth('compiled'), classValidator: growth('class-validator') };
  goals.push(verdict('compiled time for 4n items / time for n (linear: near 4)', growth('compiled'), 5, { atMost: true }));
  goals.push({ info: true, text: `class-validator + class-transformer, 4n / n: ${growth('class-validator').toFixed(2)}` });
  const text = table(['DTO', 'compiled ops/s', 'class-validator ops/s', 'compiled / class-validator'], rows);
  return { name: 'validation', settings, text, goals, summary };
}
