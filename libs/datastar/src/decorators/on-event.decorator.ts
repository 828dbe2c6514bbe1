import { SetMetadata } from '@nestjs/common';
import { ON_EVENT_METADATA } from '../datastar.constants';
import type { OnEventMetadata, OnEventOptions } from '../interfaces/on-event-options.interface';

/**
 * Marks a `@StarController()` method as the handler of a Datastar event:
 * `@OnEvent('increment')` answers `POST /ds/<controller>/increment`,
 * `@OnEvent('search', { method: 'GET' })` answers `GET /ds/<controller>/search`.
 * (`@nestjs/event-emitter` also exports `OnEvent`: alias one of them when you use both.)
 */
export const OnEvent = (event: string, options: OnEventOptions = {}): MethodDecorator =>
  SetMetadata(ON_EVENT_METADATA, { event, ...options } satisfies OnEventMetadata);
