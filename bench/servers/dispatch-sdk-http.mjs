// Contender "SDK on node:http": the official SDK's own readSignals + stream on a bare server.
import { createServer } from 'node:http';
import { ServerSentEventGenerator } from '@starfederation/datastar-sdk';
import harness from '../lib/harness.cjs';

const render = harness.compileHistoryItem();
const server = createServer(async (req, res) => {
  if (req.method !== 'POST' || req.url !== '/ds/counter/increment') {
    res.writeHead(404).end();
    return;
  }
  const read = await ServerSentEventGenerator.readSignals(req);
  if (!read.success) {
    res.writeHead(400).end(read.error);
    return;
  }
  const signals = read.signals;
  const count = (Number(signals.count) || 0) + 1;
  const html = render({ ...signals, count, square: count * count });
  await ServerSentEventGenerator.stream(req, res, (sse) => {
    sse.patchSignals(JSON.stringify({ count }));
    sse.patchElements(html, { selector: '#history-list', mode: 'append' });
  });
});
server.listen(0, harness.HOST, () => harness.ready(server));
harness.setStop(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }));
