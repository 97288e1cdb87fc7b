/**
 * Scenario files: a platform, a kernel, a pool, devices and a workload (explicit DMA API calls or
 * generators), as JSON with comments. Every problem is reported with its JSON path, line and
 * column; the whole file is checked before anything runs. JSON Schema: media/schemas/scenario.schema.json.
 */
import { DMA_ATTR, DmaDirection, parseDmaDirection } from '../model/constants';
import { type DeviceConfig, DMA_BIT_MASK, pciDefaults } from '../model/dma/device';
import type { P2mRun } from '../model/dma/p2m';
import { PLATFORM_IDS, type PlatformProfile, platformById } from '../model/dma/platform';
import { DEFAULT_GROW_DELAY } from '../model/dynamic';
import { isLowMask, maskBits } from '../model/hex';
import { dynamicUnsupported, type KernelProfile, resolveProfileWithNote, UnknownKernelError } from '../model/profiles';
import { ARM64_BOARDS, CmdlineError, MAX_MODEL_NSLABS, MAX_POSSIBLE_CPUS } from '../model/setup';
import { JsonDoc, type JsonValue, type Problem } from './json';
import { DEFAULT_MAX_SCENARIO_CALLS, setupPool, stepCalls, workloadCalls } from './run';

export { DEFAULT_MAX_SCENARIO_CALLS, workloadCalls };

export type MapApi = 'map' | 'map_sg' | 'map_resource';
export type CallKind =
  | 'map'
  | 'map_sg'
  | 'map_resource'
  | 'unmap'
  | 'unmap_sg'
  | 'unmap_resource'
  | 'sync_cpu'
  | 'sync_device'
  | 'sync_sg_cpu'
  | 'sync_sg_device'
  | 'alloc'
  | 'free';

/** The DMA API as drivers call it, by what each call does. */
export const DMA_CALLS: Readonly<Record<string, CallKind>> = {
  dma_map_single: 'map',
  dma_map_single_attrs: 'map',
  dma_map_page: 'map',
  dma_map_page_attrs: 'map',
  dma_map_phys: 'map',
  dma_map_sg: 'map_sg',
  dma_map_sg_attrs: 'map_sg',
  dma_map_sgtable: 'map_sg',
  dma_map_resource: 'map_resource',
  dma_unmap_single: 'unmap',
  dma_unmap_single_attrs: 'unmap',
  dma_unmap_page: 'unmap',
  dma_unmap_page_attrs: 'unmap',
  dma_unmap_phys: 'unmap',
  dma_unmap_sg: 'unmap_sg',
  dma_unmap_sg_attrs: 'unmap_sg',
  dma_unmap_sgtable: 'unmap_sg',
  dma_unmap_resource: 'unmap_resource',
  dma_sync_single_for_cpu: 'sync_cpu',
  dma_sync_single_for_device: 'sync_device',
  dma_sync_single_range_for_cpu: 'sync_cpu',
  dma_sync_single_range_for_device: 'sync_device',
  dma_sync_sg_for_cpu: 'sync_sg_cpu',
  dma_sync_sg_for_device: 'sync_sg_device',
  dma_sync_sgtable_for_cpu: 'sync_sg_cpu',
  dma_sync_sgtable_for_device: 'sync_sg_device',
  dma_alloc_coherent: 'alloc',
  dma_alloc_attrs: 'alloc',
  dmam_alloc_coherent: 'alloc',
  dma_alloc_noncoherent: 'alloc',
  dma_free_coherent: 'free',
  dma_free_attrs: 'free',
  dma_free_noncoherent: 'free',
};

const ATTR_NAMES: Record<string, number> = {
  WEAK_ORDERING: DMA_ATTR.WEAK_ORDERING,
  WRITE_COMBINE: DMA_ATTR.WRITE_COMBINE,
  NO_KERNEL_MAPPING: DMA_ATTR.NO_KERNEL_MAPPING,
  SKIP_CPU_SYNC: DMA_ATTR.SKIP_CPU_SYNC,
  FORCE_CONTIGUOUS: DMA_ATTR.FORCE_CONTIGUOUS,
  ALLOC_SINGLE_PAGES: DMA_ATTR.ALLOC_SINGLE_PAGES,
  NO_WARN: DMA_ATTR.NO_WARN,
  PRIVILEGED: DMA_ATTR.PRIVILEGED,
  MMIO: DMA_ATTR.MMIO,
};

export type SizeDist =
  | { readonly kind: 'fixed'; readonly size: number }
  | { readonly kind: 'uniform'; readonly min: number; readonly max: number }
  | { readonly kind: 'choice'; readonly sizes: readonly number[] };

export interface AddrRange {
  readonly lo: number;
  readonly hi: number;
  readonly weight: number;
}

export type AddrDist =
  | { readonly kind: 'sequential'; readonly start: number; readonly stride?: number }
  | { readonly kind: 'ranges'; readonly ranges: readonly AddrRange[]; readonly align: number };

export interface CallStep {
  readonly kind: 'call';
  readonly line: number;
  readonly call: string;
  readonly what: CallKind;
  readonly device?: DeviceConfig;
  readonly id?: string;
  readonly phys?: number;
  readonly size?: number;
  readonly dir?: DmaDirection;
  readonly attrs?: number;
  readonly cpu?: number;
  readonly sg?: readonly { phys: number; size: number }[];
  /** dma_sync_single_range_*: offset into the mapping. */
  readonly offset?: number;
  /** Xen arm: the page is a foreign (grant-mapped) page at this machine address. */
  readonly foreign?: number;
}

