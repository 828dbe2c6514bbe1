import { DEFAULT_DISPATCH_PATH } from '../datastar.constants';
import { DATASTAR_QUERY_PARAM, type ActionMethod } from '../protocol';
import { eventUrl } from '../templates/datastar-helpers';
import { resolveBaseUrl, type HttpTarget } from './base-url';
import { readSignalsFromHtml } from './data-attribute';
import { parseSse } from './parse-sse';
import type { SseEvent } from './sse-event.interface';
import { isAbort, readSseBody } from './sse-stream.reader';

export type HttpMethod = ActionMethod;

/** What `client.event()` and `client.stream()` return. */
export interface DatastarResponse {
  status: number;
  /** Response headers, names lowercased. */
  headers: Record<string, string>;
  /** The raw body as received. */
  text: string;
  /** `text` parsed with `parseSse` (empty for bodies that are not event streams). */
  events: SseEvent[];
}

/** What `client.stream()` returns: also whether the server ended the stream itself. */
export interface StreamResponse extends DatastarResponse {
  ended: boolean;
}

/** What `client.page()` returns. */
export interface PageResponse {
  status: number;
  headers: Record<string, string>;
  html: string;
  /** The page's initial signals, merged from its `data-signals` attributes in document order. */
  signals: Record<string, unknown>;
}

/** What every request may set besides its signals. */
export interface RequestOptions {
  /**
   * The method the handler declares (`@OnEvent(name, { method })`); default `post` (`get` for
   * `stream()`). GET and DELETE send the signals in the `datastar` query parameter.
   */
  method?: HttpMethod;
  /** Extra headers, e.g. `{ 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.example' }` for a security test. */
  headers?: Record<string, string>;
  /**
   * Send `Datastar-Request: true` as the Datastar client does (default true). False sends the
   * request as a cross-site link or form would, to check that it is refused (403).
   */
  datastarRequest?: boolean;
}

export interface EventRequestOptions extends RequestOptions {
  /** The dispatch route prefix (`DatastarModule.forRoot({ path })`), default `ds`. */
  path?: string;
}

export interface StreamOptions extends RequestOptions {
  signals?: Record<string, unknown>;
  /** Stop once this many events arrived. */
  count?: number;
  /** Stop once this returns true for the events so far. */
  until?: (events: SseEvent[]) => boolean;
  /** Give up (and reject, listing what arrived) after this many ms; default 5000. */
  timeoutMs?: number;
}

export interface TestClientOptions {
  /** Headers sent with every request (cookies, auth). */
  headers?: Record<string, string>;
}

/**
 * Talks to a running app over real HTTP the way the Datastar client does, so a handler test
 * exercises the whole stack (guards, pipes, the SSE writer, the socket):
 *
 * ```ts
 * const client = new DatastarTestClient(app);          // or 'http://127.0.0.1:3000'
 * const res = await client.event('counter', 'increment', { count: 1 });
 * expect(res.status).toBe(200);
 * expect(res).toPatchSignals({ count: 2 });
 * ```
 */
export class DatastarTestClient {
  private base?: Promise<string>;

  constructor(private readonly target: HttpTarget, private readonly options: TestClientOptions = {}) {}

  /** The base URL requests go to (starts a Nest app that is not listening yet). */
  baseUrl(): Promise<string> {
    return (this.base ??= resolveBaseUrl(this.target));
  }

  /** Sends a Datastar event to `/<path>/<controller>/<event>` and reads the whole response. */
  async event(
    controller: string,
    event: string,
    signals: Record<string, unknown> = {},
    options: EventRequestOptions = {},
  ): Promise<DatastarResponse> {
    const path = eventUrl(options.path ?? DEFAULT_DISPATCH_PATH, controller, event);
    return this.request(path, { ...options, signals, method: options.method ?? 'post' });
  }

  /** Sends a Datastar request to any path (an `@Sse()` route, a live view) and reads the whole response. */
  async request(
    path: string,
    options: RequestOptions & { signals?: Record<string, unknown> } = {},
  ): Promise<DatastarResponse> {
    const res = await fetch(...(await this.datastarRequest(path, options)));
    const text = await res.text();
    return { status: res.status, headers: headerRecord(res.headers), text, events: isEventStream(res) ? parseSse(text) : [] };
  }

