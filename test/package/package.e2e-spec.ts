import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parseSse } from 'nestjs-datastar/testing';
import { nestNewApp, type ModuleSystem } from './nest-new-app';

/**
 * The published package, for real: `npm pack` of libs/datastar (its prepack builds dist and the
 * schematics), the tarball unpacked into a scratch app's node_modules beside links to the peer
 * dependencies this workspace already installed (offline, a second or so: what `npm install
 * <tgz>` does), then CommonJS and ESM apps import it, the real Nest CLI's `nest add` turns fresh
 * `nest new` apps into working Datastar apps, and the README's first test passes in them with the
 * README's Jest config, and with the vitest config `nest new` writes for an ESM app.
 */

const ROOT = join(__dirname, '../..');
const LIB = join(ROOT, 'libs/datastar');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const NEST = join(ROOT, 'node_modules/@nestjs/cli/bin/nest.js');
const JEST = join(ROOT, 'node_modules/jest/bin/jest.js');
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');

/** Only what a Nest 12 app (made by the Nest CLI) has, plus our required peers: no class-validator, ioredis or linkedom. */
const LINKED = [
  '@nestjs/common', '@nestjs/core', '@nestjs/platform-express', 'reflect-metadata', 'rxjs', 'handlebars',
  '@types/node', '@angular-devkit/schematics', '@angular-devkit/core',
];
/**
 * What the README's Jest set-up installs in an app (`npm install -D ...`), the page driver's DOMs,
 * and what `nest new` installs for vitest: linked into each app only.
 */
const TEST_TOOLS = ['@nestjs/testing', 'jest', '@swc/jest', '@swc/core', '@types/jest', 'linkedom', 'happy-dom', 'vitest', 'vite-tsconfig-paths'];

/** Beside the README's test: who ran its page, and why (written to RUNTIME_FILE). */
const RUNTIME_PROBE = `import { writeFileSync } from 'node:fs';
import { Test } from '@nestjs/testing';
import { useDatastarViews } from 'nestjs-datastar';
import { DatastarPage } from 'nestjs-datastar/testing';
import { AppModule } from '../src/app.module.js';

it('says who ran the page', async () => {
  const app = (await Test.createTestingModule({ imports: [AppModule] }).compile()).createNestApplication();
  useDatastarViews(app);
  const page = await DatastarPage.open(app, '/counter');
  await page.click('#increment');
  const seen = { runtime: page.runtime, reason: page.runtimeReason, count: page.text('#count'), errors: page.errors };
  writeFileSync(process.env.RUNTIME_FILE!, JSON.stringify(seen));
  await page.close();
  await app.close();
});
`;

/**
 * What the probe saw: the page's own client when the test has one (DATASTAR_JS); else the client
 * downloaded from the CDN, or, with no network (as here), the emulator after a quick failure.
 */
/** The README's first test, and the probe, in the app's test folder. */
function writeTests(app: string): void {
  const readme = readFileSync(join(app, 'node_modules/nestjs-datastar/README.md'), 'utf8');
  mkdirSync(join(app, 'test'), { recursive: true });
  writeFileSync(join(app, 'test/counter.e2e-spec.ts'), readmeBlock(readme, 'test/counter.e2e-spec.ts'));
  writeFileSync(join(app, 'test/runtime.e2e-spec.ts'), RUNTIME_PROBE);
}

function expectRuntime(file: string): void {
  const seen = JSON.parse(readFileSync(file, 'utf8'));
  expect(seen).toMatchObject({ count: '1', errors: [] });
  const bundle = process.env.DATASTAR_JS?.trim();
  if (bundle) {
    expect(seen).toMatchObject({ runtime: 'client', reason: `the Datastar client from ${bundle}` });
  } else {
    expect(`${seen.runtime}: ${seen.reason}`).toMatch(new RegExp(
      '^emulator: downloading https://cdn\\.jsdelivr\\.net/\\S+ failed \\(.+\\), and is not tried again in this process'
      + '|^client: the Datastar client from (https://cdn\\.jsdelivr\\.net/|\\S+/node_modules/\\.cache/nestjs-datastar/)',
    ));
  }
}

