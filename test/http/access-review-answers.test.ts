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

const ALLOW: AuthzResult = { decision: 'allow', reason: 'RBAC: allowed by ClusterRoleBinding "x"' };
const NO_OPINION: AuthzResult = { decision: 'no-opinion', reason: '' };

describe('AccessReviewAnswers', () => {
  it("keeps a decoded review by its text and its path's namespace, length-prefixed, so no other pair finds it", () => {
    const answers = new AccessReviewAnswers('v1', { keep: true });
    const { input } = review('alice');
    const kept = answers.remember('a', 'bc', input);
    expect(answers.get('a', 'bc')).toBe(kept);
    // The same characters cut elsewhere between namespace and text.
    expect(answers.get('ab', 'c')).toBeUndefined();
    expect(answers.get('', 'abc')).toBeUndefined();
    expect(answers.get('', '1:abc')).toBeUndefined();
    expect(answers.get('a', 'bc ')).toBeUndefined();
    const other = answers.remember('ab', 'c', review('bob').input);
    expect(answers.get('ab', 'c')).toBe(other);
    expect(answers.get('a', 'bc')).toBe(kept);
  });

  it("keeps nothing on a route that asks about its caller (a SelfSubjectAccessReview's)", () => {
    const answers = new AccessReviewAnswers('v1', { keep: false });
    const { text, input } = review('alice');
    expect(answers.remember('', text, input).input).toBe(input);
    expect(answers.get('', text)).toBeUndefined();
  });

  it('keeps no text longer than 4096 characters, and at most `max` texts, the least recent leaving first', () => {
    const answers = new AccessReviewAnswers('v1', { keep: true, max: 2 });
    const { input } = review('alice');
    answers.remember('', 'x'.repeat(4097), input);
    expect(answers.get('', 'x'.repeat(4097))).toBeUndefined();
    answers.remember('', 'x'.repeat(4096), input);
    expect(answers.get('', 'x'.repeat(4096))).toBeDefined();
    answers.remember('', 'one', input);
    answers.remember('', 'two', input);
    expect(answers.get('', 'x'.repeat(4096))).toBeUndefined();
    expect(answers.get('', 'one')).toBeDefined();
    expect(answers.get('', 'two')).toBeDefined();
  });

  it('answers as encodeSubjectAccessReview encodes, writing the last text again only for the same decision', () => {
    const answers = new AccessReviewAnswers('v1', { keep: true });
    const { text, input } = review('alice');
    const entry = answers.remember('', text, input);
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
    const answer = answers.answer(answers.remember('', text, input), ALLOW);
    expect(JSON.parse(answer.text)).toMatchObject({ apiVersion: 'authorization.k8s.io/v1beta1' });
  });
});
