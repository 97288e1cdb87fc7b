/**
 * Every wording of the format table (klogFormats.ts) as the kernel printed it, read back with its
 * fields; the table is complete (each entry has an example here) and the README lists each one.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { KernelLogParser, type LogMessage } from '../../src/trace/klog';
import { KERNEL_FORMATS } from '../../src/trace/klogFormats';

type Want = Partial<
  Pick<
    LogMessage,
    | 'kind'
    | 'driver'
    | 'device'
    | 'size'
    | 'total'
    | 'used'
    | 'addr'
    | 'mask'
    | 'busLimit'
    | 'overflowOf'
    | 'base'
    | 'nslabs'
    | 'value'
    | 'detail'
  >
>;

/** id -> lines the kernel printed in that wording (with the prefixes they come with), and what they say. */
const EXAMPLES: Record<string, [string, Want][]> = {
  full: [
    [
      '[  443.604212] xhci_hcd 0000:01:00.0: swiotlb buffer is full (sz: 275968 bytes), total 32768 (slots), used 2104 (slots)',
      { kind: 'full', driver: 'xhci_hcd', device: '0000:01:00.0', size: 275968, total: 32768, used: 2104 },
    ],
  ],
  'full-sized': [
    ['dwc3 38200000.dwc3: swiotlb buffer is full (sz: 16384 bytes)', { device: '38200000.dwc3', size: 16384, total: undefined }],
  ],
  'full-bare': [['xen-blkfront vbd-51712: swiotlb buffer is full', { kind: 'full', device: 'vbd-51712', size: undefined }]],
  'oos-at-device': [
    ['DMA: Out of SW-IOMMU space for 9100 bytes at device 0000:02:00.0', { kind: 'out-of-space', device: '0000:02:00.0', size: 9100 }],
    ['ERROR: PCI-DMA: Out of SW-IOMMU space for 16384 bytes at device 0000:06:01.0', { device: '0000:06:01.0', size: 16384 }],
  ],
  oos: [
    [
      'sdhci-iproc fe340000.emmc2: DMA: Out of SW-IOMMU space for 65536 bytes',
      { kind: 'out-of-space', device: 'fe340000.emmc2', size: 65536 },
    ],
    ['mptsas 0000:02:00.0: DMA: Out of SW-IOMMU space for 4096 bytes.', { device: '0000:02:00.0', size: 4096 }],
  ],
  'panic-corrupted': [['Kernel panic - not syncing: PCI-DMA: Memory would be corrupted', { kind: 'panic' }]],
  'panic-dmaed': [['Kernel panic - not syncing: DMA: Random memory would be DMAed', { kind: 'panic' }]],
  'panic-random': [['Kernel panic - not syncing: DMA: Random memory could be DMA written', { kind: 'panic', detail: 'written' }]],
  'coherent-device': [
    [
      'swiotlb: coherent allocation failed for device 0000:07:00.0 size=2097152',
      { kind: 'coherent-failed', device: '0000:07:00.0', size: 2097152 },
    ],
  ],
  coherent: [
    [
      'amdgpu 0000:07:00.0: swiotlb: coherent allocation failed, size=2097152',
      { kind: 'coherent-failed', driver: 'amdgpu', device: '0000:07:00.0', size: 2097152 },
    ],
  ],
  'coherent-mask': [
    [
      'radeon 0000:01:00.0: hwdev DMA mask = 0x00000000ffffffff, dev_addr = 0x0000000123400000',
      { mask: 0xffffffff, addr: 0x123400000, device: '0000:01:00.0' },
    ],
  ],
  'cannot-dma': [['nvme 0000:00:04.0: Cannot do DMA to address 0x0000000123456000', { kind: 'cannot-dma', addr: 0x123456000 }]],
  'overflow-device-bus-mask': [
    [
      'xhci_hcd 0000:00:14.0: dma_direct_map_page: overflow 0x000000012345a000+64 of device mask ffffffff bus mask 0',
      { kind: 'overflow', overflowOf: 'dma', device: '0000:00:14.0', addr: 0x12345a000, size: 64, mask: 0xffffffff, busLimit: 0 },
    ],
  ],
  'overflow-device-mask': [
    [
      'ahci 0000:00:11.0: dma_direct_map_sg: overflow 0x0000000100000000+4096 of device mask ffffffff',
      { device: '0000:00:11.0', mask: 0xffffffff, busLimit: undefined },
    ],
  ],
  'overflow-bus-mask': [
    [
      'udl 2-1.2:1.0: overflow 0x000000011a47d000+536576 of DMA mask ffffffff bus mask 0',
      { device: '2-1.2:1.0', addr: 0x11a47d000, size: 536576, busLimit: 0 },
    ],
  ],
  'overflow-bus-limit': [
    [
      'vc4-drm gpu: overflow 0x00000001a7296000+708608 of DMA mask ffffffff bus limit ffffffff',
      { driver: 'vc4-drm', device: 'gpu', busLimit: 0xffffffff },
    ],
  ],
  'dma-addr-overflow': [
    [
      'e1000e 0000:00:19.0: DMA addr 0x0000000123456000+1514 overflow (mask ffffffff, bus limit 0).',
      { overflowOf: 'dma', size: 1514, mask: 0xffffffff },
    ],
  ],
  'swiotlb-addr-overflow': [
    [
      'xhci_hcd 0000:08:00.0: swiotlb addr 0x00000004184f3000+8 overflow (mask ffffffff, bus limit 5ffffffff).',
      { overflowOf: 'swiotlb', addr: 0x4184f3000, size: 8, mask: 0xffffffff, busLimit: 0x5ffffffff },
    ],
  ],
  'no-pool': [
    [
      "nvme 0000:00:04.0: Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer",
      { kind: 'no-pool' },
    ],
  ],
  'invalid-sizes': [['nvme 0000:00:04.0: Invalid sizes (mapping: 8192 bytes, alloc: 4096 bytes)', { size: 8192, value: 4096 }]],
  'sync-overflow-offset': [
    ['ahci 0000:00:04.0: Buffer overflow detected. Allocation size: 4096. Mapping size: 8192+16.', { size: 8192, value: 4096 }],
  ],
  'sync-overflow': [
    [
      'ahci 0000:00:04.0: Buffer overflow detected. Allocation size: 4096. Mapping size: 8192.',
      { kind: 'sync-overflow', size: 8192, value: 4096 },
    ],
  ],
  'sync-before-start': [
    [
      'ahci 0000:00:04.0: Access before mapping start detected. orig offset 512, requested offset 256.',
      { kind: 'sync-overflow', value: 512 },
    ],
  ],
  suppressed: [['Dec 06 16:24:53 dom0 kernel: swiotlb_tbl_map_single: 4361 callbacks suppressed', { kind: 'suppressed', value: 4361 }]],
  mapped: [
    [
      '[    0.712350] software IO TLB: mapped [mem 0x00000000bbfdb000-0x00000000bffdb000] (64MB)',
      { base: 0xbbfdb000, nslabs: 32768, value: 64 },
    ],
  ],
  'mapped-at': [
    [
      'software IO TLB [mem 0xf7fff000-0xfffff000] (128MB) mapped at [ffff8800f7fff000-ffff8800ffffefff]',
      { base: 0xf7fff000, nslabs: 65536 },
    ],
  ],
  'mapped-phys': [['DMA: software IO TLB at phys 0x20000000 - 0x24000000', { kind: 'mapped', base: 0x20000000, nslabs: 32768 }]],
  'area-num': [['software IO TLB: area num 4.', { value: 4 }]],
  'adjusted-slabs': [['software IO TLB: SWIOTLB bounce buffer size adjusted 32768 -> 16384 slabs', { kind: 'adjusted', nslabs: 16384 }]],
  'adjusted-mb': [['software IO TLB: SWIOTLB bounce buffer size adjusted to 1024MB', { kind: 'adjusted', value: 1024 }]],
  roundup: [['software IO TLB: SWIOTLB bounce buffer size roundup to 2MB', { value: 2 }]],
  'alloc-limited-for': [
    ['xen:swiotlb_xen: Warning: only able to allocate 4 MB for software IO TLB', { kind: 'alloc-limited', value: 4, nslabs: 2048 }],
    ['DMA: Warning: only able to allocate 32 MB for software IO TLB', { value: 32 }],
  ],
  'alloc-limited': [['software IO TLB: only able to allocate 16 MB', { kind: 'alloc-limited', value: 16, nslabs: 8192 }]],
  'xen-lowering': [['xen:swiotlb_xen: Lowering to 32MB', { kind: 'alloc-limited', value: 32 }]],
  'xen-no-buffer': [['xen:swiotlb_xen: Cannot allocate Xen-SWIOTLB buffer (rc:-12)', { kind: 'alloc-failed' }]],
  'xen-no-contiguous': [['xen:swiotlb_xen: Failed to get contiguous memory for DMA from Xen!', { kind: 'alloc-failed' }]],
  'no-low-mem': [['software IO TLB: No low mem', { kind: 'alloc-failed' }]],
  'cannot-allocate': [['software IO TLB: Cannot allocate buffer', { kind: 'alloc-failed' }]],
  'tlb-alloc-failed': [
    ['software IO TLB: swiotlb_memblock_alloc: Failed to allocate 67108864 bytes tlb structure', { kind: 'alloc-failed', size: 67108864 }],
  ],
  'tlb-remap-failed': [
    ['software IO TLB: swiotlb_memblock_alloc: Failed to remap 67108864 bytes', { kind: 'alloc-failed', size: 67108864 }],
  ],
  'restricted-pool': [
    [
      'software IO TLB: Reserved memory: created restricted DMA pool at 0x0000000050000000, size 32 MiB',
      { base: 0x50000000, value: 32, nslabs: 16384 },
    ],
  ],
  'restricted-highmem': [
    [
      'wlan 1f000000.wifi: Restricted DMA pool must be accessible within the linear mapping.',
      { kind: 'alloc-failed', device: '1f000000.wifi' },
    ],
  ],
  teardown: [['software IO TLB: tearing down default memory pool', { kind: 'teardown' }]],
  'pci-dma': [['PCI-DMA: Using software bounce buffering for IO (SWIOTLB)', { kind: 'pci-dma' }]],
  'mem-encrypt': [
    ['[   24.331266] software IO TLB: Memory encryption is active and system is using DMA bounce buffers', { kind: 'mem-encrypt' }],
  ],
  'sme-sev-active': [['SEV is active and system is using DMA bounce buffers', { kind: 'mem-encrypt', detail: 'SEV' }]],
  'encryption-features': [
    ['Memory Encryption Features active: AMD SEV SEV-ES SEV-SNP', { detail: 'AMD SEV SEV-ES SEV-SNP' }],
    ['AMD Memory Encryption Features active: SME', { detail: 'SME' }],
    ['Memory Encryption Features active: Intel TDX', { detail: 'Intel TDX' }],
  ],
  'sev-active': [['AMD Secure Encrypted Virtualization (SEV) active', { kind: 'encryption-features', detail: 'SEV' }]],
  'sme-active': [['AMD Secure Memory Encryption (SME) active', { kind: 'encryption-features', detail: 'SME' }]],
  cmdline: [
    [
      '[    0.000000] Kernel command line: console=ttymxc0,115200 iommu=soft swiotlb=65536',
      { detail: 'console=ttymxc0,115200 iommu=soft swiotlb=65536' },
    ],
  ],
  'cmdline-x86': [['Command line: BOOT_IMAGE=/vmlinuz swiotlb=force', { kind: 'cmdline', detail: 'BOOT_IMAGE=/vmlinuz swiotlb=force' }]],
  version: [
    [
      'Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2',
      { detail: '6.1.192' },
    ],
  ],
  'cpus-allowing': [['smpboot: Allowing 8 CPUs, 4 hotplug CPUs', { kind: 'cpus', value: 8 }]],
  'cpus-ids': [['setup_percpu: NR_CPUS:8192 nr_cpumask_bits:4 nr_cpu_ids:4 nr_node_ids:1', { kind: 'cpus', value: 4 }]],
  'cut-here': [['[   97.299471] ------------[ cut here ]------------', { kind: 'cut-here' }]],
  warn: [
    [
      '[   97.304196] WARNING: CPU: 3 PID: 669 at kernel/dma/direct.c:34 report_addr+0xd0/0x10c',
      { kind: 'warn', detail: 'kernel/dma/direct.c:34 report_addr+0xd0/0x10c' },
    ],
  ],
  'warn-nofile': [['WARNING: CPU: 0 PID: 1 at swiotlb_map+0x3bc/0x46c', { kind: 'warn', detail: 'swiotlb_map+0x3bc/0x46c' }]],
  'warn-cpu-uid': [
    ['CPU: 2 UID: 0 PID: 1 Comm: swapper/0 Tainted: G        W          6.13.0-rc1 #1', { kind: 'warn-cpu', detail: '6.13.0-rc1' }],
  ],
  'warn-cpu': [
    [
      '[   97.365657] CPU: 3 PID: 669 Comm: chromium-bin Tainted: G         C        5.4.51-v7l #1',
      { kind: 'warn-cpu', detail: '5.4.51-v7l' },
    ],
    ['CPU: 4 PID: 4588 Comm: kworker/u17:1 Not tainted 5.4.93 #0', { detail: '5.4.93' }],
    // a distribution's package release: the upstream one of the version string
    ['CPU: 0 PID: 2212 Comm: Web Content Not tainted 6.1.0-13-amd64 #1 Debian 6.1.55-1', { detail: '6.1.55' }],
  ],
  'warn-pid': [['Pid: 1, comm: swapper/0 Not tainted 3.8.0-rc1+ #5 LENOVO 2324CTO/2324CTO', { kind: 'warn-cpu', detail: '3.8.0-rc1+' }]],
  hardware: [['Hardware name: Raspberry Pi 4 Model B Rev 1.4 (DT)', { kind: 'hardware', detail: 'Raspberry Pi 4 Model B Rev 1.4 (DT)' }]],
  'end-trace': [['---[ end trace 0000000000000000 ]---', { kind: 'end-trace' }]],
  uname: [
    ['Linux raspberrypi 5.10.39-v7l+ #1414 SMP Fri May 21 11:47:46 BST 2021 armv7l GNU/Linux', { kind: 'uname', detail: '5.10.39-v7l+' }],
  ],
};

