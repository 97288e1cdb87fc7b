/**
 * Dynamic swiotlb against a real kernel: Linux 6.12.117 built with CONFIG_SWIOTLB_DYNAMIC=y,
 * booted under QEMU with swiotlb=512,force on 2 CPUs while NVMe reads and writes kept more
 * buffers in flight than the 1 MiB pool holds (test/fixtures/kernel-6.12-dynamic, see
 * PROVENANCE.md). Probes recorded every swiotlb_tbl_map_single() and its result, every
 * __swiotlb_tbl_unmap_single() with the pool it released into, and every swiotlb_alloc_pool()
 * with its arguments and the pool it made.
 *
 * The model replays the maps and unmaps in the trace's order. The page allocator gives back the
 * addresses the kernel's gave (they are the page allocator's choice, not swiotlb's), and the
 * worker runs where the trace shows it ran; everything else is the model's: which maps miss,
 * the size of each transient pool, the worker's pool, the slot in every pool.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { DmaDirection } from '../../src/model/constants';
import { type DynamicConfig, type PageAllocator, zoneLayout } from '../../src/model/dynamic';
import { IoTlbPool } from '../../src/model/pool';
import { resolveProfile } from '../../src/model/profiles';
import { IoTlbMem, type MapRequest, type MapResult } from '../../src/model/swiotlb';

const DIR = path.join(__dirname, '..', 'fixtures', 'kernel-6.12-dynamic');
const NVME = { minAlignMask: 0xfff, segBoundaryBits: 32 };

interface Ev {
  readonly task: string;
  readonly cpu: number;
  readonly ts: number;
  readonly name: string;
  readonly f: Record<string, string>;
}

function events(): Ev[] {
  const text = gunzipSync(fs.readFileSync(path.join(DIR, 'trace.txt.gz'))).toString('utf8');
  const out: Ev[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(.+?-\d+)\s+\[(\d+)\]\s+\S+\s+(\d+): (\w+): (.*)$/.exec(line);
    if (!m) continue;
    const f: Record<string, string> = {};
    for (const kv of (m[5] as string).split(' ')) {
      const eq = kv.indexOf('=');
      if (eq > 0) f[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    out.push({ task: m[1] as string, cpu: Number(m[2]), ts: Number(m[3]), name: m[4] as string, f });
  }
  return out;
}

/** The kernel's page allocator, as the trace shows it: the next block it handed out. */
class ObservedAllocator implements PageAllocator {
  next: { start: number; bytes: number } | undefined;
  mismatches: string[] = [];
  allocPages(bytes: number): number | undefined {
    const n = this.next;
    this.next = undefined;
    if (!n) return undefined;
    if (n.bytes !== bytes) this.mismatches.push(`asked for ${bytes} bytes, the kernel allocated ${n.bytes}`);
    return n.start;
  }
  allocAtomic(): number | undefined {
    return undefined;
  }
  free(): void {}
}

const num = (s: string | undefined) => Number(BigInt(s as string));

