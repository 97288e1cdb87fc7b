/**
 * The panel's tracks, as a trace viewer has them: occupancy per area, per device and per CPU as
 * counter tracks, a lane of instant events (failures, log messages, markers), the lifetimes of
 * mappings as slices from map to unmap with histograms of their sizes and lifetimes per device,
 * and the pool's occupancy at the user's flags. Aggregated per pixel column in the host, on the
 * windows the occupancy chart asks for (timeline.ts), so a long trace costs what a short one does.
 */
import type { HostMessage, WebviewMessage } from '../protocol/messages';
import { EventKind, Outcome } from './codes';
import type { EventTable } from './eventTable';
import type { PanelModel } from './panelModel';
import { LOG_FACT_KINDS } from './sessionLog';
import { gallop, lowerBound, MinMaxPyramid, type TimelineQuery } from './timeline';

export type TrackKind = 'area' | 'device' | 'cpu';

/** One counter track: slots in use by an area, by the mappings of a device, or made on a CPU. */
export interface TrackDef {
  /** Index in TracksInfo.tracks and in the columns' arrays. */
  readonly id: number;
  readonly kind: TrackKind;
  /** Area number, device id or CPU number (-1: the input did not say). */
  readonly key: number;
  readonly label: string;
  /** Most slots in use on this track at any time. */
  readonly peak: number;
}

/** The classes of the instant lane, in the order of TracksColumns.instants. */
export const INSTANT_CLASSES = ['failure', 'log', 'marker'] as const;
export type InstantClass = (typeof INSTANT_CLASSES)[number];

/** Histogram bins: upper bounds, inclusive; the last bin (-1) holds everything larger. */
export const SIZE_BINS: readonly number[] = [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, -1];
/** Lifetimes in seconds (trace clock): decades from 1 µs. */
export const LIFETIME_BINS_SECONDS: readonly number[] = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, -1];
/** Lifetimes in events (no clock: the time axis is the event order). */
export const LIFETIME_BINS_EVENTS: readonly number[] = [1, 10, 100, 1000, 10000, 100000, -1];

export interface DeviceHistograms {
  readonly id: number;
  readonly name: string;
  /** Mappings (slices) of the device, and those never unmapped within the input. */
  readonly maps: number;
  readonly open: number;
  /** Counts per SIZE_BINS bin (bytes mapped). */
  readonly sizes: readonly number[];
  /** Counts per lifetime bin (unmapped mappings only). */
  readonly lifetimes: readonly number[];
}

/** What does not change with the window: the tracks, the slice totals, the histograms. */
export interface TracksInfo {
  readonly tracks: readonly TrackDef[];
  /** Tracks left out (only the busiest devices and CPUs get one). */
  readonly omitted: number;
  readonly slices: number;
  readonly openSlices: number;
  readonly sizeBins: readonly number[];
  readonly lifetimeBins: readonly number[];
  readonly devices: readonly DeviceHistograms[];
}

export interface TracksColumns {
  readonly t0: number;
  readonly t1: number;
  readonly columns: number;
  /** Per track (TracksInfo order), track-major: the most slots in use within each column. */
  readonly max: Int32Array;
  /** Per track, track-major: slots in use at the end of each column. */
  readonly last: Int32Array;
  /** Instant events per class (INSTANT_CLASSES) and column, class-major. */
  readonly instants: Uint32Array;
  /** The first row of each class in each column (-1: none), class-major. */
  readonly instantRows: Int32Array;
  /** The slices overlapping the window, in start order (more than MAX_SLICES: the open and the longest). */
  readonly sliceRows: Int32Array;
  readonly sliceStart: Float64Array;
  /** Time of the unmap; for an open slice, the end of the input. */
  readonly sliceEnd: Float64Array;
  readonly sliceDevice: Uint16Array;
  /** 1: never unmapped within the input. */
  readonly sliceOpen: Uint8Array;
  /** Slices overlapping the window, shown or not. */
  readonly slicesInView: number;
}

/** Slices sent for one window, at most (the open and the longest ones: the short ones are a pixel wide). */
export const MAX_SLICES = 4000;
const MAX_DEVICE_TRACKS = 32;
const MAX_CPU_TRACKS = 64;
const MAX_AREA_TRACKS = 256;

