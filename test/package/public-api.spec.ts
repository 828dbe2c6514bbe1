/**
 * The public API of `nestjs-datastar` and `nestjs-datastar/testing`, pinned by name and kind.
 * Adding, removing or changing the kind of an export fails here with a one-line diff: edit the
 * list below in the same change, so a change to the public API is a visible decision.
 * Types cannot be seen at runtime; the `import type` lists at the bottom fail `npm run typecheck`
 * when a public type disappears.
 */
import * as root from 'nestjs-datastar';
import * as testing from 'nestjs-datastar/testing';

/** `class` for a function whose source is a class, else `typeof`. */
function kindOf(value: unknown): string {
  if (typeof value === 'function' && Function.prototype.toString.call(value).startsWith('class')) return 'class';
  return typeof value;
}

function surface(module: object): string[] {
  return Object.keys(module).sort().map((name) => `${name}: ${kindOf((module as Record<string, unknown>)[name])}`);
}

describe('public API', () => {
  it("of 'nestjs-datastar'", () => {
    expect(surface(root)).toEqual([
      'CONSOLE_LEVELS: object',
      'DATASTAR_CLIENT_INTEGRITY: string',
      'DATASTAR_CLIENT_URL: string',
      'DatastarCsrfBridge: class',
      'DatastarHandlerRegistry: class',
      'DatastarModule: class',
      'DatastarPageInterceptor: class',
      'DatastarPubSub: class',
      'DatastarTemplates: class',
      'ELEMENT_PATCH_MODES: object',
      'LiveContext: class',
      'LiveSessionsService: class',
      'LiveTokens: class',
      'LiveView: function',
      'MemoryPubSub: class',
      'MemoryTabClaims: class',
      'NAMESPACES: object',
      'OnEvent: function',
      'PATCH_ELEMENTS: string',
      'PATCH_SIGNALS: string',
      'RedisPubSub: class',
      'RedisTabClaims: class',
      'SignalTracker: class',
      'Signals: function',
      'SignalsError: class',
      'SseWriter: class',
      'StarController: function',
      'StreamRegistryService: class',
      'TabClaims: class',
      'action: function',
      'consoleLog: function',
      'encodeComment: function',
      'encodeEvent: function',
      'encodeEvents: function',
      'encodeOnce: function',
      'escapeAttribute: function',
      'eventUrl: function',
      'executeScript: function',
      'expr: function',
      'expressionLiteral: function',
      'liveEventAction: function',
      'navigate: function',
      'parseSignals: function',
      'patchElements: function',
      'patchSignals: function',
      'patchSignalsRaw: function',
      'readSignals: function',
      'redirect: function',
      'removeElements: function',
      'removeSignals: function',
      'safeLocalPath: function',
      'signalsDiff: function',
      'useDatastarViews: function',
      'validTabId: function',
    ]);
  });

  it("of 'nestjs-datastar/testing'", () => {
    expect(surface(testing)).toEqual([
      'DatastarPage: class',
      'DatastarTestClient: class',
      'ExpressionError: class',
      'SseParser: class',
      'datastarMatchers: object',
      'describeEvent: function',
      'parseSse: function',
      'readSignalsFromHtml: function',
      'setupDatastarMatchers: function',
    ]);
  });
});

// Compile-level: every public type name (type-only exports, erased at runtime). A missing one is a
// typecheck error; add new public types here too.
export type {
  ActionMethod, ActionOptions, Claim, ConsoleLevel, DatastarCsrfOptions, DatastarEvent,
  DatastarEventMethod, DatastarEventType, DatastarHandler, DatastarLiveOptions, DatastarModuleOptions,
  ElementNamespace, ElementPatchMode, EventOptions, EventSource, ExecuteScriptOptions, Expression,
  LiveActionOptions, LiveMountSession, LivePubSubMessage, LiveSessionInfo, LiveSessionRecord,
  LiveSessionSerializer, LiveSessionStore, LiveSessionTaskRecord, LiveTerminateReason,
  LiveTokenFailure, LiveTokenPayload, LiveTokenResult, LiveViewCallbacks, LiveViewOptions,
  MessageEventLike, OnEventOptions, PatchElementOptions, PatchElementsOptions, PatchSignalsOptions,
  ReadSignalsOptions, RedirectOptions, RedisConnectionOptions, SignalsLimits, SignalsSource,
  SseCloseReason, SseCompressionOptions, SseEncoding, SseWriterOptions, StarControllerOptions,
  StreamHandle, TemplateSource, TopicBacklogOptions, TopicSubscribeOptions, ValidationErrors,
} from 'nestjs-datastar';
export type {
  DatastarReceived, DatastarResponse, EventRequestOptions, HttpAppLike, HttpMethod, HttpTarget,
  PageOptions, PageRequest, PageResponse, PageRuntime, PatchElementsExpectation, PatchElementsView,
  PatchSignalsView, RequestOptions, SseEvent, StreamOptions, StreamResponse, TestClientOptions,
} from 'nestjs-datastar/testing';
