import { json, type JwksServer } from '../keys/jwks-server.js';
import type { TestKey } from './keys.js';

/** Makes `server` an OIDC issuer at its origin: discovery at the well-known path, `keys` at `/jwks`. */
export function serveIssuer(server: JwksServer, keys: readonly TestKey[]): JwksServer {
  server.respond(
    '/.well-known/openid-configuration',
    json(JSON.stringify({ issuer: server.origin, jwks_uri: server.url })),
  );
  server.serveKeys(keys);
  return server;
}

/**
 * One `jwt[]` item of an AuthenticationConfiguration for `issuer`, trusting its CA, for
 * the audience `kubernetes`, with the `email` claim behind `prefix` as the username;
 * `extra` is appended as further YAML members of the item.
 */
export function jwtIssuerYaml(issuer: JwksServer, prefix: string, extra = ''): string {
  const ca = issuer.tls.ca
    .trim()
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
  return `- issuer:
    url: ${issuer.origin}
    certificateAuthority: |
${ca}
    audiences: [kubernetes]
  claimMappings:
    username: {claim: email, prefix: "${prefix}"}
${extra}`;
}

/** An AuthenticationConfiguration document holding the given `jwt[]` items. */
export const authenticationConfigYaml = (...items: string[]): string =>
  `apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\njwt:\n${items.join('')}`;
