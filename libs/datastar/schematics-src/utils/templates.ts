/** The files the schematics write. Plain functions: no template engine, nothing to copy at build time. */

export interface LayoutOptions {
  /** Put `{{ds-tab-id}}` on `<body>` for per-tab stream dedup. */
  streamDedup: boolean;
}

export function layoutHbs({ streamDedup }: LayoutOptions): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{#if title}}{{title}}{{else}}Datastar{{/if}}</title>
  {{ds-script}}
</head>
<body${streamDedup ? ' {{ds-tab-id}}' : ''}>
  {{> @partial-block}}
</body>
</html>
`;
}

export interface ControllerNames {
  /** `TodoList` */
  className: string;
  /** `todo-list`: the StarController's name, its page path and its view's name. */
  fileName: string;
  /** `Todo list` */
  title: string;
}

export function controllerNames(name: string): ControllerNames {
  const words = name
    .replace(/Controller$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
  if (!words.length || !/^[a-z]/.test(words[0])) {
    throw new Error(`"${name}" is not a usable controller name: use letters, digits and dashes, starting with a letter.`);
  }
  const className = words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
  return { className, fileName: words.join('-'), title: words.join(' ').replace(/^./, (c) => c.toUpperCase()) };
}

/** The example: a page with a counter, an event that bumps it, and a fragment appended per click. */
export function counterControllerTs(): string {
  return `import { Get, Render } from '@nestjs/common';
import { OnEvent, Signals, SignalTracker, StarController } from 'nestjs-datastar';

/**
 * A Datastar page at GET /counter; its button posts to /ds/counter/increment, and the answer
 * patches the browser's \`$count\` signal and appends a rendered fragment to #history.
 */
@StarController()
export class CounterController {
  constructor(private readonly ds: SignalTracker) {}

  @Get()
  @Render('counter')
  show() {
    this.ds.signal('count', 0); // initial browser state, rendered into data-signals
  }

  @OnEvent('increment') // POST only (the default); @OnEvent('name', { method: 'GET' }) for reads
  increment(@Signals('count') count: unknown) {
    const next = (typeof count === 'number' && Number.isSafeInteger(count) ? count : 0) + 1;
    this.ds
      .signal('count', next) // template data and a signal patch
      .patchElement('counter-history', {
        to: 'history',
        mode: 'append',
        locals: { count: next, at: new Date().toISOString().slice(11, 19) },
      });
  }
}
`;
}

export function counterPageHbs(): string {
  return `{{#> layout title="Counter"}}
<main {{ds-signals}}>
  <h1>Counter</h1>
  <p>Count: <strong id="count" data-text="$count">{{count}}</strong></p>
  <button id="increment" data-on:click="{{ds-post 'increment'}}">Increment</button>
  <ul id="history"></ul>
</main>
{{/layout}}
`;
}

export function counterHistoryHbs(): string {
  return `<li>{{at}}: the count became {{count}}</li>
`;
}

/** A new StarController for the `star-controller` generator. */
export function starControllerTs({ className, fileName }: ControllerNames): string {
  return `import { Get, Render } from '@nestjs/common';
import { OnEvent, Signals, SignalTracker, StarController } from 'nestjs-datastar';

/** Page at GET /${fileName}; events at POST /ds/${fileName}/<event> (each answers one method). */
@StarController()
export class ${className}Controller {
  constructor(private readonly ds: SignalTracker) {}

  @Get()
  @Render('${fileName}')
  show() {
    this.ds.signal('message', '');
  }

  @OnEvent('submit')
  submit(@Signals('message') message: unknown) {
    const text = typeof message === 'string' ? message.trim().slice(0, 200) : '';
    this.ds.signal('message', '').signal('echo', text);
  }
}
`;
}

export function starPageHbs({ title }: ControllerNames): string {
  return `{{#> layout title="${title}"}}
<main {{ds-signals echo=''}}>
  <h1>${title}</h1>
  <form data-on:submit="{{ds-post 'submit'}}">
    <input data-bind:message placeholder="Say something">
    <button type="submit">Send</button>
  </form>
  <p data-text="$echo"></p>
</main>
{{/layout}}
`;
}

/** Where `--https` puts the development key and certificate (relative to the project root). */
export const DEV_CERTS = { dir: 'dev-certs', key: 'dev-certs/localhost-key.pem', cert: 'dev-certs/localhost-cert.pem' };

/** The options `--https` gives a `new FastifyAdapter()` in main.ts: HTTP/2 over TLS while dev-certs/ exists, outside production. */
export function devHttp2Ts(): string {
  return `
/**
 * HTTPS with HTTP/2 in development (nest add nestjs-datastar --https): browsers open at most 6
 * HTTP/1.1 connections per origin, one per open stream, so a 7th tab would wait; over HTTP/2 every
 * tab shares one connection. Off in production and when ${DEV_CERTS.dir}/ is missing.
 */
function devHttp2(): ConstructorParameters<typeof FastifyAdapter>[0] {
  if (process.env.NODE_ENV === 'production' || !existsSync('${DEV_CERTS.key}')) return undefined;
  return {
    http2: true,
    https: { allowHTTP1: true, key: readFileSync('${DEV_CERTS.key}'), cert: readFileSync('${DEV_CERTS.cert}') },
  };
}
`;
}
