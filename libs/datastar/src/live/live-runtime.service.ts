/** The live-view engine sessions run on: tokens, rendering, pub/sub, and where navigation may go. */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ExternalContextCreator } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import type { Observable } from 'rxjs';
import { DATASTAR_LOCALS } from '../datastar.constants';
import { DatastarPaths } from '../core/datastar-paths';
import { DATASTAR_SETTINGS, type DatastarSettings } from '../core/datastar-settings';
import type { MessageEventLike } from '../protocol';
import { DatastarPubSub } from '../pubsub/datastar-pubsub';
import { DatastarTemplates } from '../templates/datastar-templates.service';
import type { TemplateSource } from '../interfaces/template-source.interface';
import { LIVE_SECRET_GENERATED, LIVE_SECRET_KEPT, LIVE_SECRET_REQUIRED } from './live.messages';
import { registerLiveHelpers } from './live.helpers';
import type { LiveContext } from './live-context';
import type { LiveEngine, LiveNavigationTarget, LiveSettings } from './live-engine.interface';
import { matchRoute, splitTarget } from './live-path';
import { LiveGuards, targetRequest, type LiveRequest } from './live-guards';
import type { LiveSession } from './live-session';
import { LiveCluster } from './live-cluster';
import { keptSecret } from './live-secret';
import { LiveSessionsService } from './live-sessions.service';
import { LiveSessionStorage } from './live-store';
import { LiveTokens } from './live-token';
import { LiveViewRegistry, type LiveViewDefinition } from './live-view.registry';
import type { LiveMountSession } from './live-view.interface';

/**
 * What every live session runs on: the signed tokens, the view and fragment rendering, pub/sub,
 * and soft navigation's checks (is the target a view of the group, do its guards let it in).
 * The HTTP side is `LiveEndpoints`.
 */
@Injectable()
export class LiveRuntime implements LiveEngine {
  readonly logger = new Logger('DatastarLive');
  readonly settings: LiveSettings;
  /** Set at boot (`boot()`), once it is known whether the app has live views. */
  tokens!: LiveTokens;
  private readonly guards: LiveGuards;

  constructor(
    private readonly templates: DatastarTemplates,
    private readonly pubsub: DatastarPubSub,
    private readonly sessions: LiveSessionsService,
    private readonly views: LiveViewRegistry,
    contextCreator: ExternalContextCreator,
    private readonly paths: DatastarPaths,
    readonly storage: LiveSessionStorage,
    private readonly cluster: LiveCluster,
    @Inject(DATASTAR_SETTINGS) datastar: DatastarSettings,
  ) {
    this.settings = { ...datastar.live, exposeErrors: datastar.exposeErrors };
    this.guards = new LiveGuards(contextCreator);
    registerLiveHelpers(templates.handlebars, datastar, () => paths.dispatch);
  }

  /**
   * @internal At boot, once views were found. With views: the session store opens, and without
   * `live.secret` a production app refuses to start, others sign with a generated secret kept
   * next to the store (tokens survive restarts) or, when it cannot be written, a per-process one.
   */
  boot(withViews: boolean): void {
    const { secret, storeDir, tokenTtlMs } = this.settings;
    if (secret !== undefined || !withViews) {
      this.tokens = new LiveTokens(secret ?? randomBytes(32), tokenTtlMs);
      if (withViews) this.open();
      return;
    }
    if (process.env.NODE_ENV === 'production') throw new Error(LIVE_SECRET_REQUIRED);
    this.open();
    const kept = storeDir === undefined ? undefined : keptSecret(storeDir);
    this.logger.warn(kept ? LIVE_SECRET_KEPT(kept.file) : LIVE_SECRET_GENERATED);
    this.tokens = new LiveTokens(kept?.secret ?? randomBytes(32), tokenTtlMs);
  }

  /** With Redis, the cluster first: the session store shares its connections. */
  private open(): void {
    this.cluster.open();
    this.storage.open();
  }

  /** The view whose route pattern is `route` (a stored session's), if the app still has it. */
  viewOf(route: string): LiveViewDefinition | undefined {
    return this.views.byRoute(route);
  }

  renderView(view: LiveViewDefinition, ctx: LiveContext): string {
    const locals = ctx.locals(); // a fresh object: no copy of it
    locals[DATASTAR_LOCALS] = { signals: ctx.signals };
    const source = view.options.template ?? view.instance.render!(locals as never);
    return this.templates.renderSource(source, locals);
  }

  renderFragment(source: TemplateSource, locals: Record<string, unknown>): string {
    return this.templates.renderSource(source, locals);
  }

  subscribe(topic: string): Observable<MessageEventLike> {
    return this.pubsub.subscribe(topic);
  }

  resolveNavigation(group: string, to: string): LiveNavigationTarget | undefined {
    const { path, search } = splitTarget(to);
    const match = this.matchView(path);
    if (!match || match.view.stateless || match.view.group !== group) return undefined;
    const query = Object.fromEntries(new URLSearchParams(search));
    return { view: match.view, path, search, params: { ...query, ...match.params } };
  }

  /**
   * The target view's effective guards (global, class, method), run as for its page GET: with
   * the navigation's request pointed at the target. Resolves with what its mount() gets, or
   * undefined (a full page load, where the guards answer as usual). Without a request (a
   * navigation from handleInfo) a guarded target is always loaded in full.
   */
  async authorizeNavigation(sid: string, target: LiveNavigationTarget, request?: LiveRequest): Promise<LiveMountSession | undefined> {
    if (!request) return this.guards.has(target.view) ? undefined : mountSession(sid, undefined);
    const route = `${this.paths.globalPrefix ? `/${this.paths.globalPrefix}` : ''}${target.view.route.pattern}`;
    const req = targetRequest(request.req, { ...target, params: this.paramsOf(target.view, target.path) ?? {}, route });
    if (!(await this.guards.allow(target.view, req, request.res))) return undefined;
    return mountSession(sid, req);
  }

  ended(session: LiveSession): void {
    this.sessions.remove(session);
    this.cluster.release(session.id);
  }

  /** The live view a browser path shows, with its route params. */
  matchView(path: string) {
    const routePath = this.routePath(path);
    return routePath === undefined ? undefined : this.views.match(routePath);
  }

  /** `view`'s route params in a browser path, or undefined when it does not match. */
  paramsOf(view: LiveViewDefinition, path: string): Record<string, string> | undefined {
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
}

/** What a view's mount() gets: the session id, and the request's user and session data. */
export function mountSession(id: string, req: any): LiveMountSession {
  return { id, request: req, user: req?.user ?? req?.raw?.user, data: req?.session ?? req?.raw?.session ?? {} };
}
