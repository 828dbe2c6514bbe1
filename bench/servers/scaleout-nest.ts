// Scale-out contender: the same Nest app in two processes sharing a real Redis (RedisPubSub).
// GET /ds/room/stream subscribes to 'room'; POST /bench/publish?seq=N publishes a patch-signals
// event stamped with this process's monotonic clock (process.hrtime is system-wide on Linux,
// so the client process can subtract it from its own reading).
import 'reflect-metadata';
import { Controller, HttpCode, Module, Post, Query } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DatastarModule, DatastarPubSub, OnEvent, patchSignals, StarController, StreamRegistryService } from 'nestjs-datastar';
import type { Server } from 'node:http';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const harness = require('../lib/harness.cjs');

@StarController('room')
class RoomController {
  constructor(private readonly pubsub: DatastarPubSub) {}

  @OnEvent('stream', { method: 'GET' })
  stream() {
    return this.pubsub.subscribe('room');
  }
}

@Controller('bench')
class PublishController {
  constructor(private readonly pubsub: DatastarPubSub) {}

  @Post('publish')
  @HttpCode(200)
  async publish(@Query('seq') seq: string): Promise<string> {
    await this.pubsub.publish('room', patchSignals({ seq: Number(seq), t: String(process.hrtime.bigint()) }));
    return 'ok';
  }
}

async function main(): Promise<void> {
  @Module({
    imports: [DatastarModule.forRoot({ pubsub: { redis: { url: process.env.BENCH_REDIS_URL, keyPrefix: 'bench:', secret: 'bench-secret-bench-secret-bench-secret' } } })],
    controllers: [RoomController, PublishController],
  })
  class ScaleoutModule {}

  const app = await NestFactory.create(ScaleoutModule, { logger: ['error', 'warn'], forceCloseConnections: true });
  await app.listen(0, harness.HOST);
  const streams = app.get(StreamRegistryService);
  harness.registerProbe('streams', () => streams.count());
  harness.setStop(() => app.close());
  harness.ready(app.getHttpServer() as Server);
}

void main();
