import { HttpException, type LoggerService } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { ERROR_HIDDEN, ERROR_LOGGED } from './datastar.messages';
import { consoleLog, type DatastarEvent } from './protocol';

/** A short random id for one failure: in the server log line and in what the browser is told. */
function errorId(): string {
  return randomBytes(4).toString('hex');
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

/**
 * What the browser may be told about a logged failure: its details only with `exposeErrors: true`
 * (an error message can carry a connection string or a query), else a generic text with its id.
 */
export function failureText({ details, id }: LoggedFailure, exposeErrors: boolean): string {
  return exposeErrors ? details : ERROR_HIDDEN(id);
}

/** The browser console's line for a failure (`failureText`). */
export function failureEvent(text: string): DatastarEvent {
  return consoleLog('error', `[datastar] ${text}`);
}

/** `logFailure`, then what the browser console gets for it. */
export function reportFailure(
  logger: Pick<LoggerService, 'error'>,
  error: unknown,
  describe: (message: string) => string,
  exposeErrors: boolean,
): DatastarEvent {
  return failureEvent(failureText(logFailure(logger, error, describe), exposeErrors));
}

/** A 4xx `HttpException` as the user may read it. */
export interface Rejection {
  status: number;
  message: string;
}

/**
 * A 4xx `HttpException` (`NotFoundException`, `ForbiddenException`, ...) is an answer, not a failure:
 * its message is written for the client (Nest sends it in the body too). Undefined for anything else.
 */
export function rejectionOf(error: unknown): Rejection | undefined {
  if (!(error instanceof HttpException)) return undefined;
  const status = error.getStatus();
  if (status < 400 || status >= 500) return undefined;
  const response = error.getResponse();
  const message = typeof response === 'object' && response !== null ? (response as { message?: unknown }).message : response;
  return { status, message: Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : error.message };
}
