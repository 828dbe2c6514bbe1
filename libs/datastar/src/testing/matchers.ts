import { PATCH_ELEMENTS, PATCH_SIGNALS } from '../protocol';
import { topLevelIds } from './html-scan';
import { composePatch, isPlainObject, type SignalObject } from './merge-patch';
import { parseSse } from './parse-sse';
import { redirectTarget, sameUrl, scriptsOf } from './script-patterns';
import type { SseEvent } from './sse-event.interface';

/** What the matchers accept: parsed events, anything carrying `events` (a client response), or raw SSE text. */
export type DatastarReceived = readonly SseEvent[] | { events: readonly SseEvent[] } | string;

export interface PatchElementsExpectation {
  /** The patch mode; `outer` when the event has none. */
  mode?: string;
  /** A substring of (or a pattern over) the patched HTML. */
  contains?: string | RegExp;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    interface Matchers<R> {
      /** The signal patches, merged in order, contain `partial` (deeply; asymmetric matchers work; `null` = removed). */
      toPatchSignals(partial: Record<string, unknown>): R;
      /** Some element patch targets `selectorOrId` (a selector, or an id matched against top-level elements). */
      toPatchElements(selectorOrId: string, expected?: PatchElementsExpectation): R;
      /** Some event runs a script whose body contains `substring`. */
      toExecuteScript(substring: string | RegExp): R;
      /** Some event redirects the browser to `url` (the script `redirect()` sends, or `location = "..."`). */
      toRedirectTo(url: string): R;
    }
  }
}

/** The slice of Jest's matcher context the matchers use. */
interface MatcherContext {
  isNot: boolean;
  equals(a: unknown, b: unknown): boolean;
  utils: { printExpected(v: unknown): string; printReceived(v: unknown): string; matcherHint(name: string, received?: string, expected?: string, options?: object): string };
}
interface MatcherResult { pass: boolean; message(): string }

function toPatchSignals(this: MatcherContext, received: DatastarReceived, partial: Record<string, unknown>): MatcherResult {
  const events = eventsOf(received, 'toPatchSignals');
  const patches = events.filter((e) => e.type === PATCH_SIGNALS && e.patchSignals);
  const invalid = patches.filter((e) => e.patchSignals!.error);
  const merged: SignalObject = {};
  for (const e of patches) composePatch(merged, e.patchSignals!.signals);
  const mismatches: string[] = [];
  if (invalid.length === 0) partialMatch(this, merged, partial, '', mismatches);
  const pass = invalid.length === 0 && mismatches.length === 0;
  return {
    pass,
    message: () => {
      const hint = this.utils.matcherHint(`${this.isNot ? '.not' : ''}.toPatchSignals`, 'events', 'partial');
      const lines = [hint, '', `Expected signal patches ${this.isNot ? 'not ' : ''}to contain: ${this.utils.printExpected(partial)}`];
      if (invalid.length) lines.push(`Invalid patch: ${invalid.map((e) => e.patchSignals!.error).join('; ')}`);
      lines.push(patches.length ? `Received (merged from ${patches.length} patch(es)): ${this.utils.printReceived(merged)}` : 'Received no datastar-patch-signals event.');
      if (!this.isNot && mismatches.length) lines.push('', ...mismatches.map((m) => `  ${m}`));
      lines.push('', listEvents(events));
      return lines.join('\n');
    },
  };
}

function partialMatch(ctx: MatcherContext, actual: unknown, expected: unknown, path: string, out: string[]): void {
  if (isPlainObject(expected) && !isAsymmetric(expected)) {
    if (!isPlainObject(actual)) {
      out.push(`${path || '(root)'}: expected an object, received ${ctx.utils.printReceived(actual)}`);
      return;
    }
    for (const key of Object.keys(expected)) {
      const childPath = path ? `${path}.${key}` : key;
      if (!Object.hasOwn(actual, key)) {
        out.push(`${childPath}: missing (expected ${ctx.utils.printExpected(expected[key])})`);
      } else {
        partialMatch(ctx, actual[key], expected[key], childPath, out);
      }
    }
    return;
  }
  if (!ctx.equals(actual, expected)) {
    out.push(`${path || '(root)'}: expected ${ctx.utils.printExpected(expected)}, received ${ctx.utils.printReceived(actual)}`);
  }
}

function isAsymmetric(value: object): boolean {
  return typeof (value as { asymmetricMatch?: unknown }).asymmetricMatch === 'function';
}

