/**
 * The extension's trace worker (src/extension/analyzeWorker.ts, bundled as the build bundles it)
 * posts the chart of what was read while it reads: partial charts before the session, each of
 * more rows than the last, from the first row's time, then the session itself with its tracks built.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { type SynthOptions, synthDmaTrace } from '../../scripts/synthTrace';
import { EventTable } from '../../src/analysis/eventTable';
import { PanelModel } from '../../src/analysis/panelModel';
import { MAX_COLUMNS } from '../../src/analysis/partialTimeline';
import { adoptTracks, Tracks, tracksOf } from '../../src/analysis/tracks';
import type { AnalyzeWorkerInput, AnalyzeWorkerMessage } from '../../src/extension/analyzeWorker';
import { routeInputs } from '../../src/inputs/router';
import { bundleWorker } from './bundle';
import { assertSameTracks } from './tracks-helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'analyze-worker-'));
const script = bundleWorker('src/extension/analyzeWorker.ts', path.join(tmp, 'analyzeWorker.js'));

test('partial charts of the rows read, then the session', async () => {
  const o: SynthOptions = {
    seed: 7,
    profile: 'mainline',
    base: 0xbbfdb000,
    nslabs: 2048,
    nareas: 4,
    cpus: 4,
    devices: [{ name: '0000:00:03.0', driver: 'nvme', minAlign: 0xfff, dmaMask: 2 ** 64, forced: true, maxSize: 65536, sgShare: 0.2 }],
    lines: 30000,
    live: 40,
    sgCounts: true,
  };
  const lines: string[] = [];
  synthDmaTrace(o, (l) => lines.push(l));
  const file = path.join(tmp, 'trace.txt');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  const route = await routeInputs([file]);
  assert.equal(route.kind, 'text');
  const input: AnalyzeWorkerInput = { route: route as AnalyzeWorkerInput['route'], rowLimit: 1e7, label: 'trace.txt', partialMs: 0 };
  const got: AnalyzeWorkerMessage[] = [];
  await new Promise<void>((resolve, reject) => {
    const w = new Worker(script, { workerData: input });
    w.on('message', (m: AnalyzeWorkerMessage) => {
      got.push(m);
      if (m.type === 'done' || m.type === 'error') void w.terminate().then(() => resolve());
    });
    w.on('error', reject);
  });
  const done = got.at(-1);
  assert.ok(done?.type === 'done', JSON.stringify(done).slice(0, 300));
  const partials = got.filter((m) => m.type === 'partial');
  assert.ok(partials.length >= 3, `${partials.length} partial charts`);
  const table = EventTable.fromTransfer(done.events);
  // the tracks came built: the same as the host builds of the same rows
  const model = new PanelModel({ ...done.session, events: table });
  const here = new Tracks(table, done.session.pool?.nareas ?? 0, model.timeline.times);
  assert.ok(here.info.slices > 1000 && here.info.tracks.length > 4, `${here.info.slices} slices`);
  adoptTracks(model, done.tracks);
  assertSameTracks(here, tracksOf(model), model.info.t0, model.info.t1);
  const time = (i: number) => table.get('time', i);
  let rows = 0;
  let fraction = 0;
  for (const p of partials) {
    assert.ok(p.rows >= rows && p.fraction >= fraction, 'each chart shows at least what the last did');
    rows = p.rows;
    fraction = p.fraction;
    assert.ok(p.data && p.data.columns >= 1 && p.data.columns <= MAX_COLUMNS);
    assert.equal(p.data.t0, time(0));
    assert.ok(p.data.t1 > time(p.rows - 1), 'the last row read is on the chart');
    assert.equal(
      p.data.events.reduce((a, b) => a + b, 0),
      p.rows,
      'every row read is in a column',
    );
  }
  assert.ok(rows > (partials[0] as { rows: number }).rows, 'the chart fills in');
  assert.ok(rows <= done.events.length);
  assert.ok(got.findIndex((m) => m.type === 'partial') < got.indexOf(done));
  table.dispose();
});
