/**
 * The chart of an analysis still running (GrowingTimeline): fed a growing table in chunks, its
 * columns equal what Timeline.aggregate gives for the same window over the rows read, while the
 * column width doubles many times.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { GrowingTimeline, MAX_COLUMNS } from '../../src/analysis/partialTimeline';
import { Timeline } from '../../src/analysis/timeline';
import { replaySession } from '../../src/replay/run';

const FIX = path.join(__dirname, '..', 'fixtures');

describe('growing timeline', () => {
  test('chunk by chunk, its columns are the aggregate of the rows read so far', async () => {
    const { session } = await replaySession(path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2.ops.jsonl.gz'));
    const t = session.events;
    const n = t.length;
    // whole-number times with gaps and repeats: the columns' edges are exact
    const steps = fc.sample(fc.integer({ min: 0, max: 7 }), { numRuns: n, seed: 13 });
    let now = 1000;
    for (let i = 0; i < n; i++) {
      now += steps[i] as number;
      t.set('time', i, now);
    }
    const chunks = fc.sample(fc.integer({ min: 1, max: 900 }), { numRuns: 200, seed: 3 });
    const g = new GrowingTimeline();
    let read = 0;
    let checked = 0;
    for (let k = 0; read < n; k++) {
      read = Math.min(n, read + (chunks[k % chunks.length] as number));
      t.length = read;
      g.feed(t);
      const got = g.columns();
      const want = new Timeline(t, 0).aggregate({ t0: got.t0, t1: got.t1, columns: got.columns });
      assert.equal(got.t0, t.get('time', 0));
      assert.ok(got.t1 > t.get('time', read - 1), 'the last row read is inside the last column');
      assert.ok(got.columns <= MAX_COLUMNS);
      assert.deepEqual({ ...got, areaMax: null }, { ...want, areaMax: null }, `after ${read} rows`);
      checked++;
    }
    t.length = n;
    assert.equal(g.rows, n);
    assert.ok(g.columns().t1 - g.columns().t0 > MAX_COLUMNS, 'the width doubled');
    assert.equal(g.peak, 512);
    assert.equal(g.fractionalTimes, false);
    assert.ok(checked > 10);
  });
});
