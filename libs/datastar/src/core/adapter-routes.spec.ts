import {
  Catch, ForbiddenException, HttpException, ImATeapotException, Injectable, MethodNotAllowedException, Module,
  type ArgumentsHost, type ExceptionFilter, type INestApplication, type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost, type ExternalContextCreator } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { CROSS_SITE_REFUSED, DATASTAR_REQUEST_REQUIRED, METHOD_NOT_ALLOWED } from '../datastar.messages';
import { AdapterRoutes, type RouteMethods } from './adapter-routes';
import { DatastarRequestPolicy } from './datastar-request.policy';
import { DATASTAR_SETTINGS, resolveDatastarSettings } from './datastar-settings';

type Handler = (req: any, res: any, next?: unknown) => void;

/** An HTTP adapter that only records the routes given to it. */
function fakeAdapter() {
  const routes: Array<{ method: string; path: string; handler: Handler }> = [];
  const register = (method: string) => (path: string, handler: Handler) => routes.push({ method, path, handler });
  return {
    routes,
    adapter: { get: register('GET'), post: register('POST'), put: register('PUT'), patch: register('PATCH'), delete: register('DELETE') },
  };
}

/** `AdapterRoutes` on a fake adapter; what reaches the exception filters is recorded in `failures`. */
function withFakeAdapter() {
  const { routes, adapter } = fakeAdapter();
  const policy = new DatastarRequestPolicy(resolveDatastarSettings());
  const adapterRoutes = new AdapterRoutes({ httpAdapter: adapter } as unknown as HttpAdapterHost, {} as ExternalContextCreator, policy);
  const failures: Array<{ error: unknown; args: unknown[] }> = [];
  Object.defineProperty(adapterRoutes, 'exceptionFilters', {
    value: { create: () => ({ next: (error: unknown, host: any) => failures.push({ error, args: host.getArgs() }) }) },
  });
  /** Calls the handler registered for `method` with a request of that method, as the adapter would. */
  const call = async (method: string, headers: Record<string, string> = { 'datastar-request': 'true' }) => {
    const req = { method, headers };
    const res = { setHeader: jest.fn() };
    const next = () => undefined;
    routes.find((route) => route.method === method)!.handler(req, res, next);
    await new Promise(setImmediate); // run()'s rejection reaches the filters asynchronously
    return { req, res, next };
  };
  return { routes, adapterRoutes, failures, call };
}

describe('AdapterRoutes.add (a fake adapter)', () => {
  it('registers the route for all five methods', () => {
    const { routes, adapterRoutes } = withFakeAdapter();
    adapterRoutes.add(['POST'], '/ds/:controller/:event', jest.fn());
    expect(routes.map(({ method, path }) => `${method} ${path}`)).toEqual([
      'GET /ds/:controller/:event', 'POST /ds/:controller/:event', 'PUT /ds/:controller/:event',
      'PATCH /ds/:controller/:event', 'DELETE /ds/:controller/:event',
    ]);
  });

  it('runs the route for an allowed method, with the request, response and next', async () => {
    const { adapterRoutes, failures, call } = withFakeAdapter();
    const run = jest.fn(async () => undefined);
    adapterRoutes.add(['GET', 'PUT'], '/r', run);
    const { req, res, next } = await call('PUT');
    expect(run).toHaveBeenCalledWith(req, res, next);
    expect(failures).toEqual([]);
  });

  it('a wrong method gets 405 with Allow, and the route does not run', async () => {
    const { adapterRoutes, failures, call } = withFakeAdapter();
    const run = jest.fn(async () => undefined);
    adapterRoutes.add(['POST', 'PUT'], '/r', run);
    const { req, res, next } = await call('DELETE');
    expect(run).not.toHaveBeenCalled();
    expect(res.setHeader).toHaveBeenCalledWith('Allow', 'POST, PUT');
    expect(failures).toHaveLength(1);
    expect(failures[0].error).toBeInstanceOf(MethodNotAllowedException);
    expect((failures[0].error as HttpException).message).toBe(METHOD_NOT_ALLOWED('DELETE', 'POST, PUT'));
    expect(failures[0].args).toEqual([req, res, next]);
  });

  it('Allow goes on the raw response when there is one (Fastify)', () => {
    const { routes, adapterRoutes } = withFakeAdapter();
    adapterRoutes.add(['POST'], '/r', jest.fn());
    const raw = { setHeader: jest.fn() };
    routes.find((route) => route.method === 'GET')!.handler({ method: 'GET', headers: { 'datastar-request': 'true' } }, { raw });
    expect(raw.setHeader).toHaveBeenCalledWith('Allow', 'POST');
  });

  it('methods read from the request: undefined lets the route answer (e.g. 404)', async () => {
    const { adapterRoutes, failures, call } = withFakeAdapter();
    const run = jest.fn(async () => undefined);
    const methods: RouteMethods = (req) => (req.headers['x-known'] ? ['GET'] : undefined);
    adapterRoutes.add(methods, '/r', run);
    await call('PATCH');
    expect(run).toHaveBeenCalledTimes(1);
    await call('PATCH', { 'datastar-request': 'true', 'x-known': '1' });
    expect(run).toHaveBeenCalledTimes(1);
    expect(failures.map(({ error }) => (error as HttpException).getStatus())).toEqual([405]);
  });

  it('the request policy runs first: 403 before the method check and before the route', async () => {
    const { adapterRoutes, failures, call } = withFakeAdapter();
    const run = jest.fn(async () => undefined);
    const methods = jest.fn(() => ['POST'] as const);
    adapterRoutes.add(methods, '/r', run);
    const wrongMethod = await call('GET', {});
    const rightMethod = await call('POST', { 'datastar-request': 'true', 'sec-fetch-site': 'cross-site' });
    expect(run).not.toHaveBeenCalled();
    expect(methods).not.toHaveBeenCalled();
    expect(wrongMethod.res.setHeader).not.toHaveBeenCalled();
    expect(failures.map(({ error }) => (error as HttpException).message)).toEqual([DATASTAR_REQUEST_REQUIRED, CROSS_SITE_REFUSED]);
    expect(failures.every(({ error }) => error instanceof ForbiddenException)).toBe(true);
  });

  it("the route's own failure reaches the exception filters", async () => {
    const { adapterRoutes, failures, call } = withFakeAdapter();
    const error = new ImATeapotException();
    adapterRoutes.add(['POST'], '/r', async () => {
      throw error;
    });
    const { req, res, next } = await call('POST');
    expect(failures).toEqual([{ error, args: [req, res, next] }]);
  });
});

