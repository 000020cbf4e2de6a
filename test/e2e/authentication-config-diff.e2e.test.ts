// Differential `--authentication-config`: one AuthenticationConfiguration (apiserver.config.k8s.io/v1, three jwt[]
// issuers, cases/jwt-cases.ts) is given to a real kube-apiserver and to tokenwarden; the test serves the issuers'
// discovery documents and JWKS itself over HTTPS on 127.0.0.1 (its own CA, trusted through `certificateAuthority`),
// mints a matrix of JWTs and asks both for a TokenReview of each, with and without spec.audiences, comparing the
// answers field by field with harness/compare.ts. Tokens are never printed: claims and review statuses are.
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import {
  authenticationConfiguration,
  EMAIL_DISCOVERY_PATH,
  FINDINGS,
  generateJwtKeys,
  ISSUER_PATHS,
  jwksFor,
  jwtCases,
  probeToken,
  type IssuerName,
  type JwtCase,
  type JwtCaseContext,
} from './cases/jwt-cases.js';
import { startCluster, type Cluster } from './harness/cluster.js';
import {
  describeExpectation,
  formatDifferences,
  judge,
  Ledger,
  MATCH,
  normalizeTokenReview,
  summaryLine,
  type NormalTokenReview,
} from './harness/compare.js';
import { waitFor } from './harness/net.js';
import { createCertificateAuthority, issueServingCertificate } from './harness/pki.js';
import { clusterTls, startTokenwarden, type Tokenwarden } from './harness/tokenwarden.js';
import { decodeUnverified } from './harness/tokens.js';

/** spec.audiences choices asked of both for every token: none (the API audiences), one of them, none of them, both. */
const AUDIENCE_CHOICES: readonly (readonly string[])[] = [[], ['api'], ['vault'], ['vault', 'api']];
const ISSUERS: readonly IssuerName[] = ['claims', 'cel', 'email'];
const READY_TIMEOUT_MS = 60_000;
const VERBOSE = process.env.TOKENWARDEN_E2E_VERBOSE === '1';

interface OidcIssuerServer {
  readonly base: string;
  /** Requests served, by path and client (`Go-http-client` is kube-apiserver). */
  readonly hits: Map<string, number>;
  close(): Promise<void>;
}

