/** Options of the `star-controller` generator. */
export interface StarControllerOptions {
  /** The controller's name: `todo-list` or `TodoList` gives `TodoListController` at /todo-list. */
  name: string;
  /** Directory under the source root (default: the name in kebab case). */
  path?: string;
  /** Put the file straight into `path` (or the source root) instead of a folder of its own. */
  flat?: boolean;
  sourceRoot?: string;
  /** The module to register it in (default `<sourceRoot>/app.module.ts`). */
  module?: string;
  /** Do not add it to a module. */
  skipImport?: boolean;
}
