/**
 * Dynamic swiotlb (CONFIG_SWIOTLB_DYNAMIC): the rules of kernel/dma/swiotlb.c (6.6, 6.12 text)
 * as unit tests, and its invariants as property tests over random workloads.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DmaDirection, IO_TLB_SIZE, nrSlots } from '../../src/model/constants';
import {
  allocTlb,
  type DynamicConfig,
  type GfpZone,
  machineDynamicConfig,
  type PageAllocator,
  ZonedPageAllocator,
  zoneLayout,
} from '../../src/model/dynamic';
import { dynamicSizing, dynamicSizingText, type SizingOp } from '../../src/model/dynamicSizing';
import { type DeviceSlotParams, IoTlbPool } from '../../src/model/pool';
import { dynamicUnsupported, type KernelProfile, resolveProfile } from '../../src/model/profiles';
import { dmaZone } from '../../src/model/setup';
import { IoTlbMem, type MapRequest } from '../../src/model/swiotlb';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const NVME: DeviceSlotParams = { minAlignMask: 0xfff, segBoundaryBits: 64 };
const PLAIN: DeviceSlotParams = { minAlignMask: 0, segBoundaryBits: 64 };

/** An x86 machine's dynamic set-up around a boot pool at `start`. */
function x86Dynamic(
  profile: KernelProfile,
  start: number,
  nslabs: number,
  nareas: number,
  opts: Partial<DynamicConfig> = {},
): DynamicConfig {
  const base = machineDynamicConfig({
    arch: 'x86',
    ramBytes: 8 * GiB,
    zone: dmaZone(profile, { arch: 'x86', possibleCpus: nareas }),
    pool: { start, nslabs, nareas },
    encrypted: false,
    canGrow: true,
  });
  return { ...base, ...opts };
}

function mem(profileName: string, nslabs: number, nareas: number, opts: Partial<DynamicConfig> = {}): IoTlbMem {
  const profile = resolveProfile(profileName);
  const start = 0xbc00_0000;
  return new IoTlbMem(new IoTlbPool(profile, { start, nslabs, nareas, pageShift: 12 }), x86Dynamic(profile, start, nslabs, nareas, opts));
}

function req(cpu: number, origAddr: number, size: number, dev = PLAIN, physLimit?: number): MapRequest {
  return { cpu, origAddr, mappingSize: size, dir: DmaDirection.TO_DEVICE, dev, ...(physLimit !== undefined ? { physLimit } : {}) };
}

/** Fills the whole boot pool with 128-slot maps. */
function fill(m: IoTlbMem, cpu = 0): number[] {
  const out: number[] = [];
  for (let k = 0; k < m.pool.nslabs / 128; k++) {
    const r = m.tblMapSingle(req(cpu, 0x1_0000_0000 + k * 0x40000, 128 * IO_TLB_SIZE));
    assert.ok(r.ok && !r.poolKind, 'the boot pool takes it');
    out.push(r.tlbAddr);
  }
  return out;
}

