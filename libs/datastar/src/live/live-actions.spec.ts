import { resolveDatastarSettings } from '../core/datastar-settings';
import Handlebars from 'handlebars';
import { expr } from '../protocol';
import { clientFunctionBody } from '../protocol/client-compile.fixture';
import {
  linkClickExpression, liveEventAction, lostNoticeExpression, navigate, navigationScript, reloadOn401Expression, streamAction,
} from './live-actions';
import { registerLiveHelpers } from './live.helpers';

describe('live actions', () => {
  it('posts events to <view path>/_event/<event> with the token header from $_lv', () => {
    expect(liveEventAction('/live/counter', 'increment')).toBe(
      '@post("/live/counter/_event/increment",{"headers":{"x-live-token":$_lv}})',
    );
    expect(liveEventAction('/', 'x y')).toBe('@post("/_event/x%20y",{"headers":{"x-live-token":$_lv}})');
  });

  it('builds navigation with a JSON payload, refusing hostile targets', () => {
    expect(navigate('/live/b', { replace: true })).toBe(
      '@post("/ds/_nav",{"payload":{"to":"/live/b","replace":true},"headers":{"x-live-token":$_lv}})',
    );
    expect(navigate('/live/b', { path: '/v1/ds/' })).toContain('@post("/v1/ds/_nav"');
    for (const bad of ['javascript:alert(1)', '//evil.com', '/\\evil', '/a\r\nb']) expect(() => navigate(bad)).toThrow(/same-origin path/);
  });

  it('escapes "@" inside strings, which the client would otherwise read as an action', () => {
    const built = navigate('/u/@me(1)');
    expect(built.startsWith('@post(')).toBe(true);
    expect(built.slice(1)).not.toContain('@');
    expect(built).toContain('"/u/\\u0040me(1)"');
    expect(JSON.parse(built.slice(built.indexOf('"to":') + 5, built.indexOf(',"replace"')))).toBe('/u/@me(1)');
  });

  it('keeps the stream open in hidden tabs and sends no signals in its URL', () => {
    expect(streamAction('/ds/_stream', 'v1.a.b')).toBe(
      '@get("/ds/_stream",{"headers":{"x-live-token":"v1.a.b"},"payload":{},"openWhenHidden":true})',
    );
  });

  it('pushes or replaces history with a JSON-encoded, origin-checked URL', () => {
    expect(navigationScript('/live/b?q=</script>', false)).toBe(
      '{const u=new URL("/live/b?q=\\u003c/script\\u003e",window.location.href);if(u.origin===window.location.origin)window.history.pushState(null,"",u.href)}',
    );
    expect(navigationScript('/x', true)).toContain('window.history.replaceState(');
  });

  it('soft-navigates only on plain left clicks of a live page', () => {
    const click = linkClickExpression('@post("/ds/_nav")');
    for (const guard of ['evt.button === 0', '!evt.metaKey', '!evt.ctrlKey', '!evt.shiftKey', '!evt.altKey', '$_lv', 'evt.preventDefault()']) {
      expect(click).toContain(guard);
    }
  });
});

