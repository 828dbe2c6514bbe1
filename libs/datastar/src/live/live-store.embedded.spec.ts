import type { Logger } from '@nestjs/common';
import fs, { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedSessionStore } from './live-store.embedded';

const TTL = 60_000;
/** The end of this turn (pending journal lines are written) / after the turn's I/O (deferred compaction ran). */
const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));
const nextImmediate = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('EmbeddedSessionStore: at most maxEntries records', () => {
  let dir: string;
  const stores: EmbeddedSessionStore[] = [];
  const logger = { warn: jest.fn() } as unknown as Logger;

  const open = (maxEntries: number, folder: string | undefined = dir, fsync = false) => {
    const store = new EmbeddedSessionStore(folder, fsync, logger, maxEntries);
    stores.push(store);
    return store;
  };
  /** The journal's lines, as the next boot reads them. */
  const journal = () => readFileSync(join(dir, 'journal.ndjson'), 'utf8').split('\n').filter(Boolean);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'live-store-'));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    stores.splice(0).forEach((store) => store.close());
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([['with a journal', true], ['in memory only', false]])('%s: past the cap the least recently saved or loaded record goes', (_, journaled) => {
    const store = open(2, journaled ? dir : undefined);
    store.set('a', 'A', TTL);
    store.set('b', 'B', TTL);
    expect(store.get('a')).toBe('A'); // used: now b is the oldest
    store.set('c', 'C', TTL);
    expect([store.get('a'), store.get('b'), store.get('c')]).toEqual(['A', undefined, 'C']);
    store.set('a', 'A2', TTL); // saved again: c is the oldest now, and nothing is evicted
    store.set('d', 'D', TTL);
    expect([store.get('a'), store.get('c'), store.get('d')]).toEqual(['A2', undefined, 'D']);
  });

  it('an evicted record does not come back at the next boot, even with a larger cap', () => {
    const store = open(2);
    store.set('a', 'A', TTL);
    store.set('b', 'B', TTL);
    store.get('a');
    store.set('c', 'C', TTL);
    store.close();

    const again = open(10);
    expect([again.get('a'), again.get('b'), again.get('c')]).toEqual(['A', undefined, 'C']);
  });

  it('a lower cap at boot keeps the most recently saved records, and the journal holds only them', () => {
    const store = open(10);
    for (const id of ['a', 'b', 'c', 'd']) store.set(id, id.toUpperCase(), TTL);
    store.set('a', 'A2', TTL);
    store.close();

    const again = open(2);
    expect(journal().map((line) => JSON.parse(line).k)).toEqual(['d', 'a']);
    expect(['a', 'b', 'c', 'd'].map((id) => again.get(id))).toEqual(['A2', undefined, undefined, 'D']);
  });

  it('many sessions: the journal is compacted to the capped entries instead of growing with every one', async () => {
    const store = open(10);
    for (let i = 0; i < 25_000; i++) store.set(`s${i}`, 'x', TTL);
    await nextTick();
    await nextImmediate();
    expect(journal().length).toBeLessThan(12_000);
    store.close();

    open(10);
    expect(journal().map((line) => JSON.parse(line).k)).toEqual(Array.from({ length: 10 }, (_, i) => `s${24_990 + i}`));
  });
});

describe('EmbeddedSessionStore: one journal write per turn', () => {
  let dir: string;
  let store: EmbeddedSessionStore;
  const logger = { warn: jest.fn() } as unknown as Logger;
  const journal = () => readFileSync(join(dir, 'journal.ndjson'), 'utf8').split('\n').filter(Boolean);
  /** Counts the writes from now on (the store is open: only journal lines are written). */
  const countWrites = () => {
    const spy = jest.spyOn(fs, 'writeSync');
    return () => spy.mock.calls.length;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'live-store-'));
    (logger.warn as jest.Mock).mockClear();
  });
  afterEach(() => {
    store.close();
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the saves of one turn (a broadcast) go to the journal in one write, with one fdatasync, at the end of the turn', async () => {
    store = new EmbeddedSessionStore(dir, true, logger, 10_000);
    const writes = countWrites();
    const syncs = jest.spyOn(fs, 'fdatasyncSync');
    for (let i = 0; i < 100; i++) store.set(`s${i}`, `v${i}`, TTL);
    store.delete('s0');
    expect(journal()).toEqual([]);
    await nextTick();
    expect(journal()).toHaveLength(101);
    expect([writes(), syncs.mock.calls.length]).toEqual([1, 1]);
    store.set('s1', 'again', TTL); // the next turn: its own write
    await nextTick();
    expect([journal().length, writes()]).toEqual([102, 2]);
  });

  it('flush() writes the lines of this turn at once (before an answer goes out); the end of the turn has nothing left', async () => {
    store = new EmbeddedSessionStore(dir, false, logger, 10_000);
    const writes = countWrites();
    store.set('a', 'A', TTL);
    store.set('b', 'B', TTL);
    store.flush();
    expect(journal().map((line) => JSON.parse(line))).toEqual([
      { k: 'a', v: 'A', e: expect.any(Number) },
      { k: 'b', v: 'B', e: expect.any(Number) },
    ]);
    await nextTick();
    expect(writes()).toBe(1);
  });

  it('a journal that grew past its bound is compacted after the turn, once, not inside the writes that grew it', async () => {
    store = new EmbeddedSessionStore(dir, false, logger, 10);
    const renames = jest.spyOn(fs, 'renameSync');
    for (let turn = 0; turn < 2; turn++) {
      for (let i = 0; i < 12_000; i++) store.set(`s${turn}-${i}`, 'x', TTL);
      await nextTick(); // written, each turn past the bound: still the whole journal
      expect(journal().length).toBeGreaterThan(20_000 * (turn + 1));
    }
    expect(renames).not.toHaveBeenCalled();
    await nextImmediate();
    expect(renames).toHaveBeenCalledTimes(1);
    expect(journal().map((line) => JSON.parse(line).k)).toEqual(Array.from({ length: 10 }, (_, i) => `s1-${11_990 + i}`));
  });

  it('a write that fails (a full disk): a warning, and sessions go on in memory only', async () => {
    store = new EmbeddedSessionStore(dir, false, logger, 10_000);
    jest.spyOn(fs, 'writeSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    });
    store.set('a', 'A', TTL);
    await nextTick();
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('ENOSPC'));
    expect(store.persistent).toBe(false);
    store.set('b', 'B', TTL);
    await nextTick();
    expect([store.get('a'), store.get('b')]).toEqual(['A', 'B']);
  });
});
