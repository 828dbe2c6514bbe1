import { Module, type DynamicModule } from '@nestjs/common';
import { join } from 'node:path';
import { DatastarModule } from 'nestjs-datastar';
import { CounterController } from './counter/counter.controller';
import { HomeController } from './home/home.controller';
import { SdkTestController } from './sdk-test/sdk-test.controller';
import { SearchController } from './search/search.controller';

export interface SampleOptions {
  /** Serve the official SDK test endpoint at /test (DATASTAR_SDK_TEST=1). */
  sdkTest?: boolean;
  /** Datastar client script URL (DATASTAR_CLIENT_URL); default the v1.0.2 CDN build. */
  clientUrl?: string;
}

export const VIEWS_DIR = join(__dirname, '..', 'views');

@Module({})
export class AppModule {
  static register(options: SampleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [DatastarModule.forRoot({ views: VIEWS_DIR, clientUrl: options.clientUrl })],
      controllers: [
        HomeController, CounterController, SearchController,
        ...(options.sdkTest ? [SdkTestController] : []),
      ],
    };
  }
}
