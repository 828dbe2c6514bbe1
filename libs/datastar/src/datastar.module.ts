import { Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AdapterRoutes } from './core/adapter-routes';
import { DatastarHandlerRegistry } from './core/datastar-handler.registry';
import { DatastarPaths } from './core/datastar-paths';
import { DatastarRequestPolicy } from './core/datastar-request.policy';
import { DATASTAR_SETTINGS, resolveDatastarSettings, type DatastarSettings } from './core/datastar-settings';
import { DatastarCsrfBridge } from './csrf/datastar-csrf.middleware';
import { DatastarExplorer } from './datastar.explorer';
import { DatastarMetadataAccessor } from './datastar-metadata.accessor';
import { ConfigurableModuleClass, DATASTAR_MODULE_OPTIONS, OPTIONS_TYPE } from './datastar.module-definition';
import { DatastarDispatcher } from './dispatch/datastar-dispatcher.service';
import { DatastarRoutes } from './dispatch/datastar-routes';
import { LIVE_PROVIDERS } from './live/live.providers';
import { LiveSessionsService } from './live/live-sessions.service';
import { DatastarPubSub } from './pubsub/datastar-pubsub';
import { MemoryPubSub } from './pubsub/memory-pubsub';
import { RedisPubSub } from './pubsub/redis-pubsub';
import { StreamRegistryService } from './streams/stream-registry.service';
import { MemoryTabClaims, RedisTabClaims, TabClaims } from './streams/tab-claims';
import { DatastarTemplates } from './templates/datastar-templates.service';
import { DatastarPageInterceptor } from './tracker/datastar-page.interceptor';
import { SignalTracker } from './tracker/signal-tracker.service';

/**
 * `DatastarModule.forRoot({ path: 'ds', views: 'views' })` or `forRootAsync({ useFactory, inject })`.
 * Global by default (`isGlobal: false` to scope it).
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    // The options, resolved and checked once; every provider reads these, never the raw options.
    { provide: DATASTAR_SETTINGS, useFactory: resolveDatastarSettings, inject: [DATASTAR_MODULE_OPTIONS] },
    DatastarPaths, DatastarRequestPolicy, AdapterRoutes,
    DatastarTemplates, SignalTracker, DatastarPageInterceptor, DatastarHandlerRegistry,
    DatastarMetadataAccessor, DatastarExplorer, DatastarDispatcher, DatastarCsrfBridge,
    StreamRegistryService, DatastarRoutes, ...LIVE_PROVIDERS,
    {
      provide: DatastarPubSub,
      useFactory: ({ redis, backlog }: DatastarSettings) => (redis ? new RedisPubSub(redis, backlog) : new MemoryPubSub(backlog)),
      inject: [DATASTAR_SETTINGS],
    },
    {
      provide: TabClaims,
      useFactory: ({ redis }: DatastarSettings) => (redis ? new RedisTabClaims(redis) : new MemoryTabClaims()),
      inject: [DATASTAR_SETTINGS],
    },
  ],
  exports: [
    DatastarTemplates, SignalTracker, DatastarPageInterceptor, DatastarHandlerRegistry, DatastarCsrfBridge,
    StreamRegistryService, DatastarPubSub, TabClaims, DatastarRoutes, DATASTAR_MODULE_OPTIONS, DATASTAR_SETTINGS,
    DatastarPaths, LiveSessionsService,
  ],
})
export class DatastarModule extends ConfigurableModuleClass {
  /** Every option has a default: `DatastarModule.forRoot()` is enough. */
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
