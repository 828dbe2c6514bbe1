import { encodeComment, encodeEvent, encodeEvents } from './encoder';
import { executeScript } from './execute';
import { patchElements } from './elements';
import { patchSignals } from './signals';

interface ParsedEvent {
  type: string;
  data: string;
  id?: string;
  retry?: number;
}

/** The event-stream parser of the HTML standard (lines end on CRLF, CR or LF; fields split at the first colon). */
function parseSse(text: string): { events: ParsedEvent[]; comments: string[] } {
  const events: ParsedEvent[] = [];
  const comments: string[] = [];
  let type = '';
  let data = '';
  let id: string | undefined;
  let retry: number | undefined;
  const lines = text.split(/\r\n|\r|\n/);
  lines.pop(); // text after the last line break is an incomplete line
  for (const line of lines) {
    if (line === '') {
      if (data !== '') {
        events.push({ type: type || 'message', data: data.slice(0, -1), ...(id !== undefined ? { id } : {}), ...(retry !== undefined ? { retry } : {}) });
      }
      type = '';
      data = '';
      retry = undefined; // kept per event here; the id persists, as the standard says
      continue;
    }
    if (line.startsWith(':')) {
      comments.push(line.slice(1));
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') type = value;
    else if (field === 'data') data += `${value}\n`;
    else if (field === 'id') id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
  }
  return { events, comments };
}

describe('encodeEvent: users\' MessageEvents', () => {
  it('writes string data with no id invented', () => {
    expect(encodeEvent({ data: 'hello' })).toBe('data: hello\n\n');
  });

  it('JSON-encodes object data', () => {
    expect(encodeEvent({ data: { a: 1, b: 'x' } })).toBe('data: {"a":1,"b":"x"}\n\n');
    expect(encodeEvent({ data: [1, 'two'] })).toBe('data: [1,"two"]\n\n');
  });

  it('keeps line breaks inside JSON-encoded object data escaped', () => {
    expect(encodeEvent({ data: { text: 'a\r\nevent: evil\rb' } })).toBe('data: {"text":"a\\r\\nevent: evil\\rb"}\n\n');
  });

  it('writes type, id and retry when given, in that order', () => {
    expect(encodeEvent({ type: 'tick', id: '7', retry: 3000, data: '1' })).toBe(
      'event: tick\nid: 7\nretry: 3000\ndata: 1\n\n',
    );
  });

  it('writes retry 1000 for a user event that asks for it', () => {
    expect(encodeEvent({ retry: 1000, data: 'x' })).toBe('retry: 1000\ndata: x\n\n');
  });

  it.each([-1, 1.5, Number.NaN])('drops an invalid retry %p', (retry) => {
    expect(encodeEvent({ retry, data: 'x' })).toBe('data: x\n\n');
  });

  it('omits an empty id and an empty type', () => {
    expect(encodeEvent({ id: '', type: '', data: 'x' })).toBe('data: x\n\n');
  });

  it('writes empty data as one empty data line', () => {
    expect(encodeEvent({ data: '' })).toBe('data: \n\n');
  });

  it('splits LF data into data lines', () => {
    expect(encodeEvent({ data: 'a\nb\n' })).toBe('data: a\ndata: b\ndata: \n\n');
  });

  it('splits CR, CRLF and LF alike when the data contains a CR', () => {
    expect(encodeEvent({ data: 'a\rb\r\nc\nd' })).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n');
  });

  it.each([
    ['LF', 'x\nevent: evil\nid: 9\nretry: 1\n\ndata: forged'],
    ['CR', 'x\revent: evil\rid: 9\rretry: 1\r\rdata: forged'],
    ['CRLF', 'x\r\nevent: evil\r\nid: 9\r\nretry: 1\r\n\r\ndata: forged'],
  ])('never lets %s in data forge a field or a second event', (_name, data) => {
    const sse = encodeEvent({ type: 'message', data });
    expect(sse).not.toMatch(/\r/);
    const lines = sse.slice(0, -2).split('\n');
    expect(lines[0]).toBe('event: message');
    for (const line of lines.slice(1)) expect(line.startsWith('data: ')).toBe(true);
    const { events } = parseSse(sse);
    expect(events).toEqual([{ type: 'message', data: data.replace(/\r\n|\r/g, '\n') }]);
  });

  it('strips line breaks from type and id', () => {
    const sse = encodeEvent({ type: 'a\r\nid: 1', id: '2\rretry: 5\n', data: 'x' });
    expect(sse).toBe('event: aid: 1\nid: 2retry: 5\ndata: x\n\n');
    expect(parseSse(sse).events).toEqual([{ type: 'aid: 1', id: '2retry: 5', data: 'x' }]);
  });

  it('round-trips every Datastar helper through a standard SSE parser', () => {
    const sse = encodeEvents([
      patchElements('<p id="a">1\r\n2</p>', { eventId: 'e1' }),
      patchSignals({ n: 'x\ny' }, { retryDuration: 50 }),
      executeScript('a()\rb()'),
    ]);
    expect(parseSse(sse).events).toEqual([
      { type: 'datastar-patch-elements', id: 'e1', data: 'elements <p id="a">1\nelements 2</p>' },
      { type: 'datastar-patch-signals', id: 'e1', retry: 50, data: 'signals {"n":"x\\ny"}' },
      {
        type: 'datastar-patch-elements', id: 'e1',
        data: 'selector body\nmode append\nelements <script data-effect="el.remove()">a()\nelements b()</script>',
      },
    ]);
  });
});

describe('encodeEvents', () => {
  it('concatenates events for a single write', () => {
    expect(encodeEvents([{ data: 'a' }, { type: 't', data: 'b' }])).toBe('data: a\n\nevent: t\ndata: b\n\n');
  });

  it('takes any iterable, and writes nothing for none', () => {
    function* gen() {
      yield { data: '1' };
      yield { data: '2' };
    }
    expect(encodeEvents(gen())).toBe('data: 1\n\ndata: 2\n\n');
    expect(encodeEvents([])).toBe('');
  });
});

describe('comments', () => {
  it('encodeComment writes ": text" lines, a bare ":" for empty', () => {
    expect(encodeComment('keepalive')).toBe(': keepalive\n');
    expect(encodeComment()).toBe(':\n');
    expect(encodeComment('')).toBe(':\n');
  });

  it('encodeComment keeps every line a comment whatever the line breaks', () => {
    const text = encodeComment('a\r\nevent: evil\rdata: x\n\nid: 1');
    expect(text).toBe(': a\n: event: evil\n: data: x\n:\n: id: 1\n');
    for (const line of text.slice(0, -1).split('\n')) expect(line.startsWith(':')).toBe(true);
    expect(parseSse(`${text}\n`).events).toEqual([]);
  });

  it('a comment-only event is just the comment, dispatching nothing', () => {
    expect(encodeEvent({ comment: 'hb' })).toBe(': hb\n');
    expect(parseSse(encodeEvent({ comment: 'hb\r\ndata: forged' }) + encodeEvent({ data: 'real' })).events).toEqual([
      { type: 'message', data: 'real' },
    ]);
  });

  it('writes a comment before the fields of an event', () => {
    expect(encodeEvent({ comment: 'note', type: 'x', data: 'y' })).toBe(': note\nevent: x\ndata: y\n\n');
  });
});
