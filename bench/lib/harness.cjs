'use strict';
// The server side of the bench protocol, shared by every contender: a server child tells its
// parent it listens (IPC), answers memory probes, and exits when told or when the parent is gone.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const HOST = '127.0.0.1';
const VIEWS = join(__dirname, '..', 'views');
const TEMPLATE_FILE = join(VIEWS, 'partials', 'history-item.hbs');

/** The fragment every dispatch contender renders, with Handlebars, compiled once. */
function compileHistoryItem() {
  const Handlebars = require('handlebars');
  const render = Handlebars.create().compile(readFileSync(TEMPLATE_FILE, 'utf8'));
  // nestjs-datastar trims a template file's final newline (it would be an empty elements line).
  return (locals) => render(locals).trimEnd();
}

/** Call once the server listens: `server` is a node:http Server (or anything with address()). */
function ready(server, extra = {}) {
  const address = server.address();
  send({ type: 'ready', port: address.port, pid: process.pid, ...extra });
}

let onStop = async () => undefined;

/** Optional cleanup before exit (e.g. app.close()); exit must stay quick. */
function setStop(fn) {
  onStop = fn;
}

function memory() {
  if (typeof global.gc === 'function') {
    for (let i = 0; i < 4; i++) global.gc();
  }
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers };
}

const probes = new Map([
  // CPU time used by this server so far (user + system, microseconds): cost per request under load
  // is far steadier than req/s on a shared machine.
  ['cpu', () => process.cpuUsage()],
  // For investigations: sampled allocations, garbage included (what makes GC work), to a file.
  ['alloc-start', () => inspectorPost('HeapProfiler.startSampling', {
    samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true,
  })],
  ['alloc-stop', async (file) => {
    const { profile } = await inspectorPost('HeapProfiler.stopSampling');
    require('node:fs').writeFileSync(file, JSON.stringify(profile));
    return file;
  }],
  // The profile scenario: a CPU profile of the measured window only (no start-up, no warm-up).
  ['cpuprof-start', async () => {
    await inspectorPost('Profiler.enable');
    await inspectorPost('Profiler.setSamplingInterval', { interval: 500 });
    await inspectorPost('Profiler.start');
  }],
  ['cpuprof-stop', async (file) => {
    const { profile } = await inspectorPost('Profiler.stop');
    require('node:fs').writeFileSync(file, JSON.stringify(profile));
    return file;
  }],
  // For investigations: a heap snapshot after GC, written where the caller says.
  ['heapsnapshot', (file) => {
    memory();
    return require('node:v8').writeHeapSnapshot(file);
  }],
]);
/** Extra IPC probes: registerProbe('streams', () => count). */
function registerProbe(name, fn) {
  probes.set(name, fn);
}

let session;
function inspectorPost(method, params = {}) {
  if (!session) {
    const inspector = require('node:inspector');
    session = new inspector.Session();
    session.connect();
  }
  return new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
}

function send(message) {
  if (process.send) process.send(message);
}

async function exit(code = 0) {
  const timer = setTimeout(() => process.exit(code), 2000);
  timer.unref();
  try {
    await onStop();
  } catch {
    // exiting anyway
  }
  process.exit(code);
}

process.on('message', (message) => {
  if (!message || typeof message !== 'object') return;
  if (message.type === 'mem') send({ type: 'mem', id: message.id, ...memory() });
  else if (message.type === 'probe') {
    const fn = probes.get(message.name);
    Promise.resolve(fn ? fn(message.arg) : undefined).then((value) => send({ type: 'probe', id: message.id, value }));
  } else if (message.type === 'stop') void exit(0);
});
// The orchestrator died or closed the channel: never outlive it.
process.on('disconnect', () => void exit(0));
process.on('SIGTERM', () => void exit(0));
process.on('SIGINT', () => void exit(0));

module.exports = { HOST, VIEWS, TEMPLATE_FILE, compileHistoryItem, ready, setStop, registerProbe, memory };
