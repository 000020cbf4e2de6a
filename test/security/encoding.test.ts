import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/clock.js';
import { MAX_TOKEN_LENGTH } from '../../src/authn/jwt/gate.js';
import { signCompact } from '../../src/dev/sign.js';
import { Attacker, BAD_SIGNATURE, INVALID } from '../helpers/attack.js';
import { rsaKey } from '../helpers/keys.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import {
  b64url,
  boundClaims,
  headerJson,
  jsonWithRaw,
  NOW_MS,
  rawToken,
  segments,
} from '../helpers/tokens.js';

/**
 * RFC 7515 §2, §5.2: one token, many spellings, and JSON
 * that different readers read differently, sent as TokenReviews to the real service.
 * Every forged token here is signed by the issuer's own key, so that only the check
 * under test can refuse it.
 */

const key = rsaKey();
let server: TestServer;
const attack = new Attacker(() => server);

beforeAll(async () => {
  server = await startTestServer({ clock: manualClock(NOW_MS), keys: [key] });
});
afterAll(() => server.close());
afterEach(() => attack.stillServing());

const claimsJson = JSON.stringify(boundClaims());
/** A valid token with the given header and payload texts, signed by the issuer key. */
const signed = (header: string, payload: string) => rawToken(header, payload, key);
const good = signed(headerJson(key), claimsJson);

/** `token` with segment `i` passed through `f`. */
function respell(token: string, i: 0 | 1 | 2, f: (segment: string) => string): string {
  const parts = segments(token);
  parts[i] = f(parts[i]);
  return parts.join('.');
}

/**
 * A valid token whose chosen segment contains both `-` and `_`. Base64 of ASCII text
 * holds them only where a byte such as `~` or `?` ends a 3-byte group, so such bytes are
 * put into the header and a claim at every alignment.
 */
function tokenWithUrlSafeCharacters(i: 0 | 1 | 2): string {
  for (let n = 0; n < 100; n++) {
    const odd = `${'.'.repeat(n % 3)}~?~?~?~?${n}`;
    const t = signed(headerJson(key, { x: odd }), JSON.stringify(boundClaims({ jti: odd })));
    const s = segments(t)[i];
    if (s.includes('-') && s.includes('_')) return t;
  }
  throw new Error('no token with both - and _ found');
}

/** A valid token whose payload segment length is not a multiple of 4 (it has unused bits). */
function tokenWithPayloadTail(): string {
  for (let n = 0; ; n++) {
    const t = signed(headerJson(key), JSON.stringify(boundClaims({ jti: 'j'.repeat(n) })));
    if (segments(t)[1].length % 4 !== 0) return t;
  }
}

