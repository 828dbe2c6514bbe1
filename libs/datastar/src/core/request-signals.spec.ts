import { BadRequestException, HttpException } from '@nestjs/common';
import { Readable } from 'node:stream';
import { SIGNALS_TOO_LARGE, SIGNALS_TOO_MANY_KEYS } from '../protocol/read-signals.messages';
import { DatastarContext, datastarStorage } from './request-context';
import { readRequestSignals, signalsOf } from './request-signals';

/** A GET the way Datastar sends it: signals in the `datastar` query parameter. */
const get = (signals: unknown) => ({
  method: 'GET',
  url: `/ds/c/e?datastar=${encodeURIComponent(typeof signals === 'string' ? signals : JSON.stringify(signals))}`,
  headers: {},
});

/** What `promise` rejected with (signalsOf answers refused signals with a rejected promise). */
async function rejection(promise: unknown): Promise<HttpException> {
  try {
    await promise;
  } catch (error) {
    return error as HttpException;
  }
  throw new Error('did not reject');
}

describe('signalsOf', () => {
  it('reads a request once: the same answer every time', async () => {
    const req = get({ a: 1 });
    const first = signalsOf(req);
    expect(signalsOf(req)).toBe(first);
    expect(await first).toEqual({ a: 1 });
  });

  it('a Fastify request is known by its raw request', async () => {
    const raw = get({ a: 1 });
    expect(signalsOf({ raw, body: undefined })).toBe(signalsOf({ raw, body: undefined }));
    expect(signalsOf({ raw })).toBe(signalsOf(raw));
  });

  it('signals known at once (a query, a parsed body) come without a promise; a body still to read, with one', async () => {
    expect(signalsOf(get({ a: 1 }))).toEqual({ a: 1 });
    expect(signalsOf({ method: 'POST', headers: { 'content-type': 'application/json' }, body: { b: 2 } }, 'b')).toBe(2);
    const stream = Object.assign(Readable.from([Buffer.from('{"c":3}')]), { method: 'POST', headers: {} });
    const pending = signalsOf(stream, 'c');
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toBe(3);
  });

  it('refused signals are a rejected promise, never a throw', async () => {
    const refused = signalsOf({ method: 'POST', headers: { 'content-type': 'text/html' }, body: 'x' });
    expect(refused).toBeInstanceOf(Promise);
    expect((await rejection(refused)).getStatus()).toBe(415);
  });

  it('each request is read on its own', async () => {
    expect(await signalsOf(get({ a: 1 }))).toEqual({ a: 1 });
    expect(await signalsOf(get({ a: 2 }))).toEqual({ a: 2 });
  });

  it('key: one signal of the request', async () => {
    const req = get({ a: 1, b: { c: 'x' } });
    expect(await signalsOf(req, 'b')).toEqual({ c: 'x' });
    expect(await signalsOf(req, 'missing')).toBeUndefined();
    expect(await signalsOf(req)).toEqual({ a: 1, b: { c: 'x' } });
  });

  it("uses the app's limits from the request context", async () => {
    const ctx = new DatastarContext('dispatch', undefined, undefined, 'c');
    ctx.readSignals = { limits: { keys: 1 } };
    const limited = await rejection(datastarStorage.run(ctx, () => signalsOf(get({ a: 1, b: 2 }))));
    expect(limited.getStatus()).toBe(413);
    expect(limited.message).toBe(SIGNALS_TOO_MANY_KEYS(1));
    // Outside a Datastar request, the defaults apply.
    expect(await signalsOf(get({ a: 1, b: 2 }))).toEqual({ a: 1, b: 2 });
  });

  it("uses the app's byte limit from the request context", async () => {
    const ctx = new DatastarContext('dispatch', undefined, undefined, 'c');
    ctx.readSignals = { limit: 8 };
    const tooLarge = await rejection(datastarStorage.run(ctx, () => signalsOf(get({ text: 'more than eight bytes' }))));
    expect(tooLarge.getStatus()).toBe(413);
    expect(tooLarge.message).toBe(SIGNALS_TOO_LARGE(8));
  });
});

describe('readRequestSignals', () => {
  it('reads an Express body a parser already read', async () => {
    const req = { method: 'POST', url: '/ds/c/e', headers: { 'content-type': 'application/json' }, body: { a: 1 } };
    expect(await readRequestSignals(req, {})).toEqual({ a: 1 });
  });

  it("reads a Fastify request's body and the raw request's URL", async () => {
    const raw = { method: 'GET', url: '/ds/c/e?datastar=%7B%22q%22%3A1%7D', headers: {} };
    expect(await readRequestSignals({ raw, url: '/elsewhere' }, {})).toEqual({ q: 1 });
    const post = { raw: { method: 'POST', url: '/ds/c/e', headers: { 'content-type': 'application/json' } }, body: { b: 2 } };
    expect(await readRequestSignals(post, {})).toEqual({ b: 2 });
  });

  it.each([
    [400, 'malformed JSON', get('{nope'), 'Malformed signals JSON'],
    [413, 'a signal past a limit', get({ a: 'x'.repeat(20) }), 'longer than 10 characters'],
    [415, 'an unsupported content type', { method: 'POST', url: '/', headers: { 'content-type': 'text/html' }, body: '{}' },
      'Unsupported content type "text/html"'],
  ])('SignalsError -> HttpException with its status and message: %i for %s', async (status, _, req, message) => {
    const error = await rejection(readRequestSignals(req, { limits: { stringLength: 10 } }));
    expect(error).toBeInstanceOf(HttpException);
    expect(error.getStatus()).toBe(status);
    expect(error.message).toContain(message);
  });

  it('any other error -> 400', async () => {
    // No method: readSignals itself throws a TypeError, not a SignalsError.
    const error = await rejection(readRequestSignals({ headers: {} }, {}));
    expect(error).toBeInstanceOf(BadRequestException);
    expect(error.getStatus()).toBe(400);
    expect(error.message).toContain('TypeError');
  });
});
