import { isUtf8 } from 'node:buffer';
import {
  BODY_NOT_UTF8, SIGNALS_STRING_TOO_LONG, SIGNALS_TOO_DEEP, SIGNALS_TOO_LARGE, SIGNALS_TOO_MANY_KEYS,
} from './read-signals.messages';
import {
  DATASTAR_QUERY_PARAM, DEFAULT_SIGNALS_LIMIT, DEFAULT_SIGNALS_LIMITS, DEFAULT_SIGNALS_TIMEOUT,
} from './protocol.constants';
import { isUnsafeKey, parseJsonSafely } from './safe-json';

/** What `readSignals` needs of a request, whatever the HTTP framework. */
export interface SignalsSource {
  method: string;
  /** The request URL (path and query); used for GET and DELETE. */
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  /** A body that a parser already produced (Express `req.body`, Fastify `request.body`). */
  body?: unknown;
  /** The raw request, read when no parser ran. */
  stream?: NodeJS.ReadableStream & { readableEnded?: boolean; complete?: boolean };
  /** The bytes a parser decoded into `body`, when it kept them (Nest's `rawBody: true`): checked as strict UTF-8. */
  rawBody?: unknown;
}

/** Bounds on the shape of signals; each one past its bound is a 413 that names it. */
export interface SignalsLimits {
  /** Object keys and array items in total, at every depth (default 10,000). */
  keys?: number;
  /** Deepest nesting of objects and arrays; the signals object itself is level 1 (default 32). */
  depth?: number;
  /** Longest key or string value, in characters (UTF-16 code units; default 262,144). */
  stringLength?: number;
}

export interface ReadSignalsOptions {
  /** Largest accepted body or query value, in bytes (default 1 MiB). */
  limit?: number;
  /** Keys, depth and string length (defaults: `DEFAULT_SIGNALS_LIMITS`). */
  limits?: SignalsLimits;
  /** Give up on a body that stops arriving after this many ms (default 30 s). */
  timeout?: number;
}

export type Signals = Record<string, unknown>;

/** Why signals could not be read; `status` is the HTTP status to answer (400, 408, 413, 415). */
export class SignalsError extends Error {
  constructor(readonly status: 400 | 408 | 413 | 415, message: string) {
    super(message);
    this.name = 'SignalsError';
  }
}

/**
 * Reads a Datastar request's signals: the `datastar` query parameter for GET and DELETE, the
 * body for POST, PUT and PATCH (JSON, or form fields for `contentType: 'form'` actions).
 * Missing = `{}`. Never returns an object carrying `__proto__`, `constructor` or `prototype`.
 */
export async function readSignals(source: SignalsSource, options: ReadSignalsOptions = {}): Promise<Signals> {
  return readSignalsNow(source, options);
}

/**
 * @internal `readSignals` without a promise when nothing is left to read (a query parameter, a body
 * a parser already read): the signals, or a promise when the body must still be read. Throws at
 * once when the signals are refused (dispatch answers most events without an async hop).
 */
export function readSignalsNow(source: SignalsSource, options: ReadSignalsOptions = {}): Signals | Promise<Signals> {
  const limit = options.limit ?? DEFAULT_SIGNALS_LIMIT;
  const limits = resolveLimits(options.limits);
  const method = source.method.toUpperCase();
  if (method === 'GET' || method === 'DELETE' || method === 'HEAD') {
    const fromQuery = queryParam(source.url);
    if (fromQuery !== undefined) return parseSignals(fromQuery, limit, limits);
    if (method !== 'DELETE') return {};
    // Older clients sent DELETE signals in the body: fall through.
  }
  const type = mediaType(source.headers['content-type']);
  const isForm = type === 'application/x-www-form-urlencoded' || type === 'multipart/form-data';
  if (type && !isForm && type !== 'application/json' && type !== 'text/plain' && !type.endsWith('+json')) {
    throw new SignalsError(415, `Unsupported content type "${type}": Datastar sends signals as application/json.`);
  }
  if (type === 'multipart/form-data') {
    throw new SignalsError(415, 'multipart/form-data bodies need a multipart parser (e.g. multer) before Datastar reads them.');
  }
  const declared = Number(header(source.headers, 'content-length'));
  if (declared > limit) throw tooLarge(limit);

  let body = source.body;
  // A parser that read the JSON text `null` leaves null behind (Fastify): not an object either.
  if (body === null && declared > 0 && !isForm) throw new SignalsError(400, 'Signals must be a JSON object, e.g. {"count":1}.');
  if (isParsed(body)) {
    // The parser may have decoded invalid bytes as U+FFFD: when it kept the bytes, they decide.
    if (Buffer.isBuffer(source.rawBody) && !isUtf8(source.rawBody)) throw new SignalsError(400, BODY_NOT_UTF8);
    if (typeof body === 'string') {
      // already text
    } else if (Buffer.isBuffer(body)) {
      body = decodeUtf8(body);
    } else if (isForm) {
      return formObject(body as Record<string, unknown>, limits);
    } else {
      // Content-Length was checked above; a chunked body that a parser already read was not.
      if (!(declared >= 0) && Buffer.byteLength(JSON.stringify(body) ?? '') > limit) throw tooLarge(limit);
      return checkObject(body, limits);
    }
  } else if (source.stream && !source.stream.readableEnded) {
    // Not `complete`: an IncomingMessage is complete once its body arrived, even if nobody read it.
    return readBody(source.stream, limit, options.timeout ?? DEFAULT_SIGNALS_TIMEOUT).then((text) => signalsOfText(text, isForm, limit, limits));
  } else {
    return {};
  }
  return signalsOfText(body as string, isForm, limit, limits);
}

