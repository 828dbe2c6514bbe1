// Encoding micro-benchmark, one contender and one case per process (no JIT cross-talk): build an
// event and encode it to bytes, as many times as fit in the time budget.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const config = JSON.parse(process.argv[2]);

// A 2 KiB, 24-line fragment: the SDK and we both split it into data lines.
const BIG = Array.from({ length: 24 }, (_, i) => `  <tr id="row-${i}"><td>item ${i}</td><td class="num">{n}</td><td><button data-on:click="@post('/ds/t/x')">x</button></td></tr>`).join('\n');
const bigHtml = (n) => `<tbody id="rows">\n${BIG.replaceAll('{n}', String(n))}\n</tbody>`;
const smallHtml = (n) => `<li>count became ${n}; its square, computed on the server, is ${n * n}</li>`;

function ours() {
  // The bench's own build (bench/.lib, see run.mjs), like the servers.
  const ds = require(process.env.BENCH_LIB_DIR ? `${process.env.BENCH_LIB_DIR}/index.js` : 'nestjs-datastar');
  const opts = { selector: '#history-list', mode: 'append' };
  return {
    // encodeOnce is what SseWriter.send does: encode to a Buffer (cached per event object).
    'patchElements small': (n) => ds.encodeOnce(ds.patchElements(smallHtml(n), opts)).length,
    'patchElements 2 KiB, 26 lines': (n) => ds.encodeOnce(ds.patchElements(bigHtml(n), { selector: '#rows', mode: 'outer' })).length,
    patchSignals: (n) => ds.encodeOnce(ds.patchSignals({ count: n, user: { name: 'Ada', email: 'ada@example.com' } })).length,
  };
}

function sdk() {
  const { ServerSentEventGenerator } = require('@starfederation/datastar-sdk');
  let bytes = 0;
  // The SDK's node generator, on a response that turns each write into bytes and drops them.
  const res = { writeHead() {}, flushHeaders() {}, write(text) { bytes += Buffer.from(text).length; return true; } };
  const sse = new ServerSentEventGenerator({}, res);
  const opts = { selector: '#history-list', mode: 'append' };
  const take = () => { const b = bytes; bytes = 0; return b; };
  return {
    'patchElements small': (n) => (sse.patchElements(smallHtml(n), opts), take()),
    'patchElements 2 KiB, 26 lines': (n) => (sse.patchElements(bigHtml(n), { selector: '#rows', mode: 'outer' }), take()),
    patchSignals: (n) => (sse.patchSignals(JSON.stringify({ count: n, user: { name: 'Ada', email: 'ada@example.com' } })), take()),
  };
}

// The floor no encoder can beat: the same text built and turned into bytes, with no SSE framing at
// all (for signals, the JSON). A ratio goal over the SDK above floor / SDK cannot be met.
function floor() {
  return {
    'patchElements small': (n) => Buffer.from(smallHtml(n)).length,
    'patchElements 2 KiB, 26 lines': (n) => Buffer.from(bigHtml(n)).length,
    patchSignals: (n) => Buffer.from(JSON.stringify({ count: n, user: { name: 'Ada', email: 'ada@example.com' } })).length,
  };
}

try {
  const fn = { ours, sdk, floor }[config.contender]()[config.case];
  let sink = 0;
  let n = 0;
  const run = (ms) => {
    const end = performance.now() + ms;
    let count = 0;
    const t = performance.now();
    while (performance.now() < end) {
      for (let i = 0; i < 500; i++) sink += fn(n++ & 0xffff);
      count += 500;
    }
    return count / ((performance.now() - t) / 1000);
  };
  run(config.warmupMs);
  const perSecond = run(config.ms);
  process.send({ type: 'result', perSecond, bytesPerEvent: fn(7), sink });
} catch (error) {
  process.send({ type: 'result', error: String(error?.stack ?? error) });
}
