import type { UserInfo } from '../user.js';
import type { Attributes } from './authorizer.js';

export type ResourceRequest = Pick<
  Attributes,
  'verb' | 'namespace' | 'apiGroup' | 'apiVersion' | 'resource' | 'subresource' | 'name'
>;

/** A resource request's Attributes (kube's `ResourceAttributesFrom`), every other field empty. */
export function resourceAttributes(user: UserInfo, request: ResourceRequest): Attributes {
  // Field by field: a spread of `request` costs a slow generic copy on every review.
  return {
    user,
    verb: request.verb,
    resourceRequest: true,
    namespace: request.namespace,
    apiGroup: request.apiGroup,
    apiVersion: request.apiVersion,
    resource: request.resource,
    subresource: request.subresource,
    name: request.name,
    path: '',
  };
}

/** A non-resource request's Attributes (kube's `NonResourceAttributesFrom`): only user, verb and path. */
export function nonResourceAttributes(user: UserInfo, verb: string, path: string): Attributes {
  return {
    user,
    verb,
    resourceRequest: false,
    namespace: '',
    apiGroup: '',
    apiVersion: '',
    resource: '',
    subresource: '',
    name: '',
    path,
  };
}
