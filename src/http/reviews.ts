import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import {
  badRequest,
  failure,
  methodNotAllowed,
  ok,
  tooLarge,
  unauthorized,
  unsupportedMediaType,
  type HttpAnswer,
} from '../api/outcomes.js';
import {
  decodeAccessReview,
  encodeSubjectAccessReview,
  type AccessReviewKind,
} from '../api/subjectaccessreview.js';
import { decodeTokenReview } from '../api/tokenreview.js';
import type { ApiVersionName } from '../api/types.js';
import type { RequestAuthenticator } from '../authn/authenticator.js';
import type { Authorizer, AuthzResult } from '../authz/authorizer.js';
import { ReviewAccessLog } from '../observe/access-log.js';
import type { Metrics } from '../observe/metrics.js';
import { reviewAccess } from '../review/access.js';
import { reviewToken, type TokenReviewer } from '../review/token.js';
import type { UserInfo } from '../user.js';
import { readBody, requestHeader } from './body.js';
import { nestedDeeperThan } from './json-depth.js';
import { authorizeCallers, type ReviewResource } from './middleware/authorize-callers.js';
import { callerOf } from './middleware/request-identity.js';
import { authnRequestFrom } from './request-identity.js';
import { respond } from './respond.js';
import { ReviewBytes } from './review-bytes.js';

