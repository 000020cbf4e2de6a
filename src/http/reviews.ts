import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import {
  badRequest,
  failure,
  methodNotAllowed,
  ok,
  tooLarge,
  unsupportedMediaType,
  type HttpAnswer,
} from '../api/outcomes.js';
import { decodeSubjectAccessReview, encodeSubjectAccessReview } from '../api/subjectaccessreview.js';
import { decodeTokenReview } from '../api/tokenreview.js';
import type { ApiVersionName } from '../api/types.js';
import type { RequestAuthenticator } from '../authn/authenticator.js';
import type { Authorizer } from '../authz/authorizer.js';
import type { Metrics } from '../observe/metrics.js';
import { reviewAccess } from '../review/access.js';
import { reviewToken, type TokenReviewer } from '../review/token.js';
import { readBody, requestHeader } from './body.js';
import { nestedDeeperThan } from './json-depth.js';
import { authorizeCallers, type ReviewResource } from './middleware/authorize-callers.js';
import { respond } from './respond.js';
import { ReviewBytes } from './review-bytes.js';

export interface ReviewRoutes {
  readonly tokens: TokenReviewer;
  /** Decides SubjectAccessReviews; without one the SAR routes are not served. */
  readonly authorizer?: Authorizer;
  /** With `--authorize-callers`: who the caller is; each review then needs `create` on its resource. */
  readonly callerAuthenticator?: RequestAuthenticator;
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

/**
 * The review endpoints: decode, decide through the use cases, encode. Routes match on the
 * path alone (kube's webhook clients append `?timeout=30s`).
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
    const path = `/apis/${target.group}/${target.version}/${target.resource}`;
    for (const mw of gate(target)) app.use(path, mw);
    app.post(path, handler(target.version));
    app.all(path, (c) => respond(c, methodNotAllowed(c.req.method, target.resource)));
  };

  const reviewBytes = new ReviewBytes();
  const tokenReview = (version: ApiVersionName) => {
    const route = `tokenreviews/${version}`;
    // Bindings serialised once per route rather than on every line.
    const log = logger.child({ route });
    return async (c: Context) => {
      const started = performance.now();
      const reqId = c.get('requestId');
      const read = await readJson(c, routes.maxRequestBytes, logger);
      if (!read.ok) return respond(c, read.answer);
      const decoded = decodeTokenReview(read.body, version);
      if (!decoded.ok) {
        log.info({ reqId, code: 400 }, decoded.status.message);
        return respond(c, failure(decoded.status));
      }
      const { input } = decoded;
      const { result, audiences } = await reviewToken(tokens, input);
      const body = reviewBytes.get(input.apiVersion, result, audiences);
      const ms = performance.now() - started;
      if (result.outcome === 'authenticated') {
        metrics.decision('tokenreview', 'authenticated', 'ok');
        log.info({ reqId, decision: 'authenticated', user: result.user.username, ms }, 'tokenreview');
      } else {
        const reason = result.outcome === 'error' ? result.error.code : 'no-opinion';
        metrics.decision('tokenreview', 'rejected', reason);
        log.info({ reqId, decision: 'rejected', reason, ms }, 'tokenreview');
      }
      // A fresh headers object each time: hono keeps the one it is given with the response.
      return c.body(body, 200, { 'content-type': 'application/json' });
    };
  };

  const subjectAccessReview = (decide: Authorizer) => (version: ApiVersionName) => async (c: Context) => {
    const reqId = c.get('requestId');
    const read = await readJson(c, routes.maxRequestBytes, logger);
    if (!read.ok) return respond(c, read.answer);
    const decoded = decodeSubjectAccessReview(read.body, version);
    if (!decoded.ok) return respond(c, decoded.answer);
    const result = await reviewAccess(decide, decoded.input.attributes);
    const outcome =
      result.decision === 'allow' ? 'allowed' : result.decision === 'deny' ? 'denied' : 'no-opinion';
    metrics.decision('subjectaccessreview', outcome, outcome);
    logger.info(
      { reqId, route: `subjectaccessreviews/${version}`, decision: outcome },
      'subjectaccessreview',
    );
    return respond(c, ok(encodeSubjectAccessReview(decoded.input, result, version)));
  };

  for (const version of ['v1', 'v1beta1'] as const) {
    register({ group: 'authentication.k8s.io', resource: 'tokenreviews', version }, tokenReview);
  }
  if (authorizer) {
    for (const version of ['v1', 'v1beta1'] as const) {
      register(
        { group: 'authorization.k8s.io', resource: 'subjectaccessreviews', version },
        subjectAccessReview(authorizer),
      );
    }
  }
}
