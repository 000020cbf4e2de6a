import { describe, expect, it } from 'vitest';
import type { AuthzResult } from '../../src/authz/authorizer.js';
import { createAuthorizerUnion, type NamedAuthorizer } from '../../src/authz/union.js';
import { createPrivilegedGroupsAuthorizer } from '../../src/authz/privileged.js';
import { attrs } from './helpers.js';

let n = 0;
const fixed = (result: AuthzResult): NamedAuthorizer => ({
  name: `m${++n}`,
  authorizer: { authorize: () => result },
});
const request = attrs({ user: 'u', verb: 'get', resource: 'pods' });

describe('authorizer union', () => {
  it('returns the first allow with its own reason', () => {
    const u = createAuthorizerUnion([
      fixed({ decision: 'no-opinion', reason: 'a' }),
      fixed({ decision: 'allow', reason: 'b' }),
      fixed({ decision: 'deny', reason: 'c' }),
    ]);
    expect(u.authorize(request)).toEqual({ decision: 'allow', reason: 'b' });
  });

  it('returns the first deny with its reason and error', () => {
    const u = createAuthorizerUnion([
      fixed({ decision: 'deny', reason: 'no', error: 'boom' }),
      fixed({ decision: 'allow', reason: 'yes' }),
    ]);
    expect(u.authorize(request)).toEqual({ decision: 'deny', reason: 'no', error: 'boom' });
  });

  it('joins the non-empty reasons of all no-opinions, each under its member name, and aggregates errors', () => {
    const u = createAuthorizerUnion([
      { name: 'node', authorizer: { authorize: () => ({ decision: 'no-opinion', reason: 'first' }) } },
      fixed({ decision: 'no-opinion', reason: '' }),
      {
        name: 'rbac',
        authorizer: { authorize: () => ({ decision: 'no-opinion', reason: 'second', error: 'e1' }) },
      },
      fixed({ decision: 'no-opinion', reason: '', error: 'e2' }),
    ]);
    expect(u.authorize(request)).toEqual({
      decision: 'no-opinion',
      reason: 'node: first\nrbac: second',
      error: '[e1, e2]',
    });
  });

  it('refuses two members of one name', () => {
    expect(() =>
      createAuthorizerUnion([
        { ...fixed({ decision: 'allow', reason: '' }), name: 'x' },
        { ...fixed({ decision: 'allow', reason: '' }), name: 'x' },
      ]),
    ).toThrow(TypeError);
  });

  it('answers no opinion with an empty reason when nobody has one', () => {
    expect(createAuthorizerUnion([fixed({ decision: 'no-opinion', reason: '' })]).authorize(request)).toEqual(
      { decision: 'no-opinion', reason: '' },
    );
  });

  it('refuses an empty member list', () => {
    expect(() => createAuthorizerUnion([])).toThrow(TypeError);
  });
});

describe('privileged groups authorizer', () => {
  it('allows system:masters with an empty reason', () => {
    expect(
      createPrivilegedGroupsAuthorizer().authorize(
        attrs({ user: 'x', groups: ['a', 'system:masters'], verb: 'delete', resource: 'nodes' }),
      ),
    ).toEqual({
      decision: 'allow',
      reason: '',
    });
  });

  it('has no opinion about anyone else, even a user named system:masters', () => {
    expect(
      createPrivilegedGroupsAuthorizer().authorize(
        attrs({ user: 'system:masters', verb: 'get', resource: 'pods' }),
      ),
    ).toEqual({
      decision: 'no-opinion',
      reason: '',
    });
  });
});
