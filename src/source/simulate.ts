/**
 * From call sites to verdicts, through the decision layer. Every map site is probed where its
 * buffers can live (below and above the device's reach, or where an annotation puts them) on a
 * machine built from the platform and kernel profiles; sites with a ring depth or a count
 * annotated run together as a workload (the scenario format's rings, interleaved so their
 * in-flight buffers share the pool), which gives slots, pool occupancy and exhaustion.
 */

import { Tally } from '../analysis/books';
import { EventKind, Outcome } from '../analysis/codes';
import { EventTable } from '../analysis/eventTable';
import { Recorder } from '../analysis/recorder';
import { type AnalysisSession, devicesOf, eventAt, summaryOf } from '../analysis/session';
import { DmaDirection, IO_TLB_SIZE, nrSlots } from '../model/constants';
import type { Decision } from '../model/dma/decision';
import { type DeviceConfig, dmaLimit } from '../model/dma/device';
import type { DmaEngine } from '../model/dma/engine';
import type { PlatformProfile } from '../model/dma/platform';
import { DEFAULT_GROW_DELAY } from '../model/dynamic';
import type { DynamicSizing } from '../model/dynamicSizing';
import { hexAddr } from '../model/hex';
import type { KernelProfile } from '../model/profiles';
import { FAILURE_MASK, REASON_INFO, Reason, reasonCodes, reasonTexts } from '../model/reasons';
import { swiotlbMaxMappingSize } from '../model/swiotlb';
import { formatBytes, pctText } from '../model/units';
import type { CallStep, P2mSpec, RingStep, Scenario, SizeDist, Step } from '../scenario/format';
import { decisionJson } from '../scenario/report';
import { expandWorkload, makeEngine, type Op, type PoolSetup, runScenario, setupPool } from '../scenario/run';
import type { Hints, Placement, Region, SizeSpec } from './annotations';
import { simulatedCall } from './api';
import { type DeviceView, deviceConfig, maskBitsText } from './devices';
import type { Pair } from './pairing';
import type { Site, SourceDiagnostic } from './sites';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const SCATTER_WINDOW = 64 * MiB;
/** Upper bound on the calls one driver's workload runs: keeps the editor responsive. */
export const MAX_WORKLOAD_CALLS = 1_500_000;
/**
 * Most scatterlist entries a dma_map_sg site is simulated with (as the annotation's sg= allows):
 * a constant nents in the source above it (100000000) would make each ring slot that many maps.
 */
export const MAX_SG_NENTS = 4096;

/** A scatterlist site's entries (annotation sg=, else the nents constant), at most MAX_SG_NENTS. */
function sgNents(s: Site): { n: number; asWritten: number } | undefined {
  if (s.family !== 'sg' && s.family !== 'sgtable') return undefined;
  const v = s.hints.sg ?? s.nents?.value;
  if (v === undefined) return undefined;
  return { n: Math.min(v, MAX_SG_NENTS), asWritten: v };
}

export interface Machine {
  readonly platform: PlatformProfile;
  readonly kernel: KernelProfile;
  readonly kernelNote?: string;
  readonly cpus: number;
  readonly ramBytes: number;
  readonly cmdline?: string;
  readonly poolSlots?: number;
  readonly p2m: 'contiguous' | 'ballooned';
  readonly mix: 'concurrent' | 'sequential';
  readonly driver?: string;
  /** CONFIG_SWIOTLB_DYNAMIC on. */
  readonly dynamic?: boolean;
  /** arm64: the firmware's DMA limit (board, zone_dma_limit, zone_dma_bits). */
  readonly firmwareDmaLimit?: number;
}

export interface ProbeResult {
  /** "below 4 GiB", "above 4 GiB", "at 0x1f0000000", ... */
  readonly where: string;
  readonly phys: number;
  readonly size: number;
  readonly decision: Decision;
}

/** A site's annotated workload: its ring, the books' tally of its calls, and what only the source needs. */
export interface WorkloadStats {
  readonly depth: number;
  readonly count: number;
  readonly maps: number;
  readonly direct: number;
  readonly bounced: number;
  readonly failed: number;
  readonly hangs: number;
  readonly reasons: number;
  readonly failuresByCause: Readonly<Record<string, number>>;
  readonly slotsMin: number;
  readonly slotsMax: number;
  readonly slotsTotal: number;
  /** Slots the bounced maps' data alone would take (without min_align_mask padding). */
  neededTotal: number;
  readonly copied: number;
  readonly peakUsed: number;
  firstDecision?: Decision;
  firstFailure?: Decision;
}

/** A site's workload figures from its tally in the books. */
function workloadStats(t: Tally, depth: number, count: number): WorkloadStats {
  return {
    depth,
    count,
    maps: t.maps,
    direct: t.direct,
    bounced: t.bounced,
    failed: t.failed,
    hangs: t.hangs,
    reasons: t.reasons,
    failuresByCause: t.failuresByCause,
    slotsMin: t.slotsMin,
    slotsMax: t.slotsMax,
    slotsTotal: t.slotsTotal,
    neededTotal: 0,
    copied: t.copied(EventKind.Map, EventKind.MapResource),
    peakUsed: t.peakUsed,
  };
}

export type VerdictStatus =
  | 'direct'
  | 'bounces'
  | 'may-bounce'
  | 'fails'
  | 'may-fail'
  | 'coherent'
  | 'releases'
  | 'copies'
  | 'setup'
  | 'skipped'
  | 'unknown';

export interface Verdict {
  readonly status: VerdictStatus;
  /** The CodeLens text. */
  readonly lens: string;
  /** One sentence for reports and the hover. */
  readonly summary: string;
  readonly reasons: number;
  readonly sizeKnown: boolean;
  readonly probes: readonly ProbeResult[];
  readonly workload?: WorkloadStats;
  /** The device's reach (min of dma_mask and bus limit), for maps. */
  readonly dmaLimit?: number;
  readonly notes: readonly string[];
}

/** A map site the probes show failing: it has its will-fail diagnostic (code, severity) beside it. */
export interface WillFailSite {
  readonly site: number;
  /** The diagnostic's code: too-big, no-swiotlb, bounce-beyond-mask, livelock, will-fail. */
  readonly code: string;
  /** It fails wherever the buffer is (else only at some placements). */
  readonly always: boolean;
}

export interface DriverSimulation {
  readonly verdicts: Map<number, Verdict>;
  readonly diagnostics: SourceDiagnostic[];
  /** In the order of the sites, as their diagnostics. */
  readonly willFail: readonly WillFailSite[];
  readonly session?: AnalysisSession;
  readonly pool: PoolSetup['pool'];
  readonly poolWhy: string;
  readonly workloadCalls: number;
  readonly devices: Map<string, DeviceConfig>;
  /** The workload's failures, had CONFIG_SWIOTLB_DYNAMIC been on (6.6+ kernels without it). */
  readonly dynamicSizing?: DynamicSizing;
}

