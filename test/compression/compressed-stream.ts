import { request, type IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip } from 'node:zlib';

/**
 * A raw HTTP response read the way a browser's fetch reads a compressed stream: the wire bytes
 * as they arrive (to count them) and the text the decompressor has released so far.
 */
export class CompressedStream {
  readonly raw: Buffer[] = [];
  rawBytes = 0;
  private readonly decoded: Buffer[] = [];
  private decodedBytes = 0;
  private ended = false;
  private error?: Error;
  private readonly decoder?: Transform;
  private listeners: Array<() => void> = [];

  constructor(readonly res: IncomingMessage) {
    const encoding = res.headers['content-encoding'];
    this.decoder = encoding === 'br' ? createBrotliDecompress() : encoding === 'gzip' ? createGunzip() : undefined;
    const onText = (chunk: Buffer) => {
      this.decoded.push(chunk);
      this.decodedBytes += chunk.length;
      this.notify();
    };
    res.on('data', (chunk: Buffer) => {
      this.raw.push(chunk);
      this.rawBytes += chunk.length;
      if (this.decoder) this.decoder.write(chunk);
      else onText(chunk);
    });
    res.on('end', () => (this.decoder ? this.decoder.end() : this.finish()));
    res.on('error', (e) => this.fail(e));
    this.decoder?.on('data', onText);
    this.decoder?.on('end', () => this.finish());
    this.decoder?.on('error', (e: Error) => this.fail(e));
  }

  /** Sends a request and resolves with the response's stream once the headers are in. */
  static open(
    url: string,
    options: { acceptEncoding?: string; method?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<CompressedStream> {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { 'datastar-request': 'true', ...options.headers };
    if (options.acceptEncoding !== undefined) headers['accept-encoding'] = options.acceptEncoding;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return new Promise((resolve, reject) => {
      const req = request(url, { method: options.method ?? 'GET', headers }, (res) => resolve(new CompressedStream(res)));
      req.setTimeout(5000, () => req.destroy(new Error(`no answer from ${url}`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  get text(): string {
    return Buffer.concat(this.decoded).toString('utf8');
  }

  /** Resolves once the decoded text satisfies `done`; rejects after `ms`. */
  until(done: (text: string) => boolean, what: string, ms = 3000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.error) return settle(this.error);
        if (done(this.text)) return settle();
        if (this.ended) return settle(new Error(`the response ended before ${what}: ${JSON.stringify(this.text)}`));
      };
      const timer = setTimeout(() => settle(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.text)}`)), ms);
      const settle = (error?: Error) => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        if (error) reject(error);
        else resolve(this.text);
      };
      this.listeners.push(check);
      check();
    });
  }

  /** Resolves with the whole decoded text when the response ends. */
  async end(ms = 3000): Promise<string> {
    if (!this.ended) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the response did not end; got ${JSON.stringify(this.text)}`)), ms);
        const check = () => {
          if (!this.ended && !this.error) return;
          clearTimeout(timer);
          this.listeners = this.listeners.filter((l) => l !== check);
          if (this.error) reject(this.error);
          else resolve();
        };
        this.listeners.push(check);
        check();
      });
    }
    return this.text;
  }

  close(): void {
    this.res.destroy();
    this.decoder?.destroy();
  }

  private fail(error: Error): void {
    this.error = error;
    this.notify();
  }

  private finish(): void {
    this.ended = true;
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