  /** Loads a page as a browser would (no Datastar headers) and reads its initial signals. */
  async page(path: string, options: { headers?: Record<string, string> } = {}): Promise<PageResponse> {
    const url = new URL(path, `${await this.baseUrl()}/`);
    const res = await fetch(url, { headers: { Accept: 'text/html', ...this.options.headers, ...options.headers } });
    const html = await res.text();
    return { status: res.status, headers: headerRecord(res.headers), html, signals: readSignalsFromHtml(html) };
  }

  /**
   * Reads a long-lived stream until `count` events arrived or `until` holds, then aborts the
   * request (the server sees the client go away). Without either, reads until the server ends
   * the stream. Rejects on timeout or when the stream ends first, listing the events received.
   */
  async stream(path: string, options: StreamOptions = {}): Promise<StreamResponse> {
    const timeoutMs = options.timeoutMs ?? 5000;
    const controller = new AbortController();
    const events: SseEvent[] = [];
    let text = '';
    const done = () =>
      (options.count !== undefined && events.length >= options.count) || (options.until?.(events) ?? false);
    const hasGoal = options.count !== undefined || options.until !== undefined;
    const [url, init] = await this.datastarRequest(path, { ...options, method: options.method ?? 'get' });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; controller.abort(); }, timeoutMs);
    try {
      const res = await fetch(url, { ...init, signal: controller.signal });
      const headers = headerRecord(res.headers);
      let ended = true;
      if (hasGoal && done()) {
        controller.abort();
        ended = false;
      } else {
        ({ ended } = await readSseBody(res.body, (event) => {
          events.push(event);
          return hasGoal && done();
        }, (chunk) => { text += chunk; }));
        controller.abort();
      }
      if (timedOut) throw new Error(streamFailure(`timed out after ${timeoutMs} ms`, path, options, events));
      if (ended && hasGoal && !done()) throw new Error(streamFailure('ended before the goal was met', path, options, events));
      return { status: res.status, headers, text, events, ended };
    } catch (error) {
      if (timedOut && isAbort(error)) throw new Error(streamFailure(`timed out after ${timeoutMs} ms`, path, options, events));
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private async datastarRequest(
    path: string,
    options: RequestOptions & { signals?: Record<string, unknown> },
  ): Promise<[URL, RequestInit]> {
    const method = (options.method ?? 'post').toUpperCase();
    const url = new URL(path, `${await this.baseUrl()}/`);
    const json = JSON.stringify(options.signals ?? {});
    const headers: Record<string, string> = {
      Accept: 'text/event-stream, text/html, application/json',
      ...(options.datastarRequest === false ? {} : { 'Datastar-Request': 'true' }),
      ...this.options.headers,
      ...options.headers,
    };
    const init: RequestInit = { method, headers };
    if (method === 'GET' || method === 'DELETE') {
      url.searchParams.set(DATASTAR_QUERY_PARAM, json);
    } else {
      headers['Content-Type'] ??= 'application/json';
      init.body = json;
    }
    return [url, init];
  }
}

function headerRecord(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => { out[name] = value; });
  return out;
}

function isEventStream(res: Response): boolean {
  return (res.headers.get('content-type') ?? '').toLowerCase().startsWith('text/event-stream');
}

function streamFailure(why: string, path: string, options: StreamOptions, events: SseEvent[]): string {
  const goal = options.count !== undefined ? `${options.count} event(s)` : options.until ? 'the `until` predicate' : 'the end of the stream';
  const list = events.map((e, i) => `  #${i + 1} ${e.type} ${JSON.stringify(e.data)}`).join('\n') || '  (none)';
  return `client.stream('${path}') ${why} waiting for ${goal}; received ${events.length} event(s):\n${list}\n`
    + 'Raise timeoutMs, or check that the handler keeps the stream open and emits what you expect.';
}
