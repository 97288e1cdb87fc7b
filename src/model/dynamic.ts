/**
 * Dynamic swiotlb (CONFIG_SWIOTLB_DYNAMIC, 6.6+; kernel/dma/swiotlb.c): where the pools that a
 * growing io_tlb_mem adds come from. The kernel's own rules are here (the GFP zone choice and
 * retry of swiotlb_alloc_tlb(), the size clamp and halving of swiotlb_alloc_pool(), the worker's
 * pool of the default size); the page allocator under them is a model of ours behind an
 * interface, so tests can give their own.
 *
 * Not the kernel: the buddy allocator's choice of pages depends on everything else the machine
 * did since boot. The default allocator below hands out naturally aligned blocks top-down in the
 * highest zone allowed (falling back to lower zones as the kernel's zonelists do); it decides
 * addresses, never whether a request the kernel would serve fails, unless the memory below the
 * limit is really used up.
 */
import { DEFAULT_PAGE_SHIFT, getOrder, IO_TLB_MIN_SLABS, IO_TLB_SEGSIZE, IO_TLB_SHIFT, IO_TLB_SIZE } from './constants';
import type { Arch, DmaZone } from './setup';

/** The GFP zone modifier of an allocation: __GFP_DMA, __GFP_DMA32, or none (ZONE_NORMAL). */
export type GfpZone = 'dma' | 'dma32' | 'normal';

/** The page allocator the dynamic pools come from (alloc_pages / dma_alloc_from_pool). */
export interface PageAllocator {
  /**
   * alloc_pages(gfp, get_order(bytes)): the physical start of a block of `bytes` (a power-of-two
   * number of pages, naturally aligned) from `zone` or a lower zone, or undefined.
   */
  allocPages(bytes: number, zone: GfpZone): number | undefined;
  /**
   * dma_alloc_from_pool(): memory-encrypted guests take atomic (GFP_NOWAIT) pools from the
   * already decrypted atomic DMA pools; `limit` is the highest address the device reaches.
   */
  allocAtomic(bytes: number, limit: number): number | undefined;
  free(start: number, bytes: number): void;
}

/** The zones of a machine as the page allocator sees them (end addresses exclusive). */
export interface ZoneLayout {
  /** RAM ranges [start, end). */
  readonly ram: readonly { readonly start: number; readonly end: number }[];
  /** End of ZONE_DMA (x86: 16 MiB; arm64: arm64_dma_phys_limit); 0 without the zone. */
  readonly dmaEnd: number;
  /** End of ZONE_DMA32 (4 GiB or the end of RAM below it); 0 without the zone. */
  readonly dma32End: number;
  /** zone_dma_limit (inclusive): __GFP_DMA is asked for up to this limit. */
  readonly zoneDmaLimit: number;
}

/** Bytes of the atomic DMA pool at boot (dma_atomic_pool_init): 128 KiB per GiB, 128 KiB ... MAX_ORDER. */
export function atomicPoolBytes(ramBytes: number, pageShift = 12, maxPageOrder = 10): number {
  const pages = Math.min(Math.floor(ramBytes / 2 ** pageShift / 8192), 2 ** maxPageOrder);
  return Math.max(pages * 2 ** pageShift, 128 * 1024);
}

interface Block {
  start: number;
  end: number;
}

/**
 * The default page allocator: naturally aligned blocks, highest free one first, in the zone the
 * GFP flags name or a lower one. `reserved` ranges (the boot pool, firmware) are never handed out.
 * Encrypted guests' atomic allocations draw on a budget of the atomic pool's size (the kernel
 * grows that pool in the background; this model does not).
 */
export class ZonedPageAllocator implements PageAllocator {
  private readonly used: Block[] = [];
  private atomicLeft: number;

  constructor(
    readonly layout: ZoneLayout,
    reserved: readonly { start: number; end: number }[] = [],
    atomicBytes = 0,
  ) {
    for (const r of reserved) this.used.push({ start: r.start, end: r.end });
    this.atomicLeft = atomicBytes;
  }

