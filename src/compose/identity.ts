import type { Logger } from 'pino';
import type { RequestAuthenticator, TokenAuthenticator } from '../authn/authenticator.js';
import { audienceAgnostic } from '../authn/audiences.js';
import { requestHeaderAuthenticator } from '../authn/request-header.js';
import { parseTokenFile, staticTokenAuthenticator } from '../authn/static-token.js';
import { parseCertificateBundle, x509Authenticator } from '../authn/x509.js';
import type { Clock } from '../clock.js';
import { readSetting, watchedFile } from '../io/watched-file.js';
import type { AuthenticationOptions } from './options.js';

export interface IdentitySources {
  /** Static tokens, first in kube's token union; audience-agnostic. */
  readonly staticTokens?: TokenAuthenticator;
  /** Request-level authenticators before the bearer token, in kube's order (request-header, x509). */
  readonly requestAuthenticators: readonly RequestAuthenticator[];
  /** Called after any of these files is reloaded: answers they vouched for may no longer hold. */
  onChange(listener: () => void): () => void;
  close(): void;
}

/**
 * The static token file, the client CA (x509 identity) and the front-proxy settings. Each
 * file is read now (an unreadable or invalid one fails the start) and, with `watch`,
 * re-read when it changes.
 */
export function buildIdentitySources(
  options: AuthenticationOptions,
  deps: { readonly clock: Clock; readonly logger?: Logger; readonly watch: boolean },
): IdentitySources {
  const closers: Array<() => void> = [];
  const listeners = new Set<() => void>();
  const changed = (): void => {
    for (const l of listeners) l();
  };
  const watched = <T>(path: string, setting: string, parse: (text: string) => T) => {
    readSetting(path, setting);
    const file = watchedFile(path, parse, {
      watch: deps.watch,
      what: setting.slice(2),
      changed,
      ...(deps.logger ? { logger: deps.logger } : {}),
    });
    closers.push(file.close);
    return file;
  };
  let staticTokens: TokenAuthenticator | undefined;
  if (options.tokenAuthFile !== undefined) {
    const table = watched(options.tokenAuthFile, '--token-auth-file', (text) =>
      parseTokenFile(text, '--token-auth-file'),
    );
    for (const w of table.get().warnings) deps.logger?.warn({ what: 'token-auth-file' }, w);
    staticTokens = audienceAgnostic(staticTokenAuthenticator(table.get), options.apiAudiences);
  }
  const requestAuthenticators: RequestAuthenticator[] = [];
  if (options.requestHeader) {
    const rh = options.requestHeader;
    const roots = watched(rh.clientCaFile, '--requestheader-client-ca-file', (t) =>
      parseCertificateBundle(t, '--requestheader-client-ca-file'),
    );
    requestAuthenticators.push(requestHeaderAuthenticator({ ...rh, roots: roots.get, clock: deps.clock }));
  }
  if (options.clientCaFile !== undefined) {
    const roots = watched(options.clientCaFile, '--client-ca-file', (t) =>
      parseCertificateBundle(t, '--client-ca-file'),
    );
    requestAuthenticators.push(x509Authenticator({ roots: roots.get, clock: deps.clock }));
  }
  return {
    ...(staticTokens ? { staticTokens } : {}),
    requestAuthenticators,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => {
      for (const c of closers) c();
    },
  };
}