/** Physical memory the model places buffers in: x86 keeps a PCI hole below 4 GiB, Xen PV has none. */
export function regionRange(region: Region, m: Machine): [number, number] | undefined {
  const ram = m.ramBytes;
  const pv = m.platform.xen?.pv ?? false;
  const lowTop = pv ? Math.min(ram, 4 * GiB) : Math.min(ram, 3 * GiB);
  const highTop = pv ? (ram > 4 * GiB ? ram : 0) : ram > 3 * GiB ? 4 * GiB + (ram - 3 * GiB) : 0;
  switch (region) {
    case 'dma':
      return [MiB, 16 * MiB];
    case 'low':
      return [16 * MiB, lowTop];
    case 'high':
      return highTop ? [4 * GiB, highTop] : undefined;
    case 'highmem':
      return [896 * MiB, highTop || lowTop];
  }
}

const REGION_LABEL: Record<Region, string> = {
  low: 'below 4 GiB',
  dma: 'below 16 MiB',
  high: 'above 4 GiB',
  highmem: 'in highmem (above 896 MiB)',
};

interface Range {
  readonly lo: number;
  readonly hi: number;
  readonly weight: number;
  readonly label: string;
}

/** The ranges a placement stands for, minus the memory the pools occupy. */
function placementRanges(p: Placement | undefined, m: Machine, reserved: readonly [number, number][]): Range[] {
  const out: Range[] = [];
  const add = (lo: number, hi: number, weight: number, label: string) => {
    for (const [a, b] of carve(lo, hi, reserved)) if (b - a >= 8192) out.push({ lo: a, hi: b, weight: weight * (b - a), label });
  };
  const region = (r: Region, weight: number) => {
    const rr = regionRange(r, m);
    if (rr) add(rr[0], rr[1], weight, REGION_LABEL[r]);
  };
  const pl = p ?? { kind: 'any' };
  switch (pl.kind) {
    case 'any':
      region('low', 1);
      region('high', 1);
      break;
    case 'region':
      region(pl.region, 1);
      break;
    case 'mix':
      for (const part of pl.parts) if (part.weight > 0) region(part.region, part.weight);
      break;
    case 'range':
      if (pl.hi - pl.lo <= 1) out.push({ lo: pl.lo, hi: pl.hi, weight: 1, label: `at ${hexAddr(pl.lo)}` });
      else add(pl.lo, pl.hi, 1, `in ${hexAddr(pl.lo)}..${hexAddr(pl.hi)}`);
      break;
  }
  return out;
}

function carve(lo: number, hi: number, reserved: readonly [number, number][]): [number, number][] {
  let parts: [number, number][] = [[lo, hi]];
  for (const [a, b] of reserved) {
    const next: [number, number][] = [];
    for (const [x, y] of parts) {
      if (b <= x || a >= y) next.push([x, y]);
      else {
        if (a > x) next.push([x, a]);
        if (b < y) next.push([b, y]);
      }
    }
    parts = next;
  }
  return parts;
}

function maxSize(s: SizeSpec): number {
  return s.kind === 'fixed' ? s.size : s.kind === 'uniform' ? s.max : Math.max(...s.sizes.map((x) => x.size));
}

function toSizeDist(s: SizeSpec): SizeDist {
  if (s.kind !== 'choice') return s;
  // weights as repetitions: the scenario's choice picks uniformly from the list
  const sizes: number[] = [];
  for (const x of s.sizes) for (let i = 0; i < x.weight; i++) sizes.push(x.size);
  return { kind: 'choice', sizes };
}

/** The size a site maps: the annotation, else the source's value. */
export function siteSize(s: Site): { spec?: SizeSpec; fromSource: boolean } {
  if (s.hints.size) return { spec: s.hints.size, fromSource: false };
  const v = s.size?.value;
  if (v !== undefined && v > 0) return { spec: { kind: 'fixed', size: v }, fromSource: true };
  return { fromSource: false };
}

function direction(s: Site): DmaDirection {
  return s.hints.dir ?? s.dir?.value ?? DmaDirection.BIDIRECTIONAL;
}

const ROLE_IS_MAP = (s: Site) => s.role === 'map';

/** Short reason texts for a CodeLens. */
export function shortReason(bit: number, dev: DeviceConfig | undefined, m: Machine, size?: number): string {
  switch (bit) {
    case Reason.ForceBounce:
      if (dev?.restrictedPoolSlots) return 'restricted DMA pool';
      return m.platform.memEncrypt === 'none'
        ? 'swiotlb=force'
        : `memory encryption (${ENCRYPTION_NAME[m.platform.memEncrypt] ?? m.platform.memEncrypt} guest)`;
    case Reason.BeyondDmaMask:
      return `beyond ${dev ? maskBitsText(dev.dmaMask) : ''} dma_mask`.replace('  ', ' ');
    case Reason.BeyondBusLimit:
      return 'beyond the bus DMA limit';
    case Reason.KmallocNotCacheAligned:
      return 'small kmalloc buffer, non-coherent device';
    case Reason.XenStraddle:
      return 'not machine-contiguous';
    case Reason.XenArchNeedsBounce:
      return 'foreign page, no cache-flush hypercall';
    case Reason.UntrustedUnaligned:
      return 'untrusted device, not IOVA-aligned';
    case Reason.XenAlignment:
      return 'machine-misaligned';
    case Reason.TooBig:
      return `${size !== undefined ? formatBytes(size) : 'size'} beyond the ${formatBytes(swiotlbMaxMappingSize(dev?.minAlignMask ?? 0))} swiotlb ceiling`;
    case Reason.PoolFull:
      return 'pool full';
    case Reason.Fragmented:
      return 'no free run fits (fragmented, or ruled out by alignment)';
    case Reason.BounceBeyondMask:
      return 'bounce buffer beyond the device mask';
    case Reason.NoSwiotlb:
      return 'no swiotlb pool to bounce through';
    case Reason.Livelock:
      return 'slot search never returns (6.1)';
    case Reason.DriverBug:
      return 'driver bug';
    default:
      return REASON_INFO.find((r) => r.bit === bit)?.code ?? 'unknown';
  }
}

const lowestBit = (mask: number) => mask & -mask;
const ENCRYPTION_NAME: Record<string, string> = { sev: 'SEV', tdx: 'TDX', realm: 'CCA realm' };

export interface DriverInput {
  /** Display name of the driver (its folder). */
  readonly name: string;
  readonly machine: Machine;
  /** Every site of the driver (reported or not: context files count for pairing). */
  readonly sites: readonly Site[];
  readonly pairs: readonly Pair[];
  readonly pairOf: ReadonlyMap<number, number>;
  readonly view: (s: Site) => DeviceView | undefined;
  /** Sites to produce verdicts and diagnostics for. */
  readonly report: (s: Site) => boolean;
}

/**
 * One driver's simulation: its machine and pool, each reported site's verdict from probes at the
 * places its buffers may be, the annotated workload run through the model (its counts from the
 * books), and the diagnostics; each phase a method of its own.
 */
