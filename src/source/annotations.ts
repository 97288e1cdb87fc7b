/**
 * The swiotlb annotation grammar: what source cannot tell, written in comments.
 *
 *   /* swiotlb: size=64..1522 depth=256 where=any *\/          the next DMA call
 *   /* swiotlb-function: depth=32 *\/                           the enclosing (or next) function
 *   // swiotlb-file: platform=xen-pv-dom0 kernel=6.1 ram=32G     the whole file
 *
 * Pairs are key=value separated by blanks; values with blanks are quoted; "--" ends the
 * annotation (a remark may follow). Every problem is reported at its exact position.
 */
import { DmaDirection, parseDmaDirection } from '../model/constants';
import { DMA_BIT_MASK } from '../model/dma/device';
import { PLATFORM_IDS, type PlatformId } from '../model/dma/platform';
import { isLowMask } from '../model/hex';
import { resolveProfileWithNote, UnknownKernelError } from '../model/profiles';
import { ARM64_BOARDS } from '../model/setup';
import type { CommentInfo, ParsedFile, Span } from './types';

export type AnnotationScope = 'call' | 'function' | 'file';

/** Where a DMA buffer lives in (pseudo-)physical memory. */
export type Placement =
  | { readonly kind: 'any' }
  | { readonly kind: 'region'; readonly region: Region }
  | { readonly kind: 'range'; readonly lo: number; readonly hi: number }
  | { readonly kind: 'mix'; readonly parts: readonly { readonly region: Region; readonly weight: number }[] };

export type Region = 'low' | 'dma' | 'high' | 'highmem';

export type SizeSpec =
  | { readonly kind: 'fixed'; readonly size: number }
  | { readonly kind: 'uniform'; readonly min: number; readonly max: number }
  | { readonly kind: 'choice'; readonly sizes: readonly { readonly size: number; readonly weight: number }[] };

/** Everything an annotation (or a setting) can say; each scope fills some of it. */
export interface Hints {
  size?: SizeSpec;
  depth?: number;
  count?: number;
  where?: Placement;
  align?: number;
  machine?: 'contiguous' | 'scattered';
  sg?: number;
  dir?: DmaDirection;
  cpu?: readonly number[];
  skip?: boolean;
  device?: string;
  dma_mask?: bigint;
  coherent_dma_mask?: bigint;
  bus_dma_limit?: number;
  min_align_mask?: number;
  seg_boundary?: bigint;
  max_seg_size?: number;
  coherent?: boolean;
  trusted?: boolean;
  restricted_pool?: number;
  dma_offset?: number;
  driver?: string;
  platform?: PlatformId;
  kernel?: string;
  ram?: number;
  cpus?: number;
  cmdline?: string;
  pool?: number;
  p2m?: 'contiguous' | 'ballooned';
  mix?: 'concurrent' | 'sequential';
  dynamic?: boolean;
  board?: string;
  zone_dma_limit?: number;
  zone_dma_bits?: number;
}

export type HintKey = keyof Hints;

/** Keys that describe the machine (one per driver), not a device or a call. */
export const MACHINE_KEYS = [
  'platform',
  'kernel',
  'ram',
  'cpus',
  'cmdline',
  'pool',
  'p2m',
  'mix',
  'driver',
  'dynamic',
  'board',
  'zone_dma_limit',
  'zone_dma_bits',
] as const;

/** Keys that describe a device (what its set-up calls or DT would say). */
export const DEVICE_KEYS = [
  'dma_mask',
  'coherent_dma_mask',
  'min_align_mask',
  'seg_boundary',
  'max_seg_size',
  'bus_dma_limit',
  'dma_offset',
  'coherent',
  'trusted',
  'restricted_pool',
] as const satisfies readonly HintKey[];

/** A copy without the machine keys. */
export function withoutMachineKeys(h: Hints): Hints {
  const out = { ...h };
  for (const k of MACHINE_KEYS) delete out[k];
  return out;
}

export interface AnnotationProblem {
  readonly span: Span;
  readonly severity: 'error' | 'warning';
  readonly code: 'annotation-unknown-key' | 'annotation-bad-value' | 'annotation-scope' | 'annotation-unattached' | 'annotation-duplicate';
  readonly message: string;
  /** For unknown keys: the key it probably means (the quick fix offers it). */
  readonly suggestion?: string;
}

