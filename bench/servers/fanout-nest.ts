// Fan-out contender "ours": a @StarController whose @OnEvent('stream') handler returns
// pubsub.subscribe('room'); POST /bench/broadcast?seq=N publishes one small patch-signals event.
// Express by default, Fastify with argv[2] === 'fastify'.
import 'reflect-metadata';
import { Controller, HttpCode, Module, Post, Query } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  DatastarModule, DatastarPubSub, OnEvent, patchSignals, StarController, StreamRegistryService,
} from 'nestjs-datastar';
import type { Server } from 'node:http';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const harness = require('../lib/harness.cjs');

@StarController('room')
class RoomController {
  constructor(private readonly pubsub: DatastarPubSub) {}

  @OnEvent('stream', { method: 'GET' }) // GET /ds/room/stream
  stream() {
    return this.pubsub.subscribe('room');
  }
}

@Controller('bench')
class BroadcastController {
  constructor(private readonly pubsub: DatastarPubSub) {}

  @Post('broadcast')
  @HttpCode(200)
  async broadcast(@Query('seq') seq: string): Promise<string> {
    await this.pubsub.publish('room', patchSignals({ seq: Number(seq) }));
    return 'ok';
  }
}

@Module({
  imports: [DatastarModule.forRoot({ fastExpressRequests: process.env.BENCH_FAST_EXPRESS !== '0' })],
  controllers: [RoomController, BroadcastController],
})
class FanoutModule {}

async function main(): Promise<void> {
  // No `forceCloseConnections` (Nest's @Sse() contender needs it to close): our streams end at
  // shutdown by themselves, and Nest's option costs ~270 B per open connection (bench: fanout).
  const options = { logger: false as const };
  const app = process.argv[2] === 'fastify'
    ? await NestFactory.create(FanoutModule, new FastifyAdapter(), options)
    : await NestFactory.create(FanoutModule, options);
  await app.listen(0, harness.HOST);
  const streams = app.get(StreamRegistryService);
  harness.registerProbe('streams', () => streams.count());
  harness.setStop(() => app.close());
  harness.ready(app.getHttpServer() as Server);
}

void main();
