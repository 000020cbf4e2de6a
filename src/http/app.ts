import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import type { RequestListener } from 'node:http';
import type { Logger } from 'pino';
import { internalError, notFound } from '../api/outcomes.js';
import type { RequestAuthenticator, TokenAuthenticator } from '../authn/authenticator.js';
import type { Authorizer } from '../authz/authorizer.js';
import type { Metrics } from '../observe/metrics.js';
import { authorizeNonResourceCallers } from './middleware/authorize-callers.js';
import { requestIdentity } from './middleware/request-identity.js';
import { registerOps, type Readiness } from './ops.js';
import { respond } from './respond.js';
import { reviewListener } from './review-listener.js';
import { createReviews } from './reviews.js';
import { logUnhandled } from './unhandled.js';

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
   * bearer token); each review then needs `create` on its resource from `authorizer`,
   * and `/metrics` needs `get` on that non-resource URL.
   */
  readonly callerAuthenticator?: RequestAuthenticator;
  /** Who a caller is when callers are not authorized: a SelfSubjectAccessReview asks about its caller. */
  readonly requestAuthenticator?: RequestAuthenticator;
  readonly readiness: Readiness;
  /** /metrics text from elsewhere than `metrics` alone (`serve --workers`: summed across workers). */
  readonly scrape?: () => Promise<string>;
  readonly maxRequestBytes: number;
  /** Routes only some commands serve (the dev issuer's discovery documents). */
  readonly extraRoutes?: (app: Hono) => void;
}

/**
 * The one listener behind `serve`, `dev` and the tests: the review endpoints on a bare node
 * listener (review-listener.ts), everything else (probes, /metrics, 404s, the dev issuer's
 * documents) on the hono app.
 */
export function createListener(components: AppComponents): RequestListener {
  const reviews = createReviews({
    tokens: { authenticator: components.authenticator, apiAudiences: components.apiAudiences },
    ...(components.authorizer ? { authorizer: components.authorizer } : {}),
    ...(components.callerAuthenticator ? { callerAuthenticator: components.callerAuthenticator } : {}),
    ...(components.requestAuthenticator ? { requestAuthenticator: components.requestAuthenticator } : {}),
    metrics: components.metrics,
    logger: components.logger,
    maxRequestBytes: components.maxRequestBytes,
  });
  return reviewListener(reviews, components, getRequestListener(createApp(components).fetch));
}

/** The hono app of every path but the reviews': probes, /metrics, 404s and extra routes. */
export function createApp(components: AppComponents): Hono {
  const { metrics, logger } = components;
  const app = new Hono();

  // Every response is counted, including those that middleware or notFound answer.
  app.use(async (c, next) => {
    const started = performance.now();
    requestIdentity(c);
    await next();
    metrics.request(
      c.req.routePath === '/*' ? 'other' : c.req.routePath,
      c.res.status,
      (performance.now() - started) / 1000,
    );
  });

  if (components.callerAuthenticator) {
    if (!components.authorizer) throw new TypeError('createApp: callerAuthenticator needs an authorizer');
    // As kube's components guard their own /metrics on the secure port (traffic shape and
    // key-source names are not for anyone who can reach the port); the probes stay open,
    // as kube's system:public-info-viewer leaves /healthz, /livez and /readyz.
    app.use(
      '/metrics',
      authorizeNonResourceCallers('get', '/metrics', {
        authenticator: components.callerAuthenticator,
        authorizer: components.authorizer,
        logger,
      }),
    );
  }
  registerOps(app, {
    metrics,
    readiness: components.readiness,
    ...(components.scrape ? { scrape: components.scrape } : {}),
  });
  components.extraRoutes?.(app);

  app.notFound((c) => respond(c, notFound()));
  app.onError((err, c) => {
    logUnhandled(logger, err);
    return respond(c, internalError());
  });
  return app;
}