class DriverSimulator {
  private readonly m: Machine;
  readonly verdicts = new Map<number, Verdict>();
  readonly diagnostics: SourceDiagnostic[] = [];
  private readonly willFail: WillFailSite[] = [];
  private readonly devices = new Map<string, DeviceConfig>();
  /** Xen PV with p2m=ballooned: buffers go to machine-scattered windows. */
  private readonly scattered: boolean;
  /** Memory buffers keep out of: the pool, restricted pools. */
  private readonly reserved: [number, number][] = [];
  private readonly windows = new Map<string, [number, number]>();
  private setup!: PoolSetup;
  private p2m: P2mSpec | undefined;
  private probeEngine!: DmaEngine;

  constructor(private readonly inp: DriverInput) {
    this.m = inp.machine;
    this.scattered = inp.sites.some((s) => this.isScattered(s)) && (this.m.platform.xen?.pv ?? false);
  }

  run(): DriverSimulation {
    const inp = this.inp;
    const m = this.m;
    try {
      this.setup = setupPool(scenarioFor(inp.name, m, [], []));
    } catch (e) {
      this.diagnostics.push({
        file: inp.sites[0]?.file ?? inp.name,
        span: { row: 0, col: 0, endRow: 0, endCol: 0 },
        severity: 'error',
        code: 'machine',
        message: `the machine's pool cannot be set up: ${(e as Error).message}`,
      });
      return {
        verdicts: this.verdicts,
        diagnostics: this.diagnostics,
        willFail: this.willFail,
        pool: null,
        poolWhy: (e as Error).message,
        workloadCalls: 0,
        devices: this.devices,
      };
    }
    const setup = this.setup;
    if (setup.pool) this.reserved.push([setup.pool.start, setup.pool.start + setup.pool.nslabs * IO_TLB_SIZE]);
    // restricted pools sit in their own reserved memory, low (engine.ts puts them below 2.25 GiB)
    if (inp.sites.some((s) => s.hints.restricted_pool)) this.reserved.push([0x9000_0000 - 16 * 0x0400_0000, 0x9000_0000]);
    // p2m=ballooned scatters every buffer; the model keeps the P2M small by scattering only the
    // windows buffers are placed in (a P2M of one run per frame of all RAM would be millions of runs)
    if (this.scattered) for (const s of inp.sites) if (this.isScattered(s) && inp.report(s)) this.scatterWindow(s);
    this.p2m = p2mSpec(m, [...this.windows.values()]);
    this.probeEngine = makeEngine(scenarioFor(inp.name, m, [], [], this.p2m), setup, 'kernel');
    for (const s of inp.sites) {
      if (!inp.report(s)) continue;
      const v = this.verdictFor(s);
      if (v) this.verdicts.set(s.id, v);
    }
    const { session, workloadCalls, dynamicSizing } = this.runWorkload(this.workloadRings());
    this.willFailDiagnostics();
    this.releaseVerdicts();
    return {
      verdicts: this.verdicts,
      diagnostics: this.diagnostics,
      willFail: this.willFail,
      ...(session ? { session } : {}),
      pool: setup.pool,
      poolWhy: setup.boot.why,
      workloadCalls,
      devices: new Map([...this.devices.values()].map((d) => [d.name, d])),
      ...(dynamicSizing ? { dynamicSizing } : {}),
    };
  }

  private devFor(s: Site): DeviceConfig | undefined {
    if (!s.deviceKey && s.role !== 'pool_alloc') return undefined;
    const key = s.deviceKey ?? 'pool';
    const view = this.inp.view(s);
    if (!view) return undefined;
    const name = s.hints.device ?? key;
    const sig = `${name}|${JSON.stringify(s.hints, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`;
    let d = this.devices.get(sig);
    if (!d) {
      d = deviceConfig(view, name, s.hints, this.m.platform, this.m.driver ?? this.inp.name);
      this.devices.set(sig, d);
    }
    return d;
  }

  private isScattered(s: Site): boolean {
    return (s.hints.machine ?? (this.m.p2m === 'ballooned' ? 'scattered' : 'contiguous')) === 'scattered';
  }

  private scatterWindow(s: Site): [number, number] | undefined {
    const ranges = placementRanges(s.hints.where, this.m, this.reserved);
    const r = ranges[ranges.length - 1];
    if (!r) return undefined;
    const key = `${r.lo}-${r.hi}`;
    let w = this.windows.get(key);
    if (!w) {
      w = [Math.max(r.lo, r.hi - SCATTER_WINDOW), r.hi];
      this.windows.set(key, w);
    }
    return w;
  }

  private rangesFor(s: Site): Range[] {
    if (this.scattered && this.isScattered(s)) {
      const w = this.scatterWindow(s);
      if (w) return [{ lo: w[0], hi: w[1], weight: 1, label: 'in machine-this.scattered memory' }];
    }
    // other buffers keep out of the machine-scattered windows
    return placementRanges(s.hints.where, this.m, [...this.reserved, ...this.windows.values()]);
  }

  private verdictFor(s: Site): Verdict | undefined {
    if (s.hints.skip)
      return {
        status: 'skipped',
        lens: 'not simulated (skip)',
        summary: 'An annotation says skip.',
        reasons: 0,
        sizeKnown: false,
        probes: [],
        notes: [],
      };
    if (s.role === 'map') return this.mapVerdict(s);
    if (s.role === 'alloc' || s.role === 'pool_alloc') return this.allocVerdict(s);
    if (s.role.startsWith('set_')) return this.setupVerdict(s);
    return undefined;
  }

  private placeIn(r: Range, size: number, align: number, pageOffset: number | undefined, crossPage: boolean): number {
    if (r.hi - r.lo <= 1) return r.lo;
    let top = r.hi - size - 4096;
    if (pageOffset !== undefined) return Math.floor(top / 4096) * 4096 + pageOffset;
    if (crossPage && size < 4096) {
      // straddle a page boundary: what a non-contiguous machine layout can break
      top = Math.floor(top / 4096) * 4096 + 4096 - Math.ceil(size / 2);
    }
    return Math.max(r.lo, Math.floor(top / align) * align);
  }

