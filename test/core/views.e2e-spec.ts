import { Get, Module, Render, type Type } from '@nestjs/common';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  DatastarModule, OnEvent, SignalTracker, StarController, useDatastarViews, type DatastarModuleOptions,
} from 'nestjs-datastar';
import { TODO_VIEWS } from './fixtures/todos.app';
import { ADAPTERS, json, readSse, startApp, type AdapterName, type TestApp } from './fixtures/harness';
import { elementsEvent } from './fixtures/sse';

@StarController('greet')
class GreetController {
  constructor(private readonly ds: SignalTracker) {}

  @Get() @Render('page')
  page() {
    this.ds.assign('name', 'Ada');
  }

  @OnEvent('show')
  show() {
    this.ds.patchElement('greeting', { locals: { name: 'Ada' } });
  }
}

function viewsModule(options: DatastarModuleOptions): Type {
  @Module({ imports: [DatastarModule.forRoot(options)], controllers: [GreetController] })
  class ViewsAppModule {}
  return ViewsAppModule;
}

/** A views folder on disk whose files the test edits, as a developer does. */
class ViewsFolder {
  readonly dir = mkdtempSync(join(tmpdir(), 'ds-views-'));
  private tick = 0;

  constructor() {
    mkdirSync(join(this.dir, 'partials'));
    this.write('page.hbs', '<!doctype html><html><body><main>{{> greeting}}</main></body></html>');
    this.write('partials/greeting.hbs', '<p id="greeting">Hello {{name}}</p>');
  }

  /** Writes a file with a later mtime than its last version (same-millisecond edits must still count). */
  write(file: string, text: string): void {
    const path = join(this.dir, file);
    writeFileSync(path, text);
    const at = Date.now() / 1000 + ++this.tick;
    utimesSync(path, at, at);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe.each(ADAPTERS)('views folder at boot (%s)', (adapter) => {
  it('a views folder that does not exist: a warning at boot that says what to do', async () => {
    const t = await startApp(viewsModule({ views: 'no-such-views-folder' }), adapter);
    try {
      const warnings = t.logger.lines.filter((l) => l.level === 'warn').map((l) => l.message);
      expect(warnings).toEqual([
        `The Datastar views folder ${resolve('no-such-views-folder')} does not exist: @Render() pages and template ` +
        'fragments will fail at their first request ("Failed to lookup view"). A relative views option is resolved ' +
        `against the working directory (${process.cwd()}): create the folder, start the app where it is, or give an ` +
        "absolute path, e.g. views: join(import.meta.dirname, '..', 'views') (ESM) or join(__dirname, '..', 'views') (CommonJS).",
      ]);
    } finally {
      await t.close();
    }
  });

  it('an existing views folder, or none configured: no warning', async () => {
    for (const options of [{ views: TODO_VIEWS }, {}]) {
      const t = await startApp(viewsModule(options), adapter);
      try {
        expect(t.logger.lines.filter((l) => l.level === 'warn')).toEqual([]);
      } finally {
        await t.close();
      }
    }
  });
});

describe.each(ADAPTERS)('template edits (%s)', (adapter) => {
  let views: ViewsFolder;
  beforeEach(() => {
    views = new ViewsFolder();
  });
  afterEach(() => views.remove());

  const start = (a: AdapterName, options: DatastarModuleOptions = {}) =>
    startApp(viewsModule({ views: views.dir, ...options }), a, { setup: a === 'express' ? (app) => useDatastarViews(app) : undefined });
  const fragment = async (t: TestApp) => readSse(await t.fetch('/ds/greet/show', json('POST', {})));

  it('outside production (the default): an edited fragment shows without a restart', async () => {
    const t = await start(adapter);
    try {
      expect(await fragment(t)).toEqual([elementsEvent('<p id="greeting">Hello Ada</p>')]);
      views.write('partials/greeting.hbs', '<p id="greeting">Welcome back, {{name}}</p>');
      expect(await fragment(t)).toEqual([elementsEvent('<p id="greeting">Welcome back, Ada</p>')]);
    } finally {
      await t.close();
    }
  });

  it('NODE_ENV=production: compiled once, edits need a restart', async () => {
    const env = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    const t = await start(adapter).finally(() => {
      process.env.NODE_ENV = env;
    });
    try {
      expect(await fragment(t)).toEqual([elementsEvent('<p id="greeting">Hello Ada</p>')]);
      views.write('partials/greeting.hbs', '<p id="greeting">Welcome back, {{name}}</p>');
      expect(await fragment(t)).toEqual([elementsEvent('<p id="greeting">Hello Ada</p>')]);
    } finally {
      await t.close();
    }
  });

  if (adapter === 'express') {
    it('an @Render page and the partial it includes: both edits show', async () => {
      const t = await start(adapter);
      try {
        expect(await (await t.fetch('/greet')).text()).toContain('<main><p id="greeting">Hello Ada</p></main>');
        views.write('partials/greeting.hbs', '<p id="greeting">Hi {{name}}</p>');
        views.write('page.hbs', '<!doctype html><html><body><main class="v2">{{> greeting}}</main></body></html>');
        expect(await (await t.fetch('/greet')).text()).toContain('<main class="v2"><p id="greeting">Hi Ada</p></main>');
      } finally {
        await t.close();
      }
    });
  }
});
