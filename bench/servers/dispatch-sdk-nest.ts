// Contender "the SDK hand-wired in Nest": what a Nest team that does not use nestjs-datastar writes
// with the official SDK: a plain @Controller with @Post(), @Body() (their class-validator DTO
// through a global ValidationPipe when argv[3] === 'dto'), @Res() and ServerSentEventGenerator.stream,
// doing the same counter job. Express by default, Fastify with argv[2] === 'fastify'.
import 'reflect-metadata';
import { Body, Controller, Module, Post, Req, Res, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ServerSentEventGenerator } from '@starfederation/datastar-sdk';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { CounterSignals } from './counter.signals';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const harness = require('../lib/harness.cjs');
const render = harness.compileHistoryItem();
const fastify = process.argv[2] === 'fastify';
const dto = process.argv[3] === 'dto';

/** The SDK wants Node's own objects: Express's are, Fastify's wrap them in `.raw`. */
type Wrapped<T> = T & { raw?: T };
const raw = <T>(value: Wrapped<T>): T => value.raw ?? value;

function answer(req: Wrapped<IncomingMessage>, res: Wrapped<ServerResponse>, signals: object, count: number) {
  const html = render({ ...signals, count, square: count * count });
  return ServerSentEventGenerator.stream(raw(req), raw(res), (sse) => {
    sse.patchSignals(JSON.stringify({ count }));
    sse.patchElements(html, { selector: '#history-list', mode: 'append' });
  });
}

@Controller('ds/counter')
class CounterDtoController {
  @Post('increment')
  increment(@Body() signals: CounterSignals, @Req() req: Wrapped<IncomingMessage>, @Res() res: Wrapped<ServerResponse>) {
    return answer(req, res, signals, signals.count + 1);
  }
}

@Controller('ds/counter')
class CounterController {
  @Post('increment')
  increment(@Body() signals: Record<string, unknown>, @Req() req: Wrapped<IncomingMessage>, @Res() res: Wrapped<ServerResponse>) {
    return answer(req, res, signals, (Number(signals.count) || 0) + 1);
  }
}

@Module({ controllers: [dto ? CounterDtoController : CounterController] })
class SdkNestModule {}

async function main(): Promise<void> {
  const options = { logger: false as const, forceCloseConnections: true };
  const app = fastify
    ? await NestFactory.create(SdkNestModule, new FastifyAdapter(), options)
    : await NestFactory.create(SdkNestModule, options);
  if (dto) app.useGlobalPipes(new ValidationPipe({ transform: true }));
  await app.listen(0, harness.HOST);
  harness.setStop(() => app.close());
  harness.ready(app.getHttpServer() as Server);
}

void main();
