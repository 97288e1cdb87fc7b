/**
 * Every kernel log wording the analysis reads, declared once: the format string as the kernel's
 * source prints it, the kernel versions and the source location that printed it, and which
 * placeholder is which. The matching regex, the "does this line stop in the middle of the
 * message" test of the wrapped-line pre-pass (klogLines.ts) and the quick filter are derived from
 * it. Version ranges are the upstream ones read from the kernel's history (vendor kernels
 * backport wordings; the log's own wording is what counts).
 *
 * Placeholders are the kernel's printf ones (%d %u %zu %zd %lu %ld %llu, %x %llx, %pa %pad
 * %#010llx as 0x-hex, %p %pS %s as a word); a few printed parts that vary beyond printf use our
 * own: %{comm} (a task name), %{taint} (`Not tainted` or `Tainted: G  W ...`), %{release} (a
 * kernel release), %{rest} (the rest of the line).
 */
import type { LogMessageKind } from './klog';

/** What a placeholder holds: the LogMessage field it fills. */
export type FormatField =
  | 'size'
  | 'total'
  | 'used'
  | 'addr'
  | 'mask'
  | 'busLimit'
  | 'base'
  | 'end'
  | 'mb'
  | 'value'
  | 'device'
  | 'detail'
  | 'release'
  | 'file'
  | 'srcLine'
  | 'func'
  | 'skip';

export interface KernelFormat {
  /** Stable name of the wording (LogMessage.format). */
  readonly id: string;
  readonly kind: LogMessageKind;
  /** The format string as the kernel's source has it, after any pr_fmt prefix. */
  readonly format: string;
  /** Our matching template when the printed text varies beyond printf (else `format`). */
  readonly match?: string;
  /** One field per placeholder of the template, in order. */
  readonly fields: readonly FormatField[];
  /** Where the device comes from: the dev_printk "<driver> <device>: " prefix, an argument, or none. */
  readonly device: 'prefix' | 'arg' | 'none';
  /** Upstream versions that print it. */
  readonly versions: string;
  /** File and function. */
  readonly source: string;
  /** The pr_fmt (or literal) prefix the kernel prints before it, when the format string lacks it. */
  readonly prefix?: string;
  /** Fixed values the wording implies (e.g. which feature an old message names). */
  readonly fixed?: { readonly detail?: string };
  /** An extra condition on the matched fields (e.g. which function a rate limit note names). */
  readonly where?: (fields: Readonly<Partial<Record<FormatField, string>>>) => boolean;
}

const SWIOTLB_FUNCS = /swiotlb|map_single|map_page/;

