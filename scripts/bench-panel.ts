/**
 * `npm run bench:panel`: the panel on a 10-million-event synthetic trace.
 *
 * The trace: NVMe-like and NIC-like streaming maps and unmaps on 8 CPUs through the real 6.1
 * allocator (Replayer over generated ops, no JSON), with a trace clock, queue depth swelling and
 * shrinking so the pool fills and empties. Then, in this one process:
 *   - host: building the chart series (Timeline pyramids), and the chart columns for one pan
 *     step at three zoom levels, against a baseline that scans the window's rows (ratio);
 *   - webview: the real dist/webview.js in Debian's Chromium (playwright-core), answered by the
 *     real PanelModel; wheel-zoom and drag-pan the chart and read the frame times it reports,
 *     against the same interaction on a 10-thousand-event trace (ratio: the cost must not grow
 *     with the trace); three runs of each, medians.
 * BENCH_EVENTS overrides the event count (default 10,000,000).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventTable } from '../src/analysis/eventTable';
import { deviceStats, PanelModel } from '../src/analysis/panelModel';
import { summarizeEvents } from '../src/analysis/session';
import { DmaDirection } from '../src/model/constants';
import { resolveProfile } from '../src/model/profiles';
import type { ReplayHeader, ReplayOp } from '../src/replay/format';
import { Replayer } from '../src/replay/replay';
import { rng } from '../src/scenario/rng';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const RUNS = 3;
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Generates `events` map/unmap events through the real allocator. */
function synthetic(events: number): PanelModel {
  const header: ReplayHeader = {
    nslabs: 16384,
    nareas: 8,
    poolBase: 0x7c000000,
    pageShift: 12,
    kernel: '6.1',
    defaults: { allocSize: 'size', allocAlignMask: 0, minAlignMask: 0, boundaryBits: 32 },
  };
  const table = new EventTable();
  const r = new Replayer(header, resolveProfile('6.1'), { events: table, file: 'synthetic.trace' });
  const rand = rng(42);
  const sizes = [4096, 8192, 16384, 65536, 131072, 258048];
  const inflight: number[] = [];
  let id = 1;
  let line = 1;
  const times: number[] = [];
  let t = 1000;
  while (table.length < events) {
    // queue depth follows a slow wave: the pool fills, overflows, drains
    const phase = table.length / events;
    const depth = Math.round(600 + 560 * Math.sin(phase * Math.PI * 14));
    const mapNow = inflight.length < depth && rand() < 0.7;
    let op: ReplayOp;
    if (mapNow || inflight.length === 0) {
      const nic = rand() < 0.3;
      const size = nic ? 1514 : (sizes[Math.floor(rand() * (rand() < 0.02 ? sizes.length : sizes.length - 1))] as number);
      op = {
        op: 'map',
        id,
        line: ++line,
        cpu: Math.floor(rand() * 8),
        origAddr: 0x100000000 + Math.floor(rand() * 0x40000000) * 512,
        size,
        allocSize: size,
        allocAlignMask: 0,
        minAlignMask: nic ? 0 : 0xfff,
        boundaryBits: 32,
        dir: nic ? DmaDirection.TO_DEVICE : DmaDirection.FROM_DEVICE,
        attrs: 0,
        dev: nic ? '0000:00:04.0' : '0000:00:03.0',
      };
      inflight.push(id++);
    } else {
      const k = Math.floor(rand() * Math.min(inflight.length, 32));
      const victim = inflight.splice(k, 1)[0] as number;
      op = { op: 'unmap', id: victim, line: ++line };
    }
    const before = table.length;
    r.apply(op);
    t += -Math.log(1 - rand()) * 2e-6;
    for (let i = before; i < table.length; i++) times.push(t);
  }
  for (let i = 0; i < table.length; i++) table.set('time', i, times[i] as number);
  table.hasClock = true;
  return new PanelModel({
    kind: 'trace',
    files: ['synthetic.trace'],
    kernel: '6.1',
    platform: 'x86',
    pool: {
      start: header.poolBase,
      nslabs: header.nslabs,
      nareas: header.nareas,
      areaNslabs: header.nslabs / header.nareas,
      source: 'synthetic',
    },
    events: table,
    summary: summarizeEvents(table),
    devices: deviceStats(table),
    diagnostics: [],
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}
function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(0.95 * s.length))] ?? Number.NaN;
}
const f2 = (x: number) => x.toFixed(2);

function hostBench(m: PanelModel): void {
  const { t0, t1 } = m.info;
  const full = t1 - t0;
  const columns = 1200;
  console.log(`host: chart columns for one pan step (${columns} columns), median of 60 steps`);
  console.log('  zoom               pyramid ms   scan ms   scan / pyramid');
  for (const [label, frac] of [
    ['whole trace', 1],
    ['1/100 of it', 0.01],
    ['1/10000 of it', 0.0001],
  ] as const) {
    const span = full * frac;
    const pyr: number[] = [];
    const scan: number[] = [];
    let sink = 0;
    for (let k = 0; k < 60; k++) {
      const q = { t0: t0 + (full - span) * (k / 60), t1: t0 + (full - span) * (k / 60) + span, columns };
      let s = performance.now();
      sink += m.timeline.aggregate(q).totalMax[0] as number;
      pyr.push(performance.now() - s);
      if (k % 6 === 0) {
        // baseline: the same columns by visiting every row of the window
        s = performance.now();
        sink += m.timeline.aggregateByScan(q).totalMax[0] as number;
        scan.push(performance.now() - s);
      }
    }
    console.log(
      `  ${label.padEnd(18)} ${f2(median(pyr)).padStart(10)} ${f2(median(scan)).padStart(9)}   ${(median(scan) / median(pyr)).toFixed(1)}${sink < 0 ? '!' : ''}`,
    );
  }
}

