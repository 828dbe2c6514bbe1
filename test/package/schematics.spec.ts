// @angular-devkit/schematics loads two ESM-only packages that Jest on Node 20 cannot require():
// ora (the spinner of the install task, which the test runner records but never runs) and
// magic-string (behind tree.beginUpdate(), which the schematics do not use).
jest.mock('ora', () => ({ __esModule: true, default: () => { throw new Error('ora is not available in tests'); } }));
jest.mock('magic-string', () => ({ MagicString: class { constructor() { throw new Error('magic-string is not available in tests'); } } }));

import { HostTree } from '@angular-devkit/schematics';
import { SchematicTestRunner, type UnitTestTree } from '@angular-devkit/schematics/testing';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import {
  addNamedImport, addToDecoratorArray, insertAfterAppCreation, scanSource,
} from '../../libs/datastar/schematics-src/utils/source-text';
import { nestNewApp, type ModuleSystem } from './nest-new-app';

/** The schematics straight from their TypeScript sources (Jest compiles them). */
const COLLECTION = join(__dirname, '../../libs/datastar/schematics-src/collection.json');

function appTree(type: ModuleSystem = 'cjs', overrides: Record<string, string> = {}): UnitTestTree {
  const tree = new HostTree();
  for (const [path, content] of Object.entries({ ...nestNewApp(type), ...overrides })) tree.create(path, content);
  return tree as unknown as UnitTestTree;
}

