// Fan-out contender "Nest @Sse()": Nest's own SSE route over an RxJS Subject, the way a Nest user
// writes a broadcast without this library. Nest formats every event per stream (and adds `id:`).
import 'reflect-metadata';
import { Controller, HttpCode, Module, Post, Query, Sse, type MessageEvent } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import { Observable, Subject } from 'rxjs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const harness = require('../lib/harness.cjs');

const room = new Subject<MessageEvent>();
let open = 0;

@Controller('room')
class RoomController {
  @Sse('stream') // GET /room/stream
  stream(): Observable<MessageEvent> {
    return new Observable<MessageEvent>((subscriber) => {
      open++;
      const subscription = room.subscribe(subscriber);
      return () => {
        open--;
        subscription.unsubscribe();
      };
    });
  }

  @Post('broadcast')
  @HttpCode(200)
  broadcast(@Query('seq') seq: string): string {
    room.next({ type: 'datastar-patch-signals', data: `signals ${JSON.stringify({ seq: Number(seq) })}` });
    return 'ok';
  }
}

@Module({ controllers: [RoomController] })
class FanoutModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(FanoutModule, { logger: false, forceCloseConnections: true });
  await app.listen(0, harness.HOST);
  harness.registerProbe('streams', () => open);
  harness.setStop(() => app.close());
  harness.ready(app.getHttpServer() as Server);
}

void main();
