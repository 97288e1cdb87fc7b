/**
 * Filter expressions (src/analysis/filterExpr.ts): the grammar and its precedence, units and hex,
 * errors that point at the character, fields named by the row schema, and a property test that
 * the compiled predicate (over the typed columns) agrees with reading the expression on the
 * printed row, for random rows and random expressions.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { EventKind, Outcome } from '../../src/analysis/codes';
import { COLUMN_NAMES } from '../../src/analysis/columns';
import { EventTable } from '../../src/analysis/eventTable';
import {
  compileFilterExpr,
  FILTER_FIELDS,
  type FilterNode,
  filterExprError,
  matchesPrintedRow,
  parseFilterExpr,
  parseNumber,
} from '../../src/analysis/filterExpr';
import { queryRows } from '../../src/analysis/query';
import { DmaDirection } from '../../src/model/constants';
import { Reason } from '../../src/model/reasons';

/** The tree as text, with every operator's operands in parentheses. */
function show(n: FilterNode): string {
  switch (n.type) {
    case 'and':
      return `(${show(n.left)} && ${show(n.right)})`;
    case 'or':
      return `(${show(n.left)} || ${show(n.right)})`;
    case 'not':
      return `!${show(n.operand)}`;
    default:
      return `${n.field.column}${n.op}${n.code ?? n.value}`;
  }
}

test('precedence: ! binds tighter than &&, && tighter than ||; parentheses regroup', () => {
  assert.equal(show(parseFilterExpr('size > 1 || cpu == 2 && slot < 3')), '(size>1 || (cpu==2 && slot<3))');
  assert.equal(show(parseFilterExpr('(size > 1 || cpu == 2) && slot < 3')), '((size>1 || cpu==2) && slot<3)');
  assert.equal(show(parseFilterExpr('!size > 1 && cpu == 2')), '(!size>1 && cpu==2)');
  assert.equal(show(parseFilterExpr('!(size > 1 && cpu == 2)')), '!(size>1 && cpu==2)');
  assert.equal(show(parseFilterExpr('cpu=1||cpu=2||cpu=3')), '((cpu==1 || cpu==2) || cpu==3)');
});

test('numbers: units are powers of 1024 (K, KiB, M, G) or seconds (ms, us, ns); hex addresses', () => {
  assert.equal(parseNumber('64K'), 65536);
  assert.equal(parseNumber('64KiB'), 65536);
  assert.equal(parseNumber('1.5M'), 1.5 * 2 ** 20);
  assert.equal(parseNumber('2g'), 2 * 2 ** 30);
  assert.equal(parseNumber('10ms'), 0.01);
  assert.equal(parseNumber('250us'), 250e-6);
  assert.equal(parseNumber('0x7c000000'), 0x7c000000);
  assert.equal(parseNumber('0xffffffffffffffff'), 2 ** 64);
  assert.ok(Number.isNaN(parseNumber('64Q')));
  assert.ok(Number.isNaN(parseNumber('nvme')));
  const n = parseFilterExpr('tlb_addr >= 0x7c000000') as FilterNode & { type: 'cmp' };
  assert.equal(n.field.column, 'dma');
  assert.equal(n.value, 0x7c000000);
});

test('fields come from the row schema with their kernel names; codes accept their names and near spellings', () => {
  for (const c of COLUMN_NAMES) assert.equal(FILTER_FIELDS.get(c)?.column, c);
  assert.equal(FILTER_FIELDS.get('orig_addr')?.column, 'phys');
  assert.equal(FILTER_FIELDS.get('reason')?.type, 'bits');
  assert.equal(FILTER_FIELDS.get('device')?.type, 'name');
  assert.equal(FILTER_FIELDS.get('outcome')?.type, 'code');
  const r = parseFilterExpr('reason == forced') as FilterNode & { type: 'cmp' };
  assert.equal(r.code, Reason.ForceBounce);
  const d = parseFilterExpr('dir == to_device') as FilterNode & { type: 'cmp' };
  assert.equal(d.code, DmaDirection.TO_DEVICE);
  const o = parseFilterExpr('decision = "bounced"') as FilterNode & { type: 'cmp' };
  assert.equal(o.code, Outcome.Bounced);
});

