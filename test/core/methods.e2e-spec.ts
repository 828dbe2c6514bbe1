import { Controller, Module, Post } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { createRequire } from 'node:module';
import { DatastarTemplates } from 'nestjs-datastar';
import { BadMethodModule, calls, methodsModule } from './fixtures/methods.app';
import { ADAPTERS, ds, json, query, readError, readSse, startApp, type TestApp } from './fixtures/harness';
import { elementsEvent, signalsEvent } from './fixtures/sse';

const runs = (event: string) => calls[event] ?? 0;

/**
 * Issue 9, item 2: an event answers the one method it declares (POST by default; 405 with Allow
 * for the others) and only Datastar requests (`Datastar-Request: true`, not `Sec-Fetch-Site:
 * cross-site`; 403). So a cross-site link or form can never run a handler, with no CSRF token.
 */
describe.each(ADAPTERS)('one method per event, Datastar requests only (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(methodsModule(), adapter);
  });
  afterAll(() => t.close());

  /** A 405 before any SSE byte, naming the one method the event answers; the handler did not run. */
  async function expect405(event: string, init: RequestInit, allow: string, path = `/ds/bank/${event}`): Promise<void> {
    const before = runs(event);
    const res = await t.fetch(path, init);
    const { status, body } = await readError(res);
    expect({ status, allow: res.headers.get('allow') }).toEqual({ status: 405, allow });
    if (init.method !== 'HEAD') expect(body.message).toContain(`this Datastar endpoint answers ${allow}`);
    expect(runs(event)).toBe(before);
  }

  describe('a POST event (the default)', () => {
    it('answers POST', async () => {
      const before = runs('transfer');
      expect(await readSse(await t.fetch('/ds/bank/transfer', json('POST', { amount: 5 })))).toEqual([signalsEvent({ sent: 5 })]);
      expect(runs('transfer')).toBe(before + 1);
    });

    it.each(['GET', 'DELETE'])('%s (signals in the query) -> 405 Allow: POST, the handler never runs', async (method) => {
      await expect405('transfer', ds({ method }), 'POST', `/ds/bank/transfer${query({ amount: 1000 })}`);
    });

    it.each(['PUT', 'PATCH'])('%s (a JSON body) -> 405 Allow: POST', async (method) => {
      await expect405('transfer', json(method, { amount: 1000 }), 'POST');
    });

    it('HEAD -> 405 Allow: POST', async () => {
      await expect405('transfer', ds({ method: 'HEAD' }), 'POST');
    });
  });

  describe('a GET event', () => {
    it('answers GET with the query signals', async () => {
      const res = await t.fetch(`/ds/bank/search${query({ q: 'ap' })}`, ds());
      expect(await readSse(res)).toEqual([signalsEvent({ found: 'ap' })]);
    });

    it('POST -> 405 Allow: GET', async () => {
      await expect405('search', json('POST', { q: 'x' }), 'GET');
    });

    it('HEAD -> 405 Allow: GET (both platforms route HEAD to GET routes)', async () => {
      await expect405('search', ds({ method: 'HEAD' }), 'GET');
    });
  });

  it('a DELETE event answers DELETE and 405s POST', async () => {
    expect(await readSse(await t.fetch(`/ds/bank/close${query({})}`, ds({ method: 'DELETE' })))).toEqual([signalsEvent({ closed: true })]);
    await expect405('close', json('POST', {}), 'DELETE');
  });

  it('an event is found only in the case it is declared in (Express matches its own routes in any case by default)', async () => {
    for (const path of ['/ds/Bank/transfer', '/ds/bank/Transfer', '/ds/BANK/TRANSFER']) {
      expect((await readError(await t.fetch(path, json('POST', { amount: 1 })))).status).toBe(404);
    }
    expect(await readSse(await t.fetch('/ds/bank/transfer', json('POST', { amount: 2 })))).toEqual([signalsEvent({ sent: 2 })]);
  });

  it('Fastify (case-sensitive): each event has a fixed route for its own method; the pattern answers the rest', () => {
    const instance = t.app.getHttpAdapter().getInstance();
    if (adapter === 'express') {
      expect(instance.router.caseSensitive).toBeFalsy(); // so the pattern answers everything
      return;
    }
    expect(instance.hasRoute({ method: 'POST', url: '/ds/bank/transfer' })).toBe(true);
    expect(instance.hasRoute({ method: 'GET', url: '/ds/bank/search' })).toBe(true);
    expect(instance.hasRoute({ method: 'GET', url: '/ds/bank/transfer' })).toBe(false);
    expect(instance.hasRoute({ method: 'POST', url: '/ds/:controller/:event' })).toBe(true);
  });

  it('an unknown event is still 404, whatever the method', async () => {
    for (const init of [json('POST', {}), ds(), ds({ method: 'PUT' })]) {
      expect((await readError(await t.fetch('/ds/bank/nope', init))).status).toBe(404);
    }
  });

  describe('Datastar-Request: true is required', () => {
    it('GET /ds/bank/transfer?datastar=... without it (a cross-site link) -> 403, the handler never runs', async () => {
      const before = runs('transfer');
      const { status, body } = await readError(await t.fetch(`/ds/bank/transfer${query({ amount: 1000 })}`));
      expect(status).toBe(403);
      expect(body.message).toContain('"Datastar-Request: true"');
      expect(body.message).toContain('call this URL from a Datastar action');
      expect(runs('transfer')).toBe(before);
    });

    it('a POST form without it -> 403, the handler never runs', async () => {
      const before = runs('transfer');
      const res = await t.fetch('/ds/bank/transfer', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'amount=1000',
      });
      expect((await readError(res)).status).toBe(403);
      expect(runs('transfer')).toBe(before);
    });

    it('a GET event without it -> 403 too; a header other than "true" -> 403', async () => {
      const before = runs('search');
      expect((await readError(await t.fetch(`/ds/bank/search${query({ q: 'a' })}`))).status).toBe(403);
      const res = await t.fetch(`/ds/bank/search${query({ q: 'a' })}`, { headers: { 'datastar-request': 'false' } });
      expect((await readError(res)).status).toBe(403);
      expect(runs('search')).toBe(before);
    });
  });

  describe('Sec-Fetch-Site', () => {
    it('cross-site -> 403 with what to do, even with the Datastar header', async () => {
      const before = runs('transfer');
      const res = await t.fetch('/ds/bank/transfer', json('POST', { amount: 1 }, { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }));
      const { status, body } = await readError(res);
      expect(status).toBe(403);
      expect(body.message).toContain('Sec-Fetch-Site: cross-site');
      expect(body.message).toContain('allowCrossSite');
      expect(runs('transfer')).toBe(before);
    });

    it.each(['same-origin', 'same-site', 'none'])('%s -> answered', async (site) => {
      const res = await t.fetch('/ds/bank/transfer', json('POST', { amount: 2 }, { 'sec-fetch-site': site }));
      expect(await readSse(res)).toEqual([signalsEvent({ sent: 2 })]);
    });
  });

  describe('the helpers emit the method each event declares', () => {
    it('{{ds-action}} for this controller\'s and another controller\'s events, in a rendered fragment', async () => {
      const [event] = await readSse(await t.fetch('/ds/bank/actions', json('POST', {})));
      expect(event).toEqual(elementsEvent(
        '<div id="actions" data-search="@get(&quot;/ds/bank/search&quot;)" data-transfer="@post(&quot;/ds/bank/transfer&quot;)" ' +
        'data-get="@get(&quot;/ds/bank/search&quot;)" ' +
        'data-ping="@put(&quot;/ds/teller/ping&quot;,{&quot;filterSignals&quot;:{&quot;include&quot;:&quot;q&quot;}})"></div>',
      ));
    });

    it('{{ds-post}} on a GET event fails to render with what to use instead', () => {
      const templates = t.app.get(DatastarTemplates);
      expect(() => templates.compile("{{ds-post 'bank/search'}}")({})).toThrow(
        "{{ds-post 'bank/search'}}: that event answers GET only: use {{ds-get 'bank/search'}} or {{ds-action 'bank/search'}}",
      );
      expect(() => templates.compile("{{ds-get 'teller/ping'}}")({})).toThrow('that event answers PUT only');
      expect(() => templates.compile("{{ds-action 'bank/nope'}}")({})).toThrow(
        "{{ds-action 'bank/nope'}} names no @OnEvent() handler",
      );
      // An event the app does not serve keeps the method the template names.
      expect(templates.compile("{{ds-delete 'elsewhere/thing'}}")({})).toBe('@delete(&quot;/ds/elsewhere/thing&quot;)');
    });
  });

  it('logs the methods the events declare', () => {
    const line = t.logger.lines.find((l) => l.message.includes('Datastar dispatch'));
    expect(line?.message).toBe('Mapped {/ds/:controller/:event, DELETE|GET|POST|PUT} Datastar dispatch');
  });
});