function toPatchElements(
  this: MatcherContext,
  received: DatastarReceived,
  selectorOrId: string,
  expected: PatchElementsExpectation = {},
): MatcherResult {
  const events = eventsOf(received, 'toPatchElements');
  const id = idOf(selectorOrId);
  const targeted = events.filter((e) => {
    const view = e.type === PATCH_ELEMENTS ? e.patchElements : undefined;
    if (!view) return false;
    if (view.selector !== undefined) return view.selector.trim() === selectorOrId.trim() || (id !== undefined && view.selector.trim() === `#${id}`);
    return id !== undefined && topLevelIds(view.elements).includes(id);
  });
  const matching = targeted.filter((e) => {
    const view = e.patchElements!;
    if (expected.mode !== undefined && view.mode !== expected.mode) return false;
    if (expected.contains === undefined) return true;
    return typeof expected.contains === 'string' ? view.elements.includes(expected.contains) : expected.contains.test(view.elements);
  });
  const pass = matching.length > 0;
  return {
    pass,
    message: () => {
      const want = [`target ${this.utils.printExpected(selectorOrId)}`];
      if (expected.mode !== undefined) want.push(`mode ${this.utils.printExpected(expected.mode)}`);
      if (expected.contains !== undefined) want.push(`elements containing ${this.utils.printExpected(expected.contains)}`);
      const lines = [
        this.utils.matcherHint(`${this.isNot ? '.not' : ''}.toPatchElements`, 'events', 'selectorOrId'), '',
        `Expected ${this.isNot ? 'no' : 'an'} element patch with ${want.join(', ')}.`,
      ];
      if (this.isNot) lines.push(`Matched: ${matching.map((e) => describeEvent(e)).join('; ')}`);
      else if (targeted.length) lines.push(`Patches of that target: ${targeted.map((e) => describeEvent(e)).join('; ')}`);
      else lines.push('No element patch targets it (a selector must be equal; an id must be a top-level element\'s id or the selector "#id").');
      lines.push('', listEvents(events));
      return lines.join('\n');
    },
  };
}

/** `#count` and `count` name the id `count`; other selectors name no id. */
function idOf(selectorOrId: string): string | undefined {
  const s = selectorOrId.trim();
  if (/^#[^\s.#[:>+~,]+$/.test(s)) return s.slice(1);
  if (/^[^\s.#[:>+~,*]+$/.test(s)) return s;
  return undefined;
}

function toExecuteScript(this: MatcherContext, received: DatastarReceived, substring: string | RegExp): MatcherResult {
  const events = eventsOf(received, 'toExecuteScript');
  const scripts = events.flatMap(scriptsOf);
  const pass = scripts.some((s) => (typeof substring === 'string' ? s.includes(substring) : substring.test(s)));
  return {
    pass,
    message: () => [
      this.utils.matcherHint(`${this.isNot ? '.not' : ''}.toExecuteScript`, 'events', 'substring'), '',
      `Expected ${this.isNot ? 'no' : 'a'} script containing ${this.utils.printExpected(substring)}.`,
      scripts.length ? `Scripts received:\n${scripts.map((s) => `  ${this.utils.printReceived(s)}`).join('\n')}` : 'No script was received.',
      '', listEvents(events),
    ].join('\n'),
  };
}

function toRedirectTo(this: MatcherContext, received: DatastarReceived, url: string): MatcherResult {
  const events = eventsOf(received, 'toRedirectTo');
  const targets = events.flatMap(scriptsOf).map(redirectTarget).filter((t): t is string => t !== undefined);
  const pass = targets.some((t) => sameUrl(t, url));
  return {
    pass,
    message: () => [
      this.utils.matcherHint(`${this.isNot ? '.not' : ''}.toRedirectTo`, 'events', 'url'), '',
      `Expected ${this.isNot ? 'no' : 'a'} redirect to ${this.utils.printExpected(url)}.`,
      targets.length ? `Redirects received: ${targets.map((t) => this.utils.printReceived(t)).join(', ')}` : 'No redirect script was received.',
      '', listEvents(events),
    ].join('\n'),
  };
}

function eventsOf(received: DatastarReceived, matcher: string): readonly SseEvent[] {
  if (typeof received === 'string') return parseSse(received);
  if (Array.isArray(received)) return received;
  const events = (received as { events?: unknown } | null)?.events;
  if (Array.isArray(events)) return events;
  throw new TypeError(
    `${matcher} expects parsed events (parseSse(text)), a response carrying \`events\` (DatastarTestClient) or SSE text; got ${typeof received}.`,
  );
}

/** One line per event, for failure messages. */
export function describeEvent(event: SseEvent): string {
  const id = event.id !== undefined ? ` id=${event.id}` : '';
  if (event.patchSignals) {
    const v = event.patchSignals;
    return `patch-signals${id}${v.onlyIfMissing ? ' onlyIfMissing' : ''} ${v.error ? `INVALID (${v.error})` : JSON.stringify(v.signals)}`;
  }
  if (event.patchElements) {
    const v = event.patchElements;
    const parts = [`patch-elements${id}`];
    if (v.selector !== undefined) parts.push(`selector=${v.selector}`);
    parts.push(`mode=${v.mode}`);
    if (v.namespace !== 'html') parts.push(`namespace=${v.namespace}`);
    parts.push(`elements=${JSON.stringify(v.elements.length > 160 ? `${v.elements.slice(0, 160)}...` : v.elements)}`);
    return parts.join(' ');
  }
  return `${event.type}${id} ${JSON.stringify(event.data)}`;
}

function listEvents(events: readonly SseEvent[]): string {
  if (events.length === 0) return 'Events received: none.';
  return `Events received (${events.length}):\n${events.map((e, i) => `  #${i + 1} ${describeEvent(e)}`).join('\n')}`;
}

/** The matchers, for `expect.extend(datastarMatchers)`. */
export const datastarMatchers = { toPatchSignals, toPatchElements, toExecuteScript, toRedirectTo };

/** Registers the matchers with Jest's global `expect` (call once, e.g. in a setup file). */
export function setupDatastarMatchers(): void {
  const expect = (globalThis as { expect?: { extend(matchers: object): void } }).expect;
  if (!expect || typeof expect.extend !== 'function') {
    throw new Error('setupDatastarMatchers() needs Jest\'s global expect: call it from a test file or a setupFilesAfterEnv module.');
  }
  expect.extend(datastarMatchers);
}