/** The fenced block of the README that starts with `// <file>`. */
function readmeBlock(readme: string, file: string): string {
  const block = readme.split(/^```\w*\n/m).find((b) => b.startsWith(`// ${file}\n`));
  if (!block) throw new Error(`The README has no block for ${file}`);
  return block.slice(0, block.indexOf('```'));
}

/** `nest add nestjs-datastar <flags>` with the real Nest CLI: what it printed (both streams), without colours. */
function nestAdd(flags: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [NEST, 'add', 'nestjs-datastar', ...flags], { cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      const out = `${stdout}${stderr}`.replace(/\u001b\[[0-9;]*m/g, '');
      if (error) reject(new Error(`nest add ${flags.join(' ')} failed: ${error.message}\n${out}`));
      else resolve(out);
    });
  });
}

function run(command: string, args: string[], cwd: string, timeout = 60_000, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, timeout, env: { ...process.env, ...env }, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed in ${cwd}: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    }).on('error', reject);
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Bare module specifiers a compiled file loads: `require('x')`, `import('x')`. */
function bareSpecifiers(js: string): string[] {
  const found = new Set<string>();
  for (const m of js.matchAll(/\b(?:require|import)\(\s*["']([^"'./][^"']*)["']\s*\)/g)) found.add(m[1]);
  return [...found];
}

const packageNameOf = (specifier: string) =>
  specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
const isBuiltin = (specifier: string) => specifier.startsWith('node:') || builtinModules.includes(specifier);

describe('the packed nestjs-datastar package', () => {
  let scratch: string;
  let installed: string;
  let manifest: any;
  let tarball: string;
  let packedFiles: string[];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'nestjs-datastar-package-'));
    const out = await run('npm', ['pack', '--pack-destination', scratch, '--json'], LIB, 120_000);
    const [packed] = JSON.parse(out.slice(out.indexOf('[')));
    packedFiles = packed.files.map((f: { path: string }) => f.path);
    tarball = join(scratch, packed.filename);
    installed = join(scratch, 'node_modules/nestjs-datastar');
    mkdirSync(installed, { recursive: true });
    await run('tar', ['-xzf', join(scratch, packed.filename), '-C', installed, '--strip-components=1'], scratch);
    for (const name of LINKED) {
      mkdirSync(dirname(join(scratch, 'node_modules', name)), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules', name), join(scratch, 'node_modules', name), 'dir');
    }
    for (const script of ['boot-star-controller.cjs', 'boot-star-controller.mjs']) {
      copyFileSync(join(__dirname, 'fixtures', script), join(scratch, script));
    }
    manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  }, 150_000);

  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('ships dist, the schematics and the README, and nothing else', () => {
    const tops = new Set(packedFiles.map((p) => p.split('/')[0]));
    expect([...tops].sort()).toEqual(['README.md', 'dist', 'package.json', 'schematics']);
    for (const entry of [
      'dist/index.js', 'dist/index.d.ts', 'dist/testing/index.js', 'dist/testing/index.d.ts',
      'schematics/collection.json', 'schematics/nest-add/index.js', 'schematics/nest-add/schema.json',
      'schematics/star-controller/index.js', 'schematics/star-controller/schema.json',
    ]) expect(packedFiles).toContain(entry);
    expect(packedFiles.filter((p) => /\.spec\.|\.ts$/.test(p) && !p.endsWith('.d.ts'))).toEqual([]);
    expect(readFileSync(join(installed, 'README.md'), 'utf8')).toContain('# nestjs-datastar');
  });

  it('declares its peers, keeps optional ones optional, and depends on nothing else', () => {
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest.devDependencies).toBeUndefined();
    expect(manifest.peerDependencies).toMatchObject({ '@nestjs/common': '^12.0.0', '@nestjs/core': '^12.0.0' });
    const optional = Object.keys(manifest.peerDependenciesMeta).filter((n) => manifest.peerDependenciesMeta[n].optional).sort();
    expect(optional).toEqual(['@angular-devkit/schematics', 'class-transformer', 'class-validator', 'happy-dom', 'ioredis', 'linkedom']);
    expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(manifest.exports['./testing']).toEqual({ types: './dist/testing/index.d.ts', default: './dist/testing/index.js' });
    expect(manifest.schematics).toBe('./schematics/collection.json');
    // Every package the compiled code loads is a declared peer (or Node's own).
    const peers = new Set(Object.keys(manifest.peerDependencies));
    const loaded = new Map<string, string>();
    for (const file of filesUnder(installed).filter((f) => f.endsWith('.js'))) {
      for (const specifier of bareSpecifiers(readFileSync(file, 'utf8'))) {
        if (!isBuiltin(specifier)) loaded.set(packageNameOf(specifier), relative(installed, file));
      }
    }
    const undeclared = [...loaded].filter(([name]) => !peers.has(name));
    expect(undeclared).toEqual([]);
    expect([...loaded.keys()]).toEqual(expect.arrayContaining(['@nestjs/common', '@nestjs/core', 'handlebars', 'rxjs']));
  });

  it.each([
    ['CommonJS', 'boot-star-controller.cjs'],
    ['ESM', 'boot-star-controller.mjs'],
  ])('a %s app imports it, boots a StarController and answers an event over HTTP', async (_kind, script) => {
    const result = JSON.parse(await run(process.execPath, [script], scratch, 30_000));
    expect(result.status).toBe(200);
    expect(result.contentType).toBe('text/event-stream');
    const signals = script.endsWith('.mjs') ? { count: 42, from: 'esm' } : { count: 42 };
    expect(result.events).toEqual([{ type: 'datastar-patch-signals', signals }]);
    if (script.endsWith('.cjs')) {
      expect(result.resolved).toBe(join(installed, 'dist/index.js'));
      expect(result.encapsulated).toBe(true);
    } else {
      expect(result.exportCount).toBeGreaterThan(40);
      expect(result.missingNamedExports).toEqual([]);
      expect(result.missingTestingExports).toEqual([]);
    }
  });

  describe.each<[ModuleSystem]>([['cjs'], ['esm']])('`nest add` in a fresh %s Nest 12 app', (type) => {
    let app: string;
    let base: string;

    beforeAll(async () => {
      app = join(scratch, `${type}-app`);
      for (const [path, content] of Object.entries(nestNewApp(type))) {
        mkdirSync(dirname(join(app, path)), { recursive: true });
        writeFileSync(join(app, path), content);
      }
      // The testing kit's types resolve through the exports map too.
      writeFileSync(join(app, 'src/testing-types.ts'),
        "import { parseSse, type SseEvent } from 'nestjs-datastar/testing';\nexport const none: SseEvent[] = parseSse('');\n");
      // Its own copy, as `npm install <tgz>` makes: the kit then finds the app's test tools (linkedom).
      mkdirSync(join(app, 'node_modules/nestjs-datastar'), { recursive: true });
      await run('tar', ['-xzf', tarball, '-C', join(app, 'node_modules/nestjs-datastar'), '--strip-components=1'], app);
      for (const name of TEST_TOOLS) {
        mkdirSync(dirname(join(app, 'node_modules', name)), { recursive: true });
        symlinkSync(join(ROOT, 'node_modules', name), join(app, 'node_modules', name), 'dir');
      }
    });

    it('`nest add nestjs-datastar --skip-install` (the real Nest CLI) edits the app and adds the layout and the example', async () => {
      const out = await nestAdd(['--skip-install'], app);
      const changes = out.split('\n').map((l) => /^(CREATE|UPDATE) (\S+)/.exec(l.trim())).filter(Boolean).map((m) => `${m![1]} ${m![2]}`);
      expect(changes.sort()).toEqual([
        'CREATE src/counter/counter.controller.ts',
        'CREATE views/counter.hbs',
        'CREATE views/partials/counter-history.hbs',
        'CREATE views/partials/layout.hbs',
        'UPDATE package.json',
        'UPDATE src/app.module.ts',
        'UPDATE src/main.ts',
      ]);
      expect(out).toContain("handlebars was added to package.json: run your package manager's install.");
      expect(readFileSync(join(app, 'src/app.module.ts'), 'utf8')).toContain("DatastarModule.forRoot({ views: 'views' })");
    }, 70_000);

    it('the app builds with tsc, starts, serves the example page and answers its event', async () => {
      await run(process.execPath, [TSC, '-p', 'tsconfig.build.json'], app, 60_000);
      expect(existsSync(join(app, 'dist/main.js'))).toBe(true);
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      const child = spawn(process.execPath, ['dist/main.js'], { cwd: app, env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let output = '';
      child.stdout!.on('data', (d) => (output += d));
      child.stderr!.on('data', (d) => (output += d));
      try {
        let page: Response | undefined;
        for (const started = Date.now(); !page && Date.now() - started < 20_000;) {
          if (child.exitCode !== null) throw new Error(`the app exited: ${output}`);
          page = await fetch(`${base}/counter`).catch(() => undefined);
          if (!page) await new Promise((r) => setTimeout(r, 100));
        }
        if (!page) throw new Error(`the app did not answer: ${output}`);
        expect(page.status).toBe(200);
        const html = await page.text();
        expect(html).toContain('<script type="module" src="https://cdn.jsdelivr.net/gh/starfederation/datastar@v1.0.2/bundles/datastar.js"');
        expect(html).toContain('data-signals:tab-id=');
        expect(html).toContain('data-signals="{&quot;count&quot;:0}"');
        expect(html).toContain('data-on:click="@post(&quot;/ds/counter/increment&quot;)"');
        expect(await (await fetch(`${base}/`)).text()).toBe('Hello World!');

        const res = await fetch(`${base}/ds/counter/increment`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'datastar-request': 'true' },
          body: JSON.stringify({ count: 2 }),
        });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/event-stream');
        const events = parseSse(await res.text());
        expect(events.map((e) => e.type)).toEqual(['datastar-patch-signals', 'datastar-patch-elements']);
        expect(events[0].patchSignals?.signals).toEqual({ count: 3 });
        expect(events[1].patchElements).toMatchObject({ selector: '#history', mode: 'append' });
        expect(events[1].patchElements?.elements).toMatch(/^<li>\d\d:\d\d:\d\d: the count became 3<\/li>$/);
      } finally {
        child.kill('SIGTERM');
      }
    }, 90_000);

    it("the README's Jest config and first test pass in it", async () => {
      const readme = readFileSync(join(installed, 'README.md'), 'utf8');
      writeFileSync(join(app, 'jest.config.cjs'), readmeBlock(readme, 'jest.config.cjs'));
      writeTests(app);
      const seen = join(app, 'jest-runtime.json');
      const out = await run(process.execPath, [JEST, '--ci', '--json', '--rootDir', app], app, 120_000, { RUNTIME_FILE: seen });
      const result = JSON.parse(out.slice(out.indexOf('{')));
      expect(result.numFailedTests).toBe(0);
      expect(result.numPassedTests).toBe(3);
      expectRuntime(seen);
    }, 130_000);

    if (type === 'esm') {
      it("the README's first test passes with the vitest config `nest new` writes", async () => {
        writeTests(app);
        const report = join(app, 'vitest-report.json');
        const seen = join(app, 'vitest-runtime.json');
        await run(process.execPath, [VITEST, 'run', '--config', './vitest.config.e2e.ts', '--reporter=json', `--outputFile=${report}`], app, 120_000, { RUNTIME_FILE: seen });
        const result = JSON.parse(readFileSync(report, 'utf8'));
        expect(result.testResults.map((r: { name: string }) => relative(app, r.name)).sort()).toEqual(['test/counter.e2e-spec.ts', 'test/runtime.e2e-spec.ts']);
        expect(result.numFailedTests).toBe(0);
        expect(result.numPassedTests).toBe(3);
        expectRuntime(seen);
      }, 130_000);
    }
  });

  describe('`nest add` flags through the real Nest CLI', () => {
    let app: string;

    beforeAll(() => {
      app = join(scratch, 'flags-app');
      for (const [path, content] of Object.entries(nestNewApp('esm'))) {
        mkdirSync(dirname(join(app, path)), { recursive: true });
        writeFileSync(join(app, path), content);
      }
    });

    it('refuses --no-example (which the CLI passes as --example) and names the flag to use', async () => {
      await expect(nestAdd(['--skip-install', '--no-example'], app))
        .rejects.toThrow('use --skip-example');
      expect(existsSync(join(app, 'views'))).toBe(false);
    }, 70_000);

    it('--skip-example --skip-stream-dedup --https', async () => {
      const out = await nestAdd(['--skip-install', '--skip-example', '--skip-stream-dedup', '--https'], app);
      expect(existsSync(join(app, 'src/counter'))).toBe(false);
      expect(readFileSync(join(app, 'views/partials/layout.hbs'), 'utf8')).not.toContain('ds-tab-id');
      expect(readFileSync(join(app, 'dev-certs/localhost-cert.pem'), 'utf8')).toContain('-----BEGIN CERTIFICATE-----');
      expect(readFileSync(join(app, '.gitignore'), 'utf8')).toBe('dev-certs/\n');
      expect(out).toContain('Express cannot serve HTTP/2');
    }, 70_000);
  });
});
