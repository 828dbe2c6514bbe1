import { SetMetadata } from '@nestjs/common';
import { ON_EVENT_METADATA } from '../datastar.constants';

export interface OnEventMetadata {
  event: string;
}

/**
 * Marks a `@StarController()` method as the handler of a Datastar event:
 * `@OnEvent('increment')` answers `GET|POST|PUT|PATCH|DELETE /ds/<controller>/increment`.
 * (`@nestjs/event-emitter` also exports `OnEvent`: alias one of them when you use both.)
 */
export const OnEvent = (event: string): MethodDecorator => SetMetadata(ON_EVENT_METADATA, { event } satisfies OnEventMetadata);
