import { randomBytes } from 'node:crypto';
import { ERROR_HIDDEN } from './datastar.messages';
import { consoleLog, type DatastarEvent } from './protocol';

/** A short random id for one failure: in the server log line and in what the browser is told. */
export function errorId(): string {
  return randomBytes(4).toString('hex');
}

/**
 * What the browser console gets for a failure: its details only with `exposeErrors: true`
 * (an error message can carry a connection string or a query), else a generic text with `id`.
 */
export function errorForBrowser(details: string, id: string, exposeErrors: boolean): DatastarEvent {
  return consoleLog('error', `[datastar] ${exposeErrors ? details : ERROR_HIDDEN(id)}`);
}