  private mapVerdict(s: Site): Verdict {
    const dev = this.devFor(s);
    const notes: string[] = [];
    if (!dev) {
      return {
        status: 'unknown',
        lens: 'device unknown',
        summary: 'The device argument is missing.',
        reasons: 0,
        sizeKnown: false,
        probes: [],
        notes,
      };
    }
    const sz = siteSize(s);
    const sizeKnown = sz.spec !== undefined;
    const sg = sgNents(s);
    const size = sz.spec ? maxSize(sz.spec) : IO_TLB_SIZE;
    if (!sizeKnown)
      notes.push(`size ${s.size?.text ? `"${s.size.text}" ` : ''}is not known from the source: annotate size= for slots and failures`);
    const pageOffset = s.family === 'page' && s.offset?.value !== undefined ? s.offset.value % 4096 : undefined;
    const align = s.hints.align ?? (s.family === 'page' || s.family === 'sg' || s.family === 'sgtable' ? 4096 : 64);
    const crossPage = this.scattered && this.isScattered(s);
    const ranges = this.rangesFor(s);
    if (ranges.length === 0) {
      notes.push('no memory matches where= on this machine (no RAM above 4 GiB?)');
      return {
        status: 'unknown',
        lens: 'no memory where the annotation puts the buffers',
        summary: notes[0] as string,
        reasons: 0,
        sizeKnown,
        probes: [],
        notes,
      };
    }
    // one probe per distinct label: the top of each range, the worst case for the device's reach
    const probes: ProbeResult[] = [];
    const seen = new Set<string>();
    for (const r of ranges) {
      if (seen.has(r.label)) continue;
      seen.add(r.label);
      const phys = this.placeIn(r, size, align, pageOffset, crossPage);
      probes.push({ where: r.label, phys, size, decision: probe(this.probeEngine, s, dev, phys, size) });
    }
    const limit = dmaLimit(dev);
    // a device limit inside a region (a 30-bit mask, a bus limit): a buffer just below it too
    const cut = ranges.find((r) => r.hi - r.lo > 1 && limit + 1 > r.lo + size + 8192 && limit + 1 < r.hi);
    if (cut && !this.m.platform.xen?.pv) {
      const below: Range = { lo: cut.lo, hi: limit + 1, weight: 1, label: `below ${formatBytes(limit + 1)}` };
      const phys = this.placeIn(below, size, align, pageOffset, crossPage);
      probes.unshift({ where: below.label, phys, size, decision: probe(this.probeEngine, s, dev, phys, size) });
    }
    if (s.family === 'resource') notes.push('dma_map_resource maps MMIO 1:1 and never bounces');
    if (sg !== undefined) notes.push(`a scatterlist: each of its ${sg.asWritten} entries is mapped (and bounced) on its own`);
    if (sg !== undefined && sg.asWritten > sg.n)
      notes.push(`simulated with ${MAX_SG_NENTS} entries, the most this tool simulates per scatterlist (annotate sg= to choose)`);
    return this.composeMapVerdict(s, dev, probes, sizeKnown, limit, notes);
  }

  private composeMapVerdict(
    s: Site,
    dev: DeviceConfig,
    probes: ProbeResult[],
    sizeKnown: boolean,
    limit: number,
    notes: string[],
    workload?: WorkloadStats,
  ): Verdict {
    const results = probes.map((p) => p.decision.result);
    const bouncedProbes = probes.filter((p) => p.decision.result === 'bounced');
    const failedProbes = probes.filter((p) => p.decision.result === 'failed' || p.decision.result === 'hang');
    let reasons = 0;
    for (const p of probes) reasons |= p.decision.reasons;
    if (workload) reasons |= workload.reasons;
    const bounceBits = reasons & ~FAILURE_MASK;
    const failBits = reasons & FAILURE_MASK;
    const primary = probes.find((p) => p.decision.result !== 'direct')?.decision.primaryReason || lowestBit(bounceBits);
    const sizeOf = probes[0]?.size;
    const reasonText = primary ? shortReason(primary, dev, this.m, sizeOf) : '';
    const failText = failBits ? shortReason(lowestBit(failBits), dev, this.m, sizeOf) : '';
    const every = results.every((r) => r === results[0]);
    const addressDependent = (primary & (Reason.BeyondDmaMask | Reason.BeyondBusLimit)) !== 0;
    const threshold = this.m.platform.xen?.pv ? `a machine address above ${formatBytes(limit + 1)}` : `above ${formatBytes(limit + 1)}`;
    const only = !every && addressDependent ? ` ${threshold}` : !every ? ` ${(bouncedProbes[0] ?? failedProbes[0])?.where ?? ''}` : '';
    let status: VerdictStatus;
    let head: string;
    if (failedProbes.length) {
      status = every ? 'fails' : 'may-fail';
      head = `fails${sizeKnown ? '' : ' (for that size)'}${only}: ${failText || reasonText}`;
    } else if (bouncedProbes.length) {
      status = every ? 'bounces' : 'may-bounce';
      head = `bounces${only}: ${reasonText}`;
    } else {
      status = 'direct';
      head = s.family === 'resource' ? 'direct: MMIO, never bounces' : `direct: ${this.directWhy(dev, probes)}`;
    }
    if (!sizeKnown && status !== 'direct') head = head.replace(' (for that size)', '');
    const parts = [head];
    const slots = workload?.bounced
      ? slotText(workload.slotsMin, workload.slotsMax)
      : bouncedProbes.length
        ? slotText(Math.min(...bouncedProbes.map((p) => p.decision.nslots)), Math.max(...bouncedProbes.map((p) => p.decision.nslots)))
        : '';
    if (status !== 'direct' && status !== 'fails') parts.push(sizeKnown ? slots : 'size unknown');
    if (workload && this.setup.pool && workload.bounced > 0) {
      parts.push(`peak pool ${pct(workload.peakUsed, this.setup.pool.nslabs)}`);
      const failed = workload.failed + workload.hangs;
      if (failed) parts.push(`${failed} of ${workload.maps} maps failed`);
    }
    const lens = parts.filter(Boolean).join(' · ');
    const summary = this.summaryText(s, dev, status, probes, reasons, limit, workload);
    return { status, lens, summary, reasons, sizeKnown, probes, ...(workload ? { workload } : {}), dmaLimit: limit, notes };
  }

  private directWhy(dev: DeviceConfig, probes: ProbeResult[]): string {
    const limit = dmaLimit(dev);
    const top = Math.max(...probes.map((p) => p.phys + p.size));
    if (this.m.platform.ops === 'iommu-dma') return dev.trusted ? 'trusted device behind the IOMMU' : 'IOVA-aligned';
    if (limit >= 2 ** 52) return `${maskBitsText(dev.dmaMask)} dma_mask reaches all memory`;
    return `${maskBitsText(dev.dmaMask)} dma_mask reaches ${formatBytes(Math.min(limit + 1, 2 ** 53))}${top < limit ? '' : ''}`;
  }

  private summaryText(
    s: Site,
    dev: DeviceConfig,
    status: VerdictStatus,
    probes: ProbeResult[],
    reasons: number,
    limit: number,
    w?: WorkloadStats,
  ): string {
    const out: string[] = [];
    const per = probes.map(
      (p) =>
        `${p.where} (${hexAddr(p.phys)}): ${p.decision.result}${p.decision.reasons ? ` [${reasonCodes(p.decision.reasons).join(', ')}]` : ''}`,
    );
    out.push(
      `${s.api} on ${dev.name} (dma_mask ${hexAddr(Number(dev.dmaMask & 0x1f_ffff_ffff_ffffn))}${dev.dmaMask > 0x1f_ffff_ffff_ffffn ? '+' : ''}): ${status}; ${per.join('; ')}.`,
    );
    if (reasons) out.push(`Reasons: ${reasonTexts(reasons).join('; ')}.`);
    if (w) {
      out.push(
        `Workload: ${w.maps} maps at depth ${w.depth}: ${w.direct} direct, ${w.bounced} bounced, ${w.failed + w.hangs} failed; peak pool ${this.setup.pool ? pct(w.peakUsed, this.setup.pool.nslabs) : '-'}.`,
      );
    }
    void limit;
    return out.join(' ');
  }

