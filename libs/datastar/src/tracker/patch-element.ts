/** `patchElement()` and `patchElements()` options, read the same way by the tracker and by live views. */
import { elementsEvent, patchElements, type DatastarEvent, type PatchElementsOptions } from '../protocol';
import type { TemplateSource } from '../interfaces/template-source.interface';
import { idSelector } from './css';

export interface PatchElementOptions extends PatchElementsOptions {
  /** Id of the target element: `to: 'history-list'` is `selector: '#history-list'`. */
  to?: string;
  /**
   * Template data for this fragment: over the request's signals and assigns in `patchElement`,
   * the only data in `renderFragment` (any object, e.g. an entity typed by an interface).
   */
  locals?: object;
}

/** Raw HTML has no template data: `patchElements()` takes every option but `locals`. */
export type PatchHtmlOptions = Omit<PatchElementOptions, 'locals'>;

/**
 * A fragment as a patch: `render` turns `source` into HTML with the caller's template data and
 * this fragment's `locals`; `to` becomes the selector.
 */
export function fragmentPatch(
  source: TemplateSource,
  options: PatchElementOptions,
  render: (source: TemplateSource, locals: object | undefined) => string,
): DatastarEvent {
  // patchElements() reads only its own options: `locals` and `to` can stay in them.
  return htmlPatch(render(source, options.locals), options);
}

/** Raw HTML as a patch, `to` as the selector. */
export function htmlPatch(html: string, options: PatchHtmlOptions): DatastarEvent {
  if (options.to === undefined) return patchElements(html, options);
  // No copy of the options to hold the selector (bench: dispatch profile); idSelector's escapes
  // keep it on one line, and are not trimmed (`#a\ ` ends in an escaped space).
  return elementsEvent(html, options, idSelector(options.to));
}
