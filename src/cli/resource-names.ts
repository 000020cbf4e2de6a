import { BUILTIN_RESOURCES, type BuiltinResource } from './builtin-resources.js';

/** What kubectl makes of a TYPE argument: the group and plural it asks about, and what it warned. */
export interface ResolvedResource {
  readonly apiGroup: string;
  readonly resource: string;
  /** The built-in resource it named; undefined for `*` and for names kubectl would not know. */
  readonly builtin?: BuiltinResource;
  /**
   * kubectl's warnings, each printed as `Warning: ` and the text and a newline. Its
   * resource warnings end in a newline of their own (kubectl prints a blank line after them).
   */
  readonly warnings: readonly string[];
}

interface Gvr {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
}

/** kube's group-versionless resources that kubectl asks about without a warning (`nonStandardResourceNames`). */
const NON_STANDARD = new Set(['users', 'groups']);

/**
 * kubectl auth can-i's `resourceFor` (k8s.io/kubectl/pkg/cmd/auth/cani.go) over the built-in
 * discovery: lower-cased, tried as RESOURCE.VERSION.GROUP when it has two dots, then as
 * RESOURCE.GROUP; short names expanded as client-go's shortcut expander does (restmapper/
 * shortcut.go), then plural or singular matched as apimachinery's DefaultRESTMapper does, a
 * group prefix allowed, the highest-priority group winning. A name kubectl would not find gets
 * its warning and is asked about as written (RESOURCE.GROUP): offline, a custom resource the
 * policy names is unknown here but still worth asking about.
 */
export function resolveResource(arg: string): ResolvedResource {
  if (arg === '*') return { apiGroup: '', resource: '*', warnings: [] };
  const warnings: string[] = [];
  const lower = arg.toLowerCase();
  const dot = lower.indexOf('.');
  const groupResource = {
    group: dot < 0 ? '' : lower.slice(dot + 1),
    version: '',
    resource: dot < 0 ? lower : lower.slice(0, dot),
  };
  let found: BuiltinResource | undefined;
  if (lower.split('.').length >= 3) {
    const [resource, version, ...group] = lower.split('.');
    found = resourceFor({ group: group.join('.'), version: version!, resource: resource! }, warnings);
  }
  found ??= resourceFor(groupResource, warnings);
  if (found) return { apiGroup: found.group, resource: found.resource, builtin: found, warnings };
  const named = groupResource.group === '' ? groupResource.resource : lower;
  if (!NON_STANDARD.has(named)) {
    warnings.push(
      groupResource.group === ''
        ? `the server doesn't have a resource type '${groupResource.resource}'\n`
        : `the server doesn't have a resource type '${groupResource.resource}' in group '${groupResource.group}'\n`,
    );
  }
  return { apiGroup: groupResource.group, resource: groupResource.resource, warnings };
}

/** The mapper: shortcut expansion, then the first match in priority order. */
function resourceFor(input: Gvr, warnings: string[]): BuiltinResource | undefined {
  const gvr = expandShortcut(input, warnings);
  if (gvr.resource === '') return undefined;
  const names = (r: BuiltinResource) => r.resource === gvr.resource || r.singular === gvr.resource;
  if (gvr.group !== '' && gvr.version !== '')
    return BUILTIN_RESOURCES.find(
      (r) => r.group === gvr.group && r.versions.includes(gvr.version) && names(r),
    );
  if (gvr.group !== '') {
    return (
      BUILTIN_RESOURCES.find((r) => r.group === gvr.group && names(r)) ??
      BUILTIN_RESOURCES.find((r) => r.group.startsWith(gvr.group) && names(r))
    );
  }
  if (gvr.version !== '') return BUILTIN_RESOURCES.find((r) => r.versions.includes(gvr.version) && names(r));
  return BUILTIN_RESOURCES.find(names);
}

/** client-go's shortcutExpander.expandResourceShortcut; the expanded form drops the version, as there. */
function expandShortcut(gvr: Gvr, warnings: string[]): Gvr {
  const inGroup = (r: BuiltinResource) => gvr.group === '' || gvr.group === r.group;
  if (
    BUILTIN_RESOURCES.some((r) => inGroup(r) && (r.resource === gvr.resource || r.singular === gvr.resource))
  )
    return gvr;
  let found: BuiltinResource | undefined;
  for (const r of BUILTIN_RESOURCES) {
    if (!inGroup(r) || !r.shortNames.includes(gvr.resource)) continue;
    if (found === undefined) found = r;
    else if (found !== r) {
      const longForm = r.group === '' ? r.resource : `${r.resource}.${r.group}`;
      warnings.push(`short name "${gvr.resource}" could also match lower priority resource ${longForm}`);
    }
  }
  if (found) return { group: found.group, version: '', resource: found.resource };
  if (gvr.group === '') return gvr;
  const prefixed = BUILTIN_RESOURCES.find(
    (r) => r.group.startsWith(gvr.group) && r.shortNames.includes(gvr.resource),
  );
  return prefixed ? { group: prefixed.group, version: gvr.version, resource: prefixed.resource } : gvr;
}