export interface Annotation {
  readonly scope: AnnotationScope;
  readonly span: Span;
  readonly hints: Hints;
  /** Where each key was written. */
  readonly keySpans: Partial<Record<HintKey, Span>>;
  /** call: index of the site in ParsedFile.sites; function: index in ParsedFile.functions. */
  readonly target: number;
}

interface KeyDef {
  readonly scopes: readonly AnnotationScope[];
  readonly parse: (v: string | undefined) => { value?: unknown; error?: string };
  readonly doc: string;
}

const ALL: readonly AnnotationScope[] = ['call', 'function', 'file'];
const NOT_CALL: readonly AnnotationScope[] = ['file'];

const SIZE_UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** 1522, 2K, 64KiB, 0x800, 16G. */
export function parseSizeValue(t: string): number | undefined {
  const s = t.trim().toLowerCase();
  if (s.startsWith('0x')) {
    const hex = s.slice(2);
    if (hex.length === 0 || hex.length > 13 || [...hex].some((ch) => !'0123456789abcdef'.includes(ch))) return undefined;
    return Number.parseInt(hex, 16);
  }
  let i = 0;
  while (i < s.length && (s[i] as string) >= '0' && (s[i] as string) <= '9') i++;
  if (i === 0) return undefined;
  let unit = s.slice(i);
  if (unit.endsWith('ib')) unit = unit.slice(0, -2);
  else if (unit.endsWith('b')) unit = unit.slice(0, -1);
  const mult = SIZE_UNITS[unit];
  if (mult === undefined) return undefined;
  const v = Number(s.slice(0, i)) * mult;
  return Number.isSafeInteger(v) ? v : undefined;
}

function positiveInt(v: string | undefined, what: string, max = 1e9): { value?: unknown; error?: string } {
  const n = v === undefined ? undefined : parseSizeValue(v);
  if (n === undefined || n < 1 || n > max)
    return { error: `${what} must be a whole number from 1 to ${max}, got ${v === undefined ? 'nothing' : `"${v}"`}` };
  return { value: n };
}

function sizeSpec(v: string | undefined): { value?: SizeSpec; error?: string } {
  const bad = {
    error: `size is a size (1522, 2K), a range (64..1522) or a list (64,1522 or 64:3,1522:1), got ${v === undefined ? 'nothing' : `"${v}"`}`,
  };
  if (!v) return bad;
  if (v.includes('..')) {
    const [a, b, ...rest] = v.split('..');
    const lo = parseSizeValue(a ?? '');
    const hi = parseSizeValue(b ?? '');
    if (rest.length || lo === undefined || hi === undefined || lo < 1) return bad;
    if (lo > hi) return { error: `size range ${v}: the low end is above the high end` };
    return { value: lo === hi ? { kind: 'fixed', size: lo } : { kind: 'uniform', min: lo, max: hi } };
  }
  if (v.includes(',') || v.includes(':')) {
    const sizes: { size: number; weight: number }[] = [];
    for (const part of v.split(',')) {
      const [s, w] = part.split(':');
      const size = parseSizeValue(s ?? '');
      const weight = w === undefined ? 1 : Number(w);
      if (size === undefined || size < 1 || !Number.isInteger(weight) || weight < 1 || weight > 1000) return bad;
      sizes.push({ size, weight });
    }
    return { value: { kind: 'choice', sizes } };
  }
  const n = parseSizeValue(v);
  if (n === undefined || n < 1) return bad;
  return { value: { kind: 'fixed', size: n } };
}

const REGIONS: Record<string, Region> = {
  low: 'low',
  dma32: 'low',
  below4g: 'low',
  'below-4g': 'low',
  dma: 'dma',
  high: 'high',
  above4g: 'high',
  'above-4g': 'high',
  highmem: 'highmem',
};

