/**
 * Real kernel log lines from public bug reports: every message format is read, and each
 * "buffer is full" is explained as the numbers say (above the ceiling, pool exhausted,
 * fragmentation, alignment, no pool at all), with the device and the pool geometry the log gives.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { KernelLogParser, type LogMessage } from '../../src/trace/klog';
import { explainFull } from '../../src/trace/logExplain';
import { buildReport, type TextReport } from '../../src/trace/report';
import { analyzeText } from '../../src/trace/run';

const LOGS = path.join(__dirname, '..', 'fixtures', 'logs');

async function analyze(file: string): Promise<TextReport> {
  return buildReport(await analyzeText([path.join(LOGS, file)]));
}

type Full = [device: string | null, size: number, total: number | null, used: number | null, cause: string];

/** For each fixture: its failure messages in order, and the log counters. */
const EXPECTED: Record<string, { full: Full[]; tooBig: number; pool?: [base: string, nslabs: number] }> = {
  'L01.log': { full: [['0000:05:00.0', 4000, 32768, 32768, 'exhausted']], tooBig: 0 },
  'L02.log': {
    full: [
      ['0000:01:00.0', 3776, 32768, 31415, 'exhausted'],
      ['0000:01:00.0', 3776, 32768, 31983, 'exhausted'],
    ],
    tooBig: 0,
  },
  'L03.log': { full: [[null, 524288, 32768, 4, 'too-big']], tooBig: 1 },
  // the old two-line report counts once; the log's own "mapped" line gives the pool
  'L04.log': { full: [['38200000.dwc3', 16384, null, null, 'unknown']], tooBig: 0, pool: ['0xf7fff000', 65536] },
  'L05.log': { full: [[null, 2097152, 524288, 515875, 'too-big']], tooBig: 1, pool: ['0x1fb9c00000', 524288] },
  // wrapped over two lines in the report: joined
  'L06.log': { full: [['0000:00:02.0', 262144, 524288, 523564, 'exhausted']], tooBig: 0 },
  'L08.log': { full: [['0000:00:1d.2', 8192, 32768, 32764, 'exhausted']], tooBig: 0 },
  'L09.log': { full: [['0.0.0000', 262144, 32768, 28249, 'fragmented']], tooBig: 0 },
  'L10.log': { full: [], tooBig: 0, pool: ['0x6e42a000', 32768] },
  'L11.log': {
    full: [
      ['0000:00:01.0', 327680, 32768, 32, 'too-big'],
      ['0000:00:01.0', 65536, 32768, 0, 'alignment'],
    ],
    tooBig: 1,
  },
  'L12.log': { full: [['0000:0d:00.0', 2097152, 32768, 0, 'too-big']], tooBig: 1 },
  'L15.log': { full: [['fe340000.emmc2', 65536, null, null, 'unknown']], tooBig: 0 },
  'L16.log': { full: [['fe00700.dma', 1536, null, null, 'unknown']], tooBig: 0 },
  'L19.log': { full: [['0000:00:00.0', 1048576, null, null, 'too-big']], tooBig: 1 },
  'L20.log': { full: [], tooBig: 0, pool: ['0x4fe59000', 256] },
  // the oldest format: "Out of SW-IOMMU space ... at device"
  'L21.log': { full: [['08:00.0', 16384, null, null, 'unknown']], tooBig: 0 },
  'L23.log': { full: [[null, 4096, 0, 0, 'no-pool']], tooBig: 0 },
  'boot-lines.log': { full: [], tooBig: 0, pool: ['0xbb600000', 1024] },
};

