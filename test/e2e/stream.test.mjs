// A big trace in a real VS Code (issues 13 and 14): the panel opens while the analysis runs and
// shows the occupancy chart of what was read, filling in; the slot map and the table say they come
// at the end; Cancel stops the analysis and keeps the chart, marked partial; analyses do not force
// the Output panel open. The trace is bench:ingest's 1 GB trace (about 6 million rows: several
// seconds of analysis even on a quiet machine), cached in the temporary folder between runs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { canvasInk, panelFrame, pickFile, runCommand, shot, workbenchSuite } from './vscode.mjs';

// 1 GB: on a quiet machine 300 MB was analysed before the first panel's webview had loaded, so no
// partial chart was ever seen. bench:ingest's own trace and cache folder: generated once for both.
const BYTES = 1e9;
const DIR = path.join(os.tmpdir(), 'swiotlb-lens-bench');
let page;
let trace;
/** What the generator put in the trace (bench:ingest's meta.json). */
let truth;

const test = workbenchSuite({
  tmpPrefix: 'swiotlb-stream-',
  shotPrefix: 'stream-',
  prepare(ws) {
    const r = spawnSync(process.execPath, ['scripts/bench-ingest.mjs', '--generate-only'], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_BYTES: String(BYTES), BENCH_DIR: DIR },
    });
    if (r.status !== 0) throw new Error('generating the trace failed');
    truth = JSON.parse(fs.readFileSync(path.join(DIR, 'meta.json'), 'utf8')).truth;
    trace = path.join(ws, 'big.trace.txt');
    fs.symlinkSync(path.join(DIR, 'capture', 'trace.txt'), trace);
  },
  ready(p) {
    page = p;
  },
});

const panel = () => panelFrame(page);
const progress = () => page.locator('.notification-toast', { hasText: 'SWIOTLB: analysing big.trace.txt' }).first();
/** The rows the partial chart says it shows. */
const rowsShown = async () => Number(/([\d,]+) rows/.exec(await panel().locator('#partial-status').innerText())[1].replace(/,/g, ''));
/** The Output panel is on screen (the bottom panel showing an output channel). */
const outputShown = async () => page.locator('.part.panel .monaco-editor .view-lines').first().isVisible();

async function analyze() {
  await runCommand(page, 'SWIOTLB: Analyze Trace or Log File...', { quickPick: true, timeout: 120_000 });
  await pickFile(page, trace);
}

test('the chart of what was read shows while the analysis runs, and fills in', async () => {
  await analyze();
  const p = panel();
  await p.locator('#partial[data-state="running"] #chart[data-columns]').waitFor({ state: 'attached', timeout: 120_000 });
  // the analysis is still running: its progress notification is up
  assert.ok(await progress().isVisible(), 'the progress notification is still shown');
  assert.match(await p.locator('#partial-status').innerText(), /Analysing: \d+% read, [\d,]+ rows so far/);
  assert.match(await p.locator('#partial-note').innerText(), /slot map and the table are available when the analysis completes/);
  assert.ok(Number(await p.locator('#chart').getAttribute('data-columns')) > 0, 'columns with pool use');
  assert.ok(Number(await p.locator('#chart').getAttribute('data-peak')) > 0, 'occupancy drawn');
  assert.ok((await canvasInk(p.locator('#chart'))) > 0);
  // no table or slot map yet
  assert.equal(await p.locator('#slotmap').count(), 0);
  await shot(page, '10-partial');
  // a later update shows more of the input
  const first = await rowsShown();
  for (const deadline = Date.now() + 60_000; ; await page.waitForTimeout(200)) {
    if ((await rowsShown()) > first) break;
    assert.ok(Date.now() < deadline, 'the chart fills in');
  }
  assert.equal(await outputShown(), false, 'the Output panel is not forced open');
});

test('cancel stops the analysis and keeps the chart, marked partial', async () => {
  const p = panel();
  await progress().hover();
  await progress().locator('.monaco-button', { hasText: 'Cancel' }).click();
  await p.locator('#partial[data-state="cancelled"]').waitFor({ timeout: 30_000 });
  assert.match(await p.locator('#partial-status').innerText(), /^Cancelled at \d+% — partial/);
  const rows = await rowsShown();
  // stopped at once: the progress is gone, nothing more arrives, the chart stays
  await progress().waitFor({ state: 'hidden', timeout: 10_000 });
  await page.waitForTimeout(2_000);
  assert.equal(await rowsShown(), rows);
  await p.locator('#partial[data-state="cancelled"]').waitFor({ timeout: 1_000 });
  assert.ok((await canvasInk(p.locator('#chart'))) > 0, 'the chart is kept');
  assert.ok(Number(await p.locator('#chart').getAttribute('data-columns')) > 0);
  await shot(page, '11-cancelled');
});

test('run to the end: the session replaces the partial chart with its tracks, the Output panel stays closed', async () => {
  await analyze();
  const p = panel();
  await p.locator('#partial[data-state="running"]').waitFor({ timeout: 120_000 });
  await p.locator('#title', { hasText: 'big.trace.txt' }).waitFor({ timeout: 10 * 60_000 });
  await p.locator('#sum-maps').waitFor({ timeout: 10 * 60_000 });
  assert.equal(await p.locator('#partial').count(), 0);
  await p.locator('#count', { hasText: /rows/ }).waitFor({ timeout: 60_000 });
  await p.locator('#chart[data-columns]').waitFor({ state: 'attached', timeout: 60_000 });
  assert.ok((await canvasInk(p.locator('#chart'))) > 0);
  // the tracks came built from the analysis worker: the pool's 4 areas, every mapping a slice
  await p.locator('#track-list[data-tracks]').scrollIntoViewIfNeeded();
  await p.locator('#track-list[data-tracks]').waitFor({ state: 'attached', timeout: 60_000 });
  assert.equal(await p.locator('#tracks-building').count(), 0, 'no longer "being built"');
  assert.equal(await p.locator('#track-list .track[data-kind="area"]').count(), 4);
  await p.locator(`#slices[data-in-view="${truth.maps}"]`).waitFor({ state: 'attached', timeout: 60_000 });
  await page.waitForTimeout(1_000);
  assert.equal(await outputShown(), false, 'the Output panel is not forced open');
  await shot(page, '12-complete');
});
