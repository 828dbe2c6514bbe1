import { Body, Controller, Module, Param, Post, Query, type Type } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { IncomingMessage, ServerResponse, createServer } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DatastarModuleOptions } from 'nestjs-datastar';
import { createWithExpressPrototypes } from '../../libs/datastar/src/core/express-shapes';
import { methodsModule } from './fixtures/methods.app';
import { json, readSse, startApp, type TestApp } from './fixtures/harness';
import { signalsEvent } from './fixtures/sse';

const createExpress = createRequire(__filename)('express') as () => any;
const CHILD = join(__dirname, 'fixtures/express-shapes.child.cjs');

/** Two concurrent requests held in one Express route, in a process where V8 can tell their hidden classes apart. */
async function hiddenClasses(mode: 'on' | 'off'): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--allow-natives-syntax', CHILD, mode], { timeout: 20_000 });
  return JSON.parse(stdout);
}

describe('createWithExpressPrototypes: what V8 does with Express requests', () => {
  it('Express alone gives every request and response a hidden class of its own (why this exists)', async () => {
    // If a Node upgrade makes this fail, V8 shares these shapes by itself and the option can go.
    expect(await hiddenClasses('off')).toMatchObject({ applied: false, req: false, res: false, fast: true });
  });

  it('created with the app\'s prototypes, requests and responses share one, keep fast properties, and Express works as before', async () => {
    expect(await hiddenClasses('on')).toEqual({ applied: true, req: true, res: true, fast: true, query: 'x', body: { a: 1 }, params: '1' });
  });
});

describe('createWithExpressPrototypes: leaves alone what it does not know', () => {
  it('changes nothing without an Express app, or on a server that is not Node\'s HTTP/1 server with its own classes', () => {
    const app = createExpress();
    const plain = createServer();
    const symbols = () => Object.getOwnPropertySymbols(plain).map((s) => (plain as any)[s]);
    expect(createWithExpressPrototypes(plain, () => undefined)).toBe(false);
    expect(createWithExpressPrototypes(plain, { request: {}, response: {} })).toBe(false);
    expect(createWithExpressPrototypes({}, app)).toBe(false);
    expect(createWithExpressPrototypes(undefined, app)).toBe(false);
    expect(createWithExpressPrototypes(createHttp2Server(), app)).toBe(false);
    class OwnRequest extends IncomingMessage {}
    expect(createWithExpressPrototypes(createServer({ IncomingMessage: OwnRequest }), app)).toBe(false);
    expect(symbols()).toContain(IncomingMessage);
    expect(symbols()).toContain(ServerResponse);
  });

  it('applies to an HTTPS server (Nest\'s httpsOptions) as to HTTP', () => {
    const server = createHttpsServer();
    const app = createExpress();
    expect(createWithExpressPrototypes(server, app)).toBe(true);
    const classes = Object.getOwnPropertySymbols(server).map((s) => (server as any)[s]);
    expect(classes.map((c) => c?.prototype)).toEqual(expect.arrayContaining([app.request, app.response]));
  });

  it('refuses prototypes that do not come from Node\'s own', () => {
    const app = Object.assign(() => undefined, { request: {}, response: {} });
    expect(createWithExpressPrototypes(createServer(), app)).toBe(false);
  });
});

@Controller('plain')
class PlainController {
  @Post(':id')
  echo(@Param('id') id: string, @Query('q') q: string, @Body() body: unknown) {
    return { id, q, body };
  }
}

function appModule(options: DatastarModuleOptions): Type {
  @Module({ imports: [methodsModule(options)], controllers: [PlainController] })
  class ShapesModule {}
  return ShapesModule;
}

/** The prototype a request has when the server first sees it, before Express. */
function protoAtArrival(t: TestApp): { request: unknown; response: unknown } {
  const seen: { request: unknown; response: unknown } = { request: undefined, response: undefined };
  t.app.getHttpServer().prependListener('request', (req: unknown, res: unknown) => {
    seen.request = Object.getPrototypeOf(req);
    seen.response = Object.getPrototypeOf(res);
  });
  return seen;
}

describe.each([
  ['default', {}, true],
  ['fastExpressRequests: false', { fastExpressRequests: false }, false],
] as const)('a Nest app on Express with DatastarModule (%s)', (_name, options, applied) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(appModule(options), 'express');
  });
  afterAll(() => t.close());

  it(`${applied ? 'creates' : 'does not create'} requests with the app's prototypes; Datastar events and Nest routes answer alike`, async () => {
    const seen = protoAtArrival(t);
    expect(await readSse(await t.fetch('/ds/bank/transfer', json('POST', { amount: 3 })))).toEqual([signalsEvent({ sent: 3 })]);
    const instance = t.app.getHttpAdapter().getInstance();
    expect(seen.request === instance.request).toBe(applied);
    expect(seen.response === instance.response).toBe(applied);
    const plain = await t.fetch('/plain/7?q=x', json('POST', { a: [1] }));
    expect({ status: plain.status, body: await plain.json() }).toEqual({ status: 201, body: { id: '7', q: 'x', body: { a: [1] } } });
  });
});

describe('a Nest app on Fastify with DatastarModule', () => {
  it('leaves the HTTP server as it is', async () => {
    const t = await startApp(appModule({}), 'fastify');
    try {
      const server = t.app.getHttpServer();
      const classes = Object.getOwnPropertySymbols(server).map((s) => server[s]);
      expect(classes).toContain(IncomingMessage);
      expect(classes).toContain(ServerResponse);
      expect(await readSse(await t.fetch('/ds/bank/transfer', json('POST', { amount: 2 })))).toEqual([signalsEvent({ sent: 2 })]);
    } finally {
      await t.close();
    }
  });
});
