import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { controllerNameOf } from '../../libs/datastar/src/decorators/star-controller.decorator';
import { AsyncAppModule, built, DuplicateAppModule, ScopedAppModule } from './fixtures/module.app';
import { ADAPTERS, json, readError, readSse, startApp, type TestApp } from './fixtures/harness';
import { elementsEvent, signalsEvent } from './fixtures/sse';

describe.each(ADAPTERS)('DatastarModule (%s)', (adapter) => {
  describe("forRootAsync({ useFactory }) with path 'api/ds'; a StarController named from its class", () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp(AsyncAppModule, adapter);
    });
    afterAll(() => t.close());

    it('dispatches under the custom path, and action URLs in fragments use it', async () => {
      expect(await readSse(await t.fetch('/api/ds/user-profile/ping', json('POST', {})))).toEqual([
        signalsEvent({ pong: true }),
        elementsEvent(
          '<li id="item-1">x #  <button data-on:click="@post(&quot;/api/ds/user-profile/buy&quot;)">buy</button></li>',
          { selector: '#items', mode: 'append' },
        ),
      ]);
    });

    it('the default path is not served', async () => {
      expect((await readError(await t.fetch('/ds/user-profile/ping', json('POST', {})))).status).toBe(404);
    });



    it('action URLs follow app.setGlobalPrefix()', async () => {
      const prefixed = await startApp(AsyncAppModule, adapter, { setup: (app) => void app.setGlobalPrefix('v1') });
      try {
        const [, fragment] = await readSse(await prefixed.fetch('/v1/api/ds/user-profile/ping', json('POST', {})));
        expect(fragment.data.join('\n')).toContain('@post(&quot;/v1/api/ds/user-profile/buy&quot;)');
      } finally {
        await prefixed.close();
      }
    });

    it('the class-derived name is also the page route', async () => {
      const res = await t.fetch('/user-profile');
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('profile page');
    });
  });

  describe('request-scoped StarControllers get a fresh instance per request', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp(ScopedAppModule, adapter);
    });
    afterAll(() => t.close());

    const who = async (name: string, headers: Record<string, string> = {}) => {
      const [event] = await readSse(await t.fetch(`/ds/${name}/who`, json('POST', {}, headers)));
      return JSON.parse(event.data[0].slice('signals '.length));
    };

    it.each([
      ['@Injectable({ scope }) below @StarController()', 'scoped-below', 'below'],
      ['@Injectable({ scope }) above @StarController()', 'scoped-above', 'above'],
      ['@StarController({ scope: Scope.REQUEST })', 'scoped-option', 'option'],
    ])('%s', async (_how, name, key) => {
      const first = await who(name);
      const second = await who(name);
      expect(second.n).toBe(first.n + 1);
      expect(built[key]).toBe(second.n);
    });

    it('a controller injecting a request-scoped provider (scope by dependency)', async () => {
      const first = await who('scoped-dep', { 'x-caller': 'ada' });
      const second = await who('scoped-dep', { 'x-caller': 'bob' });
      expect(first.caller).toBe('ada');
      expect(second).toEqual({ n: first.n + 1, caller: 'bob' });
    });

    it('a singleton StarController keeps one instance', async () => {
      const first = await who('single');
      const second = await who('single');
      expect(second.n).toBe(first.n);
    });
  });

  it('two StarControllers with the same name and event fail the boot with a clear message', async () => {
    const options = { logger: false, abortOnError: false } as const;
    const app = adapter === 'fastify'
      ? await NestFactory.create(DuplicateAppModule, new FastifyAdapter(), options)
      : await NestFactory.create(DuplicateAppModule, options);
    try {
      await expect(app.init()).rejects.toThrow(
        'Datastar event "dup/go" is declared twice (DupAController.go() and DupBController.go()): ' +
        "rename one @OnEvent() or give one controller another name with @StarController('name').",
      );
    } finally {
      await app.close().catch(() => undefined);
    }
  });
});

describe('controller names', () => {
  it.each([
    ['CounterController', 'counter'],
    ['UserProfileController', 'user-profile'],
    ['HTMLPageController', 'html-page'],
    ['Search', 'search'],
  ])('%s -> %s', (className, name) => {
    expect(controllerNameOf(className)).toBe(name);
  });
});
