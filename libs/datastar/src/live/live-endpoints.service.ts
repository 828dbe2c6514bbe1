/** The HTTP side of live views: the page GET, events, the session stream and soft navigation. */
import {
  BadRequestException, ConflictException, HttpException, HttpStatus, Inject, Injectable,
  NotFoundException, PayloadTooLargeException, UnauthorizedException,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { DatastarRequestPolicy } from '../core/datastar-request.policy';
import { DATASTAR_SETTINGS, type DatastarSettings } from '../core/datastar-settings';
import { readRequestSignals } from '../core/request-signals';
import type { DatastarEvent, Signals, SseWriter } from '../protocol';
import { openSseWriter } from '../streams/open-writer';
import { StreamRegistryService } from '../streams/stream-registry.service';
import { logFailure } from '../datastar.errors';
import { LIVE_STREAM_SCOPE, LIVE_TOKEN_HEADER } from './live.constants';
import {
  CALLBACK_FAILED, INVALID_LIVE_EVENT, LIVE_SESSION_BUSY, LIVE_SIGNALS_TOO_LARGE, LIVE_STALE_TOKEN, LIVE_TOKEN_REFUSED,
  LIVE_TOO_MANY_PENDING, NAV_TARGET_REFUSED, UNKNOWN_LIVE_EVENT,
} from './live.messages';
import { requestPath, requestQuery, safeLocalPath } from './live-path';
import { LivePageRenderer } from './live-page.renderer';
import { LivePending } from './live-pending';
import { LiveRuntime, mountSession } from './live-runtime.service';
import { LiveSession } from './live-session';
import { SessionBusyError, SessionEndedError, SignalsTooLargeError } from './live-session.errors';
import { fullLoad } from './live-session.navigation';
import { LiveSessionsService } from './live-sessions.service';
import type { LiveViewDefinition } from './live-view.registry';

const EVENT_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

/**
 * Answers the four live requests. Every one is authorised by a signed token before anything is
 * read or written, so refusals are plain HTTP errors; an answer with events is a short SSE
 * response, one without is 204 (its events went down the session stream).
 */
@Injectable()
export class LiveEndpoints {
  private readonly pending: LivePending;
  /** Sessions being taken back from the store: requests that race for one share it. */
  private readonly resuming = new Map<string, Promise<LiveSession | undefined>>();

  constructor(
    private readonly runtime: LiveRuntime,
    private readonly renderer: LivePageRenderer,
    private readonly sessions: LiveSessionsService,
    private readonly streams: StreamRegistryService,
    private readonly adapterHost: HttpAdapterHost,
    /** Live events are Datastar endpoints too: the same policy as the adapter routes (403). */
    private readonly requestPolicy: DatastarRequestPolicy,
    @Inject(DATASTAR_SETTINGS) private readonly settings: DatastarSettings,
  ) {
    this.pending = new LivePending(settings.live.maxPendingSessions, settings.live.maxPendingPerClient);
  }

  /** `GET <route>`: mount, render, and the page shell with the token and the stream. */
  async page(view: LiveViewDefinition, req: any, res: any): Promise<void> {
    const adapter = this.adapterHost.httpAdapter;
    const path = requestPath(req);
    const search = new URL(req.originalUrl ?? req.raw?.url ?? req.url ?? '/', 'http://x').search;
    const params = { ...requestQuery(req), ...(this.runtime.paramsOf(view, path) ?? req.params) };
    // A session waits for its stream from here on: take a slot first, so a flood costs no mount.
    const release = view.stateless ? undefined : this.admit(req, res);
    let html: string;
    let registered = false;
    try {
      const session = new LiveSession(this.runtime, view.stateless);
      const mounted = await session.mountView(view, path, params, mountSession(session.id, req));
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
        html = this.renderer.render(view, session, mounted.html, mounted.ctx.takeFlashHtml());
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
        await session.persist(); // a restart before its stream opens must not lose it
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
    const check = this.runtime.tokens.verify(tokenOf(req), { path });
    if (!check.ok) throw new UnauthorizedException(LIVE_TOKEN_REFUSED(check.reason));
    if (!view.instance.handleEvent) throw new NotFoundException(UNKNOWN_LIVE_EVENT(view.route.pattern));

    if (view.stateless) {
      const signals = await this.readSignals(req);
      const session = new LiveSession(this.runtime, true, check.payload.sid);
      const params = { ...requestQuery(req), ...(this.runtime.paramsOf(view, path) ?? {}) };
      const mounted = await session.mountView(view, path, params, mountSession(session.id, req));
      return this.answer(res, await session.statelessEvent(mounted, view, path, name, signals));
    }

    const session = await this.sessionOf(check.payload.sid, req);
    if (!session) throw new UnauthorizedException(LIVE_TOKEN_REFUSED('session'));
    // The session has moved on to another view: a late click on the old one is dropped, not reloaded.
    if (session.view !== view || session.path !== path) throw new ConflictException(LIVE_STALE_TOKEN);
    const signals = await this.readSignals(req);
    let events: DatastarEvent[];
    try {
      events = await session.event(name, signals, { req, res });
    } catch (error) {
      throw sessionError(error);
    }
    return this.answer(res, events);
  }

  /** `GET /<path>/_stream`: the session's stream; a newer one replaces it. */
  async stream(req: any, res: any): Promise<void> {
    const check = this.runtime.tokens.verify(tokenOf(req));
    if (!check.ok) throw new UnauthorizedException(LIVE_TOKEN_REFUSED(check.reason));
    const session = await this.sessionOf(check.payload.sid, req);
    if (!session) throw new UnauthorizedException(LIVE_TOKEN_REFUSED('session'));
    // The token may predate soft navigation (the client retries with the page's first token): any view of the group will do.
    const tokenView = this.runtime.matchView(check.payload.path)?.view;
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
    const check = this.runtime.tokens.verify(tokenOf(req));
    const session = check.ok ? await this.sessionOf(check.payload.sid, req) : undefined;
    const resolved = session && this.runtime.resolveNavigation(session, target);
    if (!session || !resolved) return this.answer(res, [fullLoad(target)]);
    if (resolved.view === session.view && resolved.path === session.path && resolved.search === session.search) {
      return this.answer(res, []); // already there (a hash change, a click on the current page)
    }
    const mount = await this.runtime.authorizeNavigation(session, resolved, { req, res });
    // Refused: the page load answers as the guard decides.
    if (!mount) return this.answer(res, [fullLoad(target)]);
    let events: DatastarEvent[];
    try {
      events = await session.navigate(resolved, { replace: body.replace === true, pop: body.pop === true }, mount, { req, res });
    } catch (error) {
      if (error instanceof SessionEndedError) return this.answer(res, [fullLoad(target)]);
      throw sessionError(error);
    }
    return this.answer(res, events);
  }

  /**
   * The live session `sid` (from a verified token): in this process, else taken back from the
   * store, where it was kept across a restart, a crash or a drop longer than graceMs.
   */
  private sessionOf(sid: string, req: any): Promise<LiveSession | undefined> | LiveSession {
    const session = this.sessions.find(sid);
    if (session) return session;
    let resuming = this.resuming.get(sid);
    if (!resuming) {
      resuming = this.resume(sid, req).finally(() => this.resuming.delete(sid));
      this.resuming.set(sid, resuming);
    }
    return resuming;
  }

  private async resume(sid: string, req: any): Promise<LiveSession | undefined> {
    const record = await this.runtime.storage.load(sid);
    const view = record && this.runtime.viewOf(record.route);
    if (!record || !view || view.stateless) return undefined;
    const session = new LiveSession(this.runtime, false, sid);
    try {
      await session.restore(view, record, mountSession(sid, req));
    } catch (error) {
      logFailure(this.runtime.logger, error, (message) => CALLBACK_FAILED(view.route.pattern, 'resume', message));
      return undefined;
    }
    this.sessions.add(session);
    session.start();
    return session;
  }

  /** A slot for a session waiting for its stream, or 429 with `Retry-After`. */
  private admit(req: any, res: any): () => void {
    const slot = this.pending.take(String(this.settings.live.clientKey(req) ?? ''));
    if (typeof slot === 'function') return slot;
    // Waiting sessions are gone within idleTimeoutMs: by then a slot is free.
    const seconds = Math.ceil(this.settings.live.idleTimeoutMs / 1000);
    this.adapterHost.httpAdapter.setHeader(res, 'Retry-After', String(seconds));
    throw new HttpException(LIVE_TOO_MANY_PENDING(slot, seconds), HttpStatus.TOO_MANY_REQUESTS);
  }

  private readSignals(req: any): Promise<Signals> {
    return readRequestSignals(req, this.settings.readSignals);
  }

  private open(res: any): SseWriter {
    return openSseWriter(res, this.settings.writer);
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
}

/** The token from its header: never from the URL, which access logs and proxies keep. */
function tokenOf(req: any): string | undefined {
  const header = (req.headers ?? req.raw?.headers)?.[LIVE_TOKEN_HEADER];
  return typeof header === 'string' && header !== '' ? header : undefined;
}

/** A session's refusal as its HTTP error. */
function sessionError(error: unknown): unknown {
  if (error instanceof SessionEndedError) return new UnauthorizedException(LIVE_TOKEN_REFUSED('session'));
  if (error instanceof SessionBusyError) return new HttpException(LIVE_SESSION_BUSY, HttpStatus.TOO_MANY_REQUESTS);
  if (error instanceof SignalsTooLargeError) return new PayloadTooLargeException(LIVE_SIGNALS_TOO_LARGE(error.bytes, error.limit));
  return error;
}
