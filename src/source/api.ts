/**
 * The DMA API as drivers call it (include/linux/dma-mapping.h, dmapool.h, and the legacy
 * pci-dma-compat.h wrappers removed in 5.18): what each call does and which argument holds the
 * device, the buffer, the size, the direction and the attributes.
 */

/** What a call does. */
export type SiteRole =
  | 'map'
  | 'unmap'
  | 'sync_cpu'
  | 'sync_device'
  | 'alloc'
  | 'free'
  | 'pool_create'
  | 'pool_alloc'
  | 'pool_free'
  | 'pool_destroy'
  | 'set_mask'
  | 'set_coherent_mask'
  | 'set_mask_and_coherent'
  | 'set_min_align_mask'
  | 'set_seg_boundary'
  | 'set_max_seg_size';

/** Maps and their unmaps/syncs pair within a family (the DMA-API debug "map type"). */
export type SiteFamily =
  | 'single'
  | 'page'
  | 'phys'
  | 'sg'
  | 'sgtable'
  | 'resource'
  | 'coherent'
  | 'noncoherent'
  | 'pages'
  | 'pool'
  | 'setup';

export interface ApiSpec {
  readonly name: string;
  readonly role: SiteRole;
  readonly family: SiteFamily;
  /** Argument indexes (undefined: the call has no such argument). */
  readonly dev?: number;
  /** The legacy pci_* wrappers take the struct pci_dev, not its struct device. */
  readonly pciDev?: boolean;
  /** The CPU buffer (map: pointer, page or scatterlist; free: cpu address). */
  readonly buf?: number;
  /** dma_map_page's offset into the page; dma_sync_single_range_*'s offset into the mapping. */
  readonly offset?: number;
  /** The DMA handle (unmap, sync, free) or the dma_addr_t * the allocation fills in. */
  readonly handle?: number;
  readonly size?: number;
  /** Scatterlist entries (dma_map_sg's nents). */
  readonly nents?: number;
  readonly dir?: number;
  readonly attrs?: number;
  /** The mask or value a set-up call sets. */
  readonly value?: number;
  /** dma_pool_create: the pool's name, align and boundary; pool calls: the pool. */
  readonly pool?: number;
  readonly align?: number;
  readonly boundary?: number;
  /** The call the decision layer simulates for it (legacy wrappers become what they wrap). */
  readonly simulateAs?: string;
  /** Devres-managed: released by the driver core, no free needed. */
  readonly managed?: boolean;
  /** Removed from the kernel (5.18): still found in old drivers. */
  readonly legacy?: boolean;
}

