// Replay cost, in one process: the memory a topic's backlog holds for N chat-sized publications,
// and the time a stream that comes back with `Last-Event-ID` takes to get N missed events
// (read from the backlog, given ids, encoded to bytes as the stream's writer does).
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const config = JSON.parse(process.argv[2]);
const ds = require(process.env.BENCH_LIB_DIR ? `${process.env.BENCH_LIB_DIR}/index.js` : 'nestjs-datastar');
const N = config.events;
const html = (n) => `<li class="msg"><b>guest-${1000 + (n % 9000)}</b> <time>12:34:56</time> message number ${n}, about fifty characters</li>`;

function heap() {
  global.gc();
  global.gc();
  return process.memoryUsage().heapUsed;
}

async function main() {
  const pubsub = new ds.MemoryPubSub({ maxEvents: N, maxBytes: 64 * 1024 * 1024, maxTopics: 1000, maxAgeMs: 3_600_000 });
  // A subscriber with ids (a stream's view of the topic), to learn the id before the missed ones.
  let lastId;
  const watcher = pubsub.subscribe('room', { lastEventId: 'none' }).subscribe((e) => (lastId = e.id));
  await pubsub.publish('room', ds.patchElements(html(0), { selector: '#messages', mode: 'append' }));
  const resumeFrom = lastId;
  watcher.unsubscribe();
  const before = heap();
  for (let n = 1; n <= N; n++) await pubsub.publish('room', ds.patchElements(html(n), { selector: '#messages', mode: 'append' }));
  const backlogHeap = heap() - before;
  const { bytes: encodedBytes } = pubsub.backlogStats('room');
  const times = [];
  for (let round = 0; round < config.rounds; round++) {
    let got = 0;
    let bytes = 0;
    const started = performance.now();
    const sub = pubsub.subscribe('room', { lastEventId: resumeFrom }).subscribe((e) => {
      got++;
      bytes += ds.encodeOnce(e).length;
    });
    times.push(performance.now() - started);
    sub.unsubscribe();
    if (got !== N) throw new Error(`replayed ${got} events, expected ${N}`);
    if (bytes < encodedBytes) throw new Error('replayed fewer bytes than kept');
  }
  process.send({ type: 'result', backlogHeap, encodedBytes, times });
}

main().catch((error) => process.send({ type: 'result', error: error.stack }));
