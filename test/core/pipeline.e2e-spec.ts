import { globalGuardCalls, PipelineAppModule, trace } from './fixtures/pipeline.app';
import { ADAPTERS, json, readError, readSse, startApp, type TestApp } from './fixtures/harness';
import { signalsEvent } from './fixtures/sse';

/** Handlers get the Nest pipeline their class and method declare; nothing is written before it passed. */
describe.each(ADAPTERS)('pipeline (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(PipelineAppModule, adapter);
  });
  afterAll(() => t.close());
  beforeEach(() => {
    trace.length = 0;
    globalGuardCalls.length = 0;
  });

  const post = (path: string, headers: Record<string, string> = {}) => t.fetch(path, json('POST', {}, headers));

  describe('method-level @UseGuards', () => {
    it('passes -> 200 SSE, handler ran', async () => {
      expect(await readSse(await post('/ds/guarded/method', { 'x-method': 'allow' }))).toEqual([signalsEvent({ ok: 'method' })]);
      expect(trace).toEqual(['method-guard', 'handler']);
    });

    it('UnauthorizedException -> 401 JSON, no SSE byte, handler not run', async () => {
      const { status, body } = await readError(await post('/ds/guarded/method'));
      expect(status).toBe(401);
      expect(body).toEqual({ message: 'log in first', error: 'Unauthorized', statusCode: 401 });
      expect(trace).toEqual(['method-guard']);
    });

    it('false -> 403 JSON, no SSE byte, handler not run', async () => {
      const { status, body } = await readError(await post('/ds/guarded/method', { 'x-method': 'deny' }));
      expect(status).toBe(403);
      expect(body).toEqual({ message: 'Forbidden resource', error: 'Forbidden', statusCode: 403 });
      expect(trace).toEqual(['method-guard']);
    });

    it('does not guard the other handlers of the class', async () => {
      expect(await readSse(await post('/ds/guarded/open'))).toEqual([signalsEvent({ ok: 'open' })]);
      expect(trace).toEqual(['handler']);
    });
  });

  describe('class-level @UseGuards', () => {
    it('passes', async () => {
      expect(await readSse(await post('/ds/locked/enter', { 'x-class': 'open' }))).toEqual([signalsEvent({ ok: 'locked' })]);
      expect(trace).toEqual(['class-guard', 'handler']);
    });

    it('401 and 403 without a byte of SSE', async () => {
      expect((await readError(await post('/ds/locked/enter'))).status).toBe(401);
      expect((await readError(await post('/ds/locked/enter', { 'x-class': 'shut' }))).status).toBe(403);
      expect(trace).toEqual(['class-guard', 'class-guard']);
    });

    it('runs before the method guard; both must pass', async () => {
      expect((await readError(await post('/ds/locked/both', { 'x-class': 'open', 'x-method': 'deny' }))).status).toBe(403);
      expect(trace).toEqual(['class-guard', 'method-guard']);
      trace.length = 0;
      expect(await readSse(await post('/ds/locked/both', { 'x-class': 'open', 'x-method': 'allow' }))).toEqual([
        signalsEvent({ ok: 'both' }),
      ]);
      expect(trace).toEqual(['class-guard', 'method-guard', 'handler']);
    });
  });

  describe('global guard (APP_GUARD)', () => {
    it('blocks a Datastar event with 403, no SSE byte, handler not run', async () => {
      expect((await readError(await post('/ds/guarded/open', { 'x-global': 'block' }))).status).toBe(403);
      expect(trace).toEqual([]);
    });

    it('lets it through otherwise', async () => {
      expect(await readSse(await post('/ds/guarded/open'))).toEqual([signalsEvent({ ok: 'open' })]);
      expect(globalGuardCalls).toContain('GuardedController.open');
    });

    // The dispatch route is registered on the adapter, not as a controller: a global guard runs
    // once, with the @OnEvent() handler's own ExecutionContext (a `@Public()` check works).
    it('runs once per event, and sees the StarController handler', async () => {
      await readSse(await post('/ds/guarded/open'));
      expect(globalGuardCalls).toEqual(['GuardedController.open']);
    });
  });

  it('an interceptor runs around the handler (and may set headers before the stream)', async () => {
    const res = await post('/ds/guarded/intercepted');
    expect(await readSse(res)).toEqual([signalsEvent({ ok: 'intercepted' })]);
    expect(res.headers.get('x-intercepted')).toBe('yes');
    expect(trace).toEqual(['interceptor:before', 'handler', 'interceptor:after']);
  });

  describe('@UseFilters on the StarController', () => {
    it('handles an exception thrown before the stream (by a guard)', async () => {
      const res = await post('/ds/filtered/denied');
      expect(res.status).toBe(418);
      expect(await readError(res)).toEqual({ status: 418, body: { filtered: 'no entry', original: 403 } });
      expect(trace).toEqual(['filter']);
    });

    it('handles a pipe error too', async () => {
      const res = await post('/ds/filtered/bad-pipe?qty=many');
      expect(await readError(res)).toEqual({
        status: 418,
        body: { filtered: 'Validation failed (numeric string is expected)', original: 400 },
      });
      expect(trace).toEqual(['filter']);
    });
  });

  describe('pipes on a @Query() param (@UsePipes)', () => {
    it('ParseIntPipe turns the header into a number before the handler', async () => {
      expect(await readSse(await post('/ds/guarded/piped?qty=21'))).toEqual([
        signalsEvent({ qty: 42, qtyType: 'number' }),
      ]);
      expect(trace).toEqual(['handler']);
    });

    it('a custom pipe transforms it', async () => {
      expect(await readSse(await post('/ds/guarded/named?name=ada'))).toEqual([signalsEvent({ name: 'ADA' })]);
      expect(trace).toEqual(['pipe', 'handler']);
    });

    it('a failing pipe -> 400, no SSE byte, handler not run', async () => {
      const { status, body } = await readError(await post('/ds/guarded/piped?qty=x'));
      expect(status).toBe(400);
      expect(body.message).toBe('Validation failed (numeric string is expected)');
      expect(trace).toEqual([]);
    });
  });

  it('@Res() and @Headers() resolve without pipes, and @Res() does not hang on Fastify', async () => {
    expect(await readSse(await post('/ds/raw/res', { 'x-name': 'ada' }))).toEqual([signalsEvent({ hasRes: true, name: 'ada' })]);
  });
});