const A: ApiSpec[] = [
  // streaming maps
  { name: 'dma_map_single', role: 'map', family: 'single', dev: 0, buf: 1, size: 2, dir: 3 },
  { name: 'dma_map_single_attrs', role: 'map', family: 'single', dev: 0, buf: 1, size: 2, dir: 3, attrs: 4 },
  { name: 'dma_map_page', role: 'map', family: 'page', dev: 0, buf: 1, offset: 2, size: 3, dir: 4 },
  { name: 'dma_map_page_attrs', role: 'map', family: 'page', dev: 0, buf: 1, offset: 2, size: 3, dir: 4, attrs: 5 },
  { name: 'dma_map_phys', role: 'map', family: 'phys', dev: 0, buf: 1, size: 2, dir: 3, attrs: 4 },
  { name: 'dma_map_sg', role: 'map', family: 'sg', dev: 0, buf: 1, nents: 2, dir: 3 },
  { name: 'dma_map_sg_attrs', role: 'map', family: 'sg', dev: 0, buf: 1, nents: 2, dir: 3, attrs: 4 },
  { name: 'dma_map_sgtable', role: 'map', family: 'sgtable', dev: 0, buf: 1, dir: 2, attrs: 3 },
  { name: 'dma_map_resource', role: 'map', family: 'resource', dev: 0, buf: 1, size: 2, dir: 3, attrs: 4 },
  // unmaps
  { name: 'dma_unmap_single', role: 'unmap', family: 'single', dev: 0, handle: 1, size: 2, dir: 3 },
  { name: 'dma_unmap_single_attrs', role: 'unmap', family: 'single', dev: 0, handle: 1, size: 2, dir: 3, attrs: 4 },
  { name: 'dma_unmap_page', role: 'unmap', family: 'page', dev: 0, handle: 1, size: 2, dir: 3 },
  { name: 'dma_unmap_page_attrs', role: 'unmap', family: 'page', dev: 0, handle: 1, size: 2, dir: 3, attrs: 4 },
  { name: 'dma_unmap_phys', role: 'unmap', family: 'phys', dev: 0, handle: 1, size: 2, dir: 3, attrs: 4 },
  { name: 'dma_unmap_sg', role: 'unmap', family: 'sg', dev: 0, handle: 1, nents: 2, dir: 3 },
  { name: 'dma_unmap_sg_attrs', role: 'unmap', family: 'sg', dev: 0, handle: 1, nents: 2, dir: 3, attrs: 4 },
  { name: 'dma_unmap_sgtable', role: 'unmap', family: 'sgtable', dev: 0, handle: 1, dir: 2, attrs: 3 },
  { name: 'dma_unmap_resource', role: 'unmap', family: 'resource', dev: 0, handle: 1, size: 2, dir: 3, attrs: 4 },
  // syncs
  { name: 'dma_sync_single_for_cpu', role: 'sync_cpu', family: 'single', dev: 0, handle: 1, size: 2, dir: 3 },
  { name: 'dma_sync_single_for_device', role: 'sync_device', family: 'single', dev: 0, handle: 1, size: 2, dir: 3 },
  { name: 'dma_sync_single_range_for_cpu', role: 'sync_cpu', family: 'single', dev: 0, handle: 1, offset: 2, size: 3, dir: 4 },
  { name: 'dma_sync_single_range_for_device', role: 'sync_device', family: 'single', dev: 0, handle: 1, offset: 2, size: 3, dir: 4 },
  { name: 'dma_sync_sg_for_cpu', role: 'sync_cpu', family: 'sg', dev: 0, handle: 1, nents: 2, dir: 3 },
  { name: 'dma_sync_sg_for_device', role: 'sync_device', family: 'sg', dev: 0, handle: 1, nents: 2, dir: 3 },
  { name: 'dma_sync_sgtable_for_cpu', role: 'sync_cpu', family: 'sgtable', dev: 0, handle: 1, dir: 2 },
  { name: 'dma_sync_sgtable_for_device', role: 'sync_device', family: 'sgtable', dev: 0, handle: 1, dir: 2 },
  // coherent and non-coherent allocations
  { name: 'dma_alloc_coherent', role: 'alloc', family: 'coherent', dev: 0, size: 1, handle: 2 },
  { name: 'dma_alloc_attrs', role: 'alloc', family: 'coherent', dev: 0, size: 1, handle: 2, attrs: 4 },
  { name: 'dma_alloc_wc', role: 'alloc', family: 'coherent', dev: 0, size: 1, handle: 2, simulateAs: 'dma_alloc_attrs' },
  { name: 'dmam_alloc_coherent', role: 'alloc', family: 'coherent', dev: 0, size: 1, handle: 2, managed: true },
  { name: 'dmam_alloc_attrs', role: 'alloc', family: 'coherent', dev: 0, size: 1, handle: 2, attrs: 4, managed: true },
  { name: 'dma_alloc_noncoherent', role: 'alloc', family: 'noncoherent', dev: 0, size: 1, handle: 2, dir: 3 },
  { name: 'dma_alloc_pages', role: 'alloc', family: 'pages', dev: 0, size: 1, handle: 2, dir: 3, simulateAs: 'dma_alloc_noncoherent' },
  { name: 'dma_free_coherent', role: 'free', family: 'coherent', dev: 0, size: 1, buf: 2, handle: 3 },
  { name: 'dma_free_attrs', role: 'free', family: 'coherent', dev: 0, size: 1, buf: 2, handle: 3, attrs: 4 },
  { name: 'dma_free_wc', role: 'free', family: 'coherent', dev: 0, size: 1, buf: 2, handle: 3, simulateAs: 'dma_free_attrs' },
  { name: 'dmam_free_coherent', role: 'free', family: 'coherent', dev: 0, size: 1, buf: 2, handle: 3, managed: true },
  { name: 'dma_free_noncoherent', role: 'free', family: 'noncoherent', dev: 0, size: 1, buf: 2, handle: 3, dir: 4 },
  { name: 'dma_free_pages', role: 'free', family: 'pages', dev: 0, size: 1, buf: 2, handle: 3, dir: 4, simulateAs: 'dma_free_noncoherent' },
  // dma pools (coherent memory carved into blocks)
  { name: 'dma_pool_create', role: 'pool_create', family: 'pool', pool: 0, dev: 1, size: 2, align: 3, boundary: 4 },
  { name: 'dmam_pool_create', role: 'pool_create', family: 'pool', pool: 0, dev: 1, size: 2, align: 3, boundary: 4, managed: true },
  { name: 'dma_pool_alloc', role: 'pool_alloc', family: 'pool', pool: 0, handle: 2 },
  { name: 'dma_pool_zalloc', role: 'pool_alloc', family: 'pool', pool: 0, handle: 2 },
  { name: 'dma_pool_free', role: 'pool_free', family: 'pool', pool: 0, buf: 1, handle: 2 },
  { name: 'dma_pool_destroy', role: 'pool_destroy', family: 'pool', pool: 0 },
  // device set-up
  { name: 'dma_set_mask', role: 'set_mask', family: 'setup', dev: 0, value: 1 },
  { name: 'dma_set_coherent_mask', role: 'set_coherent_mask', family: 'setup', dev: 0, value: 1 },
  { name: 'dma_set_mask_and_coherent', role: 'set_mask_and_coherent', family: 'setup', dev: 0, value: 1 },
  { name: 'dma_coerce_mask_and_coherent', role: 'set_mask_and_coherent', family: 'setup', dev: 0, value: 1 },
  { name: 'dma_set_min_align_mask', role: 'set_min_align_mask', family: 'setup', dev: 0, value: 1 },
  { name: 'dma_set_seg_boundary', role: 'set_seg_boundary', family: 'setup', dev: 0, value: 1 },
  { name: 'dma_set_max_seg_size', role: 'set_max_seg_size', family: 'setup', dev: 0, value: 1 },
  // legacy PCI wrappers (pci-dma-compat.h, removed in 5.18)
  {
    name: 'pci_map_single',
    role: 'map',
    family: 'single',
    dev: 0,
    pciDev: true,
    buf: 1,
    size: 2,
    dir: 3,
    legacy: true,
    simulateAs: 'dma_map_single',
  },
  {
    name: 'pci_map_page',
    role: 'map',
    family: 'page',
    dev: 0,
    pciDev: true,
    buf: 1,
    offset: 2,
    size: 3,
    dir: 4,
    legacy: true,
    simulateAs: 'dma_map_page',
  },
  { name: 'pci_map_sg', role: 'map', family: 'sg', dev: 0, pciDev: true, buf: 1, nents: 2, dir: 3, legacy: true, simulateAs: 'dma_map_sg' },
  {
    name: 'pci_unmap_single',
    role: 'unmap',
    family: 'single',
    dev: 0,
    pciDev: true,
    handle: 1,
    size: 2,
    dir: 3,
    legacy: true,
    simulateAs: 'dma_unmap_single',
  },
  {
    name: 'pci_unmap_page',
    role: 'unmap',
    family: 'page',
    dev: 0,
    pciDev: true,
    handle: 1,
    size: 2,
    dir: 3,
    legacy: true,
    simulateAs: 'dma_unmap_page',
  },
  {
    name: 'pci_unmap_sg',
    role: 'unmap',
    family: 'sg',
    dev: 0,
    pciDev: true,
    handle: 1,
    nents: 2,
    dir: 3,
    legacy: true,
    simulateAs: 'dma_unmap_sg',
  },
  {
    name: 'pci_dma_sync_single_for_cpu',
    role: 'sync_cpu',
    family: 'single',
    dev: 0,
    pciDev: true,
    handle: 1,
    size: 2,
    dir: 3,
    legacy: true,
    simulateAs: 'dma_sync_single_for_cpu',
  },
  {
    name: 'pci_dma_sync_single_for_device',
    role: 'sync_device',
    family: 'single',
    dev: 0,
    pciDev: true,
    handle: 1,
    size: 2,
    dir: 3,
    legacy: true,
    simulateAs: 'dma_sync_single_for_device',
  },
  {
    name: 'pci_dma_sync_sg_for_cpu',
    role: 'sync_cpu',
    family: 'sg',
    dev: 0,
    pciDev: true,
    handle: 1,
    nents: 2,
    dir: 3,
    legacy: true,
    simulateAs: 'dma_sync_sg_for_cpu',
  },
  {
    name: 'pci_dma_sync_sg_for_device',
    role: 'sync_device',
    family: 'sg',
    dev: 0,
    pciDev: true,
    handle: 1,
    nents: 2,
    dir: 3,
    legacy: true,
    simulateAs: 'dma_sync_sg_for_device',
  },
  {
    name: 'pci_alloc_consistent',
    role: 'alloc',
    family: 'coherent',
    dev: 0,
    pciDev: true,
    size: 1,
    handle: 2,
    legacy: true,
    simulateAs: 'dma_alloc_coherent',
  },
  {
    name: 'pci_zalloc_consistent',
    role: 'alloc',
    family: 'coherent',
    dev: 0,
    pciDev: true,
    size: 1,
    handle: 2,
    legacy: true,
    simulateAs: 'dma_alloc_coherent',
  },
  {
    name: 'pci_free_consistent',
    role: 'free',
    family: 'coherent',
    dev: 0,
    pciDev: true,
    size: 1,
    buf: 2,
    handle: 3,
    legacy: true,
    simulateAs: 'dma_free_coherent',
  },
  { name: 'pci_set_dma_mask', role: 'set_mask', family: 'setup', dev: 0, pciDev: true, value: 1, legacy: true },
  { name: 'pci_set_consistent_dma_mask', role: 'set_coherent_mask', family: 'setup', dev: 0, pciDev: true, value: 1, legacy: true },
];

