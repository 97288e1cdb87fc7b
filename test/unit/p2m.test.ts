/**
 * The P2M with the pool's exchanged extents laid over it (withRuns), frame by frame: a frame in an
 * extent maps to the extent's machine frame, any other frame keeps the domain's mapping.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type P2mRun, P2mTable } from '../../src/model/dma/p2m';

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
