/**
 * The trace line layouts and event texts, line by line: ftrace with and without its header,
 * padded and trimmed task columns, task names with spaces, '-' and '/', record-tgid, 4- and
 * 5-character flag columns or none, counter clocks, trace-cmd report (also -l); swiotlb_bounced
 * in every historical form, every dma:* event, the 6.1 runs' probes and the capture script's.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EventParser, type ForceFlag, type SgArrays, type TblMapArgs, type TraceSink } from '../../src/trace/events';
import { EventLine, parseEventLine } from '../../src/trace/ftrace';

type Call = [string, ...unknown[]];

/** Parses lines and records every sink call (events as [name, ...numbers]). */
function parse(...lines: string[]): { calls: Call[]; prefix: EventLine[]; devices: string[] } {
  const calls: Call[] = [];
  const sgCopy = (sg: SgArrays) => ({
    dma: [...sg.dma.subarray(0, sg.nDma)],
    size: [...sg.size.subarray(0, sg.nSize)],
    phys: [...sg.phys.subarray(0, sg.nPhys)],
  });
  const sink: TraceSink = {
    bounced: (_e, _l, dev, mask, addr, size, force: ForceFlag) => calls.push(['bounced', dev, mask, addr, size, force]),
    dmaMap: (_e, _l, api, dev, dir, dma, size, phys, attrs, failed) =>
      calls.push(['dmaMap', api, dev, dir, dma, size, phys, attrs, failed]),
    dmaUnmap: (_e, _l, api, dev, dir, dma, size, attrs) => calls.push(['dmaUnmap', api, dev, dir, dma, size, attrs]),
    dmaMapSg: (_e, _l, dev, dir, sg, attrs, total, truncated) => calls.push(['dmaMapSg', dev, dir, sgCopy(sg), attrs, total, truncated]),
    dmaUnmapSg: (_e, _l, dev, dir, sg, attrs) => calls.push(['dmaUnmapSg', dev, dir, sgCopy(sg).phys, attrs]),
    dmaSync: (_e, _l, api, dev, dir, dma, size) => calls.push(['dmaSync', api, dev, dir, dma, size]),
    dmaCoherent: (_e, _l, api, dev, dma, size, failed) => calls.push(['dmaCoherent', api, dev, dma, size, failed]),
    tblMapEntry: (_e, _l, r: TblMapArgs) => calls.push(['tblMapEntry', { ...r }]),
    tblMapNotFound: (_e, _l, area) => calls.push(['tblMapNotFound', area]),
    tblMapFound: (_e, _l, area, slot) => calls.push(['tblMapFound', area, slot]),
    tblMapReturn: (_e, _l, tlb, failed) => calls.push(['tblMapReturn', tlb, failed]),
    tblUnmapEntry: (_e, _l, dev, tlb, size, dir, attrs) => calls.push(['tblUnmapEntry', dev, tlb, size, dir, attrs]),
    tblUnmapLock: (_e, _l, slot, nslots) => calls.push(['tblUnmapLock', slot, nslots]),
    tblSync: (_e, _l, toCpu, tlb, size, dir) => calls.push(['tblSync', toCpu, tlb, size, dir]),
    apiProbe: (_e, _l, dev, sg) => calls.push(['apiProbe', dev, sg]),
    tblMapLock: (_e, _l, area) => calls.push(['tblMapLock', area]),
    poolBase: (_e, _l, base) => calls.push(['poolBase', base]),
    mark: (_e, _l, text) => calls.push(['mark', text]),
    unknown: (_e, _l, name) => calls.push(['unknown', name]),
    malformed: (_e, _l, message) => calls.push(['malformed', message]),
  };
  const p = new EventParser(sink);
  const prefix: EventLine[] = [];
  lines.forEach((l, i) => {
    const b = Buffer.from(l, 'utf8');
    const ev = new EventLine();
    if (parseEventLine(b, 0, b.length, ev)) {
      prefix.push(ev);
      p.parse(b, ev, i + 1);
    } else {
      calls.push(['not-an-event', l]);
    }
  });
  return { calls, prefix, devices: p.devices.names };
}

const BODY = 'tracing_mark_write: hello';

