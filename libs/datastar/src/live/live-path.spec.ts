import { compileRoute, matchRoute, safeLocalPath } from './live-path';

describe('safeLocalPath', () => {
  it.each([
    ['/live/b', '/live/b'],
    ['/live/b?x=1&y=2', '/live/b?x=1&y=2'],
    ['/live/b#top', '/live/b'],
    ['/live/./a/../b', '/live/b'],
    ['/live/%2F%2Fevil.com', '/live/%2F%2Fevil.com'],
    ['/a b', '/a%20b'],
    ['/', '/'],
  ])('accepts %j as %j', (input, expected) => {
    expect(safeLocalPath(input)).toBe(expected);
  });

  it.each([
    'javascript:alert(1)', 'JaVaScRiPt:alert(1)', ' /live/b', 'live/b', 'https://evil.com/live/b', 'data:text/html,x',
    '//evil.com', '///evil.com', '/\\evil.com', '\\\\evil.com', '/..//evil.com', '/a/../..//evil.com',
    '/live\r\nSet-Cookie: x=1', '/live\nb', '/live\tb', '/live\u0000', '/live\u007f', '', 'x'.repeat(3000),
    undefined, null, 42, {}, ['/live/b'],
  ])('refuses %j', (input) => {
    expect(safeLocalPath(input)).toBeUndefined();
  });
});

describe('live routes', () => {
  it('compiles literal and :param segments, refuses the rest', () => {
    expect(compileRoute('/live/users/:id/')?.pattern).toBe('/live/users/:id');
    expect(compileRoute('/')?.segments).toEqual([]);
    for (const bad of ['live', '/live/*', '/live/(.*)', '/live/_event', '/a//b', '/a b', '/live/:']) {
      expect(compileRoute(bad)).toBeUndefined();
    }
  });

  it('matches concrete paths and decodes params', () => {
    const route = compileRoute('/live/users/:id')!;
    expect(matchRoute(route, '/live/users/a%20b')).toEqual({ id: 'a b' });
    expect(matchRoute(route, '/live/users')).toBeUndefined();
    expect(matchRoute(route, '/live/users/1/2')).toBeUndefined();
    expect(matchRoute(route, '/live/other/1')).toBeUndefined();
    expect(matchRoute(route, '/live/users/%E0%A4%A')).toBeUndefined();
    expect(matchRoute(compileRoute('/')!, '/')).toEqual({});
  });
});
