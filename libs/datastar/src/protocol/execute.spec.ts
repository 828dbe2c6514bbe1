import { encodeEvent } from './encoder';
import { consoleLog, executeScript, neutraliseScriptEnd, redirect } from './execute';
import { escapeAttribute } from './html-escape';
import { CONSOLE_LEVELS, type ConsoleLevel } from './protocol.constants';

const HEAD = 'event: datastar-patch-elements\ndata: selector body\ndata: mode append\n';
const AUTO = ' data-effect="el.remove()"';
const GUARD = 'if(u.origin!==window.location.origin)throw new Error("datastar: cross-origin redirect refused: "+u.href);';

/** The full SSE text of an auto-removed script with `body` on one line. */
function scriptEvent(body: string, attrs = AUTO): string {
  return `${HEAD}data: elements <script${attrs}>${body}</script>\n\n`;
}

function expectSafeEvent(sse: string): string[] {
  expect(sse).not.toMatch(/\r/);
  expect(sse.endsWith('\n\n')).toBe(true);
  const lines = sse.slice(0, -2).split('\n');
  expect(lines[0]).toBe('event: datastar-patch-elements');
  let i = 1;
  if (lines[i]?.startsWith('id: ')) i++;
  if (lines[i]?.startsWith('retry: ')) i++;
  for (const line of lines.slice(i)) expect(line.startsWith('data: ')).toBe(true);
  return lines;
}

/** The HTML carried by the event, lines joined back with \n as the client does. */
function elementsOf(sse: string): string {
  return sse.slice(0, -2).split('\n')
    .filter((l) => l.startsWith('data: elements '))
    .map((l) => l.slice('data: elements '.length))
    .join('\n');
}

describe('executeScript', () => {
  it('appends an auto-removed script to body', () => {
    expect(encodeEvent(executeScript('console.log(1)'))).toBe(
      'event: datastar-patch-elements\ndata: selector body\ndata: mode append\n'
      + 'data: elements <script data-effect="el.remove()">console.log(1)</script>\n\n',
    );
  });

  it('autoRemove true is the default', () => {
    expect(encodeEvent(executeScript('x()', { autoRemove: true }))).toBe(scriptEvent('x()'));
  });

  it('autoRemove false leaves the data-effect out', () => {
    expect(encodeEvent(executeScript('x()', { autoRemove: false }))).toBe(scriptEvent('x()', ''));
  });

  it('writes attributes before data-effect; true = bare attribute, false = left out', () => {
    expect(encodeEvent(executeScript('x()', { attributes: { type: 'module', async: true, defer: false } }))).toBe(
      scriptEvent('x()', ' type="module" async data-effect="el.remove()"'),
    );
    expect(encodeEvent(executeScript('x()', { autoRemove: false, attributes: { nonce: 'abc' } }))).toBe(
      scriptEvent('x()', ' nonce="abc"'),
    );
  });

  it('writes eventId and retryDuration', () => {
    expect(encodeEvent(executeScript('x()', { eventId: 's1', retryDuration: 3000 }))).toBe(
      'event: datastar-patch-elements\nid: s1\nretry: 3000\ndata: selector body\ndata: mode append\n'
      + 'data: elements <script data-effect="el.remove()">x()</script>\n\n',
    );
    expect(encodeEvent(executeScript('x()', { retryDuration: 1000 }))).toBe(scriptEvent('x()'));
  });

  it('writes a multi-line script as several elements lines', () => {
    expect(encodeEvent(executeScript('a()\n  b()\n'))).toBe(
      `${HEAD}data: elements <script${AUTO}>a()\ndata: elements   b()\ndata: elements </script>\n\n`,
    );
  });

  it.each([
    ['LF', 'a()\nevent: evil\nid: 1\nretry: 1\n\ndata: x'],
    ['CR', 'a()\revent: evil\rid: 1\rretry: 1\r\rdata: x'],
    ['CRLF', 'a()\r\nevent: evil\r\nid: 1\r\nretry: 1\r\n\r\ndata: x'],
  ])('never lets %s in a script forge a field', (_name, script) => {
    const lines = expectSafeEvent(encodeEvent(executeScript(script)));
    expect(lines.slice(1).filter((l) => !l.startsWith('data: elements '))).toEqual(
      ['data: selector body', 'data: mode append'],
    );
  });

  it.each([
    ['</script>'],
    ['</SCRIPT>'],
    ['</ScRiPt >'],
    ['</script\n>'],
    ['</scRIPT/>'],
  ])('neutralises %p in the body', (end) => {
    const sse = encodeEvent(executeScript(`var s="${end}<img src=x onerror=alert(1)>";`));
    const html = elementsOf(sse);
    // Exactly one closing tag: ours, at the very end.
    expect(html.match(/<\/script/gi)).toHaveLength(1);
    expect(html.endsWith('</script>')).toBe(true);
  });

  it('writes the neutralised body exactly', () => {
    expect(encodeEvent(executeScript('x="</script><script>alert(1)</SCRIPT>"'))).toBe(
      scriptEvent('x="<\\/script><script>alert(1)<\\/SCRIPT>"'),
    );
  });

  it('escapes attribute values', () => {
    expect(encodeEvent(executeScript('x()', { attributes: { 'data-x': `"><img src=x onerror=alert(1)>&'` } }))).toBe(
      scriptEvent('x()', ' data-x="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&amp;&#39;" data-effect="el.remove()"'),
    );
  });

  it('splits line breaks inside attribute values into data lines, never new fields', () => {
    const sse = encodeEvent(executeScript('x()', { attributes: { title: 'a\r\nevent: evil\rb' } }));
    expectSafeEvent(sse);
  });

  it.each([['on click'], ['a"b'], [''], ['x>'], ['a=b'], ['1abc'], ["a'b"], ['a/b'], ['a\nb']])(
    'refuses the attribute name %p',
    (name) => {
      expect(() => executeScript('x()', { attributes: { [name]: 'v' } })).toThrow(TypeError);
    },
  );

  it.each([['data-foo'], ['xlink:href'], ['a.b'], ['_x'], ['nonce']])('accepts the attribute name %p', (name) => {
    expect(encodeEvent(executeScript('x()', { autoRemove: false, attributes: { [name]: 'v' } }))).toBe(
      scriptEvent('x()', ` ${name}="v"`),
    );
  });
});

