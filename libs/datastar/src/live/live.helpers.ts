/** The live Handlebars helpers: `{{ds-event}}`, `{{ds-navigate}}`, `{{ds-link}}`. */
import type Handlebars from 'handlebars';
import type { DatastarSettings } from '../core/datastar-settings';
import { escapeAttribute, type ActionOptions } from '../protocol';
import { defaultActionOptions } from '../templates/datastar-helpers';
import { LIVE_LINK_ATTRIBUTE, LIVE_LOCALS } from './live.constants';
import { INVALID_LINK_ATTRIBUTE, INVALID_NAV_TARGET, NO_LIVE_VIEW_FOR_HELPER } from './live.messages';
import { linkClickExpression, liveEventAction, navigate } from './live-actions';
import { safeLocalPath } from './live-path';

const ATTRIBUTE_NAME = /^[A-Za-z_][-A-Za-z0-9_:.]*$/;
/** Entries of the `{{ds-event}}` cache before it starts over. */
const MAX_PLAIN_EVENTS = 1000;

/**
 * A built action, escaped once: Handlebars writes `toHTML()` for `{{ds-event}}` (where it would
 * escape the text at every render: the quotes of a long action, per session per broadcast) and
 * `toString()` for `{{{ds-event}}}`. Both are what they were when the helper returned the text.
 */
class BuiltAction {
  constructor(
    private readonly text: string,
    private readonly html: string,
  ) {}
  toHTML(): string {
    return this.html;
  }
  toString(): string {
    return this.text;
  }
}

function isEmpty(hash: Record<string, unknown> | undefined): boolean {
  for (const key in hash) if (Object.prototype.hasOwnProperty.call(hash, key)) return false;
  return true;
}

/**
 * `{{ds-event 'increment'}}` (an event of the current live view, hash arguments as action options),
 * `{{ds-navigate '/live/b' replace=true}}` (soft navigation as an action) and
 * `{{ds-link '/live/b' 'Go to B' id='to-b'}}` (a real `<a href>` that soft-navigates on plain left clicks).
 */
export function registerLiveHelpers(hbs: typeof Handlebars, settings: Pick<DatastarSettings, 'csrf'>, dispatchPath: () => string): void {
  const defaults = defaultActionOptions(settings);
  // `{{ds-event 'name'}}` without options, by path, then event: every session of a view (and every
  // re-render) has the same action, built and escaped once instead of at each render.
  const plainEvents = new Map<string, Map<string, BuiltAction>>();
  let plainCount = 0;

  hbs.registerHelper('ds-event', function (event: string, helperOptions: Handlebars.HelperOptions) {
    const live = helperOptions.data?.root?.[LIVE_LOCALS] as { path?: string } | undefined;
    if (!live?.path) throw new Error(NO_LIVE_VIEW_FOR_HELPER('ds-event'));
    if (isEmpty(helperOptions.hash)) {
      const name = String(event);
      let events = plainEvents.get(live.path);
      let built = events?.get(name);
      if (built === undefined) {
        const text = liveEventAction(live.path, name, { ...defaults });
        built = new BuiltAction(text, hbs.Utils.escapeExpression(text));
        if (plainCount >= MAX_PLAIN_EVENTS) { // paths with params are unbounded
          plainEvents.clear();
          plainCount = 0;
          events = undefined;
        }
        if (!events) plainEvents.set(live.path, (events = new Map()));
        events.set(name, built);
        plainCount++;
      }
      return built;
    }
    const { include, exclude, ...hash } = helperOptions.hash ?? {};
    const opts: ActionOptions = { ...defaults, ...hash };
    if (include !== undefined || exclude !== undefined) opts.filterSignals = { include, exclude };
    return liveEventAction(live.path, String(event), opts);
  });

  hbs.registerHelper('ds-navigate', function (to: string, helperOptions: Handlebars.HelperOptions) {
    if (safeLocalPath(to) === undefined) throw new Error(INVALID_NAV_TARGET('{{ds-navigate}}', to));
    return navigate(to, { replace: helperOptions.hash?.replace === true, path: dispatchPath(), action: defaults });
  });

  hbs.registerHelper('ds-link', function (this: unknown, to: string, ...rest: unknown[]) {
    const helperOptions = rest.pop() as Handlebars.HelperOptions;
    const target = safeLocalPath(to);
    if (target === undefined) throw new Error(INVALID_NAV_TARGET('{{ds-link}}', to));
    const { replace, ...attributes } = helperOptions.hash ?? {};
    const content = helperOptions.fn
      ? helperOptions.fn(this)
      : escapeAttribute(String(rest.length > 0 ? rest[0] : target));
    const click = linkClickExpression(navigate(target, { replace: replace === true, path: dispatchPath(), action: defaults }));
    let extra = '';
    for (const [name, value] of Object.entries(attributes)) {
      if (!ATTRIBUTE_NAME.test(name) || /^(href|data-on:click)$/i.test(name)) {
        throw new Error(INVALID_LINK_ATTRIBUTE(name));
      }
      if (value === false || value === undefined || value === null) continue;
      extra += value === true ? ` ${name}` : ` ${name}="${escapeAttribute(String(value))}"`;
    }
    return new hbs.SafeString(
      `<a href="${escapeAttribute(target)}"${extra} ${LIVE_LINK_ATTRIBUTE} data-on:click="${escapeAttribute(click)}">${content}</a>`,
    );
  });
}
