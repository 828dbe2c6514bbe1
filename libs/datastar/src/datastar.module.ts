import { Module, type DynamicModule, type Provider, type Type } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/internal';
import { DiscoveryModule } from '@nestjs/core';
import { DEFAULT_DISPATCH_PATH } from './datastar.constants';
import { DatastarCsrfBridge } from './csrf/datastar-csrf.middleware';
import { DatastarExplorer } from './datastar.explorer';
import { DatastarMetadataAccessor } from './datastar-metadata.accessor';
import {
  ASYNC_OPTIONS_TYPE, ConfigurableModuleClass, DATASTAR_MODULE_OPTIONS, OPTIONS_TYPE,
} from './datastar.module-definition';
import { createDispatchController } from './dispatch/datastar-dispatch.controller';
import { DatastarDispatcher } from './dispatch/datastar-dispatcher.service';
import { DatastarHandlerRegistry } from './dispatch/datastar-handler.registry';
import type { DatastarModuleOptions } from './interfaces/datastar-module-options.interface';
import { DatastarPubSub } from './pubsub/datastar-pubsub';
import { MemoryPubSub } from './pubsub/memory-pubsub';
import { RedisPubSub } from './pubsub/redis-pubsub';
import { StreamRegistryService } from './streams/stream-registry.service';
import { MemoryTabClaims, RedisTabClaims, TabClaims } from './streams/tab-claims';
import { DatastarTemplates } from './templates/datastar-templates.service';
import { DatastarPageInterceptor } from './tracker/datastar-page.interceptor';
import { SignalTracker } from './tracker/signal-tracker.service';

const DISPATCH_ROUTE = Symbol('DATASTAR_DISPATCH_ROUTE');

/**
 * `DatastarModule.forRoot({ path: 'ds', views: 'views' })` or `forRootAsync({ useFactory, inject })`.
 * Global by default (`isGlobal: false` to scope it).
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    DatastarTemplates, SignalTracker, DatastarPageInterceptor, DatastarHandlerRegistry,
    DatastarMetadataAccessor, DatastarExplorer, DatastarDispatcher, DatastarCsrfBridge,
    StreamRegistryService,
    {
      provide: DatastarPubSub,
      useFactory: (options: DatastarModuleOptions) =>
        options.pubsub?.redis ? new RedisPubSub(options.pubsub.redis) : new MemoryPubSub(),
      inject: [DATASTAR_MODULE_OPTIONS],
    },
    {
      provide: TabClaims,
      useFactory: (options: DatastarModuleOptions) =>
        options.pubsub?.redis ? new RedisTabClaims(options.pubsub.redis) : new MemoryTabClaims(),
      inject: [DATASTAR_MODULE_OPTIONS],
    },
  ],
  exports: [
    DatastarTemplates, SignalTracker, DatastarPageInterceptor, DatastarHandlerRegistry, DatastarCsrfBridge,
    StreamRegistryService, DatastarPubSub, TabClaims, DATASTAR_MODULE_OPTIONS,
  ],
})
export class DatastarModule extends ConfigurableModuleClass {
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return withDispatchRoute(super.forRoot(options));
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withDispatchRoute(super.forRootAsync(options));
  }
}

function withDispatchRoute(module: DynamicModule): DynamicModule {
  const controller: Type = createDispatchController();
  // Routes are registered after providers are created: set the prefix from the resolved options.
  const route: Provider = {
    provide: DISPATCH_ROUTE,
    useFactory: (options: DatastarModuleOptions) => {
      Reflect.defineMetadata(PATH_METADATA, normalizePath(options.path ?? DEFAULT_DISPATCH_PATH), controller);
      return controller;
    },
    inject: [DATASTAR_MODULE_OPTIONS],
  };
  return { ...module, controllers: [...(module.controllers ?? []), controller], providers: [...(module.providers ?? []), route] };
}

function normalizePath(path: string): string {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  if (!/^[A-Za-z0-9_\-/.]*$/.test(trimmed)) {
    throw new Error(`Invalid Datastar path "${path}": use URL path characters only, e.g. 'ds' or 'api/ds'.`);
  }
  return trimmed;
}