function placement(v: string | undefined): { value?: Placement; error?: string } {
  const bad = {
    error: `where is any, low (below 4 GiB), dma (below 16 MiB), high (above 4 GiB), highmem, an address (0x1f0000000), a range (4G..8G) or a mix (low:1,high:3), got ${v === undefined ? 'nothing' : `"${v}"`}`,
  };
  if (!v) return bad;
  const t = v.toLowerCase();
  if (t === 'any') return { value: { kind: 'any' } };
  const r = REGIONS[t];
  if (r) return { value: { kind: 'region', region: r } };
  if (t.includes('..')) {
    const [a, b, ...rest] = t.split('..');
    const lo = parseSizeValue(a ?? '');
    const hi = parseSizeValue(b ?? '');
    if (rest.length || lo === undefined || hi === undefined) return bad;
    if (hi <= lo) return { error: `where range ${v}: the high end must be above the low end` };
    return { value: { kind: 'range', lo, hi } };
  }
  if (t.includes(',') || t.includes(':')) {
    const parts: { region: Region; weight: number }[] = [];
    for (const p of t.split(',')) {
      const [name, w] = p.split(':');
      const region = REGIONS[name ?? ''];
      const weight = w === undefined ? 1 : Number(w);
      if (!region || !Number.isInteger(weight) || weight < 0 || weight > 1000) return bad;
      parts.push({ region, weight });
    }
    if (!parts.some((p) => p.weight > 0)) return { error: 'where: every weight is 0' };
    return { value: { kind: 'mix', parts } };
  }
  const a = parseSizeValue(t);
  if (a === undefined) return bad;
  return { value: { kind: 'range', lo: a, hi: a + 1 } };
}

/** A mask: a bit count (32, as DMA_BIT_MASK(32)) or 2^k-1 in hex. */
function maskValue(v: string | undefined, what: string, maxBits = 64): { value?: bigint; error?: string } {
  const bad = {
    error: `${what} is a bit count (32 for DMA_BIT_MASK(32)) or a mask such as 0xffffffff, got ${v === undefined ? 'nothing' : `"${v}"`}`,
  };
  if (!v) return bad;
  const t = v.toLowerCase();
  if (t.startsWith('0x')) {
    const hex = t.slice(2);
    if (hex.length === 0 || hex.length > 16 || [...hex].some((ch) => !'0123456789abcdef'.includes(ch))) return bad;
    const b = BigInt(t);
    if (!isLowMask(b)) return { error: `${what} ${v} is not of the form 2^k-1` };
    if (b >> BigInt(maxBits) !== 0n) return { error: `${what} ${v} does not fit in ${maxBits} bits` };
    return { value: b };
  }
  const n = Number(t);
  if (!Number.isInteger(n) || n < 0 || n > maxBits || t.length === 0 || [...t].some((ch) => ch < '0' || ch > '9')) return bad;
  return { value: DMA_BIT_MASK(n) };
}

function boolValue(v: string | undefined, what: string): { value?: boolean; error?: string } {
  if (v === undefined) return { value: true };
  const t = v.toLowerCase();
  if (['yes', 'true', 'on', '1'].includes(t)) return { value: true };
  if (['no', 'false', 'off', '0'].includes(t)) return { value: false };
  return { error: `${what} is yes or no, got "${v}"` };
}

function oneOf<T extends string>(v: string | undefined, what: string, options: readonly T[]): { value?: T; error?: string } {
  if (v !== undefined && (options as readonly string[]).includes(v)) return { value: v as T };
  return { error: `${what} is one of ${options.join(', ')}, got ${v === undefined ? 'nothing' : `"${v}"`}` };
}

