export const STAR_CONTROLLER_METADATA = 'datastar:star-controller';
export const ON_EVENT_METADATA = 'datastar:on-event';
export const SIGNALS_PARAM_METADATA = 'datastar:signals-param';

/** Key of the Datastar view data in template locals (read by the Handlebars helpers). */
export const DATASTAR_LOCALS = '_datastar';

export const DEFAULT_DISPATCH_PATH = 'ds';
export const DEFAULT_CSRF_HEADER = 'x-csrf-token';
export const DEFAULT_CSRF_SIGNAL = 'csrf';
export const DEFAULT_ERRORS_SIGNAL = 'errors';
export const DEFAULT_HEARTBEAT_MS = 15_000;