export interface RingStep {
  readonly kind: 'ring';
  readonly line: number;
  readonly device: DeviceConfig;
  readonly map: string;
  readonly depth: number;
  readonly count: number;
  readonly size: SizeDist;
  readonly phys: AddrDist;
  readonly dir: DmaDirection;
  readonly attrs: number;
  readonly cpus: readonly number[];
  readonly seed: number;
  /** Syncs each buffer gets while mapped. */
  readonly sync: 'none' | 'cpu' | 'device' | 'both';
  readonly id: string;
}

export interface RepeatStep {
  readonly kind: 'repeat';
  readonly line: number;
  readonly times: number;
  readonly steps: readonly Step[];
}

export interface P2mStep {
  readonly kind: 'xen_p2m';
  readonly line: number;
  readonly p2m: P2mSpec;
}

export type Step = CallStep | RingStep | RepeatStep | P2mStep;

export type P2mSpec =
  | { readonly kind: 'contiguous'; readonly machineBase: number }
  | { readonly kind: 'ballooned'; readonly machineBase: number }
  | { readonly kind: 'runs'; readonly runs: readonly P2mRun[] }
  | { readonly kind: 'file'; readonly path: string };

export interface Scenario {
  readonly file: string;
  readonly name: string;
  readonly description?: string;
  readonly platform: PlatformProfile;
  readonly kernel: KernelProfile;
  readonly kernelNote?: string;
  readonly cpus: number;
  readonly ramBytes?: number;
  readonly maxPhysAddr?: number;
  /** arm64: what the firmware lets every DMA master reach (DT dma-ranges, IORT): ZONE_DMA follows. */
  readonly firmwareDmaLimit?: number;
  /** arm64: where RAM starts. */
  readonly dramStart?: number;
  /** CONFIG_SWIOTLB_DYNAMIC on, and after how many map calls the worker's pools are visible. */
  readonly dynamic?: { readonly growDelay: number };
  readonly pool: {
    readonly cmdline?: string;
    readonly base?: number;
    readonly nslabs?: number;
    readonly nareas?: number;
    readonly available?: number;
    readonly force?: boolean;
  };
  readonly xen?: {
    readonly p2m: P2mSpec;
    readonly segments?: readonly number[];
    readonly cacheFlushHypercall?: boolean;
  };
  readonly encryptionBit?: number;
  readonly devices: readonly DeviceConfig[];
  readonly workload: readonly Step[];
  /** Read, but perhaps not as the author meant (a duplicate key): reported with the results. */
  readonly warnings?: readonly Problem[];
}

export class ScenarioError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly Problem[],
  ) {
    super(problems.map((p) => `${file}:${p.line}:${p.column}: ${p.path}: ${p.message}`).join('\n'));
  }
}

const TOP_KEYS = ['$schema', 'name', 'description', 'platform', 'kernel', 'dynamic', 'machine', 'pool', 'xen', 'devices', 'workload'];
const DEVICE_KEYS = [
  'id',
  'name',
  'driver',
  'dma_mask',
  'coherent_dma_mask',
  'bus_dma_limit',
  'min_align_mask',
  'seg_boundary',
  'max_seg_size',
  'coherent',
  'trusted',
  'restricted_pool_slots',
  'restricted_pool_base',
  'dma_offset',
  'iova_granule',
];
const CALL_KEYS = ['call', 'device', 'id', 'phys', 'size', 'dir', 'attrs', 'cpu', 'sg', 'offset', 'foreign'];
const RING_KEYS = ['device', 'map', 'depth', 'count', 'size', 'phys', 'dir', 'attrs', 'cpus', 'seed', 'sync', 'id'];

/** Scenario files are read whole: larger ones are refused before they are read. */
export const MAX_SCENARIO_BYTES = 64 * 2 ** 20;

export interface ScenarioParseOptions {
  /** Most DMA API calls the workload may expand to (DEFAULT_MAX_SCENARIO_CALLS). */
  readonly maxCalls?: number;
  /** How the user raises maxCalls, for the message ("--max-calls N"). */
  readonly maxCallsHint?: string;
}

/** Parses text (JSON with comments) into a scenario, or throws ScenarioError with every problem. */
export function parseScenario(text: string, file: string, opts: ScenarioParseOptions = {}): Scenario {
  if (text.length > MAX_SCENARIO_BYTES)
    throw new ScenarioError(file, [
      { path: '$', line: 1, column: 1, message: `the file is larger than the ${MAX_SCENARIO_BYTES / 2 ** 20} MiB a scenario may be` },
    ]);
  const doc = new JsonDoc(text);
  const root = doc.root;
  if (!root || doc.problems.length) throw new ScenarioError(file, doc.problems);
  const p = new Parser(file);
  const scenario = p.scenario(root);
  if (scenario && !doc.problems.length) {
    p.checkSize(scenario.workload, opts);
    checkPool(scenario, root);
  }
  if (doc.problems.length || !scenario) throw new ScenarioError(file, doc.problems);
  return doc.warnings.length ? { ...scenario, warnings: doc.warnings } : scenario;
}

/** The pool the kernel would set up must be one the model can: else a problem at what sized it. */
function checkPool(s: Scenario, root: JsonValue): void {
  try {
    setupPool(s);
  } catch (e) {
    if (!(e instanceof CmdlineError)) throw e;
    const pool = root.get('pool');
    (pool?.get('cmdline') ?? root.get('machine')?.get('cpus') ?? pool ?? root).problem(e.message);
  }
}

/** 4000000 -> "4,000,000"; 2e12 -> "2.0e12". */
function countText(n: number): string {
  return n < 1e15 ? Math.round(n).toLocaleString('en-US') : n.toExponential(1).replace('+', '');
}

