export { createTokenVerifier, type TokenVerifier, type TokenVerifierOptions } from './verifier.js';
export type { JwksUrlOptions } from './compose/options.js';
export type { AuthnResult, TokenAuthenticator } from './authn/authenticator.js';
export type { Attributes, Authorizer, AuthzResult, Decision } from './authz/authorizer.js';
export type { TokenReviewStatus } from './api/types.js';
export type { KeySource, KeySnapshot, VerificationKey, Algorithm } from './keys/key-source.js';
export { StaticKeySource } from './keys/static.js';
export { kubeKeyId } from './keys/kid.js';
export { TokenwardenError, type ErrorCode } from './errors.js';
export type { UserInfo } from './user.js';
export type { Clock } from './clock.js';
export {
  createProjectedTokenSource,
  DEFAULT_TOKEN_PATH,
  type ProjectedTokenSource,
  type ProjectedTokenSourceOptions,
} from './projected-token.js';
export type { AllowListOptions } from './proxy/allow-list.js';
