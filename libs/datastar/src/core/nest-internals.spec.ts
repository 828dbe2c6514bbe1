import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Body, Controller, Injectable, Module, Post, Render, Req, Scope, UseGuards,
  type CanActivate, type INestApplication,
} from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, ExternalContextCreator, HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import {
  CONTEXT_CREATOR_INTERNALS, CONTEXT_CREATOR_INTERNAL_METHODS, ExecutionContextHost, RENDER_METADATA,
  ROUTE_ARGS_METADATA, RouteParamsFactory, RouteParamtypes, RouterExceptionFilters, SCOPE_OPTIONS_METADATA,
  STATIC_CONTEXT, contextCreatorInternals, createRouterExceptionFilters, globalPrefixOf, hostModuleKey,
  type InstanceWrapper,
} from './nest-internals';

/**
 * Each Nest internal `nest-internals.ts` relies on, checked against a real application. A failure
 * names the internal a Nest upgrade moved or changed: adapt `nest-internals.ts` to the new Nest.
 */

/** Runs `check`; a failure becomes an error naming the internal. */
async function internal(name: string, check: () => unknown): Promise<void> {
  try {
    const ok = await check();
    if (ok === false) throw new Error('not as expected');
  } catch (error) {
    throw new Error(
      `Nest internal "${name}" moved or changed in @nestjs/core ${nestVersion()}: ${(error as Error).message}. ` +
        'Adapt libs/datastar/src/core/nest-internals.ts to it.',
    );
  }
}

function nestVersion(): string {
  return (require('@nestjs/core/package.json') as { version: string }).version;
}

function kindOf(value: unknown): string {
  return value === null ? 'null' : typeof value;
}

class AllowGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

@Controller({ path: 'probe', scope: Scope.DEFAULT })
@UseGuards(AllowGuard)
class ProbeController {
  @Post()
  @Render('probe')
  handle(@Body() body: unknown, @Req() req: unknown): unknown {
    return { body, req };
  }
}

@Injectable({ scope: Scope.REQUEST })
class RequestScoped {}

@Module({ imports: [DiscoveryModule], controllers: [ProbeController], providers: [RequestScoped] })
class ProbeModule {}

