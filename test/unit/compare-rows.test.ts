/**
 * The compare view's rows (src/analysis/compareModel.ts): one per compared call, each side as
 * that path decides it when run on its own, divergences where the two differ, the same counts
 * and causes as the comparison, pages of all rows and of the divergent ones.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CompareModel, CompareRows, type CompareSideView } from '../../src/analysis/compareModel';
import type { Decision } from '../../src/model/dma/decision';
import { hexAddr } from '../../src/model/hex';
import { reasonCodes } from '../../src/model/reasons';
import { compareScenario } from '../../src/scenario/compare';
import { parseScenario } from '../../src/scenario/format';
import { runScenario } from '../../src/scenario/run';

const EXAMPLES = path.join(__dirname, '..', '..', 'examples');
const load = (name: string) => parseScenario(fs.readFileSync(path.join(EXAMPLES, name), 'utf8'), path.join(EXAMPLES, name));

function modelOf(name: string) {
  const s = load(name);
  const rows = new CompareRows();
  const c = compareScenario(s, rows);
  return { s, c, m: new CompareModel(rows, c, { title: s.name, file: s.file, kernel: s.kernel.name }) };
}

/** A side as the view should print it, from the decision of that path's own run. */
function sideOf(d: Decision): CompareSideView {
  return {
    result: d.result,
    reasons: reasonCodes(d.reasons).join(', '),
    dma: d.dma === null ? '' : hexAddr(d.dma),
    slot: d.slot === null ? '' : `${d.slot}+${d.nslots}`,
    message: d.messages[0] ?? '',
  };
}

for (const name of ['xen-pv-boundary-compare.swiotlb.json', 'xen-pv-dom0-straddle.swiotlb.json', 'xen-arm64-foreign.swiotlb.json']) {
  test(`${name}: every row is both paths' own decision, marked where they differ`, () => {
    const { s, c, m } = modelOf(name);
    const kernel = runScenario(s, { path: 'kernel' }).lane;
    const unified = runScenario(s, { path: 'unified' }).lane;
    assert.equal(kernel.decisions.length, unified.decisions.length);
    assert.equal(m.total(false), kernel.decisions.length);
    assert.equal(m.info.compared, c.compared);
    let divergent = 0;
    const all = m.page(false, 0, m.total(false));
    all.forEach((r, i) => {
      const k = kernel.decisions[i] as Decision;
      const u = unified.decisions[i] as Decision;
      assert.equal(r.index, i);
      assert.equal(r.line, kernel.lines[i]);
      assert.equal(r.call, k.call);
      assert.equal(r.device, k.device);
      assert.deepEqual(r.kernel, sideOf(k), `row ${i} kernel side`);
      assert.deepEqual(r.unified, sideOf(u), `row ${i} unified side`);
      const differs =
        k.result !== u.result ||
        k.reasons !== u.reasons ||
        k.dma !== u.dma ||
        k.slot !== u.slot ||
        k.copied !== u.copied ||
        k.messages.join('\n') !== u.messages.join('\n');
      assert.equal(r.fields.length > 0, differs, `row ${i} marked`);
      assert.equal(r.cause === null, !differs);
      if (differs) divergent++;
    });
    assert.equal(m.info.divergent, divergent);
    assert.equal(m.info.divergent, c.compared - c.agree);
    assert.equal(m.total(true), divergent);
    // the divergent page lists exactly the marked rows, in order, as the comparison lists them
    const only = m.page(true, 0, m.total(true));
    assert.deepEqual(
      only.map((r) => r.index),
      all.filter((r) => r.fields.length).map((r) => r.index),
    );
    c.divergences.forEach((d, j) => {
      const r = only[j];
      assert.ok(r);
      assert.equal(r.index, d.index);
      assert.deepEqual([...r.fields].sort(), [...d.fields].sort());
      assert.equal(r.cause, d.cause);
      assert.equal(r.line, d.line);
    });
    const byCause: Record<string, number> = {};
    for (const r of only) byCause[r.cause as string] = (byCause[r.cause as string] ?? 0) + 1;
    assert.deepEqual(byCause, c.byCause);
  });
}

test('the boundary example diverges, the straddle one does not', () => {
  assert.ok(modelOf('xen-pv-boundary-compare.swiotlb.json').m.info.divergent > 100);
  assert.equal(modelOf('xen-pv-dom0-straddle.swiotlb.json').m.info.divergent, 0);
});

test('pages: a window of rows from any start, empty past the end', () => {
  const { m } = modelOf('xen-pv-boundary-compare.swiotlb.json');
  const n = m.total(false);
  assert.deepEqual(
    m.page(false, 100, 50).map((r) => r.index),
    Array.from({ length: Math.min(50, n - 100) }, (_, k) => 100 + k),
  );
  assert.deepEqual(m.page(false, n, 10), []);
  const d = m.total(true);
  assert.equal(m.page(true, d - 3, 200).length, 3);
  assert.equal(m.lineOf(0), m.page(false, 0, 1)[0]?.line);
  assert.equal(m.lineOf(n), undefined);
  assert.equal(m.lineOf(-1), undefined);
});

test('the rows grow past their first capacity and keep every row', () => {
  const { s } = modelOf('xen-pv-boundary-compare.swiotlb.json');
  const rows = new CompareRows();
  const d = runScenario(s).lane.decisions[0] as Decision;
  for (let i = 0; i < 5000; i++)
    rows.add(i, d, i % 7 ? d : { ...d, slot: (d.slot ?? 0) + 1 }, i % 7 ? [] : ['slot'], i % 7 ? null : 'state');
  assert.equal(rows.length, 5000);
  assert.equal(rows.row(4999).line, 4999);
  assert.deepEqual(rows.row(4999).fields, []);
  assert.deepEqual(rows.row(4998 - (4998 % 7)).fields, ['slot']);
  assert.equal(rows.row(0).unified?.slot, `${(d.slot ?? 0) + 1}+${d.nslots}`);
});
