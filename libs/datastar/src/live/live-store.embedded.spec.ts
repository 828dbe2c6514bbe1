import type { Logger } from '@nestjs/common';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedSessionStore } from './live-store.embedded';

const TTL = 60_000;

describe('EmbeddedSessionStore: at most maxEntries records', () => {
  let dir: string;
  const stores: EmbeddedSessionStore[] = [];
  const logger = { warn: jest.fn() } as unknown as Logger;

  const open = (maxEntries: number, folder: string | undefined = dir) => {
    const store = new EmbeddedSessionStore(folder, false, logger, maxEntries);
    stores.push(store);
    return store;
  };
  /** The journal's lines, as the next boot reads them. */
  const journal = () => readFileSync(join(dir, 'journal.ndjson'), 'utf8').split('\n').filter(Boolean);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'live-store-'));
  });
  afterEach(() => {
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

  it('many sessions: the journal is compacted to the capped entries instead of growing with every one', () => {
    const store = open(10);
    for (let i = 0; i < 25_000; i++) store.set(`s${i}`, 'x', TTL);
    expect(journal().length).toBeLessThan(12_000);
    store.close();

    open(10);
    expect(journal().map((line) => JSON.parse(line).k)).toEqual(Array.from({ length: 10 }, (_, i) => `s${24_990 + i}`));
  });
});
