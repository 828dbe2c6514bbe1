import { handled, ValidationAppModule } from './fixtures/validation.app';
import { ADAPTERS, ds, json, query, readSse, startApp, type TestApp } from './fixtures/harness';
import { signalsEvent } from './fixtures/sse';

/** `@Signals()` DTOs are validated before the handler; errors go to the page as an `errors` signal. */
describe.each(ADAPTERS)('@Signals() (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(ValidationAppModule, adapter);
  });
  afterAll(() => t.close());

  const valid = { count: 2, name: 'Ada', address: { zip: '12345' } };

  it('valid signals: the handler gets a DTO instance (methods, nested classes)', async () => {
    const before = handled.order;
    expect(await readSse(await t.fetch('/ds/orders/place', json('POST', valid)))).toEqual([
      signalsEvent({ total: 4, zipIsAddress: true }),
    ]);
    expect(handled.order).toBe(before + 1);
  });

  it('invalid signals: the handler does NOT run; 200 SSE with an errors patch mirroring the fields', async () => {
    const before = handled.order;
    const res = await t.fetch('/ds/orders/place', json('POST', { count: 0, name: 'A', address: { zip: '1' } }));
    expect(res.status).toBe(200);
    expect(await readSse(res)).toEqual([
      signalsEvent({
        errors: { count: 'count must be at least 1', name: 'name is too short', address: { zip: 'zip must have 5 characters' } },
      }),
    ]);
    expect(handled.order).toBe(before);
  });

  it('invalid GET query signals are validated the same way', async () => {
    const before = handled.order;
    expect(await readSse(await t.fetch(`/ds/orders/place-get${query({ ...valid, name: 'B' })}`, ds()))).toEqual([
      signalsEvent({ errors: { name: 'name is too short' } }),
    ]);
    expect(handled.order).toBe(before);
  });

  it('a valid request clears the errors the page still shows, in the same merged patch', async () => {
    const res = await t.fetch('/ds/orders/place', json('POST', { ...valid, errors: { count: 'old', name: 'old' } }));
    expect(await readSse(res)).toEqual([signalsEvent({ errors: { count: '', name: '' }, total: 4, zipIsAddress: true })]);
  });

  it("@Signals('count'): one key, as is", async () => {
    const before = handled.count;
    expect(await readSse(await t.fetch('/ds/orders/count', json('POST', { count: 21, other: 'x' })))).toEqual([
      signalsEvent({ doubled: 42 }),
    ]);
    expect(handled.count).toBe(before + 1);
  });

  it("@Signals('address') with a DTO type: that key is validated; errors nest under it", async () => {
    const before = handled.address;
    expect(await readSse(await t.fetch('/ds/orders/address', json('POST', { address: { zip: '98765' } })))).toEqual([
      signalsEvent({ zip: '98765' }),
    ]);
    expect(await readSse(await t.fetch('/ds/orders/address', json('POST', { address: { zip: 'x' } })))).toEqual([
      signalsEvent({ errors: { address: { zip: 'zip must have 5 characters' } } }),
    ]);
    expect(handled.address).toBe(before + 1);
  });
});
