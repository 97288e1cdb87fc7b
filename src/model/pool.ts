/**
 * One swiotlb memory pool (6.1: struct io_tlb_mem; 6.6+: struct io_tlb_pool): its slots, its
 * areas, the slot search of every kernel profile, commit and release. This is the part of
 * kernel/dma/swiotlb.c that decides which slot a bounce buffer gets; it is checked slot by slot
 * against the kernel's own functions (test/fixtures/golden) and a real 6.1.192 kernel.
 *
 * Addresses are JS integers (exact below 2^53). Masks the kernel keeps in 32 bits
 * (min_align_mask, alloc_align_mask) are combined with `&`, whose ToInt32 conversion takes
 * exactly the low 32 bits of such an integer.
 */
import { IO_TLB_SEGSIZE, IO_TLB_SHIFT, IO_TLB_SIZE, nrSlots } from './constants';
import type { KernelProfile } from './profiles';

export const INVALID_PHYS_ADDR = -1;
/** Search results below zero. */
export const SEARCH_FULL = -1;
/** Search A (5.10, 6.1) never returns: the walk entered a cycle that misses its start. */
export const SEARCH_LIVELOCK = -2;

/** What the allocator reads from the device: dma_get_min_align_mask(), dma_get_seg_boundary(). */
export interface DeviceSlotParams {
  /** 32-bit min_align_mask (NVMe: 0xfff). */
  readonly minAlignMask: number;
  /** The segment boundary mask is 2^segBoundaryBits - 1; 64 means no boundary (ULONG_MAX). */
  readonly segBoundaryBits: number;
}

export const NO_DEVICE_LIMITS: DeviceSlotParams = Object.freeze({ minAlignMask: 0, segBoundaryBits: 64 });

export interface PoolGeometry {
  /** Physical address of slot 0 (page aligned). */
  readonly start: number;
  readonly nslabs: number;
  readonly nareas: number;
  /** log2 of the CPU page size (12 on x86). */
  readonly pageShift: number;
  /** phys_to_dma_unencrypted(start): the pool start as the device sees it (default: start). */
  readonly dmaStart?: number;
}

/** How a search A walk got stuck, for the explanation of a livelock. */
export interface LivelockInfo {
  area: number;
  /** Area-relative index the walk started from and never returns to. */
  first: number;
  stride: number;
  /** Alignment mask the slot address had to match. */
  alignMask: number;
}

/** Slots after which an alignment test on mask bits >= 0x800 repeats (1 when nothing is tested). */
function alignPeriod(mask: number): number {
  return mask >>> IO_TLB_SHIFT === 0 ? 1 : 2 ** (32 - Math.clz32(mask >>> 0) - IO_TLB_SHIFT);
}

/**
 * ceil(d / stride) for d >= 0. Strides are powers of two whenever the masks are 2^k - 1 (every
 * real device): a shift then, not a floating-point division in the search loops.
 */
function stepsOver(d: number, stride: number): number {
  return (stride & (stride - 1)) === 0 ? (d + stride - 1) >>> (31 - Math.clz32(stride)) : Math.ceil(d / stride);
}

/** A free segment's counters: 128, 127, ..., 1. */
const FREE_SEGMENT = Uint8Array.from({ length: IO_TLB_SEGSIZE }, (_, i) => IO_TLB_SEGSIZE - i);

