/**
 * The messages of one device and one event belong together (logExplain.ts): a failed map with
 * its old second line, its coherent allocation, dma-direct's overflow report and its WARN block.
 * Each event gets a cause and whether a swiotlb= size helps; the devices, the kernel release, the
 * pool and memory encryption come from what the log says.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { KernelLogParser } from '../../src/trace/klog';
import { LogBook } from '../../src/trace/logExplain';
import { buildReport, type TextReport } from '../../src/trace/report';
import { analyzeText } from '../../src/trace/run';

function book(lines: readonly string[]): LogBook {
  const b = new LogBook();
  const r = new KernelLogParser().reader((m) => b.add('log', m));
  lines.forEach((l, i) => {
    r.push(l, i + 1);
  });
  r.end();
  b.finish({ nslabs: 32768 });
  return b;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'log-events-'));
let n = 0;
async function report(lines: readonly string[]): Promise<TextReport> {
  const f = path.join(tmp, `log${n++}.txt`);
  fs.writeFileSync(f, `${lines.join('\n')}\n`);
  return JSON.parse(JSON.stringify(buildReport(await analyzeText([f])))) as TextReport;
}

/** [line, kind, event, cause] of each message. */
const rows = (b: LogBook) => b.entries.map((e) => [e.msg.line, e.msg.kind, e.event, e.cause]);