interface WebviewFigures {
  firstChartMs: number;
  frames: number[];
  hostMs: number[];
}

async function webviewBench(m: PanelModel): Promise<WebviewFigures | null> {
  if (!fs.existsSync(CHROMIUM)) {
    console.log(`webview: skipped (${CHROMIUM} not found; apt-get install chromium)`);
    return null;
  }
  const { chromium } = await import('playwright-core');
  const root = path.join(__dirname, '..');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swiotlb-bench-panel-'));
  fs.copyFileSync(path.join(root, 'dist', 'webview.js'), path.join(dir, 'webview.js'));
  fs.copyFileSync(path.join(root, 'media', 'webview.css'), path.join(dir, 'webview.css'));
  fs.writeFileSync(
    path.join(dir, 'index.html'),
    `<!DOCTYPE html><html><head><meta charset="UTF-8"><link rel="stylesheet" href="webview.css">
<script>window.acquireVsCodeApi = () => ({ postMessage: (m) => window.toHost(m), getState: () => undefined, setState: () => {} });</script>
</head><body class="vscode-dark"><main id="root"></main><script src="webview.js"></script></body></html>`,
  );
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const frames: number[] = [];
  const hostMs: number[] = [];
  let opened = 0;
  let drawn = 0;
  const plain = (x: unknown): unknown => {
    if (ArrayBuffer.isView(x)) return Array.from(x as unknown as ArrayLike<number>);
    if (Array.isArray(x)) return x.map(plain);
    if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]));
    return x;
  };
  await page.exposeFunction('toHost', async (msg: { type: string; ms?: number; frames?: number[] }) => {
    let reply: unknown;
    if (msg.type === 'ready') {
      opened = performance.now();
      reply = { type: 'session', info: m.info };
    } else if (msg.type === 'drawn') drawn = performance.now();
    else if (msg.type === 'frames') frames.push(...(msg.frames ?? []));
    else {
      const s = performance.now();
      reply = m.answer(msg as never);
      if (msg.type === 'timeline') hostMs.push(performance.now() - s);
    }
    if (reply) await page.evaluate((r) => window.postMessage(r, '*'), plain(reply) as object);
  });
  await page.goto(`file://${dir}/index.html`);
  await page.locator('#chart[data-columns]').waitFor({ state: 'attached', timeout: 120_000 });
  const firstChartMs = drawn - opened;
  const box = await page.locator('#chart').boundingBox();
  if (!box) throw new Error('no chart');
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width / 2, y);
  for (let i = 0; i < 10; i++) await page.mouse.wheel(0, -240);
  await page.mouse.down();
  for (let i = 0; i < 4; i++) {
    await page.mouse.move(box.x + box.width * 0.15, y, { steps: 40 });
    await page.mouse.move(box.x + box.width * 0.85, y, { steps: 40 });
  }
  await page.mouse.up();
  await page.waitForTimeout(1500);
  await browser.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { firstChartMs, frames, hostMs };
}

async function main(): Promise<void> {
  console.log(`synthetic trace: ${EVENTS.toLocaleString('en-US')} events through the 6.1 allocator (16384 slots, 8 areas)`);
  let s = performance.now();
  const big = synthetic(EVENTS);
  const genMs = performance.now() - s;
  s = performance.now();
  big.timeline.aggregate({ t0: big.info.t0, t1: big.info.t1, columns: 1200 });
  console.log(
    `  generated in ${(genMs / 1000).toFixed(1)} s (panel series included); peak ${big.info.summary.peakSlots} slots, ${big.info.summary.failed} failed maps; rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
  );
  hostBench(big);
  const small = synthetic(10_000);
  // three runs, each the big trace then the 10-thousand-event baseline; medians over the runs
  const runs: { big: WebviewFigures; small: WebviewFigures }[] = [];
  for (let run = 0; run < RUNS; run++) {
    const wBig = await webviewBench(big);
    const wSmall = wBig ? await webviewBench(small) : null;
    if (!wBig || !wSmall) return;
    runs.push({ big: wBig, small: wSmall });
  }
  const of = (which: 'big' | 'small', f: (w: WebviewFigures) => number) => median(runs.map((r) => f(r[which])));
  const figures: [string, (w: WebviewFigures) => number][] = [
    ['frames', (w) => w.frames.length],
    ['median frame ms', (w) => median(w.frames)],
    ['p95 frame ms', (w) => p95(w.frames)],
    ['host columns median ms', (w) => median(w.hostMs)],
    ['first chart ms', (w) => w.firstChartMs],
  ];
  const label = `${(EVENTS / 1e6).toFixed(0)}M events`;
  console.log(`webview (Chromium, dist/webview.js) while zooming and panning: medians of ${RUNS} runs`);
  console.log(`  figure                   10K events ${label.padStart(12)}   ratio`);
  for (const [name, f] of figures) {
    const a = of('small', f);
    const b = of('big', f);
    console.log(`  ${name.padEnd(24)} ${f2(a).padStart(10)} ${f2(b).padStart(12)}   ${a > 0 ? (b / a).toFixed(2) : '-'}`);
  }
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
