// Contender "SDK on Express": the official SDK the way Node users write it today, behind
// express.json() (its own readSignals reads the body stream, which express.json() already consumed).
import express from 'express';
import { ServerSentEventGenerator } from '@starfederation/datastar-sdk';
import harness from '../lib/harness.cjs';

const render = harness.compileHistoryItem();
const app = express();
app.use(express.json());
app.post('/ds/counter/increment', async (req, res) => {
  const signals = req.body;
  if (signals === null || typeof signals !== 'object' || Array.isArray(signals)) {
    res.status(400).end('Signals must be a JSON object');
    return;
  }
  const count = (Number(signals.count) || 0) + 1;
  const html = render({ ...signals, count, square: count * count });
  await ServerSentEventGenerator.stream(req, res, (sse) => {
    sse.patchSignals(JSON.stringify({ count }));
    sse.patchElements(html, { selector: '#history-list', mode: 'append' });
  });
});
const server = app.listen(0, harness.HOST, () => harness.ready(server));
harness.setStop(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }));
