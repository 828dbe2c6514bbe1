// Live sessions at scale: a small @LiveView like the sample's live counter (a `count` signal, an
// `increment` event, a Handlebars template), subscribed to one topic; POST /bench/broadcast?seq=N
// publishes there and every session's handleInfo re-renders its view with the new tick.
// Express by default, Fastify with argv[2] === 'fastify'. With BENCH_REDIS_URL, processes share
// that Redis: an event POSTed to one that does not own the session is forwarded to its owner.
import 'reflect-metadata';
import { Controller, HttpCode, Module, Post, Query } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  DatastarModule, DatastarPubSub, LiveSessionsService, LiveView,
  type LiveContext, type LivePubSubMessage, type LiveViewCallbacks,
} from 'nestjs-datastar';
import type { Server } from 'node:http';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const harness = require('../lib/harness.cjs');
const TOPIC = 'ticks';

interface CounterAssigns {
  count: number;
  tick: number;
}

@LiveView('/live/counter', { template: 'live/counter', title: 'Live counter' })
class CounterLive implements LiveViewCallbacks<CounterAssigns> {
  mount(_params: Record<string, string>, _session: unknown, ctx: LiveContext<CounterAssigns>) {
    ctx.signal('count', 0).assign('tick', 0);
    ctx.subscribe(TOPIC);
  }

  handleEvent(event: string, _signals: unknown, ctx: LiveContext<CounterAssigns>) {
    if (event === 'increment') ctx.update('count', (n) => n + 1);
  }

  handleInfo(message: LivePubSubMessage, ctx: LiveContext<CounterAssigns>) {
    ctx.assign('tick', Number((message.event.data as { seq: number }).seq));
  }
}

@Controller('bench')
class BroadcastController {
  constructor(private readonly pubsub: DatastarPubSub) {}

  @Post('broadcast')
  @HttpCode(200)
  async broadcast(@Query('seq') seq: string): Promise<string> {
    await this.pubsub.publish(TOPIC, { data: { seq: Number(seq) } });
    return 'ok';
  }
}

@Module({
  imports: [
    DatastarModule.forRoot({
      views: harness.VIEWS,
      pubsub: process.env.BENCH_REDIS_URL
        ? { redis: { url: process.env.BENCH_REDIS_URL, keyPrefix: 'bench:', secret: 'bench-secret-bench-secret-bench-secret' } }
        : undefined,
      cacheTemplates: true, // as in production, whatever NODE_ENV says
      live: {
        secret: 'bench-live-secret-'.repeat(3),
        // One loopback client opens every session: the per-client cap on sessions waiting for
        // their stream (default 50) would refuse its concurrent page loads.
        maxPendingPerClient: 100_000,
        // The warm-up's closed sessions end quickly, before the memory baseline is taken.
        graceMs: 200,
      },
    }),
  ],
  controllers: [CounterLive, BroadcastController],
})
class LiveBenchModule {}

async function main(): Promise<void> {
  const options = { logger: false as const, forceCloseConnections: true };
  const app = process.argv[2] === 'fastify'
    ? await NestFactory.create(LiveBenchModule, new FastifyAdapter(), options)
    : await NestFactory.create(LiveBenchModule, options);
  await app.listen(0, harness.HOST);
  const sessions = app.get(LiveSessionsService);
  harness.registerProbe('sessions', () => sessions.count());
  harness.setStop(() => app.close());
  harness.ready(app.getHttpServer() as Server);
}

void main();
