/** What a live session needs from the runtime that owns it (`LiveRuntime`). */
import type { Logger } from '@nestjs/common';
import type { Observable } from 'rxjs';
import type { DatastarSettings } from '../core/datastar-settings';
import type { MessageEventLike } from '../protocol';
import type { TemplateSource } from '../interfaces/template-source.interface';
import type { LiveContext } from './live-context';
import type { LiveRequest } from './live-guards';
import type { LiveSession } from './live-session';
import type { LiveSessionStorage } from './live-store';
import type { LiveTokens } from './live-token';
import type { LiveViewDefinition } from './live-view.registry';
import type { LiveMountSession } from './live-view.interface';

/** Settings a session runs with: the module's `live` settings and its `exposeErrors`. */
export type LiveSettings = DatastarSettings['live'] & Pick<DatastarSettings, 'exposeErrors'>;

export interface LiveEngine {
  readonly settings: LiveSettings;
  readonly logger: Logger;
  readonly tokens: LiveTokens;
  /** Where sessions are saved after each change, to be resumed after a restart, a crash or a long drop. */
  readonly storage: LiveSessionStorage;
  renderView(view: LiveViewDefinition, ctx: LiveContext): string;
  renderFragment(source: TemplateSource, locals: Record<string, unknown>): string;
  subscribe(topic: string): Observable<MessageEventLike>;
  /** Where a soft navigation of a session in view group `group` may go: the target view, or undefined for a full page load. */
  resolveNavigation(group: string, to: string): LiveNavigationTarget | undefined;
  /** The target's guards, run with the navigation's request: what session `sid`'s mount() gets, or undefined for a full page load. */
  authorizeNavigation(sid: string, target: LiveNavigationTarget, request?: LiveRequest): Promise<LiveMountSession | undefined>;
  /** The session ended: forget it. */
  ended(session: LiveSession): void;
}

/** A view a session may soft-navigate to. */
export interface LiveNavigationTarget {
  view: LiveViewDefinition;
  path: string;
  search: string;
  params: Record<string, string>;
}
