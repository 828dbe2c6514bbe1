import type { ServerResponse } from 'node:http';
import { constants, createBrotliCompress, createGzip, type BrotliCompress, type Gzip } from 'node:zlib';
import { DEFAULT_BROTLI_QUALITY, DEFAULT_GZIP_LEVEL, DEFAULT_SSE_ENCODINGS } from './protocol.constants';

/** Content codings an SSE stream may be compressed with. */
export type SseEncoding = 'br' | 'gzip';

export interface SseCompressionOptions {
  /** Codings offered, most preferred first, when the client's q-values tie (default `['br', 'gzip']`). */
  encodings?: readonly SseEncoding[];
  /** gzip level, 1 (fastest) to 9 (smallest); default 6. */
  level?: number;
  /** Brotli quality, 0 to 11; default 5 (below 5 it compresses a flushed stream much worse). */
  quality?: number;
}

// Windows sized for a stream of small patches: 16 KiB (gzip) and 64 KiB (brotli) compress the
// sample's chat as well as the defaults do, with about 160 KiB and 330 KiB per open stream
// instead of about 230 KiB and 550 KiB.
const GZIP_WINDOW_BITS = 14;
const BROTLI_WINDOW_BITS = 16;

/**
 * The coding to answer with, from an `Accept-Encoding` header: the offered coding the client
 * weights highest (`q`), ties going to `offered`'s order; none for `identity`, an absent header,
 * or `q=0`. `*` stands for every coding the header does not name.
 */
export function negotiateEncoding(
  acceptEncoding: string | readonly string[] | undefined,
  offered: readonly SseEncoding[] = DEFAULT_SSE_ENCODINGS,
): SseEncoding | undefined {
  if (acceptEncoding === undefined) return undefined;
  const header = typeof acceptEncoding === 'string' ? acceptEncoding : acceptEncoding.join(',');
  const weights = new Map<string, number>();
  for (const part of header.split(',')) {
    const [rawName, ...params] = part.split(';');
    let name = rawName.trim().toLowerCase();
    if (!name) continue;
    if (name === 'x-gzip') name = 'gzip';
    let q = 1;
    for (const param of params) {
      const [key, value] = param.split('=').map((s) => s.trim());
      if (key.toLowerCase() !== 'q') continue;
      q = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(value ?? '') ? Number(value) : 0;
    }
    weights.set(name, Math.max(q, weights.get(name) ?? 0));
  }
  const wildcard = weights.get('*');
  let best: SseEncoding | undefined;
  let bestQ = 0;
  for (const coding of offered) {
    const q = weights.get(coding) ?? wildcard ?? 0;
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  return best;
}

/**
 * A zlib stream between an SSE writer and its response: every write is compressed and flushed
 * at once (`Z_SYNC_FLUSH` / `BROTLI_OPERATION_FLUSH` as the stream's default flush), so each
 * event reaches the client before the next one is written.
 */
export class SseCompressor {
  readonly stream: Gzip | BrotliCompress;

  constructor(
    private readonly res: ServerResponse,
    readonly encoding: SseEncoding,
    options: SseCompressionOptions = {},
    onError: (error: Error) => void = () => undefined,
  ) {
    this.stream = encoding === 'br'
      ? createBrotliCompress({
        flush: constants.BROTLI_OPERATION_FLUSH,
        params: {
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
          [constants.BROTLI_PARAM_QUALITY]: options.quality ?? DEFAULT_BROTLI_QUALITY,
          [constants.BROTLI_PARAM_LGWIN]: BROTLI_WINDOW_BITS,
        },
      })
      : createGzip({
        flush: constants.Z_SYNC_FLUSH,
        level: options.level ?? DEFAULT_GZIP_LEVEL,
        windowBits: GZIP_WINDOW_BITS,
      });
    this.stream.on('error', onError);
    this.stream.pipe(res);
  }

  /** Bytes written but not yet taken by the client: queued for zlib, compressed, and in the response. */
  get buffered(): number {
    return this.stream.writableLength + this.stream.readableLength + this.res.writableLength;
  }

  /** `written`: called once the compressed bytes were handed to the response. */
  write(bytes: Buffer | string, written?: () => void): void {
    this.stream.write(bytes, written && (() => written()));
  }

  /** Writes the coding's trailer; the pipe then ends the response. */
  end(): void {
    if (this.res.writableEnded) this.destroy(); // ended elsewhere: a trailer could only be written after end
    else if (this.stream.destroyed) this.res.end();
    else this.stream.end();
  }

  /** Frees zlib's memory at once (client gone, or dropped as too slow). */
  destroy(): void {
    this.stream.unpipe(this.res);
    this.stream.destroy();
  }
}

/**
 * Negotiates from the request's `Accept-Encoding` and, when a coding is agreed, sets
 * `Content-Encoding` and returns the compressor. Sets `Vary: Accept-Encoding` either way.
 * Call before the headers are sent.
 */
export function startCompression(
  res: ServerResponse,
  options: boolean | SseCompressionOptions | undefined,
  onError?: (error: Error) => void,
): SseCompressor | undefined {
  if (!options || res.headersSent || res.getHeader('Content-Encoding') !== undefined) return undefined;
  const settings = options === true ? {} : options;
  addVary(res, 'Accept-Encoding');
  const encoding = negotiateEncoding(res.req?.headers['accept-encoding'], settings.encodings ?? DEFAULT_SSE_ENCODINGS);
  if (!encoding) return undefined;
  res.setHeader('Content-Encoding', encoding);
  res.removeHeader('Content-Length');
  return new SseCompressor(res, encoding, settings, onError);
}

function addVary(res: ServerResponse, field: string): void {
  const current = res.getHeader('Vary');
  const value = Array.isArray(current) ? current.join(', ') : current === undefined ? '' : String(current);
  const fields = value.split(',').map((f) => f.trim().toLowerCase());
  if (fields.includes('*') || fields.includes(field.toLowerCase())) return;
  res.setHeader('Vary', value.trim() ? `${value}, ${field}` : field);
}
