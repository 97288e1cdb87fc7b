/**
 * The validated test vectors of swiotlb-model.md §10 and the worked example of §6.3: each line
 * was produced by the real kernel functions in a harness.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dev, makeMem, map, unmap } from './helpers';

const ALL = ['5.10', '6.1', '6.6-early', 'mainline'] as const;
type P = (typeof ALL)[number];

interface Step {
  cpu?: number;
  orig?: number;
  len: number;
  unmapOf?: number; // index into the results of earlier steps
  /** expected slot per profile (or one for all), expected used after */
  slot?: Partial<Record<P, number>> | number;
  used: number;
}

function runVector(profile: P, start: number, nslabs: number, nareas: number, M: number, bits: number, steps: Step[]) {
  const mem = makeMem(profile, start, nslabs, nareas);
  const d = dev(M, bits);
  const tlbs: number[] = [];
  steps.forEach((s, i) => {
    if (s.unmapOf !== undefined) {
      unmap(mem, tlbs[s.unmapOf] as number, s.len, d);
      tlbs.push(-1);
    } else {
      const r = map(mem, s.cpu ?? 0, s.orig as number, s.len, d);
      assert.ok(r.ok, `${profile} step ${i}: ${r.reason}`);
      const want = typeof s.slot === 'number' ? s.slot : (s.slot?.[profile] as number);
      assert.equal(r.index, want, `${profile} step ${i}: slot`);
      // tlb_addr keeps the original's offset bits covered by min_align_mask (below one slot)
      assert.equal(r.tlbAddr, start + r.index * 2048 + ((s.orig as number) & M & 0x7ff), `${profile} step ${i}: tlb_addr`);
      tlbs.push(r.tlbAddr);
    }
    assert.equal(mem.used, s.used, `${profile} step ${i}: used`);
  });
}

describe('V1: pool 1024 slots, 2 areas, M = 0, B = 0xffffffff', () => {
  const A = { '5.10': 0, '6.1': 0, '6.6-early': 0, mainline: 0 };
  const steps: Step[] = [
    { cpu: 0, orig: 0x1a2b3c000, len: 1500, slot: A, used: 1 },
    { cpu: 0, orig: 0x1a2b3d100, len: 4096, slot: 2, used: 3 },
    { cpu: 1, orig: 0x1a2b40000, len: 9000, slot: { '5.10': 4, '6.1': 512, '6.6-early': 512, mainline: 512 }, used: 8 },
    { cpu: 2, orig: 0x1a2b45800, len: 2048, slot: { '5.10': 9, '6.1': 4, '6.6-early': 4, mainline: 4 }, used: 9 },
    { cpu: 3, orig: 0x1a2b46010, len: 65536, slot: { '5.10': 10, '6.1': 518, '6.6-early': 518, mainline: 518 }, used: 41 },
    { unmapOf: 0, len: 1500, used: 40 },
    { cpu: 0, orig: 0x1a2b50000, len: 300, slot: { '5.10': 42, '6.1': 5, '6.6-early': 5, mainline: 5 }, used: 41 },
    { cpu: 0, orig: 0x1a2b51000, len: 8192, slot: { '5.10': 44, '6.1': 6, '6.6-early': 6, mainline: 6 }, used: 45 },
  ];
  for (const p of ALL) test(p, () => runVector(p, 0xbbfdb000, 1024, 2, 0, 32, steps));
});

describe('V2: same pool, M = 0xfff (NVMe), the A/D difference', () => {
  const steps: Step[] = [
    { cpu: 0, orig: 0x1a2b3c800, len: 512, slot: 1, used: 1 },
    { cpu: 0, orig: 0x1a2b3d200, len: 4096, slot: { '5.10': 4, '6.1': 4, '6.6-early': 2, mainline: 2 }, used: 4 },
    { cpu: 0, orig: 0x1a2b3e800, len: 8192, slot: { '5.10': 9, '6.1': 9, '6.6-early': 5, mainline: 5 }, used: 8 },
    { cpu: 0, orig: 0x1a2b40000, len: 12288, slot: { '5.10': 16, '6.1': 16, '6.6-early': 10, mainline: 10 }, used: 14 },
    { cpu: 1, orig: 0x1a2b41a00, len: 100, slot: { '5.10': 23, '6.1': 513, '6.6-early': 513, mainline: 513 }, used: 15 },
    { unmapOf: 0, len: 512, used: 14 },
    { cpu: 0, orig: 0x1a2b42c00, len: 2048, slot: { '5.10': 25, '6.1': 23, '6.6-early': 17, mainline: 17 }, used: 16 },
  ];
  for (const p of ALL) test(p, () => runVector(p, 0xbbfdb000, 1024, 2, 0xfff, 32, steps));

  test('tlb addresses keep the page offset (mainline)', () => {
    const mem = makeMem('mainline', 0xbbfdb000, 1024, 2);
    const d = dev(0xfff, 32);
    assert.equal(map(mem, 0, 0x1a2b3c800, 512, d).tlbAddr, 0xbbfdb800);
    assert.equal(map(mem, 0, 0x1a2b3d200, 4096, d).tlbAddr, 0xbbfdc200);
    assert.equal(map(mem, 0, 0x1a2b3e800, 8192, d).tlbAddr, 0xbbfdd800);
  });
});

