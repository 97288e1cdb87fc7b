/**
 * Constants of the Linux swiotlb (include/linux/swiotlb.h, kernel/dma/swiotlb.c) and of the
 * DMA API (include/linux/dma-mapping.h, include/linux/dma-direction.h).
 * Identical in every kernel version the model covers (5.10 ... 7.x).
 */

/** log2 of the slot ("slab") size. */
export const IO_TLB_SHIFT = 11;
/** Bytes per slot. */
export const IO_TLB_SIZE = 1 << IO_TLB_SHIFT;
/** Free-run counters never span a segment: the largest contiguous bounce buffer is 128 slots. */
export const IO_TLB_SEGSIZE = 128;
/** Default pool size: 64 MiB = 32768 slots. */
export const IO_TLB_DEFAULT_SIZE = 64 * 1024 * 1024;
/** Floor of the boot allocation's halving fall-back (1 MiB). */
export const IO_TLB_MIN_SLABS = (1 << 20) >> IO_TLB_SHIFT;
/** 128 slots x 2 KiB: the ceiling no pool size can lift. */
export const IO_TLB_SEGMENT_BYTES = IO_TLB_SEGSIZE * IO_TLB_SIZE;
/** x86 and most arm64 builds. */
export const DEFAULT_PAGE_SHIFT = 12;

/** 2^53: the model keeps addresses as exact JS integers below this. */
export const ADDR_LIMIT = 2 ** 53;

export enum DmaDirection {
  BIDIRECTIONAL = 0,
  TO_DEVICE = 1,
  FROM_DEVICE = 2,
  NONE = 3,
}

export const DMA_DIRECTION_NAMES: Record<DmaDirection, string> = {
  [DmaDirection.BIDIRECTIONAL]: 'DMA_BIDIRECTIONAL',
  [DmaDirection.TO_DEVICE]: 'DMA_TO_DEVICE',
  [DmaDirection.FROM_DEVICE]: 'DMA_FROM_DEVICE',
  [DmaDirection.NONE]: 'DMA_NONE',
};

/** Parses `DMA_TO_DEVICE`, `TO_DEVICE`, `to_device`, `1`, ... Returns undefined when unknown. */
export function parseDmaDirection(text: string | number): DmaDirection | undefined {
  if (typeof text === 'number') {
    return Number.isInteger(text) && text >= 0 && text <= 3 ? (text as DmaDirection) : undefined;
  }
  const t = text
    .trim()
    .toUpperCase()
    .replace(/^DMA_/, '')
    .replace(/^PCI_DMA_/, '');
  switch (t) {
    case 'BIDIRECTIONAL':
    case 'BIDI':
    case '0':
      return DmaDirection.BIDIRECTIONAL;
    case 'TO_DEVICE':
    case 'TODEVICE':
    case '1':
      return DmaDirection.TO_DEVICE;
    case 'FROM_DEVICE':
    case 'FROMDEVICE':
    case '2':
      return DmaDirection.FROM_DEVICE;
    case 'NONE':
    case '3':
      return DmaDirection.NONE;
    default:
      return undefined;
  }
}

/** DMA attributes (bit values of include/linux/dma-mapping.h). */
export const DMA_ATTR = {
  WEAK_ORDERING: 1 << 1,
  WRITE_COMBINE: 1 << 2,
  NO_KERNEL_MAPPING: 1 << 4,
  SKIP_CPU_SYNC: 1 << 5,
  FORCE_CONTIGUOUS: 1 << 6,
  ALLOC_SINGLE_PAGES: 1 << 7,
  NO_WARN: 1 << 8,
  PRIVILEGED: 1 << 9,
  MMIO: 1 << 10,
} as const;

/** Number of slots needed for `bytes` (nr_slots()). */
export function nrSlots(bytes: number): number {
  return Math.ceil(bytes / IO_TLB_SIZE);
}

/** get_order(): smallest order with (PAGE_SIZE << order) >= size. */
export function getOrder(size: number, pageShift: number): number {
  let order = 0;
  while (2 ** (pageShift + order) < size) order++;
  return order;
}
