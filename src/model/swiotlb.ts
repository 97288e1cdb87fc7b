/**
 * The swiotlb API over one pool: swiotlb_tbl_map_single, swiotlb_tbl_unmap_single,
 * swiotlb_sync_single_for_{cpu,device}, swiotlb_alloc/swiotlb_free (restricted DMA pools),
 * with the bytes each one copies and the messages the kernel prints, per version profile
 * (docs/swiotlb-model.md §5, §6, §7.8b).
 */
import { DMA_ATTR, DmaDirection, getOrder, IO_TLB_SEGSIZE, IO_TLB_SIZE, nrSlots } from './constants';
import { allocPool, allocWorkerPool, type DynamicConfig } from './dynamic';
import { hexAddr } from './hex';
import {
  ALLOC_ALIGN_WARNING,
  accessBeforeStartMessage,
  bufferFullMessage,
  invalidSizesMessage,
  overflowMessage,
  overflowWithOffsetMessage,
  SWIOTLB_PR_PREFIX,
  unalignedAllocMessage,
} from './messages';
import { type DeviceSlotParams, INVALID_PHYS_ADDR, IoTlbPool, SEARCH_FULL, SEARCH_LIVELOCK } from './pool';
import type { KernelProfile } from './profiles';

/**
 * Why a bounce-buffer request failed.
 * - too-big: more than 128 slots (one segment) are needed: no pool size can satisfy it.
 * - full: no fitting run (exhausted, fragmented, or alignment/boundary rules leave none).
 * - livelock: 5.10/6.1 search A never returns (the kernel spins with the area lock held).
 * - invalid: mapping size above alloc size (6.1 "Invalid sizes").
 * - unaligned: 6.9+ swiotlb_alloc found a slot that is not page aligned.
 */
export type MapFailure = 'too-big' | 'full' | 'livelock' | 'invalid' | 'unaligned';

export interface MapRequest {
  /** CPU making the call: picks the first area searched. */
  readonly cpu: number;
  /** Physical address of the original buffer. */
  readonly origAddr: number;
  readonly mappingSize: number;
  /** Separate allocation size (iommu-dma passes the IOVA-granule-rounded size); ignored by 6.10+. */
  readonly allocSize?: number;
  /** alloc_align_mask (iommu-dma: the IOVA granule mask); 0 for dma-direct and xen-swiotlb. */
  readonly allocAlignMask?: number;
  readonly dir: DmaDirection;
  readonly attrs?: number;
  readonly dev: DeviceSlotParams;
  /**
   * min_not_zero(*dma_mask, bus_dma_limit): with dynamic pools, a transient pool is allocated
   * below it (default: no limit).
   */
  readonly physLimit?: number;
}

/** A request a caller refills for every map (a replay, a trace): the model reads it and keeps nothing. */
export type ScratchMapRequest = { -readonly [K in Exclude<keyof MapRequest, 'dev'>]: MapRequest[K] } & {
  dev: { -readonly [K in keyof DeviceSlotParams]: DeviceSlotParams[K] };
};

/** A fresh ScratchMapRequest, every field present so each refill keeps its shape. */
export function scratchMapRequest(): ScratchMapRequest {
  return {
    cpu: 0,
    origAddr: 0,
    mappingSize: 0,
    allocSize: 0,
    allocAlignMask: 0,
    dir: DmaDirection.BIDIRECTIONAL,
    attrs: 0,
    dev: { minAlignMask: 0, segBoundaryBits: 64 },
    physLimit: undefined,
  };
}

/** Which pool a bounce buffer is in: the boot pool, one the worker added, or a transient one. */
export type PoolKind = 'default' | 'added' | 'transient';

export interface MapResult {
  readonly ok: boolean;
  readonly reason?: MapFailure;
  /** First slot of the run, padding slots included (the replay format's `index`). */
  readonly index: number;
  /** First data slot (index + padding). */
  readonly slot: number;
  readonly nslots: number;
  readonly padSlots: number;
  /** tlbAddr - (pool start + index * 2048): can exceed 2047 with padding. */
  readonly offset: number;
  readonly tlbAddr: number;
  /** Bytes the search asked for: size + offset (6.10+: rounded to alloc_align_mask + 1). */
  readonly reqBytes: number;
  /** Bytes copied original -> bounce buffer at map time. */
  readonly copiedBytes: number;
  /** The kernel's message for a failure (without the "driver device: " prefix). */
  readonly message?: string;
  /** A WARN the kernel prints even though the call went on. */
  readonly warning?: string;
  /** Dynamic swiotlb: the buffer is not in the boot pool (`index` is relative to this pool). */
  readonly poolKind?: 'added' | 'transient';
  /** Start of that pool. */
  readonly poolStart?: number;
}

