/**
 * Options of `nest add nestjs-datastar` (schema.json says the same for the CLI). Every boolean
 * is off by default and turned on by naming it (`--skip-example`): the Nest CLI's schematics
 * runner reads `--no-example` as `example: true`, so a `--no-` flag would be silently ignored.
 */
export interface NestAddOptions {
  /** Source root of the app (the Nest CLI passes it): default `src`. */
  sourceRoot?: string;
  /** The root module file: default `<sourceRoot>/app.module.ts`. */
  module?: string;
  /** Directory of the example controller, under the source root: default `counter`. */
  path?: string;
  /** Do not generate the example page, event and templates. */
  skipExample?: boolean;
  /** Leave `{{ds-tab-id}}` (per-tab stream dedup) out of the layout. */
  skipStreamDedup?: boolean;
  /** A self-signed certificate in `dev-certs/` and, on Fastify, HTTPS with HTTP/2 in development. */
  https?: boolean;
  /** Do not run the package manager after adding `handlebars` to package.json. */
  skipInstall?: boolean;
}
