import {
  Body, Controller, ForbiddenException, Module, Post, Query, Req, Res, UseGuards, UseInterceptors, UsePipes,
  createParamDecorator,
  type ArgumentMetadata, type CallHandler, type CanActivate, type ExecutionContext, type INestApplication,
  type NestInterceptor, type PipeTransform,
} from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, ExternalContextCreator } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { map } from 'rxjs';
import { createHandlerPipeline, type HandlerPipeline } from './handler-pipeline';
import { RouteParamsFactory, hostModuleKey } from './nest-internals';

/** What ran, in order. */
const log: string[] = [];

class GlobalGuard implements CanActivate {
  canActivate(): boolean {
    log.push('guard:global');
    return true;
  }
}

class ClassGuard implements CanActivate {
  canActivate(): boolean {
    log.push('guard:class');
    return true;
  }
}

/** Refuses requests with `deny: yes`. */
class MethodGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    log.push('guard:method');
    return context.switchToHttp().getRequest().headers.deny !== 'yes';
  }
}

/** Wraps the handler's result, so a test sees that it ran around the handler. */
class WrappingInterceptor implements NestInterceptor {
  intercept(_: ExecutionContext, next: CallHandler) {
    log.push('interceptor:before');
    return next.handle().pipe(map((value) => {
      log.push('interceptor:after');
      return { wrapped: value };
    }));
  }
}

/** The one the pipeline's caller drops (as the dispatcher drops the page interceptor). */
class SkippedInterceptor implements NestInterceptor {
  intercept(_: ExecutionContext, next: CallHandler) {
    log.push('interceptor:skipped');
    return next.handle();
  }
}

/** Upper-cases strings, and says which parameter kinds it was run on. */
class UpperPipe implements PipeTransform {
  transform(value: unknown, { type }: ArgumentMetadata): unknown {
    log.push(`pipe:${type}`);
    return typeof value === 'string' ? value.toUpperCase() : value;
  }
}

const Custom = createParamDecorator((_: unknown, context: ExecutionContext) => context.switchToHttp().getRequest().custom);

@Controller('probe')
@UseGuards(ClassGuard)
@UseInterceptors(SkippedInterceptor)
class ProbeController {
  @Post()
  @UseGuards(MethodGuard)
  @UseInterceptors(WrappingInterceptor)
  @UsePipes(UpperPipe)
  handle(@Body('name') name: string, @Query('q') q: string, @Res() res: unknown, @Req() req: unknown, @Custom() custom: string) {
    log.push('handler');
    return { name, q, res, req, custom };
  }

  /** No parameter decorators: the call's own arguments. */
  plain(...args: unknown[]) {
    log.push('handler');
    return { args };
  }
}

@Module({ imports: [DiscoveryModule], controllers: [ProbeController] })
class ProbeModule {}

