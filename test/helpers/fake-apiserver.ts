import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createCertificateAuthority, issueCertificate } from '../../src/dev/certs.js';
import { writeFile } from './files.js';

/** A minimal Kubernetes object as the fake apiserver stores it. */
export interface FakeObject {
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly uid: string;
    readonly deletionTimestamp?: string;
    readonly labels?: Record<string, string>;
    resourceVersion?: string;
  };
  readonly data?: Record<string, string>;
  /** Any other fields: an RBAC object's rules, roleRef, subjects, aggregationRule. */
  readonly [field: string]: unknown;
}

interface Resource {
  readonly objects: Map<string, FakeObject>;
  readonly watchers: Set<ServerResponse>;
  /** Every event so far, so a watch from a resourceVersion replays what it missed, as an apiserver does. */
  readonly history: Array<{ readonly rv: number; readonly line: string }>;
}

/**
 * A loopback HTTPS server speaking the part of the Kubernetes list/watch API that
 * client-node's ListWatch uses (`GET /api/v1/<resource>` and
 * `/apis/rbac.authorization.k8s.io/v1/<resource>`, `?watch=true` streams of
 * watch events, `410 Gone` as an ERROR event), so live mode runs its real client against it.
 */
/** How a review endpoint answers one POST: an HTTP status and JSON body, or no answer at all. */
export type ReviewAnswer = { readonly code: number; readonly body?: unknown } | 'hang';

/** A review endpoint's handler, given the parsed body the client POSTed. */
export type ReviewHandler = (
  body: { spec?: Record<string, unknown> } & Record<string, unknown>,
) => ReviewAnswer;

export interface FakeApiserver {
  /** A kubeconfig file (in `dir`) for this server, with its CA and a bearer token. */
  readonly kubeconfig: string;
  readonly lists: Map<string, number>;
  put(resource: string, obj: FakeObject): void;
  remove(resource: string, namespace: string, name: string): void;
  /** Ends every watch of `resource` with a 410 Gone ERROR event, as an apiserver does when its history is compacted. */
  expireWatches(resource: string): void;
  /** Answers lists and watches of `resource` with HTTP 500 until called with false. */
  fail(resource: string, failing: boolean): void;
  /**
   * Serves kube-apiserver's service-account issuer discovery: `/.well-known/openid-configuration`
   * naming `issuer` (its jwks_uri on the issuer's own host, as kube writes it) and `/openid/v1/jwks`.
   */
  serveIssuer(issuer: string, jwks: string): void;
  /** Requests received per path. */
  readonly hits: Map<string, number>;
  /** While on, every connection is cut as it opens: the apiserver is unreachable. */
  unreachable(on: boolean): void;
  /**
   * A slow apiserver: every request from now on waits, unanswered, until the returned
   * function is called (watches already streaming keep streaming).
   */
  hold(): () => void;
  /** Requests waiting on hold(). */
  heldRequests(): number;
  /**
   * Every body POSTed to `tokenreviews` (authentication.k8s.io/v1) or `subjectaccessreviews`
   * (authorization.k8s.io/v1), in order; each is answered by the handler `answerReviews` set (404 without one).
   */
  readonly reviews: { readonly tokenreviews: unknown[]; readonly subjectaccessreviews: unknown[] };
  answerReviews(resource: 'tokenreviews' | 'subjectaccessreviews', handler: ReviewHandler): void;
  close(): Promise<void>;
}

