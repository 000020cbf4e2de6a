import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import {
  badRequest,
  failure,
  methodNotAllowed,
  tooLarge,
  unauthorized,
  unsupportedMediaType,
  type HttpAnswer,
} from '../api/outcomes.js';
import { decodeAccessReview, type AccessReviewKind } from '../api/subjectaccessreview.js';
import { decodeTokenReview } from '../api/tokenreview.js';
import type { ApiVersionName } from '../api/types.js';
import type { RequestAuthenticator } from '../authn/authenticator.js';
import type { Authorizer, AuthzResult } from '../authz/authorizer.js';
import { ReviewAccessLog } from '../observe/access-log.js';
import type { Metrics } from '../observe/metrics.js';
import { reviewAccess } from '../review/access.js';
import { reviewToken, type TokenReviewer, type TokenReviewOutcome } from '../review/token.js';
import { whenSettled, type MaybePromise } from '../maybe-promise.js';
import type { UserInfo } from '../user.js';
import { readBody, type BodyResult } from './body.js';
import { callerGate, reviewCallerAttributes } from './caller-authorization.js';
import { nestedDeeperThan } from './json-depth.js';
import { authnRequestOf, callerName } from './request-identity.js';
import { REVIEW_RESOURCE, reviewRoutes, type MatchedReview, type ReviewRoute } from './review-routes.js';
import { ReviewBytes, type AnswerText } from './review-bytes.js';
import { AccessReviewAnswers, type DecodedAccessReview } from './access-review-answers.js';

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
  /**
   * `performance.now()` when the review began, which its access line's duration counts from:
   * when the request came in, or when `--authorize-callers` let it through.
   */
  started: number;
  /** The caller `--authorize-callers` authenticated, or the one a SelfSubjectAccessReview asks about. */
  callerUser?: UserInfo;
}

/** A review's answer: an outcome of `api/outcomes.ts`, or a review's text. */
export type ReviewReply = HttpAnswer | AnswerText;

/** Hands a review's answer back; `at` is the `performance.now()` it was complete at, when already read. */
export type Reply = (answer: ReviewReply, at?: number) => void;

/** An error nothing expected, after which the review is answered 500. */
export type Fail = (err: unknown) => void;

export interface Reviews {
  /** The endpoints served, in the order they are registered. */
  readonly routes: readonly ReviewRoute[];
  /**
   * Answers `call` through `reply`, once. From the body's 'end' to `reply` nothing waits for a
   * promise unless something must (a token not in the cache, a remote authorizer, the caller
   * check): a cached review cost a microtask hop and a promise at every step in between
   * (docs/benchmarks.md). An error nothing expected goes to `fail`, or is thrown when it
   * happens before anything waited.
   */
  answer(call: ReviewCall, reply: Reply, fail: Fail): void;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Kube treats a missing Content-Type as JSON and answers 415 only for a type it cannot
 * decode; tokenwarden decodes JSON alone. The type every client sends is compared before
 * the pattern is run: the pattern's test cost about 0.5 µs per answer over HTTPS (perf
 * samples; docs/benchmarks.md), a comparison with a string of the same length next to nothing.
 */
function acceptsBody(incoming: IncomingMessage): boolean {
  const type = incoming.headers['content-type'];
  return type === undefined || type === '' || type === 'application/json' || JSON_TYPE.test(type);
}

type TextRead = { ok: true; text: string } | { ok: false; answer: HttpAnswer };
type JsonRead = { ok: true; body: unknown } | { ok: false; answer: HttpAnswer };

function bodyText(call: ReviewCall, read: BodyResult, logger: Logger): TextRead {
  if (!read.ok && read.problem === 'cut-short') {
    // Nobody is left to answer; the 400 is for the request metrics. Not an error of ours.
    logger.info(
      { path: call.matched.path },
      'the client closed the connection before the whole body arrived',
    );
    return { ok: false, answer: badRequest('the request body was cut short') };
  }
  if (!read.ok) return { ok: false, answer: tooLarge() };
  return read;
}

