import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeEvent } from './encoder';
import { patchElements } from './elements';
import { patchSignals } from './signals';
import { SseWriter, encodeOnce, type SseCloseListener, type SseCloseReason } from './sse-writer';

describe('SseWriter close hooks', () => {
  let server: Server;
  let port: number;
  let writers: Array<(w: SseWriter) => void>;

  beforeEach(async () => {
    writers = [];
    server = createServer((_req, res: ServerResponse) => writers.shift()?.(new SseWriter(res).open()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** A request; resolves with the server's writer and the client's response. */
  async function open(): Promise<{ writer: SseWriter; res: IncomingMessage }> {
    const writer = new Promise<SseWriter>((resolve) => writers.push(resolve));
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      request({ port, host: '127.0.0.1', path: '/' }, resolve).on('error', reject).end();
    });
    return { writer: await writer, res };
  }

  function record(writer: SseWriter, log: string[]): void {
    writer.onClose((reason) => log.push(`hook 1 ${reason}`));
    const listener: SseCloseListener = {
      writerClosed: (w, reason) => log.push(`listener ${w === writer} ${reason}`),
    };
    writer.addCloseListener(listener);
    writer.onClose((reason) => log.push(`hook 2 ${reason}`));
  }

  it('runs hooks and listeners once, in the order given, when the client leaves', async () => {
    const { writer, res } = await open();
    const log: string[] = [];
    record(writer, log);
    const closed = new Promise((resolve) => writer.onClose(resolve));
    res.destroy();
    await closed;
    writer.close();
    expect(log).toEqual(['hook 1 client-closed', 'listener true client-closed', 'hook 2 client-closed']);
  });

  it('runs them on close(), and one added after the end at once', async () => {
    const { writer } = await open();
    const log: string[] = [];
    record(writer, log);
    writer.close('replaced');
    writer.close();
    writer.addCloseListener({ writerClosed: (_w, reason: SseCloseReason) => log.push(`late ${reason}`) });
    writer.onClose((reason) => log.push(`late hook ${reason}`));
    expect(log).toEqual(['hook 1 replaced', 'listener true replaced', 'hook 2 replaced', 'late replaced', 'late hook replaced']);
  });

  it('watches the response with one plain listener shared by all writers (no bound function or once() wrapper per stream)', async () => {
    const { writer } = await open();
    const { writer: other } = await open();
    const listeners = writer.res.rawListeners('close');
    expect(listeners).toHaveLength(1);
    expect('listener' in listeners[0]).toBe(false);
    expect(other.res.rawListeners('close')).toEqual(listeners);
    writer.close();
    other.close();
  });

  it('runs hooks past the second (two are kept without an array) in order', async () => {
    const { writer } = await open();
    const log: string[] = [];
    record(writer, log);
    writer.onClose(() => log.push('hook 3'));
    writer.close();
    expect(log).toEqual(['hook 1 ended', 'listener true ended', 'hook 2 ended', 'hook 3']);
  });

  it('an answer that ends in the turn it opened adds no listener to the response', async () => {
    const seen = new Promise<number>((resolve) => writers.push((w) => {
      w.close();
      setImmediate(() => resolve(w.res.listenerCount('close')));
    }));
    await new Promise<IncomingMessage>((resolve, reject) => {
      request({ port, host: '127.0.0.1', path: '/' }, (res) => res.resume().on('end', () => resolve(res))).on('error', reject).end();
    });
    expect(await seen).toBe(0);
  });

  it('a response destroyed before the end of its first turn (no listener yet) still closes the writer', async () => {
    const reason = new Promise<SseCloseReason>((resolve) => writers.push((w) => {
      w.onClose(resolve);
      w.res.destroy();
    }));
    request({ port, host: '127.0.0.1', path: '/' }).on('error', () => undefined).end();
    expect(await reason).toBe('client-closed');
  });

  it('a compressed response destroyed in its first turn ends its zlib stream too, as the listener would', async () => {
    const done = new Promise<{ reason: SseCloseReason; zlibDestroyed: boolean }>((resolve) => {
      const server2 = createServer((_req, res: ServerResponse) => {
        const w = new SseWriter(res, { compression: true }).open();
        w.onClose((reason) => {
          resolve({ reason, zlibDestroyed: w['compressor']!.stream.destroyed });
          server2.closeAllConnections();
          server2.close();
        });
        res.destroy();
      });
      server2.listen(0, '127.0.0.1', () => {
        const { port: p } = server2.address() as AddressInfo;
        request({ port: p, host: '127.0.0.1', path: '/', headers: { 'accept-encoding': 'gzip' } }).on('error', () => undefined).end();
      });
    });
    expect(await done).toEqual({ reason: 'client-closed', zlibDestroyed: true });
  });

  it('keeps the header block it sent as it was (a flat copy): a Latin-1 header value is unchanged', async () => {
    const writer = new Promise<SseWriter>((resolve) => writers.push((w) => {
      w.res.setHeader('X-Caf', 'caf\u00e9');
      resolve(w);
    }));
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      request({ port, host: '127.0.0.1', path: '/' }, resolve).on('error', reject).end();
    });
    const w = await writer;
    const header = (w.res as unknown as { _header: string })._header;
    expect(header).toContain('X-Caf: caf\u00e9\r\n');
    expect(header.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    expect(res.headers['content-type']).toBe('text/event-stream');
    w.close();
  });

  it('sends its headers with writeHead when they leave: no header table kept, and a header the app set meanwhile wins', async () => {
    const plain = await open();
    expect(plain.res.headers['content-type']).toBe('text/event-stream');
    expect(plain.res.headers['cache-control']).toBe('no-cache, no-transform');
    expect(plain.writer.res.getHeaderNames()).toEqual([]); // setHeader's table would stay with the response
    plain.writer.close();

    const writer = new Promise<SseWriter>((resolve) => writers.push((w) => {
      w.res.setHeader('Cache-Control', 'private');
      resolve(w);
    }));
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      request({ port, host: '127.0.0.1', path: '/' }, resolve).on('error', reject).end();
    });
    expect(res.headers['cache-control']).toBe('private');
    expect(res.headers['content-type']).toBe('text/event-stream');
    (await writer).close();
  });
});

