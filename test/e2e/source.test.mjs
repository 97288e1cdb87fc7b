// Driver source in a real VS Code: analyse the example driver, read the verdict in the CodeLens
// above the call, the reasons and addresses in the hover, the pairing bug in Problems; change
// the platform; the annotated workload in the panel and back to its call; analyse the folder.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { answerDialog, canvasInk, goToLine, outputText, panelFrame, runCommand, shot, showOutput, workbenchSuite } from './vscode.mjs';

let page;

const test = workbenchSuite({
  tmpPrefix: 'swiotlb-src-',
  shotPrefix: 'source-',
  prepare(ws) {
    fs.cpSync(path.join('examples', 'source'), ws, { recursive: true });
  },
  ready(p) {
    page = p;
  },
});

/** Opens a file through the Explorer (Quick Open waits for the file search, slow on a busy machine). */
async function openFromExplorer(dir, name) {
  const tree = page.locator('.explorer-folders-view');
  await tree.waitFor({ timeout: 60_000 });
  const folder = tree.locator('.monaco-list-row', { hasText: dir }).first();
  await folder.waitFor({ timeout: 60_000 });
  if ((await folder.getAttribute('aria-expanded')) !== 'true') await folder.click();
  await tree.locator('.monaco-list-row', { hasText: name }).first().click();
  await page.locator(`.tab.active[data-resource-name="${name}"]`).first().waitFor({ timeout: 60_000 });
}

const lens = (text) => page.locator('.monaco-editor .codelens-decoration', { hasText: text }).first();

test('analyze the example driver: the verdict above the call', async () => {
  await openFromExplorer('swlnic', 'swlnic_main.c');
  await runCommand(page, 'SWIOTLB: Analyze DMA Calls in This File', { timeout: 120_000 });
  await goToLine(page, 38, 20);
  // the RX refill map: a 32-bit device, buffers anywhere in 16 GiB, 1024 in flight
  await lens('bounces above 4 GiB: beyond 32-bit dma_mask · 2 slots · peak pool').waitFor({ timeout: 120_000 });
  const text = await lens('bounces above 4 GiB').innerText();
  assert.match(text, /peak pool \d+ %/);
  // the firmware map is beyond the 256 KiB ceiling
  await goToLine(page, 106, 20);
  await lens('fails above 4 GiB: 300 KiB beyond the 256 KiB swiotlb ceiling').waitFor({ timeout: 30_000 });
  await shot(page, '20-source-codelens');
});

test('the hover gives every reason and the addresses', async () => {
  await goToLine(page, 38, 20);
  await runCommand(page, 'Show or Focus Hover');
  const hover = page.locator('.monaco-hover', { hasText: 'Reasons' }).first();
  await hover.waitFor({ timeout: 30_000 });
  const text = await hover.innerText();
  assert.match(text, /dma-mask/);
  assert.match(text, /the buffer is beyond the device's dma_mask/);
  assert.match(text, /above 4 GiB/);
  assert.match(text, /0x[0-9a-f]{9}/, 'a physical address above 4 GiB');
  assert.match(text, /DMA_BIT_MASK\(32\) at swlnic\/swlnic_main\.c:127/);
  await shot(page, '21-source-hover');
  await page.keyboard.press('Escape');
});

test('a pairing bug and a will-fail map in Problems', async () => {
  await runCommand(page, 'View: Focus Problems (Errors, Warnings, Infos)');
  const problems = page.locator('.markers-panel');
  await problems
    .locator('.monaco-list-row', { hasText: 'an unmap must use the direction of its map' })
    .first()
    .waitFor({ timeout: 30_000 });
  await problems.locator('.monaco-list-row', { hasText: 'beyond the 256 KiB swiotlb ceiling' }).first().waitFor({ timeout: 30_000 });
  await shot(page, '22-source-problems');
});

test('the annotated workload runs in the panel, its rows lead back to the call', async () => {
  const p = panelFrame(page);
  await p.locator('#title', { hasText: 'Driver source: swlnic_main.c' }).waitFor({ timeout: 60_000 });
  // the RX ring (depth 1024) and the TX maps run together through the model
  const maps = Number((await p.locator('#sum-maps .card-value').innerText()).replace(/,/g, ''));
  assert.ok(maps > 1000, `maps ${maps}`);
  await p.locator('#chart[data-columns]').waitFor({ state: 'attached' });
  assert.ok((await canvasInk(p.locator('#chart'))) > 0, 'the chart draws');
  await p.locator('.table-row').first().click();
  await p.locator('#details dd', { hasText: /swlnic_main\.c:(38|76)$/ }).waitFor({ timeout: 30_000 });
  const line = Number(/:(\d+)$/.exec(await p.locator('#details dd', { hasText: /swlnic_main\.c:\d+$/ }).innerText())[1]);
  await shot(page, '23-source-panel');
  await p.locator('#go-to-source').click();
  await page.locator('.tab.active[data-resource-name="swlnic_main.c"]').first().waitFor({ timeout: 30_000 });
  await page.locator('.statusbar-item', { hasText: new RegExp(`Ln ${line}, Col 1`) }).waitFor({ timeout: 30_000 });
});

test('choosing the platform changes the verdicts and the status bar item', async () => {
  await runCommand(page, 'SWIOTLB: Choose Platform...', { quickPick: true });
  const input = page.locator('.quick-input-widget input');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'AMD SEV' }).first().waitFor({ timeout: 30_000 });
  await input.fill('AMD SEV');
  await input.press('Enter');
  // the picker asks before it writes the workspace's settings
  await answerDialog(page, /Save it in the settings/, 'Only This Session');
  await page.locator('.statusbar-item', { hasText: 'sev-guest' }).waitFor({ timeout: 30_000 });
  // every streaming map bounces in an SEV guest, through a pool placed anywhere in its 16 GiB:
  // out of reach of this 32-bit device
  await goToLine(page, 38, 20);
  await lens('fails: bounce buffer beyond the device mask').waitFor({ timeout: 60_000 });
  await shot(page, '24-source-platform');
});

test('analyze the whole folder', async () => {
  await runCommand(page, 'SWIOTLB: Analyze DMA Calls in Folder...');
  // analyses do not force the Output panel open: the user opens the channel
  await showOutput(page);
  // the folder's report ends with both drivers' files parsed (the single file's said 1)
  let out = '';
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await page.waitForTimeout(500)) {
    out = (await outputText(page).catch(() => '')).replace(/\s+/g, ' ');
    if (/parsed 2 files/.test(out)) break;
  }
  assert.match(out, /parsed 2 files, 6\.\d KiB/);
  await shot(page, '25-source-folder');
  await runCommand(page, 'View: Focus Problems (Errors, Warnings, Infos)');
  const problems = page.locator('.markers-panel');
  await problems.locator('.monaco-list-row', { hasText: 'dma_unmap_sg is given count' }).first().waitFor({ timeout: 30_000 });
});
