/**
 * Number and token scanning on raw line bytes. Trace lines are parsed in place (no string per
 * line); each scanner returns its value and leaves the position after it in `scan.end`.
 * Values above 2^53 (64-bit masks, DMA_MAPPING_ERROR) come back rounded, which is exact enough
 * for comparisons; `scan.digits` lets callers recognise an all-ones 64-bit value.
 */

export const scan = {
  /** Position after the last byte consumed. */
  end: 0,
  /** Digits consumed by the last number scan (0: no number there). */
  digits: 0,
  /** The last hex scan saw 16 'f' digits: ~0 in 64 bits (DMA_MAPPING_ERROR). */
  allOnes: false,
};

const HEX_VAL = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX_VAL[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX_VAL[97 + c] = 10 + c;
  HEX_VAL[65 + c] = 10 + c;
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Hex digits from `s` (an optional 0x prefix is skipped). */
export function hexAt(b: Uint8Array, s: number, e: number): number {
  if (s + 1 < e && b[s] === 48 && (b[s + 1] === 120 || b[s + 1] === 88)) s += 2;
  let v = 0;
  let i = s;
  let fs = 0;
  for (; i < e; i++) {
    const d = HEX_VAL[b[i] as number] as number;
    if (d < 0) break;
    if (d === 15) fs++;
    v = v * 16 + d;
  }
  scan.end = i;
  scan.digits = i - s;
  scan.allOnes = fs === 16 && i - s === 16;
  return v;
}

/** Decimal digits from `s`, with an optional minus sign. */
export function decAt(b: Uint8Array, s: number, e: number): number {
  let neg = false;
  if (s < e && b[s] === 45) {
    neg = true;
    s++;
  }
  let v = 0;
  let i = s;
  for (; i < e; i++) {
    const c = b[i] as number;
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
  }
  scan.end = i;
  scan.digits = i - s;
  return neg ? -v : v;
}

/** A kprobe fetch value: `0x...` is hex, anything else decimal (u64/s32 types). */
export function numAt(b: Uint8Array, s: number, e: number): number {
  if (s + 1 < e && b[s] === 48 && (b[s + 1] === 120 || b[s + 1] === 88)) return hexAt(b, s, e);
  return decAt(b, s, e);
}

/** Position of the first byte at or after `s` that is not a space or tab. */
export function skipSpaces(b: Uint8Array, s: number, e: number): number {
  while (s < e && (b[s] === 32 || b[s] === 9)) s++;
  return s;
}

/** Position of the first space at or after `s` (or `e`). */
export function tokenEnd(b: Uint8Array, s: number, e: number): number {
  while (s < e && b[s] !== 32 && b[s] !== 9) s++;
  return s;
}

/**
 * Start of the value of `key=` (the key bytes include the '=') within [s, e): the key must start
 * the range or follow a space. -1 when absent. (Buffer#indexOf cannot stop at the line's end.)
 */
export function valueAt(b: Uint8Array, key: Uint8Array, s: number, e: number): number {
  const k0 = key[0] as number;
  const n = key.length;
  const last = e - n;
  for (let i = s; i <= last; i++) {
    if (b[i] !== k0 || (i > s && b[i - 1] !== 32 && b[i - 1] !== 9)) continue;
    let k = 1;
    while (k < n && b[i + k] === key[k]) k++;
    if (k === n) return i + n;
  }
  return -1;
}

/** Position of `word` within [s, e), or -1. */
export function indexIn(b: Uint8Array, word: Uint8Array, s: number, e: number): number {
  const w0 = word[0] as number;
  const n = word.length;
  for (let i = s; i <= e - n; i++) {
    if (b[i] !== w0) continue;
    let k = 1;
    while (k < n && b[i + k] === word[k]) k++;
    if (k === n) return i;
  }
  return -1;
}

/**
 * A word searched for in many lines: Horspool's skip table, so a line without the word costs
 * about length/word.length byte reads instead of one per byte. Same answer as indexIn.
 */
export class WordFinder {
  private readonly skip = new Uint8Array(256);

  constructor(readonly word: Uint8Array) {
    const n = word.length;
    if (n === 0 || n > 255) throw new Error('WordFinder: 1 to 255 bytes');
    this.skip.fill(n);
    for (let k = 0; k < n - 1; k++) this.skip[word[k] as number] = n - 1 - k;
  }

  /** Position of the word within [s, e), or -1. */
  indexIn(b: Uint8Array, s: number, e: number): number {
    const w = this.word;
    const n = w.length;
    const last = w[n - 1] as number;
    const skip = this.skip;
    for (let i = s + n - 1; i < e; ) {
      const c = b[i] as number;
      if (c === last) {
        let k = n - 2;
        const at = i - n + 1;
        while (k >= 0 && b[at + k] === w[k]) k--;
        if (k < 0) return at;
      }
      i += skip[c] as number;
    }
    return -1;
  }
}

/** 1 for the bytes of a C identifier ([A-Za-z0-9_]). */
export const WORD_BYTE = new Uint8Array(256);
for (let c = 0; c < 256; c++) WORD_BYTE[c] = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 ? 1 : 0;

/** True when bytes [s, s+word.length) equal `word`. */
export function bytesAre(b: Uint8Array, s: number, e: number, word: Uint8Array): boolean {
  if (e - s < word.length) return false;
  for (let k = 0; k < word.length; k++) if (b[s + k] !== word[k]) return false;
  return true;
}

export function ascii(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}
