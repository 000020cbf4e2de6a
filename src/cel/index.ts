/**
 * The CEL module as the OIDC authenticator sees it: compile an expression against kube's
 * environment for `claims` or `user`, bind those variables, and read a result as kube's
 * claim mappings do. Everything else in this folder is how.
 */
export {
  CelCompileError,
  compileExpression,
  toCelClaims,
  toCelUser,
  toStringList,
  type CelBindingValue,
  type CompiledExpression,
} from './compile.js';
