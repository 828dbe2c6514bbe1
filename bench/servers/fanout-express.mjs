// Fan-out contender "plain Express": the node:http floor's code behind an Express 5 route, no Nest,
// no library: the floor for ours on Express (Express gives every request and response its own
// prototype, and its router's closures live as long as the request).
import express from 'express';
import harness from '../lib/harness.cjs';

const HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
};
const streams = new Set();
const app = express();

app.get('/stream', (req, res) => {
  res.writeHead(200, HEADERS);
  res.flushHeaders();
  streams.add(res);
  res.on('close', () => streams.delete(res));
});
app.post('/broadcast', (req, res) => {
  const bytes = Buffer.from(`event: datastar-patch-signals\ndata: signals ${JSON.stringify({ seq: Number(req.query.seq) })}\n\n`);
  for (const stream of streams) stream.write(bytes);
  res.status(200).type('text/plain').end('ok');
});

const server = app.listen(0, harness.HOST, () => harness.ready(server));
harness.registerProbe('streams', () => streams.size);
harness.setStop(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }));