/** One counter series: the rows where it changes and its value after each (typed: millions of rows). */
class Series {
  private r = new Int32Array(64);
  private v = new Int32Array(64);
  private n = 0;
  value = 0;
  peak = 0;
  add(row: number, delta: number): void {
    this.value += delta;
    if (this.value > this.peak) this.peak = this.value;
    // several changes in one row (none today) keep the row once, with its final value
    if (this.n && this.r[this.n - 1] === row) {
      this.v[this.n - 1] = this.value;
      return;
    }
    if (this.n === this.r.length) {
      const r = new Int32Array(this.n * 2);
      const v = new Int32Array(this.n * 2);
      r.set(this.r);
      v.set(this.v);
      this.r = r;
      this.v = v;
    }
    this.r[this.n] = row;
    this.v[this.n] = this.value;
    this.n++;
  }
  get rows(): Int32Array {
    return this.r.slice(0, this.n);
  }
  get vals(): Int32Array {
    return this.v.slice(0, this.n);
  }
}

interface Built {
  readonly rows: Int32Array;
  readonly pyr: MinMaxPyramid;
}

/**
 * The built tracks as they cross threads (the analysis worker builds them where the rows are, the
 * extension host adopts them with tracksOf): typed arrays, each with a buffer of its own.
 */
export interface TracksTransfer {
  readonly info: TracksInfo;
  /** Per track (TracksInfo order): the rows where it changes, its value after each, the values' pyramid levels. */
  readonly series: readonly {
    readonly rows: Int32Array;
    readonly values: Int32Array;
    readonly levels: readonly { readonly min: Int32Array; readonly max: Int32Array }[];
  }[];
  readonly instantRows: readonly Int32Array[];
  readonly sRow: Int32Array;
  readonly sStart: Float64Array;
  readonly sEnd: Float64Array;
  readonly sDev: Uint16Array;
  readonly sOpen: Uint8Array;
  readonly openIdx: Int32Array;
  readonly maxClosed: number;
  readonly cStart: Float64Array;
  readonly cEnd: Float64Array;
  readonly byLength: Int32Array;
}

/** Precomputed tracks of an event table (times non-decreasing, as timeline.ts requires). */
export class Tracks {
  readonly info: TracksInfo;
  private readonly times: Float64Array;
  private readonly series: Built[];
  private readonly instantRows: readonly Int32Array[];
  /** Slices in start order: their map row, start, end, device and whether open. */
  private readonly sRow: Int32Array;
  private readonly sStart: Float64Array;
  private readonly sEnd: Float64Array;
  private readonly sDev: Uint16Array;
  private readonly sOpen: Uint8Array;
  /** Indices of open slices (they reach the end of the input). */
  private readonly openIdx: Int32Array;
  /** The longest closed slice: no slice starting before window start minus this reaches it. */
  private readonly maxClosed: number;
  private readonly cStart: Float64Array;
  private readonly cEnd: Float64Array;
  private readonly byLength: Int32Array;

  /**
   * Builds the tracks of a table (`times`: its time column when the caller has it already, the
   * panel's Timeline.times), or adopts tracks built elsewhere (toTransfer data: `times` required).
   */
  constructor(source: EventTable | TracksTransfer, nareas = 0, times?: Float64Array) {
    const transferred = 'sRow' in source;
    if (transferred && !times) throw new Error('tracks: adopted tracks need the time column');
    const tm = times ?? ((source as EventTable).gather('time') as Float64Array);
    const d = transferred ? source : buildTracks(source, nareas, tm);
    if (transferred && d.series.length !== d.info.tracks.length)
      throw new Error(`tracks: ${d.series.length} series for ${d.info.tracks.length} tracks`);
    this.times = tm;
    this.info = d.info;
    this.series = d.series.map((s) => ({ rows: s.rows, pyr: new MinMaxPyramid(s.values, s.levels) }));
    this.instantRows = d.instantRows;
    this.sRow = d.sRow;
    this.sStart = d.sStart;
    this.sEnd = d.sEnd;
    this.sDev = d.sDev;
    this.sOpen = d.sOpen;
    this.openIdx = d.openIdx;
    this.maxClosed = d.maxClosed;
    this.cStart = d.cStart;
    this.cEnd = d.cEnd;
    this.byLength = d.byLength;
  }

