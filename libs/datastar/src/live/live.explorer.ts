/** Discovery of `@LiveView()` classes at bootstrap. */
import { Injectable, type OnModuleInit, type Type } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { DEFAULT_LIVE_GROUP, LIVE_VIEW_METADATA } from './live.constants';
import { LIVE_VIEW_NEEDS_RENDER, LIVE_VIEW_SCOPE } from './live.messages';
import { compileRoute } from './live-path';
import { LiveEndpoints } from './live-endpoints.service';
import { LiveRuntime } from './live-runtime.service';
import { bindLiveView, type LiveViewMetadata } from './live-view.decorator';
import type { LiveViewCallbacks } from './live-view.interface';
import { LiveViewRegistry, type LiveViewDefinition } from './live-view.registry';

/** Finds `@LiveView()` controllers at bootstrap and binds their routes to this app's live endpoints. */
@Injectable()
export class LiveExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
    private readonly registry: LiveViewRegistry,
    private readonly runtime: LiveRuntime,
    private readonly endpoints: LiveEndpoints,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getControllers()) {
      const metatype = wrapper.metatype as Type | undefined;
      const meta = metatype ? this.reflector.get<LiveViewMetadata | undefined>(LIVE_VIEW_METADATA, metatype) : undefined;
      if (!metatype || !meta) continue;
      if (!wrapper.isDependencyTreeStatic() || !wrapper.instance) throw new Error(LIVE_VIEW_SCOPE(metatype.name));
      const instance = wrapper.instance as LiveViewCallbacks;
      if (meta.options.template === undefined && typeof instance.render !== 'function') {
        throw new Error(LIVE_VIEW_NEEDS_RENDER(metatype.name));
      }
      const view: LiveViewDefinition = {
        route: compileRoute(meta.route)!,
        options: meta.options,
        group: meta.options.group ?? DEFAULT_LIVE_GROUP,
        stateless: meta.options.stateless === true,
        instance,
        metatype,
        wrapper,
      };
      this.registry.add(view);
      bindLiveView(instance, {
        page: (req, res) => this.endpoints.page(view, req, res),
        event: (req, res) => this.endpoints.event(view, req, res),
      });
    }
    this.runtime.boot(this.registry.size > 0);
  }
}
