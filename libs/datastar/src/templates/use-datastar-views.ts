import type { INestApplication } from '@nestjs/common';
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
    throw new Error(
      'useDatastarViews() needs the Express adapter. On Fastify, register @fastify/view with ' +
        '{ engine: { handlebars: app.get(DatastarTemplates).handlebars } }, or render with DatastarTemplates.render().',
    );
  }
  if (!templates.viewsDir) {
    throw new Error("useDatastarViews() needs a views directory: DatastarModule.forRoot({ views: 'views' }).");
  }
  server.engine('hbs', templates.expressEngine);
  server.set('views', templates.viewsDir);
  server.set('view engine', 'hbs');
}
