// The slot map as a kernel engineer reads it in a real VS Code, on a real 6.1 run of a 64 MiB pool
// (test/fixtures/kernel-6.1/a_force_smp2: 32,768 slots in 2 areas, 256 segments): the grid uses the
// whole width of its box at 1600x1000 and in a 900 px-wide panel, at every zoom level (slots,
// segments, areas), which the toolbar, + and - and Ctrl+wheel switch and a reload keeps; the
// tooltip says what a cell is at each level; a click on a segment or an area zooms into it; the
// labels sit in their own column, whole and apart; the legends show the colours drawn (age
// buckets read back from the canvas, the devices in the map, the chart's areas).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { EXTENSION_ID, panelFrame, pickFile, pickOption, runCommand, shot, workbenchSuite } from './vscode.mjs';

let page;
let ws;
const FIXTURE = 'a_force_smp2.ops.jsonl.gz';

const test = workbenchSuite({
  tmpPrefix: 'swiotlb-slotmap-',
  shotPrefix: 'slotmap-',
  prepare(dir) {
    ws = dir;
    fs.copyFileSync(path.join('test/fixtures/kernel-6.1', FIXTURE), path.join(ws, FIXTURE));
  },
  ready(p) {
    page = p;
  },
});

const panel = () => panelFrame(page);

