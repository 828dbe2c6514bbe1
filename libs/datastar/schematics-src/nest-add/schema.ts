/** Options of `nest add nestjs-datastar` (schema.json says the same for the CLI). */
export interface NestAddOptions {
  /** Source root of the app (the Nest CLI passes it): default `src`. */
  sourceRoot?: string;
  /** The root module file: default `<sourceRoot>/app.module.ts`. */
  module?: string;
  /** Directory of the example controller, under the source root: default `counter`. */
  path?: string;
  /** Generate the example page, event and templates (`--no-example` to skip). */
  example?: boolean;
  /** Put `{{ds-tab-id}}` in the layout for per-tab stream dedup (`--no-stream-dedup` to skip). */
  streamDedup?: boolean;
  /** Do not run the package manager after adding `handlebars` to package.json. */
  skipInstall?: boolean;
}
