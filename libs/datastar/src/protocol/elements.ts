import type { DatastarEvent, EventOptions } from './datastar-event.interface';
import { createEvent } from './datastar-event';
import { singleLine } from './lines';
import {
  DEFAULT_ELEMENT_PATCH_MODE, DEFAULT_NAMESPACE, ELEMENT_PATCH_MODES, MODES_WITHOUT_SELECTOR, NAMESPACES, PATCH_ELEMENTS,
  type ElementNamespace, type ElementPatchMode,
} from './protocol.constants';

export interface PatchElementsOptions extends EventOptions {
  /** CSS selector of the target; without it, top-level elements are matched by `id`. */
  selector?: string;
  /** How the elements are applied; default `outer`. Every mode but outer/replace needs a selector. */
  mode?: ElementPatchMode;
  /** Wrap the patch in `document.startViewTransition()`. */
  useViewTransition?: boolean;
  /** Element to transition, only written together with `useViewTransition: true`. */
  viewTransitionSelector?: string;
  /** `svg` or `mathml` for elements that are not HTML; default `html`. */
  namespace?: ElementNamespace;
}

const MODES: ReadonlySet<string> = new Set(ELEMENT_PATCH_MODES);
const SPACES: ReadonlySet<string> = new Set(NAMESPACES);

/** `datastar-patch-elements`: morphs `elements` (HTML) into the page. */
export function patchElements(elements: string, options: PatchElementsOptions = {}): DatastarEvent {
  return elementsEvent(elements, options, options.selector === undefined ? '' : singleLine(String(options.selector)).trim());
}

/**
 * @internal `patchElements` with the selector given apart, used as it is (one line already): the
 * tracker's `to`, without a copy of the options to put it in (bench: dispatch profile).
 */
export function elementsEvent(elements: string, options: PatchElementsOptions, selector: string): DatastarEvent {
  const mode = options.mode ?? DEFAULT_ELEMENT_PATCH_MODE;
  if (!MODES.has(mode)) {
    throw new TypeError(`Unknown element patch mode "${String(mode)}": use one of ${ELEMENT_PATCH_MODES.join(', ')}.`);
  }
  if (!selector && !MODES_WITHOUT_SELECTOR.has(mode)) {
    throw new TypeError(`Element patch mode "${mode}" needs a selector: pass { selector: '#target' }.`);
  }
  if (options.namespace !== undefined && !SPACES.has(options.namespace)) {
    throw new TypeError(`Unknown namespace "${String(options.namespace)}": use html, svg or mathml.`);
  }
  let head = '';
  if (selector) head += `selector ${selector}\n`;
  if (mode !== DEFAULT_ELEMENT_PATCH_MODE) head += `mode ${mode}\n`;
  if (options.useViewTransition) {
    head += 'useViewTransition true\n';
    if (options.viewTransitionSelector) {
      head += `viewTransitionSelector ${singleLine(String(options.viewTransitionSelector))}\n`;
    }
  }
  if (options.namespace && options.namespace !== DEFAULT_NAMESPACE) head += `namespace ${options.namespace}\n`;
  const html = elements === undefined || elements === null || (elements === '' && mode === 'remove') ? undefined : String(elements);
  return createEvent(PATCH_ELEMENTS, head, 'elements', html, options);
}

/** Removes the elements matching `selector` (a patch in `remove` mode with no elements). */
export function removeElements(selector: string, options: EventOptions & { useViewTransition?: boolean } = {}): DatastarEvent {
  return patchElements('', { ...options, selector, mode: 'remove' });
}
