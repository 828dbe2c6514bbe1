import { useDatastarViews } from 'nestjs-datastar';
import { readSignalsFromHtml } from 'nestjs-datastar/testing';
import { runLikeClient } from '../../libs/datastar/src/protocol/client-compile.fixture';
import { AT_TEXT, FragmentSignalsAppModule, SECRET } from './fixtures/fragment-signals.app';
import { ADAPTERS, json, readSse, startApp, type TestApp } from './fixtures/harness';

const unescapeHtml = (s: string) =>
  s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The value of the panel's data-signals, as the browser reads the attribute. */
function dataSignals(html: string): string {
  const match = /<div id="panel" data-signals="([^"]*)">/.exec(html);
  if (!match) throw new Error(`no data-signals on #panel in ${html}`);
  return unescapeHtml(match[1]);
}

/** What Datastar 1.0.2 makes of the attribute (a reproduction of its compiler); the test kit agrees. */
function evaluated(html: string): unknown {
  const run = runLikeClient(dataSignals(html), { returnsValue: true });
  expect(run.window).toEqual({});
  expect(run.actions).toEqual([]);
  expect(readSignalsFromHtml(html)).toEqual(run.result);
  return run.result;
}

describe.each(ADAPTERS)('{{ds-signals}} in a fragment writes signals only, as a literal the client cannot misread (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(FragmentSignalsAppModule, adapter);
  });
  afterAll(() => t.close());

  it('in a patched fragment: the signals, never the assigns or the fragment locals', async () => {
    const events = await readSse(await t.fetch('/ds/fragment/show', json('POST', {})));
    const patch = events.find((e) => e.event === 'datastar-patch-elements');
    const html = patch!.data.filter((l) => l.startsWith('elements ')).map((l) => l.slice('elements '.length)).join('\n');
    const expression = dataSignals(html);
    expect(expression).not.toContain('hunter2');
    expect(expression).not.toContain('square');
    expect(expression).not.toMatch(/[@$]/);
    expect(evaluated(html)).toEqual({ count: 1, note: AT_TEXT });
    expect(html).toContain('<span id="count">1</span>');
  });
});

// useDatastarViews() (pages rendered by the view engine) is for Express.
describe('{{ds-signals}} on a page (express)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(FragmentSignalsAppModule, 'express', { setup: (app) => useDatastarViews(app) });
  });
  afterAll(() => t.close());

  it('on a page: "@post(" inside a signal value stays text', async () => {
    const res = await t.fetch('/fragment');
    expect(res.status).toBe(200);
    const html = await res.text();
    const expression = dataSignals(html);
    expect(expression).not.toContain('hunter2');
    expect(expression).not.toMatch(/[@$]/);
    expect(evaluated(html)).toEqual({ count: 1, note: AT_TEXT });
  });
});