describe('non-canonical base64url', () => {
  it('accepts the canonical spelling it starts from', async () => {
    await attack.accepted(good);
  });

  for (const [i, name] of [
    [0, 'header'],
    [1, 'payload'],
    [2, 'signature'],
  ] as const) {
    it.each([
      ['= padding', (s: string) => `${s}=`],
      ['== padding', (s: string) => `${s}==`],
      ['a ? inside', (s: string) => `${s.slice(0, 4)}?${s.slice(4)}`],
      ['a tab inside', (s: string) => `${s.slice(0, 4)}\t${s.slice(4)}`],
      ['a newline inside', (s: string) => `${s.slice(0, 4)}\n${s.slice(4)}`],
      ['a CR LF inside', (s: string) => `${s.slice(0, 4)}\r\n${s.slice(4)}`],
      [
        'a character shifted by 0x100',
        (s: string) => `${String.fromCharCode(s.charCodeAt(0) + 0x100)}${s.slice(1)}`,
      ],
      [
        'a fullwidth character',
        (s: string) => `${String.fromCharCode(s.charCodeAt(0) - 0x20 + 0xff00)}${s.slice(1)}`,
      ],
      [
        'a character shifted by 0x10000',
        (s: string) => `${String.fromCodePoint(s.charCodeAt(0) + 0x10000)}${s.slice(1)}`,
      ],
      [
        'every character shifted by 0x100',
        (s: string) => [...s].map((c) => String.fromCharCode(c.charCodeAt(0) + 0x100)).join(''),
      ],
    ])(`refuses a ${name} segment with %s`, async (_how, f) => {
      await attack.refused(respell(good, i, f), INVALID);
    });

    it(`refuses a ${name} segment spelled with + and / for - and _`, async () => {
      const t = tokenWithUrlSafeCharacters(i);
      await attack.accepted(t);
      await attack.refused(
        respell(t, i, (s) => s.replace(/-/g, '+').replace(/_/g, '/')),
        INVALID,
      );
      await attack.refused(
        respell(t, i, (s) => s.replace('-', '+')),
        INVALID,
      );
      await attack.refused(
        respell(t, i, (s) => s.replace('_', '/')),
        INVALID,
      );
    });
  }

  it('refuses a token every one of whose characters is shifted by 0x100 (finding 6)', async () => {
    await attack.refused(
      [...good].map((c) => String.fromCharCode(c.charCodeAt(0) + 0x100)).join(''),
      INVALID,
    );
  });

  it('refuses each segment cut by a space, as kube reads only the first word', async () => {
    const cut = (s: string) => `${s.slice(0, 4)} ${s.slice(4)}`;
    await attack.refused(respell(good, 0, cut), INVALID);
    await attack.refused(respell(good, 1, cut), INVALID);
    await attack.refused(respell(good, 2, cut), BAD_SIGNATURE);
  });

  it('refuses non-zero unused bits in the last character of the payload and the signature', async () => {
    // A 2-character tail carries 4 unused bits, a 3-character tail 2: set the lowest one.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const bumped = (s: string) => `${s.slice(0, -1)}${alphabet[alphabet.indexOf(s.at(-1)!) | 1]}`;
    const t = tokenWithPayloadTail();
    await attack.accepted(t);
    // The signature covers the segment as spelled, so it no longer verifies (kube's answer too).
    await attack.refused(respell(t, 1, bumped), BAD_SIGNATURE);
    // An RSA-2048 signature is 256 bytes: 342 characters, 4 unused bits. Go would decode
    // this spelling to the same bytes and verify it; refusing it is stricter on purpose.
    expect(segments(t)[2].length % 4).toBe(2);
    await attack.refused(respell(t, 2, bumped), BAD_SIGNATURE);
  });
});

describe('white space around the token, read as kube reads a bearer token', () => {
  // kube-apiserver reviews `Authorization: Bearer <token>` after strings.TrimSpace and
  // takes the first space-separated word: Go's unicode.IsSpace decides what is trimmed.
  it.each([
    ['a space', ' '],
    ['a tab', '\t'],
    ['a newline', '\n'],
    ['CR LF', '\r\n'],
    ['a vertical tab', '\v'],
    ['a form feed', '\f'],
    ['a no-break space (U+00A0)', '\u00a0'],
    ['a next line (U+0085)', '\u0085'],
    ['a line separator (U+2028)', '\u2028'],
    ['an ideographic space (U+3000)', '\u3000'],
  ])('accepts a valid token followed by %s, as kube trims it', async (_name, ws) => {
    await attack.accepted(`${good}${ws}`);
  });

  it('refuses a valid token followed by a zero-width no-break space (U+FEFF), which Go does not trim (finding 7)', async () => {
    await attack.refused(`${good}\ufeff`, INVALID);
  });

  it('refuses a valid token led by a space: kube sees an empty credential', async () => {
    await attack.refused(` ${good}`, INVALID);
  });

  it('reads only the first space-separated word: a trailing " x" is dropped, an inner space truncates', async () => {
    await attack.accepted(`${good} garbage`);
    await attack.refused(`${good.slice(0, 50)} ${good.slice(50)}`, INVALID);
  });
});

