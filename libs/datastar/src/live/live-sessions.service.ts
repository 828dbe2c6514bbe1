/** `LiveSessionsService`: the public registry of this process's live sessions. */
import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { LiveSession, LiveSessionState } from './live-session';
import type { LiveTerminateReason } from './live-view.interface';

/** What the registry tells about a live session. */
export interface LiveSessionInfo {
  readonly id: string;
  /** The mounted view's route pattern, e.g. `/live/users/:id`. */
  readonly route: string;
  /** The path it is mounted at, e.g. `/live/users/42`. */
  readonly path: string;
  readonly group: string;
  readonly state: LiveSessionState;
  /** True while the session stream is open. */
  readonly connected: boolean;
  readonly createdAt: Date;
  readonly lastActiveAt: Date;
  /** Events and messages waiting in the session's queue. */
  readonly pendingTasks: number;
}

/**
 * Every live session of this process: inspect them (`list`, `get`, `count`), message them
 * (`send` -> the view's handleInfo) and end them (`terminate`). Inject it like any provider.
 */
@Injectable()
export class LiveSessionsService implements BeforeApplicationShutdown {
  private readonly sessions = new Map<string, LiveSession>();

  /** Every session, oldest first. */
  list(): LiveSessionInfo[] {
    return [...this.sessions.values()].map(info);
  }

  get(id: string): LiveSessionInfo | undefined {
    const session = this.sessions.get(id);
    return session && info(session);
  }

  /** Sessions in total, or of the view with this route pattern (`count('/live/counter')`). */
  count(route?: string): number {
    if (route === undefined) return this.sessions.size;
    let n = 0;
    for (const session of this.sessions.values()) if (session.view.route.pattern === route) n++;
    return n;
  }

  /** Ends a session: its stream closes, timers and subscriptions stop, `terminate(reason)` runs. */
  async terminate(id: string, reason: LiveTerminateReason = 'terminated'): Promise<boolean> {
    const session = this.sessions.get(id);
    if (!session) return false;
    await session.terminate(reason);
    return true;
  }

  /** Ends every session (of one view route, when given). */
  async terminateAll(reason: LiveTerminateReason = 'terminated', route?: string): Promise<void> {
    const targets = [...this.sessions.values()].filter((s) => route === undefined || s.view.route.pattern === route);
    await Promise.all(targets.map((s) => s.terminate(reason)));
  }

  /** Queues `message` for the session's `handleInfo()` (held until its stream attaches); false when there is no such session. */
  send(id: string, message: unknown): boolean {
    return this.sessions.get(id)?.send(message) ?? false;
  }

  /** Sessions end before the HTTP server closes: their streams would keep `app.close()` waiting. */
  beforeApplicationShutdown(): Promise<void> {
    return this.terminateAll('shutdown');
  }

  /** @internal */
  add(session: LiveSession): void {
    this.sessions.set(session.id, session);
  }

  /** @internal */
  remove(session: LiveSession): void {
    if (this.sessions.get(session.id) === session) this.sessions.delete(session.id);
  }

  /** @internal The live session object. */
  find(id: string): LiveSession | undefined {
    return this.sessions.get(id);
  }
}

function info(session: LiveSession): LiveSessionInfo {
  return {
    id: session.id,
    route: session.view.route.pattern,
    path: session.path,
    group: session.view.group,
    state: session.state,
    connected: session.connected,
    createdAt: new Date(session.createdAt),
    lastActiveAt: new Date(session.lastActiveAt),
    pendingTasks: session.pendingTasks,
  };
}
