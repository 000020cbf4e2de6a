/**
 * kube's custom CEL types (`net.IP`, `net.CIDR`, `kubernetes.URL`) as @bufbuild/cel values.
 *
 * @bufbuild/cel has no opaque value type: a value is a scalar, a list, a map, a `type` or a
 * protobuf message. These types are therefore protobuf messages of a descriptor built here,
 * with no fields; the value's identity (what kube's `Equal` compares: the canonical address,
 * the URL's `String()`) is carried as an unknown field, and the parsed value sits in a side
 * table. So `type(ip('::1'))` is `net.IP`, `==` compares identities (the evaluator compares
 * messages including unknown fields), and no claim can be mistaken for one: claims are JSON,
 * which decodes to maps, lists and scalars only. What differs from kube, all rare:
 * - the type names are not identifiers: `type(x) == net.IP` and `net.IP{}` are refused;
 * - comparing one to another type (`ip('1.2.3.4') == '1.2.3.4'`) is false, where cel-go
 *   answers "no such overload";
 * - `x.field` and `x['field']` are "field not found" at run time, not a compile error.
 */
import { objectType, type CelObjectType, type CelValue } from '@bufbuild/cel';
import { create, createFileRegistry, type DescMessage, type Message } from '@bufbuild/protobuf';
import { isReflectMessage, reflect, type ReflectMessage } from '@bufbuild/protobuf/reflect';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';

const WIRE_LENGTH_DELIMITED = 2;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface OpaqueType<T> {
  /** The CEL type, for function signatures: `objectType('net.IP')`. */
  readonly type: CelObjectType;
  /** A value of the type; values with the same identity are equal under `==`. */
  make(identity: string, value: T): ReflectMessage;
  /** The value held, or undefined for a value of another type. */
  read(v: CelValue): T | undefined;
}

function descriptorFor(typeName: string): DescMessage {
  const dot = typeName.lastIndexOf('.');
  const file = create(FileDescriptorProtoSchema, {
    name: `tokenwarden/cel/${typeName}.proto`,
    package: typeName.slice(0, dot),
    syntax: 'proto3',
    messageType: [{ name: typeName.slice(dot + 1) }],
  });
  const desc = createFileRegistry(file, () => undefined).getMessage(typeName);
  if (!desc) throw new Error(`no descriptor for ${typeName}`);
  return desc;
}

/** `decode` rebuilds a value from its identity, for a message the side table does not know. */
export function opaqueType<T>(typeName: string, decode: (identity: string) => T): OpaqueType<T> {
  const desc = descriptorFor(typeName);
  const values = new WeakMap<Message, T>();
  return {
    type: objectType(desc),
    make(identity, value) {
      const msg = create(desc);
      msg.$unknown = [{ no: 1, wireType: WIRE_LENGTH_DELIMITED, data: encoder.encode(identity) }];
      values.set(msg, value);
      return reflect(desc, msg);
    },
    read(v) {
      if (!isReflectMessage(v) || v.desc.typeName !== typeName) return undefined;
      const known = values.get(v.message);
      if (known !== undefined) return known;
      const field = v.message.$unknown?.find((u) => u.no === 1);
      if (!field) return undefined;
      const value = decode(decoder.decode(field.data));
      values.set(v.message, value);
      return value;
    },
  };
}
