/**
 * The P2M with the pool's exchanged extents laid over it (withRuns), frame by frame: a frame in an
 * extent maps to the extent's machine frame, any other frame keeps the domain's mapping.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type P2mRun, P2mTable, type Straddle } from '../../src/model/dma/p2m';
import { buildP2m } from '../../src/scenario/run';

/** Runs one after the other from `start`, with gaps; machine frames anywhere. */
const runs = (start: number) =>
  fc.array(fc.tuple(fc.nat(6), fc.integer({ min: 1, max: 12 }), fc.nat(1 << 20)), { maxLength: 12 }).map((xs) => {
    const out: P2mRun[] = [];
    let pfn = start;
    for (const [gap, count, mfn] of xs) {
      pfn += gap;
      out.push({ pfn, mfn, count });
      pfn += count;
    }
    return out;
  });

test('withRuns: each frame maps as the extents, else as the domain, say', () => {
  fc.assert(
    fc.property(runs(0), runs(0), fc.boolean(), (base, extents, shuffled) => {
      const extra = shuffled ? [...extents].reverse() : extents;
      const t = new P2mTable(base).withRuns(extra);
      const end = Math.max(0, ...[...base, ...extents].map((r) => r.pfn + r.count)) + 2;
      for (let pfn = 0; pfn < end; pfn++) {
        const e = extents.find((r) => pfn >= r.pfn && pfn < r.pfn + r.count);
        const b = base.find((r) => pfn >= r.pfn && pfn < r.pfn + r.count);
        const want = e ? e.mfn + (pfn - e.pfn) : b ? b.mfn + (pfn - b.pfn) : undefined;
        assert.equal(t.pfnToMfn(pfn), want, `pfn ${pfn}`);
      }
    }),
    { numRuns: 500 },
  );
});

test('withRuns on a ballooned domain: a run per page, a pool of 64 extents', () => {
  const pages = 1 << 16;
  const base = Array.from({ length: pages }, (_, pfn) => ({ pfn, mfn: 3 * pages - pfn, count: 1 }));
  const extents = Array.from({ length: 64 }, (_, k) => ({ pfn: 1000 + 64 * k, mfn: (1 << 24) + 128 * k, count: 64 }));
  const t = new P2mTable(base).withRuns(extents);
  assert.equal(t.runs, pages - 64 * 64 + 64);
  assert.equal(t.pfnToMfn(999), 3 * pages - 999);
  assert.equal(t.pfnToMfn(1000), 1 << 24);
  assert.equal(t.pfnToMfn(1000 + 64 * 63 + 63), (1 << 24) + 128 * 63 + 63);
  assert.equal(t.pfnToMfn(1000 + 64 * 64), 3 * pages - (1000 + 64 * 64));
});

/**
 * The page-by-page reference: every frame's machine frame in a map, the pool's extents written
 * over it, the M2P as the inverse map, and range_straddles_page_boundary() frame by frame.
 */
class PageP2m {
  readonly p2m = new Map<number, number>();
  readonly m2p = new Map<number, number>();
  constructor(base: readonly P2mRun[], extra: readonly P2mRun[] = []) {
    for (const r of [...base, ...extra]) for (let i = 0; i < r.count; i++) this.p2m.set(r.pfn + i, r.descending ? r.mfn - i : r.mfn + i);
    for (const [pfn, mfn] of this.p2m) this.m2p.set(mfn, pfn);
  }
  straddle(phys: number, size: number): Straddle | null {
    const first = Math.floor(phys / 4096);
    const nr = Math.ceil(((phys % 4096) + size) / 4096);
    const b = this.p2m.get(first);
    for (let k = 1; k < nr; k++) {
      const mfn = this.p2m.get(first + k);
      if (b === undefined || mfn !== b + k) return { pfn: first + k, mfn, expectedMfn: (b ?? Number.NaN) + k };
    }
    return null;
  }
}

/**
 * A balloon layout: dom0's frames from pfn `start` in runs, some machine-contiguous, some
 * ballooned (descending), some holes; machine frames spread so no two runs share one.
 */
