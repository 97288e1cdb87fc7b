/**
 * Why a mapping bounced or failed, beside the model that decides it: one bit per reason, so an
 * event carries every reason that applied, each with the one code JSON, filters and the panel
 * use and a sentence for people. Codes are part of the JSON output: never renumber, only append.
 */
import { IO_TLB_SEGSIZE } from './constants';
import type { MapFailure } from './swiotlb';

export enum Reason {
  /** swiotlb=force, a memory-encryption guest (SEV/TDX/CCA), a restricted DMA pool. */
  ForceBounce = 1 << 0,
  /** The buffer's DMA address + size - 1 is above the device's dma_mask. */
  BeyondDmaMask = 1 << 1,
  /** ... above the bus limit (DT dma-ranges / bus_dma_limit). */
  BeyondBusLimit = 1 << 2,
  /** arm64: small kmalloc buffer on a non-coherent device (dma_kmalloc_needs_bounce). */
  KmallocNotCacheAligned = 1 << 3,
  /** Xen PV: the buffer is not machine-contiguous (range_straddles_page_boundary). */
  XenStraddle = 1 << 4,
  /** Xen arm: foreign page, non-coherent device, no cache-flush hypercall. */
  XenArchNeedsBounce = 1 << 5,
  /** iommu-dma: untrusted device, buffer not aligned to the IOVA granule. */
  UntrustedUnaligned = 1 << 6,
  /** Xen 6.1.113-128 / 6.12.0-14: pseudo-physically aligned, machine-misaligned. */
  XenAlignment = 1 << 7,
  // where a bounce buffer came from, with dynamic swiotlb (CONFIG_SWIOTLB_DYNAMIC); not a cause
  /** No slot in any pool: the mapping got a transient pool of its own. */
  TransientPool = 1 << 8,
  /** The slot is in a pool the dynamic worker added. */
  AddedPool = 1 << 9,
  // failure causes
  /** More than 128 slots: beyond the 256 KiB ceiling; no pool size helps. */
  TooBig = 1 << 12,
  /** No area has that many free slots: the pool is full (a bigger pool helps). */
  PoolFull = 1 << 13,
  /** Free slots exist but fragmentation or alignment/boundary rules leave no fitting run. */
  Fragmented = 1 << 14,
  /** The bounce buffer itself is beyond the device's reach (post-bounce dma_capable). */
  BounceBeyondMask = 1 << 15,
  /** Not addressable and no swiotlb pool to bounce through ("DMA addr ... overflow"). */
  NoSwiotlb = 1 << 16,
  /** 6.1 search livelock: the call never returns. */
  Livelock = 1 << 17,
  /** Mapping larger than its allocation, wrong unmap, or another driver bug. */
  DriverBug = 1 << 18,
}

/** The bits that say why a mapping failed (the others say why it bounced). */
export const FAILURE_MASK =
  Reason.TooBig | Reason.PoolFull | Reason.Fragmented | Reason.BounceBeyondMask | Reason.NoSwiotlb | Reason.Livelock | Reason.DriverBug;

export const REASON_INFO: readonly { readonly bit: Reason; readonly code: string; readonly text: string }[] = [
  {
    bit: Reason.ForceBounce,
    code: 'force',
    text: 'every streaming mapping bounces (swiotlb=force, memory-encryption guest or restricted pool)',
  },
  { bit: Reason.BeyondDmaMask, code: 'dma-mask', text: "the buffer is beyond the device's dma_mask" },
  { bit: Reason.BeyondBusLimit, code: 'bus-limit', text: "the buffer is beyond the bus's DMA limit (dma-ranges)" },
  { bit: Reason.KmallocNotCacheAligned, code: 'kmalloc', text: 'a small kmalloc buffer on a non-coherent device (not cache-line aligned)' },
  { bit: Reason.XenStraddle, code: 'xen-straddle', text: 'the buffer is not contiguous in machine memory (straddles a Xen page boundary)' },
  { bit: Reason.XenArchNeedsBounce, code: 'xen-arch', text: 'a foreign page for a non-coherent device and no cache-flush hypercall' },
  { bit: Reason.UntrustedUnaligned, code: 'untrusted', text: 'an untrusted device and a buffer not aligned to the IOVA granule' },
  {
    bit: Reason.XenAlignment,
    code: 'xen-alignment',
    text: 'aligned in pseudo-physical but not in machine memory (6.1.113-128, 6.12.0-14)',
  },
  { bit: Reason.TransientPool, code: 'transient-pool', text: 'no slot in any pool: a transient pool of its own (dynamic swiotlb)' },
  { bit: Reason.AddedPool, code: 'added-pool', text: 'the bounce buffer is in a pool the dynamic swiotlb worker added' },
  { bit: Reason.TooBig, code: 'too-big', text: 'more than 128 slots (256 KiB): no pool size can satisfy it' },
  { bit: Reason.PoolFull, code: 'pool-full', text: 'the pool has no free run that long: it is full' },
  { bit: Reason.Fragmented, code: 'fragmented', text: 'free slots exist, but fragmentation or alignment leaves no fitting run' },
  { bit: Reason.BounceBeyondMask, code: 'bounce-beyond-mask', text: "the bounce buffer itself is beyond the device's reach" },
  { bit: Reason.NoSwiotlb, code: 'no-swiotlb', text: 'not addressable, and there is no swiotlb pool to bounce through' },
  { bit: Reason.Livelock, code: 'livelock', text: 'the kernel never returns: the 6.1 slot search cycles for ever' },
  { bit: Reason.DriverBug, code: 'driver-bug', text: 'a driver bug (sizes or addresses that do not match the mapping)' },
];

export function reasonCodes(mask: number): string[] {
  return REASON_INFO.filter((r) => (mask & r.bit) !== 0).map((r) => r.code);
}

export function reasonTexts(mask: number): string[] {
  return REASON_INFO.filter((r) => (mask & r.bit) !== 0).map((r) => r.text);
}

export function reasonFromCode(code: string): Reason | undefined {
  return REASON_INFO.find((r) => r.code === code)?.bit;
}

/** Failure causes the chart colours, in this order. */
export const FAILURE_CAUSES = REASON_INFO.filter((r) => (r.bit & FAILURE_MASK) !== 0);

export function failureCauseIndex(reasons: number): number {
  for (let i = 0; i < FAILURE_CAUSES.length; i++) if (reasons & (FAILURE_CAUSES[i] as { bit: number }).bit) return i;
  return FAILURE_CAUSES.length - 1;
}

/** What a failed search leaves to tell "full" apart: whether any area still has that many free slots. */
export interface FreeSlots {
  anyAreaHas(nslots: number): boolean;
}

/**
 * The cause of a failed swiotlb request: the one mapping from the model's (and the replay
 * format's) MapFailure to a Reason. "full" is split by what the pool holds: pool-full when no area
 * has `nslots` free slots (a bigger pool helps), fragmented when one has but no run fits.
 * "unaligned" (6.9+ swiotlb_alloc found a run that is not page aligned, released it and failed)
 * is alignment leaving no usable run: fragmented too.
 */
export function failureReason(failure: MapFailure | undefined, nslots: number, pool: FreeSlots): Reason {
  switch (failure) {
    case 'too-big':
      return Reason.TooBig;
    case 'livelock':
      return Reason.Livelock;
    case 'invalid':
      return Reason.DriverBug;
    case 'unaligned':
      return Reason.Fragmented;
    default:
      if (nslots > IO_TLB_SEGSIZE) return Reason.TooBig;
      return pool.anyAreaHas(nslots) ? Reason.Fragmented : Reason.PoolFull;
  }
}
