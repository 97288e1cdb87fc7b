/**
 * The replay-ops format (JSON Lines; docs/replay-format.md, golden README §1): parsing and
 * validation of the header and of each op line, with messages that name the field.
 */
import { DmaDirection, IO_TLB_SIZE, parseDmaDirection } from '../model/constants';
import { parseAddr, parseAlignMask, parseBoundaryBits, parseMask32, ValueError } from '../model/hex';
import { MAX_KERNEL_NSLABS, MAX_MODEL_NSLABS } from '../model/setup';
import { shortText } from '../protocol/escape';

export class ReplayFormatError extends Error {
  constructor(
    readonly line: number,
    message: string,
    /** The message is prefix + this field's value + suffix: withSource() shows it as the line writes it. */
    private readonly value?: { readonly path: readonly string[]; readonly prefix: string; readonly suffix: string },
  ) {
    super(message);
  }

  /** The same error with the value's text from the line: exact digits (2^53 + 1 stays so), clipped. */
  withSource(text: string): ReplayFormatError {
    if (!this.value) return this;
    const raw = rawJsonField(text, this.value.path);
    return raw === undefined ? this : new ReplayFormatError(this.line, `${this.value.prefix}${shortText(raw)}${this.value.suffix}`);
  }
}

/** prefix + the value + suffix: a field whose value is wrong. */
function valueError(line: number, path: readonly string[], prefix: string, v: unknown, suffix = ''): ReplayFormatError {
  return new ReplayFormatError(line, `${prefix}${brief(v)}${suffix}`, { path, prefix, suffix });
}

/** A value for a message without the line's text: JSON, clipped; a value nested too deep to print is named. */
function brief(v: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    // RangeError: nested deeper than the stack (JSON.parse reads any depth, stringify recurses)
  }
  return text === undefined ? 'a value nested too deep to show' : shortText(text);
}

export interface FieldDefaults {
  /** A decimal size, or 'size' for "=size" (the op's own size). */
  readonly allocSize: number | 'size';
  readonly allocAlignMask: number;
  readonly minAlignMask: number;
  readonly boundaryBits: number;
}

export interface ReplayHeader {
  readonly nslabs: number;
  readonly nareas: number;
  readonly poolBase: number;
  /** The header's kernel tag ("6.1", "mainline-6.18"), if any. */
  readonly kernel?: string;
  /** "dynamic": true: the kernel was built with CONFIG_SWIOTLB_DYNAMIC. */
  readonly dynamic?: boolean;
  readonly pageShift: number;
  readonly workload?: string;
  readonly defaults: FieldDefaults;
}

export type OpId = number | string;

/** The answers a file may carry for --check; never read by the replay itself. */
export interface Expectation {
  readonly expect?: Record<string, unknown>;
  readonly used?: number;
  readonly race?: boolean;
}

interface OpBase extends Expectation {
  readonly line: number;
  readonly id: OpId;
}

export interface MapOp extends OpBase {
  readonly op: 'map';
  readonly cpu: number;
  /** orig_addr ("orig" in the file). */
  readonly origAddr: number;
  readonly size: number;
  readonly allocSize: number;
  /** alloc_align_mask ("align"). */
  readonly allocAlignMask: number;
  /** min_align_mask ("min_align"). */
  readonly minAlignMask: number;
  readonly boundaryBits: number;
  readonly dir: DmaDirection;
  readonly attrs: number;
  readonly dev?: string;
  readonly observedIndex?: number;
}

export interface AllocOp extends OpBase {
  readonly op: 'alloc';
  readonly cpu: number;
  readonly size: number;
  readonly minAlignMask: number;
  readonly boundaryBits: number;
  readonly dev?: string;
  readonly observedIndex?: number;
}

export interface UnmapOp extends OpBase {
  readonly op: 'unmap';
  /** Caller's size (5.10 frees by it); defaults to the map's. */
  readonly size?: number;
  readonly dir?: DmaDirection;
  readonly attrs?: number;
}

export interface SyncOp extends OpBase {
  readonly op: 'sync_for_cpu' | 'sync_for_device';
  readonly size?: number;
  /** Offset into the mapping (dma_sync_single_range_*). */
  readonly offset: number;
  readonly dir?: DmaDirection;
}

export type ReplayOp = MapOp | AllocOp | UnmapOp | SyncOp;

export const OP_NAMES = ['map', 'alloc', 'unmap', 'sync_for_cpu', 'sync_for_device'] as const;

