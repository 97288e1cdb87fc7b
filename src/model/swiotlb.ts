/**
 * The swiotlb API over one pool: swiotlb_tbl_map_single, swiotlb_tbl_unmap_single,
 * swiotlb_sync_single_for_{cpu,device}, swiotlb_alloc/swiotlb_free (restricted DMA pools),
 * with the bytes each one copies and the messages the kernel prints, per version profile
 * (docs/swiotlb-model.md §5, §6, §7.8b).
 */
import { DMA_ATTR, DmaDirection, IO_TLB_SEGSIZE, IO_TLB_SIZE, nrSlots } from './constants';
import { hexAddr } from './hex';
import {
  ALLOC_ALIGN_WARNING,
  accessBeforeStartMessage,
  bufferFullMessage,
  invalidSizesMessage,
  overflowMessage,
  overflowWithOffsetMessage,
  unalignedAllocMessage,
} from './messages';
import { type DeviceSlotParams, INVALID_PHYS_ADDR, type IoTlbPool, SEARCH_LIVELOCK } from './pool';
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
}

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

function failed(reason: MapFailure, reqBytes: number, nslots: number, message: string): MapResult {
  return { ok: false, reason, index: -1, slot: -1, nslots, padSlots: 0, offset: 0, tlbAddr: -1, reqBytes, copiedBytes: 0, message };
}

/** get_order(): smallest order with (PAGE_SIZE << order) >= size. */
export function getOrder(size: number, pageShift: number): number {
  let order = 0;
  while (2 ** (pageShift + order) < size) order++;
  return order;
}

/** swiotlb_max_mapping_size(): the largest mapping a device with this min_align_mask can get. */
export function swiotlbMaxMappingSize(minAlignMask: number): number {
  const minAlign = minAlignMask ? Math.ceil((minAlignMask >>> 0) / IO_TLB_SIZE) * IO_TLB_SIZE : 0;
  return IO_TLB_SIZE * IO_TLB_SEGSIZE - minAlign;
}

export class IoTlbMem {
  readonly profile: KernelProfile;
  readonly pool: IoTlbPool;

  constructor(pool: IoTlbPool) {
    this.pool = pool;
    this.profile = pool.profile;
  }

  get used(): number {
    return this.pool.totalUsed;
  }

