import type { DatastarSettings } from '../core/datastar-settings';
import { SseWriter, type SseWriterOptions } from '../protocol';

/**
 * The one place a Datastar SSE response is opened: takes the reply over from Fastify (hijack),
 * and applies the module's `heartbeat`, `maxBufferedBytes` and `compression` (each call's
 * `overrides` win). Dispatch, live views and `streams.send()` all open their writers here, so no
 * path can forget an option again.
 */
export function openSseWriter(
  res: any,
  settings: DatastarSettings['writer'],
  overrides?: SseWriterOptions,
): SseWriter {
  if (typeof res.hijack === 'function') res.hijack(); // Fastify: the reply is ours now
  // Without overrides (every dispatch), the module's frozen options as they are: no copy per writer.
  return new SseWriter(res.raw ?? res, overrides ? { ...settings, ...definedOnly(overrides) } : settings).open();
}

/** `{ heartbeat: undefined }` from a caller means "the module's", not "none". */
function definedOnly(options: SseWriterOptions): SseWriterOptions {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) if (value !== undefined) out[key] = value;
  return out as SseWriterOptions;
}