describe('log fixtures', () => {
  test('every vendored log has an expectation', () => {
    assert.deepEqual(fs.readdirSync(LOGS).sort(), Object.keys(EXPECTED).sort());
  });
  for (const [file, want] of Object.entries(EXPECTED)) {
    test(file, async () => {
      const r = await analyze(file);
      assert.equal(r.input.kind, 'log');
      // the first failure message of each event (an old two-line report is one failure)
      const events = new Set<number>();
      const full = r.log.messages
        .filter((m) => (m.kind === 'full' || m.kind === 'out-of-space') && m.event !== null && !events.has(m.event) && events.add(m.event))
        .map((m): Full => [m.device, m.size as number, m.total, m.used, m.cause as string]);
      assert.deepEqual(full, want.full);
      assert.equal(r.log.full_messages, want.full.length);
      assert.equal(r.log.too_big, want.tooBig);
      if (want.pool) assert.deepEqual([r.pool.base, r.pool.nslabs], want.pool);
      // a log cannot give occupancy or a placement check, and says so
      assert.equal(r.occupancy.peak_slots, null);
      assert.equal(r.check.matched, null);
      assert.deepEqual(
        r.diagnostics.filter((d) => d.severity !== 'info'),
        [],
      );
    });
  }
});

describe('kernel log lines', () => {
  const parse = (lines: string[]): LogMessage[] => {
    const p = new KernelLogParser();
    return lines.map((l, i) => p.parse(l, i + 1)).filter((m): m is LogMessage => m !== null);
  };

  test('prefixes: dmesg, dmesg -r, caller ids, journal, syslog', () => {
    const msg = 'nvme 0000:00:03.0: swiotlb buffer is full (sz: 258048 bytes), total 512 (slots), used 252 (slots)';
    const lines = [
      msg,
      `[    8.185411] ${msg}`,
      `<4>[    8.185411] ${msg}`,
      `[    8.185411] [    T173] ${msg}`,
      `Mar 05 10:11:12 guest kernel: ${msg}`,
      `2024-03-05T10:11:12.123456+01:00 guest kernel: ${msg}`,
      `Mar  5 10:11:12 guest kernel: [    8.185411] ${msg}`,
    ];
    const got = parse(lines);
    assert.equal(got.length, lines.length);
    for (const m of got) {
      assert.deepEqual([m.kind, m.driver, m.device, m.size, m.total, m.used], ['full', 'nvme', '0000:00:03.0', 258048, 512, 252]);
      assert.equal(m.text, msg);
    }
    assert.equal(got[1]?.time, 8.185411);
  });

  test('overflow WARN lines: the bounce buffer out of reach, and no swiotlb at all', () => {
    const got = parse([
      '[   12.000001] ahci 0000:00:1f.2: swiotlb addr 0x00000000fbfff000+4096 overflow (mask ffffffff, bus limit 0).',
      'e1000e 0000:00:19.0: DMA addr 0x0000000123456000+1514 overflow (mask ffffffff, bus limit 0).',
      'xhci_hcd 0000:00:14.0: dma_direct_map_page: overflow 0x000000012345a000+64 of DMA mask ffffffff bus mask 0',
    ]);
    assert.deepEqual(
      got.map((m) => [m.kind, m.overflowOf, m.driver, m.device, m.addr, m.size, m.mask]),
      [
        ['overflow', 'swiotlb', 'ahci', '0000:00:1f.2', 0xfbfff000, 4096, 0xffffffff],
        ['overflow', 'dma', 'e1000e', '0000:00:19.0', 0x123456000, 1514, 0xffffffff],
        // the caller's "dma_direct_map_page: " between the device and the message (4.16-4.20)
        ['overflow', 'dma', 'xhci_hcd', '0000:00:14.0', 0x12345a000, 64, 0xffffffff],
      ],
    );
  });

  test('boot lines: mapped (exclusive and inclusive end), area num, adjusted, roundup, encryption, versions', () => {
    const got = parse([
      '[    0.712350] software IO TLB: mapped [mem 0x00000000bbfdb000-0x00000000bffdb000] (64MB)',
      'software IO TLB [mem 0xf7fff000-0xfffff000] (128MB) mapped at [ffff8800f7fff000-ffff8800ffffefff]',
      'software IO TLB: area num 4.',
      'software IO TLB: SWIOTLB bounce buffer size adjusted 32768 -> 16384 slabs',
      'software IO TLB: SWIOTLB bounce buffer size adjusted to 1024MB',
      'software IO TLB: SWIOTLB bounce buffer size roundup to 2MB',
      'software IO TLB: Memory encryption is active and system is using DMA bounce buffers',
      'Memory Encryption Features active: AMD SEV SEV-ES SEV-SNP',
      'Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2',
      'Linux version 6.12.9 (user@host) #3 SMP',
      'smpboot: Allowing 8 CPUs, 4 hotplug CPUs',
      'swiotlb_tbl_map_single: 17 callbacks suppressed',
      'nvme 0000:00:04.0: Invalid sizes (mapping: 8192 bytes, alloc: 4096 bytes)',
      'ahci 0000:00:04.0: Buffer overflow detected. Allocation size: 4096. Mapping size: 8192.',
      "nvme 0000:00:04.0: Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer",
    ]);
    assert.deepEqual(
      got.map((m) => [m.kind, m.base ?? m.value ?? m.nslabs ?? m.detail ?? m.size ?? null]),
      [
        ['mapped', 0xbbfdb000],
        ['mapped', 0xf7fff000],
        ['area-num', 4],
        ['adjusted', 16384],
        ['adjusted', 1024],
        ['roundup', 2],
        ['mem-encrypt', null],
        ['encryption-features', 'AMD SEV SEV-ES SEV-SNP'],
        ['version', '6.1.192'],
        ['version', '6.12.9'],
        ['cpus', 8],
        ['suppressed', 17],
        ['invalid-sizes', 4096],
        ['sync-overflow', 4096],
        ['no-pool', null],
      ],
    );
    assert.equal(got[0]?.nslabs, 32768);
    assert.equal(got[1]?.nslabs, 65536);
  });

  test('a device with a DMA-mask overflow line is said to be limited by its mask', () => {
    const [full, ov] = parse([
      'snd_hda 0000:00:1b.0: swiotlb buffer is full (sz: 65536 bytes), total 32768 (slots), used 32000 (slots)',
      'snd_hda 0000:00:1b.0: swiotlb addr 0x00000000fbfff000+4096 overflow (mask ffffffff, bus limit 0).',
    ]);
    const e = explainFull(full as LogMessage, undefined, ov);
    assert.equal(e.cause, 'exhausted');
    assert.deepEqual(e.maskLimited, { mask: 0xffffffff, busLimit: 0 });
    assert.match(e.text, /DMA mask is 0xffffffff/);
  });

  test('without a "mapped" line, the pool size comes from a "full" message\'s total', async () => {
    const r = await analyze('L06.log');
    assert.equal(r.pool.nslabs, 524288);
    assert.match(r.pool.sources.nslabs, /buffer is full \.\.\. total 524288 \(slots\)/);
  });

  test('memory encryption is named as the reason everything bounces', async () => {
    const r = await analyze('L10.log');
    assert.ok(r.conclusions.some((c) => /Memory encryption is active \(a confidential guest/.test(c)));
  });

  test('a log file beside a trace gives the geometry; the report names the line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logs-'));
    fs.writeFileSync(
      path.join(dir, 'boot.log'),
      '[    0.1] software IO TLB: area num 4.\n[    0.2] software IO TLB: mapped [mem 0x00000000bbfdb000-0x00000000bffdb000] (64MB)\n',
    );
    const r = buildReport(await analyzeText([path.join(dir, 'boot.log')]));
    assert.deepEqual([r.pool.base, r.pool.nslabs, r.pool.nareas], ['0xbbfdb000', 32768, 4]);
    assert.match(r.pool.sources.base, /boot\.log:2/);
    assert.match(r.pool.sources.nareas, /boot\.log:1/);
  });
});