  /** The tracks as structured-clone data; hand `Tracks.transferList` of it to postMessage (this object is then unusable). */
  toTransfer(): TracksTransfer {
    return {
      info: this.info,
      series: this.series.map((s) => ({ rows: s.rows, values: s.pyr.values, levels: s.pyr.blocks })),
      instantRows: this.instantRows,
      sRow: this.sRow,
      sStart: this.sStart,
      sEnd: this.sEnd,
      sDev: this.sDev,
      sOpen: this.sOpen,
      openIdx: this.openIdx,
      maxClosed: this.maxClosed,
      cStart: this.cStart,
      cEnd: this.cEnd,
      byLength: this.byLength,
    };
  }

  /** The buffers of toTransfer data, for postMessage (zero copy). */
  static transferList(x: TracksTransfer): ArrayBuffer[] {
    const arrays: ArrayBufferView[] = [
      ...x.series.flatMap((s) => [s.rows, s.values, ...s.levels.flatMap((l) => [l.min, l.max])]),
      ...x.instantRows,
      x.sRow,
      x.sStart,
      x.sEnd,
      x.sDev,
      x.sOpen,
      x.openIdx,
      x.cStart,
      x.cEnd,
      x.byLength,
    ];
    return arrays.map((a) => a.buffer as ArrayBuffer);
  }

  /** Every track's columns, the instant lane and the slices of a window (the chart's columns). */
  aggregate(q: TimelineQuery): TracksColumns {
    const cols = Math.max(1, Math.min(Math.floor(q.columns), 8192));
    const span = q.t1 > q.t0 ? q.t1 - q.t0 : 1;
    const bounds = new Int32Array(cols + 1);
    bounds[0] = lowerBound(this.times, q.t0);
    for (let c = 1; c <= cols; c++) bounds[c] = gallop(this.times, q.t0 + (span * c) / cols, bounds[c - 1] as number);
    const nt = this.series.length;
    const max = new Int32Array(nt * cols);
    const last = new Int32Array(nt * cols);
    for (let s = 0; s < nt; s++) {
      const { rows, pyr } = this.series[s] as Built;
      let k = lowerBound(rows, bounds[0] as number);
      // a column where the track does not change shows the value it had: the last before it
      let carry = k > 0 ? (pyr.values[k - 1] as number) : 0;
      for (let c = 0; c < cols; c++) {
        const e = gallop(rows, bounds[c + 1] as number, k);
        max[s * cols + c] = pyr.scan(k, e) ? Math.max(pyr.hi, carry) : carry;
        if (e > k) carry = pyr.values[e - 1] as number;
        last[s * cols + c] = carry;
        k = e;
      }
    }
    const instants = new Uint32Array(INSTANT_CLASSES.length * cols);
    const instantRows = new Int32Array(INSTANT_CLASSES.length * cols).fill(-1);
    this.instantRows.forEach((rows, cls) => {
      let f = lowerBound(rows, bounds[0] as number);
      for (let c = 0; c < cols; c++) {
        const e = gallop(rows, bounds[c + 1] as number, f);
        if (e > f) {
          instants[cls * cols + c] = e - f;
          instantRows[cls * cols + c] = rows[f] as number;
        }
        f = e;
      }
    });
    // slices overlapping [t0, t1]: closed ones, those starting by t1 less those ended before t0
    let inView = upperBound(this.cStart, q.t1) - lowerBound(this.cEnd, q.t0);
    const overlaps = (j: number) => (this.sStart[j] as number) <= q.t1 && (this.sEnd[j] as number) >= q.t0;
    for (const j of this.openIdx) if (overlaps(j)) inView++;
    const shown: number[] = [];
    if (inView <= MAX_SLICES) {
      // every one: closed ones start no earlier than t0 minus the longest
      for (let j = lowerBound(this.sStart, q.t0 - this.maxClosed); j < this.sStart.length && (this.sStart[j] as number) <= q.t1; j++)
        if (!this.sOpen[j] && (this.sEnd[j] as number) >= q.t0) shown.push(j);
      for (const j of this.openIdx) if (overlaps(j)) shown.push(j);
    } else {
      // too many: the never unmapped first (what a leak looks like), then the longest
      for (let x = 0; x < this.byLength.length && shown.length < MAX_SLICES; x++) {
        const j = this.byLength[x] as number;
        if (overlaps(j)) shown.push(j);
      }
    }
    shown.sort((a, b) => a - b);
    const m = shown.length;
    const sliceRows = new Int32Array(m);
    const sliceStart = new Float64Array(m);
    const sliceEnd = new Float64Array(m);
    const sliceDevice = new Uint16Array(m);
    const sliceOpen = new Uint8Array(m);
    shown.forEach((j, x) => {
      sliceRows[x] = this.sRow[j] as number;
      sliceStart[x] = this.sStart[j] as number;
      sliceEnd[x] = this.sEnd[j] as number;
      sliceDevice[x] = this.sDev[j] as number;
      sliceOpen[x] = this.sOpen[j] as number;
    });
    return {
      t0: q.t0,
      t1: q.t1,
      columns: cols,
      max,
      last,
      instants,
      instantRows,
      sliceRows,
      sliceStart,
      sliceEnd,
      sliceDevice,
      sliceOpen,
      slicesInView: inView,
    };
  }
}