const BUILTIN_DEFAULTS: FieldDefaults = { allocSize: 'size', allocAlignMask: 0, minAlignMask: 0, boundaryBits: 64 };

/** JSON.parse with the error turned into a line-numbered ReplayFormatError. */
export function parseJsonLine(text: string, line: number): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ReplayFormatError(line, `not valid JSON (${(e as Error).message})`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ReplayFormatError(line, 'expected a JSON object');
  return v as Record<string, unknown>;
}

function field<T>(line: number, fn: () => T, path: readonly string[], v: unknown): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ValueError) throw hexError(line, e, path, v);
    throw e;
  }
}

/**
 * A ValueError of the hex.ts parsers at a field: a number a double cannot hold exactly (or at
 * all) is shown as written; the other messages name their value already.
 */
function hexError(line: number, e: ValueError, path: readonly string[], v: unknown): ReplayFormatError {
  if (typeof v === 'number' && !Number.isSafeInteger(v))
    return valueError(line, path, `"${path.join('.')}" must be a hex string or an integer below 2^53, got `, v);
  return new ReplayFormatError(line, shortText(e.message, 300));
}

/** The op fields the hex.ts parsers read (a ValueError names one of them). */
const HEX_FIELDS = ['orig', 'align', 'min_align', 'boundary', 'attrs'] as const;

function int(o: Record<string, unknown>, key: string, line: number, min: number): number {
  const v = o[key];
  if (v === undefined) throw new ReplayFormatError(line, `missing field "${key}"`);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw valueError(line, [key], `"${key}" must be an integer >= ${min}, got `, v);
  }
  return v;
}

function optInt(o: Record<string, unknown>, key: string, line: number, min: number): number | undefined {
  return o[key] === undefined ? undefined : int(o, key, line, min);
}

function dirField(o: Record<string, unknown>, line: number): DmaDirection | undefined {
  const v = o.dir;
  if (v === undefined) return undefined;
  const d = typeof v === 'string' || typeof v === 'number' ? parseDmaDirection(v) : undefined;
  if (d === undefined) throw valueError(line, ['dir'], '"dir" must be TO_DEVICE, FROM_DEVICE, BIDIRECTIONAL or NONE, got ', v);
  return d;
}

function opId(o: Record<string, unknown>, line: number): OpId {
  const v = o.id;
  if (v === undefined) throw new ReplayFormatError(line, 'missing field "id"');
  if ((typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'string' && v.length > 0)) return v;
  throw valueError(line, ['id'], '"id" must be an integer or a non-empty string, got ', v);
}

export function parseHeader(o: Record<string, unknown>, line: number): ReplayHeader {
  if (o.op !== 'init') {
    throw valueError(line, ['op'], 'the first line must be the header {"op":"init",...}, got op ', o.op);
  }
  const nslabs = int(o, 'nslabs', line, 1);
  // a replay is of one kernel pool, and the model sets it up slot by slot
  if (nslabs > MAX_KERNEL_NSLABS)
    throw new ReplayFormatError(
      line,
      `"nslabs" ${nslabs} is more than a kernel pool can have: its slot indexes are int (at most 2^31 slots)`,
    );
  if (nslabs > MAX_MODEL_NSLABS)
    throw new ReplayFormatError(
      line,
      `"nslabs" ${nslabs} (${(nslabs * IO_TLB_SIZE) / 2 ** 30} GiB) is more than the model sets up: at most ${MAX_MODEL_NSLABS} slots (${(MAX_MODEL_NSLABS * IO_TLB_SIZE) / 2 ** 30} GiB)`,
    );
  const nareas = int(o, 'nareas', line, 1);
  if ((nareas & (nareas - 1)) !== 0) throw new ReplayFormatError(line, `"nareas" must be a power of two, got ${nareas}`);
  if (Math.floor(nslabs / nareas) < 1) throw new ReplayFormatError(line, `${nslabs} slots cannot be split into ${nareas} areas`);
  if (o.pool_base === undefined) throw new ReplayFormatError(line, 'missing field "pool_base"');
  const poolBase = field(line, () => parseAddr(o.pool_base, '"pool_base"'), ['pool_base'], o.pool_base);
  if (poolBase % IO_TLB_SIZE !== 0)
    throw new ReplayFormatError(line, `"pool_base" ${shortText(String(o.pool_base))} is not aligned to a 2 KiB slot`);
  if (poolBase + nslabs * IO_TLB_SIZE > 2 ** 53) throw new ReplayFormatError(line, 'the pool ends above 2^53');
  let pageShift = 12;
  if (o.page_size !== undefined) {
    const ps = int(o, 'page_size', line, 4096);
    if ((ps & (ps - 1)) !== 0) throw new ReplayFormatError(line, `"page_size" must be a power of two, got ${ps}`);
    pageShift = Math.log2(ps);
  }
  let kernel: string | undefined;
  if (o.kernel !== undefined) {
    if (typeof o.kernel !== 'string') throw valueError(line, ['kernel'], '"kernel" must be a string, got ', o.kernel);
    kernel = o.kernel;
  }
  if (o.dynamic !== undefined && typeof o.dynamic !== 'boolean')
    throw new ReplayFormatError(line, `"dynamic" must be true or false, got ${JSON.stringify(o.dynamic)}`);
  const fd = o.field_defaults;
  let defaults = BUILTIN_DEFAULTS;
  if (fd !== undefined) {
    if (fd === null || typeof fd !== 'object' || Array.isArray(fd)) throw new ReplayFormatError(line, '"field_defaults" must be an object');
    defaults = parseDefaults(fd as Record<string, unknown>, line);
  }
  return {
    nslabs,
    nareas,
    poolBase,
    pageShift,
    defaults,
    ...(kernel !== undefined ? { kernel } : {}),
    ...(o.dynamic === true ? { dynamic: true } : {}),
    ...(typeof o.workload === 'string' ? { workload: o.workload } : {}),
  };
}

