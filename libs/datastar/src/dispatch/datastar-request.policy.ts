import { ForbiddenException } from '@nestjs/common';
import { CROSS_SITE_REFUSED, DATASTAR_REQUEST_REQUIRED, INVALID_ALLOW_CROSS_SITE } from '../datastar.messages';
import type { DatastarModuleOptions } from '../interfaces/datastar-module-options.interface';
import { DATASTAR_REQUEST_HEADER } from '../protocol';

/**
 * Who may call a Datastar endpoint (events, live events, `_nav`, `_stream`): requests with
 * `Datastar-Request: true`, which every Datastar action sends and which a browser cannot add to a
 * cross-site link or form (a cross-site fetch with it needs a CORS preflight the app must grant),
 * and not `Sec-Fetch-Site: cross-site` unless `allowCrossSite` says so. With both, a handler
 * never runs for a forged cross-site request, whatever its method, and needs no CSRF token.
 */
export class DatastarRequestPolicy {
  private readonly anySite: boolean;
  private readonly origins: ReadonlySet<string>;

  /** Validates `allowCrossSite` (at boot: the routes build their policy in onModuleInit). */
  constructor(options: Pick<DatastarModuleOptions, 'allowCrossSite'>) {
    const allow = options.allowCrossSite ?? false;
    this.anySite = allow === true;
    this.origins = new Set(typeof allow === 'boolean' ? [] : originsOf(allow));
  }

  /** Throws 403 (a plain HTTP answer through the app's exception filters) for a refused request. */
  check(req: any): void {
    const headers = (req.raw ?? req).headers ?? {};
    if (headers[DATASTAR_REQUEST_HEADER] !== 'true') throw new ForbiddenException(DATASTAR_REQUEST_REQUIRED);
    if (headers['sec-fetch-site'] !== 'cross-site' || this.anySite) return;
    const origin = headers.origin;
    if (typeof origin === 'string' && this.origins.has(origin.toLowerCase())) return;
    throw new ForbiddenException(CROSS_SITE_REFUSED);
  }
}

function originsOf(list: unknown): string[] {
  if (!Array.isArray(list)) throw new Error(INVALID_ALLOW_CROSS_SITE(list));
  return list.map((entry) => {
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
  });
}
