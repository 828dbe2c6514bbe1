/** Every error text in one place; each says what to do. */
export const DUPLICATE_EVENT = (controller: string, event: string, first: string, second: string) =>
  `Datastar event "${controller}/${event}" is declared twice (${first} and ${second}): ` +
  `rename one @OnEvent() or give one controller another name with @StarController('name').`;

export const INVALID_NAME = (kind: 'controller' | 'event', name: string, where: string) =>
  `Invalid Datastar ${kind} name "${name}" on ${where}: use letters, digits, "-" and "_" (it becomes a URL segment).`;

export const UNKNOWN_EVENT = (controller: string, event: string) =>
  `No Datastar handler for "${controller}/${event}": check the @StarController() name and the @OnEvent() name.`;

export const OUTSIDE_REQUEST = (method: string) =>
  `SignalTracker.${method}() was called outside a Datastar request: call it from a @StarController() ` +
  `page handler or an @OnEvent() handler (or code they await).`;

export const PAGE_CANNOT = (method: string) =>
  `SignalTracker.${method}() sends a patch, but a page GET renders HTML: use signal()/assign() for the ` +
  `page's initial state, or call it from an @OnEvent() handler.`;

export const NO_VIEWS = (name: string) =>
  `Template "${name}" cannot be rendered: set DatastarModule.forRoot({ views: 'path/to/views' }) ` +
  `or pass a function (assigns) => string.`;

export const TEMPLATE_NOT_FOUND = (name: string, dir: string) =>
  `Template "${name}" was not found in ${dir} (looked for ${name}.hbs and partials/${name}.hbs).`;

export const NO_CONTROLLER_FOR_ACTION = (helper: string) =>
  `{{${helper}}} needs to know the controller: render the template from a @StarController(), ` +
  `or name it, e.g. {{${helper} 'counter/increment'}}.`;

export const INVALID_PATH = (path: string) =>
  `Invalid Datastar path "${path}": use URL path characters only, e.g. 'ds' or 'api/ds'.`;