function cpuList(v: string | undefined): { value?: number[]; error?: string } {
  const bad = { error: `cpu is a CPU list such as 0,1,2,3 or 0-3, got ${v === undefined ? 'nothing' : `"${v}"`}` };
  if (!v) return bad;
  const out: number[] = [];
  for (const part of v.split(',')) {
    const [a, b, ...rest] = part.split('-');
    const lo = Number(a);
    const hi = b === undefined ? lo : Number(b);
    if (rest.length || !Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi < lo || hi > 4095 || a === '') return bad;
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return { value: out };
}

function text(v: string | undefined, what: string): { value?: string; error?: string } {
  return v ? { value: v } : { error: `${what} needs a value` };
}

export const KEYS: Readonly<Record<HintKey, KeyDef>> = {
  size: { scopes: ALL, parse: sizeSpec, doc: 'buffer size: 1522, 2K, 64..1522, or 64:3,1522:1 (weights)' },
  depth: { scopes: ALL, parse: (v) => positiveInt(v, 'depth', 1 << 20), doc: 'buffers in flight at once (ring depth)' },
  count: { scopes: ALL, parse: (v) => positiveInt(v, 'count', 1e7), doc: 'how many times the call runs in the simulated workload' },
  where: { scopes: ALL, parse: placement, doc: 'where buffers live: any, low, dma, high, highmem, an address, LO..HI, or low:1,high:3' },
  align: {
    scopes: ALL,
    parse: (v) => {
      const n = v === undefined ? undefined : parseSizeValue(v);
      if (n === undefined || n < 1 || (n & (n - 1)) !== 0 || n > 2 ** 30)
        return { error: `align is a power of two (64, 4K), got ${v === undefined ? 'nothing' : `"${v}"`}` };
      return { value: n };
    },
    doc: 'alignment of the buffers (64 for kmalloc, 4K for pages)',
  },
  machine: {
    scopes: ALL,
    parse: (v) => oneOf(v, 'machine', ['contiguous', 'scattered'] as const),
    doc: 'Xen PV: are the buffers contiguous in machine memory',
  },
  sg: { scopes: ['call'], parse: (v) => positiveInt(v, 'sg', 4096), doc: 'scatterlist entries per dma_map_sg' },
  dir: {
    scopes: ['call'],
    parse: (v) => {
      const d = v === undefined ? undefined : parseDmaDirection(v);
      return d === undefined ? { error: 'dir is DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL or DMA_NONE' } : { value: d };
    },
    doc: 'the direction, when the call passes a variable',
  },
  cpu: { scopes: ALL, parse: cpuList, doc: 'CPUs the call runs on: 0,1 or 0-3' },
  skip: { scopes: ALL, parse: (v) => boolValue(v, 'skip'), doc: 'do not simulate' },
  device: { scopes: ALL, parse: (v) => text(v, 'device'), doc: 'the device name (dev_name) in reports and messages' },
  dma_mask: { scopes: ALL, parse: (v) => maskValue(v, 'dma_mask'), doc: 'the streaming DMA mask: bits or 0x... mask' },
  coherent_dma_mask: { scopes: ALL, parse: (v) => maskValue(v, 'coherent_dma_mask'), doc: 'the coherent DMA mask' },
  bus_dma_limit: {
    scopes: ALL,
    parse: (v) => {
      const n = v === undefined ? undefined : parseSizeValue(v);
      return n === undefined ? { error: `bus_dma_limit is an address such as 0xffffffff, got "${v ?? ''}"` } : { value: n };
    },
    doc: 'bus limit from dma-ranges (highest reachable address)',
  },
  min_align_mask: {
    scopes: ALL,
    parse: (v) => {
      const r = maskValue(v, 'min_align_mask', 32);
      return r.error ? r : { value: Number(r.value) };
    },
    doc: 'dma_set_min_align_mask (NVMe: 0xfff)',
  },
  seg_boundary: { scopes: ALL, parse: (v) => maskValue(v, 'seg_boundary'), doc: 'dma_set_seg_boundary mask' },
  max_seg_size: { scopes: ALL, parse: (v) => positiveInt(v, 'max_seg_size', 2 ** 32), doc: 'dma_set_max_seg_size' },
  coherent: { scopes: ALL, parse: (v) => boolValue(v, 'coherent'), doc: 'cache-coherent device (yes/no)' },
  trusted: { scopes: ALL, parse: (v) => boolValue(v, 'trusted'), doc: 'trusted device behind an IOMMU (no: external, untrusted)' },
  restricted_pool: {
    scopes: ALL,
    parse: (v) => positiveInt(v, 'restricted_pool', 1 << 24),
    doc: 'slots of a restricted-dma-pool the device uses',
  },
  dma_offset: {
    scopes: ALL,
    parse: (v) => {
      const n = v === undefined ? undefined : parseSizeValue(v);
      return n === undefined ? { error: `dma_offset is an address offset, got "${v ?? ''}"` } : { value: n };
    },
    doc: 'dma-ranges offset: DMA address = CPU address - offset',
  },
  driver: { scopes: NOT_CALL, parse: (v) => text(v, 'driver'), doc: 'driver name in messages' },
  platform: { scopes: NOT_CALL, parse: (v) => oneOf(v, 'platform', PLATFORM_IDS as readonly PlatformId[]), doc: 'platform profile' },
  kernel: {
    scopes: NOT_CALL,
    parse: (v) => {
      if (!v) return { error: 'kernel needs a profile (6.1, 6.12, mainline) or a release (6.1.192)' };
      try {
        resolveProfileWithNote(v);
        return { value: v };
      } catch (e) {
        if (e instanceof UnknownKernelError) return { error: e.message };
        throw e;
      }
    },
    doc: 'kernel profile or release',
  },
  ram: {
    scopes: NOT_CALL,
    parse: (v) => {
      const n = v === undefined ? undefined : parseSizeValue(v);
      return n === undefined || n < 2 ** 24
        ? { error: `ram is a size such as 16G, got ${v === undefined ? 'nothing' : `"${v}"`}` }
        : { value: n };
    },
    doc: 'RAM of the machine (decides whether memory reaches above 4 GiB)',
  },
  cpus: { scopes: NOT_CALL, parse: (v) => positiveInt(v, 'cpus', 4096), doc: 'possible CPUs (the number of swiotlb areas)' },
  cmdline: { scopes: NOT_CALL, parse: (v) => text(v, 'cmdline'), doc: 'kernel command line (swiotlb=...)' },
  pool: {
    scopes: NOT_CALL,
    parse: (v) => positiveInt(v, 'pool', 1 << 26),
    doc: 'pool size in 2 KiB slots (instead of the kernel default)',
  },
  p2m: { scopes: NOT_CALL, parse: (v) => oneOf(v, 'p2m', ['contiguous', 'ballooned'] as const), doc: "Xen PV: dom0's P2M layout" },
  mix: {
    scopes: NOT_CALL,
    parse: (v) => oneOf(v, 'mix', ['concurrent', 'sequential'] as const),
    doc: 'annotated sites run at the same time, or one after another',
  },
  dynamic: { scopes: NOT_CALL, parse: (v) => boolValue(v, 'dynamic'), doc: 'CONFIG_SWIOTLB_DYNAMIC (6.6+): the pool grows' },
  board: {
    scopes: NOT_CALL,
    parse: (v) => oneOf(v?.toLowerCase(), 'board', Object.keys(ARM64_BOARDS)),
    doc: "arm64 board whose device tree limits DMA (rpi4: 1 GiB), for ZONE_DMA and the pool's place",
  },
  zone_dma_limit: {
    scopes: NOT_CALL,
    parse: (v) => {
      const n = v === undefined ? undefined : parseSizeValue(v);
      return n === undefined || n < 0xffffff
        ? { error: `zone_dma_limit is the highest address every DMA master reaches, such as 0x3fffffff, got "${v ?? ''}"` }
        : { value: n };
    },
    doc: 'arm64: highest address the firmware lets every DMA master reach (ZONE_DMA follows)',
  },
  zone_dma_bits: {
    scopes: NOT_CALL,
    parse: (v) => {
      const n = v === undefined ? undefined : parseSizeValue(v);
      return n === undefined || n < 24 || n > 64 ? { error: `zone_dma_bits is 24 ... 64, got "${v ?? ''}"` } : { value: n };
    },
    doc: 'arm64: the same as a bit count (30: 1 GiB)',
  },
};

const ALIASES: Record<string, HintKey> = {
  in_flight: 'depth',
  inflight: 'depth',
  ring: 'depth',
  nents: 'sg',
  cpus_list: 'cpu',
  dev: 'device',
};

function canonicalKey(k: string): string {
  return k.toLowerCase().replaceAll('-', '_');
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0] as number;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j] as number;
      d[j] = Math.min((d[j] as number) + 1, (d[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length] as number;
}

export function suggestKey(k: string): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const key of [...Object.keys(KEYS), ...Object.keys(ALIASES)]) {
    const dd = distance(canonicalKey(k), key);
    if (dd < bestD) {
      bestD = dd;
      best = ALIASES[key] ?? key;
    }
  }
  return best;
}

