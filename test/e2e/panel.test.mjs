// The analysis panel as a user drives it in a real VS Code: open it from the palette, analyse a
// real 6.1 kernel run, read the summary, see the chart draw, filter and search the table, click a
// row and watch the cursor and slot map follow, pick a time range on the chart, click the slot
// map, export, use the side view and the status bar, keep the state over hide/show and reload,
// "Open With...", themes. Behaviour only: the times the extension logs (activation, first chart,
// frames) are measured by the benchmarks (npm run bench:vscode, bench:panel), never judged here.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  answerDialog,
  canvasInk,
  openFile,
  outputMatch,
  outputMatches,
  panelFrame,
  pickFile,
  pickOption,
  runCommand,
  shot,
  workbenchSuite,
} from './vscode.mjs';

let page;
let ws;

const test = workbenchSuite({
  tmpPrefix: 'swiotlb-panel-',
  shotPrefix: 'panel-',
  prepare(dir) {
    ws = dir;
    fs.copyFileSync('examples/kernel-6.1-small-pool.jsonl', path.join(ws, 'small-pool.jsonl'));
    fs.copyFileSync('test/fixtures/kernel-6.1/a_force_smp2.ops.jsonl.gz', path.join(ws, 'a_force_smp2.ops.jsonl.gz'));
    fs.writeFileSync(path.join(ws, 'notes.txt'), 'scratch\n');
  },
  ready(p) {
    page = p;
  },
});

const FRAMES = /chart frames while zooming\/panning "Replay: small-pool.jsonl" \([\d,]+ rows\): (\d+) frames/;

/** The panel's webview (not a side view, not an editor opened with "Open With..."). */
const panel = () => panelFrame(page);

test('the panel opens from the palette and offers a way in', async () => {
  await runCommand(page, 'SWIOTLB: Open Panel', { timeout: 120_000 });
  const p = panel();
  await p.locator('#empty').waitFor({ timeout: 120_000 });
  await p.locator('vscode-button', { hasText: 'Analyze Trace or Log File...' }).waitFor();
  // how to get a trace: the capture script, one click away
  await p.locator('#how-to-trace #copy-capture', { hasText: 'Copy Capture Script' }).waitFor();
  await shot(page, '20-panel-empty');
  // the extension's output channel, where it logs its activation
  await runCommand(page, 'Output: Show Output Channels...', { quickPick: true });
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'SWIOTLB Lens' }).first().click();
  await outputMatch(page, /SWIOTLB Lens activated in [\d.]+ ms/);
});

test('the largest real fixture: summary, model check and first chart', async () => {
  await runCommand(page, 'SWIOTLB: Analyze Trace or Log File...', { quickPick: true });
  await pickFile(page, path.join(ws, 'a_force_smp2.ops.jsonl.gz'));
  const p = panel();
  await p.locator('#title', { hasText: 'Replay: a_force_smp2.ops.jsonl.gz' }).waitFor({ timeout: 60_000 });
  await p.locator('#chart[data-columns]').waitFor({ state: 'attached', timeout: 30_000 });
  assert.match(await p.locator('#sum-check').innerText(), /4,690 of 4,690 placements/);
  assert.match(await p.locator('#sum-bounced').innerText(), /100\.0 %/);
  // the webview told the host it has drawn (the host logs when, for bench:vscode)
  await outputMatch(page, /first chart of "Replay: a_force_smp2\.ops\.jsonl\.gz" \(9,380 rows\) drawn/);
  await shot(page, '21-panel-a-force');
});

test('a real 6.1 run with failures: summary, chart, slot map', async () => {
  await openFile(page, 'small-pool.jsonl');
  await runCommand(page, 'SWIOTLB: Analyze Current File');
  const p = panel();
  await p.locator('#title', { hasText: 'Replay: small-pool.jsonl' }).waitFor({ timeout: 60_000 });
  await p.locator('#count', { hasText: '6,902 rows' }).waitFor();
  const chart = p.locator('#chart');
  await p.locator('#chart[data-columns]').waitFor({ state: 'attached' });
  assert.ok(Number(await chart.getAttribute('data-columns')) > 100, 'the occupancy series covers the chart');
  assert.equal(await chart.getAttribute('data-peak'), '512');
  assert.ok((await canvasInk(chart)) > 20_000, 'the chart has drawn');
  // the slot map opens at the peak: the whole pool in use
  await p.locator('#slot-header', { hasText: /512 of 512 used/ }).waitFor();
  // 512 slots of at least 4x4 pixels each, all in use
  assert.ok((await canvasInk(p.locator('.slotmap-canvas'))) > 512 * 9, 'the slot map has drawn');
  await outputMatch(page, /first chart of "Replay: small-pool\.jsonl" \(6,902 rows\) drawn/);
  await shot(page, '22-panel-small-pool');
});

