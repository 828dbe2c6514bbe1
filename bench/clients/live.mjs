// Live-sessions client: N sessions, each opened as a browser does (the page GET, then the session
// stream's GET with the page's token in the x-live-token header), streams on raw `net` sockets
// (cheap enough for 10,000). Then broadcasts triggered over HTTP, each stream's re-rendered view
// timed against the trigger (one clock, this process), then events on one session as fast as it
// answers. Steps are paced by the orchestrator (memory probes in between).
import { connect } from 'node:net';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { readLivePage } from '../lib/sse.mjs';

const config = JSON.parse(process.argv[2]);
const { port, pagePath } = config;
const HOST = '127.0.0.1';
const agent = new Agent({ keepAlive: true, maxSockets: config.concurrency });

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
  }).then(dropIdleSockets);
const pause = (ms) => new Promise((r) => setTimeout(r, ms)).then(dropIdleSockets);

/**
 * After a wait (a memory probe's GCs take seconds on a busy machine), a pooled socket may be at
 * the server's keep-alive timeout: reused just as the server closes it, the request fails with
 * "socket hang up". Fresh connections after every wait instead.
 */
function dropIdleSockets() {
  for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets) socket.destroy();
}

/** One HTTP request on the keep-alive pool: { status, body }. */
function http(method, path, headers = {}, body) {
  return new Promise((resolve, reject) => {
    const req = request({ host: HOST, port, method, path, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// The broadcast being timed.
let current = { marker: null };
let closing = false;

function onData(session, text) {
  const all = session.tail + text;
  session.tail = all.length > 64 ? all.slice(-64) : all;
  session.watch?.(all);
  if (!current.marker || session.gotSeq === current.seq || all.indexOf(current.marker) === -1) return;
  session.gotSeq = current.seq;
  current.times[session.index] = performance.now() - current.t0;
  if (--current.left === 0) current.done();
}

async function openSession(index) {
  const page = await http('GET', pagePath, { accept: 'text/html' });
  if (page.status !== 200) throw new Error(`session ${index}: GET ${pagePath} answered ${page.status}: ${page.body.slice(0, 200)}`);
  const { token, streamPath } = readLivePage(page.body);
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: HOST });
    const session = { index, token, socket, tail: '', gotSeq: -1, open: false, head: '' };
    socket.setEncoding('latin1');
    socket.once('connect', () =>
      socket.write(
        `GET ${streamPath} HTTP/1.1\r\nHost: ${HOST}:${port}\r\nAccept: text/event-stream\r\n` +
          `Datastar-Request: true\r\nX-Live-Token: ${token}\r\n\r\n`,
      ),
    );
    socket.on('data', (chunk) => {
      if (session.open) return onData(session, chunk);
      session.head += chunk;
      const end = session.head.indexOf('\r\n\r\n');
      if (end === -1) return;
      if (!session.head.startsWith('HTTP/1.1 200')) {
        socket.destroy();
        return reject(new Error(`session ${index} stream: ${session.head.slice(0, 200)}`));
      }
      session.open = true;
      const rest = session.head.slice(end + 4);
      session.head = '';
      resolve(session);
      if (rest) onData(session, rest);
    });
    socket.once('error', reject);
    socket.once('close', () => {
      if (session.open && !closing) session.lost = true;
    });
  });
}

async function openMany(count, concurrency) {
  const sessions = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      sessions[i] = await openSession(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return sessions;
}

let seqs = 0;
async function broadcast(sessions, timeout) {
  const seq = ++seqs;
  const times = new Float64Array(sessions.length).fill(NaN);
  let timer;
  const finished = new Promise((resolve) => {
    // The re-rendered view carries `<p id="tick">Broadcast tick N.</p>`.
    current = { seq, marker: `tick ${seq}.`, t0: 0, times, left: sessions.length, done: resolve };
    timer = setTimeout(resolve, timeout);
  });
  current.t0 = performance.now();
  const answer = await http('POST', `/bench/broadcast?seq=${seq}`);
  if (answer.status !== 200) throw new Error(`broadcast answered ${answer.status}`);
  await finished;
  clearTimeout(timer);
  current = { marker: null };
  const got = Array.from(times).filter((t) => !Number.isNaN(t)).sort((a, b) => a - b);
  const at = (p) => (got.length ? got[Math.min(got.length - 1, Math.ceil((p / 100) * got.length) - 1)] : NaN);
  return { received: got.length, expected: sessions.length, p50: at(50), p99: at(99), max: got.at(-1) ?? NaN };
}

/**
 * `increment` events on one session from `connections` concurrent senders for `seconds`; done when
 * its stream shows the count of the last one answered. Events per second = answered / that time.
 */
async function eventRate(session, seconds, connections, timeout) {
  let shown = 0;
  let onShown;
  session.watch = (text) => {
    for (const m of text.matchAll(/"count":(\d+)/g)) shown = Math.max(shown, Number(m[1]));
    onShown?.();
  };
  const headers = { 'content-type': 'application/json', 'datastar-request': 'true', 'x-live-token': session.token };
  const path = `${pagePath}/_event/increment`;
  let answered = 0;
  let refused = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const sender = async () => {
    while (performance.now() < end) {
      const r = await http('POST', path, headers, '{}');
      if (r.status >= 200 && r.status < 300) answered++;
      else refused++;
    }
  };
  await Promise.all(Array.from({ length: connections }, sender));
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, timeout);
    onShown = () => shown >= answered && (clearTimeout(timer), resolve());
    onShown();
  });
  const ms = performance.now() - t0;
  session.watch = undefined;
  return { answered, refused, shown, ms, perSecond: (shown / ms) * 1000 };
}

try {
  // Warm the server's code paths (mount, render, stream, broadcast, events), then close those
  // sessions: the memory baseline is taken once they are gone.
  const warm = await openMany(config.warmupSessions, 20);
  await broadcast(warm, 5000);
  await eventRate(warm[0], 0.3, 2, 5000);
  closing = true;
  for (const s of warm) s.socket.destroy();
  await pause(config.settleMs);
  closing = false;
  await step('warmed');

  const t = performance.now();
  const sessions = await openMany(config.sessions, config.concurrency);
  const openMs = performance.now() - t;
  await step('opened', { openMs });

  const warmup = await broadcast(sessions, config.timeout);
  const runs = [];
  for (let i = 0; i < config.broadcasts; i++) {
    await pause(config.pauseMs);
    runs.push(await broadcast(sessions, config.timeout));
  }
  await step('broadcasted');

  const events = await eventRate(sessions[0], config.eventSeconds, config.eventConnections, config.timeout);
  const lost = sessions.filter((s) => s.lost).length;
  process.send({ type: 'result', openMs, warmup, runs, events, lost });
  closing = true;
  for (const s of sessions) s.socket.destroy();
  agent.destroy();
} catch (error) {
  process.send({ type: 'result', error: String(error?.stack ?? error) });
}
