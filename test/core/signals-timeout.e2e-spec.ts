import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { DatastarModule, OnEvent, SignalTracker, StarController } from 'nestjs-datastar';

@StarController('slow')
class SlowController {
  constructor(private readonly ds: SignalTracker) {}
  @OnEvent('post')
  post() {
    this.ds.signal('ok', true);
  }
}

@Controller()
class Nothing {}

@Module({ imports: [DatastarModule.forRoot({ signalsTimeout: 200 })], controllers: [SlowController, Nothing] })
class SlowModule {}

/** Sends the head and part of a body, then stalls; resolves with what the server answered. */
function stalledPost(port: number, path: string, extraHeaders = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n${extraHeaders}\r\n{"count":`);
  });
}

describe('signalsTimeout: a body that stops arriving', () => {
  let app: INestApplication;
  let port: number;

  beforeAll(async () => {
    // No body parser: Datastar reads the body itself, so its own timeout applies.
    app = await NestFactory.create(SlowModule, { logger: false, bodyParser: false, forceCloseConnections: true });
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  it('answers 408 after signalsTimeout ms, not an SSE stream and not a hang', async () => {
    const started = Date.now();
    const answer = await stalledPost(port, '/ds/slow/post', 'Datastar-Request: true\r\nConnection: close\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).not.toContain('text/event-stream');
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
    expect(Date.now() - started).toBeLessThan(4000);
  });
});
