import { getRequestListener } from '@hono/node-server';
import fc from 'fast-check';
import { Hono } from 'hono';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReviewPaths, reviewRoutes, routedPath, type MatchedReview } from '../../src/http/review-routes.js';
import { sharedTls } from '../helpers/tls.js';

const TOKENS = '/apis/authentication.k8s.io/v1/tokenreviews';
const LOCAL = (ns: string) => `/apis/authorization.k8s.io/v1/namespaces/${ns}/localsubjectaccessreviews`;

/** What routing a request came to: ours beside what a hono app with the same routes made of it. */
interface Routed {
  readonly ours: { path: string; matched?: { pattern: string; namespace: string } } | 'refused';
  /** The listener's `ReviewPaths.route` of the same request. */
  readonly route: { pattern: string; namespace: string } | undefined;
  /** The hono app's route and `:namespace`, `null` for its 404; undefined when it never ran (a 400 before routing). */
  readonly hono?: { route: string; namespace: string; path: string } | null;
  readonly status: number;
}

const paths = new ReviewPaths(reviewRoutes(true));
let server: Server;
let ca: string;
let ours: Routed['ours'] | undefined;
let oursRoute: ReturnType<typeof describeMatch>;

function describeMatch(m: MatchedReview | undefined) {
  return m ? { pattern: m.route.pattern, namespace: m.namespace } : undefined;
}

