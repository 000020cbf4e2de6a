/**
 * A value at hand, or a promise of it: what is answered from memory (a cached token, an
 * RBAC decision) comes back as is, so the hot path allocates no promise and waits for no
 * microtask; what must wait (a verification off the cache, a remote authorizer) comes as a promise.
 */
export type MaybePromise<T> = T | PromiseLike<T>;

export function isPromiseLike<T>(value: MaybePromise<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * Calls `then` with the value: at once when it is at hand, else once the promise fulfils.
 * A rejection, or an error `then` throws after waiting, goes to `fail`; an error `then`
 * throws at once is the caller's, as any synchronous error.
 */
export function whenSettled<T>(
  value: MaybePromise<T>,
  then: (value: T) => void,
  fail: (err: unknown) => void,
): void {
  if (isPromiseLike(value)) Promise.resolve(value).then(then).catch(fail);
  else then(value);
}
