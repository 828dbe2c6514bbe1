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
});
