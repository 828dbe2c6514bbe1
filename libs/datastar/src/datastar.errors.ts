import type { LoggerService } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { ERROR_HIDDEN, ERROR_LOGGED } from './datastar.messages';
import { consoleLog, type DatastarEvent } from './protocol';

/** A short random id for one failure: in the server log line and in what the browser is told. */
function errorId(): string {
  return randomBytes(4).toString('hex');
}

/**
 * What the browser console gets for a failure: its details only with `exposeErrors: true`
 * (an error message can carry a connection string or a query), else a generic text with `id`.
 */
function errorForBrowser(details: string, id: string, exposeErrors: boolean): DatastarEvent {
  return consoleLog('error', `[datastar] ${exposeErrors ? details : ERROR_HIDDEN(id)}`);
}

/** A failure as logged: `details` (what failed, with the error's message) under `id`. */
export interface LoggedFailure {
  details: string;
  id: string;
}

/** Logs `error` with its stack under a fresh error id; `describe` turns its message into the details. */
export function logFailure(
  logger: Pick<LoggerService, 'error'>,
  error: unknown,
  describe: (message: string) => string,
): LoggedFailure {
  const err = error instanceof Error ? error : new Error(String(error));
  const details = describe(err.message);
  const id = errorId();
  logger.error(ERROR_LOGGED(details, id), err.stack);
  return { details, id };
}

/** `logFailure`, then what the browser console gets for it (see `errorForBrowser`). */
export function reportFailure(
  logger: Pick<LoggerService, 'error'>,
  error: unknown,
  describe: (message: string) => string,
  exposeErrors: boolean,
): DatastarEvent {
  const { details, id } = logFailure(logger, error, describe);
  return errorForBrowser(details, id, exposeErrors);
}