test('errors say what is wrong and where (0-based position, length)', () => {
  const at = (src: string) => {
    const e = filterExprError(src);
    assert.ok(e, `${src} should not parse`);
    return { position: e.position, length: e.length, message: e.message };
  };
  assert.deepEqual({ ...at('size > 64K && sise < 3'), message: undefined }, { position: 14, length: 4, message: undefined });
  assert.match(at('size > 64K && sise < 3').message, /unknown field "sise"/);
  assert.equal(at('size > 64Q').position, 7);
  assert.match(at('size > 64Q').message, /not a number/);
  assert.equal(at('device > 3').position, 7);
  assert.match(at('device > 3').message, /does not apply to device/);
  assert.equal(at('reason == nonsense').position, 10);
  assert.match(at('reason == nonsense').message, /one of: force, dma-mask/);
  assert.equal(at('(size > 1').position, 9);
  assert.match(at('(size > 1').message, /expected "\)"/);
  assert.equal(at('size > 1)').position, 8);
  assert.equal(at('size > 1 cpu == 2').position, 9);
  assert.match(at('size > 1 cpu == 2').message, /join conditions with && or \|\|/);
  assert.equal(at('size > 1 & cpu == 2').position, 9);
  assert.equal(at('size').position, 4);
  assert.equal(at('size >').position, 6);
  assert.equal(at('device == "nvme').position, 10);
  assert.equal(at('   ').position, 0);
  assert.equal(filterExprError('size > 64K && device ~ nvme'), null);
});

/** A small table whose answers are known by construction. */
function table(): EventTable {
  const t = new EventTable();
  t.hasClock = true;
  const rows = [
    { size: 4096, device: 'nvme0n1', outcome: Outcome.Bounced, reasons: Reason.ForceBounce, dma: 0x7c000000 },
    { size: 131072, device: 'nvme0n1', outcome: Outcome.Bounced, reasons: Reason.ForceBounce, dma: 0x7c100000 },
    { size: 262144, device: '0000:00:03.0', outcome: Outcome.Failed, reasons: Reason.PoolFull },
    { size: 65536, device: 'NVMe1', outcome: Outcome.Direct, dma: 0x1000 },
    { device: 'nvme0n1', outcome: Outcome.Bounced },
  ];
  rows.forEach((r, i) => {
    t.push({ kind: EventKind.Map, time: i * 0.001, ...r });
  });
  return t;
}

test('queryRows keeps the rows an expression selects, with the other filters', () => {
  const t = table();
  const rows = (expr: string, extra = {}) => [...queryRows(t, { expr, ...extra })];
  assert.deepEqual(rows('size > 64K && device ~ nvme'), [1]);
  assert.deepEqual(rows('size >= 64K && device ~ nvme'), [1, 3]);
  assert.deepEqual(rows('reason == forced'), [0, 1]);
  assert.deepEqual(rows('tlb_addr >= 0x7c000000'), [0, 1]);
  assert.deepEqual(rows('!(outcome == bounced) || time < 1ms'), [0, 2, 3]);
  // unknown sizes match no comparison, not even !=
  assert.deepEqual(rows('size != 1'), [0, 1, 2, 3]);
  assert.deepEqual(rows('device == nvme1'), [3]);
  assert.deepEqual(rows('device ~ nvme', { t0: 0.0015 }), [3, 4]);
  assert.throws(() => queryRows(t, { expr: 'size >' }), /expected a value/);
});

// ---------------------------------------------------------------- property: compiled == printed

const DEVICES = ['nvme0n1', '0000:00:03.0', 'vc4-drm gpu', 'NVMe1'];