describe('neutraliseScriptEnd and escapeAttribute', () => {
  it('breaks </script in any case and <!--', () => {
    expect(neutraliseScriptEnd('a</script>b</SCRIPT>c</sCrIpT')).toBe('a<\\/script>b<\\/SCRIPT>c<\\/sCrIpT');
    expect(neutraliseScriptEnd('<!--<script>')).toBe('<\\!--<script>');
    expect(neutraliseScriptEnd('a < b && c </ d')).toBe('a < b && c </ d');
  });

  it('escapes & " < > and \'', () => {
    expect(escapeAttribute(`&"<>'x`)).toBe('&amp;&quot;&lt;&gt;&#39;x');
    expect(escapeAttribute('&amp;')).toBe('&amp;amp;');
  });
});

describe('redirect', () => {
  it('sends a relative path without an origin check', () => {
    expect(encodeEvent(redirect('/dashboard'))).toBe(
      scriptEvent('window.location.href=new URL("/dashboard",window.location.href).href'),
    );
    expect(encodeEvent(redirect('next?page=2'))).toBe(
      scriptEvent('window.location.href=new URL("next?page=2",window.location.href).href'),
    );
  });

  it('guards an absolute URL to the same origin', () => {
    expect(encodeEvent(redirect('https://example.com/x'))).toBe(
      scriptEvent(`{const u=new URL("https://example.com/x",window.location.href);${GUARD}window.location.href=u.href}`),
    );
  });

  it('lifts the guard with allowCrossOrigin', () => {
    expect(encodeEvent(redirect('https://example.com/x', { allowCrossOrigin: true }))).toBe(
      scriptEvent('{const u=new URL("https://example.com/x",window.location.href);window.location.href=u.href}'),
    );
  });

  it('lifts the guard only for allowedOrigins that match', () => {
    expect(encodeEvent(redirect('https://auth.example.com/login', { allowedOrigins: ['https://auth.example.com'] }))).toBe(
      scriptEvent('{const u=new URL("https://auth.example.com/login",window.location.href);window.location.href=u.href}'),
    );
    expect(encodeEvent(redirect('https://evil.com/', { allowedOrigins: ['https://auth.example.com'] }))).toBe(
      scriptEvent(`{const u=new URL("https://evil.com/",window.location.href);${GUARD}window.location.href=u.href}`),
    );
    // Same host, other scheme: another origin.
    expect(encodeEvent(redirect('http://auth.example.com/', { allowedOrigins: ['https://auth.example.com'] }))).toContain(GUARD);
  });

  it('guards protocol-relative //evil.com', () => {
    expect(encodeEvent(redirect('//evil.com'))).toBe(
      scriptEvent(`{const u=new URL("//evil.com",window.location.href);${GUARD}window.location.href=u.href}`),
    );
  });

  it('guards /\\evil.com, \\\\evil.com and tab/newline-split variants like protocol-relative URLs', () => {
    for (const url of ['/\\evil.com', '\\\\evil.com', '\\/evil.com', '/\t/evil.com', '/\n/evil.com', '  //evil.com']) {
      expect(encodeEvent(redirect(url))).toBe(
        scriptEvent(`{const u=new URL("//evil.com",window.location.href);${GUARD}window.location.href=u.href}`),
      );
    }
  });

  it('lifts the guard on a protocol-relative URL for an allowed origin', () => {
    expect(encodeEvent(redirect('//evil.com/x', { allowedOrigins: ['https://evil.com'] }))).toBe(
      scriptEvent('{const u=new URL("//evil.com/x",window.location.href);window.location.href=u.href}'),
    );
  });

  it.each([
    ['javascript:alert(1)'],
    ['JaVaScRiPt:alert(1)'],
    ['java\nscript:alert(1)'],
    ['java\r\nscript:alert(1)'],
    ['java\tscript:alert(1)'],
    ['  javascript:alert(1)'],
    ['data:text/html,<script>alert(1)</script>'],
    ['vbscript:msgbox(1)'],
    ['file:///etc/passwd'],
    ['ftp://example.com/'],
    ['mailto:a@b.c'],
    ['java\u0000script:alert(1)'],
    ['\u0001javascript:alert(1)'],
    [''],
    ['   '],
  ])('refuses %p', (url) => {
    expect(() => redirect(url)).toThrow(TypeError);
  });

  it('keeps quotes, backslashes and </script> inside the JSON string literal', () => {
    const sse = encodeEvent(redirect('/search?q="</script><script>alert(1)</script>\'&\\'));
    expectSafeEvent(sse);
    expect(sse).toBe(scriptEvent(
      'window.location.href=new URL("/search?q=\\"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\\u0027\\u0026\\\\",window.location.href).href',
    ));
    const html = elementsOf(sse);
    expect(html.match(/<\/script/gi)).toHaveLength(1);
  });

  it('passes eventId and retryDuration on', () => {
    expect(encodeEvent(redirect('/x', { eventId: 'go', retryDuration: 10 }))).toBe(
      'event: datastar-patch-elements\nid: go\nretry: 10\ndata: selector body\ndata: mode append\n'
      + `data: elements <script${AUTO}>window.location.href=new URL("/x",window.location.href).href</script>\n\n`,
    );
  });
});