  private zoneBounds(zone: GfpZone): [number, number] {
    const { dmaEnd, dma32End } = this.layout;
    switch (zone) {
      case 'dma':
        return [0, dmaEnd];
      case 'dma32':
        return [dmaEnd, Math.max(dma32End, dmaEnd)];
      default:
        return [Math.max(dma32End, dmaEnd), Number.POSITIVE_INFINITY];
    }
  }

  /** The highest free naturally aligned block of `bytes` inside [lo, hi), or undefined. */
  private highest(bytes: number, lo: number, hi: number): number | undefined {
    const used = [...this.used].sort((a, b) => b.start - a.start);
    let best: number | undefined;
    for (const r of this.layout.ram) {
      const top = Math.min(r.end, hi);
      const bottom = Math.max(r.start, lo);
      let cand = Math.floor((top - bytes) / bytes) * bytes;
      for (const u of used) {
        if (cand < bottom) break;
        if (u.start >= cand + bytes) continue;
        if (u.end <= cand) continue;
        cand = Math.floor((u.start - bytes) / bytes) * bytes;
      }
      if (cand >= bottom && (best === undefined || cand > best)) best = cand;
    }
    return best;
  }

  allocPages(bytes: number, zone: GfpZone): number | undefined {
    // the zonelist: the zone asked for first, then the lower ones
    const order: GfpZone[] = zone === 'normal' ? ['normal', 'dma32', 'dma'] : zone === 'dma32' ? ['dma32', 'dma'] : ['dma'];
    for (const z of order) {
      const [lo, hi] = this.zoneBounds(z);
      if (hi <= lo) continue;
      const start = this.highest(bytes, lo, hi);
      if (start !== undefined) {
        this.used.push({ start, end: start + bytes });
        return start;
      }
    }
    return undefined;
  }

  allocAtomic(bytes: number, limit: number): number | undefined {
    if (bytes > this.atomicLeft) return undefined;
    // the atomic pools are per zone (DMA, DMA32, kernel): the one the device reaches
    const zone: GfpZone = limit <= this.layout.zoneDmaLimit ? 'dma' : limit < 2 ** 32 ? 'dma32' : 'normal';
    const start = this.allocPages(bytes, zone);
    if (start !== undefined) this.atomicLeft -= bytes;
    return start;
  }

  free(start: number, bytes: number): void {
    const i = this.used.findIndex((u) => u.start === start && u.end === start + bytes);
    if (i < 0) throw new RangeError(`free of 0x${start.toString(16)}+${bytes}, which was not allocated`);
    this.used.splice(i, 1);
  }

  /** Blocks handed out and not freed (reserved ranges excluded): for tests. */
  get outstanding(): number {
    return this.used.length;
  }
}

/** What io_tlb_mem knows about growing (set up by swiotlb_init_remap / swiotlb_init_late). */
export interface DynamicConfig {
  /** io_tlb_mem.can_grow: false with a remap hook (Xen PV) or after default_swiotlb_base(). */
  readonly canGrow: boolean;
  /** io_tlb_mem.phys_limit: the highest address of a pool the worker adds. */
  readonly physLimit: number;
  /** default_nslabs / default_nareas: the size the worker asks for. */
  readonly defaultNslabs: number;
  readonly defaultNareas: number;
  readonly allocator: PageAllocator;
  /** zone_dma_limit (inclusive) and which zones the kernel has, for the GFP choice. */
  readonly zoneDmaLimit: number;
  readonly hasZoneDma: boolean;
  readonly hasZoneDma32: boolean;
  /** force_dma_unencrypted(): transient pools come from the atomic pools (memory-encrypted guests). */
  readonly encrypted: boolean;
  /** MAX_PAGE_ORDER: the largest block alloc_pages() gives (10: 4 MiB with 4 KiB pages). */
  readonly maxPageOrder: number;
  /**
   * Map calls after the one that scheduled the worker before its pool is visible to searches.
   * A modelling choice: the kernel's kworker runs when the scheduler lets it (GFP_KERNEL, may
   * sleep); 1 means "before the next map", a large number means "not in time for this burst".
   */
  readonly growDelay: number;
}