export interface ReviewRoutes {
  readonly tokens: TokenReviewer;
  /** Decides SubjectAccessReviews; without one the SAR routes are not served. */
  readonly authorizer?: Authorizer;
  /** With `--authorize-callers`: who the caller is; each review then needs `create` on its resource. */
  readonly callerAuthenticator?: RequestAuthenticator;
  /**
   * Who the caller is when callers are not authorized: a SelfSubjectAccessReview asks about
   * its caller (client certificate, front proxy, bearer token).
   */
  readonly requestAuthenticator?: RequestAuthenticator;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly maxRequestBytes: number;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Kube treats a missing Content-Type as JSON and answers 415 only for a type it cannot
 * decode; tokenwarden decodes JSON alone.
 */
function acceptsBody(c: Context): boolean {
  const type = requestHeader(c, 'content-type');
  return type === undefined || type === '' || JSON_TYPE.test(type);
}

async function readJson(
  c: Context,
  maxBytes: number,
  logger: Logger,
): Promise<{ ok: true; body: unknown } | { ok: false; answer: HttpAnswer }> {
  if (!acceptsBody(c)) return { ok: false, answer: unsupportedMediaType() };
  const read = await readBody(c, maxBytes);
  if (!read.ok && read.problem === 'cut-short') {
    // Nobody is left to answer; the 400 is for the request metrics. Not an error of ours.
    logger.info({ path: c.req.path }, 'the client closed the connection before the whole body arrived');
    return { ok: false, answer: badRequest('the request body was cut short') };
  }
  if (!read.ok) return { ok: false, answer: tooLarge() };
  if (nestedDeeperThan(read.text))
    return { ok: false, answer: badRequest('the request body is nested too deeply') };
  try {
    return { ok: true, body: JSON.parse(read.text) };
  } catch {
    // Never the parser's message: V8 quotes the input, which may be a token.
    return { ok: false, answer: badRequest('the request body is not valid JSON') };
  }
}

/** The access log's reason code of an authorizer's answer. */
function accessReason(result: AuthzResult): string {
  return result.error !== undefined ? 'evaluation-error' : result.decision;
}

const REVIEW_RESOURCE: Readonly<Record<AccessReviewKind, string>> = {
  SubjectAccessReview: 'subjectaccessreviews',
  LocalSubjectAccessReview: 'localsubjectaccessreviews',
  SelfSubjectAccessReview: 'selfsubjectaccessreviews',
};

/**
 * The review endpoints: decode, decide through the use cases, encode. Routes match on the
 * path alone (kube's webhook clients append `?timeout=30s`). Every review writes one access
 * line: request id, caller, decision, reason code, subject and duration, never the token.
 */
export function registerReviewRoutes(app: Hono, routes: ReviewRoutes): void {
  const { tokens, authorizer, metrics, logger } = routes;

  const gate = (target: ReviewResource): MiddlewareHandler[] => {
    const { callerAuthenticator } = routes;
    if (!callerAuthenticator) return [];
    if (!authorizer) throw new TypeError('createApp: callerAuthenticator needs an authorizer');
    return [authorizeCallers(target, { authenticator: callerAuthenticator, authorizer, logger })];
  };
  const register = (
    target: ReviewResource,
    handler: (version: ApiVersionName) => (c: Context) => Promise<Response>,
  ): void => {
    const namespaces = target.namespaced ? 'namespaces/:namespace/' : '';
    const path = `/apis/${target.group}/${target.version}/${namespaces}${target.resource}`;
    for (const mw of gate(target)) app.use(path, mw);
    app.post(path, handler(target.version));
    app.all(path, (c) => respond(c, methodNotAllowed(c.req.method, target.resource)));
  };

  /** A refusal before any decision (400, 401, 413, 415, 422), on the review's access line. */
  const refused = (c: Context, log: ReviewAccessLog, answer: HttpAnswer, started: number) => {
    const reason = (answer.body as { reason?: string }).reason;
    log.refused(c.get('requestId'), callerOf(c), reason, answer.status, performance.now() - started);
    return respond(c, answer);
  };

  const reviewBytes = new ReviewBytes();
  const tokenReview = (version: ApiVersionName) => {
    const route = `tokenreviews/${version}`;
    const log = new ReviewAccessLog(logger, route, 'tokenreview');
    return async (c: Context) => {
      const started = performance.now();
      const read = await readJson(c, routes.maxRequestBytes, logger);
      if (!read.ok) return refused(c, log, read.answer, started);
      const decoded = decodeTokenReview(read.body, version);
      if (!decoded.ok) return refused(c, log, failure(decoded.status), started);
      const { input } = decoded;
      const { result, audiences } = await reviewToken(tokens, input);
      const body = reviewBytes.get(input.apiVersion, result, audiences);
      const ms = performance.now() - started;
      const reqId = c.get('requestId');
      if (result.outcome === 'authenticated') {
        metrics.decision('tokenreview', 'authenticated', 'ok');
        log.token(reqId, callerOf(c), 'authenticated', 'ok', result.user.username, ms);
      } else {
        const reason = result.outcome === 'error' ? result.error.code : 'no-opinion';
        metrics.decision('tokenreview', 'rejected', reason);
        log.token(reqId, callerOf(c), 'rejected', reason, undefined, ms);
      }
      // A fresh headers object each time: hono keeps the one it is given with the response.
      return c.body(body, 200, { 'content-type': 'application/json' });
    };
  };

  /**
   * The caller a SelfSubjectAccessReview asks about: the one `--authorize-callers` already
   * authenticated, else whoever the request's credentials name; a credential that does not
   * authenticate is a 401, as kube-apiserver's authentication filter answers it.
   */
  const selfCaller = async (c: Context): Promise<UserInfo | undefined | 'unauthorized'> => {
    const known = c.get('callerUser');
    if (known) return known;
    if (!routes.requestAuthenticator) return undefined;
    const result = await routes.requestAuthenticator.authenticateRequest(authnRequestFrom(c));
    if (result.outcome === 'authenticated') {
      c.set('callerUser', result.user);
      return result.user;
    }
    return result.outcome === 'error' ? 'unauthorized' : undefined;
  };

  const accessReview = (kind: AccessReviewKind, decide: Authorizer) => (version: ApiVersionName) => {
    const review = kind.toLowerCase() as Lowercase<AccessReviewKind>;
    const log = new ReviewAccessLog(logger, `${REVIEW_RESOURCE[kind]}/${version}`, review);
    return async (c: Context) => {
      const started = performance.now();
      let caller: UserInfo | undefined;
      if (kind === 'SelfSubjectAccessReview') {
        const who = await selfCaller(c);
        if (who === 'unauthorized') return refused(c, log, unauthorized(), started);
        caller = who;
      }
      const read = await readJson(c, routes.maxRequestBytes, logger);
      if (!read.ok) return refused(c, log, read.answer, started);
      const decoded = decodeAccessReview(read.body, {
        kind,
        version,
        ...(kind === 'LocalSubjectAccessReview' ? { namespace: c.req.param('namespace') } : {}),
        ...(caller ? { caller } : {}),
      });
      if (!decoded.ok) return refused(c, log, decoded.answer, started);
      const { attributes } = decoded.input;
      const result = await reviewAccess(decide, attributes);
      const decision = result.decision === 'allow' ? 'allowed' : 'denied';
      const reason = accessReason(result);
      metrics.decision(review, decision, reason);
      log.access(
        c.get('requestId'),
        callerOf(c),
        decision,
        reason,
        attributes,
        result.reason,
        performance.now() - started,
      );
      return respond(c, ok(encodeSubjectAccessReview(decoded.input, result, version)));
    };
  };

  for (const version of ['v1', 'v1beta1'] as const) {
    register({ group: 'authentication.k8s.io', resource: 'tokenreviews', version }, tokenReview);
  }
  if (authorizer) {
    for (const version of ['v1', 'v1beta1'] as const) {
      for (const kind of [
        'SubjectAccessReview',
        'LocalSubjectAccessReview',
        'SelfSubjectAccessReview',
      ] as const) {
        // kube-apiserver serves authorization.k8s.io/v1beta1 no more (since 1.22); tokenwarden keeps its
        // SubjectAccessReview for webhook clients configured with --authorization-webhook-version=v1beta1,
        // and serves the two reviews only clients send as kube does: v1 alone.
        if (version === 'v1beta1' && kind !== 'SubjectAccessReview') continue;
        register(
          {
            group: 'authorization.k8s.io',
            resource: REVIEW_RESOURCE[kind],
            version,
            ...(kind === 'LocalSubjectAccessReview' ? { namespaced: true } : {}),
          },
          accessReview(kind, authorizer),
        );
      }
    }
  }
}
