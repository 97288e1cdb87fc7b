/**
 * The panel's tracks (src/analysis/tracks.ts): counter tracks per area, device and CPU that add
 * up to the pool's occupancy, the instant lane, slices that pair each map with its unmap, the
 * histograms of sizes and lifetimes, the occupancy at flags, and the messages that carry them.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { EventKind, Outcome } from '../../src/analysis/codes';
import { EventTable } from '../../src/analysis/eventTable';
import { PanelModel } from '../../src/analysis/panelModel';
import {
  adoptTracks,
  answerTracks,
  binOf,
  byLengthOrder,
  INSTANT_CLASSES,
  LIFETIME_BINS_EVENTS,
  LIFETIME_BINS_SECONDS,
  MAX_SLICES,
  SIZE_BINS,
  Tracks,
  type TracksTransfer,
  tracksOf,
} from '../../src/analysis/tracks';
import { isHostMessage, isWebviewMessage } from '../../src/protocol/messages';
import { replaySession } from '../../src/replay/run';
import { assertSameTracks } from './tracks-helpers';

const FIX = path.join(__dirname, '..', 'fixtures');

async function smallPool(): Promise<PanelModel> {
  const { session } = await replaySession(path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2.ops.jsonl.gz'));
  return new PanelModel(session, {});
}

describe('counter tracks', () => {
  test('per area, per device and per CPU, each kind sums to the pool occupancy at every row', async () => {
    const m = await smallPool();
    const tr = tracksOf(m);
    const kinds = ['area', 'device', 'cpu'] as const;
    for (const k of kinds)
      assert.ok(
        tr.info.tracks.some((d) => d.kind === k),
        `a ${k} track`,
      );
    assert.equal(tr.info.tracks.filter((d) => d.kind === 'area').length, m.session.pool?.nareas);
    // no clock: one column per event, so every row is checked
    const n = m.info.rows;
    const c = tr.aggregate({ t0: 0, t1: n, columns: n });
    const total = m.timeline.total;
    let busy = 0;
    for (let col = 0; col < n; col++) {
      const want = total[col] as number;
      if (want > 0) busy++;
      for (const k of kinds) {
        let sum = 0;
        for (const d of tr.info.tracks) if (d.kind === k) sum += c.last[d.id * n + col] as number;
        assert.equal(sum, want, `${k} tracks at row ${col}`);
      }
    }
    assert.ok(busy > 1000, 'the pool was in use for much of the run');
    // each track's peak is the most it shows over the whole input
    for (const d of tr.info.tracks) assert.equal(Math.max(...c.max.subarray(d.id * n, (d.id + 1) * n)), d.peak, d.label);
    // the areas of the small pool fill to 256 slots each (512 in all, the summary's peak)
    assert.equal(
      tr.info.tracks.filter((d) => d.kind === 'area').reduce((a, d) => a + d.peak, 0),
      m.info.summary.peakSlots,
    );
  });

  test('a column holds the most slots within it; a zoomed window carries the value before it', () => {
    const t = new EventTable();
    t.hasClock = true;
    t.push({ kind: EventKind.Map, outcome: Outcome.Bounced, time: 1, used: 4, slot: 0, nslots: 4, area: 0, device: 'nvme', cpu: 0 });
    t.push({ kind: EventKind.Map, outcome: Outcome.Bounced, time: 2, used: 6, slot: 8, nslots: 2, area: 1, device: 'ahci', cpu: 1 });
    t.push({
      kind: EventKind.Unmap,
      outcome: Outcome.Released,
      time: 3,
      used: 2,
      slot: 0,
      nslots: 4,
      area: 0,
      device: 'nvme',
      cpu: 1,
      pair: 0,
    });
    t.push({ kind: EventKind.Map, outcome: Outcome.Failed, time: 5, device: 'nvme', cpu: 0 });
    t.push({ kind: EventKind.LogMessage, time: 6, message: 'swiotlb buffer is full' });
    t.push({ kind: EventKind.Marker, time: 7, message: 'phase 2' });
    const tr = new Tracks(t, 2);
    const id = (kind: string, label: string) => tr.info.tracks.find((d) => d.kind === kind && d.label === label)?.id as number;
    const c = tr.aggregate({ t0: 0, t1: 8, columns: 8 });
    const row = (k: number, a: Int32Array) => [...a.subarray(k * 8, k * 8 + 8)];
    assert.deepEqual(row(id('area', 'area 0'), c.last), [0, 4, 4, 0, 0, 0, 0, 0]);
    assert.deepEqual(row(id('area', 'area 1'), c.last), [0, 0, 2, 2, 2, 2, 2, 2]);
    assert.deepEqual(row(id('device', 'nvme'), c.max), [0, 4, 4, 4, 0, 0, 0, 0]);
    // the release on CPU 1 ends a map made on CPU 0: CPU 0's slots go
    assert.deepEqual(row(id('cpu', 'CPU 0'), c.last), [0, 4, 4, 0, 0, 0, 0, 0]);
    assert.deepEqual(row(id('cpu', 'CPU 1'), c.last), [0, 0, 2, 2, 2, 2, 2, 2]);
    // the instant lane: a failure, a log line, a marker, each in its column with its row
    assert.deepEqual([...INSTANT_CLASSES], ['failure', 'log', 'marker']);
    assert.equal(c.instants[0 * 8 + 5], 1);
    assert.equal(c.instantRows[0 * 8 + 5], 3);
    assert.equal(c.instants[1 * 8 + 6], 1);
    assert.equal(c.instants[2 * 8 + 7], 1);
    assert.equal(
      c.instants.reduce((a, b) => a + b, 0),
      3,
    );
    const z = tr.aggregate({ t0: 3.5, t1: 4.5, columns: 2 });
    const a1 = id('area', 'area 1');
    assert.deepEqual([...z.last.subarray(a1 * 2, a1 * 2 + 2)], [2, 2]);
    assert.deepEqual([...z.instantRows], [-1, -1, -1, -1, -1, -1]);
  });
});

describe('slices', () => {
  test('each map is paired with its unmap, per device, on the fixture', async () => {
    const m = await smallPool();
    const tr = tracksOf(m);
    const t = m.session.events;
    const c = tr.aggregate({ t0: m.info.t0, t1: m.info.t1, columns: 400 });
    // every map that bounced or went direct is a slice
    let maps = 0;
    let unpaired = 0;
    for (let i = 0; i < t.length; i++)
      if (t.get('kind', i) === EventKind.Map && (t.get('outcome', i) === Outcome.Bounced || t.get('outcome', i) === Outcome.Direct)) {
        maps++;
        if ((t.get('pair', i) as number) < 0) unpaired++;
      }
    assert.equal(tr.info.slices, maps);
    // open: exactly the maps the input never unmaps
    assert.equal(tr.info.openSlices, unpaired);
    assert.equal(
      c.sliceOpen.reduce((a, b) => a + b, 0),
      unpaired,
    );
    assert.equal(c.slicesInView, maps);
    assert.equal(c.sliceRows.length, maps);
    for (let x = 0; x < c.sliceRows.length; x++) {
      const r = c.sliceRows[x] as number;
      const u = t.get('pair', r) as number;
      assert.equal(t.get('kind', r), EventKind.Map);
      assert.equal(c.sliceStart[x], t.get('time', r));
      assert.equal(c.sliceDevice[x], t.get('device', r));
      if (c.sliceOpen[x]) continue;
      assert.ok(u > r, `map ${r} has its unmap after it`);
      assert.equal(t.get('kind', u), EventKind.Unmap);
      assert.equal(t.get('pair', u), r, 'the unmap points back at its map');
      assert.equal(c.sliceEnd[x], t.get('time', u));
    }
    // a window shows the slices overlapping it, no others
    const w = tr.aggregate({ t0: 3000, t1: 3100, columns: 100 });
    assert.ok(w.slicesInView > 0 && w.slicesInView < maps);
    for (let x = 0; x < w.sliceRows.length; x++) assert.ok((w.sliceStart[x] as number) <= 3100 && (w.sliceEnd[x] as number) >= 3000);
    let overlapping = 0;
    for (let x = 0; x < c.sliceRows.length; x++)
      if ((c.sliceStart[x] as number) <= 3100 && (c.sliceEnd[x] as number) >= 3000) overlapping++;
    assert.equal(w.slicesInView, overlapping);
  });

  test('a map never unmapped is an open slice to the end; too many slices keep the longest', () => {
    const t = new EventTable();
    t.hasClock = true;
    const n = MAX_SLICES + 500;
    for (let i = 0; i < n; i++) t.push({ kind: EventKind.Map, outcome: Outcome.Bounced, time: i, nslots: 1, slot: i, area: 0, used: 1 });
    // unmapped in reverse order: map i lives 2 * (n - i) - 1 seconds
    for (let i = n - 1; i >= 0; i--)
      t.push({ kind: EventKind.Unmap, outcome: Outcome.Released, time: 2 * n - 1 - i, nslots: 1, slot: i, area: 0, used: 0, pair: i });
    t.push({ kind: EventKind.Map, outcome: Outcome.Direct, time: 2 * n, size: 100, device: 'nvme' });
    t.push({ kind: EventKind.Marker, time: 2 * n + 10 });
    for (let i = 0; i < n; i++) t.set('pair', i, 2 * n - 1 - i);
    const tr = new Tracks(t, 1);
    assert.equal(tr.info.slices, n + 1);
    assert.equal(tr.info.openSlices, 1);
    const c = tr.aggregate({ t0: 0, t1: 2 * n + 10, columns: 100 });
    assert.equal(c.slicesInView, n + 1);
    assert.equal(c.sliceRows.length, MAX_SLICES);
    // kept: the open one (never unmapped), then the longest (the maps made first)
    const kept = new Set(c.sliceRows);
    assert.ok(kept.has(2 * n), 'the open slice');
    assert.ok(kept.has(0) && !kept.has(n - 1), 'long kept, short left out');
    const open = [...c.sliceRows].indexOf(2 * n);
    assert.equal(c.sliceOpen[open], 1);
    assert.equal(c.sliceEnd[open], 2 * n + 10);
    // late window: only the open slice reaches it
    const late = tr.aggregate({ t0: 2 * n + 5, t1: 2 * n + 10, columns: 10 });
    assert.deepEqual([...late.sliceRows], [2 * n]);
  });
});

describe('histograms', () => {
  test('bins: upper bounds inclusive, the last one open', () => {
    assert.equal(binOf(SIZE_BINS, 1), 0);
    assert.equal(binOf(SIZE_BINS, 512), 0);
    assert.equal(binOf(SIZE_BINS, 513), 1);
    assert.equal(binOf(SIZE_BINS, 4096), 3);
    assert.equal(binOf(SIZE_BINS, 262144), SIZE_BINS.length - 2);
    assert.equal(binOf(SIZE_BINS, 262145), SIZE_BINS.length - 1);
    assert.equal(binOf(LIFETIME_BINS_SECONDS, 5e-7), 0);
    assert.equal(binOf(LIFETIME_BINS_SECONDS, 2e-3), 4);
    assert.equal(binOf(LIFETIME_BINS_EVENTS, 1e9), LIFETIME_BINS_EVENTS.length - 1);
  });

  test('per device: sizes of every map and lifetimes of the unmapped ones, on the fixture', async () => {
    const m = await smallPool();
    const t = m.session.events;
    const info = tracksOf(m).info;
    assert.deepEqual(info.lifetimeBins, LIFETIME_BINS_EVENTS, 'no clock: lifetimes in events');
    assert.equal(
      info.devices.reduce((a, d) => a + d.maps, 0),
      info.slices,
    );
    for (const d of info.devices) {
      // recount from the rows
      const sizes = SIZE_BINS.map(() => 0);
      const lifetimes = LIFETIME_BINS_EVENTS.map(() => 0);
      let maps = 0;
      for (let i = 0; i < t.length; i++) {
        if (t.get('device', i) !== d.id || t.get('kind', i) !== EventKind.Map) continue;
        if (t.get('outcome', i) !== Outcome.Bounced && t.get('outcome', i) !== Outcome.Direct) continue;
        maps++;
        const s = t.get('size', i) as number;
        (sizes[SIZE_BINS.findIndex((b) => b < 0 || s <= b)] as number)++;
        const u = t.get('pair', i) as number;
        if (u > i) {
          const life = (t.get('time', u) as number) - (t.get('time', i) as number);
          (lifetimes[LIFETIME_BINS_EVENTS.findIndex((b) => b < 0 || life <= b)] as number)++;
        }
      }
      assert.equal(d.maps, maps, d.name);
      assert.deepEqual(d.sizes, sizes, d.name);
      assert.deepEqual(d.lifetimes, lifetimes, d.name);
      assert.equal(
        d.lifetimes.reduce((a, b) => a + b, 0),
        d.maps - d.open,
      );
    }
  });
});

describe('messages', () => {
  test('the panel asks, the host answers, both pass the guards; flags read the occupancy', async () => {
    const m = await smallPool();
    const id = m.info.id;
    const asks = [
      { type: 'trackInfo', session: id, request: 1 },
      { type: 'tracks', session: id, request: 2, t0: 0, t1: 6901, columns: 300 },
      { type: 'flagValues', session: id, request: 3, times: [100, 2500.5] },
    ] as const;
    for (const a of asks) {
      assert.ok(isWebviewMessage(a), a.type);
      const reply = answerTracks(m, a);
      assert.equal(reply?.type, a.type);
      assert.ok(isHostMessage(reply), a.type);
      // another session gets no answer
      assert.equal(answerTracks(m, { ...a, session: id + 1000 }), undefined);
    }
    const f = answerTracks(m, asks[2]);
    if (f?.type !== 'flagValues') throw new Error('no flags');
    assert.deepEqual(
      f.flags.map((x) => x.row),
      [100, 2500],
    );
    assert.deepEqual(
      f.flags.map((x) => x.used),
      [m.timeline.total[100], m.timeline.total[2500]],
    );
    // out of bounds: refused
    assert.ok(!isWebviewMessage({ type: 'tracks', session: id, request: 2, t0: 0, t1: 1, columns: 100000 }));
    assert.ok(!isWebviewMessage({ type: 'flagValues', session: id, request: 3, times: Array.from({ length: 100 }, (_, i) => i) }));
    assert.ok(!isWebviewMessage({ type: 'flagValues', session: id, request: 3, times: ['1'] }));
  });
});

/** `x` as another thread gets it: every buffer transferred (none copied); true when each left `x`. */
function moved(x: TracksTransfer): { copy: TracksTransfer; detached: boolean } {
  const list = Tracks.transferList(x);
  const copy = structuredClone(x, { transfer: list });
  return { copy, detached: list.every((b) => b.byteLength === 0) };
}