describe.each(ADAPTERS)('allowCrossSite (%s)', (adapter) => {
  const crossSite = (origin: string) => json('POST', { amount: 3 }, { 'sec-fetch-site': 'cross-site', origin });

  it('true: cross-site Datastar requests are answered (the header is still required)', async () => {
    const t = await startApp(methodsModule({ allowCrossSite: true }), adapter);
    try {
      expect(await readSse(await t.fetch('/ds/bank/transfer', crossSite('https://partner.example')))).toEqual([signalsEvent({ sent: 3 })]);
      expect((await readError(await t.fetch('/ds/bank/transfer', { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } }))).status).toBe(403);
    } finally {
      await t.close();
    }
  });

  it('a list of origins: those are answered, others get 403', async () => {
    const t = await startApp(methodsModule({ allowCrossSite: ['https://partner.example'] }), adapter);
    try {
      expect(await readSse(await t.fetch('/ds/bank/transfer', crossSite('https://partner.example')))).toEqual([signalsEvent({ sent: 3 })]);
      expect((await readError(await t.fetch('/ds/bank/transfer', crossSite('https://evil.example')))).status).toBe(403);
    } finally {
      await t.close();
    }
  });

  it('the refusals go through the app\'s exception filters', async () => {
    const t = await startApp(methodsModule({}, true), adapter);
    try {
      const { status, body } = await readError(await t.fetch(`/ds/bank/transfer${query({})}`));
      expect(status).toBe(403);
      expect(body).toEqual({ filtered: true, message: expect.stringContaining('Datastar-Request: true') });
    } finally {
      await t.close();
    }
  });
});

