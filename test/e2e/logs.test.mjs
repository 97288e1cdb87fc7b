// Kernel logs in the panel, as a user reads them in a real VS Code: a log alone gets its own
// dashboard (failures by cause, the pool its lines give, devices, where the kernel profile came
// from, conclusions), a lane of its messages and a table with every explanation inline; "Explain
// Selected Log Line" reads the line's neighbourhood and leaves a hover and a pinned view; a
// counter-clock trace and its dmesg keep their own clocks; the profile pickers offer a re-analysis.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { answerDialog, canvasInk, goToLine, openFile, panelFrame, pickFile, runCommand, shot, workbenchSuite } from './vscode.mjs';

const LOGS = path.join('test', 'fixtures', 'logs-real');
const RUN = path.join('test', 'fixtures', 'kernel-6.1', 'b_small_pool_smp2');
// a failure, dma-direct's overflow line for the same map (beyond the bus limit, within the mask),
// its WARN block, then another device's failure: the case
const CONTEXT_LOG = `[    8.170000] usb 1-1: new high-speed USB device number 2 using xhci_hcd
[    8.180000] xhci_hcd 0000:01:00.0: swiotlb buffer is full (sz: 536576 bytes), total 32768 (slots), used 0 (slots)
[    8.180010] xhci_hcd 0000:01:00.0: overflow 0x0000000412345000+536576 of DMA mask 7ffffffff bus mask 3fffffff
[    8.180020] ------------[ cut here ]------------
[    8.180030] WARNING: CPU: 0 PID: 1 at kernel/dma/direct.c:34 report_addr+0x40/0x60
[    8.180040] CPU: 0 PID: 1 Comm: swapper Not tainted 6.1.55 #1
[    8.180050] ---[ end trace 0000000000000000 ]---
[    9.000000] nvme 0000:02:00.0: swiotlb buffer is full (sz: 4096 bytes), total 32768 (slots), used 32768 (slots)
`;
let page;
let bounces = 0;
let ws;
/** CSP violations reported by any frame (the workbench's own and the webviews'). */
const csp = [];

const test = workbenchSuite({
  tmpPrefix: 'swiotlb-logs-',
  shotPrefix: 'logs-',
  prepare(dir) {
    ws = dir;
    fs.copyFileSync(path.join(LOGS, '05-rpi4490-xhci-pool-exhausted.log'), path.join(ws, 'pool-exhausted.log'));
    fs.writeFileSync(path.join(ws, 'context.log'), CONTEXT_LOG);
    const cap = path.join(ws, 'capture');
    fs.mkdirSync(cap);
    fs.writeFileSync(path.join(cap, 'trace.txt'), gunzipSync(fs.readFileSync(path.join(RUN, 'trace.txt.gz'))));
    fs.writeFileSync(path.join(cap, 'dmesg.txt'), gunzipSync(fs.readFileSync(path.join(RUN, 'dmesg.txt.gz'))));
    // the same run as only swiotlb_bounced events, one with the error sentinel as dev_addr
    const bo = path.join(ws, 'bounced-only');
    fs.mkdirSync(bo);
    const lines = gunzipSync(fs.readFileSync(path.join(RUN, 'trace.txt.gz')))
      .toString('utf8')
      .split('\n')
      .filter((l) => l.startsWith('#') || l.includes('swiotlb_bounced:'));
    const k = lines.findIndex((l) => l.includes('swiotlb_bounced:'));
    lines.splice(k + 1, 0, lines[k].replace(/dev_addr=[0-9a-f]+/, 'dev_addr=ffffffffffffffff'));
    bounces = lines.filter((l) => l.includes('swiotlb_bounced:')).length;
    fs.writeFileSync(path.join(bo, 'bounced.txt'), `${lines.join('\n')}\n`);
  },
  ready(p) {
    page = p;
    p.on('console', (m) => {
      if (/Content Security Policy|Content-Security-Policy|inline style/i.test(m.text())) csp.push(m.text());
    });
  },
});

const toastWith = (text) => page.locator('.notifications-toasts .notification-toast', { hasText: text });