describe('dynamic swiotlb: the kernel rules', () => {
  test('5.10 and 6.1 have no dynamic swiotlb; 6.6 ... mainline do', () => {
    for (const k of ['5.10', '6.1', '6.1.192'])
      assert.match(dynamicUnsupported(resolveProfile(k)) ?? '', /CONFIG_SWIOTLB_DYNAMIC exists from Linux 6\.6 on/);
    for (const k of ['6.6-early', '6.6-late', '6.9', '6.12', 'mainline', '6.6.10', '6.8.2'])
      assert.equal(dynamicUnsupported(resolveProfile(k)), undefined, k);
    assert.match(dynamicUnsupported(resolveProfile('6.5.3')) ?? '', /6\.6/);
    const p = resolveProfile('6.1');
    assert.throws(
      () =>
        new IoTlbMem(new IoTlbPool(p, { start: 0, nslabs: 256, nareas: 1, pageShift: 12 }), x86Dynamic(resolveProfile('6.12'), 0, 256, 1)),
      /no dynamic swiotlb/,
    );
  });

  test('a full pool gives the mapping a transient pool of exactly its slots; unmapping frees it', () => {
    const m = mem('6.12', 256, 1);
    fill(m);
    const alloc = m.dynamic?.allocator as ZonedPageAllocator;
    const before = alloc.outstanding;
    const r = m.tblMapSingle(req(0, 0x2_0000_1000, 3 * IO_TLB_SIZE - 100));
    assert.ok(r.ok);
    assert.equal(r.poolKind, 'transient');
    assert.equal(r.index, 0);
    assert.equal(r.nslots, 3);
    // get_order(6 KiB) = 1: an 8 KiB block, naturally aligned, below no limit
    assert.equal((r.poolStart as number) % 8192, 0);
    assert.equal(r.tlbAddr, r.poolStart);
    assert.equal(m.transientNslabs, 3);
    assert.equal(m.transientPools, 1);
    assert.equal(m.used, 256 + 3);
    assert.equal(m.nslabs, 256, 'transient pools are not in mem->nslabs');
    assert.equal(alloc.outstanding, before + 1);
    const u = m.tblUnmapSingle(r.tlbAddr, 3 * IO_TLB_SIZE - 100, DmaDirection.TO_DEVICE, 0, PLAIN);
    assert.ok(u.ok);
    assert.equal(u.freedSlots, 3);
    assert.equal(m.transientPools, 0);
    assert.equal(m.transientNslabs, 0);
    assert.equal(m.used, 256);
    assert.equal(m.hiwater, 259);
    // the worker was scheduled by that map: its pool is only allocated when it runs
    assert.equal(alloc.outstanding, before);
  });

  test('the worker adds a pool of the default size, visible grow_delay maps later; schedule_work() while pending is a no-op', () => {
    const m = mem('mainline', 512, 2, { growDelay: 2 });
    fill(m);
    const a = m.tblMapSingle(req(0, 0x2_0000_0000, 4096));
    const b = m.tblMapSingle(req(1, 0x2_0000_4000, 4096));
    assert.equal(a.poolKind, 'transient');
    assert.equal(b.poolKind, 'transient', 'the worker has not run yet');
    assert.equal(m.added.length, 0);
    // the second map call after the first miss sees the pool
    const c = m.tblMapSingle(req(0, 0x2_0000_8000, 4096));
    assert.equal(m.added.length, 1, 'one pool: the second miss found the work pending');
    assert.equal(c.poolKind, 'added');
    assert.equal(m.added[0]?.nslabs, 512);
    assert.equal(m.added[0]?.nareas, 2);
    assert.equal(m.nslabs, 1024, 'add_mem_pool() grows mem->nslabs');
    assert.equal(m.pools[0]?.start, c.poolStart, 'the new pool is at the head of the list');
  });

  test("the worker's pool is clamped to MAX_PAGE_ORDER pages (4 MiB) and its areas limited", () => {
    const m = mem('6.12', 32768, 32, { growDelay: 1 });
    // fill every area: 256 maps of 128 slots spread over the CPUs
    for (let k = 0; k < 256; k++) assert.ok(m.tblMapSingle(req(k % 32, 0x1_0000_0000 + k * 0x40000, 128 * IO_TLB_SIZE)).ok);
    m.tblMapSingle(req(0, 0x2_0000_0000, 4096));
    m.tblMapSingle(req(0, 0x2_0000_4000, 4096));
    assert.deepEqual(
      m.added.map((a) => [a.nslabs, a.nareas]),
      [[2048, 16]],
    );
  });

  test('6.6.3+ refuses requests above 128 slots before growing; 6.6.0 grows and fails', () => {
    for (const [k, grows] of [
      ['mainline', false],
      ['6.6-early', true],
    ] as const) {
      const m = mem(k, 256, 1, { growDelay: 1 });
      fill(m);
      const r = m.tblMapSingle(req(0, 0x2_0000_0000, 129 * IO_TLB_SIZE));
      assert.equal(r.ok, false, k);
      assert.equal(r.reason, 'too-big', k);
      m.tblMapSingle(req(0, 0x2_0100_0000, 100));
      assert.equal(m.added.length > 0, grows, k);
    }
  });

  test('a transient pool sized to the request cannot honour min_align_mask bits above the slot: the map fails and the pool goes', () => {
    // NVMe (min_align_mask 0xfff), a buffer at an odd 2 KiB: slot 0 of a page-aligned pool of
    // two slots has bit 11 clear, slot 1 has no room for two slots
    const m = mem('6.12', 256, 1, { growDelay: 1000 });
    fill(m);
    const alloc = m.dynamic?.allocator as ZonedPageAllocator;
    const before = alloc.outstanding;
    const r = m.tblMapSingle(req(0, 0x2_0000_0800, 4096, NVME));
    assert.equal(r.ok, false);
    assert.equal(r.reason, 'full');
    assert.equal(alloc.outstanding, before, 'swiotlb_dyn_free() gave the block back');
    assert.equal(m.transientPools, 0);
    // the same buffer at an even 2 KiB offset fits
    assert.equal(m.tblMapSingle(req(0, 0x2_0000_2000, 4096, NVME)).poolKind, 'transient');
  });

  test('the search order across pools: 6.7+ area by area over every pool, 6.6 every area of a pool before the next', () => {
    for (const [k, expect] of [
      ['6.12', 'default'],
      ['6.6-early', 'added'],
    ] as const) {
      const m = mem(k, 512, 2, { growDelay: 1 });
      fill(m, 0);
      m.tblMapSingle(req(0, 0x2_0000_0000, 4096)); // schedules the worker
      // the next map sees the added pool: fill its area 0 (cpu 0's area)
      const first = m.tblMapSingle(req(0, 0x3_0000_0000, 128 * IO_TLB_SIZE));
      assert.equal(first.poolKind, 'added', k);
      const start = first.poolStart as number;
      assert.ok(m.tblMapSingle(req(0, 0x3_0004_0000, 128 * IO_TLB_SIZE)).poolKind === 'added');
      // boot pool: free one run in area 0
      assert.ok(m.tblUnmapSingle(0xbc00_0000, 128 * IO_TLB_SIZE, DmaDirection.TO_DEVICE, 0, PLAIN).ok);
      const r = m.tblMapSingle(req(0, 0x4_0000_0000, 4096));
      const where = r.poolKind === 'added' && r.poolStart === start ? 'added' : (r.poolKind ?? 'default');
      assert.equal(where, expect, k);
    }
  });

  test('counters as debugfs shows them; "buffer is full" counts every pool', () => {
    const m = mem('6.12', 256, 1, { canGrow: false });
    fill(m);
    const r = m.tblMapSingle(req(0, 0x2_0000_0000, 4096));
    assert.equal(r.ok, false);
    assert.equal(r.message, 'swiotlb buffer is full (sz: 4096 bytes), total 256 (slots), used 256 (slots)');
    assert.equal(m.added.length, 0, 'can_grow false: no worker');
  });

  test('the GFP zone follows the limit, and a block that came back too high is asked for again lower', () => {
    const calls: GfpZone[] = [];
    const high: PageAllocator = {
      allocPages(_bytes, zone) {
        calls.push(zone);
        return zone === 'normal' ? 0x1_0000_0000 : zone === 'dma32' ? 0x8000_0000 : 0x10_0000;
      },
      allocAtomic: () => undefined,
      free() {},
    };
    const cfg = { ...x86Dynamic(resolveProfile('6.12'), 0, 256, 1), allocator: high };
    assert.equal(allocTlb(cfg, 4096, 2 ** 40, true, 12), 0x1_0000_0000);
    calls.length = 0;
    assert.equal(allocTlb(cfg, 4096, 0xffff_ffff, true, 12), 0x8000_0000);
    assert.deepEqual(calls, ['dma32'], 'a 32-bit limit asks DMA32 first');
    calls.length = 0;
    assert.equal(allocTlb(cfg, 4096, 0x7fff_ffff, true, 12), 0x10_0000);
    assert.deepEqual(calls, ['dma32', 'dma'], 'DMA32 came back above 2 GiB: ZONE_DMA next');
    calls.length = 0;
    assert.equal(allocTlb(cfg, 4096, 0xf_ffff, true, 12), undefined);
    assert.deepEqual(calls, ['dma'], 'within zone_dma_limit (16 MiB) and still too high: fail');
  });

  test('memory-encrypted guests take transient pools from the atomic pool (its size caps them)', () => {
    const profile = resolveProfile('6.12');
    const cfg = machineDynamicConfig({
      arch: 'x86',
      ramBytes: 2 * GiB,
      zone: dmaZone(profile, { arch: 'x86', possibleCpus: 1 }),
      pool: { start: 0x7c00_0000, nslabs: 256, nareas: 1 },
      encrypted: true,
      canGrow: true,
    });
    const m = new IoTlbMem(new IoTlbPool(profile, { start: 0x7c00_0000, nslabs: 256, nareas: 1, pageShift: 12 }), {
      ...cfg,
      growDelay: 1000,
    });
    fill(m);
    // 2 GiB of RAM: a 256 KiB atomic pool, so four 64 KiB transient pools and no fifth
    const got = [0, 1, 2, 3, 4].map((k) => m.tblMapSingle(req(0, 0x4000_0000 + k * 0x10000, 64 * 1024)).ok);
    assert.deepEqual(got, [true, true, true, true, false]);
  });

  test('arm64 RPi 4: transient pools for a 1 GiB device come from ZONE_DMA below its limit', () => {
    const profile = resolveProfile('6.12');
    const boot = { arch: 'arm64' as const, possibleCpus: 4, ramBytes: 4 * GiB, firmwareDmaLimit: 0x3fff_ffff };
    const zone = dmaZone(profile, boot);
    assert.equal(zone.dmaPhysLimit, 0x4000_0000);
    const start = 0x3c00_0000;
    const cfg = machineDynamicConfig({
      arch: 'arm64',
      ramBytes: 4 * GiB,
      zone,
      pool: { start, nslabs: 256, nareas: 1 },
      encrypted: false,
      canGrow: true,
      growDelay: 1,
    });
    assert.equal(cfg.physLimit, 0x3fff_ffff, 'ARCH_LOW_ADDRESS_LIMIT = arm64_dma_phys_limit - 1');
    const m = new IoTlbMem(new IoTlbPool(profile, { start, nslabs: 256, nareas: 1, pageShift: 12 }), cfg);
    fill(m);
    const r = m.tblMapSingle(req(0, 0x4089_8000, 4096, PLAIN, 0x3fff_ffff));
    assert.equal(r.poolKind, 'transient');
    assert.ok(r.tlbAddr + 4096 - 1 <= 0x3fff_ffff);
    // the worker's pool lands below phys_limit too
    const next = m.tblMapSingle(req(0, 0x4089_9000, 4096, PLAIN, 0x3fff_ffff));
    assert.equal(next.poolKind, 'added');
    assert.ok((m.added[0]?.start as number) + (m.added[0]?.nslabs as number) * IO_TLB_SIZE <= 0x4000_0000);
  });
});