/** Numbers as JSON numbers, "0x..." hex, or decimal strings; sizes also as "64K", "2M", "1G". */
function num(v: JsonValue, what: string, opts: { min?: number; max?: number; maxWhy?: string; sizes?: boolean } = {}): number | undefined {
  const raw = v.value;
  let n: number | undefined;
  if (typeof raw === 'number' && Number.isInteger(raw)) n = raw;
  else if (typeof raw === 'string') {
    const s = raw.trim();
    if (/^0x[0-9a-f]+$/i.test(s)) n = s.length > 16 ? Number.POSITIVE_INFINITY : Number(s);
    else if (/^\d+$/.test(s)) n = Number(s);
    else if (opts.sizes) {
      const m = /^(\d+(?:\.\d+)?)\s*([KMGT])i?B?$/i.exec(s);
      if (m) n = Math.round(Number(m[1]) * 2 ** (10 * ('KMGT'.indexOf((m[2] as string).toUpperCase()) + 1)));
    }
  }
  if (n === undefined) {
    v.problem(`${what} must be a number${opts.sizes ? ' or a size such as "64K"' : ' or a hex string such as "0x1000"'}, got ${v.source}`);
    return undefined;
  }
  if (!Number.isSafeInteger(n)) {
    // a double cannot hold it exactly: say so with the digits as written
    v.problem(`${what} ${v.source} is 2^53 or more, beyond any number the model handles exactly`);
    return undefined;
  }
  if (opts.min !== undefined && n < opts.min) {
    v.problem(`${what} must be at least ${opts.min}, got ${v.source}`);
    return undefined;
  }
  if (opts.max !== undefined && n > opts.max) {
    v.problem(`${what} must be at most ${opts.max}${opts.maxWhy ? ` (${opts.maxWhy})` : ''}, got ${v.source}`);
    return undefined;
  }
  return n;
}

/** A mask: 2^k-1 as hex, or a bit count (DMA_BIT_MASK(n)). */
function mask(v: JsonValue, what: string, max = 64): bigint | undefined {
  const raw = v.value;
  if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 0 && raw <= max) return DMA_BIT_MASK(raw);
  if (typeof raw === 'string' && /^0x[0-9a-f]+$/i.test(raw.trim())) {
    const b = BigInt(raw.trim());
    if (b >> BigInt(max) !== 0n) {
      v.problem(`${what} ${raw} does not fit in ${max} bits`);
      return undefined;
    }
    if (!isLowMask(b)) {
      v.problem(`${what} ${raw} is not of the form 2^k-1 (e.g. "0xffffffff", or 32 for DMA_BIT_MASK(32))`);
      return undefined;
    }
    return b;
  }
  v.problem(`${what} must be a bit count (e.g. 32 for DMA_BIT_MASK(32)) or a mask such as "0xffffffff", got ${v.source}`);
  return undefined;
}

function bool(v: JsonValue, what: string): boolean | undefined {
  if (typeof v.value === 'boolean') return v.value;
  v.problem(`${what} must be true or false`);
  return undefined;
}

function str(v: JsonValue, what: string): string | undefined {
  if (typeof v.value === 'string' && v.value.length > 0) return v.value;
  v.problem(`${what} must be a non-empty string`);
  return undefined;
}

class Parser {
  private readonly devices = new Map<string, DeviceConfig>();
  private platform: PlatformProfile | undefined;
  /** Where each parsed step was written, for the workload-size complaint. */
  private readonly stepNodes = new Map<Step, JsonValue>();

  constructor(private readonly file: string) {}

  /** Refuses a workload of more calls than the limit, at the step that contributes most. */
  checkSize(workload: readonly Step[], opts: ScenarioParseOptions): void {
    const max = opts.maxCalls ?? DEFAULT_MAX_SCENARIO_CALLS;
    const total = workloadCalls(workload);
    if (total <= max) return;
    let steps = workload;
    let at: JsonValue | undefined;
    // down to the largest ring or call: the number to change
    for (;;) {
      let big: Step | undefined;
      for (const s of steps) if (!big || stepCalls(s) > stepCalls(big)) big = s;
      if (!big) break;
      at = this.stepNodes.get(big) ?? at;
      if (big.kind !== 'repeat' || stepCalls(big) <= max || workloadCalls(big.steps) <= max) {
        if (big.kind === 'ring') at = at?.get('ring')?.get('count') ?? at;
        else if (big.kind === 'repeat') at = at?.get('repeat') ?? at;
        break;
      }
      steps = big.steps;
    }
    (at ?? this.stepNodes.values().next().value)?.problem(
      `the workload expands to ${countText(total)} DMA API calls, above the limit of ${countText(max)}: every call is kept for the report (${opts.maxCallsHint ?? 'raise the limit with --max-calls N'})`,
    );
  }