describe('dynamic swiotlb in a real 6.12.117 kernel with CONFIG_SWIOTLB_DYNAMIC=y', () => {
  const evs = events();
  const snapshots = fs.readFileSync(path.join(DIR, 'debugfs_snapshots.txt'), 'utf8');

  test('the run grew: transient pools, then one worker pool of the default size', () => {
    const reqs = evs.filter((e) => e.name === 'poolreq');
    const worker = reqs.filter((e) => e.f.dev === '0x0');
    assert.equal(worker.length, 1);
    // swiotlb_dyn_alloc(): swiotlb_alloc_pool(NULL, IO_TLB_MIN_SLABS, default_nslabs, default_nareas, phys_limit, GFP_KERNEL)
    assert.deepEqual(
      worker.map((e) => [e.f.minslabs, e.f.nslabs, e.f.nareas, e.f.limit]),
      [['0x200', '0x200', '0x2', '0xffffffff']],
    );
    const transient = reqs.filter((e) => e.f.dev !== '0x0');
    assert.ok(transient.length > 10);
    // a transient pool: exactly nr_slots(size), one area, below the device's limit, GFP_NOWAIT | __GFP_NOWARN
    for (const e of transient) {
      assert.equal(e.f.minslabs, e.f.nslabs);
      assert.equal(e.f.nareas, '0x1');
      assert.equal(e.f.limit, '0xffffffffffffffff');
      assert.equal(e.f.gfp, '0x2800');
    }
    assert.match(snapshots, /^idle nslabs=1024 used=0 hiwater=\d+ transient=0$/m);
  });

  test('the model makes the same choices: every miss, every transient pool, the worker pool, every slot', () => {
    const profile = resolveProfile('6.12.117');
    const boot = evs.find((e) => e.name === 'unmap' && e.f.transient === '0')?.f.pool;
    assert.ok(boot);
    const start = num(boot);
    const alloc = new ObservedAllocator();
    const dyn: DynamicConfig = {
      canGrow: true,
      physLimit: 0xffff_ffff,
      defaultNslabs: 512,
      defaultNareas: 2,
      allocator: alloc,
      zoneDmaLimit: zoneLayout({ arch: 'x86', ramBytes: 2 * 2 ** 30 }).zoneDmaLimit,
      hasZoneDma: true,
      hasZoneDma32: true,
      encrypted: false,
      maxPageOrder: 10,
      // the worker runs where the trace shows it (runPendingWorker below)
      growDelay: 1e9,
    };
    const mem = new IoTlbMem(new IoTlbPool(profile, { start, nslabs: 512, nareas: 2, pageShift: 12 }), dyn);
    // the NVMe probe's maps before the trace moved the areas' search index: start each area
    // where the first map of a CPU searching it first landed (the analyzer's rule for captures
    // of a running system)
    for (let a = 0; a < 2; a++) {
      const first = evs.find((e) => e.name === 'mapret' && e.cpu % 2 === a && Math.floor((num(e.f.tlb) - start) / 2048 / 256) === a);
      if (first) mem.pool.areaIndex[a] = Math.floor((num(first.f.tlb) - start) / 2048) - a * 256;
    }
    // A map is decided when its search runs: right after the entry probe (the search comes
    // first; the copy into the bounce buffer after it may be preempted for long before the
    // return probe), or, for a miss, when its transient pool comes.
    const live = new Map<string, { q: MapRequest; r?: MapResult; waiting: boolean }>();
    let maps = 0;
    let matched = 0;
    let raced = 0;
    let transientKernel = 0;
    let transientModel = 0;
    let addedKernel = 0;
    let addedModel = 0;
    const misses: string[] = [];
    const poolReq = new Map<string, Ev>();
    for (const e of evs) {
      switch (e.name) {
        case 'map': {
          const q: MapRequest = {
            cpu: e.cpu,
            origAddr: num(e.f.orig),
            mappingSize: num(e.f.size),
            allocAlignMask: num(e.f.align),
            dir: num(e.f.dir) as DmaDirection,
            attrs: num(e.f.attrs),
            dev: NVME,
            physLimit: 2 ** 64,
          };
          const pred = mem.predictMapSingle(q);
          live.set(e.task, pred.ok ? { q, r: mem.tblMapSingle(q), waiting: false } : { q, waiting: true });
          break;
        }
        case 'poolreq':
          poolReq.set(e.task, e);
          break;
        case 'pool': {
          const req = poolReq.get(e.task);
          const block = { start: num(e.f.start), bytes: 2 ** Math.ceil(Math.log2(Math.max(4096, num(e.f.nslabs) * 2048))) };
          alloc.next = block;
          if (req?.f.dev === '0x0') {
            mem.runPendingWorker();
            assert.deepEqual(
              mem.added.map((a) => [a.start, a.nslabs, a.nareas]),
              [[block.start, num(e.f.nslabs), num(e.f.nareas)]],
              'the worker ran in the model too, and made the same pool',
            );
          } else {
            transientKernel++;
            const m = live.get(e.task);
            if (m?.waiting) {
              m.r = mem.tblMapSingle(m.q);
              m.waiting = false;
            }
          }
          alloc.next = undefined;
          break;
        }
        case 'mapret': {
          const m = live.get(e.task);
          if (!m) break;
          live.delete(e.task);
          maps++;
          const tlb = num(e.f.tlb);
          let r = m.waiting ? mem.tblMapSingle(m.q) : m.r;
          if (r?.ok && r.tlbAddr === tlb) matched++;
          else {
            // another CPU's map or release around this one was seen in another order than the
            // area lock saw it: follow the kernel's slot
            if (r?.ok) mem.tblUnmapSingle(r.tlbAddr, m.q.mappingSize, m.q.dir, 0x20, NVME);
            const pool = mem.findPool(tlb);
            r = pool && !pool.transient ? mem.tblMapSingleAt(m.q, Math.floor((tlb - pool.start) / 2048), pool) : undefined;
            if (r) raced++;
            else misses.push(`ts ${e.ts}: kernel ${tlb.toString(16)}, model ${m.r?.ok ? m.r.tlbAddr.toString(16) : m.r?.reason}`);
          }
          if (r?.poolKind === 'transient') transientModel++;
          if (r?.poolKind === 'added') addedModel++;
          const added = mem.added[0]?.start;
          if (added !== undefined && tlb >= added && tlb < added + 512 * 2048) addedKernel++;
          break;
        }
        case 'unmap': {
          const tlb = num(e.f.tlb);
          const pool = mem.findPool(tlb);
          // the pool the kernel released into, and whether it was transient
          assert.equal(pool?.start, num(e.f.pool), `ts ${e.ts}: ${misses.join('; ')}`);
          assert.equal(pool?.transient ? '1' : '0', e.f.transient, `ts ${e.ts}`);
          const u = mem.tblUnmapSingle(tlb, num(e.f.size), DmaDirection.TO_DEVICE, 0, NVME);
          assert.ok(u.ok, `ts ${e.ts}: ${u.error}`);
          break;
        }
      }
    }
    assert.deepEqual(alloc.mismatches, []);
    assert.ok(maps > 7000, `${maps} maps`);
    assert.deepEqual(misses, []);
    // 7617 of 7620 predicted; 3 maps raced with another CPU's map or release (the probes fire
    // outside the area lock) and were followed
    assert.equal(matched + raced, maps);
    assert.ok(raced <= 3, `${raced} raced`);
    assert.equal(transientModel, transientKernel);
    assert.equal(addedModel, addedKernel);
    assert.ok(addedKernel > 100, 'later maps used the added pool');
    assert.equal(mem.used, 0);
    assert.equal(mem.transientNslabs, 0);
    assert.equal(mem.nslabs, 1024);
    const hiwater = Number(/^idle nslabs=1024 used=0 hiwater=(\d+)/m.exec(snapshots)?.[1]);
    assert.equal(mem.hiwater, hiwater, 'io_tlb_used_hiwater');
  });
});
