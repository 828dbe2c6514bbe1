import type { AddressInfo } from 'node:net';

/**
 * What the testing kit needs of a Nest `INestApplication` (structural, so this entry point does
 * not load `@nestjs/*` and also takes any object shaped like one).
 */
export interface HttpAppLike {
  getHttpServer(): { address(): AddressInfo | string | null; listening?: boolean };
  listen(port: number, hostname: string): Promise<unknown>;
}

/** A base URL (`http://127.0.0.1:3000`) or an app to reach over real HTTP. */
export type HttpTarget = string | URL | HttpAppLike;

/**
 * The origin to send requests to. An app that is not listening yet is started on a free port
 * of 127.0.0.1; closing it stays the test's job (`await app.close()`).
 */
export async function resolveBaseUrl(target: HttpTarget): Promise<string> {
  if (typeof target === 'string' || target instanceof URL) return String(target).replace(/\/+$/, '');
  const server = target.getHttpServer();
  if (!server.listening || !server.address()) await target.listen(0, '127.0.0.1');
  const address = target.getHttpServer().address();
  if (!address || typeof address === 'string') {
    throw new TypeError('The app listens on a pipe or not at all: give the testing kit an app on TCP or a base URL.');
  }
  const host = address.address === '::' || address.address === '0.0.0.0' ? '127.0.0.1'
    : address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