  /** Offsets and request size of swiotlb_tbl_map_single for this profile. */
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
    return { smallOffset, fullOffset, reqBytes, nslots, pad, allocAlignMask: aam, allocSize };
  }

  private precheck(req: MapRequest, p: Prepared): MapResult | undefined {
    if (this.profile.separateAllocSize && req.mappingSize > p.allocSize) {
      return failed('invalid', p.reqBytes, p.nslots, invalidSizesMessage(req.mappingSize, p.allocSize));
    }
    return undefined;
  }

  private failure(found: number, p: Prepared): MapResult {
    const reason: MapFailure = found === SEARCH_LIVELOCK ? 'livelock' : p.nslots > IO_TLB_SEGSIZE ? 'too-big' : 'full';
    const sz = this.profile.fullMessageIncludesOffset ? p.reqBytes : p.allocSize;
    const message = reason === 'livelock' ? livelockText(this.pool) : bufferFullMessage(sz, this.pool.nslabs, this.pool.totalUsed);
    return failed(reason, p.reqBytes, p.nslots, message);
  }

  /** The bookkeeping after a successful search: orig_addr per slot, pad_slots, tlb_addr, copy. */
  private finishMap(req: MapRequest, p: Prepared, index: number): MapResult {
    const pool = this.pool;
    const slot = index + p.pad;
    if (p.pad) pool.padSlots[slot] = p.pad;
    // 6.10+: nr_slots(size) - pad slots; earlier: nr_slots(alloc_size + small offset).
    const origSlots = this.profile.alignRequestSize ? p.nslots - p.pad : nrSlots(p.allocSize + p.smallOffset);
    for (let k = 0; k < origSlots; k++) pool.origAddr[slot + k] = req.origAddr + k * IO_TLB_SIZE;
    const tlbAddr = pool.slotAddr(slot) + p.smallOffset;
    const attrs = req.attrs ?? 0;
    // swiotlb_bounce() of the whole mapping: the slot's recorded size always covers it here.
    const copiedBytes = copiesOnMap(this.profile, req.dir, attrs) ? req.mappingSize : 0;
    const warning = this.profile.padSlots && p.allocAlignMask > pool.pageSize - 1 ? ALLOC_ALIGN_WARNING : undefined;
    return {
      ok: true,
      index,
      slot,
      nslots: p.nslots,
      padSlots: p.pad,
      offset: tlbAddr - pool.slotAddr(index),
      tlbAddr,
      reqBytes: p.reqBytes,
      copiedBytes,
      warning,
    };
  }

  /** swiotlb_tbl_map_single(). */
  tblMapSingle(req: MapRequest): MapResult {
    const p = this.prepare(req);
    const bad = this.precheck(req, p);
    if (bad) return bad;
    const index = this.pool.findSlots(req.cpu, req.origAddr, p.reqBytes, p.allocAlignMask, req.dev, p.smallOffset);
    if (index < 0) return this.failure(index, p);
    return this.finishMap(req, p, index);
  }

  /** What swiotlb_tbl_map_single() would answer now; changes nothing. */
  predictMapSingle(req: MapRequest): MapResult {
    const p = this.prepare(req);
    const bad = this.precheck(req, p);
    if (bad) return bad;
    const index = this.pool.predictSlots(req.cpu, req.origAddr, p.reqBytes, p.allocAlignMask, req.dev);
    if (index < 0) return this.failure(index, p);
    const pool = this.pool;
    const tlbAddr = pool.slotAddr(index + p.pad) + p.smallOffset;
    return {
      ok: true,
      index,
      slot: index + p.pad,
      nslots: p.nslots,
      padSlots: p.pad,
      offset: tlbAddr - pool.slotAddr(index),
      tlbAddr,
      reqBytes: p.reqBytes,
      copiedBytes: 0,
    };
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
   * first slot of the run, padding included. Returns undefined if that run is not free here.
   */
  tblMapSingleAt(req: MapRequest, index: number): MapResult | undefined {
    const p = this.prepare(req);
    if (this.precheck(req, p)) return undefined;
    if (!this.pool.commitObserved(index, p.reqBytes, p.smallOffset)) return undefined;
    return this.finishMap(req, p, index);
  }

  /**
   * swiotlb_bounce(): copy between the original buffer and the bounce slot holding `tlbAddr`,
   * with the version's offset and size checks.
   */
  bounce(tlbAddr: number, size: number, dev: DeviceSlotParams): BounceResult {
    const pool = this.pool;
    const index = Math.floor((tlbAddr - pool.start) / IO_TLB_SIZE);
    if (index < 0 || index >= pool.nslabs) return { bytes: 0, origAddr: INVALID_PHYS_ADDR };
    const orig = pool.origAddr[index] as number;
    if (orig === INVALID_PHYS_ADDR) return { bytes: 0, origAddr: INVALID_PHYS_ADDR };
    if (this.profile.family === 'P510') return { bytes: size, origAddr: orig + (tlbAddr % IO_TLB_SIZE) };
    let allocSize = pool.allocSize[index] as number;
    const tlbOffset = tlbAddr % IO_TLB_SIZE;
    const origOffset = orig & dev.minAlignMask & (IO_TLB_SIZE - 1);
    const d = tlbOffset - origOffset;
    if (this.profile.strictSyncOffsets) {
      if (d < 0) return { bytes: 0, origAddr: INVALID_PHYS_ADDR, warning: accessBeforeStartMessage(origOffset, tlbOffset) };
      if (d > allocSize) {
        return { bytes: 0, origAddr: INVALID_PHYS_ADDR, warning: overflowWithOffsetMessage(allocSize, size, d) };
      }
    }
    allocSize -= d;
    if (size > allocSize) {
      return { bytes: Math.max(allocSize, 0), origAddr: orig + d, warning: overflowMessage(allocSize, size) };
    }
    return { bytes: size, origAddr: orig + d };
  }

  /**
   * swiotlb_tbl_unmap_single(): copy back for FROM_DEVICE/BIDIRECTIONAL unless
   * DMA_ATTR_SKIP_CPU_SYNC, then release the slots.
   */
  tblUnmapSingle(tlbAddr: number, mappingSize: number, dir: DmaDirection, attrs: number, dev: DeviceSlotParams): UnmapResult {
    let copiedBytes = 0;
    let warning: string | undefined;
    const pool = this.pool;
    if (!pool.isInPool(tlbAddr)) {
      return { ok: false, freedSlots: 0, copiedBytes: 0, error: `unmap of ${hexAddr(tlbAddr)}, which is not in the pool` };
    }
    if (!(attrs & DMA_ATTR.SKIP_CPU_SYNC) && (dir === DmaDirection.FROM_DEVICE || dir === DmaDirection.BIDIRECTIONAL)) {
      const b = this.bounce(tlbAddr, mappingSize, dev);
      copiedBytes = b.bytes;
      warning = b.warning;
    }
    const freedSlots = pool.releaseSlots(tlbAddr, dev.minAlignMask, mappingSize);
    if (freedSlots < 0) {
      return {
        ok: false,
        freedSlots: 0,
        copiedBytes: 0,
        error: `unmap of ${hexAddr(tlbAddr)}, which does not start a live bounce buffer`,
      };
    }
    return { ok: true, freedSlots, copiedBytes, warning };
  }

  /** swiotlb_sync_single_for_device(): original -> bounce for TO_DEVICE/BIDIRECTIONAL. */
  syncSingleForDevice(tlbAddr: number, size: number, dir: DmaDirection, dev: DeviceSlotParams): BounceResult {
    if (dir === DmaDirection.NONE) throw new RangeError('DMA_NONE sync: the kernel BUG()s');
    if (dir === DmaDirection.TO_DEVICE || dir === DmaDirection.BIDIRECTIONAL) return this.bounce(tlbAddr, size, dev);
    return { bytes: 0, origAddr: INVALID_PHYS_ADDR };
  }

  /** swiotlb_sync_single_for_cpu(): bounce -> original for FROM_DEVICE/BIDIRECTIONAL. */
  syncSingleForCpu(tlbAddr: number, size: number, dir: DmaDirection, dev: DeviceSlotParams): BounceResult {
    if (dir === DmaDirection.NONE) throw new RangeError('DMA_NONE sync: the kernel BUG()s');
    if (dir === DmaDirection.FROM_DEVICE || dir === DmaDirection.BIDIRECTIONAL) return this.bounce(tlbAddr, size, dev);
    return { bytes: 0, origAddr: INVALID_PHYS_ADDR };
  }

  private allocPrepared(size: number): Prepared {
    const aam = this.profile.restrictedAllocAligned ? 2 ** (this.pool.pageShift + getOrder(size, this.pool.pageShift)) - 1 : 0;
    return {
      smallOffset: 0,
      fullOffset: 0,
      reqBytes: size,
      nslots: nrSlots(size),
      pad: 0,
      allocAlignMask: aam,
      allocSize: size,
    };
  }

  /**
   * swiotlb_alloc(): pages for dma_alloc_coherent() from a restricted DMA pool. There is no
   * original buffer (orig_addr 0), so the min-align comparison is skipped.
   */
  alloc(cpu: number, size: number, dev: DeviceSlotParams): MapResult {
    if (!this.profile.restrictedAlloc) throw new RangeError(`${this.profile.title} has no restricted DMA pools (swiotlb_alloc)`);
    const p = this.allocPrepared(size);
    const pool = this.pool;
    const index = pool.findSlots(cpu, 0, size, p.allocAlignMask, dev, 0);
    if (index < 0) return this.failure(index, p);
    return this.finishAlloc(index, p, dev);
  }

  predictAlloc(cpu: number, size: number, dev: DeviceSlotParams): MapResult {
    if (!this.profile.restrictedAlloc) throw new RangeError(`${this.profile.title} has no restricted DMA pools (swiotlb_alloc)`);
    const p = this.allocPrepared(size);
    const index = this.pool.predictSlots(cpu, 0, size, p.allocAlignMask, dev);
    if (index < 0) return this.failure(index, p);
    const tlbAddr = this.pool.slotAddr(index);
    if (this.profile.restrictedAllocPageCheck && tlbAddr % this.pool.pageSize !== 0) {
      return failed('unaligned', size, p.nslots, unalignedAllocMessage(tlbAddr));
    }
    return { ok: true, index, slot: index, nslots: p.nslots, padSlots: 0, offset: 0, tlbAddr, reqBytes: size, copiedBytes: 0 };
  }

  allocAt(cpu: number, size: number, dev: DeviceSlotParams, index: number): MapResult | undefined {
    void cpu;
    const p = this.allocPrepared(size);
    if (!this.pool.commitObserved(index, size, 0)) return undefined;
    return this.finishAlloc(index, p, dev);
  }

  private finishAlloc(index: number, p: Prepared, dev: DeviceSlotParams): MapResult {
    const pool = this.pool;
    const tlbAddr = pool.slotAddr(index);
    if (this.profile.restrictedAllocPageCheck && tlbAddr % pool.pageSize !== 0) {
      // 6.9+: dev_WARN_ONCE and give the slots back (the area index stays advanced).
      pool.releaseSlots(tlbAddr, dev.minAlignMask, p.reqBytes);
      return failed('unaligned', p.reqBytes, p.nslots, unalignedAllocMessage(tlbAddr));
    }
    return {
      ok: true,
      index,
      slot: index,
      nslots: p.nslots,
      padSlots: 0,
      offset: 0,
      tlbAddr,
      reqBytes: p.reqBytes,
      copiedBytes: 0,
    };
  }

  /** swiotlb_free(): releases a restricted-pool allocation. */
  free(tlbAddr: number, size: number, dev: DeviceSlotParams): UnmapResult {
    const freedSlots = this.pool.releaseSlots(tlbAddr, dev.minAlignMask, size);
    if (freedSlots < 0) {
      return { ok: false, freedSlots: 0, copiedBytes: 0, error: `free of ${hexAddr(tlbAddr)}, which does not start a live allocation` };
    }
    return { ok: true, freedSlots, copiedBytes: 0 };
  }
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
