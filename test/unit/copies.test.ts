/**
 * Bytes copied by map, unmap and sync, by direction, attrs and version (swiotlb-model.md §6.1).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DMA_ATTR, DmaDirection } from '../../src/model/constants';
import { swiotlbMaxMappingSize } from '../../src/model/swiotlb';
import { dev, makeMem, map } from './helpers';

const { TO_DEVICE: TO, FROM_DEVICE: FROM, BIDIRECTIONAL: BIDI } = DmaDirection;
const SKIP = DMA_ATTR.SKIP_CPU_SYNC;

describe('copy at map (the 2022 info-leak fix)', () => {
  const cases: [string, DmaDirection, number, number][] = [
    // profile, dir, attrs, bytes copied for a 3000-byte map
    ['6.1', FROM, 0, 3000],
    ['6.1', TO, SKIP, 3000],
    ['mainline', FROM, SKIP, 3000],
    ['5.10', FROM, 0, 3000],
    ['5.10.112', FROM, 0, 3000],
    ['5.10.112', TO, SKIP, 0],
    ['5.10.100', FROM, 0, 0],
    ['5.10.100', BIDI, 0, 3000],
    ['5.10.100', TO, SKIP, 0],
  ];
  for (const [p, dir, attrs, want] of cases) {
    test(`${p} ${DmaDirection[dir]}${attrs ? ' SKIP_CPU_SYNC' : ''}: ${want} bytes`, () => {
      const mem = makeMem(p, 0x80000000, 256, 1);
      assert.equal(map(mem, 0, 0x123456100, 3000, dev(), { dir, attrs }).copiedBytes, want);
    });
  }
});

describe('unmap and sync', () => {
  test('unmap copies back for FROM_DEVICE/BIDIRECTIONAL unless SKIP_CPU_SYNC', () => {
    const mem = makeMem('6.1', 0x80000000, 256, 1);
    const d = dev();
    const a = map(mem, 0, 0x123456000, 5000, d, { dir: FROM });
    assert.equal(mem.tblUnmapSingle(a.tlbAddr, 5000, FROM, 0, d).copiedBytes, 5000);
    const b = map(mem, 0, 0x123456000, 5000, d, { dir: TO });
    assert.equal(mem.tblUnmapSingle(b.tlbAddr, 5000, TO, 0, d).copiedBytes, 0);
    const c = map(mem, 0, 0x123456000, 5000, d, { dir: BIDI });
    assert.equal(mem.tblUnmapSingle(c.tlbAddr, 5000, BIDI, SKIP, d).copiedBytes, 0);
  });
  test('sync_for_device copies TO/BIDI, sync_for_cpu copies FROM/BIDI', () => {
    const mem = makeMem('mainline', 0x80000000, 256, 1);
    const d = dev();
    const m = map(mem, 0, 0x123456000, 5000, d);
    assert.equal(mem.syncSingleForDevice(m.tlbAddr, 5000, TO, d).bytes, 5000);
    assert.equal(mem.syncSingleForDevice(m.tlbAddr, 5000, FROM, d).bytes, 0);
    assert.equal(mem.syncSingleForCpu(m.tlbAddr, 5000, FROM, d).bytes, 5000);
    assert.equal(mem.syncSingleForCpu(m.tlbAddr, 5000, TO, d).bytes, 0);
    assert.equal(mem.syncSingleForCpu(m.tlbAddr + 1000, 200, BIDI, d).bytes, 200, 'partial sync inside the mapping');
    assert.throws(() => mem.syncSingleForCpu(m.tlbAddr, 10, DmaDirection.NONE, d), /BUG/);
  });
  test('a sync beyond the allocation is clamped with the kernel WARN', () => {
    const mem = makeMem('6.1', 0x80000000, 256, 1);
    const d = dev();
    const m = map(mem, 0, 0x123456000, 3000, d);
    const r = mem.syncSingleForCpu(m.tlbAddr, 5000, FROM, d);
    assert.equal(r.bytes, 3000);
    assert.equal(r.warning, 'Buffer overflow detected. Allocation size: 3000. Mapping size: 5000.');
  });
  test('a sync before the mapping start: rejected by 6.1, allowed (partial sync fix) by 6.9+', () => {
    const d = dev(0xfff);
    const m61 = makeMem('6.1', 0x80000000, 256, 1);
    const a = map(m61, 0, 0x123456600, 8000, d);
    const r = m61.syncSingleForCpu(a.tlbAddr - 0x100, 64, FROM, d);
    assert.equal(r.bytes, 0);
    assert.equal(r.warning, 'Access before mapping start detected. orig offset 1536, requested offset 1280.');
    const mm = makeMem('mainline', 0x80000000, 256, 1);
    const b = map(mm, 0, 0x123456600, 8000, d);
    // in the second slot, 0x100 below the offset: valid in 6.9+ (it is inside the buffer)
    assert.equal(mm.syncSingleForCpu(b.tlbAddr + 2048 - 0x100, 64, FROM, d).bytes, 64);
  });
});

describe('failures and their messages', () => {
  test('"swiotlb buffer is full": sz without the offset in 6.1, with it in 6.10+', () => {
    const d = dev(0xfff);
    for (const [p, sz] of [
      ['6.1', 258048],
      ['mainline', 258048 + 0x200],
    ] as const) {
      const mem = makeMem(p, 0x80000000, 256, 2);
      // fill area 0 and area 1 with 126-slot maps so nothing of 127 slots fits
      map(mem, 0, 0x100000000, 126 * 2048, dev());
      map(mem, 1, 0x100000000, 126 * 2048, dev());
      const r = map(mem, 0, 0x123456200, 258048, d);
      assert.equal(r.reason, 'full');
      assert.equal(r.message, `swiotlb buffer is full (sz: ${sz} bytes), total 256 (slots), used 252 (slots)`);
    }
  });
  test('too-big: more than 128 slots, whatever the pool size', () => {
    const mem = makeMem('mainline', 0x80000000, 32768, 1);
    const r = map(mem, 0, 0x100000000, 262145, dev());
    assert.equal(r.reason, 'too-big');
    assert.equal(r.message, 'swiotlb buffer is full (sz: 262145 bytes), total 32768 (slots), used 0 (slots)');
  });
  test('swiotlb_max_mapping_size: 256 KiB, minus the min-align rounding', () => {
    assert.equal(swiotlbMaxMappingSize(0), 262144);
    assert.equal(swiotlbMaxMappingSize(0xfff), 258048);
    assert.equal(swiotlbMaxMappingSize(0x7ff), 260096);
  });
  test('6.1 "Invalid sizes" when the mapping is larger than the allocation', () => {
    const mem = makeMem('6.1', 0x80000000, 256, 1);
    const r = map(mem, 0, 0x100000000, 5000, dev(), { allocSize: 4096 });
    assert.equal(r.reason, 'invalid');
    assert.equal(r.message, 'Invalid sizes (mapping: 5000 bytes, alloc: 4096 bytes)');
  });
});

describe('restricted DMA pool allocations (swiotlb_alloc)', () => {
  test('6.9+: aligned to the page order of the size; 6.1: page aligned by stride only', () => {
    const ml = makeMem('mainline', 0x9c000000, 4096, 1);
    ml.pool.areaIndex[0] = 17;
    assert.equal(ml.alloc(0, 27798, dev()).index, 32, 'order 3: 32 KiB aligned');
    const m61 = makeMem('6.1', 0x9c000000, 4096, 1);
    m61.pool.areaIndex[0] = 17;
    assert.equal(m61.alloc(0, 27798, dev()).index, 18);
  });
  test('5.10 has no restricted pools', () => {
    assert.throws(() => makeMem('5.10', 0x80000000, 256, 1).alloc(0, 4096, dev()), /restricted/);
  });
  test('6.6-early may hand out a page that is not page aligned (fixed in 6.9)', () => {
    const mem = makeMem('6.6-early', 0x80000000, 256, 1);
    mem.pool.areaIndex[0] = 1;
    const r = mem.alloc(0, 8192, dev());
    assert.equal(r.ok, true);
    assert.equal(r.tlbAddr % 4096, 2048);
  });
});
