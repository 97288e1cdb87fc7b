/**
 * Exact conversions between the kernel's 64-bit values and the model's numbers.
 * Addresses stay JS integers (exact below 2^53, which covers every physical address);
 * 64-bit masks of the form 2^k-1 are kept as their bit count k.
 */
import { ADDR_LIMIT } from './constants';

export class ValueError extends Error {}

const HEX = /^0[xX][0-9a-fA-F]+$/;
const DEC = /^[0-9]+$/;

/** Parses "0x..." (or a decimal string / integer) to a BigInt; throws ValueError with `what`. */
export function parseU64(value: unknown, what: string): bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new ValueError(`${what} must be a non-negative integer, got ${value}`);
    return BigInt(value);
  }
  if (typeof value !== 'string') throw new ValueError(`${what} must be a hex string such as "0x1000", got ${describe(value)}`);
  const s = value.trim();
  if (!HEX.test(s) && !DEC.test(s)) throw new ValueError(`${what} must be a hex string such as "0x1000", got "${value}"`);
  const v = BigInt(s);
  if (v > 0xffff_ffff_ffff_ffffn) throw new ValueError(`${what} ${value} does not fit in 64 bits`);
  return v;
}

/** An address as an exact number; values from 2^53 on are refused. */
export function parseAddr(value: unknown, what: string): number {
  if (typeof value === 'string' && value.length <= 15 && HEX.test(value)) {
    // 13 hex digits or fewer: parseInt is exact.
    return Number.parseInt(value.slice(2), 16);
  }
  const v = parseU64(value, what);
  if (v >= BigInt(ADDR_LIMIT)) throw new ValueError(`${what} ${value} is above 2^53, beyond any physical address the model handles`);
  return Number(v);
}

/** A 32-bit mask (the kernel keeps min_align_mask and alloc_align_mask in unsigned int). */
export function parseMask32(value: unknown, what: string): number {
  if (typeof value === 'string' && value.length <= 10 && HEX.test(value)) return Number.parseInt(value.slice(2), 16);
  const v = parseU64(value, what);
  if (v > 0xffff_ffffn) throw new ValueError(`${what} ${value} does not fit in 32 bits (unsigned int in the kernel)`);
  return Number(v);
}

/** True for 0, 1, 3, 7, ... (2^k - 1). */
export function isLowMask(v: bigint): boolean {
  return (v & (v + 1n)) === 0n;
}

/** Bit count k of a 2^k-1 mask, or undefined when the value is not of that form. */
export function maskBits(v: bigint): number | undefined {
  if (!isLowMask(v)) return undefined;
  return v.toString(2).replace(/^0$/, '').length;
}

/**
 * A segment boundary mask: 2^k-1, returned as k. 0 means "none" (dma_get_seg_boundary() returns
 * ULONG_MAX when a device has no dma_parms or a zero mask), as does 2^64-1.
 */
export function parseBoundaryBits(value: unknown, what: string): number {
  const v = parseU64(value, what);
  if (v === 0n) return 64;
  const bits = maskBits(v);
  if (bits === undefined) throw new ValueError(`${what} ${value} is not of the form 2^k-1 (e.g. 0xffff, 0xffffffff)`);
  return bits;
}

/** An alignment mask must be 2^k-1 (0 means none). */
export function parseAlignMask(value: unknown, what: string): number {
  const v = parseMask32(value, what);
  if (!isLowMask(BigInt(v))) throw new ValueError(`${what} ${value} is not of the form 2^k-1 (e.g. 0xfff)`);
  return v;
}

const HEX_DIGITS = '0123456789abcdef';

/** "0x9c018f8c": lower-case hex of an address. (Number#toString(16) is slow above 2^31.) */
export function hexAddr(n: number): string {
  if (n < 0x80000000) return `0x${(n | 0).toString(16)}`;
  const hi = Math.floor(n / 4294967296);
  const lo = n >>> 0;
  let s = '';
  for (let sh = 28; sh >= 0; sh -= 4) s += HEX_DIGITS[(lo >>> sh) & 15];
  // with hi = 0, n >= 2^31 has no leading zero nibble
  return hi === 0 ? `0x${s}` : `0x${hi.toString(16)}${s}`;
}

/** 2^bits-1 as hex, for a boundary kept as its bit count. */
export function boundaryHex(bits: number): string {
  return bits >= 64 ? '0xffffffffffffffff' : `0x${((1n << BigInt(bits)) - 1n).toString(16)}`;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}