  scenario(root: JsonValue): Scenario | undefined {
    if (!root.expectObject('a scenario')) return undefined;
    root.onlyKeys(TOP_KEYS, 'the scenario');
    const name = root.get('name') ? str(root.get('name') as JsonValue, 'name') : undefined;
    const description = root.get('description') ? str(root.get('description') as JsonValue, 'description') : undefined;
    const pv = root.get('platform');
    if (!pv) root.problem(`missing "platform" (one of: ${PLATFORM_IDS.join(', ')})`);
    else {
      const id = str(pv, 'platform');
      if (id !== undefined) {
        this.platform = platformById(id);
        if (!this.platform) pv.problem(`unknown platform "${id}" (one of: ${PLATFORM_IDS.join(', ')})`);
      }
    }
    let kernel: KernelProfile | undefined;
    let kernelNote: string | undefined;
    const kv = root.get('kernel');
    if (!kv) root.problem('missing "kernel" (a profile such as "6.1", "6.12", "mainline", or a release "6.1.192")');
    else {
      const k = typeof kv.value === 'number' ? String(kv.value) : str(kv, 'kernel');
      if (k !== undefined) {
        try {
          const r = resolveProfileWithNote(k);
          kernel = r.profile;
          kernelNote = r.note;
        } catch (e) {
          if (!(e instanceof UnknownKernelError)) throw e;
          kv.problem(e.message);
        }
      }
    }
    let cpus = 1;
    let ramBytes: number | undefined;
    let maxPhysAddr: number | undefined;
    let encryptionBit: number | undefined;
    let firmwareDmaLimit: number | undefined;
    let dramStart: number | undefined;
    const mv = root.get('machine');
    if (mv?.expectObject('machine')) {
      mv.onlyKeys(['cpus', 'ram', 'max_phys', 'c_bit', 'board', 'zone_dma_limit', 'zone_dma_bits', 'dram_start'], 'machine');
      const zone = this.dmaZoneKeys(mv);
      firmwareDmaLimit = zone.firmwareDmaLimit;
      dramStart = zone.dramStart;
      const c = mv.get('cpus');
      if (c) cpus = num(c, 'machine.cpus', { min: 1, max: MAX_POSSIBLE_CPUS, maxWhy: 'CONFIG_NR_CPUS' }) ?? 1;
      const r = mv.get('ram');
      if (r) ramBytes = num(r, 'machine.ram', { min: 1, sizes: true });
      const x = mv.get('max_phys');
      if (x) maxPhysAddr = num(x, 'machine.max_phys', { min: 1, sizes: true });
      const cb = mv.get('c_bit');
      if (cb) {
        const bit = num(cb, 'machine.c_bit', { min: 32 });
        if (bit !== undefined) {
          if (bit > 51) cb.problem('machine.c_bit must be between 32 and 51');
          else encryptionBit = 2 ** bit;
        }
      }
    }
    const pool = this.pool(root.get('pool'));
    const dynamic = this.dynamic(root.get('dynamic'), kernel);
    const xen = this.xen(root.get('xen'));
    const dv = root.get('devices');
    if (!dv) root.problem('missing "devices": the devices the workload uses');
    else if (dv.type !== 'array') dv.problem('"devices" must be an array');
    else for (const d of dv.items()) this.device(d);
    const wv = root.get('workload');
    let workload: Step[] = [];
    if (!wv) root.problem('missing "workload": the DMA API calls to run');
    else if (wv.type !== 'array') wv.problem('"workload" must be an array of steps');
    else workload = this.steps(wv, new Set());
    if (!this.platform || !kernel) return undefined;
    return {
      file: this.file,
      name: name ?? this.file.replace(/^.*[\\/]/, ''),
      ...(description ? { description } : {}),
      platform: this.platform,
      kernel,
      ...(kernelNote ? { kernelNote } : {}),
      cpus,
      ...(ramBytes !== undefined ? { ramBytes } : {}),
      ...(maxPhysAddr !== undefined ? { maxPhysAddr } : {}),
      ...(firmwareDmaLimit !== undefined ? { firmwareDmaLimit } : {}),
      ...(dramStart !== undefined ? { dramStart } : {}),
      ...(dynamic ? { dynamic } : {}),
      pool,
      ...(xen ? { xen } : {}),
      ...(encryptionBit !== undefined ? { encryptionBit } : {}),
      devices: [...new Set(this.devices.values())],
      workload,
    };
  }

  /** machine.board / zone_dma_limit / zone_dma_bits / dram_start: arm64's DMA zone. */
  private dmaZoneKeys(mv: JsonValue): { firmwareDmaLimit?: number; dramStart?: number } {
    const out: { firmwareDmaLimit?: number; dramStart?: number } = {};
    const keys = ['board', 'zone_dma_limit', 'zone_dma_bits', 'dram_start'].filter((k) => mv.get(k));
    if (keys.length && this.platform && this.platform.arch !== 'arm64') {
      (mv.get(keys[0] as string) as JsonValue).problem(`machine.${keys[0]} is for arm64: x86's ZONE_DMA is the fixed 16 MiB`);
      return out;
    }
    const b = mv.get('board');
    if (b) {
      const name = str(b, 'machine.board');
      const board = name === undefined ? undefined : ARM64_BOARDS[name.toLowerCase()];
      if (name !== undefined && !board) b.problem(`unknown board "${name}" (one of: ${Object.keys(ARM64_BOARDS).join(', ')})`);
      if (board) out.firmwareDmaLimit = board.firmwareDmaLimit;
    }
    const l = mv.get('zone_dma_limit');
    const bits = mv.get('zone_dma_bits');
    if (l && bits) l.problem('give machine.zone_dma_limit or machine.zone_dma_bits, not both');
    else if (l) {
      const n = num(l, 'machine.zone_dma_limit', { min: 0xffffff });
      if (n !== undefined) out.firmwareDmaLimit = n;
    } else if (bits) {
      const n = num(bits, 'machine.zone_dma_bits', { min: 24 });
      if (n !== undefined) {
        if (n > 64) bits.problem('machine.zone_dma_bits must be between 24 and 64');
        else out.firmwareDmaLimit = n >= 53 ? 2 ** 64 : 2 ** n - 1;
      }
    }
    const ds = mv.get('dram_start');
    if (ds) {
      const n = num(ds, 'machine.dram_start', { min: 0 });
      if (n !== undefined) out.dramStart = n;
    }
    return out;
  }