describe('consoleLog', () => {
  it.each(CONSOLE_LEVELS.map((l) => [l]))('calls console.%s with JSON', (level) => {
    expect(encodeEvent(consoleLog(level, 'hi'))).toBe(scriptEvent(`console.${level}("hi")`));
  });

  it('writes several values, undefined as null', () => {
    expect(encodeEvent(consoleLog('warn', 'a', 1, { b: true }, [null], undefined))).toBe(
      scriptEvent('console.warn("a",1,{"b":true},[null],null)'),
    );
  });

  it('writes no argument', () => {
    expect(encodeEvent(consoleLog('log'))).toBe(scriptEvent('console.log()'));
  });

  it('keeps hostile strings inside JSON literals', () => {
    expect(encodeEvent(consoleLog('error', '</script><b>"\'&\n\r'))).toBe(
      scriptEvent('console.error("\\u003c/script\\u003e\\u003cb\\u003e\\"\\u0027\\u0026\\n\\r")'),
    );
  });

  it('writes a value JSON cannot represent as null instead of crashing', () => {
    expect(encodeEvent(consoleLog('log', () => 1, Symbol('s')))).toBe(scriptEvent('console.log(null,null)'));
  });

  it.each([['trace'], ['eval'], ['log(1);alert'], ['']])('refuses the level %p', (level) => {
    expect(() => consoleLog(level as ConsoleLevel, 'x')).toThrow(TypeError);
  });
});