describe('line layout', () => {
  const cases: [string, string, { task: string; pid: number; cpu: number; time: number }][] = [
    [
      'ftrace, padded task, 5-char flags',
      `    kworker/u8:2-85      [002] d..1.    42.163208: ${BODY}`,
      { task: 'kworker/u8:2', pid: 85, cpu: 2, time: 42.163208 },
    ],
    [
      'trimmed task column (trace_pipe)',
      `kworker/u8:2-85 [002] d..1. 42.163208: ${BODY}`,
      { task: 'kworker/u8:2', pid: 85, cpu: 2, time: 42.163208 },
    ],
    [
      'a task name with spaces and dashes',
      `     Web Content-4321    [001] ....1  1234.000001: ${BODY}`,
      { task: 'Web Content', pid: 4321, cpu: 1, time: 1234.000001 },
    ],
    [
      'a name ending in -digits',
      `irq/45-nvme0q1-377     [003] d.h1.   10.5: ${BODY}`,
      { task: 'irq/45-nvme0q1', pid: 377, cpu: 3, time: 10.5 },
    ],
    [
      '5.10: 4-char flags',
      `          <idle>-0       [001] d.h.    12.000001: ${BODY}`,
      { task: '<idle>', pid: 0, cpu: 1, time: 12.000001 },
    ],
    [
      'irq-info off: no flags column',
      `            init-1       [000]    4.000002: ${BODY}`,
      { task: 'init', pid: 1, cpu: 0, time: 4.000002 },
    ],
    [
      'record-tgid',
      `            bash-1977    (   1977) [000] .....    17.105140: ${BODY}`,
      { task: 'bash', pid: 1977, cpu: 0, time: 17.10514 },
    ],
    [
      'record-tgid unknown',
      `          <idle>-0       (-------) [001] d.s2.    17.1: ${BODY}`,
      { task: '<idle>', pid: 0, cpu: 1, time: 17.1 },
    ],
    ['counter clock', `    kworker/u4:0-9       [000] ..Zff           19: ${BODY}`, { task: 'kworker/u4:0', pid: 9, cpu: 0, time: 19 }],
    [
      'trace-cmd report',
      `    kworker/u8:2-85    [002]    42.163208: tracing_mark_write:   hello`,
      { task: 'kworker/u8:2', pid: 85, cpu: 2, time: 42.163208 },
    ],
    ['trace-cmd report -l', `kworker/-85       2 d..1.    42.163208: ${BODY}`, { task: 'kworker/', pid: 85, cpu: 2, time: 42.163208 }],
    ['a task named like a CPU field', `a [1] b-12    [003] .....  1.000001: ${BODY}`, { task: 'a [1] b', pid: 12, cpu: 3, time: 1.000001 }],
  ];
  for (const [name, line, want] of cases) {
    test(name, () => {
      const { calls, prefix } = parse(line);
      const ev = prefix[0];
      assert.ok(ev, `not parsed: ${line}`);
      const b = Buffer.from(line);
      assert.deepEqual({ task: b.toString('utf8', ev.taskStart, ev.taskEnd).trim(), pid: ev.pid, cpu: ev.cpu, time: ev.time }, want);
      assert.deepEqual(calls, [['mark', 'hello']]);
    });
  }
  test('headers, markers and text are not events', () => {
    const { calls } = parse(
      '# tracer: nop',
      '# entries-in-buffer/entries-written: 28532/28532   #P:2',
      '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
      'CPU:1 [LOST 1234 EVENTS]',
      'cpus=4',
      '[    8.185411] nvme 0000:00:03.0: swiotlb buffer is full (sz: 4096 bytes), total 512 (slots), used 512 (slots)',
      '',
      'x-1 [001] .... nope: not a timestamp',
    );
    assert.equal(calls.filter((c) => c[0] !== 'not-an-event').length, 0);
  });
  test('unknown events are handed over by name', () => {
    const { calls } = parse(
      '     fio-1 [000] .....  1.000001: block_rq_issue: 259,0 R 4096 () 0 + 8 [fio]',
      '     fio-1 [000] .....  1.000002: sched_switch: prev_comm=fio',
    );
    assert.deepEqual(calls, [
      ['unknown', 'block_rq_issue'],
      ['unknown', 'sched_switch'],
    ]);
  });
});

const P = '    kworker/u8:2-85      [002] d..1.    42.163208: ';

