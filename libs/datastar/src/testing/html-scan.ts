/**
 * DOM-free reading of HTML for the test client and the matchers: start tags with their
 * attributes and nesting depth, top-level ids, script bodies, entity decoding. It is a tokenizer,
 * not an HTML5 tree builder: implied end tags (`<p>` without `</p>`) are not inferred, which is
 * fine for the markup templates produce.
 */

export interface StartTag {
  name: string;
  /** Attribute names lowercased, values entity-decoded, in source order. */
  attributes: Array<[string, string]>;
  /** 0 for top-level elements. */
  depth: number;
}

const VOID = new Set([
  'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr',
]);
const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title']);

/** Every start tag in document order. */
export function scanStartTags(html: string): StartTag[] {
  const tags: StartTag[] = [];
  const open: string[] = [];
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt === -1) break;
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      i = end === -1 ? html.length : end + 3;
      continue;
    }
    if (html[lt + 1] === '!' || html[lt + 1] === '?') {
      const end = html.indexOf('>', lt);
      i = end === -1 ? html.length : end + 1;
      continue;
    }
    if (html[lt + 1] === '/') {
      const m = /^<\/([A-Za-z][\w:-]*)[^>]*>/.exec(html.slice(lt));
      if (!m) { i = lt + 1; continue; }
      const name = m[1].toLowerCase();
      const at = open.lastIndexOf(name);
      if (at !== -1) open.length = at;
      i = lt + m[0].length;
      continue;
    }
    const nameMatch = /^<([A-Za-z][\w:-]*)/.exec(html.slice(lt, lt + 64));
    if (!nameMatch) { i = lt + 1; continue; }
    const name = nameMatch[1].toLowerCase();
    const { attributes, end, selfClosing } = readAttributes(html, lt + nameMatch[0].length);
    tags.push({ name, attributes, depth: open.length });
    i = end;
    if (RAW_TEXT.has(name)) {
      const close = html.toLowerCase().indexOf(`</${name}`, i);
      i = close === -1 ? html.length : close;
      open.push(name);
    } else if (!VOID.has(name) && !selfClosing) {
      open.push(name);
    }
  }
  return tags;
}

function readAttributes(html: string, from: number): { attributes: Array<[string, string]>; end: number; selfClosing: boolean } {
  const attributes: Array<[string, string]> = [];
  let i = from;
  for (;;) {
    while (i < html.length && /\s/.test(html[i])) i++;
    if (i >= html.length) return { attributes, end: i, selfClosing: false };
    if (html[i] === '>') return { attributes, end: i + 1, selfClosing: false };
    if (html.startsWith('/>', i)) return { attributes, end: i + 2, selfClosing: true };
    if (html[i] === '/') { i++; continue; }
    const start = i;
    while (i < html.length && !/[\s=>]/.test(html[i]) && !html.startsWith('/>', i)) i++;
    const name = html.slice(start, i).toLowerCase();
    while (i < html.length && /\s/.test(html[i])) i++;
    let value = '';
    if (html[i] === '=') {
      i++;
      while (i < html.length && /\s/.test(html[i])) i++;
      const quote = html[i];
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, i + 1);
        const stop = close === -1 ? html.length : close;
        value = html.slice(i + 1, stop);
        i = stop + 1;
      } else {
        const s = i;
        while (i < html.length && !/[\s>]/.test(html[i])) i++;
        value = html.slice(s, i);
      }
    }
    if (name) attributes.push([name, decodeHtmlEntities(value)]);
  }
}

/** Ids of the top-level elements of an HTML fragment (how Datastar matches selector-less patches). */
export function topLevelIds(html: string): string[] {
  const ids: string[] = [];
  for (const tag of scanStartTags(html)) {
    if (tag.depth !== 0) continue;
    const id = tag.attributes.find(([n]) => n === 'id');
    if (id) ids.push(id[1]);
  }
  return ids;
}

/** The text of every `<script>` element in a fragment. */
export function scriptBodies(html: string): string[] {
  const bodies: string[] = [];
  const re = /<script\b[^>]*>([\s\S]*?)<\/script\s*>/gi;
  for (let m = re.exec(html); m; m = re.exec(html)) bodies.push(m[1]);
  return bodies;
}

const NAMED: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', copy: '\u00a9', reg: '\u00ae',
  hellip: '\u2026', mdash: '\u2014', ndash: '\u2013', laquo: '\u00ab', raquo: '\u00bb', euro: '\u20ac',
  lsquo: '\u2018', rsquo: '\u2019', ldquo: '\u201c', rdquo: '\u201d', times: '\u00d7', middot: '\u00b7',
  grave: '`', equals: '=', colon: ':', lpar: '(', rpar: ')', lbrace: '{', rbrace: '}', lsqb: '[', rsqb: ']',
};

/** Decodes character references (`&quot;`, `&#39;`, `&#x27;` and the common named ones). */
export function decodeHtmlEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*);/g, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : '\ufffd';
    }
    return Object.hasOwn(NAMED, ref) ? NAMED[ref] : whole;
  });
}