test('filter and search the table', async () => {
  const p = panel();
  await pickOption(p, '#filter-device', '0000:00:04.0');
  await p.locator('#count', { hasText: 'of 6,902 rows' }).waitFor();
  const byDevice = await p.locator('#count').innerText();
  await pickOption(p, '#filter-outcome', 'failed');
  await p.locator('#count', { hasText: '2 of 6,902 rows' }).waitFor();
  await p.locator('#clear-filters').click();
  await p.locator('#count', { hasText: /^\s*6,902 rows\s*$/ }).waitFor();
  await p.locator('#search input').fill('fragmented');
  await p.locator('#count', { hasText: '11 of 6,902 rows' }).waitFor();
  await shot(page, '23-panel-search');
  await p.locator('#clear-filters').click();
  await p.locator('#count', { hasText: /^\s*6,902 rows\s*$/ }).waitFor();
  assert.match(byDevice, /^[\d,]+ of 6,902 rows$/);
});

/** Where slot `slot` is drawn in the slot map at its cell level (the layout the map publishes, slotmapLayout.ts). */
async function slotPoint(p, slot) {
  const scroller = p.locator('#slotmap');
  await scroller.scrollIntoViewIfNeeded();
  const geo = await scroller.evaluate((el) => ({ top: el.scrollTop, ...el.dataset }));
  const x = (c) => Number(geo.labelW) + Math.round((c * Number(geo.gridW)) / Number(geo.perRow));
  const rowH = Number(geo.rowH);
  const box = await scroller.boundingBox();
  const c = slot % 128;
  return { x: box.x + 1 + (x(c) + x(c + 1)) / 2, y: box.y + 1 + Math.floor(slot / 128) * rowH - geo.top + rowH / 2 - 1 };
}