describe('Nest internals (core/nest-internals.ts)', () => {
  let app: INestApplication;
  let creator: ExternalContextCreator;
  let wrapper: InstanceWrapper;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ProbeModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.setGlobalPrefix('api');
    await app.init();
    creator = app.get(ExternalContextCreator);
    wrapper = app.get(DiscoveryService).getControllers().find((found) => found.metatype === ProbeController)!;
  });

  afterAll(() => app?.close());

  it('imports only from paths that resolve', async () => {
    const source = readFileSync(join(__dirname, 'nest-internals.ts'), 'utf8');
    const paths = [...source.matchAll(/from '(@nestjs\/[^']+)'/g)].map((match) => match[1]);
    expect(paths.length).toBeGreaterThan(0);
    for (const path of paths) await internal(`import path ${path}`, () => require.resolve(path));
  });

  it('exports the values it re-exports from Nest', async () => {
    const values = { ExecutionContextHost, RouteParamsFactory, RouterExceptionFilters };
    for (const [name, value] of Object.entries(values)) {
      await internal(name, () => {
        if (typeof value !== 'function') throw new Error(`is ${kindOf(value)}, not a class`);
      });
    }
    await internal('STATIC_CONTEXT', () => typeof STATIC_CONTEXT === 'object' && STATIC_CONTEXT !== null);
    for (const name of ['BODY', 'RAW_BODY', 'QUERY', 'PARAM', 'FILE', 'FILES', 'COOKIES', 'SIGNED_COOKIES', 'REQUEST'] as const) {
      await internal(`RouteParamtypes.${name}`, () => typeof RouteParamtypes[name] === 'number');
    }
  });

  it('reads the metadata keys Nest decorators write', async () => {
    await internal('RENDER_METADATA', () =>
      Reflect.getMetadata(RENDER_METADATA, ProbeController.prototype.handle) === 'probe');
    await internal('ROUTE_ARGS_METADATA', () => {
      const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, ProbeController, 'handle') as Record<string, unknown>;
      const keys = Object.keys(args ?? {});
      if (!keys.includes(`${RouteParamtypes.BODY}:0`) || !keys.includes(`${RouteParamtypes.REQUEST}:1`)) {
        throw new Error(`@Body()/@Req() wrote ${JSON.stringify(keys)}`);
      }
    });
    await internal('SCOPE_OPTIONS_METADATA', () =>
      Reflect.getMetadata(SCOPE_OPTIONS_METADATA, RequestScoped)?.scope === Scope.REQUEST);
  });

  it('finds every private member of ExternalContextCreator it uses', async () => {
    const members = creator as unknown as Record<string, Record<string, unknown>>;
    for (const [name, kind] of Object.entries(CONTEXT_CREATOR_INTERNALS)) {
      await internal(`ExternalContextCreator.${name}`, () => {
        if (kindOf(members[name]) !== kind) throw new Error(`is ${kindOf(members[name])}, not ${kind}`);
      });
    }
    for (const [name, methods] of Object.entries(CONTEXT_CREATOR_INTERNAL_METHODS)) {
      for (const method of methods) {
        await internal(`ExternalContextCreator.${name}.${method}()`, () => {
          const found = members[name]?.[method];
          if (typeof found !== 'function') throw new Error(`is ${kindOf(found)}, not a function`);
        });
      }
    }
  });

  it('gets from those members what the handler pipeline and live guards expect', async () => {
    const c = contextCreatorInternals(creator);
    const instance = app.get(ProbeController);
    const callback = ProbeController.prototype.handle as (...args: unknown[]) => unknown;
    const moduleKey = hostModuleKey(wrapper);
    const paramsFactory = { exchangeKeyForValue: () => undefined };
    await internal('ExternalContextCreator.getMetadata()', () => {
      const metadata = c.getMetadata(instance, 'handle', ROUTE_ARGS_METADATA, paramsFactory, 'http');
      if (metadata.argsLength !== 2) throw new Error(`argsLength is ${metadata.argsLength}, not 2`);
      if (!Array.isArray(metadata.paramtypes)) throw new Error('paramtypes is not an array');
      const params = metadata.getParamsMetadata(moduleKey);
      const merged = c.contextUtils.mergeParamsMetatypes(params, metadata.paramtypes);
      if (merged.length !== 2 || typeof merged[0].extractValue !== 'function') {
        throw new Error('getParamsMetadata() + contextUtils.mergeParamsMetatypes() give no extractValue');
      }
    });
    await internal('ExternalContextCreator.contextUtils.createNullArray()', () =>
      c.contextUtils.createNullArray(2).length === 2);
    await internal('ExternalContextCreator.pipesContextCreator.create()', () =>
      Array.isArray(c.pipesContextCreator.create(instance, callback, moduleKey)));
    await internal('ExternalContextCreator.interceptorsContextCreator.create()', () =>
      Array.isArray(c.interceptorsContextCreator.create(instance, callback, moduleKey)));
    await internal('ExternalContextCreator.interceptorsConsumer.intercept()', async () =>
      (await c.interceptorsConsumer.intercept([], [], instance, callback, async () => 'next', 'http')) === 'next');
    const guards = c.guardsContextCreator.create(instance, callback, moduleKey);
    await internal('ExternalContextCreator.guardsContextCreator.create()', () =>
      guards.length === 1 && guards[0] instanceof AllowGuard);
    await internal('ExternalContextCreator.createGuardsFn()', async () => {
      const check = c.createGuardsFn(guards, instance, callback, 'http');
      if (typeof check !== 'function') return false;
      await check([{}, {}, undefined]); // AllowGuard lets it through: no ForbiddenException
      return true;
    });
    await internal('ExternalContextCreator.getParamValue()', async () =>
      (await c.getParamValue('value', { type: 'body' }, [])) === 'value');
    await internal('ExternalContextCreator.transformToResult()', async () =>
      (await c.transformToResult(Promise.resolve('result'))) === 'result');
  });

  it('reads the container: global prefix, exception filters, module keys', async () => {
    await internal('ExternalContextCreator.container.applicationConfig.getGlobalPrefix()', () =>
      globalPrefixOf(creator) === 'api');
    await internal('RouterExceptionFilters (new + create)', () => {
      const filters = createRouterExceptionFilters(creator, app.get(HttpAdapterHost).httpAdapter);
      return typeof filters.create({}, () => undefined, undefined).next === 'function';
    });
    await internal('InstanceWrapper.host.token', () => app.get(ModulesContainer).has(hostModuleKey(wrapper)));
    await internal('InstanceWrapper.isDependencyTreeStatic()/instance', () =>
      wrapper.isDependencyTreeStatic() && wrapper.instance === app.get(ProbeController));
    await internal('STATIC_CONTEXT', () =>
      wrapper.getInstanceByContextId(STATIC_CONTEXT).instance === app.get(ProbeController));
  });

  it('builds request contexts and reads route params as Nest does', async () => {
    const req = { body: { a: 1 } };
    const res = {};
    await internal('ExecutionContextHost', () =>
      new ExecutionContextHost([req, res, undefined]).switchToHttp().getRequest() === req);
    await internal('RouteParamsFactory.exchangeKeyForValue()', () => {
      const factory = new RouteParamsFactory();
      const next = () => undefined;
      return factory.exchangeKeyForValue(RouteParamtypes.REQUEST, '', { req, res, next }) === req &&
        factory.exchangeKeyForValue(RouteParamtypes.BODY, '', { req, res, next }) === req.body;
    });
  });
});
