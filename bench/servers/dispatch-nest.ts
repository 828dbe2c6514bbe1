// Contender "ours": a Nest app with a @StarController whose @OnEvent('increment') handler sets the
// `count` signal and appends one <li> rendered from the shared Handlebars partial. Express by
// default, Fastify with argv[2] === 'fastify'; with argv[3] === 'dto' the handler takes the sample's
// class-validator DTO (`@Signals() signals: CounterSignals`), validated by us before it runs.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { DatastarModule, OnEvent, Signals, SignalTracker, StarController } from 'nestjs-datastar';
import type { Server } from 'node:http';
import { CounterSignals } from './counter.signals';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const harness = require('../lib/harness.cjs');

@StarController('counter')
class CounterController {
  constructor(private readonly ds: SignalTracker) {}

  @OnEvent('increment') // POST /ds/counter/increment
  increment(@Signals('count') count: unknown) {
    const next = (Number(count) || 0) + 1;
    this.ds
      .assign('square', next * next)
      .signal('count', next)
      .patchElement('history-item', { to: 'history-list', mode: 'append' });
  }

  // Diagnostics (profile, BENCH_DIAG): the same pipeline with less handler work.
  @OnEvent('noop')
  noop(@Signals('count') _count: unknown) {}

  @OnEvent('signal')
  signalOnly(@Signals('count') count: unknown) {
    this.ds.signal('count', (Number(count) || 0) + 1);
  }
}

@StarController('counter')
class CounterDtoController {
  constructor(private readonly ds: SignalTracker) {}

  @OnEvent('increment') // POST /ds/counter/increment, as the sample's counter
  increment(@Signals() signals: CounterSignals) {
    const next = signals.count + 1;
    this.ds
      .assign('square', next * next)
      .signal('count', next)
      .patchElement('history-item', { to: 'history-list', mode: 'append' });
  }
}

@Module({
  // Compiled once, as in production (the peers compile their partial once too).
  imports: [DatastarModule.forRoot({ views: harness.VIEWS, cacheTemplates: true })],
  controllers: [process.argv[3] === 'dto' ? CounterDtoController : CounterController],
})
class BenchModule {}

async function main(): Promise<void> {
  const fastify = process.argv[2] === 'fastify';
  const app = fastify
    ? await NestFactory.create(BenchModule, new FastifyAdapter(), { logger: false, forceCloseConnections: true })
    : await NestFactory.create(BenchModule, { logger: false, forceCloseConnections: true });
  await app.listen(0, harness.HOST);
  harness.setStop(() => app.close());
  harness.ready(app.getHttpServer() as Server);
}

void main();