/** The one build of the tracks: a pass over the rows, then the series' pyramids, the slices and their histograms. */
function buildTracks(t: EventTable, nareas: number, times: Float64Array): TracksTransfer {
  const n = t.length;
  const areas = Math.max(0, Math.min(nareas, MAX_AREA_TRACKS));
  const area = Array.from({ length: areas }, () => new Series());
  // by device id, and by CPU + 1 (0: the input did not say)
  const dev: (Series | undefined)[] = [];
  const cpu: (Series | undefined)[] = [];
  const of = (m: (Series | undefined)[], k: number) => {
    let s = m[k];
    if (!s) {
      s = new Series();
      m[k] = s;
    }
    return s;
  };
  const facts = new Set<number>();
  t.apis.values.forEach((name, id) => {
    if (LOG_FACT_KINDS.has(name)) facts.add(id);
  });
  const inst: number[][] = INSTANT_CLASSES.map(() => []);
  // at most one slice per row: its map row, its end (NaN: open) and device, with the histograms
  // counted as the scan meets them (the map's own row: no lookups by row afterwards)
  const sRow = new Int32Array(n);
  const sEnd = new Float64Array(n);
  const sDev = new Uint16Array(n);
  let k = 0;
  const end = n ? (times[n - 1] as number) : 0;
  const lifeBins = t.hasClock ? LIFETIME_BINS_SECONDS : LIFETIME_BINS_EVENTS;
  const hist: ({ maps: number; open: number; sizes: number[]; lifetimes: number[] } | undefined)[] = [];
  const open: number[] = [];
  let maxClosed = 0;
  for (const v of t.chunks(['outcome', 'kind', 'nslots', 'pair', 'area', 'device', 'cpu', 'api', 'size'])) {
    const c = v.c;
    for (let i = v.start; i < v.end; i++) {
      const j = i - v.base;
      const outcome = c.outcome[j] as Outcome;
      const kind = c.kind[j] as EventKind;
      const slots = c.nslots[j] as number;
      const p = c.pair[j] as number;
      if (slots > 0 && (outcome === Outcome.Bounced || outcome === Outcome.Released)) {
        const sign = outcome === Outcome.Bounced ? slots : -slots;
        // a release is charged to the map it ends: its device and the CPU that mapped (an earlier row)
        const own = outcome === Outcome.Released && p >= 0 && p !== i;
        const a = c.area[j] as number;
        if (a >= 0 && a < areas) (area[a] as Series).add(i, sign);
        // the map is most often in this chunk's columns already (a lookup by row costs more)
        const here = !own || p >= v.start;
        const q = own ? p - v.base : j;
        of(dev, here ? (c.device[q] as number) : t.get('device', p)).add(i, sign);
        of(cpu, Math.max(-1, here ? (c.cpu[q] as number) : t.get('cpu', p)) + 1).add(i, sign);
      }
      if ((outcome === Outcome.Failed || outcome === Outcome.Hang) && (kind === EventKind.Map || kind === EventKind.Alloc))
        (inst[0] as number[]).push(i);
      else if (kind === EventKind.LogMessage && !facts.has(c.api[j] as number)) (inst[1] as number[]).push(i);
      else if (kind === EventKind.Marker) (inst[2] as number[]).push(i);
      const mapping = kind === EventKind.Map || kind === EventKind.MapResource || kind === EventKind.Alloc;
      if (mapping && (outcome === Outcome.Bounced || outcome === Outcome.Direct)) {
        const e = p > i && p < n ? (times[p] as number) : Number.NaN;
        const d = c.device[j] as number;
        sRow[k] = i;
        sEnd[k] = e;
        sDev[k] = d;
        let h = hist[d];
        if (!h) {
          h = { maps: 0, open: 0, sizes: SIZE_BINS.map(() => 0), lifetimes: lifeBins.map(() => 0) };
          hist[d] = h;
        }
        h.maps++;
        const size = c.size[j] as number;
        if (size >= 0) h.sizes[binOf(SIZE_BINS, size)]++;
        if (Number.isNaN(e)) {
          h.open++;
          open.push(k);
        } else {
          const life = e - (times[i] as number);
          if (life > maxClosed) maxClosed = life;
          h.lifetimes[binOf(lifeBins, life)]++;
        }
        k++;
      }
    }
  }
  const defs: TrackDef[] = [];
  const built: TracksTransfer['series'][number][] = [];
  const push = (kind: TrackKind, key: number, label: string, s: Series) => {
    defs.push({ id: defs.length, kind, key, label, peak: s.peak });
    const pyr = new MinMaxPyramid(s.vals);
    built.push({ rows: s.rows, values: pyr.values, levels: pyr.blocks });
  };
  area.forEach((s, a) => {
    push('area', a, `area ${a}`, s);
  });
  const busiest = (m: (Series | undefined)[], max: number, base: number) =>
    m
      .flatMap((s, k) => (s && s.peak > 0 ? [[k - base, s] as const] : []))
      .sort((x, y) => y[1].peak - x[1].peak || x[0] - y[0])
      .slice(0, max)
      .sort((x, y) => x[0] - y[0]);
  const devs = busiest(dev, MAX_DEVICE_TRACKS, 0);
  for (const [id, s] of devs) push('device', id, t.devices.get(id) || '(unknown device)', s);
  const cpus = busiest(cpu, MAX_CPU_TRACKS, 1);
  for (const [c, s] of cpus) push('cpu', c, c < 0 ? 'CPU unknown' : `CPU ${c}`, s);
  const omitted =
    Math.max(0, nareas - areas) +
    dev.filter((s) => s && s.peak > 0).length -
    devs.length +
    cpu.filter((s) => s && s.peak > 0).length -
    cpus.length;

  // the slices' arrays
  const slices = {
    sRow: sRow.slice(0, k),
    sStart: new Float64Array(k),
    sEnd: new Float64Array(k),
    sDev: sDev.slice(0, k),
    sOpen: new Uint8Array(k),
  };
  // for counting the closed slices of a window (starts are sorted already) and picking the
  // longest when a window has too many: ends sorted, and every slice by length (open first)
  const closed = k - open.length;
  const cStart = new Float64Array(closed);
  const cEnd = new Float64Array(closed);
  const cIdx = new Int32Array(closed);
  for (let j = 0, x = 0; j < k; j++) {
    const start = times[sRow[j] as number] as number;
    const e = sEnd[j] as number;
    slices.sStart[j] = start;
    if (Number.isNaN(e)) {
      slices.sEnd[j] = end;
      slices.sOpen[j] = 1;
    } else {
      slices.sEnd[j] = e;
      cStart[x] = start;
      cEnd[x] = e;
      cIdx[x++] = j;
    }
  }
  const byLength = byLengthOrder(Int32Array.from(open), cStart, cEnd, cIdx);
  cEnd.sort();
  const info: TracksInfo = {
    tracks: defs,
    omitted,
    slices: k,
    openSlices: open.length,
    sizeBins: SIZE_BINS,
    lifetimeBins: lifeBins,
    devices: hist
      .flatMap((h, id) => (h ? [{ id, name: t.devices.get(id) || '(unknown device)', ...h }] : []))
      .sort((a, b) => b.maps - a.maps || a.id - b.id),
  };
  return {
    info,
    series: built,
    instantRows: inst.map((r) => Int32Array.from(r)),
    ...slices,
    openIdx: Int32Array.from(open),
    maxClosed,
    cStart,
    cEnd,
    byLength,
  };
}

