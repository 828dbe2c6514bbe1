/**
 * The embedded store's promise, seen at the socket: an event's state is in the journal (the OS)
 * before any byte of its result leaves, down the stream or in the event's own answer, even though
 * the journal is written once per turn of the event loop.
 */
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLive, postEvent, readLivePage, sidOf, startApp, type LiveTestApp } from './fixtures/http';
import { LiveAppModule } from './fixtures/live.app';

const ADAPTERS = [
  ['express', () => undefined],
  ['fastify', () => new FastifyAdapter()],
] as const;

type WriteGeneric = (writev: boolean, data: unknown, encoding: string, cb: (error?: Error) => void) => void;
const socketProto = Socket.prototype as unknown as { _writeGeneric: WriteGeneric };

describe.each(ADAPTERS)('the journal is written before an event\'s result leaves (%s)', (_name, adapter) => {
  let dir: string;
  let t: LiveTestApp;
  const original = socketProto._writeGeneric;
  /** For each socket write carrying `"count":1`: the count the journal held for the session then. */
  let seen: Array<number | undefined>;
  let sid = '';

  /** The session's count in the journal as the next boot would read it. */
  const journaled = (): number | undefined => {
    const lines = readFileSync(join(dir, 'journal.ndjson'), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
    const last = lines.filter((line) => line.k === sid).at(-1);
    return last?.v ? JSON.parse(last.v).signals.count : undefined;
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'live-journal-'));
    seen = [];
    // Where bytes are handed to the kernel: a corked response's bytes get here at its uncork.
    socketProto._writeGeneric = function (this: Socket, writev, data, encoding, cb) {
      const chunks = writev ? (data as Array<{ chunk?: unknown }>).map((c) => c.chunk ?? c) : [data];
      if (chunks.some((chunk) => /"count":1\b/.test(String(chunk)))) seen.push(journaled());
      return original.call(this, writev, data, encoding, cb);
    };
    t = await startApp(LiveAppModule.register({ storeDir: dir }), adapter());
  });
  afterEach(async () => {
    socketProto._writeGeneric = original;
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('down the session stream', async () => {
    const { page, reader } = await openLive(t, '/live/counter');
    sid = sidOf(page.token);
    expect((await postEvent(t, '/live/counter', 'increment', page.token)).status).toBe(204);
    await reader.until((e) => e.signals?.count === 1);
    await reader.cancel();
    expect(seen).toEqual([1]);
  });

  it('in the event\'s own answer (no stream open)', async () => {
    const page = readLivePage(await (await t.fetch('/live/counter')).text());
    sid = sidOf(page.token);
    const answer = await postEvent(t, '/live/counter', 'increment', page.token);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('"count":1');
    expect(seen).toEqual([1]);
  });
});
