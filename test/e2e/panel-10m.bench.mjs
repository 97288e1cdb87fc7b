// `npm run bench:vscode`: the panel on a 10-million-event dma:* trace in a real VS Code.
//
// The trace is bench:ingest's generator (deterministic, from the model) at 1.7 GB: about 11 million
// trace lines that become 10 million rows (maps, unmaps, failures; syncs are counted, not rows).
// The baseline, in the same code-server session, is the same generator at 1.7 MB (about 10
// thousand rows). For each: "Analyze Trace or Log File...", time to first chart (the extension's
// own figure), the peak RSS of the extension host while it runs, then a wheel-zoom and drag-pan
// (vscode.mjs zoomAndPan), and the frame times the webview reports. Three runs, each the baseline
// then the big trace; printed as medians over the runs with the ratios big / baseline, and saved
// to test-output/e2e/bench-vscode.json. Nothing here is judged: the figures are for people.
// Before each run, a small input (the generator at 60 KB, about 400 lines) is analysed with the
// panel closed: "small input: panel after analysis N ms" is the time from its analysis' end to its
// chart (the panel opens when the analysis starts), with the webview's load and the analysis
// beside it; the extension's activation is read from its own line. The big trace's "first partial
// chart" is when the chart of what was read first shows while its analysis runs.
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
  showOutput,
  workbenchSuite,
  zoomAndPan,
} from './vscode.mjs';

const BYTES = Number(process.env.BENCH_BYTES ?? 1.7e9);
const DIR = process.env.BENCH_DIR ?? path.join(os.tmpdir(), 'swiotlb-lens-bench-vscode');
const SMALL = Math.round(BYTES / 1000);
/** About 400 trace lines. */
const TINY = 60_000;

let page;
let ws;
const RUNS = 3;
const results = { runs: [] };

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
    results.truth = {
      big: generate(BYTES, DIR),
      small: generate(SMALL, path.join(ws, 'small')),
      tiny: generate(TINY, path.join(ws, 'tiny')),
    };
    // a name per run: each analysis is a new session with output lines of its own
    for (let run = 1; run <= RUNS; run++) {
      fs.symlinkSync(path.join(DIR, 'capture', 'trace.txt'), path.join(ws, `big-${run}.trace.txt`));
      fs.symlinkSync(path.join(ws, 'small', 'capture', 'trace.txt'), path.join(ws, `small-${run}.trace.txt`));
      fs.symlinkSync(path.join(ws, 'tiny', 'capture', 'trace.txt'), path.join(ws, `tiny-${run}.trace.txt`));
    }
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
  /first chart of "[^"]*" \(([\d,]+) rows\) drawn (\d+) ms after the command \(analysis (\d+) ms, panel (\d+) ms, of which (\d+) ms in the webview from the session to its chart, (-?\d+) ms of them until it asked/;
const LOADED = /the webview loaded in (-?\d+) ms\)/;
const FIRST_PARTIAL = /first partial chart of "[^"]*" \(([\d,]+) rows read\) drawn (\d+) ms after the command/;
const ACTIVATED = /SWIOTLB Lens activated in ([\d.]+) ms \(bundle loaded in ([\d.]+) ms\)/;
const PAN =
  /chart frames while zooming\/panning "[^"]*" \([\d,]+ rows\): (\d+) frames, median ([\d.]+) ms, p95 ([\d.]+) ms, max ([\d.]+) ms; host columns for (\d+) windows: median ([\d.-]+) ms, p95 ([\d.-]+) ms/;

async function analyzeAndPan(which, trace) {
  const r = { trace: path.basename(trace) };
  let peakRss = extensionHostRss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, extensionHostRss());
  }, 250);
  try {
    const seen = await outputMatches(page, FIRST_CHART);
    const seenPartial = await outputMatches(page, FIRST_PARTIAL);
    await runCommand(page, 'SWIOTLB: Analyze Trace or Log File...', { quickPick: true });
    await pickFile(page, trace);
    if (which === 'big') {
      const partial = await outputMatch(page, FIRST_PARTIAL, { seen: seenPartial, timeout: 10 * 60_000 });
      r.firstPartialChartMs = Number(partial[2]);
      r.firstPartialRows = Number(partial[1].replace(/,/g, ''));
    }
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
  assert.equal(Number((await p.locator('#sum-maps .card-value').innerText()).replace(/,/g, '')), results.truth[which].maps);
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
  return r;
}

