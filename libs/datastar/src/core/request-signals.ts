import { BadRequestException, HttpException } from '@nestjs/common';
import { SignalsError, type ReadSignalsOptions, type Signals } from '../protocol';
import { readSignalsNow } from '../protocol/read-signals';
import { datastarStorage } from './request-context';

/** Per raw request: its signals, or the promise of them while its body is still being read. */
const cache = new WeakMap<object, Signals | Promise<Signals>>();

/**
 * Reads a request's signals once (Express or Fastify request), as a Nest HTTP error when invalid:
 * the signals (or one of them, `key`) when they are known at once, which is most requests (a
 * parsed body, a query), else a promise. Refused signals are always a rejected promise.
 */
export function signalsOf(req: any, key?: string): unknown {
  const read = readOnce(req);
  if (read instanceof Promise) return key === undefined ? read : read.then((signals) => signals[key]);
  return key === undefined ? read : read[key];
}

function readOnce(req: any): Signals | Promise<Signals> {
  const ctx = datastarStorage.getStore();
  const raw = req.raw ?? req;
  // The request of the current context keeps them there: no WeakMap entry per event (bench:
  // dispatch profile). One read before the context (a middleware) is still found in the map.
  if (ctx !== undefined && ctx.req === req) {
    return (ctx.signalsRead ??= cache.get(raw) ?? readRequestSignalsNow(req, ctx.readSignals ?? {}));
  }
  let read = cache.get(raw);
  if (read === undefined) {
    // The app's limits travel with the request context: two apps in one process may differ.
    read = readRequestSignalsNow(req, ctx?.readSignals ?? {});
    cache.set(raw, read);
  }
  return read;
}

/**
 * `readSignals` for an Express or Fastify request (its parsed body, the bytes Nest kept with
 * `rawBody: true`, or the raw stream), failing with the Nest HTTP error to answer (400, 408, 413, 415).
 */
export function readRequestSignals(req: any, options: ReadSignalsOptions): Promise<Signals> {
  return Promise.resolve(readRequestSignalsNow(req, options));
}

/** `readRequestSignals` without a promise when the signals are known at once; refused ones reject. */
function readRequestSignalsNow(req: any, options: ReadSignalsOptions): Signals | Promise<Signals> {
  const raw = req.raw ?? req;
  try {
    const read = readSignalsNow(
      {
        method: raw.method, url: raw.originalUrl ?? raw.url, headers: raw.headers,
        body: req.body, rawBody: req.rawBody ?? raw.rawBody, stream: raw,
      },
      options,
    );
    return read instanceof Promise ? read.catch((error) => Promise.reject(asHttpError(error))) : read;
  } catch (error) {
    return Promise.reject(asHttpError(error));
  }
}

function asHttpError(error: unknown): HttpException {
  return error instanceof SignalsError ? new HttpException(error.message, error.status) : new BadRequestException(String(error));
}