export const DMA_API: ReadonlyMap<string, ApiSpec> = new Map(A.map((s) => [s.name, s]));

export function apiSpec(name: string): ApiSpec | undefined {
  return DMA_API.get(name);
}

export const isMapRole = (r: SiteRole) => r === 'map';
export const isSetupRole = (r: SiteRole) => r.startsWith('set_');
export const isSyncRole = (r: SiteRole) => r === 'sync_cpu' || r === 'sync_device';

/** The call the decision layer runs for a site. */
export function simulatedCall(spec: ApiSpec): string {
  return spec.simulateAs ?? spec.name;
}

const NAMES_BY_PREFIX: ReadonlyMap<string, readonly string[]> = (() => {
  const m = new Map<string, string[]>();
  for (const name of DMA_API.keys()) {
    const p = name.startsWith('dmam_') ? 'dmam_' : name.startsWith('dma_') ? 'dma_' : 'pci_';
    let list = m.get(p);
    if (!list) {
      list = [];
      m.set(p, list);
    }
    list.push(name);
  }
  return m;
})();

/**
 * Whether a file names any DMA API function at all: a cheap skip of files that cannot hold a
 * call, before parsing. Calls themselves are only ever found in the syntax tree (a name in a
 * comment makes the file parsed, never a call).
 */
export function mentionsDmaApi(text: string | Buffer): boolean {
  if (typeof text !== 'string') return mentionsInBytes(text);
  for (const [p, names] of NAMES_BY_PREFIX) {
    for (let i = text.indexOf(p); i >= 0; i = text.indexOf(p, i + 1)) {
      for (const name of names) if (text.startsWith(name, i)) return true;
    }
  }
  return false;
}

const NAMES_AS_BYTES: readonly [Buffer, readonly Buffer[]][] = [...NAMES_BY_PREFIX].map(([p, names]) => [
  Buffer.from(p),
  names.map((n) => Buffer.from(n)),
]);

/** The same test on raw bytes: most files of a tree have no DMA call and need not be decoded. */
function mentionsInBytes(buf: Buffer): boolean {
  for (const [p, names] of NAMES_AS_BYTES) {
    for (let i = buf.indexOf(p); i >= 0; i = buf.indexOf(p, i + 1)) {
      for (const n of names) if (i + n.length <= buf.length && buf.compare(n, 0, n.length, i, i + n.length) === 0) return true;
    }
  }
  return false;
}
