import { Injectable, type Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ON_EVENT_METADATA, SIGNALS_PARAM_METADATA, STAR_CONTROLLER_METADATA } from './datastar.constants';
import type { OnEventMetadata } from './interfaces/on-event-options.interface';
import type { SignalsParamMetadata } from './interfaces/signals-param-metadata.interface';
import type { StarControllerMetadata } from './decorators/star-controller.decorator';

/**
 * What `@StarController()`, `@OnEvent()` and `@Signals()` recorded, read for the explorer at boot.
 * Two readers sit below this file in the layers and read their own key: the page interceptor (a
 * StarController's name, per page request) and `@Signals()` itself (appending to its list).
 */
@Injectable()
export class DatastarMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  starController(target: Type | Function | undefined): StarControllerMetadata | undefined {
    return target ? this.reflector.get(STAR_CONTROLLER_METADATA, target) : undefined;
  }

  onEvent(method: Function): OnEventMetadata | undefined {
    return this.reflector.get(ON_EVENT_METADATA, method);
  }

  signalsParams(target: Type, methodName: string): SignalsParamMetadata[] {
    return Reflect.getMetadata(SIGNALS_PARAM_METADATA, target, methodName) ?? [];
  }

  paramTypes(target: Type, methodName: string): unknown[] {
    return Reflect.getMetadata('design:paramtypes', target.prototype, methodName) ?? [];
  }
}
