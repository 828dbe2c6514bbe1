// The wire layer, for the library's other folders. The public API is ../index.ts, by name.
export {
  PATCH_ELEMENTS, PATCH_SIGNALS, ELEMENT_PATCH_MODES, MODES_WITHOUT_SELECTOR, NAMESPACES, CONSOLE_LEVELS,
  DEFAULT_RETRY_DURATION, DEFAULT_ELEMENT_PATCH_MODE, DEFAULT_NAMESPACE, DEFAULT_AUTO_REMOVE,
  DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_SSE_ENCODINGS, DEFAULT_GZIP_LEVEL, DEFAULT_BROTLI_QUALITY,
  DEFAULT_SIGNALS_LIMIT, DEFAULT_SIGNALS_LIMITS, DEFAULT_SIGNALS_TIMEOUT,
  DATASTAR_CLIENT_URL, DATASTAR_CLIENT_INTEGRITY, SSE_HEADERS, DATASTAR_QUERY_PARAM, DATASTAR_REQUEST_HEADER,
  type DatastarEventType, type ElementPatchMode, type ElementNamespace, type ConsoleLevel,
} from './protocol.constants';
export type { DatastarEvent, EventOptions } from './datastar-event.interface';
export { singleLine } from './lines';
export { patchElements, removeElements, elementsEvent, type PatchElementsOptions } from './elements';
export { patchSignals, patchSignalsRaw, removeSignals, nullPatch, type PatchSignalsOptions } from './signals';
export {
  executeScript, redirect, consoleLog, neutraliseScriptEnd, type ExecuteScriptOptions, type RedirectOptions,
} from './execute';
export { escapeAttribute } from './html-escape';
export { encodeEvent, encodeEvents, encodeComment, type MessageEventLike } from './encoder';
export {
  readSignals, parseSignals, SignalsError,
  type SignalsSource, type ReadSignalsOptions, type SignalsLimits, type Signals,
} from './read-signals';
export { action, expr, Expression, type ActionMethod, type ActionOptions } from './actions';
export { expressionLiteral, stringLiteral } from './expression-literal';
export { parseJsonSafely, htmlSafeJson, isUnsafeKey } from './safe-json';
export { SseWriter, encodeOnce, type SseWriterOptions, type SseCloseReason } from './sse-writer';
export {
  negotiateEncoding, startCompression, SseCompressor, type SseEncoding, type SseCompressionOptions,
} from './sse-compression';
