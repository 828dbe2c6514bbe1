/** The two live routes that are not per view: the session stream and soft navigation. */
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { AdapterRoutes } from '../core/adapter-routes';
import { DatastarPaths } from '../core/datastar-paths';
import { DATASTAR_SETTINGS, type DatastarSettings } from '../core/datastar-settings';
import { LiveEndpoints } from './live-endpoints.service';

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
    private readonly endpoints: LiveEndpoints,
    private readonly routes: AdapterRoutes,
    private readonly paths: DatastarPaths,
    @Inject(DATASTAR_SETTINGS) private readonly settings: DatastarSettings,
  ) {}

  onModuleInit(): void {
    if (!this.routes.available) return; // an application context without HTTP
    const stream = this.paths.of(this.settings.path, '_stream');
    const nav = this.paths.of(this.settings.path, '_nav');
    this.routes.add(['GET'], stream, (req, res) => this.endpoints.stream(req, res));
    this.routes.add(['POST'], nav, (req, res) => this.endpoints.navigate(req, res));
    this.logger.log(`Mapped {${stream}, GET} and {${nav}, POST} live views`);
  }
}
