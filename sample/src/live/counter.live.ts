import { LiveView, type LiveContext, type LiveViewCallbacks } from 'nestjs-datastar';

interface CounterAssigns {
  count: number;
  ticks: number;
  session: string;
}

/**
 * `/live/counter`: state kept on the server per session. `#increment` posts an event, a server
 * timer ticks every second through handleInfo; only the changed signal travels each time.
 */
@LiveView('/live/counter', { template: 'live/counter', title: 'Live counter' })
export class CounterLive implements LiveViewCallbacks<CounterAssigns> {
  mount(_params: Record<string, string>, session: { id: string }, ctx: LiveContext<CounterAssigns>) {
    ctx.signal({ count: 0, ticks: 0 }).assign('session', session.id.slice(0, 8));
    ctx.sendEvery(1000, 'tick');
  }

  handleEvent(event: string, _signals: unknown, ctx: LiveContext<CounterAssigns>) {
    if (event === 'increment') {
      ctx.update('count', (n) => n + 1);
      if (ctx.assigns.count % 10 === 0) ctx.flash('info', `${ctx.assigns.count}: a round number!`);
    }
  }

  handleInfo(message: string, ctx: LiveContext<CounterAssigns>) {
    if (message === 'tick') ctx.update('ticks', (n) => n + 1);
  }
}