describe('createHandlerPipeline (a real Nest app)', () => {
  let app: INestApplication;
  let pipeline: (methodName: 'handle' | 'plain', skip?: (interceptor: unknown) => boolean) => HandlerPipeline;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ProbeModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.useGlobalGuards(new GlobalGuard());
    await app.init();
    const creator = app.get(ExternalContextCreator);
    const instance = app.get(ProbeController);
    const wrapper = app.get(DiscoveryService).getControllers().find((found) => found.metatype === ProbeController)!;
    pipeline = (methodName, skip) => createHandlerPipeline(
      creator, instance, (instance as any)[methodName], methodName, hostModuleKey(wrapper), new RouteParamsFactory(),
      undefined, undefined, skip,
    );
  });
  afterAll(() => app?.close());
  beforeEach(() => {
    log.length = 0;
  });

  const request = (headers: Record<string, string> = {}) =>
    ({ headers, body: { name: 'alice' }, query: { q: 'x' }, custom: 'c' });
  /** Fastify's reply is a thenable: awaited, it would turn into 'awaited' (and a real one never settles). */
  const reply = () => ({ then: (resolve: (value: unknown) => void) => resolve('awaited') });

  it('guards (global, class, method), then interceptors around pipes and the handler', async () => {
    const req = request();
    const res = reply();
    const result = await pipeline('handle')(req, res, undefined);
    expect(result).toEqual({ wrapped: { name: 'ALICE', q: 'X', res, req, custom: 'C' } });
    const order = log.filter((line) => !line.startsWith('pipe:'));
    expect(order).toEqual([
      'guard:global', 'guard:class', 'guard:method',
      'interceptor:skipped', 'interceptor:before', 'handler', 'interceptor:after',
    ]);
    // Pipes run inside the interceptors, before the handler.
    const pipes = log.flatMap((line, index) => (line.startsWith('pipe:') ? [index] : []));
    expect(pipes).toHaveLength(3);
    expect(Math.min(...pipes)).toBeGreaterThan(log.indexOf('interceptor:before'));
    expect(Math.max(...pipes)).toBeLessThan(log.indexOf('handler'));
  });

  it('a guard that refuses: 403, and neither interceptors nor pipes nor the handler run', async () => {
    await expect(pipeline('handle')(request({ deny: 'yes' }), reply(), undefined)).rejects.toBeInstanceOf(ForbiddenException);
    expect(log).toEqual(['guard:global', 'guard:class', 'guard:method']);
  });

  it('pipes run only on pipeable parameters: @Body, @Query and custom ones, never @Req or @Res', async () => {
    const req = request();
    const res = reply();
    const { wrapped } = (await pipeline('handle')(req, res, undefined)) as { wrapped: Record<string, unknown> };
    expect(log.filter((line) => line.startsWith('pipe:')).sort()).toEqual(['pipe:body', 'pipe:custom', 'pipe:query']);
    expect(wrapped.req).toBe(req);
    expect(wrapped.res).toBe(res);
  });

  it('skipInterceptor drops the interceptors it matches, and only those', async () => {
    const result = await pipeline('handle', (interceptor) => interceptor instanceof SkippedInterceptor)(request(), reply(), undefined);
    expect(log).not.toContain('interceptor:skipped');
    expect(log).toContain('interceptor:before');
    expect(result).toMatchObject({ wrapped: { name: 'ALICE' } });
  });

  it('without parameter decorators or interceptors, the handler gets the call\'s arguments', async () => {
    const req = request();
    const res = reply();
    const result = await pipeline('plain', () => true)(req, res, 'next');
    expect(result).toEqual({ args: [req, res, 'next'] });
    expect(log).toEqual(['guard:global', 'guard:class', 'handler']);
  });

  it('no direct call while a guard, an interceptor or a pipe applies', () => {
    expect(pipeline('handle').direct).toBeUndefined();
    expect(pipeline('plain', () => true).direct).toBeUndefined(); // the global and class guards
  });
});

const Later = createParamDecorator((_: unknown, context: ExecutionContext) => Promise.resolve(context.switchToHttp().getRequest().custom));

@Controller('bare')
class BareController {
  @Post()
  handle(@Body('name') name: string, @Res() res: unknown, @Custom() custom: string) {
    return { name, res, custom };
  }

  @Post()
  later(@Body('name') name: string, @Later() later: string) {
    return { name, later };
  }
}

@Module({ imports: [DiscoveryModule], controllers: [BareController] })
class BareModule {}

describe('createHandlerPipeline without guards, interceptors or pipes: direct', () => {
  let app: INestApplication;
  let direct: (methodName: 'handle' | 'later') => NonNullable<HandlerPipeline['direct']>;

  beforeAll(async () => {
    app = (await Test.createTestingModule({ imports: [BareModule] }).compile()).createNestApplication({ logger: false });
    await app.init();
    const instance = app.get(BareController);
    const wrapper = app.get(DiscoveryService).getControllers().find((found) => found.metatype === BareController)!;
    direct = (methodName) => createHandlerPipeline(
      app.get(ExternalContextCreator), instance, (instance as any)[methodName], methodName, hostModuleKey(wrapper), new RouteParamsFactory(),
    ).direct!;
  });
  afterAll(() => app?.close());

  it('resolves the parameters at once when none is a promise (a thenable @Res() is not one to await)', () => {
    const req = { headers: {}, body: { name: 'alice' }, custom: 'c' };
    const res = { then: () => undefined }; // Fastify's reply: awaited, it would never settle
    expect(direct('handle')([req, res, undefined])).toEqual(['alice', res, 'c']);
  });

  it('awaits a pipeable parameter that is a promise, as the pipeline does', async () => {
    const args = direct('later')([{ headers: {}, body: { name: 'bob' }, custom: 'soon' }, {}, undefined]);
    expect(args).toBeInstanceOf(Promise);
    expect(await args).toEqual(['bob', 'soon']);
  });
});