describe('arm64 ZONE_DMA (zone_sizes_init)', () => {
  const p612 = resolveProfile('6.12');
  const p61 = resolveProfile('6.1');
  test('RPi 4 (DT dma-ranges to 1 GiB): 30 bits before 6.12, a limit since; the pool goes below it', () => {
    for (const p of [p61, p612]) {
      const z = dmaZone(p, { arch: 'arm64', possibleCpus: 4, ramBytes: 8 * GiB, firmwareDmaLimit: 0x3fff_ffff });
      assert.equal(z.dmaPhysLimit, 0x4000_0000, p.name);
      assert.equal(z.lowLimit, 0x4000_0000);
    }
    assert.equal(dmaZone(p61, { arch: 'arm64', possibleCpus: 1, firmwareDmaLimit: 0x3fff_ffff }).zoneDmaBits, 30);
    assert.equal(dmaZone(p612, { arch: 'arm64', possibleCpus: 1, firmwareDmaLimit: 0x3fff_ffff }).zoneDmaLimit, 0x3fff_ffff);
  });
  test('no firmware limit: ZONE_DMA covers 4 GiB (or RAM below it); RAM above 4 GiB only needs a pool', () => {
    const z = dmaZone(p612, { arch: 'arm64', possibleCpus: 1, ramBytes: 2 * GiB });
    assert.equal(z.dmaPhysLimit, 2 * GiB);
    assert.equal(dmaZone(p61, { arch: 'arm64', possibleCpus: 1, ramBytes: 16 * GiB }).dmaPhysLimit, 4 * GiB);
  });
  test('bits versus limit: a 3 GiB limit is 32 bits (4 GiB) before 6.12 and 3 GiB since', () => {
    const cfg = { arch: 'arm64' as const, possibleCpus: 1, ramBytes: 16 * GiB, firmwareDmaLimit: 0xbfff_ffff };
    assert.equal(dmaZone(p61, cfg).dmaPhysLimit, 4 * GiB);
    assert.equal(dmaZone(p612, cfg).dmaPhysLimit, 3 * GiB);
  });
  test('DRAM starting above 4 GiB: before 6.12 ZONE_DMA covers all of it; 6.12 keeps the firmware limit', () => {
    const cfg = { arch: 'arm64' as const, possibleCpus: 1, ramBytes: 8 * GiB, dramStart: 8 * GiB };
    assert.equal(dmaZone(p61, cfg).dmaPhysLimit, 16 * GiB);
    assert.equal(dmaZone(p612, cfg).dmaPhysLimit, 16 * GiB);
    assert.equal(dmaZone(p612, { ...cfg, firmwareDmaLimit: 12 * GiB - 1 }).dmaPhysLimit, 12 * GiB);
  });
  test('x86 keeps its 16 MiB ZONE_DMA and the boot pool below 4 GiB', () => {
    const z = dmaZone(p612, { arch: 'x86', possibleCpus: 1, ramBytes: 16 * GiB });
    assert.deepEqual([z.zoneDmaLimit, z.dmaPhysLimit, z.lowLimit], [0xff_ffff, 16 * MiB, 4 * GiB]);
  });
});

