import { DatastarContext, datastarStorage } from './request-context';

/** Lets every queued microtask run. */
const settle = () => new Promise(setImmediate);

describe('DatastarContext', () => {
  describe('locals()', () => {
    it('request signals, then assigns, then extra: each later one wins', () => {
      const ctx = new DatastarContext('dispatch', {}, {}, 'c');
      ctx.requestSignals = { a: 'signal', b: 'signal', c: 'signal' };
      Object.assign(ctx.assigns, { b: 'assign', c: 'assign' });
      expect(ctx.locals({ c: 'extra' })).toEqual({ a: 'signal', b: 'assign', c: 'extra' });
      expect(ctx.locals()).toEqual({ a: 'signal', b: 'assign', c: 'assign' });
    });

    it('without request signals (a page) only assigns and extra; nothing is mutated', () => {
      const ctx = new DatastarContext('page', {}, {}, undefined);
      ctx.assigns.title = 'Home';
      const locals = ctx.locals({ extra: 1 });
      expect(locals).toEqual({ title: 'Home', extra: 1 });
      locals.title = 'changed';
      expect(ctx.assigns).toEqual({ title: 'Home' });
    });
  });

  describe('hasPending()', () => {
    it('is true while signals or patches wait for a flush', () => {
      const ctx = new DatastarContext('dispatch', {}, {}, 'c');
      expect(ctx.hasPending()).toBe(false);
      ctx.assigns.title = 'not sent';
      expect(ctx.hasPending()).toBe(false);
      ctx.signals.count = 1;
      expect(ctx.hasPending()).toBe(true);
      ctx.signals = {};
      expect(ctx.hasPending()).toBe(false);
      ctx.queue.push({ type: 'x', data: 'y' } as never);
      expect(ctx.hasPending()).toBe(true);
      ctx.queue.splice(0);
      expect(ctx.hasPending()).toBe(false);
    });
  });

  describe('changed()', () => {
    it('does nothing while the handler runs (not live): the dispatcher flushes once at the end', async () => {
      const ctx = new DatastarContext('dispatch', {}, {}, 'c');
      const flush = jest.fn();
      ctx.changed(flush);
      await settle();
      expect(flush).not.toHaveBeenCalled();
    });

    it('once live, schedules one flush per microtask turn, however many changes', async () => {
      const ctx = new DatastarContext('dispatch', {}, {}, 'c');
      ctx.live = true;
      const flush = jest.fn();
      ctx.changed(flush);
      ctx.changed(flush);
      ctx.changed(flush);
      expect(flush).not.toHaveBeenCalled();
      await settle();
      expect(flush).toHaveBeenCalledTimes(1);
      expect(flush).toHaveBeenCalledWith(ctx);
      // A later change is flushed again.
      ctx.changed(flush);
      await settle();
      expect(flush).toHaveBeenCalledTimes(2);
    });
  });
});

describe('datastarStorage', () => {
  it('holds the context for the request and what it awaits', async () => {
    const ctx = new DatastarContext('dispatch', {}, {}, 'c');
    const seen = await datastarStorage.run(ctx, async () => {
      await settle();
      return datastarStorage.getStore();
    });
    expect(seen).toBe(ctx);
    expect(datastarStorage.getStore()).toBeUndefined();
  });
});
