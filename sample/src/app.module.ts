import { Module, type DynamicModule } from '@nestjs/common';
import { join } from 'node:path';
import { DatastarModule } from 'nestjs-datastar';
import { ChatRoom } from './chat/chat-room.service';
import { ChatController } from './chat/chat.controller';
import { CounterController } from './counter/counter.controller';
import { HomeController } from './home/home.controller';
import { CounterLive } from './live/counter.live';
import { PageALive, PageBLive } from './live/pages.live';
import { SdkTestController } from './sdk-test/sdk-test.controller';
import { SearchController } from './search/search.controller';

export interface SampleOptions {
  /** Serve the official SDK test endpoint at /test (DATASTAR_SDK_TEST=1). */
  sdkTest?: boolean;
  /** Share streams and the chat room across processes through this Redis (REDIS_URL). */
  redisUrl?: string;
  /** Signs what the processes tell each other through Redis (DATASTAR_REDIS_SECRET); required with redisUrl. */
  redisSecret?: string;
  /** Datastar client script URL (DATASTAR_CLIENT_URL); default the v1.0.2 CDN build. */
  clientUrl?: string;
  /** Live-view token secret (LIVE_SECRET); without it, a generated one kept in the store folder (not in production). */
  liveSecret?: string;
  /** Folder where live sessions are kept across restarts (LIVE_STORE_DIR; default .datastar/sessions). */
  liveStoreDir?: string;
}

export const VIEWS_DIR = join(__dirname, '..', 'views');

@Module({})
export class AppModule {
  static register(options: SampleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        DatastarModule.forRoot({
          views: VIEWS_DIR,
          clientUrl: options.clientUrl,
          pubsub: options.redisUrl ? { redis: { url: options.redisUrl, secret: options.redisSecret } } : undefined,
          live: { secret: options.liveSecret, storeDir: options.liveStoreDir, mountTemplate: 'live-mount' },
        }),
      ],
      providers: [ChatRoom],
      controllers: [
        HomeController, CounterController, SearchController, ChatController,
        CounterLive, PageALive, PageBLive,
        ...(options.sdkTest ? [SdkTestController] : []),
      ],
    };
  }
}
