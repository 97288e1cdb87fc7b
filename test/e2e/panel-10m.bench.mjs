// `npm run bench:vscode`: the panel on a 10-million-event dma:* trace in a real VS Code.
//
// The trace is bench:ingest's generator (deterministic, from the model) at 1.7 GB: about 11 million
// trace lines that become 10 million rows (maps, unmaps, failures; syncs are counted, not rows).
// The baseline, in the same code-server session, is the same generator at 1.7 MB (about 10
// thousand rows). For each: "Analyze Trace or Log File...", time to first chart (the extension's
// own figure), the peak RSS of the extension host while it runs, then the same wheel-zoom and
// drag-pan as the panel test, and the frame times the webview reports. Printed with the ratios
// big / baseline, and saved to test-output/e2e/bench-vscode.json.
// Options: BENCH_BYTES (default 1.7e9), BENCH_DIR (default $TMPDIR/swiotlb-lens-bench-vscode).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  canvasInk,
  outputMatch,
  outputMatches,
  panelFrame,
  pickFile,
  runCommand,
  SHOTS,
  shot,
  workbenchSuite,
  zoomAndPan,
} from './vscode.mjs';

const BYTES = Number(process.env.BENCH_BYTES ?? 1.7e9);
const DIR = process.env.BENCH_DIR ?? path.join(os.tmpdir(), 'swiotlb-lens-bench-vscode');
const SMALL = Math.round(BYTES / 1000);

let page;
let ws;
const results = {};

/** bench:ingest's generator, cached by its options in `dir` (a re-run reuses the trace). */
function generate(bytes, dir) {
  const r = spawnSync(process.execPath, ['scripts/bench-ingest.mjs', '--generate-only'], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_BYTES: String(bytes), BENCH_DIR: dir },
  });
  if (r.status !== 0) throw new Error(`generating the ${bytes}-byte trace failed`);
  return JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')).truth;
}

/** Resident set of the extension host (code-server forks it with --type=extensionHost), in MiB. */
function extensionHostRss() {
  let total = 0;
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('--type=extensionHost')) continue;
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) total += Number(m[1]) / 1024;
    } catch {}
  }
  return total;
}

const test = workbenchSuite({
  tmpPrefix: 'swiotlb-bench-ws-',
  shotPrefix: 'bench-',
  prepare(dir) {
    ws = dir;
    results.big = { truth: generate(BYTES, DIR) };
    results.small = { truth: generate(SMALL, path.join(ws, 'small')) };
    fs.symlinkSync(path.join(DIR, 'capture'), path.join(ws, 'big'));
  },
  ready(p) {
    page = p;
  },
  close() {
    fs.mkdirSync(SHOTS, { recursive: true });
    fs.writeFileSync(path.join(SHOTS, 'bench-vscode.json'), `${JSON.stringify(results, null, 2)}\n`);
  },
});

const FIRST_CHART =
  /first chart of "[^"]*" \(([\d,]+) rows\) drawn (\d+) ms after the command \(analysis (\d+) ms, panel (\d+) ms, of which (\d+) ms/;
const PAN =
  /chart frames while zooming\/panning "[^"]*" \([\d,]+ rows\): (\d+) frames, median ([\d.]+) ms, p95 ([\d.]+) ms, max ([\d.]+) ms; host columns for (\d+) windows: median ([\d.-]+) ms, p95 ([\d.-]+) ms/;

async function analyzeAndPan(which, trace) {
  const r = results[which];
  let peakRss = extensionHostRss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, extensionHostRss());
  }, 250);
  try {
    const seen = await outputMatches(page, FIRST_CHART);
    await runCommand(page, 'SWIOTLB: Analyze Trace or Log File...', { quickPick: true });
    await pickFile(page, trace);
    const first = await outputMatch(page, FIRST_CHART, { seen, timeout: 30 * 60_000 });
    r.rows = Number(first[1].replace(/,/g, ''));
    r.firstChartMs = Number(first[2]);
    r.analysisMs = Number(first[3]);
    r.panelMs = Number(first[4]);
    r.webviewMs = Number(first[5]);
    assert.ok(r.rows > 0, 'rows for the panel');
  } finally {
    clearInterval(sampler);
  }
  r.extensionHostPeakRssMiB = Math.round(peakRss);
  const p = panelFrame(page);
  await p.locator('#chart[data-columns]').waitFor({ state: 'attached', timeout: 120_000 });
  assert.ok((await canvasInk(p.locator('#chart'))) > 0, 'the chart draws');
  assert.equal(Number((await p.locator('#sum-maps .card-value').innerText()).replace(/,/g, '')), r.truth.maps);
  const panSeen = await outputMatches(page, PAN);
  await zoomAndPan(page, p.locator('#chart'));
  const m = await outputMatch(page, PAN, { seen: panSeen, timeout: 60_000 });
  r.pan = {
    frames: Number(m[1]),
    medianMs: Number(m[2]),
    p95Ms: Number(m[3]),
    maxMs: Number(m[4]),
    hostWindows: Number(m[5]),
    hostMedianMs: Number(m[6]),
    hostP95Ms: Number(m[7]),
  };
  await shot(page, `bench-${which}`);
  await p.locator('#chart').dblclick();
}

test('baseline: a 10-thousand-event trace', async () => {
  await analyzeAndPan('small', path.join(ws, 'small', 'capture', 'trace.txt'));
});

test('a 10-million-event trace: first chart, memory, pan frame times', async () => {
  await analyzeAndPan('big', path.join(ws, 'big', 'trace.txt'));
  const { small, big } = results;
  const ratio = (a, b) => (b > 0 ? (a / b).toFixed(2) : '-');
  results.ratios = {
    rows: ratio(big.rows, small.rows),
    panMedian: ratio(big.pan.medianMs, small.pan.medianMs),
    panP95: ratio(big.pan.p95Ms, small.pan.p95Ms),
    hostColumnsMedian: ratio(big.pan.hostMedianMs, small.pan.hostMedianMs),
  };
  console.log(`panel in a real VS Code: ${big.rows.toLocaleString('en-US')} rows vs ${small.rows.toLocaleString('en-US')} rows`);
  for (const [k, r] of Object.entries({ big, small })) {
    console.log(
      `  ${k.padEnd(5)} first chart ${r.firstChartMs} ms (analysis ${r.analysisMs}, panel ${r.panelMs}, webview ${r.webviewMs}); extension host peak RSS ${r.extensionHostPeakRssMiB} MiB; pan ${r.pan.frames} frames median ${r.pan.medianMs} ms p95 ${r.pan.p95Ms} ms; host columns median ${r.pan.hostMedianMs} ms`,
    );
  }
  console.log(
    `  ratios big/small: pan median ${results.ratios.panMedian}, p95 ${results.ratios.panP95}, host columns ${results.ratios.hostColumnsMedian}`,
  );
  // interactive means frames stay within a few display frames whatever the trace length
  assert.ok(big.pan.p95Ms < 100, `p95 frame ${big.pan.p95Ms} ms`);
});
