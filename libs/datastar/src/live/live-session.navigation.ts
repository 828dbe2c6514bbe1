/** The scripts a navigation sends: the browser's URL and title after a soft one, the page load of a full one. */
import { executeScript, htmlSafeJson, type DatastarEvent } from '../protocol';
import { fullLoadScript, navigationScript } from './live-actions';
import type { LiveContext } from './live-context';
import type { LiveViewDefinition } from './live-view.registry';

/** A full page load of a validated same-origin path (never HTTP 3xx, which the client would morph in). */
export function fullLoad(target: string): DatastarEvent {
  return executeScript(fullLoadScript(target));
}

/**
 * After a soft navigation: the URL pushed or replaced (not on back/forward, where the browser
 * moved already), and the title when the new view's differs from the old one's.
 */
export function navigatedEvents(
  to: string, options: { replace: boolean; pop: boolean }, oldTitle: string | undefined, title: string | undefined,
): DatastarEvent[] {
  const events: DatastarEvent[] = [];
  if (!options.pop) events.push(executeScript(navigationScript(to, options.replace)));
  if (title !== undefined && title !== oldTitle) events.push(executeScript(titleScript(oldTitle, title)));
  return events;
}

/** The view's title: its `title` assign, else the decorator's. */
export function titleOf(view: LiveViewDefinition, ctx: LiveContext): string | undefined {
  const title = ctx.assigns.title ?? view.options.title;
  return typeof title === 'string' ? title : undefined;
}

/** The new view's title in place of the old one's: "A · My app" becomes "B · My app" whatever the shell's format. */
function titleScript(oldTitle: string | undefined, title: string): string {
  return `{const o=${htmlSafeJson(oldTitle ?? '')},n=${htmlSafeJson(title)};` +
    'document.title=o&&document.title.includes(o)?document.title.replace(o,()=>n):n}';
}
