import { WireEvent } from './datastar-event';
import { singleLine, sseLines } from './lines';

/** Anything shaped like Nest's `MessageEvent`: our helpers' events and users' own. */
export interface MessageEventLike {
  data?: string | object;
  id?: string;
  type?: string;
  retry?: number;
  comment?: string;
}

const CR_OR_LF = /\r\n|\r|\n/;

/**
 * The one place events become bytes. No `id:` is ever invented (Nest's own writer adds one,
 * which Datastar must not get); every line of `data` gets its own `data: ` prefix.
 */
export function encodeEvent(event: MessageEventLike): string {
  let out = '';
  if (event.comment !== undefined) out += encodeComment(event.comment);
  if (event.type) out += `event: ${singleLine(event.type)}\n`;
  if (event.id !== undefined && event.id !== '') out += `id: ${singleLine(String(event.id))}\n`;
  if (event.retry !== undefined && Number.isInteger(event.retry) && event.retry >= 0) {
    out += `retry: ${event.retry}\n`;
  }
  // Our helpers' events carry their data lines, built when the event was made.
  const lines = event instanceof WireEvent ? event.dataLines() : undefined;
  if (lines !== undefined) return `${out}${lines}\n`;
  const data = event.data;
  if (data !== undefined) {
    const text = typeof data === 'string' ? data : JSON.stringify(data);
    // Anything with a CR is split the slow, safe way.
    out += text.indexOf('\r') === -1 ? sseLines(text) : sseLines(text.split(CR_OR_LF).join('\n'));
  } else if (event.comment !== undefined && !event.type && event.id === undefined) {
    return out;
  }
  return `${out}\n`;
}

/** Encodes several events into one string, for a single write. */
export function encodeEvents(events: Iterable<MessageEventLike>): string {
  let out = '';
  for (const event of events) out += encodeEvent(event);
  return out;
}

/** A comment line (`: text`), valid as a heartbeat; the client ignores it. */
export function encodeComment(text = ''): string {
  const lines = String(text).split(CR_OR_LF);
  let out = '';
  for (const line of lines) out += line ? `: ${line}\n` : ':\n';
  return out;
}