describe('nest-add schematic', () => {
  const runner = new SchematicTestRunner('nestjs-datastar', COLLECTION);
  const logs: string[] = [];
  runner.logger.subscribe((entry) => logs.push(`${entry.level}: ${entry.message}`));
  beforeEach(() => (logs.length = 0));
  const run = (options: object, tree: UnitTestTree = appTree()) => runner.runSchematic('nest-add', { sourceRoot: 'src', ...options }, tree);

  it('sets up a default `nest new` CommonJS app', async () => {
    const tree = await run({});
    expect(tree.readText('src/app.module.ts')).toBe(`import { Module } from '@nestjs/common';
import { AppController } from './app.controller';
import { AppService } from './app.service';
import { DatastarModule } from 'nestjs-datastar';
import { CounterController } from './counter/counter.controller';

@Module({
  imports: [DatastarModule.forRoot({ views: 'views' })],
  controllers: [AppController, CounterController],
  providers: [AppService],
})
export class AppModule {}
`);
    expect(tree.readText('src/main.ts')).toBe(`import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { useDatastarViews } from 'nestjs-datastar';

async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  useDatastarViews(app);
  await app.listen(process.env.PORT ?? 3000);
}
void bootstrap();
`);
    const layout = tree.readText('views/partials/layout.hbs');
    expect(layout).toContain('{{ds-script}}');
    expect(layout).toContain('<body {{ds-tab-id}}>');
    expect(layout).toContain('{{> @partial-block}}');
    expect(tree.readText('src/counter/counter.controller.ts')).toContain("@OnEvent('increment')");
    expect(tree.readText('views/counter.hbs')).toContain(`data-on:click="{{ds-post 'increment'}}"`);
    expect(tree.readText('views/partials/counter-history.hbs')).toContain('{{count}}');
    expect(JSON.parse(tree.readText('package.json')).dependencies.handlebars).toBe('^4.7.8');
    expect(runner.tasks.map((t) => t.name)).toEqual(['node-package']);
    expect(runner.tasks[0].options).toMatchObject({ command: 'install', packageManager: 'npm' });
    expect(logs.filter((l) => l.startsWith('warn'))).toEqual([]);
    expect(logs.join('\n')).toContain('open /counter');
  });

  it('writes .js import specifiers in an ESM app (the default of nest new 12)', async () => {
    const tree = await run({ skipInstall: true }, appTree('esm'));
    const module = tree.readText('src/app.module.ts');
    expect(module).toContain("import { CounterController } from './counter/counter.controller.js';");
    expect(module).toContain("import { DatastarModule } from 'nestjs-datastar';");
    expect(tree.readText('src/main.ts')).toContain('  const app = await NestFactory.create(AppModule);\n  useDatastarViews(app);\n');
    expect(runner.tasks).toEqual([]);
    expect(logs.join('\n')).toContain('handlebars was added to package.json');
  });

  it('--skip-example: module and layout only', async () => {
    const tree = await run({ skipExample: true, skipInstall: true });
    expect(tree.exists('src/counter/counter.controller.ts')).toBe(false);
    expect(tree.exists('views/counter.hbs')).toBe(false);
    expect(tree.exists('views/partials/counter-history.hbs')).toBe(false);
    expect(tree.exists('views/partials/layout.hbs')).toBe(true);
    const module = tree.readText('src/app.module.ts');
    expect(module).toContain("DatastarModule.forRoot({ views: 'views' })");
    expect(module).not.toContain('CounterController');
  });

  it('--skip-stream-dedup: no tab id in the layout', async () => {
    const tree = await run({ skipStreamDedup: true, skipInstall: true });
    const layout = tree.readText('views/partials/layout.hbs');
    expect(layout).not.toContain('ds-tab-id');
    expect(layout).toContain('<body>');
  });

  it('--path puts the example elsewhere and imports it from there', async () => {
    const tree = await run({ path: 'features/demo', skipInstall: true });
    expect(tree.exists('src/features/demo/counter.controller.ts')).toBe(true);
    expect(tree.readText('src/app.module.ts')).toContain("import { CounterController } from './features/demo/counter.controller';");
  });

  it('--source-root of a monorepo app: views beside it, named from the workspace root', async () => {
    const files = Object.fromEntries(Object.entries(nestNewApp('cjs'))
      .map(([path, content]) => [path.startsWith('src/') ? `apps/api/${path}` : path, content]));
    const tree = new HostTree();
    for (const [path, content] of Object.entries(files)) tree.create(path, content);
    const out = await run({ sourceRoot: 'apps/api/src', skipInstall: true }, tree as unknown as UnitTestTree);
    expect(out.readText('apps/api/src/app.module.ts')).toContain("DatastarModule.forRoot({ views: 'apps/api/views' })");
    expect(out.exists('apps/api/views/partials/layout.hbs')).toBe(true);
    expect(out.exists('apps/api/src/counter/counter.controller.ts')).toBe(true);
    expect(out.readText('apps/api/src/main.ts')).toContain('useDatastarViews(app);');
  });

  it('is idempotent: a second run changes nothing and overwrites nothing', async () => {
    const once = await run({ skipInstall: true });
    const snapshot = Object.fromEntries(once.files.map((f) => [f, once.readText(f)]));
    const twice = await run({ skipInstall: true }, once);
    expect(Object.fromEntries(twice.files.map((f) => [f, twice.readText(f)]))).toEqual(snapshot);
    expect(logs.join('\n')).toContain('views/partials/layout.hbs exists: left as it is.');
  });

  it('leaves a Fastify main.ts alone and says what to do instead', async () => {
    const main = `import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';

async function bootstrap() {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter());
  await app.listen(3000);
}
void bootstrap();
`;
    const tree = await run({ skipInstall: true }, appTree('cjs', { 'src/main.ts': main }));
    expect(tree.readText('src/main.ts')).toBe(main);
    expect(logs.join('\n')).toContain("app.setViewEngine({ engine: { handlebars: app.get(DatastarTemplates).handlebars }, root: 'views' })");
  });

  it('refuses the --no- forms the Nest CLI passes as true, naming the flag to use', async () => {
    // `nest add nestjs-datastar --no-example` reaches the schematic as { example: true }.
    await expect(run({ example: true, skipInstall: true })).rejects.toThrow('use --skip-example');
    await expect(run({ streamDedup: true, skipInstall: true })).rejects.toThrow('use --skip-stream-dedup');
  });

  it('--https on Express: a localhost certificate, git-ignored, and the HTTP/2 step listed (Express has none)', async () => {
    const tree = await run({ https: true, skipInstall: true }, appTree('cjs', { '.gitignore': '/dist\nnode_modules' }));
    const cert = new X509Certificate(tree.readText('dev-certs/localhost-cert.pem'));
    const key = createPrivateKey(tree.readText('dev-certs/localhost-key.pem'));
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(key)).toBe(true);
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(Date.now() + 300 * 24 * 3600 * 1000);
    expect(tree.readText('.gitignore')).toBe('/dist\nnode_modules\ndev-certs/\n');
    expect(tree.readText('src/main.ts')).not.toContain('devHttp2');
    expect(logs.join('\n')).toContain('Express cannot serve HTTP/2');
    // Run again: the certificate and the ignore line are kept, not doubled.
    const again = await run({ https: true, skipInstall: true }, tree);
    expect(again.readText('dev-certs/localhost-cert.pem')).toBe(tree.readText('dev-certs/localhost-cert.pem'));
    expect(again.readText('.gitignore')).toBe('/dist\nnode_modules\ndev-certs/\n');
  });

  it('--https on Fastify: HTTP/2 over TLS in development, off in production and without the certificate', async () => {
    const main = `import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';

async function bootstrap() {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter());
  await app.listen(3000);
}
void bootstrap();
`;
    const tree = await run({ https: true, skipInstall: true }, appTree('cjs', { 'src/main.ts': main }));
    const edited = tree.readText('src/main.ts');
    expect(edited).toContain("import { existsSync, readFileSync } from 'node:fs';");
    expect(edited).toContain('NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(devHttp2()));');
    expect(edited).toContain("if (process.env.NODE_ENV === 'production' || !existsSync('dev-certs/localhost-key.pem')) return undefined;");
    expect(edited).toContain("https: { allowHTTP1: true, key: readFileSync('dev-certs/localhost-key.pem'), cert: readFileSync('dev-certs/localhost-cert.pem') },");
    expect(tree.exists('dev-certs/localhost-key.pem')).toBe(true);
    expect(tree.readText('.gitignore')).toBe('dev-certs/\n');
    expect(logs.join('\n')).not.toContain('Express cannot serve HTTP/2');
    const again = await run({ https: true, skipInstall: true }, tree);
    expect(again.readText('src/main.ts')).toBe(edited);
  });

  it('edits other module shapes: no imports yet, multi-line arrays, comments and strings with brackets', async () => {
    const module = `import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AppController } from './app.controller';

/* @Module({ imports: [] }) in a comment must not be edited */
@Module({
  controllers: [
    AppController, // the ] in this comment is no bracket
  ],
  providers: [{ provide: 'TOKEN', useValue: '[not an array]' }],
})
export class AppModule {}
`;
    const main = `import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';

async function bootstrap() {
  const server = await NestFactory.create<NestExpressApplication>(AppModule, {
    cors: true,
  });
  await server.listen(3000);
}
bootstrap();
`;
    const tree = await run({ skipInstall: true }, appTree('cjs', { 'src/app.module.ts': module, 'src/main.ts': main }));
    expect(tree.readText('src/app.module.ts')).toBe(`import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AppController } from './app.controller';
import { DatastarModule } from 'nestjs-datastar';
import { CounterController } from './counter/counter.controller';

/* @Module({ imports: [] }) in a comment must not be edited */
@Module({
  imports: [DatastarModule.forRoot({ views: 'views' })],
  controllers: [
    AppController, // the ] in this comment is no bracket
    CounterController,
  ],
  providers: [{ provide: 'TOKEN', useValue: '[not an array]' }],
})
export class AppModule {}
`);
    expect(tree.readText('src/main.ts')).toContain(`  const server = await NestFactory.create<NestExpressApplication>(AppModule, {
    cors: true,
  });
  useDatastarViews(server);
`);
  });

  it('does not guess at shapes it cannot edit safely: it lists the step instead', async () => {
    const module = `import { Module } from '@nestjs/common';
import { shared } from './shared';

@Module({
  imports: shared,
})
export class AppModule {}
`;
    const tree = await run({ skipExample: true, skipInstall: true }, appTree('cjs', { 'src/app.module.ts': module }));
    expect(tree.readText('src/app.module.ts')).toBe(module);
    expect(logs.join('\n')).toContain("Add DatastarModule.forRoot({ views: 'views' }) to the imports of src/app.module.ts");
  });

  it('keeps an existing handlebars dependency and schedules no install', async () => {
    const pkg = JSON.parse(nestNewApp('cjs')['package.json']);
    pkg.dependencies.handlebars = '^4.7.0';
    const text = `${JSON.stringify(pkg, null, 2)}\n`;
    const tree = await run({}, appTree('cjs', { 'package.json': text }));
    expect(tree.readText('package.json')).toBe(text);
    expect(runner.tasks).toEqual([]);
  });
});

