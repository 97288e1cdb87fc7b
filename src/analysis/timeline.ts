/**
 * Occupancy over time, aggregated per pixel column in the extension host so that a trace of
 * millions of events draws as fast as a small one: min/max of the pool's used slots (and of each
 * area's) over any time window, from a precomputed min/max pyramid, plus failures per column.
 */
import { FAILURE_CAUSES, failureCauseIndex } from '../model/reasons';
import { EventKind, Outcome } from './codes';

export { FAILURE_CAUSES, failureCauseIndex };

import type { EventTable } from './eventTable';
import { Int32List } from './typedArrays';

// 16: at most 2 x 15 ragged values per level and column
const BLOCK = 16;

/** Min/max over index ranges of one series, answered from blocks of 64, 64^2, ... values. */
export class MinMaxPyramid {
  private readonly levels: { min: Int32Array; max: Int32Array }[] = [];

  /** `levels`: those of a pyramid of the same values built elsewhere (its `blocks`, from another thread). */
  constructor(
    readonly values: Int32Array,
    levels?: readonly { readonly min: Int32Array; readonly max: Int32Array }[],
  ) {
    if (levels) {
      this.levels = [...levels];
      return;
    }
    let src = { min: values, max: values };
    while (src.min.length > BLOCK) {
      const n = Math.ceil(src.min.length / BLOCK);
      const min = new Int32Array(n);
      const max = new Int32Array(n);
      for (let b = 0; b < n; b++) {
        let lo = 2147483647;
        let hi = -2147483648;
        const end = Math.min((b + 1) * BLOCK, src.min.length);
        for (let i = b * BLOCK; i < end; i++) {
          const a = src.min[i] as number;
          const z = src.max[i] as number;
          if (a < lo) lo = a;
          if (z > hi) hi = z;
        }
        min[b] = lo;
        max[b] = hi;
      }
      const level = { min, max };
      this.levels.push(level);
      src = level;
    }
  }

  /** The levels above the values (to hand the pyramid to another thread without rebuilding it). */
  get blocks(): readonly { readonly min: Int32Array; readonly max: Int32Array }[] {
    return this.levels;
  }

  /** Result of the last `scan`: min and max over the range. */
  lo = 0;
  hi = 0;

  /** [min, max] over values[from, to); undefined for an empty range. */
  range(from: number, to: number): [number, number] | undefined {
    return this.scan(from, to) ? [this.lo, this.hi] : undefined;
  }

  /**
   * Min and max over values[from, to) into `lo` and `hi` (false for an empty range): the ragged
   * ends at each level, whole blocks one level up. No allocation: it runs per chart column.
   */
  scan(from: number, to: number): boolean {
    if (to <= from) return false;
    let lo = 2147483647;
    let hi = -2147483648;
    let a = from;
    let b = to;
    let mins: Int32Array = this.values;
    let maxs: Int32Array = this.values;
    for (let level = 0; ; level++) {
      const aUp = Math.ceil(a / BLOCK);
      const bDown = Math.floor(b / BLOCK);
      const up = this.levels[level];
      if (!up || aUp >= bDown) {
        for (let i = a; i < b; i++) {
          const x = mins[i] as number;
          const y = maxs[i] as number;
          if (x < lo) lo = x;
          if (y > hi) hi = y;
        }
        break;
      }
      for (let i = a, e = aUp * BLOCK; i < e; i++) {
        const x = mins[i] as number;
        const y = maxs[i] as number;
        if (x < lo) lo = x;
        if (y > hi) hi = y;
      }
      for (let i = bDown * BLOCK; i < b; i++) {
        const x = mins[i] as number;
        const y = maxs[i] as number;
        if (x < lo) lo = x;
        if (y > hi) hi = y;
      }
      a = aUp;
      b = bDown;
      mins = up.min;
      maxs = up.max;
    }
    this.lo = lo;
    this.hi = hi;
    return true;
  }
}

export interface TimelineQuery {
  readonly t0: number;
  readonly t1: number;
  readonly columns: number;
}

export interface TimelineColumns {
  readonly t0: number;
  readonly t1: number;
  readonly columns: number;
  /** Used slots of the whole pool: min and max per column (carried over columns with no event). */
  readonly totalMin: Int32Array;
  readonly totalMax: Int32Array;
  /** The high-water mark at the end of each column (since the start of the input). */
  readonly hiwater: Int32Array;
  /** Each area's used slots, max per column: columns x nareas, column-major per area. */
  readonly areaMax: Int32Array;
  /** Failed maps per column and cause: columns x FAILURE_CAUSES.length. */
  readonly failures: Uint32Array;
  /** Events per column (0: nothing happened there). */
  readonly events: Uint32Array;
}

/**
 * Precomputed series of an event table for the chart. Times must be non-decreasing (trace order
 * or event order); rows without a pool occupancy carry the previous value.
 */
