import type { INestApplication } from '@nestjs/common';
import { VIEWS_NEED_DIRECTORY, VIEWS_NEED_EXPRESS } from '../datastar.messages';
import { DatastarTemplates } from './datastar-templates.service';

/**
 * Makes `@Render('counter')` use the module's Handlebars instance and `views` directory (Express):
 * `useDatastarViews(app)` in `main.ts`, before `listen()`. On Fastify, register `@fastify/view`
 * with `{ engine: { handlebars: app.get(DatastarTemplates).handlebars } }` instead.
 */
export function useDatastarViews(app: INestApplication): void {
  const templates = app.get(DatastarTemplates);
  const server = app.getHttpAdapter().getInstance();
  if (typeof server?.engine !== 'function' || typeof server?.set !== 'function') {
    throw new Error(VIEWS_NEED_EXPRESS);
  }
  if (!templates.viewsDir) throw new Error(VIEWS_NEED_DIRECTORY);
  server.engine('hbs', templates.expressEngine);
  server.set('views', templates.viewsDir);
  server.set('view engine', 'hbs');
}
