import type { DATASTAR_EVENT_METHODS } from '../datastar.constants';

/** The HTTP method a Datastar event answers. */
export type DatastarEventMethod = (typeof DATASTAR_EVENT_METHODS)[number];

export interface OnEventOptions {
  /**
   * The one method this event answers (default `'POST'`); any other gets 405 with `Allow`.
   * `{{ds-action 'event'}}` emits it. Choose `'GET'` for reads and streams opened by `data-init`.
   */
  method?: DatastarEventMethod;
  /**
   * Deduplicate this event's streams per browser tab under this scope: a new stream from a tab
   * (its `tabId` signal) ends the previous one. Same as calling `streams.startStream(scope)`.
   */
  streamScope?: string;
}

export interface OnEventMetadata extends OnEventOptions {
  event: string;
}
