// Live events across processes: one session whose page and stream are on process A (its owner),
// `increment` events POSTed one at a time, alternately to A and to B (which forwards them to A
// through Redis). Each is timed from its POST until both its answer and the count it made on
// the session's stream (what the page shows) are back.
import { connect } from 'node:net';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { readLivePage } from '../lib/sse.mjs';

const config = JSON.parse(process.argv[2]);
const { ownerPort, otherPort, pagePath } = config;
const HOST = '127.0.0.1';
const agent = new Agent({ keepAlive: true, maxSockets: 2 });

function http(port, method, path, headers = {}, body) {
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

/** The session's stream on a raw socket; `until(n)` resolves once it showed count n. */
function openStream(token, streamPath) {
  return new Promise((resolve, reject) => {
    const socket = connect({ port: ownerPort, host: HOST });
    let head = '';
    let open = false;
    let shown = 0;
    let waiter;
    const stream = {
      socket,
      until: (n) => (shown >= n ? Promise.resolve() : new Promise((done) => (waiter = { n, done }))),
    };
    socket.setEncoding('latin1');
    socket.once('connect', () => socket.write(
      `GET ${streamPath} HTTP/1.1\r\nHost: ${HOST}:${ownerPort}\r\nAccept: text/event-stream\r\n` +
        `Datastar-Request: true\r\nX-Live-Token: ${token}\r\n\r\n`,
    ));
    const onText = (text) => {
      for (const m of text.matchAll(/"count":(\d+)/g)) shown = Math.max(shown, Number(m[1]));
      if (waiter && shown >= waiter.n) {
        const { done } = waiter;
        waiter = undefined;
        done();
      }
    };
    socket.on('data', (chunk) => {
      if (open) return onText(chunk);
      head += chunk;
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      if (!head.startsWith('HTTP/1.1 200')) return reject(new Error(`stream: ${head.slice(0, 200)}`));
      open = true;
      resolve(stream);
      onText(head.slice(end + 4));
    });
    socket.once('error', reject);
  });
}

try {
  const page = await http(ownerPort, 'GET', pagePath, { accept: 'text/html' });
  if (page.status !== 200) throw new Error(`GET ${pagePath} answered ${page.status}: ${page.body.slice(0, 200)}`);
  const { token, streamPath } = readLivePage(page.body);
  const stream = await openStream(token, streamPath);
  const headers = { 'content-type': 'application/json', 'datastar-request': 'true', 'x-live-token': token };
  const times = { owner: [], forwarded: [] };
  const refused = [];
  const total = config.warmup + 2 * config.events;
  for (let n = 1; n <= total; n++) {
    const forwarded = n % 2 === 0;
    const t0 = performance.now();
    const shown = stream.until(n);
    const answer = await http(forwarded ? otherPort : ownerPort, 'POST', `${pagePath}/_event/increment`, headers, '{}');
    if (answer.status < 200 || answer.status >= 300) {
      refused.push(`${forwarded ? 'forwarded' : 'owner'} ${answer.status} ${answer.body.slice(0, 200)}`);
      break;
    }
    await Promise.race([shown, new Promise((_, reject) => setTimeout(() => reject(new Error(`count ${n} never shown`)), config.timeout))]);
    if (n > config.warmup) times[forwarded ? 'forwarded' : 'owner'].push(performance.now() - t0);
  }
  stream.socket.destroy();
  agent.destroy();
  process.send({ type: 'result', ...times, refused });
} catch (error) {
  process.send({ type: 'result', error: String(error?.stack ?? error) });
}
