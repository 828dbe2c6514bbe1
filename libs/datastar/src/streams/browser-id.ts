import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';

/** 128 random bits, base64url: what we issue, and all we accept back. */
const BROWSER_ID = /^[A-Za-z0-9_-]{22}$/;

/**
 * The browser id from the request's `name` cookie; when there is none (or not one we issued), a
 * fresh id, sent back as an HttpOnly, SameSite=Lax cookie while the response's headers are still
 * unsent. A fresh id can never equal another browser's, so a request without the cookie can
 * never take over another browser's tab.
 */
export function browserIdOf(req: IncomingMessage, res: ServerResponse, name: string): string {
  const sent = readCookie(req.headers.cookie, name);
  if (sent !== undefined && BROWSER_ID.test(sent)) return sent;
  const id = randomBytes(16).toString('base64url');
  if (!res.headersSent) appendSetCookie(res, browserCookie(name, id, isTls(req)));
  return id;
}

/** The `Set-Cookie` value for a browser id. */
export function browserCookie(name: string, id: string, secure: boolean): string {
  return `${name}=${id}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function appendSetCookie(res: ServerResponse, cookie: string): void {
  const current = res.getHeader('set-cookie');
  const list = current === undefined ? [] : Array.isArray(current) ? current : [String(current)];
  res.setHeader('set-cookie', [...list, cookie]);
}

function isTls(req: IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
}
