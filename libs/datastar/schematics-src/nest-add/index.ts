import type { Rule, SchematicContext, Tree } from '@angular-devkit/schematics';
import { devCertificate } from '../utils/dev-certificate';
import {
  addDependency, createIfMissing, joinPath, normalizeDir, readText, relativeImport, relativeImportSuffix, viewsDirFor,
} from '../utils/project';
import { scheduleInstall } from '../utils/tasks';
import { addNamedImport, addToDecoratorArray, insertAfterAppCreation, mentions, replaceInCode } from '../utils/source-text';
import {
  DEV_CERTS, counterControllerTs, counterHistoryHbs, counterPageHbs, devHttp2Ts, layoutHbs,
} from '../utils/templates';
import type { NestAddOptions } from './schema';

export const HANDLEBARS_RANGE = '^4.7.8';

/** The `--no-` forms the Nest CLI turns into `true` (its runner reads `--no-example` as `--example`). */
const RENAMED: Record<string, string> = { example: '--skip-example', streamDedup: '--skip-stream-dedup' };

/**
 * `nest add nestjs-datastar`: DatastarModule in the root module, the Handlebars view engine in
 * main.ts, a layout with the client script (and the tab id), and an example StarController.
 * Never overwrites a file; what it cannot edit safely it lists for you to do by hand.
 */
export function nestAdd(options: NestAddOptions = {}): Rule {
  return (tree: Tree, context: SchematicContext) => {
    for (const [old, flag] of Object.entries(RENAMED)) {
      if (old in options) throw new Error(`nest add nestjs-datastar has no --${old} / --no-${old} option (the Nest CLI passes --no-${old} as --${old}): use ${flag}.`);
    }
    const sourceRoot = normalizeDir(options.sourceRoot, 'src');
    const modulePath = normalizeDir(options.module, joinPath(sourceRoot, 'app.module.ts'));
    const mainPath = joinPath(sourceRoot, 'main.ts');
    const views = viewsDirFor(sourceRoot);
    const manual: string[] = [];

    createIfMissing(tree, context, joinPath(views, 'partials', 'layout.hbs'), layoutHbs({ streamDedup: !options.skipStreamDedup }));

    let controllerPath: string | undefined;
    if (!options.skipExample) {
      controllerPath = joinPath(sourceRoot, normalizeDir(options.path, 'counter'), 'counter.controller.ts');
      if (createIfMissing(tree, context, controllerPath, counterControllerTs())) {
        createIfMissing(tree, context, joinPath(views, 'counter.hbs'), counterPageHbs());
        createIfMissing(tree, context, joinPath(views, 'partials', 'counter-history.hbs'), counterHistoryHbs());
      } else {
        controllerPath = undefined;
      }
    }

    const forRoot = `DatastarModule.forRoot({ views: '${views}' })`;
    const moduleText = readText(tree, modulePath);
    if (moduleText === undefined) {
      manual.push(`${modulePath} not found: add ${forRoot} to your root module's imports (or pass --module).`);
      if (controllerPath) manual.push(`Add CounterController (${controllerPath}) to a module's controllers.`);
    } else {
      let text = moduleText;
      if (!mentions(text, 'DatastarModule')) {
        const edited = addToDecoratorArray(text, 'Module', 'imports', forRoot);
        if (edited) text = addNamedImport(edited, 'DatastarModule', 'nestjs-datastar');
        else manual.push(`Add ${forRoot} to the imports of ${modulePath} (import { DatastarModule } from 'nestjs-datastar').`);
      }
      if (controllerPath && !mentions(text, 'CounterController')) {
        const edited = addToDecoratorArray(text, 'Module', 'controllers', 'CounterController');
        const from = relativeImport(modulePath, controllerPath, relativeImportSuffix(tree, moduleText));
        if (edited) text = addNamedImport(edited, 'CounterController', from);
        else manual.push(`Add CounterController (from '${from}') to the controllers of ${modulePath}.`);
      }
      if (text !== moduleText) tree.overwrite(modulePath, text);
    }

    if (options.https) addDevCertificate(tree, context, mainPath, manual);

    const mainText = readText(tree, mainPath);
    if (mainText === undefined) {
      manual.push(`${mainPath} not found: call useDatastarViews(app) after NestFactory.create() (import it from 'nestjs-datastar').`);
    } else if (!mentions(mainText, 'useDatastarViews')) {
      if (mentions(mainText, 'FastifyAdapter')) {
        manual.push(
          'This app runs on Fastify: for @Render pages, npm install @fastify/view and call ' +
          `app.setViewEngine({ engine: { handlebars: app.get(DatastarTemplates).handlebars }, root: '${views}' }) before listen().`,
        );
      } else {
        const edited = insertAfterAppCreation(mainText, 'useDatastarViews({app})');
        if (edited) tree.overwrite(mainPath, addNamedImport(edited, 'useDatastarViews', 'nestjs-datastar'));
        else manual.push(`Call useDatastarViews(app) in ${mainPath} right after NestFactory.create() (import it from 'nestjs-datastar').`);
      }
    }

    if (addDependency(tree, 'handlebars', HANDLEBARS_RANGE)) {
      if (options.skipInstall) manual.push(`handlebars was added to package.json: run your package manager's install.`);
      else scheduleInstall(tree, context);
    }

    if (manual.length) {
      context.logger.warn(['nestjs-datastar is installed; a few steps are left to do by hand:', ...manual.map((m) => `  - ${m}`)].join('\n'));
    } else {
      context.logger.info(
        controllerPath
          ? 'nestjs-datastar is set up: start the app and open /counter.'
          : 'nestjs-datastar is set up: add a @StarController() (nest g -c nestjs-datastar star-controller <name>).',
      );
    }
    return tree;
  };
}

