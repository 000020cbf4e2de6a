// The differential suite's judge: both answers normalised to the fields kube-apiserver's clients read, compared field
// by field, and each case's outcome checked against what the case expects: a match, or a difference that README.md,
// live mode or the configuration explains, together with tokenwarden's exact answer. Answers hold no tokens (the
// harness strips kube's spec.token; tokenwarden never echoes it), so everything here may be printed.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { JsonResponse } from './https.js';

/**
 * What a case expects of the comparison. Anything but `match` names why the answers differ and gives tokenwarden's
 * whole answer (`tokenwarden`, built with `refusedWith` or `authenticatedAs`): a difference is explained only when
 * tokenwarden says exactly that, so a classified case catches a wrong "yes", a wrong identity or a 5xx as surely as a
 * `match` case does.
 */
export type Expectation =
  | { readonly kind: 'match' }
  /** README.md, "Where tokenwarden is stricter than kube-apiserver, on purpose": `row` is the table's input column. */
  | { readonly kind: 'stricter-by-design'; readonly row: string; readonly tokenwarden: NormalTokenReview }
  /** kube looks the bound object up and refuses; offline tokenwarden cannot. In live mode such a case must match. */
  | { readonly kind: 'needs-live-mode'; readonly why: string; readonly tokenwarden: NormalTokenReview }
  /**
   * tokenwarden is deliberately configured with something the apiserver does not have (a second issuer and key), so
   * kube refuses.
   */
  | { readonly kind: 'config-differs'; readonly why: string; readonly tokenwarden: NormalTokenReview };

export type DifferenceClass =
  Exclude<Expectation['kind'], 'match'> | 'reason-order' | 'managed-fields' | 'unexplained';

export const MATCH: Expectation = { kind: 'match' };
export const stricter = (row: string, tokenwarden: NormalTokenReview): Expectation => ({
  kind: 'stricter-by-design',
  row,
  tokenwarden,
});
/**
 * What a case expects of tokenwarden in live mode: what it expects offline, except that a difference only live mode
 * could remove must be gone.
 */
export const inLiveMode = (expect: Expectation): Expectation =>
  expect.kind === 'needs-live-mode' ? MATCH : expect;

export const needsLiveMode = (why: string, tokenwarden: NormalTokenReview): Expectation => ({
  kind: 'needs-live-mode',
  why,
  tokenwarden,
});
export const configDiffers = (why: string, tokenwarden: NormalTokenReview): Expectation => ({
  kind: 'config-differs',
  why,
  tokenwarden,
});

export interface FieldDifference {
  readonly field: string;
  readonly kube: unknown;
  readonly tokenwarden: unknown;
}

// ---- TokenReview ----