const SCOPE_WORDS: Record<string, AnnotationScope> = { swiotlb: 'call', 'swiotlb-function': 'function', 'swiotlb-file': 'file' };

interface Token {
  readonly key: string;
  readonly value?: string;
  readonly keyStart: number;
  readonly keyEnd: number;
  readonly valueStart: number;
  readonly valueEnd: number;
}

const isBlank = (ch: string) => ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r';
const isKeyChar = (ch: string) =>
  (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch === '_' || ch === '-';

/** Where each line of a comment's text starts (after the first), found once per comment. */
const lineStartsOf = new WeakMap<CommentInfo, number[]>();

/** Offsets in a comment's text -> positions in the file (a binary search: comments can be megabytes). */
function positionAt(c: CommentInfo, offset: number): { row: number; col: number } {
  let starts = lineStartsOf.get(c);
  if (!starts) {
    starts = [];
    for (let i = c.text.indexOf('\n'); i >= 0; i = c.text.indexOf('\n', i + 1)) starts.push(i + 1);
    lineStartsOf.set(c, starts);
  }
  // lines that start at or before the offset (a newline at offset - 1 counts; one at offset does not)
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((starts[mid] as number) <= offset) lo = mid + 1;
    else hi = mid;
  }
  const row = c.span.row + lo;
  return { row, col: lo === 0 ? c.span.col + offset : offset - (starts[lo - 1] as number) };
}

