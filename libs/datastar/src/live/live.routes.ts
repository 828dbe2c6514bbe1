import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ExternalContextCreator, HttpAdapterHost } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/internal';
import { RouterExceptionFilters } from '@nestjs/core/router/router-exception-filters';
import { DEFAULT_DISPATCH_PATH } from '../datastar.constants';
import { DATASTAR_MODULE_OPTIONS } from '../datastar.module-definition';
import type { DatastarModuleOptions } from '../interfaces/datastar-module-options.interface';
import { LiveRuntime } from './live-runtime.service';

/**
 * Registers the session stream (`GET /<path>/_stream`) and soft navigation (`POST /<path>/_nav`)
 * on the HTTP adapter, next to the dispatch route and for the same reason: they are not Nest
 * routes, so global guards do not run for them as for a handler they know nothing about. The
 * stream is authorised by its signed token; navigation runs the target view's own pipeline.
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
    const container = (this.contextCreator as any).container;
    const config = container?.applicationConfig;
    const prefix = trim(config?.getGlobalPrefix?.() ?? '');
    this.runtime.globalPrefix = prefix;
    const adapter = this.adapterHost?.httpAdapter;
    if (!adapter) return; // an application context without HTTP
    const exceptions = new RouterExceptionFilters(container, config, adapter).create({}, () => undefined, undefined as any);
    const base = [prefix, trim(this.options.path ?? DEFAULT_DISPATCH_PATH)].filter(Boolean).join('/');
    const route = (endpoint: string) => `/${base ? `${base}/` : ''}${endpoint}`;
    const handle = (run: (req: any, res: any) => Promise<void>) => (req: any, res: any, next?: unknown) => {
      run(req, res).catch((error) => exceptions.next(error, new ExecutionContextHost([req, res, next])));
    };
    adapter.get(route('_stream'), handle((req, res) => this.runtime.stream(req, res)));
    adapter.post(route('_nav'), handle((req, res) => this.runtime.navigate(req, res)));
    this.logger.log(`Mapped {${route('_stream')}, GET} and {${route('_nav')}, POST} live views`);
  }
}

function trim(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}