// ---------------------------------------------------------------- properties

type POp =
  | { kind: 'map'; cpu: number; orig: number; size: number; M: number; limit: number }
  | { kind: 'unmap'; pick: number }
  | { kind: 'worker' };

const popArb: fc.Arbitrary<POp> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('map' as const),
      cpu: fc.nat(15),
      orig: fc.integer({ min: 1, max: 2 ** 36 }),
      size: fc.oneof(fc.integer({ min: 1, max: 8192 }), fc.integer({ min: 1, max: 70000 }), fc.integer({ min: 250000, max: 270000 })),
      M: fc.constantFrom(0, 0, 0x7ff, 0xfff),
      limit: fc.constantFrom(2 ** 64, 2 ** 64, 0xffff_ffff, 0x3fff_ffff),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('unmap' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'worker' as const }) },
);

interface LiveMap {
  tlb: number;
  pool: IoTlbPool;
  index: number;
  nslots: number;
  size: number;
  dev: DeviceSlotParams;
}

function checkDynamic(profileName: string, nslabs: number, nareas: number, ramMiB: number, growDelay: number, ops: POp[]): void {
  const profile = resolveProfile(profileName);
  const start = 0x3c00_0000;
  const ram = ramMiB * MiB;
  const alloc = new ZonedPageAllocator(zoneLayout({ arch: 'x86', ramBytes: ram }), [{ start, end: start + nslabs * IO_TLB_SIZE }]);
  const cfg = { ...x86Dynamic(profile, start, nslabs, nareas), allocator: alloc, growDelay };
  const m = new IoTlbMem(new IoTlbPool(profile, { start, nslabs, nareas, pageShift: 12 }), cfg);
  const live: LiveMap[] = [];
  let maxUsed = 0;
  for (const op of ops) {
    if (op.kind === 'worker') m.runPendingWorker();
    else if (op.kind === 'unmap') {
      if (!live.length) continue;
      const [x] = live.splice(op.pick % live.length, 1) as [LiveMap];
      const u = m.tblUnmapSingle(x.tlb, x.size, DmaDirection.TO_DEVICE, 0, x.dev);
      assert.ok(u.ok, u.error);
      assert.equal(u.freedSlots, x.pool.transient ? x.pool.nslabs : x.nslots);
      if (x.pool.transient) assert.ok(!m.livePools.includes(x.pool), 'a transient pool goes with its mapping');
    } else {
      const dev = { minAlignMask: op.M, segBoundaryBits: 64 };
      const r = m.tblMapSingle({
        cpu: op.cpu,
        origAddr: op.orig,
        mappingSize: op.size,
        dir: DmaDirection.TO_DEVICE,
        dev,
        physLimit: op.limit,
      });
      if (r.ok) {
        const holders = m.livePools.filter((p) => p.isInPool(r.tlbAddr));
        assert.equal(holders.length, 1, 'tlb_addr lies in exactly one pool');
        const pool = holders[0] as IoTlbPool;
        assert.equal(m.kindOf(pool), r.poolKind ?? 'default');
        if (pool.transient) {
          assert.equal(pool.nslabs, nrSlots(r.reqBytes), 'a transient pool is sized to the request');
          assert.ok(pool.start + pool.nslabs * IO_TLB_SIZE - 1 <= op.limit, "below the device's limit");
        }
        live.push({ tlb: r.tlbAddr, pool, index: r.index, nslots: r.nslots, size: op.size, dev });
      } else {
        assert.ok(r.reason === 'full' || r.reason === 'too-big', r.reason);
      }
    }
    // no slot in two live mappings
    const taken = new Map<IoTlbPool, Set<number>>();
    for (const x of live) {
      const set = taken.get(x.pool) ?? new Set<number>();
      taken.set(x.pool, set);
      for (let k = x.index; k < x.index + x.nslots; k++) {
        assert.ok(!set.has(k), `slot ${k} of a pool in two live mappings`);
        set.add(k);
      }
    }
    // pools never overlap
    const pools = [...m.livePools].sort((a, b) => a.start - b.start);
    for (let i = 1; i < pools.length; i++) assert.ok((pools[i - 1] as IoTlbPool).end <= (pools[i] as IoTlbPool).start, 'pools overlap');
    // counters: io_tlb_used is every live slot, transient_nslabs the transient pools' slots
    const used = live.reduce((a, x) => a + x.nslots, 0);
    assert.equal(m.used, used);
    maxUsed = Math.max(maxUsed, used);
    assert.equal(m.hiwater, maxUsed);
    assert.equal(
      m.transientNslabs,
      live.filter((x) => x.pool.transient).reduce((a, x) => a + x.pool.nslabs, 0),
    );
    assert.equal(m.nslabs, nslabs + m.added.reduce((a, p) => a + (p.start === undefined ? 0 : p.nslabs), 0));
  }
  for (const x of live.splice(0)) assert.ok(m.tblUnmapSingle(x.tlb, x.size, DmaDirection.TO_DEVICE, 0, x.dev).ok);
  assert.equal(m.used, 0);
  assert.equal(m.transientPools, 0);
  assert.equal(
    alloc.outstanding,
    1 + m.added.filter((p) => p.start !== undefined).length,
    'only the boot pool and added pools hold memory',
  );
}