  /** "dynamic": true, or {"grow_delay": N}: CONFIG_SWIOTLB_DYNAMIC. */
  private dynamic(v: JsonValue | undefined, kernel: KernelProfile | undefined): Scenario['dynamic'] | undefined {
    if (!v) return undefined;
    let growDelay = DEFAULT_GROW_DELAY;
    if (v.type === 'object') {
      v.onlyKeys(['grow_delay'], 'dynamic');
      const g = v.get('grow_delay');
      if (g) growDelay = num(g, 'dynamic.grow_delay', { min: 1 }) ?? DEFAULT_GROW_DELAY;
    } else {
      const on = bool(v, 'dynamic');
      if (!on) return undefined;
    }
    const why = kernel ? dynamicUnsupported(kernel) : undefined;
    if (why) {
      v.problem(why);
      return undefined;
    }
    if (this.platform?.xen?.pv) {
      v.problem('xen-swiotlb sets its pool up with a remap hook (Xen PV dom0): it cannot grow (io_tlb_mem.can_grow is false)');
      return undefined;
    }
    return { growDelay };
  }

  private pool(v: JsonValue | undefined): Scenario['pool'] {
    if (!v?.expectObject('pool')) return {};
    v.onlyKeys(['cmdline', 'base', 'nslabs', 'nareas', 'available', 'force'], 'pool');
    const out: { cmdline?: string; base?: number; nslabs?: number; nareas?: number; available?: number; force?: boolean } = {};
    const c = v.get('cmdline');
    if (c) {
      const s = str(c, 'pool.cmdline');
      if (s !== undefined) out.cmdline = s;
    }
    const b = v.get('base');
    if (b) {
      const n = num(b, 'pool.base', { min: 0 });
      if (n !== undefined) {
        if (n % 4096 !== 0) b.problem('pool.base must be page aligned (4 KiB)');
        else out.base = n;
      }
    }
    const ns = v.get('nslabs');
    if (ns) {
      const n = num(ns, 'pool.nslabs', { min: 1, max: MAX_MODEL_NSLABS, maxWhy: 'the largest pool the model sets up' });
      if (n !== undefined) out.nslabs = n;
    }
    const na = v.get('nareas');
    if (na) {
      const n = num(na, 'pool.nareas', { min: 1 });
      if (n !== undefined) {
        if ((n & (n - 1)) !== 0) na.problem('pool.nareas must be a power of two');
        else out.nareas = n;
      }
    }
    const av = v.get('available');
    if (av) {
      const n = num(av, 'pool.available', { min: 1, sizes: true });
      if (n !== undefined) out.available = n;
    }
    const f = v.get('force');
    if (f) {
      const x = bool(f, 'pool.force');
      if (x !== undefined) out.force = x;
    }
    if (out.nslabs !== undefined && out.nareas !== undefined && out.nareas > out.nslabs)
      v.problem(`${out.nslabs} slots cannot be split into ${out.nareas} areas`);
    if (out.nslabs !== undefined && out.cmdline !== undefined)
      v.problem('give either pool.cmdline (the kernel sizes the pool) or pool.nslabs, not both');
    return out;
  }

  private p2m(v: JsonValue, what: string): P2mSpec | undefined {
    if (typeof v.value === 'string') {
      if (v.value === 'contiguous' || v.value === 'ballooned') return { kind: v.value, machineBase: 0x80000000 };
      return { kind: 'file', path: v.value };
    }
    if (v.type === 'object') {
      v.onlyKeys(['layout', 'machine_base', 'runs'], what);
      const runs = v.get('runs');
      if (runs) {
        if (runs.type !== 'array') {
          runs.problem(`${what}.runs must be an array of [pfn, mfn, count]`);
          return undefined;
        }
        const out: { pfn: number; mfn: number; count: number }[] = [];
        for (const r of runs.items()) {
          const parts = r.items();
          if (r.type !== 'array' || parts.length !== 3) {
            r.problem('a P2M run is [pfn, mfn, count]');
            continue;
          }
          const [a, b, c] = parts.map((x, i) => num(x, ['pfn', 'mfn', 'count'][i] as string, { min: 0 }));
          if (a !== undefined && b !== undefined && c !== undefined) out.push({ pfn: a, mfn: b, count: c });
        }
        return { kind: 'runs', runs: out };
      }
      const layout = v.get('layout');
      const base = v.get('machine_base');
      const machineBase = base ? (num(base, `${what}.machine_base`, { min: 0 }) ?? 0x80000000) : 0x80000000;
      const l = layout ? str(layout, `${what}.layout`) : 'contiguous';
      if (l !== 'contiguous' && l !== 'ballooned') {
        layout?.problem(`${what}.layout must be "contiguous" or "ballooned"`);
        return undefined;
      }
      return { kind: l, machineBase };
    }
    v.problem(`${what} must be "contiguous", "ballooned", a P2M dump file name, or {"runs": [[pfn, mfn, count], ...]}`);
    return undefined;
  }

  private xen(v: JsonValue | undefined): Scenario['xen'] | undefined {
    if (!v) return undefined;
    if (!v.expectObject('xen')) return undefined;
    v.onlyKeys(['p2m', 'segments', 'cache_flush_hypercall'], 'xen');
    const p = v.get('p2m');
    const p2m = p ? this.p2m(p, 'xen.p2m') : { kind: 'contiguous' as const, machineBase: 0x80000000 };
    let segments: number[] | undefined;
    const s = v.get('segments');
    if (s) {
      if (s.value === 'low-buddy') segments = undefined;
      else if (s.type === 'array') {
        segments = [];
        for (const x of s.items()) {
          const n = num(x, 'segment base', { min: 0 });
          if (n !== undefined) {
            if (n % (256 * 1024) !== 0) x.problem('a pool segment is a 256 KiB machine extent: its base must be 256 KiB aligned');
            segments.push(n);
          }
        }
      } else s.problem('xen.segments must be "low-buddy" or an array of machine addresses, one per 128-slot segment');
    }
    let cacheFlushHypercall: boolean | undefined;
    const h = v.get('cache_flush_hypercall');
    if (h) cacheFlushHypercall = bool(h, 'xen.cache_flush_hypercall');
    if (!p2m) return undefined;
    return { p2m, ...(segments ? { segments } : {}), ...(cacheFlushHypercall !== undefined ? { cacheFlushHypercall } : {}) };
  }

