import { DatastarTemplates, useDatastarViews } from 'nestjs-datastar';
import { todosModule } from './fixtures/todos.app';
import { ADAPTERS, json, readError, readSse, startApp, type TestApp } from './fixtures/harness';
import { scriptEvent, signalsEvent } from './fixtures/sse';

const unescapeHtml = (s: string) =>
  s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The attributes of the page's client script element. */
function scriptAttributes(html: string): Record<string, string> {
  const tag = /<script type="module"[^>]*><\/script>/.exec(html)?.[0];
  if (!tag) throw new Error(`no client script in ${html}`);
  return Object.fromEntries([...tag.matchAll(/([\w:-]+)="([^"]*)"/g)].map(([, name, value]) => [name, unescapeHtml(value)]));
}

/**
 * A page shows what fails: `{{ds-script}}` puts the handlers on the client's script element (a 401
 * reloads, other error statuses and lost streams show a notice, and so does the errors signal's
 * `page`), configurable with hash arguments.
 */
describe('{{ds-script}} failure handlers (express, useDatastarViews)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(todosModule(), 'express', { setup: (app) => useDatastarViews(app) });
  });
  afterAll(() => t.close());

  it('by default: a 401 reloads the page, other failures and the errors signal\'s `page` show a notice', async () => {
    const attributes = scriptAttributes(await (await t.fetch('/todos')).text());
    expect(attributes.integrity).toBe('sha256-KDfYes9u4LqOTmN2WSbCWpjWOIOwL4i+GUqGuB0/0ko=');
    const onFetch = attributes['data-on:datastar-fetch'];
    const onPatch = attributes['data-on:datastar-signal-patch'];
    expect(onFetch).toContain("s === '401'");
    expect(onFetch).toContain('window.location.reload()');
    expect(onFetch).toContain('"Request failed (HTTP "');
    expect(onFetch).toContain("'retries-failed'");
    expect(onPatch).toContain('evt.detail?.["errors"]');
    expect(onPatch).toContain('getElementById("ds-notice")');
    // Nothing the client would rewrite into a signal read or an action call.
    expect(`${onFetch}${onPatch}`).not.toMatch(/[$@]/);
  });

  it('reloadOn401=false: a 401 shows the notice like any other status', async () => {
    const attributes = scriptAttributes(await (await t.fetch('/todos?quiet')).text());
    expect(attributes['data-on:datastar-fetch']).not.toContain('window.location.reload()');
    expect(attributes['data-on:datastar-fetch']).toContain('"Request failed (HTTP "');
    expect(attributes['data-on:datastar-signal-patch']).toBeDefined();
  });

  it('notice=false reloadOn401=false: the plain client script; an unknown option fails to render', () => {
    const templates = t.app.get(DatastarTemplates);
    expect(templates.compile('{{ds-script notice=false reloadOn401=false}}')({})).toBe(
      '<script type="module" src="https://cdn.jsdelivr.net/gh/starfederation/datastar@v1.0.2/bundles/datastar.js" ' +
      'integrity="sha256-KDfYes9u4LqOTmN2WSbCWpjWOIOwL4i+GUqGuB0/0ko=" crossorigin="anonymous"></script>',
    );
    expect(scriptAttributes(templates.compile('{{ds-script notice=false}}')({}))['data-on:datastar-signal-patch']).toBeUndefined();
    expect(() => templates.compile('{{ds-script notices=false}}')({})).toThrow(
      '{{ds-script}} has no option notices=false: use notice=false (no failure notice) or reloadOn401=false',
    );
    expect(() => templates.compile("{{ds-script notice='no'}}")({})).toThrow('has no option notice="no"');
  });
});

/** What a handler's failure sends once the stream started: the page's errors signal carries it under `page`. */
describe.each(ADAPTERS)('failures a StarController page can show (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(todosModule(), adapter);
  });
  afterAll(() => t.close());
  beforeEach(() => t.logger.clear());

  const levels = () => t.logger.lines.filter((l) => l.level === 'warn' || l.level === 'error');

  it('a 4xx HttpException in a handler is an answer: its message in errors.page, a warning without a stack', async () => {
    expect(await readSse(await t.fetch('/ds/todos/toggle', json('POST', { id: 999 })))).toEqual([
      signalsEvent({ errors: { page: 'Todo 999 not found' } }),
    ]);
    expect(levels()).toEqual([
      { level: 'warn', message: 'todos/toggle answered 404: Todo 999 not found', rest: ['Datastar'] },
    ]);
  });

  it('a 4xx with a list of messages: joined', async () => {
    expect(await readSse(await t.fetch('/ds/todos/invalid', json('POST', {})))).toEqual([
      signalsEvent({ errors: { page: 'title must not be empty; title is too long' } }),
    ]);
    expect(levels().map((l) => l.level)).toEqual(['warn']);
  });

  it('any other error: logged with its stack; the console and errors.page get the generic text with its id', async () => {
    const events = await readSse(await t.fetch('/ds/todos/crash', json('POST', {})));
    const [error] = t.logger.lines.filter((l) => l.level === 'error');
    const id = /\[error ([0-9a-f]{8})\]$/.exec(error.message)![1];
    expect(String(error.rest[0])).toContain('Error: connect failed');
    const text = `The server could not complete this request (error ${id}: the server log has the details under this id).`;
    expect(events).toEqual([
      signalsEvent({ pinged: false }),
      scriptEvent(`console.error(${JSON.stringify(`[datastar] ${text}`)})`),
      signalsEvent({ errors: { page: text } }),
    ]);
    expect(JSON.stringify(events)).not.toContain('s3cret');
  });

  it('the next request clears a shown errors.page (an empty one, or none, is left alone)', async () => {
    expect(await readSse(await t.fetch('/ds/todos/ping', json('POST', { errors: { page: 'Todo 999 not found' } })))).toEqual([
      signalsEvent({ errors: { page: '' }, pinged: true }),
    ]);
    for (const errors of [{ page: '' }, {}, undefined]) {
      expect(await readSse(await t.fetch('/ds/todos/ping', json('POST', { errors })))).toEqual([signalsEvent({ pinged: true })]);
    }
  });

  it('the same message again: cleared first, so the page sees it change', async () => {
    expect(await readSse(await t.fetch('/ds/todos/toggle', json('POST', { id: 999, errors: { page: 'Todo 999 not found' } })))).toEqual([
      signalsEvent({ errors: { page: '' } }),
      signalsEvent({ errors: { page: 'Todo 999 not found' } }),
    ]);
  });

  it("a guard's 401 and 403 stay plain HTTP answers before any SSE byte (the page's handler sees the status)", async () => {
    expect((await readError(await t.fetch('/ds/todos/private', json('POST', {})))).status).toBe(401);
    expect((await readError(await t.fetch('/ds/todos/forbidden', json('POST', {})))).status).toBe(403);
  });
});
