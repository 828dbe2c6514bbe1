import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ExternalContextCreator, HttpAdapterHost } from '@nestjs/core';
import { DEFAULT_DISPATCH_PATH } from '../datastar.constants';
import { DATASTAR_MODULE_OPTIONS } from '../datastar.module-definition';
import { AdapterRoutes } from '../dispatch/adapter-routes';
import type { DatastarModuleOptions } from '../interfaces/datastar-module-options.interface';
import { LiveRuntime } from './live-runtime.service';

/**
 * Registers the session stream (`GET /<path>/_stream`) and soft navigation (`POST /<path>/_nav`)
 * on the HTTP adapter, next to the dispatch route and for the same reason: they are not Nest
 * routes, so global guards do not run for them as for a handler they know nothing about. The
 * stream is authorised by its signed token; navigation runs the target view's own pipeline. Like
 * every Datastar endpoint they answer Datastar requests only (403) and their one method (405).
 */
@Injectable()
export class LiveRoutes implements OnModuleInit {
  private readonly logger = new Logger('DatastarLive');

  constructor(
    private readonly runtime: LiveRuntime,
    private readonly adapterHost: HttpAdapterHost,
    private readonly contextCreator: ExternalContextCreator,
    @Inject(DATASTAR_MODULE_OPTIONS) private readonly options: DatastarModuleOptions,
  ) {}

  onModuleInit(): void {
    const routes = new AdapterRoutes(this.adapterHost, this.contextCreator, this.options);
    this.runtime.globalPrefix = routes.globalPrefix;
    if (!routes.available) return; // an application context without HTTP
    const base = this.options.path ?? DEFAULT_DISPATCH_PATH;
    const stream = routes.path(base, '_stream');
    const nav = routes.path(base, '_nav');
    routes.add(['GET'], stream, (req, res) => this.runtime.stream(req, res));
    routes.add(['POST'], nav, (req, res) => this.runtime.navigate(req, res));
    this.logger.log(`Mapped {${stream}, GET} and {${nav}, POST} live views`);
  }
}