describe('segment counts and serializations', () => {
  const [h, p, s] = segments(good);
  it.each([
    ['two segments', `${h}.${p}`],
    ['four segments', `${h}.${p}.${s}.${s}`],
    ['six segments', `${h}.${p}.${s}.${h}.${p}.${s}`],
    ['an empty header', `.${p}.${s}`],
    ['an empty payload', `${h}..${s}`],
    ['only dots', '...'],
    ['a dot too many at the end', `${good}.`],
    ['a leading dot', `.${good}`],
    ['16 KiB of dots', '.'.repeat(MAX_TOKEN_LENGTH + 1)],
    [
      'a token one byte over 16 KiB',
      signed(
        headerJson(key),
        jsonWithRaw(boundClaims(), { pad: JSON.stringify('x'.repeat(MAX_TOKEN_LENGTH)) }),
      ).slice(0, MAX_TOKEN_LENGTH + 1),
    ],
    ['a flattened JWS JSON serialization', JSON.stringify({ protected: h, payload: p, signature: s })],
    [
      'a general JWS JSON serialization',
      JSON.stringify({ payload: p, signatures: [{ protected: h, signature: s }] }),
    ],
    [
      "kube's split differential: JWS JSON with a member that looks like a trusted payload",
      JSON.stringify({ payload: p, signatures: [{ protected: h, signature: s }], [`.${p}.`]: '' }),
    ],
  ])('refuses %s', async (_name, token) => {
    await attack.refused(token, INVALID);
  });
});

describe('JWE and nested JWTs', () => {
  it.each([
    ['dir with A256GCM', { alg: 'dir', enc: 'A256GCM' }],
    ['RSA-OAEP with A128CBC-HS256', { alg: 'RSA-OAEP', enc: 'A128CBC-HS256', kid: key.kid }],
  ])('refuses a five-part JWE (%s)', async (_name, header) => {
    const jwe = [
      b64url(JSON.stringify(header)),
      b64url('k'.repeat(32)),
      b64url('iv'),
      segments(good)[1],
      b64url('tag'),
    ];
    await attack.refused(jwe.join('.'), INVALID);
  });

  it('refuses a signed JWT whose payload is another valid JWT (cty: JWT)', async () => {
    await attack.refused(signed(headerJson(key, { cty: 'JWT' }), JSON.stringify(good)), INVALID);
  });

  it.each([
    ['zip: DEF', { zip: 'DEF' }],
    ['enc', { enc: 'A256GCM' }],
  ])('refuses a signed token whose header carries %s', async (_name, extra) => {
    await attack.refused(signed(headerJson(key, extra), claimsJson), INVALID);
  });
});

describe('crit and b64', () => {
  it.each([
    ['an unknown name', ['https://example.com/ext']],
    ['an empty list', []],
    ['alg', ['alg']],
    ['a string', 'b64'],
    ['a name absent from the header', ['exp']],
    ['a name present in the header', ['kid']],
    ['a duplicated name', ['kid', 'kid']],
  ])('refuses a validly signed token whose crit is %s', async (_name, crit) => {
    await attack.refused(signed(headerJson(key, { crit }), claimsJson), BAD_SIGNATURE);
  });

  it('refuses b64 in the header, with and without crit, whichever payload spelling is signed', async () => {
    for (const extra of [{ b64: false, crit: ['b64'] }, { b64: false }, { b64: true }]) {
      const header = headerJson(key, extra);
      await attack.refused(signed(header, claimsJson), INVALID);
      // RFC 7797: with b64 false the signature covers the payload bytes as they are.
      const unencoded = signCompact('RS256', `${b64url(header)}.${claimsJson}`, key.privateKey);
      await attack.refused(
        `${b64url(header)}.${b64url(claimsJson)}.${unencoded.slice(unencoded.lastIndexOf('.') + 1)}`,
        INVALID,
      );
    }
  });
});

