/**
 * Platform profiles: which DMA ops a device gets (dma-direct, xen-swiotlb, iommu-dma), how
 * addresses translate, whether memory is encrypted, and the Xen traits. Each profile lists the
 * assumptions it makes, so a user can tell when it does not describe their machine.
 */
import type { MemEncrypt } from '../setup';

export type PlatformId =
  | 'x86'
  | 'arm64'
  | 'arm64-noncoherent'
  | 'sev-guest'
  | 'tdx-guest'
  | 'cca-realm'
  | 'iommu-untrusted'
  | 'xen-pv-dom0'
  | 'xen-pvh'
  | 'xen-hvm'
  | 'xen-arm64'
  | 'xen-arm64-noncoherent';

export interface XenTraits {
  /** A PV domain: pfn_to_bfn goes through the P2M (not XENFEAT_auto_translated_physmap). */
  readonly pv: boolean;
  /** arm/arm64: foreign (grant-mapped) pages have machine frames of another domain. */
  readonly arm: boolean;
  /** GNTTABOP_cache_flush exists (probed at boot); without it foreign pages of non-coherent devices bounce. */
  readonly cacheFlushHypercall: boolean;
}

export interface PlatformProfile {
  readonly id: PlatformId;
  readonly title: string;
  readonly arch: 'x86' | 'arm64';
  /** Which dma_map_ops streaming calls reach. */
  readonly ops: 'dma-direct' | 'xen-swiotlb' | 'iommu-dma';
  readonly memEncrypt: MemEncrypt;
  /** Devices are coherent unless a device says otherwise. */
  readonly defaultCoherent: boolean;
  readonly xen?: XenTraits;
  /** Where the boot pool is placed (ARCH_LOW_ADDRESS_LIMIT, or anywhere with SWIOTLB_ANY). */
  readonly poolBelow4G: boolean;
  readonly assumptions: readonly string[];
}

const P = (p: PlatformProfile) => p;

