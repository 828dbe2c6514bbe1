import { SetMetadata } from '@nestjs/common';
import { ON_EVENT_METADATA } from '../datastar.constants';

/** The HTTP method a Datastar event answers. */
export type DatastarEventMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Every method an `@OnEvent()` may declare (checked at boot). */
export const DATASTAR_EVENT_METHODS: readonly DatastarEventMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

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

/**
 * Marks a `@StarController()` method as the handler of a Datastar event:
 * `@OnEvent('increment')` answers `POST /ds/<controller>/increment`,
 * `@OnEvent('search', { method: 'GET' })` answers `GET /ds/<controller>/search`.
 * (`@nestjs/event-emitter` also exports `OnEvent`: alias one of them when you use both.)
 */
export const OnEvent = (event: string, options: OnEventOptions = {}): MethodDecorator =>
  SetMetadata(ON_EVENT_METADATA, { event, ...options } satisfies OnEventMetadata);