function parseJson(text: string): JsonRead {
  if (nestedDeeperThan(text))
    return { ok: false, answer: badRequest('the request body is nested too deeply') };
  try {
    return { ok: true, body: JSON.parse(text) };
  } catch {
    // Never the parser's message: V8 quotes the input, which may be a token.
    return { ok: false, answer: badRequest('the request body is not valid JSON') };
  }
}

/**
 * The body's text, to `then`: called from the body's 'end' (or at once, for a body refused
 * before it is read), so what `then` throws is caught here and goes to `fail`.
 */
function readText(
  call: ReviewCall,
  maxBytes: number,
  logger: Logger,
  then: (read: TextRead) => void,
  fail: Fail,
): void {
  const { incoming } = call;
  if (!acceptsBody(incoming)) return then({ ok: false, answer: unsupportedMediaType() });
  readBody(incoming, maxBytes, (read) => {
    try {
      then(bodyText(call, read, logger));
    } catch (err) {
      fail(err);
    }
  });
}

/** The access log's reason code of an authorizer's answer. */
function accessReason(result: AuthzResult): string {
  return result.error !== undefined ? 'evaluation-error' : result.decision;
}

const callerOf = (call: ReviewCall): string | undefined => callerName(call.callerUser, call.incoming.socket);

type Handler = (call: ReviewCall, reply: Reply, fail: Fail) => void;

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
  const refused = (call: ReviewCall, log: ReviewAccessLog, answer: HttpAnswer, reply: Reply): void => {
    const reason = (answer.body as { reason?: string }).reason;
    const now = performance.now();
    log.refused(call.requestId, callerOf(call), reason, answer.status, now - call.started);
    reply(answer, now);
  };

  /** The body's text, to `then`; a body refused before it could be read whole is answered and logged here. */
  const withText = (
    call: ReviewCall,
    log: ReviewAccessLog,
    reply: Reply,
    fail: Fail,
    then: (text: string) => void,
  ): void =>
    readText(
      call,
      routes.maxRequestBytes,
      logger,
      (read) => (read.ok ? then(read.text) : refused(call, log, read.answer, reply)),
      fail,
    );

  /** The body as JSON, to `then`; a body that is not is answered and logged here. */
  const withBody = (
    call: ReviewCall,
    log: ReviewAccessLog,
    reply: Reply,
    fail: Fail,
    then: (body: unknown) => void,
  ): void =>
    withText(call, log, reply, fail, (text) => {
      const parsed = parseJson(text);
      if (!parsed.ok) return refused(call, log, parsed.answer, reply);
      then(parsed.body);
    });

  const reviewBytes = new ReviewBytes();
  const tokenReview = (version: ApiVersionName): Handler => {
    const log = new ReviewAccessLog(logger, `tokenreviews/${version}`, 'tokenreview');
    const answered = (call: ReviewCall, apiVersion: string, outcome: TokenReviewOutcome, reply: Reply) => {
      const { result, audiences } = outcome;
      const answer = reviewBytes.get(apiVersion, result, audiences);
      const now = performance.now();
      const ms = now - call.started;
      const reqId = call.requestId;
      if (result.outcome === 'authenticated') {
        metrics.decision('tokenreview', 'authenticated', 'ok');
        log.token(reqId, callerOf(call), 'authenticated', 'ok', result.user.username, ms);
      } else {
        const reason = result.outcome === 'error' ? result.error.code : 'no-opinion';
        metrics.decision('tokenreview', 'rejected', reason);
        log.token(reqId, callerOf(call), 'rejected', reason, undefined, ms);
      }
      reply(answer, now);
    };
    return (call, reply, fail) =>
      withBody(call, log, reply, fail, (body) => {
        const decoded = decodeTokenReview(body, version);
        if (!decoded.ok) return refused(call, log, failure(decoded.status), reply);
        const { input } = decoded;
        whenSettled(
          reviewToken(tokens, input),
          (outcome) => answered(call, input.apiVersion, outcome, reply),
          fail,
        );
      });
  };

  /**
   * The caller a SelfSubjectAccessReview asks about: the one `--authorize-callers` already
   * authenticated, else whoever the request's credentials name; a credential that does not
   * authenticate is a 401, as kube-apiserver's authentication filter answers it.
   */
  const selfCaller = (call: ReviewCall): MaybePromise<UserInfo | undefined | 'unauthorized'> => {
    if (call.callerUser) return call.callerUser;
    if (!routes.requestAuthenticator) return undefined;
    return routes.requestAuthenticator.authenticateRequest(authnRequestOf(call.incoming)).then((result) => {
      if (result.outcome === 'authenticated') {
        call.callerUser = result.user;
        return result.user;
      }
      return result.outcome === 'error' ? 'unauthorized' : undefined;
    });
  };

  const accessReview = (kind: AccessReviewKind, decider: Authorizer, version: ApiVersionName): Handler => {
    const name = kind.toLowerCase() as Lowercase<AccessReviewKind>;
    const log = new ReviewAccessLog(logger, `${REVIEW_RESOURCE[kind]}/${version}`, name);
    const answers = new AccessReviewAnswers(version, { keep: kind !== 'SelfSubjectAccessReview' });
    const decided = (call: ReviewCall, review: DecodedAccessReview, result: AuthzResult, reply: Reply) => {
      const decision = result.decision === 'allow' ? 'allowed' : 'denied';
      const reason = accessReason(result);
      metrics.decision(name, decision, reason);
      const answer = answers.answer(review, result);
      const now = performance.now();
      log.access(
        call.requestId,
        callerOf(call),
        decision,
        reason,
        review.input.attributes,
        result.reason,
        now - call.started,
      );
      reply(answer, now);
    };
    const decide = (call: ReviewCall, review: DecodedAccessReview, reply: Reply, fail: Fail): void =>
      whenSettled(
        reviewAccess(decider, review.input.attributes),
        (result) => decided(call, review, result, reply),
        fail,
      );
    const readAndDecide = (call: ReviewCall, caller: UserInfo | undefined, reply: Reply, fail: Fail): void =>
      withText(call, log, reply, fail, (text) => {
        const { namespace } = call.matched;
        const key = answers.keyOf(namespace, text);
        const known = answers.get(key);
        if (known !== undefined) return decide(call, known, reply, fail);
        const parsed = parseJson(text);
        if (!parsed.ok) return refused(call, log, parsed.answer, reply);
        const decoded = decodeAccessReview(parsed.body, {
          kind,
          version,
          ...(kind === 'LocalSubjectAccessReview' ? { namespace } : {}),
          ...(caller ? { caller } : {}),
        });
        if (!decoded.ok) return refused(call, log, decoded.answer, reply);
        decide(call, answers.remember(key, decoded.input), reply, fail);
      });
    if (kind !== 'SelfSubjectAccessReview')
      return (call, reply, fail) => readAndDecide(call, undefined, reply, fail);
    return (call, reply, fail) =>
      whenSettled(
        selfCaller(call),
        (who) => {
          if (who === 'unauthorized') return refused(call, log, unauthorized(), reply);
          readAndDecide(call, who, reply, fail);
        },
        fail,
      );
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

  /** The method checked, then the route's handler. */
  const handle = (call: ReviewCall, handler: Handler, reply: Reply, fail: Fail): void => {
    if (call.incoming.method !== 'POST')
      return reply(methodNotAllowed(call.incoming.method ?? 'GET', call.matched.route.target.resource));
    handler(call, reply, fail);
  };

  return {
    routes: served,
    answer(call, reply, fail) {
      const { route } = call.matched;
      const handler = handlers.get(route)!;
      if (!gate) return handle(call, handler.handle, reply, fail);
      // Callers are authorized whatever the method, before a 405 says which one the endpoint takes.
      whenSettled(
        gate(
          authnRequestOf(call.incoming),
          {
            requestId: call.requestId,
            target: handler.target,
            socket: call.incoming.socket,
          },
          reviewCallerAttributes(route.target, call.matched.namespace, call.matched.path),
        ),
        (checked) => {
          if (!checked.ok) return reply(checked.answer);
          call.callerUser = checked.user;
          call.started = performance.now();
          handle(call, handler.handle, reply, fail);
        },
        fail,
      );
    },
  };
}
