// The compare view in a real VS Code: "Compare xen-swiotlb with Unified swiotlb" shows both paths
// side by side, call by call, with as many calls and divergences as the CLI's JSON has (counted
// here from that JSON), "Divergences only" filters, a row opens its scenario line; a window reload
// brings the view back as it was; the platform picker asks before it writes
// .vscode/settings.json, and its re-analyse offer still works.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { answerDialog, frameWith, openFile, runCommand, shot, workbenchSuite } from './vscode.mjs';

const FILE = 'xen-pv-boundary-compare.swiotlb.json';
let page;
let workspace;

const test = workbenchSuite({
  tmpPrefix: 'swiotlb-cmp-',
  shotPrefix: 'compare-',
  prepare(ws) {
    workspace = ws;
    fs.copyFileSync(path.join('examples', FILE), path.join(ws, FILE));
  },
  ready(p) {
    page = p;
  },
});

// the answer, from the CLI's JSON: the kernel path's calls, and the divergences by their causes
const json = JSON.parse(execFileSync(process.execPath, ['dist/cli.js', 'analyze', '--json', '--compare', path.join('examples', FILE)]));
const calls = json.calls.length;
const divergent = Object.values(json.comparison.byCause).reduce((a, b) => a + b, 0);
const firstDivergence = json.comparison.divergences[0];
const firstAgreeing = json.calls.findIndex((_, i) => !json.comparison.divergences.some((d) => d.index === i));

let view;

test('the compare view: both paths call by call, as many calls and divergences as the CLI finds', async () => {
  assert.ok(divergent > 0 && divergent < calls, 'the example has calls of both kinds');
  assert.equal(json.comparison.divergences.length, divergent, 'every divergence is listed in the JSON');
  await openFile(page, FILE);
  await runCommand(page, 'SWIOTLB: Compare xen-swiotlb with Unified swiotlb');
  view = await frameWith(page, '#compare-summary', { timeout: 120_000 });
  const sum = view.locator('#compare-summary');
  assert.equal(await sum.getAttribute('data-compared'), String(calls));
  assert.equal(await sum.getAttribute('data-divergent'), String(divergent));
  await view.locator(`#compare-table[data-filter="all"][data-total="${calls}"]`).waitFor({ timeout: 30_000 });
  assert.match(await view.locator('#compare-count').innerText(), new RegExp(`^${calls} calls, ${divergent} divergent`));
  // side by side: the first divergent call marked, with each path's own DMA address and slot
  const row = view.locator(`.compare-row[data-index="${firstDivergence.index}"]`);
  await row.waitFor({ timeout: 30_000 });
  assert.ok(await row.evaluate((e) => e.classList.contains('divergent')));
  const text = (await row.innerText()).replace(/\s+/g, ' ');
  const dma = (s) => /dma (0x[0-9a-f]+)/.exec(s)[1];
  const slot = (s) => /slot (\d+)/.exec(s)[1];
  assert.ok(text.includes(dma(firstDivergence.kernel)), text);
  assert.ok(text.includes(dma(firstDivergence.unified)), text);
  assert.match(text, new RegExp(`\\b${slot(firstDivergence.kernel)}\\+\\d+ .*\\b${slot(firstDivergence.unified)}\\+\\d+`));
  assert.equal(await row.locator('.cell.differs').count(), 4, 'dma address and slot differ on both sides');
  const agreeing = view.locator(`.compare-row[data-index="${firstAgreeing}"]`);
  await agreeing.waitFor({ timeout: 30_000 });
  assert.equal(await agreeing.evaluate((e) => e.classList.contains('divergent')), false);
  await shot(page, '60-compare-view');
});

test('"Divergences only" lists the divergent calls alone; a row opens its scenario line', async () => {
  await view.locator('#compare-divergent-only').click();
  await view.locator(`#compare-table[data-filter="divergent"][data-total="${divergent}"]`).waitFor({ timeout: 30_000 });
  assert.match(await view.locator('#compare-count').innerText(), new RegExp(`^${divergent} divergent calls of ${calls}`));
  await view.locator(`.compare-row[data-index="${firstDivergence.index}"]`).waitFor({ timeout: 30_000 });
  assert.equal(await view.locator('.compare-row[data-index]:not(.divergent)').count(), 0);
  assert.ok((await view.locator('.compare-row.divergent').count()) > 5);
  await shot(page, '61-compare-divergences-only');
  await view.locator(`.compare-row[data-index="${firstDivergence.index}"]`).click();
  await page.locator(`.tab.active[data-resource-name="${FILE}"]`).first().waitFor({ timeout: 30_000 });
  await page.locator('.statusbar-item', { hasText: new RegExp(`Ln ${firstDivergence.line}, Col 1`) }).waitFor({ timeout: 30_000 });
  const csp = await view.evaluate(() => window.__cspViolations);
  assert.deepEqual(csp, [], 'no CSP violation in the compare view');
});