/** A pool the dynamic worker added (swiotlb_dyn_alloc), or the one it failed to add. */
export interface AddedPool {
  /** Undefined when the allocation failed ("Failed to allocate new pool"). */
  readonly start?: number;
  readonly nslabs: number;
  readonly nareas: number;
  /** The map call (1-based count) before which it became visible. */
  readonly atMap: number;
}

export interface UnmapResult {
  readonly ok: boolean;
  readonly freedSlots: number;
  /** Bytes copied bounce buffer -> original at unmap time. */
  readonly copiedBytes: number;
  readonly warning?: string;
  readonly error?: string;
}

export interface BounceResult {
  /** Bytes copied. */
  readonly bytes: number;
  /** Where in the original buffer the copy starts (INVALID_PHYS_ADDR when nothing is copied). */
  readonly origAddr: number;
  readonly warning?: string;
}

interface Prepared {
  /** In-slot offset kept in tlb_addr (< 2048). */
  smallOffset: number;
  /** Offset including padding slots (6.9+), swiotlb_align_offset(dev, alloc_align_mask, orig). */
  fullOffset: number;
  reqBytes: number;
  nslots: number;
  pad: number;
  allocAlignMask: number;
  allocSize: number;
}

/**
 * Every MapResult the model returns: one class, so each has the same shape (the fields a result
 * lacks are undefined). A caller making millions of maps (a replay) passes one in as `out` and
 * gets it back filled, instead of a new object per call.
 */
export class MapOutcome implements MapResult {
  ok = false;
  reason: MapFailure | undefined = undefined;
  index = -1;
  slot = -1;
  nslots = 0;
  padSlots = 0;
  offset = 0;
  tlbAddr = -1;
  reqBytes = 0;
  copiedBytes = 0;
  message: string | undefined = undefined;
  warning: string | undefined = undefined;
  poolKind: 'added' | 'transient' | undefined = undefined;
  poolStart: number | undefined = undefined;
}

/** A success in `out` (a new MapOutcome without one). */
function succeeded(
  out: MapOutcome | undefined,
  index: number,
  slot: number,
  nslots: number,
  padSlots: number,
  offset: number,
  tlbAddr: number,
  reqBytes: number,
  copiedBytes: number,
  warning: string | undefined,
  pool: IoTlbPool | undefined,
): MapOutcome {
  const o = out ?? new MapOutcome();
  o.ok = true;
  o.reason = undefined;
  o.index = index;
  o.slot = slot;
  o.nslots = nslots;
  o.padSlots = padSlots;
  o.offset = offset;
  o.tlbAddr = tlbAddr;
  o.reqBytes = reqBytes;
  o.copiedBytes = copiedBytes;
  o.message = undefined;
  o.warning = warning;
  // a pool other than the boot pool is named (dynamic swiotlb)
  o.poolKind = pool ? (pool.transient ? 'transient' : 'added') : undefined;
  o.poolStart = pool ? pool.start : undefined;
  return o;
}

function failed(reason: MapFailure, reqBytes: number, nslots: number, message: string, out?: MapOutcome): MapOutcome {
  const o = out ?? new MapOutcome();
  o.ok = false;
  o.reason = reason;
  o.index = -1;
  o.slot = -1;
  o.nslots = nslots;
  o.padSlots = 0;
  o.offset = 0;
  o.tlbAddr = -1;
  o.reqBytes = reqBytes;
  o.copiedBytes = 0;
  o.message = message;
  o.warning = undefined;
  o.poolKind = undefined;
  o.poolStart = undefined;
  return o;
}

/** swiotlb_max_mapping_size(): the largest mapping a device with this min_align_mask can get. */
export function swiotlbMaxMappingSize(minAlignMask: number): number {
  const minAlign = minAlignMask ? Math.ceil((minAlignMask >>> 0) / IO_TLB_SIZE) * IO_TLB_SIZE : 0;
  return IO_TLB_SIZE * IO_TLB_SEGSIZE - minAlign;
}

/** 2^64: no limit (min_not_zero of a 64-bit mask). */
const NO_PHYS_LIMIT = 2 ** 64;

/**
 * struct io_tlb_mem: the boot pool and, with CONFIG_SWIOTLB_DYNAMIC, the pools added since and
 * the transient pools of live mappings. Without `dynamic` it is exactly the single-pool
 * allocator of every kernel (no code path below differs then).
 */
