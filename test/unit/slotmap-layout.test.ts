/**
 * The slot map's geometry, labels, colours and legends (webview/slotmapLayout.ts): the grid spans
 * the width it is given at every zoom level, every unit has exactly one cell and the hit test
 * finds it, labels never share a line nor leave their column, and the legends list what is drawn
 * (the age colouring and the age legend are one table; the devices are those in the map).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  AGE_RAMP,
  ageBucketOf,
  ageBuckets,
  areaColor,
  areaLegend,
  deviceColor,
  LABEL_LINE,
  labelsInView,
  RIGHT_PAD,
  SLOT_ZOOMS,
  slotClass,
  slotLayout,
  slotLegend,
  unitStats,
} from '../../webview/slotmapLayout';

const pools = fc
  .record({ nareas: fc.constantFrom(1, 2, 4, 8, 16), segsPerArea: fc.integer({ min: 1, max: 256 }) })
  .map(({ nareas, segsPerArea }) => ({ nslabs: nareas * segsPerArea * 128, areaNslabs: segsPerArea * 128 }));

test('at every zoom level and width the grid ends at the container edge and every unit has one cell', () => {
  fc.assert(
    fc.property(pools, fc.integer({ min: 320, max: 3000 }), fc.constantFrom(...SLOT_ZOOMS), (pool, width, zoom) => {
      const l = slotLayout(width, pool, zoom);
      assert.equal(l.labelW + l.gridW + RIGHT_PAD, width);
      assert.equal(l.x(l.perRow), l.labelW + l.gridW, 'the last column ends at the grid edge');
      let units = 0;
      for (let r = 0; r < l.rows; r++) {
        const n = l.rowUnits(r);
        assert.ok(n > 0 && n <= l.perRow);
        for (let c = 0; c < n; c++) {
          const u = l.rowFirstUnit(r) + c;
          assert.equal(u, units++, 'units in order, none skipped');
          assert.equal(l.unitRow(u), r);
          assert.equal(l.unitCol(u), c);
          // the hit test finds the unit at its cell's middle and at its edges
          const y = r * l.rowH + l.cellH / 2;
          assert.equal(l.unitAt((l.x(c) + l.x(c + 1)) / 2, y), u);
          assert.equal(l.unitAt(l.x(c), y), u);
          assert.equal(l.unitAt(l.x(c + 1) - 0.01, y), u);
        }
      }
      assert.equal(units, l.units);
      assert.equal(l.unitAt(l.labelW - 1, 1), -1, 'the label column holds no cell');
      if (zoom === 'cells') assert.equal(l.perRow, 128, 'a row per 128-slot segment');
      if (zoom === 'areas') assert.equal(l.rows, pool.nslabs / pool.areaNslabs);
      if (zoom === 'segments') {
        // an area's segments start a row: no row holds two areas
        for (let r = 0; r < l.rows; r++) {
          const first = l.rowFirstUnit(r);
          assert.equal(Math.floor(first / (pool.areaNslabs / 128)), Math.floor((first + l.rowUnits(r) - 1) / (pool.areaNslabs / 128)));
        }
      }
    }),
    { numRuns: 300 },
  );
});

test('cells are wider than 8 px on a wide panel, and a 64 MiB pool at 1600 px has its segments in 4 rows', () => {
  const pool = { nslabs: 32768, areaNslabs: 16384 };
  const cells = slotLayout(1500, pool, 'cells');
  assert.ok(cells.gridW / 128 > 11);
  assert.equal(cells.rows, 256);
  const segs = slotLayout(1500, pool, 'segments');
  assert.deepEqual([segs.perRow, segs.rows], [64, 4]);
  assert.deepEqual(segs.unitSlotRange(138), [138 * 128, 128]);
  const areas = slotLayout(900, pool, 'areas');
  assert.deepEqual([areas.rows, areas.unitSlotRange(1)], [2, [16384, 16384]]);
});

test('labels share no line, stay in view and in their column, and each area is named', () => {
  fc.assert(
    fc.property(pools, fc.integer({ min: 320, max: 2000 }), fc.constantFrom(...SLOT_ZOOMS), fc.nat(), (pool, width, zoom, scroll) => {
      const l = slotLayout(width, pool, zoom);
      const height = Math.min(300, l.rows * l.rowH);
      const top = Math.max(0, Math.min(l.rows * l.rowH - height, scroll % (l.rows * l.rowH)));
      const labels = labelsInView(l, pool, top, height, () => 10);
      for (let i = 1; i < labels.length; i++) assert.ok((labels[i]?.y ?? 0) >= (labels[i - 1]?.y ?? 0) + LABEL_LINE, 'apart');
      for (const lab of labels) {
        assert.ok(lab.y >= top - 0.001 && lab.y < top + height);
        // the column is sized for its longest label (7 px a character holds for 11 px text)
        assert.ok(lab.text.length * 7 + 8 <= l.labelW, `"${lab.text}" fits ${l.labelW} px`);
      }
      // every area with a line's height in view is named (held at the top while it is in sight)
      const rowOf = (slot: number) => l.unitRow(Math.floor(slot / l.unitSlots));
      const nareas = pool.nslabs / pool.areaNslabs;
      for (let a = 0; a < nareas; a++) {
        const ya = Math.max(top, rowOf(a * pool.areaNslabs) * l.rowH);
        const yb = Math.min(top + height, a + 1 < nareas ? rowOf((a + 1) * pool.areaNslabs) * l.rowH : l.rows * l.rowH);
        if (yb - ya >= LABEL_LINE + (zoom === 'areas' ? 6 : 0))
          assert.ok(
            labels.some((x) => (x.kind === 'area' && x.text.startsWith(`area ${a} `)) || x.text === `area ${a}`),
            JSON.stringify({ a, top, labels }),
          );
      }
    }),
    { numRuns: 300 },
  );
  const l = slotLayout(1000, { nslabs: 32768, areaNslabs: 16384 }, 'areas');
  assert.deepEqual(
    labelsInView(l, { nslabs: 32768, areaNslabs: 16384 }, 0, 48, (a) => (a ? 8192 : 0)).map((x) => x.text),
    ['area 0 · 0 %', 'area 1 · 50 %'],
  );
});

test('age buckets tile the ages in decades up to the span; the colour of an age is its legend entry', () => {
  const clock = ageBuckets(8.2, true);
  assert.deepEqual(
    clock.map((b) => b.label),
    ['< 100 µs', '100 µs – 1 ms', '1 ms – 10 ms', '10 ms – 100 ms', '100 ms – 1 s', '≥ 1 s'],
  );
  assert.deepEqual(
    clock.map((b) => b.color),
    AGE_RAMP,
  );
  const ticks = ageBuckets(9380, false);
  assert.deepEqual(
    ticks.map((b) => b.label),
    ['0 ticks (this event)', '1 – 9 ticks', '10 – 99 ticks', '100 – 999 ticks', '≥ 1,000 ticks'],
  );
  assert.equal(new Set(ticks.map((b) => b.color)).size, ticks.length);
  fc.assert(
    fc.property(
      fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
      fc.boolean(),
      fc.double({ min: 0, max: 2e6, noNaN: true }),
      (span, hasClock, age) => {
        const b = ageBuckets(span, hasClock);
        assert.equal(b[0]?.min, 0);
        for (let k = 1; k < b.length; k++) assert.equal(b[k]?.min, b[k - 1]?.max);
        assert.equal(b[b.length - 1]?.max, Number.POSITIVE_INFINITY);
        const k = ageBucketOf(b, age);
        assert.ok(age >= (b[k]?.min ?? 0) && age < (b[k]?.max ?? 0));
        // the map colours a slot of this age with the colour its legend entry shows
        const d = { owner: Int32Array.of(7), device: Uint16Array.of(1), since: Float64Array.of(0), time: age };
        const legend = slotLegend(d, 'age', b, ['#111'], '#000', String);
        assert.equal(legend[1 + slotClass(d, 0, 'age', b)]?.color, b[k]?.color);
      },
    ),
  );
});

test('the device legend lists the devices holding slots now, most slots first, in the colours drawn', () => {
  const palette = ['#a', '#b', '#c'];
  const d = {
    owner: Int32Array.of(-1, 4, 4, -1, 9, 9, 9, -1),
    device: Uint16Array.of(0, 2, 2, 0, 5, 5, 5, 1),
    since: new Float64Array(8),
    time: 0,
  };
  const legend = slotLegend(d, 'device', ageBuckets(1, false), palette, '#free', (id) => `dev${id}`);
  assert.deepEqual(
    legend.map((e) => [e.kind, e.label, e.color]),
    [
      ['free', 'free', '#free'],
      ['device', 'dev5 (3)', deviceColor(palette, 5)],
      ['device', 'dev2 (2)', deviceColor(palette, 2)],
    ],
  );
  // device 1 only left a stale id on a free slot: not listed
  const l = slotLayout(600, { nslabs: 8, areaNslabs: 4 }, 'areas');
  const st = unitStats(d, l, 'device', []);
  assert.deepEqual(
    st.map((s) => [s.used, s.classes, s.devices]),
    [
      [2, [[2, 2]], [[2, 2]]],
      [3, [[5, 3]], [[5, 3]]],
    ],
  );
});

test('the areas legend has an entry per area in the colour the chart stacks it in', () => {
  const palette = ['#0', '#1', '#2'];
  assert.deepEqual(
    areaLegend(palette, 4).map((e) => [e.label, e.color]),
    [
      ['area 0', areaColor(palette, 0)],
      ['area 1', '#1'],
      ['area 2', '#2'],
      ['area 3', '#0'],
    ],
  );
});
