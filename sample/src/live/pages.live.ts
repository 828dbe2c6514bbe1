import { LiveView, type LiveContext, type LiveMountSession, type LiveViewCallbacks } from 'nestjs-datastar';

/** `/live/a` and `/live/b`: one session, soft navigation between them (the stream stays open). */
@LiveView('/live/a', { template: 'live/page-a', title: 'Live page A' })
export class PageALive implements LiveViewCallbacks {
  mount(_params: Record<string, string>, session: LiveMountSession, ctx: LiveContext) {
    ctx.assign({ session: session.id.slice(0, 8), mountedAt: new Date().toISOString() }).signal('clicks', 0);
  }

  handleEvent(event: string, _signals: unknown, ctx: LiveContext) {
    if (event === 'hello') ctx.update('clicks', (n: number) => n + 1).flash('info', 'Hello from page A');
    if (event === 'go-b') ctx.navigate('/live/b');
  }
}

@LiveView('/live/b', { template: 'live/page-b', title: 'Live page B' })
export class PageBLive implements LiveViewCallbacks {
  mount(_params: Record<string, string>, session: LiveMountSession, ctx: LiveContext) {
    ctx.assign({ session: session.id.slice(0, 8), mountedAt: new Date().toISOString() }).signal('note', '');
  }

  handleEvent(event: string, signals: { note?: string }, ctx: LiveContext) {
    if (event === 'save') ctx.assign('saved', String(signals.note ?? '').slice(0, 200)).flash('success', 'Saved');
  }
}
