// The panel's tracks as a user drives them in a real VS Code, on a real 6.1 run of a small pool
// (test/fixtures/kernel-6.1/b_small_pool_smp2: 2 areas, 2 devices, 2 CPUs, 12 failures, 3,445
// mappings): counter tracks per area, device and CPU under the chart, pinned to the top on a
// click; the instant lane; the slices of every mapping from map to unmap and the histograms of
// their sizes per device; the tracks following the chart's zoom; two flags and the delta between
// them, checked against the slot map at the same moments.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { canvasInk, panelFrame, pickFile, runCommand, shot, workbenchSuite } from './vscode.mjs';

let page;
let ws;
const FIXTURE = 'b_small_pool_smp2.ops.jsonl.gz';

const test = workbenchSuite({
  tmpPrefix: 'swiotlb-tracks-',
  shotPrefix: 'tracks-',
  prepare(dir) {
    ws = dir;
    fs.copyFileSync(path.join('test/fixtures/kernel-6.1', FIXTURE), path.join(ws, FIXTURE));
  },
  ready(p) {
    page = p;
  },
});

const panel = () => panelFrame(page);

/** Polls `fn` until it returns a truthy value (the webview draws after the host answers). */
async function until(fn, what, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('the tracks per area, device and CPU show under the chart', async () => {
  await runCommand(page, 'SWIOTLB: Analyze Trace or Log File...', { quickPick: true, timeout: 120_000 });
  await pickFile(page, path.join(ws, FIXTURE));
  const p = panel();
  await p.locator('#title', { hasText: `Replay: ${FIXTURE}` }).waitFor({ timeout: 90_000 });
  await p.locator('#chart[data-columns]').waitFor({ state: 'attached', timeout: 30_000 });
  const list = p.locator('#track-list');
  await list.scrollIntoViewIfNeeded();
  await p.locator('#track-list[data-tracks]').waitFor({ state: 'attached' });
  const tracks = await p.locator('#track-list .track').evaluateAll((rows) => rows.map((r) => `${r.dataset.track} ${r.dataset.peak}`));
  // the pool's two areas fill to 256 slots each; the devices and the CPUs share the 512
  assert.deepEqual(tracks, ['area:0 256', 'area:1 256', 'device:1 378', 'device:2 512', 'cpu:0 252', 'cpu:1 512']);
  assert.deepEqual(await p.locator('#track-list .track .track-label').allInnerTexts(), [
    'area 0',
    'area 1',
    '0000:00:03.0',
    '0000:00:04.0',
    'CPU 0',
    'CPU 1',
  ]);
  // every track has drawn its series; the areas are busy for much of the run
  for (const key of ['area:0', 'area:1']) {
    const c = p.locator(`.track[data-track="${key}"] canvas[data-columns]`);
    await c.waitFor({ state: 'attached' });
    assert.ok(Number(await c.getAttribute('data-columns')) > 100, `${key} covers the run`);
    assert.ok((await canvasInk(c)) > 1000, `${key} has drawn`);
  }
  // the instant lane: the run's 12 failed maps
  await p.locator('#instants[data-failures="12"]').waitFor({ state: 'attached' });
  await shot(page, '10-tracks');
});

test('a pinned track moves to the top and stays there', async () => {
  const p = panel();
  await p.locator('.track[data-track="cpu:1"] .pin').click();
  await p.locator('#track-list .track').first().and(p.locator('[data-track="cpu:1"][data-pinned="true"]')).waitFor();
  await p.locator('.track[data-track="area:1"] .pin').click();
  await until(
    async () =>
      (await p.locator('#track-list .track').evaluateAll((rows) => rows.slice(0, 3).map((r) => r.dataset.track))).join() ===
      'cpu:1,area:1,area:0',
    'two pinned tracks on top, in the order pinned',
  );
  // pinned tracks draw like the others
  assert.ok((await canvasInk(p.locator('.track[data-track="cpu:1"] canvas'))) > 1000);
  await p.locator('.track[data-track="area:1"] .pin', { hasText: 'Unpin' }).click();
  await p.locator('.track[data-track="area:1"][data-pinned="false"]').waitFor({ state: 'attached' });
  assert.equal(await p.locator('#track-list .track').first().getAttribute('data-track'), 'cpu:1');
});

test('slices pair every map with its unmap; histograms of sizes and lifetimes per device', async () => {
  const p = panel();
  await p.locator('#slices-section').scrollIntoViewIfNeeded();
  // the whole run in view: all 3,445 mappings, each a slice in its device's lane
  await p.locator('#slices[data-in-view="3445"][data-slices="3445"]').waitFor({ state: 'attached' });
  assert.ok((await canvasInk(p.locator('#slices'))) > 2000, 'the slices have drawn');
  assert.match(await p.locator('#slices-note').innerText(), /3,445 mappings\./);
  const h = await p
    .locator('#histograms .histogram')
    .evaluateAll((hs) =>
      hs.map((x) => [x.dataset.device, x.dataset.maps, x.dataset.open, ...[...x.querySelectorAll('figure')].map((f) => f.dataset.counts)]),
    );
  assert.deepEqual(h, [
    ['0000:00:03.0', '2103', '0', '3,0,0,2026,19,5,7,4,8,31,0', '34,25,1481,563,0,0,0'],
    ['0000:00:04.0', '1342', '0', '6,0,0,1251,20,8,10,47,0,0,0', '9,33,803,497,0,0,0'],
  ]);
  // drawn as SVG bars, a bar per non-empty bin, labels as text
  assert.equal(
    await p.locator('.histogram[data-device="0000:00:03.0"] figure[data-kind="sizes"] svg rect[height]:not([height="0"])').count(),
    8,
  );
  assert.match(await p.locator('.histogram[data-device="0000:00:03.0"] figure[data-kind="sizes"] svg').textContent(), /≤ 4 KiB/);
  await shot(page, '11-tracks-slices');
});

test('the tracks follow the chart when it zooms', async () => {
  const p = panel();
  const chart = p.locator('#chart');
  await chart.scrollIntoViewIfNeeded();
  const box = await chart.boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  for (let i = 0; i < 8; i++) await page.mouse.wheel(0, -120);
  const view = await until(async () => {
    const v = await chart.getAttribute('data-view');
    const w = await p.locator('#tracks-section').getAttribute('data-window');
    const [a, b] = (v ?? '').split(' ').map(Number);
    return v && v === w && b - a < 6000 ? [a, b] : null;
  }, 'the tracks on the chart window after the zoom');
  // fewer mappings overlap the narrower window
  const inView = Number(await p.locator('#slices').getAttribute('data-in-view'));
  assert.ok(inView > 0 && inView < 3445, `${inView} slices in ${view}`);
  await p.locator('#chart').dblclick();
  await until(async () => (await p.locator('#slices').getAttribute('data-in-view')) === '3445', 'the whole run again');
});

/** "U of 512 used" of the slot map's header (the pool at the cursor). */
async function slotsUsed(p) {
  return Number(/: ([\d,]+) of 512 used/.exec(await p.locator('#slot-header').innerText())[1].replace(/,/g, ''));
}

test('two flags and the measured delta between them', async () => {
  const p = panel();
  // flag 1: at the cursor a table row puts there (no clock: the time is the row number)
  await p.locator('.table-body').evaluate((el) => {
    el.scrollTop = 0;
  });
  // the table redraws its rows on the scroll event after this (a frame later) and as their pages
  // arrive: wait for the top rows to be there, then name the row by its position, not by the
  // element found first (a redraw replaces every row element: the next lookup may find another row)
  await p.locator('.table-row[aria-rowindex="1"] .cell[data-key="index"]', { hasText: /^\s*0\s*$/ }).waitFor({ timeout: 30_000 });
  // a map (the slot map shows a release the moment before it)
  const position = await p.locator('.table-row', { hasText: 'bounced' }).nth(1).getAttribute('aria-rowindex');
  const row = p.locator(`.table-row[aria-rowindex="${position}"]`);
  const index = Number((await row.locator('.cell[data-key="index"]').innerText()).trim());
  await row.click();
  await p.locator('#slot-header', { hasText: `after row ${index.toLocaleString('en-US')})` }).waitFor();
  const used1 = await slotsUsed(p);
  await p.locator('#flag-add').click();
  await p.locator('#flags[data-flags="1"]').waitFor({ state: 'attached' });
  assert.match(await p.locator('#flags li[data-flag="F1"]').innerText(), new RegExp(`F1 at #${index}: ${used1} slots in use`));
  // flag 2: alt+click on the chart, 70 % across
  const chart = p.locator('#chart');
  await chart.scrollIntoViewIfNeeded();
  const box = await chart.boundingBox();
  const at = { x: box.x + box.width * 0.7, y: box.y + box.height * 0.5 };
  await page.keyboard.down('Alt');
  await page.mouse.click(at.x, at.y);
  await page.keyboard.up('Alt');
  await p.locator('#flags[data-flags="2"]').waitFor({ state: 'attached' });
  assert.equal(await chart.getAttribute('data-flags'), '2');
  const f2 = await p.locator('#flags li[data-flag="F2"]').innerText();
  const [, t2, used2] = /F2 at #([\d,]+): ([\d,]+) slots in use/.exec(f2).map((x) => x?.replace(/,/g, ''));
  // the pool there as the slot map tells it: a plain click at the same place
  await page.mouse.click(at.x, at.y);
  await p.locator('#slot-header', { hasText: `Slots at #${t2} ` }).waitFor();
  assert.equal(await slotsUsed(p), Number(used2));
  const delta = p.locator('#flags .flag-delta');
  const text = await delta.innerText();
  const dt = Number(await delta.getAttribute('data-dt'));
  assert.ok(Math.abs(dt - (Number(t2) - index)) < 1, `${dt} vs ${t2} - ${index}`);
  const d = Number(used2) - used1;
  assert.equal(Number(await delta.getAttribute('data-dslots')), d);
  const sign = d > 0 ? '\\+' : d < 0 ? '−' : '±';
  assert.match(
    text,
    new RegExp(
      `^F1 → F2: Δ ${Math.round(dt).toLocaleString('en-US')} counter ticks · occupancy ${sign}${Math.abs(d)} slots \\(${used1} → ${used2}\\)$`,
    ),
  );
  await shot(page, '12-tracks-flags');
  await p.locator('#flags-clear').click();
  await p.locator('#flags[data-flags="0"]').waitFor({ state: 'attached' });
  assert.equal(await chart.getAttribute('data-flags'), '0');
});