export class IoTlbMem {
  readonly profile: KernelProfile;
  /** The boot pool (io_tlb_mem.defpool). */
  readonly pool: IoTlbPool;
  readonly dynamic: DynamicConfig | null;
  /** mem->pools in list order: the most recently added first, the boot pool last. */
  readonly pools: IoTlbPool[];
  /** Pools the worker added (or failed to add), in order. */
  readonly added: AddedPool[] = [];
  /** What the kernel printed about growing ("Failed to allocate new pool"). */
  readonly log: string[] = [];
  private readonly transients: IoTlbPool[] = [];
  private readonly blockBytes = new Map<IoTlbPool, number>();
  private memUsed = 0;
  private memHiwater = 0;
  private memNslabs: number;
  private transientSlots = 0;
  /** Highest transient_nslabs seen. */
  peakTransientSlots = 0;
  /** Map calls so far (the clock of the worker). */
  private mapCalls = 0;
  /** The map call from which the scheduled worker's pool is visible; -1: no work pending. */
  private workerDue = -1;
  /** prepare()'s answer. */
  private readonly prepared: Prepared = { smallOffset: 0, fullOffset: 0, reqBytes: 0, nslots: 0, pad: 0, allocAlignMask: 0, allocSize: 0 };
  /** The pool searchPools() found a slot in. */
  private hitPool: IoTlbPool;
  /** The unmap's copy back (one object for every unmap). */
  private readonly unmapBounce = new BounceOutcome();

  constructor(pool: IoTlbPool, dynamic?: DynamicConfig) {
    this.pool = pool;
    this.profile = pool.profile;
    this.pools = [pool];
    this.hitPool = pool;
    this.memNslabs = pool.nslabs;
    if (dynamic && !pool.profile.dynamicPools)
      throw new RangeError(`${pool.profile.title} has no dynamic swiotlb (CONFIG_SWIOTLB_DYNAMIC is 6.6+)`);
    if (dynamic && !(Number.isInteger(dynamic.growDelay) && dynamic.growDelay >= 1))
      throw new RangeError(`the worker's delay is a number of map calls, at least 1; got ${dynamic.growDelay}`);
    this.dynamic = dynamic ?? null;
  }

  /** io_tlb_used: slots in use in every pool, transient ones included. */
  get used(): number {
    return this.dynamic ? this.memUsed : this.pool.totalUsed;
  }

  /** io_tlb_used_hiwater. */
  get hiwater(): number {
    return this.dynamic ? this.memHiwater : this.pool.usedHiwater;
  }

  /** io_tlb_nslabs / mem->nslabs: slots of the boot pool and the added pools (not transient ones). */
  get nslabs(): number {
    return this.dynamic ? this.memNslabs : this.pool.nslabs;
  }

  /** io_tlb_transient_nslabs: slots of the transient pools alive now. */
  get transientNslabs(): number {
    return this.transientSlots;
  }

  /** Transient pools alive now. */
  get transientPools(): number {
    return this.transients.length;
  }

  /** Every pool alive now: mem->pools in list order, then the transient ones. */
  get livePools(): readonly IoTlbPool[] {
    return this.dynamic ? [...this.pools, ...this.transients] : this.pools;
  }

  /** swiotlb_find_pool(): the pool holding `addr` (mem->pools, then the transient ones). */
  findPool(addr: number): IoTlbPool | undefined {
    if (!this.dynamic) return this.pool.isInPool(addr) ? this.pool : undefined;
    for (const p of this.pools) if (p.isInPool(addr)) return p;
    for (const p of this.transients) if (p.isInPool(addr)) return p;
    return undefined;
  }

  /** is_swiotlb_buffer(). */
  isSwiotlbBuffer(addr: number): boolean {
    return this.findPool(addr) !== undefined;
  }

  kindOf(pool: IoTlbPool): PoolKind {
    return pool === this.pool ? 'default' : pool.transient ? 'transient' : 'added';
  }

  /**
   * Whether some area of any pool (the boot pool alone without dynamic pools) still has `nslots`
   * free slots: tells a full pool from a fragmented one (reasons.ts failureReason).
   */
  anyAreaHas(nslots: number): boolean {
    if (!this.dynamic) return this.pool.anyAreaHas(nslots);
    for (const p of this.pools) if (p.anyAreaHas(nslots)) return true;
    return false;
  }