/** Problems reported per annotation; the rest are counted in one more. */
export const MAX_ANNOTATION_PROBLEMS = 20;

function spanIn(c: CommentInfo, start: number, end: number): Span {
  const a = positionAt(c, start);
  const b = positionAt(c, Math.max(start, end));
  return { row: a.row, col: a.col, endRow: b.row, endCol: b.col };
}

export interface ParsedAnnotation {
  readonly scope: AnnotationScope;
  readonly hints: Hints;
  readonly keySpans: Partial<Record<HintKey, Span>>;
  readonly problems: AnnotationProblem[];
  /** Where the annotation's text is. */
  readonly span: Span;
}

/** The comment's text with its delimiters and leading "*"s blanked, so offsets stay the file's. */
function commentBody(t: string): string {
  // UTF-16 units, as editors count columns: split('') splits by code unit
  const chars = t.split('');
  const blank = (a: number, b: number) => {
    for (let i = a; i < b && i < chars.length; i++) if (chars[i] !== '\n') chars[i] = ' ';
  };
  blank(0, 2);
  if (!t.startsWith('//') && t.endsWith('*/')) blank(t.length - 2, t.length);
  if (!t.startsWith('//')) {
    for (let i = 0; i < chars.length; i++) {
      if (chars[i] !== '\n') continue;
      let j = i + 1;
      while (j < chars.length && (chars[j] === ' ' || chars[j] === '\t')) j++;
      if (chars[j] === '*') chars[j] = ' ';
    }
  }
  return chars.join('');
}

/**
 * Reads the annotations of one comment. An annotation is a line that starts with swiotlb:,
 * swiotlb-function: or swiotlb-file:; it runs to a blank line, the next annotation or the end of
 * the comment, so it can sit in a file's header comment among prose. Comments that only mention
 * swiotlb ("swiotlb bounce buffers are slow") hold none.
 */
export function parseAnnotationComment(c: CommentInfo): ParsedAnnotation[] {
  const body = commentBody(c.text);
  // each line: where its first word starts, and whether that word is an annotation keyword
  const starts: { at: number; wordEnd: number; word: string }[] = [];
  const lineEnds: number[] = [];
  let lineStart = 0;
  for (;;) {
    const nl = body.indexOf('\n', lineStart);
    const end = nl < 0 ? body.length : nl;
    let i = lineStart;
    while (i < end && isBlank(body[i] as string)) i++;
    const w = i;
    while (i < end && isKeyChar(body[i] as string)) i++;
    const word = body.slice(w, i);
    if (body[i] === ':' && word.toLowerCase().startsWith('swiotlb')) starts.push({ at: w, wordEnd: i, word });
    else if (w === end) lineEnds.push(lineStart);
    if (nl < 0) break;
    lineStart = nl + 1;
  }
  const out: ParsedAnnotation[] = [];
  let blank = 0; // the first blank line after the current annotation's start (both are in order)
  starts.forEach((st, k) => {
    const next = starts[k + 1]?.at ?? body.length;
    while (blank < lineEnds.length && (lineEnds[blank] as number) <= st.at) blank++;
    const b = lineEnds[blank];
    out.push(parseOne(c, body, st.at, st.wordEnd, st.word, b !== undefined && b < next ? b : next));
  });
  return out;
}