export class Timeline {
  readonly times: Float64Array;
  readonly total: Int32Array;
  /** Min and max of `total` by range: a row's high-water mark is the max of the rows up to it. */
  private readonly totalPyramid: MinMaxPyramid;
  /** Per area: the rows touching it and the area's used slots after each. */
  private readonly areaRows: Int32Array[];
  private readonly areaPyramids: MinMaxPyramid[];
  /** Rows of failed maps and their cause index. */
  private readonly failRows: Int32Array;
  private readonly failCause: Uint8Array;
  readonly nareas: number;
  readonly peak: number;

  constructor(t: EventTable, nareas: number) {
    const n = t.length;
    this.nareas = Math.max(0, nareas);
    // the chart's times stay in memory whatever the table spills
    this.times = t.gather('time') as Float64Array;
    this.total = new Int32Array(n);
    let last = 0;
    let peak = 0;
    // typed lists, not number[]: at 10 M rows the per-area lists are most rows, twice
    const perArea = Array.from({ length: this.nareas }, () => new Int32List());
    const perAreaVal = Array.from({ length: this.nareas }, () => new Int32List());
    const areaUsed = new Int32Array(this.nareas);
    const fails = new Int32List();
    const causes = new Int32List();
    for (const v of t.chunks(['used', 'area', 'nslots', 'outcome', 'kind', 'reasons'])) {
      const c = v.c;
      for (let i = v.start; i < v.end; i++) {
        const j = i - v.base;
        const used = c.used[j] as number;
        if (used >= 0) last = used;
        this.total[i] = last;
        if (last > peak) peak = last;
        const area = c.area[j] as number;
        const slots = c.nslots[j] as number;
        const outcome = c.outcome[j] as Outcome;
        if (area >= 0 && area < this.nareas && slots > 0 && (outcome === Outcome.Bounced || outcome === Outcome.Released)) {
          areaUsed[area] = (areaUsed[area] as number) + (outcome === Outcome.Bounced ? slots : -slots);
          (perArea[area] as Int32List).push(i);
          (perAreaVal[area] as Int32List).push(areaUsed[area] as number);
        }
        const kind = c.kind[j] as EventKind;
        if ((outcome === Outcome.Failed || outcome === Outcome.Hang) && (kind === EventKind.Map || kind === EventKind.Alloc)) {
          fails.push(i);
          causes.push(failureCauseIndex(c.reasons[j] as number));
        }
      }
    }
    this.peak = peak;
    this.totalPyramid = new MinMaxPyramid(this.total);
    this.areaRows = perArea.map((r) => r.toArray());
    this.areaPyramids = perAreaVal.map((v) => new MinMaxPyramid(v.toArray()));
    this.failRows = fails.toArray();
    this.failCause = Uint8Array.from(causes.toArray());
  }

  /** The high-water mark after the rows before `end` (0 before the first). */
  hiwaterBefore(end: number): number {
    return this.totalPyramid.scan(0, end) ? Math.max(0, this.totalPyramid.hi) : 0;
  }

  get length(): number {
    return this.times.length;
  }

  get start(): number {
    return this.length ? (this.times[0] as number) : 0;
  }

  get end(): number {
    return this.length ? (this.times[this.length - 1] as number) : 0;
  }

  /** First row with time >= t. */
  rowAt(t: number): number {
    return lowerBound(this.times, t);
  }

  aggregate(q: TimelineQuery): TimelineColumns {
    const cols = Math.max(1, Math.min(Math.floor(q.columns), 8192));
    const span = q.t1 > q.t0 ? q.t1 - q.t0 : 1;
    const totalMin = new Int32Array(cols);
    const totalMax = new Int32Array(cols);
    const hiwater = new Int32Array(cols);
    const events = new Uint32Array(cols);
    const areaMax = new Int32Array(cols * this.nareas);
    const failures = new Uint32Array(cols * FAILURE_CAUSES.length);
    const bounds = new Int32Array(cols + 1);
    bounds[0] = lowerBound(this.times, q.t0);
    for (let c = 1; c <= cols; c++) bounds[c] = gallop(this.times, q.t0 + (span * c) / cols, bounds[c - 1] as number);
    // a column with no event shows the value the pool had then: the last one before it
    let carry = (bounds[0] as number) > 0 ? (this.total[(bounds[0] as number) - 1] as number) : 0;
    let hw = this.hiwaterBefore(bounds[0] as number);
    for (let c = 0; c < cols; c++) {
      const a = bounds[c] as number;
      const b = bounds[c + 1] as number;
      events[c] = b - a;
      const pyr = this.totalPyramid;
      if (pyr.scan(a, b)) {
        if (pyr.hi > hw) hw = pyr.hi;
        totalMin[c] = Math.min(pyr.lo, carry);
        totalMax[c] = Math.max(pyr.hi, carry);
        carry = this.total[b - 1] as number;
      } else {
        totalMin[c] = carry;
        totalMax[c] = carry;
      }
      hiwater[c] = hw;
    }
    for (let area = 0; area < this.nareas; area++) {
      const rows = this.areaRows[area] as Int32Array;
      const pyr = this.areaPyramids[area] as MinMaxPyramid;
      let k = lowerBound(rows, bounds[0] as number);
      let carryA = k > 0 ? (pyr.values[k - 1] as number) : 0;
      for (let c = 0; c < cols; c++) {
        const end = gallop(rows, bounds[c + 1] as number, k);
        areaMax[area * cols + c] = pyr.scan(k, end) ? Math.max(pyr.hi, carryA) : carryA;
        if (end > k) carryA = pyr.values[end - 1] as number;
        k = end;
      }
    }
    let f = lowerBound(this.failRows, bounds[0] as number);
    for (let c = 0; c < cols; c++) {
      const end = bounds[c + 1] as number;
      while (f < this.failRows.length && (this.failRows[f] as number) < end) {
        const i = c * FAILURE_CAUSES.length + (this.failCause[f] as number);
        failures[i] = (failures[i] as number) + 1;
        f++;
      }
    }
    return { t0: q.t0, t1: q.t1, columns: cols, totalMin, totalMax, hiwater, areaMax, failures, events };
  }

