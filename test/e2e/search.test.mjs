// Search and views in the panel as a user drives them in a real VS Code: a filter expression
// (its error pointing at the character, then `size > 64K && device ~ 03.0`), its hits marked on
// the chart, next/previous hit moving the selection and the cursor, the table's columns hidden,
// resized and reordered (dragging a header), a cell copied, the view exported to a .swiotlb-view.json file and imported again;
// a damaged view file and a view of another input refused with the reason. The expected rows are
// computed here from the fixture itself (a real 6.1 replay), not taken from the extension.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { panelFrame, pickFile, runCommand, shot, workbenchSuite } from './vscode.mjs';

const FIXTURE = 'test/fixtures/kernel-6.1/a_force_smp2.ops.jsonl.gz';
const EXPR = 'size > 64K && device ~ 03.0';

let page;
let ws;

const test = workbenchSuite({
  tmpPrefix: 'swiotlb-search-',
  shotPrefix: 'search-',
  prepare(dir) {
    ws = dir;
    fs.copyFileSync(FIXTURE, path.join(ws, 'a_force_smp2.ops.jsonl.gz'));
  },
  ready(p) {
    page = p;
  },
});

const panel = () => panelFrame(page);
const num = (n) => n.toLocaleString('en-US');

/**
 * The rows the expression selects, read from the replay file: a row per op after the "init"
 * line (row = op index), the unmap row carrying its map's size and device.
 */
