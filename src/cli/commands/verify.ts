import { readFileSync } from 'node:fs';
import { targetAudiences } from '../../authn/audiences.js';
import { INVALID_BEARER_TOKEN } from '../../authn/bearer.js';
import { systemClock } from '../../clock.js';
import { compose } from '../../compose/compose.js';
import { loadConfig, requireTokenSettings } from '../../config/load.js';
import { authenticationOptions } from '../../config/options.js';
import { helpText } from '../../config/schema.js';
import { UsageError, type Command } from '../usage.js';

/** Decodes a segment for display only: nothing here is trusted or used to decide. */
function peek(segment: string | undefined): unknown {
  if (segment === undefined) return null;
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}

/**
 * `tokenwarden verify TOKEN|-`: the same chain as `serve`, once, offline. Prints the
 * verdict and the decoded header and claims as JSON (what people otherwise paste into
 * jwt.io). Exit 0 valid, 1 invalid (or not verifiable: keys that could not be loaded), 2 usage.
 */
export const verify: Command = async (argv) => {
  const config = loadConfig('verify', argv);
  if (config.help) {
    console.log(helpText('verify', 'tokenwarden verify TOKEN|- [options]'));
    return 0;
  }
  if (config.positionals.length !== 1)
    throw new UsageError('verify takes exactly one TOKEN argument, or - to read it from standard input');
  requireTokenSettings(config);
  const arg = config.positionals[0]!;
  const token = (arg === '-' ? readFileSync(0, 'utf8') : arg).trim();
  if (token === '') throw new UsageError('verify: the token is empty');

  const components = await compose({
    authentication: authenticationOptions(config),
    clock: systemClock,
    watch: false,
  });
  const chain = components.authentication;
  // Remote key sources (JWKS, discovery): one attempt each. Keys that did not load are said
  // on stderr; tokens of their issuers get the keys-unavailable error (exit 1).
  if (!(await chain.loadOnce())) {
    for (const check of chain.readiness())
      if (!check.ok) console.error(`tokenwarden verify: ${check.name}: ${check.note ?? 'not ready'}`);
  }
  const audiences = targetAudiences(config.audiences, config.apiAudiences);
  const result = await chain.uncached.authenticateToken(token, audiences);
  components.close();
  const [h, p] = token.split('.', 2);
  const out =
    result.outcome === 'authenticated'
      ? { valid: true, user: result.user, audiences: result.audiences }
      : result.outcome === 'error'
        ? {
            valid: false,
            reason: result.error.message,
            code: result.error.code,
            ...(result.error.detail ? { detail: result.error.detail } : {}),
          }
        : { valid: false, reason: INVALID_BEARER_TOKEN, detail: 'not a JWT of a configured issuer' };
  console.log(JSON.stringify({ ...out, header: peek(h), claims: peek(p) }, null, 2));
  return result.outcome === 'authenticated' ? 0 : 1;
};
