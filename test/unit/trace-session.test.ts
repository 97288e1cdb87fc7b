/**
 * A trace analysis as the shared AnalysisSession (for the panel): kind, pool, one row per call
 * with maps and unmaps paired, the generic summary agreeing with the report.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { EventKind, Outcome } from '../../src/analysis/codes';
import { EventTable } from '../../src/analysis/eventTable';
import { slotOwnersAt } from '../../src/analysis/session';
import { buildReport } from '../../src/trace/report';
import { analyzeText } from '../../src/trace/run';
import { traceSession } from '../../src/trace/session';

const RUN = path.join(__dirname, '..', 'fixtures', 'kernel-6.1', 'b_small_pool_smp2');

test('the small-pool run as a session', async () => {
  const events = new EventTable();
  const analysis = await analyzeText([RUN], { events, noSizing: true });
  const report = buildReport(analysis);
  const s = traceSession(analysis);
  assert.equal(s.kind, 'trace+log');
  assert.deepEqual([s.pool?.start, s.pool?.nslabs, s.pool?.nareas], [0x7d500000, 512, 2]);
  assert.equal(s.summary.maps, report.counts.maps);
  assert.equal(s.summary.bounced, report.counts.bounced_maps);
  assert.equal(s.summary.failed, report.counts.failed);
  assert.equal(s.summary.unmaps, report.counts.unmaps);
  assert.equal(s.summary.peakSlots, report.occupancy.peak_slots);
  assert.deepEqual(s.summary.failuresByCause, { fragmented: 11, 'pool-full': 1 });
  assert.deepEqual(s.summary.bouncesByReason, { force: 3445 });
  // rows: every map points at its unmap and back; the rows come from the trace's lines
  const t = s.events;
  const kinds = t.gather('kind');
  const firstMap = kinds.indexOf(EventKind.Map);
  const pair = t.get('pair', firstMap);
  assert.equal(t.get('kind', pair), EventKind.Unmap);
  assert.equal(t.get('pair', pair), firstMap);
  assert.equal(t.row(firstMap).file, path.join(RUN, 'trace.txt.gz'));
  assert.ok((t.row(firstMap).line ?? 0) > 12);
  // the slot map at the peak holds every used slot
  const owners = slotOwnersAt(t, 512, s.summary.peakRow as number);
  assert.equal(
    owners.reduce((n, o) => n + (o >= 0 ? 1 : 0), 0),
    512,
  );
  assert.ok(t.gather('outcome').includes(Outcome.Failed));
  assert.ok(kinds.includes(EventKind.LogMessage), 'the log lines are rows too');
});

test('more events than rows: the summary and the device totals still count the whole trace', async () => {
  const full = traceSession((await run())[0]);
  assert.equal(full.summary.rowsOnly, undefined);
  const events = new EventTable();
  const analysis = await analyzeText([RUN], { events, noSizing: true, rowLimit: 1000 });
  const s = traceSession(analysis);
  assert.equal(s.events.length, 1000);
  assert.equal(s.summary.rowsOnly, 1000);
  // the whole trace: the same figures as without the limit
  for (const k of ['maps', 'direct', 'bounced', 'failed', 'unmaps', 'syncs', 'bytesCopied', 'peakSlots'] as const)
    assert.equal(s.summary[k], full.summary[k], k);
  assert.deepEqual(s.summary.failuresByCause, full.summary.failuresByCause);
  assert.deepEqual(s.summary.bouncesByReason, full.summary.bouncesByReason);
  assert.equal(s.summary.averageSlots, full.summary.averageSlots);
  assert.deepEqual(s.devices, full.devices);
  // the peak came after the rows kept: no row to point at
  assert.ok((full.summary.peakRow as number) >= 1000);
  assert.equal(s.summary.peakRow, null);
  assert.ok(s.diagnostics.some((d) => /events after the first 1000 are counted in the report but not kept as rows/.test(d.message)));
});

async function run() {
  const events = new EventTable();
  const analysis = await analyzeText([RUN], { events, noSizing: true });
  return [analysis, buildReport(analysis)] as const;
}