  /**
   * Runs the worker now if it is pending (a caller that knows the time, e.g. a trace, can let
   * it run when the kernel's would have).
   */
  runPendingWorker(): void {
    const dyn = this.dynamic;
    if (!dyn || this.workerDue < 0) return;
    this.workerDue = -1;
    const got = allocWorkerPool(dyn, this.pool.pageShift);
    if (!got) {
      this.added.push({ nslabs: dyn.defaultNslabs, nareas: dyn.defaultNareas, atMap: this.mapCalls });
      this.log.push(`${SWIOTLB_PR_PREFIX}Failed to allocate new pool`);
      return;
    }
    const pool = new IoTlbPool(this.profile, { start: got.start, nslabs: got.nslabs, nareas: got.nareas, pageShift: this.pool.pageShift });
    this.blockBytes.set(pool, got.blockBytes);
    // add_mem_pool(): list_add_rcu puts it at the head; mem->nslabs grows
    this.pools.unshift(pool);
    this.memNslabs += got.nslabs;
    this.added.push({ start: got.start, nslabs: got.nslabs, nareas: got.nareas, atMap: this.mapCalls });
  }

  /**
   * Offsets and request size of swiotlb_tbl_map_single for this profile. The answer is one
   * object reused by every call (each map uses it before the next is prepared): no allocation per map.
   */
  private prepare(req: MapRequest): Prepared {
    const prof = this.profile;
    const M = req.dev.minAlignMask >>> 0;
    const aam = prof.hasAllocAlignMask ? (req.allocAlignMask ?? 0) >>> 0 : 0;
    const smallOffset = req.origAddr & M & (IO_TLB_SIZE - 1);
    const fullOffset = prof.padSlots ? (req.origAddr & M & (aam | (IO_TLB_SIZE - 1))) >>> 0 : smallOffset;
    const allocSize = prof.separateAllocSize ? (req.allocSize ?? req.mappingSize) : req.mappingSize;
    let reqBytes: number;
    if (prof.alignRequestSize) {
      const align = aam + 1;
      reqBytes = Math.ceil((req.mappingSize + fullOffset) / align) * align;
    } else {
      reqBytes = allocSize + fullOffset;
    }
    const nslots = nrSlots(reqBytes);
    const pad = prof.padSlots ? Math.floor(fullOffset / IO_TLB_SIZE) : 0;
    const p = this.prepared;
    p.smallOffset = smallOffset;
    p.fullOffset = fullOffset;
    p.reqBytes = reqBytes;
    p.nslots = nslots;
    p.pad = pad;
    p.allocAlignMask = aam;
    p.allocSize = allocSize;
    return p;
  }

  private precheck(req: MapRequest, p: Prepared, out: MapOutcome | undefined): MapOutcome | undefined {
    if (this.profile.separateAllocSize && req.mappingSize > p.allocSize) {
      return failed('invalid', p.reqBytes, p.nslots, invalidSizesMessage(req.mappingSize, p.allocSize), out);
    }
    return undefined;
  }

  private failure(found: number, p: Prepared, out: MapOutcome | undefined): MapOutcome {
    const reason: MapFailure = found === SEARCH_LIVELOCK ? 'livelock' : p.nslots > IO_TLB_SEGSIZE ? 'too-big' : 'full';
    const sz = this.profile.fullMessageIncludesOffset ? p.reqBytes : p.allocSize;
    const message = reason === 'livelock' ? livelockText(this.pool) : bufferFullMessage(sz, this.nslabs, this.used);
    return failed(reason, p.reqBytes, p.nslots, message, out);
  }

  /** The bookkeeping after a successful search: orig_addr per slot, pad_slots, tlb_addr, copy. */
  private finishMap(req: MapRequest, p: Prepared, index: number, pool: IoTlbPool, out: MapOutcome | undefined): MapOutcome {
    const slot = index + p.pad;
    if (p.pad) pool.padSlots[slot] = p.pad;
    // 6.10+: nr_slots(size) - pad slots; earlier: nr_slots(alloc_size + small offset).
    const origSlots = this.profile.alignRequestSize ? p.nslots - p.pad : nrSlots(p.allocSize + p.smallOffset);
    const origAddr = pool.origAddr;
    const orig = req.origAddr;
    for (let k = 0; k < origSlots; k++) origAddr[slot + k] = orig + k * IO_TLB_SIZE;
    const tlbAddr = pool.slotAddr(slot) + p.smallOffset;
    // swiotlb_bounce() of the whole mapping: the slot's recorded size always covers it here.
    const copiedBytes = copiesOnMap(this.profile, req.dir, req.attrs ?? 0) ? req.mappingSize : 0;
    const warning = this.profile.padSlots && p.allocAlignMask > pool.pageSize - 1 ? ALLOC_ALIGN_WARNING : undefined;
    const offset = tlbAddr - pool.slotAddr(index);
    return succeeded(
      out,
      index,
      slot,
      p.nslots,
      p.pad,
      offset,
      tlbAddr,
      p.reqBytes,
      copiedBytes,
      warning,
      pool === this.pool ? undefined : pool,
    );
  }

