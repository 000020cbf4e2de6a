/**
 * A strict DER reader, as Go's `cryptobyte` reads certificates: definite, minimal
 * lengths, low tag numbers only, minimal integers. It hands out the exact bytes of
 * each element, which chain building compares (issuer against subject) and
 * signature checks hash.
 */

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8String: 0x0c,
  NumericString: 0x12,
  PrintableString: 0x13,
  T61String: 0x14,
  IA5String: 0x16,
  UTCTime: 0x17,
  GeneralizedTime: 0x18,
  BMPString: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Context-specific tag `[n]`, primitive or constructed. */
export const contextTag = (n: number, constructed: boolean): number => 0x80 | (constructed ? 0x20 : 0) | n;

export class DerError extends Error {}

export interface Element {
  readonly tag: number;
  /** The whole element: identifier, length and contents. */
  readonly raw: Uint8Array;
  readonly value: Uint8Array;
}

export class DerReader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  empty(): boolean {
    return this.pos >= this.bytes.length;
  }

  peekTag(): number | undefined {
    return this.empty() ? undefined : this.bytes[this.pos];
  }

  /** The next element; with `tag`, it must carry that tag. */
  read(tag?: number): Element {
    const b = this.bytes;
    const start = this.pos;
    if (b.length - start < 2) throw new DerError('truncated element');
    const id = b[start]!;
    if ((id & 0x1f) === 0x1f) throw new DerError('high tag number');
    if (tag !== undefined && id !== tag) throw new DerError(`expected tag ${tag}, found ${id}`);
    let length = b[start + 1]!;
    let header = 2;
    if (length & 0x80) {
      const n = length & 0x7f;
      if (n === 0 || n > 4) throw new DerError('unsupported length');
      if (b.length - start < 2 + n) throw new DerError('truncated length');
      length = 0;
      for (let i = 0; i < n; i++) length = length * 256 + b[start + 2 + i]!;
      if (length < 0x80 || b[start + 2] === 0) throw new DerError('non-minimal length');
      header += n;
    }
    const end = start + header + length;
    if (end > b.length) throw new DerError('truncated contents');
    this.pos = end;
    return { tag: id, raw: b.subarray(start, end), value: b.subarray(start + header, end) };
  }

  readOptional(tag: number): Element | undefined {
    return this.peekTag() === tag ? this.read(tag) : undefined;
  }
}

export const reader = (bytes: Uint8Array): DerReader => new DerReader(bytes);

/** The contents of a SEQUENCE that must be the whole input. */
export function sequenceOf(bytes: Uint8Array): DerReader {
  const r = reader(bytes);
  const seq = r.read(TAG.SEQUENCE);
  if (!r.empty()) throw new DerError('trailing data');
  return reader(seq.value);
}

export function readInteger(value: Uint8Array): bigint {
  if (value.length === 0) throw new DerError('empty integer');
  if (value.length > 1 && ((value[0] === 0 && value[1]! < 0x80) || (value[0] === 0xff && value[1]! >= 0x80)))
    throw new DerError('non-minimal integer');
  let n = 0n;
  for (const byte of value) n = (n << 8n) | BigInt(byte);
  return value[0]! >= 0x80 ? n - (1n << BigInt(value.length * 8)) : n;
}

export function readBoolean(value: Uint8Array): boolean {
  if (value.length !== 1 || (value[0] !== 0 && value[0] !== 0xff)) throw new DerError('invalid boolean');
  return value[0] === 0xff;
}

export function readOid(value: Uint8Array): string {
  if (value.length === 0) throw new DerError('empty OID');
  const arcs: number[] = [];
  let acc = 0;
  let fresh = true;
  for (const byte of value) {
    if (fresh && byte === 0x80) throw new DerError('non-minimal OID arc');
    acc = acc * 128 + (byte & 0x7f);
    if (acc > Number.MAX_SAFE_INTEGER) throw new DerError('OID arc too large');
    fresh = (byte & 0x80) === 0;
    if (fresh) {
      arcs.push(acc);
      acc = 0;
    }
  }
  if (!fresh) throw new DerError('truncated OID');
  const first = arcs[0]!;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

/** A BIT STRING's bits, left-aligned, with the count of unused trailing bits. */
export function readBitString(value: Uint8Array): { bytes: Uint8Array; unused: number } {
  const unused = value[0];
  if (unused === undefined || unused > 7 || (value.length === 1 && unused > 0))
    throw new DerError('invalid bit string');
  const bytes = value.subarray(1);
  if (bytes.length > 0 && (bytes[bytes.length - 1]! & ((1 << unused) - 1)) !== 0)
    throw new DerError('invalid bit string padding');
  return { bytes, unused };
}
