import type Handlebars from 'handlebars';
import { DATASTAR_EVENT_METHODS, DATASTAR_LOCALS } from '../datastar.constants';
import { INVALID_SCRIPT_OPTION, NO_CONTROLLER_FOR_ACTION, UNKNOWN_ACTION_EVENT, WRONG_ACTION_METHOD } from '../datastar.messages';
import type { DatastarEventMethod } from '../interfaces/on-event-options.interface';
import { normalizePath, type DatastarSettings } from '../core/datastar-settings';
import {
  action, escapeAttribute, expr, expressionLiteral,
  type ActionMethod, type ActionOptions,
} from '../protocol';
import { registerConnectionHelper } from './connection-status';
import { pageFailureAttributes } from './page-failures';

/** What pages and fragments carry for the helpers, under `_datastar` in the locals. */
export interface DatastarViewData {
  controller?: string;
  signals: Record<string, unknown>;
  /** A live page: its shell shows the connection state, so `{{ds-connection}}` renders nothing. */
  connectionShown?: boolean;
}

/** `/ds/counter/increment` for an event of a StarController (`path`: the dispatch path, e.g. `ds` or `/v1/ds/`). */
export function eventUrl(path: string, controller: string, event: string): string {
  const prefix = normalizePath(path);
  return `/${prefix ? `${prefix}/` : ''}${encodeURIComponent(controller)}/${encodeURIComponent(event)}`;
}

/** Action options every `{{ds-*}}` helper adds: the CSRF header when the module sends one. */
export function defaultActionOptions({ csrf }: Pick<DatastarSettings, 'csrf'>): ActionOptions {
  return csrf.enabled ? { headers: { [csrf.header]: expr(`$${csrf.signal}`) } } : {};
}

/**
 * 128 random bits as 32 hex digits ([a-z0-9] only, so it always passes validTabId(), with no `$` or
 * `@` for the client to rewrite). crypto.getRandomValues works outside secure contexts too.
 */
export const TAB_ID_EXPRESSION =
  "sessionStorage.dsTabId || (sessionStorage.dsTabId = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => (b + 256).toString(16).slice(1)).join(''))";

/** The method an event declares (`counter`, `increment` -> `POST`), undefined for no such event. */
export type EventMethodLookup = (controller: string, event: string) => DatastarEventMethod | undefined;

/**
 * `{{ds-action 'increment'}}` (this controller's event, or `'counter/increment'`) in the method
 * the event declares; `{{ds-post 'increment'}}` & co. name the method and fail to render when the
 * event declares another. Options as hash arguments: `{{ds-post 'save' contentType='form' include='^form\.'}}`;
 * `<div {{ds-signals}}>`; `<body {{ds-tab-id}}>`; `{{ds-url 'increment'}}`; `{{ds-script}}` (the client,
 * and what the page does when a request fails: `{{ds-script notice=false reloadOn401=false}}` turns it off);
 * `{{ds-connection}}` (the connection state, see connection-status.ts).
 */
export function registerDatastarHelpers(
  hbs: typeof Handlebars,
  settings: Pick<DatastarSettings, 'csrf' | 'clientUrl' | 'clientIntegrity' | 'errorsSignal' | 'writer'>,
  dispatchPath: () => string,
  methodOf: EventMethodLookup = () => undefined,
): void {
  const defaults = defaultActionOptions(settings);

  const targetOf = (helper: string, event: string, data: any): [controller: string, event: string] => {
    const slash = event.indexOf('/');
    if (slash > 0) return [event.slice(0, slash), event.slice(slash + 1)];
    const controller = (data?.root?.[DATASTAR_LOCALS] as DatastarViewData | undefined)?.controller;
    if (!controller) throw new Error(NO_CONTROLLER_FOR_ACTION(helper));
    return [controller, event];
  };
  const urlFor = (helper: string, event: string, data: any): string =>
    eventUrl(dispatchPath(), ...targetOf(helper, event, data));

  // `method` undefined: the one the event declares (ds-action).
  const actionHelper = (name: string, method?: ActionMethod) =>
    function (event: string, helperOptions: Handlebars.HelperOptions) {
      const target = targetOf(name, String(event), helperOptions.data);
      const declared = methodOf(...target);
      if (method === undefined && declared === undefined) throw new Error(UNKNOWN_ACTION_EVENT(name, String(event)));
      if (method !== undefined && declared !== undefined && declared !== method.toUpperCase()) {
        throw new Error(WRONG_ACTION_METHOD(name, String(event), declared));
      }
      const { include, exclude, ...hash } = helperOptions.hash ?? {};
      const opts: ActionOptions = { ...defaults, ...hash };
      if (include !== undefined || exclude !== undefined) opts.filterSignals = { include, exclude };
      return action(method ?? (declared!.toLowerCase() as ActionMethod), eventUrl(dispatchPath(), ...target), opts);
    };

  for (const upper of DATASTAR_EVENT_METHODS) {
    const method = upper.toLowerCase() as ActionMethod;
    hbs.registerHelper(`ds-${method}`, actionHelper(`ds-${method}`, method));
  }
  hbs.registerHelper('ds-action', actionHelper('ds-action'));

  hbs.registerHelper('ds-url', function (event: string, helperOptions: Handlebars.HelperOptions) {
    return urlFor('ds-url', String(event), helperOptions.data);
  });

  hbs.registerHelper('ds-signals', function (helperOptions: Handlebars.HelperOptions) {
    const view = helperOptions.data?.root?.[DATASTAR_LOCALS] as DatastarViewData | undefined;
    const signals = { ...view?.signals, ...helperOptions.hash };
    // An expression to the client: expressionLiteral keeps `@post(` or `$x` in a value from being rewritten.
    return new hbs.SafeString(`data-signals="${escapeAttribute(expressionLiteral(signals))}"`);
  });

  // A value for a hand-written expression (`data-on:click="$id = {{ds-literal item.id}}"`): the same
  // encoder as the action helpers, so user text cannot break out of it.
  hbs.registerHelper('ds-literal', function (value: unknown) {
    return new hbs.SafeString(escapeAttribute(expressionLiteral(value)));
  });

  // A per-tab id kept across reloads (sessionStorage), sent with every action as the `tabId` signal:
  // the stream registry ends a tab's previous stream when it opens a new one.
  hbs.registerHelper('ds-tab-id', function () {
    return new hbs.SafeString(`data-signals:tab-id="${escapeAttribute(TAB_ID_EXPRESSION)}"`);
  });

  registerConnectionHelper(hbs, settings);

  // The failure handlers sit on the client's own script element: a page needs nothing else to show failures.
  hbs.registerHelper('ds-script', function (helperOptions?: Handlebars.HelperOptions) {
    const { clientUrl, clientIntegrity, errorsSignal } = settings;
    const options = { notice: true, reloadOn401: true };
    for (const [key, value] of Object.entries(helperOptions?.hash ?? {})) {
      if (!Object.hasOwn(options, key) || typeof value !== 'boolean') throw new Error(INVALID_SCRIPT_OPTION(key, value));
      options[key as keyof typeof options] = value;
    }
    const sri = clientIntegrity ? ` integrity="${escapeAttribute(clientIntegrity)}" crossorigin="anonymous"` : '';
    const failures = pageFailureAttributes({ ...options, errorsSignal });
    return new hbs.SafeString(`<script type="module" src="${escapeAttribute(clientUrl)}"${sri}${failures ? ` ${failures}` : ''}></script>`);
  });
}
