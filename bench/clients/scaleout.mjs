// Scale-out client: S streams open on server B; messages published on server A (or on B itself
// for the same-process baseline) at a steady pace; each stream's receipt is timed against the
// publisher's monotonic stamp carried in the event.
import { connect } from 'node:net';
import { request } from 'node:http';

const config = JSON.parse(process.argv[2]);
const HOST = '127.0.0.1';
const now = () => process.hrtime.bigint();
const pause = (ms) => new Promise((r) => setTimeout(r, ms));

const latencies = new Map(); // seq -> [ms, ...]
const EVENT = /"seq":(\d+),"t":"(\d+)"/g;

function onText(stream, text) {
  const t = now();
  stream.buffer += text;
  const end = stream.buffer.lastIndexOf('\n\n');
  if (end === -1) return;
  const complete = stream.buffer.slice(0, end);
  stream.buffer = stream.buffer.slice(end + 2);
  for (const m of complete.matchAll(EVENT)) {
    const list = latencies.get(Number(m[1]));
    if (list) list.push(Number(t - BigInt(m[2])) / 1e6);
  }
}

function openStream(port) {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: HOST });
    const stream = { socket, buffer: '', open: false, head: '' };
    socket.setEncoding('latin1');
    socket.once('connect', () => socket.write(`GET /ds/room/stream HTTP/1.1\r\nHost: ${HOST}:${port}\r\nAccept: text/event-stream\r\nDatastar-Request: true\r\n\r\n`));
    socket.on('data', (chunk) => {
      if (stream.open) return onText(stream, chunk);
      stream.head += chunk;
      const end = stream.head.indexOf('\r\n\r\n');
      if (end === -1) return;
      if (!stream.head.startsWith('HTTP/1.1 200')) return reject(new Error(stream.head.slice(0, 200)));
      stream.open = true;
      resolve(stream);
      const rest = stream.head.slice(end + 4);
      if (rest) onText(stream, rest);
    });
    socket.once('error', reject);
  });
}

function publish(port, seq) {
  return new Promise((resolve, reject) => {
    const req = request({ host: HOST, port, method: 'POST', path: `/bench/publish?seq=${seq}` }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`publish answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

try {
  const streams = [];
  for (let i = 0; i < config.streams; i++) streams.push(await openStream(config.streamPort));
  await pause(200); // let B's Redis SUBSCRIBE settle (the first stream opened the topic)
  for (let i = 0; i < config.messages; i++) {
    const seq = config.firstSeq + i;
    latencies.set(seq, []);
    const started = Date.now();
    await publish(config.publishPort, seq);
    const wait = config.intervalMs - (Date.now() - started);
    if (wait > 0) await pause(wait);
  }
  await pause(500);
  const all = [];
  let missing = 0;
  for (const list of latencies.values()) {
    all.push(...list);
    missing += config.streams - list.length;
  }
  process.send({ type: 'result', latencies: all, missing });
  for (const s of streams) s.socket.destroy();
} catch (error) {
  process.send({ type: 'result', error: String(error?.stack ?? error) });
}
