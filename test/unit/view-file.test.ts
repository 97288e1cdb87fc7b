/**
 * Panel view files (*.swiotlb-view.json, src/analysis/viewFile.ts): what is written reads back
 * the same; a damaged or hostile file is refused with its problems' line and column; a view of
 * another input is told apart. And the host's side of a search: hits per chart column and the
 * next/previous hit (PanelModel).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventKind, Outcome } from '../../src/analysis/codes';
import { moveColumn, normalizeLayout } from '../../src/analysis/columnLayout';
import { TABLE_COLUMNS } from '../../src/analysis/columns';
import { EventTable } from '../../src/analysis/eventTable';
import { PanelModel } from '../../src/analysis/panelModel';
import type { AnalysisSession } from '../../src/analysis/session';
import {
  checkSavedView,
  inputDifference,
  problemLines,
  readViewFile,
  type SavedView,
  viewFileText,
  viewInputOf,
} from '../../src/analysis/viewFile';
import { isWebviewMessage } from '../../src/protocol/messages';

const input = viewInputOf({ kind: 'replay', files: ['/home/a/traces/small-pool.jsonl'], rows: 6902, t0: 0, t1: 6901 });

const view: SavedView = {
  view: [100, 2000.5],
  cursor: 1234,
  filter: { expr: 'size > 64K && device ~ "03.0"', t0: 500, t1: 1500, outcomes: [2] },
  sort: { column: 'size', desc: true },
  selectedRow: 42,
  columns: [
    { key: 'size', width: 120 },
    { key: 'index', width: 70 },
    { key: 'reasons', width: 150, hidden: true },
  ],
};

test('a view file reads back as written; file names lose their folders', () => {
  assert.deepEqual(input.files, ['small-pool.jsonl']);
  const text = viewFileText(input, view);
  const { file, problems } = readViewFile(text);
  assert.deepEqual(problems, []);
  assert.deepEqual(file?.view, view);
  assert.deepEqual(file?.input, input);
  assert.equal(inputDifference(input, file?.input ?? input), null);
  assert.deepEqual(checkSavedView(view), view);
});

test('a view of another input is told apart, saying what differs', () => {
  const other = { ...input, rows: 9380, files: ['a_force_smp2.ops.jsonl.gz'] };
  assert.match(inputDifference(input, other) ?? '', /files small-pool\.jsonl, not a_force_smp2\.ops\.jsonl\.gz; 6902 rows, not 9380/);
});

test('problems name the line and column (and the expression character)', () => {
  const at = (text: string) => problemLines('v.swiotlb-view.json', readViewFile(text).problems);
  const good = JSON.parse(viewFileText(input, view));
  // JSON syntax
  assert.match(at('{"swiotlbLensView": 1,\n  "input": {,}}')[0] as string, /^v\.swiotlb-view\.json:2:13: JSON syntax/);
  // a bad expression: the column of its bad character inside the string
  const bad = { ...good, view: { ...good.view, filter: { expr: 'size > 64Q' } } };
  const text = JSON.stringify(bad, null, 2);
  const lines = at(text);
  const exprLine = text.split('\n').findIndex((l) => l.includes('"expr"')) + 1;
  const col = (text.split('\n')[exprLine - 1] as string).indexOf('64Q') + 1;
  assert.equal(lines.length, 1);
  assert.equal(
    lines[0],
    `v.swiotlb-view.json:${exprLine}:${col}: filter expression: "64Q" is not a number (64, 64K, 1.5M, 0x7c000000, 10ms) (at $.view.filter.expr)`,
  );
  // unknown keys, wrong types, unknown columns: each at its place
  const hostile = {
    ...good,
    evil: 1,
    view: { ...good.view, sort: { column: 'constructor', desc: false }, columns: [{ key: '__proto__', width: 10 }], selectedRow: -3 },
  };
  const many = at(JSON.stringify(hostile, null, 2)).join('\n');
  assert.match(many, /unknown key "evil"/);
  assert.match(many, /the sort must be/);
  assert.match(many, /a column's key must be one of/);
  assert.match(many, /the selected row must be a row number/);
  assert.match(at('[1, 2]')[0] as string, /:1:1: a SWIOTLB Lens view file must be an object/);
  assert.match(at(JSON.stringify({ ...good, swiotlbLensView: 2 }))[0] as string, /not a SWIOTLB Lens view file of version 1/);
  assert.match(at(JSON.stringify({ ...good, view: { filter: { devices: ['x'] } } }))[0] as string, /not a table filter/);
  assert.equal(checkSavedView({ filter: { expr: 'size >' } }), undefined);
});

test('column layouts: unknown or repeated columns dropped, missing ones appended, moves', () => {
  const l = normalizeLayout([
    { key: 'size', width: 5 },
    { key: 'nope', width: 50 },
    { key: 'size', width: 99 },
  ]);
  assert.equal(l.length, TABLE_COLUMNS.length);
  assert.deepEqual(l[0], { key: 'size', width: 24 });
  assert.deepEqual(
    l.slice(1).map((e) => e.key),
    TABLE_COLUMNS.map((c) => c.key).filter((k) => k !== 'size'),
  );
  const keys = (x: readonly { key: string }[]) => x.map((e) => e.key).join(',');
  const three = [
    { key: 'a', width: 1 },
    { key: 'b', width: 1 },
    { key: 'c', width: 1 },
  ];
  assert.equal(keys(moveColumn(three, 'c', 'a')), 'c,a,b');
  assert.equal(keys(moveColumn(three, 'a', null)), 'b,c,a');
  assert.equal(keys(moveColumn(three, 'a', 'c')), 'b,a,c');
});

test('the webview messages of a search and a view are checked', () => {
  assert.ok(isWebviewMessage({ type: 'nextHit', session: 1, query: 2, row: -1, time: 1.5, backward: false }));
  assert.ok(isWebviewMessage({ type: 'copy', text: '0x7c000000' }));
  assert.ok(isWebviewMessage({ type: 'exportView', session: 1, view }));
  assert.ok(
    isWebviewMessage({ type: 'query', session: 1, query: 1, filter: { expr: 'size > 1' }, sort: { column: 'index', desc: false } }),
  );
  assert.equal(isWebviewMessage({ type: 'nextHit', session: 1, query: 2, row: -2, time: null, backward: false }), false);
  assert.equal(isWebviewMessage({ type: 'copy', text: 7 }), false);
  assert.equal(
    isWebviewMessage({ type: 'query', session: 1, query: 1, filter: { expr: 5 }, sort: { column: 'index', desc: false } }),
    false,
  );
});

/** A session of `n` maps at times 0..n-1, every third one 128 KiB on nvme0. */
function model(n: number): PanelModel {
  const t = new EventTable();
  t.hasClock = true;
  for (let i = 0; i < n; i++)
    t.push({
      kind: EventKind.Map,
      outcome: Outcome.Bounced,
      time: i,
      size: i % 3 === 0 ? 131072 : 4096,
      device: i % 3 === 0 ? 'nvme0' : 'ahci',
    });
  const session = {
    events: t,
    pool: null,
    summary: {},
    devices: [],
    diagnostics: [],
    files: ['x'],
    kind: 'trace',
  } as unknown as AnalysisSession;
  return new PanelModel(session);
}