/** Which 32-bit half of a double holds its low bits (the platform's byte order). */
const LOW_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;

/**
 * Slice indices longest first: the open ones (`open`, ascending), then the closed ones (their
 * starts, ends and indices, ascending) by length, longer first, equal lengths by index. A stable
 * radix sort of the lengths' bits (non-negative doubles order as their bits; complemented: longest
 * first), 16 bits a pass: a comparator sort of millions of indices takes seconds.
 */
export function byLengthOrder(open: Int32Array, cStart: Float64Array, cEnd: Float64Array, cIdx: Int32Array): Int32Array {
  const m = cIdx.length;
  const len = new Float64Array(m);
  for (let x = 0; x < m; x++) len[x] = (cEnd[x] as number) - (cStart[x] as number);
  const bits = new Uint32Array(len.buffer);
  let order = new Int32Array(m);
  for (let x = 0; x < m; x++) order[x] = x;
  let next = new Int32Array(m);
  const count = new Int32Array(0x10001);
  for (let pass = 0; pass < 4; pass++) {
    const word = pass < 2 ? LOW_WORD : 1 - LOW_WORD;
    const shift = (pass & 1) * 16;
    count.fill(0);
    for (let x = 0; x < m; x++) count[((~(bits[2 * x + word] as number) >>> shift) & 0xffff) + 1]++;
    // every length has the same digit here: this pass changes nothing
    if (m === 0 || count.includes(m)) continue;
    for (let d = 1; d <= 0x10000; d++) count[d] = (count[d] as number) + (count[d - 1] as number);
    for (let r = 0; r < m; r++) {
      const x = order[r] as number;
      const d = (~(bits[2 * x + word] as number) >>> shift) & 0xffff;
      next[count[d] as number] = x;
      count[d]++;
    }
    [order, next] = [next, order];
  }
  const out = new Int32Array(open.length + m);
  out.set(open);
  for (let r = 0; r < m; r++) out[open.length + r] = cIdx[order[r] as number] as number;
  return out;
}