describe('star-controller schematic', () => {
  const runner = new SchematicTestRunner('nestjs-datastar', COLLECTION);

  it('generates a StarController with a page and registers it', async () => {
    const tree = await runner.runSchematic('star-controller', { name: 'TodoList' }, appTree('esm'));
    const controller = tree.readText('src/todo-list/todo-list.controller.ts');
    expect(controller).toContain('export class TodoListController');
    expect(controller).toContain("@Render('todo-list')");
    expect(tree.readText('views/todo-list.hbs')).toContain('{{#> layout title="Todo list"}}');
    expect(tree.exists('views/partials/layout.hbs')).toBe(true);
    const module = tree.readText('src/app.module.ts');
    expect(module).toContain("import { TodoListController } from './todo-list/todo-list.controller.js';");
    expect(module).toContain('controllers: [AppController, TodoListController]');
  });

  it('--flat, --skip-import, and refuses to overwrite', async () => {
    const tree = await runner.runSchematic('star-controller', { name: 'inbox', flat: true, skipImport: true }, appTree());
    expect(tree.exists('src/inbox.controller.ts')).toBe(true);
    expect(tree.readText('src/app.module.ts')).not.toContain('InboxController');
    await expect(runner.runSchematic('star-controller', { name: 'inbox', flat: true }, tree)).rejects.toThrow('already exists');
    await expect(runner.runSchematic('star-controller', { name: '42' }, appTree())).rejects.toThrow('not a usable controller name');
  });
});

