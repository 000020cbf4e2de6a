/**
 * A validating scan of a JSON text that `JSON.parse` is too lenient for: duplicate
 * member names (go-jose rejects them; JSON.parse keeps the last, so the answer would
 * depend on which copy a reader picks, security.md C7), nesting deeper than a bound,
 * and escaped lone surrogates (C9). Only when the scan passes is the text handed to
 * JSON.parse. Recursion is bounded by `maxDepth`, so hostile nesting cannot exhaust the
 * stack.
 */
export type StrictParseResult = { ok: true; value: Record<string, unknown> } | { ok: false; reason: string };

class ScanError extends Error {}

const HEX = /^[0-9a-fA-F]{4}$/;

class Scanner {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly maxDepth: number,
  ) {}

  run(): void {
    this.ws();
    if (this.s.charCodeAt(this.i) !== 0x7b) throw new ScanError('not a JSON object');
    this.value(0);
    this.ws();
    if (this.i !== this.s.length) throw new ScanError('trailing data after the JSON object');
  }

  private ws(): void {
    const s = this.s;
    for (;;) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else return;
    }
  }

  private value(depth: number): void {
    const c = this.s.charCodeAt(this.i);
    if (c === 0x7b) return this.object(depth + 1);
    if (c === 0x5b) return this.array(depth + 1);
    if (c === 0x22) {
      this.string();
      return;
    }
    if (c === 0x74) return this.literal('true');
    if (c === 0x66) return this.literal('false');
    if (c === 0x6e) return this.literal('null');
    return this.number();
  }

  private object(depth: number): void {
    if (depth > this.maxDepth) throw new ScanError('JSON nested too deeply');
    this.i++;
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x7d) {
      this.i++;
      return;
    }
    const seen = new Set<string>();
    for (;;) {
      if (this.s.charCodeAt(this.i) !== 0x22) throw new ScanError('expected a member name');
      const key = this.string();
      if (seen.has(key)) throw new ScanError('duplicate member name');
      seen.add(key);
      this.ws();
      if (this.s.charCodeAt(this.i) !== 0x3a) throw new ScanError('expected ":"');
      this.i++;
      this.ws();
      this.value(depth);
      this.ws();
      const c = this.s.charCodeAt(this.i++);
      if (c === 0x7d) return;
      if (c !== 0x2c) throw new ScanError('expected "," or "}"');
      this.ws();
    }
  }

  private array(depth: number): void {
    if (depth > this.maxDepth) throw new ScanError('JSON nested too deeply');
    this.i++;
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x5d) {
      this.i++;
      return;
    }
    for (;;) {
      this.value(depth);
      this.ws();
      const c = this.s.charCodeAt(this.i++);
      if (c === 0x5d) return;
      if (c !== 0x2c) throw new ScanError('expected "," or "]"');
      this.ws();
    }
  }

  /** Returns the decoded string (member names are compared decoded: "a" and "\u0061" collide). */
  private string(): string {
    const s = this.s;
    const start = ++this.i;
    let escaped = false;
    for (;;) {
      const c = s.charCodeAt(this.i);
      if (Number.isNaN(c)) throw new ScanError('unterminated string');
      if (c === 0x22) break;
      if (c < 0x20) throw new ScanError('control character in string');
      if (c === 0x5c) {
        escaped = true;
        const e = s.charCodeAt(this.i + 1);
        if (e === 0x75) {
          const hex = s.slice(this.i + 2, this.i + 6);
          if (!HEX.test(hex)) throw new ScanError('invalid \\u escape');
          const code = parseInt(hex, 16);
          this.i += 6;
          if (code >= 0xdc00 && code <= 0xdfff) throw new ScanError('lone surrogate escape');
          if (code >= 0xd800 && code <= 0xdbff) {
            const low = s.slice(this.i, this.i + 6);
            const lowCode = low.startsWith('\\u') && HEX.test(low.slice(2)) ? parseInt(low.slice(2), 16) : -1;
            if (lowCode < 0xdc00 || lowCode > 0xdfff) throw new ScanError('lone surrogate escape');
            this.i += 6;
          }
          continue;
        }
        if (
          e === 0x22 ||
          e === 0x5c ||
          e === 0x2f ||
          e === 0x62 ||
          e === 0x66 ||
          e === 0x6e ||
          e === 0x72 ||
          e === 0x74
        ) {
          this.i += 2;
          continue;
        }
        throw new ScanError('invalid escape');
      }
      this.i++;
    }
    const raw = s.slice(start, this.i);
    this.i++;
    return escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
  }

  private literal(word: string): void {
    if (!this.s.startsWith(word, this.i)) throw new ScanError('invalid literal');
    this.i += word.length;
  }

  private number(): void {
    const s = this.s;
    const start = this.i;
    if (s.charCodeAt(this.i) === 0x2d) this.i++;
    const first = s.charCodeAt(this.i);
    if (first === 0x30) this.i++;
    else if (first >= 0x31 && first <= 0x39) this.digits();
    else throw new ScanError('invalid value');
    if (s.charCodeAt(this.i) === 0x2e) {
      this.i++;
      if (!this.digits()) throw new ScanError('invalid number');
    }
    const e = s.charCodeAt(this.i);
    if (e === 0x65 || e === 0x45) {
      this.i++;
      const sign = s.charCodeAt(this.i);
      if (sign === 0x2b || sign === 0x2d) this.i++;
      if (!this.digits()) throw new ScanError('invalid number');
    }
    if (this.i === start) throw new ScanError('invalid value');
  }

  private digits(): boolean {
    const start = this.i;
    for (;;) {
      const c = this.s.charCodeAt(this.i);
      if (c >= 0x30 && c <= 0x39) this.i++;
      else return this.i > start;
    }
  }
}

export function parseStrictObject(text: string, maxDepth: number): StrictParseResult {
  try {
    new Scanner(text, maxDepth).run();
  } catch (err) {
    if (err instanceof ScanError) return { ok: false, reason: err.message };
    throw err;
  }
  return { ok: true, value: JSON.parse(text) as Record<string, unknown> };
}