test('search hits: per chart column, and next/previous from a row or the cursor (wrapping)', () => {
  const m = model(30);
  const q = m.query({ expr: 'size > 64K && device ~ nvme' }, { column: 'size', desc: true }, 1);
  assert.equal(q.type === 'count' && q.total, 10);
  // ten columns of three rows each: one hit in each
  assert.deepEqual([...(m.hitColumns(0, 30, 10) ?? [])], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual([...(m.hitColumns(0, 15, 3) ?? [])], [2, 2, 2]);
  // the window's end is in its last column
  assert.deepEqual([...(m.hitColumns(0, 27, 1) ?? [])], [10]);
  assert.equal(m.nextHit(3, null, false), 6);
  assert.equal(m.nextHit(4, null, false), 6);
  assert.equal(m.nextHit(6, null, true), 3);
  assert.equal(m.nextHit(27, null, false), 0);
  assert.equal(m.nextHit(0, null, true), 27);
  assert.equal(m.nextHit(-1, 7.5, false), 9);
  assert.equal(m.nextHit(-1, 7.5, true), 6);
  const reply = m.answer({ type: 'nextHit', session: m.info.id, query: 1, row: 3, time: null, backward: false });
  assert.equal(reply?.type === 'located' && reply.row, 6);
  // the table is sorted by size: the hit's position is where that order puts it
  assert.equal(reply?.type === 'located' && reply.position, m.positionOf(6));
  // no search: no hits
  m.query({ outcomes: [Outcome.Bounced] }, { column: 'index', desc: false }, 2);
  assert.equal(m.hitColumns(0, 30, 10), undefined);
  assert.equal(m.nextHit(3, null, false), null);
});

test('a bad expression from the webview: no rows, the problem and where', () => {
  const m = model(5);
  const q = m.query({ expr: 'size >> 3' }, { column: 'index', desc: false }, 1);
  assert.equal(q.type, 'count');
  if (q.type !== 'count') return;
  assert.equal(q.total, 0);
  assert.equal(q.error?.position, 6);
  assert.match(q.error?.message ?? '', /expected a value/);
});
