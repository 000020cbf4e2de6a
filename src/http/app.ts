import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { RequestAuthenticator, TokenAuthenticator } from '../authn/authenticator.js';
import { NO_OPINION } from '../authn/authenticator.js';
import { reviewSubjectAccess } from '../api/subjectaccessreview.js';
import { decodeTokenReview, encodeTokenReview } from '../api/tokenreview.js';
import type { Authorizer } from '../authz/authorizer.js';
import { authorizeCallers, type ReviewResource } from './middleware/authorize-callers.js';
import { statusOf, type ApiVersionName, type Status, type StatusReason } from '../api/types.js';
import type { Metrics } from '../observe/metrics.js';
import { readBody, requestHeader } from './body.js';
import { nestedDeeperThan } from './json-depth.js';
import { registerOps, type HealthCheck } from './ops.js';

export interface AppComponents {
  /** The whole token chain: union, group adder and cache already applied. */
  readonly authenticator: TokenAuthenticator;
  /** Audiences reviewed when a TokenReview names none (`--api-audiences`). */
  readonly apiAudiences: readonly string[];
  /** Decides SubjectAccessReviews; without one the SAR routes are not served. */
  readonly authorizer?: Authorizer;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /**
   * With `--authorize-callers`: who the caller is (client certificate, front proxy,
   * bearer token); each review then needs `create` on its resource from `authorizer`.
   */
  readonly callerAuthenticator?: RequestAuthenticator;
  readonly readiness: () => readonly HealthCheck[];
  readonly maxRequestBytes: number;
  /** Routes only some commands serve (the dev issuer's discovery documents). */
  readonly extraRoutes?: (app: Hono) => void;
}

