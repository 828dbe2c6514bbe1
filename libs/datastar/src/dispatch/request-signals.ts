import { BadRequestException, HttpException } from '@nestjs/common';
import { readSignals, SignalsError, type Signals } from '../protocol';
import { datastarStorage } from '../tracker/datastar-context';

const cache = new WeakMap<object, Promise<Signals>>();

/** Reads a request's signals once (Express or Fastify request), as a Nest HTTP error when invalid. */
export function signalsOf(req: any, key?: string): Promise<unknown> {
  const raw = req.raw ?? req;
  let pending = cache.get(raw);
  if (!pending) {
    const ctx = datastarStorage.getStore();
    pending = readSignals(
      { method: raw.method, url: raw.originalUrl ?? raw.url, headers: raw.headers, body: req.body, stream: raw },
      // The app's limit travels with the request context: two apps in one process may differ.
      { limit: ctx?.signalsLimit, timeout: ctx?.signalsTimeout },
    ).catch((error) => {
      throw error instanceof SignalsError ? new HttpException(error.message, error.status) : new BadRequestException(String(error));
    });
    cache.set(raw, pending);
  }
  return key === undefined ? pending : pending.then((signals) => signals[key]);
}