/**
 * `--https`: a self-signed certificate for localhost in dev-certs/ (git-ignored), and on Fastify
 * an HTTP/2 server with it in development. Express cannot serve HTTP/2: the step is listed.
 */
function addDevCertificate(tree: Tree, context: SchematicContext, mainPath: string, manual: string[]): void {
  if (!tree.exists(DEV_CERTS.key) && !tree.exists(DEV_CERTS.cert)) {
    const { key, cert } = devCertificate();
    tree.create(DEV_CERTS.key, key);
    tree.create(DEV_CERTS.cert, cert);
  } else {
    context.logger.warn(`${DEV_CERTS.dir}/ exists: left as it is.`);
  }
  const ignore = readText(tree, '.gitignore');
  if (ignore === undefined) tree.create('.gitignore', `${DEV_CERTS.dir}/\n`);
  else if (!ignore.split(/\r?\n/).some((line) => line.replace(/^\/|\/$/g, '') === DEV_CERTS.dir)) {
    tree.overwrite('.gitignore', `${ignore}${ignore.endsWith('\n') || !ignore ? '' : '\n'}${DEV_CERTS.dir}/\n`);
  }

  const mainText = readText(tree, mainPath);
  if (mainText === undefined || mentions(mainText, 'devHttp2')) return;
  if (!mentions(mainText, 'FastifyAdapter')) {
    manual.push(
      `Express cannot serve HTTP/2 (browsers then hold at most 6 streams per origin): for HTTP/2 in development run on ` +
      `Fastify (new FastifyAdapter({ http2: true, https: { allowHTTP1: true, key, cert } }) with ${DEV_CERTS.key} and ` +
      `${DEV_CERTS.cert}), or put an HTTP/2 proxy in front; see the README, "HTTPS and HTTP/2 in development".`,
    );
    return;
  }
  const edited = replaceInCode(mainText, /\bnew\s+FastifyAdapter\s*\(\s*\)/, 'new FastifyAdapter(devHttp2())');
  if (!edited) {
    manual.push(`Give the FastifyAdapter in ${mainPath} { http2: true, https: { allowHTTP1: true, key, cert } } with ${DEV_CERTS.key} and ${DEV_CERTS.cert}.`);
    return;
  }
  const withImports = addNamedImport(addNamedImport(edited, 'existsSync', 'node:fs'), 'readFileSync', 'node:fs');
  tree.overwrite(mainPath, `${withImports.replace(/\n*$/, '\n')}${devHttp2Ts()}`);
}
