/**
 * The pool start (and size) from a trace's first bounces, and the segment boundary from runs
 * that never straddle 64 KiB (src/trace/poolStart.ts), on hints built here from a known pool.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type BounceHints, boundaryBitsFromRuns, inferPoolStart, noteRun, type RunEvidence } from '../../src/trace/poolStart';

const SLOT = 2048;

/** Hints of a pool at `base` whose CPUs' first bounces land `offsets[cpu]` bytes into their areas. */
function hints(base: number, nslabs: number, nareas: number, firsts: [cpu: number, offset: number][]): BounceHints {
  const areaBytes = (nslabs / nareas) * SLOT;
  const h: BounceHints = { first: new Map(), min: Number.POSITIVE_INFINITY, maxEnd: 0, bounced: 0, direct: 0, runs: new Map() };
  firsts.forEach(([cpu, off], i) => {
    const addr = base + (cpu % nareas) * areaBytes + off;
    h.first.set(cpu, { addr, line: 10 + i });
    h.min = Math.min(h.min, addr);
    h.maxEnd = Math.max(h.maxEnd, addr + 4096);
    h.bounced++;
  });
  return h;
}

describe('pool start from the first bounces', () => {
  test('two areas one area apart: sure', () => {
    const r = inferPoolStart(
      hints(0x7d50_0000, 512, 2, [
        [1, 0],
        [0, 0],
      ]),
      512,
      2,
      true,
      'trace',
    );
    assert.deepEqual([r?.base, r?.certainty, r?.nslabs], [0x7d50_0000, 'sure', undefined]);
    assert.match(r?.why ?? '', /first bounces of area 0 \(trace:11\) and area 1 \(trace:10\) lie one area \(256 slots\) apart/);
  });

  test('an unknown size is read from their spacing; a known one is not overridden', () => {
    // a swiotlb=512 pool seen with the default size assumed
    const h = hints(0xbfc9_7000, 512, 2, [
      [0, 0],
      [1, 0],
    ]);
    const r = inferPoolStart(h, 32768, 2, false, 'trace');
    assert.deepEqual([r?.base, r?.nslabs, r?.certainty], [0xbfc9_7000, 512, 'likely']);
    const known = inferPoolStart(h, 32768, 2, true, 'trace');
    assert.equal(known?.nslabs, undefined);
    assert.equal(known?.base, 0xbfc9_7000);
    assert.equal(known?.certainty, 'likely', 'area 0 alone, since area 1 disagrees with the size given');
  });

  test('one area: likely; a min_align offset (bit 11) is page-aligned away', () => {
    const r = inferPoolStart(hints(0x1_0000_0000, 32768, 4, [[2, 0x800]]), 32768, 4, true, 'trace');
    assert.deepEqual([r?.base, r?.certainty], [0x1_0000_0000, 'likely']);
  });

  test('no first bounce of an area that fits: the lowest bounce, as a guess, if a pool there holds them all', () => {
    // CPU 1's first bounce is not at its area's start (a capture on a running system), CPU 0 has none
    const h = hints(0x4000_0000, 1024, 2, [[1, -0x10_0000 + 0x3000]]);
    h.maxEnd = h.min + 0x18_0000;
    const r = inferPoolStart(h, 1024, 2, true, 'trace');
    assert.deepEqual([r?.base, r?.certainty], [0x4000_3000, 'guess']);
    // bounces spread wider than the pool: no start is given rather than a wrong one
    h.maxEnd = h.min + 1024 * SLOT + 0x10000;
    assert.equal(inferPoolStart(h, 1024, 2, true, 'trace'), null);
    assert.equal(inferPoolStart({ ...h, bounced: 0 }, 1024, 2, true, 'trace'), null);
  });

  test('a direct map of a task with a bounce pending is not taken for a bounce', async () => {
    const { census } = await import('../../src/trace/census');
    const lines = [
      '# tracer: nop',
      ' jbd2/nvme0n1p2-8-248 [000] d..1. 1.0: swiotlb_bounced: dev_name: 0000:00:04.0 dma_mask=ffffffff dev_addr=40ab32000 size=4096 NORMAL',
      ' jbd2/nvme0n1p2-8-248 [000] d..1. 1.1: dma_map_sg: 0000:00:04.0 dir=TO_DEVICE nents=2/2 ents=2/2 dma_addrs={0x2fa3c000,0xbc22d000} sizes={0x1000,0x1000} phys_addrs={0x2fa3c000,0x40ab32000} attrs=',
    ];
    const level = census(Buffer.from(`${lines.join('\n')}\n`));
    assert.equal(level.bounces?.bounced, 1);
    assert.equal(level.bounces?.direct, 1);
    assert.equal(level.bounces?.min, 0xbc22d000);
  });

  test('property: first bounces at each area start give the pool start, sure', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1 << 20 }),
        fc.constantFrom(256, 512, 1024, 32768, 65536),
        fc.constantFrom(1, 2, 4, 8),
        fc.array(fc.constantFrom(0, 0x800), { minLength: 8, maxLength: 8 }),
        (page, nslabs, nareas, offs) => {
          const base = page * 4096;
          const cpus = Array.from({ length: Math.max(nareas, 2) }, (_, c) => [c, offs[c] ?? 0] as [number, number]);
          const r = inferPoolStart(hints(base, nslabs, nareas, cpus), nslabs, nareas, true, 't');
          assert.equal(r?.base, base);
          assert.equal(r?.certainty, nareas > 1 ? 'sure' : 'likely');
        },
      ),
    );
  });
});

describe('segment boundary from runs', () => {
  const ev = (): RunEvidence => ({ expected: 0, crossedBits: -1 });

  test('64 KiB runs that never straddle 64 KiB: 0xffff; one that does: not', () => {
    const r = ev();
    for (let i = 0; i < 8; i++) noteRun(r, 0xbbd9_0000 + i * 0x10000, 0x10000);
    assert.equal(boundaryBitsFromRuns(r), 16);
    noteRun(r, 0xbbd9_8000, 0x10000);
    assert.equal(boundaryBitsFromRuns(r), undefined);
  });

  test('small runs are no evidence: packed 4 KiB bounces never straddle anything', () => {
    const r = ev();
    for (let i = 0; i < 1000; i++) noteRun(r, 0x7960_0000 + i * 0x1000, 4096);
    assert.equal(boundaryBitsFromRuns(r), undefined);
    assert.ok(r.expected === 0);
  });
});
