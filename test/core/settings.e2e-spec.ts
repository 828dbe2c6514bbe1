import { Module, type Type } from '@nestjs/common';
import { DatastarModule, OnEvent, Signals, SignalTracker, StarController, type DatastarModuleOptions } from 'nestjs-datastar';
import { DATASTAR_SETTINGS, type DatastarSettings } from '../../libs/datastar/src/core/datastar-settings';
import { ADAPTERS, json, readError, readSse, startApp, type AdapterName } from './fixtures/harness';
import { signalsEvent } from './fixtures/sse';

@StarController('echo')
class EchoController {
  constructor(private readonly ds: SignalTracker) {}

  @OnEvent('back')
  back(@Signals('text') text: unknown) {
    this.ds.signal('echo', text);
  }
}

function appWith(options: DatastarModuleOptions): Type {
  @Module({ imports: [DatastarModule.forRoot(options)], controllers: [EchoController] })
  class SettingsAppModule {}
  return SettingsAppModule;
}

function asyncAppWith(options: DatastarModuleOptions): Type {
  @Module({ imports: [DatastarModule.forRootAsync({ useFactory: async () => options })], controllers: [EchoController] })
  class AsyncSettingsAppModule {}
  return AsyncSettingsAppModule;
}

/** Why `module` failed to boot; an app that boots is closed (so a failing test leaves nothing running). */
async function bootError(module: Type, adapter: AdapterName): Promise<string | undefined> {
  try {
    await (await startApp(module, adapter)).close();
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

describe.each(ADAPTERS)('module options are checked at boot (%s)', (adapter) => {
  it.each([
    [
      'signalsLimit: -1',
      { signalsLimit: -1 },
      'DatastarModule option signalsLimit must be a positive number, got -1: fix it or leave it out for the default.',
    ],
    [
      'live: { graceMs: -5 }',
      { live: { graceMs: -5 } },
      'DatastarModule option live.graceMs must be a number, 0 or more, got -5: fix it or leave it out for the default.',
    ],
    [
      "live: { secret: 'short' }",
      { live: { secret: 'short' } },
      'The live token secret has 5 characters: use at least 32 random characters',
    ],
  ])('forRoot({ %s }) fails the boot with what to write', async (_, options, message) => {
    expect(await bootError(appWith(options as DatastarModuleOptions), adapter)).toContain(message);
  });

  it('forRootAsync() options are checked the same way', async () => {
    expect(await bootError(asyncAppWith({ signalsTimeout: 0 }), adapter)).toContain(
      'DatastarModule option signalsTimeout must be a positive number, got 0',
    );
  });

  it('good options boot, resolved once, and the app reads signals with them', async () => {
    const secret = 'x'.repeat(32);
    const t = await startApp(appWith({ signalsLimit: 64, heartbeat: 0, live: { secret, graceMs: 0 } }), adapter);
    try {
      const settings = t.app.get<DatastarSettings>(DATASTAR_SETTINGS);
      expect(Object.isFrozen(settings)).toBe(true);
      expect(settings.readSignals.limit).toBe(64);
      expect(settings.writer.heartbeat).toBe(false);
      expect(settings.live).toMatchObject({ secret, graceMs: 0, tokenTtlMs: 60 * 60 * 1000 });
      expect(await readSse(await t.fetch('/ds/echo/back', json('POST', { text: 'hi' })))).toEqual([
        signalsEvent({ echo: 'hi' }),
      ]);
      const tooLarge = await readError(await t.fetch('/ds/echo/back', json('POST', { text: 'x'.repeat(64) })));
      expect(tooLarge.status).toBe(413);
    } finally {
      await t.close();
    }
  });
});
