// Diagnostic contender (BENCH_DIAG=1): a plain Nest controller on the same route that renders the
// same partial and writes the same bytes itself on the raw response. What Nest and the adapter
// cost without nestjs-datastar: the difference to "ours" is our pipeline.
import 'reflect-metadata';
import { Controller, Module, Post, Req, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { Server, ServerResponse } from 'node:http';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const harness = require('../lib/harness.cjs');
const render = harness.compileHistoryItem();
const HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
};

@Controller('ds/counter')
class RawController {
  @Post('increment')
  increment(@Req() req: { body?: Record<string, unknown> }, @Res() reply: { raw?: ServerResponse; hijack?: () => void }) {
    const signals = req.body ?? {};
    const count = (Number(signals.count) || 0) + 1;
    const html = render({ ...signals, count, square: count * count });
    reply.hijack?.();
    const res = reply.raw ?? (reply as unknown as ServerResponse);
    res.writeHead(200, HEADERS);
    res.end(
      `event: datastar-patch-signals\ndata: signals {"count":${count}}\n\n` +
        `event: datastar-patch-elements\ndata: selector #history-list\ndata: mode append\ndata: elements ${html}\n\n`,
    );
  }
}

@Module({ controllers: [RawController] })
class RawModule {}

async function main(): Promise<void> {
  const fastify = process.argv[2] === 'fastify';
  const app = fastify
    ? await NestFactory.create(RawModule, new FastifyAdapter(), { logger: false, forceCloseConnections: true })
    : await NestFactory.create(RawModule, { logger: false, forceCloseConnections: true });
  if (process.argv[3] === 'als') {
    // Diagnostic: the same route with an AsyncLocalStorage context per request (as our tracker has).
    const { AsyncLocalStorage } = await import('node:async_hooks');
    const als = new AsyncLocalStorage<object>();
    app.use((_req: unknown, _res: unknown, next: () => void) => als.run({}, next));
  }
  await app.listen(0, harness.HOST);
  harness.setStop(() => app.close());
  harness.ready(app.getHttpServer() as Server);
}

void main();
