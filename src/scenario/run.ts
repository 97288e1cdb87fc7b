/**
 * Runs a scenario: sets the pool up as the kernel would, expands the workload (explicit calls,
 * rings, repeats) into DMA API calls, and feeds them to one or more DMA engines in lockstep
 * ("lanes": e.g. the kernel's xen-swiotlb and the unified path), recording every decision.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Books } from '../analysis/books';
import { EventKind, Outcome } from '../analysis/codes';
import { EventTable } from '../analysis/eventTable';
import { Recorder, type RecorderOptions } from '../analysis/recorder';
import { type AnalysisSession, devicesOf, summaryOf } from '../analysis/session';
import { DmaDirection, IO_TLB_SIZE } from '../model/constants';
import type { Decision } from '../model/dma/decision';
import type { DeviceConfig } from '../model/dma/device';
import { type BounceListener, DmaEngine, type DmaPath, type PoolConfig } from '../model/dma/engine';
import type { BufferInfo } from '../model/dma/hooks';
import { P2mTable, XEN_PAGE_SIZE } from '../model/dma/p2m';
import { type DynamicConfig, machineDynamicConfig } from '../model/dynamic';
import { DynamicSizer, type DynamicSizing } from '../model/dynamicSizing';
import { type BootPool, bootPool } from '../model/setup';
import type { MapRequest } from '../model/swiotlb';
import type { CallStep, P2mSpec, RingStep, Scenario, SizeDist, Step } from './format';
import { rng } from './rng';

/**
 * DMA API calls a workload may expand to by default. Every call is a row of the analysis (the
 * panel's table), so the run is held in memory: about 100 bytes and 4 microseconds per call.
 */
export const DEFAULT_MAX_SCENARIO_CALLS = 4_000_000;

/** DMA API calls a workload expands to (as runScenario makes them; a float, so 1e30 stays 1e30). */
export function workloadCalls(steps: readonly Step[]): number {
  let n = 0;
  for (const s of steps) n += stepCalls(s);
  return n;
}

export function stepCalls(s: Step): number {
  switch (s.kind) {
    case 'ring':
      // each buffer: its map, its unmap, and the syncs it gets while mapped
      return s.count * (2 + (s.sync === 'both' ? 2 : s.sync === 'none' ? 0 : 1));
    case 'repeat':
      return s.times * workloadCalls(s.steps);
    default:
      return 1;
  }
}

/** One DMA API call after expansion of the workload. */
export type Op =
  | {
      t: 'map';
      call: string;
      dev: DeviceConfig;
      cpu: number;
      phys: number;
      size: number;
      dir: DmaDirection;
      attrs: number;
      id: string;
      line: number;
      buf?: BufferInfo;
    }
  | {
      t: 'map_sg';
      call: string;
      dev: DeviceConfig;
      cpu: number;
      entries: { phys: number; size: number }[];
      dir: DmaDirection;
      attrs: number;
      id: string;
      line: number;
    }
  | {
      t: 'map_resource';
      call: string;
      dev: DeviceConfig;
      cpu: number;
      phys: number;
      size: number;
      dir: DmaDirection;
      attrs: number;
      id: string;
      line: number;
    }
  | { t: 'unmap'; call: string; cpu: number; id: string; line: number; size?: number; dir?: DmaDirection; attrs?: number }
  | { t: 'sync'; call: string; cpu: number; id: string; line: number; toCpu: boolean; size?: number; offset?: number; dir?: DmaDirection }
  | { t: 'alloc'; call: string; dev: DeviceConfig; cpu: number; size: number; phys?: number; id: string; line: number }
  | { t: 'free'; call: string; cpu: number; id: string; line: number }
  | { t: 'p2m'; spec: P2mSpec; line: number };

function pickSize(d: SizeDist, r: () => number): number {
  switch (d.kind) {
    case 'fixed':
      return d.size;
    case 'uniform':
      return d.min + Math.floor(r() * (d.max - d.min + 1));
    default:
      return d.sizes[Math.floor(r() * d.sizes.length)] as number;
  }
}