test('the slot map at the peak: hover tells the owner, a click selects its mapping', async () => {
  const p = panel();
  // nothing selected yet: the map still shows the peak, every slot in use
  await p.locator('#slot-header', { hasText: /512 of 512 used/ }).waitFor();
  const at = await slotPoint(p, 0);
  await page.mouse.move(at.x, at.y);
  const tip = p.locator('.tooltip', { hasText: /^slot 0 \(area 0, segment 0\): row \d+, 0000:00:0[34]\.0, mapped at #\d+$/ });
  await tip.waitFor();
  const owner = Number(/row (\d+)/.exec(await tip.innerText())[1]);
  await page.mouse.click(at.x, at.y);
  await p.locator('#details h2', { hasText: `Row ${owner.toLocaleString('en-US')}: ` }).waitFor();
  assert.match(await p.locator('#details').innerText(), /→ bounced[\s\S]*Slots\s*0 …/);
  await shot(page, '24-panel-slot-click');
});

test('a row moves the cursor and the slot map', async () => {
  const p = panel();
  await pickOption(p, '#filter-outcome', 'bounced');
  await p.locator('#count', { hasText: 'of 6,902 rows' }).waitFor();
  // the selection kept from the slot map test is scrolled to once the new query is located:
  // let that happen first, or it scrolls the table away from the top afterwards
  await p
    .locator('.table-row.selected')
    .waitFor({ timeout: 5_000 })
    .catch(() => {});
  // from the top: rows rendered ahead of the scroll position would move away when clicked
  await p.locator('.table-body').evaluate((el) => {
    el.scrollTop = 0;
  });
  await p.locator('.table-row[aria-rowindex="2"]').waitFor();
  const row = p.locator('.table-row').nth(3);
  const index = Number((await row.locator('.cell').first().innerText()).trim());
  await row.click();
  const heading = `Row ${index.toLocaleString('en-US')}:`;
  await p.locator('#details h2', { hasText: heading }).waitFor();
  await p.locator('#slot-header', { hasText: `after row ${index.toLocaleString('en-US')})` }).waitFor();
  // no clock in an ops file: the time axis is the event order
  assert.equal(await p.locator('#chart').getAttribute('data-cursor'), String(index));
  // its slots are the ones it owns in the map
  const slot = Number(/Slots\s*(\d+) …/.exec(await p.locator('#details').innerText())[1]);
  const at = await slotPoint(p, slot);
  await page.mouse.move(at.x, at.y);
  await p
    .locator('.tooltip', { hasText: `slot ${slot} ` })
    .filter({ hasText: `row ${index},` })
    .waitFor();
  await shot(page, '25-panel-row-selected');
  // keyboard: the next row
  await p.locator('.table-body').press('ArrowDown');
  await p.locator('#details h2', { hasText: heading }).waitFor({ state: 'detached' });
});

test('clicking the chart moves the slot map to that moment and selects the row there', async () => {
  const p = panel();
  await p.locator('#clear-filters').click();
  await p.locator('#count', { hasText: /^\s*6,902 rows\s*$/ }).waitFor();
  await p.locator('#chart').scrollIntoViewIfNeeded();
  const box = await p.locator('#chart').boundingBox();
  await page.mouse.click(box.x + box.width * 0.4, box.y + box.height * 0.5);
  // the cursor lands about 40 % into the run (the plot starts after the axis labels)
  const cursor = Number(await p.locator('#chart').getAttribute('data-cursor'));
  assert.ok(cursor > 0.3 * 6902 && cursor < 0.45 * 6902, `cursor at ${cursor}`);
  await p.locator('#slot-header', { hasText: `Slots at #${Math.round(cursor)} ` }).waitFor();
  const header = await p.locator('#slot-header').innerText();
  const at = Number(/after row ([\d,]+)/.exec(header)[1].replace(/,/g, ''));
  assert.ok(at <= cursor && at > cursor - 50, header);
  await p
    .locator('.table-row.selected .cell', { hasText: new RegExp(`^${at}$`) })
    .first()
    .waitFor();
  await shot(page, '26-panel-chart-click');
});

test('a time range selected on the chart filters the table', async () => {
  const p = panel();
  await p.locator('#chart').scrollIntoViewIfNeeded();
  const box = await p.locator('#chart').boundingBox();
  await page.keyboard.down('Shift');
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.5, { steps: 8 });
  await page.mouse.up();
  await page.keyboard.up('Shift');
  await p.locator('#range', { hasText: /Rows from #\d+ to #\d+/ }).waitFor();
  await p.locator('#count', { hasText: 'of 6,902 rows' }).waitFor();
  // the range's statistics: as many rows as the filtered table shows, with maps, failures, peak, devices
  const stats = p.locator('#range-stats');
  await stats.locator('h3', { hasText: /Δ [\d,]+ counter ticks, [\d,]+ rows/ }).waitFor({ timeout: 30_000 });
  const shown = Number((await p.locator('#count').innerText()).replace(/ of .*|,/g, ''));
  const counted = Number(/, ([\d,]+) rows/.exec(await stats.locator('h3').textContent())[1].replace(/,/g, ''));
  assert.equal(counted, shown);
  assert.match(await stats.innerText(), /Maps\s+[\d,]+ \([\d,]+ bounced/);
  assert.match(await stats.innerText(), /Peak in range\s+[\d,]+ slots/);
  await stats.locator('vscode-data-grid-row', { hasText: '0000:00:0' }).first().waitFor();
  await shot(page, '27-panel-range');
  await p.locator('#clear-range').click();
  await p.locator('#count', { hasText: /^\s*6,902 rows\s*$/ }).waitFor();
  await stats.waitFor({ state: 'hidden' });
});

/** The event under a point of the chart (a fraction of its width), as the readout says on hover (#index: ops files have no clock). */
async function eventAt(p, frac) {
  const box = await p.locator('#chart').boundingBox();
  const x = box.x + box.width * frac;
  const y = box.y + box.height * 0.5;
  await page.mouse.move(x - 3, y);
  await page.mouse.move(x, y);
  const text = await p.locator('#readout', { hasText: /^#\d+ · / }).innerText();
  return Number(/^#(\d+)/.exec(text)[1]);
}
const window3070 = async (p) => [await eventAt(p, 0.3), await eventAt(p, 0.7)];

test('zooming and panning the chart: the window narrows, moves, and double-click shows the whole run again', async () => {
  const p = panel();
  const chart = p.locator('#chart');
  await chart.scrollIntoViewIfNeeded();
  const whole = await window3070(p);
  assert.ok(whole[1] - whole[0] > 0.3 * 6902, `the whole run: #${whole[0]} ... #${whole[1]}`);
  const seen = await outputMatches(page, FRAMES);
  // twelve wheel steps at the middle: about a ninth of the run, around its middle
  const box = await chart.boundingBox();
  const y = box.y + box.height * 0.5;
  await page.mouse.move(box.x + box.width * 0.5, y);
  for (let i = 0; i < 12; i++) await page.mouse.wheel(0, -120);
  const zoomed = await window3070(p);
  assert.ok(zoomed[1] - zoomed[0] < (whole[1] - whole[0]) / 4, `zoomed: #${zoomed[0]} ... #${zoomed[1]}`);
  assert.ok(zoomed[0] > whole[0] && zoomed[1] < whole[1], `zoomed into the middle: #${zoomed[0]} ... #${zoomed[1]}`);
  // dragging to the left shows later events, the same span of them
  await page.mouse.move(box.x + box.width * 0.8, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.4, y, { steps: 20 });
  await page.mouse.up();
  const panned = await window3070(p);
  assert.ok(panned[0] > zoomed[0], `panned: #${panned[0]} ... #${panned[1]}`);
  assert.ok(Math.abs(panned[1] - panned[0] - (zoomed[1] - zoomed[0])) <= 2, `panned: #${panned[0]} ... #${panned[1]}`);
  // the webview reports its frame times to the host (bench:vscode reads them; no test judges them)
  const m = await outputMatch(page, FRAMES, { seen });
  assert.ok(Number(m[1]) > 0, m[0]);
  await chart.dblclick();
  for (let i = 0; ; i++) {
    const again = await window3070(p);
    if (again[0] === whole[0] && again[1] === whole[1]) break;
    if (i > 50) assert.deepEqual(again, whole, 'double-click: the whole run again');
    await page.waitForTimeout(100);
  }
  await shot(page, '28-panel-zoomed');
});

test('export the rows shown as CSV', async () => {
  const p = panel();
  await pickOption(p, '#filter-outcome', 'failed');
  await p.locator('#count', { hasText: '12 of 6,902 rows' }).waitFor();
  await p.locator('vscode-button', { hasText: 'Export CSV' }).click();
  await page.locator('.quick-input-widget input').waitFor({ timeout: 30_000 });
  const target = path.join(ws, 'failed.csv');
  await pickFile(page, target);
  for (let i = 0; i < 100 && !fs.existsSync(target); i++) await new Promise((r) => setTimeout(r, 100));
  await page.locator('.notifications-toasts .notification-toast', { hasText: 'exported to failed.csv' }).waitFor({ timeout: 30_000 });
  const lines = fs.readFileSync(target, 'utf8').trim().split('\n');
  assert.equal(lines.length, 13);
  assert.match(lines[0], /^row,time,kind,outcome,/);
  assert.ok(lines.slice(1).every((l) => l.includes(',failed,')));
});

test('the state survives hiding the panel and reloading the window', async () => {
  const p = panel();
  await p.locator('.table-row').nth(2).click();
  const selected = await p.locator('#details h2').innerText();
  // hide: another editor in the panel's group, then back
  await openFile(page, 'notes.txt');
  await page.locator('.tab', { hasText: 'SWIOTLB: small-pool.jsonl' }).click();
  await panel().locator('#count', { hasText: '12 of 6,902 rows' }).waitFor({ timeout: 30_000 });
  await panel().locator('#details h2', { hasText: selected }).waitFor();
  // reload: VS Code revives the panel, the extension analyses the file again
  await runCommand(page, 'Developer: Reload Window');
  await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
  await page.locator('.tab', { hasText: 'SWIOTLB: small-pool.jsonl' }).click({ timeout: 90_000 });
  await panel().locator('#title', { hasText: 'Replay: small-pool.jsonl' }).waitFor({ timeout: 120_000 });
  await panel().locator('#count', { hasText: '12 of 6,902 rows' }).waitFor({ timeout: 30_000 });
  await panel().locator('#details h2', { hasText: selected }).waitFor();
  await shot(page, '28-panel-after-reload');
  await panel().locator('#clear-filters').click();
});

test('the side view, the profile pickers and the status bar', async () => {
  await page.locator('.activitybar .action-item a[aria-label^="SWIOTLB Lens"]').click();
  const side = page
    .frameLocator('iframe.webview.ready[src*="extensionId=swiotlb-lens.swiotlb-lens"][src*="purpose=webviewView"]')
    .first()
    .frameLocator('iframe#active-frame');
  await side.locator('#side-current h2', { hasText: 'Replay: small-pool.jsonl' }).waitFor({ timeout: 60_000 });
  await side.locator('.side-summary', { hasText: '3,457' }).waitFor();
  await pickOption(side, '#side-kernel', 'Linux 6.12');
  // the pickers ask before writing settings
  await answerDialog(page, /Save it in the settings/, 'Only This Session');
  await page.locator('.statusbar-item', { hasText: 'SWIOTLB 6.12' }).waitFor({ timeout: 30_000 });
  await shot(page, '29-side-view');
  const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: 'From the input' }).first();
  // the side view re-renders after the choice and may take the focus, which closes a quick pick
  for (let attempt = 1; ; attempt++) {
    await runCommand(page, 'SWIOTLB: Choose Kernel Profile...', { quickPick: true });
    try {
      await pick.waitFor({ timeout: 10_000 });
      break;
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
  await pick.click();
  await answerDialog(page, /Save it in the settings/, 'Only This Session');
  await page.locator('.statusbar-item', { hasText: 'SWIOTLB 6.1 ' }).waitFor({ timeout: 30_000 });
  await side.locator('#side-recent a', { hasText: 'a_force_smp2' }).waitFor();
});

test('go to source from the details', async () => {
  const p = panel();
  // the row that got selected (the details say which: the table may re-render under the pointer)
  await p.locator('.table-row').nth(5).click();
  const heading = await p.locator('#details h2', { hasText: /^Row [\d,]+:/ }).innerText();
  const index = Number(/^Row ([\d,]+):/.exec(heading)[1].replace(/,/g, ''));
  await p.locator('#go-to-source').click();
  // op rows follow the header line one to one
  await page.locator('.tab.active[data-resource-name="small-pool.jsonl"]').waitFor({ timeout: 30_000 });
  await page.locator('.statusbar-item', { hasText: new RegExp(`Ln ${index + 2}, Col 1`) }).waitFor({ timeout: 30_000 });
});

test('"Open With..." shows an ops file in the SWIOTLB Lens editor', async () => {
  await openFile(page, 'small-pool.jsonl');
  await runCommand(page, 'View: Reopen Editor With...', { quickPick: true });
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'SWIOTLB Lens' }).first().click();
  // the custom editor's webview is the visible one (the panel's is hidden behind its tab)
  const frame = page
    .frameLocator('iframe.webview.ready[src*="extensionId=swiotlb-lens.swiotlb-lens"]:not([src*="purpose=webviewView"]):visible')
    .first()
    .frameLocator('iframe#active-frame');
  await page.locator('.tab.active[aria-label^="SWIOTLB: small-pool.jsonl"]').first().waitFor({ timeout: 60_000 });
  await frame.locator('#title', { hasText: 'Replay: small-pool.jsonl' }).waitFor({ timeout: 60_000 });
  await frame.locator('#chart[data-columns]').waitFor({ state: 'attached' });
  await shot(page, '30-open-with');
});

/** A digest of a canvas's pixels: equal pictures, equal digests. */
const canvasDigest = (locator) =>
  locator.evaluate((c) => {
    const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    let h = 2166136261;
    for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i], 16777619);
    return h >>> 0;
  });

test('light and high-contrast themes recolour the panel', async () => {
  await page.locator('.tab', { hasText: 'SWIOTLB: small-pool.jsonl' }).first().click();
  await panel().locator('#chart[data-columns]').waitFor({ state: 'attached', timeout: 30_000 });
  const seen = [await canvasDigest(panel().locator('#chart'))];
  // the chart legend's swatches, as drawn
  const swatches = (p) =>
    p.locator('#chart-legend .legend-item span').evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor).join(' '));
  const legends = [await swatches(panel())];
  for (const [theme, name] of [
    ['Light Modern', '31-theme-light'],
    ['Dark High Contrast', '32-theme-high-contrast'],
  ]) {
    await runCommand(page, 'Preferences: Color Theme', { quickPick: true });
    const input = page.locator('.quick-input-widget input');
    await input.fill(theme);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: theme }).first().click();
    await page.locator('.tab', { hasText: 'SWIOTLB: small-pool.jsonl' }).first().click();
    const p = panel();
    await p.locator('#chart[data-columns]').waitFor({ state: 'attached', timeout: 30_000 });
    // the chart is drawn again in the theme's colours: a picture not seen in another theme
    let now = await canvasDigest(p.locator('#chart'));
    for (let i = 0; seen.includes(now) && i < 100; i++) {
      await page.waitForTimeout(100);
      now = await canvasDigest(p.locator('#chart'));
    }
    assert.ok(!seen.includes(now), `the chart looks as it did before "${theme}"`);
    assert.ok((await canvasInk(p.locator('#chart'))) > 20_000);
    seen.push(now);
    // the legend follows the theme as the chart does
    const legend = await swatches(p);
    assert.ok(!legends.includes(legend), `the chart legend kept the colours of another theme (${legend})`);
    legends.push(legend);
    await shot(page, name);
  }
});
