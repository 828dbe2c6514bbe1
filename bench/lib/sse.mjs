// A minimal SSE parser for checking that every contender answers with the same events, and what
// the live clients read from a live page.

/** Parses an SSE body into [{ event, id, retry, data: [lines] }]. */
export function parseSse(text) {
  const events = [];
  for (const block of text.split('\n\n')) {
    if (!block.trim()) continue;
    const event = { data: [] };
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') event.data.push(value);
      else event[field] = value;
    }
    events.push(event);
  }
  return events;
}

/** Events compared by meaning: data lines of different keys may come in any order. */
export function sameEvents(a, b) {
  const norm = (events) =>
    JSON.stringify(events.map((e) => ({ ...e, data: [...e.data].sort((x, y) => x.split(' ')[0].localeCompare(y.split(' ')[0])) })));
  return norm(a) === norm(b);
}

/** A live page's token (its `_lv` signal) and session stream URL (its data-init), as the browser reads them. */
export function readLivePage(html) {
  const token = /&quot;_lv&quot;:&quot;([^&]+)&quot;/.exec(html)?.[1];
  const streamPath = /data-init="@get\(&quot;([^&]+)&quot;/.exec(html)?.[1];
  if (!token || !streamPath) throw new Error(`no live page: ${html.slice(0, 300)}`);
  return { token, streamPath };
}
