import { pino, type DestinationStream, type Logger } from 'pino';
import type { Attributes } from '../authz/authorizer.js';
import { jsonString } from '../json.js';
import type { UserInfo } from '../user.js';

/**
 * Access lines, byte for byte what `logger.info(fields, msg)` writes, without pino's work
 * per call: `logger.info` walks the fields object, runs every value through the redactor
 * (the `*.token` path puts one on every key) and re-quotes every key, about 13 µs of a
 * cached review's 250 µs (docs/benchmarks.md). Here everything but the values is built once
 * per line kind from the logger's own pieces (level label, clock, bindings, message, end of
 * line), and the line goes to the logger's own destination: batching, the PIPE_BUF cap of
 * `serve --workers`, the flush on SIGTERM and `--log-level` apply to it unchanged.
 *
 * No token can reach a line: each kind takes a fixed list of typed values, never an object
 * to walk, so a field nobody named is never written.
 */

const S = pino.symbols;

/** The parts of a pino logger `write` (lib/proto.js) and `asJson` (lib/tools.js) assemble a line from. */
interface PinoInternals {
  readonly [S.lsCacheSym]: Readonly<Record<number, string>>;
  readonly [S.timeSym]: () => string;
  readonly [S.chindingsSym]: string;
  readonly [S.messageKeySym]: string;
  readonly [S.endSym]: string;
  readonly [S.streamSym]: DestinationStream & { readonly [S.needsMetadataGsym]?: boolean };
}

const INFO = 30;

/**
 * A string value as pino writes it: `createLogger`'s `*.token` redaction path gives every
 * key pino's wildcard redactor, which serialises a string with `JSON.stringify`.
 */
const text = (key: string, value: string | undefined): string =>
  value === undefined ? '' : `,"${key}":${jsonString(value)}`;

/**
 * A number as pino writes it (`JSON.stringify`'s digits; non-finite values become `null`).
 * Not `${value}`: V8 turns a number into a string through a cache of recent conversions
 * that lives in the old generation, so each new value (a request's `ms`, the clock's
 * milliseconds) and its string outlived the scavenges and were promoted, ≈ 40 bytes a line
 * that brought the next mark-compact sooner (docs/benchmarks.md). `JSON.stringify` writes
 * the same digits without that cache.
 */
const num = (key: string, value: number): string => `,"${key}":${JSON.stringify(value)}`;

/**
 * pino's default clock field (`pino.stdTimeFunctions.epochTime`), byte for byte, built once
 * per millisecond and without the number-to-string cache (see `num`).
 */
let clockMs = -1;
let clockField = '';
const epochTime = (): string => {
  const now = Date.now();
  if (now !== clockMs) {
    clockMs = now;
    clockField = `,"time":${JSON.stringify(now)}`;
  }
  return clockField;
};

/** One kind of line on one logger: the level label, bindings and message built once. */
class LineKind {
  private readonly pino: Logger & PinoInternals;
  private readonly head: string;
  private readonly bindings: string;
  private readonly tail: string;
  /** The logger's clock field; pino's default one replaced by the same bytes built without garbage that outlives a line. */
  private readonly time: (this: Logger) => string;

  constructor(logger: Logger, msg: string) {
    this.pino = logger as Logger & PinoInternals;
    if (this.pino[S.streamSym][S.needsMetadataGsym] === true)
      throw new TypeError(
        'the access log writes lines whole: a destination that needs metadata (pino.multistream) is not supported',
      );
    this.head = this.pino[S.lsCacheSym][INFO]!;
    this.bindings = this.pino[S.chindingsSym];
    this.tail = `,"${this.pino[S.messageKeySym]}":${JSON.stringify(msg)}${this.pino[S.endSym]}`;
    const time = this.pino[S.timeSym];
    this.time = time === pino.stdTimeFunctions.epochTime ? epochTime : time;
  }

  /** `fields` starts with a comma: `,"reqId":"…",…`. */
  write(fields: string): void {
    // The logger's own level, read on each line as `logger.info` reads it (pino's noop).
    if (this.pino.levelVal > INFO) return;
    this.pino[S.streamSym].write(this.head + this.time.call(this.pino) + this.bindings + fields + this.tail);
  }
}

/**
 * `text(key, value)` of the value last given, kept: the escaping check runs on a regular
 * expression, about 0.1 µs a value over HTTPS (perf samples; docs/benchmarks.md), and a
 * comparison with the last value costs next to nothing when it repeats.
 */
class LastField {
  private value: string | undefined = undefined;
  /** Always `text(key, value)`: for no value, no field. */
  private field = '';

  constructor(private readonly key: string) {}

  of(value: string | undefined): string {
    if (value !== this.value) {
      this.value = value;
      this.field = text(this.key, value);
    }
    return this.field;
  }
}

/** The resource a request asks about, after its verb. */
const resourceFields = (a: Attributes): string =>
  `${text('namespace', a.namespace)}${text('apiGroup', a.apiGroup)}${text('resource', a.resource)}` +
  `${text('subresource', a.subresource)}${text('name', a.name)}`;