export interface NormalTokenReview {
  /** `review` for a 2xx review answer (kube 201, tokenwarden 200); else `HTTP <code>`. */
  readonly answer: string;
  /** Compared only with an expected answer: kube creates (201) where tokenwarden answers (200). */
  readonly httpStatus: number;
  readonly authenticated: boolean;
  readonly username: string | undefined;
  readonly uid: string | undefined;
  readonly groups: readonly string[] | undefined;
  readonly extra: Readonly<Record<string, readonly string[]>> | undefined;
  readonly audiences: readonly string[] | undefined;
  readonly error: string | undefined;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const strList = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.length > 0 ? v.map((x) => String(x)) : undefined;

function answerOf(res: JsonResponse): string {
  if (res.status >= 200 && res.status < 300) return 'review';
  const message = str(obj(res.body).message);
  return `HTTP ${res.status}${message === undefined ? '' : `: ${message}`}`;
}

/** An omitted `authenticated` is false and an empty list or map is absent, as kube's omitempty fields read. */
export function normalizeTokenReview(res: JsonResponse): NormalTokenReview {
  const status = obj(obj(res.body).status);
  const user = obj(status.user);
  const extraEntries = Object.entries(obj(user.extra))
    .map(([k, v]) => [k, strList(v) ?? []] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    answer: answerOf(res),
    httpStatus: res.status,
    authenticated: status.authenticated === true,
    username: str(user.username),
    uid: str(user.uid),
    groups: strList(user.groups),
    extra: extraEntries.length > 0 ? Object.fromEntries(extraEntries) : undefined,
    audiences: strList(status.audiences),
    error: str(status.error),
  };
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** A list of differences and the function that adds one when kube's and tokenwarden's values differ. */
function differ(): [FieldDifference[], (name: string, kube: unknown, tokenwarden: unknown) => void] {
  const diffs: FieldDifference[] = [];
  return [
    diffs,
    (field, kube, tokenwarden) => {
      if (!same(kube, tokenwarden)) diffs.push({ field, kube, tokenwarden });
    },
  ];
}

export function diffTokenReviews(kube: NormalTokenReview, ours: NormalTokenReview): FieldDifference[] {
  const [diffs, field] = differ();
  field('answer', kube.answer, ours.answer);
  field('authenticated', kube.authenticated, ours.authenticated);
  field('user.username', kube.username, ours.username);
  field('user.uid', kube.uid, ours.uid);
  field('user.groups', kube.groups, ours.groups);
  field('user.extra', kube.extra, ours.extra);
  field('audiences', kube.audiences, ours.audiences);
  if ((kube.error === undefined) !== (ours.error === undefined)) {
    diffs.push({ field: 'error (presence)', kube: kube.error ?? null, tokenwarden: ours.error ?? null });
  } else {
    field('error (text)', kube.error, ours.error);
  }
  return diffs;
}

/** tokenwarden's refusal: HTTP 200, `authenticated: false` and exactly this `status.error`. */
export function refusedWith(error: string): NormalTokenReview {
  return normalizeTokenReview({ status: 200, body: { status: { authenticated: false, error } } });
}

/** kube's refusal of a bearer token: its authenticators' error wrapped once (their union), or no reason at all. */
export const invalidBearer = (reason?: string): NormalTokenReview =>
  refusedWith(reason === undefined ? 'invalid bearer token' : `[invalid bearer token, ${reason}]`);

export interface ExpectedUser {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

/** tokenwarden's acceptance: HTTP 200, `authenticated: true`, exactly this user and these `status.audiences`. */
export function authenticatedAs(user: ExpectedUser, audiences: readonly string[]): NormalTokenReview {
  return normalizeTokenReview({ status: 200, body: { status: { authenticated: true, user, audiences } } });
}

/** Every field of tokenwarden's answer that is not the expected one, the HTTP status included. */
export function diffFromExpected(expected: NormalTokenReview, ours: NormalTokenReview): FieldDifference[] {
  const [diffs, field] = differ();
  field('HTTP status', expected.httpStatus, ours.httpStatus);
  for (const d of diffTokenReviews(expected, ours)) field(d.field, d.kube, d.tokenwarden);
  return diffs;
}

// ---- SubjectAccessReview ----

export interface NormalSubjectAccessReview {
  readonly answer: string;
  readonly allowed: boolean;
  readonly denied: boolean;
  readonly reason: string;
  readonly evaluationError: string | undefined;
}

export function normalizeSubjectAccessReview(res: JsonResponse): NormalSubjectAccessReview {
  const status = obj(obj(res.body).status);
  return {
    answer: answerOf(res),
    allowed: status.allowed === true,
    denied: status.denied === true,
    reason: typeof status.reason === 'string' ? status.reason : '',
    evaluationError: str(status.evaluationError),
  };
}

export function diffSubjectAccessReviews(
  kube: NormalSubjectAccessReview,
  ours: NormalSubjectAccessReview,
): FieldDifference[] {
  const [diffs, field] = differ();
  field('answer', kube.answer, ours.answer);
  field('allowed', kube.allowed, ours.allowed);
  field('denied', kube.denied, ours.denied);
  field('reason', kube.reason, ours.reason);
  field('evaluationError (presence)', kube.evaluationError !== undefined, ours.evaluationError !== undefined);
  return diffs;
}

const ALLOWED_BY = /^RBAC: allowed by (ClusterRoleBinding "[^"]*"|RoleBinding "[^"]*\/[^"]*") of /;

/** `prefix[a, b, c]` (an aggregate error) as its prefix and its items sorted; undefined for any other text. */
function aggregateItems(text: string): string | undefined {
  const m = /^([^[]*)\[(.*)\]$/s.exec(text);
  return m ? `${m[1]}${m[2]!.split(', ').sort().join(', ')}` : undefined;
}

/**
 * Only the reason differs, and only by walk order: kube lists bindings from its informers in map order
 * (plugin/pkg/auth/authorizer/rbac/rbac.go), so when two bindings grant it may name either, and when several bindings fail to
 * resolve it lists their errors in either order. For two allows the caller still checks that the binding kube
 * named exists in the policy tokenwarden serves.
 */
export function isReasonOrder(
  kube: NormalSubjectAccessReview,
  ours: NormalSubjectAccessReview,
  diffs: readonly FieldDifference[],
): boolean {
  if (diffs.length !== 1 || diffs[0]!.field !== 'reason') return false;
  if (kube.allowed && ours.allowed) return ALLOWED_BY.test(kube.reason) && ALLOWED_BY.test(ours.reason);
  const kubeItems = aggregateItems(kube.reason);
  return !kube.allowed && kubeItems !== undefined && kubeItems === aggregateItems(ours.reason);
}

/** kube's printed ObjectMeta ends with the managedFields its field manager added: last in the struct, so last in the JSON. */
const MANAGED_FIELDS = /,"managedFields":\[.*\](?=\}: must be empty)/;

/**
 * Only the 422 text differs, and only by the `managedFields` kube prints inside the invalid metadata: its field
 * manager records the request (with its time, to the second) before validation runs, and tokenwarden, which stores
 * nothing, has none to print. Everything else in the message must be equal.
 */
export function isManagedFields(
  kube: NormalSubjectAccessReview,
  ours: NormalSubjectAccessReview,
  diffs: readonly FieldDifference[],
): boolean {
  if (diffs.length !== 1 || diffs[0]!.field !== 'answer') return false;
  return kube.answer.startsWith('HTTP 422: ') && kube.answer.replace(MANAGED_FIELDS, '') === ours.answer;
}

// ---- judging a case ----

export interface Verdict {
  readonly ok: boolean;
  /** The class the case is counted under: `match` or a difference class. */
  readonly counted: 'match' | DifferenceClass;
  readonly problem?: string;
  /** kube's answer against tokenwarden's, field by field. */
  readonly diffs: readonly FieldDifference[];
}

/** Classes whose difference is kube refusing where tokenwarden, told more or looking less, does not refuse alike. */
const KUBE_REFUSES: ReadonlySet<Expectation['kind']> = new Set(['needs-live-mode', 'config-differs']);

/**
 * A `match` case must show no difference. A classified case must show one (else its classification is stale, and
 * the list of known differences would stop being true), tokenwarden's answer must be exactly the one the case
 * expects (HTTP status, authenticated, user, audiences and error text), and for needs-live-mode and config-differs
 * kube must be the one refusing.
 */
export function judge(expect: Expectation, kube: NormalTokenReview, ours: NormalTokenReview): Verdict {
  const diffs = diffTokenReviews(kube, ours);
  if (expect.kind === 'match') {
    return diffs.length === 0
      ? { ok: true, counted: 'match', diffs }
      : { ok: false, counted: 'unexplained', problem: 'answers differ', diffs };
  }
  if (diffs.length === 0) {
    return {
      ok: false,
      counted: 'match',
      problem: `classified ${expect.kind}, but the answers match: drop the classification`,
      diffs,
    };
  }
  const unexpected = diffFromExpected(expect.tokenwarden, ours);
  if (unexpected.length > 0) {
    return {
      ok: false,
      counted: 'unexplained',
      problem:
        `classified ${expect.kind}, but tokenwarden's answer is not the expected one: ` +
        formatDifferences(unexpected, 'expected'),
      diffs,
    };
  }
  if (KUBE_REFUSES.has(expect.kind) && kube.authenticated) {
    return {
      ok: false,
      counted: 'unexplained',
      problem: `classified ${expect.kind}, but kube accepts`,
      diffs,
    };
  }
  return { ok: true, counted: expect.kind, diffs };
}

export function describeExpectation(expect: Expectation): string {
  switch (expect.kind) {
    case 'match':
      return 'match';
    case 'stricter-by-design':
      return `stricter-by-design (README row: ${expect.row})`;
    case 'needs-live-mode':
      return `needs live mode (${expect.why})`;
    case 'config-differs':
      return `config differs (${expect.why})`;
  }
}

/** `reference` names the left-hand values: kube's answer, or the answer a case expects of tokenwarden. */
export function formatDifferences(diffs: readonly FieldDifference[], reference = 'kube'): string {
  return diffs
    .map(
      (d) =>
        `${d.field}: ${reference} ${JSON.stringify(d.kube)} | tokenwarden ${JSON.stringify(d.tokenwarden)}`,
    )
    .join('; ');
}

// ---- the ledger behind the one-line summary ----

export type ReviewKind = 'tokens' | 'sars';

/** `live`: tokenwarden in live mode (`--kubeconfig` to the same apiserver), counted apart from the offline runs. */
export type Mode = 'offline' | 'live';

export interface LedgerEntry {
  readonly kind: ReviewKind;
  /** Defaults to offline. */
  readonly mode?: Mode;
  readonly name: string;
  readonly counted: 'match' | DifferenceClass;
  readonly ok: boolean;
  readonly detail: string;
}

/** Counts one test file's comparisons; `flush` leaves them where the global teardown sums every file's. */
export class Ledger {
  readonly entries: LedgerEntry[] = [];

  record(entry: LedgerEntry): void {
    this.entries.push(entry);
  }

  counts(kind: ReviewKind, mode: Mode = 'offline'): KindCounts {
    return countEntries(this.entries.filter((e) => e.kind === kind && (e.mode ?? 'offline') === mode));
  }

  /** Each difference on one line, grouped by class: the material for docs/fidelity.md. */
  report(kind: ReviewKind): string {
    return this.entries
      .filter((e) => e.kind === kind && e.counted !== 'match')
      .sort((a, b) => (a.counted < b.counted ? -1 : a.counted > b.counted ? 1 : 0))
      .map(
        (e) =>
          `  [${e.mode === 'live' ? 'live, ' : ''}${e.counted}${e.ok ? '' : ', FAILS'}] ${e.name}: ${e.detail}`,
      )
      .join('\n');
  }

  flush(dir: string | undefined, file: string): void {
    if (dir === undefined) return;
    mkdirSync(dir, { recursive: true });
    const data: LedgerFile = {
      tokens: this.counts('tokens'),
      sars: this.counts('sars'),
      live: { tokens: this.counts('tokens', 'live'), sars: this.counts('sars', 'live') },
    };
    writeFileSync(join(dir, `${file.replace(/[^\w.-]/g, '_')}.json`), JSON.stringify(data));
  }
}

type LedgerFile = Record<ReviewKind, KindCounts> & { readonly live?: Record<ReviewKind, KindCounts> };

export interface KindCounts {
  compared: number;
  differences: number;
  byClass: Partial<Record<DifferenceClass, number>>;
}

function countEntries(entries: readonly LedgerEntry[]): KindCounts {
  const counts: KindCounts = { compared: entries.length, differences: 0, byClass: {} };
  for (const e of entries) {
    if (e.counted === 'match') continue;
    counts.differences++;
    counts.byClass[e.counted] = (counts.byClass[e.counted] ?? 0) + 1;
  }
  return counts;
}

function mergeCounts(into: KindCounts, from: KindCounts): void {
  into.compared += from.compared;
  into.differences += from.differences;
  for (const [cls, n] of Object.entries(from.byClass) as Array<[DifferenceClass, number]>) {
    into.byClass[cls] = (into.byClass[cls] ?? 0) + n;
  }
}

function formatCounts(label: string, c: KindCounts): string {
  const classes = Object.entries(c.byClass)
    .filter(([cls]) => cls !== 'unexplained')
    .map(([cls, n]) => `${n} ${cls}`);
  classes.push(`${c.byClass.unexplained ?? 0} unexplained`);
  return `${label} ${c.compared} compared / ${c.differences} differences (${classes.join(', ')})`;
}

export function summaryLine(tokens: KindCounts, sars: KindCounts, mode: Mode = 'offline'): string {
  const label = mode === 'live' ? 'live-mode differential summary' : 'differential summary';
  return `${label}: ${formatCounts('tokens', tokens)}; ${formatCounts('SARs', sars)}`;
}

const emptyCounts = (): KindCounts => ({ compared: 0, differences: 0, byClass: {} });

/**
 * Sums what every file flushed into `dir`: the offline summary line, then the live-mode one when live mode compared
 * anything; undefined when nothing was compared.
 */
export function summarizeLedgerDir(dir: string): string | undefined {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return undefined;
  }
  if (files.length === 0) return undefined;
  const total = { tokens: emptyCounts(), sars: emptyCounts() };
  const live = { tokens: emptyCounts(), sars: emptyCounts() };
  for (const f of files) {
    const data = JSON.parse(readFileSync(join(dir, f), 'utf8')) as LedgerFile;
    mergeCounts(total.tokens, data.tokens);
    mergeCounts(total.sars, data.sars);
    if (data.live) {
      mergeCounts(live.tokens, data.live.tokens);
      mergeCounts(live.sars, data.live.sars);
    }
  }
  const offline = summaryLine(total.tokens, total.sars);
  return live.tokens.compared + live.sars.compared === 0
    ? offline
    : `${offline}\n${summaryLine(live.tokens, live.sars, 'live')}`;
}