describe('swiotlb_bounced', () => {
  test('6.x FORCE/NORMAL, 5.10 NO_FORCE, numeric flags from libtraceevent', () => {
    const { calls, devices } = parse(
      `${P}swiotlb_bounced: dev_name: 0000:00:03.0 dma_mask=ffffffff dev_addr=1a2b3c000 size=1514 NORMAL`,
      `${P}swiotlb_bounced: dev_name: 0000:00:04.0 dma_mask=ffffffffffffffff dev_addr=800102a3c000 size=4096 FORCE`,
      `${P}swiotlb_bounced: dev_name: 0000:00:1f.2 dma_mask=ffffffff dev_addr=13f2a7000 size=4096 NO_FORCE`,
      `${P}swiotlb_bounced:      dev_name: fe300000.mmc dma_mask=3fffffff dev_addr=40001000 size=512 1`,
      `${P}swiotlb_bounced: dev_name: 0000:00:03.0 dma_mask=ffffffff dev_addr=1a2b3c000 size=1514`,
    );
    assert.deepEqual(devices, ['', '0000:00:03.0', '0000:00:04.0', '0000:00:1f.2', 'fe300000.mmc']);
    assert.deepEqual(calls.slice(0, 4), [
      ['bounced', 1, 0xffffffff, 0x1a2b3c000, 1514, 0],
      ['bounced', 2, 2 ** 64, 0x800102a3c000, 4096, 1],
      ['bounced', 3, 0xffffffff, 0x13f2a7000, 4096, 2],
      ['bounced', 4, 0x3fffffff, 0x40001000, 512, 1],
    ]);
    assert.deepEqual(calls[4], ['malformed', 'swiotlb_bounced: no FORCE/NORMAL flag, event skipped']);
  });
});

