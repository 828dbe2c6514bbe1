import {
  DEFAULT_ELEMENT_PATCH_MODE, DEFAULT_NAMESPACE, PATCH_ELEMENTS, PATCH_SIGNALS, parseJsonSafely,
} from '../protocol';
import type { PatchElementsView, PatchSignalsView, SseEvent } from './sse-event.interface';

/**
 * Parses a whole `text/event-stream` body. Follows the HTML spec's event-stream interpretation:
 * lines end at CRLF, CR or LF; `:` lines are comments; one space after the colon is dropped;
 * an event is dispatched at a blank line only, so a last event with no blank line after it is
 * discarded (as a browser would), and an event with no `data` line is not dispatched either.
 */
export function parseSse(text: string): SseEvent[] {
  const parser = new SseParser();
  return [...parser.push(text), ...parser.end()];
}

/**
 * Incremental SSE parser for bodies that arrive in chunks (a CR at the end of one chunk and
 * an LF at the start of the next are one line break).
 */
export class SseParser {
  private buffer = '';
  private skipLf = false;
  private started = false;
  private type = '';
  private id: string | undefined;
  private retry: number | undefined;
  private dataLines: string[] = [];

  /** Feeds decoded text; returns the events completed by it. */
  push(chunk: string): SseEvent[] {
    const out: SseEvent[] = [];
    let text = this.buffer + chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a leading BOM is not content
    }
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.skipLf) {
        this.skipLf = false;
        if (c === 10 && i === start) {
          start = i + 1;
          continue;
        }
      }
      if (c === 13 || c === 10) {
        this.line(text.slice(start, i), out);
        if (c === 13) this.skipLf = true;
        start = i + 1;
      }
    }
    this.buffer = text.slice(start);
    return out;
  }

  /** The stream ended: an unterminated event is discarded, per the spec. */
  end(): SseEvent[] {
    this.buffer = '';
    this.reset();
    return [];
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.dataLines.length > 0) out.push(this.dispatch());
      this.reset();
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' comment
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'event': this.type = value; break;
      case 'data': this.dataLines.push(value); break;
      case 'id': if (!value.includes('\u0000')) this.id = value; break;
      case 'retry': if (/^\d+$/.test(value)) this.retry = Number(value); break;
      default: break; // unknown fields are ignored
    }
  }

  private dispatch(): SseEvent {
    const event: SseEvent = { type: this.type || 'message', data: splitDataLines(this.dataLines) };
    if (this.id !== undefined) event.id = this.id;
    if (this.retry !== undefined) event.retry = this.retry;
    if (event.type === PATCH_ELEMENTS) event.patchElements = elementsView(event.data);
    if (event.type === PATCH_SIGNALS) event.patchSignals = signalsView(event.data);
    return event;
  }

  private reset(): void {
    this.type = '';
    this.id = undefined;
    this.retry = undefined;
    this.dataLines = [];
  }
}

/** `key value` lines -> `{ key: [value, ...] }`, split at the first space, never trimmed. */
function splitDataLines(lines: readonly string[]): Record<string, string[]> {
  const data: Record<string, string[]> = Object.create(null);
  for (const line of lines) {
    const space = line.indexOf(' ');
    const key = space === -1 ? line : line.slice(0, space);
    const value = space === -1 ? '' : line.slice(space + 1);
    (data[key] ??= []).push(value);
  }
  return data;
}

function elementsView(data: Record<string, string[]>): PatchElementsView {
  const view: PatchElementsView = {
    mode: data.mode?.[0] ?? DEFAULT_ELEMENT_PATCH_MODE,
    elements: data.elements?.join('\n') ?? '',
    namespace: data.namespace?.[0] ?? DEFAULT_NAMESPACE,
    useViewTransition: data.useViewTransition?.[0]?.trim() === 'true',
  };
  if (data.selector) view.selector = data.selector[0];
  if (data.viewTransitionSelector) view.viewTransitionSelector = data.viewTransitionSelector[0];
  return view;
}

function signalsView(data: Record<string, string[]>): PatchSignalsView {
  const onlyIfMissing = data.onlyIfMissing?.[0]?.trim() === 'true';
  const text = data.signals?.join('\n') ?? '';
  try {
    const parsed = parseJsonSafely(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return { signals: parsed as Record<string, unknown>, onlyIfMissing };
    }
    return { signals: {}, onlyIfMissing, error: `signals must be a JSON object, got ${truncate(text)}` };
  } catch (error) {
    return {
      signals: {}, onlyIfMissing,
      error: `signals are not JSON (${(error as Error).message}): ${truncate(text)}`,
    };
  }
}

function truncate(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}...` : text;
}
