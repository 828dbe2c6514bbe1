import 'reflect-metadata';
import { createSampleApp } from './create-app';

async function main(): Promise<void> {
  const app = await createSampleApp({
    sdkTest: process.env.DATASTAR_SDK_TEST === '1',
    clientUrl: process.env.DATASTAR_CLIENT_URL || undefined,
    redisUrl: process.env.REDIS_URL || undefined,
    liveSecret: process.env.LIVE_SECRET || undefined,
  });
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? '127.0.0.1';
  await app.listen(port, host);
  console.log(`nestjs-datastar sample listening on http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`);
}

void main();