describe('dma:* events', () => {
  test('map/unmap page, phys and resource; attrs names and empty attrs; DMA_MAPPING_ERROR', () => {
    const { calls } = parse(
      `${P}dma_map_page: 0000:00:03.0 dir=TO_DEVICE dma_addr=bbfdd000 size=1514 phys_addr=1a2b3c000 attrs=`,
      `${P}dma_map_phys: 0000:00:03.0 dir=FROM_DEVICE dma_addr=ffffffffffffffff size=65536 phys_addr=1a2b3c000 attrs=SKIP_CPU_SYNC|NO_WARN`,
      `${P}dma_map_resource: 0000:00:03.0 dir=BIDIRECTIONAL dma_addr=fe000000 size=4096 phys_addr=fe000000 attrs=MMIO|0x1000`,
      `${P}dma_unmap_page: 0000:00:03.0 dir=TO_DEVICE dma_addr=bbfdd000 size=1514 attrs=`,
      `${P}dma_unmap_phys: 0000:00:03.0 dir=NONE dma_addr=bbfdd000 size=1514 attrs=SKIP_CPU_SYNC`,
    );
    assert.deepEqual(calls, [
      ['dmaMap', 1, 1, 1, 0xbbfdd000, 1514, 0x1a2b3c000, 0, false],
      ['dmaMap', 2, 1, 2, 2 ** 64, 65536, 0x1a2b3c000, (1 << 5) | (1 << 8), true],
      ['dmaMap', 3, 1, 0, 0xfe000000, 4096, 0xfe000000, (1 << 10) | 0x1000, false],
      ['dmaUnmap', 4, 1, 1, 0xbbfdd000, 1514, 0],
      ['dmaUnmap', 5, 1, 3, 0xbbfdd000, 1514, 1 << 5],
    ]);
  });

  test('map_sg in both formats, TRUNCATED, the error event, unmap_sg by physical address', () => {
    const { calls } = parse(
      `${P}dma_map_sg: 0000:00:04.0 dir=FROM_DEVICE dma_addrs={0x13a000000,0xbbfde000} sizes={0x1000,0x800} phys_addrs={0x13a000000,0x1c8f3e000} attrs=`,
      `${P}dma_map_sg: 0000:00:04.0 dir=FROM_DEVICE nents=2/2 ents=2/2 dma_addrs={0x13a000000,0xbbfde000} sizes={0x1000,0x800} phys_addrs={0x13a000000,0x1c8f3e000} attrs=`,
      `${P}dma_map_sg: 0000:00:04.0 dir=TO_DEVICE nents=1/300 ents=1/300 [TRUNCATED] dma_addrs={0xbbfde000} sizes={0x1000} phys_addrs={0x1c8f3e000} attrs=`,
      `${P}dma_map_sg_err: 0000:00:04.0 dir=TO_DEVICE dma_addrs={0x1c8f3e000,0x1c8f3f000} err=-22 attrs=`,
      `${P}dma_unmap_sg: 0000:00:04.0 dir=FROM_DEVICE phys_addrs={0x13a000000,0x1c8f3e000} attrs=`,
      `${P}dma_map_sg: 0000:00:04.0 dir=FROM_DEVICE dma_addrs={0x13a000000,0xbbfde000 sizes={0x1000} phys_addrs={} attrs=`,
    );
    const sg = { dma: [0x13a000000, 0xbbfde000], size: [0x1000, 0x800], phys: [0x13a000000, 0x1c8f3e000] };
    assert.deepEqual(calls, [
      ['dmaMapSg', 1, 2, sg, 0, 2, false],
      ['dmaMapSg', 1, 2, sg, 0, 2, false],
      ['dmaMapSg', 1, 1, { dma: [0xbbfde000], size: [0x1000], phys: [0x1c8f3e000] }, 0, 300, true],
      ['dmaMapSg', 1, 1, { dma: [], size: [], phys: [0x1c8f3e000, 0x1c8f3f000] }, 0, 2, false],
      ['dmaUnmapSg', 1, 2, [0x13a000000, 0x1c8f3e000], 0],
      ['malformed', 'dma_map_sg: dma_addrs= holds a non-number, event skipped'],
    ]);
  });

  test('syncs, sg syncs per entry, coherent allocations of every version', () => {
    const { calls } = parse(
      `${P}dma_sync_single_for_cpu: 0000:00:03.0 dir=FROM_DEVICE dma_addr=bbfdd000 size=1514`,
      `${P}dma_sync_single_for_device: 0000:00:03.0 dir=TO_DEVICE dma_addr=bbfdd000 size=64`,
      `${P}dma_sync_sg_for_cpu: 0000:00:03.0 dir=FROM_DEVICE dma_addrs={0xbbfdd000,0xbbfde000} sizes={0x200,0x400}`,
      `${P}dma_alloc: 0000:00:03.0 dma_addr=ffff000 size=8192 virt_addr=00000000a1b2c3d4 flags=GFP_KERNEL attrs=`,
      `${P}dma_alloc: 0000:00:03.0 dir=BIDIRECTIONAL dma_addr=0 size=8192 virt_addr=0000000000000000 flags=GFP_KERNEL attrs=`,
      `${P}dma_free_pages: 0000:00:03.0 dir=BIDIRECTIONAL dma_addr=ffff000 size=8192 virt_addr=00000000a1b2c3d4 attrs=`,
    );
    assert.deepEqual(calls, [
      ['dmaSync', 9, 1, 2, 0xbbfdd000, 1514],
      ['dmaSync', 10, 1, 1, 0xbbfdd000, 64],
      ['dmaSync', 11, 1, 2, 0xbbfdd000, 0x200],
      ['dmaSync', 11, 1, 2, 0xbbfde000, 0x400],
      ['dmaCoherent', 13, 1, 0xffff000, 8192, false],
      ['dmaCoherent', 13, 1, 0, 8192, true],
      ['dmaCoherent', 14, 1, 0xffff000, 8192, false],
    ]);
  });
});

