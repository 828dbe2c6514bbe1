import type { ElementNamespace, ElementPatchMode } from '../protocol';

/** One server-sent event as a client sees it, parsed by `parseSse`. */
export interface SseEvent {
  /** The `event:` field; `message` when the event had none (SSE default). */
  type: string;
  /** The `id:` field of this very event (not inherited from earlier events). */
  id?: string;
  /** The `retry:` field when it was a valid integer. */
  retry?: number;
  /**
   * Datastar data lines by key, split at the first space the way the client splits them:
   * `data: elements <li>` -> `{ elements: ['<li>'] }`. Trailing spaces are kept.
   */
  data: Record<string, string[]>;
  /** Decoded `datastar-patch-elements` (only on that type). */
  patchElements?: PatchElementsView;
  /** Decoded `datastar-patch-signals` (only on that type). */
  patchSignals?: PatchSignalsView;
}

/** A `datastar-patch-elements` event with the protocol's defaults filled in. */
export interface PatchElementsView {
  selector?: string;
  mode: ElementPatchMode | string;
  /** The `elements` lines joined with `\n`; '' when there were none. */
  elements: string;
  namespace: ElementNamespace | string;
  useViewTransition: boolean;
  viewTransitionSelector?: string;
}

/** A `datastar-patch-signals` event: the JSON merge patch and its flag. */
export interface PatchSignalsView {
  /** The parsed patch; `{}` when the text was not a JSON object (see `error`). */
  signals: Record<string, unknown>;
  onlyIfMissing: boolean;
  /** Set when the `signals` lines are not a JSON object: the client would run them as JavaScript. */
  error?: string;
}