const parse = (line: string) => new KernelLogParser().parse(line, 1);

describe('every wording of the table', () => {
  test('each format has examples here', () => {
    assert.deepEqual(
      KERNEL_FORMATS.map((f) => f.id).filter((id) => !EXAMPLES[id]),
      [],
    );
    assert.deepEqual(
      Object.keys(EXAMPLES).filter((id) => !KERNEL_FORMATS.some((f) => f.id === id)),
      [],
    );
  });
  for (const f of KERNEL_FORMATS) {
    test(`${f.id}: ${f.format}`, () => {
      for (const [line, want] of EXAMPLES[f.id] ?? []) {
        const m = parse(line);
        assert.equal(m?.format, f.id, line);
        assert.equal(m?.kind, want.kind ?? f.kind);
        for (const [k, v] of Object.entries(want)) assert.deepEqual(m?.[k as keyof LogMessage], v, `${line}: ${k}`);
      }
    });
  }

  test('lines that only look alike are not messages', () => {
    for (const line of [
      'net_ratelimit: 3 callbacks suppressed',
      'usb 1-1: new high-speed USB device number 2 using ehci-pci',
      'BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable',
      'EXT4-fs (sda1): mounted filesystem with ordered data mode',
      'TSC is active and system is using DMA bounce buffers',
    ])
      assert.equal(parse(line), null, line);
  });

  test('the README lists every wording with its versions', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const missing = KERNEL_FORMATS.filter((f) => !readme.includes(`\`${f.format}\``) || !readme.includes(f.versions)).map((f) => f.id);
    assert.deepEqual(missing, []);
  });
});
