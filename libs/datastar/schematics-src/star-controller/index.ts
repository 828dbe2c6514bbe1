import type { Rule, SchematicContext, Tree } from '@angular-devkit/schematics';
import { createIfMissing, joinPath, normalizeDir, readText, relativeImport, relativeImportSuffix, viewsDirFor } from '../utils/project';
import { addNamedImport, addToDecoratorArray, mentions } from '../utils/source-text';
import { controllerNames, layoutHbs, starControllerTs, starPageHbs } from '../utils/templates';
import type { StarControllerOptions } from './schema';

/** `nest g -c nestjs-datastar star-controller todo-list`: a StarController with a page and an event. */
export function starController(options: StarControllerOptions): Rule {
  return (tree: Tree, context: SchematicContext) => {
    const names = controllerNames(options.name ?? '');
    const sourceRoot = normalizeDir(options.sourceRoot, 'src');
    const dir = normalizeDir(options.path, options.flat ? '' : names.fileName);
    const file = joinPath(sourceRoot, dir, `${names.fileName}.controller.ts`);
    if (tree.exists(file)) throw new Error(`${file} already exists.`);
    tree.create(file, starControllerTs(names));
    const views = viewsDirFor(sourceRoot);
    createIfMissing(tree, context, joinPath(views, `${names.fileName}.hbs`), starPageHbs(names));
    if (!tree.exists(joinPath(views, 'partials', 'layout.hbs'))) {
      tree.create(joinPath(views, 'partials', 'layout.hbs'), layoutHbs({ streamDedup: true }));
    }
    if (options.skipImport) return tree;

    const className = `${names.className}Controller`;
    const modulePath = normalizeDir(options.module, joinPath(sourceRoot, 'app.module.ts'));
    const moduleText = readText(tree, modulePath);
    const edited = moduleText === undefined || mentions(moduleText, className)
      ? undefined
      : addToDecoratorArray(moduleText, 'Module', 'controllers', className);
    if (moduleText !== undefined && edited) {
      const from = relativeImport(modulePath, file, relativeImportSuffix(tree, moduleText));
      tree.overwrite(modulePath, addNamedImport(edited, className, from));
    } else if (!moduleText || !mentions(moduleText, className)) {
      context.logger.warn(`Add ${className} (${file}) to a module's controllers.`);
    }
    return tree;
  };
}
