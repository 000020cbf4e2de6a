import type { IncomingMessage } from 'node:http';
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
import { readBody } from './body.js';
import { callerGate, reviewCallerAttributes } from './caller-authorization.js';
import { nestedDeeperThan } from './json-depth.js';
import { authnRequestOf, callerName } from './request-identity.js';
import { REVIEW_RESOURCE, reviewRoutes, type MatchedReview, type ReviewRoute } from './review-routes.js';
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

/** One request to a review endpoint, as the listener hands it over. */
export interface ReviewCall {
  readonly incoming: IncomingMessage;
  readonly requestId: string;
  readonly matched: MatchedReview;
  /** The caller `--authorize-callers` authenticated, or the one a SelfSubjectAccessReview asks about. */
  callerUser?: UserInfo;
}

/** A review's answer: an outcome of `api/outcomes.ts`, or the bytes of a TokenReview. */
export type ReviewReply = HttpAnswer | { readonly status: 200; readonly bytes: string | Uint8Array };

export interface Reviews {
  /** The endpoints served, in the order they are registered. */
  readonly routes: readonly ReviewRoute[];
  answer(call: ReviewCall): Promise<ReviewReply>;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Kube treats a missing Content-Type as JSON and answers 415 only for a type it cannot
 * decode; tokenwarden decodes JSON alone.
 */
function acceptsBody(incoming: IncomingMessage): boolean {
  const type = incoming.headers['content-type'];
  return type === undefined || type === '' || JSON_TYPE.test(type);
}

async function readJson(
  call: ReviewCall,
  maxBytes: number,
  logger: Logger,
): Promise<{ ok: true; body: unknown } | { ok: false; answer: HttpAnswer }> {
  const { incoming } = call;
  if (!acceptsBody(incoming)) return { ok: false, answer: unsupportedMediaType() };
  const read = await readBody(incoming, maxBytes);
  if (!read.ok && read.problem === 'cut-short') {
    // Nobody is left to answer; the 400 is for the request metrics. Not an error of ours.
    logger.info(
      { path: call.matched.path },
      'the client closed the connection before the whole body arrived',
    );
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

const callerOf = (call: ReviewCall): string | undefined => callerName(call.callerUser, call.incoming.socket);

type Handler = (call: ReviewCall) => Promise<ReviewReply>;

/**
 * The review endpoints, free of any web framework: caller authorization, the method,
 * then decode, decide through the use cases, encode. Every review writes one access line:
 * request id, caller, decision, reason code, subject and duration, never the token.
 */
export function createReviews(routes: ReviewRoutes): Reviews {
  const { tokens, authorizer, metrics, logger, callerAuthenticator } = routes;
  if (callerAuthenticator && !authorizer)
    throw new TypeError('createApp: callerAuthenticator needs an authorizer');

  /** A refusal before any decision (400, 401, 413, 415, 422), on the review's access line. */
  const refused = (call: ReviewCall, log: ReviewAccessLog, answer: HttpAnswer, started: number) => {
    const reason = (answer.body as { reason?: string }).reason;
    log.refused(call.requestId, callerOf(call), reason, answer.status, performance.now() - started);
    return answer;
  };

  const reviewBytes = new ReviewBytes();
  const tokenReview = (version: ApiVersionName): Handler => {
    const log = new ReviewAccessLog(logger, `tokenreviews/${version}`, 'tokenreview');
    return async (call) => {
      const started = performance.now();
      const read = await readJson(call, routes.maxRequestBytes, logger);
      if (!read.ok) return refused(call, log, read.answer, started);
      const decoded = decodeTokenReview(read.body, version);
      if (!decoded.ok) return refused(call, log, failure(decoded.status), started);
      const { input } = decoded;
      const { result, audiences } = await reviewToken(tokens, input);
      const bytes = reviewBytes.get(input.apiVersion, result, audiences);
      const ms = performance.now() - started;
      const reqId = call.requestId;
      if (result.outcome === 'authenticated') {
        metrics.decision('tokenreview', 'authenticated', 'ok');
        log.token(reqId, callerOf(call), 'authenticated', 'ok', result.user.username, ms);
      } else {
        const reason = result.outcome === 'error' ? result.error.code : 'no-opinion';
        metrics.decision('tokenreview', 'rejected', reason);
        log.token(reqId, callerOf(call), 'rejected', reason, undefined, ms);
      }
      return { status: 200, bytes };
    };
  };

  /**
   * The caller a SelfSubjectAccessReview asks about: the one `--authorize-callers` already
   * authenticated, else whoever the request's credentials name; a credential that does not
   * authenticate is a 401, as kube-apiserver's authentication filter answers it.
   */
  const selfCaller = async (call: ReviewCall): Promise<UserInfo | undefined | 'unauthorized'> => {
    if (call.callerUser) return call.callerUser;
    if (!routes.requestAuthenticator) return undefined;
    const result = await routes.requestAuthenticator.authenticateRequest(authnRequestOf(call.incoming));
    if (result.outcome === 'authenticated') {
      call.callerUser = result.user;
      return result.user;
    }
    return result.outcome === 'error' ? 'unauthorized' : undefined;
  };

  const accessReview = (kind: AccessReviewKind, decide: Authorizer, version: ApiVersionName): Handler => {
    const review = kind.toLowerCase() as Lowercase<AccessReviewKind>;
    const log = new ReviewAccessLog(logger, `${REVIEW_RESOURCE[kind]}/${version}`, review);
    return async (call) => {
      const started = performance.now();
      let caller: UserInfo | undefined;
      if (kind === 'SelfSubjectAccessReview') {
        const who = await selfCaller(call);
        if (who === 'unauthorized') return refused(call, log, unauthorized(), started);
        caller = who;
      }
      const read = await readJson(call, routes.maxRequestBytes, logger);
      if (!read.ok) return refused(call, log, read.answer, started);
      const decoded = decodeAccessReview(read.body, {
        kind,
        version,
        ...(kind === 'LocalSubjectAccessReview' ? { namespace: call.matched.namespace } : {}),
        ...(caller ? { caller } : {}),
      });
      if (!decoded.ok) return refused(call, log, decoded.answer, started);
      const { attributes } = decoded.input;
      const result = await reviewAccess(decide, attributes);
      const decision = result.decision === 'allow' ? 'allowed' : 'denied';
      const reason = accessReason(result);
      metrics.decision(review, decision, reason);
      log.access(
        call.requestId,
        callerOf(call),
        decision,
        reason,
        attributes,
        result.reason,
        performance.now() - started,
      );
      return ok(encodeSubjectAccessReview(decoded.input, result, version));
    };
  };

  const gate =
    callerAuthenticator && authorizer
      ? callerGate({ authenticator: callerAuthenticator, authorizer, logger })
      : undefined;
  const served = reviewRoutes(authorizer !== undefined);
  // Per route, built once: its handler and the name the caller gate logs it by.
  const handlers = new Map<ReviewRoute, { readonly handle: Handler; readonly target: string }>();
  for (const r of served) {
    const { version } = r.target;
    handlers.set(r, {
      handle: r.kind === 'TokenReview' ? tokenReview(version) : accessReview(r.kind, authorizer!, version),
      target: `${r.target.resource}.${r.target.group}`,
    });
  }

  return {
    routes: served,
    async answer(call) {
      const { route } = call.matched;
      const handler = handlers.get(route)!;
      // Callers are authorized whatever the method, before a 405 says which one the endpoint takes.
      if (gate) {
        const checked = await gate(
          authnRequestOf(call.incoming),
          {
            requestId: call.requestId,
            target: handler.target,
            socket: call.incoming.socket,
          },
          reviewCallerAttributes(route.target, call.matched.namespace, call.matched.path),
        );
        if (!checked.ok) return checked.answer;
        call.callerUser = checked.user;
      }
      if (call.incoming.method !== 'POST')
        return methodNotAllowed(call.incoming.method ?? 'GET', route.target.resource);
      return handler.handle(call);
    },
  };
}