export type ReviewName =
  'tokenreview' | 'subjectaccessreview' | 'localsubjectaccessreview' | 'selfsubjectaccessreview';

/** The access lines of one review route (`tokenreviews/v1`, …), bound to it as `route`. */
export class ReviewAccessLog {
  private readonly line: LineKind;
  /** A connection's caller and a decision's reason repeat from line to line: each is escaped once. */
  private readonly caller = new LastField('caller');
  private readonly reason = new LastField('reason');

  constructor(logger: Logger, route: string, review: ReviewName) {
    this.line = new LineKind(logger.child({ route }), review);
  }

  /** A TokenReview answered: `user` for an authenticated one. */
  token(
    reqId: string | undefined,
    caller: string | undefined,
    decision: 'authenticated' | 'rejected',
    reason: string,
    user: string | undefined,
    ms: number,
  ): void {
    this.line.write(
      `${text('reqId', reqId)}${this.caller.of(caller)},"decision":"${decision}"${this.reason.of(reason)}${text('user', user)}${num('ms', ms)}`,
    );
  }

  /**
   * A SubjectAccessReview (of any kind) answered: the user's name and group count, and the
   * attributes asked about. `authzReason`, the authorizer's reason, is left out when empty.
   */
  access(
    reqId: string | undefined,
    caller: string | undefined,
    decision: 'allowed' | 'denied',
    reason: string,
    a: Attributes,
    authzReason: string,
    ms: number,
  ): void {
    const asked = a.resourceRequest ? resourceFields(a) : text('path', a.path);
    this.line.write(
      `${text('reqId', reqId)}${this.caller.of(caller)},"decision":"${decision}"${this.reason.of(reason)}` +
        `${text('user', a.user.username)}${num('groups', a.user.groups.length)}${text('verb', a.verb)}${asked}` +
        `${authzReason === '' ? '' : text('authzReason', authzReason)}${num('ms', ms)}`,
    );
  }

  /** A review refused before any decision (400, 401, 413, 415, 422); `reason` is its Status reason. */
  refused(
    reqId: string | undefined,
    caller: string | undefined,
    reason: string | undefined,
    code: number,
    ms: number,
  ): void {
    this.line.write(
      `${text('reqId', reqId)}${text('caller', caller)},"decision":"invalid"${text('reason', reason)}${num('code', code)}${num('ms', ms)}`,
    );
  }
}

/** The access lines of `--authorize-callers`: a caller refused before its request is handled. */
export class CallerAccessLog {
  private readonly unauthenticated: LineKind;
  private readonly forbidden: LineKind;

  constructor(logger: Logger) {
    this.unauthenticated = new LineKind(logger, 'caller not authenticated');
    this.forbidden = new LineKind(logger, 'caller not allowed');
  }

  /** 401: no credential, or one that does not authenticate (`reason` is its code). */
  notAuthenticated(
    reqId: string | undefined,
    target: string,
    caller: string | undefined,
    reason: string,
  ): void {
    this.unauthenticated.write(this.fields(reqId, target, caller, reason, 401));
  }

  /** 403: authenticated, but not allowed what the target needs. */
  notAllowed(reqId: string | undefined, target: string, caller: string, reason: string): void {
    this.forbidden.write(this.fields(reqId, target, caller, reason, 403));
  }

  private fields(
    reqId: string | undefined,
    target: string,
    caller: string | undefined,
    reason: string,
    code: number,
  ): string {
    return `${text('reqId', reqId)}${text('target', target)}${text('caller', caller)},"decision":"denied"${text('reason', reason)}${num('code', code)}`;
  }
}

/** The sidecar's access lines (the proxy and `/check`): one per decision of its gate. */
export class ProxyAccessLog {
  private readonly line: LineKind;

  constructor(logger: Logger) {
    this.line = new LineKind(logger, 'request');
  }

  /**
   * `denial` is the kind of a refusal; `user` and `impersonator` once known; `a` the
   * attributes authorized or refused, when the gate authorized per request.
   */
  request(
    reqId: string | undefined,
    caller: string | undefined,
    method: string,
    path: string | undefined,
    decision: 'allowed' | 'denied',
    reason: string,
    denial: string | undefined,
    user: UserInfo | undefined,
    impersonator: string | undefined,
    a: Attributes | undefined,
    ms: number,
  ): void {
    const who =
      user === undefined ? '' : `${text('user', user.username)}${num('groups', user.groups.length)}`;
    const asked =
      a === undefined
        ? ''
        : a.resourceRequest
          ? `${text('verb', a.verb)}${resourceFields(a)}`
          : `${text('verb', a.verb)}${text('nonResourcePath', a.path)}`;
    this.line.write(
      `${text('reqId', reqId)}${text('caller', caller)}${text('method', method)}${text('path', path)}` +
        `,"decision":"${decision}"${text('reason', reason)}${text('denial', denial)}${who}` +
        `${text('impersonator', impersonator)}${asked}${num('ms', ms)}`,
    );
  }
}