describe('live Handlebars helpers', () => {
  const hbs = Handlebars.create();
  registerLiveHelpers(hbs, resolveDatastarSettings({ csrf: { header: 'x-csrf', signal: 'csrf' } }), () => '/ds');
  const render = (source: string, data: Record<string, unknown> = {}) => hbs.compile(source)(data);

  it('{{ds-link}} renders a real link, escaped, with the soft-navigation click handler', () => {
    const html = render(`{{ds-link '/live/b?x=1&y="2"' '<B> & co' id='to-b' class='nav'}}`);
    expect(html).toMatch(/^<a href="\/live\/b\?x=1&amp;y=%222%22" (id="to-b" class="nav"|class="nav" id="to-b") data-live-link data-on:click="[^"]+">&lt;B&gt; &amp; co<\/a>$/);
    expect(html).toContain('&quot;x-csrf&quot;:$csrf');
    expect(html).toContain('evt.preventDefault()');
  });

  it('{{ds-link}} takes a block as content and refuses hostile targets and attributes', () => {
    expect(render(`{{#ds-link '/live/a'}}<b>A</b>{{/ds-link}}`)).toContain('><b>A</b></a>');
    expect(() => render(`{{ds-link 'javascript:alert(1)' 'x'}}`)).toThrow(/same-origin path/);
    expect(() => render(`{{ds-link '//evil.com' 'x'}}`)).toThrow(/same-origin path/);
    expect(() => render(`{{ds-link '/a' 'x' onclick\\"='1'}}`)).toThrow();
    expect(() => render(`{{ds-link '/a' 'x' href='/b'}}`)).toThrow(/other than href/);
  });

  it('{{ds-event}} needs a live view and builds its event action', () => {
    expect(render(`{{ds-event 'save' contentType='form'}}`, { _live: { path: '/live/b' } })).toBe(
      '@post(&quot;/live/b/_event/save&quot;,{&quot;headers&quot;:{&quot;x-csrf&quot;:$csrf,&quot;x-live-token&quot;:$_lv},&quot;contentType&quot;:&quot;form&quot;})',
    );
    expect(() => render(`{{ds-event 'save'}}`)).toThrow(/@LiveView/);
  });

  it('{{ds-event}} without options, built once per path and event, is the same as with none', () => {
    const csrf = { headers: { 'x-csrf': expr('$csrf') } };
    for (const path of ['/live/a', '/live/b', '/live/a']) {
      for (const event of ['inc', 'dec', 'inc']) {
        expect(render(`{{{ds-event '${event}'}}}`, { _live: { path } })).toBe(liveEventAction(path, event, csrf));
        // Escaped once and kept: the same text Handlebars' own escaping gives, at every render.
        expect(render(`<b data-on:click="{{ds-event '${event}'}}">`, { _live: { path } })).toBe(
          `<b data-on:click="${Handlebars.Utils.escapeExpression(liveEventAction(path, event, csrf))}">`,
        );
      }
    }
    // Paths with params are unbounded: the cache starts over past its cap, and still answers right.
    for (let i = 0; i < 1005; i++) render(`{{ds-event 'inc'}}`, { _live: { path: `/live/item/${i}` } });
    expect(render(`{{{ds-event 'dec'}}}`, { _live: { path: '/live/item/3' } })).toBe(liveEventAction('/live/item/3', 'dec', csrf));
    // Options are not cached under the plain action.
    expect(render(`{{{ds-event 'inc' contentType='form'}}}`, { _live: { path: '/live/a' } })).toContain('"contentType":"form"');
    expect(render(`{{{ds-event 'inc'}}}`, { _live: { path: '/live/a' } })).not.toContain('contentType');
  });

  it('{{ds-navigate}} builds soft navigation for buttons', () => {
    expect(render(`{{{ds-navigate '/live/a' replace=true}}}`)).toContain('"payload":{"to":"/live/a","replace":true}');
  });

  describe('a session that cannot be resumed (as the 1.0.2 client compiles and runs them)', () => {
    const globals = globalThis as Record<string, any>;
    let storage: Map<string, string>;
    beforeEach(() => {
      storage = new Map();
      globals.sessionStorage = {
        getItem: (k: string) => storage.get(k) ?? null,
        setItem: (k: string, v: string) => void storage.set(k, v),
        removeItem: (k: string) => void storage.delete(k),
      };
    });
    afterEach(() => {
      delete globals.sessionStorage;
      delete globals.window;
      delete globals.document;
    });
    const run = (expression: string, el: unknown, evt?: unknown) =>
      Function('el', '$', '__action', 'evt', clientFunctionBody(expression, false))(el, {}, () => undefined, evt);

    it('a 401 on an event notes its name for after the reload, then reloads', () => {
      let reloads = 0;
      globals.window = { location: { reload: () => reloads++ } };
      const button = { attributes: [{ value: 'increment' }, { value: '@post("/live/c/_event/add%3Aone",{"headers":{"x-live-token":$_lv}})' }], hasAttribute: () => false };
      const wrapper: Record<string, unknown> = { attributes: [], contains: (child: unknown) => child === button || child === wrapper }; // inclusive, like the DOM's
      run(reloadOn401Expression(), wrapper, { detail: { type: 'error', el: button, argsRaw: { status: '401' } } });
      expect({ reloads, lost: storage.get('dsLiveLost') }).toEqual({ reloads: 1, lost: 'add:one' });
      storage.delete('dsLiveReload');
      run(reloadOn401Expression(), wrapper, { detail: { type: 'error', el: wrapper, argsRaw: { status: '401' } } });
      expect({ reloads, lost: storage.get('dsLiveLost') }).toEqual({ reloads: 2, lost: '' }); // the stream: no action
      run(reloadOn401Expression(), wrapper, { detail: { type: 'error', el: button, argsRaw: { status: '409' } } });
      expect(reloads).toBe(2);
    });

    it('after the reload, the notice shows once in the flash region, with the action as text', () => {
      jest.useFakeTimers();
      try {
        const appended: Array<Record<string, any>> = [];
        globals.document = {
          createElement: () => ({ setAttribute() {}, remove() { appended.splice(appended.indexOf(this), 1); } }),
          getElementById: (id: string) => (id === 'ds-flash' ? { append: (d: Record<string, any>) => appended.push(d) } : null),
        };
        run(lostNoticeExpression(), {});
        expect(appended).toEqual([]);
        storage.set('dsLiveLost', '<b>$&</b>');
        run(lostNoticeExpression(), {});
        expect(appended.map((d) => [d.className, d.textContent])).toEqual([[
          'ds-flash ds-flash-error',
          'Your live session could not be resumed, so the page was reloaded. Your last action (<b>$&</b>) was not applied: please do it again.',
        ]]);
        expect(storage.has('dsLiveLost')).toBe(false);
        jest.advanceTimersByTime(15_000);
        expect(appended).toEqual([]);
      } finally {
        jest.useRealTimers();
      }
    });
  });
});