/** limit_nareas(): no more areas than 128-slot segments. */
export function limitNareas(nareas: number, nslots: number): number {
  return nslots < nareas * IO_TLB_SEGSIZE ? Math.floor(nslots / IO_TLB_SEGSIZE) : nareas;
}

const NO_LIMIT = 2 ** 64;

/**
 * swiotlb_alloc_tlb(): pages for a pool below `physLimit`. The zone follows the limit (ZONE_DMA
 * when it is within zone_dma_limit, DMA32 within 4 GiB); a block that came back too high is
 * freed and asked for again in DMA32, then DMA, then the call fails.
 */
export function allocTlb(cfg: DynamicConfig, bytes: number, physLimit: number, atomic: boolean, pageShift: number): number | undefined {
  const size = 2 ** (pageShift + getOrder(bytes, pageShift));
  if (atomic && cfg.encrypted) return cfg.allocator.allocAtomic(size, physLimit);
  let zone: GfpZone = physLimit <= cfg.zoneDmaLimit ? 'dma' : physLimit <= 0xffff_ffff ? 'dma32' : 'normal';
  for (;;) {
    const start = cfg.allocator.allocPages(size, zone);
    if (start === undefined) return undefined;
    if (start + bytes - 1 <= physLimit) return start;
    cfg.allocator.free(start, size);
    if (cfg.hasZoneDma32 && physLimit < NO_LIMIT - 1 && zone === 'normal') zone = 'dma32';
    else if (cfg.hasZoneDma && zone !== 'dma') zone = 'dma';
    else return undefined;
  }
}

/** What swiotlb_alloc_pool() got: the pool's start, slots and areas (size is what was allocated). */
export interface DynamicPoolAlloc {
  readonly start: number;
  readonly nslabs: number;
  readonly nareas: number;
  /** Bytes of the page block (freed with the pool). */
  readonly blockBytes: number;
}

/**
 * swiotlb_alloc_pool(): at most MAX_PAGE_ORDER pages, halved (in whole segments) while the
 * allocation fails, down to `minslabs`.
 */
export function allocPool(
  cfg: DynamicConfig,
  minslabs: number,
  nslabs: number,
  nareas: number,
  physLimit: number,
  atomic: boolean,
  pageShift: number,
): DynamicPoolAlloc | undefined {
  const maxSlabs = 2 ** (pageShift - IO_TLB_SHIFT + cfg.maxPageOrder);
  let n = nslabs;
  let a = nareas;
  if (n > maxSlabs) {
    n = maxSlabs;
    a = limitNareas(a, n);
  }
  for (;;) {
    const bytes = n * IO_TLB_SIZE;
    const start = allocTlb(cfg, bytes, physLimit, atomic, pageShift);
    if (start !== undefined) return { start, nslabs: n, nareas: a, blockBytes: 2 ** (pageShift + getOrder(bytes, pageShift)) };
    if (n <= minslabs) return undefined;
    n = Math.ceil(Math.floor(n / 2) / IO_TLB_SEGSIZE) * IO_TLB_SEGSIZE;
    a = limitNareas(a, n);
  }
}

/** The worker's request: swiotlb_alloc_pool(NULL, IO_TLB_MIN_SLABS, default_nslabs, default_nareas, phys_limit, GFP_KERNEL). */
export function allocWorkerPool(cfg: DynamicConfig, pageShift: number): DynamicPoolAlloc | undefined {
  return allocPool(cfg, IO_TLB_MIN_SLABS, cfg.defaultNslabs, cfg.defaultNareas, cfg.physLimit, false, pageShift);
}