describe('dynamic swiotlb: invariants (property tests)', () => {
  for (const k of ['6.6-early', '6.6-late', 'mainline']) {
    test(`${k}: slots, pools and counters stay consistent`, () => {
      fc.assert(
        fc.property(
          fc.constantFrom(256, 512, 1024),
          fc.constantFrom(1, 2, 4),
          fc.constantFrom(1100, 1200, 4096),
          fc.integer({ min: 1, max: 20 }),
          fc.array(popArb, { minLength: 1, maxLength: 160 }),
          (nslabs, nareas, ram, delay, ops) => checkDynamic(k, nslabs, nareas, ram, delay, ops),
        ),
        { numRuns: 60 },
      );
    });
  }

  test('while nothing misses, the dynamic search picks the same slots as the single-pool search', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('6.6-early', 'mainline'),
        fc.constantFrom(1, 2, 4, 8),
        fc.array(
          fc.record({
            cpu: fc.nat(15),
            orig: fc.integer({ min: 1, max: 2 ** 36 }),
            size: fc.integer({ min: 1, max: 65536 }),
            M: fc.constantFrom(0, 0xfff),
            unmap: fc.nat(3),
          }),
          {
            maxLength: 120,
          },
        ),
        (k, nareas, ops) => {
          const profile = resolveProfile(k);
          const nslabs = 8192;
          const start = 0xbc00_0000;
          const a = new IoTlbMem(new IoTlbPool(profile, { start, nslabs, nareas, pageShift: 12 }));
          const b = new IoTlbMem(
            new IoTlbPool(profile, { start, nslabs, nareas, pageShift: 12 }),
            x86Dynamic(profile, start, nslabs, nareas),
          );
          const live: { tlb: number; size: number; dev: DeviceSlotParams }[] = [];
          for (const op of ops) {
            const dev = { minAlignMask: op.M, segBoundaryBits: 64 };
            const q = req(op.cpu, op.orig, op.size, dev);
            const ra = a.tblMapSingle(q);
            const rb = b.tblMapSingle(q);
            assert.equal(rb.poolKind, undefined);
            assert.deepEqual([rb.ok, rb.index, rb.tlbAddr, b.used], [ra.ok, ra.index, ra.tlbAddr, a.used]);
            if (ra.ok) live.push({ tlb: ra.tlbAddr, size: op.size, dev });
            if (op.unmap === 0 && live.length) {
              const x = live.shift() as { tlb: number; size: number; dev: DeviceSlotParams };
              assert.equal(
                b.tblUnmapSingle(x.tlb, x.size, DmaDirection.TO_DEVICE, 0, x.dev).freedSlots,
                a.tblUnmapSingle(x.tlb, x.size, DmaDirection.TO_DEVICE, 0, x.dev).freedSlots,
              );
            }
          }
        },
      ),
      { numRuns: 80 },
    );
  });
});

