/**
 * `nestjs-datastar`: every public name is listed here, by name (`test/package/public-api.spec.ts`
 * pins the list). Anything else in the library is internal and may change without notice.
 */
// The wire format (protocol/): events, bytes, signal reading, action expressions.
export {
  PATCH_ELEMENTS, PATCH_SIGNALS, ELEMENT_PATCH_MODES, NAMESPACES, CONSOLE_LEVELS,
  DATASTAR_CLIENT_URL, DATASTAR_CLIENT_INTEGRITY,
  type DatastarEventType, type ElementPatchMode, type ElementNamespace, type ConsoleLevel,
  type DatastarEvent, type EventOptions,
  patchElements, removeElements, type PatchElementsOptions,
  patchSignals, patchSignalsRaw, removeSignals, type PatchSignalsOptions,
  executeScript, redirect, consoleLog, escapeAttribute, type ExecuteScriptOptions, type RedirectOptions,
  encodeEvent, encodeEvents, encodeComment, encodeOnce, type MessageEventLike,
  SseWriter, type SseWriterOptions, type SseCloseReason, type SseEncoding, type SseCompressionOptions,
  readSignals, parseSignals, SignalsError, type SignalsSource, type ReadSignalsOptions, type SignalsLimits,
  action, expr, expressionLiteral, type Expression, type ActionMethod, type ActionOptions,
} from './protocol';
export { DatastarModule } from './datastar.module';
export type { DatastarModuleOptions, DatastarCsrfOptions } from './interfaces/datastar-module-options.interface';
export { StarController, type StarControllerOptions } from './decorators/star-controller.decorator';
export { OnEvent } from './decorators/on-event.decorator';
export type { OnEventOptions, DatastarEventMethod } from './interfaces/on-event-options.interface';
export { Signals } from './decorators/signals.decorator';
export { SignalTracker } from './tracker/signal-tracker.service';
export type { PatchElementOptions } from './tracker/patch-element';
export { DatastarPageInterceptor } from './tracker/datastar-page.interceptor';
export { DatastarTemplates } from './templates/datastar-templates.service';
export type { TemplateSource } from './interfaces/template-source.interface';
export { eventUrl } from './templates/datastar-helpers';
export { DatastarHandlerRegistry, type DatastarHandler } from './core/datastar-handler.registry';
export type { ValidationErrors } from './dispatch/signals-validation';
export { DatastarCsrfBridge } from './csrf/datastar-csrf.middleware';
export { useDatastarViews } from './templates/use-datastar-views';
export { StreamRegistryService, type StreamHandle } from './streams/stream-registry.service';
export { TabClaims, MemoryTabClaims, RedisTabClaims, validTabId, type Claim } from './streams/tab-claims';
export { DatastarPubSub } from './pubsub/datastar-pubsub';
export { MemoryPubSub } from './pubsub/memory-pubsub';
export { RedisPubSub } from './pubsub/redis-pubsub';
export type { TopicSubscribeOptions } from './pubsub/topic-resume';
export type { TopicBacklogOptions } from './pubsub/topic-backlog';
export type { RedisConnectionOptions } from './redis/redis-connection';
export type { EventSource } from './streams/pipe-events';
export { LiveView } from './live/live-view.decorator';
export type {
  LiveViewCallbacks, LiveViewOptions, LiveMountSession, LiveTerminateReason, LivePubSubMessage,
} from './live/live-view.interface';
export { LiveContext } from './live/live-context';
export { LiveSessionsService, type LiveSessionInfo } from './live/live-sessions.service';
export { LiveTokens, type LiveTokenPayload, type LiveTokenResult, type LiveTokenFailure } from './live/live-token';
export type {
  DatastarLiveOptions, LiveSessionRecord, LiveSessionSerializer, LiveSessionStore, LiveSessionTaskRecord,
} from './interfaces/datastar-live-options.interface';
export { navigate, liveEventAction, type LiveActionOptions } from './live/live-actions';
export { safeLocalPath } from './live/live-path';
export { signalsDiff } from './live/live-signals';
