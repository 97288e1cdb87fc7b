// Scenario files in a real VS Code: the schema validates while typing, "SWIOTLB: Analyze Scenario"
// reports the decisions, "Compare xen-swiotlb with Unified swiotlb" reports the divergence, and a
// bad scenario puts its problems in the Problems view.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openFile, outputText, runCommand, shot, showOutput, workbenchSuite } from './vscode.mjs';

let page;

const test = workbenchSuite({
  tmpPrefix: 'swiotlb-scen-',
  shotPrefix: 'scenario-',
  prepare(ws) {
    for (const f of ['xen-pv-dom0-straddle.swiotlb.json', 'xen-pv-boundary-compare.swiotlb.json'])
      fs.copyFileSync(path.join('examples', f), path.join(ws, f));
    fs.writeFileSync(
      path.join(ws, 'bad.swiotlb.json'),
      '{\n  "platform": "x86",\n  "kernel": "6.1",\n  "colour": "red",\n  "devices": [{ "name": "nic", "dma_mask": "0x1234" }],\n  "workload": []\n}\n',
    );
  },
  ready(p) {
    page = p;
  },
});

test('analyze a scenario: the straddle bounce after ballooning', async () => {
  await openFile(page, 'xen-pv-dom0-straddle.swiotlb.json');
  await runCommand(page, 'SWIOTLB: Analyze Scenario', { timeout: 120_000 });
  // analyses do not force the Output panel open: the user opens the channel
  await showOutput(page);
  await page.locator('.part.panel .view-lines', { hasText: 'bounced because' }).first().waitFor({ timeout: 120_000 });
  const out = await outputText(page);
  assert.match(out, /bounced because xen-straddle 1/);
  assert.match(out, /dma_map_single 0000:00:05\.0 1522 B DMA_FROM_DEVICE: bounced \[xen-straddle\]/);
  await shot(page, '10-scenario-analyze');
});

test('compare xen-swiotlb with the unified path', async () => {
  await openFile(page, 'xen-pv-boundary-compare.swiotlb.json');
  await runCommand(page, 'SWIOTLB: Compare xen-swiotlb with Unified swiotlb');
  await page.locator('.part.panel .view-lines', { hasText: 'segment-boundary-space' }).first().waitFor({ timeout: 60_000 });
  // long lines wrap in the output view
  const out = (await outputText(page)).replace(/\s+/g, ' ');
  assert.match(out, /cross the device's segment boundary in bus space, 0 of the unified path/);
  await shot(page, '11-scenario-compare');
});

test('a bad scenario: schema and model problems in the Problems view', async () => {
  await openFile(page, 'bad.swiotlb.json');
  await runCommand(page, 'SWIOTLB: Analyze Scenario');
  await runCommand(page, 'View: Focus Problems (Errors, Warnings, Infos)');
  const problems = page.locator('.markers-panel');
  await problems.locator('.monaco-list-row', { hasText: 'is not of the form 2^k-1' }).first().waitFor({ timeout: 30_000 });
  // the JSON language service validates against the contributed schema
  await problems
    .locator('.monaco-list-row', { hasText: /colour/ })
    .first()
    .waitFor({ timeout: 30_000 });
  await shot(page, '12-scenario-problems');
});
