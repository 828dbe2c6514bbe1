import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { DATASTAR_SETTINGS, type DatastarSettings } from '../core/datastar-settings';
import { DATASTAR_QUERY_PARAM, DATASTAR_REQUEST_HEADER, parseSignals } from '../protocol';

/**
 * Lets any header-based CSRF protection (csrf-csrf, a guard of yours) see a token that a Datastar
 * action sent as the `csrf` signal: it copies the signal into the CSRF header when the header is
 * missing (PhoenixDatastar's RenameCsrfParam, for Nest). Apply it before your CSRF check:
 * `consumer.apply(DatastarCsrfBridge, yourCsrfMiddleware).forRoutes('*')`.
 */
@Injectable()
export class DatastarCsrfBridge implements NestMiddleware {
  private readonly header: string;
  private readonly signal: string;

  constructor(@Inject(DATASTAR_SETTINGS) { csrf }: DatastarSettings) {
    this.header = csrf.header.toLowerCase();
    this.signal = csrf.signal;
  }

  use(req: any, _res: unknown, next: () => void): void {
    const raw = req.raw ?? req;
    if (raw.headers[DATASTAR_REQUEST_HEADER] !== undefined && raw.headers[this.header] === undefined) {
      const token = this.tokenFrom(req, raw);
      if (typeof token === 'string' && token !== '') raw.headers[this.header] = token;
    }
    next();
  }

  private tokenFrom(req: any, raw: any): unknown {
    const body = req.body;
    if (body && typeof body === 'object' && !Buffer.isBuffer(body)) return body[this.signal];
    const url: string = raw.originalUrl ?? raw.url ?? '';
    const q = url.indexOf('?');
    const json = q === -1 ? null : new URLSearchParams(url.slice(q + 1)).get(DATASTAR_QUERY_PARAM);
    if (!json) return undefined;
    try {
      return parseSignals(json)[this.signal];
    } catch {
      return undefined; // the dispatcher answers malformed signals with a 400 later
    }
  }
}
