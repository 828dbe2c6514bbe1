import {
  BadRequestException, ConflictException, HttpException, HttpStatus, Inject, Injectable, Logger,
  NotFoundException, PayloadTooLargeException, UnauthorizedException,
} from '@nestjs/common';
import { ExternalContextCreator, HttpAdapterHost } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import type { Observable } from 'rxjs';
import { DATASTAR_LOCALS } from '../datastar.constants';
import { DatastarPaths } from '../core/datastar-paths';
import { DATASTAR_SETTINGS, type DatastarSettings } from '../core/datastar-settings';
import {
  escapeAttribute, executeScript, expressionLiteral, type SseWriter,
  type DatastarEvent, type MessageEventLike, type Signals,
} from '../protocol';
import { DatastarRequestPolicy } from '../core/datastar-request.policy';
import { readRequestSignals } from '../core/request-signals';
import { DatastarPubSub } from '../pubsub/datastar-pubsub';
import { openSseWriter } from '../streams/open-writer';
import { StreamRegistryService } from '../streams/stream-registry.service';
import { DatastarTemplates } from '../templates/datastar-templates.service';
import type { TemplateSource } from '../interfaces/template-source.interface';
import {
  LIVE_FLASH_ID, LIVE_ROOT_ID, LIVE_STREAM_SCOPE, LIVE_TOKEN_HEADER, LIVE_WRAPPER_ID,
} from './live.constants';
import {
  INVALID_LIVE_EVENT, LIVE_SECRET_GENERATED, LIVE_SECRET_REQUIRED,
  LIVE_SESSION_BUSY, LIVE_SIGNALS_TOO_LARGE, LIVE_STALE_TOKEN, LIVE_TOKEN_REFUSED, LIVE_TOO_MANY_PENDING,
  NAV_TARGET_REFUSED, UNKNOWN_LIVE_EVENT,
} from './live.messages';
import { registerLiveHelpers } from './live.helpers';
import { fullLoadScript, liveUrl, popstateExpression, reloadOn401Expression, streamAction } from './live-actions';
import type { LiveContext } from './live-context';
import { matchRoute, requestPath, requestQuery, safeLocalPath, splitTarget } from './live-path';
import { LiveGuards, targetRequest, type LiveRequest } from './live-guards';
import { LivePending } from './live-pending';
import {
  LiveSession, SessionBusyError, SessionEndedError, SignalsTooLargeError,
  type LiveEngine, type LiveNavigationTarget, type LiveSettings,
} from './live-session';
import { LiveSessionsService } from './live-sessions.service';
import { LiveTokens } from './live-token';
import type { LiveViewDefinition } from './live-view.registry';
import { LiveViewRegistry } from './live-view.registry';
import type { LiveMountSession } from './live-view.interface';

const EVENT_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

/**
 * Runs live views over HTTP: the page GET (mount + render in the page shell), events, the session
 * stream and soft navigation. Every request is authorised by a signed token before anything is
 * read or written, so refusals are plain HTTP errors.
 */
@Injectable()
export class LiveRuntime implements LiveEngine {
  readonly logger = new Logger('DatastarLive');
  readonly settings: LiveSettings;
  readonly tokens: LiveTokens;
  private readonly secretGenerated: boolean;
  private readonly guards: LiveGuards;
  private readonly pending: LivePending;
  private readonly clientKey: (req: any) => string | undefined;

  constructor(
    private readonly templates: DatastarTemplates,
    private readonly pubsub: DatastarPubSub,
    private readonly streams: StreamRegistryService,
    private readonly sessions: LiveSessionsService,
    private readonly views: LiveViewRegistry,
    contextCreator: ExternalContextCreator,
    private readonly adapterHost: HttpAdapterHost,
    private readonly paths: DatastarPaths,
    /** Live events are Datastar endpoints too: the same policy as the adapter routes (403). */
    private readonly requestPolicy: DatastarRequestPolicy,
    @Inject(DATASTAR_SETTINGS) private readonly datastar: DatastarSettings,
  ) {
    const live = datastar.live;
    this.settings = { ...live, exposeErrors: datastar.exposeErrors };
    this.pending = new LivePending(live.maxPendingSessions, live.maxPendingPerClient);
    this.clientKey = live.clientKey;
    this.guards = new LiveGuards(contextCreator);
    this.secretGenerated = live.secret === undefined;
    this.tokens = new LiveTokens(live.secret ?? randomBytes(32), live.tokenTtlMs);
    registerLiveHelpers(templates.handlebars, datastar, () => paths.dispatch);
  }