  private allocVerdict(s: Site): Verdict {
    const dev = this.devFor(s);
    const notes: string[] = [];
    const size = siteSize(s).spec;
    if (!dev || s.role === 'pool_alloc') {
      return {
        status: 'coherent',
        lens: 'coherent memory: no bounce slots',
        summary: `${s.api}: coherent allocations come from the page allocator (below coherent_dma_mask), not from the swiotlb pool.`,
        reasons: 0,
        sizeKnown: size !== undefined,
        probes: [],
        notes,
      };
    }
    const bytes = size ? maxSize(size) : 4096;
    const r = regionRange('low', this.m);
    const phys = r ? Math.floor((r[1] - bytes - 8 * MiB) / 4096) * 4096 : 16 * MiB;
    const d = this.probeEngine.allocCoherent(simulatedCall(s.spec), dev, 0, bytes, phys);
    if (d.result === 'bounced' && d.dma !== null) this.probeEngine.freeCoherent('dma_free_coherent', dev, 0, bytes, d.dma);
    const probes = [{ where: 'from the page allocator', phys, size: bytes, decision: d }];
    if (d.result === 'bounced')
      return {
        status: 'bounces',
        lens: `allocates ${d.nslots} slots from the restricted DMA pool`,
        summary: `${s.api} takes its memory from the device's restricted DMA pool (swiotlb_alloc).`,
        reasons: d.reasons,
        sizeKnown: size !== undefined,
        probes,
        notes,
      };
    if (d.result === 'failed')
      return {
        status: 'fails',
        lens: `fails: ${shortReason(lowestBit(d.reasons & FAILURE_MASK) || lowestBit(d.reasons), dev, this.m, bytes)}`,
        summary: `${s.api} fails: ${reasonTexts(d.reasons).join('; ')}.`,
        reasons: d.reasons,
        sizeKnown: size !== undefined,
        probes,
        notes,
      };
    const exchanged = d.notes.find((n) => n.startsWith('exchanged'));
    return {
      status: 'coherent',
      lens: exchanged ? 'coherent: exchanged for machine-contiguous memory (Xen)' : 'coherent memory: no bounce slots',
      summary: `${s.api}: ${exchanged ?? 'coherent allocations do not use the swiotlb pool'}.`,
      reasons: d.reasons,
      sizeKnown: size !== undefined,
      probes,
      notes,
    };
  }

  private setupVerdict(s: Site): Verdict | undefined {
    const v = s.setValue?.value;
    const notes: string[] = [];
    if (v === undefined) {
      const what =
        s.role === 'set_max_seg_size'
          ? 'max_seg_size'
          : s.role === 'set_seg_boundary'
            ? 'seg_boundary'
            : s.role === 'set_min_align_mask'
              ? 'min_align_mask'
              : 'dma_mask';
      return {
        status: 'setup',
        lens: `${what} not known from the source (annotate ${what}=)`,
        summary: `${s.setValue?.text ?? ''} does not fold to a constant.`,
        reasons: 0,
        sizeKnown: false,
        probes: [],
        notes,
      };
    }
    let lens: string;
    switch (s.role) {
      case 'set_min_align_mask': {
        const mask = Number(v);
        lens = `min_align_mask ${hexAddr(mask)}: bounce buffers keep the offset within ${formatBytes(mask + 1)}; largest mapping ${formatBytes(swiotlbMaxMappingSize(mask))}`;
        break;
      }
      case 'set_seg_boundary':
        lens = `segment boundary ${hexAddr(Number(v & 0x1f_ffff_ffff_ffffn))}`;
        break;
      case 'set_max_seg_size':
        lens = `max segment ${formatBytes(Number(v))}`;
        break;
      default: {
        const top = this.m.platform.xen?.pv ? 'machine addresses' : 'buffers';
        const memTop = (regionRange('high', this.m) ?? regionRange('low', this.m) ?? [0, 0])[1];
        const reaches = Number(v) + 1 >= memTop;
        lens = `${s.role === 'set_coherent_mask' ? 'coherent_dma_mask' : 'dma_mask'} ${maskBitsText(v)}: ${reaches ? 'reaches all RAM' : `${top} above ${formatBytes(Number(v) + 1)} bounce`}`;
        if (this.m.platform.memEncrypt !== 'none') lens += ` (every streaming map bounces on ${this.m.platform.id})`;
      }
    }
    return { status: 'setup', lens, summary: lens, reasons: 0, sizeKnown: true, probes: [], notes };
  }

  /** The annotated map sites as rings of the workload. */
  private workloadRings(): WorkloadRing[] {
    const rings: WorkloadRing[] = [];
    for (const s of this.inp.sites) {
      if (!ROLE_IS_MAP(s) || !this.inp.report(s) || s.hints.skip || s.family === 'resource') continue;
      if (s.hints.depth === undefined && s.hints.count === undefined) continue;
      const sz = siteSize(s).spec;
      const dev = this.devFor(s);
      if (!sz || !dev) {
        if (!sz)
          this.diagnostics.push({
            file: s.file,
            span: s.raw.span,
            severity: 'info',
            code: 'size-unknown',
            message: `${s.api}: depth/count are annotated but the size "${s.size?.text ?? '?'}" is not known: add size= to simulate the workload`,
            site: s.id,
          });
        continue;
      }
      const sg = sgNents(s);
      const nents = Math.max(1, sg?.n ?? 1);
      if (sg !== undefined && sg.asWritten > sg.n)
        this.diagnostics.push({
          file: s.file,
          span: s.raw.span,
          severity: 'info',
          code: 'nents-capped',
          message: `${s.api}: nents ${sg.asWritten} is above the ${MAX_SG_NENTS} scatterlist entries simulated per call: the workload maps ${MAX_SG_NENTS} (annotate sg= to choose)`,
          site: s.id,
        });
      const depth = (s.hints.depth ?? 1) * nents;
      const count = (s.hints.count ?? Math.max(4 * (s.hints.depth ?? 1), 16)) * nents;
      const pair = this.inp.pairOf.get(s.id);
      const p = pair !== undefined ? this.inp.pairs.find((x) => x.id === pair) : undefined;
      const siteOf = (id: number) => this.inp.sites.find((x) => x.id === id);
      const syncCpu = p?.syncs.find((id) => siteOf(id)?.role === 'sync_cpu');
      const syncDev = p?.syncs.find((id) => siteOf(id)?.role === 'sync_device');
      const ranges = this.rangesFor(s);
      if (!ranges.length) continue;
      const align = s.hints.align ?? (s.family === 'page' || s.family === 'sg' || s.family === 'sgtable' ? 4096 : 64);
      const mapCall =
        s.family === 'sg' || s.family === 'sgtable' ? 'dma_map_page' : s.family === 'phys' ? 'dma_map_phys' : simulatedCall(s.spec);
      rings.push({
        site: s,
        ring: {
          kind: 'ring',
          line: s.id + 1,
          device: dev,
          map: mapCall.endsWith('_attrs') ? mapCall.replace('_attrs', '') : mapCall,
          depth,
          count,
          size: toSizeDist(sz),
          phys: { kind: 'ranges', ranges: ranges.map((r) => ({ lo: r.lo, hi: r.hi, weight: r.weight })), align },
          dir: direction(s),
          attrs: s.attrs?.value ?? 0,
          cpus: s.hints.cpu?.length ? s.hints.cpu : Array.from({ length: this.m.cpus }, (_, i) => i),
          seed: s.id + 1,
          sync:
            syncCpu !== undefined && syncDev !== undefined
              ? 'both'
              : syncCpu !== undefined
                ? 'cpu'
                : syncDev !== undefined
                  ? 'device'
                  : 'none',
          id: `site${s.id}`,
        },
        ...(p?.unmaps[0] !== undefined ? { unmap: p.unmaps[0] } : {}),
        ...(syncCpu !== undefined ? { syncCpu } : {}),
        ...(syncDev !== undefined ? { syncDev } : {}),
      });
    }
    return rings;
  }

