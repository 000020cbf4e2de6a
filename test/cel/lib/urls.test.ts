import { describe, expect, it } from 'vitest';
import { urlsLibrary } from '../../../src/cel/lib/urls.js';
import { evaluator } from './helpers.js';

const cel = evaluator(urlsLibrary);
const PARSE = 'URL parse error during conversion from string: parse';

describe('urls (kube library.URLs)', () => {
  // Cases from k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/validation_test.go
  // (TestValidationExpressions, "URL parsing").
  it('kube’s cases', () => {
    cel.expectTrue(
      [
        "url('/path').getScheme() == ''",
        "url('https://example.com/').getScheme() == 'https'",
        "url('https://example.com:80/').getHost() == 'example.com:80'",
        "url('https://example.com/').getHost() == 'example.com'",
        "url('https://[::1]:80/').getHost() == '[::1]:80'",
        "url('https://[::1]/').getHost() == '[::1]'",
        "url('/path').getHost() == ''",
        "url('https://example.com:80/').getHostname() == 'example.com'",
        "url('https://127.0.0.1/').getHostname() == '127.0.0.1'",
        "url('https://[::1]/').getHostname() == '::1'",
        "url('/path').getHostname() == ''",
        "url('https://example.com:80/').getPort() == '80'",
        "url('https://example.com/').getPort() == ''",
        "url('/path').getPort() == ''",
        "url('https://example.com/path').getEscapedPath() == '/path'",
        "url('https://example.com/with space/').getEscapedPath() == '/with%20space/'",
        "url('https://example.com').getEscapedPath() == ''",
        "url('https://example.com/path?k1=a&k2=b&k2=c').getQuery() == { 'k1': ['a'], 'k2': ['b', 'c']}",
        "url('https://example.com/path?key with spaces=value with spaces').getQuery() == { 'key with spaces': ['value with spaces']}",
        "url('https://example.com/path?').getQuery() == {}",
        "url('https://example.com/path').getQuery() == {}",
        "url(claims.url).getScheme() == 'https'",
        "url(claims.url).getHost() == 'kubernetes.io:80'",
        "url(claims.url).getHostname() == 'kubernetes.io'",
        "url(claims.url).getPort() == '80'",
        "url(claims.url).getEscapedPath() == '/docs/home'",
        "url(claims.url).getQuery() == {'k1': ['a'], 'k2': ['b', 'c']}",
        "isURL('https://user:pass@example.com:80/path?query=val#fragment')",
        "isURL('/path') == true",
        "isURL('https://a:b:c/') == false",
        "isURL('../relative-path') == false",
      ],
      { url: 'https://user:pass@kubernetes.io:80/docs/home?k1=a&k2=b&k2=c#anchor' },
    );
  });

  it('kube’s documented errors (library/urls.go)', () => {
    // Go 1.26's urlstrictcolons: an https host has one colon at most, so the port is ":b:c".
    cel.expectErrors({
      "url('https://a:b:c/')": `${PARSE} "https://a:b:c/": invalid port ":b:c" after host`,
      "url('../relative-path')": `${PARSE} "../relative-path": invalid URI for request`,
      "url('not a url')": `${PARSE} "not a url": invalid URI for request`,
      "url('')": `${PARSE} "": empty url`,
      "url(':foo')": `${PARSE} ":foo": missing protocol scheme`,
    });
    expect(cel.value("url('https://user:pass@example.com:80/path?query=val#fragment').getHost()")).toBe(
      'example.com:80',
    );
  });

  // Go's src/net/url/url_test.go (TestParseRequestURI's parseRequestURLTests), less the
  // three that are not absolute (`*` is valid there: `url('*')` is a URL with path "*").
  it('accepts and refuses as Go’s url.ParseRequestURI', () => {
    const valid = [
      'http://foo.com',
      'http://foo.com/',
      'http://foo.com/path',
      '/',
      '//not.a.user@not.a.host/just/a/path',
      '//not.a.user@%66%6f%6f.com/just/a/path/also',
      '*',
      'http://192.168.0.1/',
      'http://192.168.0.1:8080/',
      'http://[fe80::1]/',
      'http://[fe80::1]:8080/',
      'http://[fe80::1%25en0]/',
      'http://[fe80::1%25en0]:8080/',
      'http://[fe80::1%25%65%6e%301-._~]/',
      'http://[fe80::1%25%65%6e%301-._~]:8080/',
    ];
    const invalid = [
      'foo.html',
      '../dir/',
      ' http://foo.com',
      'http://192.168.0.%31/',
      'http://192.168.0.%31:8080/',
      'http://[fe80::%31]/',
      'http://[fe80::%31]:8080/',
      'http://[fe80::%31%25en0]/',
      'http://[fe80::%31%25en0]:8080/',
      'http://[fe80::1%en0]/',
      'http://[fe80::1%en0]:8080/',
    ];
    for (const u of valid) expect([u, cel.value(`isURL('${u}')`)]).toEqual([u, true]);
    for (const u of invalid) expect([u, cel.value(`isURL('${u}')`)]).toEqual([u, false]);
  });

  it('words errors as Go’s net/url', () => {
    cel.expectErrors({
      "url('http://[::1]:namedport')": `${PARSE} "http://[::1]:namedport": invalid port ":namedport" after host`,
      "url('http://[::1]a')": `${PARSE} "http://[::1]a": invalid port "a" after host`,
      "url('http://a b.com/')": `${PARSE} "http://a b.com/": invalid character " " in host name`,
      "url('http://%41:8080/')": `${PARSE} "http://%41:8080/": invalid URL escape "%41"`,
      "url('http://[1.2.3.4]/')": `${PARSE} "http://[1.2.3.4]/": invalid IP-literal`,
      "url('http://a[::1]/')": `${PARSE} "http://a[::1]/": invalid IP-literal`,
      "url('http://[::1/')": `${PARSE} "http://[::1/": missing ']' in host`,
      "url('http://[zz]/')": `${PARSE} "http://[zz]/": invalid host: ParseAddr("zz"): unable to parse IP`,
      "url('http://a.com/%zz')": `${PARSE} "http://a.com/%zz": invalid URL escape "%zz"`,
      "url('http://a.com/\\x7f')": `${PARSE} "http://a.com/\\x7f": net/url: invalid control character in URL`,
      "url('http://a<b@c.com/')": `${PARSE} "http://a<b@c.com/": net/url: invalid userinfo`,
    });
    // Only http and https hosts keep to one colon; others take the last colon as the port's.
    expect(cel.value("url('foo://a:b:80/').getPort()")).toBe('80');
  });

  it('gives Go’s components', () => {
    cel.expectTrue([
      "url('https://example.com/a%2Fb').getEscapedPath() == '/a%2Fb'", // RawPath is kept
      "url('https://example.com/caf\\u00e9').getEscapedPath() == '/caf%C3%A9'",
      "url('https://%C3%A9.com/').getHost() == '\\u00e9.com'",
      "url('HTTPS://example.com/').getScheme() == 'https'",
      "url('mailto:someone@example.com').getScheme() == 'mailto'", // opaque
      "url('https://x/?a=1&a=2&b').getQuery() == {'a': ['1', '2'], 'b': ['']}",
      "url('https://x/?a=1;b=2&c=3').getQuery() == {'c': ['3']}", // a pair with ; is dropped
      "url('https://x/?a=%zz&b=%41+c').getQuery() == {'b': ['A c']}", // a bad escape is dropped
      "url('https://x/p#frag?x=1').getQuery() == {}", // the fragment is not the query
      "url('https://x/p#frag').getEscapedPath() == '/p'",
      "url('https://[fe80::1%25en0]:8080/').getHostname() == 'fe80::1%en0'",
    ]);
    // Go's default urlmaxqueryparams: a query of more than 10000 pairs is dropped whole.
    const many = Array.from({ length: 10001 }, (_, i) => `k${i}=v`).join('&');
    expect(cel.value(`size(url('https://x/?${many}').getQuery())`)).toBe(0n);
    expect(cel.value(`size(url('https://x/?${many.slice(0, many.lastIndexOf('&'))}').getQuery())`)).toBe(
      10000n,
    );
  });

  it('compares URLs by Go’s String(), and keeps them apart from other values', () => {
    cel.expectTrue([
      "url('https://example.com/x') == url('https://example.com/x')",
      "url('HTTPS://example.com/x') == url('https://example.com/x')",
      "url('https://example.com/%7e') != url('https://example.com/~')",
      "url('https://a.com/x?q') != url('https://a.com/x')",
      "url('https://a.com') in [url('https://b.com'), url('https://a.com')]",
      "url('https://a.com') != 'https://a.com'",
      "type(url('https://a.com')) == type(url('/p'))",
      "type(url('https://a.com')) != map",
    ]);
    expect(cel.run("url('https://a.com').scheme").ok).toBe(false);
    expect(cel.run("url('https://a.com')['scheme']").ok).toBe(false);
    expect(cel.run("{'a': 1}.getScheme()").ok).toBe(false);
  });
});