test('the extension activates; its Output channel opened (analyses do not force it open)', async () => {
  await runCommand(page, 'SWIOTLB: Open Panel', { timeout: 120_000 });
  await showOutput(page);
  const m = await outputMatch(page, ACTIVATED, { timeout: 60_000 });
  results.activation = { ms: Number(m[1]), bundleMs: Number(m[2]) };
  console.log(`extension activation: ${m[1]} ms (bundle loaded in ${m[2]} ms)`);
});

/** A small input with the panel closed: where the time from the command to its chart goes. */
async function smallInput(trace) {
  await runCommand(page, 'View: Close All Editors');
  const seen = await outputMatches(page, FIRST_CHART);
  await runCommand(page, 'SWIOTLB: Analyze Trace or Log File...', { quickPick: true });
  await pickFile(page, trace);
  const first = await outputMatch(page, FIRST_CHART, { seen, timeout: 5 * 60_000 });
  const loaded = LOADED.exec(first.input.slice(first.index)) ?? [null, '-1'];
  const r = {
    rows: Number(first[1].replace(/,/g, '')),
    firstChartMs: Number(first[2]),
    analysisMs: Number(first[3]),
    panelAfterAnalysisMs: Number(first[4]),
    webviewMs: Number(first[5]),
    webviewAskedMs: Number(first[6]),
    webviewLoadMs: Number(loaded[1]),
  };
  console.log(
    `small input: panel after analysis ${r.panelAfterAnalysisMs} ms (${r.rows} rows; command to chart ${r.firstChartMs} ms, analysis ${r.analysisMs} ms, webview load ${r.webviewLoadMs} ms from the panel's creation; in the webview ${r.webviewMs} ms from the session to the chart, ${r.webviewAskedMs} ms of them until it asked for its columns)`,
  );
  return r;
}

for (let run = 1; run <= RUNS; run++) {
  test(`run ${run} of ${RUNS}: the baseline (a thousandth of the bytes), then the big trace`, async () => {
    const tiny = await smallInput(path.join(ws, `tiny-${run}.trace.txt`));
    const small = await analyzeAndPan('small', path.join(ws, `small-${run}.trace.txt`));
    const big = await analyzeAndPan('big', path.join(ws, `big-${run}.trace.txt`));
    results.runs.push({ tiny, small, big });
  });
}

test('medians of the runs, and the ratios big / baseline', () => {
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const FIGURES = {
    firstChartMs: (r) => r.firstChartMs,
    analysisMs: (r) => r.analysisMs,
    panelMs: (r) => r.panelMs,
    webviewMs: (r) => r.webviewMs,
    extensionHostPeakRssMiB: (r) => r.extensionHostPeakRssMiB,
    panFrameMedianMs: (r) => r.pan.medianMs,
    panFrameP95Ms: (r) => r.pan.p95Ms,
    hostColumnsMedianMs: (r) => r.pan.hostMedianMs,
  };
  const tinyMed = (k) => median(results.runs.map((r) => r.tiny[k]));
  results.tiny = Object.fromEntries(
    ['rows', 'firstChartMs', 'analysisMs', 'panelAfterAnalysisMs', 'webviewLoadMs'].map((k) => [k, tinyMed(k)]),
  );
  results.firstPartialChartMs = median(results.runs.map((r) => r.big.firstPartialChartMs));
  const med = {};
  for (const which of ['small', 'big']) {
    med[which] = { rows: results.runs[0][which].rows };
    for (const [k, f] of Object.entries(FIGURES)) med[which][k] = median(results.runs.map((r) => f(r[which])));
  }
  results.medians = med;
  results.ratios = Object.fromEntries(
    ['rows', ...Object.keys(FIGURES)].map((k) => [k, med.small[k] > 0 ? Number((med.big[k] / med.small[k]).toFixed(2)) : null]),
  );
  const n = (x) => x.toLocaleString('en-US');
  console.log(
    `panel in a real VS Code, medians of ${results.runs.length} runs: ${n(med.big.rows)} rows against a baseline of ${n(med.small.rows)} rows`,
  );
  console.log('  figure                      baseline        big   big / baseline');
  for (const k of Object.keys(FIGURES))
    console.log(`  ${k.padEnd(24)} ${String(med.small[k]).padStart(11)} ${String(med.big[k]).padStart(10)}   ${results.ratios[k] ?? '-'}`);
  const t = results.tiny;
  console.log(
    `small input: panel after analysis ${t.panelAfterAnalysisMs} ms (median; ${t.rows} rows, command to chart ${t.firstChartMs} ms, analysis ${t.analysisMs} ms, webview load ${t.webviewLoadMs} ms)`,
  );
  console.log(`big trace: first partial chart ${results.firstPartialChartMs} ms after the command (median)`);
  assert.equal(results.runs.length, RUNS);
});