  /** swiotlb_tbl_map_single(). `out`: the result to fill (default: a new one). */
  tblMapSingle(req: MapRequest, out?: MapOutcome): MapResult {
    const p = this.prepare(req);
    const bad = this.precheck(req, p, out);
    if (bad) return bad;
    if (this.dynamic) return this.dynamicMap(req, p, out);
    const index = this.pool.findSlots(req.cpu, req.origAddr, p.reqBytes, p.allocAlignMask, req.dev, p.smallOffset);
    if (index < 0) return this.failure(index, p, out);
    return this.finishMap(req, p, index, this.pool, out);
  }

  /**
   * The dynamic swiotlb_find_slots(): search every pool (6.7+: area by area across the pools;
   * 6.6: pool by pool), and when nothing fits and the pool can grow, schedule the worker and
   * give the mapping a transient pool of its own, sized to the request.
   */
  private dynamicMap(req: MapRequest, p: Prepared, out: MapOutcome | undefined): MapOutcome {
    const dyn = this.dynamic as DynamicConfig;
    this.mapCalls++;
    if (this.workerDue >= 0 && this.mapCalls >= this.workerDue) this.runPendingWorker();
    if (this.profile.dynamicTooBigEarly && p.reqBytes > IO_TLB_SEGSIZE * IO_TLB_SIZE) return this.failure(SEARCH_FULL, p, out);
    const found = this.searchPools(req, p, true);
    if (found >= 0) {
      this.account(p.nslots);
      return this.finishMap(req, p, found, this.hitPool, out);
    }
    if (!dyn.canGrow) return this.failure(SEARCH_FULL, p, out);
    // schedule_work(): a no-op while the work is pending
    if (this.workerDue < 0) this.workerDue = this.mapCalls + dyn.growDelay;
    const nslabs = nrSlots(p.reqBytes);
    const got = allocPool(dyn, nslabs, nslabs, 1, req.physLimit ?? NO_PHYS_LIMIT, true, this.pool.pageShift);
    if (!got) return this.failure(SEARCH_FULL, p, out);
    const pool = new IoTlbPool(this.profile, { start: got.start, nslabs: got.nslabs, nareas: 1, pageShift: this.pool.pageShift });
    pool.transient = true;
    const index = pool.findSlotsInArea(0, req.origAddr, p.reqBytes, p.allocAlignMask, req.dev, p.smallOffset);
    if (index < 0) {
      // swiotlb_dyn_free(): the alignment rules left no room in a pool of exactly that size
      dyn.allocator.free(got.start, got.blockBytes);
      return this.failure(SEARCH_FULL, p, out);
    }
    this.transients.push(pool);
    this.blockBytes.set(pool, got.blockBytes);
    this.transientSlots += got.nslabs;
    if (this.transientSlots > this.peakTransientSlots) this.peakTransientSlots = this.transientSlots;
    this.account(p.nslots);
    return this.finishMap(req, p, index, pool, out);
  }

  /** inc_used_and_hiwater() on io_tlb_mem. */
  private account(nslots: number): void {
    this.memUsed += nslots;
    if (this.memUsed > this.memHiwater) this.memHiwater = this.memUsed;
  }

  /**
   * The pools' search in the kernel's order; commits the slot found when `commit`. Returns the
   * slot (its pool in hitPool) or SEARCH_FULL.
   */
  private searchPools(req: MapRequest, p: Prepared, commit: boolean): number {
    const dyn = this.dynamic as DynamicConfig;
    const { cpu, origAddr, dev } = req;
    if (this.profile.dynamicAreaMajor) {
      // swiotlb_search_area() for cpu_offset 0 .. default_nareas-1, each over every pool
      for (let i = 0; i < dyn.defaultNareas; i++) {
        for (const pool of this.pools) {
          if (i >= pool.nareas) continue;
          const area = (cpu + i) & (pool.nareas - 1);
          const index = commit
            ? pool.findSlotsInArea(area, origAddr, p.reqBytes, p.allocAlignMask, dev, p.smallOffset)
            : pool.predictSlotsInArea(area, origAddr, p.reqBytes, p.allocAlignMask, dev);
          if (index >= 0) {
            this.hitPool = pool;
            return index;
          }
        }
      }
      return SEARCH_FULL;
    }
    for (const pool of this.pools) {
      const index = commit
        ? pool.findSlots(cpu, origAddr, p.reqBytes, p.allocAlignMask, dev, p.smallOffset)
        : pool.predictSlots(cpu, origAddr, p.reqBytes, p.allocAlignMask, dev);
      if (index >= 0) {
        this.hitPool = pool;
        return index;
      }
    }
    return SEARCH_FULL;
  }