  /** @internal At boot, once views were found: a production app must have its own secret. */
  checkSecret(): void {
    if (!this.secretGenerated) return;
    if (process.env.NODE_ENV === 'production') throw new Error(LIVE_SECRET_REQUIRED);
    this.logger.warn(LIVE_SECRET_GENERATED);
  }

  // ---- routes ---------------------------------------------------------------------------------

  /** `GET <route>`: mount, render, and the page shell with the token and the stream. */
  async page(view: LiveViewDefinition, req: any, res: any): Promise<void> {
    const adapter = this.adapterHost.httpAdapter;
    const path = requestPath(req);
    const search = new URL(req.originalUrl ?? req.raw?.url ?? req.url ?? '/', 'http://x').search;
    const params = { ...requestQuery(req), ...(this.paramsOf(view, path) ?? req.params) };
    // A session waits for its stream from here on: take a slot first, so a flood costs no mount.
    const release = view.stateless ? undefined : this.admit(req, res);
    let html: string;
    let registered = false;
    try {
      const session = new LiveSession(this, view.stateless);
      const mounted = await session.mountView(view, path, params, this.mountSession(session.id, req));
      const navigation = mounted.ctx.takeNavigation();
      if (navigation) {
        // A page GET is a plain browser navigation: an HTTP redirect is right here.
        mounted.ctx.dispose();
        adapter.setHeader(res, 'Cache-Control', 'no-store');
        adapter.redirect(res, HttpStatus.FOUND, navigation.to);
        return;
      }
      session.install(view, mounted, path, search);
      try {
        html = this.renderPage(view, session, mounted.html, mounted.ctx.takeFlashHtml());
      } catch (error) {
        mounted.ctx.dispose(); // no page, no session: its timers and subscriptions go too
        throw error;
      }
      if (view.stateless) {
        mounted.ctx.dispose();
      } else {
        session.holdPending(release!);
        this.sessions.add(session);
        session.start();
        registered = true;
      }
    } finally {
      if (!registered) release?.();
    }
    adapter.setHeader(res, 'Content-Type', 'text/html; charset=utf-8');
    // Each load is a new session: never from a cache (a restored page would hold a dead token).
    adapter.setHeader(res, 'Cache-Control', 'no-store');
    adapter.reply(res, html, HttpStatus.OK);
  }

  /** `POST <route>/_event/:event`: the token must be for this view's path and a live session. */
  async event(view: LiveViewDefinition, req: any, res: any): Promise<void> {
    this.requestPolicy.check(req);
    const name = String(req.params?.event ?? '');
    if (!EVENT_NAME.test(name)) throw new BadRequestException(INVALID_LIVE_EVENT);
    const full = requestPath(req);
    const cut = full.lastIndexOf('/_event/');
    const path = cut <= 0 ? '/' : full.slice(0, cut);
    const check = this.tokens.verify(tokenOf(req), { path });
    if (!check.ok) throw new UnauthorizedException(LIVE_TOKEN_REFUSED(check.reason));
    if (!view.instance.handleEvent) throw new NotFoundException(UNKNOWN_LIVE_EVENT(view.route.pattern));

    if (view.stateless) {
      const signals = await this.readSignals(req);
      const session = new LiveSession(this, true, check.payload.sid);
      const params = { ...requestQuery(req), ...(this.paramsOf(view, path) ?? {}) };
      const mounted = await session.mountView(view, path, params, this.mountSession(session.id, req));
      return this.answer(res, await session.statelessEvent(mounted, view, path, name, signals));
    }

    const session = this.sessions.find(check.payload.sid);
    if (!session) throw new UnauthorizedException(LIVE_TOKEN_REFUSED('session'));
    // The session has moved on to another view: a late click on the old one is dropped, not reloaded.
    if (session.view !== view || session.path !== path) throw new ConflictException(LIVE_STALE_TOKEN);
    const signals = await this.readSignals(req);
    let events: DatastarEvent[];
    try {
      events = await session.event(name, signals, { req, res });
    } catch (error) {
      throw this.sessionError(error);
    }
    return this.answer(res, events);
  }

  /** `GET /<path>/_stream`: the session's stream; a newer one replaces it. */
  async stream(req: any, res: any): Promise<void> {
    const check = this.tokens.verify(tokenOf(req));
    if (!check.ok) throw new UnauthorizedException(LIVE_TOKEN_REFUSED(check.reason));
    const session = this.sessions.find(check.payload.sid);
    if (!session) throw new UnauthorizedException(LIVE_TOKEN_REFUSED('session'));
    // The token may predate soft navigation (the client retries with the page's first token): any view of the group will do.
    const tokenView = this.matchView(check.payload.path)?.view;
    if (!tokenView || tokenView.group !== session.view.group) throw new UnauthorizedException(LIVE_TOKEN_REFUSED('path'));
    const writer = this.open(res);
    this.streams.track(writer, LIVE_STREAM_SCOPE);
    if (!session.attach(writer)) writer.close();
  }

