// Fan-out contender "plain node:http": a Set of responses; a broadcast formats the event once and
// writes the same bytes to every stream. The floor: what is left is the kernel's socket writes.
import { createServer } from 'node:http';
import harness from '../lib/harness.cjs';

const HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
};
const streams = new Set();

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/stream') {
    res.writeHead(200, HEADERS);
    res.flushHeaders();
    streams.add(res);
    res.on('close', () => streams.delete(res));
    return;
  }
  if (req.method === 'POST' && url.pathname === '/broadcast') {
    const seq = Number(url.searchParams.get('seq'));
    const bytes = Buffer.from(`event: datastar-patch-signals\ndata: signals ${JSON.stringify({ seq })}\n\n`);
    for (const stream of streams) stream.write(bytes);
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    req.resume();
    return;
  }
  res.writeHead(404).end();
});
harness.registerProbe('streams', () => streams.size);
server.listen(0, harness.HOST, () => harness.ready(server));
harness.setStop(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }));
