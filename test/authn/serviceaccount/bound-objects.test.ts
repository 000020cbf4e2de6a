import { describe, expect, it } from 'vitest';
import {
  checkBoundObjects,
  checkLegacyObjects,
  LEGACY_INVALID_SINCE_LABEL,
  objectKey,
  type ClusterObjects,
  type LiveObject,
  type LiveSecret,
} from '../../../src/authn/serviceaccount/bound-objects.js';
import type { ServiceAccountInfo } from '../../../src/authn/serviceaccount/claims.js';

const NOW = Date.UTC(2026, 0, 15, 12);

interface World {
  sa?: LiveObject;
  secret?: LiveSecret;
  pod?: LiveObject;
  node?: LiveObject;
}

function objects(w: World, synced = true): ClusterObjects {
  return {
    synced: () => synced,
    serviceAccount: (ns, name) => (ns === 'ns1' && name === 'app' ? w.sa : undefined),
    secret: (ns, name) => (ns === 'ns1' && name === 'tok' ? w.secret : undefined),
    pod: (ns, name) => (ns === 'ns1' && name === 'web' ? w.pod : undefined),
    node: (name) => (name === 'node-a' ? w.node : undefined),
  };
}

const sa: LiveObject = { uid: 'sa-uid' };
const podBound: ServiceAccountInfo = {
  namespace: 'ns1',
  name: 'app',
  uid: 'sa-uid',
  boundRefs: { pod: { name: 'web', uid: 'pod-uid' }, node: { name: 'node-a', uid: 'node-uid' } },
};
const nodeBound: ServiceAccountInfo = {
  namespace: 'ns1',
  name: 'app',
  uid: 'sa-uid',
  boundRefs: { node: { name: 'node-a', uid: 'node-uid' } },
};
const secretBound: ServiceAccountInfo = {
  namespace: 'ns1',
  name: 'app',
  uid: 'sa-uid',
  boundRefs: { secret: { name: 'tok', uid: 'secret-uid' } },
};
const message = (r: ReturnType<typeof checkBoundObjects>) => ('message' in r ? r.message : r);

describe('checkBoundObjects (kube claims.go with lookups)', () => {
  it('accepts a token whose service account and pod exist with the claimed uids, naming what it relied on', () => {
    expect(checkBoundObjects(podBound, objects({ sa, pod: { uid: 'pod-uid' } }), NOW)).toEqual({
      dependsOn: [objectKey('serviceaccounts', 'ns1', 'app'), objectKey('pods', 'ns1', 'web')],
    });
  });

  it("answers a missing service account with the GET's NotFound text", () => {
    expect(message(checkBoundObjects(podBound, objects({}), NOW))).toBe('serviceaccounts "app" not found');
  });

  it('checks the service account uid before its deletion', () => {
    const deleting = { uid: 'other', deletionTimestampMs: NOW - 120_000 };
    expect(message(checkBoundObjects(podBound, objects({ sa: deleting }), NOW))).toBe(
      'service account UID (other) does not match claim (sa-uid)',
    );
  });

  it('still accepts objects in graceful deletion for 60 s, and not after', () => {
    const world = (ms: number) => objects({ sa, pod: { uid: 'pod-uid', deletionTimestampMs: NOW - ms } });
    expect(checkBoundObjects(podBound, world(60_000), NOW)).toHaveProperty('dependsOn');
    expect(message(checkBoundObjects(podBound, world(60_001), NOW))).toBe(
      'service account token has been invalidated',
    );
    const deletedSa = objects({ sa: { uid: 'sa-uid', deletionTimestampMs: NOW - 60_001 } });
    expect(message(checkBoundObjects(podBound, deletedSa, NOW))).toBe(
      'service account ns1/app has been deleted',
    );
  });

  it('refuses a pod that is gone or was recreated under the same name', () => {
    expect(message(checkBoundObjects(podBound, objects({ sa }), NOW))).toBe(
      'service account token has been invalidated',
    );
    expect(message(checkBoundObjects(podBound, objects({ sa, pod: { uid: 'new' } }), NOW))).toBe(
      'pod UID (new) does not match service account pod ref claim (pod-uid)',
    );
  });

  it('looks the node up only when no pod is named', () => {
    expect(checkBoundObjects(podBound, objects({ sa, pod: { uid: 'pod-uid' } }), NOW)).toHaveProperty(
      'dependsOn',
    );
    expect(message(checkBoundObjects(nodeBound, objects({ sa }), NOW))).toBe(
      'service account token has been invalidated',
    );
    expect(message(checkBoundObjects(nodeBound, objects({ sa, node: { uid: 'n2' } }), NOW))).toBe(
      'node UID (n2) does not match service account node ref claim (node-uid)',
    );
  });

  it('checks a bound secret', () => {
    const secret = (uid: string): LiveSecret => ({ uid, labels: {} });
    expect(message(checkBoundObjects(secretBound, objects({ sa, secret: secret('x') }), NOW))).toBe(
      'secret UID (x) does not match service account secret ref claim (secret-uid)',
    );
    expect(checkBoundObjects(secretBound, objects({ sa, secret: secret('secret-uid') }), NOW)).toEqual({
      dependsOn: [objectKey('serviceaccounts', 'ns1', 'app'), objectKey('secrets', 'ns1', 'tok')],
    });
  });

  it('answers nothing but a transient error before the caches have listed', () => {
    expect(checkBoundObjects(podBound, objects({ sa, pod: { uid: 'pod-uid' } }, false), NOW)).toMatchObject({
      code: 'ERR_CLUSTER_UNAVAILABLE',
      transient: true,
    });
  });
});

describe('checkLegacyObjects (kube legacy.go with lookups)', () => {
  const info: ServiceAccountInfo = { namespace: 'ns1', name: 'app', uid: 'sa-uid' };
  const secret = (over: Partial<LiveSecret> = {}): LiveSecret => ({
    uid: 's',
    labels: {},
    token: Buffer.from('the-token'),
    ...over,
  });
  const check = (w: World) => message(checkLegacyObjects(info, 'tok', 'the-token', objects(w)));

  it('accepts the token while its Secret holds it and the service account matches', () => {
    expect(checkLegacyObjects(info, 'tok', 'the-token', objects({ sa, secret: secret() }))).toEqual({
      dependsOn: [objectKey('secrets', 'ns1', 'tok'), objectKey('serviceaccounts', 'ns1', 'app')],
    });
  });

  it("answers in legacy.go's order and texts", () => {
    expect(check({ sa })).toBe('Token has been invalidated');
    expect(check({ sa, secret: secret({ deletionTimestampMs: NOW }) })).toBe('Token has been invalidated');
    expect(check({ sa, secret: secret({ token: Buffer.from('other-tok') }) })).toBe(
      "Token does not match server's copy",
    );
    expect(check({ secret: secret() })).toBe('serviceaccounts "app" not found');
    expect(check({ sa: { uid: 'sa-uid', deletionTimestampMs: NOW }, secret: secret() })).toBe(
      'ServiceAccount ns1/app has been deleted',
    );
    expect(check({ sa: { uid: 'x' }, secret: secret() })).toBe(
      'ServiceAccount UID (x) does not match claim (sa-uid)',
    );
    expect(check({ sa, secret: secret({ labels: { [LEGACY_INVALID_SINCE_LABEL]: '2026-01-01' } }) })).toBe(
      "the token in secret ns1/tok for service account ns1/app has been marked invalid. Use tokens from the TokenRequest API or manually created secret-based tokens, or remove the 'kubernetes.io/legacy-token-invalid-since' label from the secret to temporarily allow use of this token",
    );
  });
});