function signalsOfText(text: string, isForm: boolean, limit: number, limits: Required<SignalsLimits>): Signals {
  if (Buffer.byteLength(text) > limit) throw tooLarge(limit);
  if (isForm) return formObject(Object.fromEntries(new URLSearchParams(text)), limits);
  return text.trim() === '' ? {} : parseSignals(text, limit, limits);
}

/** Parses signals JSON text: an object, within `limit` bytes and the `limits` on its shape. */
export function parseSignals(text: string, limit = DEFAULT_SIGNALS_LIMIT, limits?: SignalsLimits): Signals {
  if (text.length > limit || Buffer.byteLength(text) > limit) throw tooLarge(limit);
  let value: unknown;
  try {
    value = parseJsonSafely(text);
  } catch (error) {
    throw new SignalsError(400, `Malformed signals JSON: ${(error as Error).message}`);
  }
  return checkObject(value, resolveLimits(limits));
}

// The last limits given and their resolved form: an app passes the same object with every request.
let lastLimits: SignalsLimits | undefined;
let lastResolved: Required<SignalsLimits> = DEFAULT_SIGNALS_LIMITS;

function resolveLimits(limits: SignalsLimits | undefined): Required<SignalsLimits> {
  if (!limits) return DEFAULT_SIGNALS_LIMITS;
  // Frozen ones only: a caller's own object may change between calls.
  if (limits === lastLimits) return lastResolved;
  const resolved = { ...DEFAULT_SIGNALS_LIMITS, ...limits };
  if (Object.isFrozen(limits)) {
    lastLimits = limits;
    lastResolved = resolved;
  }
  return resolved;
}

function checkObject(value: unknown, limits: Required<SignalsLimits>): Signals {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new SignalsError(400, 'Signals must be a JSON object, e.g. {"count":1}.');
  }
  scrub(value, limits);
  return value as Signals;
}

/**
 * The one pass every body kind goes through: deletes prototype keys in place at every depth (a
 * parser may have made them own properties), and bounds keys, depth and string length (413).
 * Linear: each value is visited once and the key count stops the walk as soon as it is passed.
 */
function scrub(root: object, limits: Required<SignalsLimits>): void {
  let keys = 0;
  const stack: Array<[object, number]> = [[root, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (depth > limits.depth) throw new SignalsError(413, SIGNALS_TOO_DEEP(limits.depth));
    const items = Array.isArray(node) ? (node as unknown[]) : undefined;
    const names = items ? undefined : Object.keys(node);
    const count = items ? items.length : names!.length;
    keys += count;
    if (keys > limits.keys) throw new SignalsError(413, SIGNALS_TOO_MANY_KEYS(limits.keys));
    for (let i = 0; i < count; i++) {
      let child: unknown;
      if (items) {
        child = items[i];
      } else {
        const key = names![i];
        if (isUnsafeKey(key)) {
          delete (node as Record<string, unknown>)[key];
          continue;
        }
        if (key.length > limits.stringLength) throw new SignalsError(413, SIGNALS_STRING_TOO_LONG(limits.stringLength));
        child = (node as Record<string, unknown>)[key];
      }
      if (typeof child === 'string') {
        if (child.length > limits.stringLength) throw new SignalsError(413, SIGNALS_STRING_TOO_LONG(limits.stringLength));
      } else if (child !== null && typeof child === 'object') {
        stack.push([child, depth + 1]);
      }
    }
  }
}

/** Form fields (flat, or nested by a parser such as Express' `qs`) as a plain object, scrubbed like JSON. */
function formObject(fields: Record<string, unknown>, limits: Required<SignalsLimits>): Signals {
  // Parsers may hand over a null-prototype object: signals are plain objects everywhere.
  const out: Signals = {};
  for (const key of Object.keys(fields)) if (!isUnsafeKey(key)) out[key] = fields[key];
  scrub(out, limits);
  return out;
}

function queryParam(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const q = url.indexOf('?');
  if (q === -1) return undefined;
  const value = new URLSearchParams(url.slice(q + 1)).get(DATASTAR_QUERY_PARAM);
  return value === null ? undefined : value;
}

/** Express 5 and Fastify leave the body undefined (or null) when no parser ran. */
function isParsed(body: unknown): boolean {
  return body !== undefined && body !== null;
}

/** Strict UTF-8: invalid bytes are a 400, not replacement characters. */
function decodeUtf8(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SignalsError(400, BODY_NOT_UTF8);
  }
}

function header(headers: SignalsSource['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function mediaType(value: string | string[] | undefined): string {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === 'application/json') return raw; // what Datastar sends: nothing to split or fold
  return raw ? raw.split(';', 1)[0].trim().toLowerCase() : '';
}

function tooLarge(limit: number): SignalsError {
  return new SignalsError(413, SIGNALS_TOO_LARGE(limit));
}

/** Reads a body up to `limit` bytes and decodes it as strict UTF-8 (chunks may split characters). */
function readBody(stream: NodeJS.ReadableStream, limit: number, timeout: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => finish(new SignalsError(408, 'The request body stopped arriving.')), timeout);
    const onData = (chunk: Buffer | string) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buf.length;
      if (size > limit) return finish(tooLarge(limit));
      chunks.push(buf);
    };
    const onEnd = () => finish();
    const onError = (err: Error) => finish(new SignalsError(400, `The request body could not be read: ${err.message}`));
    const onClose = () => finish(new SignalsError(400, 'The client closed the request before sending its body.'));
    function finish(error?: SignalsError) {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (error) {
        stream.resume(); // discard the rest so the 4xx can be answered
        return reject(error);
      }
      try {
        resolve(decodeUtf8(Buffer.concat(chunks)));
      } catch (decodeError) {
        reject(decodeError);
      }
    }
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}