export class IoTlbPool {
  readonly profile: KernelProfile;
  readonly start: number;
  readonly end: number;
  readonly dmaStart: number;
  readonly nslabs: number;
  readonly nareas: number;
  readonly areaNslabs: number;
  /** log2(areaNslabs) when it is a power of two (areaOf() shifts then), else -1. */
  private readonly areaShift: number;
  readonly pageShift: number;
  readonly pageSize: number;
  /** slots[i].list: free slots from i to the next used slot or the segment end; 0 = in use. */
  readonly list: Uint8Array;
  /** slots[i].orig_addr (INVALID_PHYS_ADDR when free or padding). */
  readonly origAddr: Float64Array;
  /** slots[i].alloc_size: bytes of the allocation from this slot on. */
  readonly allocSize: Int32Array;
  /** slots[i].pad_slots (6.9+): padding slots before the data slot holding it. */
  readonly padSlots: Uint8Array;
  /** Not kernel state: for a slot in use, the end of the run it belongs to (lets searches skip it). */
  readonly runEnd: Int32Array;
  /** Not kernel state: the longest free run of each segment (lets searches skip the segment). */
  readonly segMaxFree: Uint8Array;
  /** areas[a].index: area-relative index the next search starts from. */
  readonly areaIndex: Int32Array;
  /** areas[a].used */
  readonly areaUsed: Int32Array;
  /** total_used / used_hiwater (the model keeps them for every profile). */
  totalUsed = 0;
  usedHiwater = 0;
  /** Set when a search returned SEARCH_LIVELOCK. */
  lastLivelock: LivelockInfo | null = null;
  /** pool->transient: a dynamic pool made for one mapping, freed with it (CONFIG_SWIOTLB_DYNAMIC). */
  transient = false;

  // The search in progress (set by beginSearch; searches are synchronous). Kept in fields rather
  // than an object so the scan loops run on plain locals.
  private sOrig = 0;
  private sNslots = 0;
  private sReq = 0;
  private sAllocAlign = 0;
  private sMinAlign = 0;
  /** Low 32 bits of tbl_dma_addr, as int32: enough for every 32-bit alignment test. */
  private sTbl32 = 0;
  /** nr_slots(tbl_dma_addr) modulo the boundary window. */
  private sTblSlots = 0;
  /** Boundary window in slots (get_max_slots); 0 when no run in this pool can cross one. */
  private sMaxSlots = 0;
  private cachedBoundaryBits = -1;

