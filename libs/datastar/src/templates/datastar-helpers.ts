import type Handlebars from 'handlebars';
import { DATASTAR_LOCALS, DEFAULT_CSRF_HEADER, DEFAULT_CSRF_SIGNAL } from '../datastar.constants';
import { NO_CONTROLLER_FOR_ACTION } from '../datastar.messages';
import type { DatastarModuleOptions } from '../interfaces/datastar-module-options.interface';
import {
  action, escapeAttribute, expr, DATASTAR_CLIENT_INTEGRITY, DATASTAR_CLIENT_URL,
  type ActionMethod, type ActionOptions,
} from '../protocol';

/** What pages and fragments carry for the helpers, under `_datastar` in the locals. */
export interface DatastarViewData {
  controller?: string;
  signals: Record<string, unknown>;
}

/** `/ds/counter/increment` for an event of a StarController. */
export function eventUrl(path: string, controller: string, event: string): string {
  const prefix = path.replace(/^\/+|\/+$/g, '');
  return `/${prefix ? `${prefix}/` : ''}${encodeURIComponent(controller)}/${encodeURIComponent(event)}`;
}

/** Action options every `{{ds-*}}` helper adds: the CSRF header when the module sends one. */
export function defaultActionOptions(options: DatastarModuleOptions): ActionOptions {
  const csrf = options.csrf;
  if (!csrf) return {};
  return { headers: { [csrf.header ?? DEFAULT_CSRF_HEADER]: expr(`$${csrf.signal ?? DEFAULT_CSRF_SIGNAL}`) } };
}

/** Only [a-z0-9] so it always passes validTabId(). */
export const TAB_ID_EXPRESSION =
  "sessionStorage.dsTabId || (sessionStorage.dsTabId = Math.random().toString(36).slice(2) + Date.now().toString(36))";

const METHODS: ActionMethod[] = ['get', 'post', 'put', 'patch', 'delete'];

/**
 * `{{ds-post 'increment'}}` (this controller's event, or `'counter/increment'`), with options as
 * hash arguments: `{{ds-post 'save' contentType='form' include='^form\.'}}`;
 * `<div {{ds-signals}}>`; `<body {{ds-tab-id}}>`; `{{ds-script}}`; `{{ds-url 'increment'}}`.
 */
export function registerDatastarHelpers(
  hbs: typeof Handlebars,
  options: DatastarModuleOptions,
  dispatchPath: () => string,
): void {
  const defaults = defaultActionOptions(options);

  const urlFor = (helper: string, event: string, data: any): string => {
    const slash = event.indexOf('/');
    if (slash > 0) return eventUrl(dispatchPath(), event.slice(0, slash), event.slice(slash + 1));
    const controller = (data?.root?.[DATASTAR_LOCALS] as DatastarViewData | undefined)?.controller;
    if (!controller) throw new Error(NO_CONTROLLER_FOR_ACTION(helper));
    return eventUrl(dispatchPath(), controller, event);
  };

  for (const method of METHODS) {
    const name = `ds-${method}`;
    hbs.registerHelper(name, function (event: string, helperOptions: Handlebars.HelperOptions) {
      const { include, exclude, ...hash } = helperOptions.hash ?? {};
      const opts: ActionOptions = { ...defaults, ...hash };
      if (include !== undefined || exclude !== undefined) opts.filterSignals = { include, exclude };
      return action(method, urlFor(name, String(event), helperOptions.data), opts);
    });
  }

  hbs.registerHelper('ds-url', function (event: string, helperOptions: Handlebars.HelperOptions) {
    return urlFor('ds-url', String(event), helperOptions.data);
  });

  hbs.registerHelper('ds-signals', function (helperOptions: Handlebars.HelperOptions) {
    const view = helperOptions.data?.root?.[DATASTAR_LOCALS] as DatastarViewData | undefined;
    const signals = { ...view?.signals, ...helperOptions.hash };
    return new hbs.SafeString(`data-signals="${escapeAttribute(JSON.stringify(signals))}"`);
  });

  // A per-tab id kept across reloads (sessionStorage), sent with every action as the `tabId` signal:
  // the stream registry ends a tab's previous stream when it opens a new one.
  hbs.registerHelper('ds-tab-id', function () {
    return new hbs.SafeString(`data-signals:tab-id="${escapeAttribute(TAB_ID_EXPRESSION)}"`);
  });

  hbs.registerHelper('ds-script', function () {
    const url = options.clientUrl ?? DATASTAR_CLIENT_URL;
    const integrity = options.clientIntegrity ?? (options.clientUrl ? false : DATASTAR_CLIENT_INTEGRITY);
    const sri = integrity ? ` integrity="${escapeAttribute(integrity)}" crossorigin="anonymous"` : '';
    return new hbs.SafeString(`<script type="module" src="${escapeAttribute(url)}"${sri}></script>`);
  });
}
