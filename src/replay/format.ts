/**
 * The replay-ops format (JSON Lines; docs/replay-format.md, golden README §1): parsing and
 * validation of the header and of each op line, with messages that name the field.
 */
import { DmaDirection, IO_TLB_SIZE, parseDmaDirection } from '../model/constants';
import { parseAddr, parseAlignMask, parseBoundaryBits, parseMask32, ValueError } from '../model/hex';

export class ReplayFormatError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
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

function field<T>(line: number, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ValueError) throw new ReplayFormatError(line, e.message);
    throw e;
  }
}

function int(o: Record<string, unknown>, key: string, line: number, min: number): number {
  const v = o[key];
  if (v === undefined) throw new ReplayFormatError(line, `missing field "${key}"`);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new ReplayFormatError(line, `"${key}" must be an integer >= ${min}, got ${JSON.stringify(v)}`);
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
  if (d === undefined)
    throw new ReplayFormatError(line, `"dir" must be TO_DEVICE, FROM_DEVICE, BIDIRECTIONAL or NONE, got ${JSON.stringify(v)}`);
  return d;
}

function opId(o: Record<string, unknown>, line: number): OpId {
  const v = o.id;
  if (v === undefined) throw new ReplayFormatError(line, 'missing field "id"');
  if ((typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'string' && v.length > 0)) return v;
  throw new ReplayFormatError(line, `"id" must be an integer or a non-empty string, got ${JSON.stringify(v)}`);
}

export function parseHeader(o: Record<string, unknown>, line: number): ReplayHeader {
  if (o.op !== 'init') {
    throw new ReplayFormatError(line, `the first line must be the header {"op":"init",...}, got op ${JSON.stringify(o.op)}`);
  }
  const nslabs = int(o, 'nslabs', line, 1);
  const nareas = int(o, 'nareas', line, 1);
  if ((nareas & (nareas - 1)) !== 0) throw new ReplayFormatError(line, `"nareas" must be a power of two, got ${nareas}`);
  if (Math.floor(nslabs / nareas) < 1) throw new ReplayFormatError(line, `${nslabs} slots cannot be split into ${nareas} areas`);
  if (o.pool_base === undefined) throw new ReplayFormatError(line, 'missing field "pool_base"');
  const poolBase = field(line, () => parseAddr(o.pool_base, '"pool_base"'));
  if (poolBase % IO_TLB_SIZE !== 0) throw new ReplayFormatError(line, `"pool_base" ${String(o.pool_base)} is not aligned to a 2 KiB slot`);
  if (poolBase + nslabs * IO_TLB_SIZE > 2 ** 53) throw new ReplayFormatError(line, 'the pool ends above 2^53');
  let pageShift = 12;
  if (o.page_size !== undefined) {
    const ps = int(o, 'page_size', line, 4096);
    if ((ps & (ps - 1)) !== 0) throw new ReplayFormatError(line, `"page_size" must be a power of two, got ${ps}`);
    pageShift = Math.log2(ps);
  }
  let kernel: string | undefined;
  if (o.kernel !== undefined) {
    if (typeof o.kernel !== 'string') throw new ReplayFormatError(line, `"kernel" must be a string, got ${JSON.stringify(o.kernel)}`);
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
      throw new ReplayFormatError(line, `field_defaults.alloc_size must be "=size" or a size, got ${JSON.stringify(v)}`);
    }
    allocSize = n;
  }
  return {
    allocSize,
    allocAlignMask: fd.align === undefined ? 0 : field(line, () => parseAlignMask(fd.align, 'field_defaults.align')),
    minAlignMask: fd.min_align === undefined ? 0 : field(line, () => parseMask32(fd.min_align, 'field_defaults.min_align')),
    boundaryBits: fd.boundary === undefined ? 64 : field(line, () => parseBoundaryBits(fd.boundary, 'field_defaults.boundary')),
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
    if (e instanceof ValueError) throw new ReplayFormatError(line, e.message);
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
      throw new ReplayFormatError(line, `unknown op ${JSON.stringify(op)} (expected ${OP_NAMES.join(', ')})`);
  }
}