describe('events', () => {
  test("a failed map and dma-direct reporting it (5.0-5.6): one event, the failure's cause", () => {
    const b = book([
      '[  100.000001] nvme 0000:01:00.0: swiotlb buffer is full (sz: 536576 bytes), total 32768 (slots), used 32768 (slots)',
      '[  100.000002] nvme 0000:01:00.0: overflow 0x000000040000000+536576 of DMA mask 7ffffffff bus mask 3fffffff',
      '[  100.000003] ------------[ cut here ]------------',
      '[  100.000004] WARNING: CPU: 1 PID: 749 at kernel/dma/direct.c:35 report_addr+0x3e/0x70',
      '[  100.000005] CPU: 1 PID: 749 Comm: fio Not tainted 5.4.0 #1',
      '[  100.000006] Hardware name: QEMU Standard PC (Q35 + ICH9, 2009)',
      '[  100.000007] ---[ end trace 1234567890abcdef ]---',
    ]);
    assert.equal(new Set(b.entries.map((e) => e.event)).size, 1);
    assert.deepEqual(Object.fromEntries(b.byCause), { 'too-big': 1 });
    assert.equal(b.failures, 1);
    const ov = b.entries[1];
    assert.equal(ov?.cause, 'too-big');
    // within the DMA mask 7ffffffff, beyond the bus limit 3fffffff: the bus is the limit
    assert.match(ov?.explanation ?? '', /beyond the device's bus limit 0x3fffffff \(it is within the DMA mask 0x7ffffffff/);
    assert.doesNotMatch(ov?.explanation ?? '', /no swiotlb pool/);
    assert.match(
      b.entries[3]?.explanation ?? '',
      /WARN report \(at kernel\/dma\/direct\.c:35 report_addr\+0x3e\/0x70\) of nvme 0000:01:00\.0's failed map \(too-big\)/,
    );
  });

  test("another device's failure before an overflow line is another event; so is a different size", () => {
    const b = book([
      'ahci 0000:00:1f.2: swiotlb buffer is full (sz: 4096 bytes), total 32768 (slots), used 32768 (slots)',
      'udl 2-1.2:1.0: overflow 0x000000011a47d000+536576 of DMA mask ffffffff bus mask 0',
      'udl 2-1.2:1.0: swiotlb buffer is full (sz: 8192 bytes), total 32768 (slots), used 32768 (slots)',
      'udl 2-1.2:1.0: overflow 0x000000011a47d000+536576 of DMA mask ffffffff bus mask 0',
    ]);
    assert.deepEqual(rows(b), [
      [1, 'full', 0, 'exhausted'],
      [2, 'overflow', 1, 'mask-limited'],
      [3, 'full', 2, 'exhausted'],
      [4, 'overflow', 3, 'mask-limited'],
    ]);
    // a mask-limited map without a bounce, 536576 bytes: even a bounce could not have served it
    assert.equal(b.entries[1]?.sizeHelps, false);
    assert.equal(b.noSizeHelps, false);
  });

  test('WARN blocks in both orders: x86 (message, cut here, WARNING) and arm (cut here, WARNING, message)', () => {
    const x86 = book([
      'vc4-drm gpu: overflow 0x00000001a7296000+708608 of DMA mask ffffffff bus limit ffffffff',
      '------------[ cut here ]------------',
      'WARNING: CPU: 3 PID: 669 at kernel/dma/direct.c:34 report_addr+0xd0/0x10c',
      'xhci_hcd 0000:08:00.0: swiotlb buffer is full (sz: 4096 bytes), total 32768 (slots), used 100 (slots)',
    ]);
    assert.deepEqual(
      x86.entries.map((e) => e.event),
      [0, 0, 0, 1],
    );
    const arm = book([
      'xhci_hcd 0000:01:00.0: swiotlb buffer is full (sz: 512 bytes), total 32768 (slots), used 32768 (slots)',
      '------------[ cut here ]------------',
      'WARNING: CPU: 0 PID: 1281 at kernel/dma/swiotlb.c:715 swiotlb_map+0x3bc/0x46c',
      'xhci_hcd 0000:08:00.0: swiotlb addr 0x00000004184f3000+8 overflow (mask ffffffff, bus limit 5ffffffff).',
      'CPU: 0 PID: 1281 Comm: kworker/0:0 Tainted: G C O 5.10.39-v7l-bb-custom #3',
    ]);
    // the WARN is the overflow's, not the earlier failure's
    assert.deepEqual(
      arm.entries.map((e) => e.event),
      [0, 1, 1, 1, 1],
    );
    assert.deepEqual(Object.fromEntries(arm.byCause), { exhausted: 1, 'bounce-beyond-mask': 1 });
    assert.equal(arm.events.find((e) => e.id === 1)?.warn?.release, '5.10.39-v7l-bb-custom');
  });

  test('old two-line reports, coherent allocations and panics are one event each', () => {
    const b = book([
      'dwc3 38200000.dwc3: swiotlb buffer is full (sz: 16384 bytes)',
      'dwc3 38200000.dwc3: DMA: Out of SW-IOMMU space for 16384 bytes',
      'amdgpu 0000:07:00.0: swiotlb buffer is full (sz: 2097152 bytes)',
      'swiotlb: coherent allocation failed for device 0000:07:00.0 size=2097152',
      'DMA: Out of SW-IOMMU space for 65536 bytes at device 0000:06:01.0',
      'Kernel panic - not syncing: DMA: Random memory could be DMA written',
      'swiotlb: coherent allocation failed for device 0000:07:00.0 size=2097152',
    ]);
    assert.deepEqual(
      b.entries.map((e) => e.event),
      [0, 0, 1, 1, 2, 2, 3],
    );
    assert.deepEqual([b.fullMessages, b.outOfSpaceMessages, b.coherentFailures, b.coherentMessages, b.failures], [3, 2, 1, 2, 4]);
    assert.deepEqual(Object.fromEntries(b.byCause), { unknown: 2, 'too-big': 2 });
  });

  test('causes and whether a swiotlb= size helps', () => {
    const cases: [string, string, boolean | null][] = [
      ['a 0000:00:01.0: swiotlb buffer is full (sz: 2097152 bytes), total 32768 (slots), used 0 (slots)', 'too-big', false],
      ['a 0000:00:01.0: swiotlb buffer is full (sz: 4096 bytes), total 32768 (slots), used 32768 (slots)', 'exhausted', true],
      ['a 0000:00:01.0: swiotlb buffer is full (sz: 65536 bytes), total 32768 (slots), used 20000 (slots)', 'fragmented', true],
      ['a 0000:00:01.0: swiotlb buffer is full (sz: 65536 bytes), total 32768 (slots), used 0 (slots)', 'alignment', false],
      ['a 0000:00:01.0: swiotlb buffer is full (sz: 4096 bytes), total 0 (slots), used 0 (slots)', 'no-pool', null],
      ['a 0000:00:01.0: swiotlb buffer is full (sz: 4096 bytes)', 'unknown', null],
      ['a 0000:00:01.0: swiotlb addr 0x0000000418400000+8 overflow (mask ffffffff, bus limit 0).', 'bounce-beyond-mask', false],
      ['a 0000:00:01.0: DMA addr 0x0000000418400000+8 overflow (mask ffffffff, bus limit 0).', 'no-pool', null],
      ['a 0000:00:01.0: dma_direct_map_page: overflow 0x0000000418400000+8 of device mask ffffffff', 'no-pool', null],
      ['a 0000:00:01.0: overflow 0x0000000418400000+8 of DMA mask ffffffff bus mask 0', 'mask-limited', null],
      ['a 0000:00:01.0: Cannot do DMA to address 0x0000000418400000', 'no-pool', null],
      ['a 0000:00:01.0: Invalid sizes (mapping: 8192 bytes, alloc: 4096 bytes)', 'driver-bug', false],
      ['a 0000:00:01.0: hwdev DMA mask = 0x00000000ffffffff, dev_addr = 0x0000000123400000', 'bounce-beyond-mask', false],
    ];
    for (const [line, cause, helps] of cases) {
      const e = book([line]).entries[0];
      assert.deepEqual([e?.cause, e?.sizeHelps], [cause, helps], line);
    }
  });

  test('rate-limit notes of other subsystems are not counted', () => {
    const b = book([
      'net_ratelimit: 12 callbacks suppressed',
      'swiotlb_tbl_map_single: 30 callbacks suppressed',
      'swiotlb_full: 2 callbacks suppressed',
    ]);
    assert.equal(b.suppressed, 32);
  });
});

describe('what the log says of the machine', () => {
  test('devices of a log-only input, with what each did', async () => {
    const r = await report([
      'udl 2-1.2:1.0: swiotlb buffer is full (sz: 536576 bytes), total 32768 (slots), used 1536 (slots)',
      'udl 2-1.2:1.0: overflow 0x000000011a47d000+536576 of DMA mask ffffffff bus mask 0',
      'xhci_hcd 0000:01:00.0: swiotlb buffer is full (sz: 512 bytes), total 32768 (slots), used 32768 (slots)',
      'xhci_hcd 0000:01:00.0: swiotlb buffer is full (sz: 1024 bytes), total 32768 (slots), used 32768 (slots)',
      'xhci_hcd 0000:08:00.0: swiotlb addr 0x00000004184f3000+8 overflow (mask ffffffff, bus limit 5ffffffff).',
    ]);
    assert.deepEqual(
      r.devices.map((d) => [
        d.name,
        d.driver,
        d.dma_mask,
        d.log?.failures,
        d.log?.by_cause,
        d.log?.mask_limited,
        d.log?.bounce_beyond_mask,
        d.log?.largest_request,
      ]),
      [
        ['2-1.2:1.0', 'udl', '0xffffffff', 1, { 'too-big': 1 }, 1, 0, 536576],
        ['0000:01:00.0', 'xhci_hcd', null, 2, { exhausted: 2 }, 0, 0, 1024],
        ['0000:08:00.0', 'xhci_hcd', '0xffffffff', 1, { 'bounce-beyond-mask': 1 }, 0, 1, 8],
      ],
    );
    assert.equal(r.devices[2]?.log?.bus_dma_limit, '0x5ffffffff');
    assert.deepEqual([r.log.failures, r.log.no_size_helps, r.log.mask_limited, r.log.bounce_beyond_mask], [4, false, 1, 1]);
  });

  test('the kernel release: Linux version beats a WARN header, which beats uname -a', async () => {
    const warn = 'CPU: 3 PID: 669 Comm: chromium-bin Tainted: G C 5.4.51-v7l #1';
    const banner = 'Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) (gcc-12) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2';
    const uname = 'Linux raspberrypi 5.10.39-v7l+ #1414 SMP Fri May 21 11:47:46 BST 2021 armv7l GNU/Linux';
    const a = await report([uname, warn]);
    assert.equal(a.kernel.release, '5.4.51-v7l');
    assert.match(a.kernel.release_source ?? '', /CPU: 3 PID: 669.*:2\)$/);
    assert.match(a.kernel.source, /no profile models kernel 5\.4\.51-v7l/);
    const b = await report([warn, banner]);
    assert.equal(b.kernel.release, '6.1.192');
    assert.equal(b.kernel.profile, '6.1.192');
    const c = await report([uname]);
    assert.deepEqual([c.kernel.release, c.kernel.profile], ['5.10.39-v7l+', '5.10.39']);
    const none = await report(['swiotlb buffer is full (sz: 4096 bytes)']);
    assert.deepEqual([none.kernel.release, none.kernel.release_source], [null, null]);
  });

  test('memory encryption: a confidential guest, a host with SME, the old wordings', async () => {
    const guest = await report(['[ 21.19] Memory Encryption Features active: AMD SEV SEV-ES SEV-SNP']);
    assert.deepEqual(guest.log.mem_encrypt && [guest.log.mem_encrypt.features, guest.log.mem_encrypt.guest], [
      'AMD SEV SEV-ES SEV-SNP',
      true,
    ]);
    assert.ok(guest.conclusions.some((c) => /confidential guest.*AMD SEV SEV-ES SEV-SNP/.test(c)));
    const tdx = await report(['Memory Encryption Features active: Intel TDX']);
    assert.equal(tdx.log.mem_encrypt?.guest, true);
    const host = await report([
      'AMD Memory Encryption Features active: SME',
      'software IO TLB: Memory encryption is active and system is using DMA bounce buffers',
    ]);
    assert.deepEqual([host.log.mem_encrypt?.features, host.log.mem_encrypt?.guest], ['SME', false]);
    assert.ok(host.conclusions.some((c) => /on a host \(SME\)/.test(c)));
    const old = await report(['AMD Secure Encrypted Virtualization (SEV) active', 'SEV is active and system is using DMA bounce buffers']);
    assert.equal(old.log.mem_encrypt?.guest, true);
    const none = await report(['swiotlb buffer is full (sz: 4096 bytes)']);
    assert.equal(none.log.mem_encrypt, null);
  });

  test('the pool: a wrapped "mapped" line, a Xen pool that got less, a restricted pool', async () => {
    const xen = await report([
      '> > [    0.551030] xen:swiotlb_xen: Warning: only able to allocate 8 MB for',
      '> software IO TLB',
      '> > [    0.559332] xhci-hcd xhci-hcd.0.auto: swiotlb buffer is full (sz: 65536 bytes)',
    ]);
    assert.equal(xen.pool.nslabs, 4096);
    assert.match(xen.pool.sources.nslabs, /only able to allocate 8 MB/);
    assert.ok(xen.conclusions.some((c) => /got only 8 MB/.test(c)));
    // a confidential guest's boot lines without the "mapped" one: the size it settled on
    const sev = await report([
      'software IO TLB: SWIOTLB bounce buffer size adjusted to 1024MB',
      'software IO TLB: area num 4.',
      'software IO TLB: SWIOTLB bounce buffer size adjusted 524288 -> 262144 slabs',
    ]);
    assert.deepEqual([sev.pool.nslabs, sev.pool.nareas], [262144, 4]);
    assert.match(sev.pool.sources.nslabs, /adjusted 524288 -> 262144 slabs.*:3\)$/);
    const adj = await report(['software IO TLB: SWIOTLB bounce buffer size adjusted to 1024MB']);
    assert.equal(adj.pool.nslabs, 524288);
    const rp = await report([
      '[    0.000000] software IO TLB: Reserved memory: created restricted DMA pool at 0x0000000050000000, size 32 MiB',
    ]);
    assert.deepEqual(
      rp.log.restricted_pools.map((p) => [p.base, p.nslabs]),
      [['0x50000000', 16384]],
    );
    // a restricted pool is not the default pool
    assert.equal(rp.pool.base, null);
  });
});
