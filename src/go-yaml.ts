import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  visit,
  type Document,
  type DocumentOptions,
  type LineCounter,
  type ParseOptions,
  type SchemaOptions,
  type YAMLMap,
} from 'yaml';

/**
 * Reading YAML as kube reads it. Policy files, `--authentication-config` and `--config`
 * go through `sigs.k8s.io/yaml` in kube, which is go-yaml v2: YAML 1.1 plain scalars
 * (`yes`/`no`/`on`/`off` are booleans, `0777` is octal; a boolean or number then fails a
 * string field, as kube's JSON decoding fails it) and merge keys (`<<`). The `yaml`
 * package's 1.1 schema, less what go-yaml v2 does not resolve (sexagesimal `1:30`,
 * timestamps: strings there), plus Go's `0o17`, reads the same values.
 */

type Tags = Exclude<SchemaOptions['customTags'], undefined | null>;
type TagList = Extract<Tags, readonly unknown[]>;

const TIMESTAMP = 'tag:yaml.org,2002:timestamp';

/** Go's `strconv.ParseInt(s, 0, 64)` spellings the 1.1 schema lacks: `0o17`, `0O17`, `0X1F`, `0B11`. */
const goPrefixedInt = {
  identify: (value: unknown) => typeof value === 'number',
  default: true,
  tag: 'tag:yaml.org,2002:int',
  test: /^[-+]?0(?:[oO][0-7_]+|X[0-9a-fA-F_]+|B[01_]+)$/,
  resolve(source: string): number {
    const sign = source.startsWith('-') ? -1 : 1;
    const digits = source.replace(/^[-+]?0/, '').replace(/_/g, '');
    const radix = { o: 8, O: 8, X: 16, B: 2 }[digits[0] as 'o'] ?? 10;
    return sign * parseInt(digits.slice(1), radix);
  },
};

function goTags(tags: TagList): TagList {
  const kept = tags.filter((t) => {
    const tag = t as { tag?: string; format?: string };
    return tag.format !== 'TIME' && tag.tag !== TIMESTAMP;
  });
  return [goPrefixedInt, ...kept] as TagList;
}

export const GO_YAML_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.1',
  uniqueKeys: true,
  customTags: goTags as Tags,
};

const isMergeKey = (key: unknown): boolean =>
  isScalar(key) && typeof key.value === 'symbol' && key.value.description === '<<';

function mergeSources(doc: Document, value: unknown): YAMLMap[] {
  const resolve = (v: unknown): unknown => (isAlias(v) ? v.resolve(doc) : v);
  const source = resolve(value);
  const items = isSeq(source) ? source.items.map(resolve) : [source];
  return items.filter((m): m is YAMLMap => isMap(m));
}

/** The keys a mapping ends up with: its own and, through merge keys, its sources'. */
function effectiveKeys(doc: Document, map: YAMLMap, depth = 0): Set<string> {
  const keys = new Set<string>();
  if (depth > 50) return keys;
  for (const pair of map.items) {
    if (isMergeKey(pair.key)) {
      for (const source of mergeSources(doc, pair.value))
        for (const k of effectiveKeys(doc, source, depth + 1)) keys.add(k);
    } else if (isScalar(pair.key)) keys.add(String(pair.key.value));
  }
  return keys;
}

/**
 * go-yaml v2 applies a merge key where it stands, so a key set before `<<` is overwritten
 * by the merged value; YAML's merge spec (and the `yaml` package) keep the explicit key.
 * Rather than guess, such a mapping is refused: the problem, with its line, or undefined.
 */
export function mergeOrderProblem(doc: Document, lines: LineCounter): string | undefined {
  let problem: string | undefined;
  visit(doc, {
    Map(_, map) {
      const explicit = new Set<string>();
      for (const pair of map.items) {
        if (isMergeKey(pair.key)) {
          const sources = mergeSources(doc, pair.value);
          const clash = sources.flatMap((s) => [...effectiveKeys(doc, s)]).find((k) => explicit.has(k));
          if (clash !== undefined) {
            const line = lines.linePos((pair.key as { range?: [number] }).range?.[0] ?? 0).line;
            problem = `line ${line}: "<<" merges key "${clash}" already set above it in the same mapping (kube's YAML reader lets the merge win there, others the key): put "<<" first`;
            return visit.BREAK;
          }
        } else if (isScalar(pair.key)) explicit.add(String(pair.key.value));
      }
      return undefined;
    },
  });
  return problem;
}
