import { encodeEvent, encodeEvents, executeScript, patchElements, patchSignals, removeElements } from 'nestjs-datastar';
import { parseSse, SseParser } from 'nestjs-datastar/testing';

describe('parseSse', () => {
  it('reads type, id, retry and data lines split at the first space', () => {
    const [event] = parseSse('event: datastar-patch-elements\nid: 7\nretry: 250\ndata: selector #list\ndata: elements <li>a b</li>\n\n');
    expect(event.type).toBe('datastar-patch-elements');
    expect(event.id).toBe('7');
    expect(event.retry).toBe(250);
    expect({ ...event.data }).toEqual({ selector: ['#list'], elements: ['<li>a b</li>'] });
  });

  it('keeps trailing spaces and empty values (an empty HTML line is "elements ")', () => {
    const [event] = parseSse('event: x\ndata: elements <p>  \ndata: elements \ndata: elements </p>\n\n');
    expect(event.data.elements).toEqual(['<p>  ', '', '</p>']);
  });

  it('accepts CRLF, CR and LF line ends, even mixed', () => {
    const text = 'event: a\r\ndata: k 1\r\n\r\nevent: b\rdata: k 2\r\revent: c\ndata: k 3\n\n';
    expect(parseSse(text).map((e) => [e.type, e.data.k[0]])).toEqual([['a', '1'], ['b', '2'], ['c', '3']]);
  });

  it('ignores comments and unknown fields, and takes "data:" with no space', () => {
    const events = parseSse(': heartbeat\n\n:\nevent: x\nfoo: bar\ndata:signals {}\n\n');
    expect(events).toHaveLength(1);
    expect(events[0].data).toEqual({ signals: ['{}'] });
  });

  it('treats a field with no colon as an empty value, and drops only one space', () => {
    const [event] = parseSse('event: x\ndata\ndata:  two spaces\n\n');
    expect(event.data).toEqual({ '': ['', 'two spaces'] });
    const [spaced] = parseSse('event: x\ndata:  k v\n\n');
    expect(spaced.data).toEqual({ '': ['k v'] }); // the second space starts the line: key ''
  });

  it('does not dispatch an event without data, nor an unterminated last event', () => {
    expect(parseSse('event: nothing\n\n')).toEqual([]);
    expect(parseSse('event: x\ndata: k 1\n\nevent: y\ndata: k 2\n')).toHaveLength(1);
  });

  it('defaults the type to "message", ignores bad retry values, and does not carry ids over', () => {
    const events = parseSse('data: k 1\nretry: 1.5\n\nid: 9\ndata: k 2\n\ndata: k 3\n\n');
    expect(events.map((e) => e.type)).toEqual(['message', 'message', 'message']);
    expect(events[0].retry).toBeUndefined();
    expect(events.map((e) => e.id)).toEqual([undefined, '9', undefined]);
  });

  it('skips a leading byte order mark', () => {
    expect(parseSse('\ufeffevent: x\ndata: k 1\n\n')[0].type).toBe('x');
  });

  describe('decoded views', () => {
    it('fills in the protocol defaults for patch-elements', () => {
      const [event] = parseSse(encodeEvent(patchElements('<div id="a"></div>')));
      expect(event.patchElements).toEqual({ mode: 'outer', elements: '<div id="a"></div>', namespace: 'html', useViewTransition: false });
      expect(event.patchSignals).toBeUndefined();
    });

    it('decodes every patch-elements option our writer can produce', () => {
      const text = encodeEvent(patchElements('<circle r="1"/>\n<rect/>', {
        selector: '#chart', mode: 'inner', namespace: 'svg', useViewTransition: true, viewTransitionSelector: '#chart', eventId: 'e1', retryDuration: 3000,
      }));
      const [event] = parseSse(text);
      expect(event).toMatchObject({ id: 'e1', retry: 3000 });
      expect(event.patchElements).toEqual({
        selector: '#chart', mode: 'inner', namespace: 'svg', useViewTransition: true, viewTransitionSelector: '#chart',
        elements: '<circle r="1"/>\n<rect/>',
      });
    });

    it('decodes remove events with no elements', () => {
      const [event] = parseSse(encodeEvent(removeElements('#gone')));
      expect(event.patchElements).toEqual({ selector: '#gone', mode: 'remove', elements: '', namespace: 'html', useViewTransition: false });
    });

    it('parses patch-signals JSON, multi-line too, and the onlyIfMissing flag', () => {
      const [a, b] = parseSse(encodeEvents([
        patchSignals({ count: 1, user: { name: 'Ada' } }, { onlyIfMissing: true }),
        { type: 'datastar-patch-signals', data: 'signals {"a":\nsignals [1,2]}' },
      ]));
      expect(a.patchSignals).toEqual({ signals: { count: 1, user: { name: 'Ada' } }, onlyIfMissing: true });
      expect(b.patchSignals).toEqual({ signals: { a: [1, 2] }, onlyIfMissing: false });
    });

    it('flags signals that are not a JSON object instead of throwing', () => {
      const [bad, array] = parseSse('event: datastar-patch-signals\ndata: signals {count: 1}\n\nevent: datastar-patch-signals\ndata: signals [1]\n\n');
      expect(bad.patchSignals!.signals).toEqual({});
      expect(bad.patchSignals!.error).toMatch(/^signals are not JSON .*: \{count: 1\}$/);
      expect(array.patchSignals!.error).toBe('signals must be a JSON object, got [1]');
    });

    it('never lets __proto__ through', () => {
      const [event] = parseSse('event: datastar-patch-signals\ndata: signals {"__proto__":{"polluted":true},"ok":1}\n\n');
      expect(event.patchSignals!.signals).toEqual({ ok: 1 });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('reads an executeScript event back as the script element it appends', () => {
      const [event] = parseSse(encodeEvent(executeScript('console.log(1)')));
      expect(event.patchElements).toMatchObject({ selector: 'body', mode: 'append', elements: '<script data-effect="el.remove()">console.log(1)</script>' });
    });
  });
});

describe('SseParser', () => {
  it('gives the same events whatever the chunking, CR/LF split across chunks included', () => {
    const text = 'event: a\r\ndata: k 1\r\n\r\n: c\revent: b\rdata: k 2\r\r';
    const whole = parseSse(text);
    for (let size = 1; size <= 5; size++) {
      const parser = new SseParser();
      const events = [];
      for (let i = 0; i < text.length; i += size) events.push(...parser.push(text.slice(i, i + size)));
      expect(events).toEqual(whole);
    }
    expect(whole).toHaveLength(2);
  });

  it('takes a CR ending one chunk and an LF starting the next as one line break', () => {
    const parser = new SseParser();
    expect(parser.push('event: a\rdata: k 1\r')).toEqual([]);
    // this LF completes the CRLF: no blank line yet
    expect(parser.push('\n').map((e) => e.type)).toEqual([]);
    expect(parser.push('\n').map((e) => e.type)).toEqual(['a']);
  });
});
