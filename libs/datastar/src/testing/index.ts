/**
 * `nestjs-datastar/testing`: test Datastar handlers and pages as easily as REST controllers.
 * Only the names below are public; the files behind them may change.
 */
export { parseSse, SseParser } from './parse-sse';
export type { SseEvent, PatchElementsView, PatchSignalsView } from './sse-event.interface';
export {
  datastarMatchers, setupDatastarMatchers, describeEvent,
  type DatastarReceived, type PatchElementsExpectation,
} from './matchers';
export {
  DatastarTestClient,
  type DatastarResponse, type StreamResponse, type PageResponse, type EventRequestOptions,
  type StreamOptions, type TestClientOptions, type HttpMethod, type RequestOptions,
} from './test-client';
export { DatastarPage, type PageOptions, type PageRequest, type PageRuntime } from './page-driver';
export type { HttpTarget, HttpAppLike } from './base-url';
export { readSignalsFromHtml } from './data-attribute';
export { ExpressionError } from './expression.parser';
