import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  brotliDecompressSync, constants, createBrotliDecompress, createGunzip, gunzipSync,
} from 'node:zlib';
import type { Transform } from 'node:stream';
import {
  encodeEvent, patchElements, patchSignals, SseWriter, type SseCloseReason, type SseWriterOptions,
} from 'nestjs-datastar';
import { negotiateEncoding } from './sse-compression';

describe('negotiateEncoding', () => {
  it.each([
    ['gzip, deflate, br, zstd', 'br'], // what browsers send
    ['br', 'br'],
    ['gzip', 'gzip'],
    ['GZip', 'gzip'],
    ['x-gzip', 'gzip'],
    ['deflate', undefined],
    ['identity', undefined],
    ['', undefined],
    ['br;q=0, gzip', 'gzip'],
    ['gzip;q=1.0, br;q=0.5', 'gzip'], // the client's weights win over our preference
    ['gzip;q=0.5, br;q=0.5', 'br'], // ties go to our preference
    ['br;q=0.001', 'br'],
    ['*', 'br'],
    ['*;q=0', undefined],
    ['br;q=0, *', 'gzip'],
    ['identity, *;q=0', undefined],
    ['br;q=2, gzip;q=abc', undefined], // malformed weights are not acceptance
    ['gzip ; q=0.8 , br ; q=0.9', 'br'],
  ])('%j -> %s', (header, expected) => {
    expect(negotiateEncoding(header)).toBe(expected);
  });

  it('treats an absent header as identity', () => {
    expect(negotiateEncoding(undefined)).toBeUndefined();
  });

  it('offers only the configured codings, in their order', () => {
    expect(negotiateEncoding('br, gzip', ['gzip'])).toBe('gzip');
    expect(negotiateEncoding('br', ['gzip'])).toBeUndefined();
    expect(negotiateEncoding('br, gzip', ['gzip', 'br'])).toBe('gzip');
  });

  it('reads repeated headers', () => {
    expect(negotiateEncoding(['identity', 'gzip'])).toBe('gzip');
  });
});

/** One SseWriter per request, handed to the test. */
class Harness {
  server!: Server;
  port = 0;
  private waiting: Array<(w: SseWriter) => void> = [];
  options: SseWriterOptions = {};

  async start(): Promise<void> {
    this.server = createServer((_req: IncomingMessage, res: ServerResponse) => {
      const writer = new SseWriter(res, this.options).open();
      this.waiting.shift()?.(writer);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** Opens a request; resolves with the server's writer and the client's view of the stream. */
  async open(acceptEncoding?: string): Promise<{ writer: SseWriter; client: Client }> {
    const writer = new Promise<SseWriter>((resolve) => this.waiting.push(resolve));
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const headers: Record<string, string> = acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding };
      request({ port: this.port, host: '127.0.0.1', path: '/', headers }, resolve).on('error', reject).end();
    });
    return { writer: await writer, client: new Client(res) };
  }
}

