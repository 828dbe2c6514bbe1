/**
 * A tiny plain `node:http` Datastar app for the testing kit's own specs (no Nest, so these
 * specs depend on the rest of the library only for the markup it writes into pages): a counter,
 * a search, an endless clock stream and a few odd answers. Its SSE bodies are written byte by
 * byte, not with our encoder.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeEvent, escapeAttribute, redirect } from '../protocol';
import { TAB_ID_EXPRESSION } from '../templates/datastar-helpers';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FixtureServer {
  url: string;
  server: Server;
  requests: RecordedRequest[];
  /** Clock streams opened and closed by clients. */
  streams: { opened: number; closed: number };
  close(): Promise<void>;
}

const SSE_HEADERS = { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' };
const FRUITS = ['apple', 'apricot', 'banana', 'blueberry', 'cherry'];

export const COUNTER_PAGE = '<!doctype html><html><head><title>Counter</title></head><body>'
  + '<div data-signals="{&quot;count&quot;:0}"><span id="count" data-text="$count"></span>'
  + '<button id="increment" data-on:click="@post(&quot;/ds/counter/increment&quot;)">+</button>'
  + '<ul id="history-list"></ul></div></body></html>';

export const SEARCH_PAGE = '<!doctype html><html><body>'
  + '<div data-signals="{&quot;query&quot;:&quot;&quot;,&quot;_draft&quot;:&quot;local only&quot;}">'
  + '<input id="search" data-bind:query data-on:input__debounce.200ms="@get(&quot;/ds/search/query&quot;)">'
  + '<p id="echo" data-text="$query.toUpperCase()"></p><ul id="results"></ul></div></body></html>';

export const CLOCK_PAGE = '<!doctype html><html><body>'
  + '<div data-signals:tick="0" data-init="@get(\'/ds/clock/stream\')"><span id="tick" data-text="$tick"></span></div>'
  + '</body></html>';

export const WIDGETS_PAGE = '<!doctype html><html><body>'
  + '<div data-signals="{open: false, price: 3, qty: 2, _csrf: \'tok\'}" data-computed:total="$price * $qty">'
  + '<button id="toggle" data-on:click="$open = !$open">toggle</button>'
  + '<section id="panel" data-show="$open" data-class:active="$open" data-attr:aria-expanded="$open ? \'true\' : \'false\'">panel</section>'
  + '<span id="total" data-text="`${$qty} x ${$price} = ${$total}`"></span>'
  + '<input id="qty" type="number" data-bind:qty>'
  + '<input id="agree" type="checkbox" data-bind:agree>'
  + '<button id="created" data-on:click="@post(\'/ds/misc/created\')">created</button>'
  + '<button id="leave" data-indicator:busy data-on:click="@post(\'/ds/misc/redirect\', {headers: {\'x-csrf-token\': $_csrf}})">leave</button>'
  + '<button id="bad" data-on:click="(() => 1)()">bad</button>'
  + '<form id="f" data-on:submit="@post(\'/ds/misc/form\', {contentType: \'form\'})"><input name="title" value="hello"><button id="send" name="go" value="yes">send</button></form>'
  + '<div id="slot"></div>'
  + '</div></body></html>';

/** Two rows whose buttons post to the same URL (as our helpers make them), and a missing signal read. */
export const ROWS_PAGE = '<!doctype html><html><body><div data-signals="{row: 0}">'
  + '<button id="row-1" data-on:click="$row = 1; @post(\'/ds/rows/pick\')">1</button>'
  + '<button id="row-2" data-on:click="$row = 2; @post(\'/ds/rows/pick\')">2</button>'
  + '<ul id="picked"></ul><p id="fallback" data-text="$missing ?? \'default\'"></p>'
  + '</div></body></html>';

/** A Datastar plugin the emulator does not run. */
export const REF_PAGE = '<!doctype html><html><body><input id="name" data-ref:field><p id="out" data-text="$count"></p></body></html>';

/** Keys the client keeps as written (event and class names, digits in signal names) or camel-cases. */
export const CASING_PAGE = '<!doctype html><html><body>'
  + '<div data-signals:v2api="1" data-signals:item-2="2" data-signals:first-name="\'Ada\'" data-signals:fired="false">'
  + '<p id="styled" data-class:mt2="true" data-class:text-lg="$v2api === 1"></p>'
  + '<button id="fire" data-on:my-event2="$fired = true">fire</button></div></body></html>';

/**
 * What the library writes into a page itself, beside a counter: `{{ds-tab-id}}`, and a connection
 * indicator (`#ds-connection`) following the client's `datastar-fetch` events on a timer. `?user`
 * adds a timer of the page's own.
 */
export const LIBRARY_PAGE = `<!doctype html><html><body data-signals:tab-id="${escapeAttribute(TAB_ID_EXPRESSION)}">`
  + '<div id="ds-connection" hidden data-on:datastar-fetch="window.dsSeen = evt.detail.type"'
  + ' data-on-interval__duration.5000ms="window.dsTicks = (window.dsTicks || 0) + 1"><span>Reconnecting…</span></div>'
  + COUNTER_PAGE.slice(COUNTER_PAGE.indexOf('<div'), COUNTER_PAGE.indexOf('</body>'))
  + '</body></html>';
const USER_TIMER = '<p id="clock" data-on-interval__duration.5000ms="$count++"></p>';

/** Starts the fixture on a free port of 127.0.0.1. */
export async function startFixtureServer(): Promise<FixtureServer> {
  const requests: RecordedRequest[] = [];
  const streams = { opened: 0, closed: 0 };
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => { body += chunk; });
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      route(req, res, body, streams);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    requests,
    streams,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function route(req: IncomingMessage, res: ServerResponse, body: string, streams: FixtureServer['streams']): void {
  const url = new URL(req.url ?? '/', 'http://fixture');
  const key = `${req.method} ${url.pathname}`;
  const isDatastar = req.headers['datastar-request'] === 'true';
  const html = (page: string) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Set-Cookie': 'sid=abc123; Path=/; HttpOnly' });
    res.end(page);
  };
  switch (key) {
    case 'GET /counter': return html(COUNTER_PAGE);
    case 'GET /search': return html(SEARCH_PAGE);
    case 'GET /clock': return html(CLOCK_PAGE);
    case 'GET /quiet': return html(CLOCK_PAGE.replace('/ds/clock/stream', '/ds/clock/stream?max=0'));
    case 'GET /widgets': return html(WIDGETS_PAGE);
    case 'GET /rows': return html(ROWS_PAGE);
    case 'GET /ref': return html(REF_PAGE);
    case 'GET /casing': return html(CASING_PAGE);
    case 'GET /library':
      return html(url.searchParams.has('user') ? LIBRARY_PAGE.replace('</body>', `${USER_TIMER}</body>`) : LIBRARY_PAGE);
  }
  if (!isDatastar) {
    res.writeHead(url.pathname.startsWith('/ds/') ? 400 : 404, { 'Content-Type': 'text/plain' });
    res.end(url.pathname.startsWith('/ds/') ? 'missing Datastar-Request header' : 'not found');
    return;
  }
  switch (key) {
    case 'POST /ds/counter/increment': {
      const n = Number((JSON.parse(body || '{}') as { count?: number }).count ?? 0) + 1;
      res.writeHead(200, SSE_HEADERS);
      res.end(
        `event: datastar-patch-signals\ndata: signals {"count":${n}}\n\n`
        + `event: datastar-patch-elements\ndata: selector #history-list\ndata: mode append\ndata: elements <li>${n}</li>\n\n`,
      );
      return;
    }
    case 'GET /ds/search/query': {
      const signals = JSON.parse(url.searchParams.get('datastar') ?? '{}') as { query?: string };
      const q = (signals.query ?? '').toLowerCase();
      const items = FRUITS.filter((f) => q !== '' && f.startsWith(q));
      res.writeHead(200, SSE_HEADERS);
      // Multi-line elements: one `data: elements` line per HTML line.
      res.end(`event: datastar-patch-elements\ndata: elements <ul id="results">\n${items.map((f) => `data: elements <li>${f}</li>\n`).join('')}data: elements </ul>\n\n`);
      return;
    }
    case 'GET /ds/clock/stream': {
      const max = Number(url.searchParams.get('max') ?? Infinity);
      streams.opened++;
      res.writeHead(200, SSE_HEADERS);
      let tick = 0;
      const timer = setInterval(() => {
        if (tick >= max) return; // stay open, silent
        tick++;
        res.write(`event: datastar-patch-signals\ndata: signals {"tick":${tick}}\n\n`);
      }, 10);
      res.on('close', () => {
        clearInterval(timer);
        streams.closed++;
      });
      return;
    }
    case 'POST /ds/rows/pick': {
      const row = Number((JSON.parse(body || '{}') as { row?: number }).row);
      // Answer late, so that a second click on another row comes first.
      const timer = setTimeout(() => {
        res.writeHead(200, SSE_HEADERS);
        res.end(`event: datastar-patch-elements\ndata: selector #picked\ndata: mode append\ndata: elements <li>picked ${row}</li>\n\n`);
      }, 100);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    case 'POST /ds/misc/created':
      res.writeHead(201, SSE_HEADERS);
      res.end('event: datastar-patch-signals\ndata: signals {"created":true}\n\n');
      return;
    case 'POST /ds/misc/redirect':
      res.writeHead(200, SSE_HEADERS);
      res.end(encodeEvent(redirect('/done?from=leave')));
      return;
    case 'POST /ds/misc/form':
      res.writeHead(200, { 'Content-Type': 'text/html', 'datastar-selector': '#slot', 'datastar-mode': 'inner' });
      res.end(`<p id="received">${escapeHtml(body)}</p>`);
      return;
    default:
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('no such event');
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