  private device(v: JsonValue): void {
    if (!v.expectObject('a device')) return;
    v.onlyKeys(DEVICE_KEYS, 'a device');
    const nv = v.get('name');
    if (!nv) {
      v.problem('a device needs a "name" (its dev_name, e.g. "0000:01:00.0")');
      return;
    }
    const name = str(nv, 'name');
    if (name === undefined) return;
    const platformCoherent = this.platform?.defaultCoherent ?? true;
    const base = pciDefaults(name, platformCoherent);
    const d: { -readonly [K in keyof DeviceConfig]: DeviceConfig[K] } = { ...base };
    const iv = v.get('id');
    const id = iv ? str(iv, 'id') : undefined;
    const drv = v.get('driver');
    if (drv) {
      const s = str(drv, 'driver');
      if (s !== undefined) d.driver = s;
    }
    const dm = v.get('dma_mask');
    if (dm) {
      const m = mask(dm, 'dma_mask');
      if (m !== undefined) {
        d.dmaMask = m;
        d.coherentDmaMask = m;
      }
    }
    const cm = v.get('coherent_dma_mask');
    if (cm) {
      const m = mask(cm, 'coherent_dma_mask');
      if (m !== undefined) d.coherentDmaMask = m;
    }
    const bl = v.get('bus_dma_limit');
    if (bl) {
      const n = num(bl, 'bus_dma_limit', { min: 0 });
      if (n !== undefined) d.busDmaLimit = BigInt(n);
    }
    const ma = v.get('min_align_mask');
    if (ma) {
      const m = mask(ma, 'min_align_mask', 32);
      if (m !== undefined) d.minAlignMask = Number(m);
    }
    const sb = v.get('seg_boundary');
    if (sb) {
      const m = mask(sb, 'seg_boundary');
      if (m !== undefined) d.segBoundaryBits = m === 0n ? 64 : (maskBits(m) as number);
    }
    const ms = v.get('max_seg_size');
    if (ms) {
      const n = num(ms, 'max_seg_size', { min: 1, sizes: true });
      if (n !== undefined) d.maxSegSize = n;
    }
    const co = v.get('coherent');
    if (co) {
      const b = bool(co, 'coherent');
      if (b !== undefined) {
        if (!b && this.platform?.arch === 'x86') co.problem('x86 devices are always cache-coherent');
        d.coherent = b;
      }
    }
    const tr = v.get('trusted');
    if (tr) {
      const b = bool(tr, 'trusted');
      if (b !== undefined) d.trusted = b;
    }
    const rp = v.get('restricted_pool_slots');
    if (rp) {
      const n = num(rp, 'restricted_pool_slots', { min: 1, max: MAX_MODEL_NSLABS, maxWhy: 'the largest pool the model sets up' });
      if (n !== undefined) d.restrictedPoolSlots = n;
    }
    const rb = v.get('restricted_pool_base');
    if (rb) {
      const n = num(rb, 'restricted_pool_base', { min: 0 });
      if (n !== undefined) {
        if (n % 4096 !== 0) rb.problem('restricted_pool_base must be page aligned');
        else if (!rp) rb.problem('restricted_pool_base needs restricted_pool_slots');
        else d.restrictedPoolBase = n;
      }
    }
    const off = v.get('dma_offset');
    if (off) {
      const n = num(off, 'dma_offset', { min: 0 });
      if (n !== undefined) d.dmaOffset = n;
    }
    const ig = v.get('iova_granule');
    if (ig) {
      const n = num(ig, 'iova_granule', { min: 4096, sizes: true });
      if (n !== undefined) {
        if ((n & (n - 1)) !== 0) ig.problem('iova_granule must be a power of two');
        else d.iovaGranule = n;
      }
    }
    for (const key of [name, id]) {
      if (key === undefined) continue;
      if (this.devices.has(key)) v.problem(`device "${key}" is defined twice`);
      this.devices.set(key, d);
    }
  }

  private deviceRef(v: JsonValue | undefined, owner: JsonValue, required: boolean): DeviceConfig | undefined {
    if (!v) {
      if (required) owner.problem('missing "device"');
      return undefined;
    }
    const name = str(v, 'device');
    if (name === undefined) return undefined;
    const d = this.devices.get(name);
    if (!d) v.problem(`unknown device "${name}" (defined: ${[...this.devices.keys()].join(', ') || 'none'})`);
    return d;
  }

  private dir(v: JsonValue | undefined): DmaDirection | undefined {
    if (!v) return undefined;
    const d = typeof v.value === 'string' || typeof v.value === 'number' ? parseDmaDirection(v.value) : undefined;
    if (d === undefined) v.problem('dir must be DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL or DMA_NONE');
    return d;
  }

  private attrs(v: JsonValue | undefined): number | undefined {
    if (!v) return undefined;
    if (v.type === 'array') {
      let bits = 0;
      for (const x of v.items()) {
        const n = typeof x.value === 'string' ? ATTR_NAMES[x.value.replace(/^DMA_ATTR_/, '')] : undefined;
        if (n === undefined) x.problem(`unknown DMA attribute ${x.source} (one of: ${Object.keys(ATTR_NAMES).join(', ')})`);
        else bits |= n;
      }
      return bits;
    }
    return num(v, 'attrs', { min: 0 });
  }

