import { BadRequestException, HttpException } from '@nestjs/common';
import { readSignals, SignalsError, type Signals } from '../protocol';

const cache = new WeakMap<object, Promise<Signals>>();
let limit: number | undefined;

/** Set once by the module from its options. */
export function configureSignalsLimit(bytes: number | undefined): void {
  limit = bytes;
}

/** Reads a request's signals once (Express or Fastify request), as a Nest HTTP error when invalid. */
export function signalsOf(req: any, key?: string): Promise<unknown> {
  const raw = req.raw ?? req;
  let pending = cache.get(raw);
  if (!pending) {
    pending = readSignals(
      { method: raw.method, url: raw.originalUrl ?? raw.url, headers: raw.headers, body: req.body, stream: raw },
      { limit },
    ).catch((error) => {
      throw error instanceof SignalsError ? new HttpException(error.message, error.status) : new BadRequestException(String(error));
    });
    cache.set(raw, pending);
  }
  return key === undefined ? pending : pending.then((signals) => signals[key]);
}