function expectedHits() {
  const ops = zlib
    .gunzipSync(fs.readFileSync(FIXTURE))
    .toString('utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((o) => o.op !== 'init');
  const live = new Map();
  const rows = [];
  ops.forEach((o, row) => {
    let m = o;
    if (o.op === 'map') live.set(o.id, o);
    else if (o.op === 'unmap') {
      m = live.get(o.id);
      live.delete(o.id);
    }
    if (m && m.size > 64 * 1024 && m.dev.includes('03.0')) rows.push({ row, size: m.size });
  });
  return { total: ops.length, rows };
}

const { total, rows: hits } = expectedHits();

test('a filter expression: its error points at the character, then the rows it selects', async () => {
  assert.ok(hits.length >= 4, 'the fixture has hits to step through');
  await runCommand(page, 'SWIOTLB: Analyze Trace or Log File...', { quickPick: true });
  await pickFile(page, path.join(ws, 'a_force_smp2.ops.jsonl.gz'));
  const p = panel();
  await p.locator('#count', { hasText: new RegExp(`^\\s*${num(total)} rows\\s*$`) }).waitFor({ timeout: 120_000 });
  await p.locator('#chart[data-columns]').waitFor({ state: 'attached' });
  const expr = p.locator('#expr input');
  await expr.fill('size > 64Q && device ~ 03.0');
  const err = p.locator('#expr-error');
  await err.waitFor();
  assert.match(await err.innerText(), /Expression error at column 8: "64Q" is not a number/);
  // the caret under the 8th character
  assert.match(await err.locator('pre').innerText(), /\n {7}\^{3}$/);
  await expr.fill(EXPR);
  await p.locator('#count', { hasText: `${num(hits.length)} of ${num(total)} rows` }).waitFor();
  assert.equal(await err.isHidden(), true);
  // the hits on the chart: every one of them in the window shown, in at least one column
  const chart = p.locator('#chart');
  await p.locator(`#chart[data-hits="${hits.length}"]`).waitFor({ state: 'attached' });
  assert.ok(Number(await chart.getAttribute('data-hit-columns')) >= 1);
  await shot(page, '60-search-expression');
});

test('next and previous hit select the hit rows and move the cursor', async () => {
  const p = panel();
  const details = p.locator('#details h2');
  const chart = p.locator('#chart');
  const at = async (k) => {
    const row = hits[k].row;
    await details.filter({ hasText: `Row ${num(row)}: ` }).waitFor();
    // a replay has no clock: the cursor is at the row's event number
    await p.locator(`#chart[data-cursor="${row}"]`).waitFor({ state: 'attached' });
    assert.equal(Number(await chart.getAttribute('data-cursor')), row);
  };
  await p.locator('#hit-next').click();
  await at(0);
  await p.locator('#hit-next').click();
  await at(1);
  await p.locator('#hit-next').click();
  await at(2);
  await p.locator('#hit-prev').click();
  await at(1);
  // the keys: n (next) and N (previous) on the table
  await p.locator('.table-row.selected').click();
  await page.keyboard.press('n');
  await at(2);
  await page.keyboard.press('Shift+N');
  await at(1);
  assert.equal(await p.locator('.table-row.selected').count(), 1);
});

test('columns hide and resize; a cell copies', async () => {
  const p = panel();
  const header = p.locator('.table-header');
  const reasons = header.locator('[data-key="reasons"]');
  await reasons.waitFor();
  // hide from the header's context menu
  await reasons.click({ button: 'right' });
  await p.locator('#column-menu [data-action="hide"]').click();
  await reasons.waitFor({ state: 'detached' });
  assert.equal(await p.locator('.table-row.selected [data-key="reasons"]').count(), 0);
  // and show it again from the Columns button, then hide it there
  await p.locator('#columns-button').click();
  await p.locator('#column-menu [data-key="reasons"]').click();
  await reasons.waitFor();
  await p.locator('#columns-button').click();
  await p.locator('#column-menu [data-key="reasons"]').click();
  await reasons.waitFor({ state: 'detached' });
  // resize Size by dragging its right edge
  const size = header.locator('[data-key="size"]');
  const before = (await size.boundingBox()).width;
  const grip = await size.locator('.resize').boundingBox();
  await page.mouse.move(grip.x + grip.width / 2, grip.y + grip.height / 2);
  await page.mouse.down();
  await page.mouse.move(grip.x + grip.width / 2 + 40, grip.y + grip.height / 2, { steps: 5 });
  await page.mouse.move(grip.x + grip.width / 2 + 80, grip.y + grip.height / 2, { steps: 5 });
  await page.mouse.up();
  const after = (await size.boundingBox()).width;
  assert.ok(after >= before + 70, `the Size column widened from ${before} to ${after}`);
  const cell = p.locator('.table-row.selected [data-key="size"]');
  assert.ok(Math.abs((await cell.boundingBox()).width - after) < 2, 'the cells follow the header');
  // the sort did not change with the drag (the header click that ends it is not a sort)
  assert.equal(await size.getAttribute('aria-sort'), null);
  // copy the selected row's size: click the cell, Ctrl+C
  await cell.click();
  await p.locator('.table-row.selected .cell-selected[data-key="size"]').waitFor();
  await page.keyboard.press('Control+C');
  await page.locator('.statusbar-item', { hasText: `SWIOTLB: copied ${hits[1].size}` }).waitFor({ timeout: 30_000 });
  // and from the cell's context menu
  await cell.click({ button: 'right' });
  await p.locator('#cell-menu button', { hasText: 'Copy row' }).click();
  await page.locator('.statusbar-item', { hasText: new RegExp(`SWIOTLB: copied ${hits[1].row}\\t`) }).waitFor({ timeout: 30_000 });
  await shot(page, '61-search-columns');
});

test('the view exports to a file and imports again', async () => {
  const p = panel();
  await p.locator('vscode-button', { hasText: 'Export View' }).click();
  const target = path.join(ws, 'big-maps.swiotlb-view.json');
  await pickFile(page, target);
  for (let i = 0; i < 100 && !fs.existsSync(target); i++) await new Promise((r) => setTimeout(r, 100));
  await page.locator('.notifications-toasts .notification-toast', { hasText: 'view exported to big-maps.swiotlb-view.json' }).waitFor({
    timeout: 30_000,
  });
  const saved = JSON.parse(fs.readFileSync(target, 'utf8'));
  assert.equal(saved.view.filter.expr, EXPR);
  assert.equal(saved.view.selectedRow, hits[1].row);
  assert.deepEqual(saved.input.files, ['a_force_smp2.ops.jsonl.gz']);
  assert.equal(saved.input.rows, total);
  assert.equal(saved.view.columns.find((c) => c.key === 'reasons').hidden, true);
  assert.ok(saved.view.columns.find((c) => c.key === 'size').width >= 140);
  // change everything, then import: the view comes back
  await p.locator('#clear-filters').click();
  await p.locator('#count', { hasText: new RegExp(`^\\s*${num(total)} rows\\s*$`) }).waitFor();
  await p.locator('#columns-button').click();
  await p.locator('#column-menu button', { hasText: 'Reset columns' }).click();
  await p.locator('.table-header [data-key="reasons"]').waitFor();
  await runCommand(page, 'SWIOTLB: Import Panel View...', { quickPick: true });
  await pickFile(page, target);
  await p.locator('#count', { hasText: `${num(hits.length)} of ${num(total)} rows` }).waitFor({ timeout: 30_000 });
  assert.equal(await p.locator('#expr input').inputValue(), EXPR);
  await p.locator('.table-header [data-key="reasons"]').waitFor({ state: 'detached' });
  await p.locator('#details h2', { hasText: `Row ${num(hits[1].row)}: ` }).waitFor();
  await shot(page, '62-search-view-imported');
});

test('a damaged view file and a view of another input are refused, saying why', async () => {
  const saved = JSON.parse(fs.readFileSync(path.join(ws, 'big-maps.swiotlb-view.json'), 'utf8'));
  const bad = path.join(ws, 'bad.swiotlb-view.json');
  saved.view.filter.expr = 'size >> 64K';
  const text = JSON.stringify(saved, null, 2);
  fs.writeFileSync(bad, text);
  const line = text.split('\n').findIndex((l) => l.includes('"expr"')) + 1;
  const column = text.split('\n')[line - 1].indexOf('> 64K') + 1;
  await runCommand(page, 'SWIOTLB: Import Panel View...', { quickPick: true });
  await pickFile(page, bad);
  await page
    .locator('.notifications-toasts .notification-toast', {
      hasText: `bad.swiotlb-view.json:${line}:${column}: filter expression: expected a value`,
    })
    .waitFor({ timeout: 30_000 });
  const other = path.join(ws, 'other.swiotlb-view.json');
  saved.view.filter.expr = EXPR;
  saved.input.rows = total + 1;
  fs.writeFileSync(other, JSON.stringify(saved, null, 2));
  await runCommand(page, 'SWIOTLB: Import Panel View...', { quickPick: true });
  await pickFile(page, other);
  await page
    .locator('.notifications-toasts .notification-toast', { hasText: `is a view of a different input (${total + 1} rows, not ${total})` })
    .waitFor({ timeout: 30_000 });
});

test('a column moves by dragging its header onto another (and the order is kept)', async () => {
  const p = panel();
  const header = p.locator('.table-header');
  const keys = () => header.locator('[data-key]').evaluateAll((hs) => hs.map((h) => h.dataset.key));
  assert.equal((await keys())[0], 'index');
  await header.locator('[data-key="cpu"] .head-label').dragTo(header.locator('[data-key="index"] .head-label'));
  await p.locator('.table-header [data-key]:first-child[data-key="cpu"]').waitFor();
  assert.equal((await keys())[1], 'index');
  // the rows' cells follow the header
  assert.equal(await p.locator('.table-row .cell').first().getAttribute('data-key'), 'cpu');
});
