/**
 * A device as the DMA layer sees it (struct device + dma_parms): masks, limits, coherency,
 * trust, restricted pool. Masks are kept exact as BigInt and as numbers for comparisons
 * (a mask of 2^53 or more compares correctly against every address below 2^53).
 */
import { IO_TLB_SEGSIZE, IO_TLB_SIZE } from '../constants';
import type { DeviceSlotParams } from '../pool';

export interface DeviceConfig {
  /** dev_name(): "0000:00:03.0", "fe300000.mmc". */
  readonly name: string;
  /** Driver name for messages ("nvme 0000:00:03.0: ..."). */
  readonly driver?: string;
  /** *dev->dma_mask (PCI default DMA_BIT_MASK(32) until the driver raises it). */
  readonly dmaMask: bigint;
  readonly coherentDmaMask: bigint;
  /** bus_dma_limit from DT/ACPI dma-ranges; 0 = none. */
  readonly busDmaLimit: bigint;
  /** dma_set_min_align_mask (NVMe 0xfff). */
  readonly minAlignMask: number;
  /** dma_set_seg_boundary: 2^bits - 1; 64 = none (ULONG_MAX). */
  readonly segBoundaryBits: number;
  /** dma_set_max_seg_size (PCI default 65536). */
  readonly maxSegSize: number;
  /** dev_is_dma_coherent(); x86 devices always are. */
  readonly coherent: boolean;
  /** false: an untrusted (external) device behind an IOMMU, bounced by iommu-dma when unaligned. */
  readonly trusted: boolean;
  /** Attached to a device-tree restricted-dma-pool of this many slots (always bounces). */
  readonly restrictedPoolSlots?: number;
  /** Physical start of that pool (reserved-memory node), when known. */
  readonly restrictedPoolBase?: number;
  /** DMA address = CPU physical address - this (DT dma-ranges offset). */
  readonly dmaOffset: number;
  /** IOVA granule for iommu-dma bounces (usually the page size). */
  readonly iovaGranule: number;
}

export const DMA_BIT_MASK = (n: number): bigint => (n >= 64 ? 0xffff_ffff_ffff_ffffn : (1n << BigInt(n)) - 1n);

/** What a PCI device has before its driver sets anything (pci_setup_device). */
export function pciDefaults(name: string, coherent = true): DeviceConfig {
  return {
    name,
    dmaMask: DMA_BIT_MASK(32),
    coherentDmaMask: DMA_BIT_MASK(32),
    busDmaLimit: 0n,
    minAlignMask: 0,
    segBoundaryBits: 32,
    maxSegSize: 65536,
    coherent,
    trusted: true,
    dmaOffset: 0,
    iovaGranule: 4096,
  };
}

/** The mask as a number for address comparisons. */
export function maskNumber(m: bigint): number {
  return Number(m);
}

/** min_not_zero(*dma_mask, bus_dma_limit): the highest address the device reaches. */
export function dmaLimit(dev: DeviceConfig): number {
  const m = dev.dmaMask;
  const l = dev.busDmaLimit;
  // biome-ignore lint/complexity/useMathMinMax: BigInt has no Math.min
  return Number(l === 0n ? m : m === 0n ? l : m < l ? m : l);
}

/** dma_capable(): the whole buffer is reachable (DMA_MAPPING_ERROR never is). */
export function dmaCapable(dev: DeviceConfig, dmaAddr: number, size: number): boolean {
  if (dmaAddr < 0) return false;
  return dmaAddr + Math.max(size, 1) - 1 <= dmaLimit(dev);
}

export function slotParams(dev: DeviceConfig): DeviceSlotParams {
  return { minAlignMask: dev.minAlignMask, segBoundaryBits: dev.segBoundaryBits };
}

/** "mask %llx, bus limit %llx" as the kernel prints them. */
export function maskText(dev: DeviceConfig): { mask: string; limit: string } {
  return { mask: dev.dmaMask.toString(16), limit: dev.busDmaLimit.toString(16) };
}

export const SEGMENT_BYTES = IO_TLB_SEGSIZE * IO_TLB_SIZE;