test('after a window reload the compare view comes back: the same comparison, filter, scroll and selection', async () => {
  // scrolled into the divergences, one selected (the click opens its line too)
  const body = view.locator('#compare-table .table-body');
  await body.evaluate((b) => {
    b.scrollTop = 10 * 22 + 7;
  });
  await view.locator('.compare-row[aria-rowindex="11"][data-index]').waitFor({ state: 'attached', timeout: 30_000 });
  await view.locator('.compare-row[aria-rowindex="12"]').click();
  await view.locator('.compare-row.selected[aria-rowindex="12"]').waitFor({ state: 'attached' });
  const scrollTop = await body.evaluate((b) => b.scrollTop);
  assert.ok(scrollTop > 200, `scrolled to ${scrollTop}`);
  /** The rows in view: their call numbers, and which is selected. */
  const rowsOf = (v) =>
    v
      .locator('.compare-row[data-index]')
      .evaluateAll((rs) =>
        rs.map((r) => `${r.getAttribute('aria-rowindex')}:${r.dataset.index}${r.classList.contains('selected') ? '*' : ''}`),
      );
  const before = await rowsOf(view);
  assert.ok(
    before.some((r) => r.startsWith('12:') && r.endsWith('*')),
    before.join(' '),
  );
  await shot(page, '63-compare-before-reload');
  await runCommand(page, 'Developer: Reload Window');
  await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
  // VS Code revives the view; the extension compares the scenario again
  view = await frameWith(page, `#compare-table[data-filter="divergent"][data-total="${divergent}"]`, { timeout: 180_000 });
  assert.equal(await view.locator('#compare-summary').getAttribute('data-compared'), String(calls));
  assert.equal(await view.locator('#compare-divergent-only').evaluate((c) => c.checked), true, 'the filter is on');
  assert.match(await view.locator('#compare-count').innerText(), new RegExp(`^${divergent} divergent calls of ${calls}`));
  await view.locator('.compare-row.selected[aria-rowindex="12"][data-index]').waitFor({ state: 'attached', timeout: 30_000 });
  assert.equal(await view.locator('#compare-table .table-body').evaluate((b) => b.scrollTop), scrollTop, 'scrolled as before');
  assert.deepEqual(await rowsOf(view), before, 'the same rows in view, the same one selected');
  assert.equal(await view.locator('.compare-row[data-index]:not(.divergent)').count(), 0);
  await shot(page, '64-compare-after-reload');
});

async function choosePlatform(label) {
  await runCommand(page, 'SWIOTLB: Choose Platform...', { quickPick: true });
  const input = page.locator('.quick-input-widget input');
  await input.fill(label);
  await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: label }).waitFor({ timeout: 30_000 });
  await input.press('Enter');
}

test('the platform picker asks before writing .vscode/settings.json; the re-analyse offer still works', async () => {
  const settings = path.join(workspace, '.vscode', 'settings.json');
  assert.equal(fs.existsSync(settings), false);
  await choosePlatform('Xen PVH domain');
  // asked, nothing written yet
  await page.locator('.monaco-dialog-box', { hasText: /Save it in the settings/ }).waitFor({ timeout: 30_000 });
  assert.equal(fs.existsSync(settings), false);
  await shot(page, '62-compare-picker-asks');
  await answerDialog(page, /Save it in the settings/, 'Only This Session');
  await page.locator('.statusbar-item', { hasText: 'xen-pvh' }).waitFor({ timeout: 30_000 });
  assert.equal(fs.existsSync(settings), false, 'only this session: no settings file');
  // the analysis panel is the tab behind the compare view
  await runCommand(page, 'SWIOTLB: Open Panel');
  const panel = await frameWith(page, '#profile-offer');
  await panel.locator('#profile-offer', { hasText: 'platform xen-pvh' }).waitFor({ timeout: 30_000 });
  await panel.locator('#reanalyze-offer').click();
  await panel.locator('#badge-platform', { hasText: 'platform xen-pvh' }).waitFor({ timeout: 120_000 });
  // the open compare view follows the re-analysis: auto-translated, both paths are dma-direct
  await page.locator('.tab', { hasText: 'SWIOTLB Compare' }).first().click();
  view = await frameWith(page, '#compare-summary[data-divergent="0"]');
  assert.equal(await view.locator('#compare-summary').getAttribute('data-compared'), String(calls));
  // saved when the user says so
  await choosePlatform('Xen PV dom0');
  await answerDialog(page, /Save it in the settings/, 'Save in This Workspace');
  // VS Code may create the file before it writes the setting into it
  const saved = () => {
    try {
      return JSON.parse(fs.readFileSync(settings, 'utf8'))['swiotlbLens.platform'];
    } catch {
      return undefined;
    }
  };
  for (let i = 0; i < 300 && saved() !== 'xen-pv-dom0'; i++) await page.waitForTimeout(100);
  assert.equal(saved(), 'xen-pv-dom0', fs.existsSync(settings) ? fs.readFileSync(settings, 'utf8') : 'no settings file');
  await page.locator('.statusbar-item', { hasText: 'xen-pv-dom0' }).waitFor({ timeout: 30_000 });
});