function parseDefaults(fd: Record<string, unknown>, line: number): FieldDefaults {
  let allocSize: number | 'size' = 'size';
  if (fd.alloc_size !== undefined && fd.alloc_size !== '=size') {
    const v = fd.alloc_size;
    const n = typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
      throw valueError(line, ['field_defaults', 'alloc_size'], 'field_defaults.alloc_size must be "=size" or a size, got ', v);
    }
    allocSize = n;
  }
  return {
    allocSize,
    allocAlignMask:
      fd.align === undefined
        ? 0
        : field(line, () => parseAlignMask(fd.align, 'field_defaults.align'), ['field_defaults', 'align'], fd.align),
    minAlignMask:
      fd.min_align === undefined
        ? 0
        : field(line, () => parseMask32(fd.min_align, 'field_defaults.min_align'), ['field_defaults', 'min_align'], fd.min_align),
    boundaryBits:
      fd.boundary === undefined
        ? 64
        : field(line, () => parseBoundaryBits(fd.boundary, 'field_defaults.boundary'), ['field_defaults', 'boundary'], fd.boundary),
  };
}

function devName(o: Record<string, unknown>): string | undefined {
  return typeof o.dev === 'string' ? o.dev : undefined;
}

function expectObject(o: Record<string, unknown>): Record<string, unknown> | undefined {
  return o.expect && typeof o.expect === 'object' ? (o.expect as Record<string, unknown>) : undefined;
}

/** Parses one op line; a bad value becomes a ReplayFormatError naming the field and the line. */
export function parseOp(o: Record<string, unknown>, h: ReplayHeader, line: number): ReplayOp {
  try {
    return parseOpFields(o, h.defaults, line);
  } catch (e) {
    if (e instanceof ValueError) {
      const key = HEX_FIELDS.find((k) => typeof o[k] === 'number' && !Number.isSafeInteger(o[k]));
      throw hexError(line, e, [key ?? ''], key ? o[key] : undefined);
    }
    throw e;
  }
}

