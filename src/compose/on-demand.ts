/**
 * A module imported on its first `load()` and then read synchronously with `get()`: how the
 * composition keeps optional parts (live mode, `--authentication-config`) out of a server's
 * heap until their option is given. `get()` before `load()` is a bug in the composition.
 */
export interface OnDemand<T> {
  load(): Promise<T>;
  get(): T;
}

export function onDemand<T>(importer: () => Promise<T>, what: string): OnDemand<T> {
  let loaded: T | undefined;
  return {
    load: async () => (loaded ??= await importer()),
    get: () => {
      if (loaded === undefined) throw new TypeError(`${what} composed before its parts were loaded`);
      return loaded;
    },
  };
}
