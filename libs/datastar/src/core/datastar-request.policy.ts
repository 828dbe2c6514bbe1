import { ForbiddenException, Inject, Injectable } from '@nestjs/common';
import { CROSS_SITE_REFUSED, DATASTAR_REQUEST_REQUIRED } from '../datastar.messages';
import { DATASTAR_REQUEST_HEADER } from '../protocol';
import { DATASTAR_SETTINGS, type DatastarSettings } from './datastar-settings';

/**
 * Who may call a Datastar endpoint (events, live events, `_nav`, `_stream`): requests with
 * `Datastar-Request: true`, which every Datastar action sends and which a browser cannot add to a
 * cross-site link or form (a cross-site fetch with it needs a CORS preflight the app must grant),
 * and not `Sec-Fetch-Site: cross-site` unless `allowCrossSite` says so. With both, a handler
 * never runs for a forged cross-site request, whatever its method, and needs no CSRF token.
 */
@Injectable()
export class DatastarRequestPolicy {
  private readonly allowed: DatastarSettings['allowCrossSite'];

  constructor(@Inject(DATASTAR_SETTINGS) settings: Pick<DatastarSettings, 'allowCrossSite'>) {
    this.allowed = settings.allowCrossSite;
  }

  /** Throws 403 (a plain HTTP answer through the app's exception filters) for a refused request. */
  check(req: any): void {
    const headers = (req.raw ?? req).headers ?? {};
    if (headers[DATASTAR_REQUEST_HEADER] !== 'true') throw new ForbiddenException(DATASTAR_REQUEST_REQUIRED);
    if (headers['sec-fetch-site'] !== 'cross-site' || this.allowed === true) return;
    const origin = headers.origin;
    if (typeof origin === 'string' && this.allowed.includes(origin.toLowerCase())) return;
    throw new ForbiddenException(CROSS_SITE_REFUSED);
  }
}
