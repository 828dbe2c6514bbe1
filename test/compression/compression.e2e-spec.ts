import 'reflect-metadata';
import { Controller, Get, Module, Res, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { Subject } from 'rxjs';
import {
  DatastarModule, encodeEvent, OnEvent, patchElements, patchSignals, StarController, StreamRegistryService,
  type DatastarEvent, type DatastarModuleOptions,
} from 'nestjs-datastar';
import { parseSse } from 'nestjs-datastar/testing';
import { ChatRoom } from '../../sample/src/chat/chat-room.service';
import { ChatController } from '../../sample/src/chat/chat.controller';
import { CounterController } from '../../sample/src/counter/counter.controller';
import { SearchController } from '../../sample/src/search/search.controller';
import { VIEWS_DIR } from '../../sample/src/app.module';
import { CompressedStream } from './compressed-stream';

/** What the test pushes into the open streams. */
let feed = new Subject<DatastarEvent>();

@StarController('live')
class LiveController {
  @OnEvent('feed', { method: 'GET' })
  feed() {
    return feed.asObservable();
  }
}

@Controller('own')
class OwnStreamController {
  constructor(private readonly streams: StreamRegistryService) {}

  @Get('default')
  byModule(@Res() res: any) {
    return this.streams.send(res, feed.asObservable(), { scope: 'own' });
  }

  @Get('plain')
  plain(@Res() res: any) {
    return this.streams.send(res, feed.asObservable(), { scope: 'own', compression: false });
  }
}

async function startApp(options: DatastarModuleOptions, forceCloseConnections = true, fastify = false) {
  @Module({
    imports: [DatastarModule.forRoot({ views: VIEWS_DIR, heartbeat: false, ...options })],
    controllers: [LiveController, OwnStreamController, CounterController, SearchController, ChatController],
    providers: [ChatRoom],
  })
  class AppModule {}
  const settings = { logger: false as const, forceCloseConnections };
  const app = fastify
    ? await NestFactory.create(AppModule, new FastifyAdapter(), settings)
    : await NestFactory.create(AppModule, settings);
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  return { app, base };
}

const BROWSER = 'gzip, deflate, br, zstd';

describe('compressed Datastar streams (module option)', () => {
  let app: INestApplication;
  let base: string;
  beforeAll(async () => ({ app, base } = await startApp({ compression: true })));
  afterAll(() => app.close());
  beforeEach(() => (feed = new Subject<DatastarEvent>()));

  it.each([
    ['br', BROWSER],
    ['gzip', 'gzip, deflate'],
  ])('%s: a dispatch stream delivers every event before the next one exists, then ends decodable', async (encoding, accept) => {
    const stream = await CompressedStream.open(`${base}/ds/live/feed`, { acceptEncoding: accept });
    expect(stream.res.statusCode).toBe(200);
    expect(stream.res.headers['content-encoding']).toBe(encoding);
    expect(stream.res.headers['vary']).toBe('Accept-Encoding');
    expect(stream.res.headers['cache-control']).toBe('no-cache, no-transform');
    let expected = '';
    for (let i = 1; i <= 3; i++) {
      const event = i % 2
        ? patchSignals({ tick: i })
        : patchElements(`<li id="item-${i}">item ${i}</li>`, { selector: '#list', mode: 'append' });
      expected += encodeEvent(event);
      feed.next(event);
      await stream.until((text) => text === expected, `event ${i}`);
    }
    feed.complete();
    expect(await stream.end()).toBe(expected);
    expect(parseSse(expected)).toHaveLength(3);
  });

  it('a one-shot event answers compressed: the sample counter increment decodes to its exact events', async () => {
    const stream = await CompressedStream.open(`${base}/ds/counter/increment`, {
      method: 'POST', body: { count: 4 }, acceptEncoding: BROWSER,
    });
    expect(stream.res.statusCode).toBe(200);
    expect(stream.res.headers['content-encoding']).toBe('br');
    const events = parseSse(await stream.end());
    expect(events.map((e) => e.type)).toEqual(['datastar-patch-signals', 'datastar-patch-elements']);
    expect(events[0].patchSignals?.signals).toEqual({ count: 5 });
    expect(events[1].patchElements).toMatchObject({ selector: '#history-list', mode: 'append' });
    expect(events[1].patchElements?.elements).toContain('is 25');
  });

  it('identity or no Accept-Encoding: plain bytes', async () => {
    for (const accept of ['identity', undefined]) {
      const stream = await CompressedStream.open(`${base}/ds/counter/increment`, { method: 'POST', body: { count: 0 }, acceptEncoding: accept });
      expect(stream.res.headers['content-encoding']).toBeUndefined();
      expect(stream.res.headers['vary']).toBe('Accept-Encoding');
      const text = await stream.end();
      expect(Buffer.concat(stream.raw).toString('utf8')).toBe(text);
      expect(parseSse(text)[0].patchSignals?.signals).toEqual({ count: 1 });
    }
  });

  it('errors before the stream stay plain HTTP answers', async () => {
    const stream = await CompressedStream.open(`${base}/ds/nope/missing`, { acceptEncoding: BROWSER });
    expect(stream.res.statusCode).toBe(404);
    expect(stream.res.headers['content-encoding']).toBeUndefined();
    stream.close();
  });

  it('StreamRegistryService.send follows the module option, and its own option overrides it', async () => {
    const compressed = await CompressedStream.open(`${base}/own/default`, { acceptEncoding: BROWSER });
    const plain = await CompressedStream.open(`${base}/own/plain`, { acceptEncoding: BROWSER });
    expect(compressed.res.headers['content-encoding']).toBe('br');
    expect(plain.res.headers['content-encoding']).toBeUndefined();
    const event = patchSignals({ own: true });
    feed.next(event);
    await compressed.until((t) => t === encodeEvent(event), 'the event, compressed');
    await plain.until((t) => t === encodeEvent(event), 'the event, plain');
    feed.complete();
    await Promise.all([compressed.end(), plain.end()]);
    expect(Buffer.concat(plain.raw).toString()).toBe(encodeEvent(event));
  });
});

describe('compressed Datastar streams on Fastify', () => {
  it('negotiates, flushes every event and ends decodable', async () => {
    feed = new Subject<DatastarEvent>();
    const { app, base } = await startApp({ compression: { encodings: ['gzip'] } }, true, true);
    try {
      const stream = await CompressedStream.open(`${base}/ds/live/feed`, { acceptEncoding: BROWSER });
      expect(stream.res.headers['content-encoding']).toBe('gzip');
      expect(stream.res.headers['vary']).toBe('Accept-Encoding');
      const events = [patchSignals({ a: 1 }), patchSignals({ b: 2 })];
      for (const [i, event] of events.entries()) {
        feed.next(event);
        await stream.until((t) => t === events.slice(0, i + 1).map(encodeEvent).join(''), `event ${i}`);
      }
      feed.complete();
      expect(await stream.end()).toBe(events.map(encodeEvent).join(''));
    } finally {
      await app.close();
    }
  });
});

describe('compression and shutdown', () => {
  it('app.close() ends open compressed streams promptly, even without forceCloseConnections', async () => {
    feed = new Subject<DatastarEvent>();
    const { app, base } = await startApp({ compression: true }, false);
    const stream = await CompressedStream.open(`${base}/ds/live/feed`, { acceptEncoding: 'gzip' });
    feed.next(patchSignals({ before: 'shutdown' }));
    await stream.until((t) => t.includes('shutdown'), 'the first event');
    const started = Date.now();
    await Promise.race([
      app.close(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('app.close() hung on a compressed stream')), 5000)),
    ]);
    expect(Date.now() - started).toBeLessThan(5000);
    // The client is told to come back (shutdownRetry): a `retry:` hint that decodes, then the
    // connection dropped (no trailer), which the Datastar client retries.
    await expect(stream.end()).rejects.toThrow();
    // The last chunk still goes through the client's (asynchronous) gunzip: give it time on a busy machine.
    for (let i = 0; i < 200 && !stream.text.includes('retry:'); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(stream.text).toMatch(/^event: datastar-patch-signals\ndata: signals \{"before":"shutdown"\}\n\nretry: \d+\n\n$/);
  });
});