  private sizeDist(v: JsonValue, what: string): SizeDist | undefined {
    if (v.type === 'object') {
      v.onlyKeys(['uniform', 'choice'], what);
      const u = v.get('uniform');
      if (u) {
        const [a, b] = u.items().map((x) => num(x, `${what}.uniform`, { min: 1, sizes: true }));
        if (u.items().length !== 2 || a === undefined || b === undefined) {
          u.problem(`${what}.uniform is [min, max]`);
          return undefined;
        }
        if (a > b) u.problem(`${what}.uniform: min is above max`);
        return { kind: 'uniform', min: a, max: b };
      }
      const c = v.get('choice');
      if (c) {
        const sizes = c.items().map((x) => num(x, `${what}.choice`, { min: 1, sizes: true }));
        if (sizes.length === 0 || sizes.some((x) => x === undefined)) {
          c.problem(`${what}.choice is a non-empty list of sizes`);
          return undefined;
        }
        return { kind: 'choice', sizes: sizes as number[] };
      }
      v.problem(`${what} is a size, {"uniform": [min, max]} or {"choice": [sizes]}`);
      return undefined;
    }
    const n = num(v, what, { min: 1, sizes: true });
    return n === undefined ? undefined : { kind: 'fixed', size: n };
  }

  private addrDist(v: JsonValue, what: string): AddrDist | undefined {
    if (v.type === 'object') {
      v.onlyKeys(['start', 'stride', 'ranges', 'align'], what);
      const s = v.get('start');
      if (s) {
        const start = num(s, `${what}.start`, { min: 1 });
        const st = v.get('stride');
        const stride = st ? num(st, `${what}.stride`, { min: 1, sizes: true }) : undefined;
        return start === undefined ? undefined : { kind: 'sequential', start, ...(stride !== undefined ? { stride } : {}) };
      }
      const r = v.get('ranges');
      if (r?.type !== 'array' || r.items().length === 0) {
        v.problem(`${what} needs "start" or "ranges": [[lo, hi, weight?], ...]`);
        return undefined;
      }
      const ranges: AddrRange[] = [];
      for (const x of r.items()) {
        const parts = x.items();
        if (x.type !== 'array' || parts.length < 2 || parts.length > 3) {
          x.problem('a range is [lo, hi] or [lo, hi, weight]');
          continue;
        }
        const lo = num(parts[0] as JsonValue, 'lo', { min: 0, sizes: true });
        const hi = num(parts[1] as JsonValue, 'hi', { min: 1, sizes: true });
        const weight = parts[2] ? (num(parts[2], 'weight', { min: 0 }) ?? 1) : 1;
        if (lo !== undefined && hi !== undefined) {
          if (hi <= lo) x.problem('hi must be above lo');
          else ranges.push({ lo, hi, weight });
        }
      }
      const al = v.get('align');
      const align = al ? (num(al, `${what}.align`, { min: 1, sizes: true }) ?? 64) : 64;
      return { kind: 'ranges', ranges, align };
    }
    const start = num(v, what, { min: 1 });
    return start === undefined ? undefined : { kind: 'sequential', start };
  }

  private steps(v: JsonValue, ids: Set<string>): Step[] {
    const out: Step[] = [];
    for (const s of v.items()) {
      const step = this.step(s, ids);
      if (step) {
        out.push(step);
        this.stepNodes.set(step, s);
      }
    }
    return out;
  }

  private step(v: JsonValue, ids: Set<string>): Step | undefined {
    if (!v.expectObject('a workload step')) return undefined;
    if (v.get('ring')) {
      v.onlyKeys(['ring'], 'a ring step');
      return this.ring(v.get('ring') as JsonValue, ids);
    }
    if (v.get('repeat')) {
      v.onlyKeys(['repeat', 'steps'], 'a repeat step');
      const times = num(v.get('repeat') as JsonValue, 'repeat', { min: 1 });
      const sv = v.get('steps');
      if (sv?.type !== 'array') {
        v.problem('a repeat step needs "steps": [...]');
        return undefined;
      }
      const steps = this.steps(sv, ids);
      return times === undefined ? undefined : { kind: 'repeat', line: v.line, times, steps };
    }
    if (v.get('xen_p2m')) {
      v.onlyKeys(['xen_p2m'], 'a P2M change');
      if (!this.platform?.xen?.pv) v.problem('"xen_p2m" needs a Xen PV platform');
      const p2m = this.p2m(v.get('xen_p2m') as JsonValue, 'xen_p2m');
      return p2m ? { kind: 'xen_p2m', line: v.line, p2m } : undefined;
    }
    return this.call(v, ids);
  }

