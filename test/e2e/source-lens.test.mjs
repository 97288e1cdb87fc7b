// A driver's CodeLens, clicked: its explanation opens as the rendered hover at the call (the
// Markdown table read as a table), not as raw Markdown in the Output channel (issue 14).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { goToLine, outputText, runCommand, shot, showOutput, workbenchSuite } from './vscode.mjs';

let page;

const test = workbenchSuite({
  tmpPrefix: 'swiotlb-lens-',
  shotPrefix: 'source-lens-',
  prepare(ws) {
    fs.cpSync(path.join('examples', 'source'), ws, { recursive: true });
  },
  ready(p) {
    page = p;
  },
});

test('clicking a CodeLens opens its explanation as a hover at the call', async () => {
  const tree = page.locator('.explorer-folders-view');
  await tree.waitFor({ timeout: 60_000 });
  const folder = tree.locator('.monaco-list-row', { hasText: 'swlnic' }).first();
  await folder.waitFor({ timeout: 60_000 });
  if ((await folder.getAttribute('aria-expanded')) !== 'true') await folder.click();
  await tree.locator('.monaco-list-row', { hasText: 'swlnic_main.c' }).first().click();
  await page.locator('.tab.active[data-resource-name="swlnic_main.c"]').first().waitFor({ timeout: 60_000 });
  await runCommand(page, 'SWIOTLB: Analyze DMA Calls in This File', { timeout: 120_000 });
  // the firmware map, beyond the 256 KiB ceiling
  await goToLine(page, 106, 20);
  const lens = page.locator('.monaco-editor .codelens-decoration a', { hasText: 'fails above 4 GiB: 300 KiB beyond' }).first();
  await lens.waitFor({ timeout: 120_000 });
  await lens.click();
  const hover = page.locator('.monaco-hover', { hasText: 'Reasons' }).first();
  await hover.waitFor({ timeout: 30_000 });
  const text = await hover.innerText();
  assert.match(text, /300 KiB/);
  // rendered: the table's cells, no Markdown markup
  assert.ok(await hover.locator('table').count(), 'the hover renders the table');
  assert.doesNotMatch(text, /\|---|\*\*/);
  // the cursor is on the call that was explained
  await page.locator('.statusbar-item', { hasText: /Ln 106, Col \d+/ }).waitFor({ timeout: 30_000 });
  await shot(page, '26-source-lens-hover');
  // and the Output channel got no raw Markdown table
  await showOutput(page);
  const out = await outputText(page);
  assert.doesNotMatch(out, /\|---/);
});
