import { SseParser } from './parse-sse';
import type { SseEvent } from './sse-event.interface';

/**
 * Reads a `text/event-stream` body as it arrives and hands over each complete event; resolves
 * when the body ends, or quietly when the request was aborted (that is how tests stop an endless
 * stream). `onEvent` returning true stops reading early.
 */
export async function readSseBody(
  body: ReadableStream<Uint8Array> | null,
  onEvent: (event: SseEvent) => boolean | void,
  onText?: (text: string) => void,
): Promise<{ ended: boolean }> {
  if (!body) return { ended: true };
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      const text = done ? decoder.decode() : decoder.decode(value, { stream: true });
      if (text) {
        onText?.(text);
        for (const event of parser.push(text)) if (onEvent(event) === true) {
          await reader.cancel().catch(() => undefined);
          return { ended: false };
        }
      }
      if (done) return { ended: true };
    }
  } catch (error) {
    if (isAbort(error)) return { ended: false };
    throw error;
  } finally {
    try { reader.releaseLock(); } catch { /* already released by cancel */ }
  }
}

export function isAbort(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  return name === 'AbortError' || (error as { code?: string } | null)?.code === 'ABORT_ERR';
}
