import { Injectable, type OnModuleInit, type Type } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { ROUTE_ARGS_METADATA } from './core/nest-internals';
import { INVALID_EVENT_METHOD, INVALID_NAME } from './datastar.messages';
import { DatastarMetadataAccessor } from './datastar-metadata.accessor';
import { DATASTAR_EVENT_METHODS, DATASTAR_NAME } from './datastar.constants';
import type { DatastarEventMethod } from './interfaces/on-event-options.interface';
import { DatastarHandlerRegistry } from './core/datastar-handler.registry';

/** Finds `@StarController()` classes and their `@OnEvent()` handlers at bootstrap. */
@Injectable()
export class DatastarExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: DatastarMetadataAccessor,
    private readonly registry: DatastarHandlerRegistry,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getControllers()) {
      const metatype = wrapper.metatype as Type | undefined;
      const star = this.accessor.starController(metatype);
      if (!metatype || !star) continue;
      const proto = metatype.prototype;
      for (const methodName of this.scanner.getAllMethodNames(proto)) {
        const onEvent = this.accessor.onEvent(proto[methodName]);
        if (!onEvent) continue;
        const where = `${metatype.name}.${methodName}()`;
        if (!DATASTAR_NAME.test(onEvent.event)) throw new Error(INVALID_NAME('event', onEvent.event, where));
        const method = onEvent.method ?? 'POST';
        if (!DATASTAR_EVENT_METHODS.includes(method as DatastarEventMethod)) {
          throw new Error(INVALID_EVENT_METHOD(String(method), onEvent.event, where));
        }
        this.registry.add({
          controller: star.name,
          event: onEvent.event,
          method,
          streamScope: onEvent.streamScope,
          methodName,
          metatype,
          wrapper,
          signalsParams: this.accessor.signalsParams(metatype, methodName),
          paramTypes: this.accessor.paramTypes(metatype, methodName),
          hasRouteArgs: Reflect.getMetadata(ROUTE_ARGS_METADATA, metatype, methodName) !== undefined,
        });
      }
    }
  }
}