describe('SseWriter: an answer complete in its first turn', () => {
  /** Serves one answer written by `answer`, and returns what a client receives. */
  async function serve(answer: (writer: SseWriter) => void): Promise<{ headers: IncomingMessage['headers']; body: Buffer }> {
    const server = createServer((_req, res: ServerResponse) => answer(new SseWriter(res).open()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      return await new Promise((resolve, reject) => {
        request({ port, host: '127.0.0.1', path: '/' }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        }).on('error', reject).end();
      });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  const multiByte = patchElements('<p id="x">é, 中文 and 😀</p>');
  const expected = (...events: object[]) => Buffer.from(events.map((e) => encodeEvent(e)).join(''));

  it('sends fresh events as one body whose Content-Length counts bytes, not characters', async () => {
    const second = patchSignals({ note: 'ü' });
    const { headers, body } = await serve((w) => {
      w.send(multiByte);
      w.send(second);
      w.close();
    });
    expect(body).toEqual(expected(multiByte, second));
    expect(headers['content-length']).toBe(String(body.length));
    expect(headers['transfer-encoding']).toBeUndefined();
  });

  it('sends a list of fresh events (a tracker flush) the same way', async () => {
    const second = patchSignals({ note: 'ü' });
    const { headers, body } = await serve((w) => {
      w.send([multiByte, second]);
      w.close();
    });
    expect(body).toEqual(expected(multiByte, second));
    expect(headers['content-length']).toBe(String(body.length));
  });

  it('mixes fresh events with already encoded bytes (a broadcast) in the order written', async () => {
    const broadcast = patchSignals({ shared: 'ß' });
    const bytes = encodeOnce(broadcast);
    const fresh = patchSignals({ own: 1 });
    const { headers, body } = await serve((w) => {
      w.send(fresh);
      w.writeBytes(bytes);
      w.send(multiByte);
      w.close();
    });
    expect(body).toEqual(expected(fresh, broadcast, multiByte));
    expect(headers['content-length']).toBe(String(body.length));
  });
});
