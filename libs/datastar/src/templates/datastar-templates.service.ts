import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import Handlebars from 'handlebars';
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { DatastarPaths } from '../core/datastar-paths';
import { DATASTAR_SETTINGS, type DatastarSettings } from '../core/datastar-settings';
import { DATASTAR_LOCALS } from '../datastar.constants';
import { NO_VIEWS, TEMPLATE_NOT_FOUND } from '../datastar.messages';
import { DatastarHandlerRegistry } from '../core/datastar-handler.registry';
import type { DatastarContext } from '../core/request-context';
import type { TemplateSource } from '../interfaces/template-source.interface';
import { registerDatastarHelpers, type DatastarViewData } from './datastar-helpers';

const TEMPLATE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_\-/.]*$/;

/**
 * One Handlebars instance for `@Render` pages and `patchElement` fragments: same partials, same
 * helpers, compiled templates cached.
 */
@Injectable()
export class DatastarTemplates implements OnModuleInit {
  /** The isolated Handlebars instance: register your own helpers and partials on it. */
  readonly handlebars = Handlebars.create();
  readonly viewsDir?: string;
  private readonly cache = new Map<string, Handlebars.TemplateDelegate>();
  private readonly caching: boolean;

  constructor(
    @Inject(DATASTAR_SETTINGS) settings: DatastarSettings,
    paths: DatastarPaths,
    // The helpers emit (and check) the method each event declares.
    handlers: DatastarHandlerRegistry,
  ) {
    this.viewsDir = settings.views;
    this.caching = settings.cacheTemplates;
    registerDatastarHelpers(this.handlebars, settings, () => paths.dispatch, (controller, event) => handlers.get(controller, event)?.method);
    for (const [name, helper] of Object.entries(settings.helpers)) this.handlebars.registerHelper(name, helper);
  }

  onModuleInit(): void {
    this.loadPartials();
  }

  /** Registers every `.hbs` under `<views>/partials` by its relative path: `partials/history-item.hbs` -> `history-item`. */
  loadPartials(): void {
    if (!this.viewsDir) return;
    const dir = join(this.viewsDir, 'partials');
    if (!existsSync(dir)) return;
    for (const file of walk(dir)) {
      const name = relative(dir, file).split(sep).join('/').replace(/\.hbs$/, '');
      this.handlebars.registerPartial(name, readFileSync(file, 'utf8'));
    }
  }

  /** Renders a named template (`<views>/<name>.hbs`, or a partial's file) with `locals`. */
  render(name: string, locals: Record<string, unknown> = {}): string {
    return this.template(name)(locals);
  }

  /** Compiles template source text (strict about missing helpers, lenient about missing data). */
  compile(source: string): Handlebars.TemplateDelegate {
    return this.handlebars.compile(source);
  }

  /** @internal Renders a TemplateSource for a request context. */
  renderSource(source: TemplateSource, locals: Record<string, unknown>, ctx?: DatastarContext): string {
    if (typeof source === 'function') return String(source(locals));
    if (source.trimStart().startsWith('<')) return source;
    const data = ctx ? { ...locals, [DATASTAR_LOCALS]: this.viewData(ctx) } : locals;
    // A template file's final newline would become an empty `elements` line.
    return this.render(source, data).trimEnd();
  }

  /**
   * @internal What the helpers need: the controller for `{{ds-post 'event'}}` and, for
   * `{{ds-signals}}`, the signals this request set with `signal()` (never the assigns, which stay on
   * the server, nor the locals).
   */
  viewData(ctx: DatastarContext): DatastarViewData {
    return { controller: ctx.controller, signals: { ...ctx.signals } };
  }

  /** An Express view engine: `app.engine('hbs', templates.expressEngine)`. */
  readonly expressEngine = (file: string, locals: Record<string, unknown>, callback: (err: Error | null, html?: string) => void) => {
    try {
      callback(null, this.fileTemplate(file)(locals));
    } catch (error) {
      callback(error as Error);
    }
  };

  private template(name: string): Handlebars.TemplateDelegate {
    const cached = this.cache.get(name);
    if (cached) return cached;
    if (!this.viewsDir) throw new Error(NO_VIEWS(name));
    if (!TEMPLATE_NAME.test(name) || name.split('/').includes('..')) throw new Error(TEMPLATE_NOT_FOUND(name, this.viewsDir));
    const candidates = [join(this.viewsDir, `${name}.hbs`), join(this.viewsDir, 'partials', `${name}.hbs`)];
    const file = candidates.find((f) => existsSync(f));
    if (!file) throw new Error(TEMPLATE_NOT_FOUND(name, this.viewsDir));
    const compiled = this.fileTemplate(file);
    if (this.caching) this.cache.set(name, compiled);
    return compiled;
  }

  private fileTemplate(file: string): Handlebars.TemplateDelegate {
    const key = `file:${file}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const compiled = this.compile(readFileSync(file, 'utf8'));
    if (this.caching) this.cache.set(key, compiled);
    return compiled;
  }
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* walk(path);
    else if (entry.endsWith('.hbs')) yield path;
  }
}