/** The zones of a machine from its RAM and DMA zone, as the kernel lays them out. */
export function zoneLayout(opts: {
  arch: 'x86' | 'arm64';
  ramBytes: number;
  /** arm64: arm64_dma_phys_limit (exclusive end of ZONE_DMA). */
  dmaPhysLimit?: number;
  /** zone_dma_limit (inclusive). */
  zoneDmaLimit?: number;
  dramStart?: number;
}): ZoneLayout {
  if (opts.arch === 'x86') {
    // RAM below the PCI hole up to 3 GiB, the rest above 4 GiB (as the pool placement assumes)
    const low = Math.min(opts.ramBytes, 0xc000_0000);
    const ram = [{ start: 0, end: low }];
    if (opts.ramBytes > low) ram.push({ start: 2 ** 32, end: 2 ** 32 + opts.ramBytes - low });
    return { ram, dmaEnd: 16 << 20, dma32End: Math.min(low, 2 ** 32), zoneDmaLimit: (16 << 20) - 1 };
  }
  const start = opts.dramStart ?? 0;
  const end = start + opts.ramBytes;
  const dmaEnd = Math.min(opts.dmaPhysLimit ?? 2 ** 32, end);
  return {
    ram: [{ start, end }],
    dmaEnd,
    dma32End: Math.max(dmaEnd, Math.min(2 ** 32, end)),
    zoneDmaLimit: opts.zoneDmaLimit ?? dmaEnd - 1,
  };
}

/**
 * Map calls from the miss that schedules the worker to the first that sees its pool (default).
 * Measured: in the lab's 6.12.117 kernel with CONFIG_SWIOTLB_DYNAMIC (QEMU/TCG, 2 CPUs, NVMe
 * reads, test/fixtures/kernel-6.12-dynamic) the worker asked for its pool 64 map calls after
 * the first miss; every one of those 64 took a transient pool. Faster machines make more calls
 * in the same time.
 */
export const DEFAULT_GROW_DELAY = 64;

/**
 * The dynamic set-up of a machine's default io_tlb_mem (swiotlb_init_remap): can_grow unless a
 * remap hook is used (Xen PV), phys_limit = ARCH_LOW_ADDRESS_LIMIT (the boot pool's own
 * limit), the default pool's size for the worker, and a page allocator over the machine's
 * zones with the boot pool reserved (unless the caller gives one).
 */
export function machineDynamicConfig(opts: {
  readonly arch: Arch;
  readonly ramBytes: number;
  readonly zone: DmaZone;
  readonly pool: { readonly start: number; readonly nslabs: number; readonly nareas: number };
  readonly encrypted: boolean;
  readonly canGrow: boolean;
  readonly dramStart?: number;
  readonly growDelay?: number;
  readonly pageShift?: number;
  readonly allocator?: PageAllocator;
}): DynamicConfig {
  const pageShift = opts.pageShift ?? DEFAULT_PAGE_SHIFT;
  const layout = zoneLayout({
    arch: opts.arch,
    ramBytes: opts.ramBytes,
    dmaPhysLimit: opts.zone.dmaPhysLimit,
    zoneDmaLimit: opts.zone.zoneDmaLimit,
    ...(opts.dramStart !== undefined ? { dramStart: opts.dramStart } : {}),
  });
  const poolEnd = opts.pool.start + opts.pool.nslabs * IO_TLB_SIZE;
  const allocator =
    opts.allocator ??
    new ZonedPageAllocator(
      layout,
      [{ start: opts.pool.start, end: poolEnd }],
      opts.encrypted ? atomicPoolBytes(opts.ramBytes, pageShift) : 0,
    );
  return {
    canGrow: opts.canGrow,
    physLimit: opts.zone.lowLimit - 1,
    defaultNslabs: opts.pool.nslabs,
    defaultNareas: opts.pool.nareas,
    allocator,
    zoneDmaLimit: layout.zoneDmaLimit,
    hasZoneDma: layout.dmaEnd > 0,
    hasZoneDma32: true,
    encrypted: opts.encrypted,
    maxPageOrder: 10,
    growDelay: opts.growDelay ?? DEFAULT_GROW_DELAY,
  };
}
