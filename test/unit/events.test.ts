import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { EventKind, Outcome } from '../../src/analysis/codes';
import { EventTable } from '../../src/analysis/eventTable';
import { slotOwnersAt, summarizeEvents } from '../../src/analysis/session';
import { Reason, reasonCodes } from '../../src/model/reasons';
import { replaySession } from '../../src/replay/run';

const FIX = path.join(__dirname, '..', 'fixtures');

test('the event table grows, interns names and materialises rows', () => {
  const t = new EventTable();
  for (let i = 0; i < 5000; i++) t.push({ kind: EventKind.Map, outcome: Outcome.Direct, device: `dev${i % 3}`, size: i, phys: 0x1000 + i });
  assert.equal(t.length, 5000);
  assert.equal(t.devices.values.length, 4);
  const r = t.row(4999);
  assert.deepEqual([r.kind, r.outcome, r.device, r.size, r.phys, r.slot, r.cpu], ['map', 'direct', 'dev1', 4999, '0x2387', null, null]);
  assert.throws(() => t.row(5000), RangeError);
  assert.deepEqual(reasonCodes(Reason.ForceBounce | Reason.PoolFull), ['force', 'pool-full']);
});

test('a replay becomes a session: rows, pairs, occupancy and the slot map', async () => {
  const { run, session } = await replaySession(path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2.ops.jsonl.gz'));
  const t = session.events;
  assert.equal(t.length, run.ops);
  const s = session.summary;
  assert.equal(s.maps, 3457);
  assert.equal(s.bounced, 3445);
  assert.equal(s.failed, 12);
  // 11 failures left free slots (NVMe alignment holes); one AHCI map found the pool really full
  assert.deepEqual(s.failuresByCause, { fragmented: 11, 'pool-full': 1 });
  assert.equal(s.peakSlots, 512);
  // the first map and its unmap point at each other
  assert.equal(t.get('pair', 0), 1);
  assert.equal(t.get('pair', 1), 0);
  assert.equal(t.row(1).outcome, 'released');
  // slot owners after the peak row account for every used slot
  const owners = slotOwnersAt(t, 512, s.peakRow as number);
  assert.equal(
    owners.reduce((n, o) => n + (o >= 0 ? 1 : 0), 0),
    512,
  );
  const all = slotOwnersAt(t, 512, t.length - 1);
  assert.ok(
    all.every((o) => o === -1),
    'empty at the end',
  );
  // the summary of the table, against what the kernel's own record of the run says: its map
  // outcomes, its unmaps, and the slots each buffer held (the unmap's freed_slots) summed over time
  const ops = zlib
    .gunzipSync(fs.readFileSync(path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2.ops.jsonl.gz')))
    .toString()
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => JSON.parse(l));
  assert.equal(ops.length, t.length, 'one row per op');
  const held = new Map<number, number>();
  for (const o of ops) if (o.op === 'unmap') held.set(o.id, o.expect.freed_slots);
  let used = 0;
  let peak = 0;
  let peakRow = -1;
  ops.forEach((o, i) => {
    if (o.op === 'map' && o.expect.ok) used += held.get(o.id) ?? 0;
    if (o.op === 'unmap') used -= o.expect.freed_slots;
    if (used > peak) [peak, peakRow] = [used, i];
  });
  const kernel = {
    maps: ops.filter((o) => o.op === 'map').length,
    bounced: ops.filter((o) => o.op === 'map' && o.expect.ok).length,
    failed: ops.filter((o) => o.op === 'map' && !o.expect.ok).length,
    unmaps: ops.filter((o) => o.op === 'unmap').length,
    peakSlots: peak,
    peakRow,
  };
  const summary = summarizeEvents(t);
  assert.deepEqual(
    {
      maps: summary.maps,
      bounced: summary.bounced,
      failed: summary.failed,
      unmaps: summary.unmaps,
      peakSlots: summary.peakSlots,
      peakRow: summary.peakRow,
    },
    kernel,
  );
  // and against the rows as the panel shows them, counted one by one
  const rows = Array.from({ length: t.length }, (_, i) => t.row(i));
  const maps = rows.filter((r) => r.kind === 'map');
  assert.deepEqual(
    [summary.direct, summary.syncs, summary.bytesCopied],
    [maps.filter((r) => r.outcome === 'direct').length, 0, rows.reduce((n, r) => n + r.copied, 0)],
  );
});