  private call(v: JsonValue, ids: Set<string>): CallStep | undefined {
    v.onlyKeys(CALL_KEYS, 'a call');
    const cv = v.get('call');
    if (!cv) {
      v.problem('a step needs "call" (a DMA API function), "ring", "repeat" or "xen_p2m"');
      return undefined;
    }
    const call = str(cv, 'call');
    if (call === undefined) return undefined;
    const what = DMA_CALLS[call];
    if (!what) {
      cv.problem(`unknown DMA API call "${call}" (one of: ${Object.keys(DMA_CALLS).join(', ')})`);
      return undefined;
    }
    const opens = what === 'map' || what === 'map_sg' || what === 'map_resource' || what === 'alloc';
    const idv = v.get('id');
    const id = idv ? str(idv, 'id') : undefined;
    let device: DeviceConfig | undefined;
    if (opens) {
      device = this.deviceRef(v.get('device'), v, true);
      if (id !== undefined) ids.add(id);
    } else {
      if (id === undefined) v.problem(`${call} needs the "id" of the ${what.startsWith('free') ? 'allocation' : 'mapping'} it refers to`);
      else if (!ids.has(id)) idv?.problem(`unknown id "${id}": no earlier map or allocation has it`);
      if (v.get('device')) device = this.deviceRef(v.get('device'), v, false);
    }
    const step: { -readonly [K in keyof CallStep]: CallStep[K] } = { kind: 'call', line: v.line, call, what };
    if (device) step.device = device;
    if (id !== undefined) step.id = id;
    const pv = v.get('phys');
    if (pv) {
      const n = num(pv, 'phys', { min: 0 });
      if (n !== undefined) step.phys = n;
    } else if (what === 'map' || what === 'map_resource') v.problem(`${call} needs "phys": the buffer's physical address`);
    const sv = v.get('size');
    if (sv) {
      const n = num(sv, 'size', { min: 1, sizes: true });
      if (n !== undefined) step.size = n;
    } else if (what === 'map' || what === 'map_resource' || what === 'alloc') v.problem(`${call} needs "size" (bytes, at least 1)`);
    const dir = this.dir(v.get('dir'));
    if (dir !== undefined) step.dir = dir;
    else if ((what === 'map' || what === 'map_sg') && !v.get('dir')) v.problem(`${call} needs "dir"`);
    const attrs = this.attrs(v.get('attrs'));
    if (attrs !== undefined) step.attrs = attrs;
    const cpu = v.get('cpu');
    if (cpu) {
      const n = num(cpu, 'cpu', { min: 0 });
      if (n !== undefined) step.cpu = n;
    }
    const off = v.get('offset');
    if (off) {
      const n = num(off, 'offset', { min: 0, sizes: true });
      if (n !== undefined) step.offset = n;
    }
    const fv = v.get('foreign');
    if (fv) {
      if (!this.platform?.xen?.arm) fv.problem('"foreign" pages exist only on Xen arm platforms');
      const n = num(fv, 'foreign', { min: 0 });
      if (n !== undefined) step.foreign = n;
    }
    const sg = v.get('sg');
    if (sg) {
      if (sg.type !== 'array' || sg.items().length === 0) sg.problem('"sg" is a non-empty list of {"phys", "size"} entries');
      else {
        const entries: { phys: number; size: number }[] = [];
        for (const e of sg.items()) {
          if (!e.expectObject('an sg entry')) continue;
          e.onlyKeys(['phys', 'size'], 'an sg entry');
          const p = e.get('phys');
          const s = e.get('size');
          const pn = p ? num(p, 'phys', { min: 0 }) : undefined;
          const sn = s ? num(s, 'size', { min: 1, sizes: true }) : undefined;
          if (!p || !s) e.problem('an sg entry needs "phys" and "size"');
          if (pn !== undefined && sn !== undefined) entries.push({ phys: pn, size: sn });
        }
        step.sg = entries;
      }
    } else if (what === 'map_sg') v.problem(`${call} needs "sg": [{"phys", "size"}, ...]`);
    if (what === 'unmap' || what === 'unmap_sg' || what === 'free' || what === 'unmap_resource') {
      if (id !== undefined) ids.delete(id);
    }
    return step;
  }

  private ring(v: JsonValue, ids: Set<string>): RingStep | undefined {
    if (!v.expectObject('ring')) return undefined;
    v.onlyKeys(RING_KEYS, 'a ring');
    const device = this.deviceRef(v.get('device'), v, true);
    const mapv = v.get('map');
    const map = mapv ? str(mapv, 'ring.map') : 'dma_map_single';
    if (map !== undefined && DMA_CALLS[map] !== 'map')
      mapv?.problem('ring.map must be a single-buffer map call (dma_map_single, dma_map_page, ...)');
    /** A required ring field: parsed when present, a problem when missing. */
    const need = <T>(key: string, why: string, parse: (x: JsonValue) => T | undefined): T | undefined => {
      const x = v.get(key);
      if (!x) {
        v.problem(`a ring needs "${key}": ${why}`);
        return undefined;
      }
      return parse(x);
    };
    const depth = need('depth', 'buffers in flight', (x) => num(x, 'ring.depth', { min: 1 }));
    const count = need('count', 'how many buffers in all', (x) => num(x, 'ring.count', { min: 1 }));
    const size = need('size', 'a size or a distribution', (x) => this.sizeDist(x, 'ring.size'));
    const phys = need('phys', 'where its buffers are', (x) => this.addrDist(x, 'ring.phys'));
    const dir = this.dir(v.get('dir'));
    if (!v.get('dir')) v.problem('a ring needs "dir"');
    const attrs = this.attrs(v.get('attrs')) ?? 0;
    let cpus: number[] = [0];
    const cv = v.get('cpus');
    if (cv) {
      if (cv.type !== 'array' || cv.items().length === 0) cv.problem('ring.cpus is a non-empty list of CPU numbers');
      else cpus = cv.items().map((x) => num(x, 'cpu', { min: 0 }) ?? 0);
    }
    const seed = v.get('seed') ? (num(v.get('seed') as JsonValue, 'ring.seed', { min: 0 }) ?? 1) : 1;
    const syncv = v.get('sync');
    let sync: RingStep['sync'] = 'none';
    if (syncv) {
      if (syncv.value === 'none' || syncv.value === 'cpu' || syncv.value === 'device' || syncv.value === 'both') sync = syncv.value;
      else syncv.problem('ring.sync is "none", "cpu", "device" or "both"');
    }
    const idv = v.get('id');
    const id = idv ? (str(idv, 'ring.id') ?? 'ring') : `ring@${v.line}`;
    void ids;
    if (!device || map === undefined || depth === undefined || count === undefined || !size || !phys || dir === undefined) return undefined;
    return { kind: 'ring', line: v.line, device, map, depth, count, size, phys, dir, attrs, cpus, seed, sync, id };
  }
}

export function directionOf(step: CallStep, fallback: DmaDirection = DmaDirection.BIDIRECTIONAL): DmaDirection {
  return step.dir ?? fallback;
}