export async function startFakeApiserver(dir: string): Promise<FakeApiserver> {
  const ca = await createCertificateAuthority('fake-apiserver-ca');
  const leaf = await issueCertificate(ca, { commonName: 'fake-apiserver', ipAddresses: ['127.0.0.1'] });
  const resources = new Map<string, Resource>();
  const failing = new Set<string>();
  const lists = new Map<string, number>();
  const hits = new Map<string, number>();
  let oidc: { readonly issuer: string; readonly jwks: string } | undefined;
  let cutting = false;
  let held: Array<() => void> | undefined;
  let rv = 1;
  const resource = (name: string): Resource => {
    let r = resources.get(name);
    if (!r) resources.set(name, (r = { objects: new Map(), watchers: new Set(), history: [] }));
    return r;
  };
  const keyOf = (ns: string | undefined, name: string): string => `${ns ?? ''}/${name}`;
  const send = (kind: string, obj: FakeObject, r: Resource): void => {
    const line = `${JSON.stringify({ type: kind, object: obj })}\n`;
    r.history.push({ rv: Number(obj.metadata.resourceVersion), line });
    for (const w of r.watchers) w.write(line);
  };

  const reviews = { tokenreviews: [] as unknown[], subjectaccessreviews: [] as unknown[] };
  const reviewHandlers = new Map<string, ReviewHandler>();
  const answerReview = (
    name: 'tokenreviews' | 'subjectaccessreviews',
    req: IncomingMessage,
    res: ServerResponse,
  ): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Parameters<ReviewHandler>[0];
      reviews[name].push(body);
      const handler = reviewHandlers.get(name);
      const answer = handler ? handler(body) : { code: 404 };
      if (answer === 'hang') return;
      res
        .writeHead(answer.code, { 'content-type': 'application/json' })
        .end(JSON.stringify(answer.body ?? {}));
    });
  };

  const answer = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    const review =
      /^\/apis\/(?:authentication\.k8s\.io\/v1\/(tokenreviews)|authorization\.k8s\.io\/v1\/(subjectaccessreviews))$/.exec(
        url.pathname,
      );
    if (review && req.method === 'POST' && req.headers.authorization === 'Bearer fake-apiserver-token') {
      answerReview(review[1] ? 'tokenreviews' : 'subjectaccessreviews', req, res);
      return;
    }
    if (oidc && req.headers.authorization === 'Bearer fake-apiserver-token') {
      const json = { 'content-type': 'application/json' };
      if (url.pathname === '/.well-known/openid-configuration') {
        res.writeHead(200, json).end(
          JSON.stringify({
            issuer: oidc.issuer,
            jwks_uri: `${oidc.issuer}/openid/v1/jwks`,
            response_types_supported: ['id_token'],
            subject_types_supported: ['public'],
            id_token_signing_alg_values_supported: ['RS256'],
          }),
        );
        return;
      }
      if (url.pathname === '/openid/v1/jwks') {
        res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(oidc.jwks);
        return;
      }
    }
    const m = /^\/(?:api\/v1|apis\/rbac\.authorization\.k8s\.io\/v1)\/([a-z]+)$/.exec(url.pathname);
    if (req.headers.authorization !== 'Bearer fake-apiserver-token' || !m) {
      res.writeHead(m ? 401 : 404).end();
      return;
    }
    const name = m[1]!;
    if (failing.has(name)) {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"kind":"Status","code":500}');
      return;
    }
    const r = resource(name);
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      const from = Number(url.searchParams.get('resourceVersion') ?? '0');
      for (const e of r.history) if (e.rv > from) res.write(e.line);
      r.watchers.add(res);
      res.on('close', () => r.watchers.delete(res));
      return;
    }
    lists.set(name, (lists.get(name) ?? 0) + 1);
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        kind: 'List',
        apiVersion: 'v1',
        metadata: { resourceVersion: String(rv) },
        items: [...r.objects.values()],
      }),
    );
  };
  const server: Server = createServer({ key: leaf.key, cert: leaf.cert }, (req, res) => {
    if (held) held.push(() => answer(req, res));
    else answer(req, res);
  });
  // Every socket, TLS handshakes included: close() must not wait for a client's keep-alive pool.
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    if (cutting) return s.destroy();
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const kubeconfig = writeFile(
    dir,
    'kubeconfig',
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'fake',
          cluster: {
            server: `https://127.0.0.1:${port}`,
            'certificate-authority-data': Buffer.from(ca.cert).toString('base64'),
          },
        },
      ],
      users: [{ name: 'fake', user: { token: 'fake-apiserver-token' } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake' } }],
      'current-context': 'fake',
    }),
  );

  return {
    kubeconfig,
    lists,
    hits,
    serveIssuer(issuer, jwks) {
      oidc = { issuer, jwks };
    },
    unreachable(on) {
      cutting = on;
      if (on) for (const s of sockets) s.destroy();
    },
    heldRequests: () => held?.length ?? 0,
    hold() {
      const waiting: Array<() => void> = (held = []);
      return () => {
        if (held === waiting) held = undefined;
        for (const go of waiting) go();
      };
    },
    put(name, obj) {
      const r = resource(name);
      const k = keyOf(obj.metadata.namespace, obj.metadata.name);
      const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++rv) } };
      const kind = r.objects.has(k) ? 'MODIFIED' : 'ADDED';
      r.objects.set(k, stored);
      send(kind, stored, r);
    },
    remove(name, namespace, objName) {
      const r = resource(name);
      const k = keyOf(namespace || undefined, objName);
      const obj = r.objects.get(k);
      if (!obj) return;
      r.objects.delete(k);
      send('DELETED', { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++rv) } }, r);
    },
    expireWatches(name) {
      const r = resource(name);
      for (const w of r.watchers) {
        w.end(
          `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } })}\n`,
        );
      }
      r.watchers.clear();
    },
    reviews,
    answerReviews(name, handler) {
      reviewHandlers.set(name, handler);
    },
    fail(name, on) {
      if (on) {
        failing.add(name);
        const r = resource(name);
        for (const w of r.watchers) w.destroy();
        r.watchers.clear();
      } else failing.delete(name);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of resources.values()) for (const w of r.watchers) w.destroy();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
