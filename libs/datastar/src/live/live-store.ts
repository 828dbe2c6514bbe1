/** Where live sessions are kept between requests, restarts and processes: the configured store, with its serializer and TTL. */
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { DATASTAR_SETTINGS, type DatastarSettings } from '../core/datastar-settings';
import type { LiveSessionRecord, LiveSessionStore } from '../interfaces/datastar-live-options.interface';
import { LIVE_STORE_FAILED } from './live.messages';
import { LiveCluster } from './live-cluster';
import { EmbeddedSessionStore } from './live-store.embedded';
import { RedisSessionStore } from './live-store.redis';

/** Store failures are logged at most this often: a store that is down must not flood the logs. */
const FAILURE_LOG_INTERVAL = 10_000;

/**
 * Saves, loads and forgets live session records in the configured store (`live.store`: the app's
 * own, else Redis when `pubsub.redis` is set, else `EmbeddedSessionStore`). A store that fails is
 * logged and otherwise ignored: sessions go on in memory, they just cannot be resumed.
 */
@Injectable()
export class LiveSessionStorage implements OnApplicationShutdown {
  private readonly logger = new Logger('DatastarLive');
  private store?: LiveSessionStore;
  private failures = 0;
  private lastFailureLog = 0;

  constructor(
    @Inject(DATASTAR_SETTINGS) private readonly settings: DatastarSettings,
    private readonly cluster: LiveCluster,
  ) {}

  /**
   * Opens the store, at boot and only when the app has live views (nothing else writes a file or
   * connects); with Redis, on the connections of the cluster (open by then).
   */
  open(): void {
    if (this.store) return;
    const { live, redis } = this.settings;
    const shared = this.cluster.connection;
    this.store = live.store ??
      (redis && shared ? new RedisSessionStore(shared, redis) : new EmbeddedSessionStore(live.storeDir, live.storeFsync, this.logger, live.maxStoredSessions));
  }

  serialize(record: LiveSessionRecord): string {
    return this.settings.live.serializer.serialize(record);
  }

  /** Keeps a serialized record for `live.sessionTtlMs` from now. */
  async save(id: string, text: string): Promise<void> {
    try {
      await this.store?.set(id, text, this.settings.live.sessionTtlMs);
    } catch (error) {
      this.failed('save', error);
    }
  }

  /**
   * Writes what the embedded store holds back for the end of this turn (one journal write per
   * turn): called before an event's answer goes out, so the answer never precedes its state.
   */
  flush(): void {
    if (this.store instanceof EmbeddedSessionStore) this.store.flush();
  }

  /** The record of session `id`, or undefined (unknown, expired, unreadable). */
  async load(id: string): Promise<LiveSessionRecord | undefined> {
    try {
      const text = await this.store?.get(id);
      if (typeof text !== 'string') return undefined;
      const record = this.settings.live.serializer.deserialize(text);
      return isRecord(record, id) ? record : undefined;
    } catch (error) {
      this.failed('load', error);
      return undefined;
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.store?.delete(id);
    } catch (error) {
      this.failed('delete', error);
    }
  }

  /** After the sessions ended (`beforeApplicationShutdown`): their last state is saved by then. */
  async onApplicationShutdown(): Promise<void> {
    const store = this.store;
    this.store = undefined;
    await store?.close?.();
  }

  private failed(what: string, error: unknown): void {
    this.failures++;
    const now = Date.now();
    if (now - this.lastFailureLog < FAILURE_LOG_INTERVAL) return;
    this.lastFailureLog = now;
    this.logger.warn(LIVE_STORE_FAILED(what, this.failures, (error as Error)?.message ?? String(error)));
    this.failures = 0;
  }
}

/** What a store gave back is a record of this session (a store or serializer of the app's own may give anything). */
function isRecord(value: unknown, id: string): value is LiveSessionRecord {
  const r = value as LiveSessionRecord | null;
  const object = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  return object(r) && r!.v === 1 && r!.id === id && typeof r!.route === 'string' && typeof r!.path === 'string' &&
    typeof r!.search === 'string' && object(r!.params) && object(r!.assigns) && object(r!.signals) && Array.isArray(r!.tasks);
}
