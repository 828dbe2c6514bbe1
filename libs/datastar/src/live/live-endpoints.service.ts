/** The HTTP side of live views: the page GET, events, the session stream and soft navigation. */
import {
  BadRequestException, ConflictException, HttpException, HttpStatus, Inject, Injectable,
  NotFoundException, PayloadTooLargeException, UnauthorizedException, type BeforeApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { DatastarRequestPolicy } from '../core/datastar-request.policy';
import { DATASTAR_SETTINGS, type DatastarSettings } from '../core/datastar-settings';
import { readRequestSignals } from '../core/request-signals';
import type { DatastarEvent, Signals, SseWriter } from '../protocol';
import { openSseWriter } from '../streams/open-writer';
import { StreamRegistryService } from '../streams/stream-registry.service';
import { logFailure } from '../datastar.errors';
import { LIVE_STREAM_SCOPE, LIVE_TOKEN_HEADER, MAX_FORWARD_HOPS } from './live.constants';
import {
  CALLBACK_FAILED, INVALID_LIVE_EVENT, LIVE_SESSION_BUSY, LIVE_SESSION_UNREACHABLE, LIVE_SIGNALS_TOO_LARGE, LIVE_STALE_TOKEN,
  LIVE_TOKEN_REFUSED, LIVE_TOO_MANY_PENDING, NAV_TARGET_REFUSED, UNKNOWN_LIVE_EVENT,
} from './live.messages';
import { LiveCluster, type LiveForwarded, type LiveForwardedReply } from './live-cluster';
import type { LiveNavigationTarget } from './live-engine.interface';
import type { LiveRequest } from './live-guards';
import { requestPath, requestQuery, safeLocalPath } from './live-path';
import { LivePageRenderer } from './live-page.renderer';
import { LivePending } from './live-pending';
import { LiveRuntime, mountSession } from './live-runtime.service';
import { LiveSession } from './live-session';
import { SessionBusyError, SessionEndedError, SessionMovedError, SignalsTooLargeError } from './live-session.errors';
import { fullLoad } from './live-session.navigation';
import { LiveSessionsService } from './live-sessions.service';
import type { LiveViewDefinition } from './live-view.registry';
import type { LiveMountSession } from './live-view.interface';

const EVENT_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;
/** A 503's `Retry-After`: the session's owner is slow, or is being replaced. */
const UNREACHABLE_RETRY_S = 1;

/** Where a session is: here, in process `owner` (Redis only), or nowhere (unknown, expired, ended). */
type Located = LiveSession | { owner: string } | undefined;
type NavOptions = { replace: boolean; pop: boolean };

/**
 * Answers the four live requests. Every one is authorised by a signed token before anything is
 * read or written, so refusals are plain HTTP errors; an answer with events is a short SSE
 * response, one without is 204 (its events went down the session stream).
 *
 * With Redis (`LiveCluster`) a session lives in one process, its owner: an event or a navigation
 * that lands elsewhere is forwarded to it and answered with what it sent back; a stream that opens
 * elsewhere takes the session there (the owner saves it and hands its lease over).
 */
@Injectable()
export class LiveEndpoints implements BeforeApplicationShutdown {
  private readonly pending: LivePending;
  /** Sessions being found (their lease claimed, taken back from the store): requests that race for one share it. */
  private readonly locating = new Map<string, Promise<Located>>();

  constructor(
    private readonly runtime: LiveRuntime,
    private readonly renderer: LivePageRenderer,
    private readonly sessions: LiveSessionsService,
    private readonly streams: StreamRegistryService,
    private readonly adapterHost: HttpAdapterHost,
    /** Live events are Datastar endpoints too: the same policy as the adapter routes (403). */
    private readonly requestPolicy: DatastarRequestPolicy,
    private readonly cluster: LiveCluster,
    @Inject(DATASTAR_SETTINGS) private readonly settings: DatastarSettings,
  ) {
    this.pending = new LivePending(settings.live.maxPendingSessions, settings.live.maxPendingPerClient);
    cluster.handle((request) => this.serve(request), (sid) => void this.sessions.find(sid)?.terminate('moved'));
  }

  /** Before the sessions end: other processes stop sending requests here. */
  beforeApplicationShutdown(): void {
    this.cluster.stop();
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
        // A restart before its stream opens must not lose it; other processes send its requests here.
        await Promise.all([session.persist(), this.cluster.enabled && this.cluster.claim(session.id)]);
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

    const sid = check.payload.sid;
    const located = await this.locate(sid, req);
    if (located instanceof LiveSession) staleCheck(located, view, path);
    const signals = located && (await this.readSignals(req));
    const events = await this.perform(sid, req, res, located, {
      local: (session, rid) => this.eventIn(session, view, path, name, signals!, { req, res }, rid),
      remote: async (rid) => ({ op: 'event', sid, rid, route: view.route.pattern, path, name, signals: signals! }),
    });
    if (!events) throw new UnauthorizedException(LIVE_TOKEN_REFUSED('session'));
    return this.answer(res, events);
  }

  /** `GET /<path>/_stream`: the session's stream; a newer one replaces it. */
  async stream(req: any, res: any): Promise<void> {
    const check = this.runtime.tokens.verify(tokenOf(req));
    if (!check.ok) throw new UnauthorizedException(LIVE_TOKEN_REFUSED(check.reason));
    const session = await this.take(check.payload.sid, req, res);
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
    if (!check.ok) return this.answer(res, [fullLoad(target)]);
    const sid = check.payload.sid;
    const options = { replace: body.replace === true, pop: body.pop === true };
    const request = { req, res };
    const events = await this.perform(sid, req, res, await this.locate(sid, req), {
      local: async (session, rid) => {
        const resolved = this.runtime.resolveNavigation(session.view.group, target);
        if (!resolved) return [fullLoad(target)];
        if (arrived(session, resolved)) return [];
        // Refused: the page load answers as the guard decides.
        const mount = await this.runtime.authorizeNavigation(sid, resolved, request);
        return mount ? this.navigateIn(session, resolved, target, options, mount, request, rid) : [fullLoad(target)];
      },
      // The guards run here, with the request; the owner mounts with what they let through.
      remote: async (rid) => {
        // The token's view may be an earlier one of the session (the page's first token): its group is the session's.
        const group = this.runtime.matchView(check.payload.path)?.view.group;
        const resolved = group === undefined ? undefined : this.runtime.resolveNavigation(group, target);
        const mount = resolved && (await this.runtime.authorizeNavigation(sid, resolved, request));
        if (!mount) return [fullLoad(target)];
        return { op: 'nav', sid, rid, to: target, ...options, user: asJson(mount.user), data: asJson(mount.data) as Record<string, unknown> };
      },
    });
    return this.answer(res, events ?? [fullLoad(target)]);
  }

  /** handleEvent in the session's queue, against the view and path the token is for. */
  private async eventIn(
    session: LiveSession, view: LiveViewDefinition, path: string, name: string, signals: Signals, request?: LiveRequest, rid?: string,
  ): Promise<DatastarEvent[]> {
    staleCheck(session, view, path);
    try {
      return await session.event(name, signals, request, rid);
    } catch (error) {
      throw sessionError(error);
    }
  }

  /** Soft navigation in the session's queue; a session that ended meanwhile gets a full page load. */
  private async navigateIn(
    session: LiveSession, target: LiveNavigationTarget, to: string, options: NavOptions, mount: LiveMountSession,
    request?: LiveRequest, rid?: string,
  ): Promise<DatastarEvent[]> {
    try {
      return await session.navigate(target, options, mount, request, rid);
    } catch (error) {
      if (error instanceof SessionEndedError) return [fullLoad(to)];
      throw sessionError(error);
    }
  }

  /**
   * Runs a request where session `sid` is: `local` here, else `remote`'s request at its owner,
   * following the session as it moves (a dead owner's lease is taken, and the session resumed
   * here). Resolves undefined when there is no such session; 503 when its owner does not answer.
   */
  private async perform(
    sid: string, req: any, res: any, first: Located,
    run: {
      local: (session: LiveSession, rid?: string) => Promise<DatastarEvent[]>;
      remote: (rid: string) => Promise<LiveForwarded | DatastarEvent[]>;
    },
  ): Promise<DatastarEvent[] | undefined> {
    let located = first;
    let rid: string | undefined;
    let forwarded: LiveForwarded | undefined;
    for (let hop = 0; hop < MAX_FORWARD_HOPS; hop++) {
      if (hop > 0) located = await this.locate(sid, req);
      if (!located) return undefined;
      if (located instanceof LiveSession) {
        try {
          return await run.local(located, rid);
        } catch (error) {
          if (error instanceof SessionMovedError) continue; // after its hand-over: where it went
          throw error;
        }
      }
      rid ??= this.cluster.requestId();
      if (!forwarded) {
        const prepared = await run.remote(rid);
        if (Array.isArray(prepared)) return prepared;
        forwarded = prepared;
      }
      const outcome = await this.cluster.forward(located.owner, forwarded);
      if ('timeout' in outcome) break;
      if ('gone' in outcome) {
        await this.cluster.steal(sid, located.owner);
        continue;
      }
      const reply = outcome.reply;
      if ('events' in reply) return reply.events;
      if ('status' in reply) throw new HttpException(reply.body, reply.status);
    }
    throw this.unreachable(res);
  }

  /** For the session stream: session `sid`, moved to this process when another holds it. */
  private async take(sid: string, req: any, res: any): Promise<LiveSession | undefined> {
    for (let hop = 0; hop < MAX_FORWARD_HOPS; hop++) {
      const located = await this.locate(sid, req);
      if (!located || located instanceof LiveSession) return located;
      const outcome = await this.cluster.forward(located.owner, { op: 'handover', sid, to: this.cluster.id });
      if ('timeout' in outcome) break;
      if ('gone' in outcome) await this.cluster.steal(sid, located.owner);
    }
    throw this.unreachable(res);
  }

  /** What another process forwarded here: run as if it had landed here, without its HTTP request. */
  private async serve(request: LiveForwarded): Promise<LiveForwardedReply> {
    try {
      if (request.op === 'handover') return await this.handOver(request.sid, request.to);
      const located = await this.locate(request.sid, undefined);
      if (!located) return refusal(new UnauthorizedException(LIVE_TOKEN_REFUSED('session')));
      if (!(located instanceof LiveSession)) return { moved: true };
      if (request.op === 'event') {
        const view = this.runtime.viewOf(request.route);
        if (!view) return refusal(new ConflictException(LIVE_STALE_TOKEN));
        return { events: await this.eventIn(located, view, request.path, request.name, request.signals, undefined, request.rid) };
      }
      const resolved = this.runtime.resolveNavigation(located.view.group, request.to);
      if (!resolved) return { events: [fullLoad(request.to)] };
      if (arrived(located, resolved)) return { events: [] };
      const mount: LiveMountSession = { id: located.id, request: undefined, user: request.user, data: request.data ?? {} };
      return { events: await this.navigateIn(located, resolved, request.to, request, mount, undefined, request.rid) };
    } catch (error) {
      if (error instanceof SessionMovedError) return { moved: true };
      if (error instanceof HttpException) return refusal(error);
      throw error;
    }
  }

  /** The session's stream opened at process `to`: the session goes there, after what it is running. */
  private async handOver(sid: string, to: string): Promise<LiveForwardedReply> {
    const located = this.sessions.find(sid) ?? (await this.locating.get(sid));
    const moved = located instanceof LiveSession
      ? await located.handOver(() => this.cluster.transfer(sid, to))
      : await this.cluster.transfer(sid, to);
    return moved ? { ok: true } : { moved: true };
  }

  /**
   * The live session `sid` (from a verified token): in this process, else (with Redis) in the
   * process that holds its lease, else taken back from the store, where it was kept across a
   * restart, a crash or a drop longer than graceMs.
   */
  private locate(sid: string, req: any): Promise<Located> | Located {
    const session = this.sessions.find(sid);
    if (session) return session;
    let locating = this.locating.get(sid);
    if (!locating) {
      locating = this.acquire(sid, req).finally(() => this.locating.delete(sid));
      this.locating.set(sid, locating);
    }
    return locating;
  }

  private async acquire(sid: string, req: any): Promise<Located> {
    if (this.cluster.enabled) {
      const owner = await this.cluster.claim(sid);
      if (owner !== undefined && owner !== this.cluster.id) return { owner };
    }
    const session = await this.resume(sid, req);
    if (!session) this.cluster.release(sid);
    return session;
  }

  /** 503 with `Retry-After`: the session's owner did not answer (or Redis could not be reached). */
  private unreachable(res: any): HttpException {
    this.adapterHost.httpAdapter.setHeader(res, 'Retry-After', String(UNREACHABLE_RETRY_S));
    return new HttpException(LIVE_SESSION_UNREACHABLE(UNREACHABLE_RETRY_S), HttpStatus.SERVICE_UNAVAILABLE);
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

/** The session has moved on to another view: a late click on the old one is dropped (409), not reloaded. */
function staleCheck(session: LiveSession, view: LiveViewDefinition, path: string): void {
  if (session.view !== view || session.path !== path) throw new ConflictException(LIVE_STALE_TOKEN);
}

/** Already there: a hash change, a click on the current page. */
function arrived(session: LiveSession, target: LiveNavigationTarget): boolean {
  return target.view === session.view && target.path === session.path && target.search === session.search;
}

/** An HTTP refusal, as the owner sends it back to the process that took the request. */
function refusal(error: HttpException): LiveForwardedReply {
  return { status: error.getStatus(), body: error.getResponse() };
}

/** A value as JSON would carry it to another process (undefined when it cannot go). */
function asJson(value: unknown): unknown {
  try {
    return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
  } catch {
    return undefined;
  }
}

/** A session's refusal as its HTTP error. */
function sessionError(error: unknown): unknown {
  if (error instanceof SessionEndedError) return new UnauthorizedException(LIVE_TOKEN_REFUSED('session'));
  if (error instanceof SessionBusyError) return new HttpException(LIVE_SESSION_BUSY, HttpStatus.TOO_MANY_REQUESTS);
  if (error instanceof SignalsTooLargeError) return new PayloadTooLargeException(LIVE_SIGNALS_TOO_LARGE(error.bytes, error.limit));
  return error;
}
