/**
 * The files `nest new` (@nestjs/schematics 12) writes for a TypeScript app, CommonJS or ESM (the
 * default in 12), trimmed to what the installer touches, what `tsc` needs to build it and, in an
 * ESM app, its vitest e2e set-up.
 */
export type ModuleSystem = 'cjs' | 'esm';

export function nestNewApp(type: ModuleSystem, name = 'scratch-app'): Record<string, string> {
  const js = type === 'esm' ? '.js' : '';
  const files: Record<string, string> = {
    'package.json': `${JSON.stringify({
      name,
      version: '0.0.1',
      private: true,
      license: 'UNLICENSED',
      ...(type === 'esm' ? { type: 'module' } : {}),
      scripts: {
        build: 'nest build', start: 'nest start', 'start:prod': 'node dist/main',
        ...(type === 'esm' ? { 'test:e2e': 'vitest run --config ./vitest.config.e2e.ts' } : {}),
      },
      dependencies: {
        '@nestjs/common': '^12.0.1',
        '@nestjs/core': '^12.0.1',
        '@nestjs/platform-express': '^12.0.1',
        'reflect-metadata': '^0.2.2',
        rxjs: '^7.8.1',
      },
      devDependencies: {
        '@nestjs/cli': '^12.0.0', '@nestjs/schematics': '^12.0.0', '@types/node': '^24.0.0', typescript: '^6.0.2',
        ...(type === 'esm' ? { '@nestjs/testing': '^12.0.1', 'vite-tsconfig-paths': '^5.1.4', vitest: '^4.1.2' } : {}),
      },
    }, null, 2)}\n`,
    'nest-cli.json': `{
  "$schema": "https://json.schemastore.org/nest-cli",
  "collection": "@nestjs/schematics",
  "sourceRoot": "src",
  "compilerOptions": {
    "deleteOutDir": true
  }
}
`,
    'tsconfig.json': `{
  "compilerOptions": {
    "module": "nodenext",
    "moduleResolution": "nodenext",
    "resolvePackageJsonExports": true,
    "esModuleInterop": true,
    "isolatedModules": true,
    "declaration": true,
    "removeComments": true,
    "emitDecoratorMetadata": true,
    "experimentalDecorators": true,
    "allowSyntheticDefaultImports": true,
    "target": "ES2023",
    "types": ["node"],
    "sourceMap": true,
    "outDir": "./dist",
    "rootDir": ".",
    "skipLibCheck": true,
    "strict": true,
    "strictPropertyInitialization": false
  }
}
`,
    'tsconfig.build.json': `{
  "extends": "./tsconfig.json",
  "compilerOptions": {
    "rootDir": "./src"
  },
  "include": ["src"],
  "exclude": ["node_modules", "test", "dist", "**/*spec.ts"]
}
`,
    'src/app.module.ts': `import { Module } from '@nestjs/common';
import { AppController } from './app.controller${js}';
import { AppService } from './app.service${js}';

@Module({
  imports: [],
  controllers: [AppController],
  providers: [AppService],
})
export class AppModule {}
`,
    'src/app.controller.ts': `import { Controller, Get } from '@nestjs/common';
import { AppService } from './app.service${js}';

@Controller()
export class AppController {
  constructor(private readonly appService: AppService) {}

  @Get()
  getHello(): string {
    return this.appService.getHello();
  }
}
`,
    'src/app.service.ts': `import { Injectable } from '@nestjs/common';

@Injectable()
export class AppService {
  getHello(): string {
    return 'Hello World!';
  }
}
`,
    'src/main.ts': `import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module${js}';

async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  await app.listen(process.env.PORT ?? 3000);
}
${type === 'esm' ? 'await' : 'void'} bootstrap();
`,
  };
  if (type === 'esm') {
    files['vitest.config.e2e.ts'] = `import { defineConfig } from 'vitest/config';
import tsconfigPaths from 'vite-tsconfig-paths';

export default defineConfig({
  plugins: [tsconfigPaths()],
  test: {
    globals: true,
    root: './',
    include: ['**/*.e2e-spec.ts'],
  },
});
`;
  }
  return files;
}
