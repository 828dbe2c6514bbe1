import type { SchematicContext, Tree } from '@angular-devkit/schematics';
import { packageManagerOf } from './project';

/** Schedules `npm install` (or the project's package manager) after the tree is written. */
export function scheduleInstall(tree: Tree, context: SchematicContext): void {
  // Loaded only here: the factories need nothing else from @angular-devkit at run time.
  const { NodePackageInstallTask } = require('@angular-devkit/schematics/tasks') as typeof import('@angular-devkit/schematics/tasks');
  context.addTask(new NodePackageInstallTask({ packageManager: packageManagerOf(tree) }));
}