  /** The rings run together through the model; each site's verdict gets its workload's figures. */
  private runWorkload(rings: WorkloadRing[]): {
    session: AnalysisSession | undefined;
    workloadCalls: number;
    dynamicSizing?: DynamicSizing;
  } {
    let session: AnalysisSession | undefined;
    let dynamicSizing: DynamicSizing | undefined;
    let workloadCalls = 0;
    if (rings.length) {
      // keep the run bounded: scale every ring's count down by the same factor
      const perRing = rings.map((r) => r.ring.count * (2 + (r.ring.sync === 'both' ? 2 : r.ring.sync === 'none' ? 0 : 1)));
      const total = perRing.reduce((a, b) => a + b, 0);
      if (total > MAX_WORKLOAD_CALLS) {
        const f = MAX_WORKLOAD_CALLS / total;
        for (const r of rings) {
          // at least one ring's depth, unless the depth alone is past the budget (depth x nents)
          const ring = r.ring as { count: number; depth: number };
          ring.count = Math.max(Math.min(ring.depth, Math.floor(MAX_WORKLOAD_CALLS / 2 / rings.length)), Math.floor(ring.count * f), 1);
          ring.depth = Math.min(ring.depth, ring.count);
        }
        const first = rings[0]?.site as Site;
        this.diagnostics.push({
          file: first.file,
          span: first.raw.span,
          severity: 'info',
          code: 'workload-scaled',
          message: `the annotated workload would run ${total} calls; counts were scaled down to about ${MAX_WORKLOAD_CALLS}`,
        });
      }
      const steps = this.m.mix === 'sequential' ? rings.flatMap((r) => [...opsToSteps(expandWorkload([r.ring]), r)]) : interleave(rings);
      workloadCalls = steps.length;
      const devs = [...new Set(rings.map((r) => r.ring.device))];
      // the books tally each ring's calls by its line (the site's id + 1)
      const siteById = new Map(this.inp.sites.map((s) => [s.id, s] as const));
      // what each map site's decisions showed, gathered as the run makes them: the run keeps none
      // (a workload of a million calls would hold a million decisions)
      const seen = new Map<number, { first?: Decision; failure?: Decision; needed: number }>();
      const siteOfRow = new Int32Array(steps.length * 2 + 16);
      let rows = 0;
      const run = runScenario(scenarioFor(this.inp.name, this.m, devs, steps, this.p2m), {
        groupOf: (e) => e.line,
        keepDecisions: false,
        onDecision: (d, i, line) => {
          const siteId = line - 1;
          if (i < siteOfRow.length) siteOfRow[i] = siteId;
          rows = i + 1;
          if (siteById.get(siteId)?.role !== 'map') return;
          let v = seen.get(siteId);
          if (!v) {
            v = { needed: 0 };
            seen.set(siteId, v);
          }
          if (!d.call.startsWith('dma_map')) return;
          v.first ??= d;
          if (d.result === 'bounced') v.needed += nrSlots(d.size);
          else if (d.result !== 'direct') v.failure ??= d;
        },
      });
      dynamicSizing = run.dynamicSizing;
      const ev = run.session.events;
      // each row points at its call site in the driver, not at the workload's line
      for (let i = 0; i < Math.min(rows, siteOfRow.length, ev.length); i++) {
        const site = siteById.get(siteOfRow[i] as number);
        if (site) {
          ev.set('file', i, ev.files.intern(site.file));
          ev.set('line', i, site.raw.span.row + 1);
        }
      }
      const stats = new Map<number, WorkloadStats>();
      // in the order the sites first ran, as their verdicts and diagnostics are listed
      for (const [siteId, v] of seen) {
        const ring = rings.find((r) => r.site.id === siteId)?.ring;
        const st = workloadStats(run.books.groups.get(siteId + 1) ?? new Tally(), ring?.depth ?? 1, ring?.count ?? 0);
        if (v.first) st.firstDecision = v.first;
        if (v.failure) st.firstFailure = v.failure;
        st.neededTotal = v.needed;
        stats.set(siteId, st);
      }
      for (const [id, st] of stats) {
        const s = siteById.get(id) as Site;
        const dev = this.devFor(s) as DeviceConfig;
        const v = this.verdicts.get(id);
        this.verdicts.set(id, this.composeMapVerdict(s, dev, [...(v?.probes ?? [])], true, dmaLimit(dev), [...(v?.notes ?? [])], st));
        this.workloadDiagnostics(s, dev, st);
      }
      session = {
        ...run.session,
        kind: 'source',
        files: [...new Set(rings.map((r) => r.site.file))],
      };
    }

    return { session, workloadCalls, ...(dynamicSizing ? { dynamicSizing } : {}) };
  }

