// Scenario: pub/sub replay. What a topic's backlog costs in memory, and how long a stream that
// comes back with `Last-Event-ID` takes to get 1,000 missed events (in memory: backlog read, ids,
// encoding). Each measurement in a fresh process.
import { runChild } from '../lib/proc.mjs';
import { median, table } from '../lib/stats.mjs';

const EVENTS = 1000;

export async function replayScenario({ quick }) {
  const settings = { processes: quick ? 2 : 5, rounds: quick ? 20 : 100 };
  console.log(`\n## replay: backlog of ${EVENTS} publications, ${settings.processes} processes x ${settings.rounds} replays\n`);
  const runs = [];
  for (let i = 0; i < settings.processes; i++) {
    runs.push(await runChild('clients/replay.mjs', { events: EVENTS, rounds: settings.rounds }, { timeout: 60_000, nodeArgs: ['--expose-gc'] }));
  }
  const heapPerEvent = median(runs.map((r) => r.backlogHeap / EVENTS));
  const encodedPerEvent = median(runs.map((r) => r.encodedBytes / EVENTS));
  const replayMs = median(runs.flatMap((r) => r.times));
  const summary = { events: EVENTS, heapPerEvent, encodedPerEvent, backlogKiB: (heapPerEvent * EVENTS) / 1024, replayMs };
  const text = table(['measure', 'value'], [
    ['backlog heap per publication (chat message)', `${heapPerEvent.toFixed(0)} B`],
    ['  of which encoded bytes', `${encodedPerEvent.toFixed(0)} B`],
    [`backlog heap for ${EVENTS} publications (one topic)`, `${summary.backlogKiB.toFixed(0)} KiB`],
    [`replay of ${EVENTS} missed events (read, ids, encode)`, `${replayMs.toFixed(2)} ms`],
  ]);
  const goals = [
    { ok: replayMs < 50, text: `replay of ${EVENTS} missed events < 50 ms: ${replayMs.toFixed(2)} ms` },
    { ok: heapPerEvent < 2048, text: `backlog heap per chat publication < 2 KiB: ${heapPerEvent.toFixed(0)} B` },
  ];
  return { name: 'replay', settings, text, goals, summary };
}