/** The user's global filter: every answer that went through it says so. */
@Catch()
class TaggingFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}
  catch(error: unknown, host: ArgumentsHost): void {
    const status = error instanceof HttpException ? error.getStatus() : 500;
    const message = error instanceof Error ? error.message : String(error);
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), { filtered: true, status, message }, status);
  }
}

/** Adds a POST route the way the library's routes do: in onModuleInit, before Nest's 404 handler. */
@Injectable()
class ProbeRoutes implements OnModuleInit {
  constructor(private readonly routes: AdapterRoutes, private readonly adapterHost: HttpAdapterHost) {}
  onModuleInit(): void {
    this.routes.add(['POST'], '/probe/:what', async (req, res) => {
      if (req.params.what === 'teapot') throw new ImATeapotException('short and stout');
      this.adapterHost.httpAdapter.reply(res, { ran: true }, 200);
    });
  }
}

@Module({
  providers: [
    { provide: DATASTAR_SETTINGS, useValue: resolveDatastarSettings() },
    DatastarRequestPolicy, AdapterRoutes, ProbeRoutes,
  ],
})
class ProbeModule {}

describe.each(['express', 'fastify'] as const)('AdapterRoutes.add (a real %s app)', (platform) => {
  let app: INestApplication;
  let base: string;
  const send = (path: string, method: string, headers: Record<string, string> = { 'datastar-request': 'true' }) =>
    fetch(base + path, { method, headers, signal: AbortSignal.timeout(3000) });

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ProbeModule] }).compile();
    app = platform === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication({ logger: false });
    app.useGlobalFilters(new TaggingFilter(app.get(HttpAdapterHost)));
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${app.getHttpServer().address().port}`;
  });
  afterAll(() => app?.close());

  it('runs the route for its method', async () => {
    const res = await send('/probe/ok', 'POST');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ran: true });
  });

  it('another method: 405 with Allow, through the app filters', async () => {
    const res = await send('/probe/ok', 'PUT');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await res.json()).toEqual({ filtered: true, status: 405, message: METHOD_NOT_ALLOWED('PUT', 'POST') });
  });

  it('HEAD gets 405 too', async () => {
    const res = await send('/probe/ok', 'HEAD');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('no Datastar-Request: 403 through the app filters, before the method check', async () => {
    const res = await send('/probe/ok', 'PUT', {});
    expect(res.status).toBe(403);
    expect(res.headers.get('allow')).toBeNull();
    expect(await res.json()).toEqual({ filtered: true, status: 403, message: DATASTAR_REQUEST_REQUIRED });
  });

  it("the route's error reaches the app filters", async () => {
    const res = await send('/probe/teapot', 'POST');
    expect(res.status).toBe(418);
    expect(await res.json()).toEqual({ filtered: true, status: 418, message: 'short and stout' });
  });
});
