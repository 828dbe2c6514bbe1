// Contender "hand-written node:http": the floor of cost. Reads the body, parses it, renders the
// same template and writes the same bytes (and headers) as nestjs-datastar, in one write.
import { createServer } from 'node:http';
import harness from '../lib/harness.cjs';

const render = harness.compileHistoryItem();
const HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
};
const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/ds/counter/increment') {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let signals;
    try {
      signals = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (signals === null || typeof signals !== 'object' || Array.isArray(signals)) {
      res.writeHead(400).end();
      return;
    }
    const count = (Number(signals.count) || 0) + 1;
    const html = render({ ...signals, count, square: count * count });
    res.writeHead(200, HEADERS);
    res.end(
      `event: datastar-patch-signals\ndata: signals {"count":${count}}\n\n` +
        `event: datastar-patch-elements\ndata: selector #history-list\ndata: mode append\ndata: elements ${html}\n\n`,
    );
  });
});
server.listen(0, harness.HOST, () => harness.ready(server));
harness.setStop(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }));
