import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { BehaviorSubject, map, type Observable, type Subscription } from 'rxjs';
import {
  DatastarPubSub, DatastarTemplates, patchElements, patchSignals, StreamRegistryService,
  type DatastarEvent,
} from 'nestjs-datastar';

export const ROOM = 'chat';
const PRESENCE = 'chat:presence';
const HISTORY = 50;
const ANNOUNCE_MS = 5_000;
const EXPIRE_MS = 15_000;

/**
 * The shared room: messages go to every stream through pub/sub (Redis when configured), and
 * `online` sums the open streams of every process (each announces its own count).
 */
@Injectable()
export class ChatRoom implements OnModuleInit, OnApplicationShutdown {
  private readonly history: string[] = [];
  private readonly processId = randomUUID();
  private readonly counts = new Map<string, { count: number; at: number }>();
  private readonly online = new BehaviorSubject(0);
  private readonly subscriptions: Subscription[] = [];
  private timer?: NodeJS.Timeout;
  private lastAnnounced = -1;

  constructor(
    private readonly pubsub: DatastarPubSub,
    private readonly streams: StreamRegistryService,
    private readonly templates: DatastarTemplates,
  ) {}

  onModuleInit(): void {
    // Every process records what reaches the room, so a reload shows recent history anywhere.
    this.subscriptions.push(this.pubsub.subscribe(ROOM).subscribe((event) => this.remember(event)));
    this.subscriptions.push(this.pubsub.subscribe(PRESENCE).subscribe((event) => this.presence(event)));
    this.timer = setInterval(() => this.announce(true), ANNOUNCE_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    for (const s of this.subscriptions) s.unsubscribe();
  }

  /** The recent messages' HTML, oldest first. */
  recent(): string[] {
    return [...this.history];
  }

  /** Renders a message once and sends the same patch to every stream in the room. */
  async post(name: string, text: string): Promise<void> {
    const html = this.templates.render('chat-message', { name, text, at: new Date().toISOString().slice(11, 19) }).trim();
    await this.pubsub.publish(ROOM, patchElements(html, { selector: '#messages', mode: 'append' }));
  }

  /** A stream of `online` signal patches, starting with the current count. */
  onlinePatches(): Observable<DatastarEvent> {
    return this.online.pipe(map((online) => patchSignals({ online })));
  }

  /** Call when a local stream opened or closed. */
  changed(): void {
    queueMicrotask(() => this.announce(false));
  }

  private announce(always: boolean): void {
    const count = this.streams.count(ROOM);
    if (!always && count === this.lastAnnounced) return;
    this.lastAnnounced = count;
    void this.pubsub.publish(PRESENCE, { data: JSON.stringify({ pid: this.processId, count }) });
  }

  private presence(event: { data?: unknown }): void {
    try {
      const { pid, count } = JSON.parse(String(event.data));
      if (typeof pid === 'string' && Number.isInteger(count)) this.counts.set(pid, { count, at: Date.now() });
    } catch {
      return;
    }
    const now = Date.now();
    let total = 0;
    for (const [pid, entry] of this.counts) {
      if (now - entry.at > EXPIRE_MS && pid !== this.processId) this.counts.delete(pid);
      else total += entry.count;
    }
    if (total !== this.online.value) this.online.next(total);
  }

  private remember(event: { data?: unknown }): void {
    const lines = String(event.data ?? '').split('\n').filter((l) => l.startsWith('elements '));
    if (!lines.length) return;
    this.history.push(lines.map((l) => l.slice('elements '.length)).join('\n'));
    if (this.history.length > HISTORY) this.history.shift();
  }
}
