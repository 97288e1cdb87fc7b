// Replays in a real VS Code: install the .vsix, run "SWIOTLB: Replay Ops File..." on a real 6.1
// kernel run, read the output channel and the panel's summary, follow a failure to its line,
// render a hostile device name as text, and report a malformed file with its line.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openFile, outputText, panelFrame, pickOption, runCommand, shot, showOutput, workbenchSuite } from './vscode.mjs';

const HOSTILE = '<img src=x onerror=alert(1)>';
let page;
const dialogs = [];

const test = workbenchSuite({
  tmpPrefix: 'swiotlb-ws-',
  prepare(ws) {
    fs.copyFileSync('examples/kernel-6.1-small-pool.jsonl', path.join(ws, 'kernel-6.1-small-pool.jsonl'));
    fs.writeFileSync(
      path.join(ws, 'hostile.jsonl'),
      [
        '{"op":"init","nslabs":256,"nareas":1,"pool_base":"0x80000000","kernel":"6.1"}',
        JSON.stringify({ op: 'map', id: 1, cpu: 0, orig: '0x100000000', size: 200000, dev: HOSTILE }),
        JSON.stringify({ op: 'map', id: 2, cpu: 0, orig: '0x100040000', size: 200000, dev: HOSTILE }),
        '{"op":"unmap","id":1}',
      ].join('\n'),
    );
    fs.writeFileSync(path.join(ws, 'broken.jsonl'), '{"op":"init","nslabs":256,"nareas":1,"pool_base":"0x80000000"}\n{"op":"map",\n');
  },
  ready(p) {
    page = p;
    p.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  },
});

test('replaying a real 6.1 run: output channel and panel summary', async () => {
  await openFile(page, 'kernel-6.1-small-pool.jsonl');
  await runCommand(page, 'SWIOTLB: Replay Ops File...');
  const panel = panelFrame(page);
  // the first command also activates the extension and starts the webview service worker
  await panel.locator('#title', { hasText: 'Replay: kernel-6.1-small-pool.jsonl' }).waitFor({ timeout: 120_000 });
  assert.match(await panel.locator('#sum-check').innerText(), /3,456 of 3,457 placements as the kernel chose/);
  assert.match(await panel.locator('#sum-failures').innerText(), /12\s+11 fragmented · 1 pool-full/);
  assert.match(await panel.locator('#sum-peak').innerText(), /100\.0 %\s+512 of 512 slots/);
  assert.match(await panel.locator('#sum-maps').innerText(), /3,457/);
  // analyses do not force the Output panel open: the user opens the channel
  await showOutput(page);
  const out = await outputText(page);
  assert.match(out, /kernel agreement 3456\/3457 placements/);
  assert.match(out, /line 539: map id 270: race: index 40, expected 264/);
  await shot(page, '01-replay-panel');
});

test('a failure row opens the ops file at its line', async () => {
  const panel = panelFrame(page);
  await pickOption(panel, '#filter-outcome', 'failed');
  await panel.locator('#count', { hasText: '12 of 6,902 rows' }).waitFor({ timeout: 30_000 });
  // the model tells the causes apart: most of these "buffer is full" were fragmentation
  await panel.locator('.table-row', { hasText: 'fragmented' }).first().click();
  await panel.locator('#details', { hasText: 'swiotlb buffer is full (sz: 200704 bytes), total 512 (slots), used 280 (slots)' }).waitFor();
  await panel.locator('#go-to-source').click();
  await page.locator('.statusbar-item', { hasText: /Ln 641, Col 1/ }).waitFor({ timeout: 30_000 });
  await shot(page, '02-failure-line');
});

test('a hostile device name is shown as text, never as markup', async () => {
  await openFile(page, 'hostile.jsonl');
  await runCommand(page, 'SWIOTLB: Replay Ops File...');
  const panel = panelFrame(page);
  await panel.locator('#title', { hasText: 'Replay: hostile.jsonl' }).waitFor({ timeout: 60_000 });
  const cell = panel.locator('.table-row .cell', { hasText: HOSTILE }).first();
  await cell.waitFor();
  assert.equal(await cell.innerText(), HOSTILE);
  await panel.locator('#tab-devices').click();
  const dev = panel.locator('#devices vscode-data-grid-cell', { hasText: HOSTILE }).first();
  await dev.waitFor();
  assert.equal((await dev.innerText()).trim(), HOSTILE);
  await panel.locator('#slot-legend', { hasText: HOSTILE }).waitFor();
  assert.equal(await panel.locator('img').count(), 0);
  assert.deepEqual(dialogs, []);
  await shot(page, '03-hostile-name');
  await panel.locator('#tab-calls').click();
});

test('a malformed file is reported with its line', async () => {
  await openFile(page, 'broken.jsonl');
  await runCommand(page, 'SWIOTLB: Replay Ops File...');
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'broken.jsonl:2: not valid JSON' });
  await toast.waitFor({ timeout: 30_000 });
  await shot(page, '04-malformed');
  await toast.locator('.monaco-button', { hasText: 'Go to Line' }).click();
  await page.locator('.statusbar-item', { hasText: /Ln 2, Col 1/ }).waitFor({ timeout: 30_000 });
});
