/**
 * Property tests of the allocator for every profile: random pools and random map / alloc /
 * unmap sequences keep the kernel's invariants.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DmaDirection, IO_TLB_SEGSIZE, nrSlots } from '../../src/model/constants';
import { type DeviceSlotParams, IoTlbPool } from '../../src/model/pool';
import { type KernelProfile, resolveProfile } from '../../src/model/profiles';
import { IoTlbMem, type MapResult } from '../../src/model/swiotlb';
import { REF_LIVELOCK, referenceSearch } from './reference';

const PROFILES = ['5.10', '6.1', '6.1.0', '6.6-early', '6.6-late', 'mainline'];

type Op =
  | { kind: 'map'; cpu: number; orig: number; size: number; M: number; aam: number; bits: number }
  | { kind: 'alloc'; cpu: number; size: number; M: number }
  | { kind: 'unmap'; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('map' as const),
      cpu: fc.nat(31),
      orig: fc.integer({ min: 1, max: 2 ** 40 }),
      size: fc.oneof(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 1, max: 70000 }), fc.integer({ min: 200000, max: 300000 })),
      M: fc.constantFrom(0, 0, 0x1ff, 0x7ff, 0xfff, 0x3fff),
      aam: fc.constantFrom(0, 0, 0xfff, 0x3fff),
      bits: fc.constantFrom(64, 64, 32, 16, 17, 20),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('alloc' as const),
      cpu: fc.nat(31),
      size: fc.integer({ min: 1, max: 70000 }),
      M: fc.constantFrom(0, 0xfff),
    }),
  },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('unmap' as const), pick: fc.nat() }) },
);

interface Live {
  index: number;
  nslots: number;
  tlb: number;
  dev: DeviceSlotParams;
  size: number;
  alloc: boolean;
}

/** The true free run from each slot to the next used slot or its segment end (or the pool end). */
function expectedList(p: IoTlbPool, used: Uint8Array, clip: boolean): Uint8Array {
  const out = new Uint8Array(p.nslabs);
  for (let i = p.nslabs - 1; i >= 0; i--) {
    if (used[i]) continue;
    const segEnd = (Math.floor(i / IO_TLB_SEGSIZE) + 1) * IO_TLB_SEGSIZE;
    const next = i + 1;
    if (next < segEnd && next < p.nslabs) out[i] = used[next] ? 1 : (out[next] as number) + 1;
    else out[i] = next >= segEnd || !clip ? segEnd - i : 1;
  }
  return out;
}