async function closeToasts() {
  for (const t of await page.locator('.notifications-toasts .notification-toast .codicon-notifications-clear').all())
    await t.click().catch(() => {});
}

test('a kernel log alone: failures by cause, the pool from its lines, the kernel assumed, messages explained inline', async () => {
  await openFile(page, 'pool-exhausted.log');
  await runCommand(page, 'SWIOTLB: Analyze Current File');
  const p = panelFrame(page);
  await p.locator('#title', { hasText: 'pool-exhausted.log' }).waitFor({ timeout: 60_000 });
  const failures = await p.locator('#sum-log-failures').innerText();
  assert.match(failures, /^Failures\s+1\s/);
  assert.match(failures, /1 exhausted/);
  const pool = await p.locator('#sum-log-pool').innerText();
  assert.match(pool, /32,768 slots/);
  assert.match(pool, /total 32768 \(slots\)/);
  assert.match(await p.locator('#sum-log-devices').innerText(), /xhci_hcd 0000:01:00\.0/);
  assert.match(await p.locator('#badge-kernel').innerText(), /kernel 6\.1 \(assumed\)/);
  assert.doesNotMatch(await p.locator('#badges').innerText(), /not given/);
  assert.equal(await p.locator('#chart-section').isVisible(), false, 'no empty occupancy chart for a log');
  assert.equal(await p.locator('#log-lane .lane-mark').count(), 1);
  const row = p.locator('#log-table .log-row').first();
  assert.match(await row.innerText(), /32768 of 32768 slots \(100 %\) were in use/);
  assert.match(await row.locator('td.dev').innerText(), /^xhci_hcd 0000:01:00\.0$/);
  await row.click();
  await p.locator('#details', { hasText: 'pool-exhausted.log:1' }).waitFor();
  await shot(page, '50-log-dashboard');
  // the strict CSP and the toolkit agree: no inline style refused in the panel
  assert.deepEqual(await p.locator('body').evaluate(() => window.__cspViolations), []);
});

test('explain a line with its context: the WARN and the overflow belong to the failure before them', async () => {
  await openFile(page, 'context.log');
  await runCommand(page, 'SWIOTLB: Analyze Current File');
  const p = panelFrame(page);
  await p.locator('#title', { hasText: 'context.log' }).waitFor({ timeout: 60_000 });
  // the log beside the panel's analysis (it opens in the panel's group: the panel goes behind it)
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'context.log' }).first().dblclick();
  await page.locator('.tab.active[data-resource-name="context.log"]').first().waitFor({ timeout: 30_000 });
  // the WARNING line: explained as part of xhci_hcd's failure, not the next device's line
  await goToLine(page, 5);
  await runCommand(page, 'SWIOTLB: Explain Selected Log Line');
  const warn = toastWith('a WARN at kernel/dma/direct.c:34');
  await warn.waitFor({ timeout: 30_000 });
  assert.match(await warn.innerText(), /xhci_hcd 0000:01:00\.0's failed map/);
  assert.doesNotMatch(await warn.innerText(), /nvme/);
  await closeToasts();
  // the overflow line after the failure: the bus limit, within the mask, not "no pool"
  await goToLine(page, 3);
  await runCommand(page, 'SWIOTLB: Explain Selected Log Line');
  const over = toastWith('beyond its bus limit 0x3fffffff');
  await over.waitFor({ timeout: 30_000 });
  const text = await over.innerText();
  assert.match(text, /within the DMA mask 0x7ffffffff/);
  assert.doesNotMatch(text, /no swiotlb pool/);
  // the hover on the line keeps the explanation
  await page.locator('.monaco-editor .view-line', { hasText: 'overflow 0x0000000412345000' }).first().hover();
  await page.locator('.monaco-hover', { hasText: 'same event: lines 2, 3, 4, 5, 6, 7' }).first().waitFor({ timeout: 30_000 });
  await shot(page, '51-explain-hover');
  // Show in Panel: the row selected, the explanation pinned, the log not opened a second time
  await over.locator('.monaco-button', { hasText: 'Show in Panel' }).click();
  const p2 = panelFrame(page);
  await p2.locator('#log-table .log-row.selected[data-line="3"]').waitFor({ timeout: 30_000 });
  const pinned = await p2.locator('#pinned').innerText();
  assert.match(pinned, /context\.log:3/);
  assert.match(pinned, /Same event: lines 2, 3, 4, 5, 6, 7/);
  assert.equal(await page.locator('.tab[data-resource-name="context.log"]').count(), 1);
  await shot(page, '52-explain-pinned');
});

