// "SWIOTLB: Analyze Trace or Log File..." in a real VS Code on a real 6.1 trace (the small-pool
// run with its dmesg and command line next to it): the analysis runs in its worker, the report
// reaches the output channel with the run's numbers. "SWIOTLB: Copy Capture Script" saves the
// script where the user picks.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { canvasInk, goToLine, openFile, outputText, panelFrame, runCommand, shot, showOutput, workbenchSuite } from './vscode.mjs';

const RUN = path.join('test', 'fixtures', 'kernel-6.1', 'b_small_pool_smp2');
let page;
let ws;

const test = workbenchSuite({
  tmpPrefix: 'swiotlb-trace-ws-',
  prepare(dir) {
    ws = dir;
    const cap = path.join(ws, 'capture');
    fs.mkdirSync(cap);
    fs.writeFileSync(path.join(cap, 'trace.txt'), gunzipSync(fs.readFileSync(path.join(RUN, 'trace.txt.gz'))));
    fs.writeFileSync(path.join(cap, 'dmesg.txt'), gunzipSync(fs.readFileSync(path.join(RUN, 'dmesg.txt.gz'))));
    fs.copyFileSync(path.join(RUN, 'cmdline.txt'), path.join(cap, 'cmdline.txt'));
  },
  ready(p) {
    page = p;
  },
});

test('analysing a real 6.1 trace: the report in the output channel, the panel', async () => {
  await openFile(page, 'trace.txt');
  await runCommand(page, 'SWIOTLB: Analyze Current File');
  // the analysis does not force the Output panel open: the user opens the channel
  await showOutput(page);
  const summary = page.locator('.part.panel .monaco-editor .view-lines', { hasText: 'SWIOTLB Lens: capture' });
  await summary.first().waitFor({ timeout: 120_000 });
  // the Output view wraps long lines anywhere: compare without white space
  const flat = (await outputText(page)).replace(/\s+/g, '');
  const want =
    'SWIOTLB Lens: capture/trace.txt: 3457 maps (3445 bounced, 12 failed); peak 512 of 512 slots; 6.1.192 predicted 3456/3457 placements, fits 6.1.192; 7 "buffer is full" in the log';
  assert.ok(flat.includes(want.replace(/\s+/g, '')), flat.slice(-600));
  await shot(page, '10-analyze-trace');
  // the panel: the same numbers, the chart, the failures and their trace lines
  const p = panelFrame(page);
  await p.locator('#title', { hasText: /^trace\.txt, [^,]+, [^,]+$/ }).waitFor({ timeout: 60_000 });
  assert.match(await p.locator('#sum-maps').innerText(), /3,457/);
  assert.match(await p.locator('#sum-failures').innerText(), /^Failures\s+12\s/);
  assert.match(await p.locator('#sum-check').innerText(), /3,456 of 3,457 placements as the kernel chose \(6\.1/);
  await p.locator('#chart[data-columns]').waitFor({ state: 'attached' });
  assert.equal(await p.locator('#chart').getAttribute('data-peak'), '512');
  assert.ok((await canvasInk(p.locator('#chart'))) > 20_000);
  await shot(page, '40-analyze-trace-panel');
  await p.locator('#filter-outcome').click();
  await p.locator('#filter-outcome vscode-option', { hasText: 'failed' }).first().click();
  await p.locator('#count', { hasText: /^\s*12 of [\d,]+ rows\s*$/ }).waitFor();
  await p.locator('.table-row').first().click();
  const source = await p.locator('#details dd', { hasText: /trace\.txt:\d+$/ }).innerText();
  const line = Number(/:(\d+)$/.exec(source)[1]);
  await p.locator('#go-to-source').click();
  await page.locator('.tab.active[data-resource-name="trace.txt"]').waitFor({ timeout: 30_000 });
  await page.locator('.statusbar-item', { hasText: new RegExp(`Ln ${line}, Col 1`) }).waitFor({ timeout: 30_000 });
  await shot(page, '41-analyze-trace-source');
});

test('explain a "buffer is full" line of the log, then find it in the panel', async () => {
  await openFile(page, 'dmesg.txt');
  await goToLine(page, 432);
  await runCommand(page, 'SWIOTLB: Explain Selected Log Line');
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'asked for a 65536 byte bounce buffer (32 slots)' });
  await toast.waitFor({ timeout: 30_000 });
  assert.match(await toast.innerText(), /32 slots were free \(93\.8 % in use\) but no run of 32 contiguous slots/);
  await shot(page, '42-explain-log-line');
  await toast.locator('.monaco-button', { hasText: 'Show in Panel' }).click();
  const p = panelFrame(page);
  await p.locator('#details', { hasText: 'dmesg.txt:432' }).waitFor({ timeout: 30_000 });
  await shot(page, '43-log-line-in-panel');
});

test('copy capture script: saved where the user picks', async () => {
  await runCommand(page, 'SWIOTLB: Copy Capture Script', { quickPick: true });
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Save As...' }).first().waitFor({ timeout: 30_000 });
  const input = page.locator('.quick-input-widget input');
  await input.fill('Save As');
  await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: 'Save As...' }).waitFor();
  await input.press('Enter');
  // the simple file dialog (files.simpleDialog.enable) offers the workspace folder: accept it
  await page.locator('.quick-input-widget', { hasText: 'Save the SWIOTLB capture script' }).waitFor({ timeout: 30_000 });
  await input.waitFor();
  await input.press('Enter');
  const dest = path.join(ws, 'swiotlb-capture.sh');
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: `Saved ${dest}` });
  await toast.waitFor({ timeout: 30_000 });
  const text = fs.readFileSync(dest, 'utf8');
  assert.match(text, /^#!\/bin\/sh\n# swiotlb-capture\.sh/);
  assert.equal(fs.statSync(dest).mode & 0o111, 0o111, 'executable');
  await shot(page, '11-capture-script-saved');
});
