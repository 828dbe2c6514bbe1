/** What `readSignals` answers for bodies it refuses; each text says what to do. */
export const SIGNALS_TOO_LARGE = (limit: number) =>
  `Signals exceed the ${limit}-byte limit: send fewer signals or raise signalsLimit in DatastarModule.forRoot().`;

export const SIGNALS_TOO_MANY_KEYS = (keys: number) =>
  `Signals have more than ${keys} keys (object keys and array items, at every depth): send fewer signals ` +
  `or raise signalsLimits.keys in DatastarModule.forRoot().`;

export const SIGNALS_TOO_DEEP = (depth: number) =>
  `Signals are nested deeper than ${depth} levels: flatten them or raise signalsLimits.depth in DatastarModule.forRoot().`;

export const SIGNALS_STRING_TOO_LONG = (length: number) =>
  `A signal's key or text is longer than ${length} characters: send less text or raise ` +
  `signalsLimits.stringLength in DatastarModule.forRoot().`;

export const BODY_NOT_UTF8 = 'The request body is not valid UTF-8: send signals as UTF-8 JSON.';
