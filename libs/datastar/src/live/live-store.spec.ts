import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveDatastarSettings } from '../core/datastar-settings';
import type { LiveSessionRecord } from '../interfaces/datastar-live-options.interface';
import type { LiveCluster } from './live-cluster';
import { LiveSessionStorage } from './live-store';

const record = (id: string): LiveSessionRecord =>
  ({ v: 1, id, route: '/r', path: '/r', search: '', params: {}, assigns: {}, signals: {}, tasks: [], connected: true });

describe('LiveSessionStorage', () => {
  it('the embedded store gets live.maxStoredSessions: past it the oldest record cannot be loaded', async () => {
    const storage = new LiveSessionStorage(resolveDatastarSettings({ live: { store: 'memory', maxStoredSessions: 2 } }), {} as LiveCluster);
    storage.open();
    for (const id of ['a', 'b', 'c']) await storage.save(id, storage.serialize(record(id)));
    expect(await storage.load('a')).toBeUndefined();
    expect(await storage.load('b')).toEqual(record('b'));
    expect(await storage.load('c')).toEqual(record('c'));
    await storage.onApplicationShutdown();
  });

  it('flush() writes the saves of this turn to the journal at once (before an event\'s answer goes out)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'live-storage-'));
    const storage = new LiveSessionStorage(resolveDatastarSettings({ live: { storeDir: dir } }), {} as LiveCluster);
    storage.open();
    const lines = () => readFileSync(join(dir, 'journal.ndjson'), 'utf8').split('\n').filter(Boolean);
    await storage.save('a', storage.serialize(record('a')));
    expect(lines()).toEqual([]); // written at the end of the turn, with the turn's other saves
    storage.flush();
    expect(lines().map((line) => JSON.parse(line).k)).toEqual(['a']);
    await storage.onApplicationShutdown();
    rmSync(dir, { recursive: true, force: true });
  });
});
