import type { Rule, SchematicContext, Tree } from '@angular-devkit/schematics';
import {
  addDependency, createIfMissing, joinPath, normalizeDir, readText, relativeImport, relativeImportSuffix, viewsDirFor,
} from '../utils/project';
import { addNamedImport, addToDecoratorArray, insertAfterAppCreation, mentions } from '../utils/source-text';
import { scheduleInstall } from '../utils/tasks';
import { counterControllerTs, counterHistoryHbs, counterPageHbs, layoutHbs } from '../utils/templates';
import type { NestAddOptions } from './schema';

export const HANDLEBARS_RANGE = '^4.7.8';

/**
 * `nest add nestjs-datastar`: DatastarModule in the root module, the Handlebars view engine in
 * main.ts, a layout with the client script (and the tab id), and an example StarController.
 * Never overwrites a file; what it cannot edit safely it lists for you to do by hand.
 */
export function nestAdd(options: NestAddOptions = {}): Rule {
  return (tree: Tree, context: SchematicContext) => {
    const sourceRoot = normalizeDir(options.sourceRoot, 'src');
    const modulePath = normalizeDir(options.module, joinPath(sourceRoot, 'app.module.ts'));
    const mainPath = joinPath(sourceRoot, 'main.ts');
    const views = viewsDirFor(sourceRoot);
    const manual: string[] = [];

    createIfMissing(tree, context, joinPath(views, 'partials', 'layout.hbs'), layoutHbs({ streamDedup: options.streamDedup !== false }));

    let controllerPath: string | undefined;
    if (options.example !== false) {
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

    const mainText = readText(tree, mainPath);
    if (mainText === undefined) {
      manual.push(`${mainPath} not found: call useDatastarViews(app) after NestFactory.create() (import it from 'nestjs-datastar').`);
    } else if (!mentions(mainText, 'useDatastarViews')) {
      if (mentions(mainText, 'FastifyAdapter')) {
        manual.push(
          'This app runs on Fastify: register @fastify/view with ' +
          '{ engine: { handlebars: app.get(DatastarTemplates).handlebars }, root: \'' + views + '\' } for @Render pages.',
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