function parseOne(c: CommentInfo, body: string, wordStart: number, wordEnd: number, word: string, limit: number): ParsedAnnotation {
  const problems: AnnotationProblem[] = [];
  let unreported = 0;
  const report = (p: AnnotationProblem) => {
    if (problems.length < MAX_ANNOTATION_PROBLEMS) problems.push(p);
    else unreported++;
  };
  const scope = SCOPE_WORDS[word.toLowerCase()];
  const span = spanIn(c, wordStart, limit);
  if (!scope) {
    report({
      span: spanIn(c, wordStart, wordEnd),
      severity: 'error',
      code: 'annotation-unknown-key',
      message: `unknown annotation "${word}:" (swiotlb: for the next call, swiotlb-function:, swiotlb-file:)`,
    });
    return { scope: 'call', hints: {}, keySpans: {}, problems, span };
  }
  let i = wordEnd + 1;
  const tokens: Token[] = [];
  while (i < limit) {
    while (i < limit && (isBlank(body[i] as string) || body[i] === ';')) i++;
    if (i >= limit) break;
    if (body.startsWith('--', i)) break;
    const keyStart = i;
    while (i < limit && isKeyChar(body[i] as string)) i++;
    const keyEnd = i;
    if (keyEnd === keyStart) {
      // not a key: skip to the next blank and report it
      while (i < limit && !isBlank(body[i] as string)) i++;
      report({
        span: spanIn(c, keyStart, i),
        severity: 'error',
        code: 'annotation-bad-value',
        message: `expected key=value, got "${body.slice(keyStart, i)}"`,
      });
      continue;
    }
    let j = i;
    while (j < limit && (body[j] === ' ' || body[j] === '\t')) j++;
    if (body[j] !== '=') {
      tokens.push({ key: body.slice(keyStart, keyEnd), keyStart, keyEnd, valueStart: keyEnd, valueEnd: keyEnd });
      if (i < limit && !isBlank(body[i] as string) && body[i] !== ';') {
        const s = i;
        while (i < limit && !isBlank(body[i] as string)) i++;
        report({
          span: spanIn(c, s, i),
          severity: 'error',
          code: 'annotation-bad-value',
          message: `expected "=" after ${body.slice(keyStart, keyEnd)}, got "${body.slice(s, i)}"`,
        });
      }
      continue;
    }
    j++;
    while (j < limit && (body[j] === ' ' || body[j] === '\t')) j++;
    let valueStart = j;
    let valueEnd: number;
    let value: string;
    if (body[j] === '"') {
      const q = body.indexOf('"', j + 1);
      const close = q >= 0 && q < limit ? q : -1;
      valueStart = j + 1;
      valueEnd = close < 0 ? limit : close;
      value = body.slice(valueStart, valueEnd);
      i = close < 0 ? limit : close + 1;
      if (close < 0)
        report({ span: spanIn(c, j, limit), severity: 'error', code: 'annotation-bad-value', message: 'unterminated quoted value' });
    } else {
      while (j < limit && !isBlank(body[j] as string) && body[j] !== ';') j++;
      valueEnd = j;
      value = body.slice(valueStart, valueEnd);
      i = j;
    }
    tokens.push({ key: body.slice(keyStart, keyEnd), value, keyStart, keyEnd, valueStart, valueEnd });
  }
  const hints: Hints = {};
  const keySpans: Partial<Record<HintKey, Span>> = {};
  for (const tok of tokens) {
    const canon = canonicalKey(tok.key);
    const key = (ALIASES[canon] ?? canon) as HintKey;
    const def = KEYS[key];
    const keySpan = spanIn(c, tok.keyStart, tok.keyEnd);
    if (!def) {
      if (problems.length >= MAX_ANNOTATION_PROBLEMS) {
        unreported++; // not worth the edit distances of a suggestion
        continue;
      }
      const suggestion = suggestKey(tok.key);
      report({
        span: keySpan,
        severity: 'error',
        code: 'annotation-unknown-key',
        message: `unknown annotation key "${tok.key}"${suggestion ? ` (did you mean ${suggestion}?)` : ''}`,
        ...(suggestion ? { suggestion } : {}),
      });
      continue;
    }
    if (!def.scopes.includes(scope)) {
      report({
        span: keySpan,
        severity: 'error',
        code: 'annotation-scope',
        message: `${key} describes the machine: write it in a swiotlb-file: annotation (or the workspace settings), not in ${scope === 'call' ? 'swiotlb:' : 'swiotlb-function:'}`,
      });
      continue;
    }
    if (keySpans[key]) {
      report({
        span: keySpan,
        severity: 'warning',
        code: 'annotation-duplicate',
        message: `${key} is given twice; the last one counts`,
      });
    }
    const r = def.parse(tok.value);
    if (r.error !== undefined) {
      const vspan = tok.value === undefined ? keySpan : spanIn(c, tok.valueStart, tok.valueEnd);
      report({ span: vspan, severity: 'error', code: 'annotation-bad-value', message: r.error });
      continue;
    }
    (hints as Record<string, unknown>)[key] = r.value;
    keySpans[key] = keySpan;
  }
  if (unreported)
    problems.push({
      span,
      severity: 'error',
      code: 'annotation-bad-value',
      message: `... and ${unreported} more problems in this annotation`,
    });
  return { scope, hints, keySpans, problems, span };
}