  /**
   * What swiotlb_tbl_map_single() would answer now; changes nothing. With dynamic pools only the
   * existing pools are searched (a transient pool would need an allocation).
   */
  predictMapSingle(req: MapRequest, out?: MapOutcome): MapResult {
    const p = this.prepare(req);
    const bad = this.precheck(req, p, out);
    if (bad) return bad;
    let pool = this.pool;
    let index: number;
    if (this.dynamic) {
      index = this.searchPools(req, p, false);
      if (index >= 0) pool = this.hitPool;
    } else {
      index = this.pool.predictSlots(req.cpu, req.origAddr, p.reqBytes, p.allocAlignMask, req.dev);
    }
    if (index < 0) return this.failure(index, p, out);
    const tlbAddr = pool.slotAddr(index + p.pad) + p.smallOffset;
    const slot = index + p.pad;
    const offset = tlbAddr - pool.slotAddr(index);
    return succeeded(out, index, slot, p.nslots, p.pad, offset, tlbAddr, p.reqBytes, 0, undefined, pool === this.pool ? undefined : pool);
  }

  /**
   * The first slot of the run (padding slots included, the replay format's `index`) that a
   * successful map of `req` returning `tlbAddr` occupies in this profile: what a trace's bounce
   * address means as an `observed_index`. -1 when `tlbAddr` is not in the pool.
   */
  runStartOf(req: MapRequest, tlbAddr: number): number {
    if (!this.pool.isInPool(tlbAddr)) return -1;
    const p = this.prepare(req);
    return Math.floor((tlbAddr - this.pool.start) / IO_TLB_SIZE) - p.pad;
  }

  /** Slots a successful map of `req` takes in this profile, padding slots included. */
  requestSlots(req: MapRequest): number {
    return this.prepare(req).nslots;
  }

  /**
   * Maps at the run the kernel was seen to use (a trace's real bounce address): `index` is the
   * first slot of the run, padding included, in `pool` (the boot pool or one the worker added).
   * Returns undefined if that run is not free here.
   */
  tblMapSingleAt(req: MapRequest, index: number, pool: IoTlbPool = this.pool, out?: MapOutcome): MapResult | undefined {
    const p = this.prepare(req);
    if (this.precheck(req, p, out)) return undefined;
    if (pool !== this.pool && !this.pools.includes(pool)) return undefined;
    if (!pool.commitObserved(index, p.reqBytes, p.smallOffset)) return undefined;
    if (this.dynamic) {
      this.mapCalls++;
      this.account(p.nslots);
    }
    return this.finishMap(req, p, index, pool, out);
  }

  /**
   * swiotlb_bounce(): copy between the original buffer and the bounce slot holding `tlbAddr`,
   * with the version's offset and size checks. `out`: the result to fill (default: a new one).
   */
  bounce(tlbAddr: number, size: number, dev: DeviceSlotParams, out: BounceOutcome = new BounceOutcome()): BounceResult {
    const o = out;
    o.warning = undefined;
    o.bytes = 0;
    o.origAddr = INVALID_PHYS_ADDR;
    const pool = this.findPool(tlbAddr) ?? this.pool;
    const index = Math.floor((tlbAddr - pool.start) / IO_TLB_SIZE);
    if (index < 0 || index >= pool.nslabs) return o;
    const orig = pool.origAddr[index] as number;
    if (orig === INVALID_PHYS_ADDR) return o;
    if (this.profile.family === 'P510') {
      o.bytes = size;
      o.origAddr = orig + (tlbAddr % IO_TLB_SIZE);
      return o;
    }
    let allocSize = pool.allocSize[index] as number;
    const tlbOffset = tlbAddr % IO_TLB_SIZE;
    const origOffset = orig & dev.minAlignMask & (IO_TLB_SIZE - 1);
    const d = tlbOffset - origOffset;
    if (this.profile.strictSyncOffsets) {
      if (d < 0) {
        o.warning = accessBeforeStartMessage(origOffset, tlbOffset);
        return o;
      }
      if (d > allocSize) {
        o.warning = overflowWithOffsetMessage(allocSize, size, d);
        return o;
      }
    }
    allocSize -= d;
    o.origAddr = orig + d;
    if (size > allocSize) {
      o.bytes = Math.max(allocSize, 0);
      o.warning = overflowMessage(allocSize, size);
      return o;
    }
    o.bytes = size;
    return o;
  }

