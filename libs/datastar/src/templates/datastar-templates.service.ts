import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import Handlebars from 'handlebars';
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { DatastarPaths } from '../core/datastar-paths';
import { DATASTAR_SETTINGS, type DatastarSettings } from '../core/datastar-settings';
import { DATASTAR_LOCALS } from '../datastar.constants';
import { NO_VIEWS, TEMPLATE_NOT_FOUND, VIEWS_MISSING } from '../datastar.messages';
import { DatastarHandlerRegistry } from '../core/datastar-handler.registry';
import type { TemplateSource } from '../interfaces/template-source.interface';
import { registerDatastarHelpers, type DatastarViewData } from './datastar-helpers';
import { RenderSetup } from './render-setup';

const TEMPLATE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_\-/.]*$/;

/**
 * One Handlebars instance for `@Render` pages and `patchElement` fragments: same partials, same
 * helpers. With `cacheTemplates` every file is compiled once; without it (the default outside
 * production) a template or partial whose file changed is read again, so edits need no restart.
 */
@Injectable()
export class DatastarTemplates implements OnModuleInit {
  /** The isolated Handlebars instance: register your own helpers and partials on it. */
  readonly handlebars = Handlebars.create();
  readonly viewsDir?: string;
  private readonly logger = new Logger('Datastar');
  /** Compiled templates by file, with the file's mtime when they were compiled (0 when caching). */
  private readonly compiled = new Map<string, { mtimeMs: number; template: Handlebars.TemplateDelegate }>();
  /** The file of each template name (only when caching: a new file may appear while developing). */
  private readonly files = new Map<string, string>();
  /** The mtime of each registered partial's file: only edited partials are registered again. */
  private readonly partials = new Map<string, number>();
  private readonly caching: boolean;
  private readonly setup = new RenderSetup(this.handlebars);

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
    // A relative `views` that resolved elsewhere would otherwise fail only at the first page request.
    if (this.viewsDir && !isDirectory(this.viewsDir)) this.logger.warn(VIEWS_MISSING(this.viewsDir, process.cwd()));
    this.loadPartials();
  }

  /**
   * Registers every `.hbs` under `<views>/partials` by its relative path (`partials/history-item.hbs`
   * -> `history-item`); again only those whose file changed since.
   */
  loadPartials(): void {
    if (!this.viewsDir) return;
    const dir = join(this.viewsDir, 'partials');
    if (!existsSync(dir)) return;
    for (const [file, mtimeMs] of walk(dir)) {
      if (this.partials.get(file) === mtimeMs) continue;
      this.partials.set(file, mtimeMs);
      const name = relative(dir, file).split(sep).join('/').replace(/\.hbs$/, '');
      this.handlebars.registerPartial(name, readFileSync(file, 'utf8'));
    }
  }

  /** Renders a named template (`<views>/<name>.hbs`, or a partial's file) with `locals`. */
  render(name: string, locals: object = {}): string {
    return this.setup.render(this.template(name), locals);
  }

  /** Compiles template source text (strict about missing helpers, lenient about missing data). */
  compile(source: string): Handlebars.TemplateDelegate {
    return this.handlebars.compile(source);
  }

  /**
   * @internal Renders a TemplateSource; `view`: what the helpers need (the controller for
   * `{{ds-post 'event'}}`, the signals for `{{ds-signals}}`). `locals` must be a fresh object of
   * the caller's: a template's view is added to it, not to a copy (bench: dispatch profile).
   */
  renderSource(source: TemplateSource, locals: Record<string, unknown>, view?: DatastarViewData): string {
    if (typeof source === 'function') return String(source(locals));
    if (source.trimStart().startsWith('<')) return source;
    if (view) locals[DATASTAR_LOCALS] = view;
    // A template file's final newline would become an empty `elements` line.
    return this.render(source, locals).trimEnd();
  }

  /** An Express view engine: `app.engine('hbs', templates.expressEngine)`. */
  readonly expressEngine = (file: string, locals: Record<string, unknown>, callback: (err: Error | null, html?: string) => void) => {
    try {
      callback(null, this.setup.render(this.fileTemplate(file), locals));
    } catch (error) {
      callback(error as Error);
    }
  };

  private template(name: string): Handlebars.TemplateDelegate {
    const known = this.files.get(name);
    if (known) return this.fileTemplate(known);
    if (!this.viewsDir) throw new Error(NO_VIEWS(name));
    if (!TEMPLATE_NAME.test(name) || name.split('/').includes('..')) throw new Error(TEMPLATE_NOT_FOUND(name, this.viewsDir));
    const candidates = [join(this.viewsDir, `${name}.hbs`), join(this.viewsDir, 'partials', `${name}.hbs`)];
    const file = candidates.find((f) => existsSync(f));
    if (!file) throw new Error(TEMPLATE_NOT_FOUND(name, this.viewsDir));
    if (this.caching) this.files.set(name, file);
    return this.fileTemplate(file);
  }

  /** Every render starts here: without caching, edited partials and templates are read again first. */
  private fileTemplate(file: string): Handlebars.TemplateDelegate {
    const cached = this.compiled.get(file);
    if (cached && this.caching) return cached.template;
    if (!this.caching) this.loadPartials();
    const mtimeMs = this.caching ? 0 : statSync(file).mtimeMs;
    if (cached?.mtimeMs === mtimeMs) return cached.template;
    const template = this.compile(readFileSync(file, 'utf8'));
    this.compiled.set(file, { mtimeMs, template });
    return template;
  }
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** Every `.hbs` file under `dir`, with its mtime. */
function* walk(dir: string): Generator<[file: string, mtimeMs: number]> {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const stat = statSync(path);
    if (stat.isDirectory()) yield* walk(path);
    else if (entry.endsWith('.hbs')) yield [path, stat.mtimeMs];
  }
}
