import { Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { DatastarModuleOptions } from '../interfaces/datastar-module-options.interface';
import { DatastarPaths } from './datastar-paths';
import { DATASTAR_SETTINGS, resolveDatastarSettings } from './datastar-settings';

/** A real app with only `DatastarPaths`; `prefix` is set the way users do: after the module is built, before init. */
async function pathsOf(options: DatastarModuleOptions, prefix?: string): Promise<{ app: INestApplication; paths: DatastarPaths }> {
  @Module({ providers: [{ provide: DATASTAR_SETTINGS, useValue: resolveDatastarSettings(options) }, DatastarPaths] })
  class PathsModule {}
  const moduleRef = await Test.createTestingModule({ imports: [PathsModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  if (prefix !== undefined) app.setGlobalPrefix(prefix);
  await app.init();
  return { app, paths: app.get(DatastarPaths) };
}

describe('DatastarPaths', () => {
  const apps: INestApplication[] = [];
  const start = async (options: DatastarModuleOptions, prefix?: string) => {
    const { app, paths } = await pathsOf(options, prefix);
    apps.push(app);
    return paths;
  };
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it("dispatch is '/ds' without a global prefix", async () => {
    const paths = await start({});
    expect(paths.globalPrefix).toBe('');
    expect(paths.dispatch).toBe('/ds');
  });

  it('the global prefix set after the module was built comes first', async () => {
    const paths = await start({}, 'v1');
    expect(paths.globalPrefix).toBe('v1');
    expect(paths.dispatch).toBe('/v1/ds');
  });

  it('prefix and path are trimmed of slashes', async () => {
    const paths = await start({ path: '/api/ds/' }, '/v1/');
    expect(paths.globalPrefix).toBe('v1');
    expect(paths.dispatch).toBe('/v1/api/ds');
  });

  it("path '' is the root", async () => {
    expect((await start({ path: '' })).dispatch).toBe('/');
    expect((await start({ path: '/' }, 'v1')).dispatch).toBe('/v1');
  });

  it('of() joins normalised segments after the prefix, dropping empty ones', async () => {
    const paths = await start({}, 'v1');
    expect(paths.of('/live/', 'counter/')).toBe('/v1/live/counter');
    expect(paths.of('', '//a/b//')).toBe('/v1/a/b');
    expect(paths.of()).toBe('/v1');
  });

  it('of() refuses a segment the router would read differently', async () => {
    const paths = await start({});
    expect(() => paths.of('live?x')).toThrow('Invalid Datastar path "live?x"');
  });

  it('a global prefix with a character the router would read differently is refused', async () => {
    const paths = await start({}, 'v1/:tenant');
    expect(() => paths.dispatch).toThrow('Invalid Datastar path "v1/:tenant"');
  });
});