export const PLATFORMS: readonly PlatformProfile[] = [
  P({
    id: 'x86',
    title: 'Bare-metal x86 (or a KVM guest without memory encryption)',
    arch: 'x86',
    ops: 'dma-direct',
    memEncrypt: 'none',
    defaultCoherent: true,
    poolBelow4G: true,
    assumptions: [
      'dma-direct for every device (no IOMMU translation, or iommu=pt)',
      'a pool exists if RAM reaches above 4 GiB or swiotlb=force',
      'devices are cache-coherent; DMA address = physical address',
    ],
  }),
  P({
    id: 'arm64',
    title: 'arm64, coherent devices',
    arch: 'arm64',
    ops: 'dma-direct',
    memEncrypt: 'none',
    defaultCoherent: true,
    poolBelow4G: true,
    assumptions: ['dma-direct', 'devices are coherent (dma-coherent in the device tree)', 'dma-ranges offsets as given per device'],
  }),
  P({
    id: 'arm64-noncoherent',
    title: 'arm64, non-coherent devices',
    arch: 'arm64',
    ops: 'dma-direct',
    memEncrypt: 'none',
    defaultCoherent: false,
    poolBelow4G: true,
    assumptions: [
      'dma-direct; devices are not cache-coherent: clean to PoC before the device reads, invalidate before the CPU reads',
      '6.5+: small kmalloc buffers that are not cache-line aligned bounce (DMA_BOUNCE_UNALIGNED_KMALLOC, 64-byte lines, ARCH_DMA_MINALIGN 128)',
    ],
  }),
  P({
    id: 'sev-guest',
    title: 'AMD SEV / SEV-ES / SEV-SNP guest',
    arch: 'x86',
    ops: 'dma-direct',
    memEncrypt: 'sev',
    defaultCoherent: true,
    poolBelow4G: false,
    assumptions: [
      'every dma-direct streaming mapping bounces through shared (decrypted) memory (SWIOTLB_FORCE)',
      'pool = 6 % of RAM, 64 MiB ... 1 GiB (5.10: 64 MiB), placed anywhere',
      'original buffers carry the C-bit in their DMA address; bounce buffers do not',
    ],
  }),
  P({
    id: 'tdx-guest',
    title: 'Intel TDX guest',
    arch: 'x86',
    ops: 'dma-direct',
    memEncrypt: 'tdx',
    defaultCoherent: true,
    poolBelow4G: false,
    assumptions: ['every dma-direct streaming mapping bounces (SWIOTLB_FORCE)', 'pool = 6 % of RAM on 6.12+, 64 MiB before'],
  }),
  P({
    id: 'cca-realm',
    title: 'Arm CCA realm',
    arch: 'arm64',
    ops: 'dma-direct',
    memEncrypt: 'realm',
    defaultCoherent: true,
    poolBelow4G: false,
    assumptions: ['every streaming mapping bounces through shared memory (SWIOTLB_FORCE, 7.x)', 'coherent devices'],
  }),
  P({
    id: 'iommu-untrusted',
    title: 'x86 with an IOMMU (iommu-dma): trusted and untrusted devices',
    arch: 'x86',
    ops: 'iommu-dma',
    memEncrypt: 'none',
    defaultCoherent: true,
    poolBelow4G: true,
    assumptions: [
      'every device is translated by the IOMMU; the IOVA it gets is not modelled',
      'untrusted (external, Thunderbolt) devices bounce buffers that are not aligned to the IOVA granule (4 KiB)',
      'trusted devices never bounce',
    ],
  }),
  P({
    id: 'xen-pv-dom0',
    title: 'Xen PV dom0 (x86)',
    arch: 'x86',
    ops: 'xen-swiotlb',
    memEncrypt: 'none',
    defaultCoherent: true,
    xen: { pv: true, arm: false, cacheFlushHypercall: false },
    poolBelow4G: false,
    assumptions: [
      'xen-swiotlb ops for every device; DMA addresses are machine addresses (P2M translation)',
      'buffers that are not machine-contiguous bounce (straddle check)',
      'the pool is reserved anywhere in pseudo-physical memory, each 128-slot segment exchanged for machine memory below 4 GiB',
      "machine frames from the given P2M, or a generated layout (Xen's low-memory buddy order for the pool)",
    ],
  }),
  P({
    id: 'xen-pvh',
    title: 'Xen PVH domain, incl. PVH dom0 (x86, auto-translated)',
    arch: 'x86',
    ops: 'dma-direct',
    memEncrypt: 'none',
    defaultCoherent: true,
    xen: { pv: false, arm: false, cacheFlushHypercall: false },
    poolBelow4G: true,
    assumptions: ['XENFEAT_auto_translated_physmap: translation is the identity', 'dma-direct and plain swiotlb, as on bare metal'],
  }),
  P({
    id: 'xen-hvm',
    title: 'Xen HVM guest (x86, auto-translated)',
    arch: 'x86',
    ops: 'dma-direct',
    memEncrypt: 'none',
    defaultCoherent: true,
    xen: { pv: false, arm: false, cacheFlushHypercall: false },
    poolBelow4G: true,
    assumptions: ['translation is the identity; dma-direct and plain swiotlb'],
  }),
  P({
    id: 'xen-arm64',
    title: 'Xen on arm64, dom0 with coherent devices',
    arch: 'arm64',
    ops: 'xen-swiotlb',
    memEncrypt: 'none',
    defaultCoherent: true,
    xen: { pv: false, arm: true, cacheFlushHypercall: true },
    poolBelow4G: true,
    assumptions: [
      'dom0 is 1:1 mapped: local pages translate to themselves',
      'foreign (grant-mapped) pages have machine frames of other domains',
    ],
  }),
  P({
    id: 'xen-arm64-noncoherent',
    title: 'Xen on arm64, dom0 with non-coherent devices',
    arch: 'arm64',
    ops: 'xen-swiotlb',
    memEncrypt: 'none',
    defaultCoherent: false,
    xen: { pv: false, arm: true, cacheFlushHypercall: true },
    poolBelow4G: true,
    assumptions: [
      'foreign pages get cache maintenance by GNTTABOP_cache_flush hypercalls, one per 4 KiB Xen page',
      'without that hypercall (cache_flush_hypercall: false) foreign pages bounce instead',
    ],
  }),
];

export function platformById(id: string): PlatformProfile | undefined {
  return PLATFORMS.find((p) => p.id === id);
}

export const PLATFORM_IDS: readonly string[] = PLATFORMS.map((p) => p.id);
