import { describe, expect, it } from 'vitest';
import { createPathMatcher, parseGoQuery, parseRequestTarget, pathUnescape } from '../../src/proxy/paths.js';

describe('request paths', () => {
  it('decodes the path as Go does and keeps the raw query', () => {
    expect(parseRequestTarget('/a%20b/%E2%82%AC?x=1&y')).toEqual({ path: '/a b/€', rawQuery: 'x=1&y' });
    expect(parseRequestTarget('/')).toEqual({ path: '/', rawQuery: '' });
    expect(parseRequestTarget('/api/')).toEqual({ path: '/api/', rawQuery: '' });
    expect(parseRequestTarget('/x?/../y')).toEqual({ path: '/x', rawQuery: '/../y' });
  });

  it('refuses non-canonical paths', () => {
    for (const t of [
      '/a/../b',
      '/a/./b',
      '/..',
      '/.',
      '//a',
      '/a//b',
      '/a%2fb',
      '/a%2Fb',
      '/%2e%2e/b',
      '/a%5cb',
      '/a\\b',
      '/a%zz',
      '/a%2',
      '*',
      'http://x/y',
      '',
      '/a%00b',
    ])
      expect(parseRequestTarget(t), t).toBeUndefined();
  });

  it('matches ignore paths exactly or by prefix', () => {
    const ignored = createPathMatcher(['/healthz', '/static/*']);
    expect(ignored('/healthz')).toBe(true);
    expect(ignored('/healthz/')).toBe(false);
    expect(ignored('/healthzz')).toBe(false);
    expect(ignored('/static/')).toBe(true);
    expect(ignored('/static/a/b.js')).toBe(true);
    expect(ignored('/static')).toBe(false);
    expect(createPathMatcher([])('/healthz')).toBe(false);
    expect(() => createPathMatcher(['healthz'])).toThrow(/must start with \//);
    expect(() => createPathMatcher(['/a*/b'])).toThrow(/only at the end/);
  });

  it('parses a query as url.ParseQuery does', () => {
    const q = parseGoQuery('ns=a&ns=b%20c&x=1+2&bad=%zz&semi=1;2&&flag&=v');
    expect(q.get('ns')).toEqual(['a', 'b c']);
    expect(q.get('x')).toEqual(['1 2']);
    expect(q.has('bad')).toBe(false);
    expect(q.has('semi')).toBe(false);
    expect(q.get('flag')).toEqual(['']);
    expect(q.get('')).toEqual(['v']);
  });

  it('path-unescapes as url.PathUnescape does', () => {
    expect(pathUnescape('a%2Fb+c')).toBe('a/b+c');
    expect(pathUnescape('%zz')).toBeUndefined();
  });
});
