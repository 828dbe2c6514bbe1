import { SetMetadata } from '@nestjs/common';
import { ON_EVENT_METADATA } from '../datastar.constants';

export interface OnEventOptions {
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
 * `@OnEvent('increment')` answers `GET|POST|PUT|PATCH|DELETE /ds/<controller>/increment`.
 * (`@nestjs/event-emitter` also exports `OnEvent`: alias one of them when you use both.)
 */
export const OnEvent = (event: string, options: OnEventOptions = {}): MethodDecorator =>
  SetMetadata(ON_EVENT_METADATA, { event, ...options } satisfies OnEventMetadata);
