import type { SignalsLimits } from './read-signals';
import type { SseEncoding } from './sse-compression';

/**
 * Datastar 1.0 wire constants (PROTOCOL.md) and every default of the protocol layer, each spelled
 * once, here. A boolean option left out is false unless a default below says otherwise.
 */
export const PATCH_ELEMENTS = 'datastar-patch-elements';
export const PATCH_SIGNALS = 'datastar-patch-signals';
export type DatastarEventType = typeof PATCH_ELEMENTS | typeof PATCH_SIGNALS;

export const DEFAULT_RETRY_DURATION = 1000;
export const DEFAULT_ELEMENT_PATCH_MODE = 'outer';
export const DEFAULT_NAMESPACE = 'html';
/** `executeScript` removes its `<script>` once it ran. */
export const DEFAULT_AUTO_REMOVE = true;

export const ELEMENT_PATCH_MODES = [
  'outer', 'inner', 'replace', 'prepend', 'append', 'before', 'after', 'remove',
] as const;
export type ElementPatchMode = (typeof ELEMENT_PATCH_MODES)[number];

/** Modes that client 1.0.2 can apply without a selector (it matches top-level elements by id). */
export const MODES_WITHOUT_SELECTOR: ReadonlySet<ElementPatchMode> = new Set(['outer', 'replace']);

export const NAMESPACES = ['html', 'svg', 'mathml'] as const;
export type ElementNamespace = (typeof NAMESPACES)[number];

export const CONSOLE_LEVELS = ['log', 'info', 'warn', 'error', 'debug'] as const;
export type ConsoleLevel = (typeof CONSOLE_LEVELS)[number];

/** The client's CDN build that this release targets, with its Subresource Integrity hash. */
export const DATASTAR_CLIENT_URL =
  'https://cdn.jsdelivr.net/gh/starfederation/datastar@v1.0.2/bundles/datastar.js';
export const DATASTAR_CLIENT_INTEGRITY = 'sha256-KDfYes9u4LqOTmN2WSbCWpjWOIOwL4i+GUqGuB0/0ko=';

/** Headers of every Datastar SSE response (Connection is added on HTTP/1.x only). */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
};

/** Bytes a client may leave unread before its stream is closed as too slow. */
export const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024;

/** Content codings offered for a compressed stream, most preferred first. */
export const DEFAULT_SSE_ENCODINGS: readonly SseEncoding[] = ['br', 'gzip'];
export const DEFAULT_GZIP_LEVEL = 6;
/** Below 5, Brotli compresses a flushed stream much worse. */
export const DEFAULT_BROTLI_QUALITY = 5;

/** Largest accepted signals body or query value, in bytes. */
export const DEFAULT_SIGNALS_LIMIT = 1024 * 1024;
/** No page a person uses comes near these; a hostile body hits them long before it costs real CPU. */
export const DEFAULT_SIGNALS_LIMITS: Readonly<Required<SignalsLimits>> = Object.freeze({
  keys: 10_000,
  depth: 32,
  stringLength: 256 * 1024,
});
/** How long a signals body may take to arrive (ms). */
export const DEFAULT_SIGNALS_TIMEOUT = 30_000;

export const DATASTAR_QUERY_PARAM = 'datastar';
export const DATASTAR_REQUEST_HEADER = 'datastar-request';