/**
 * Bytes on the wire for the sample's own patches: counter increments and searches are one
 * response each; the chat is one long stream. Numbers for the README's Compression section
 * (`DATASTAR_COMPRESSION_REPORT=1` prints them).
 */
describe('bytes saved on the sample app', () => {
  let app: INestApplication;
  let base: string;
  beforeAll(async () => ({ app, base } = await startApp({ compression: true })));
  afterAll(() => app.close());

  const encodings = { identity: 'identity', gzip: 'gzip', br: 'br' } as const;
  type Row = Record<keyof typeof encodings, number>;

  async function counter(accept: string): Promise<number> {
    let total = 0;
    for (let count = 0; count < 10; count++) {
      const s = await CompressedStream.open(`${base}/ds/counter/increment`, { method: 'POST', body: { count }, acceptEncoding: accept });
      expect(parseSse(await s.end())).toHaveLength(2);
      total += s.rawBytes;
    }
    return total;
  }

  async function search(accept: string): Promise<number> {
    let total = 0;
    for (const query of ['', 'a', 'an', 'ber', 'p', 'pe', 'pea', 'zz']) {
      const q = encodeURIComponent(JSON.stringify({ query }));
      const s = await CompressedStream.open(`${base}/ds/search/search?datastar=${q}`, { acceptEncoding: accept });
      expect(parseSse(await s.end())[0].patchElements?.elements).toContain('id="results"');
      total += s.rawBytes;
    }
    return total;
  }

  async function chat(accept: string): Promise<number> {
    const stream = await CompressedStream.open(`${base}/ds/chat/stream`, { acceptEncoding: accept });
    await stream.until((t) => t.includes('"online"'), 'the online count');
    const texts = ['hello there', 'how is everyone doing today?', 'fine, trying the Datastar demo', 'did you see the new release?', 'yes, streams are compressed now'];
    const messages = 30;
    for (let i = 0; i < messages; i++) {
      const post = await CompressedStream.open(`${base}/ds/chat/send`, {
        method: 'POST', body: { name: ['alice', 'bob', 'carol'][i % 3], message: `${texts[i % texts.length]} (${i})` },
      });
      await post.end();
      // One message at a time, as people type: every patch is its own flush.
      await stream.until((t) => t.split('data: elements <li>').length - 1 === i + 1, `chat message ${i}`);
    }
    stream.close();
    return stream.rawBytes;
  }

  it('gzip and br shrink every kind of patch, the long chat stream the most', async () => {
    const rows: Record<string, Row> = {};
    for (const [name, measure] of Object.entries({ counter, search, chat })) {
      const row = {} as Row;
      for (const [key, accept] of Object.entries(encodings)) row[key as keyof Row] = await measure(accept);
      rows[name] = row;
    }
    if (process.env.DATASTAR_COMPRESSION_REPORT) {
      const pct = (n: number, of: number) => `${Math.round((1 - n / of) * 100)}%`;
      const lines = Object.entries(rows).map(([name, r]) =>
        `| ${name} | ${r.identity} | ${r.gzip} (-${pct(r.gzip, r.identity)}) | ${r.br} (-${pct(r.br, r.identity)}) |`);
      console.log(['| patches | identity | gzip | br |', '|---|---|---|---|', ...lines].join('\n'));
    }
    for (const r of Object.values(rows)) {
      expect(r.gzip).toBeLessThan(r.identity);
      expect(r.br).toBeLessThan(r.identity);
    }
    // A long stream shares one compression window: repeated markup costs almost nothing.
    expect(rows.chat.gzip).toBeLessThan(rows.chat.identity * 0.25);
    expect(rows.chat.br).toBeLessThan(rows.chat.identity * 0.25);
    expect(rows.search.gzip).toBeLessThan(rows.search.identity * 0.7);
    expect(rows.search.br).toBeLessThan(rows.search.identity * 0.7);
  });
});