/** Discovery and JWKS of the three issuers over HTTPS on 127.0.0.1, with the given certificate. */
async function startOidcIssuer(
  cert: Buffer,
  key: Buffer,
  documents: (base: string) => Map<string, unknown>,
): Promise<OidcIssuerServer> {
  const hits = new Map<string, number>();
  const sockets = new Set<Socket>();
  let routes = new Map<string, unknown>();
  const server: Server = createServer({ cert, key }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const client = (req.headers['user-agent'] ?? 'unknown').split('/')[0]!;
    const hitKey = `${path} ${client}`;
    hits.set(hitKey, (hits.get(hitKey) ?? 0) + 1);
    const body = routes.get(path);
    if (req.method !== 'GET' || body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  routes = documents(base);
  return {
    base,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

let workDir: string;
let issuerServer: OidcIssuerServer | undefined;
let cluster: Cluster | undefined;
let tokenwarden: Tokenwarden | undefined;
let caseContext: JwtCaseContext;
const ledger = new Ledger();
const distinctTokens = new Set<string>();

/**
 * The one normalisation beyond compare.ts (docs/fidelity.md, "--authentication-config"): go-oidc's nbf refusal prints
 * the verifier's clock, `current time <now> before the nbf (not before) time: <nbf>`, and kube's `<now>` is a Go
 * time.Now() with nanoseconds and the process's monotonic reading (`m=+5.885570412`). Two processes asked a few
 * milliseconds apart never agree on it, so `<now>` is blanked in both answers; the rest of the text, the nbf time
 * included, is compared as it is.
 */
const NBF_NOW = /current time .+? before the nbf \(not before\) time: /;

function withoutClock(review: NormalTokenReview): NormalTokenReview {
  if (review.error === undefined || !NBF_NOW.test(review.error)) return review;
  return {
    ...review,
    error: review.error.replace(NBF_NOW, 'current time <now> before the nbf (not before) time: '),
  };
}

async function review(
  token: string,
  audiences: readonly string[],
): Promise<[NormalTokenReview, NormalTokenReview]> {
  const spec = { token, ...(audiences.length > 0 && { audiences: [...audiences] }) };
  const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec };
  const [kube, ours] = await Promise.all([
    cluster!.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', body),
    tokenwarden!.tokenReview(body),
  ]);
  return [withoutClock(normalizeTokenReview(kube)), withoutClock(normalizeTokenReview(ours))];
}

/** What the token says, for the report: its header and claims, never the token. */
function describeToken(token: string): string {
  try {
    const { header, payload } = decodeUnverified(token);
    return `header ${JSON.stringify(header)} claims ${JSON.stringify(payload)}`;
  } catch {
    return `(not a decodable JWS: ${token.split('.').length} segments)`;
  }
}

/**
 * Reviews every case with every audience choice and returns one failure per case that is not as it expects (the
 * audience choices that failed, with the answers of the first), and per case marked with a finding that now matches.
 */
async function compareCases(cases: readonly JwtCase[]): Promise<string[]> {
  const failures: string[] = [];
  for (const c of cases) {
    const token = c.token();
    distinctTokens.add(token);
    const failed: string[] = [];
    let first = '';
    for (const audiences of AUDIENCE_CHOICES) {
      const [kube, ours] = await review(token, audiences);
      const expectation = typeof c.expect === 'function' ? c.expect({ audiences }) : c.expect;
      const verdict = judge(expectation, kube, ours);
      const name = `${c.name} [spec.audiences ${JSON.stringify(audiences)}]`;
      if (VERBOSE) {
        const said = kube.authenticated
          ? `yes ${kube.username ?? ''} ${JSON.stringify(kube.groups)} ${JSON.stringify(kube.audiences)}`
          : (kube.error ?? '');
        console.log(`${verdict.diffs.length === 0 ? '=' : '≠'} ${name}: kube ${kube.answer} ${said}`);
      }
      const detail = `${describeExpectation(expectation)}: ${formatDifferences(verdict.diffs)}`;
      ledger.record({ kind: 'tokens', name, counted: verdict.counted, ok: verdict.ok, detail });
      if (!verdict.ok) {
        failed.push(JSON.stringify(audiences));
        first ||=
          `${verdict.problem ?? ''}\n    token: ${describeToken(token)}` +
          `\n    kube:        ${JSON.stringify(kube)}\n    tokenwarden: ${JSON.stringify(ours)}`;
      }
    }
    if (failed.length > 0) {
      const known = c.known === undefined ? '' : ` [${c.known}: ${FINDINGS[c.known]}]`;
      failures.push(`${c.name}${known}\n    with spec.audiences ${failed.join(', ')}: ${first}`);
    } else if (c.known !== undefined) {
      failures.push(
        `${c.name}: marked with finding ${c.known}, but matching now: drop the marker in cases/jwt-cases.ts`,
      );
    }
  }
  return failures;
}

function expectNoFailures(failures: readonly string[]): void {
  expect(failures, `unexplained or stale differences:\n${failures.join('\n')}`).toEqual([]);
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'tokenwarden-e2e-oidc-'));
  const ca = await createCertificateAuthority(workDir, 'oidc-ca', 'tokenwarden-e2e-oidc-ca');
  const serving = await issueServingCertificate(workDir, 'oidc-issuer', 'oidc-issuer', ca);
  const keys = generateJwtKeys();
  const discovery = (base: string, issuer: IssuerName): Record<string, unknown> => ({
    issuer: `${base}${ISSUER_PATHS[issuer]}`,
    jwks_uri: `${base}${ISSUER_PATHS[issuer]}/jwks`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256', 'ES256'],
  });
  issuerServer = await startOidcIssuer(
    await readFile(serving.cert),
    await readFile(serving.key),
    (base) =>
      new Map<string, unknown>([
        [`${ISSUER_PATHS.claims}/.well-known/openid-configuration`, discovery(base, 'claims')],
        [`${ISSUER_PATHS.cel}/.well-known/openid-configuration`, discovery(base, 'cel')],
        [EMAIL_DISCOVERY_PATH, discovery(base, 'email')],
        ...ISSUERS.map((i): [string, unknown] => [`${ISSUER_PATHS[i]}/jwks`, jwksFor(i, keys)]),
      ]),
  );
  caseContext = { base: issuerServer.base, keys };
  const configFile = join(workDir, 'authentication-config.yaml');
  await writeFile(
    configFile,
    authenticationConfiguration(issuerServer.base, await readFile(ca.caFile, 'utf8')),
  );

  cluster = await startCluster({
    binaries: inject('clusterBinaries'),
    extraApiserverArgs: [`--authentication-config=${configFile}`],
  });
  tokenwarden = await startTokenwarden({
    name: 'authentication-config',
    workDir: cluster.workDir,
    ...(await clusterTls(cluster)),
    args: [
      '--service-account-issuer',
      cluster.issuer,
      '--service-account-key-file',
      cluster.pki.serviceAccountRsa.publicKeyFile,
      '--api-audiences',
      cluster.apiAudiences.join(','),
      '--authentication-config',
      configFile,
    ],
    readyTimeoutMs: READY_TIMEOUT_MS,
  });

  // kube-apiserver loads each issuer's discovery document in the background (retrying every 10 s), and until then
  // answers `oidc: authenticator not initialized`; tokenwarden's /readyz waits for its keys, but probe it too.
  await Promise.all(
    ISSUERS.map((issuer) => {
      let last: [NormalTokenReview, NormalTokenReview] | undefined;
      return waitFor(
        `kube-apiserver and tokenwarden to authenticate a token of the ${issuer} issuer`,
        async () => {
          last = await review(probeToken(caseContext, issuer), []);
          return last[0].authenticated && last[1].authenticated ? true : undefined;
        },
        {
          timeoutMs: READY_TIMEOUT_MS,
          intervalMs: 500,
          describe: () =>
            `last answers: kube ${JSON.stringify(last?.[0])}, tokenwarden ${JSON.stringify(last?.[1])}\n` +
            `kube-apiserver log:\n${cluster!.processes.apiserver.logTail(10)}`,
        },
      );
    }),
  );
});