describe('source-text editing helpers', () => {
  it('blanks comments, strings, templates and regexes but keeps positions', () => {
    const text = "const a = '[x]'; // ]\nconst b = /[\\]']/g; const c = `}${a}`; /* { */ f(a)";
    const { code, strings } = scanSource(text);
    expect(code).toHaveLength(text.length);
    expect(code.replace(/\s+/g, ' ')).toBe("const a = ' '; const b = / /g; const c = ` `; f(a)");
    expect(strings.map((s) => s.value)).toEqual(['[x]', '}${a}']);
  });

  it('adds names to an existing import from the same module', () => {
    expect(addNamedImport("import { Get } from '@nestjs/common';\n", 'Render', '@nestjs/common'))
      .toBe("import { Get, Render } from '@nestjs/common';\n");
    expect(addNamedImport('import { Get } from "@nestjs/common"\nfoo()\n', 'Get', '@nestjs/common'))
      .toBe('import { Get } from "@nestjs/common"\nfoo()\n');
    expect(addNamedImport('import { A } from "a"\n', 'B', 'b')).toBe('import { A } from "a"\nimport { B } from "b"\n');
    expect(addNamedImport('foo();\n', 'B', 'b')).toBe("import { B } from 'b';\nfoo();\n");
  });

  it('handles empty decorators and missing app creation', () => {
    expect(addToDecoratorArray('@Module({})\nexport class M {}\n', 'Module', 'imports', 'X'))
      .toBe('@Module({\n  imports: [X],\n})\nexport class M {}\n');
    expect(addToDecoratorArray('@Module({ imports: [A] })', 'Module', 'imports', 'X')).toBe('@Module({ imports: [A, X] })');
    expect(addToDecoratorArray('@Module(options)', 'Module', 'imports', 'X')).toBeUndefined();
    expect(insertAfterAppCreation('const app = NestFactory.create(AppModule);', 'x({app})')).toBeUndefined();
  });
});
