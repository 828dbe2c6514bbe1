import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  DatastarModule, DatastarPubSub, OnEvent, patchSignals, Signals, StarController, StreamRegistryService,
} from 'nestjs-datastar';
import { parseSse } from 'nestjs-datastar/testing';
import { devCertificate } from '../../libs/datastar/schematics-src/utils/dev-certificate';
import { eventually } from '../core/fixtures/harness';

/**
 * HTTP/2 in development, as `nest add nestjs-datastar --https` sets it up on Fastify: browsers hold
 * at most 6 HTTP/1.1 connections per origin (a 7th tab's stream would wait), while HTTP/2 carries
 * every tab's stream on one connection. Express cannot serve HTTP/2 (Express 5 breaks on Node's
 * HTTP/2 request objects), so this runs on Fastify only.
 */

const STREAMS = 20;
/** Headers HTTP/2 forbids (RFC 9113 §8.2.2): Node refuses to send them, so any of ours would break the response. */
const HTTP1_ONLY = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection'];

@StarController('room')
class RoomController {
  constructor(private readonly pubsub: DatastarPubSub) {}

  @OnEvent('stream', { method: 'GET' })
  stream() {
    return this.pubsub.subscribe('room');
  }

  @OnEvent('say')
  async say(@Signals('text') text: unknown) {
    await this.pubsub.publish('room', patchSignals({ said: String(text) }));
  }
}

@Module({ imports: [DatastarModule.forRoot({ heartbeat: false })], controllers: [RoomController] })
class RoomModule {}

interface OpenStream {
  headers: IncomingHttpHeaders;
  body: () => string;
}

function openStream(session: ClientHttp2Session): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': '/ds/room/stream', 'datastar-request': 'true' });
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('response', (headers) => resolve({ headers, body: () => body }));
    req.on('error', reject);
  });
}

function post(session: ClientHttp2Session, path: string, signals: object): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = session.request({
      ':method': 'POST', ':path': path, 'content-type': 'application/json', 'datastar-request': 'true',
    });
    let body = '';
    let headers: IncomingHttpHeaders = {};
    req.setEncoding('utf8');
    req.on('response', (h) => (headers = h));
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => resolve({ status: Number(headers[':status']), body, headers }));
    req.on('error', reject);
    req.end(JSON.stringify(signals));
  });
}

describe('streams over HTTP/2 (Fastify, TLS, allowHTTP1)', () => {
  const tls = devCertificate();
  let app: Awaited<ReturnType<typeof NestFactory.create>>;
  let origin: string;
  let sessions = 0;
  let session: ClientHttp2Session;

  beforeAll(async () => {
    app = await NestFactory.create(
      RoomModule,
      new FastifyAdapter({ http2: true, https: { allowHTTP1: true, key: tls.key, cert: tls.cert } }),
      { logger: false, forceCloseConnections: true },
    );
    await app.listen(0, '127.0.0.1');
    const server = app.getHttpServer();
    server.on('session', () => sessions++);
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    session = connect(origin, { ca: tls.cert });
  });

  afterAll(async () => {
    session?.destroy();
    await app?.close();
  });

  it(`${STREAMS} streams from one client on ONE connection all receive a broadcast, and the dispatch route answers on it too`, async () => {
    const streams = await Promise.all(Array.from({ length: STREAMS }, () => openStream(session)));
    for (const { headers } of streams) {
      expect(headers[':status']).toBe(200);
      expect(headers['content-type']).toBe('text/event-stream');
      for (const name of HTTP1_ONLY) expect(headers[name]).toBeUndefined();
    }
    const registry = app.get(StreamRegistryService);
    await eventually(() => registry.count() === STREAMS, 5000);

    const said = await post(session, '/ds/room/say', { text: 'over h2' });
    expect(said.status).toBe(200);
    for (const name of HTTP1_ONLY) expect(said.headers[name]).toBeUndefined();

    await eventually(() => streams.every((s) => s.body().includes('over h2')), 5000);
    for (const stream of streams) {
      expect(parseSse(stream.body()).map((e) => e.patchSignals?.signals)).toEqual([{ said: 'over h2' }]);
    }
    expect(sessions).toBe(1);
  });

  it('answers HTTP/1.1 clients on the same port (allowHTTP1), keep-alive as HTTP/1.1 has it', async () => {
    const { status, headers, body } = await new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const req = httpsRequest(`${origin}/ds/room/say`, {
        method: 'POST', ca: tls.cert, headers: { 'content-type': 'application/json', 'datastar-request': 'true' },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ text: 'over h1' }));
    });
    expect(status).toBe(200);
    expect(headers['content-type']).toBe('text/event-stream');
    expect(headers.connection).toBe('keep-alive');
    expect(body).toBe('');
  });
});