function runSequence(profile: KernelProfile, nareas: number, nslabs: number, ops: Op[]): void {
  const pool = new IoTlbPool(profile, { start: 0x80000000, nslabs, nareas, pageShift: 12 });
  const mem = new IoTlbMem(pool);
  const fresh = Uint8Array.from(pool.list);
  const used = new Uint8Array(nslabs);
  const live: Live[] = [];
  const n = pool.areaNslabs;
  for (const op of ops) {
    if (op.kind === 'unmap') {
      if (live.length === 0) continue;
      const [m] = live.splice(op.pick % live.length, 1) as [Live];
      const r = m.alloc ? mem.free(m.tlb, m.size, m.dev) : mem.tblUnmapSingle(m.tlb, m.size, DmaDirection.BIDIRECTIONAL, 0, m.dev);
      assert.ok(r.ok, r.error);
      assert.equal(r.freedSlots, m.nslots, 'frees exactly what was taken');
      used.fill(0, m.index, m.index + m.nslots);
    } else {
      if (op.kind === 'alloc' && !profile.restrictedAlloc) continue;
      const dev = op.kind === 'map' ? { minAlignMask: op.M, segBoundaryBits: op.bits } : { minAlignMask: op.M, segBoundaryBits: 64 };
      const before = Uint8Array.from(pool.list);
      const usedBefore = pool.totalUsed;
      const req =
        op.kind === 'map'
          ? { cpu: op.cpu, origAddr: op.orig, mappingSize: op.size, allocAlignMask: op.aam, dir: DmaDirection.TO_DEVICE, dev }
          : undefined;
      const predicted = req ? mem.predictMapSingle(req) : mem.predictAlloc(op.cpu, op.size, dev);
      if (op.kind === 'map' && predicted.reason !== 'invalid') {
        // the optimised search against the plain reading of the spec, on this exact state
        const ref = referenceSearch(pool, {
          cpu: op.cpu,
          orig: BigInt(op.orig),
          req: predicted.reqBytes,
          aam: BigInt(profile.hasAllocAlignMask ? op.aam : 0),
          M: BigInt(op.M),
          boundaryBits: op.bits,
        });
        if (ref === REF_LIVELOCK) assert.equal(predicted.reason, 'livelock', 'reference livelocks');
        else if (ref < 0) assert.equal(predicted.ok, false, `reference finds nothing, model ${predicted.index}`);
        else assert.equal(predicted.index, ref, 'same slot as the reference search');
      }
      assert.deepEqual(pool.list, before, 'a prediction changes nothing');
      const r: MapResult = req ? mem.tblMapSingle(req) : mem.alloc(op.cpu, op.size, dev);
      assert.equal(r.ok, predicted.ok, 'prediction = result');
      if (r.ok) assert.equal(r.index, predicted.index, 'prediction = result');
      if (!r.ok) {
        if (r.reason !== 'unaligned') {
          assert.deepEqual(pool.list, before, `a ${r.reason} failure changes no slot`);
          assert.equal(pool.totalUsed, usedBefore);
        }
        if (r.nslots > IO_TLB_SEGSIZE && r.reason !== 'livelock') assert.equal(r.reason, 'too-big');
        continue;
      }
      assert.ok(r.nslots <= IO_TLB_SEGSIZE);
      assert.equal(Math.floor(r.index / IO_TLB_SEGSIZE), Math.floor((r.index + r.nslots - 1) / IO_TLB_SEGSIZE), 'run inside one segment');
      assert.equal(Math.floor(r.index / n), Math.floor((r.index + r.nslots - 1) / n), 'run inside one area');
      assert.ok(r.index + r.nslots <= nslabs);
      for (let k = r.index; k < r.index + r.nslots; k++) assert.equal(used[k], 0, `slot ${k} handed out twice`);
      used.fill(1, r.index, r.index + r.nslots);
      if (op.kind === 'map') {
        const M = op.M;
        const aam = profile.hasAllocAlignMask ? op.aam : 0;
        // bits the search (or padding) keeps from the original address
        const kept = profile.search === 'A' && profile.alignCheckExcludesAllocAlign ? M & ~aam : M;
        assert.equal((r.tlbAddr & kept) >>> 0, (op.orig & kept) >>> 0, 'tlb_addr keeps the min_align_mask bits');
        if (profile.search === 'D' && aam) assert.equal(((r.tlbAddr - r.offset) & aam) >>> 0, 0, 'run start aligned to alloc_align_mask');
        assert.equal(r.reqBytes >= op.size, true);
        assert.equal(r.nslots, nrSlots(r.reqBytes));
      }
      live.push({
        index: r.index,
        nslots: r.nslots,
        tlb: r.tlbAddr,
        dev,
        size: op.kind === 'map' ? op.size : op.size,
        alloc: op.kind === 'alloc',
      });
    }
    // invariants after every op
    assert.deepEqual(pool.list, expectedList(pool, used, profile.clipListAtPoolEnd), 'free-run counters = true free runs');
    const liveSum = live.reduce((a, m) => a + m.nslots, 0);
    assert.equal(pool.totalUsed, liveSum, 'used = sum of live runs');
    for (let a = 0; a < pool.nareas; a++) {
      const inArea = live.filter((m) => Math.floor(m.index / n) === a).reduce((s, m) => s + m.nslots, 0);
      assert.equal(pool.areaUsed[a], inArea, `area ${a} used`);
      assert.ok((pool.areaIndex[a] as number) >= 0 && (pool.areaIndex[a] as number) < n, 'area index inside the area');
    }
    assert.ok(pool.usedHiwater >= pool.totalUsed);
    for (let seg = 0; seg * IO_TLB_SEGSIZE < nslabs; seg++) {
      let max = 0;
      for (let j = seg * IO_TLB_SEGSIZE; j < Math.min((seg + 1) * IO_TLB_SEGSIZE, nslabs); j++) max = Math.max(max, pool.list[j] as number);
      assert.equal(pool.segMaxFree[seg], max, `longest free run of segment ${seg}`);
    }
  }
  // everything mapped can be unmapped back to an empty pool
  for (const m of live) {
    const r = m.alloc ? mem.free(m.tlb, m.size, m.dev) : mem.tblUnmapSingle(m.tlb, m.size, DmaDirection.BIDIRECTIONAL, 0, m.dev);
    assert.ok(r.ok);
  }
  assert.equal(pool.totalUsed, 0);
  assert.deepEqual([...pool.areaUsed], new Array(pool.nareas).fill(0));
  assert.deepEqual(pool.list, fresh, 'an empty pool has its initial counters back');
}

describe('allocator invariants (fast-check)', () => {
  for (const name of PROFILES) {
    test(`${name}: random map/alloc/unmap sequences`, () => {
      const profile = resolveProfile(name);
      fc.assert(
        fc.property(
          fc.constantFrom(1, 2, 4, 8),
          fc.integer({ min: 1, max: 4 }),
          fc.array(opArb, { minLength: 1, maxLength: 120 }),
          (nareas, segsPerArea, ops) => runSequence(profile, nareas, nareas * segsPerArea * IO_TLB_SEGSIZE, ops),
        ),
        { numRuns: 150 },
      );
    });
  }
  test('pools that are not a multiple of 128 slots: counters stop at the pool end (6.7+)', () => {
    for (const name of ['6.6-late', 'mainline']) {
      const profile = resolveProfile(name);
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 700 }), fc.array(opArb, { maxLength: 80 }), (nslabs, ops) =>
          runSequence(profile, 1, nslabs, ops),
        ),
        { numRuns: 100 },
      );
    }
  });
});

test('the livelock is exact: the walk state is the index alone', () => {
  // a search that revisits its start before area_nslabs steps is never reported as a livelock
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 1, max: 2 ** 36 }),
      fc.integer({ min: 1, max: 9000 }),
      (idx, orig, size) => {
        const mem = new IoTlbMem(new IoTlbPool(resolveProfile('6.1'), { start: 0x80000000, nslabs: 256, nareas: 1, pageShift: 12 }));
        mem.pool.areaIndex[0] = idx;
        const r = mem.tblMapSingle({
          cpu: 0,
          origAddr: orig,
          mappingSize: size,
          dir: DmaDirection.TO_DEVICE,
          dev: { minAlignMask: 0xfff, segBoundaryBits: 64 },
        });
        // an empty pool always has a fitting odd or even slot reachable unless the walk cycles
        if (!r.ok) assert.equal(r.reason, 'livelock');
      },
    ),
    { numRuns: 300 },
  );
});