const before = (a: Span, b: Span) => a.endRow < b.row || (a.endRow === b.row && a.endCol <= b.col);

/** Reads a file's annotation comments and attaches each to its call, function or the file. */
export function fileAnnotations(pf: ParsedFile): { annotations: Annotation[]; problems: AnnotationProblem[] } {
  const annotations: Annotation[] = [];
  const problems: AnnotationProblem[] = [];
  // sites (all, and by function) and functions in source order, for a binary search per annotation
  const inOrder = (spans: readonly Span[]) =>
    spans
      .map((_, i) => i)
      .sort((a, b) => (spans[a] as Span).row - (spans[b] as Span).row || (spans[a] as Span).col - (spans[b] as Span).col || a - b);
  const siteSpans = pf.sites.map((x) => x.span);
  const fnSpans = pf.functions.map((f) => f.span);
  let allSites: number[] | undefined;
  let sitesByFn: Map<number, number[]> | undefined;
  let functionOrder: number[] | undefined;
  const sitesOf = (fn: number): number[] => {
    allSites ??= inOrder(siteSpans);
    if (fn < 0) return allSites;
    if (!sitesByFn) {
      sitesByFn = new Map();
      for (const i of allSites) {
        const f = pf.sites[i]?.fn ?? -1;
        const list = sitesByFn.get(f);
        if (list) list.push(i);
        else sitesByFn.set(f, [i]);
      }
    }
    return sitesByFn.get(fn) ?? [];
  };
  for (const c of pf.comments) {
    for (const a of parseAnnotationComment(c)) attach(c, a);
  }
  return { annotations, problems };

  /** The first of `order` (indexes into spans, in source order) that starts after `span` ends, or -1. */
  function firstAfter(span: Span, order: readonly number[], spans: readonly Span[]): number {
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(span, spans[order[mid] as number] as Span)) hi = mid;
      else lo = mid + 1;
    }
    return order[lo] ?? -1;
  }

  function attach(c: CommentInfo, a: ParsedAnnotation): void {
    for (const p of a.problems) problems.push(p);
    let target = -1;
    if (a.scope === 'call') {
      target = firstAfter(c.span, sitesOf(c.fn), siteSpans);
      if (target < 0) {
        problems.push({
          span: a.span,
          severity: 'warning',
          code: 'annotation-unattached',
          message:
            c.fn >= 0
              ? 'this swiotlb: annotation is followed by no DMA API call in its function (it applies to the next call)'
              : 'this swiotlb: annotation is followed by no DMA API call',
        });
        return;
      }
    } else if (a.scope === 'function') {
      functionOrder ??= inOrder(fnSpans);
      target = c.fn >= 0 ? c.fn : firstAfter(c.span, functionOrder, fnSpans);
      if (target < 0) {
        problems.push({
          span: a.span,
          severity: 'warning',
          code: 'annotation-unattached',
          message: 'this swiotlb-function: annotation is neither inside nor before a function',
        });
        return;
      }
    }
    annotations.push({ scope: a.scope, span: a.span, hints: a.hints, keySpans: a.keySpans, target });
  }
}

/**
 * Workspace defaults ("ram=32G cpus=8 where=any") with the file grammar. Problems are reported
 * with the setting's text offsets as columns on line 0.
 */
export function parseSettingsHints(textValue: string): ParsedAnnotation {
  const c: CommentInfo = { text: `/* swiotlb-file: ${textValue} */`, span: { row: 0, col: -17, endRow: 0, endCol: 0 }, fn: -1 };
  return parseAnnotationComment(c)[0] ?? { scope: 'file', hints: {}, keySpans: {}, problems: [], span: c.span };
}

/** Later hints override earlier ones (settings < file < function < call). */
export function mergeHints(...layers: (Hints | undefined)[]): Hints {
  const out: Hints = {};
  for (const l of layers) if (l) Object.assign(out, l);
  return out;
}

export const DEFAULT_DIRECTION = DmaDirection.BIDIRECTIONAL;