  constructor(profile: KernelProfile, geometry: PoolGeometry) {
    const { start, nslabs, pageShift } = geometry;
    if (!Number.isSafeInteger(nslabs) || nslabs < 1) throw new RangeError(`nslabs must be a positive integer, got ${nslabs}`);
    if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`pool start must be a non-negative address below 2^53`);
    // 5.10 has a single global area whatever the caller asks for.
    const nareas = profile.perCpuAreas ? geometry.nareas : 1;
    if (!Number.isInteger(nareas) || nareas < 1 || (nareas & (nareas - 1)) !== 0) {
      throw new RangeError(`nareas must be a power of two, got ${geometry.nareas}`);
    }
    const areaNslabs = Math.floor(nslabs / nareas);
    if (areaNslabs < 1) throw new RangeError(`${nslabs} slots cannot be split into ${nareas} areas`);
    this.profile = profile;
    this.start = start;
    this.end = start + nslabs * IO_TLB_SIZE;
    this.dmaStart = geometry.dmaStart ?? start;
    this.nslabs = nslabs;
    this.nareas = nareas;
    this.areaNslabs = areaNslabs;
    this.areaShift = (areaNslabs & (areaNslabs - 1)) === 0 ? 31 - Math.clz32(areaNslabs) : -1;
    this.pageShift = pageShift;
    this.pageSize = 2 ** pageShift;
    this.list = new Uint8Array(nslabs);
    this.origAddr = new Float64Array(nslabs);
    this.allocSize = new Int32Array(nslabs);
    this.padSlots = new Uint8Array(nslabs);
    this.runEnd = new Int32Array(nslabs);
    this.segMaxFree = new Uint8Array(Math.ceil(nslabs / IO_TLB_SEGSIZE));
    this.areaIndex = new Int32Array(nareas);
    this.areaUsed = new Int32Array(nareas);
    this.reset();
  }

  /** Back to the state right after swiotlb_init_io_tlb_pool(). */
  reset(): void {
    const clip = this.profile.clipListAtPoolEnd;
    const n = this.nslabs;
    // every whole segment starts as 128, 127, ..., 1: copied from one template
    const whole = n - (n % IO_TLB_SEGSIZE);
    for (let i = 0; i < whole; i += IO_TLB_SEGSIZE) this.list.set(FREE_SEGMENT, i);
    for (let i = whole; i < n; i++) {
      const toSegEnd = IO_TLB_SEGSIZE - (i % IO_TLB_SEGSIZE);
      this.list[i] = clip ? Math.min(toSegEnd, n - i) : toSegEnd;
    }
    this.updateSegMax(0, this.nslabs);
    this.origAddr.fill(INVALID_PHYS_ADDR);
    this.allocSize.fill(0);
    this.padSlots.fill(0);
    this.areaIndex.fill(0);
    this.areaUsed.fill(0);
    this.totalUsed = 0;
    this.usedHiwater = 0;
    this.lastLivelock = null;
  }

  /** First area a CPU searches: raw_smp_processor_id() & (nareas - 1). */
  startArea(cpu: number): number {
    return cpu & (this.nareas - 1);
  }

  areaOf(slot: number): number {
    return this.areaShift >= 0 && slot >= 0 ? slot >>> this.areaShift : Math.floor(slot / this.areaNslabs);
  }

  isInPool(phys: number): boolean {
    return phys >= this.start && phys < this.end;
  }

  slotAddr(slot: number): number {
    return this.start + slot * IO_TLB_SIZE;
  }

  /**
   * Whether some area still has `nslots` free slots: after a failed search this tells a full pool
   * (a bigger pool would help) from a fragmented one (reasons.ts failureReason).
   */
  anyAreaHas(nslots: number): boolean {
    for (let a = 0; a < this.nareas; a++) if (this.areaFree(a) >= nslots) return true;
    return false;
  }

  /** Slots free in an area (area_nslabs - used): the quick test before scanning. */
  areaFree(a: number): number {
    return this.areaNslabs - (this.areaUsed[a] as number);
  }

  /**
   * The constant part of a search (swiotlb_area_find_slots' prologue). `reqBytes` is the total
   * request including the in-slot offset.
   */
  private beginSearch(origAddr: number, reqBytes: number, allocAlignMask: number, minAlignMask: number, segBoundaryBits: number): void {
    if (segBoundaryBits !== this.cachedBoundaryBits) this.setBoundary(segBoundaryBits);
    this.sOrig = origAddr;
    this.sNslots = nrSlots(reqBytes);
    this.sReq = reqBytes;
    this.sAllocAlign = allocAlignMask >>> 0;
    this.sMinAlign = minAlignMask >>> 0;
  }

  /** The boundary-dependent part of a search; devices rarely change it, so it is cached. */
  private setBoundary(segBoundaryBits: number): void {
    // tbl_dma_addr = phys_to_dma_unencrypted(start) & boundary_mask; for a 2^k-1 mask that is a
    // remainder, exact for integers below 2^53. get_max_slots() = (mask >> 11) + 1.
    const tbl = segBoundaryBits >= 53 ? this.dmaStart : this.dmaStart % 2 ** segBoundaryBits;
    const maxSlots = segBoundaryBits <= IO_TLB_SHIFT ? 1 : 2 ** (segBoundaryBits - IO_TLB_SHIFT);
    const tblSlots = nrSlots(tbl) % maxSlots;
    this.cachedBoundaryBits = segBoundaryBits;
    this.sTbl32 = (tbl % 2 ** 32) | 0;
    this.sTblSlots = tblSlots;
    // No free run is longer than a segment, so a window wider than every run start + 128 slots
    // can never be crossed.
    this.sMaxSlots = tblSlots + this.nslabs + IO_TLB_SEGSIZE <= maxSlots ? 0 : maxSlots;
  }

  /** iommu_is_span_boundary(): would the run at `slot` cross a boundary in DMA space? */
  private spansBoundary(slot: number): boolean {
    const maxSlots = this.sMaxSlots;
    return maxSlots !== 0 && ((this.sTblSlots + slot) % maxSlots) + this.sNslots > maxSlots;
  }

  /**
   * swiotlb_find_slots() without the commit: the pool slot where the request would go, or
   * SEARCH_FULL / SEARCH_LIVELOCK. Areas are tried from cpu & (nareas-1) on, each once.
   */
  private search(cpu: number): number {
    const a0 = this.startArea(cpu);
    let a = a0;
    do {
      const r = this.searchArea(a);
      if (r !== SEARCH_FULL) return r;
      a = a + 1 >= this.nareas ? 0 : a + 1;
    } while (a !== a0);
    return SEARCH_FULL;
  }

  private searchArea(a: number): number {
    // Quick test under the area lock: not enough free slots at all.
    if (this.sNslots > this.areaNslabs - (this.areaUsed[a] as number)) return SEARCH_FULL;
    switch (this.profile.search) {
      case 'A':
        return this.searchA(a);
      case 'C':
        return this.searchC(a);
      default:
        return this.searchD(a);
    }
  }

  /**
   * Lattice steps of `stride` from `slot` that cannot fit, given its counter `v` < nslots:
   * every slot of the used run holding it (v = 0) or of its short free run (v > 0) fails, and
   * so does the rest of a segment whose longest free run is too short. The walk may jump to the
   * first lattice point past them: this changes no answer, only how many iterations it takes.
   */
  private skipSteps(slot: number, v: number, stride: number): number {
    const nslots = this.sNslots;
    const segMax = this.segMaxFree;
    let seg = slot >>> 7;
    let to: number;
    if ((segMax[seg] as number) < nslots) {
      // and so do the segments after it whose longest run is too short, up to the pool end (the
      // caller stops the walk at its area's end and its start)
      const lastSeg = segMax.length - 1;
      while (seg < lastSeg && (segMax[seg + 1] as number) < nslots) seg++;
      to = (seg + 1) * IO_TLB_SEGSIZE;
    } else {
      to = v === 0 ? (this.runEnd[slot] as number) : slot + v;
    }
    return stepsOver(to - slot, stride);
  }

  /** Recomputes the longest free run of the segments holding slots [from, to). */
  private updateSegMax(from: number, to: number): void {
    const list = this.list;
    for (let seg = from >>> 7; seg <= (to - 1) >>> 7; seg++) {
      const end = Math.min((seg + 1) * IO_TLB_SEGSIZE, this.nslabs);
      let max = 0;
      // a free run's first slot holds its length, a used slot the end of its run: one step per run
      const runEnd = this.runEnd;
      for (let j = seg * IO_TLB_SEGSIZE; j < end; ) {
        const v = list[j] as number;
        if (v === 0) {
          const e = runEnd[j] as number;
          j = e > j ? e : j + 1;
        } else {
          if (v > max) max = v;
          j += v;
        }
      }
      this.segMaxFree[seg] = max;
    }
  }

  /**
   * Search A (5.10 swiotlb_find_slots, 6.1 swiotlb_do_find_slots): start at the saved index
   * rounded up to the stride, step by one on an alignment miss and by the stride otherwise,
   * stop when the walk comes back to its start. The walk's only state is the index, so
   * area_nslabs steps without returning mean the kernel spins for ever.
   */
  private searchA(a: number): number {
    const prof = this.profile;
    const n = this.areaNslabs;
    const aam = prof.hasAllocAlignMask ? this.sAllocAlign : 0;
    const m = prof.alignCheckExcludesAllocAlign ? this.sMinAlign & ~(aam | (IO_TLB_SIZE - 1)) : this.sMinAlign & ~(IO_TLB_SIZE - 1);
    let stride = (m >>> IO_TLB_SHIFT) + 1;
    if (this.sReq >= this.pageSize) stride = Math.max(stride, stride * 2 ** (this.pageShift - IO_TLB_SHIFT));
    if (prof.hasAllocAlignMask) stride = Math.max(stride, ((aam | (IO_TLB_SIZE - 1)) >>> IO_TLB_SHIFT) + 1);
    const base = a * n;
    // ALIGN(area->index, stride) with the kernel's mask arithmetic.
    let i = ((this.areaIndex[a] as number) + stride - 1) & ~(stride - 1);
    if (i >= n) i = 0;
    const first = i;
    // 5.10 compares even without orig_addr; with m == 0 the comparison can never fail.
    const checkAlign = m !== 0 && (prof.family === 'P510' || this.sOrig !== 0);
    const origBits = this.sOrig & m;
    const tbl32 = this.sTbl32;
    const nslots = this.sNslots;
    const list = this.list;
    // Stride steps keep an aligned walk aligned when the stride is a multiple of the mask's period.
    const lattice = stride % alignPeriod(checkAlign ? m : 0) === 0;
    let steps = 0;
    do {
      const slot = base + i;
      if (checkAlign && ((tbl32 + (slot << IO_TLB_SHIFT)) & m) !== origBits) {
        i = i + 1 >= n ? 0 : i + 1;
        steps++;
      } else {
        const v = list[slot] as number;
        if (v >= nslots && !this.spansBoundary(slot)) return slot;
        let k = 1;
        if (lattice && v < nslots) {
          k = this.skipSteps(slot, v, stride);
          const kWrap = stepsOver(n - i, stride);
          if (k > kWrap) k = kWrap;
          const d = first - i;
          if (d > 0 && d % stride === 0 && d / stride < k) k = d / stride;
        }
        i += k * stride;
        if (i >= n) i = 0;
        steps += k;
      }
      if (steps >= n && i !== first) {
        this.lastLivelock = { area: a, first, stride, alignMask: m >>> 0 };
        return SEARCH_LIVELOCK;
      }
    } while (i !== first);
    return SEARCH_FULL;
  }

  /**
   * Search C (6.3 ... 6.8, 6.6.0 ... 6.6.23): no rounding of the start, alignment mask
   * min_align | alloc_align (| page mask for requests >= PAGE_SIZE), bounded by slots_checked.
   */
  private searchC(a: number): number {
    const n = this.areaNslabs;
    let mask = this.sMinAlign | this.sAllocAlign;
    if (this.sReq >= this.pageSize) mask |= this.pageSize - 1;
    mask &= ~(IO_TLB_SIZE - 1);
    const stride = (mask >>> IO_TLB_SHIFT) + 1;
    const base = a * n;
    const checkAlign = mask !== 0 && this.sOrig !== 0;
    const origBits = this.sOrig & mask;
    const tbl32 = this.sTbl32;
    const nslots = this.sNslots;
    const list = this.list;
    const lattice = stride % alignPeriod(checkAlign ? mask : 0) === 0;
    let i = this.areaIndex[a] as number;
    for (let checked = 0; checked < n; ) {
      const slot = base + i;
      if (checkAlign && ((tbl32 + (slot << IO_TLB_SHIFT)) & mask) !== origBits) {
        i = i + 1 >= n ? 0 : i + 1;
        checked++;
        continue;
      }
      const v = list[slot] as number;
      if (v >= nslots && !this.spansBoundary(slot)) return slot;
      let k = 1;
      if (lattice && v < nslots) {
        k = this.skipSteps(slot, v, stride);
        const kWrap = stepsOver(n - i, stride);
        if (k > kWrap) k = kWrap;
      }
      i += k * stride;
      if (i >= n) i = 0;
      checked += k * stride;
    }
    return SEARCH_FULL;
  }

  /**
   * Search D (6.9+, 6.10+ mainline): the slot's DMA address must be aligned to alloc_align_mask
   * (page aligned for requests >= PAGE_SIZE only when both masks are 0) and match orig_addr on
   * the min-align bits alloc_align_mask does not cover.
   */
  private searchD(a: number): number {
    const n = this.areaNslabs;
    let aam = this.sAllocAlign;
    let m = this.sMinAlign;
    if (aam === 0 && m === 0 && this.sReq >= this.pageSize) aam = this.pageSize - 1;
    aam = (aam | (IO_TLB_SIZE - 1)) >>> 0;
    m = (m & ~aam) >>> 0;
    const stride = (Math.max(aam, m) >>> IO_TLB_SHIFT) + 1;
    const base = a * n;
    const checkOrig = m !== 0 && this.sOrig !== 0;
    const origBits = this.sOrig & m;
    const tbl32 = this.sTbl32;
    const nslots = this.sNslots;
    const list = this.list;
    const lattice = stride % alignPeriod((aam | (checkOrig ? m : 0)) & ~(IO_TLB_SIZE - 1)) === 0;
    let i = this.areaIndex[a] as number;
    for (let checked = 0; checked < n; ) {
      const slot = base + i;
      const t = tbl32 + (slot << IO_TLB_SHIFT);
      if ((t & aam) !== 0 || (checkOrig && (t & m) !== origBits)) {
        i = i + 1 >= n ? 0 : i + 1;
        checked++;
        continue;
      }
      const v = list[slot] as number;
      if (v >= nslots && !this.spansBoundary(slot)) return slot;
      let k = 1;
      if (lattice && v < nslots) {
        k = this.skipSteps(slot, v, stride);
        const kWrap = stepsOver(n - i, stride);
        if (k > kWrap) k = kWrap;
      }
      i += k * stride;
      if (i >= n) i = 0;
      checked += k * stride;
    }
    return SEARCH_FULL;
  }

  /**
   * Takes slots [slot, slot+nslots) (the "found:" block): counters to 0, alloc_size recorded,
   * the free run just before renumbered, the area's index moved past the run.
   * `smallOffset` is orig_addr & min_align_mask & (IO_TLB_SIZE-1).
   */
  private commit(slot: number, nslots: number, reqBytes: number, smallOffset: number): void {
    const list = this.list;
    const allocSize = this.allocSize;
    const runEnd = this.runEnd;
    const end = slot + nslots;
    const tail = list[slot] as number;
    let bytes = reqBytes - smallOffset;
    for (let k = slot; k < end; k++) {
      list[k] = 0;
      allocSize[k] = bytes;
      bytes -= IO_TLB_SIZE;
      runEnd[k] = end;
    }
    // back over the free run before it, to the start of its segment
    const segStart = slot - (slot & (IO_TLB_SEGSIZE - 1));
    let count = 0;
    for (let j = slot - 1; j >= segStart && list[j] !== 0; j--) list[j] = ++count;
    // The run taken was cut from a free run of count + tail slots; only if that was the
    // segment's longest can the segment's longest run have shrunk.
    if (count + tail >= (this.segMaxFree[slot >>> 7] as number)) this.updateSegMax(slot, end);
    const a = this.areaOf(slot);
    const next = slot - a * this.areaNslabs + nslots;
    this.areaIndex[a] = next >= this.areaNslabs ? 0 : next;
    this.areaUsed[a] = (this.areaUsed[a] as number) + nslots;
    this.totalUsed += nslots;
    if (this.totalUsed > this.usedHiwater) this.usedHiwater = this.totalUsed;
  }

  /**
   * swiotlb_find_slots(): search, and on success commit. Returns the first slot of the run or
   * SEARCH_FULL / SEARCH_LIVELOCK (nothing changes then).
   * `reqBytes` includes the in-slot offset; `smallOffset` is the part below IO_TLB_SIZE.
   */
  findSlots(cpu: number, origAddr: number, reqBytes: number, allocAlignMask: number, dev: DeviceSlotParams, smallOffset: number): number {
    this.beginSearch(origAddr, reqBytes, allocAlignMask, dev.minAlignMask, dev.segBoundaryBits);
    const slot = this.search(cpu);
    if (slot >= 0) this.commit(slot, this.sNslots, reqBytes, smallOffset);
    return slot;
  }

  /**
   * swiotlb_search_pool_area(): one area of this pool only (the dynamic search visits the areas
   * of every pool in turn). Commits on success like findSlots().
   */
  findSlotsInArea(
    area: number,
    origAddr: number,
    reqBytes: number,
    allocAlignMask: number,
    dev: DeviceSlotParams,
    smallOffset: number,
  ): number {
    this.beginSearch(origAddr, reqBytes, allocAlignMask, dev.minAlignMask, dev.segBoundaryBits);
    const slot = this.searchArea(area);
    if (slot >= 0) this.commit(slot, this.sNslots, reqBytes, smallOffset);
    return slot;
  }

  /** searchArea() without a commit, for predictions over several pools. */
  predictSlotsInArea(area: number, origAddr: number, reqBytes: number, allocAlignMask: number, dev: DeviceSlotParams): number {
    this.beginSearch(origAddr, reqBytes, allocAlignMask, dev.minAlignMask, dev.segBoundaryBits);
    return this.searchArea(area);
  }

  /** The slot findSlots() would return, without changing any state. */
  predictSlots(cpu: number, origAddr: number, reqBytes: number, allocAlignMask: number, dev: DeviceSlotParams): number {
    this.beginSearch(origAddr, reqBytes, allocAlignMask, dev.minAlignMask, dev.segBoundaryBits);
    return this.search(cpu);
  }

  /**
   * Commits a run the kernel was seen to use (observed_index): exactly what a successful search
   * in the area holding `slot` does. Returns false (and changes nothing) if the run is not free
   * in the model or leaves its segment or area.
   */
  commitObserved(slot: number, reqBytes: number, smallOffset: number): boolean {
    const nslots = nrSlots(reqBytes);
    if (!Number.isInteger(slot) || slot < 0 || slot + nslots > this.nareas * this.areaNslabs) return false;
    const a = this.areaOf(slot);
    if (this.areaOf(slot + nslots - 1) !== a) return false;
    if ((this.list[slot] as number) < nslots) return false;
    this.commit(slot, nslots, reqBytes, smallOffset);
    return true;
  }

  /**
   * swiotlb_release_slots(): frees the run that holds `tlbAddr` and merges it with the free
   * runs after (same segment only) and before it. Returns the number of slots freed, or -1 if
   * `tlbAddr` does not start a live mapping (the kernel would corrupt its lists).
   * `callerSize` is used only where the kernel uses it (5.10 frees nr_slots(size + offset)).
   */
  releaseSlots(tlbAddr: number, minAlignMask: number, callerSize: number): number {
    const offset = tlbAddr & minAlignMask & (IO_TLB_SIZE - 1);
    const rel = tlbAddr - offset - this.start;
    if (rel < 0 || rel % IO_TLB_SIZE !== 0 || tlbAddr >= this.end) return -1;
    let index = rel / IO_TLB_SIZE;
    if (this.profile.padSlots) index -= this.padSlots[index] as number;
    if (index < 0 || this.list[index] !== 0) return -1;
    const nslots = this.profile.releaseUsesCallerSize ? nrSlots(callerSize + offset) : nrSlots((this.allocSize[index] as number) + offset);
    if (nslots < 1 || index + nslots > this.nslabs) return -1;
    const list = this.list;
    const origAddr = this.origAddr;
    const allocSize = this.allocSize;
    const padSlots = this.padSlots;
    const segStart = index - (index & (IO_TLB_SEGSIZE - 1));
    const segEnd = segStart + IO_TLB_SEGSIZE;
    // The kernel reads slots[index + nslots] for any run that ends inside its segment; past the
    // end of a pool that is not a multiple of 128 slots that is outside the array: count 0.
    const after = index + nslots;
    let count = after < segEnd && after < this.nslabs ? (list[after] as number) : 0;
    for (let i = after - 1; i >= index; i--) {
      list[i] = ++count;
      origAddr[i] = INVALID_PHYS_ADDR;
      allocSize[i] = 0;
      padSlots[i] = 0;
    }
    // back over the free run before it, to the start of its segment
    for (let i = index - 1; i >= segStart && list[i] !== 0; i--) list[i] = ++count;
    // count is now the length of the merged free run (5.10 can free past a segment: rescan).
    const seg = index >>> 7;
    if ((index + nslots - 1) >>> 7 !== seg) this.updateSegMax(index, index + nslots);
    else if (count > (this.segMaxFree[seg] as number)) this.segMaxFree[seg] = count;
    const a = this.areaOf(index);
    this.areaUsed[a] = (this.areaUsed[a] as number) - nslots;
    this.totalUsed -= nslots;
    return nslots;
  }
}
