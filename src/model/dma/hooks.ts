/**
 * The platform hooks that turn plain dma-direct + swiotlb into xen-swiotlb (the seed's four
 * points): (1) extra reasons to bounce, (2) cache maintenance by hypercall on arm, (3) the
 * pfn -> bfn translation before phys_to_dma / after dma_to_phys, (4) how the pool's memory is
 * obtained (machine-contiguous segments). Identity hooks describe every other platform.
 */
import { IO_TLB_SEGSIZE, IO_TLB_SIZE } from '../constants';
import { Reason } from '../reasons';
import type { CacheOp } from './decision';
import type { DeviceConfig } from './device';
import { type P2mTable, type Straddle, XEN_PAGE_SIZE } from './p2m';
import type { PlatformProfile } from './platform';

export interface BufferInfo {
  /** The buffer is a foreign (grant-mapped) page of another domain at this bus address (Xen arm). */
  readonly foreignBus?: number;
}

export interface ExtraBounce {
  readonly reasons: number;
  readonly straddle?: Straddle;
}

export interface PlatformHooks {
  /** Which address space DMA addresses of originals live in: "physical", "machine". */
  readonly busSpace: 'physical' | 'machine';
  /** pfn_to_bfn on a whole address; undefined when the frame is not the domain's. */
  physToBus(phys: number, buf?: BufferInfo): number | undefined;
  /** bfn_to_local_pfn on a whole address; undefined when the frame is not the domain's (foreign). */
  busToPhys(bus: number): number | undefined;
  /** Reasons to bounce beyond force / dma_capable / kmalloc (Xen: straddle, arch needs bounce). */
  extraBounce(dev: DeviceConfig, phys: number, size: number, buf?: BufferInfo): ExtraBounce;
  /** Cache maintenance of a non-coherent device; foreign pages go through the hypercall. */
  cacheForDevice(dev: DeviceConfig, phys: number, bus: number, size: number, local: boolean): CacheOp[];
  cacheForCpu(dev: DeviceConfig, phys: number, bus: number, size: number, dirIsToDevice: boolean, local: boolean): CacheOp[];
}

function archOp(op: CacheOp['op'], addr: number, size: number): CacheOp {
  return { op, via: 'arch', addr, size, count: 1 };
}

function hypercallOp(op: CacheOp['op'], bus: number, size: number): CacheOp {
  const first = Math.floor(bus / XEN_PAGE_SIZE);
  const last = Math.floor((bus + Math.max(size, 1) - 1) / XEN_PAGE_SIZE);
  return { op, via: 'hypercall', addr: bus, size, count: last - first + 1 };
}

/** Bare metal, encrypted guests, Xen PVH/HVM (auto-translated): the identity. */
export function identityHooks(): PlatformHooks {
  return {
    busSpace: 'physical',
    physToBus: (phys) => phys,
    busToPhys: (bus) => bus,
    extraBounce: () => ({ reasons: 0 }),
    cacheForDevice: (_dev, phys, _bus, size) => [archOp('clean', phys, size)],
    cacheForCpu: (_dev, phys, _bus, size, toDevice) => (toDevice ? [] : [archOp('invalidate', phys, size)]),
  };
}

/** Xen PV (x86): P2M translation and the machine-contiguity check; x86 devices are coherent. */
export function xenPvHooks(p2m: P2mTable): PlatformHooks {
  return {
    busSpace: 'machine',
    physToBus: (phys) => p2m.physToMachine(phys),
    busToPhys: (bus) => p2m.machineToPhys(bus),
    extraBounce(_dev, phys, size) {
      const s = p2m.straddle(phys, size);
      return s ? { reasons: Reason.XenStraddle, straddle: s } : { reasons: 0 };
    },
    cacheForDevice: () => [],
    cacheForCpu: () => [],
  };
}

/**
 * Xen on arm/arm64: dom0 is mapped 1:1, so local pages translate to themselves; foreign pages
 * carry their machine address. A foreign page for a non-coherent device bounces when Xen has no
 * cache-flush hypercall (xen_arch_need_swiotlb); otherwise its cache maintenance is a hypercall.
 */
export function xenArmHooks(platform: PlatformProfile): PlatformHooks {
  const hypercall = platform.xen?.cacheFlushHypercall ?? true;
  // machine frames of foreign pages dom0 has mapped (the ARM P2M tree of grant mappings):
  // they are not dom0's RAM, so pfn_valid() fails on them
  const foreignFrames = new Set<number>();
  return {
    busSpace: 'machine',
    physToBus(phys, buf) {
      if (buf?.foreignBus === undefined) return phys;
      const bus = buf.foreignBus + (phys % XEN_PAGE_SIZE);
      foreignFrames.add(Math.floor(bus / XEN_PAGE_SIZE));
      return bus;
    },
    busToPhys: (bus) => (foreignFrames.has(Math.floor(bus / XEN_PAGE_SIZE)) ? undefined : bus),
    extraBounce(dev, _phys, _size, buf) {
      const foreign = buf?.foreignBus !== undefined;
      return foreign && !dev.coherent && !hypercall ? { reasons: Reason.XenArchNeedsBounce } : { reasons: 0 };
    },
    cacheForDevice: (_dev, phys, bus, size, local) => (local ? [archOp('clean', phys, size)] : [hypercallOp('clean', bus, size)]),
    cacheForCpu: (_dev, phys, bus, size, toDevice, local) =>
      toDevice ? [] : local ? [archOp('invalidate', phys, size)] : [hypercallOp('invalidate', bus, size)],
  };
}

/** The machine address of a pool address under Xen PV: its segment's extent plus the offset. */
export function poolMachineAddress(poolStart: number, segmentBases: readonly number[], tlb: number): number | undefined {
  const seg = IO_TLB_SEGSIZE * IO_TLB_SIZE;
  const i = Math.floor((tlb - poolStart) / seg);
  const base = segmentBases[i];
  return base === undefined ? undefined : base + ((tlb - poolStart) % seg);
}