// Object literals with every property (no spreads): this runs once per line of large files.
function parseOpFields(o: Record<string, unknown>, d: FieldDefaults, line: number): ReplayOp {
  const op = o.op;
  switch (op) {
    case 'map': {
      const id = opId(o, line);
      const cpu = int(o, 'cpu', line, 0);
      if (o.orig === undefined) throw new ReplayFormatError(line, 'missing field "orig"');
      const orig = parseAddr(o.orig, '"orig"');
      if (orig === 0) throw new ReplayFormatError(line, '"orig" must not be 0 for a map (0 means "no original buffer")');
      const size = int(o, 'size', line, 1);
      const allocSize =
        o.alloc_size === undefined || o.alloc_size === '=size'
          ? d.allocSize === 'size'
            ? size
            : d.allocSize
          : int(o, 'alloc_size', line, 1);
      return {
        op,
        line,
        id,
        cpu,
        origAddr: orig,
        size,
        allocSize,
        allocAlignMask: o.align === undefined ? d.allocAlignMask : parseAlignMask(o.align, '"align"'),
        minAlignMask: o.min_align === undefined ? d.minAlignMask : parseMask32(o.min_align, '"min_align"'),
        boundaryBits: o.boundary === undefined ? d.boundaryBits : parseBoundaryBits(o.boundary, '"boundary"'),
        dir: dirField(o, line) ?? DmaDirection.BIDIRECTIONAL,
        attrs: o.attrs === undefined ? 0 : parseMask32(o.attrs, '"attrs"'),
        dev: devName(o),
        observedIndex: optInt(o, 'observed_index', line, 0),
        expect: expectObject(o),
        used: typeof o.used === 'number' ? o.used : undefined,
        race: o.race === true,
      };
    }
    case 'alloc':
      return {
        op,
        line,
        id: opId(o, line),
        cpu: int(o, 'cpu', line, 0),
        size: int(o, 'size', line, 1),
        minAlignMask: o.min_align === undefined ? d.minAlignMask : parseMask32(o.min_align, '"min_align"'),
        boundaryBits: o.boundary === undefined ? d.boundaryBits : parseBoundaryBits(o.boundary, '"boundary"'),
        dev: devName(o),
        observedIndex: optInt(o, 'observed_index', line, 0),
        expect: expectObject(o),
        used: typeof o.used === 'number' ? o.used : undefined,
        race: o.race === true,
      };
    case 'unmap':
      return {
        op,
        line,
        id: opId(o, line),
        size: optInt(o, 'size', line, 1),
        dir: dirField(o, line),
        attrs: o.attrs === undefined ? undefined : parseMask32(o.attrs, '"attrs"'),
        expect: expectObject(o),
        used: typeof o.used === 'number' ? o.used : undefined,
        race: o.race === true,
      };
    case 'sync_for_cpu':
    case 'sync_for_device': {
      const dir = dirField(o, line);
      if (dir === DmaDirection.NONE) throw new ReplayFormatError(line, 'a DMA_NONE sync is a kernel BUG()');
      return {
        op,
        line,
        id: opId(o, line),
        offset: optInt(o, 'offset', line, 0) ?? 0,
        size: optInt(o, 'size', line, 1),
        dir,
        expect: expectObject(o),
        used: typeof o.used === 'number' ? o.used : undefined,
        race: o.race === true,
      };
    }
    case undefined:
      throw new ReplayFormatError(line, 'missing field "op"');
    case 'init':
      throw new ReplayFormatError(line, 'a second header line ("op":"init"): a file replays one pool');
    default:
      throw valueError(line, ['op'], 'unknown op ', op, ` (expected ${OP_NAMES.join(', ')})`);
  }
}

/**
 * The text of a field of the JSON object a line holds (a path of keys; the last occurrence of a
 * key, as JSON.parse keeps), or undefined. A scan, not a parse: no recursion, any depth.
 */
export function rawJsonField(text: string, path: readonly string[]): string | undefined {
  let start = skipBlanks(text, 0);
  for (const key of path) {
    if (text[start] !== '{') return undefined;
    let i = skipBlanks(text, start + 1);
    let found = -1;
    while (text[i] === '"') {
      const keyEnd = valueEnd(text, i);
      let k: unknown;
      try {
        k = JSON.parse(text.slice(i, keyEnd));
      } catch {
        return undefined;
      }
      i = skipBlanks(text, keyEnd);
      if (text[i] !== ':') return undefined;
      const v = skipBlanks(text, i + 1);
      if (k === key) found = v;
      i = skipBlanks(text, valueEnd(text, v));
      if (text[i] !== ',') break;
      i = skipBlanks(text, i + 1);
    }
    if (found < 0) return undefined;
    start = found;
  }
  return text.slice(start, valueEnd(text, start));
}

function skipBlanks(text: string, i: number): number {
  let j = i;
  while (j < text.length && (text[j] === ' ' || text[j] === '\t' || text[j] === '\r' || text[j] === '\n')) j++;
  return j;
}

/** Where the JSON value starting at i ends (exclusive). */
function valueEnd(text: string, i: number): number {
  const c = text[i];
  if (c === '"') {
    let j = i + 1;
    while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    return Math.min(j + 1, text.length);
  }
  if (c === '{' || c === '[') {
    let depth = 0;
    let j = i;
    for (; j < text.length; j++) {
      const d = text[j];
      if (d === '"') j = valueEnd(text, j) - 1;
      else if (d === '{' || d === '[') depth++;
      else if ((d === '}' || d === ']') && --depth === 0) return j + 1;
    }
    return j;
  }
  let j = i;
  while (j < text.length && !',}] \t\r\n'.includes(text[j] as string)) j++;
  return j;
}