afterAll(async () => {
  ledger.flush(inject('ledgerDir'), 'authentication-config-diff');
  console.log(
    `--authentication-config TokenReview differences (kube-apiserver v1.37.2 vs tokenwarden):\n` +
      `${ledger.report('tokens') || '  none'}\n` +
      `${distinctTokens.size} distinct tokens; ${summaryLine(ledger.counts('tokens'), ledger.counts('sars'))}\n` +
      `issuer requests: ${JSON.stringify(Object.fromEntries(issuerServer?.hits ?? []))}`,
  );
  await tokenwarden?.stop();
  await cluster?.stop();
  await issuerServer?.close();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

function casesOf(issuer: JwtCase['issuer']): JwtCase[] {
  return jwtCases(caseContext).filter((c) => c.issuer === issuer);
}

describe('--authentication-config: kube-apiserver and tokenwarden, field by field', () => {
  it('the claims issuer: claim mappings with prefixes, a required claim, one audience', async () => {
    expectNoFailures(await compareCases(casesOf('claims')));
  });

  it('the cel issuer: CEL mappings and rules, optional syntax, comprehensions, MatchAny', async () => {
    expectNoFailures(await compareCases(casesOf('cel')));
  });

  it('the email issuer: username claim email, discoveryURL, a JWKS without the EC key', async () => {
    expectNoFailures(await compareCases(casesOf('email')));
  });

  it('tokens of no configured issuer, and a service-account token under the same configuration', async () => {
    const sa = await cluster!.kubectl(['create', 'token', 'default', '-n', 'default']);
    expect(sa.code, `kubectl create token: ${sa.stderr}`).toBe(0);
    const minted = sa.stdout.trim();
    expectNoFailures(
      await compareCases([
        ...casesOf('none'),
        { name: 'kubectl create token default/default', issuer: 'none', token: () => minted, expect: MATCH },
      ]),
    );
  });
});
