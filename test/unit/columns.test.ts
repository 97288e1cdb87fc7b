/**
 * The row schema (columns.ts) is the only declaration of the event row: every column it lists is
 * stored by the event table as given and comes back as given (or as its "unknown" value when left
 * out), and every view made from it (CSV, the panel's table, sorting) names only its columns.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { EventKind } from '../../src/analysis/codes';
import { COLUMN_NAMES, COLUMNS, CSV_HEADER, cellText, type EventInit, SORT_COLUMNS, TABLE_COLUMNS } from '../../src/analysis/columns';
import { EventTable } from '../../src/analysis/eventTable';
import { queryRows } from '../../src/analysis/query';

/** A value a column can hold (ids and small counts within its array). */
function value(c: (typeof COLUMN_NAMES)[number]): fc.Arbitrary<number | string> {
  const spec = COLUMNS[c] as { names?: string; max?: number };
  if (spec.names) return fc.constantFrom('a', 'b', 'c');
  if (c === 'kind') return fc.integer({ min: 0, max: 9 });
  if (c === 'outcome') return fc.integer({ min: 0, max: 7 });
  if (c === 'dir') return fc.integer({ min: 0, max: 3 });
  const arr = new COLUMNS[c].array(1);
  arr[0] = 0.5;
  // integer columns: what their array holds; float columns: any finite number
  if (arr[0] !== 0.5) return fc.integer({ min: 0, max: Math.min(spec.max ?? 30000, 30000) });
  return fc.double({ min: 0, max: 2 ** 52, noNaN: true });
}

test('every column round-trips through the event table; a column left out is unknown', () => {
  const init = fc.record(Object.fromEntries(COLUMN_NAMES.map((c) => [c, value(c)])), { requiredKeys: ['kind'] });
  fc.assert(
    fc.property(fc.array(init, { minLength: 1, maxLength: 20 }), (events) => {
      const t = new EventTable();
      events.forEach((e) => {
        t.push(e as unknown as EventInit);
      });
      events.forEach((e, i) => {
        const raw = t.raw(i);
        for (const c of COLUMN_NAMES) {
          const given = (e as Record<string, number | string | undefined>)[c];
          const spec = COLUMNS[c] as { names?: 'devices' | 'apis' | 'files'; missing: number };
          const want = given === undefined ? (c === 'time' ? i : spec.missing) : given;
          const got = spec.names && typeof want === 'string' ? t.names[spec.names][raw[c]] : raw[c];
          assert.equal(got, want, `row ${i} column ${c}`);
        }
      });
    }),
    { numRuns: 200 },
  );
});

test('the views are made of the schema: CSV, the panel table, sorting', () => {
  for (const c of CSV_HEADER) assert.ok(c === 'row' || c === 'message' || (COLUMN_NAMES as readonly string[]).includes(c), c);
  for (const c of TABLE_COLUMNS) assert.ok(c.key === 'index' || 'table' in COLUMNS[c.key], c.key);
  for (const c of SORT_COLUMNS) assert.ok(c === 'index' || 'sort' in COLUMNS[c], c);
  assert.deepEqual(SORT_COLUMNS, ['index', 'time', 'outcome', 'cpu', 'device', 'api', 'size', 'dir', 'slot', 'copied']);
  const t = new EventTable();
  t.push({ kind: EventKind.Map, device: 'zeta', size: 10 });
  t.push({ kind: EventKind.Map, device: 'alpha', size: 30 });
  t.push({ kind: EventKind.Map, device: 'mid', size: 20 });
  // every sortable column sorts, by name where the column holds ids
  for (const c of SORT_COLUMNS) assert.equal(queryRows(t, {}, { column: c }).length, 3, c);
  assert.deepEqual([...queryRows(t, {}, { column: 'device' })], [1, 2, 0]);
  assert.deepEqual([...queryRows(t, {}, { column: 'size', desc: true })], [1, 2, 0]);
  const ctx = { names: t.names, hasClock: false };
  assert.equal(cellText('device', t.raw(1), ctx), 'alpha');
  assert.equal(cellText('time', t.raw(2), ctx), '#2');
  assert.equal(cellText('cpu', t.raw(0), ctx), '');
});
