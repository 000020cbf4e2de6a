import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { TokenwardenError } from '../errors.js';
import { isObject, type JsonObject } from '../json.js';
import type { RequestAttributesConfig, StaticRule } from './authorization.js';

/** The `authorization` section of kube-rbac-proxy's `--config-file`, checked. */
export interface RbacProxyAuthorization extends RequestAttributesConfig {
  readonly static: readonly StaticRule[];
}

type Obj = JsonObject;

/**
 * Reads kube-rbac-proxy's config file (`authorization.resourceAttributes`, `rewrites`,
 * `static`), so its users switch by changing the image. Unlike kube-rbac-proxy (Go's
 * lenient JSON decoding), an unknown or misspelled key is refused: a typo in
 * `resourceAttributes` would otherwise silently turn resource checks into path checks.
 */
export function parseRbacProxyConfig(text: string, file: string): RbacProxyAuthorization {
  const fail = (where: string, message: string): never => {
    throw new TokenwardenError('ERR_CONFIG_INVALID', `${file}: ${where}: ${message}`);
  };
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true });
  } catch {
    return fail('document', 'not valid YAML');
  }
  const known = (o: Obj, where: string, keys: readonly string[]): void => {
    for (const k of Object.keys(o)) if (!keys.includes(k)) fail(`${where}.${k}`, 'unknown field');
  };
  const object = (v: unknown, where: string): Obj => (isObject(v) ? v : fail(where, 'must be a mapping'));
  const string = (o: Obj, key: string, where: string): string | undefined => {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    return typeof v === 'string' ? v : fail(`${where}.${key}`, 'must be a string');
  };
  if (doc === null || doc === undefined) return { static: [] };
  const root = object(doc, 'document');
  const authz = root.authorization === undefined ? {} : object(root.authorization, 'authorization');
  known(authz, 'authorization', ['resourceAttributes', 'rewrites', 'static']);

  const attrs =
    authz.resourceAttributes === undefined
      ? undefined
      : object(authz.resourceAttributes, 'authorization.resourceAttributes');
  const ATTR_FIELDS = ['namespace', 'apiGroup', 'apiVersion', 'resource', 'subresource', 'name'] as const;
  if (attrs) known(attrs, 'authorization.resourceAttributes', ATTR_FIELDS);
  const resourceAttributes = attrs
    ? Object.fromEntries(
        ATTR_FIELDS.flatMap((f) => {
          const v = string(attrs, f, 'authorization.resourceAttributes');
          return v === undefined ? [] : [[f, v]];
        }),
      )
    : undefined;

  let rewrites: RequestAttributesConfig['rewrites'];
  if (authz.rewrites !== undefined) {
    const r = object(authz.rewrites, 'authorization.rewrites');
    known(r, 'authorization.rewrites', ['byQueryParameter', 'byHttpHeader']);
    const named = (key: string): { name: string } | undefined => {
      if (r[key] === undefined) return undefined;
      const o = object(r[key], `authorization.rewrites.${key}`);
      known(o, `authorization.rewrites.${key}`, ['name']);
      const name = string(o, 'name', `authorization.rewrites.${key}`);
      return name ? { name } : undefined;
    };
    const byQueryParameter = named('byQueryParameter');
    const byHttpHeader = named('byHttpHeader');
    rewrites = {
      ...(byQueryParameter ? { byQueryParameter } : {}),
      ...(byHttpHeader ? { byHttpHeader } : {}),
    };
  }
  if (rewrites && !resourceAttributes)
    fail('authorization.rewrites', 'needs authorization.resourceAttributes');

  const staticRules: StaticRule[] = [];
  if (authz.static !== undefined && authz.static !== null) {
    if (!Array.isArray(authz.static)) fail('authorization.static', 'must be a list');
    (authz.static as unknown[]).forEach((entry, i) => {
      const where = `authorization.static[${i}]`;
      const o = object(entry, where);
      known(o, where, [
        'user',
        'verb',
        'namespace',
        'apiGroup',
        'resource',
        'subresource',
        'name',
        'resourceRequest',
        'path',
      ]);
      let user: StaticRule['user'];
      if (o.user !== undefined && o.user !== null) {
        const u = object(o.user, `${where}.user`);
        known(u, `${where}.user`, ['name', 'groups']);
        const groups = u.groups ?? [];
        if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string'))
          fail(`${where}.user.groups`, 'must be a list of strings');
        const name = string(u, 'name', `${where}.user`);
        user = { ...(name ? { name } : {}), groups: groups as string[] };
      }
      if (o.resourceRequest !== undefined && typeof o.resourceRequest !== 'boolean')
        fail(`${where}.resourceRequest`, 'must be true or false');
      const fields = ['verb', 'namespace', 'apiGroup', 'resource', 'subresource', 'name', 'path'].flatMap(
        (f) => {
          const v = string(o, f, where);
          return v === undefined ? [] : [[f, v]];
        },
      );
      staticRules.push({
        ...(user ? { user } : {}),
        ...Object.fromEntries(fields),
        resourceRequest: o.resourceRequest === true,
      });
    });
  }
  return {
    ...(resourceAttributes ? { resourceAttributes } : {}),
    ...(rewrites ? { rewrites } : {}),
    static: staticRules,
  };
}

export function loadRbacProxyConfig(path: string): RbacProxyAuthorization {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TokenwardenError(
      'ERR_CONFIG_INVALID',
      `${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    );
  }
  return parseRbacProxyConfig(text, path);
}
