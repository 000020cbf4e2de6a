// The crafted half of the TokenReview differential matrix: service-account JWTs signed by the test with the cluster's
// own key (or deliberately not), each with what the comparison with kube-apiserver is expected to show.
import { constants, createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

import {
  authenticatedAs,
  invalidBearer,
  MATCH,
  needsLiveMode,
  stricter,
  type Expectation,
  type ExpectedUser,
  type NormalTokenReview,
} from '../harness/compare.js';
import {
  craftServiceAccountToken,
  decodeUnverified,
  kubeKeyId,
  signCompactJws,
  type ObjectRef,
  type ServiceAccountTokenOptions,
} from '../harness/tokens.js';

/**
 * Which tokenwarden a case is reviewed by (the same token and audiences are asked of kube once). `main` and
 * `legacy-accept` each have a live-mode twin, the same flags plus `--kubeconfig` to the apiserver compared with.
 */
export type Instance = 'main' | 'legacy-accept' | 'second-issuer';
export type LiveInstance = 'live' | 'live-legacy-accept';
export const LIVE_TWIN: Readonly<Partial<Record<Instance, LiveInstance>>> = {
  main: 'live',
  'legacy-accept': 'live-legacy-accept',
};

export interface ExpectContext {
  /** The offline instance, also when its live twin is asked (the case's expectation then goes through inLiveMode). */
  readonly instance: Instance;
  readonly audiences: readonly string[];
  /** The token reviewed: an expected identity follows from its claims. */
  readonly token: string;
}

export interface TokenCase {
  readonly name: string;
  /** Called right before the case is reviewed, so time-sensitive tokens are fresh. */
  readonly token: () => string | Promise<string>;
  readonly expect: Expectation | ((ctx: ExpectContext) => Expectation);
  /** Defaults to ['main']. */
  readonly instances?: readonly Instance[];
}

/** README.md's table rows, by their input column. */
export const ROW = {
  noExp: 'bound token without `exp`',
  noAud: 'bound token without `aud`',
  spelling: 'whitespace or non-zero unused bits in a base64url segment',
  headerMembers: '`b64`, `zip`, `enc`, `jwk`, `jku`, `x5u`, `x5c` header members',
  typ: '`typ` other than `JWT`',
  bigDates: '`exp`/`nbf`/`iat` beyond ±2^53 or non-finite',
  pssSalt: 'PS* signatures with a salt length other than the hash length',
  long: 'a token longer than 16 KiB',
  blank: 'a blank or space-led token (`"  x"`)',
  legacy: 'a legacy secret-based token',
} as const;

// ---- tokenwarden's expected answers, modelled here on kube's rules (not taken from src/) ----

const goQuoteList = (list: readonly string[]): string => `[${list.map((a) => JSON.stringify(a)).join(' ')}]`;

/**
 * kube's audience check (`authenticator.Audiences.Intersect`): the requested audiences (else the API audiences) that
 * the token holds, in requested order; none is an error naming both lists.
 */
export function audienceCheck(
  apiAudiences: readonly string[],
  requested: readonly string[],
  tokenAudiences: readonly string[],
): { granted: string[] } | { refused: NormalTokenReview } {
  const want = requested.length > 0 ? requested : apiAudiences;
  const granted = want.filter((a) => tokenAudiences.includes(a));
  if (granted.length > 0) return { granted };
  return {
    refused: invalidBearer(
      `token audiences ${goQuoteList(tokenAudiences)} is invalid for the target audiences ${goQuoteList(want)}`,
    ),
  };
}

type Claims = Record<string, unknown>;
const SA_GROUPS = 'system:serviceaccounts';
const EXTRA = 'authentication.kubernetes.io/';

const audOf = (claims: Claims): string[] =>
  typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? (claims.aud as string[]) : [];

/**
 * The user kube makes of a bound token's claims (`ServiceAccountInfo.UserInfo()` in
 * k8s.io/apiserver/pkg/authentication/serviceaccount/util.go, and the group adder): the service account's name and
 * uid, its groups, the bound pod and node, and the jti as credential id.
 */
export function boundTokenUser(claims: Claims): ExpectedUser {
  const k8s = claims['kubernetes.io'] as {
    namespace: string;
    serviceaccount: ObjectRef;
    pod?: ObjectRef;
    node?: ObjectRef;
  };
  const extra: Record<string, string[]> = {};
  if (k8s.pod && k8s.pod.name !== '' && k8s.pod.uid !== '') {
    extra[`${EXTRA}pod-name`] = [k8s.pod.name];
    extra[`${EXTRA}pod-uid`] = [k8s.pod.uid];
  }
  if (k8s.node && k8s.node.name !== '') {
    extra[`${EXTRA}node-name`] = [k8s.node.name];
    if (k8s.node.uid !== '') extra[`${EXTRA}node-uid`] = [k8s.node.uid];
  }
  if (typeof claims.jti === 'string' && claims.jti !== '') {
    extra[`${EXTRA}credential-id`] = [`JTI=${claims.jti}`];
  }
  return {
    username: `system:serviceaccount:${k8s.namespace}:${k8s.serviceaccount.name}`,
    uid: k8s.serviceaccount.uid,
    groups: [SA_GROUPS, `${SA_GROUPS}:${k8s.namespace}`, 'system:authenticated'],
    extra,
  };
}

/** A legacy token's user: its flat claims, no extra; its audiences are the API audiences. */
function legacyTokenUser(claims: Claims): ExpectedUser {
  const ns = claims['kubernetes.io/serviceaccount/namespace'] as string;
  return {
    username: `system:serviceaccount:${ns}:${claims['kubernetes.io/serviceaccount/service-account.name'] as string}`,
    uid: claims['kubernetes.io/serviceaccount/service-account.uid'] as string,
    groups: [SA_GROUPS, `${SA_GROUPS}:${ns}`, 'system:authenticated'],
  };
}

/**
 * tokenwarden's answer to a signature-valid service-account token: kube's audience check first, then `refusal` (a
 * reason kube wraps), or, without one, the user its claims name (offline, nothing contradicts them).
 */
export function serviceAccountAnswer(
  apiAudiences: readonly string[],
  ctx: ExpectContext,
  refusal?: string,
): NormalTokenReview {
  const { payload } = decodeUnverified(ctx.token);
  const legacy = payload.iss === 'kubernetes/serviceaccount';
  const check = audienceCheck(apiAudiences, ctx.audiences, legacy ? apiAudiences : audOf(payload));
  if ('refused' in check) return check.refused;
  if (refusal !== undefined) return invalidBearer(refusal);
  return authenticatedAs(legacy ? legacyTokenUser(payload) : boundTokenUser(payload), check.granted);
}

/**
 * kube checks audiences before any lookup or time check (pkg/serviceaccount/jwt.go, `AuthenticateToken`), and so does tokenwarden before its
 * own stricter claim checks: when the token misses every requested audience (the API audiences when none are
 * requested), both refuse with the same audience error. Only otherwise does `expectation` hold.
 */
export function unlessAudienceMiss(
  apiAudiences: readonly string[],
  tokenAudiences: readonly string[],
  expectation: (ctx: ExpectContext) => Expectation,
): (ctx: ExpectContext) => Expectation {
  return (ctx) =>
    'granted' in audienceCheck(apiAudiences, ctx.audiences, tokenAudiences) ? expectation(ctx) : MATCH;
}

/** go-jose's text for a signature that fails under the key it selected, which both sides report after key selection. */
export const GO_JOSE_CRYPTO_FAILURE = 'go-jose/go-jose: error in cryptographic primitive';

/** With the default `--service-account-legacy-tokens reject`, every legacy token, before its signature is checked. */
export const LEGACY_REFUSED = stricter(
  ROW.legacy,
  invalidBearer('legacy service account tokens are not accepted'),
);

export interface CraftContext {
  readonly rsaKey: KeyObject;
  readonly issuer: string;
  readonly apiAudiences: readonly string[];
  readonly namespace: string;
  readonly serviceAccount: ObjectRef;
  readonly pod: ObjectRef;
  readonly node: ObjectRef;
  readonly secret: ObjectRef;
  /** A real legacy token secret of `serviceAccount`, for crafted legacy tokens that name it. */
  readonly legacySecretName: string;
}

const now = (): number => Math.floor(Date.now() / 1000);

function parts(token: string): [string, string, string] {
  const [h = '', p = '', s = ''] = token.split('.');
  return [h, p, s];
}

const b64 = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/** A JWS over arbitrary header/payload JSON text, signed RS256 with `key` (or by `signer`). */
function signRaw(headerJson: string, payloadJson: string, signer: (input: Buffer) => Buffer): string {
  const input = `${b64(headerJson)}.${b64(payloadJson)}`;
  return `${input}.${signer(Buffer.from(input)).toString('base64url')}`;
}

const rs256 = (key: KeyObject) => (input: Buffer) => sign('sha256', input, key);

/** The last base64url character of an unpadded segment, changed in bits the decoded bytes do not use. */
function nonCanonicalTail(segment: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const unusedBits = { 2: 4, 3: 2 }[(segment.length % 4) as 2 | 3];
  if (unusedBits === undefined) throw new Error('segment has no unused trailing bits');
  const last = alphabet.indexOf(segment.at(-1)!);
  return segment.slice(0, -1) + alphabet[last | 1]!;
}

export function craftedCases(ctx: CraftContext): TokenCase[] {
  const base: ServiceAccountTokenOptions = {
    privateKey: ctx.rsaKey,
    issuer: ctx.issuer,
    namespace: ctx.namespace,
    serviceAccount: ctx.serviceAccount,
    audiences: ctx.apiAudiences,
  };
  const craft = (over: Partial<ServiceAccountTokenOptions> = {}): string =>
    craftServiceAccountToken({ ...base, ...over });
  const kid = kubeKeyId(ctx.rsaKey);
  const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const claimsOf = (token: string): Record<string, unknown> =>
    JSON.parse(Buffer.from(parts(token)[1], 'base64url').toString('utf8')) as Record<string, unknown>;

  const match = (name: string, token: () => string): TokenCase => ({ name, token, expect: MATCH });
  // Crafted tokens carry the API audiences. Offline, tokenwarden accepts the user the claims name, or refuses the
  // claims in its own words (`claimsProblem`).
  const live = (name: string, why: string, token: () => string, claimsProblem?: string): TokenCase => ({
    name,
    token,
    expect: unlessAudienceMiss(ctx.apiAudiences, ctx.apiAudiences, (c) =>
      needsLiveMode(why, serviceAccountAnswer(ctx.apiAudiences, c, claimsProblem)),
    ),
  });
  // The token gate refuses before any audience is looked at: the same answer for every audience choice.
  const strict = (name: string, row: string, token: () => string, answer = invalidBearer()): TokenCase => ({
    name,
    token,
    expect: stricter(row, answer),
  });

  return [
    // ---- accepted by both ----
    match('crafted: shaped like kubectl create token', () => craft()),
    match('crafted: aud ["vault"]', () => craft({ audiences: ['vault'] })),
    match('crafted: aud ["vault","istio-ca"]', () => craft({ audiences: ['vault', 'istio-ca'] })),
    match('crafted: aud a single string "api"', () => craft({ claims: { aud: 'api' } })),
    match('crafted: aud with a duplicate ["api","api","vault"]', () =>
      craft({ audiences: ['api', 'api', 'vault'] }),
    ),
    match('crafted: bound to a pod on an existing node', () => craft({ pod: ctx.pod, node: ctx.node })),
    match('crafted: bound to a pod, node name without uid', () =>
      craft({ pod: ctx.pod, node: { name: ctx.node.name, uid: '' } }),
    ),
    match('crafted: bound to a secret', () => craft({ secret: ctx.secret })),
    match('crafted: bound to a node', () => craft({ node: ctx.node })),
    match('crafted: no jti', () => craft({ claims: { jti: undefined } })),
    match('crafted: no kid header (every key is tried)', () => craft({ header: { kid: undefined } })),
    match('crafted: empty kid header (as no kid)', () => craft({ header: { kid: '' } })),
    ...(['RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const).map((alg) =>
      match(`crafted: ${alg} on the RSA key`, () => craft({ header: { alg } })),
    ),
    match('crafted: expired 57 s ago (inside the 60 s leeway)', () =>
      craft({ issuedAt: now() - 3657, lifetimeSeconds: 3600 }),
    ),
    match('crafted: nbf 57 s ahead (inside the leeway)', () => craft({ claims: { nbf: now() + 57 } })),
    match('crafted: iat 57 s ahead (inside the leeway)', () => craft({ claims: { iat: now() + 57 } })),
    match('crafted: no nbf and no iat', () => craft({ claims: { nbf: undefined, iat: undefined } })),
    match('crafted: fractional exp and iat', () => {
      const t = now();
      return craft({ claims: { iat: t + 0.75, exp: t + 3600.5 } });
    }),
    match('crafted: unknown extra claims', () =>
      craft({ claims: { foo: 'bar', groups: ['system:masters'] } }),
    ),
    match('crafted: warnafter in the past (never rejects)', () => {
      const t = now();
      const k8s = { namespace: ctx.namespace, serviceaccount: ctx.serviceAccount, warnafter: t - 3600 };
      return craft({ issuedAt: t - 7200, lifetimeSeconds: 365 * 86400, claims: { 'kubernetes.io': k8s } });
    }),
    match('crafted: sub naming someone else (kube never reads sub)', () =>
      craft({ claims: { sub: 'system:serviceaccount:kube-system:admin' } }),
    ),
    match(
      'crafted: token followed by " trailing" (the bearer header takes part 2 only)',
      () => `${craft()} trailing`,
    ),

    // ---- refused by both ----
    match('crafted: expired an hour ago', () => craft({ issuedAt: now() - 7200, lifetimeSeconds: 3600 })),
    match('crafted: expired 63 s ago (just outside the leeway)', () =>
      craft({ issuedAt: now() - 3663, lifetimeSeconds: 3600 }),
    ),
    match('crafted: expired and for another audience (the audience error wins)', () =>
      craft({ audiences: ['vault'], issuedAt: now() - 7200, lifetimeSeconds: 3600 }),
    ),
    match('crafted: nbf 63 s ahead', () => craft({ claims: { nbf: now() + 63 } })),
    match('crafted: nbf an hour ahead', () => craft({ claims: { nbf: now() + 3600 } })),
    match('crafted: iat 63 s ahead', () => craft({ claims: { iat: now() + 63 } })),
    match('crafted: iat an hour ahead', () => craft({ claims: { iat: now() + 3600 } })),
    match('crafted: foreign issuer', () => craft({ issuer: 'https://elsewhere.example' })),
    match('crafted: issuer with a trailing slash', () => craft({ issuer: `${ctx.issuer}/` })),
    match('crafted: issuer in upper case', () => craft({ issuer: ctx.issuer.toUpperCase() })),
    match('crafted: issuer as "ISS" member (Go decodes keys case-insensitively)', () => {
      const claims = claimsOf(craft());
      delete claims.iss;
      return signRaw(
        JSON.stringify({ alg: 'RS256', kid }),
        JSON.stringify({ ...claims, ISS: ctx.issuer }),
        rs256(ctx.rsaKey),
      );
    }),
    match('crafted: unknown kid', () => craft({ header: { kid: 'no-such-key' } })),
    match("crafted: an unconfigured EC key's kid, signed by the cluster key", () =>
      craft({ header: { kid: kubeKeyId(ecKey) } }),
    ),
    match('crafted: signature bit flipped', () => {
      const [h, p, s] = parts(craft());
      return `${h}.${p}.${(s[0] === 'A' ? 'B' : 'A') + s.slice(1)}`;
    }),
    match('crafted: signature truncated', () => {
      const [h, p, s] = parts(craft());
      return `${h}.${p}.${s.slice(0, -4)}`;
    }),
    match('crafted: empty signature', () => {
      const [h, p] = parts(craft());
      return `${h}.${p}.`;
    }),
    match("crafted: signed by another RSA key under the cluster key's kid", () =>
      craft({ privateKey: otherRsa, header: { kid } }),
    ),
    match('crafted: payload changed after signing', () => {
      const [h, , s] = parts(craft());
      const claims = claimsOf(craft());
      return `${h}.${b64(JSON.stringify({ ...claims, 'kubernetes.io': { namespace: 'kube-system' } }))}.${s}`;
    }),
    match('crafted: header alg changed after signing (RS256 → RS512)', () => {
      const [, p, s] = parts(craft());
      return `${b64(JSON.stringify({ alg: 'RS512', kid }))}.${p}.${s}`;
    }),
    match('crafted: alg none', () => craft({ header: { alg: 'none' } })),
    match('crafted: HS256 keyed with the public key PEM', () => {
      const claims = claimsOf(craft());
      const secret = ctx.rsaKey.export({ type: 'pkcs1', format: 'pem' });
      return signRaw(JSON.stringify({ alg: 'HS256', kid }), JSON.stringify(claims), (input) =>
        createHmac('sha256', secret).update(input).digest(),
      );
    }),
    match('crafted: ES256 claimed over an RSA signature', () => {
      const [, p, s] = parts(craft());
      return `${b64(JSON.stringify({ alg: 'ES256', kid }))}.${p}.${s}`;
    }),
    match('garbage: not-a-token', () => 'not-a-token'),
    match('garbage: aaa.bbb.ccc', () => 'aaa.bbb.ccc'),
    match('garbage: two segments', () => parts(craft()).slice(0, 2).join('.')),
    match('garbage: four segments', () => `${craft()}.AAAA`),
    match('garbage: payload is a JSON array', () =>
      signRaw(JSON.stringify({ alg: 'RS256', kid }), JSON.stringify([ctx.issuer]), rs256(ctx.rsaKey)),
    ),
    match('garbage: payload is not base64url', () => {
      const [h, , s] = parts(craft());
      return `${h}.%%%%.${s}`;
    }),
    match('garbage: a JSON object, not a JWS', () => JSON.stringify({ iss: ctx.issuer })),
    match('garbage: iss is a number', () => craft({ claims: { iss: 42 } })),
    // Both refuse with go-jose's text: `json: duplicate key 'iss' in object`.
    match('crafted: duplicate iss in the claims', () => {
      const claimsJson = JSON.stringify(claimsOf(craft()));
      return signRaw(
        JSON.stringify({ alg: 'RS256', kid }),
        `{"iss":"https://elsewhere.example",${claimsJson.slice(1)}`,
        rs256(ctx.rsaKey),
      );
    }),
    match('crafted: duplicate alg in the header', () =>
      signRaw(
        `{"alg":"RS256","alg":"RS256","kid":"${kid}"}`,
        JSON.stringify(claimsOf(craft())),
        rs256(ctx.rsaKey),
      ),
    ),
    match('crafted: exp is a string', () => craft({ claims: { exp: String(now() + 3600) } })),
    match('crafted: aud is a number', () => craft({ claims: { aud: 42 } })),
    // kube validates these claims by looking the service account up: its words are the lookup's.
    live(
      'crafted: no kubernetes.io claim',
      'kube GETs a ServiceAccount with an empty name',
      () => craft({ claims: { 'kubernetes.io': undefined } }),
      'invalid service account token claims: kubernetes.io must be an object',
    ),
    live(
      'crafted: kubernetes.io without namespace',
      'kube GETs a ServiceAccount in an empty namespace',
      () => craft({ claims: { 'kubernetes.io': { serviceaccount: ctx.serviceAccount } } }),
      'invalid service account token claims: kubernetes.io.namespace is invalid',
    ),
    live(
      'crafted: kubernetes.io without serviceaccount',
      'kube GETs a ServiceAccount with an empty name',
      () => craft({ claims: { 'kubernetes.io': { namespace: ctx.namespace } } }),
      'invalid service account token claims: kubernetes.io.serviceaccount.name is invalid',
    ),
    live(
      'crafted: kubernetes.io serviceaccount without uid',
      'kube compares the live uid with the empty claim',
      () => craft({ serviceAccount: { name: ctx.serviceAccount.name, uid: '' } }),
      'invalid service account token claims: kubernetes.io.serviceaccount.uid is missing',
    ),

    // ---- kube looks the objects up; offline tokenwarden cannot ----
    live('crafted: service account uid mismatch', 'kube compares the live ServiceAccount uid', () =>
      craft({
        serviceAccount: { name: ctx.serviceAccount.name, uid: '00000000-0000-0000-0000-000000000001' },
      }),
    ),
    live('crafted: service account that does not exist', 'kube GETs the ServiceAccount', () =>
      craft({ serviceAccount: { name: 'ghost', uid: '00000000-0000-0000-0000-000000000002' } }),
    ),
    live('crafted: namespace that does not exist', 'kube GETs the ServiceAccount', () =>
      craft({ namespace: 'nowhere' }),
    ),
    live('crafted: bound pod uid mismatch', 'kube compares the live Pod uid', () =>
      craft({ pod: { name: ctx.pod.name, uid: '00000000-0000-0000-0000-000000000003' }, node: ctx.node }),
    ),
    live('crafted: bound pod that does not exist', 'kube GETs the Pod', () =>
      craft({ pod: { name: 'ghost-pod', uid: '00000000-0000-0000-0000-000000000004' } }),
    ),
    live('crafted: bound secret uid mismatch', 'kube compares the live Secret uid', () =>
      craft({ secret: { name: ctx.secret.name, uid: '00000000-0000-0000-0000-000000000005' } }),
    ),
    live('crafted: bound secret that does not exist', 'kube GETs the Secret', () =>
      craft({ secret: { name: 'ghost-secret', uid: '00000000-0000-0000-0000-000000000006' } }),
    ),
    live('crafted: bound node uid mismatch', 'kube compares the live Node uid', () =>
      craft({ node: { name: ctx.node.name, uid: '00000000-0000-0000-0000-000000000007' } }),
    ),
    live('crafted: bound node that does not exist', 'kube GETs the Node', () =>
      craft({ node: { name: 'ghost-node', uid: '00000000-0000-0000-0000-000000000008' } }),
    ),

    // ---- README.md: stricter than kube-apiserver, on purpose ----
    {
      name: 'crafted: no exp',
      token: () => craft({ claims: { exp: undefined } }),
      // tokenwarden checks the audience first: a missed audience gets kube's audience error from both.
      expect: unlessAudienceMiss(ctx.apiAudiences, ctx.apiAudiences, () =>
        stricter(ROW.noExp, invalidBearer('service account token has no expiration (exp)')),
      ),
    },
    // Checked after the signature and before any audience choice.
    strict(
      'crafted: no aud',
      ROW.noAud,
      () => craft({ claims: { aud: undefined } }),
      invalidBearer('service account token has no audience (aud)'),
    ),
    strict(
      'crafted: empty aud list',
      ROW.noAud,
      () => craft({ audiences: [] }),
      invalidBearer('service account token has no audience (aud)'),
    ),
    strict('crafted: a newline inside the signature', ROW.spelling, () => {
      const token = craft();
      return `${token.slice(0, -20)}\n${token.slice(-20)}`;
    }),
    // kube-apiserver refuses a padded segment as well (go-jose decodes unpadded base64url only).
    match('crafted: padded signature segment (kube refuses it too)', () => `${craft()}==`),
    // The gate lets an oddly spelled signature through to key selection, where it is refused as kube refuses a
    // signature that does not verify.
    strict(
      'crafted: non-canonical last character of the signature',
      ROW.spelling,
      () => {
        const [h, p, s] = parts(craft());
        return `${h}.${p}.${nonCanonicalTail(s)}`;
      },
      invalidBearer(GO_JOSE_CRYPTO_FAILURE),
    ),
    strict('crafted: typ "JWS"', ROW.typ, () => craft({ header: { typ: 'JWS' } })),
    match('crafted: typ "JWT"', () => craft({ header: { typ: 'JWT' } })),
    strict('crafted: jku header', ROW.headerMembers, () =>
      craft({ header: { jku: 'https://keys.example/jwks' } }),
    ),
    strict('crafted: x5u header', ROW.headerMembers, () =>
      craft({ header: { x5u: 'https://keys.example/c.pem' } }),
    ),
    strict('crafted: zip header', ROW.headerMembers, () => craft({ header: { zip: 'DEF' } })),
    match('crafted: crit ["exp"] header', () => craft({ header: { crit: ['exp'], exp: 1 } })),
    strict('crafted: exp 2^60', ROW.bigDates, () => craft({ claims: { exp: 2 ** 60 } })),
    strict(
      'crafted: PS256 with salt length 0',
      ROW.pssSalt,
      () => {
        const claims = claimsOf(craft());
        return signRaw(JSON.stringify({ alg: 'PS256', kid }), JSON.stringify(claims), (input) =>
          sign('sha256', input, { key: ctx.rsaKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 0 }),
        );
      },
      invalidBearer(GO_JOSE_CRYPTO_FAILURE),
    ),
    strict('crafted: 17 KiB of claims', ROW.long, () => craft({ claims: { pad: 'x'.repeat(17 * 1024) } })),
    strict('crafted: a valid token after two spaces', ROW.blank, () => `  ${craft()}`),
  ];
}

/** Crafted secret-based tokens: the legacy issuer and flat claims (pkg/serviceaccount/legacy.go). */
export function craftedLegacyCases(ctx: CraftContext): TokenCase[] {
  const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => {
    const all: Record<string, unknown> = {
      iss: 'kubernetes/serviceaccount',
      'kubernetes.io/serviceaccount/namespace': ctx.namespace,
      'kubernetes.io/serviceaccount/secret.name': ctx.legacySecretName,
      'kubernetes.io/serviceaccount/service-account.name': ctx.serviceAccount.name,
      'kubernetes.io/serviceaccount/service-account.uid': ctx.serviceAccount.uid,
      sub: `system:serviceaccount:${ctx.namespace}:${ctx.serviceAccount.name}`,
      ...over,
    };
    for (const [k, v] of Object.entries(all)) if (v === undefined) delete all[k];
    return all;
  };
  const legacy = (over?: Record<string, unknown>): string =>
    signCompactJws({ alg: 'RS256', kid: kubeKeyId(ctx.rsaKey) }, claims(over), ctx.rsaKey);
  return [
    {
      // The token controller signs the same claims in sorted key order, and RS256 is deterministic: the same claims
      // in that order would be the server's copy byte for byte. sub first makes another token with equal claims.
      name: "crafted legacy: names a real token secret, but is not the server's copy",
      token: () => {
        const all = claims();
        return signCompactJws(
          { alg: 'RS256', kid: kubeKeyId(ctx.rsaKey) },
          { sub: all.sub, ...all },
          ctx.rsaKey,
        );
      },
      instances: ['main', 'legacy-accept'],
      // A legacy token's audiences are the API audiences.
      expect: (c) =>
        c.instance === 'main'
          ? LEGACY_REFUSED
          : unlessAudienceMiss(ctx.apiAudiences, ctx.apiAudiences, () =>
              needsLiveMode(
                "kube compares the token with the Secret's data.token",
                serviceAccountAnswer(ctx.apiAudiences, c),
              ),
            )(c),
    },
    {
      name: 'crafted legacy: sub claim missing',
      token: () => legacy({ sub: undefined }),
      instances: ['main', 'legacy-accept'],
      expect: ({ instance }) => (instance === 'main' ? LEGACY_REFUSED : MATCH),
    },
    {
      name: 'crafted legacy: sub naming another account',
      token: () => legacy({ sub: `system:serviceaccount:${ctx.namespace}:other` }),
      instances: ['main', 'legacy-accept'],
      expect: ({ instance }) => (instance === 'main' ? LEGACY_REFUSED : MATCH),
    },
  ];
}
