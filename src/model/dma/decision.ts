/**
 * What the DMA layer decided for one call: bounced or direct and every reason, the addresses
 * in each space, the bounce slot, the bytes copied, cache maintenance and hypercalls, and for a
 * failure the kernel's message and its cause.
 */
import type { DmaDirection } from '../constants';

export type DecisionResult = 'direct' | 'bounced' | 'failed' | 'hang' | 'done';

export interface CacheOp {
  /** clean (write back) before the device reads, invalidate before the CPU reads. */
  readonly op: 'clean' | 'invalidate';
  /** arch_sync_dma_for_* on a local page, or Xen's GNTTABOP_cache_flush for a foreign page. */
  readonly via: 'arch' | 'hypercall';
  /** CPU physical address (arch) or bus address (hypercall). */
  readonly addr: number;
  readonly size: number;
  /** Hypercalls are issued one per 4 KiB Xen page. */
  readonly count: number;
}

export interface Decision {
  /** The DMA API call as written (dma_map_single, dma_unmap_page, dma_sync_single_for_cpu, ...). */
  readonly call: string;
  readonly device: string;
  readonly cpu: number;
  readonly size: number;
  readonly dir: DmaDirection;
  readonly attrs: number;
  readonly result: DecisionResult;
  /** Reason bits (model/reasons.ts): every reason that applied. */
  readonly reasons: number;
  /** The reason the kernel's code path acted on first (for a bounce: the first failed check). */
  readonly primaryReason: number;
  /** The original buffer: CPU physical address (pseudo-physical under Xen PV). */
  readonly phys: number;
  /** The original buffer's bus (machine) address; equals phys except under Xen. */
  readonly bus: number | null;
  /** The DMA address the call returned (null on failure, or when an IOMMU assigns it). */
  readonly dma: number | null;
  /** Bounce buffer: pool address, first slot (padding included), slot count, area. */
  readonly tlbAddr: number | null;
  readonly slot: number | null;
  readonly nslots: number;
  readonly area: number | null;
  /** Bytes copied between the original and the bounce buffer by this call. */
  readonly copied: number;
  readonly cache: readonly CacheOp[];
  /** What the kernel prints because of this call (device prefix included). */
  readonly messages: readonly string[];
  /** Our explanation notes: checks the kernel skipped, suppressed messages, ... */
  readonly notes: readonly string[];
  /** Index within a scatterlist, when the call maps one. */
  readonly sgIndex?: number;
  /** The map this unmap/sync refers to (decision index), when known. */
  readonly mapIndex?: number;
}