describe('tracks built in another thread', () => {
  test('transferred whole (zero copy) and adopted, they answer as the tracks built here, on the fixture', async () => {
    const m = await smallPool();
    const here = new Tracks(m.session.events, m.session.pool?.nareas ?? 0, m.timeline.times);
    const { copy, detached } = moved(new Tracks(m.session.events, m.session.pool?.nareas ?? 0).toTransfer());
    assert.ok(detached, 'every array of the tracks is in the transfer list');
    const other = new PanelModel(m.session, {});
    adoptTracks(other, copy);
    const adopted = tracksOf(other);
    assert.equal(tracksOf(other), adopted, 'adopted once, not rebuilt');
    assertSameTracks(here, adopted, m.info.t0, m.info.t1);
    // the panel's answers are the same too
    const ask = { type: 'tracks', session: other.info.id, request: 1, t0: 100, t1: 3000, columns: 120 } as const;
    const mine = answerTracks(m, { ...ask, session: m.info.id });
    assert.deepEqual(answerTracks(other, ask), { ...mine, session: other.info.id });
  });

  test('with a clock, open slices, instants and an empty table', () => {
    const t = new EventTable();
    t.hasClock = true;
    t.push({
      kind: EventKind.Map,
      outcome: Outcome.Bounced,
      time: 0.5,
      used: 4,
      slot: 0,
      nslots: 4,
      area: 0,
      device: 'nvme',
      cpu: 0,
      size: 8000,
    });
    t.push({
      kind: EventKind.Map,
      outcome: Outcome.Bounced,
      time: 1.25,
      used: 6,
      slot: 8,
      nslots: 2,
      area: 1,
      device: 'ahci',
      cpu: 1,
      size: 3000,
    });
    t.push({
      kind: EventKind.Unmap,
      outcome: Outcome.Released,
      time: 2,
      used: 2,
      slot: 0,
      nslots: 4,
      area: 0,
      device: 'nvme',
      cpu: 1,
      pair: 0,
    });
    t.push({ kind: EventKind.Map, outcome: Outcome.Failed, time: 3, device: 'nvme', cpu: 0 });
    t.push({ kind: EventKind.LogMessage, time: 3.5, message: 'swiotlb buffer is full' });
    t.push({ kind: EventKind.Marker, time: 4, message: 'phase 2' });
    t.set('pair', 0, 2);
    const here = new Tracks(t, 2);
    assert.ok(here.info.openSlices === 1 && here.info.slices === 2);
    const { copy } = moved(new Tracks(t, 2).toTransfer());
    assertSameTracks(here, new Tracks(copy, 0, t.gather('time') as Float64Array), 0, 4);
    const empty = new EventTable();
    const { copy: none } = moved(new Tracks(empty, 0).toTransfer());
    assertSameTracks(new Tracks(empty, 0), new Tracks(none, 0, new Float64Array(0)), 0, 1);
    assert.throws(() => new Tracks(none, 0), /time column/);
  });
});