const rowArb = fc.record({
  kind: fc.integer({ min: 0, max: 9 }),
  outcome: fc.integer({ min: 0, max: 7 }),
  dir: fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 3 })),
  cpu: fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 7 })),
  device: fc.oneof(fc.constant(undefined), fc.constantFrom(...DEVICES)),
  api: fc.oneof(fc.constant(undefined), fc.constantFrom('dma_map_page', 'dma_unmap_page', 'swiotlb_tbl_map_single')),
  size: fc.oneof(fc.constant(undefined), fc.constantFrom(0, 512, 4096, 65536, 65537, 262144), fc.integer({ min: 0, max: 1 << 22 })),
  reasons: fc.integer({ min: 0, max: 0x3ffff }),
  slot: fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 4096 })),
  nslots: fc.integer({ min: 0, max: 128 }),
  phys: fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 2 ** 40 })),
  dma: fc.oneof(fc.constant(undefined), fc.constantFrom(0x7c000000, 0x7bffffff), fc.integer({ min: 0, max: 2 ** 40 })),
  copied: fc.integer({ min: 0, max: 1 << 20 }),
  line: fc.integer({ min: 0, max: 100 }),
});

const cmpArb: fc.Arbitrary<string> = fc
  .oneof(
    fc.tuple(
      fc.constantFrom('size', 'cpu', 'slot', 'nslots', 'copied', 'line', 'index', 'time'),
      fc.constantFrom('==', '!=', '<', '<=', '>', '>='),
      fc.constantFrom('0', '1', '3', '512', '4K', '64K', '64KiB', '1M', '0x1000', '2ms'),
    ),
    fc.tuple(
      fc.constantFrom('tlb_addr', 'orig_addr', 'dma', 'phys'),
      fc.constantFrom('<', '>=', '==', '!='),
      fc.constantFrom('0x7c000000', '0x1000', '0'),
    ),
    fc.tuple(
      fc.constantFrom('device', 'api', 'call'),
      fc.constantFrom('==', '!=', '~', '!~'),
      fc.constantFrom('nvme', 'nvme1', '"vc4-drm gpu"', 'map', '03.0'),
    ),
    fc.tuple(fc.constant('outcome'), fc.constantFrom('==', '!=', '~', '!~'), fc.constantFrom('bounced', 'failed', 'direct', 'released')),
    fc.tuple(fc.constant('kind'), fc.constantFrom('==', '!=', '~', '!~'), fc.constantFrom('map', 'unmap', 'sync_for_cpu', 'log')),
    fc.tuple(fc.constant('dir'), fc.constantFrom('==', '!=', '~', '!~'), fc.constantFrom('to_device', 'DMA_FROM_DEVICE', 'bidirectional')),
    fc.tuple(fc.constantFrom('outcome', 'kind', 'dir'), fc.constantFrom('~', '!~'), fc.constantFrom('un', 'de', 'x')),
    fc.tuple(
      fc.constantFrom('reason', 'reasons'),
      fc.constantFrom('==', '!=', '~', '!~'),
      fc.constantFrom('forced', 'pool-full', 'xen-arch', 'fragmented'),
    ),
    fc.tuple(fc.constant('reason'), fc.constantFrom('~', '!~'), fc.constantFrom('xen', 'pool', 'a')),
  )
  .map(([f, op, v]) => `${f} ${op} ${v}`);

const exprArb: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    cmpArb,
    fc.tuple(tie('e'), fc.constantFrom('&&', '||'), tie('e')).map(([a, op, b]) => `${a} ${op} ${b}`),
    tie('e').map((a) => `!(${a})`),
    tie('e').map((a) => `(${a})`),
  ),
})).e;

test('property: the compiled predicate equals the expression read on the printed rows', () => {
  fc.assert(
    fc.property(fc.array(rowArb, { minLength: 1, maxLength: 30 }), exprArb, (rows, expr) => {
      const t = new EventTable();
      t.hasClock = true;
      rows.forEach((r, i) => {
        const init: Record<string, unknown> = { time: i * 0.001 };
        for (const [k, v] of Object.entries(r)) if (v !== undefined) init[k] = v;
        t.push(init as unknown as Parameters<EventTable['push']>[0]);
      });
      const node = parseFilterExpr(expr);
      const pred = compileFilterExpr(node, t);
      // as the query scans: chunk by chunk, reading only the expression's columns
      let seen = 0;
      for (const v of t.chunks(pred.columns))
        for (let i = v.start; i < v.end; i++, seen++)
          assert.equal(pred.test(v.c, i - v.base, i), matchesPrintedRow(node, t.row(i)), `${expr} on row ${i}`);
      assert.equal(seen, t.length);
    }),
    { numRuns: 400 },
  );
});