  /**
   * `POST /<path>/_nav` with `{ to, replace?, pop? }`: a live view of the session's group is
   * mounted in the session (after its guards passed); any other same-origin path, or a request
   * without a usable session, gets a full page load; a hostile target gets 400.
   */
  async navigate(req: any, res: any): Promise<void> {
    const body = await this.readSignals(req);
    const target = safeLocalPath(body.to);
    if (target === undefined) throw new BadRequestException(NAV_TARGET_REFUSED);
    const check = this.tokens.verify(tokenOf(req));
    const session = check.ok ? this.sessions.find(check.payload.sid) : undefined;
    const resolved = session && this.resolveNavigation(session, target);
    if (!session || !resolved) return this.answer(res, [fullLoad(target)]);
    if (resolved.view === session.view && resolved.path === session.path && resolved.search === session.search) {
      return this.answer(res, []); // already there (a hash change, a click on the current page)
    }
    const mount = await this.authorizeNavigation(session, resolved, { req, res });
    // Refused: the page load answers as the guard decides.
    if (!mount) return this.answer(res, [fullLoad(target)]);
    let events: DatastarEvent[];
    try {
      events = await session.navigate(resolved, { replace: body.replace === true, pop: body.pop === true }, mount, { req, res });
    } catch (error) {
      if (error instanceof SessionEndedError) return this.answer(res, [fullLoad(target)]);
      throw this.sessionError(error);
    }
    return this.answer(res, events);
  }

  // ---- LiveEngine ---------------------------------------------------------------------------

  renderView(view: LiveViewDefinition, ctx: LiveContext): string {
    const locals = { ...ctx.locals(), [DATASTAR_LOCALS]: { signals: ctx.signals } };
    const source = view.options.template ?? view.instance.render!(locals as never);
    return this.templates.renderSource(source, locals);
  }

  renderFragment(source: TemplateSource, locals: Record<string, unknown>): string {
    return this.templates.renderSource(source, locals);
  }

  subscribe(topic: string): Observable<MessageEventLike> {
    return this.pubsub.subscribe(topic);
  }

  resolveNavigation(session: LiveSession, to: string): LiveNavigationTarget | undefined {
    const { path, search } = splitTarget(to);
    const match = this.matchView(path);
    if (!match || match.view.stateless || match.view.group !== session.view.group) return undefined;
    const query = Object.fromEntries(new URLSearchParams(search));
    return { view: match.view, path, search, params: { ...query, ...match.params } };
  }

  /**
   * The target view's effective guards (global, class, method), run as for its page GET: with
   * the navigation's request pointed at the target. Resolves with what its mount() gets, or
   * undefined (a full page load, where the guards answer as usual). Without a request (a
   * navigation from handleInfo) a guarded target is always loaded in full.
   */
  async authorizeNavigation(session: LiveSession, target: LiveNavigationTarget, request?: LiveRequest): Promise<LiveMountSession | undefined> {
    if (!request) return this.guards.has(target.view) ? undefined : this.mountSession(session.id, undefined);
    const route = `${this.paths.globalPrefix ? `/${this.paths.globalPrefix}` : ''}${target.view.route.pattern}`;
    const req = targetRequest(request.req, { ...target, params: this.paramsOf(target.view, target.path) ?? {}, route });
    if (!(await this.guards.allow(target.view, req, request.res))) return undefined;
    return this.mountSession(session.id, req);
  }

  ended(session: LiveSession): void {
    this.sessions.remove(session);
  }

  private matchView(path: string) {
    const routePath = this.routePath(path);
    return routePath === undefined ? undefined : this.views.match(routePath);
  }

  private paramsOf(view: LiveViewDefinition, path: string): Record<string, string> | undefined {
    const routePath = this.routePath(path);
    return routePath === undefined ? undefined : matchRoute(view.route, routePath);
  }

  /** A browser path as the view routes see it: without the app's global prefix (undefined outside it). */
  private routePath(path: string): string | undefined {
    const prefix = this.paths.globalPrefix ? `/${this.paths.globalPrefix}` : '';
    if (!prefix) return path;
    if (path === prefix) return '/';
    return path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : undefined;
  }