/** First index with a[i] > x in a non-decreasing array. */
function upperBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The bin of a value: the first upper bound it does not exceed (-1: the last bin). */
export function binOf(bins: readonly number[], v: number): number {
  for (let b = 0; b < bins.length; b++) {
    const up = bins[b] as number;
    if (up < 0 || v <= up) return b;
  }
  return bins.length - 1;
}

/** The pool's occupancy at a flag: the slots in use after the last row at or before its time. */
export interface FlagValue {
  readonly time: number;
  /** The row the value is from (-1: before the first row). */
  readonly row: number;
  readonly used: number;
}

export function flagValues(model: PanelModel, times: readonly number[]): FlagValue[] {
  return times.map((time) => {
    const row = model.lastRowAtOrBefore(time);
    return { time, row, used: row >= 0 ? (model.timeline.total[row] as number) : 0 };
  });
}

const built = new WeakMap<PanelModel, Tracks>();

/** Tracks of a panel's session built where its rows were (the analysis worker): tracksOf answers with them. */
export function adoptTracks(model: PanelModel, x: TracksTransfer): void {
  built.set(model, new Tracks(x, 0, model.timeline.times));
}

/** The tracks of a panel's session: adopted, else built on first use (inputs analysed on the host's thread). */
export function tracksOf(model: PanelModel): Tracks {
  let t = built.get(model);
  if (!t) {
    t = new Tracks(model.session.events, model.session.pool?.nareas ?? 0, model.timeline.times);
    built.set(model, t);
  }
  return t;
}

/** Answers the panel's track requests (undefined for any other message). */
export function answerTracks(model: PanelModel, m: WebviewMessage): HostMessage | undefined {
  if (!('session' in m) || m.session !== model.info.id) return undefined;
  switch (m.type) {
    case 'trackInfo':
      return { type: 'trackInfo', session: m.session, request: m.request, info: tracksOf(model).info };
    case 'tracks':
      return { type: 'tracks', session: m.session, request: m.request, ...tracksOf(model).aggregate(m) };
    case 'flagValues':
      return { type: 'flagValues', session: m.session, request: m.request, flags: flagValues(model, m.times) };
    default:
      return undefined;
  }
}