describe('duplicate members and JSON shapes', () => {
  const body = claimsJson.slice(1, -1);
  it.each([
    ['two alg members, none first', `{"alg":"none","alg":"RS256","kid":"${key.kid}"}`],
    ['two alg members, none last', `{"alg":"RS256","alg":"none","kid":"${key.kid}"}`],
    ['two kid members', `{"alg":"RS256","kid":"other","kid":"${key.kid}"}`],
    ['a duplicate spelled with an escape', `{"alg":"RS256","\\u0061lg":"RS256","kid":"${key.kid}"}`],
    ['an array', `[${headerJson(key)}]`],
    ['a string', JSON.stringify(headerJson(key))],
    ['a number', '256'],
    ['null', 'null'],
    ['a byte order mark', `\ufeff${headerJson(key)}`],
    ['trailing bytes', `${headerJson(key)}x`],
    ['a lone surrogate escape in kid', `{"alg":"RS256","kid":"\\ud800"}`],
  ])('refuses a signed token whose header is %s', async (_name, header) => {
    await attack.refused(signed(header, claimsJson), INVALID);
  });

  it.each([
    ['two sub members', `{"sub":"system:serviceaccount:kube-system:admin",${body}}`, 'sub'],
    ['two iss members', `{${body},"iss":"${'https://kubernetes.default.svc.cluster.local'}"}`, 'iss'],
    ['two kubernetes.io members', `{"kubernetes.io":{"namespace":"kube-system"},${body}}`, 'kubernetes.io'],
    [
      'two namespace members inside kubernetes.io',
      claimsJson.replace('"namespace":"ns1"', '"namespace":"ns1","namespace":"kube-system"'),
      'namespace',
    ],
  ])('refuses a signed token whose payload has %s, as go-jose does', async (_name, payload, member) => {
    await attack.refused(
      signed(headerJson(key), payload),
      `[invalid bearer token, json: duplicate key '${member}' in object]`,
    );
  });

  it.each([
    ['an array', `[${claimsJson}]`],
    ['a string', JSON.stringify(claimsJson)],
    ['null', 'null'],
    ['a byte order mark', `\ufeff${claimsJson}`],
    ['trailing bytes', `${claimsJson} 1`],
    ['an escaped lone surrogate in sub', claimsJson.replace('"sub":"', '"sub":"\\udc00')],
    ['an escaped lone surrogate in iss', claimsJson.replace('"iss":"', '"iss":"\\ud800')],
  ])('refuses a signed token whose payload is %s', async (_name, payload) => {
    await attack.refused(signed(headerJson(key), payload), INVALID);
  });

  it('refuses payload bytes that are not UTF-8: an overlong "/", a lone 0xFF, UTF-16', async () => {
    const header = b64url(headerJson(key));
    for (const bytes of [
      Buffer.concat([
        Buffer.from(claimsJson.slice(0, -1)),
        Buffer.from(',"x":"'),
        Buffer.from([0xc0, 0xaf]),
        Buffer.from('"}'),
      ]),
      Buffer.concat([
        Buffer.from(claimsJson.slice(0, -1)),
        Buffer.from(',"x":"'),
        Buffer.from([0xff]),
        Buffer.from('"}'),
      ]),
      Buffer.from(claimsJson, 'utf16le'),
    ]) {
      await attack.refused(signCompact('RS256', `${header}.${b64url(bytes)}`, key.privateKey), INVALID);
    }
  });

  it('reads an escaped alg as the algorithm it spells', async () => {
    await attack.accepted(signed(`{"alg":"RS\\u0032\\u0035\\u0036","kid":"${key.kid}"}`, claimsJson));
  });
});

describe('deep nesting and prototype keys', () => {
  it('refuses a claim nested thousands of levels deep, within the size cap', async () => {
    const deep = '['.repeat(6000) + ']'.repeat(6000);
    await attack.refused(signed(headerJson(key), jsonWithRaw(boundClaims(), { deep })), INVALID);
  });

  it('answers a TokenReview body nested 60,000 levels deep with 400', async () => {
    const res = await server.request({
      method: 'POST',
      path: '/apis/authentication.k8s.io/v1/tokenreviews',
      headers: { 'content-type': 'application/json' },
      body: `{"spec":{"token":"x","audiences":${'['.repeat(60_000)}${']'.repeat(60_000)}}}`,
    });
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ kind: 'Status', code: 400 });
  });

  it('treats __proto__, constructor and prototype claims as data', async () => {
    const payload = claimsJson
      .replace('{', '{"__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}},')
      .replace('"namespace":"ns1"', '"__proto__":{"namespace":"kube-system"},"namespace":"ns1"');
    const status = await attack.accepted(signed(headerJson(key), payload));
    expect(status.user.username).toBe('system:serviceaccount:ns1:app');
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(({} as Record<string, unknown>).namespace).toBeUndefined();
  });
});