describe('boot-time checks', () => {
  it("@OnEvent('x', { method: 'FOO' }) fails the boot with what to write", async () => {
    await expect(startApp(BadMethodModule, 'express')).rejects.toThrow(
      "Invalid method \"FOO\" in @OnEvent('x') on BrokenController.x(): use 'GET', 'POST', 'PUT', 'PATCH' or 'DELETE'",
    );
  });

  it('allowCrossSite with something other than origins fails the boot', async () => {
    await expect(startApp(methodsModule({ allowCrossSite: ['https://ok.example/path'] }), 'express')).rejects.toThrow(
      'Invalid allowCrossSite "https://ok.example/path"',
    );
  });
});

/** Express itself (no @types/express here): the app a user configures before Nest's adapter gets it. */
const createExpress = createRequire(__filename)('express') as () => { set(name: string, value: unknown): void };

describe('Express with case sensitive routing: fixed routes too', () => {
  let t: TestApp;
  beforeAll(async () => {
        // Read when Express makes its router, which Nest's adapter does at once: set on the app before.
    const server = createExpress();
    server.set('case sensitive routing', true);
    t = await startApp(methodsModule(), 'express', { httpAdapter: new ExpressAdapter(server) });
  });
  afterAll(() => t.close());

  it('registers a fixed route per event, and still answers 404 and 405 through the pattern', async () => {
    const paths = (t.app.getHttpAdapter().getInstance().router.stack as any[]).map((layer) => layer.route?.path);
    expect(paths).toContain('/ds/bank/transfer');
    expect(paths).toContain('/ds/:controller/:event');
    expect(await readSse(await t.fetch('/ds/bank/transfer', json('POST', { amount: 3 })))).toEqual([signalsEvent({ sent: 3 })]);
    expect((await readError(await t.fetch('/ds/Bank/transfer', json('POST', { amount: 1 })))).status).toBe(404);
    const wrong = await t.fetch('/ds/bank/transfer', ds({ method: 'PUT' }));
    expect({ status: wrong.status, allow: wrong.headers.get('allow') }).toEqual({ status: 405, allow: 'POST' });
  });
});

describe('a Nest route of the app on an event\'s own path and method', () => {
  @Controller('ds/bank')
  class ClashingController {
    @Post('transfer')
    transfer() {
      return 'mine';
    }
  }

  @Module({ imports: [methodsModule()], controllers: [ClashingController] })
  class ClashModule {}

  it('Fastify: a boot error that names the route (the event could never be reached by it)', async () => {
    await expect(startApp(ClashModule, 'fastify')).rejects.toThrow(/POST.*\/ds\/bank\/transfer|\/ds\/bank\/transfer.*POST/);
  });

  it('Express (the pattern only): the app\'s route answers first, as with any two Express routes', async () => {
    const t = await startApp(ClashModule, 'express');
    try {
      expect(await (await t.fetch('/ds/bank/transfer', json('POST', {}))).text()).toBe('mine');
    } finally {
      await t.close();
    }
  });
});
