import { isAbsolute, join, resolve } from 'node:path';
import type { DatastarModuleOptions } from '../interfaces/datastar-module-options.interface';
import { DATASTAR_CLIENT_INTEGRITY, DATASTAR_CLIENT_URL } from '../protocol';
import { normalizePath, resolveDatastarSettings } from './datastar-settings';

const SECRET = 'x'.repeat(32);

/** `resolveDatastarSettings` with `options`, typed loosely: JavaScript users may pass anything. */
const resolveWith = (options: unknown) => resolveDatastarSettings(options as DatastarModuleOptions);

describe('resolveDatastarSettings', () => {
  describe('defaults (as documented on DatastarModuleOptions and DatastarLiveOptions)', () => {
    const settings = resolveDatastarSettings();

    it('paths, client script and helpers', () => {
      expect(settings.path).toBe('ds');
      expect(settings.views).toBeUndefined();
      expect(settings.clientUrl).toBe(DATASTAR_CLIENT_URL);
      expect(settings.clientUrl).toContain('1.0.2');
      expect(settings.clientIntegrity).toBe(DATASTAR_CLIENT_INTEGRITY);
      expect(settings.helpers).toEqual({});
    });

    it('templates are cached when NODE_ENV is production, else re-read when changed', () => {
      const env = process.env.NODE_ENV;
      try {
        process.env.NODE_ENV = 'production';
        expect(resolveDatastarSettings().cacheTemplates).toBe(true);
        process.env.NODE_ENV = 'development';
        expect(resolveDatastarSettings().cacheTemplates).toBe(false);
        delete process.env.NODE_ENV;
        expect(resolveDatastarSettings().cacheTemplates).toBe(false);
      } finally {
        process.env.NODE_ENV = env;
      }
    });

    it('signals: 1 MiB, 30 s, 10000 keys, depth 32, strings of 262144', () => {
      expect(settings.readSignals).toEqual({
        limit: 1024 * 1024,
        timeout: 30_000,
        limits: { keys: 10_000, depth: 32, stringLength: 262_144 },
      });
    });

    it('same-site only, CSRF transport off (with its default names), errors hidden', () => {
      expect(settings.allowCrossSite).toEqual([]);
      expect(settings.csrf).toEqual({ enabled: false, header: 'x-csrf-token', signal: 'csrf', token: undefined });
      expect(settings.validation).toEqual({});
      expect(settings.errorsSignal).toBe('errors');
      expect(settings.exposeErrors).toBe(false);
    });

    it('writer: 15 s heartbeat, the writer\'s own buffer bound, no compression, a 0.5-3 s retry hint at shutdown; in-memory pub/sub with a backlog', () => {
      expect(settings.writer).toEqual({ heartbeat: 15_000, heartbeatEvent: true, maxBufferedBytes: undefined, compression: undefined, shutdownRetry: { min: 500, max: 3000 } });
      expect(settings.redis).toBeUndefined();
      expect(settings.backlog).toEqual({ maxEvents: 100, maxBytes: 65_536, maxTopics: 1000, maxAgeMs: 3_600_000 });
      expect(settings.streams).toEqual({ browserCookie: 'ds_bid', owner: undefined });
    });

    it('live views: 1 h tokens, 15 s grace and idle, 10000 / 50 pending, 64 KiB signals, 4 s flash', () => {
      const { clientKey, ...live } = settings.live;
      expect(live).toMatchObject({
        secret: undefined,
        tokenTtlMs: 60 * 60 * 1000,
        graceMs: 15_000,
        idleTimeoutMs: 15_000,
        maxPendingSessions: 10_000,
        maxPendingPerClient: 50,
        maxSignalBytes: 65_536,
        mountTemplate: undefined,
        flashMs: 4_000,
      });
      expect(clientKey({ ip: '10.0.0.1', socket: { remoteAddress: '10.0.0.2' } })).toBe('10.0.0.1');
      expect(clientKey({ socket: { remoteAddress: '10.0.0.2' } })).toBe('10.0.0.2');
    });

    it('live sessions: kept in .datastar/sessions under the working directory for the token lifetime, 10000 at most, as JSON, not fsynced', () => {
      const { storeDir, store, storeFsync, maxStoredSessions, sessionTtlMs, serializer } = settings.live;
      expect({ storeDir, store, storeFsync, maxStoredSessions, sessionTtlMs }).toEqual({
        storeDir: join(process.cwd(), '.datastar', 'sessions'), store: undefined, storeFsync: false, maxStoredSessions: 10_000, sessionTtlMs: 60 * 60 * 1000,
      });
      const record = { v: 1, id: 'a', route: '/r', path: '/r', search: '', params: {}, assigns: {}, signals: { n: 1 }, tasks: [], connected: true } as const;
      expect(serializer.deserialize(serializer.serialize(record))).toEqual(record);
      expect(resolveDatastarSettings({ live: { tokenTtlMs: 5000 } }).live.sessionTtlMs).toBe(5000);
      expect(resolveDatastarSettings({ live: { store: 'memory' } }).live.storeDir).toBeUndefined();
      expect(() => resolveDatastarSettings({ live: { store: {} as never } })).toThrow("live.store must be 'memory' or an object with get(id)");
    });

    it('live views on several processes (pubsub.redis): forwarded requests wait 5 s, an owner holds a session for 30 s unless renewed', () => {
      expect({ forwardTimeoutMs: settings.live.forwardTimeoutMs, ownerLeaseMs: settings.live.ownerLeaseMs }).toEqual({ forwardTimeoutMs: 5000, ownerLeaseMs: 30_000 });
    });
  });

  describe('given options', () => {
    it('are kept', () => {
      const owner = (req: any) => req.user;
      const token = () => 't';
      const clientKey = () => 'k';
      const helpers = { shout: (s: string) => s.toUpperCase() };
      const settings = resolveDatastarSettings({
        path: '/api/ds/',
        clientUrl: '/datastar.js',
        clientIntegrity: 'sha256-abc',
        signalsLimit: 10,
        signalsTimeout: 20,
        signalsLimits: { keys: 3 },
        allowCrossSite: ['https://App.Example.com:8443'],
        csrf: { header: 'x-token', token },
        validation: { whitelist: true, errorsSignal: 'problems' },
        exposeErrors: true,
        cacheTemplates: false,
        helpers,
        heartbeat: 500,
        heartbeatEvent: false,
        maxBufferedBytes: 2048,
        compression: true,
        streams: { browserCookie: false, owner },
        live: { secret: SECRET, graceMs: 0, flashMs: 0, clientKey, maxSignalBytes: 100, maxStoredSessions: 1 },
      });
      expect(settings.path).toBe('api/ds');
      expect(settings.clientUrl).toBe('/datastar.js');
      expect(settings.clientIntegrity).toBe('sha256-abc');
      expect(settings.readSignals).toEqual({ limit: 10, timeout: 20, limits: { keys: 3, depth: 32, stringLength: 262_144 } });
      expect(settings.allowCrossSite).toEqual(['https://app.example.com:8443']);
      expect(settings.csrf).toEqual({ enabled: true, header: 'x-token', signal: 'csrf', token });
      expect(settings.validation).toEqual({ whitelist: true });
      expect(settings.errorsSignal).toBe('problems');
      expect(settings.exposeErrors).toBe(true);
      expect(settings.cacheTemplates).toBe(false);
      expect(settings.helpers).toEqual(helpers);
      expect(settings.writer).toEqual({ heartbeat: 500, heartbeatEvent: false, maxBufferedBytes: 2048, compression: true, shutdownRetry: { min: 500, max: 3000 } });
      expect(settings.streams).toEqual({ browserCookie: false, owner });
      expect(settings.live).toMatchObject({ secret: SECRET, graceMs: 0, flashMs: 0, clientKey, maxSignalBytes: 100, maxStoredSessions: 1 });
    });

    it('shutdownRetry and pubsub.backlog: given values kept, false turns them off, bad ones refused', () => {
      expect(resolveDatastarSettings({ shutdownRetry: { min: 0, max: 10 } }).writer.shutdownRetry).toEqual({ min: 0, max: 10 });
      expect(resolveDatastarSettings({ shutdownRetry: { min: 4000 } }).writer.shutdownRetry).toEqual({ min: 4000, max: 4000 });
      expect(resolveDatastarSettings({ shutdownRetry: false }).writer.shutdownRetry).toBe(false);
      expect(() => resolveDatastarSettings({ shutdownRetry: { min: 10, max: 5 } })).toThrow('DatastarModule option shutdownRetry must be');
      expect(() => resolveDatastarSettings({ shutdownRetry: { min: 1.5 } })).toThrow('DatastarModule option shutdownRetry must be');
      expect(resolveDatastarSettings({ pubsub: { backlog: { maxEvents: 5 } } }).backlog).toEqual({ maxEvents: 5, maxBytes: 65_536, maxTopics: 1000, maxAgeMs: 3_600_000 });
      expect(resolveDatastarSettings({ pubsub: { backlog: false } }).backlog).toBe(false);
      expect(() => resolveDatastarSettings({ pubsub: { backlog: { maxBytes: 0 } } })).toThrow('DatastarModule option pubsub.backlog.maxBytes must be');
    });

    it('a clientUrl of your own has no integrity unless you give one', () => {
      expect(resolveDatastarSettings({ clientUrl: '/datastar.js' }).clientIntegrity).toBe(false);
      expect(resolveDatastarSettings({ clientIntegrity: false }).clientIntegrity).toBe(false);
    });

    it('heartbeat: 0 and false both mean none', () => {
      expect(resolveDatastarSettings({ heartbeat: 0 }).writer.heartbeat).toBe(false);
      expect(resolveDatastarSettings({ heartbeat: false }).writer.heartbeat).toBe(false);
    });

    it('allowCrossSite: true allows every site', () => {
      expect(resolveDatastarSettings({ allowCrossSite: true }).allowCrossSite).toBe(true);
    });

    it('csrf: false is off, {} is on with the default names', () => {
      expect(resolveDatastarSettings({ csrf: false }).csrf.enabled).toBe(false);
      expect(resolveDatastarSettings({ csrf: {} }).csrf).toEqual({
        enabled: true, header: 'x-csrf-token', signal: 'csrf', token: undefined,
      });
    });

    it('views become absolute, from the working directory', () => {
      const relative = resolveDatastarSettings({ views: 'some/views' }).views!;
      expect(isAbsolute(relative)).toBe(true);
      expect(relative).toBe(resolve(process.cwd(), 'some/views'));
      expect(resolveDatastarSettings({ views: '/srv/app/views' }).views).toBe(resolve('/srv/app/views'));
    });

    it('the pub/sub Redis options are passed on as given', () => {
      const redis = { url: 'redis://127.0.0.1:6379', secret: SECRET };
      expect(resolveDatastarSettings({ pubsub: { redis } }).redis).toBe(redis);
    });
  });

  describe('bad values fail with what to write instead', () => {
    const option = (name: string, got: string, expected = 'a positive number') =>
      `DatastarModule option ${name} must be ${expected}, got ${got}: fix it or leave it out for the default.`;

    it.each([
      ['signalsLimit', { signalsLimit: -1 }, '-1'],
      ['signalsLimit', { signalsLimit: 0 }, '0'],
      ['signalsLimit', { signalsLimit: '1024' }, '"1024"'],
      ['signalsTimeout', { signalsTimeout: -5 }, '-5'],
      ['signalsLimits.keys', { signalsLimits: { keys: 0 } }, '0'],
      ['signalsLimits.depth', { signalsLimits: { depth: -1 } }, '-1'],
      ['signalsLimits.stringLength', { signalsLimits: { stringLength: 'long' } }, '"long"'],
      ['heartbeat', { heartbeat: -1 }, '-1'],
      ['maxBufferedBytes', { maxBufferedBytes: 0 }, '0'],
      ['live.tokenTtlMs', { live: { tokenTtlMs: 0 } }, '0'],
      ['live.idleTimeoutMs', { live: { idleTimeoutMs: -1 } }, '-1'],
      ['live.maxPendingSessions', { live: { maxPendingSessions: 0 } }, '0'],
      ['live.maxPendingPerClient', { live: { maxPendingPerClient: '50' } }, '"50"'],
      ['live.maxSignalBytes', { live: { maxSignalBytes: -1 } }, '-1'],
      ['live.sessionTtlMs', { live: { sessionTtlMs: 0 } }, '0'],
      ['live.forwardTimeoutMs', { live: { forwardTimeoutMs: 0 } }, '0'],
      ['live.ownerLeaseMs', { live: { ownerLeaseMs: -1 } }, '-1'],
    ])('%s: %j', (name, options, got) => {
      expect(() => resolveWith(options)).toThrow(new TypeError(option(name, got)));
    });

    it.each([
      ['live.maxStoredSessions', '0', { live: { maxStoredSessions: 0 } }],
      ['live.maxStoredSessions', '2.5', { live: { maxStoredSessions: 2.5 } }],
      ['live.maxStoredSessions', 'Infinity', { live: { maxStoredSessions: Infinity } }],
      ['live.maxStoredSessions', '"100"', { live: { maxStoredSessions: '100' } }],
    ])('%s is a count, not %s', (name, got, options) => {
      expect(() => resolveWith(options)).toThrow(new TypeError(option(name, got, 'a whole number, 1 or more (e.g. 10000)')));
    });

    it.each([
      ['live.graceMs', { live: { graceMs: -1 } }, '-1'],
      ['live.flashMs', { live: { flashMs: '4s' } }, '"4s"'],
    ])('%s may be 0 but not %j', (name, options, got) => {
      expect(() => resolveWith(options)).toThrow(new TypeError(option(name, got, 'a number, 0 or more')));
    });

    it.each([
      ['signalsLimit', 'NaN', { signalsLimit: NaN }],
      ['signalsTimeout', 'Infinity', { signalsTimeout: Infinity }],
      ['heartbeat', 'NaN', { heartbeat: NaN }],
      ['heartbeat', 'true', { heartbeat: true }],
      ['live.graceMs', 'NaN', { live: { graceMs: NaN } }],
    ])('%s: %s is refused', (name, _, options) => {
      expect(() => resolveWith(options)).toThrow(`DatastarModule option ${name} must be`);
    });

    it('names a number that JSON cannot spell (NaN, Infinity) as it is', () => {
      expect(() => resolveWith({ signalsLimit: NaN })).toThrow('must be a positive number, got NaN:');
      expect(() => resolveWith({ signalsTimeout: Infinity })).toThrow('must be a positive number, got Infinity:');
    });

    it('refuses a live.secret that is not a string, and a path that is not a string', () => {
      expect(() => resolveWith({ live: { secret: 123 as never } })).toThrow('DatastarModule option live.secret must be a string');
      expect(() => resolveWith({ path: 42 as never })).toThrow(TypeError);
    });

    it('freezes the allowed origins', () => {
      const { allowCrossSite } = resolveWith({ allowCrossSite: ['https://a.example'] });
      expect(Object.isFrozen(allowCrossSite)).toBe(true);
    });

    it.each([['bad name'], [''], ['a;b'], ['x'.repeat(65)], [true]])('streams.browserCookie %j', (name) => {
      expect(() => resolveWith({ streams: { browserCookie: name } })).toThrow(
        new TypeError(
          `Invalid streams.browserCookie ${JSON.stringify(name)}: use a cookie name of letters, digits, ` +
            "'-' or '_' (default 'ds_bid'), or false to bind tab claims to streams.owner alone.",
        ),
      );
    });

    it('live.secret under 32 characters', () => {
      expect(() => resolveDatastarSettings({ live: { secret: 'x'.repeat(31) } })).toThrow(
        'The live token secret has 31 characters: use at least 32 random characters',
      );
      expect(resolveDatastarSettings({ live: { secret: SECRET } }).live.secret).toBe(SECRET);
    });

    it.each([
      ['a path', ['https://app.example.com/app']],
      ['a query', ['https://app.example.com?x=1']],
      ['a fragment', ['https://app.example.com#top']],
      ['credentials', ['https://user@app.example.com']],
      ['not a URL', ['app.example.com']],
      ['an opaque origin', ['data:text/plain,x']],
      ['not a string', [42]],
    ])('allowCrossSite entry with %s', (_, entries) => {
      expect(() => resolveWith({ allowCrossSite: entries })).toThrow(
        `Invalid allowCrossSite ${JSON.stringify(entries[0])}: use false (default), true, or a list of origins like ` +
          "['https://app.example.com'] (scheme, host and port only).",
      );
    });

    it('allowCrossSite that is neither a boolean nor a list', () => {
      expect(() => resolveWith({ allowCrossSite: 'https://app.example.com' })).toThrow(
        'Invalid allowCrossSite "https://app.example.com"',
      );
    });

    it("a path Nest's router would read differently", () => {
      expect(() => resolveDatastarSettings({ path: 'ds?x=1' })).toThrow(
        `Invalid Datastar path "ds?x=1": use URL path characters only, e.g. 'ds' or 'api/ds'.`,
      );
      expect(() => resolveDatastarSettings({ path: 'ds/:id' })).toThrow('Invalid Datastar path "ds/:id"');
    });
  });

  describe('the result is frozen, the objects you gave are not', () => {
    const redis = { url: 'redis://127.0.0.1:6379', secret: SECRET };
    const helpers = { shout: (s: string) => s };
    const validation = { whitelist: true, errorsSignal: 'problems' };
    const compression = { level: 6 };
    const options: DatastarModuleOptions = {
      signalsLimits: { keys: 5 }, pubsub: { redis }, helpers, validation, compression, csrf: {}, live: { secret: SECRET },
    };
    const settings = resolveDatastarSettings(options);

    it.each([
      ['the settings', (s: any) => s],
      ['readSignals', (s: any) => s.readSignals],
      ['readSignals.limits', (s: any) => s.readSignals.limits],
      ['csrf', (s: any) => s.csrf],
      ['validation', (s: any) => s.validation],
      ['helpers', (s: any) => s.helpers],
      ['writer', (s: any) => s.writer],
      ['streams', (s: any) => s.streams],
      ['live', (s: any) => s.live],
    ])('%s', (_, pick) => {
      expect(Object.isFrozen(pick(settings))).toBe(true);
    });

    it('a write throws in strict mode', () => {
      expect(() => ((settings.readSignals.limits as any).keys = 1)).toThrow(TypeError);
      expect(settings.readSignals.limits.keys).toBe(5);
    });

    it('options, Redis options, helpers, validation and compression stay yours', () => {
      for (const mine of [options, options.signalsLimits, options.live, redis, helpers, validation, compression]) {
        expect(Object.isFrozen(mine)).toBe(false);
      }
      expect(settings.redis).toBe(redis);
      expect(settings.helpers).not.toBe(helpers);
      expect(validation).toEqual({ whitelist: true, errorsSignal: 'problems' });
    });
  });
});

describe('normalizePath', () => {
  it.each([
    ['/ds/', 'ds'],
    ['//api/ds//', 'api/ds'],
    ['ds', 'ds'],
    ['', ''],
    ['/', ''],
    ['v1.2/my_app-x', 'v1.2/my_app-x'],
  ])('%j -> %j', (path, expected) => {
    expect(normalizePath(path)).toBe(expected);
  });

  it.each([['ds?x'], ['ds#top'], ['d s'], [':controller'], ['ds/*'], ['é']])('refuses %j', (path) => {
    expect(() => normalizePath(path)).toThrow(`Invalid Datastar path ${JSON.stringify(path)}`);
  });
});