function* ringOps(s: RingStep, suffix: string): Generator<Op> {
  const r = rng(s.seed);
  // buffers in flight, oldest first from `head` (Array#shift moves a deep ring's every element)
  const live: { id: string; cpu: number }[] = [];
  let head = 0;
  let next = s.phys.kind === 'sequential' ? s.phys.start : 0;
  const totalWeight = s.phys.kind === 'ranges' ? s.phys.ranges.reduce((a, x) => a + x.weight, 0) : 0;
  const pickPhys = (size: number): number => {
    if (s.phys.kind === 'sequential') {
      const p = next;
      next += s.phys.stride ?? Math.ceil(size / 64) * 64;
      return p;
    }
    let w = r() * totalWeight;
    let range = s.phys.ranges[0] as { lo: number; hi: number };
    for (const x of s.phys.ranges) {
      if (w < x.weight) {
        range = x;
        break;
      }
      w -= x.weight;
    }
    const slots = Math.max(1, Math.floor((range.hi - range.lo - size) / s.phys.align));
    return range.lo + Math.floor(r() * slots) * s.phys.align;
  };
  const unmapCall = s.map.replace('map', 'unmap');
  const retire = function* (): Generator<Op> {
    const old = live[head++] as { id: string; cpu: number };
    if (head > 1024 && head * 2 > live.length) {
      live.splice(0, head);
      head = 0;
    }
    if (s.sync === 'cpu' || s.sync === 'both')
      yield { t: 'sync', call: 'dma_sync_single_for_cpu', cpu: old.cpu, id: old.id, line: s.line, toCpu: true };
    yield { t: 'unmap', call: unmapCall, cpu: old.cpu, id: old.id, line: s.line };
  };
  for (let k = 0; k < s.count; k++) {
    if (live.length - head >= s.depth) yield* retire();
    const size = pickSize(s.size, r);
    const cpu = s.cpus[k % s.cpus.length] as number;
    const id = `${s.id}#${k}${suffix}`;
    yield { t: 'map', call: s.map, dev: s.device, cpu, phys: pickPhys(size), size, dir: s.dir, attrs: s.attrs, id, line: s.line };
    live.push({ id, cpu });
    if (s.sync === 'device' || s.sync === 'both')
      yield { t: 'sync', call: 'dma_sync_single_for_device', cpu, id, line: s.line, toCpu: false };
  }
  while (live.length > head) yield* retire();
}

function callOp(c: CallStep, suffix: string): Op {
  const cpu = c.cpu ?? 0;
  const id = `${c.id ?? `call@${c.line}`}${suffix}`;
  const attrs = c.attrs ?? 0;
  const dir = c.dir ?? DmaDirection.BIDIRECTIONAL;
  switch (c.what) {
    case 'map':
      return {
        t: 'map',
        call: c.call,
        dev: c.device as DeviceConfig,
        cpu,
        phys: c.phys as number,
        size: c.size as number,
        dir,
        attrs,
        id,
        line: c.line,
        ...(c.foreign !== undefined ? { buf: { foreignBus: c.foreign } } : {}),
      };
    case 'map_sg':
      return { t: 'map_sg', call: c.call, dev: c.device as DeviceConfig, cpu, entries: [...(c.sg ?? [])], dir, attrs, id, line: c.line };
    case 'map_resource':
      return {
        t: 'map_resource',
        call: c.call,
        dev: c.device as DeviceConfig,
        cpu,
        phys: c.phys as number,
        size: c.size as number,
        dir,
        attrs,
        id,
        line: c.line,
      };
    case 'unmap':
    case 'unmap_sg':
    case 'unmap_resource':
      return {
        t: 'unmap',
        call: c.call,
        cpu,
        id,
        line: c.line,
        ...(c.size !== undefined ? { size: c.size } : {}),
        ...(c.dir !== undefined ? { dir: c.dir } : {}),
        ...(c.attrs !== undefined ? { attrs: c.attrs } : {}),
      };
    case 'sync_cpu':
    case 'sync_device':
    case 'sync_sg_cpu':
    case 'sync_sg_device':
      return {
        t: 'sync',
        call: c.call,
        cpu,
        id,
        line: c.line,
        toCpu: c.what === 'sync_cpu' || c.what === 'sync_sg_cpu',
        ...(c.size !== undefined ? { size: c.size } : {}),
        ...(c.offset !== undefined ? { offset: c.offset } : {}),
        ...(c.dir !== undefined ? { dir: c.dir } : {}),
      };
    case 'alloc':
      return {
        t: 'alloc',
        call: c.call,
        dev: c.device as DeviceConfig,
        cpu,
        size: c.size as number,
        ...(c.phys !== undefined ? { phys: c.phys } : {}),
        id,
        line: c.line,
      };
    default:
      return { t: 'free', call: c.call, cpu, id, line: c.line };
  }
}

