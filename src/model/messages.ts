/**
 * The exact texts the kernel prints about swiotlb, per version (format strings from
 * kernel/dma/swiotlb.c and kernel/dma/direct.c). dev_warn() prefixes "<driver> <device>: ",
 * pr_info() in swiotlb.c prefixes "software IO TLB: ".
 */

export const SWIOTLB_PR_PREFIX = 'software IO TLB: ';

/** dev_printk prefix: "nvme 0000:00:03.0: " when both names are known. */
export function devPrefix(dev?: { driver?: string; name?: string }): string {
  if (!dev?.name) return '';
  return dev.driver ? `${dev.driver} ${dev.name}: ` : `${dev.name}: `;
}

export function bufferFullMessage(sz: number, totalSlots: number, usedSlots: number): string {
  return `swiotlb buffer is full (sz: ${sz} bytes), total ${totalSlots} (slots), used ${usedSlots} (slots)`;
}

export function invalidSizesMessage(mappingSize: number, allocSize: number): string {
  return `Invalid sizes (mapping: ${mappingSize} bytes, alloc: ${allocSize} bytes)`;
}

export const NO_POOL_MESSAGE = "Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer";

export const MEM_ENCRYPT_MESSAGE = 'Memory encryption is active and system is using DMA bounce buffers';

export const ALLOC_ALIGN_WARNING = 'Alloc alignment may prevent fulfilling requests with max mapping_size';

export function unalignedAllocMessage(addr: number): string {
  return `Cannot allocate pages from non page-aligned swiotlb addr ${hexPa(addr)}.`;
}

export function accessBeforeStartMessage(origOffset: number, requestedOffset: number): string {
  return `Access before mapping start detected. orig offset ${origOffset}, requested offset ${requestedOffset}.`;
}

export function overflowWithOffsetMessage(allocSize: number, size: number, offset: number): string {
  return `Buffer overflow detected. Allocation size: ${allocSize}. Mapping size: ${size}+${offset}.`;
}

export function overflowMessage(allocSize: number, size: number): string {
  return `Buffer overflow detected. Allocation size: ${allocSize}. Mapping size: ${size}.`;
}

/** %pa on a 64-bit kernel: 0x followed by 16 hex digits. */
export function hexPa(addr: number): string {
  return `0x${addr.toString(16).padStart(16, '0')}`;
}

/** "mapped [mem 0x...-0x...] (64MB)" (swiotlb_print_info). */
export function mappedMessage(start: number, nslabs: number): string {
  const bytes = nslabs * 2048;
  return `${SWIOTLB_PR_PREFIX}mapped [mem ${hexPa(start)}-${hexPa(start + bytes)}] (${Math.floor(bytes / 2 ** 20)}MB)`;
}