test('a counter-clock trace and its dmesg keep their clocks; version lines stay out of the table', async () => {
  await closeToasts();
  await openFile(page, 'trace.txt');
  await runCommand(page, 'SWIOTLB: Analyze Current File');
  const p = panelFrame(page);
  await p.locator('#title', { hasText: 'trace.txt' }).waitFor({ timeout: 120_000 });
  await p.locator('#clock-note', { hasText: 'counter clock' }).waitFor({ timeout: 30_000 });
  await p.locator('#chart[data-columns]').waitFor({ state: 'attached' });
  // the first rows of the table are the trace's, not the dmesg's "Linux version" and command line
  const first = await p.locator('.table-row').first().innerText();
  assert.doesNotMatch(first, /Linux version|Command line/);
  // a log row keeps its seconds and does not move the trace's cursor
  await p.locator('#search').locator('input').fill('buffer is full');
  await p.locator('#count', { hasText: /^\s*\d+ of [\d,]+ rows\s*$/ }).waitFor({ timeout: 30_000 });
  const logRow = p.locator('.table-row', { hasText: 's (log)' }).first();
  await logRow.waitFor({ state: 'attached', timeout: 30_000 });
  await logRow.scrollIntoViewIfNeeded();
  assert.match(await logRow.innerText(), /\d+\.\d{3} s \(log\)/);
  const before = await p.locator('#chart').getAttribute('data-cursor');
  await logRow.click();
  await p.locator('#details .explanation').waitFor();
  assert.equal(await p.locator('#chart').getAttribute('data-cursor'), before);
  assert.match(await p.locator('#details').innerText(), /cannot be aligned/);
  assert.match(await p.locator('#details').innerText(), /\d+\.\d{6} s since boot \(log clock\)/);
  await shot(page, '53-two-clocks');
  // the chart as SVG (vector shapes, units) and PNG (the pixels shown)
  for (const format of ['svg', 'png']) {
    await p.locator(`#export-${format}`).click();
    const target = path.join(ws, `chart.${format}`);
    await pickFile(page, target);
    for (let i = 0; i < 100 && !fs.existsSync(target); i++) await new Promise((r) => setTimeout(r, 100));
    await page
      .locator('.notifications-toasts .notification-toast', { hasText: `chart exported to chart.${format}` })
      .waitFor({ timeout: 30_000 });
    const bytes = fs.readFileSync(target);
    if (format === 'svg') {
      const svg = bytes.toString('utf8');
      assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      assert.match(svg, /<path d="M[\d.]+,[\d.]+L/);
      assert.match(svg, /event counter \(trace_clock=counter/);
      assert.match(svg, /<title>SWIOTLB Lens: trace\.txt/);
    } else {
      assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      assert.ok(bytes.length > 5000);
    }
  }
});

test('choosing a platform: the panel offers to re-analyse, and then says what it used', async () => {
  await runCommand(page, 'SWIOTLB: Choose Platform...', { quickPick: true });
  const input = page.locator('.quick-input-widget input');
  await input.fill('Xen PV dom0');
  await page.locator('.quick-input-list .monaco-list-row.focused').waitFor();
  await input.press('Enter');
  // the picker asks before it writes the workspace's settings
  await answerDialog(page, /Save it in the settings/, 'Only This Session');
  const p = panelFrame(page);
  await p.locator('#profile-offer', { hasText: 'platform xen-pv-dom0' }).waitFor({ timeout: 30_000 });
  await shot(page, '54-profile-offer');
  await p.locator('#reanalyze-offer').click();
  await p.locator('#badge-platform', { hasText: 'platform xen-pv-dom0' }).waitFor({ timeout: 120_000 });
  await p.locator('#profile-offer').waitFor({ state: 'hidden' });
});

test('a trace of swiotlb_bounced events only: its bounces charted, what it cannot show said up front', async () => {
  await closeToasts();
  await openFile(page, 'bounced.txt');
  await runCommand(page, 'SWIOTLB: Analyze Current File');
  const p = panelFrame(page);
  await p.locator('#title', { hasText: 'bounced.txt' }).waitFor({ timeout: 120_000 });
  await p.locator('#bounced-only', { hasText: 'cannot show where in the pool' }).waitFor({ timeout: 30_000 });
  const card = await p.locator('#sum-bounces').innerText();
  assert.match(card, new RegExp(`^Bounces\\s+${bounces.toLocaleString('en-US')}\\s`));
  assert.match(card, /forced/);
  assert.match(await p.locator('#sum-bounce-errors').innerText(), /^dev_addr = DMA_MAPPING_ERROR\s+1\s/);
  await p.locator('#chart[data-columns]').waitFor({ state: 'attached' });
  assert.ok((await canvasInk(p.locator('#chart'))) > 5_000, 'the bounces are drawn');
  await p.locator('#chart-legend', { hasText: 'swiotlb_bounced events per column' }).waitFor();
  await shot(page, '55-bounced-only');
  assert.deepEqual(csp, [], 'no CSP violation in any panel opened by these tests');
});

/** Hides the bottom panel (the Output view each analysis opens) so the screenshot shows the panel. */
async function hideBottomPanel() {
  for (let i = 0; i < 3 && (await page.locator('.part.panel').isVisible()); i++) {
    await page.keyboard.press('Control+J');
    await page.waitForTimeout(500);
  }
}

test('screenshots of the main views at 1600x1000 and in a 900 px panel (README)', async () => {
  await closeToasts();
  await page.setViewportSize({ width: 1600, height: 1000 });
  const p = panelFrame(page);
  for (const [file, title, name] of [
    ['trace.txt', 'trace.txt', 'readme-trace-and-log-1600'],
    ['context.log', 'context.log', 'readme-kernel-log-1600'],
  ]) {
    // by Quick Open: the explorer may show the file's folder collapsed
    await openFile(page, file);
    await runCommand(page, 'SWIOTLB: Analyze Current File');
    await p.locator('#title', { hasText: title }).waitFor({ timeout: 120_000 });
    await hideBottomPanel();
    // the rows of the table on show (the other tab's rows are in the page too, hidden)
    await p.locator('.table-row:visible, .log-row:visible').nth(2).click();
    await page.waitForTimeout(1500);
    await shot(page, name);
  }
  // the panel alone in a 900 px wide window area: no side bar, no bottom panel, one editor group
  // the focus out of the webview (it keeps the keys it gets), then the layout commands
  await page.locator('.tab[data-resource-name="pool-exhausted.log"]').first().click();
  await page.keyboard.press('Control+B');
  await page.locator('.part.sidebar').waitFor({ state: 'hidden', timeout: 10_000 });
  await runCommand(page, 'View: Join All Editor Groups');
  await page.locator('.tab', { hasText: 'SWIOTLB: context.log' }).first().click();
  await page.setViewportSize({ width: 948, height: 1000 });
  await hideBottomPanel();
  await p.locator('#title', { hasText: 'context.log' }).waitFor({ timeout: 30_000 });
  const width = await p.locator('body').evaluate(() => document.documentElement.clientWidth);
  assert.ok(width > 820 && width < 960, `panel ${width} px wide`);
  await p.locator('#log-table .log-row').nth(2).click();
  await page.waitForTimeout(1000);
  await shot(page, 'readme-kernel-log-900');
  await page.locator('.tab[data-resource-name="trace.txt"]').first().click();
  await runCommand(page, 'SWIOTLB: Analyze Current File');
  await page.locator('.tab', { hasText: 'SWIOTLB: trace.txt' }).first().click();
  await p.locator('#title', { hasText: 'trace.txt' }).waitFor({ timeout: 120_000 });
  await hideBottomPanel();
  await p.locator('.table-row').nth(3).click();
  await page.waitForTimeout(1500);
  await shot(page, 'readme-trace-900');
  await page.setViewportSize({ width: 1600, height: 1200 });
});