  /**
   * swiotlb_tbl_unmap_single(): copy back for FROM_DEVICE/BIDIRECTIONAL unless
   * DMA_ATTR_SKIP_CPU_SYNC, then release the slots. `out`: the result to fill (default: a new one).
   */
  tblUnmapSingle(
    tlbAddr: number,
    mappingSize: number,
    dir: DmaDirection,
    attrs: number,
    dev: DeviceSlotParams,
    out: UnmapOutcome = new UnmapOutcome(),
  ): UnmapResult {
    let copiedBytes = 0;
    let warning: string | undefined;
    const pool = this.findPool(tlbAddr);
    if (!pool) return unmapped(out, false, 0, 0, undefined, `unmap of ${hexAddr(tlbAddr)}, which is not in the pool`);
    if (!(attrs & DMA_ATTR.SKIP_CPU_SYNC) && (dir === DmaDirection.FROM_DEVICE || dir === DmaDirection.BIDIRECTIONAL)) {
      const b = this.bounce(tlbAddr, mappingSize, dev, this.unmapBounce);
      copiedBytes = b.bytes;
      warning = b.warning;
    }
    if (pool.transient) return unmapped(out, true, this.deleteTransient(pool), copiedBytes, warning, undefined);
    const freedSlots = pool.releaseSlots(tlbAddr, dev.minAlignMask, mappingSize);
    if (this.dynamic && freedSlots > 0) this.memUsed -= freedSlots;
    if (freedSlots < 0) {
      return unmapped(out, false, 0, 0, undefined, `unmap of ${hexAddr(tlbAddr)}, which does not start a live bounce buffer`);
    }
    return unmapped(out, true, freedSlots, copiedBytes, warning, undefined);
  }

  /** swiotlb_del_transient(): the whole pool goes (dec_used and transient_nslabs by its nslabs). */
  private deleteTransient(pool: IoTlbPool): number {
    const i = this.transients.indexOf(pool);
    this.transients.splice(i, 1);
    this.memUsed -= pool.nslabs;
    this.transientSlots -= pool.nslabs;
    (this.dynamic as DynamicConfig).allocator.free(pool.start, this.blockBytes.get(pool) as number);
    this.blockBytes.delete(pool);
    return pool.nslabs;
  }

  /** swiotlb_sync_single_for_device(): original -> bounce for TO_DEVICE/BIDIRECTIONAL. */
  syncSingleForDevice(tlbAddr: number, size: number, dir: DmaDirection, dev: DeviceSlotParams, out?: BounceOutcome): BounceResult {
    if (dir === DmaDirection.NONE) throw new RangeError('DMA_NONE sync: the kernel BUG()s');
    if (dir === DmaDirection.TO_DEVICE || dir === DmaDirection.BIDIRECTIONAL) return this.bounce(tlbAddr, size, dev, out);
    return noBounce(out);
  }

  /** swiotlb_sync_single_for_cpu(): bounce -> original for FROM_DEVICE/BIDIRECTIONAL. */
  syncSingleForCpu(tlbAddr: number, size: number, dir: DmaDirection, dev: DeviceSlotParams, out?: BounceOutcome): BounceResult {
    if (dir === DmaDirection.NONE) throw new RangeError('DMA_NONE sync: the kernel BUG()s');
    if (dir === DmaDirection.FROM_DEVICE || dir === DmaDirection.BIDIRECTIONAL) return this.bounce(tlbAddr, size, dev, out);
    return noBounce(out);
  }

  /** prepare() for swiotlb_alloc: no original buffer, no offset (fills the same object). */
  private allocPrepared(size: number): Prepared {
    const aam = this.profile.restrictedAllocAligned ? 2 ** (this.pool.pageShift + getOrder(size, this.pool.pageShift)) - 1 : 0;
    const p = this.prepared;
    p.smallOffset = 0;
    p.fullOffset = 0;
    p.reqBytes = size;
    p.nslots = nrSlots(size);
    p.pad = 0;
    p.allocAlignMask = aam;
    p.allocSize = size;
    return p;
  }

  /**
   * swiotlb_alloc(): pages for dma_alloc_coherent() from a restricted DMA pool. There is no
   * original buffer (orig_addr 0), so the min-align comparison is skipped.
   */
  alloc(cpu: number, size: number, dev: DeviceSlotParams, out?: MapOutcome): MapResult {
    if (!this.profile.restrictedAlloc) throw new RangeError(`${this.profile.title} has no restricted DMA pools (swiotlb_alloc)`);
    const p = this.allocPrepared(size);
    const pool = this.pool;
    const index = pool.findSlots(cpu, 0, size, p.allocAlignMask, dev, 0);
    if (index < 0) return this.failure(index, p, out);
    return this.finishAlloc(index, p, dev, out);
  }

