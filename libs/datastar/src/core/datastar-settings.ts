import type { ValidatorOptions } from 'class-validator';
import type { HelperDelegate } from 'handlebars';
import { resolve } from 'node:path';
import {
  DEFAULT_BROWSER_COOKIE, DEFAULT_CSRF_HEADER, DEFAULT_CSRF_SIGNAL, DEFAULT_DISPATCH_PATH, DEFAULT_ERRORS_SIGNAL,
  DEFAULT_FLASH_MS, DEFAULT_FORWARD_TIMEOUT_MS, DEFAULT_GRACE_MS, DEFAULT_HEARTBEAT_MS, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_LIVE_STORE_DIR,
  DEFAULT_MAX_PENDING_PER_CLIENT, DEFAULT_OWNER_LEASE_MS, DEFAULT_MAX_PENDING_SESSIONS, DEFAULT_MAX_SIGNAL_BYTES, DEFAULT_MAX_STORED_SESSIONS, DEFAULT_TOKEN_TTL_MS, MIN_SECRET_LENGTH,
  DEFAULT_BACKLOG, DEFAULT_SHUTDOWN_RETRY,
} from '../datastar.constants';
import {
  INVALID_ALLOW_CROSS_SITE, INVALID_BROWSER_COOKIE, INVALID_LIVE_STORE, INVALID_OPTION, INVALID_PATH, LIVE_SECRET_TOO_SHORT,
} from '../datastar.messages';
import type { LiveSessionSerializer, LiveSessionStore } from '../interfaces/datastar-live-options.interface';
import type { DatastarModuleOptions } from '../interfaces/datastar-module-options.interface';
import type { TemplateSource } from '../interfaces/template-source.interface';
import {
  DATASTAR_CLIENT_INTEGRITY, DATASTAR_CLIENT_URL, DEFAULT_SIGNALS_LIMIT, DEFAULT_SIGNALS_LIMITS, DEFAULT_SIGNALS_TIMEOUT,
  type ReadSignalsOptions, type SignalsLimits, type SseCompressionOptions,
} from '../protocol';
import type { RedisConnectionOptions } from '../redis/redis-connection';
import type { ResolvedBacklogOptions } from '../pubsub/topic-backlog';

/** Injection token of the resolved `DatastarSettings`. */
export const DATASTAR_SETTINGS = Symbol('DATASTAR_SETTINGS');

/**
 * `DatastarModuleOptions` with every default applied and every value checked, once, at boot
 * (`resolveDatastarSettings`). Frozen: providers read it and never default anything themselves.
 */
export interface DatastarSettings {
  /** The dispatch path without slashes (`ds`); `DatastarPaths` adds the app's global prefix. */
  readonly path: string;
  /** Absolute folder of Handlebars views, when configured. */
  readonly views?: string;
  readonly clientUrl: string;
  readonly clientIntegrity: string | false;
  /** How every Datastar request's signals are read: bytes, shape and time. */
  readonly readSignals: Readonly<Required<Omit<ReadSignalsOptions, 'limits'>> & { limits: Readonly<Required<SignalsLimits>> }>;
  /** `true`: every site may call; otherwise the origins allowed besides same-site requests. */
  readonly allowCrossSite: true | readonly string[];
  /** The CSRF transport: `enabled` when the module option was given (the bridge middleware always knows the names). */
  readonly csrf: Readonly<{ enabled: boolean; header: string; signal: string; token?: (req: any) => string | undefined }>;
  /** class-validator options for `@Signals()` DTOs (without `errorsSignal`). */
  readonly validation: Readonly<ValidatorOptions>;
  readonly errorsSignal: string;
  readonly exposeErrors: boolean;
  readonly cacheTemplates: boolean;
  readonly fastExpressRequests: boolean;
  readonly helpers: Readonly<Record<string, HelperDelegate>>;
  /** What every SSE writer is opened with (see `openSseWriter`). */
  readonly writer: Readonly<{
    heartbeat: number | false;
    heartbeatEvent: boolean;
    maxBufferedBytes?: number;
    compression?: boolean | SseCompressionOptions;
    shutdownRetry: Readonly<{ min: number; max: number }> | false;
  }>;
  readonly redis?: RedisConnectionOptions;
  /** What each pub/sub topic keeps for replay by `Last-Event-ID`; false: no backlog, no ids. */
  readonly backlog: ResolvedBacklogOptions | false;
  readonly streams: Readonly<{ browserCookie: string | false; owner?: (req: any) => string | undefined }>;
  readonly live: Readonly<{
    /** Undefined: a generated secret (refused in production, see `LiveRuntime.boot`). */
    secret?: string;
    tokenTtlMs: number;
    graceMs: number;
    idleTimeoutMs: number;
    maxPendingSessions: number;
    maxPendingPerClient: number;
    clientKey: (req: any) => string | undefined;
    maxSignalBytes: number;
    mountTemplate?: TemplateSource;
    flashMs: number;
    /** A store of the app's own; else Redis when `redis` is set, else the embedded one. */
    store?: LiveSessionStore;
    /** The embedded store's absolute folder; undefined: memory only (`store: 'memory'`). */
    storeDir?: string;
    storeFsync: boolean;
    /** The embedded store's cap on session records (not Redis's, nor a store of the app's own). */
    maxStoredSessions: number;
    sessionTtlMs: number;
    serializer: LiveSessionSerializer;
    forwardTimeoutMs: number;
    ownerLeaseMs: number;
  }>;
}

