/** What a live session sends, and what the browser already has: the stream, the outbox, the diff baseline. */
import { patchElements, patchSignals, type DatastarEvent, type SseCloseReason, type SseWriter } from '../protocol';
import { LIVE_ROOT_ID, MAX_OUTBOX } from './live.constants';
import { jsonClone, signalsDiff } from './live-signals';

/**
 * A session's output. Events go down the open stream, else into the answer of the request that
 * produced them, else into a bounded outbox until a stream opens (past the bound, that stream gets
 * the whole state instead). Updates are diffs against the signals and root HTML last sent.
 */
export class LiveOutput {
  /** The stream output goes down: set once its turn in the queue came. */
  private writer?: SseWriter;
  /** The newest stream, which may still wait for its turn. */
  private attached?: SseWriter;
  private outbox: DatastarEvent[] = [];
  private resync = false;
  private connectedOnce = false;
  private sentSignals: Record<string, unknown> = {};
  private lastHtml = '';

  get connected(): boolean {
    return this.writer !== undefined && !this.writer.closed;
  }

  /** What the browser has now: these signals and this root HTML (a page, a view switched to). */
  baseline(signals: Record<string, unknown>, html: string): void {
    this.sentSignals = jsonClone(signals);
    this.lastHtml = html;
  }

  /** The browser sent these values itself: those of `declared` signals need not go back. */
  received(signals: Record<string, unknown>, declared: Record<string, unknown>): void {
    for (const key of Object.keys(signals)) {
      if (Object.prototype.hasOwnProperty.call(declared, key)) this.sentSignals[key] = jsonClone(signals[key]);
    }
  }

  /**
   * The browser brought up to `signals` and `html`: one signal diff (every signal when `full`), then
   * the root when its HTML changed (always when `full` or `root`; never when `html` is undefined).
   */
  update(signals: Record<string, unknown>, html: string | undefined, options: { full?: boolean; root?: boolean } = {}): DatastarEvent[] {
    const current = jsonClone(signals);
    const diff = options.full ? current : signalsDiff(this.sentSignals, current);
    this.sentSignals = current;
    const events: DatastarEvent[] = [];
    if (Object.keys(diff).length > 0) events.push(patchSignals(diff));
    if (html !== undefined && (options.full || options.root || html !== this.lastHtml)) {
      this.lastHtml = html;
      events.push(rootPatch(html));
    }
    return events;
  }

  /** Down the open stream, else into `response` (a request's own answer), else the outbox. */
  send(events: DatastarEvent[], response?: DatastarEvent[]): void {
    if (this.writer && this.writer.send(events)) return;
    if (response) {
      response.push(...events);
      return;
    }
    this.outbox.push(...events);
    if (this.outbox.length > MAX_OUTBOX) {
      this.outbox = [];
      this.resync = true;
    }
  }

  /** The session was taken back from the store: whatever the browser has, its first stream gets the whole state. */
  resume(): void {
    this.connectedOnce = true;
  }

  /** A new stream: the previous one, if another, is closed as replaced. */
  attach(writer: SseWriter): void {
    const previous = this.attached;
    this.attached = writer;
    if (previous && previous !== writer) previous.close('replaced');
  }

  /**
   * The stream's turn in the queue: output goes down it from now on, starting with what waited in
   * the outbox, or with `wholeState()` after a reconnect or an overflowed outbox (the browser may
   * have missed anything). False when the stream closed or was replaced meanwhile.
   */
  connect(writer: SseWriter, wholeState: () => DatastarEvent[]): boolean {
    if (writer.closed || this.attached !== writer) return false;
    let events: DatastarEvent[];
    if (this.connectedOnce || this.resync) {
      this.outbox = [];
      this.resync = false;
      events = wholeState();
    } else {
      events = this.outbox.splice(0);
    }
    this.writer = writer;
    this.connectedOnce = true;
    if (events.length) writer.send(events);
    return true;
  }

  /** A stream closed: true when it was the newest one (the session now has none). */
  detach(writer: SseWriter): boolean {
    if (this.writer === writer) this.writer = undefined;
    if (this.attached !== writer) return false;
    this.attached = undefined;
    return true;
  }

  /** The session ended: the outbox is dropped and the stream closed. */
  close(reason: SseCloseReason): void {
    this.outbox = [];
    const writer = this.attached;
    this.attached = undefined;
    this.writer = undefined;
    writer?.close(reason);
  }
}

/**
 * The last root patch built: the sessions of a broadcast that render the same HTML share it, so it
 * is built and encoded once (`encodeOnce`) instead of once per session.
 */
let lastRoot: { html: string; event: DatastarEvent } | undefined;

/** The root's new children: morphed in place by the client. */
function rootPatch(html: string): DatastarEvent {
  if (lastRoot?.html !== html) lastRoot = { html, event: patchElements(html, { selector: `#${LIVE_ROOT_ID}`, mode: 'inner' }) };
  return lastRoot.event;
}