/** The workload as a stream of calls. Ids inside repeats get "@k" for iteration k. */
export function* expandWorkload(steps: readonly Step[], suffix = ''): Generator<Op> {
  for (const s of steps) {
    switch (s.kind) {
      case 'call':
        yield callOp(s, suffix);
        break;
      case 'ring':
        yield* ringOps(s, suffix);
        break;
      case 'repeat':
        for (let k = 0; k < s.times; k++) yield* expandWorkload(s.steps, `${suffix}@${k}`);
        break;
      default:
        yield { t: 'p2m', spec: s.p2m, line: s.line };
    }
  }
}

export class ScenarioRunError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** A P2M table for dom0's RAM from a scenario's description. */
export function buildP2m(spec: P2mSpec, scenarioFile: string, ramBytes: number): P2mTable {
  const frames = Math.ceil(ramBytes / XEN_PAGE_SIZE);
  switch (spec.kind) {
    case 'contiguous':
      return new P2mTable([{ pfn: 0, mfn: spec.machineBase / XEN_PAGE_SIZE, count: frames }]);
    case 'ballooned': {
      // what ballooning out and back in leaves: machine frames descending, none contiguous with the next
      const base = spec.machineBase / XEN_PAGE_SIZE;
      return new P2mTable([{ pfn: 0, mfn: base + frames - 1, count: frames, descending: true }]);
    }
    case 'runs':
      return new P2mTable(spec.runs);
    default: {
      const path = resolve(dirname(scenarioFile), spec.path);
      const raw = readFileSync(path);
      return P2mTable.parse((path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8'));
    }
  }
}

export interface PoolSetup {
  readonly boot: BootPool;
  readonly pool: PoolConfig | null;
}

/** The pool the scenario's kernel sets up, and where it sits. */
export function setupPool(s: Scenario): PoolSetup {
  const plat = s.platform;
  const force = s.pool.force ? ' swiotlb=force' : '';
  const boot = bootPool(s.kernel, {
    cmdline: `${s.pool.cmdline ?? ''}${force}`,
    possibleCpus: s.cpus,
    arch: plat.arch,
    memEncrypt: plat.memEncrypt,
    ...(s.ramBytes !== undefined ? { ramBytes: s.ramBytes } : {}),
    ...(s.maxPhysAddr !== undefined ? { maxPhysAddr: s.maxPhysAddr } : {}),
    ...(s.pool.available !== undefined ? { allocatableBytes: s.pool.available } : {}),
    ...(s.pool.base !== undefined ? { poolStart: s.pool.base } : {}),
    ...(s.firmwareDmaLimit !== undefined ? { firmwareDmaLimit: s.firmwareDmaLimit } : {}),
    ...(s.dramStart !== undefined ? { dramStart: s.dramStart } : {}),
    ...(plat.xen?.pv ? { alwaysCreate: 'Xen PV dom0: xen-swiotlb sets a pool up (pci_xen_swiotlb_init)' } : {}),
    ...(plat.ops === 'iommu-dma' ? { alwaysCreate: 'kept for untrusted devices behind the IOMMU' } : {}),
    ...(plat.xen?.arm ? { alwaysCreate: 'Xen arm: xen_mm_init sets a pool up' } : {}),
  });
  let nslabs = boot.nslabs;
  let nareas = boot.nareas;
  if (s.pool.nslabs !== undefined) {
    nslabs = s.pool.nslabs;
    nareas = s.pool.nareas ?? Math.max(1, Math.min(boot.nareas || 1, Math.floor(nslabs / 128) || 1));
  } else if (s.pool.nareas !== undefined) nareas = s.pool.nareas;
  if (!boot.created && s.pool.nslabs === undefined) return { boot, pool: null };
  const bytes = nslabs * IO_TLB_SIZE;
  let start = s.pool.base;
  if (start === undefined) {
    const ram = s.ramBytes ?? 4 * 2 ** 30;
    // low memory below 4 GiB (memblock top-down under the PCI hole), or the top of RAM for
    // SWIOTLB_ANY (encrypted guests, Xen PV's pseudo-physical reservation); arm64's
    // memblock_alloc_low() stays below arm64_dma_phys_limit (ARCH_LOW_ADDRESS_LIMIT)
    const dram = s.dramStart ?? 0;
    const end =
      plat.arch === 'arm64' && plat.poolBelow4G
        ? Math.min(dram + ram, boot.zone.lowLimit)
        : plat.poolBelow4G
          ? Math.min(ram, 0xc0000000)
          : dram + ram;
    start = Math.max(dram, Math.floor((end - bytes) / (2 << 20)) * (2 << 20));
  }
  return { boot, pool: { start, nslabs, nareas, forceBounce: boot.forceBounce || (s.pool.force ?? false) } };
}

interface Handle {
  readonly kind: 'map' | 'sg' | 'resource' | 'alloc';
  readonly dev: DeviceConfig;
  readonly dir: DmaDirection;
  readonly attrs: number;
  /** One per scatterlist entry (one for the others). */
  readonly parts: { dma: number; size: number }[];
  readonly size: number;
  readonly decision: number;
}

/**
 * Feeds a run's bounce requests to the dynamic sizing replay as they happen: a map is keyed by
 * its workload id and entry; a map that failed for want of slots is released when the workload
 * unmaps it (the driver would have then).
 */
class SizingFeed implements BounceListener {
  /** The workload op being applied. */
  opId = '';
  private entry = 0;
  private readonly byAddr = new Map<number, { key: string; size: number }>();
  private readonly failedByOp = new Map<string, { key: string; size: number }[]>();

  constructor(readonly sizer: DynamicSizer) {}

  begin(opId: string): void {
    this.opId = opId;
    this.entry = 0;
  }

  map(req: MapRequest, r: { ok: boolean; reason?: string; tlbAddr: number }): void {
    const key = `${this.opId}#${this.entry++}`;
    const lacking = !r.ok && (r.reason === 'full' || r.reason === 'too-big');
    if (!r.ok && !lacking) return;
    this.sizer.map(key, req, lacking);
    if (r.ok) this.byAddr.set(r.tlbAddr, { key, size: req.mappingSize });
    else {
      const list = this.failedByOp.get(this.opId) ?? [];
      list.push({ key, size: req.mappingSize });
      this.failedByOp.set(this.opId, list);
    }
  }

  release(tlbAddr: number): void {
    const m = this.byAddr.get(tlbAddr);
    if (!m) return;
    this.byAddr.delete(tlbAddr);
    this.sizer.unmap(m.key, m.size);
  }

  /** The workload unmaps `opId`: its failed maps go too. */
  unmapFailed(opId: string): void {
    const list = this.failedByOp.get(opId);
    if (!list) return;
    this.failedByOp.delete(opId);
    for (const m of list) this.sizer.unmap(m.key, m.size);
  }
}

/** One engine and the handles its maps returned. */
export class Lane {
  /** Every decision, in order, when the lane keeps them (else empty: see `count`). */
  readonly decisions: Decision[] = [];
  /** Workload line of each kept decision. */
  readonly lines: number[] = [];
  /** Decisions made so far (kept or not): the index the next one gets. */
  count = 0;
  private readonly handles = new Map<string, Handle>();
  private feed: SizingFeed | null = null;

  constructor(
    readonly engine: DmaEngine,
    private readonly scenario: Scenario,
    /** false: decisions are handed out by apply() and not kept (a long workload's memory stays flat). */
    private readonly keep = true,
  ) {}

  /** Replays every bounce request with dynamic pools on as well (the sizing answer). */
  feedSizer(sizer: DynamicSizer): void {
    this.feed = new SizingFeed(sizer);
    this.engine.listener = this.feed;
  }

  private record(d: Decision, line: number): number {
    if (this.keep) {
      this.decisions.push(d);
      this.lines.push(line);
    }
    return this.count++;
  }

  private handle(op: { id: string; line: number }): Handle | undefined {
    return this.handles.get(op.id);
  }

  apply(op: Op): Decision[] {
    const e = this.engine;
    if (this.feed && 'id' in op) this.feed.begin(op.id);
    switch (op.t) {
      case 'map': {
        const d = e.map({
          call: op.call,
          dev: op.dev,
          cpu: op.cpu,
          phys: op.phys,
          size: op.size,
          dir: op.dir,
          attrs: op.attrs,
          ...(op.buf ? { buf: op.buf } : {}),
        });
        const i = this.record(d, op.line);
        if (d.result === 'direct' || d.result === 'bounced') {
          // with an IOMMU the IOVA is not modelled: the handle is the buffer the IOMMU maps
          const handle = d.dma ?? d.tlbAddr ?? op.phys;
          this.handles.set(op.id, {
            kind: 'map',
            dev: op.dev,
            dir: op.dir,
            attrs: op.attrs,
            parts: [{ dma: handle, size: op.size }],
            size: op.size,
            decision: i,
          });
        }
        return [d];
      }
      case 'map_resource': {
        const d = e.mapResource({ call: op.call, dev: op.dev, cpu: op.cpu, phys: op.phys, size: op.size, dir: op.dir, attrs: op.attrs });
        const i = this.record(d, op.line);
        if (d.dma !== null)
          this.handles.set(op.id, {
            kind: 'resource',
            dev: op.dev,
            dir: op.dir,
            attrs: op.attrs,
            parts: [{ dma: d.dma, size: op.size }],
            size: op.size,
            decision: i,
          });
        return [d];
      }
      case 'map_sg': {
        const r = e.mapSg(op.call, op.dev, op.cpu, op.entries, op.dir, op.attrs);
        const idx = r.entries.map((d) => this.record(d, op.line));
        for (const u of r.unwound) this.record(u, op.line);
        if (r.nents > 0) {
          this.handles.set(op.id, {
            kind: 'sg',
            dev: op.dev,
            dir: op.dir,
            attrs: op.attrs,
            parts: r.entries.map((d, k) => {
              const e = op.entries[k] as { phys: number; size: number };
              return { dma: d.dma ?? d.tlbAddr ?? e.phys, size: e.size };
            }),
            size: op.entries.reduce((a, x) => a + x.size, 0),
            decision: idx[0] as number,
          });
        }
        return [...r.entries, ...r.unwound];
      }
      case 'unmap': {
        const h = this.handle(op);
        if (!h) {
          this.feed?.unmapFailed(op.id);
          return [];
        }
        this.handles.delete(op.id);
        if (h.kind === 'resource') return [];
        const out: Decision[] = [];
        for (const p of h.parts) {
          const d = e.unmap({
            call: op.call,
            dev: h.dev,
            cpu: op.cpu,
            dma: p.dma,
            size: h.kind === 'sg' ? p.size : (op.size ?? p.size),
            dir: op.dir ?? h.dir,
            attrs: op.attrs ?? 0,
            mapIndex: h.decision,
          });
          this.record(d, op.line);
          out.push(d);
        }
        return out;
      }
      case 'sync': {
        const h = this.handle(op);
        if (!h || h.kind === 'resource' || h.kind === 'alloc') return [];
        const out: Decision[] = [];
        for (const p of h.parts) {
          const off = op.offset ?? 0;
          const d = e.sync(
            {
              call: op.call,
              dev: h.dev,
              cpu: op.cpu,
              dma: p.dma + off,
              size: op.size ?? p.size - off,
              dir: op.dir ?? h.dir,
              attrs: 0,
              mapIndex: h.decision,
            },
            op.toCpu,
          );
          this.record(d, op.line);
          out.push(d);
        }
        return out;
      }
      case 'alloc': {
        const d = e.allocCoherent(op.call, op.dev, op.cpu, op.size, op.phys);
        const i = this.record(d, op.line);
        if (d.dma !== null)
          this.handles.set(op.id, {
            kind: 'alloc',
            dev: op.dev,
            dir: DmaDirection.BIDIRECTIONAL,
            attrs: 0,
            parts: [{ dma: d.dma, size: op.size }],
            size: op.size,
            decision: i,
          });
        return [d];
      }
      case 'free': {
        const h = this.handle(op);
        if (!h) return [];
        this.handles.delete(op.id);
        const d = e.freeCoherent(op.call, h.dev, op.cpu, h.size, (h.parts[0] as { dma: number }).dma);
        this.record(d, op.line);
        return [d];
      }
      default: {
        e.setXenP2m(buildP2m(op.spec, this.scenario.file, this.scenario.ramBytes ?? 2 ** 30));
        return [];
      }
    }
  }

  /** Mappings still live at the end. */
  get live(): number {
    return this.handles.size;
  }
}

/**
 * The dynamic set-up of the scenario's machine (a fresh page allocator each call), or undefined
 * without a pool. Xen PV's pool cannot grow (swiotlb_init_remap with a remap hook).
 */
export function scenarioDynamicConfig(s: Scenario, setup: PoolSetup, growDelay?: number): DynamicConfig | undefined {
  if (!setup.pool) return undefined;
  return machineDynamicConfig({
    arch: s.platform.arch,
    ramBytes: s.ramBytes ?? 4 * 2 ** 30,
    zone: setup.boot.zone,
    pool: setup.pool,
    encrypted: s.platform.memEncrypt !== 'none',
    canGrow: !s.platform.xen?.pv,
    ...(s.dramStart !== undefined ? { dramStart: s.dramStart } : {}),
    ...(growDelay !== undefined ? { growDelay } : {}),
  });
}

export function makeEngine(s: Scenario, setup: PoolSetup, path: DmaPath): DmaEngine {
  const dynamic = s.dynamic ? scenarioDynamicConfig(s, setup, s.dynamic.growDelay) : undefined;
  const plat =
    s.xen?.cacheFlushHypercall !== undefined && s.platform.xen
      ? { ...s.platform, xen: { ...s.platform.xen, cacheFlushHypercall: s.xen.cacheFlushHypercall } }
      : s.platform;
  const xen = s.platform.xen?.pv
    ? {
        p2m: buildP2m(s.xen?.p2m ?? { kind: 'contiguous', machineBase: 0x80000000 }, s.file, s.ramBytes ?? 2 ** 30),
        ...(s.xen?.segments ? { segmentBases: s.xen.segments } : {}),
      }
    : undefined;
  return new DmaEngine({
    profile: s.kernel,
    platform: plat,
    pool: setup.pool,
    path,
    ...(xen ? { xen } : {}),
    ...(s.encryptionBit !== undefined ? { encryptionBit: s.encryptionBit } : {}),
    ...(dynamic ? { dynamic } : {}),
  });
}

/** Decisions the text report lists (the JSON lists every one). */
export const LISTED_CALLS = 40;

export interface ScenarioRun {
  readonly scenario: Scenario;
  readonly setup: PoolSetup;
  readonly lane: Lane;
  readonly session: AnalysisSession;
  /** Every decision counted (with the group tallies asked for). */
  readonly books: Books;
  /** DMA API calls of the expanded workload. */
  readonly calls: number;
  /**
   * Without dynamic pools, on a 6.6+ kernel whose run had maps fail for want of slots: what
   * CONFIG_SWIOTLB_DYNAMIC would have done with them.
   */
  readonly dynamicSizing?: DynamicSizing;
  /** The first LISTED_CALLS decisions with their workload lines (kept even when the lane keeps none). */
  readonly head: readonly { readonly decision: Decision; readonly line: number }[];
  /** Counted over every decision as it was made. */
  readonly cacheOps: number;
  readonly hypercalls: number;
  /** The kernel's messages, the first 100. */
  readonly messages: readonly string[];
}

export interface ScenarioRunOptions {
  readonly path?: DmaPath;
  /** Group tallies of the books (driver source: per call site). */
  readonly groupOf?: RecorderOptions['groupOf'];
  /** false: the lane keeps no decisions (scenarioJson needs them; a streamed report does not). */
  readonly keepDecisions?: boolean;
  /** Called once the pool and the engine are set up, before the first call. */
  readonly onStart?: (setup: PoolSetup, lane: Lane) => void;
  /** Every decision as it is made, with its index and workload line. */
  readonly onDecision?: (d: Decision, index: number, line: number) => void;
  /**
   * Most calls the workload may expand to (DEFAULT_MAX_SCENARIO_CALLS): parseScenario refuses a
   * larger one at its position; this holds for workloads built otherwise (driver annotations).
   */
  readonly maxCalls?: number;
}

const KIND_OF: Record<Op['t'], EventKind> = {
  map: EventKind.Map,
  map_sg: EventKind.Map,
  map_resource: EventKind.MapResource,
  unmap: EventKind.Unmap,
  sync: EventKind.SyncForCpu,
  alloc: EventKind.Alloc,
  free: EventKind.Free,
  p2m: EventKind.Marker,
};

function outcomeOf(d: Decision, kind: EventKind): Outcome {
  if (kind === EventKind.Unmap || kind === EventKind.Free)
    return d.result === 'bounced' ? Outcome.Released : d.result === 'failed' ? Outcome.Failed : Outcome.Unmapped;
  if (kind === EventKind.SyncForCpu || kind === EventKind.SyncForDevice) return Outcome.Synced;
  switch (d.result) {
    case 'direct':
      return Outcome.Direct;
    case 'bounced':
      return Outcome.Bounced;
    case 'hang':
      return Outcome.Hang;
    case 'failed':
      return Outcome.Failed;
    default:
      return Outcome.None;
  }
}

/** Runs the scenario on its kernel path and builds the session the views read. */
export function runScenario(s: Scenario, opts: ScenarioRunOptions = {}): ScenarioRun {
  const max = opts.maxCalls ?? DEFAULT_MAX_SCENARIO_CALLS;
  const total = workloadCalls(s.workload);
  if (total > max)
    throw new ScenarioRunError(
      s.workload[0]?.line ?? 1,
      `the workload expands to ${total.toExponential(2)} DMA API calls, above the limit of ${max}: every call is kept for the report`,
    );
  const setup = setupPool(s);
  const lane = new Lane(makeEngine(s, setup, opts.path ?? 'kernel'), s, opts.keepDecisions ?? true);
  const dyn = !s.dynamic && s.kernel.dynamicPools && setup.pool ? scenarioDynamicConfig(s, setup) : undefined;
  const sizer =
    dyn && setup.pool && dyn.canGrow
      ? new DynamicSizer(s.kernel, { start: setup.pool.start, nslabs: setup.pool.nslabs, nareas: setup.pool.nareas, pageShift: 12 }, dyn)
      : undefined;
  if (sizer) lane.feedSizer(sizer);
  opts.onStart?.(setup, lane);
  const events = new EventTable();
  const recorder = new Recorder({ table: events, ...(opts.groupOf ? { groupOf: opts.groupOf } : {}) });
  const head: { decision: Decision; line: number }[] = [];
  const messages: string[] = [];
  let cacheOps = 0;
  let hypercalls = 0;
  let calls = 0;
  const mem = lane.engine.mem;
  for (const op of expandWorkload(s.workload)) {
    const made = lane.apply(op);
    calls++;
    const first = lane.count - made.length;
    for (let k = 0; k < made.length; k++) {
      const d = made[k] as Decision;
      const i = first + k;
      const line = op.line;
      if (head.length < LISTED_CALLS) head.push({ decision: d, line });
      for (const c of d.cache) {
        cacheOps++;
        if (c.via === 'hypercall') hypercalls += c.count;
      }
      for (const m of d.messages) if (messages.length < 100) messages.push(m);
      opts.onDecision?.(d, i, line);
      let kind = KIND_OF[op.t];
      if (op.t === 'sync' && !op.toCpu) kind = EventKind.SyncForDevice;
      if (d.call.startsWith('dma_unmap')) kind = EventKind.Unmap;
      const row = recorder.add({
        kind,
        outcome: outcomeOf(d, kind),
        cpu: d.cpu,
        device: d.device,
        api: d.call,
        size: d.size,
        dir: d.dir,
        attrs: d.attrs,
        reasons: d.reasons,
        ...(d.slot !== null ? { slot: d.slot, nslots: d.nslots } : {}),
        ...(d.area !== null ? { area: d.area } : {}),
        used: mem ? mem.used : -1,
        ...(d.phys >= 0 ? { phys: d.phys } : {}),
        ...(d.dma !== null ? { dma: d.dma } : {}),
        copied: d.copied,
        ...(d.mapIndex !== undefined ? { pair: d.mapIndex } : {}),
        file: s.file,
        line,
        ...(d.messages[0] ? { message: d.messages[0] } : {}),
      });
      if (d.mapIndex !== undefined && events.get('pair', d.mapIndex) < 0) recorder.pair(d.mapIndex, row);
    }
  }
  const session: AnalysisSession = {
    kind: 'scenario',
    files: [s.file],
    kernel: s.kernel.name,
    platform: s.platform.id,
    pool: setup.pool
      ? {
          start: setup.pool.start,
          nslabs: setup.pool.nslabs,
          nareas: setup.pool.nareas,
          areaNslabs: Math.floor(setup.pool.nslabs / setup.pool.nareas),
          source: s.pool.nslabs !== undefined ? 'scenario' : 'kernel command line',
        }
      : null,
    events,
    summary: summaryOf(recorder.books),
    devices: devicesOf(recorder.books, events.devices.values),
    diagnostics: [],
  };
  return {
    scenario: s,
    setup,
    lane,
    session,
    books: recorder.books,
    calls,
    ...(sizer && sizer.runFailures > 0 ? { dynamicSizing: sizer.result() } : {}),
    head,
    cacheOps,
    hypercalls,
    messages,
  };
}
