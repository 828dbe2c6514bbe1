// Validation micro-benchmark, one contender and one case per process (no JIT cross-talk): a DTO's
// signals turned into the instance a handler gets, or the errors, as many times as fit in the time
// budget. "compiled" is validateSignals (dto-compiler.ts); "class-validator" is its fallback,
// class-transformer's plainToInstance + class-validator's validate.
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { SendSignals } from '../../sample/src/chat/chat.signals';
import { CounterSignals } from '../../sample/src/counter/counter.signals';
import { OrderForm, validOrder } from '../../libs/datastar/src/dispatch/dto-compiler.fixture';

type Validate = (type: new () => object, value: unknown) => Promise<{ value?: object; errors?: object }>;

const config = JSON.parse(process.argv[2]) as { contender: 'compiled' | 'class-validator'; case: string; ms: number; warmupMs: number };

const CASES: Record<string, [new () => object, unknown]> = {
  'counter (sample)': [CounterSignals, { count: 41 }],
  'chat (sample)': [SendSignals, { message: 'hello there, how are you?', name: 'Ada' }],
  '20-field nested': [OrderForm, validOrder(3)],
  '20-field nested, 250 items': [OrderForm, validOrder(250)],
  '20-field nested, 1,000 items': [OrderForm, validOrder(1000)],
};

async function main() {
  // The bench's own build (bench/.lib, see run.mjs), like the servers.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const lib = require(`${process.env.BENCH_LIB_DIR}/dispatch/signals-validation.js`);
  const [type, input] = CASES[config.case];
  const compiled: Validate = lib.validateSignals;
  const reference: Validate = lib.validateWithClassValidator;
  // Both contenders answer alike (the differential test proves it at large; this guards the bench's inputs).
  const [a, b] = [await compiled(type, input), await reference(type, input)];
  if (JSON.stringify(a) !== JSON.stringify(b) || !a.value) throw new Error(`contenders disagree or input invalid: ${JSON.stringify([a, b])}`);
  const fn = config.contender === 'compiled' ? compiled : reference;
  let sink = 0;
  const run = async (ms: number) => {
    const start = performance.now();
    const end = start + ms;
    let count = 0;
    while (performance.now() < end) {
      for (let i = 0; i < 20; i++) sink += (await fn(type, input)).value ? 1 : 0;
      count += 20;
    }
    return count / ((performance.now() - start) / 1000);
  };
  await run(config.warmupMs);
  const perSecond = await run(config.ms);
  process.send!({ type: 'result', perSecond, sink });
}

main().catch((error) => process.send!({ type: 'result', error: String(error?.stack ?? error) }));