describe('slices by length', () => {
  test('open first, then longest first, equal lengths by index: as a comparator sort orders them', () => {
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (const [n, kinds] of [
      [0, 1],
      [1, 1],
      [5000, 4],
      [20000, 1e9],
      [3000, 1],
    ] as const) {
      // ends and starts of n slices, some open (NaN end), lengths with many ties, zero, tiny and huge ones
      const start = Float64Array.from({ length: n }, (_, j) => j * 0.5);
      const end = start.map((s) => {
        const r = rand();
        if (r < 0.05) return Number.NaN;
        if (r < 0.1) return s;
        return s + (kinds > 100 ? rand() * 1e6 * 10 ** Math.floor(rand() * 8 - 4) : Math.floor(rand() * kinds) * 1e-6);
      });
      const len = Float64Array.from(end, (e, j) => (Number.isNaN(e) ? Number.POSITIVE_INFINITY : e - (start[j] as number)));
      const want = Int32Array.from({ length: n }, (_, j) => j).sort((a, b) => (len[b] as number) - (len[a] as number) || a - b);
      const open = Int32Array.from({ length: n }, (_, j) => j).filter((j) => Number.isNaN(end[j]));
      const closed = Int32Array.from({ length: n }, (_, j) => j).filter((j) => !Number.isNaN(end[j]));
      const got = byLengthOrder(
        open,
        Float64Array.from(closed, (j) => start[j] as number),
        Float64Array.from(closed, (j) => end[j] as number),
        closed,
      );
      assert.deepEqual(got, want, `${n} slices, ${kinds} lengths`);
    }
  });
});
