/** The HTML page of a live view's GET (Phoenix's static render): the view inside the mount template. */
import { Inject, Injectable } from '@nestjs/common';
import { DatastarPaths } from '../core/datastar-paths';
import { DATASTAR_SETTINGS, type DatastarSettings } from '../core/datastar-settings';
import { DATASTAR_LOCALS } from '../datastar.constants';
import { escapeAttribute, expressionLiteral } from '../protocol';
import { connectionStatusHtml } from '../templates/connection-status';
import { DatastarTemplates } from '../templates/datastar-templates.service';
import { LIVE_FLASH_ID, LIVE_ROOT_ID, LIVE_WRAPPER_ID } from './live.constants';
import { lostNoticeExpression, popstateExpression, reloadOn401Expression, streamAction } from './live-actions';
import type { LiveSession } from './live-session';
import type { LiveViewDefinition } from './live-view.registry';

/**
 * Renders the page shell: the view's mount template (or the module's, or a minimal document) with
 * `live.attributes` for the wrapper (signals, the session stream, the 401 and popstate handlers)
 * and `live.content` (the view's render in the root, and the flash region).
 */
@Injectable()
export class LivePageRenderer {
  constructor(
    private readonly templates: DatastarTemplates,
    private readonly paths: DatastarPaths,
    @Inject(DATASTAR_SETTINGS) private readonly settings: DatastarSettings,
  ) {}

  /** The page of `session`'s view, whose first render is `html`, with the flash messages of its mount. */
  render(view: LiveViewDefinition, session: LiveSession, html: string, flash: string): string {
    const hbs = this.templates.handlebars;
    const signals = session.pageSignals();
    const attributes = [`id="${LIVE_WRAPPER_ID}"`, `data-signals="${escapeAttribute(expressionLiteral(signals))}"`];
    if (!view.stateless) {
      const stream = this.paths.of(this.settings.path, '_stream');
      const nav = this.paths.of(this.settings.path, '_nav');
      attributes.push(`data-init="${escapeAttribute(streamAction(stream, session.token))}"`);
      attributes.push(`data-on:popstate__window="${escapeAttribute(popstateExpression(nav))}"`);
    }
    attributes.push(`data-on:datastar-fetch="${escapeAttribute(reloadOn401Expression())}"`);
    // After a reload for a session that was gone: the notice, shown in the flash region.
    const notice = view.stateless ? '' : `<div hidden data-init="${escapeAttribute(lostNoticeExpression())}"></div>`;
    // The connection state (and the watchdog of the session stream) in every live page, whatever its mount template.
    const connection = connectionStatusHtml(this.settings.writer);
    const content = `<div id="${LIVE_ROOT_ID}">${html}</div><div id="${LIVE_FLASH_ID}" aria-live="polite">${flash}</div>${notice}${connection}`;
    const assigns = session.ctx.assigns as Record<string, unknown>;
    const locals = {
      ...assigns,
      title: assigns.title ?? view.options.title ?? 'Live',
      live: {
        attributes: new hbs.SafeString(attributes.join(' ')),
        content: new hbs.SafeString(content),
        sessionId: view.stateless ? undefined : session.id,
        path: session.path,
      },
      [DATASTAR_LOCALS]: { signals, connectionShown: true },
    };
    const source = view.options.mountTemplate ?? this.settings.live.mountTemplate ?? this.defaultMountTemplate;
    return this.templates.renderSource(source, locals);
  }

  /** A minimal document: the Datastar client script, the title, and the view in `<main>`. */
  private readonly defaultMountTemplate = (locals: Record<string, any>): string => {
    const script = String(this.templates.handlebars.helpers['ds-script']());
    return '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
      '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
      `<title>${escapeAttribute(String(locals.title))}</title>\n${script}\n</head>\n<body>\n` +
      `<main ${locals.live.attributes}>${locals.live.content}</main>\n</body>\n</html>\n`;
  };
}