beforeAll(async () => {
  // The app the review listener stands in front of, reduced to its routing: each review
  // route answers with the route it matched and its namespace parameter.
  const app = new Hono();
  for (const r of reviewRoutes(true))
    app.all(r.pattern, (c) =>
      c.json({ route: c.req.routePath, namespace: c.req.param('namespace') ?? '', path: c.req.path }),
    );
  app.notFound((c) => c.json(null, 404));
  const hono = getRequestListener(app.fetch);
  const tls = await sharedTls();
  ca = tls.ca;
  server = createServer({ cert: tls.cert, key: tls.key }, (req: IncomingMessage, res) => {
    const path = routedPath(req);
    ours = path === undefined ? 'refused' : { path, matched: describeMatch(paths.match(path)) };
    // What the listener uses: the same route, through its shortcut for a target that is a review path.
    oursRoute = describeMatch(paths.route(req));
    void hono(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
});

afterAll(() => {
  server.close();
});

/** Sends one request with exactly this target and Host line (none when null), on its own connection. */
async function route(target: string, host: string | null = 'localhost'): Promise<Routed> {
  ours = undefined;
  const socket = connect({
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    ca,
    servername: 'localhost',
  });
  await once(socket, 'secureConnect');
  socket.write(`GET ${target} HTTP/1.0\r\n${host === null ? '' : `Host: ${host}\r\n`}\r\n`, 'latin1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'end');
  socket.destroy();
  const text = Buffer.concat(chunks).toString('utf8');
  const status = Number(text.slice(9, 12));
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  const seen = ours;
  if (seen === undefined) throw new Error(`the listener never ran for ${target}: ${text.slice(0, 40)}`);
  return {
    ours: seen,
    route: oursRoute,
    status,
    ...(body === '' ? {} : { hono: JSON.parse(body) as Routed['hono'] }),
  };
}

/** Ours and the app's routing agree: same route, same namespace and path, or both refuse. */
function expectSameRouting(r: Routed): void {
  expect(r.route).toEqual(r.ours === 'refused' ? undefined : r.ours.matched);
  if (r.ours === 'refused') {
    expect(r.status).toBe(400);
    expect(r.hono).toBeUndefined();
    return;
  }
  if (r.ours.matched === undefined) {
    expect(r.hono).toBeNull();
    return;
  }
  expect(r.hono).toEqual({
    route: r.ours.matched.pattern,
    namespace: r.ours.matched.namespace,
    path: r.ours.path,
  });
}

describe('routedPath and ReviewPaths (the review listener routes as the hono app would)', () => {
  it('matches the review paths exactly, ignoring the query', async () => {
    for (const target of [
      TOKENS,
      `${TOKENS}?timeout=30s`,
      `${TOKENS}?x=%zz&y=/../`,
      TOKENS.replace('v1', 'v1beta1'),
    ]) {
      const r = await route(target);
      expect(r.ours).not.toBe('refused');
      expect(r.ours !== 'refused' && r.ours.matched).toBeTruthy();
      expectSameRouting(r);
    }
  });

  it('does not take a trailing slash, a doubled slash or another case as a review path', async () => {
    for (const target of [
      `${TOKENS}/`,
      `${TOKENS}//`,
      `/${TOKENS}`,
      TOKENS.toUpperCase(),
      `${LOCAL('a')}/`,
    ]) {
      const r = await route(target);
      expect(r.ours !== 'refused' && r.ours.matched).toBeUndefined();
      expectSameRouting(r);
    }
  });

  it('decodes percent-escapes and resolves dot segments as the URL parser and hono do', async () => {
    for (const target of [
      '/apis/authentication.k8s.io/v1/token%72eviews',
      '/apis/x/../authentication.k8s.io/v1/tokenreviews',
      '/apis/./authentication.k8s.io/v1/tokenreviews',
      '/apis/%2e%2e/apis/authentication.k8s.io/v1/tokenreviews',
    ]) {
      const r = await route(target);
      expect(r.ours !== 'refused' && r.ours.matched?.pattern).toBe(TOKENS);
      expectSameRouting(r);
    }
    const slash = await route(`${TOKENS}%2F`);
    expect(slash.ours !== 'refused' && slash.ours.matched).toBeUndefined();
    expectSameRouting(slash);
  });

  it("decodes a LocalSubjectAccessReview's namespace segment as hono's :namespace parameter", async () => {
    const cases: [string, string][] = [
      ['team-a', 'team-a'],
      ['te%61m', 'team'],
      ['a%2Fb', 'a/b'],
      ['a%25b', 'a%b'],
      ['a%zzb', 'a%zzb'],
      ['a%C3%A9b', 'a\u00e9b'],
      ['a+b', 'a+b'],
    ];
    for (const [segment, namespace] of cases) {
      const r = await route(LOCAL(segment));
      expect(r.ours !== 'refused' && r.ours.matched?.namespace).toBe(namespace);
      expectSameRouting(r);
    }
    const empty = await route(LOCAL(''));
    expect(empty.ours !== 'refused' && empty.ours.matched).toBeUndefined();
    expectSameRouting(empty);
  });

  it('leaves a request the app refuses before routing to the app: a backslash, no or a malformed Host', async () => {
    for (const [target, host] of [
      [`${TOKENS}\\`, 'localhost'],
      [TOKENS, null],
      [TOKENS, 'bad host'],
      [TOKENS, 'a@b'],
      [TOKENS, 'localhost/x'],
    ] as const) {
      const r = await route(target, host);
      expect(r.ours).toBe('refused');
      expectSameRouting(r);
    }
  });

  it('checks every request’s Host on its own, whichever Host the request before it named', async () => {
    for (const [host, refused] of [
      ['localhost', false],
      ['localhost/x', true],
      ['localhost', false],
      ['127.0.0.1:8443', false],
      ['localhost', false],
      ['bad host', true],
      ['bad host', true],
      ['127.0.0.1:8443', false],
    ] as const) {
      const r = await route(TOKENS, host);
      expect(r.ours === 'refused', host).toBe(refused);
      expectSameRouting(r);
    }
  });

  it('routes an absolute-form target by its own path, whatever the Host header says', async () => {
    const r = await route(`https://elsewhere.example${TOKENS}`, 'bad host');
    expect(r.ours !== 'refused' && r.ours.matched?.pattern).toBe(TOKENS);
    expectSameRouting(r);
  });

  it('agrees with the app on any target made of the characters that matter to routing (property)', async () => {
    const piece = fc.constantFrom(
      '/',
      '.',
      '..',
      '%',
      '%2',
      '%2F',
      '%2f',
      '%2e',
      '%25',
      '%72',
      '%C3%A9',
      '?',
      '#',
      '\\',
      ';',
      ':',
      '@',
      '+',
      '~',
      "'",
      '*',
      '^',
      '|',
      '`',
      '{',
      '"',
      'a',
      'namespaces',
      'tokenreviews',
      'localsubjectaccessreviews',
    );
    const prefix = fc.constantFrom(
      TOKENS,
      LOCAL('x'),
      '/apis/authorization.k8s.io/v1/namespaces/',
      '/apis/authentication.k8s.io/v1/',
      '/',
    );
    await fc.assert(
      fc.asyncProperty(prefix, fc.array(piece, { maxLength: 6 }), async (start, rest) => {
        expectSameRouting(await route(start + rest.join('')));
      }),
      { numRuns: 150 },
    );
  });
});