  predictAlloc(cpu: number, size: number, dev: DeviceSlotParams, out?: MapOutcome): MapResult {
    if (!this.profile.restrictedAlloc) throw new RangeError(`${this.profile.title} has no restricted DMA pools (swiotlb_alloc)`);
    const p = this.allocPrepared(size);
    const index = this.pool.predictSlots(cpu, 0, size, p.allocAlignMask, dev);
    if (index < 0) return this.failure(index, p, out);
    const tlbAddr = this.pool.slotAddr(index);
    if (this.profile.restrictedAllocPageCheck && tlbAddr % this.pool.pageSize !== 0) {
      return failed('unaligned', size, p.nslots, unalignedAllocMessage(tlbAddr), out);
    }
    return succeeded(out, index, index, p.nslots, 0, 0, tlbAddr, size, 0, undefined, undefined);
  }

  allocAt(cpu: number, size: number, dev: DeviceSlotParams, index: number, out?: MapOutcome): MapResult | undefined {
    void cpu;
    const p = this.allocPrepared(size);
    if (!this.pool.commitObserved(index, size, 0)) return undefined;
    return this.finishAlloc(index, p, dev, out);
  }

  private finishAlloc(index: number, p: Prepared, dev: DeviceSlotParams, out: MapOutcome | undefined): MapOutcome {
    const pool = this.pool;
    const tlbAddr = pool.slotAddr(index);
    if (this.profile.restrictedAllocPageCheck && tlbAddr % pool.pageSize !== 0) {
      // 6.9+: dev_WARN_ONCE and give the slots back (the area index stays advanced).
      pool.releaseSlots(tlbAddr, dev.minAlignMask, p.reqBytes);
      return failed('unaligned', p.reqBytes, p.nslots, unalignedAllocMessage(tlbAddr), out);
    }
    return succeeded(out, index, index, p.nslots, 0, 0, tlbAddr, p.reqBytes, 0, undefined, undefined);
  }

  /** swiotlb_free(): releases a restricted-pool allocation. */
  free(tlbAddr: number, size: number, dev: DeviceSlotParams, out: UnmapOutcome = new UnmapOutcome()): UnmapResult {
    const freedSlots = this.pool.releaseSlots(tlbAddr, dev.minAlignMask, size);
    if (freedSlots < 0) return unmapped(out, false, 0, 0, undefined, `free of ${hexAddr(tlbAddr)}, which does not start a live allocation`);
    return unmapped(out, true, freedSlots, 0, undefined, undefined);
  }
}

/** Every UnmapResult the model returns (one shape); a caller may pass one in to be filled. */
export class UnmapOutcome implements UnmapResult {
  ok = false;
  freedSlots = 0;
  copiedBytes = 0;
  warning: string | undefined = undefined;
  error: string | undefined = undefined;
}

function unmapped(
  o: UnmapOutcome,
  ok: boolean,
  freedSlots: number,
  copiedBytes: number,
  warning: string | undefined,
  error: string | undefined,
): UnmapOutcome {
  o.ok = ok;
  o.freedSlots = freedSlots;
  o.copiedBytes = copiedBytes;
  o.warning = warning;
  o.error = error;
  return o;
}

/** Every BounceResult the model returns (one shape); a caller may pass one in to be filled. */
export class BounceOutcome implements BounceResult {
  bytes = 0;
  origAddr = INVALID_PHYS_ADDR;
  warning: string | undefined = undefined;
}

/** A sync in the direction that copies nothing. */
function noBounce(out: BounceOutcome | undefined): BounceOutcome {
  const o = out ?? new BounceOutcome();
  o.bytes = 0;
  o.origAddr = INVALID_PHYS_ADDR;
  o.warning = undefined;
  return o;
}

/** Whether swiotlb_tbl_map_single copies the original into the bounce buffer. */
export function copiesOnMap(profile: KernelProfile, dir: DmaDirection, attrs: number): boolean {
  const skip = (attrs & DMA_ATTR.SKIP_CPU_SYNC) !== 0;
  switch (profile.copyOnMap) {
    case 'always':
      return true;
    case 'unless-skip-sync':
      return !skip;
    default:
      return !skip && (dir === DmaDirection.TO_DEVICE || dir === DmaDirection.BIDIRECTIONAL);
  }
}

function livelockText(pool: IoTlbPool): string {
  const l = pool.lastLivelock;
  if (!l) return 'the slot search never returns';
  const base = l.area * pool.areaNslabs;
  return (
    `the kernel never returns from this call: the slot search in area ${l.area} starts at slot ${base + l.first} ` +
    `(stride ${l.stride}) and, after a one-slot step for the min_align_mask bits ${hexAddr(l.alignMask)}, cycles ` +
    'without coming back to it, spinning with the area lock held (soft lockup / RCU stall reports follow)'
  );
}