/** Most specific first: the first format that matches a line is the line's wording. */
export const KERNEL_FORMATS: readonly KernelFormat[] = [
  // ------------------------------------------------------------ failed maps
  {
    id: 'full',
    kind: 'full',
    format: 'swiotlb buffer is full (sz: %zd bytes), total %lu (slots), used %lu (slots)',
    fields: ['size', 'total', 'used'],
    device: 'prefix',
    versions: '5.2+ (backported to some vendor 4.14 kernels)',
    source: 'kernel/dma/swiotlb.c swiotlb_tbl_map_single(), dev_warn_ratelimited',
  },
  {
    id: 'full-sized',
    kind: 'full',
    format: 'swiotlb buffer is full (sz: %zd bytes)',
    fields: ['size'],
    device: 'prefix',
    versions: '3.x-5.1',
    source: 'lib/swiotlb.c (kernel/dma/swiotlb.c from 4.17) swiotlb_tbl_map_single(), dev_warn under printk_ratelimit()',
  },
  {
    id: 'full-bare',
    kind: 'full',
    format: 'swiotlb buffer is full',
    fields: [],
    device: 'prefix',
    versions: '3.x-4.x',
    source: 'drivers/xen/swiotlb-xen.c xen_swiotlb_map_sg_attrs(); lib/swiotlb.c of 3.x',
  },
  {
    id: 'oos-at-device',
    kind: 'out-of-space',
    format: 'DMA: Out of SW-IOMMU space for %zu bytes at device %s',
    fields: ['size', 'device'],
    device: 'arg',
    versions: '2.6.x-4.0 (2.6.1x prints "PCI-DMA: ...")',
    source: 'lib/swiotlb.c swiotlb_full(), printk(KERN_ERR)',
    prefix: 'PCI-',
  },
  {
    id: 'oos',
    kind: 'out-of-space',
    format: 'DMA: Out of SW-IOMMU space for %zu bytes.',
    fields: ['size'],
    device: 'prefix',
    versions: '4.1-4.19 (dev_err, from 4.10 dev_err_ratelimited)',
    source: 'lib/swiotlb.c (kernel/dma/swiotlb.c from 4.17) swiotlb_full()',
  },
  {
    id: 'panic-corrupted',
    kind: 'panic',
    format: 'DMA: Memory would be corrupted',
    fields: [],
    device: 'none',
    versions: '2.6.x (2.6.1x: "PCI-DMA: ...")',
    source: 'lib/swiotlb.c swiotlb_full(), panic() after a failed map above the overflow buffer',
  },
  {
    id: 'panic-dmaed',
    kind: 'panic',
    format: 'DMA: Random memory would be DMAed',
    fields: [],
    device: 'none',
    versions: '2.6.x (2.6.1x: "PCI-DMA: ...")',
    source: 'lib/swiotlb.c swiotlb_full(), panic()',
  },
  {
    id: 'panic-random',
    kind: 'panic',
    format: 'DMA: Random memory could be DMA %s',
    fields: ['detail'],
    device: 'none',
    versions: '2.6.2x-4.19 (accessed / written / read)',
    source: 'lib/swiotlb.c swiotlb_full(), panic()',
  },
  {
    id: 'coherent-device',
    kind: 'coherent-failed',
    format: 'coherent allocation failed for device %s size=%zu',
    fields: ['device', 'size'],
    device: 'arg',
    versions: '2.6.3x-4.15 (printed as "swiotlb: coherent allocation failed ...")',
    source: 'lib/swiotlb.c swiotlb_alloc_coherent(), pr_warn + dump_stack',
    prefix: 'swiotlb: ',
  },
  {
    id: 'coherent',
    kind: 'coherent-failed',
    format: 'coherent allocation failed, size=%zu',
    fields: ['size'],
    device: 'prefix',
    versions: '4.16-4.19 (printed as "<driver> <device>: swiotlb: coherent allocation failed, size=N")',
    source: 'kernel/dma/swiotlb.c swiotlb_alloc_buffer(), dev_warn + dump_stack',
    prefix: 'swiotlb: ',
  },
  {
    id: 'coherent-mask',
    kind: 'coherent-mask',
    format: 'hwdev DMA mask = 0x%016Lx, dev_addr = 0x%016Lx',
    fields: ['mask', 'addr'],
    device: 'prefix',
    versions: '2.6.x-4.19',
    source: 'lib/swiotlb.c swiotlb_alloc_coherent() / swiotlb_alloc_buffer(): the bounce buffer is above the coherent mask',
  },
  {
    id: 'cannot-dma',
    kind: 'cannot-dma',
    format: 'Cannot do DMA to address %pa',
    fields: ['addr'],
    device: 'prefix',
    versions: '4.10-5.6',
    source: 'lib/swiotlb.c map_single(), kernel/dma/swiotlb.c swiotlb_map(): swiotlb=noforce',
  },
  {
    id: 'overflow-device-bus-mask',
    kind: 'overflow',
    format: 'overflow %pad+%zu of device mask %llx bus mask %llx',
    fields: ['addr', 'size', 'mask', 'busLimit'],
    device: 'prefix',
    versions: '4.19-4.20 (after "dma_direct_map_page: " or "dma_direct_map_sg: ")',
    source: 'kernel/dma/direct.c check_addr(), dev_err',
  },
  {
    id: 'overflow-device-mask',
    kind: 'overflow',
    format: 'overflow %pad+%zu of device mask %llx',
    fields: ['addr', 'size', 'mask'],
    device: 'prefix',
    versions: '4.16-4.18 (after the caller: "dma_direct_map_page: ")',
    source: 'lib/dma-direct.c (kernel/dma/direct.c from 4.17) check_addr(), dev_err',
  },
  {
    id: 'overflow-bus-mask',
    kind: 'overflow',
    format: 'overflow %pad+%zu of DMA mask %llx bus mask %llx',
    fields: ['addr', 'size', 'mask', 'busLimit'],
    device: 'prefix',
    versions: '5.0-5.4',
    source: 'kernel/dma/direct.c report_addr() + WARN_ON_ONCE',
  },
  {
    id: 'overflow-bus-limit',
    kind: 'overflow',
    format: 'overflow %pad+%zu of DMA mask %llx bus limit %llx',
    fields: ['addr', 'size', 'mask', 'busLimit'],
    device: 'prefix',
    versions: '5.5-5.6 (and backports, e.g. Raspberry Pi 5.4)',
    source: 'kernel/dma/direct.c report_addr() + WARN_ON_ONCE',
  },
  {
    id: 'dma-addr-overflow',
    kind: 'overflow',
    format: 'DMA addr %pad+%zu overflow (mask %llx, bus limit %llx).',
    fields: ['addr', 'size', 'mask', 'busLimit'],
    device: 'prefix',
    versions: '5.7+',
    source:
      'kernel/dma/direct.c (direct.h from 5.10) dma_direct_map_page(), dma_direct_map_resource(): dev_err_once + WARN, later dev_WARN_ONCE',
  },
  {
    id: 'swiotlb-addr-overflow',
    kind: 'overflow',
    format: 'swiotlb addr %pad+%zu overflow (mask %llx, bus limit %llx).',
    fields: ['addr', 'size', 'mask', 'busLimit'],
    device: 'prefix',
    versions: '5.7+',
    source: 'kernel/dma/swiotlb.c swiotlb_map(), dev_WARN_ONCE: the bounce buffer is beyond the mask',
  },
  {
    id: 'no-pool',
    kind: 'no-pool',
    format: "Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer",
    fields: [],
    device: 'prefix',
    versions: '3.x-5.15 panic(), 5.16+ dev_warn_ratelimited',
    source: 'kernel/dma/swiotlb.c swiotlb_tbl_map_single(): no pool',
  },
  {
    id: 'invalid-sizes',
    kind: 'invalid-sizes',
    format: 'Invalid sizes (mapping: %zd bytes, alloc: %zd bytes)',
    fields: ['size', 'value'],
    device: 'prefix',
    versions: '5.11-6.9',
    source: 'kernel/dma/swiotlb.c swiotlb_tbl_map_single(), dev_warn_once',
  },
  {
    id: 'sync-overflow-offset',
    kind: 'sync-overflow',
    format: 'Buffer overflow detected. Allocation size: %zu. Mapping size: %zu+%u.',
    fields: ['value', 'size', 'skip'],
    device: 'prefix',
    versions: '6.x',
    source: 'kernel/dma/swiotlb.c swiotlb_bounce(), dev_WARN_ONCE',
  },
  {
    id: 'sync-overflow',
    kind: 'sync-overflow',
    format: 'Buffer overflow detected. Allocation size: %zu. Mapping size: %zu.',
    fields: ['value', 'size'],
    device: 'prefix',
    versions: '5.16+',
    source: 'kernel/dma/swiotlb.c swiotlb_bounce(), dev_WARN_ONCE',
  },
  {
    id: 'sync-before-start',
    kind: 'sync-overflow',
    format: 'Access before mapping start detected. orig offset %u, requested offset %u.',
    fields: ['value', 'skip'],
    device: 'prefix',
    versions: '6.1+',
    source: 'kernel/dma/swiotlb.c swiotlb_bounce(), dev_WARN_ONCE',
  },
  {
    id: 'suppressed',
    kind: 'suppressed',
    format: '%s: %d callbacks suppressed',
    fields: ['func', 'value'],
    device: 'none',
    versions: 'all (the rate limit of swiotlb_tbl_map_single, swiotlb_full, ...)',
    source: 'lib/ratelimit.c ___ratelimit()',
    where: (f) => SWIOTLB_FUNCS.test(f.func ?? ''),
  },
  // ------------------------------------------------------------ the pool at boot
  {
    id: 'mapped',
    kind: 'mapped',
    format: 'software IO TLB: mapped [mem %pa-%pa] (%luMB)',
    fields: ['base', 'end', 'mb'],
    device: 'none',
    versions: '4.20+ (%#010llx before 5.15)',
    source: 'kernel/dma/swiotlb.c swiotlb_print_info()',
  },
  {
    id: 'mapped-at',
    kind: 'mapped',
    format: 'software IO TLB [mem %#010llx-%#010llx] (%luMB) mapped at [%p-%p]',
    fields: ['base', 'end', 'mb', 'skip', 'skip'],
    device: 'none',
    versions: '3.8-4.19 (end inclusive in some releases)',
    source: 'lib/swiotlb.c swiotlb_print_info()',
  },
  {
    id: 'mapped-phys',
    kind: 'mapped',
    format: 'software IO TLB at phys %#llx - %#llx',
    fields: ['base', 'end'],
    device: 'none',
    versions: '2.6.2x-3.7 (after "Placing %luMB software IO TLB between ...")',
    source: 'lib/swiotlb.c swiotlb_print_info()',
  },
  {
    id: 'area-num',
    kind: 'area-num',
    format: 'software IO TLB: area num %d.',
    fields: ['value'],
    device: 'none',
    versions: '6.0+',
    source: 'kernel/dma/swiotlb.c swiotlb_adjust_nareas()',
  },
  {
    id: 'adjusted-slabs',
    kind: 'adjusted',
    format: 'SWIOTLB bounce buffer size adjusted %lu -> %lu slabs',
    fields: ['skip', 'value'],
    device: 'none',
    versions: '6.1.40+, 6.5+',
    source: 'kernel/dma/swiotlb.c swiotlb_init_remap(): the boot reservation was halved',
    prefix: 'software IO TLB: ',
  },
  {
    id: 'adjusted-mb',
    kind: 'adjusted',
    format: 'SWIOTLB bounce buffer size adjusted to %luMB',
    fields: ['mb'],
    device: 'none',
    versions: '5.11+',
    source: 'kernel/dma/swiotlb.c swiotlb_adjust_size() (SEV/TDX and arm64 sizing)',
    prefix: 'software IO TLB: ',
  },
  {
    id: 'roundup',
    kind: 'roundup',
    format: 'SWIOTLB bounce buffer size roundup to %luMB',
    fields: ['mb'],
    device: 'none',
    versions: '6.0+',
    source: 'kernel/dma/swiotlb.c swiotlb_adjust_nareas()',
    prefix: 'software IO TLB: ',
  },
  {
    id: 'alloc-limited-for',
    kind: 'alloc-limited',
    format: 'Warning: only able to allocate %ld MB for software IO TLB',
    fields: ['mb'],
    device: 'none',
    versions: '3.x-5.16 xen ("xen:swiotlb_xen: Warning: ..."); lib/swiotlb.c late init of 2.6-3.x ("DMA: Warning: ...")',
    source: 'drivers/xen/swiotlb-xen.c xen_swiotlb_init(); lib/swiotlb.c swiotlb_late_init_with_default_size()',
    prefix: 'xen:swiotlb_xen: ',
  },
  {
    id: 'alloc-limited',
    kind: 'alloc-limited',
    format: 'only able to allocate %ld MB',
    fields: ['mb'],
    device: 'none',
    versions: '4.x+ ("software IO TLB: only able to allocate ...")',
    source: 'kernel/dma/swiotlb.c swiotlb_late_init_with_default_size(), swiotlb_init_late()',
    prefix: 'software IO TLB: ',
  },
  {
    id: 'xen-lowering',
    kind: 'alloc-limited',
    format: 'Lowering to %luMB',
    fields: ['mb'],
    device: 'none',
    versions: '3.x-5.16 ("xen:swiotlb_xen: Lowering to ...")',
    source: 'drivers/xen/swiotlb-xen.c xen_swiotlb_init(): retrying a smaller pool',
    prefix: 'xen:swiotlb_xen: ',
  },
  {
    id: 'xen-no-buffer',
    kind: 'alloc-failed',
    format: 'Cannot allocate Xen-SWIOTLB buffer',
    fields: [],
    device: 'none',
    versions: '3.x-5.16',
    source: 'drivers/xen/swiotlb-xen.c xen_swiotlb_error()',
    prefix: 'xen:swiotlb_xen: ',
  },
  {
    id: 'xen-no-contiguous',
    kind: 'alloc-failed',
    format: 'Failed to get contiguous memory for DMA from Xen!',
    fields: [],
    device: 'none',
    versions: '3.x-5.16',
    source: 'drivers/xen/swiotlb-xen.c xen_swiotlb_error(): xen_swiotlb_fixup() failed',
    prefix: 'xen:swiotlb_xen: ',
  },
  {
    id: 'no-low-mem',
    kind: 'alloc-failed',
    format: 'software IO TLB: No low mem',
    fields: [],
    device: 'none',
    versions: '3.x+',
    source: 'kernel/dma/swiotlb.c swiotlb_print_info(): no pool',
  },
  {
    id: 'cannot-allocate',
    kind: 'alloc-failed',
    format: 'software IO TLB: Cannot allocate buffer',
    fields: [],
    device: 'none',
    versions: '5.10-5.18',
    source: 'kernel/dma/swiotlb.c swiotlb_init()',
  },
  {
    id: 'tlb-alloc-failed',
    kind: 'alloc-failed',
    format: '%s: Failed to allocate %zu bytes tlb structure',
    fields: ['func', 'size'],
    device: 'none',
    versions: '5.19+',
    source: 'kernel/dma/swiotlb.c swiotlb_memblock_alloc() (retried smaller)',
    prefix: 'software IO TLB: ',
  },
  {
    id: 'tlb-remap-failed',
    kind: 'alloc-failed',
    format: '%s: Failed to remap %zu bytes',
    fields: ['func', 'size'],
    device: 'none',
    versions: '5.19+',
    source: 'kernel/dma/swiotlb.c swiotlb_memblock_alloc() (Xen fixup failed, retried smaller)',
    prefix: 'software IO TLB: ',
  },
  {
    id: 'restricted-pool',
    kind: 'restricted-pool',
    format: 'Reserved memory: created restricted DMA pool at %pa, size %ld MiB',
    fields: ['base', 'mb'],
    device: 'none',
    versions: '5.15+',
    source: 'kernel/dma/swiotlb.c rmem_swiotlb_setup(): a device-tree restricted-dma-pool',
    prefix: 'software IO TLB: ',
  },
  {
    id: 'restricted-highmem',
    kind: 'alloc-failed',
    format: 'Restricted DMA pool must be accessible within the linear mapping.',
    fields: [],
    device: 'prefix',
    versions: '5.15+',
    source: 'kernel/dma/swiotlb.c rmem_swiotlb_device_init()',
  },
  {
    id: 'teardown',
    kind: 'teardown',
    format: 'software IO TLB: tearing down default memory pool',
    fields: [],
    device: 'none',
    versions: '5.x+',
    source: 'kernel/dma/swiotlb.c swiotlb_exit(): an IOMMU took over',
  },
  {
    id: 'pci-dma',
    kind: 'pci-dma',
    format: 'PCI-DMA: Using software bounce buffering for IO (SWIOTLB)',
    fields: [],
    device: 'none',
    versions: '2.6.24+',
    source: 'arch/x86/kernel/pci-swiotlb.c (pci-dma.c from 5.19) pci_swiotlb_late_init()',
  },
  // ------------------------------------------------------------ memory encryption
  {
    id: 'mem-encrypt',
    kind: 'mem-encrypt',
    format: 'Memory encryption is active and system is using DMA bounce buffers',
    fields: [],
    device: 'none',
    versions: '5.1+',
    source: 'kernel/dma/swiotlb.c swiotlb_tbl_map_single(), pr_warn_once at the first bounce',
    prefix: 'software IO TLB: ',
  },
  {
    id: 'sme-sev-active',
    kind: 'mem-encrypt',
    format: '%s is active and system is using DMA bounce buffers',
    fields: ['detail'],
    device: 'none',
    versions: '4.14-5.0 (SME or SEV)',
    source: 'lib/swiotlb.c (kernel/dma/swiotlb.c) swiotlb_tbl_map_single(), pr_warn_once',
    where: (f) => f.detail === 'SME' || f.detail === 'SEV',
  },
  {
    id: 'encryption-features',
    kind: 'encryption-features',
    format: 'Memory Encryption Features active:%s',
    match: 'Memory Encryption Features active: %{rest}',
    fields: ['detail'],
    device: 'none',
    versions: '5.16+ ("AMD Memory Encryption Features active: ..." 5.10-5.15); features appended with pr_cont',
    source: 'arch/x86/mm/mem_encrypt.c print_mem_encrypt_feature_info()',
    prefix: 'AMD ',
  },
  {
    id: 'sev-active',
    kind: 'encryption-features',
    format: 'AMD Secure Encrypted Virtualization (SEV) active',
    fields: [],
    device: 'none',
    versions: '4.16-5.9',
    source: 'arch/x86/mm/mem_encrypt.c print_mem_encrypt_feature_info() / mem_encrypt_init()',
    fixed: { detail: 'SEV' },
  },
  {
    id: 'sme-active',
    kind: 'encryption-features',
    format: 'AMD Secure Memory Encryption (SME) active',
    fields: [],
    device: 'none',
    versions: '4.14-5.9',
    source: 'arch/x86/mm/mem_encrypt.c mem_encrypt_init()',
    fixed: { detail: 'SME' },
  },
  // ------------------------------------------------------------ the machine
  {
    id: 'cmdline',
    kind: 'cmdline',
    format: 'Kernel command line: %s',
    match: 'Kernel command line: %{rest}',
    fields: ['detail'],
    device: 'none',
    versions: 'all',
    source: 'init/main.c start_kernel()',
  },
  {
    id: 'cmdline-x86',
    kind: 'cmdline',
    format: 'Command line: %s',
    match: 'Command line: %{rest}',
    fields: ['detail'],
    device: 'none',
    versions: 'all (x86)',
    source: 'arch/x86/kernel/head64.c / setup.c',
  },
  {
    id: 'version',
    kind: 'version',
    format: 'Linux version %s (%s) %s',
    match: 'Linux version %s%{rest}',
    fields: ['release', 'detail'],
    device: 'none',
    versions: 'all',
    source: 'init/version.c linux_banner',
  },
  {
    id: 'cpus-allowing',
    kind: 'cpus',
    format: 'smpboot: Allowing %d CPUs, %d hotplug CPUs',
    fields: ['value', 'skip'],
    device: 'none',
    versions: 'x86, all',
    source: 'arch/x86/kernel/smpboot.c prefill_possible_map()',
  },
  {
    id: 'cpus-ids',
    kind: 'cpus',
    format: 'nr_cpu_ids:%u',
    fields: ['value'],
    device: 'none',
    versions: 'all',
    source: 'mm/percpu.c / kernel/smp.c setup_nr_cpu_ids() ("setup_percpu: NR_CPUS:... nr_cpu_ids:N")',
  },
  {
    id: 'cut-here',
    kind: 'cut-here',
    format: '------------[ cut here ]------------',
    fields: [],
    device: 'none',
    versions: 'all',
    source: 'include/asm-generic/bug.h CUT_HERE (WARN and BUG reports)',
  },
  {
    id: 'warn',
    kind: 'warn',
    format: 'WARNING: CPU: %d PID: %d at %s:%d %pS',
    fields: ['skip', 'skip', 'file', 'srcLine', 'func'],
    device: 'none',
    versions: 'all',
    source: 'kernel/panic.c __warn()',
  },
  {
    id: 'warn-nofile',
    kind: 'warn',
    format: 'WARNING: CPU: %d PID: %d at %pS',
    fields: ['skip', 'skip', 'func'],
    device: 'none',
    versions: 'all (no file and line: CONFIG_DEBUG_BUGVERBOSE off)',
    source: 'kernel/panic.c __warn()',
  },
  {
    id: 'warn-cpu-uid',
    kind: 'warn-cpu',
    format: 'CPU: %d UID: %u PID: %d Comm: %.20s %s%s %s %.*s',
    match: 'CPU: %d UID: %u PID: %d Comm: %{comm} %{taint} %{release} #%{rest}',
    fields: ['skip', 'skip', 'skip', 'skip', 'release', 'detail'],
    device: 'none',
    versions: '6.11+',
    source: 'lib/dump_stack.c dump_stack_print_info()',
  },
  {
    id: 'warn-cpu',
    kind: 'warn-cpu',
    format: 'CPU: %d PID: %d Comm: %.20s %s%s %s %.*s',
    match: 'CPU: %d PID: %d Comm: %{comm} %{taint} %{release} #%{rest}',
    fields: ['skip', 'skip', 'skip', 'release', 'detail'],
    device: 'none',
    versions: '3.10-6.10',
    source: 'lib/dump_stack.c dump_stack_print_info()',
  },
  {
    id: 'warn-pid',
    kind: 'warn-cpu',
    format: 'Pid: %d, comm: %.20s %s %s %.*s',
    match: 'Pid: %d, comm: %{comm} %{taint} %{release} #%{rest}',
    fields: ['skip', 'skip', 'release', 'detail'],
    device: 'none',
    versions: '2.6.x-3.9 (x86)',
    source: 'arch/x86/kernel/process.c show_regs_common()',
  },
  {
    id: 'hardware',
    kind: 'hardware',
    format: 'Hardware name: %s',
    match: 'Hardware name: %{rest}',
    fields: ['detail'],
    device: 'none',
    versions: '3.10+',
    source: 'lib/dump_stack.c dump_stack_print_info()',
  },
  {
    id: 'end-trace',
    kind: 'end-trace',
    format: '---[ end trace %016llx ]---',
    fields: ['skip'],
    device: 'none',
    versions: 'all',
    source: 'kernel/panic.c print_oops_end_marker()',
  },
  {
    id: 'uname',
    kind: 'uname',
    format: 'Linux %s %s #%s',
    match: 'Linux %s %{release} #%{rest}',
    fields: ['skip', 'release', 'detail'],
    device: 'none',
    versions: 'uname -a output pasted beside the log',
    source: 'uname(1)',
  },
];

