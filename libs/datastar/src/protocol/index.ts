export * from './protocol.constants';
export * from './datastar-event.interface';
export { dataLines, singleLine } from './lines';
export { patchElements, removeElements, type PatchElementsOptions } from './elements';
export { patchSignals, patchSignalsRaw, removeSignals, nullPatch, type PatchSignalsOptions } from './signals';
export {
  executeScript, redirect, consoleLog, escapeAttribute, neutraliseScriptEnd,
  type ExecuteScriptOptions, type RedirectOptions,
} from './execute';
export { encodeEvent, encodeEvents, encodeComment, type MessageEventLike } from './encoder';
export {
  readSignals, parseSignals, SignalsError, DEFAULT_SIGNALS_LIMIT, DEFAULT_SIGNALS_LIMITS, DEFAULT_SIGNALS_TIMEOUT,
  type SignalsSource, type ReadSignalsOptions, type SignalsLimits, type Signals,
} from './read-signals';
export { action, expr, Expression, type ActionMethod, type ActionOptions } from './actions';
export { expressionLiteral, stringLiteral } from './expression-literal';
export { parseJsonSafely, htmlSafeJson, isUnsafeKey } from './safe-json';
export { SseWriter, encodeOnce, type SseWriterOptions, type SseCloseReason } from './sse-writer';
export {
  negotiateEncoding, startCompression, SseCompressor, DEFAULT_SSE_ENCODINGS,
  type SseEncoding, type SseCompressionOptions,
} from './sse-compression';
