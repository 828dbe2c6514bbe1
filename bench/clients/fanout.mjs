// Fan-out client: N streams on raw `net` sockets (far cheaper than fetch for 10,000 clients), then
// broadcasts triggered over HTTP; each stream's receipt is timed against the trigger, all in this
// process (one clock). Steps are paced by the orchestrator (memory probes in between).
import { connect } from 'node:net';
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';

const config = JSON.parse(process.argv[2]);
const { port, streamPath, broadcastPath } = config;
const HOST = '127.0.0.1';
const REQUEST =
  `GET ${streamPath} HTTP/1.1\r\nHost: ${HOST}:${port}\r\nAccept: text/event-stream\r\n` +
  'Datastar-Request: true\r\n\r\n';

let waiting; // resolves on the orchestrator's 'go'
process.on('message', (m) => {
  if (m?.type === 'go' && waiting) {
    const resolve = waiting;
    waiting = undefined;
    resolve();
  }
});
const step = (phase, data = {}) =>
  new Promise((resolve) => {
    waiting = resolve;
    process.send({ type: 'phase', phase, ...data });
  });

// The broadcast being timed.
let current = { marker: null, t0: 0, times: null, left: 0, done: null };

function onEvent(stream, text) {
  if (!current.marker) return;
  const all = stream.tail + text;
  stream.tail = all.length > 32 ? all.slice(-32) : all;
  if (stream.gotSeq === current.seq || all.indexOf(current.marker) === -1) return;
  stream.gotSeq = current.seq;
  current.times[stream.index] = performance.now() - current.t0;
  if (--current.left === 0) current.done();
}

function openStream(index) {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: HOST });
    const stream = { index, socket, tail: '', gotSeq: -1, open: false, head: '' };
    socket.setEncoding('latin1');
    socket.once('connect', () => socket.write(REQUEST));
    socket.on('data', (chunk) => {
      if (stream.open) return onEvent(stream, chunk);
      stream.head += chunk;
      const end = stream.head.indexOf('\r\n\r\n');
      if (end === -1) return;
      if (!stream.head.startsWith('HTTP/1.1 200')) {
        socket.destroy();
        return reject(new Error(`stream ${index}: ${stream.head.slice(0, 200)}`));
      }
      stream.open = true;
      const rest = stream.head.slice(end + 4);
      stream.head = '';
      resolve(stream);
      if (rest) onEvent(stream, rest);
    });
    socket.once('error', reject);
    socket.once('close', () => {
      if (stream.open && !closing) stream.lost = true;
    });
  });
}

async function openMany(count, concurrency) {
  const streams = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      streams[i] = await openStream(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return streams;
}

function trigger(seq) {
  return new Promise((resolve, reject) => {
    const req = request({ host: HOST, port, method: 'POST', path: `${broadcastPath}?seq=${seq}`, agent: false }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`broadcast answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

let seqs = 0;
async function broadcast(streams, timeout) {
  const seq = ++seqs;
  const times = new Float64Array(streams.length).fill(NaN);
  let timer;
  const finished = new Promise((resolve) => {
    current = { seq, marker: `"seq":${seq}}`, t0: 0, times, left: streams.length, done: resolve };
    timer = setTimeout(resolve, timeout);
  });
  current.t0 = performance.now();
  await trigger(seq);
  await finished;
  clearTimeout(timer);
  current = { marker: null };
  const got = Array.from(times).filter((t) => !Number.isNaN(t)).sort((a, b) => a - b);
  const at = (p) => (got.length ? got[Math.min(got.length - 1, Math.ceil((p / 100) * got.length) - 1)] : NaN);
  return { received: got.length, expected: streams.length, p50: at(50), p99: at(99), max: got.at(-1) ?? NaN };
}

let closing = false;
const pause = (ms) => new Promise((r) => setTimeout(r, ms));

try {
  // Warm the server's code paths so the memory baseline is not mostly JIT and lazy init.
  const warm = await openMany(config.warmupStreams, 50);
  await broadcast(warm, 5000);
  closing = true;
  for (const s of warm) s.socket.destroy();
  await pause(500);
  closing = false;
  await step('warmed');

  const t = performance.now();
  const streams = await openMany(config.streams, config.concurrency);
  const openMs = performance.now() - t;
  await step('opened', { openMs });

  const warmup = await broadcast(streams, config.timeout);
  await step('warm', { warmup });

  const runs = [];
  for (let i = 0; i < config.broadcasts; i++) {
    await pause(config.pauseMs);
    runs.push(await broadcast(streams, config.timeout));
  }
  const lost = streams.filter((s) => s.lost).length;
  process.send({ type: 'result', openMs, warmup, runs, lost });
  closing = true;
  for (const s of streams) s.socket.destroy();
} catch (error) {
  process.send({ type: 'result', error: String(error?.stack ?? error) });
}