  private workloadDiagnostics(s: Site, dev: DeviceConfig, st: WorkloadStats): void {
    const full = (st.failuresByCause['pool-full'] ?? 0) + (st.failuresByCause.fragmented ?? 0);
    if (full && this.setup.pool) {
      this.diagnostics.push({
        file: s.file,
        span: s.raw.span,
        severity: 'warning',
        code: 'pool-exhausted',
        message: `swiotlb buffer is full at the annotated depth ${st.depth}: ${full} of ${st.maps} maps failed (${Object.entries(
          st.failuresByCause,
        )
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}); the pool has ${this.setup.pool.nslabs} slots (${formatBytes(this.setup.pool.nslabs * IO_TLB_SIZE)})`,
        site: s.id,
      });
    }
    if (st.hangs) {
      this.diagnostics.push({
        file: s.file,
        span: s.raw.span,
        severity: 'error',
        code: 'livelock',
        message: `${s.api}: the 6.1 slot search never returns for ${st.hangs} of ${st.maps} maps at this depth (the kernel hangs in swiotlb_find_slots)`,
        site: s.id,
      });
    }
    if (dev.minAlignMask && st.bounced && st.slotsTotal > 0) {
      const waste = (st.slotsTotal - st.neededTotal) / st.slotsTotal;
      if (waste >= 0.1) {
        this.diagnostics.push({
          file: s.file,
          span: s.raw.span,
          severity: 'info',
          code: 'align-waste',
          message: `min_align_mask ${hexAddr(dev.minAlignMask)} keeps each buffer's offset within ${formatBytes(dev.minAlignMask + 1)}: ${Math.round(waste * 100)} % of the slots this site takes are padding (${(st.slotsTotal / st.bounced).toFixed(1)} slots per map where ${(st.neededTotal / st.bounced).toFixed(1)} would hold the data)`,
          site: s.id,
        });
      }
    }
  }

  /** Will-fail diagnostics from the probes. */
  private willFailDiagnostics(): void {
    for (const s of this.inp.sites) {
      const v = this.verdicts.get(s.id);
      if (!v || s.role !== 'map') continue;
      const failed = v.probes.filter((p) => p.decision.result === 'failed' || p.decision.result === 'hang');
      if (!failed.length) continue;
      const d = (failed[0] as ProbeResult).decision;
      const cause = lowestBit(d.reasons & FAILURE_MASK);
      const all = failed.length === v.probes.length;
      const where = all ? '' : ` when the buffer is ${failed.map((p) => p.where).join(', ')}`;
      const code =
        cause === Reason.TooBig
          ? 'too-big'
          : cause === Reason.NoSwiotlb
            ? 'no-swiotlb'
            : cause === Reason.BounceBeyondMask
              ? 'bounce-beyond-mask'
              : cause === Reason.Livelock
                ? 'livelock'
                : 'will-fail';
      const dev = this.devFor(s);
      // the device's own message, not the once-per-boot memory-encryption notice
      const last = d.messages[d.messages.length - 1];
      this.willFail.push({ site: s.id, code, always: all });
      this.diagnostics.push({
        file: s.file,
        span: s.raw.span,
        severity: all && v.sizeKnown ? 'error' : 'warning',
        code,
        message: `${s.api} fails${where}: ${cause ? shortReason(cause, dev, this.m, failed[0]?.size) : d.result}${v.sizeKnown ? '' : ' (with the size assumed for the probe)'}${last ? `; the kernel prints "${last}"` : ''}`,
        site: s.id,
      });
    }
  }

  /** Unmaps and syncs: what their map's verdict means for them. */
  private releaseVerdicts(): void {
    for (const s of this.inp.sites) {
      if (!this.inp.report(s) || !(s.role === 'unmap' || s.role.startsWith('sync') || s.role === 'free')) continue;
      const pid = this.inp.pairOf.get(s.id);
      const p = pid !== undefined ? this.inp.pairs.find((x) => x.id === pid) : undefined;
      const mv = p ? this.verdicts.get(p.map) : undefined;
      const mapSite = p ? this.inp.sites.find((x) => x.id === p.map) : undefined;
      if (!mv || !mapSite) continue;
      this.verdicts.set(s.id, this.releaseVerdict(s, mapSite, mv));
    }
  }

  private releaseVerdict(s: Site, map: Site, mv: Verdict): Verdict {
    const base = { reasons: mv.reasons, sizeKnown: mv.sizeKnown, probes: [], notes: [] as string[] };
    if (map.role !== 'map') return { ...base, status: 'coherent', lens: 'frees coherent memory', summary: 'Frees a coherent allocation.' };
    const dir = direction(map);
    const copyBack = dir === DmaDirection.FROM_DEVICE || dir === DmaDirection.BIDIRECTIONAL;
    const copyTo = dir === DmaDirection.TO_DEVICE || dir === DmaDirection.BIDIRECTIONAL;
    const size = siteSize(map).spec;
    const bytes = size ? `${size.kind === 'fixed' ? '' : 'up to '}${formatBytes(maxSize(size))}` : 'the buffer';
    if (mv.status === 'direct')
      return {
        ...base,
        status: 'direct',
        lens: 'nothing to copy or release: the map does not bounce',
        summary: `The map at line ${map.raw.span.row + 1} does not bounce here.`,
      };
    if (!mv.probes.some((p) => p.decision.result === 'bounced') && !mv.workload?.bounced)
      return {
        ...base,
        status: 'direct',
        lens: 'nothing to release: the map fails where it would bounce',
        summary: `The map at line ${map.raw.span.row + 1} never holds bounce slots.`,
      };
    const when = mv.status === 'bounces' ? '' : ' when the map bounced';
    const slots = mv.workload?.bounced
      ? slotText(mv.workload.slotsMin, mv.workload.slotsMax)
      : mv.probes.find((p) => p.decision.result === 'bounced')
        ? slotText(...minMax(mv.probes.filter((p) => p.decision.result === 'bounced').map((p) => p.decision.nslots)))
        : '';
    if (s.role === 'unmap') {
      const lens = `releases ${slots || 'its slots'}${copyBack ? `, copies ${bytes} back` : ''}${when}`;
      return { ...base, status: 'releases', lens, summary: `${s.api} ${lens} (map at line ${map.raw.span.row + 1}).` };
    }
    const toCpu = s.role === 'sync_cpu';
    const copies = toCpu ? copyBack : copyTo;
    const lens = copies
      ? `copies ${bytes} ${toCpu ? 'from the bounce buffer' : 'into the bounce buffer'}${when}`
      : `no copy (${DMA_DIRECTION_LABEL[dir]})`;
    return { ...base, status: 'copies', lens, summary: `${s.api}: ${lens} (map at line ${map.raw.span.row + 1}).` };
  }
}

/** Runs one driver: probes every reported site, then the annotated workload. */
export function simulateDriver(inp: DriverInput): DriverSimulation {
  return new DriverSimulator(inp).run();
}

/** A map site's workload ring, with the sites of its unmap and syncs. */
interface WorkloadRing {
  readonly site: Site;
  readonly ring: RingStep;
  readonly unmap?: number;
  readonly syncCpu?: number;
  readonly syncDev?: number;
}

const DMA_DIRECTION_LABEL: Record<DmaDirection, string> = {
  [DmaDirection.BIDIRECTIONAL]: 'DMA_BIDIRECTIONAL',
  [DmaDirection.TO_DEVICE]: 'DMA_TO_DEVICE',
  [DmaDirection.FROM_DEVICE]: 'DMA_FROM_DEVICE',
  [DmaDirection.NONE]: 'DMA_NONE',
};

function minMax(xs: number[]): [number, number] {
  return [Math.min(...xs), Math.max(...xs)];
}

function slotText(a: number, b: number): string {
  if (!Number.isFinite(a) || b === 0) return '';
  return a === b ? `${a} slot${a === 1 ? '' : 's'}` : `${a}-${b} slots`;
}