describe('V3: 4 KiB map of a buffer at page offset 0x800 (M = 0)', () => {
  for (const [p, slots] of [
    ['5.10', [0, 2, 4]],
    ['6.1', [0, 2, 4]],
    ['mainline', [0, 2, 4]],
    ['6.6-early', [1, 3, 5]],
  ] as const) {
    test(p, () => {
      const mem = makeMem(p, 0x80000000, 512, 1);
      const d = dev();
      assert.equal(map(mem, 0, 0x1a2b3c800, 4096, d).index, slots[0]);
      assert.equal(map(mem, 0, 0x1a2b3d000, 2048, d).index, slots[1]);
      assert.equal(map(mem, 0, 0x1a2b3e800, 6000, d).index, slots[2]);
    });
  }
});

describe('V4: the 6.1 / 5.10 livelock', () => {
  const maps: [number, number][] = [
    [0x100191a00, 65536],
    [0x10009a200, 65536],
    [0x100021200, 65536],
    [0x10034e800, 16384],
    [0x10015f800, 32768],
    [0x10066b000, 32768],
    [0x1007e0800, 65536],
    [0x100602200, 65536],
    [0x100684800, 3000],
    [0x100745200, 8192],
    [0x1001d2800, 65536],
  ];
  for (const p of ['6.1', '5.10'] as const) {
    test(`${p} hangs on the last map`, () => {
      const mem = makeMem(p, 0x80000000, 256, 1);
      const d = dev(0xfff);
      const got = maps.map(([o, l]) => map(mem, 0, o, l, d));
      assert.deepEqual(
        got.slice(0, 10).map((r) => r.index),
        [1, 36, 72, 109, 129, 148, 165, 200, 235, 240],
      );
      const last = got[10];
      assert.equal(last?.ok, false);
      assert.equal(last?.reason, 'livelock');
      assert.match(last?.message ?? '', /never returns/);
      // a livelock changes nothing
      const used = mem.used;
      assert.equal(map(mem, 0, 0x1001d2800, 65536, d).reason, 'livelock');
      assert.equal(mem.used, used);
    });
  }
  for (const p of ['6.6-early', 'mainline'] as const) {
    test(`${p} never hangs`, () => {
      const mem = makeMem(p, 0x80000000, 256, 1);
      const d = dev(0xfff);
      assert.deepEqual(
        maps.map(([o, l]) => map(mem, 0, o, l, d).index),
        [1, 34, 68, 101, 109, 128, 145, 178, 211, 214, 219],
      );
      assert.equal(mem.used, 243);
    });
  }
});

test('V5: a 10-slot map skips the 8-slot tail of segment 0 (mainline)', () => {
  const mem = makeMem('mainline', 0x80000000, 256, 1);
  mem.pool.areaIndex[0] = 120;
  assert.equal(map(mem, 0, 0x123456000, 20000, dev()).index, 128);
});

test('V6: a 4-slot map does not cross a 64 KiB boundary (6.1 and mainline)', () => {
  for (const p of ['6.1', 'mainline']) {
    const mem = makeMem(p, 0x80000000, 256, 1);
    mem.pool.areaIndex[0] = 30;
    assert.equal(map(mem, 0, 0x123456000, 8000, dev(0, 16)).index, 32, p);
  }
});

test('§6.3 worked example: next-fit, merging, the index is not rewound', () => {
  for (const p of ['6.1', 'mainline']) {
    const mem = makeMem(p, 0x80000000, 256, 1);
    const pool = mem.pool;
    const d = dev();
    assert.deepEqual([...pool.list.slice(0, 6)], [128, 127, 126, 125, 124, 123]);
    assert.deepEqual([...pool.list.slice(124, 132)], [4, 3, 2, 1, 128, 127, 126, 125]);
    const m1 = map(mem, 0, 0x100000000, 5000, d);
    assert.equal(m1.index, 0);
    assert.deepEqual([...pool.list.slice(0, 9)], [0, 0, 0, 125, 124, 123, 122, 121, 120]);
    assert.equal(pool.areaIndex[0], 3);
    const m2 = map(mem, 0, 0x100010000, 3000, d);
    assert.equal(m2.index, 3);
    assert.deepEqual([...pool.list.slice(0, 9)], [0, 0, 0, 0, 0, 123, 122, 121, 120]);
    assert.equal(pool.areaIndex[0], 5);
    assert.equal(unmap(mem, m1.tlbAddr, 5000, d), 3);
    assert.deepEqual([...pool.list.slice(0, 9)], [3, 2, 1, 0, 0, 123, 122, 121, 120]);
    assert.equal(mem.used, 2);
    assert.equal(pool.areaIndex[0], 5);
    assert.equal(map(mem, 0, 0x100020000, 100, d).index, 5, `${p}: next-fit, not slot 0`);
  }
});
