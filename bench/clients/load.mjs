// The load generator: autocannon's programmatic API in its own process. POSTs the increment
// event with fixed signals on N keep-alive connections for a fixed time, reports req/s and latency.
import autocannon from 'autocannon';

const config = JSON.parse(process.argv[2]);

function run(duration) {
  return autocannon({
    url: config.url,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'datastar-request': 'true',
      accept: 'text/event-stream, text/html, application/json',
    },
    body: config.body,
    connections: config.connections,
    pipelining: 1,
    duration,
    timeout: 10,
  });
}

try {
  if (config.warmup > 0) await run(config.warmup);
  const r = await run(config.duration);
  process.send({
    type: 'result',
    requests: r.requests.total,
    seconds: r.duration,
    rps: r.requests.total / r.duration,
    latency: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: r.latency.mean },
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
  });
} catch (error) {
  process.send({ type: 'result', error: String(error?.stack ?? error) });
}
