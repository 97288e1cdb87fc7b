/**
 * Stable codes shared by every input and view: what an event is, how it ended, and why it
 * bounced or failed. Codes are part of the JSON output and the panel's filters: never renumber,
 * only append.
 */

/** What happened (one row of the per-call table). */
export enum EventKind {
  /** A streaming map (dma_map_page/single/phys, one sg entry, swiotlb_tbl_map_single). */
  Map = 0,
  Unmap = 1,
  SyncForCpu = 2,
  SyncForDevice = 3,
  /** Coherent allocation (restricted pool, Xen exchange, dma_alloc_*). */
  Alloc = 4,
  Free = 5,
  /** swiotlb:swiotlb_bounced: a bounce was attempted (no outcome on its own). */
  BounceAttempt = 6,
  /** A kernel log message ("swiotlb buffer is full", overflow WARN, ...). */
  LogMessage = 7,
  /** tracing_mark_write and other markers. */
  Marker = 8,
  MapResource = 9,
}

export const EVENT_KIND_NAMES: Record<EventKind, string> = {
  [EventKind.Map]: 'map',
  [EventKind.Unmap]: 'unmap',
  [EventKind.SyncForCpu]: 'sync_for_cpu',
  [EventKind.SyncForDevice]: 'sync_for_device',
  [EventKind.Alloc]: 'alloc',
  [EventKind.Free]: 'free',
  [EventKind.BounceAttempt]: 'bounce_attempt',
  [EventKind.LogMessage]: 'log',
  [EventKind.Marker]: 'marker',
  [EventKind.MapResource]: 'map_resource',
};

/** How it ended. */
export enum Outcome {
  /** Not applicable or not known from the input. */
  None = 0,
  /** Mapped without bouncing. */
  Direct = 1,
  /** Mapped through a bounce buffer. */
  Bounced = 2,
  /** The mapping failed (DMA_MAPPING_ERROR). */
  Failed = 3,
  /** Bounce slots released. */
  Released = 4,
  /** A direct mapping unmapped (nothing released). */
  Unmapped = 5,
  /** Data copied (sync) or cache maintained. */
  Synced = 6,
  /** The kernel would never return (6.1 search livelock). */
  Hang = 7,
}

export const OUTCOME_NAMES: Record<Outcome, string> = {
  [Outcome.None]: '',
  [Outcome.Direct]: 'direct',
  [Outcome.Bounced]: 'bounced',
  [Outcome.Failed]: 'failed',
  [Outcome.Released]: 'released',
  [Outcome.Unmapped]: 'unmapped',
  [Outcome.Synced]: 'synced',
  [Outcome.Hang]: 'hang',
};

/**
 * Why a mapping bounced or failed: one bit each, so an event carries every reason that applied.
 */
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
  /** No free run at all of that length in any area. */
  PoolExhausted = 1 << 13,
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
  { bit: Reason.PoolExhausted, code: 'pool-full', text: 'the pool has no free run that long: it is full' },
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
export const FAILURE_CAUSES = [
  { bit: Reason.TooBig, code: 'too-big' },
  { bit: Reason.PoolExhausted, code: 'pool-full' },
  { bit: Reason.Fragmented, code: 'fragmented' },
  { bit: Reason.BounceBeyondMask, code: 'bounce-beyond-mask' },
  { bit: Reason.NoSwiotlb, code: 'no-swiotlb' },
  { bit: Reason.Livelock, code: 'livelock' },
  { bit: Reason.DriverBug, code: 'driver-bug' },
] as const;

export function failureCauseIndex(reasons: number): number {
  for (let i = 0; i < FAILURE_CAUSES.length; i++) if (reasons & (FAILURE_CAUSES[i] as { bit: number }).bit) return i;
  return FAILURE_CAUSES.length - 1;
}