async function until(fn, what, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The map's box and the layout it publishes (data-* of #slotmap). */
async function geometry(p) {
  return p.locator('#slotmap').evaluate((el) => ({
    clientWidth: el.clientWidth,
    clientHeight: el.clientHeight,
    scrollWidth: el.scrollWidth,
    scrollTop: el.scrollTop,
    sectionWidth: el.parentElement.clientWidth,
    ...Object.fromEntries(Object.entries(el.dataset).map(([k, v]) => [k, /^-?[\d.]+$/.test(v) ? Number(v) : v])),
  }));
}

/** Left and right ends of what the canvas has drawn (opaque pixels), in CSS px. */
async function inkExtent(p) {
  return p.locator('.slotmap-canvas').evaluate((c) => {
    const dpr = c.width / c.clientWidth;
    const { data, width, height } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    let left = width;
    let right = -1;
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        if (data[(y * width + x) * 4 + 3] > 0) {
          if (x < left) left = x;
          if (x > right) right = x;
        }
    return { left: left / dpr, right: (right + 1) / dpr };
  });
}

/** The grid spans its box; the labels are whole, apart, legible and left of the grid. */
async function checkLayout(p, what) {
  const g = await geometry(p);
  assert.ok(Math.abs(g.labelW + g.gridW - g.clientWidth) <= 3, `${what}: grid ${g.labelW}+${g.gridW} in ${g.clientWidth} px`);
  assert.ok(g.clientWidth >= g.sectionWidth - 4, `${what}: the map box ${g.clientWidth} fills its section ${g.sectionWidth}`);
  assert.equal(g.scrollWidth, g.clientWidth, `${what}: no horizontal overflow`);
  const ink = await inkExtent(p);
  assert.ok(ink.right >= g.clientWidth - 4, `${what}: cells drawn to ${ink.right} of ${g.clientWidth} px`);
  assert.ok(ink.left >= g.labelW - 0.5, `${what}: no cell in the label column (${ink.left} < ${g.labelW})`);
  const labels = await p.locator('.slotmap-labels .slotmap-label').evaluateAll((ls) =>
    ls.map((l) => {
      const r = l.getBoundingClientRect();
      const box = l.parentElement.getBoundingClientRect();
      return {
        text: l.textContent,
        kind: l.classList.contains('area') ? 'area' : 'row',
        left: r.left - box.left,
        right: r.right - box.left,
        top: r.top,
        bottom: r.bottom,
        whole: l.scrollWidth <= l.clientWidth,
        font: Number.parseFloat(getComputedStyle(l).fontSize),
      };
    }),
  );
  assert.ok(
    labels.some((l) => l.kind === 'area' && /^area \d+/.test(l.text)),
    `${what}: an area label in view: ${JSON.stringify(labels)}`,
  );
  for (const l of labels) {
    assert.ok(l.right <= g.labelW, `${what}: label "${l.text}" ends at ${l.right}, the grid starts at ${g.labelW}`);
    assert.ok(l.whole, `${what}: label "${l.text}" is cut`);
    assert.ok(l.font >= 10, `${what}: label "${l.text}" at ${l.font} px`);
  }
  const sorted = [...labels].sort((a, b) => a.top - b.top);
  for (let i = 1; i < sorted.length; i++)
    assert.ok(sorted[i].top >= sorted[i - 1].bottom - 0.5, `${what}: "${sorted[i - 1].text}" and "${sorted[i].text}" overlap`);
  return g;
}

/** Page coordinates of a point of the map's canvas (CSS px from its top left). */
async function at(p, x, y) {
  const box = await p.locator('.slotmap-canvas').boundingBox();
  return { x: box.x + x, y: box.y + y };
}

/** Left edge of column c of the published layout. */
const colX = (g, c) => g.labelW + Math.round((c * g.gridW) / g.perRow);

/** Hovers a cell (row r, column c of the view) and returns the tooltip's text. */
async function tipAt(p, g, r, c, pattern) {
  await p.locator('#slotmap').scrollIntoViewIfNeeded();
  const pt = await at(p, (colX(g, c) + colX(g, c + 1)) / 2, r * g.rowH - g.scrollTop + g.rowH / 2 - 1);
  await page.mouse.move(pt.x - 3, pt.y);
  await page.mouse.move(pt.x, pt.y);
  const tip = p.locator('#slotmap .tooltip', { hasText: pattern });
  await tip.waitFor();
  return { text: await tip.innerText(), pt };
}

const zoomIs = (p, z) => p.locator(`#slotmap[data-zoom="${z}"]`).waitFor({ state: 'attached' });

test('the slot map fills its width at every zoom level, its labels beside the grid', async () => {
  await page.setViewportSize({ width: 1600, height: 1000 });
  await runCommand(page, 'SWIOTLB: Analyze Trace or Log File...', { quickPick: true, timeout: 120_000 });
  await pickFile(page, path.join(ws, FIXTURE));
  const p = panel();
  await p.locator('#title', { hasText: `Replay: ${FIXTURE}` }).waitFor({ timeout: 90_000 });
  await p.locator('#slot-header', { hasText: /of 32,768 used/ }).waitFor({ timeout: 30_000 });
  await p.locator('#slot-section').scrollIntoViewIfNeeded();
  await zoomIs(p, 'cells');
  const cells = await checkLayout(p, 'slots at 1600 px');
  // wider than the old 8 px cap: the width is used
  assert.ok(cells.gridW / cells.perRow > 8, `cells ${cells.gridW / cells.perRow} px wide`);
  assert.equal(cells.perRow, 128);
  await shot(page, '30-slotmap-cells');
  await pickOption(p, '#slot-zoom', 'Zoom: segments');
  await zoomIs(p, 'segments');
  const segs = await checkLayout(p, 'segments at 1600 px');
  assert.equal(segs.rows * segs.perRow, 256, 'every segment has a cell, an area per row group');
  await shot(page, '31-slotmap-segments');
  await pickOption(p, '#slot-zoom', 'Zoom: areas');
  await zoomIs(p, 'areas');
  const areas = await checkLayout(p, 'areas at 1600 px');
  assert.equal(areas.rows, 2);
  assert.match((await p.locator('.slotmap-label.area').allInnerTexts()).join('|'), /^area 0 · \d+ %\|area 1 · \d+ %$/);
  await shot(page, '32-slotmap-areas');
});

test('zoom by keys and Ctrl+wheel; the tooltip says what the cell is at each level', async () => {
  const p = panel();
  await p.locator('#slot-section').scrollIntoViewIfNeeded();
  await pickOption(p, '#slot-zoom', 'Zoom: areas');
  await zoomIs(p, 'areas');
  let g = await geometry(p);
  const area = await tipAt(p, g, 1, 0, /^area 1 /);
  assert.match(area.text, /^area 1 \(slots 16384–32767, segments 128–255\): used \d+ of 16384 \(\d+\.\d %\)/);
  await p.locator('#slotmap').focus();
  await page.keyboard.press('+');
  await zoomIs(p, 'segments');
  g = await geometry(p);
  const seg = await tipAt(p, g, 0, 3, /^segment 3 /);
  assert.match(seg.text, /^segment 3 \(area 0, slots 384–511\): used \d+ of 128/);
  await page.keyboard.press('-');
  await zoomIs(p, 'areas');
  await page.keyboard.press('+');
  await zoomIs(p, 'segments');
  // Ctrl+wheel over the map: in to slots, out to segments
  g = await geometry(p);
  const pt = await at(p, (colX(g, 5) + colX(g, 6)) / 2, g.rowH / 2);
  await page.mouse.move(pt.x, pt.y);
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, -120);
  await page.keyboard.up('Control');
  await zoomIs(p, 'cells');
  g = await geometry(p);
  const slot = await tipAt(p, g, Math.floor(g.scrollTop / g.rowH) + 1, 7, /^slot \d+ /);
  assert.match(slot.text, /^slot \d+ \(area \d, segment \d+\): (free|row \d+, 0000:00:0[34]\.0, mapped at #\d+)$/);
  await page.waitForTimeout(300);
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, 120);
  await page.keyboard.up('Control');
  await zoomIs(p, 'segments');
  assert.equal(await p.locator('#slot-zoom').evaluate((d) => d.value), 'segments');
});

test('a click on a segment zooms into it, a click on an area into its segments', async () => {
  const p = panel();
  await pickOption(p, '#slot-zoom', 'Zoom: segments');
  await zoomIs(p, 'segments');
  let g = await geometry(p);
  // the first row of area 1, 10 segments in
  const rowsPerArea = g.rows / 2;
  const seg = await tipAt(p, g, rowsPerArea, 10, /^segment \d+ /);
  const n = Number(/^segment (\d+) \(area 1, slots (\d+)–/.exec(seg.text)[1]);
  assert.equal(n, 128 + 10);
  await page.mouse.click(seg.pt.x, seg.pt.y);
  await zoomIs(p, 'cells');
  await p.locator(`#slotmap[data-focus="${n * 128} 128"]`).waitFor({ state: 'attached' });
  g = await geometry(p);
  // the cell view scrolled to the segment's row
  assert.ok(n * g.rowH >= g.scrollTop && (n + 1) * g.rowH <= g.scrollTop + g.clientHeight, `row ${n} in view at ${g.scrollTop}`);
  const tip = await tipAt(p, g, n, 0, /^slot \d+ /);
  assert.match(tip.text, new RegExp(`^slot ${n * 128} \\(area 1, segment ${n}\\)`));
  await shot(page, '33-slotmap-zoomed-into-segment');
  // areas: a click opens the area's segments
  await pickOption(p, '#slot-zoom', 'Zoom: areas');
  await zoomIs(p, 'areas');
  g = await geometry(p);
  const a = await tipAt(p, g, 1, 0, /^area 1 /);
  await page.mouse.click(a.pt.x, a.pt.y);
  await zoomIs(p, 'segments');
  await p.locator('#slotmap[data-focus="16384 16384"]').waitFor({ state: 'attached' });
});

/** [r, g, b] of a CSS colour as the browser computes it. */
const rgb = (css) =>
  css
    .match(/[\d.]+/g)
    .slice(0, 3)
    .map(Number);

test('the age legend shows exactly the colours the cells of each age are drawn in', async () => {
  const p = panel();
  await pickOption(p, '#slot-zoom', 'Zoom: slots');
  await zoomIs(p, 'cells');
  await pickOption(p, '#slot-color', 'Colour: age');
  await p.locator('#slot-legend .legend-item[data-kind="age"]').first().waitFor();
  const legend = await p.locator('#slot-legend .legend-item[data-kind="age"]').evaluateAll((items) =>
    items.map((i) => ({
      min: Number(i.dataset.ageMin),
      max: i.dataset.ageMax === 'Infinity' ? Number.POSITIVE_INFINITY : Number(i.dataset.ageMax),
      color: getComputedStyle(i.querySelector('.swatch')).backgroundColor,
      label: i.textContent,
    })),
  );
  assert.ok(legend.length >= 3, JSON.stringify(legend));
  // the buckets tile the ages from 0 up, in distinct colours
  assert.equal(legend[0].min, 0);
  for (let i = 1; i < legend.length; i++) assert.equal(legend[i].min, legend[i - 1].max);
  assert.equal(new Set(legend.map((l) => l.color)).size, legend.length);
  // the map at a moment with slots held for long and short: the peak
  const header = await p.locator('#slot-header').innerText();
  const now = Number(/^Slots at #(\d+) /.exec(header)[1]);
  const free = rgb(
    await p.locator('#slot-legend .legend-item[data-kind="free"] .swatch').evaluate((s) => getComputedStyle(s).backgroundColor),
  );
  // every used cell in view, by the colour drawn at its centre
  const sample = (g) =>
    p.locator('.slotmap-canvas').evaluate(
      (c, { g, free }) => {
        const ctx = c.getContext('2d');
        const dpr = c.width / c.clientWidth;
        const out = {};
        const first = Math.ceil(g.scrollTop / g.rowH);
        for (let r = first; (r + 1) * g.rowH <= g.scrollTop + g.clientHeight; r++)
          for (let col = 0; col < 128; col++) {
            const x = (g.labelW + Math.round((col * g.gridW) / 128) + g.labelW + Math.round(((col + 1) * g.gridW) / 128)) / 2;
            const y = r * g.rowH - g.scrollTop + g.rowH / 2 - 1;
            const [R, G, B] = ctx.getImageData(Math.floor(x * dpr), Math.floor(y * dpr), 1, 1).data;
            if (Math.abs(R - free[0]) + Math.abs(G - free[1]) + Math.abs(B - free[2]) < 4) continue;
            const key = `rgb(${R}, ${G}, ${B})`;
            out[key] ??= { r, col, n: 0 };
            out[key].n++;
          }
        return out;
      },
      { g, free },
    );
  // page down the pool until used cells are in view (this run's peak is in area 1)
  let seen = {};
  let g;
  for (let top = 0; ; ) {
    await p.locator('#slotmap').evaluate((el, top) => {
      el.scrollTop = top;
      // drawn there: the map draws on the scroll event
      return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    }, top);
    g = await geometry(p);
    seen = await sample(g);
    if (Object.keys(seen).length >= 2 || top >= g.rows * g.rowH - g.clientHeight) break;
    top = Math.min(top + g.clientHeight - g.rowH, g.rows * g.rowH - g.clientHeight);
  }
  const colours = Object.keys(seen);
  assert.ok(colours.length >= 2, `cells of several ages in view: ${JSON.stringify(seen)}`);
  // what is drawn is in the legend
  for (const c of colours)
    assert.ok(
      legend.some((l) => l.color === c),
      `${c} drawn (${seen[c].n} cells) but not in the legend`,
    );
  // and each colour is the one of its cell's age: the tooltip says when the slot was mapped
  for (const c of colours.slice(0, 6)) {
    const { r, col } = seen[c];
    const { text } = await tipAt(p, g, r, col, new RegExp(`^slot ${r * 128 + col} `));
    const since = Number(/mapped at #(\d+)$/.exec(text)[1]);
    const age = now - since;
    const bucket = legend.find((l) => age >= l.min && age < l.max);
    assert.equal(c, bucket.color, `slot ${r * 128 + col}: age ${age} is "${bucket.label}" but drawn ${c}`);
  }
  await shot(page, '34-slotmap-age');
  await pickOption(p, '#slot-color', 'Colour: device');
});

test('the device legend lists the devices in the map at its moment', async () => {
  const p = panel();
  await pickOption(p, '#slot-color', 'Colour: device');
  // the first map of the run: one mapping of 0000:00:03.0 (2 slots), nothing of 0000:00:04.0
  await p.locator('#tab-calls').click();
  await p.locator('.table-body').evaluate((el) => {
    el.scrollTop = 0;
  });
  const row = p.locator('.table-row', { hasText: 'bounced' }).first();
  const index = Number((await row.locator('.cell').first().innerText()).trim());
  await row.click();
  await p.locator('#slot-header', { hasText: `after row ${index})` }).waitFor();
  const used = Number(/: ([\d,]+) of 32,768 used/.exec(await p.locator('#slot-header').innerText())[1].replace(/,/g, ''));
  const devices = await p.locator('#slot-legend .legend-item[data-kind="device"]').allInnerTexts();
  assert.deepEqual(devices, [`0000:00:03.0 (${used})`]);
  // elsewhere in the run: the legend's counts add up to the slots in use
  await p.locator('#chart').scrollIntoViewIfNeeded();
  const box = await p.locator('#chart').boundingBox();
  await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.5);
  await until(async () => !(await p.locator('#slot-header').innerText()).includes(`after row ${index})`), 'the map at the new cursor');
  await until(async () => {
    const texts = await p.locator('#slot-legend .legend-item[data-kind="device"]').allInnerTexts();
    const total = Number(/: ([\d,]+) of 32,768 used/.exec(await p.locator('#slot-header').innerText())[1].replace(/,/g, ''));
    return total > 0 && texts.reduce((s, t) => s + Number(/\(([\d,]+)\)$/.exec(t)[1].replace(/,/g, '')), 0) === total;
  }, 'legend counts adding up to the slots in use');
});

test('"areas stacked" has a legend of its areas in the colours the chart draws', async () => {
  const p = panel();
  const legend = p.locator('#chart-area-legend');
  assert.equal(await legend.isVisible(), false, 'no area legend for the whole pool');
  await pickOption(p, '#chart-mode', 'Areas stacked');
  await legend.waitFor();
  assert.deepEqual(await legend.locator('.legend-item').allInnerTexts(), ['area 0', 'area 1']);
  const colours = await legend.locator('.swatch').evaluateAll((s) => s.map((x) => getComputedStyle(x).backgroundColor));
  assert.equal(new Set(colours).size, 2);
  // each area's colour fills part of the chart
  const counts = await until(async () => {
    const c = await p.locator('#chart').evaluate((canvas, colours) => {
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      const want = colours.map((c) => c.match(/\d+/g).slice(0, 3).map(Number));
      const n = want.map(() => 0);
      for (let i = 0; i < data.length; i += 4)
        want.forEach(([r, g, b], k) => {
          if (data[i] === r && data[i + 1] === g && data[i + 2] === b && data[i + 3] === 255) n[k]++;
        });
      return n;
    }, colours);
    return c.every((n) => n > 200) ? c : null;
  }, 'both areas drawn in their legend colours');
  assert.equal(counts.length, 2);
  await shot(page, '35-slotmap-chart-areas');
  await pickOption(p, '#chart-mode', 'Whole pool (min/max)');
  await legend.waitFor({ state: 'hidden' });
});

test('in a 900 px-wide panel the grid still fills its width', async () => {
  const p = panel();
  const frame = page.locator(`iframe.webview.ready[src*="extensionId=${EXTENSION_ID}"]:not([src*="purpose=webviewView"])`).first();
  const wide = (await frame.boundingBox()).width;
  await page.setViewportSize({ width: Math.round(1600 - (wide - 900)), height: 1000 });
  await until(async () => Math.abs((await frame.boundingBox()).width - 900) <= 2, 'a 900 px panel');
  await p.locator('#slot-section').scrollIntoViewIfNeeded();
  await pickOption(p, '#slot-zoom', 'Zoom: segments');
  await zoomIs(p, 'segments');
  await until(async () => (await geometry(p)).clientWidth < 900, 'the map laid out again');
  await checkLayout(p, 'segments at 900 px');
  await pickOption(p, '#slot-zoom', 'Zoom: slots');
  await zoomIs(p, 'cells');
  const g = await checkLayout(p, 'slots at 900 px');
  assert.ok(g.clientWidth > 700 && g.clientWidth < 900, `${g.clientWidth} px`);
  await shot(page, '36-slotmap-900');
  await pickOption(p, '#slot-zoom', 'Zoom: areas');
  await zoomIs(p, 'areas');
  await checkLayout(p, 'areas at 900 px');
  await page.setViewportSize({ width: 1600, height: 1000 });
});

test('the zoom level survives a reload', async () => {
  const p = panel();
  await pickOption(p, '#slot-zoom', 'Zoom: segments');
  await zoomIs(p, 'segments');
  await runCommand(page, 'Developer: Reload Window');
  await p.locator('#title', { hasText: `Replay: ${FIXTURE}` }).waitFor({ timeout: 120_000 });
  await p.locator('#slot-header', { hasText: /of 32,768 used/ }).waitFor({ timeout: 60_000 });
  await zoomIs(p, 'segments');
  assert.equal(await p.locator('#slot-zoom').evaluate((d) => d.value), 'segments');
});
