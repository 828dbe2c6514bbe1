/** Datastar 1.0 wire constants: every default is spelled once, here (PROTOCOL.md). */
export const PATCH_ELEMENTS = 'datastar-patch-elements';
export const PATCH_SIGNALS = 'datastar-patch-signals';
export type DatastarEventType = typeof PATCH_ELEMENTS | typeof PATCH_SIGNALS;

export const DEFAULT_RETRY_DURATION = 1000;
export const DEFAULT_ELEMENT_PATCH_MODE = 'outer';
export const DEFAULT_NAMESPACE = 'html';

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

export const DATASTAR_QUERY_PARAM = 'datastar';
export const DATASTAR_REQUEST_HEADER = 'datastar-request';
