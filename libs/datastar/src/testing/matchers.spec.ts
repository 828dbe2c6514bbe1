import {
  consoleLog, encodeEvents, executeScript, patchElements, patchSignals, redirect, removeSignals, type DatastarEvent,
} from 'nestjs-datastar';
import { datastarMatchers, parseSse, setupDatastarMatchers } from 'nestjs-datastar/testing';

setupDatastarMatchers();

const events = (...list: DatastarEvent[]) => parseSse(encodeEvents(list));
/** The failure message a matcher gives, for asserting on it. */
const failure = (assertion: () => void): string => {
  try {
    assertion();
  } catch (error) {
    return (error as Error).message.replace(/\u001b\[\d+m/g, ''); // strip colours
  }
  throw new Error('expected the assertion to fail');
};

describe('toPatchSignals', () => {
  const received = events(
    patchSignals({ count: 1, user: { name: 'Ada', email: 'a@x' } }),
    patchElements('<p id="x"></p>'),
    patchSignals({ count: 2 }),
  );

  it('matches a deep partial of the patches merged in order', () => {
    expect(received).toPatchSignals({ count: 2 });
    expect(received).toPatchSignals({ user: { name: 'Ada' } });
    expect(received).toPatchSignals({ count: expect.any(Number), user: expect.objectContaining({ email: 'a@x' }) });
  });

  it('fails on a wrong value, listing the mismatch, the merged patch and the events', () => {
    const message = failure(() => expect(received).toPatchSignals({ count: 1, user: { name: 'Bob' } }));
    expect(message).toContain('count: expected 1, received 2');
    expect(message).toContain('user.name: expected "Bob", received "Ada"');
    expect(message).toContain('Received (merged from 2 patch(es)): {"count": 2, "user": {"email": "a@x", "name": "Ada"}}');
    expect(message).toContain('#2 patch-elements mode=outer elements="<p id=\\"x\\"></p>"');
  });

  it('fails on a missing signal', () => {
    expect(failure(() => expect(received).toPatchSignals({ total: 3 }))).toContain('total: missing (expected 3)');
  });

  it('proves server-only values never reach the browser with .not', () => {
    expect(received).not.toPatchSignals({ secret: expect.anything() });
    expect(() => expect(received).not.toPatchSignals({ count: 2 })).toThrow(/Expected signal patches not to contain/);
  });

  it('keeps removals as null, so removeSignals can be asserted', () => {
    expect(events(patchSignals({ user: { email: 'a' } }), removeSignals(['user.email']))).toPatchSignals({ user: { email: null } });
  });

  it('fails when no signals were patched, or when they are not JSON', () => {
    expect(failure(() => expect(events(patchElements('<p id="x"></p>'))).toPatchSignals({ a: 1 }))).toContain('Received no datastar-patch-signals event.');
    const invalid = parseSse('event: datastar-patch-signals\ndata: signals {a: 1}\n\n');
    expect(failure(() => expect(invalid).toPatchSignals({}))).toContain('Invalid patch: signals are not JSON');
  });

  it('accepts a response carrying events, and raw SSE text', () => {
    expect({ status: 200, events: received }).toPatchSignals({ count: 2 });
    expect(encodeEvents([patchSignals({ n: 1 })])).toPatchSignals({ n: 1 });
  });

  it('says what it accepts when given something else', () => {
    expect(() => expect(42).toPatchSignals({})).toThrow(/toPatchSignals expects parsed events/);
  });
});

describe('toPatchElements', () => {
  const received = events(
    patchElements('<div id="count">1</div><p id="other"></p>'),
    patchElements('<li>1</li>', { selector: '#history-list', mode: 'append' }),
    patchElements('<span>hi</span>', { selector: '.card > h2', mode: 'inner' }),
  );

  it('matches a top-level id, with or without #', () => {
    expect(received).toPatchElements('count');
    expect(received).toPatchElements('#other');
    expect(received).toPatchElements('#count', { mode: 'outer', contains: '>1<' });
  });

  it('does not match ids nested below the top level', () => {
    expect(events(patchElements('<div id="outer"><span id="inner"></span></div>'))).not.toPatchElements('inner');
  });

  it('matches a selector exactly, and an id against the selector #id', () => {
    expect(received).toPatchElements('.card > h2', { mode: 'inner', contains: /<span>\w+<\/span>/ });
    expect(received).toPatchElements('history-list', { mode: 'append' });
  });

  it('fails on the wrong mode or content, showing the patches of that target', () => {
    const message = failure(() => expect(received).toPatchElements('#history-list', { mode: 'prepend' }));
    expect(message).toContain('Expected an element patch with target "#history-list", mode "prepend".');
    expect(message).toContain('Patches of that target: patch-elements selector=#history-list mode=append elements="<li>1</li>"');
    expect(() => expect(received).toPatchElements('#count', { contains: '2' })).toThrow(/elements containing "2"/);
  });

  it('fails on an unknown target, explaining how targets match', () => {
    expect(failure(() => expect(received).toPatchElements('#nope'))).toContain('No element patch targets it');
  });

  it('supports .not', () => {
    expect(received).not.toPatchElements('#nope');
    expect(() => expect(received).not.toPatchElements('#count')).toThrow(/Expected no element patch/);
  });
});

describe('toExecuteScript', () => {
  const received = events(executeScript('alert("</script> hi")'), consoleLog('warn', 'careful'));

  it('finds a script by substring or pattern, reading neutralised </script back', () => {
    expect(received).toExecuteScript('alert("</script> hi")');
    expect(received).toExecuteScript(/console\.warn\("careful"\)/);
  });

  it('fails listing the scripts received', () => {
    const message = failure(() => expect(received).toExecuteScript('confirm('));
    expect(message).toContain('Expected a script containing "confirm(".');
    expect(message).toContain('console.warn(\\"careful\\")');
    expect(failure(() => expect(events(patchSignals({ a: 1 }))).toExecuteScript('x'))).toContain('No script was received.');
  });

  it('supports .not', () => {
    expect(received).not.toExecuteScript('location');
  });
});

describe('toRedirectTo', () => {
  it('recognises what redirect() sends, relative or absolute', () => {
    expect(events(redirect('/login?next=%2F'))).toRedirectTo('/login?next=%2F');
    expect(events(redirect('https://auth.example.com', { allowCrossOrigin: true }))).toRedirectTo('https://auth.example.com/');
    expect(events(redirect('https://example.com/a'))).toRedirectTo('https://example.com/a');
  });

  it('recognises a redirect written by hand', () => {
    expect(events(executeScript('window.location.href = "/home"'))).toRedirectTo('/home');
    expect(events(executeScript('location.assign("/x")'))).toRedirectTo('/x');
  });

  it('fails naming the redirects received', () => {
    const message = failure(() => expect(events(redirect('/a'))).toRedirectTo('/b'));
    expect(message).toContain('Expected a redirect to "/b".');
    expect(message).toContain('Redirects received: "/a"');
    expect(failure(() => expect(events(executeScript('x()'))).toRedirectTo('/b'))).toContain('No redirect script was received.');
  });

  it('supports .not', () => {
    expect(events(executeScript('x()'))).not.toRedirectTo('/a');
  });
});

describe('setupDatastarMatchers', () => {
  it('exports the matchers for expect.extend', () => {
    expect(Object.keys(datastarMatchers).sort()).toEqual(['toExecuteScript', 'toPatchElements', 'toPatchSignals', 'toRedirectTo']);
  });

  it('explains itself outside Jest', () => {
    const saved = expect;
    (globalThis as { expect?: unknown }).expect = undefined;
    try {
      saved(() => setupDatastarMatchers()).toThrow(/needs Jest's global expect/);
    } finally {
      (globalThis as { expect?: unknown }).expect = saved;
    }
  });
});
