import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { useDatastarViews } from 'nestjs-datastar';
import { AppModule, type SampleOptions } from './app.module';

/** The sample app, as main.ts starts it and as the tests start it. */
export async function createSampleApp(options: SampleOptions = {}, logger = true): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(options), {
    logger: logger ? undefined : false,
    forceCloseConnections: true,
  });
  useDatastarViews(app);
  app.enableShutdownHooks();
  return app;
}