/** The client side: raw bytes as they come, and the decoded text as the decompressor releases it. */
class Client {
  readonly raw: Buffer[] = [];
  readonly decoded: Buffer[] = [];
  decodedBytes = 0;
  ended = false;
  error?: Error;
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
      if (this.decoder) this.decoder.write(chunk);
      else onText(chunk);
    });
    res.on('end', () => {
      if (this.decoder) this.decoder.end();
      else this.finish();
    });
    res.on('error', (e) => (this.error = e));
    this.decoder?.on('data', onText);
    this.decoder?.on('end', () => this.finish());
    this.decoder?.on('error', (e: Error) => {
      this.error = e;
      this.notify();
    });
  }

  get rawBytes(): Buffer {
    return Buffer.concat(this.raw);
  }

  get text(): string {
    return Buffer.concat(this.decoded).toString('utf8');
  }

  /** Resolves once `bytes` decoded bytes have arrived; fails after `ms`. */
  waitForBytes(bytes: number, ms = 2000): Promise<void> {
    return this.until(() => this.decodedBytes >= bytes, ms, `${bytes} decoded bytes (have ${this.decodedBytes})`);
  }

  waitForEnd(ms = 2000): Promise<void> {
    return this.until(() => this.ended, ms, 'the end of the response');
  }

  private until(done: () => boolean, ms: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.error) return finish(this.error);
        if (done()) return finish();
      };
      const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}`)), ms);
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        if (error) reject(error);
        else resolve();
      };
      this.listeners.push(check);
      check();
    });
  }

  private finish(): void {
    this.ended = true;
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

const EVENTS = [
  patchSignals({ count: 1 }),
  patchElements('<li>count became 1; its square, computed on the server, is 1</li>', { selector: '#history-list', mode: 'append' }),
  patchElements('<li>count became 2; its square, computed on the server, is 4</li>', { selector: '#history-list', mode: 'append' }),
  patchSignals({ count: 2, note: 'ünïcödé ✓' }),
];

const decode = (encoding: string | undefined, bytes: Buffer): string =>
  (encoding === 'br' ? brotliDecompressSync(bytes) : encoding === 'gzip' ? gunzipSync(bytes) : bytes).toString('utf8');

describe('SseWriter compression', () => {
  const harness = new Harness();
  beforeAll(() => harness.start());
  afterAll(() => harness.stop());
  beforeEach(() => (harness.options = { compression: true }));

  it.each([
    ['br', 'gzip, deflate, br, zstd'],
    ['gzip', 'gzip'],
  ])('%s: each event arrives decoded before the next is written, and the whole decodes to the exact bytes', async (encoding, accept) => {
    const { writer, client } = await harness.open(accept);
    expect(client.res.headers['content-encoding']).toBe(encoding);
    expect(client.res.headers['vary']).toBe('Accept-Encoding');
    expect(client.res.headers['content-type']).toBe('text/event-stream');
    expect(client.res.headers['content-length']).toBeUndefined();
    expect(writer.encoding).toBe(encoding);

    let expected = '';
    for (const event of EVENTS) {
      expected += encodeEvent(event);
      expect(writer.send(event)).toBe(true);
      // Nothing more is written until this event has come out of the client's decompressor.
      await client.waitForBytes(Buffer.byteLength(expected));
      expect(client.text).toBe(expected);
    }
    writer.close();
    await client.waitForEnd();
    expect(client.text).toBe(expected);
    // A complete stream: the coding's trailer was written before the response ended.
    expect(decode(encoding, client.rawBytes)).toBe(expected);
    expect(client.rawBytes.equals(Buffer.from(expected))).toBe(false);
  });

  it.each([
    ['identity'],
    [undefined],
    ['deflate'],
  ])('Accept-Encoding %j: plain bytes, still Vary: Accept-Encoding', async (accept) => {
    const { writer, client } = await harness.open(accept);
    expect(client.res.headers['content-encoding']).toBeUndefined();
    expect(client.res.headers['vary']).toBe('Accept-Encoding');
    expect(writer.encoding).toBeUndefined();
    writer.send(EVENTS);
    writer.close();
    await client.waitForEnd();
    expect(client.rawBytes.toString('utf8')).toBe(EVENTS.map(encodeEvent).join(''));
  });

  it('is off by default: no Content-Encoding, no Vary', async () => {
    harness.options = {};
    const { writer, client } = await harness.open('gzip, br');
    expect(client.res.headers['content-encoding']).toBeUndefined();
    expect(client.res.headers['vary']).toBeUndefined();
    writer.send(EVENTS[0]);
    writer.close();
    await client.waitForEnd();
    expect(client.rawBytes.toString('utf8')).toBe(encodeEvent(EVENTS[0]));
  });

  it('honours the configured codings and keeps an existing Vary', async () => {
    harness.options = { compression: { encodings: ['gzip'], level: 9 }, headers: { Vary: 'Origin' } };
    const { writer, client } = await harness.open('br, gzip');
    expect(client.res.headers['content-encoding']).toBe('gzip');
    expect(client.res.headers['vary']).toBe('Origin, Accept-Encoding');
    writer.send(EVENTS[1]);
    writer.close();
    await client.waitForEnd();
    expect(client.text).toBe(encodeEvent(EVENTS[1]));
  });

  it.each([['br'], ['gzip']])('%s: the heartbeat comment comes through while the stream is idle', async (encoding) => {
    harness.options = { compression: true, heartbeat: 40 };
    const { writer, client } = await harness.open(encoding);
    expect(client.res.headers['content-encoding']).toBe(encoding);
    const first = encodeEvent(EVENTS[0]);
    writer.send(EVENTS[0]);
    await client.waitForBytes(first.length);
    // No event is written now: only the heartbeat can make the decoded text grow.
    await client.waitForBytes(first.length + ':\n\n'.length);
    expect(client.text.startsWith(`${first}:\n\n`)).toBe(true);
    writer.close();
    await client.waitForEnd();
    expect(decode(encoding, client.rawBytes)).toBe(client.text);
  });

  it.each([['br'], ['gzip']])('%s: a client that stops reading is cut off at maxBufferedBytes, and zlib is freed', async (encoding) => {
    harness.options = { compression: true, maxBufferedBytes: 256 * 1024 };
    const { writer, client } = await harness.open(encoding);
    client.res.pause(); // never reads again
    const reasons: SseCloseReason[] = [];
    writer.onClose((r) => reasons.push(r));
    const zlib = (writer as any).compressor.stream as Transform;
    // Random text does not compress: the buffers fill as fast as they would uncompressed.
    let written = 0;
    const started = Date.now();
    while (writer.send({ type: 'x', data: randomBytes(12 * 1024).toString('base64') })) {
      written += 16 * 1024;
      if (written > 512 * 1024 * 1024 || Date.now() - started > 15_000) throw new Error('never cut off');
      await new Promise((r) => setImmediate(r));
    }
    expect(reasons).toEqual(['slow-client']);
    expect(writer.closeReason).toBe('slow-client');
    expect(zlib.destroyed).toBe(true);
    expect(writer.send(EVENTS[0])).toBe(false);
    // Bounded: what was accepted is a small multiple of the cap plus the socket buffers, not everything.
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it('drained() waits for the zlib stream and resolves as the client reads', async () => {
    harness.options = { compression: true };
    const { writer, client } = await harness.open('gzip');
    const zlib = (writer as any).compressor.stream as Transform;
    let sent = 0;
    while (!zlib.writableNeedDrain) {
      writer.send({ type: 'x', data: randomBytes(8 * 1024).toString('base64') });
      sent++;
    }
    let drained = false;
    const wait = writer.drained().then(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    expect(sent).toBeGreaterThan(0);
    await wait; // the client reads: everything flows through
    expect(drained).toBe(true);
    writer.close();
    await client.waitForEnd(5000);
  });

  it('a client that leaves: the close reason is client-closed and the zlib stream is destroyed', async () => {
    harness.options = { compression: true };
    const { writer, client } = await harness.open('br');
    const closed = new Promise<SseCloseReason>((resolve) => writer.onClose(resolve));
    writer.send(EVENTS[0]);
    await client.waitForBytes(encodeEvent(EVENTS[0]).length);
    client.res.destroy();
    await expect(closed).resolves.toBe('client-closed');
    expect(((writer as any).compressor.stream as Transform).destroyed).toBe(true);
    expect(writer.signal.aborted).toBe(true);
  });

  it('close() ends with the trailer and runs the close hooks once', async () => {
    harness.options = { compression: true };
    const { writer, client } = await harness.open('gzip');
    const reasons: SseCloseReason[] = [];
    writer.onClose((r) => reasons.push(r));
    writer.send(EVENTS);
    writer.close('shutdown');
    writer.close();
    await client.waitForEnd();
    expect(reasons).toEqual(['shutdown']);
    expect(gunzipSync(client.rawBytes, { finishFlush: constants.Z_FINISH }).toString()).toBe(EVENTS.map(encodeEvent).join(''));
  });
});
