import { LiveSession } from './live-session';
import type { LiveEngine } from './live-engine.interface';
import type { LiveViewDefinition } from './live-view.registry';

/** A session on a fake engine whose store keeps what it was last given. */
async function started(handleInfo: (message: any, ctx: any) => unknown) {
  const saved: string[] = [];
  const engine = {
    settings: { idleTimeoutMs: 60_000, graceMs: 60_000, tokenTtlMs: 60_000, flashMs: 1000, maxSignalBytes: 1 << 20, exposeErrors: false },
    logger: { warn: () => undefined, error: () => undefined },
    tokens: { sign: () => 'token' },
    storage: { serialize: (record: unknown) => JSON.stringify(record), save: async (_id: string, text: string) => void saved.push(text), flush: () => undefined, remove: async () => undefined },
    renderView: (_view: unknown, ctx: any) => `<p>${ctx.assigns.tick}</p>`,
    ended: () => undefined,
  } as unknown as LiveEngine;
  const view = { route: { pattern: '/t' }, options: {}, group: 'g', instance: { handleInfo } } as unknown as LiveViewDefinition;
  const session = new LiveSession(engine, false, 'sid');
  const mounted = await session.mountView(view, '/t', {}, { id: 'sid', data: {} } as never);
  mounted.ctx.assign('tick', 0);
  session.install(view, mounted, '/t');
  session.start();
  const writer = { closed: false, send: () => true, close: () => undefined, onClose: () => undefined };
  session.attach(writer as never);
  await new Promise((resolve) => setImmediate(resolve));
  return { session, saved, last: () => JSON.parse(saved[saved.length - 1]).assigns.tick };
}

describe('LiveSession saves', () => {
  it('saves a handleInfo change after the turn', async () => {
    const { session, saved, last } = await started((message, ctx) => ctx.assign('tick', message));
    const before = saved.length;
    session.send(1);
    expect(saved.length).toBe(before);
    await new Promise((resolve) => setImmediate(resolve));
    expect(last()).toBe(1);
  });

  it('a session ended in the same turn keeps the state its handleInfo left', async () => {
    const { session, last } = await started((message, ctx) => ctx.assign('tick', message));
    session.send(2);
    await session.terminate('shutdown');
    expect(last()).toBe(2);
  });
});
