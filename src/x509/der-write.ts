/** DER encoding, the counterpart of der.ts, for the certificates `dev` issues and tests build. */

const concat = (parts: readonly Uint8Array[]): Uint8Array => Buffer.concat(parts);

export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const body = concat(parts);
  const n = body.length;
  const length =
    n < 0x80
      ? [n]
      : (() => {
          const bytes: number[] = [];
          for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
          return [0x80 | bytes.length, ...bytes];
        })();
  return concat([Uint8Array.from([tag, ...length]), body]);
}

export const sequence = (...parts: Uint8Array[]): Uint8Array => tlv(0x30, ...parts);
export const set = (...parts: Uint8Array[]): Uint8Array => tlv(0x31, ...parts);
export const octetString = (bytes: Uint8Array): Uint8Array => tlv(0x04, bytes);
export const bitString = (bytes: Uint8Array, unused = 0): Uint8Array =>
  tlv(0x03, Uint8Array.from([unused]), bytes);
export const boolean = (value: boolean): Uint8Array => tlv(0x01, Uint8Array.from([value ? 0xff : 0]));
export const nullValue = (): Uint8Array => tlv(0x05);
export const utf8String = (s: string): Uint8Array => tlv(0x0c, Buffer.from(s, 'utf8'));
export const ia5String = (tag: number, s: string): Uint8Array => tlv(tag, Buffer.from(s, 'latin1'));
/** `[n]` wrapping whole elements (EXPLICIT or a constructed IMPLICIT). */
export const context = (n: number, ...parts: Uint8Array[]): Uint8Array => tlv(0xa0 | n, ...parts);

export function integer(value: bigint): Uint8Array {
  const bytes: number[] = [];
  let v = value;
  do {
    bytes.unshift(Number(BigInt.asUintN(8, v)));
    v >>= 8n;
  } while (v !== 0n && v !== -1n);
  if (value >= 0n && bytes[0]! >= 0x80) bytes.unshift(0);
  if (value < 0n && bytes[0]! < 0x80) bytes.unshift(0xff);
  return tlv(0x02, Uint8Array.from(bytes));
}

export function oid(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const out: number[] = [];
  for (const arc of [a * 40 + b, ...rest]) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Uint8Array.from(out));
}

/** UTCTime through 2049, GeneralizedTime after, as RFC 5280 4.1.2.5 requires. */
export function time(date: Date): Uint8Array {
  const iso = date.toISOString();
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = date.getUTCFullYear();
  return year < 2050 && year >= 1950
    ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'latin1'))
    : tlv(0x18, Buffer.from(`${digits}Z`, 'latin1'));
}
