import { createHash, timingSafeEqual } from 'node:crypto';
import { TokenwardenError } from '../errors.js';
import type { UserInfo } from '../user.js';
import { NO_OPINION, type AuthnResult, type TokenAuthenticator } from './authenticator.js';

/** One row of a token file: the token is kept only as its SHA-256 digest. */
export interface StaticTokenEntry {
  readonly digest: Buffer;
  readonly user: UserInfo;
}

export interface StaticTokenTable {
  readonly entries: readonly StaticTokenEntry[];
  /** Lines worth a warning (empty or duplicate tokens), by record number; never the token. */
  readonly warnings: readonly string[];
}

const invalid = (origin: string, message: string): TokenwardenError =>
  new TokenwardenError('ERR_CONFIG_INVALID', `${origin}: ${message}`);

/**
 * Go's `encoding/csv` reader with its defaults (comma `,`, no comments, no lazy quotes,
 * leading space kept, any number of fields per record): quoted fields may hold commas,
 * newlines and `""`; a bare `"` inside an unquoted field is an error; blank lines are
 * skipped; `\r\n` counts as `\n`.
 */
export function parseCsv(text: string, origin: string): string[][] {
  const records: string[][] = [];
  const src = text.replace(/\r\n/g, '\n');
  let i = 0;
  let line = 1;
  while (i < src.length) {
    if (src[i] === '\n') {
      i++;
      line++;
      continue;
    }
    const record: string[] = [];
    for (;;) {
      let field = '';
      if (src[i] === '"') {
        i++;
        for (;;) {
          if (i >= src.length) throw invalid(origin, `line ${line}: extraneous or missing " in quoted-field`);
          const c = src[i]!;
          if (c === '"') {
            if (src[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
        if (i < src.length && src[i] !== ',' && src[i] !== '\n') {
          throw invalid(origin, `line ${line}: extraneous or missing " in quoted-field`);
        }
      } else {
        while (i < src.length && src[i] !== ',' && src[i] !== '\n') {
          if (src[i] === '"') throw invalid(origin, `line ${line}: bare " in non-quoted-field`);
          field += src[i];
          i++;
        }
      }
      record.push(field);
      if (i < src.length && src[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    records.push(record);
    if (i < src.length && src[i] === '\n') {
      i++;
      line++;
    }
  }
  return records;
}

const digestOf = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/**
 * kube-apiserver's `--token-auth-file` (tokenfile.go): `token,user,uid[,"group1,group2"]`,
 * at least three columns, a record with an empty token skipped with a warning, a later
 * duplicate replacing an earlier one, groups split on `,` as they are (no trimming).
 */
export function parseTokenFile(text: string, origin: string): StaticTokenTable {
  const byDigest = new Map<string, StaticTokenEntry>();
  const warnings: string[] = [];
  let recordNum = 0;
  for (const record of parseCsv(text, origin)) {
    if (record.length < 3) {
      throw invalid(
        origin,
        `token file must have at least 3 columns (token, user name, user uid), found ${record.length}`,
      );
    }
    recordNum++;
    const [token, username, uid] = record as [string, string, string];
    if (token === '') {
      warnings.push(`empty token has been found in token file, record number '${recordNum}'`);
      continue;
    }
    const digest = digestOf(token);
    const key = digest.toString('hex');
    if (byDigest.has(key))
      warnings.push(`duplicate token has been found in token file, record number '${recordNum}'`);
    // As kube's map assignment: a duplicate replaces the earlier user, in the earlier slot.
    byDigest.set(key, {
      digest,
      user: { username, uid, groups: record.length >= 4 ? record[3]!.split(',') : [] },
    });
  }
  return { entries: [...byDigest.values()], warnings };
}

/**
 * Static tokens, looked up without timing leaks: the presented token is hashed and its
 * digest compared with every entry's by `timingSafeEqual`, without stopping at a match,
 * so neither the token nor its position in the file shows in the time taken
 * (kube's own map lookup, staging/src/k8s.io/apiserver/pkg/authentication/token/tokenfile, is not constant-time). `table` is read at each
 * call, so a reload takes effect at once. Audience-agnostic: wrap it in
 * `audienceAgnostic` as kube does.
 */
export function staticTokenAuthenticator(table: () => StaticTokenTable): TokenAuthenticator {
  return {
    authenticateToken(token): Promise<AuthnResult> {
      const digest = digestOf(token);
      let found: UserInfo | undefined;
      for (const entry of table().entries) {
        if (timingSafeEqual(entry.digest, digest)) found = entry.user;
      }
      if (!found) return Promise.resolve(NO_OPINION);
      const user: UserInfo = { ...found, groups: [...found.groups] };
      return Promise.resolve({ outcome: 'authenticated', user, audiences: [] });
    },
  } satisfies TokenAuthenticator;
}
