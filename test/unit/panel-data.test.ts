/**
 * The host-side data behind the panel: per-column aggregation, filters and sorting over the
 * typed-array table, and slot maps at any row, each checked against a plain computation.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { EventKind, Outcome } from '../../src/analysis/codes';
import { EventTable } from '../../src/analysis/eventTable';
import { csvLines, queryRows } from '../../src/analysis/query';
import { slotOwnersAt } from '../../src/analysis/session';
import { SlotHistory } from '../../src/analysis/slotHistory';
import { FAILURE_CAUSES, MinMaxPyramid, Timeline } from '../../src/analysis/timeline';
import { DmaDirection } from '../../src/model/constants';
import { Reason } from '../../src/model/reasons';
import { replaySession } from '../../src/replay/run';

const FIX = path.join(__dirname, '..', 'fixtures');

describe('min/max pyramid', () => {
  test('every range agrees with a scan', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -1000, max: 100000 }), { minLength: 1, maxLength: 9000 }),
        fc.nat(),
        fc.nat(),
        (vals, x, y) => {
          const a = Int32Array.from(vals);
          const p = new MinMaxPyramid(a);
          const from = x % a.length;
          const to = from + (y % (a.length - from + 1));
          const got = p.range(from, to);
          if (to === from) return assert.equal(got, undefined);
          const slice = Array.from(a.subarray(from, to));
          assert.deepEqual(got, [Math.min(...slice), Math.max(...slice)]);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('timeline aggregation', () => {
  test('the pyramid columns equal a scan of every row, for any window and width', async () => {
    const { session } = await replaySession(path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2.ops.jsonl.gz'));
    const t = session.events;
    // a clock with bursts and gaps, including rows at the same time
    const rand = fc.sample(fc.integer({ min: 0, max: 3 }), { numRuns: t.length, seed: 5 });
    let now = 10;
    for (let i = 0; i < t.length; i++) {
      now += (rand[i] as number) === 0 ? 0 : (rand[i] as number) * 1e-4;
      t.set('time', i, now);
    }
    t.hasClock = true;
    const tl = new Timeline(t, 2);
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 1e-6, max: 1.2, noNaN: true }),
        fc.integer({ min: 1, max: 1500 }),
        (a, w, columns) => {
          const span = tl.end - tl.start;
          const t0 = tl.start - 0.05 * span + a * span;
          const q = { t0, t1: t0 + w * span, columns };
          assert.deepEqual(tl.aggregate(q), tl.aggregateByScan(q));
        },
      ),
      { numRuns: 200 },
    );
  });

  test('per-column min/max of a real run equals a brute-force pass', async () => {
    const { session } = await replaySession(path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2.ops.jsonl.gz'));
    const t = session.events;
    const tl = new Timeline(t, 2);
    assert.equal(tl.peak, 512);
    const cols = 97;
    const q = tl.aggregate({ t0: 0, t1: t.length, columns: cols });
    let carry = 0;
    let k = 0;
    const areaUsed = [0, 0];
    for (let c = 0; c < cols; c++) {
      const end = Math.ceil((t.length * (c + 1)) / cols);
      let lo = carry;
      let hi = carry;
      const areaHi = [...areaUsed];
      for (; k < end; k++) {
        const u = t.get('used', k);
        if (u < lo) lo = u;
        if (u > hi) hi = u;
        carry = u;
        const a = t.get('area', k);
        const o = t.get('outcome', k) as Outcome;
        if (a >= 0 && (o === Outcome.Bounced || o === Outcome.Released)) {
          areaUsed[a] = (areaUsed[a] as number) + (o === Outcome.Bounced ? 1 : -1) * t.get('nslots', k);
          areaHi[a] = Math.max(areaHi[a] as number, areaUsed[a] as number);
        }
      }
      assert.equal(q.totalMin[c], lo, `column ${c} min`);
      assert.equal(q.totalMax[c], hi, `column ${c} max`);
      assert.equal(q.areaMax[c], areaHi[0], `column ${c} area 0`);
      assert.equal(q.areaMax[cols + c], areaHi[1], `column ${c} area 1`);
    }
    const failures = q.failures.reduce((a, b) => a + b, 0);
    assert.equal(failures, 12);
    const fragmented = FAILURE_CAUSES.findIndex((f) => f.code === 'fragmented');
    let frag = 0;
    for (let c = 0; c < cols; c++) frag += q.failures[c * FAILURE_CAUSES.length + fragmented] as number;
    assert.equal(frag, 11);
  });
  test('a zoomed window carries the value in force before it', () => {
    const t = new EventTable();
    t.hasClock = true;
    t.push({ kind: EventKind.Map, outcome: Outcome.Bounced, time: 1, used: 5, slot: 0, nslots: 5, area: 0 });
    t.push({ kind: EventKind.Map, outcome: Outcome.Bounced, time: 10, used: 7, slot: 5, nslots: 2, area: 0 });
    const tl = new Timeline(t, 1);
    const q = tl.aggregate({ t0: 2, t1: 8, columns: 3 });
    assert.deepEqual([...q.totalMin], [5, 5, 5]);
    assert.deepEqual([...q.totalMax], [5, 5, 5]);
    assert.deepEqual([...q.events], [0, 0, 0]);
    assert.deepEqual([...q.areaMax], [5, 5, 5]);
  });
});

describe('filters and sorting', () => {
  const t = new EventTable();
  const dirs = [DmaDirection.TO_DEVICE, DmaDirection.FROM_DEVICE];
  for (let i = 0; i < 200; i++) {
    t.push({
      kind: i % 2 ? EventKind.Unmap : EventKind.Map,
      outcome: i % 10 === 0 ? Outcome.Failed : i % 2 ? Outcome.Released : Outcome.Bounced,
      device: i % 3 ? 'nvme' : 'ahci',
      api: i % 2 ? 'dma_unmap_page' : 'dma_map_page',
      size: (i * 37) % 5000,
      dir: dirs[i % 2],
      reasons: i % 10 === 0 ? Reason.PoolFull : Reason.ForceBounce,
      phys: 0x1000_0000 + i * 0x1000,
      time: i,
      ...(i === 42 ? { message: 'swiotlb buffer is full (sz: 4096 bytes)' } : {}),
    });
  }
  const brute = (pred: (i: number) => boolean) => Array.from({ length: t.length }, (_, i) => i).filter(pred);
  test('each filter keeps exactly the rows it names', () => {
    const nvme = t.devices.intern('nvme');
    assert.deepEqual(
      [...queryRows(t, { devices: [nvme] })],
      brute((i) => i % 3 !== 0),
    );
    assert.deepEqual(
      [...queryRows(t, { outcomes: [Outcome.Failed] })],
      brute((i) => i % 10 === 0),
    );
    assert.deepEqual(
      [...queryRows(t, { reasons: Reason.PoolFull })],
      brute((i) => i % 10 === 0),
    );
    assert.deepEqual([...queryRows(t, { dirs: [DmaDirection.FROM_DEVICE], t0: 50, t1: 60 })], [51, 53, 55, 57, 59]);
    assert.deepEqual(
      [...queryRows(t, { kinds: [EventKind.Map], devices: [nvme], outcomes: [Outcome.Bounced] })],
      brute((i) => i % 2 === 0 && i % 3 !== 0 && i % 10 !== 0),
    );
  });
  test('free text: device, call, reason code, message, an address inside a buffer', () => {
    assert.equal(queryRows(t, { text: 'AHCI' }).length, 67);
    assert.equal(queryRows(t, { text: 'unmap' }).length, 100);
    assert.equal(queryRows(t, { text: 'pool-full' }).length, 20);
    assert.deepEqual([...queryRows(t, { text: 'buffer is full' })], [42]);
    assert.deepEqual([...queryRows(t, { text: '0x10005010' })], [5]);
  });
  test('sorting is stable and reversible', () => {
    const bySize = [...queryRows(t, {}, { column: 'size' })];
    for (let k = 1; k < bySize.length; k++) {
      const a = t.get('size', bySize[k - 1] as number);
      const b = t.get('size', bySize[k] as number);
      assert.ok(a < b || (a === b && (bySize[k - 1] as number) < (bySize[k] as number)));
    }
    const byDevDesc = [...queryRows(t, {}, { column: 'device', desc: true })];
    assert.equal(t.devices.get(t.get('device', byDevDesc[0] as number)), 'nvme');
    assert.deepEqual([...queryRows(t, {}, { column: 'index', desc: true })].slice(0, 2), [199, 198]);
  });
  test('CSV quotes what needs quoting', () => {
    const lines = [...csvLines(t, queryRows(t, { text: 'buffer is full' }))];
    assert.equal(lines.length, 2);
    assert.match(lines[0] as string, /^row,time,kind,outcome,cpu,device,api,size,dir,reasons/);
    assert.match(lines[1] as string, /^42,42,map,bounced,,ahci,dma_map_page,1554,DMA_TO_DEVICE,force,/);
    assert.match(lines[1] as string, /,swiotlb buffer is full \(sz: 4096 bytes\)$/);
    const q = new EventTable();
    q.push({ kind: EventKind.LogMessage, message: 'a "quoted", line' });
    assert.match([...csvLines(q, [0])][1] as string, /,"a ""quoted"", line"$/);
  });
});

describe('slot maps at any row', () => {
  test('checkpointed history equals a replay from the start, on both sides of every checkpoint', async () => {
    const { session } = await replaySession(path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2.ops.jsonl.gz'));
    const t = session.events;
    assert.equal(new SlotHistory(t, 512).every, 16384, 'the default: one checkpoint for this run');
    // small intervals, so that the 6,902 rows cross many checkpoints
    for (const every of [1, 7, 500, 2048]) {
      const h = new SlotHistory(t, 512, every);
      const rows = [-1, 0, 1, 17, 3000, session.summary.peakRow as number, t.length - 1, t.length + 5];
      for (let cp = every; cp < t.length; cp += every < 100 ? 997 * every : every) rows.push(cp - 1, cp, cp + 1);
      for (const row of rows) {
        const want = row < 0 ? new Int32Array(512).fill(-1) : slotOwnersAt(t, 512, row);
        assert.deepEqual(h.ownersAfter(row), want, `every ${every}, row ${row}`);
      }
    }
  });
});
