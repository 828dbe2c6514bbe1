// Summarises a V8 .cpuprofile (from node --cpu-prof): self time per function and per area.
import { readFileSync } from 'node:fs';

const AREAS = [
  ['nestjs-datastar', /libs\/datastar\/(dist|src)\/|\/bench\/\.(baseline-)?lib\//],
  ['bench server', /\/bench\//],
  ['@nestjs/core', /@nestjs\/core\//],
  ['@nestjs/common', /@nestjs\/common\//],
  ['@nestjs/platform-*', /@nestjs\/platform-/],
  ['express + middleware', /node_modules\/(express|body-parser|router|raw-body|iconv-lite|type-is|content-type|on-finished|finalhandler|send|qs|mime|accepts|negotiator|depd|statuses|http-errors|path-to-regexp|parseurl|encodeurl|escape-html|media-typer|vary|cookie|proxy-addr|forwarded|ipaddr)/],
  ['fastify', /node_modules\/(fastify|@fastify|find-my-way|light-my-request|avvio|fast-json-stringify|secure-json-parse|pino|abstract-logging|process-warning|toad-cache|rfdc|fast-querystring)/],
  ['rxjs', /node_modules\/rxjs\//],
  ['handlebars', /node_modules\/handlebars\//],
  ['class-validator/transformer', /node_modules\/class-(validator|transformer)\//],
  ['reflect-metadata', /reflect-metadata/],
  ['node internals', /^node:|^internal\//],
];

function areaOf(node) {
  const url = node.callFrame.url;
  const name = node.callFrame.functionName;
  if (!url) {
    if (name === '(garbage collector)') return 'GC';
    if (name === '(idle)') return 'idle';
    if (name === '(program)') return 'V8/native (program)';
    return 'native (builtins, C++)';
  }
  for (const [area, re] of AREAS) if (re.test(url)) return area;
  return 'other';
}

function shortUrl(url) {
  return url
    .replace(/^file:\/\//, '')
    .replace(/.*\/node_modules\//, '')
    .replace(/.*\/libs\/datastar\/dist\//, 'nestjs-datastar/')
    .replace(/.*\/bench\/\.(baseline-)?lib\//, 'nestjs-datastar/')
    .replace(/.*\/bench\//, 'bench/');
}

/** `requests`: how many the profiled window served, for a µs-per-request column. */
export function summariseProfile(file, top = 25, requests = 0) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  let total = 0;
  let idle = 0;
  const fns = new Map();
  const areas = new Map();
  for (const [id, us] of self) {
    const node = byId.get(id);
    const { functionName, url, lineNumber } = node.callFrame;
    total += us;
    if (functionName === '(idle)') idle += us;
    const key = `${functionName || '(anonymous)'}  ${url ? `${shortUrl(url)}:${lineNumber + 1}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const area = areaOf(node);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const busy = total - idle;
  const perRequest = (us) => (requests ? `${(us / requests).toFixed(1).padStart(6)} us/req` : '');
  const pct = (us) => `${((100 * us) / busy).toFixed(1)}%`.padStart(6) + perRequest(us);
  const lines = [];
  lines.push(
    `profile ${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (percentages of busy time)` +
      (requests ? `, ${requests} requests: ${(busy / requests).toFixed(1)} us busy per request` : ''),
  );
  lines.push('\nself time by area:');
  for (const [area, us] of [...areas].filter(([a]) => a !== 'idle').sort((a, b) => b[1] - a[1])) {
    lines.push(`  ${pct(us)}  ${area}`);
  }
  lines.push(`\ntop ${top} functions by self time:`);
  for (const [key, us] of [...fns].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`  ${pct(us)}  ${key}`);
  }
  return { text: lines.join('\n'), areas: Object.fromEntries(areas), busy };
}