describe('the sizing answer (dynamicSizing)', () => {
  test('failures of a fixed pool are served by transient pools, then by the pool the worker adds', () => {
    const profile = resolveProfile('mainline');
    const geometry = { start: 0xbc00_0000, nslabs: 256, nareas: 1, pageShift: 12 };
    const ops: SizingOp[] = [];
    // 2 maps of 128 slots fill the pool; 3 more fail; one of 129 slots is too big
    for (let k = 0; k < 2; k++)
      ops.push({ t: 'map', key: `a${k}`, req: req(0, 0x1_0000_0000 + k * 0x40000, 128 * IO_TLB_SIZE), failed: false });
    for (let k = 0; k < 3; k++) ops.push({ t: 'map', key: `f${k}`, req: req(0, 0x2_0000_0000 + k * 0x10000, 8192), failed: true });
    ops.push({ t: 'map', key: 'big', req: req(0, 0x3_0000_0000, 129 * IO_TLB_SIZE), failed: true });
    const s = dynamicSizing(profile, geometry, x86Dynamic(profile, geometry.start, 256, 1, { growDelay: 1 }), ops);
    assert.equal(s.failures, 3);
    assert.equal(s.tooBig, 1);
    assert.equal(s.servedTransient, 1, 'the first miss: a transient pool while the worker runs');
    assert.equal(s.servedAdded, 2);
    assert.equal(s.peakTransientBytes, 8192);
    assert.equal(s.poolsAdded, 1);
    assert.equal(s.addedPoolSlots, 256);
    assert.equal(
      dynamicSizingText(s),
      'with CONFIG_SWIOTLB_DYNAMIC these 3 failures would have been served: 1 by transient pools (8 KiB at peak), 2 by the 1 pool of 512 KiB the worker added; 1 above 128 slots fail whatever the pools',
    );
    // a worker that never comes in time: every failure takes a transient pool
    const late = dynamicSizing(profile, geometry, x86Dynamic(profile, geometry.start, 256, 1, { growDelay: 1000 }), ops);
    assert.deepEqual([late.servedTransient, late.servedAdded, late.peakTransientBytes], [3, 0, 3 * 8192]);
  });
});