function statusResponse(c: Context, code: number, reason: StatusReason, message: string): Response {
  return c.json(statusOf(code, reason, message) satisfies Status, code as 400);
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

let requestCounter = 0;
const requestPrefix = Math.random().toString(36).slice(2, 8);

/**
 * The one hono app behind `serve`, `dev` and the tests. Routes match on the path alone
 * (kube's webhook clients append `?timeout=30s`).
 */
export function createApp(components: AppComponents): Hono {
  const { authenticator, apiAudiences, metrics, logger } = components;
  const app = new Hono();

  // Every response is counted, including those that middleware or notFound answer.
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    metrics.request(
      c.req.routePath === '/*' ? 'other' : c.req.routePath,
      c.res.status,
      (performance.now() - started) / 1000,
    );
  });

  const readJson = async (
    c: Context,
  ): Promise<{ ok: true; body: unknown } | { ok: false; response: Response }> => {
    if (!acceptsBody(c)) {
      return {
        ok: false,
        response: statusResponse(c, 415, 'UnsupportedMediaType', 'the request body must be application/json'),
      };
    }
    const read = await readBody(c, components.maxRequestBytes);
    if (!read.ok) {
      const response = statusResponse(c, 413, 'RequestEntityTooLarge', 'the request body is too large');
      // The rest of the body is never read: the connection cannot be reused.
      response.headers.set('Connection', 'close');
      return { ok: false, response };
    }
    if (nestedDeeperThan(read.text)) {
      return {
        ok: false,
        response: statusResponse(c, 400, 'BadRequest', 'the request body is nested too deeply'),
      };
    }
    try {
      return { ok: true, body: JSON.parse(read.text) };
    } catch {
      // Never the parser's message: V8 quotes the input, which may be a token.
      return {
        ok: false,
        response: statusResponse(c, 400, 'BadRequest', 'the request body is not valid JSON'),
      };
    }
  };

  const gate = (target: ReviewResource): MiddlewareHandler[] => {
    const { callerAuthenticator, authorizer } = components;
    if (!callerAuthenticator) return [];
    if (!authorizer) throw new TypeError('createApp: callerAuthenticator needs an authorizer');
    return [authorizeCallers(target, { authenticator: callerAuthenticator, authorizer, logger })];
  };

  const tokenReview = (version: ApiVersionName) => async (c: Context) => {
    const started = performance.now();
    const reqId = `${requestPrefix}-${++requestCounter}`;
    const route = `tokenreviews/${version}`;
    const read = await readJson(c);
    if (!read.ok) return read.response;
    const decoded = decodeTokenReview(read.body, version);
    if (!decoded.ok) {
      logger.info({ reqId, route, code: 400 }, decoded.status.message);
      return c.json(decoded.status, 400);
    }
    const { input } = decoded;
    const audiences = input.audiences.length > 0 ? input.audiences : apiAudiences;
    const result =
      input.token === undefined ? NO_OPINION : await authenticator.authenticateToken(input.token, audiences);
    const body = JSON.stringify(encodeTokenReview(input.apiVersion, result, audiences));
    const ms = performance.now() - started;
    if (result.outcome === 'authenticated') {
      metrics.decision('tokenreview', 'authenticated', 'ok');
      logger.info({ reqId, route, decision: 'authenticated', user: result.user.username, ms }, 'tokenreview');
    } else {
      const reason = result.outcome === 'error' ? result.error.code : 'no-opinion';
      metrics.decision('tokenreview', 'rejected', reason);
      logger.info({ reqId, route, decision: 'rejected', reason, ms }, 'tokenreview');
    }
    // A fresh headers object each time: hono keeps the one it is given with the response.
    return c.body(body, 200, { 'content-type': 'application/json' });
  };

  for (const version of ['v1', 'v1beta1'] as const) {
    const path = `/apis/authentication.k8s.io/${version}/tokenreviews`;
    for (const mw of gate({ group: 'authentication.k8s.io', resource: 'tokenreviews', version }))
      app.use(path, mw);
    app.post(path, tokenReview(version));
    app.all(path, (c) =>
      statusResponse(c, 405, 'MethodNotAllowed', `${c.req.method} is not supported on tokenreviews`),
    );
  }
  const { authorizer } = components;
  if (authorizer) {
    const subjectAccessReview = (version: ApiVersionName) => async (c: Context) => {
      const reqId = `${requestPrefix}-${++requestCounter}`;
      const read = await readJson(c);
      if (!read.ok) return read.response;
      const answer = reviewSubjectAccess(read.body, version, authorizer);
      const status = (answer.body as { status?: { allowed?: boolean; denied?: boolean } }).status;
      if (answer.status === 200 && status) {
        const outcome = status.allowed ? 'allowed' : status.denied ? 'denied' : 'no-opinion';
        metrics.decision('subjectaccessreview', outcome, outcome);
        logger.info(
          { reqId, route: `subjectaccessreviews/${version}`, decision: outcome },
          'subjectaccessreview',
        );
      }
      return c.json(answer.body, answer.status as 200);
    };
    for (const version of ['v1', 'v1beta1'] as const) {
      const path = `/apis/authorization.k8s.io/${version}/subjectaccessreviews`;
      for (const mw of gate({ group: 'authorization.k8s.io', resource: 'subjectaccessreviews', version })) {
        app.use(path, mw);
      }
      app.post(path, subjectAccessReview(version));
      app.all(path, (c) =>
        statusResponse(
          c,
          405,
          'MethodNotAllowed',
          `${c.req.method} is not supported on subjectaccessreviews`,
        ),
      );
    }
  }
  registerOps(app, { metrics, readiness: components.readiness });
  components.extraRoutes?.(app);

  app.notFound((c) => statusResponse(c, 404, 'NotFound', 'the server could not find the requested resource'));
  app.onError((err, c) => {
    // The message is left out on purpose: an error thrown deep in a parser may quote its input.
    logger.error(
      { errName: err.name, stack: err.stack?.split('\n').slice(1, 6).join('\n') },
      'unhandled error in request',
    );
    return statusResponse(c, 500, 'InternalError', 'an internal error occurred');
  });
  return app;
}
