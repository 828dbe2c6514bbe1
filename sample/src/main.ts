import 'reflect-metadata';
import { createSampleApp } from './create-app';

async function main(): Promise<void> {
  if (process.env.REDIS_URL && !process.env.DATASTAR_REDIS_SECRET) {
    throw new Error(
      'REDIS_URL is set but DATASTAR_REDIS_SECRET is not: set it to the same random secret in every ' +
        'process (DATASTAR_REDIS_SECRET=$(openssl rand -hex 32)), so they can sign what they send through Redis.',
    );
  }
  const app = await createSampleApp({
    sdkTest: process.env.DATASTAR_SDK_TEST === '1',
    clientUrl: process.env.DATASTAR_CLIENT_URL || undefined,
    redisUrl: process.env.REDIS_URL || undefined,
    redisSecret: process.env.DATASTAR_REDIS_SECRET || undefined,
    liveSecret: process.env.LIVE_SECRET || undefined,
    liveStoreDir: process.env.LIVE_STORE_DIR || undefined,
  });
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? '127.0.0.1';
  await app.listen(port, host);
  console.log(`nestjs-datastar sample listening on http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