  /**
   * The same columns as `aggregate`, by visiting every row of the window: the reference the
   * pyramid is tested and benchmarked against.
   */
  aggregateByScan(q: TimelineQuery): TimelineColumns {
    const cols = Math.max(1, Math.min(Math.floor(q.columns), 8192));
    const span = q.t1 > q.t0 ? q.t1 - q.t0 : 1;
    const totalMin = new Int32Array(cols);
    const totalMax = new Int32Array(cols);
    const hiwater = new Int32Array(cols);
    const events = new Uint32Array(cols);
    const areaMax = new Int32Array(cols * this.nareas);
    const failures = new Uint32Array(cols * FAILURE_CAUSES.length);
    const colOf = (t: number) => {
      // the column whose [start, end) holds t, as aggregate's bounds define them
      let c = Math.floor(((t - q.t0) / span) * cols);
      while (c > 0 && t < q.t0 + (span * c) / cols) c--;
      while (c < cols && t >= q.t0 + (span * (c + 1)) / cols) c++;
      return c;
    };
    const first = lowerBound(this.times, q.t0);
    let carry = first > 0 ? (this.total[first - 1] as number) : 0;
    // the reference: the running max by visiting every row before the window, then each in it
    let hw = 0;
    for (let r = 0; r < first; r++) if ((this.total[r] as number) > hw) hw = this.total[r] as number;
    let c = 0;
    let i = first;
    let lastRow = first - 1;
    for (; c < cols; c++) {
      let lo = carry;
      let hi = carry;
      let any = false;
      for (; i < this.times.length && colOf(this.times[i] as number) === c; i++) {
        const v = this.total[i] as number;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
        events[c] = (events[c] as number) + 1;
        if (v > hw) hw = v;
        lastRow = i;
        any = true;
      }
      totalMin[c] = lo;
      totalMax[c] = hi;
      hiwater[c] = hw;
      if (any) carry = this.total[lastRow] as number;
    }
    for (let area = 0; area < this.nareas; area++) {
      const rows = this.areaRows[area] as Int32Array;
      const vals = (this.areaPyramids[area] as MinMaxPyramid).values;
      let k = lowerBound(rows, first);
      let carryA = k > 0 ? (vals[k - 1] as number) : 0;
      for (let col = 0; col < cols; col++) {
        let hi = carryA;
        for (; k < rows.length && colOf(this.times[rows[k] as number] as number) === col; k++) {
          const v = vals[k] as number;
          if (v > hi) hi = v;
          carryA = v;
        }
        areaMax[area * cols + col] = hi;
      }
    }
    for (let f = 0; f < this.failRows.length; f++) {
      const t = this.times[this.failRows[f] as number] as number;
      if (t < q.t0) continue;
      const col = colOf(t);
      if (col >= cols) break;
      const idx = col * FAILURE_CAUSES.length + (this.failCause[f] as number);
      failures[idx] = (failures[idx] as number) + 1;
    }
    return { t0: q.t0, t1: q.t1, columns: cols, totalMin, totalMax, hiwater, areaMax, failures, events };
  }
}

/** First index with a[i] >= x in a non-decreasing array (from `lo`). */
export function lowerBound(a: ArrayLike<number>, x: number, lo = 0, end = a.length): number {
  let hi = end;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * lowerBound from `lo` when the answer is usually near it: doubling steps, then a binary search
 * (O(log distance)): successive chart columns are close together.
 */
export function gallop(a: ArrayLike<number>, x: number, lo: number): number {
  const n = a.length;
  if (lo >= n || (a[lo] as number) >= x) return lo;
  let step = 1;
  let hi = lo + 1;
  while (hi < n && (a[hi] as number) < x) {
    lo = hi;
    step *= 2;
    hi = lo + step;
  }
  return lowerBound(a, x, Math.min(lo + 1, n), Math.min(hi, n));
}
