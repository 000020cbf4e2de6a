import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { audienceAgnostic } from '../authn/audiences.js';
import type { TokenAuthenticator } from '../authn/authenticator.js';
import { OidcAuthenticator } from '../authn/oidc/authenticator.js';
import { AuthenticationConfigError, parseAuthenticationConfiguration } from '../authn/oidc/config.js';
import { createReloadableJwt, type JwtAuthenticators, type ReloadableJwt } from '../authn/oidc/reloadable.js';
import { unionAuthenticator } from '../authn/union.js';
import type { Clock } from '../clock.js';
import { TokenwardenError } from '../errors.js';
import { watchFiles } from '../io/file-watch.js';
import { readSetting } from '../io/watched-file.js';
import { createDiscoveryKeySource } from '../keys/discovery.js';
import type { RemoteKeySource } from '../keys/jwks.js';

interface JwtDeps {
  /** Service-account issuers, which a `jwt[]` issuer may not repeat (kubernetes/kubernetes#123561). */
  readonly serviceAccountIssuers: readonly string[];
  readonly apiAudiences: readonly string[];
  readonly allowLoopback: boolean;
  readonly clock: Clock;
  readonly logger?: Logger;
}

/**
 * One set of `jwt[]` authenticators from the text of an AuthenticationConfiguration. The
 * text is validated first, every CEL expression compiled, and a jwt issuer equal to a
 * service-account issuer refused: any problem throws AuthenticationConfigError with kube's
 * field path before a source is made. Each issuer gets its own discovery source, trusting
 * its `certificateAuthority` (else the system roots) and honouring `discoveryURL`.
 */
function jwtAuthenticatorsFromText(text: string, deps: JwtDeps): JwtAuthenticators {
  const parsed = parseAuthenticationConfiguration(text, { disallowedIssuers: deps.serviceAccountIssuers });
  const remote: RemoteKeySource[] = [];
  const members: TokenAuthenticator[] = [];
  for (const spec of parsed.jwt) {
    const keys = createDiscoveryKeySource({
      issuer: spec.issuer.url,
      ...(spec.issuer.discoveryURL === undefined ? {} : { discoveryUrl: spec.issuer.discoveryURL }),
      ...(spec.issuer.certificateAuthority === undefined ? {} : { ca: spec.issuer.certificateAuthority }),
      allowLoopback: deps.allowLoopback,
      clock: deps.clock,
      ...(deps.logger ? { logger: deps.logger } : {}),
    });
    remote.push(keys);
    members.push(new OidcAuthenticator({ spec, keys, clock: deps.clock }));
  }
  if (members.length === 0) return { remote };
  return { authenticator: audienceAgnostic(unionAuthenticator(members), deps.apiAudiences), remote };
}

/**
 * `--authentication-config`: read and built now (an unreadable or invalid file fails the
 * start, naming the file and kube's field path), then, with `watch`, reloaded as
 * kube-apiserver reloads it.
 */
export function loadAuthenticationConfig(
  path: string,
  deps: JwtDeps & { readonly watch: boolean },
): ReloadableJwt {
  const text = readSetting(path, '--authentication-config');
  let set: JwtAuthenticators;
  try {
    set = jwtAuthenticatorsFromText(text, deps);
  } catch (err) {
    if (err instanceof AuthenticationConfigError) {
      throw new TokenwardenError('ERR_CONFIG_INVALID', `--authentication-config: ${path}: ${err.message}`);
    }
    throw err;
  }
  return createReloadableJwt({
    initial: { text, set },
    read: () => readFileSync(path, 'utf8'),
    build: (next) => jwtAuthenticatorsFromText(next, deps),
    ...(deps.watch ? { watch: (onChange: () => void) => watchFiles([path], onChange) } : {}),
    clock: deps.clock,
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
}
