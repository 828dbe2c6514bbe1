/**
 * Seeded fuzzing: random hostile requests (broken JSON, random bytes, control characters, unicode,
 * deep nesting, prototype keys, random content types and methods) against an app whose handlers
 * echo the signals' text into every patch kind. A new seed each run adds cases; a failing seed
 * replays exactly with `FUZZ_SEED=<seed> npx jest test/resilience/fuzz`.
 */
import { StreamRegistryService } from 'nestjs-datastar';
import { parseSse } from 'nestjs-datastar/testing';
import { ADAPTERS, startApp, type TestApp } from '../core/fixtures/harness';
import { FUZZ_LIMITS, Fuzzer, type FuzzCase } from './fixtures/fuzz';
import { ALL_EVENT_COUNT, hostileModule, seen } from './fixtures/hostile.app';
import { answerProblems, expectUnpolluted, prototypeSnapshot, runRedirect, scriptsOf } from './fixtures/invariants';
import { watchProcess } from './fixtures/process-watch';
import { rawRequest, type RawResponse } from './fixtures/raw-http';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) >>> 0 : (Date.now() ^ (Math.random() * 2 ** 32)) >>> 0;
const CASES = Number(process.env.FUZZ_CASES ?? 500);
const CONCURRENCY = 6;
const BUDGET_MS = 20_000;
const PAGE = 'http://app.test/page';

// Printed before anything runs, so a crash or a timeout still shows which seed to replay.
console.log(`fuzz seed ${SEED}, ${CASES} cases per adapter (replay: FUZZ_SEED=${SEED} npx jest test/resilience/fuzz)`);

/** Everything wrong with one answer; [] when it is a 4xx or a safe patch of the expected shape. */
function problemsOf(c: FuzzCase, res: RawResponse): string[] {
  const contentType = String(res.headers['content-type'] ?? '');
  const sse = contentType.startsWith('text/event-stream');
  const expected = c.target === 'all' ? ALL_EVENT_COUNT : c.target === 'redirect' || c.target === 'remove' ? 1 : undefined;
  const problems = answerProblems({ status: res.status, contentType, text: res.text, timedOut: res.timedOut }, { events: expected });
  if (res.error && res.status === 0) problems.push(`connection error ${res.error}`);
  if (c.clean && res.status !== 200) problems.push(`a well-formed request got ${res.status}: ${res.text.slice(0, 160)}`);
  if (c.target === 'unknown' && res.status === 200) problems.push('an unknown event answered 200');
  if (c.request.method === 'HEAD' && c.target !== 'page' && res.status < 400) problems.push(`HEAD on an event got ${res.status}`);
  if (c.refusal) {
    // The policy runs before the handler: a refused request is never served.
    if (res.status === 200) problems.push(`a request the policy refuses (${c.refusal.status}) answered 200`);
    if (c.refusal.exact && res.status !== c.refusal.status) problems.push(`expected ${c.refusal.status}, got ${res.status}: ${res.text.slice(0, 160)}`);
    if (c.refusal.exact && c.refusal.allow && res.headers.allow !== c.refusal.allow) problems.push(`405 with Allow ${String(res.headers.allow)}, expected ${c.refusal.allow}`);
  }
  if (res.status === 200 && sse) {
    const events = parseSse(res.text);
    if (c.target === 'stream' && (events.length === 0 || events.length % 5 !== 0 || events.length > 25)) {
      problems.push(`a stream echo sent ${events.length} events (expected 5 per tick, 1 to 5 ticks)`);
    }
    if (c.target === 'redirect') {
      for (const script of scriptsOf(res.text).filter((s) => s.includes('window.location'))) {
        const { href } = runRedirect(script, PAGE);
        if (href !== undefined && new URL(href).origin !== 'http://app.test') problems.push(`navigated to ${href}`);
      }
    }
  }
  if (res.status === 200 && c.target === 'page' && c.request.method === 'GET') {
    if (!contentType.startsWith('text/html')) problems.push(`page answered ${contentType}`);
    const scripts = (res.text.match(/<script/gi) ?? []).length;
    const ends = (res.text.match(/<\/script/gi) ?? []).length;
    const paragraphs = (res.text.match(/<p\b/gi) ?? []).length;
    if (scripts !== 1 || ends !== 1 || paragraphs !== 1) problems.push(`page markup broken: ${scripts} <script, ${ends} </script, ${paragraphs} <p`);
  }
  try {
    expectUnpolluted(prototypes);
  } catch (error) {
    problems.push((error as Error).message);
  }
  return problems;
}

const prototypes = prototypeSnapshot();

describe.each(ADAPTERS)('fuzz (%s)', (adapter) => {
  let t: TestApp;
  const watch = watchProcess();
  beforeAll(async () => {
    t = await startApp(hostileModule({ signalsLimits: FUZZ_LIMITS }), adapter);
  });
  afterAll(async () => {
    await t.close();
    watch.expectNothing();
  });

  it(`${CASES} random hostile requests: each a 4xx or a safe patch (seed printed above)`, async () => {
    // Per adapter its own stream of cases from the seed, so each adapter's run replays alone too.
    const cases = new Fuzzer((SEED + (adapter === 'fastify' ? 1 : 0)) >>> 0).cases(CASES);
    const failures: string[] = [];
    const statuses: Record<number, number> = {};
    let clean = 0;
    const started = Date.now();
    for (let i = 0; i < cases.length; i += CONCURRENCY) {
      await Promise.all(cases.slice(i, i + CONCURRENCY).map(async (c) => {
        const res = await rawRequest(t.base, c.request);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (c.clean) clean++;
        for (const problem of problemsOf(c, res)) failures.push(`seed ${SEED} ${adapter} ${c.describe()}\n    -> ${problem}`);
      }));
    }
    const elapsed = Date.now() - started;
    console.log(`fuzz ${adapter}: ${CASES} cases (${clean} well-formed) in ${elapsed} ms; statuses ${JSON.stringify(statuses)}`);

    expect(failures.slice(0, 20)).toEqual([]);
    // No prototype key reached a handler, whatever the body kind (JSON, text, form, query).
    expect(seen.prototypeKeys.slice(0, 10)).toEqual([]);
    // The handlers logged only their own refusals (bad redirect URLs, bad removeSignals paths).
    expect(t.logger.errors().filter((line) => !/^echo\/(redirect|remove)(-\w+)? failed: /.test(line))).toEqual([]);
    // Every stream ended; the app still serves a normal request.
    expect(t.app.get(StreamRegistryService).count()).toBe(0);
    const ok = await rawRequest(t.base, { method: 'POST', path: '/ds/echo/all', headers: { 'content-type': 'application/json', 'datastar-request': 'true' }, body: '{"text":"ok"}' });
    expect(ok.status).toBe(200);
    // The fuzzer must reach the handlers, not only the error paths.
    expect(statuses[200] ?? 0).toBeGreaterThan(CASES / 5);
    expect(clean).toBeGreaterThan(CASES / 10);
    // ... and the request policy's refusals: no Datastar-Request header or cross-site (403), a method the event does not declare (405).
    expect(statuses[403] ?? 0).toBeGreaterThan(CASES / 50);
    expect(statuses[405] ?? 0).toBeGreaterThan(CASES / 50);
    if (CASES <= 500) expect(elapsed).toBeLessThan(BUDGET_MS);
  });
});
