import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { DatastarModule, LiveView, OnEvent, SignalTracker, StarController, type LiveContext } from 'nestjs-datastar';
import { parseEvents, postEvent, readLivePage, startApp, type LiveTestApp } from './fixtures/http';

/**
 * `patchElement(source, { locals })` in a live view and in a Datastar event: one option reading
 * (tracker/patch-element.ts) for both. A fragment's `locals` are template data over the assigns
 * and signals, for that fragment only; raw HTML (`patchElements`) takes no `locals` at all.
 */
@LiveView('/live/fragments', { template: '<ul id="rows"></ul>' })
class FragmentsLive {
  mount(_params: unknown, _session: unknown, ctx: LiveContext) {
    ctx.assign('label', 'assigned').signal('count', 3);
  }

  handleEvent(event: string, _signals: unknown, ctx: LiveContext) {
    if (event === 'template') {
      ctx.patchElement('live/row', { to: 'rows', mode: 'append', locals: { id: 7, label: 'local' } });
      // The next fragment of the same callback sees the assigns again.
      ctx.patchElement('live/row', { to: 'rows', mode: 'append', locals: { id: 8 } });
    }
    if (event === 'function') ctx.patchElement((a) => `<li id="fn">${a.label}:${a.count}:${a.id}</li>`, { locals: { id: 9, label: 'local' } });
    if (event === 'raw') {
      ctx.patchElements('<li id="raw">raw</li>', {
        to: 'rows',
        mode: 'append',
        // @ts-expect-error raw HTML has no template data: `locals` is refused at compile time, not silently ignored
        locals: { id: 10 },
      });
    }
  }
}

@StarController('fragments')
class FragmentsController {
  constructor(private readonly ds: SignalTracker) {}

  @OnEvent('template')
  template() {
    this.ds
      .assign('label', 'assigned')
      .signal('count', 3)
      .patchElement('live/row', { to: 'rows', mode: 'append', locals: { id: 7, label: 'local' } })
      .patchElement('live/row', { to: 'rows', mode: 'append', locals: { id: 8 } });
  }

  @OnEvent('raw')
  raw() {
    this.ds.patchElements('<li id="raw">raw</li>', {
      to: 'rows',
      // @ts-expect-error raw HTML has no template data: `locals` is refused at compile time, not silently ignored
      locals: { id: 10 },
    });
  }
}

@Module({
  imports: [DatastarModule.forRoot({ views: join(__dirname, 'fixtures/views'), live: { secret: 'x'.repeat(40) } })],
  controllers: [FragmentsLive, FragmentsController],
})
class FragmentsModule {}

describe.each(['express', 'fastify'] as const)('patchElement locals (%s)', (adapter) => {
  let t: LiveTestApp;
  beforeAll(async () => {
    t = await startApp(FragmentsModule, adapter === 'fastify' ? new FastifyAdapter() : undefined);
  });
  afterAll(() => t.close());

  /** A live event's own answer (no stream is open): its element patches. */
  async function liveEvent(event: string): Promise<Array<{ selector?: string; mode?: string; elements?: string }>> {
    const page = readLivePage(await (await t.fetch('/live/fragments')).text());
    const res = await postEvent(t, '/live/fragments', event, page.token, { count: 3 });
    expect(res.status).toBe(200);
    return parseEvents(await res.text())
      .filter((e) => e.event === 'datastar-patch-elements')
      .map((e) => ({ selector: e.get('selector'), mode: e.get('mode'), elements: e.get('elements') }));
  }

  it('a live view: locals reach the template, over the assigns, for that fragment only', async () => {
    expect(await liveEvent('template')).toEqual([
      { selector: '#rows', mode: 'append', elements: '<li id="row-7">local (3)</li>' },
      { selector: '#rows', mode: 'append', elements: '<li id="row-8">assigned (3)</li>' },
    ]);
  });

  it('a live view: locals reach a function source too', async () => {
    expect(await liveEvent('function')).toEqual([{ selector: undefined, mode: undefined, elements: '<li id="fn">local:3:9</li>' }]);
  });

  it('a live view: raw HTML is patched as given, `to` as its selector', async () => {
    expect(await liveEvent('raw')).toEqual([{ selector: '#rows', mode: 'append', elements: '<li id="raw">raw</li>' }]);
  });

  it('a Datastar event: the same reading of the options', async () => {
    const post = (event: string) =>
      t.fetch(`/ds/fragments/${event}`, { method: 'POST', headers: { 'content-type': 'application/json', 'datastar-request': 'true' }, body: '{}' });
    const elements = parseEvents(await (await post('template')).text())
      .filter((e) => e.event === 'datastar-patch-elements')
      .map((e) => e.get('elements'));
    expect(elements).toEqual(['<li id="row-7">local (3)</li>', '<li id="row-8">assigned (3)</li>']);
    const [raw] = parseEvents(await (await post('raw')).text());
    expect([raw.get('selector'), raw.get('elements')]).toEqual(['#rows', '<li id="raw">raw</li>']);
  });
});
