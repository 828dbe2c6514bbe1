import { BadRequestException, HttpException } from '@nestjs/common';
import { readSignals, SignalsError, type ReadSignalsOptions, type Signals } from '../protocol';
import { datastarStorage } from './request-context';

const cache = new WeakMap<object, Promise<Signals>>();

/** Reads a request's signals once (Express or Fastify request), as a Nest HTTP error when invalid. */
export function signalsOf(req: any, key?: string): Promise<unknown> {
  const raw = req.raw ?? req;
  let pending = cache.get(raw);
  if (!pending) {
    const ctx = datastarStorage.getStore();
    // The app's limits travel with the request context: two apps in one process may differ.
    pending = readRequestSignals(req, ctx?.readSignals ?? {});
    cache.set(raw, pending);
  }
  return key === undefined ? pending : pending.then((signals) => signals[key]);
}

/**
 * `readSignals` for an Express or Fastify request (its parsed body, the bytes Nest kept with
 * `rawBody: true`, or the raw stream), failing with the Nest HTTP error to answer (400, 408, 413, 415).
 */
export function readRequestSignals(req: any, options: ReadSignalsOptions): Promise<Signals> {
  const raw = req.raw ?? req;
  return readSignals(
    {
      method: raw.method, url: raw.originalUrl ?? raw.url, headers: raw.headers,
      body: req.body, rawBody: req.rawBody ?? raw.rawBody, stream: raw,
    },
    options,
  ).catch((error) => {
    throw error instanceof SignalsError ? new HttpException(error.message, error.status) : new BadRequestException(String(error));
  });
}