// ------------------------------------------------------------------ compiling

type Piece = { readonly lit: string } | { readonly re: string };

const HEX = '[0-9a-fA-F]+';
const PLACEHOLDER = /%\{(\w+)\}|%(pad|pa|pS|p)|%[-#0-9.*]*(?:ll|l|z|L|h)?([diuxXs])/g;

function placeholderRe(m: RegExpExecArray): string {
  if (m[1]) {
    switch (m[1]) {
      case 'comm':
        return '(.{1,20}?)';
      case 'taint':
        return '(?:Not tainted|Tainted: [A-Z ]*?)';
      case 'release':
        return '(\\d+\\.\\d+[^\\s]*)';
      default:
        return '(.*)';
    }
  }
  if (m[2] === 'pad' || m[2] === 'pa') return `(0x${HEX})`;
  if (m[2]) return m[2] === 'pS' ? '(\\S+)' : '(\\S+?)';
  const conv = m[3] as string;
  if (conv === 's') return '(\\S+)';
  if (conv === 'x' || conv === 'X') return m[0].includes('#') ? `(0x${HEX})` : `(${HEX})`;
  return '(\\d+)';
}

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function piecesOf(token: string): Piece[] {
  const out: Piece[] = [];
  let at = 0;
  for (const m of token.matchAll(PLACEHOLDER)) {
    if ((m.index as number) > at) out.push({ lit: token.slice(at, m.index) });
    out.push({ re: placeholderRe(m as RegExpExecArray) });
    at = (m.index as number) + m[0].length;
  }
  if (at < token.length) out.push({ lit: token.slice(at) });
  return out;
}

const nonCapturing = (re: string) => re.replace(/\((?!\?)/g, '(?:');

function tokenRe(pieces: readonly Piece[], capture: boolean): string {
  return pieces.map((p) => ('lit' in p ? esc(p.lit) : capture ? p.re : nonCapturing(p.re))).join('');
}

/** Any non-empty beginning of a literal: `W`, `WA`, ... `WARNING:`. */
function literalPrefixRe(lit: string): string {
  let re = '';
  for (let i = lit.length - 1; i >= 0; i--) re = i === lit.length - 1 ? esc(lit[i] as string) : `${esc(lit[i] as string)}(?:${re})?`;
  return re;
}

/** Any non-empty beginning of a token (a placeholder cut short still matches itself). */
function tokenPrefixRe(pieces: readonly Piece[], i = 0): string {
  const p = pieces[i] as Piece;
  const last = i === pieces.length - 1;
  if ('lit' in p) {
    if (last) return literalPrefixRe(p.lit);
    return `(?:${esc(p.lit)}(?:${tokenPrefixRe(pieces, i + 1)})?|${literalPrefixRe(p.lit)})`;
  }
  const re = nonCapturing(p.re);
  return last ? re : `${re}(?:${tokenPrefixRe(pieces, i + 1)})?`;
}

export interface CompiledFormat extends KernelFormat {
  /** The whole message (captures in `fields` order). */
  readonly re: RegExp;
  /** The same, sticky: does the message start exactly here. */
  readonly sticky: RegExp;
  /** A message cut short at the end of the text: its beginning, up to the end. */
  readonly openAtEnd: RegExp;
  /** The same, sticky at a position. */
  readonly openSticky: RegExp;
  /** The longest run of literal words: a line without it cannot hold the message. */
  readonly key: string;
  /** The first literal word (for a line cut inside it). */
  readonly firstWord: string | null;
}

function compile(f: KernelFormat): CompiledFormat {
  const template = f.match ?? f.format;
  const tokens = template.split(/\s+/).filter(Boolean);
  const pieces = tokens.map(piecesOf);
  const whole = pieces.map((p, i) => {
    let re = tokenRe(p, true);
    // the final full stop of a message is often lost in pastes
    if (i === pieces.length - 1 && re.endsWith('\\.')) re = `${re}?`;
    return re;
  });
  // Q(j): tokens 0..j-1 whole then a beginning of token j, or a beginning of token 0..
  let q = tokenPrefixRe(pieces[pieces.length - 1] as Piece[]);
  for (let j = pieces.length - 2; j >= 0; j--) {
    q = `(?:${tokenRe(pieces[j] as Piece[], false)}\\s+${q}|${tokenPrefixRe(pieces[j] as Piece[])})`;
  }
  const start = '(?<![A-Za-z0-9_])';
  const body = whole.join('\\s+');
  // the longest literal text: a run of literal words, or a literal part of a word
  let key = '';
  let run: string[] = [];
  for (const p of [...pieces, []]) {
    if (p.length === 1 && 'lit' in (p[0] as Piece)) {
      run.push((p[0] as { lit: string }).lit);
      continue;
    }
    if (run.join(' ').length > key.length) key = run.join(' ');
    run = [];
    for (const x of p) if ('lit' in x && x.lit.length > key.length) key = x.lit;
  }
  const first = pieces[0] as Piece[];
  const firstWord = first.length === 1 && 'lit' in (first[0] as Piece) ? (first[0] as { lit: string }).lit : null;
  return {
    ...f,
    re: new RegExp(`${start}${body}`),
    sticky: new RegExp(body, 'y'),
    openAtEnd: new RegExp(`${start}${q}\\s*$`),
    openSticky: new RegExp(`${q}\\s*$`, 'y'),
    key,
    firstWord,
  };
}

export const FORMATS: readonly CompiledFormat[] = KERNEL_FORMATS.map(compile);

/** One regex for a set of literals, as a trie: each position is tested against first characters, not every word. */
function trieRe(words: readonly string[]): string {
  if (words.includes('')) {
    const rest = words.filter((w) => w !== '');
    return rest.length ? `(?:${trieRe(rest)})?` : '';
  }
  const byFirst = new Map<string, string[]>();
  for (const w of words) byFirst.set(w[0] as string, [...(byFirst.get(w[0] as string) ?? []), w.slice(1)]);
  const alts = [...byFirst].map(([c, rest]) => esc(c) + trieRe(rest));
  return alts.length === 1 ? (alts[0] as string) : `(?:${alts.join('|')})`;
}

/** Lines without any of these words hold none of the messages. */
export const FORMAT_KEYS: RegExp = new RegExp(trieRe([...new Set(FORMATS.map((f) => f.key))]));

/** The prefixes printed before a message (pr_fmt ones), longest first. */
export const PRINTED_PREFIXES: readonly string[] = [...new Set(KERNEL_FORMATS.flatMap((f) => (f.prefix ? [f.prefix] : [])))].sort(
  (a, b) => b.length - a.length,
);

export function formatById(id: string): CompiledFormat | undefined {
  return FORMATS.find((f) => f.id === id);
}
