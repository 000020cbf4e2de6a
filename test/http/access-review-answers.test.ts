import { describe, expect, it } from 'vitest';
import {
  decodeAccessReview,
  encodeSubjectAccessReview,
  type SubjectAccessReviewInput,
} from '../../src/api/subjectaccessreview.js';
import type { AuthzResult } from '../../src/authz/authorizer.js';
import { AccessReviewAnswers } from '../../src/http/access-review-answers.js';

const API_VERSION = 'authorization.k8s.io/v1';

function review(user: string, verb = 'get'): { text: string; input: SubjectAccessReviewInput } {
  const body = {
    apiVersion: API_VERSION,
    kind: 'SubjectAccessReview',
    spec: { user, resourceAttributes: { namespace: 'team-a', verb, resource: 'pods' } },
  };
  const decoded = decodeAccessReview(body, { kind: 'SubjectAccessReview', version: 'v1' });
  if (!decoded.ok) throw new Error('the test review does not decode');
  return { text: JSON.stringify(body), input: decoded.input };
}

/** The key of a text asked twice: the first time only records that it came. */
const keyOf = (answers: AccessReviewAnswers, namespace: string, text: string) => {
  answers.keyOf(namespace, text);
  return answers.keyOf(namespace, text);
};
const find = (answers: AccessReviewAnswers, namespace: string, text: string) =>
  answers.get(keyOf(answers, namespace, text));
const keep = (
  answers: AccessReviewAnswers,
  namespace: string,
  text: string,
  input: SubjectAccessReviewInput,
) => answers.remember(keyOf(answers, namespace, text), input);

const ALLOW: AuthzResult = { decision: 'allow', reason: 'RBAC: allowed by ClusterRoleBinding "x"' };
const NO_OPINION: AuthzResult = { decision: 'no-opinion', reason: '' };

describe('AccessReviewAnswers', () => {
  it("keeps a decoded review by its text and its path's namespace, length-prefixed, so no other pair finds it", () => {
    const answers = new AccessReviewAnswers('v1', { keep: true });
    const { input } = review('alice');
    const kept = keep(answers, 'a', 'bc', input);
    expect(find(answers, 'a', 'bc')).toBe(kept);
    // The same characters cut elsewhere between namespace and text.
    expect(find(answers, 'ab', 'c')).toBeUndefined();
    expect(find(answers, '', 'abc')).toBeUndefined();
    expect(find(answers, '', '1:abc')).toBeUndefined();
    expect(find(answers, 'a', 'bc ')).toBeUndefined();
    const other = keep(answers, 'ab', 'c', review('bob').input);
    expect(find(answers, 'ab', 'c')).toBe(other);
    expect(find(answers, 'a', 'bc')).toBe(kept);
  });

  it('looks up and keeps a text only when it comes again', () => {
    const answers = new AccessReviewAnswers('v1', { keep: true });
    const { text, input } = review('alice');
    expect(answers.keyOf('', text)).toBeUndefined();
    const key = answers.keyOf('', text);
    expect(key).toBeDefined();
    expect(answers.get(key)).toBeUndefined();
    const kept = answers.remember(key, input);
    expect(answers.get(answers.keyOf('', text))).toBe(kept);
    // A text seen once is not kept, whatever came before or after it.
    const bob = review('bob');
    const once = answers.keyOf('', bob.text);
    expect(once).toBeUndefined();
    answers.remember(once, bob.input);
    expect(answers.get(answers.keyOf('', review('carol').text))).toBeUndefined();
    expect(answers.get(answers.keyOf('', bob.text))).toBeUndefined();
  });

  it("keeps nothing on a route that asks about its caller (a SelfSubjectAccessReview's)", () => {
    const answers = new AccessReviewAnswers('v1', { keep: false });
    const { text, input } = review('alice');
    expect(keep(answers, '', text, input).input).toBe(input);
    expect(find(answers, '', text)).toBeUndefined();
  });

  it('keeps no text longer than 4096 characters, and at most `max` texts (64 unless told), the least recent leaving first', () => {
    const answers = new AccessReviewAnswers('v1', { keep: true, max: 2 });
    const { input } = review('alice');
    keep(answers, '', 'x'.repeat(4097), input);
    expect(find(answers, '', 'x'.repeat(4097))).toBeUndefined();
    keep(answers, '', 'x'.repeat(4096), input);
    expect(find(answers, '', 'x'.repeat(4096))).toBeDefined();
    keep(answers, '', 'one', input);
    keep(answers, '', 'two', input);
    expect(find(answers, '', 'x'.repeat(4096))).toBeUndefined();
    expect(find(answers, '', 'one')).toBeDefined();
    expect(find(answers, '', 'two')).toBeDefined();

    const byDefault = new AccessReviewAnswers('v1', { keep: true });
    for (let i = 0; i < 65; i++) keep(byDefault, '', `review ${i}`, input);
    expect(find(byDefault, '', 'review 0')).toBeUndefined();
    expect(find(byDefault, '', 'review 1')).toBeDefined();
    expect(find(byDefault, '', 'review 64')).toBeDefined();
  });

  it('answers as encodeSubjectAccessReview encodes, writing the last text again only for the same decision', () => {
    const answers = new AccessReviewAnswers('v1', { keep: true });
    const { text, input } = review('alice');
    const entry = keep(answers, '', text, input);
    const allowed = answers.answer(entry, ALLOW);
    expect(allowed.text).toBe(JSON.stringify(encodeSubjectAccessReview(input, ALLOW, 'v1')));
    expect(allowed).toMatchObject({ status: 200, typeName: 'Content-Type' });
    expect(allowed.contentLength).toBe(String(Buffer.byteLength(allowed.text)));
    expect(answers.answer(entry, { ...ALLOW })).toBe(allowed);

    // The policy changed between two reviews: the answer says what the authorizer says now.
    const refused = answers.answer(entry, NO_OPINION);
    expect(JSON.parse(refused.text)).toMatchObject({ status: { allowed: false } });
    expect(JSON.parse(refused.text).status.reason).toBeUndefined();
    const otherReason = answers.answer(entry, { decision: 'allow', reason: 'another binding' });
    expect(JSON.parse(otherReason.text).status).toEqual({ allowed: true, reason: 'another binding' });
    const failed = answers.answer(entry, { decision: 'no-opinion', reason: '', error: 'webhook down' });
    expect(JSON.parse(failed.text).status).toEqual({ allowed: false, evaluationError: 'webhook down' });
    expect(answers.answer(entry, ALLOW).text).toBe(allowed.text);
  });

  it("answers in the route's API version", () => {
    const answers = new AccessReviewAnswers('v1beta1', { keep: true });
    const { text, input } = review('alice');
    const answer = answers.answer(keep(answers, '', text, input), ALLOW);
    expect(JSON.parse(answer.text)).toMatchObject({ apiVersion: 'authorization.k8s.io/v1beta1' });
  });
});