const balloonLayout = (start: number) =>
  fc
    .array(
      fc.record({
        gap: fc.oneof(fc.constant(0), fc.nat(3)),
        count: fc.integer({ min: 1, max: 9 }),
        descending: fc.boolean(),
        // 0: the run follows the previous one's machine frames, so that runs meet contiguously
        jump: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 })),
      }),
      { maxLength: 14 },
    )
    .map((xs) => {
      const out: P2mRun[] = [];
      let pfn = start;
      let mfn = 5000;
      for (const x of xs) {
        pfn += x.gap;
        mfn += x.jump;
        // ascending runs start at `mfn`; descending ones end there
        out.push(x.descending ? { pfn, mfn: mfn + x.count - 1, count: x.count, descending: true } : { pfn, mfn, count: x.count });
        pfn += x.count;
        mfn += x.count;
      }
      return out;
    });

/** Pool extents over a layout: segments of a few frames at machine frames far above it. */
const extentsOver = fc.array(fc.tuple(fc.nat(12), fc.integer({ min: 1, max: 6 })), { maxLength: 5 }).map((xs) => {
  const out: P2mRun[] = [];
  let pfn = 0;
  xs.forEach(([gap, count], k) => {
    pfn += gap;
    out.push({ pfn, mfn: 100_000 + 64 * k, count });
    pfn += count;
  });
  return out;
});

test('runs, ascending and ballooned, answer as the page-by-page P2M: every frame, every machine frame, every buffer', () => {
  fc.assert(
    fc.property(balloonLayout(0), extentsOver, fc.boolean(), (base, extents, overlay) => {
      const t = overlay ? new P2mTable(base).withRuns(extents) : new P2mTable(base);
      const ref = overlay ? new PageP2m(base, extents) : new PageP2m(base);
      const end = Math.max(0, ...[...base, ...extents].map((r) => r.pfn + r.count)) + 2;
      for (let pfn = 0; pfn < end; pfn++) assert.equal(t.pfnToMfn(pfn), ref.p2m.get(pfn), `pfn ${pfn}`);
      for (const mfn of [...ref.m2p.keys()].flatMap((m) => [m - 1, m, m + 1]))
        assert.equal(t.mfnToPfn(mfn), ref.m2p.get(mfn), `mfn ${mfn}`);
      // buffers starting in every frame, at its start, inside it and at its last byte, up to 6 frames long
      for (let pfn = 0; pfn < end; pfn++)
        for (const off of [0, 0xc00, 4095])
          for (const size of [1, 4096 - off, 4097 - off, 2 * 4096, 5 * 4096 + 7]) {
            const phys = pfn * 4096 + off;
            assert.deepEqual(t.straddle(phys, size), ref.straddle(phys, size), `straddle 0x${phys.toString(16)}+${size}`);
          }
    }),
    { numRuns: 300 },
  );
});

test('a ballooned scenario P2M is one run, and maps as the frame-by-frame table did', () => {
  const ram = 16 << 20;
  const t = buildP2m({ kind: 'ballooned', machineBase: 0x80000000 }, 'ballooned.swiotlb.json', ram);
  assert.equal(t.runs, 1);
  const frames = ram / 4096;
  const base = 0x80000000 / 4096;
  const ref = new PageP2m(Array.from({ length: frames }, (_, p) => ({ pfn: p, mfn: base + frames - 1 - p, count: 1 })));
  for (let p = -1; p <= frames; p++) assert.equal(t.pfnToMfn(p), ref.p2m.get(p), `pfn ${p}`);
  for (let m = base - 1; m <= base + frames; m++) assert.equal(t.mfnToPfn(m), ref.m2p.get(m), `mfn ${m}`);
  assert.deepEqual(t.straddle(0x8000c00, 1522), ref.straddle(0x8000c00, 1522));
  assert.equal(t.straddle(0x8010000, 1522), null);
});

test('a descending run below machine frame 0 is refused', () => {
  assert.throws(() => new P2mTable([{ pfn: 0, mfn: 2, count: 4, descending: true }]), /below machine frame 0/);
});