  // ---- helpers ------------------------------------------------------------------------------

  /** The page shell: `live.attributes` (wrapper) and `live.content` (root + flash region) in the mount template. */
  private renderPage(view: LiveViewDefinition, session: LiveSession, html: string, flash: string): string {
    const hbs = this.templates.handlebars;
    const signals = session.pageSignals();
    const attributes = [`id="${LIVE_WRAPPER_ID}"`, `data-signals="${escapeAttribute(expressionLiteral(signals))}"`];
    if (!view.stateless) {
      const base = this.paths.dispatch;
      attributes.push(`data-init="${escapeAttribute(streamAction(liveUrl(base, '_stream'), session.token))}"`);
      attributes.push(`data-on:popstate__window="${escapeAttribute(popstateExpression(liveUrl(base, '_nav')))}"`);
    }
    attributes.push(`data-on:datastar-fetch="${escapeAttribute(reloadOn401Expression())}"`);
    const content = `<div id="${LIVE_ROOT_ID}">${html}</div><div id="${LIVE_FLASH_ID}" aria-live="polite">${flash}</div>`;
    const assigns = session.ctx.assigns as Record<string, unknown>;
    const locals = {
      ...assigns,
      title: assigns.title ?? view.options.title ?? 'Live',
      live: {
        attributes: new hbs.SafeString(attributes.join(' ')),
        content: new hbs.SafeString(content),
        sessionId: view.stateless ? undefined : session.id,
        path: session.path,
      },
      [DATASTAR_LOCALS]: { signals },
    };
    const source = view.options.mountTemplate ?? this.datastar.live.mountTemplate ?? this.defaultMountTemplate;
    return this.templates.renderSource(source, locals);
  }

  private readonly defaultMountTemplate = (locals: Record<string, any>): string => {
    const script = String(this.templates.handlebars.helpers['ds-script']());
    return '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
      '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
      `<title>${escapeAttribute(String(locals.title))}</title>\n${script}\n</head>\n<body>\n` +
      `<main ${locals.live.attributes}>${locals.live.content}</main>\n</body>\n</html>\n`;
  };

  /** A slot for a session waiting for its stream, or 429 with `Retry-After`. */
  private admit(req: any, res: any): () => void {
    const slot = this.pending.take(String(this.clientKey(req) ?? ''));
    if (typeof slot === 'function') return slot;
    // Waiting sessions are gone within idleTimeoutMs: by then a slot is free.
    const seconds = Math.ceil(this.settings.idleTimeoutMs / 1000);
    this.adapterHost.httpAdapter.setHeader(res, 'Retry-After', String(seconds));
    throw new HttpException(LIVE_TOO_MANY_PENDING(slot, seconds), HttpStatus.TOO_MANY_REQUESTS);
  }

  private mountSession(id: string, req: any): LiveMountSession {
    return { id, request: req, user: req?.user ?? req?.raw?.user, data: req?.session ?? req?.raw?.session ?? {} };
  }

  private readSignals(req: any): Promise<Signals> {
    return readRequestSignals(req, this.datastar.readSignals);
  }

  private open(res: any): SseWriter {
    return openSseWriter(res, this.datastar.writer);
  }

  /** Events as a finished SSE answer, or 204 when they all went down the stream. */
  private answer(res: any, events: DatastarEvent[]): void {
    if (events.length > 0) {
      const writer = this.open(res);
      writer.send(events);
      writer.close();
      return;
    }
    if (typeof res.hijack === 'function') res.hijack();
    const raw = res.raw ?? res;
    raw.statusCode = HttpStatus.NO_CONTENT;
    raw.end();
  }

  private sessionError(error: unknown): unknown {
    if (error instanceof SessionEndedError) return new UnauthorizedException(LIVE_TOKEN_REFUSED('session'));
    if (error instanceof SessionBusyError) return new HttpException(LIVE_SESSION_BUSY, HttpStatus.TOO_MANY_REQUESTS);
    if (error instanceof SignalsTooLargeError) return new PayloadTooLargeException(LIVE_SIGNALS_TOO_LARGE(error.bytes, error.limit));
    return error;
  }
}

/** The token from its header: never from the URL, which access logs and proxies keep. */
function tokenOf(req: any): string | undefined {
  const header = (req.headers ?? req.raw?.headers)?.[LIVE_TOKEN_HEADER];
  return typeof header === 'string' && header !== '' ? header : undefined;
}

function fullLoad(target: string): DatastarEvent {
  return executeScript(fullLoadScript(target));
}