const pct = (used: number, total: number) => pctText(used, total, { compact: true });

/** One map (and its release) on the probe engine; the pool is left as it was. */
function probe(e: DmaEngine, s: Site, dev: DeviceConfig, phys: number, size: number): Decision {
  const dir = direction(s);
  const attrs = s.attrs?.value ?? 0;
  const call = simulatedCall(s.spec);
  if (s.family === 'resource') return e.mapResource({ call, dev, cpu: 0, phys, size, dir, attrs });
  const mapCall = s.family === 'sg' || s.family === 'sgtable' ? call : call;
  const d = e.map({ call: mapCall, dev, cpu: 0, phys, size, dir, attrs });
  if (d.result === 'bounced') {
    const handle = d.dma ?? d.tlbAddr;
    if (handle !== null) e.unmap({ call: 'dma_unmap_page', dev, cpu: 0, dma: handle, size, dir, attrs: 0x20 });
  }
  return d;
}

function p2mSpec(m: Machine, windows: readonly [number, number][]): P2mSpec | undefined {
  if (!m.platform.xen?.pv) return undefined;
  const base = 0x8000_0000 / 4096;
  if (!windows.length) return { kind: 'contiguous', machineBase: 0x8000_0000 };
  // contiguous, except windows where every frame is its own run in descending machine order
  const frames = Math.ceil(m.ramBytes / 4096);
  const runs: { pfn: number; mfn: number; count: number; descending?: boolean }[] = [];
  let pfn = 0;
  for (const [lo, hi] of [...windows].sort((a, b) => a[0] - b[0])) {
    const a = Math.floor(lo / 4096);
    const b = Math.min(frames, Math.ceil(hi / 4096));
    if (a > pfn) runs.push({ pfn, mfn: base + pfn, count: a - pfn });
    if (b > a) runs.push({ pfn: a, mfn: base + b - 1, count: b - a, descending: true });
    pfn = Math.max(pfn, b);
  }
  if (pfn < frames) runs.push({ pfn, mfn: base + pfn, count: frames - pfn });
  return { kind: 'runs', runs };
}

/** The decision layer's scenario for a driver on a machine. */
export function scenarioFor(
  name: string,
  m: Machine,
  devices: readonly DeviceConfig[],
  workload: readonly Step[],
  p2m?: P2mSpec,
): Scenario {
  return {
    file: name,
    name,
    platform: m.platform,
    kernel: m.kernel,
    ...(m.kernelNote ? { kernelNote: m.kernelNote } : {}),
    cpus: m.cpus,
    ramBytes: m.ramBytes,
    maxPhysAddr: regionRange('high', m)?.[1] ?? m.ramBytes,
    ...(m.firmwareDmaLimit !== undefined ? { firmwareDmaLimit: m.firmwareDmaLimit } : {}),
    ...(m.dynamic ? { dynamic: { growDelay: DEFAULT_GROW_DELAY } } : {}),
    pool: { ...(m.cmdline ? { cmdline: m.cmdline } : {}), ...(m.poolSlots ? { nslabs: m.poolSlots } : {}) },
    ...(m.platform.xen?.pv ? { xen: { p2m: p2m ?? { kind: 'contiguous', machineBase: 0x8000_0000 } } } : {}),
    devices,
    workload,
  };
}

interface RingRef {
  readonly site: Site;
  readonly ring: RingStep;
  readonly unmap?: number;
  readonly syncCpu?: number;
  readonly syncDev?: number;
}

/** A ring's calls as scenario steps, each attributed to its call site (line = site id + 1). */
function* opsToSteps(ops: Iterable<Op>, r: RingRef): Generator<Step> {
  for (const op of ops) {
    const step = opToStep(op, r);
    if (step) yield step;
  }
}

function opToStep(op: Op, r: RingRef): CallStep | undefined {
  switch (op.t) {
    case 'map':
      return {
        kind: 'call',
        line: r.site.id + 1,
        call: op.call,
        what: 'map',
        device: op.dev,
        id: op.id,
        phys: op.phys,
        size: op.size,
        dir: op.dir,
        attrs: op.attrs,
        cpu: op.cpu,
      };
    case 'unmap':
      return { kind: 'call', line: (r.unmap ?? r.site.id) + 1, call: op.call, what: 'unmap', id: op.id, cpu: op.cpu };
    case 'sync':
      return {
        kind: 'call',
        line: ((op.toCpu ? r.syncCpu : r.syncDev) ?? r.site.id) + 1,
        call: op.call,
        what: op.toCpu ? 'sync_cpu' : 'sync_device',
        id: op.id,
        cpu: op.cpu,
      };
    default:
      return undefined;
  }
}

/** Rings run side by side, each advancing in proportion to its length (the workload mix). */
function interleave(rings: readonly RingRef[]): Step[] {
  const gens = rings.map((r) => ({ r, it: expandWorkload([r.ring])[Symbol.iterator](), done: 0, total: r.ring.count, finished: false }));
  const out: Step[] = [];
  for (;;) {
    let pick: (typeof gens)[number] | undefined;
    for (const g of gens) if (!g.finished && (!pick || g.done / g.total < pick.done / pick.total)) pick = g;
    if (!pick) break;
    const n = pick.it.next();
    if (n.done) {
      pick.finished = true;
      continue;
    }
    if (n.value.t === 'map') pick.done++;
    const step = opToStep(n.value, pick.r);
    if (step) out.push(step);
  }
  return out;
}

/** The rows a session holds for one site. */
export function eventsForSite(t: EventTable, file: string, line: number): number[] {
  const rows: number[] = [];
  const f = t.files.intern(file);
  for (const v of t.chunks(['file', 'line']))
    for (let i = v.start; i < v.end; i++) if (v.c.file[i - v.base] === f && v.c.line[i - v.base] === line) rows.push(i);
  return rows;
}

/** Merges the sessions of several drivers (their runs one after another). */
export function mergeSessions(sessions: readonly AnalysisSession[], m: Machine): AnalysisSession {
  const events = new EventTable();
  const recorder = new Recorder({ table: events });
  for (const s of sessions) {
    const base = events.length;
    const t = s.events;
    for (let i = 0; i < t.length; i++) {
      const e = eventAt(t, i);
      recorder.add({
        ...e,
        device: t.devices.get(e.device as number),
        api: t.apis.get(e.api as number),
        file: t.files.get(e.file as number),
        ...(e.pair !== undefined ? { pair: e.pair + base } : {}),
      });
    }
  }
  const books = recorder.books;
  const first = sessions[0];
  return {
    kind: 'source',
    files: [...new Set(sessions.flatMap((s) => s.files))],
    kernel: m.kernel.name,
    platform: m.platform.id,
    pool: first?.pool ?? null,
    events,
    summary: summaryOf(books),
    devices: devicesOf(books, events.devices.values),
    diagnostics: [],
  };
}

export type { Hints };
export { decisionJson, EventKind, Outcome };
