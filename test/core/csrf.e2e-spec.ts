import { useDatastarViews } from 'nestjs-datastar';
import { CsrfAppModule, saves, TOKEN } from './fixtures/csrf.app';
import { ADAPTERS, json, query, readError, readSse, startApp, type TestApp } from './fixtures/harness';
import { signalsEvent } from './fixtures/sse';

describe('CSRF on pages (express)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(CsrfAppModule, 'express', { setup: (app) => useDatastarViews(app) });
  });
  afterAll(() => t.close());

  it('the page signals carry the token and {{ds-post}} sends it in the x-csrf-token header', async () => {
    const res = await t.fetch('/vault');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(
      `<main id="vault" data-signals="{&quot;csrf&quot;:&quot;${TOKEN}&quot;,&quot;count&quot;:1}">` +
      '<button id="save" data-on:click="@post(&quot;/ds/vault/save&quot;,' +
      '{&quot;headers&quot;:{&quot;x-csrf-token&quot;:$csrf}})">save</button></main>\n',
    );
  });
});

/** DatastarCsrfBridge copies the `csrf` signal into the header a user's CSRF check reads. */
describe.each(ADAPTERS)('DatastarCsrfBridge + a double-submit check (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(CsrfAppModule, adapter);
  });
  afterAll(() => t.close());

  const cookie = { cookie: `csrf=${TOKEN}` };

  it('the token in the header passes', async () => {
    const res = await t.fetch('/ds/vault/save', json('POST', { count: 2 }, { ...cookie, 'x-csrf-token': TOKEN }));
    expect(await readSse(res)).toEqual([signalsEvent({ saved: 2 })]);
  });

  it('no token at all -> 403 from the check, the handler never runs', async () => {
    const before = saves.count;
    const { status, body } = await readError(await t.fetch('/ds/vault/save', json('POST', { count: 2 }, cookie)));
    expect(status).toBe(403);
    expect(body.message).toBe('invalid csrf token');
    expect(saves.count).toBe(before);
  });

  it('a wrong token in the signal -> 403', async () => {
    const res = await t.fetch('/ds/vault/save', json('POST', { csrf: 'forged', count: 2 }, cookie));
    expect((await readError(res)).status).toBe(403);
  });

  it('a header token is not overridden by the signal', async () => {
    const res = await t.fetch('/ds/vault/save', json('POST', { csrf: TOKEN }, { ...cookie, 'x-csrf-token': 'forged' }));
    expect((await readError(res)).status).toBe(403);
  });

  it('the token only as the csrf signal in a DELETE query passes', async () => {
    const res = await t.fetch(`/ds/vault/remove${query({ csrf: TOKEN, count: 3 })}`, {
      method: 'DELETE',
      headers: { ...cookie, 'datastar-request': 'true' },
    });
    expect(await readSse(res)).toEqual([signalsEvent({ saved: 3 })]);
  });

  it('without the Datastar-Request header the bridge leaves the request alone -> 403', async () => {
    const res = await t.fetch('/ds/vault/save', {
      method: 'POST',
      headers: { ...cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ csrf: TOKEN }),
    });
    expect((await readError(res)).status).toBe(403);
  });

  it('a cross-site link (GET, no Datastar-Request) to a POST event -> 403 before the handler, no token needed', async () => {
    const before = saves.count;
    // The double-submit check lets GET through (a safe method): the Datastar endpoint refuses it itself.
    const res = await t.fetch(`/ds/vault/transfer${query({ to: 'mallory', amount: 1000 })}`, { headers: cookie });
    const { status, body } = await readError(res);
    expect(status).toBe(403);
    expect(body.message).toContain('Datastar-Request: true');
    expect(saves.count).toBe(before);
  });

  it('the same GET with the header (a same-site script) -> 405 Allow: POST, the handler never runs', async () => {
    const before = saves.count;
    const res = await t.fetch(`/ds/vault/transfer${query({ to: 'mallory' })}`, { headers: { ...cookie, 'datastar-request': 'true' } });
    expect((await readError(res)).status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(saves.count).toBe(before);
  });

  // KNOWN BUG on Fastify (reported): Nest middleware runs in Fastify's onRequest hook, before the
  // body is parsed, so the bridge cannot see a `csrf` signal sent in a POST body.
  (adapter === 'fastify' ? it.failing : it)('the token only as the csrf signal in a POST body passes', async () => {
    const res = await t.fetch('/ds/vault/save', json('POST', { csrf: TOKEN, count: 4 }, cookie));
    expect(await readSse(res)).toEqual([signalsEvent({ saved: 4 })]);
  });
});
