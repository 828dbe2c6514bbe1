import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { BehaviorSubject, filter, map, merge, type Observable, type Subscription } from 'rxjs';
import {
  DatastarPubSub, patchElements, patchSignals, SignalTracker, StreamRegistryService,
  type DatastarEvent, type MessageEventLike,
} from 'nestjs-datastar';

export const ROOM = 'chat';
const PRESENCE = 'chat:presence';
const HISTORY = 50;
const ANNOUNCE_MS = 5_000;
const EXPIRE_MS = 15_000;
/**
 * Presence changes go out at most this often. A change costs one write per open stream, so one
 * update per tab opening made N tabs cost N²/2 writes; coalesced, a burst of openings costs one.
 */
export const PRESENCE_MS = 250;
const MAX_NAME = 40;
const MAX_TEXT = 500;
const TIME = /^\d\d:\d\d:\d\d$/;

/** A chat message as the room stores and sends it: text, rendered (escaped) only when sent. */
export interface ChatMessage {
  name: string;
  text: string;
  at: string;
}

/**
 * The shared room: messages go to every process through pub/sub (Redis when configured) as text;
 * each process renders a message once, escaped, and sends that one patch to all its streams.
 * `online` sums the open streams of every process (each announces its own count).
 *
 * A tab's stream subscribes to the room itself, so its messages carry the room's ids: a tab that
 * comes back (a deploy, a network cut, a hidden tab shown again) gets the messages it missed; when
 * the room's backlog no longer reaches back that far, the whole list is sent again instead.
 */
@Injectable()
export class ChatRoom implements OnModuleInit, OnApplicationShutdown {
  private readonly history: ChatMessage[] = [];
  private readonly processId = randomUUID();
  private readonly counts = new Map<string, { count: number; at: number }>();
  /** Each publication rendered once per process, whichever streams it goes to. */
  private readonly rendered = new WeakMap<object, DatastarEvent | null>();
  /** The current `online` patch: one event object shared by every stream (encoded once). */
  private readonly online = new BehaviorSubject<DatastarEvent>(patchSignals({ online: 0 }));
  private onlineCount = 0;
  private readonly subscriptions: Subscription[] = [];
  private timer?: NodeJS.Timeout;
  private pending?: NodeJS.Timeout;
  private lastAnnouncedAt = 0;
  private lastAnnounced = -1;

  constructor(
    private readonly pubsub: DatastarPubSub,
    private readonly streams: StreamRegistryService,
    private readonly ds: SignalTracker,
  ) {}

  onModuleInit(): void {
    // Every process records what reaches the room, so a reload shows recent history anywhere.
    this.subscriptions.push(this.pubsub.subscribe(ROOM).subscribe((event) => this.received(event)));
    this.subscriptions.push(this.pubsub.subscribe(PRESENCE).subscribe((event) => this.presence(event)));
    this.timer = setInterval(() => this.announce(true), ANNOUNCE_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    clearTimeout(this.pending);
    for (const s of this.subscriptions) s.unsubscribe();
  }

  /** The recent messages, oldest first (text: the page template escapes it). */
  recent(): ChatMessage[] {
    return this.history.map((message) => ({ ...message }));
  }

  /** Sends a message's text to the room (every process renders it for its own streams). */
  async post(name: string, text: string): Promise<void> {
    const message: ChatMessage = { name, text, at: new Date().toISOString().slice(11, 19) };
    await this.pubsub.publish(ROOM, { data: JSON.stringify(message) });
  }

  /**
   * What a tab's stream gets: room messages (missed ones first, when it comes back) and `online`
   * patches (starting with the current one).
   */
  events(): Observable<DatastarEvent> {
    const messages = this.pubsub
      .subscribe(ROOM, { onResync: () => this.renderAll() })
      .pipe(map((event) => this.render(event)), filter((event): event is DatastarEvent => event !== null));
    return merge(messages, this.online);
  }

  /** Call when a local stream opened or closed: announced once per `PRESENCE_MS` at most. */
  changed(): void {
    if (this.pending) return;
    const wait = Math.max(0, this.lastAnnouncedAt + PRESENCE_MS - Date.now());
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.lastAnnouncedAt = Date.now();
      this.announce(false);
    }, wait);
    this.pending.unref();
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
    if (total === this.onlineCount) return;
    this.onlineCount = total;
    this.online.next(patchSignals({ online: total }));
  }

  private received(event: { data?: unknown }): void {
    const message = parseMessage(event.data);
    if (!message) return;
    this.history.push(message);
    if (this.history.length > HISTORY) this.history.shift();
  }

  /**
   * A room message as its append patch, keeping the room's id (what the tab sends back to
   * resume). Rendered with the template's escaping: text can never become markup.
   */
  private render(event: MessageEventLike): DatastarEvent | null {
    // Already a Datastar event: the whole list, sent again on a resync.
    if (event.type) return event as DatastarEvent;
    let patch = this.rendered.get(event);
    if (patch !== undefined) return patch;
    const message = parseMessage(event.data);
    patch = message
      ? this.ds.renderFragment('chat-message', { to: 'messages', mode: 'append', locals: message, eventId: event.id })
      : null;
    this.rendered.set(event, patch);
    return patch;
  }

  /**
   * The whole list again, for a tab whose missed messages are no longer all kept. Nothing when this
   * process has no history (a restart without Redis): the tab's own list beats an empty one.
   */
  private renderAll(): DatastarEvent | undefined {
    if (this.history.length === 0) return undefined;
    const html = this.history.map((message) => this.ds.renderToString('chat-message', message).trim()).join('');
    return patchElements(html, { selector: '#messages', mode: 'inner' });
  }
}

/** A message from the room topic, if it is one: anything else (however it got there) is dropped. */
function parseMessage(data: unknown): ChatMessage | undefined {
  try {
    const { name, text, at } = JSON.parse(String(data));
    if (typeof name !== 'string' || name.length > MAX_NAME) return undefined;
    if (typeof text !== 'string' || text.length > MAX_TEXT) return undefined;
    if (typeof at !== 'string' || !TIME.test(at)) return undefined;
    return { name, text, at };
  } catch {
    return undefined;
  }
}