/** Live session records as JSON (`live.serializer`'s default). */
const JSON_SERIALIZER: LiveSessionSerializer = Object.freeze<LiveSessionSerializer>({
  serialize: (record) => JSON.stringify(record),
  deserialize: (text) => JSON.parse(text),
});

const COOKIE_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;

/** Applies every default and checks every value; throws at boot with what to write instead. */
export function resolveDatastarSettings(options: DatastarModuleOptions = {}): DatastarSettings {
  const csrf = options.csrf || undefined;
  const { errorsSignal = DEFAULT_ERRORS_SIGNAL, ...validation } = options.validation ?? {};
  const live = options.live ?? {};
  const browserCookie = options.streams?.browserCookie ?? DEFAULT_BROWSER_COOKIE;
  if (browserCookie !== false && !(typeof browserCookie === 'string' && COOKIE_NAME.test(browserCookie))) throw new TypeError(INVALID_BROWSER_COOKIE(browserCookie));
  if (live.secret !== undefined && typeof live.secret !== 'string') throw new TypeError(INVALID_OPTION('live.secret', '(not a string)', 'a string of at least 32 random characters'));
  if (live.secret !== undefined && live.secret.length < MIN_SECRET_LENGTH) throw new Error(LIVE_SECRET_TOO_SHORT(live.secret.length));
  if (live.store !== undefined && live.store !== 'memory' && !isStore(live.store)) throw new TypeError(INVALID_LIVE_STORE(live.store));
  const heartbeat = options.heartbeat ?? DEFAULT_HEARTBEAT_MS;
  const f = Object.freeze;
  return f({
    path: normalizePath(options.path ?? DEFAULT_DISPATCH_PATH),
    views: options.views ? resolve(options.views) : undefined,
    clientUrl: options.clientUrl ?? DATASTAR_CLIENT_URL,
    clientIntegrity: options.clientIntegrity ?? (options.clientUrl ? false : DATASTAR_CLIENT_INTEGRITY),
    readSignals: f({
      limit: positive('signalsLimit', options.signalsLimit ?? DEFAULT_SIGNALS_LIMIT),
      limits: f({
        keys: positive('signalsLimits.keys', options.signalsLimits?.keys ?? DEFAULT_SIGNALS_LIMITS.keys),
        depth: positive('signalsLimits.depth', options.signalsLimits?.depth ?? DEFAULT_SIGNALS_LIMITS.depth),
        stringLength: positive('signalsLimits.stringLength', options.signalsLimits?.stringLength ?? DEFAULT_SIGNALS_LIMITS.stringLength),
      }),
      timeout: positive('signalsTimeout', options.signalsTimeout ?? DEFAULT_SIGNALS_TIMEOUT),
    }),
    allowCrossSite: allowedSites(options.allowCrossSite ?? false),
    csrf: f({
      enabled: csrf !== undefined,
      header: csrf?.header ?? DEFAULT_CSRF_HEADER,
      signal: csrf?.signal ?? DEFAULT_CSRF_SIGNAL,
      token: csrf?.token,
    }),
    validation: f(validation),
    errorsSignal,
    exposeErrors: options.exposeErrors === true,
    // Edits show without a restart while developing; production compiles each template once.
    cacheTemplates: options.cacheTemplates ?? process.env.NODE_ENV === 'production',
    fastExpressRequests: options.fastExpressRequests !== false,
    helpers: f({ ...options.helpers }),
    writer: f({
      // 0 has always meant "no heartbeat", like false.
      heartbeat: heartbeat === false || heartbeat === 0 ? false : positive('heartbeat', heartbeat),
      heartbeatEvent: options.heartbeatEvent !== false,
      maxBufferedBytes: options.maxBufferedBytes === undefined ? undefined : positive('maxBufferedBytes', options.maxBufferedBytes),
      compression: options.compression,
      shutdownRetry: shutdownRetry(options.shutdownRetry),
    }),
    redis: options.pubsub?.redis,
    backlog: backlog(options.pubsub?.backlog),
    streams: f({ browserCookie, owner: options.streams?.owner }),
    live: f({
      secret: live.secret,
      tokenTtlMs: positive('live.tokenTtlMs', live.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS),
      graceMs: nonNegative('live.graceMs', live.graceMs ?? DEFAULT_GRACE_MS),
      idleTimeoutMs: positive('live.idleTimeoutMs', live.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS),
      maxPendingSessions: positive('live.maxPendingSessions', live.maxPendingSessions ?? DEFAULT_MAX_PENDING_SESSIONS),
      maxPendingPerClient: positive('live.maxPendingPerClient', live.maxPendingPerClient ?? DEFAULT_MAX_PENDING_PER_CLIENT),
      clientKey: live.clientKey ?? ((req: any) => req.ip ?? req.socket?.remoteAddress),
      maxSignalBytes: positive('live.maxSignalBytes', live.maxSignalBytes ?? DEFAULT_MAX_SIGNAL_BYTES),
      mountTemplate: live.mountTemplate,
      flashMs: nonNegative('live.flashMs', live.flashMs ?? DEFAULT_FLASH_MS),
      store: typeof live.store === 'object' ? live.store : undefined,
      storeDir: live.store === 'memory' ? undefined : resolve(folder('live.storeDir', live.storeDir ?? DEFAULT_LIVE_STORE_DIR)),
      storeFsync: live.storeFsync === true,
      maxStoredSessions: count('live.maxStoredSessions', live.maxStoredSessions ?? DEFAULT_MAX_STORED_SESSIONS),
      sessionTtlMs: positive('live.sessionTtlMs', live.sessionTtlMs ?? live.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS),
      serializer: live.serializer ?? JSON_SERIALIZER,
      forwardTimeoutMs: positive('live.forwardTimeoutMs', live.forwardTimeoutMs ?? DEFAULT_FORWARD_TIMEOUT_MS),
      ownerLeaseMs: positive('live.ownerLeaseMs', live.ownerLeaseMs ?? DEFAULT_OWNER_LEASE_MS),
    }),
  });
}