describe('probe events', () => {
  test('the 6.1 runs: entry with the device fields, in-lock probes, return, unmap, syncs, API probes', () => {
    const { calls } = parse(
      `${P}map_entry: (swiotlb_tbl_map_single+0x5/0x6c0) dev=0xff110000051900d0 orig=0x60c7000 msize=4096 asize=4096 amask=0x0 dir=2 attrs=0x100 minalign=0xfff segbnd=0xffffffff pool=0x7d500000 dname="0000:00:03.0"`,
      `${P}map_lock: (swiotlb_tbl_map_single+0x246/0x6c0) area=0 used=0 index=0 nslots=2 stride=4`,
      `${P}map_nf: (swiotlb_tbl_map_single+0x3fe/0x6c0) area=1`,
      `${P}map_found: (swiotlb_tbl_map_single+0x579/0x6c0) area=0 slot=4 used=2 index=6`,
      `${P}map_ret: (swiotlb_tbl_map_single+0x18e/0x6c0) ret=0x7d502000`,
      `${P}map_ret: (swiotlb_tbl_map_single+0x18e/0x6c0) ret=0xffffffffffffffff`,
      `${P}unmap_entry: (swiotlb_tbl_unmap_single+0x5/0x1a0) dev=0xff110000051900d0 tlb=0x7d502000 msize=4096 dir=2 attrs=0x20 dname="0000:00:03.0"`,
      `${P}unmap_lock: (swiotlb_tbl_unmap_single+0xa0/0x1a0) slot=4 nslots=2 used=2 index=6`,
      `${P}sync_cpu: (swiotlb_sync_single_for_cpu+0x5/0x30) tlb=0x7d502000 size=4096 dir=2`,
      `${P}sync_dev: (swiotlb_sync_single_for_device+0x5/0x30) tlb=0x7d502000 size=512 dir=1`,
      `${P}map_page: (dma_map_page_attrs+0x5/0x270) page=0xffd40000001831c0 off=0 size=4096 dir=2 attrs=0x0 dname="0000:00:03.0"`,
      `${P}map_sg: (dma_direct_map_sg+0x5/0x2b0) sgl=0xff110001089cb238 nents=1 dir=2 attrs=0x0 pl0=0xffd4000004226f02 off0=0 len0=4096 pl1=0x0 off1=0 len1=0 dname="0000:00:01.1"`,
    );
    assert.deepEqual(calls, [
      [
        'tblMapEntry',
        {
          dev: 1,
          origAddr: 0x60c7000,
          mappingSize: 4096,
          allocSize: 4096,
          allocAlignMask: 0,
          dir: 2,
          attrs: 0x100,
          minAlignMask: 0xfff,
          boundaryBits: 32,
          poolBase: 0x7d500000,
        },
      ],
      ['tblMapLock', 0],
      ['tblMapNotFound', 1],
      ['tblMapFound', 0, 4],
      ['tblMapReturn', 0x7d502000, false],
      ['tblMapReturn', 2 ** 64, true],
      ['tblUnmapEntry', 1, 0x7d502000, 4096, 2, 0x20],
      ['tblUnmapLock', 4, 2],
      ['tblSync', true, 0x7d502000, 4096, 2],
      ['tblSync', false, 0x7d502000, 512, 1],
      ['apiProbe', 1, false],
      ['apiProbe', 2, true],
    ]);
  });

  test("the capture script's function-level probes: $arg fetches, a kretprobe's return", () => {
    const { calls } = parse(
      `${P}map_entry: (swiotlb_tbl_map_single+0x0/0x6c0) orig=0x60c7600 msize=512 asize=512 amask=0x0 dir=1 attrs=0x0 dname="0000:00:03.0"`,
      `${P}map_ret: (swiotlb_map+0x5c/0x1a0 <- swiotlb_tbl_map_single) ret=0x7d504600`,
      `${P}pool_base: (swiotlb_tbl_map_single+0x0/0x6c0) pool=0x7d500000`,
      `${P}unmap_entry: (swiotlb_tbl_unmap_single+0x0/0x1a0) tlb=0x7d504600 msize=512 dir=1 attrs=0x20 dname="0000:00:03.0"`,
    );
    assert.deepEqual(calls, [
      [
        'tblMapEntry',
        {
          dev: 1,
          origAddr: 0x60c7600,
          mappingSize: 512,
          allocSize: 512,
          allocAlignMask: 0,
          dir: 1,
          attrs: 0,
          minAlignMask: -1,
          boundaryBits: -1,
          poolBase: -1,
        },
      ],
      ['tblMapReturn', 0x7d504600, false],
      ['poolBase', 0x7d500000],
      ['tblUnmapEntry', 1, 0x7d504600, 512, 1, 0x20],
    ]);
  });

  test('tracing_mark_write keeps its text; a probe without its key is malformed, not fatal', () => {
    const { calls } = parse(
      `${P}tracing_mark_write: PHASE boot nslabs=512 used=0`,
      `${P}map_ret: (swiotlb_tbl_map_single+0x18e/0x6c0) re=0x1`,
    );
    assert.deepEqual(calls, [
      ['mark', 'PHASE boot nslabs=512 used=0'],
      ['malformed', 'map_ret: no ret, event skipped'],
    ]);
  });
});
