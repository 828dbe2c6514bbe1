/** Paths of live views: route patterns, request paths, and navigation targets that are safe to follow. */

// Literal segments avoid every character Express' and Fastify's route syntax give a meaning to.
const SEGMENT = /^(?::[A-Za-z_][A-Za-z0-9_]*|[A-Za-z0-9._~-]+)$/;
const MAX_TARGET_LENGTH = 2048;
const BASE = 'http://live.invalid';

/** A compiled `@LiveView()` route: `/live/users/:id`. */
export interface LiveRoute {
  readonly pattern: string;
  readonly segments: readonly string[];
}

/** Parses a route, or undefined when it is not a plain `/literal/:param` pattern. */
export function compileRoute(route: string): LiveRoute | undefined {
  if (typeof route !== 'string' || !route.startsWith('/')) return undefined;
  const pattern = normalizePath(route);
  const segments = pattern === '/' ? [] : pattern.slice(1).split('/');
  if (segments.some((s) => !SEGMENT.test(s) || s === '_event')) return undefined;
  return { pattern, segments };
}

/** Matches a concrete path (percent-encoded, no query) against a route: its params, decoded, or undefined. */
export function matchRoute(route: LiveRoute, path: string): Record<string, string> | undefined {
  const parts = path === '/' ? [] : path.slice(1).split('/');
  if (parts.length !== route.segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const segment = route.segments[i];
    if (segment.startsWith(':')) {
      if (parts[i] === '') return undefined;
      try {
        params[segment.slice(1)] = decodeURIComponent(parts[i]);
      } catch {
        return undefined;
      }
    } else if (segment !== parts[i]) {
      return undefined;
    }
  }
  return params;
}

/** `/a/b/` -> `/a/b`; `` -> `/`. */
export function normalizePath(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

/** The request's path (percent-encoded, no query, no trailing slash) on Express or Fastify. */
export function requestPath(req: any): string {
  const url: string = req.originalUrl ?? req.raw?.url ?? req.url ?? '/';
  return normalizePath(new URL(url, BASE).pathname);
}

/** The request's query as a plain object (first value of repeated keys). */
export function requestQuery(req: any): Record<string, string> {
  const url: string = req.originalUrl ?? req.raw?.url ?? req.url ?? '/';
  const out: Record<string, string> = Object.create(null);
  for (const [key, value] of new URL(url, BASE).searchParams) if (!(key in out)) out[key] = value;
  return { ...out };
}

/**
 * A navigation target the browser may safely follow on this origin: a path with a single
 * leading `/` (never `//host`, `/\host`, a scheme, a backslash or a control character), resolved
 * (dot segments) and returned as `pathname + search`; anything else is undefined.
 */
export function safeLocalPath(target: unknown): string | undefined {
  if (typeof target !== 'string' || target.length === 0 || target.length > MAX_TARGET_LENGTH) return undefined;
  // Browsers drop tabs and line breaks inside URLs and read "\" as "/": refuse them outright.
  if (/[\u0000-\u001f\u007f\\]/.test(target)) return undefined;
  if (!target.startsWith('/') || target.startsWith('//')) return undefined;
  let url: URL;
  try {
    url = new URL(target, BASE);
  } catch {
    return undefined;
  }
  // "/..//evil.com" resolves to "//evil.com": protocol-relative once the browser reads it.
  if (url.origin !== BASE || url.pathname.startsWith('//')) return undefined;
  return url.pathname + url.search;
}

/** Splits a safe local path into its path (normalized) and query. */
export function splitTarget(target: string): { path: string; search: string } {
  const url = new URL(target, BASE);
  return { path: normalizePath(url.pathname), search: url.search };
}