/** `'/ds/'` -> `'ds'`; a path Nest's router would read differently is refused. */
export function normalizePath(path: string): string {
  if (typeof path !== 'string') throw new TypeError(INVALID_PATH(String(path)));
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  if (!/^[A-Za-z0-9_\-/.]*$/.test(trimmed)) throw new Error(INVALID_PATH(path));
  return trimmed;
}

function isStore(store: unknown): store is LiveSessionStore {
  const s = store as LiveSessionStore | null;
  return typeof s === 'object' && s !== null && typeof s.get === 'function' && typeof s.set === 'function' && typeof s.delete === 'function';
}

function shutdownRetry(option: DatastarModuleOptions['shutdownRetry']): DatastarSettings['writer']['shutdownRetry'] {
  if (option === false) return false;
  const min = nonNegative('shutdownRetry.min', option?.min ?? DEFAULT_SHUTDOWN_RETRY.min);
  const max = nonNegative('shutdownRetry.max', option?.max ?? Math.max(min, DEFAULT_SHUTDOWN_RETRY.max));
  if (!Number.isInteger(min) || !Number.isInteger(max) || max < min) {
    throw new TypeError(INVALID_OPTION('shutdownRetry', option, 'whole milliseconds with min <= max, e.g. { min: 500, max: 3000 }'));
  }
  return Object.freeze({ min, max });
}

function backlog(option: NonNullable<DatastarModuleOptions['pubsub']>['backlog']): DatastarSettings['backlog'] {
  if (option === false) return false;
  return Object.freeze({
    maxEvents: positive('pubsub.backlog.maxEvents', option?.maxEvents ?? DEFAULT_BACKLOG.maxEvents),
    maxBytes: positive('pubsub.backlog.maxBytes', option?.maxBytes ?? DEFAULT_BACKLOG.maxBytes),
    maxTopics: positive('pubsub.backlog.maxTopics', option?.maxTopics ?? DEFAULT_BACKLOG.maxTopics),
    maxAgeMs: positive('pubsub.backlog.maxAgeMs', option?.maxAgeMs ?? DEFAULT_BACKLOG.maxAgeMs),
  });
}

function folder(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(INVALID_OPTION(name, value, 'a folder path'));
  return value;
}

function positive(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) throw new TypeError(INVALID_OPTION(name, value, 'a positive number'));
  return value;
}

function count(name: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 1) throw new TypeError(INVALID_OPTION(name, value, 'a whole number, 1 or more (e.g. 10000)'));
  return value as number;
}

function nonNegative(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) throw new TypeError(INVALID_OPTION(name, value, 'a number, 0 or more'));
  return value;
}

function allowedSites(allow: unknown): true | readonly string[] {
  if (allow === true) return true;
  if (allow === false) return Object.freeze([]);
  if (!Array.isArray(allow)) throw new Error(INVALID_ALLOW_CROSS_SITE(allow));
  return Object.freeze(allow.map((entry) => {
    let url: URL | undefined;
    try {
      url = typeof entry === 'string' ? new URL(entry) : undefined;
    } catch {
      url = undefined;
    }
    // An origin is scheme, host and port: a path or a query would silently match nothing.
    if (!url || url.origin === 'null' || url.pathname !== '/' || url.search || url.hash || url.username) {
      throw new Error(INVALID_ALLOW_CROSS_SITE(entry));
    }
    return url.origin;
  }));
}
