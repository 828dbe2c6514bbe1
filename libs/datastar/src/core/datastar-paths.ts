import { Inject, Injectable } from '@nestjs/common';
import { ExternalContextCreator } from '@nestjs/core';
import { globalPrefixOf } from './nest-internals';
import { DATASTAR_SETTINGS, normalizePath, type DatastarSettings } from './datastar-settings';

/**
 * Every URL the library serves or writes into pages, computed once: the app's global prefix, then
 * the dispatch path. Routes, helpers and live views all read them here.
 */
@Injectable()
export class DatastarPaths {
  private prefix?: string;
  private base?: string;

  constructor(
    @Inject(DATASTAR_SETTINGS) private readonly settings: DatastarSettings,
    private readonly contextCreator: ExternalContextCreator,
  ) {}

  /**
   * The app's global prefix without slashes ('' when none). Read at first use, not at
   * construction: `app.setGlobalPrefix()` runs after the module is built and before init.
   */
  get globalPrefix(): string {
    return (this.prefix ??= normalizePath(globalPrefixOf(this.contextCreator)));
  }

  /** The dispatch route's base with the global prefix, e.g. `/v1/ds` (`/` when both are empty). */
  get dispatch(): string {
    return (this.base ??= this.of(this.settings.path));
  }

  /** `/<global prefix>/<segments>`, each segment normalised. */
  of(...segments: string[]): string {
    return `/${[this.globalPrefix, ...segments.map(normalizePath)].filter(Boolean).join('/')}`;
  }
}
