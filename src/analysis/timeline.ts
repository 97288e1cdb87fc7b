/**
 * Occupancy over time, aggregated per pixel column in the extension host so that a trace of
 * millions of events draws as fast as a small one: min/max of the pool's used slots (and of each
 * area's) over any time window, from a precomputed min/max pyramid, plus failures per column.
 */
import { EventKind, Outcome, Reason } from './codes';
import type { EventTable } from './eventTable';

/** Failure causes the chart colours, in this order. */
export const FAILURE_CAUSES = [
  { bit: Reason.TooBig, code: 'too-big' },
  { bit: Reason.PoolExhausted, code: 'pool-full' },
  { bit: Reason.Fragmented, code: 'fragmented' },
  { bit: Reason.BounceBeyondMask, code: 'bounce-beyond-mask' },
  { bit: Reason.NoSwiotlb, code: 'no-swiotlb' },
  { bit: Reason.Livelock, code: 'livelock' },
  { bit: Reason.DriverBug, code: 'driver-bug' },
] as const;

export function failureCauseIndex(reasons: number): number {
  for (let i = 0; i < FAILURE_CAUSES.length; i++) if (reasons & (FAILURE_CAUSES[i] as { bit: number }).bit) return i;
  return FAILURE_CAUSES.length - 1;
}

const BLOCK = 64;

/** Min/max over index ranges of one series, answered from blocks of 64, 64^2, ... values. */
export class MinMaxPyramid {
  private readonly levels: { min: Int32Array; max: Int32Array }[] = [];

  constructor(readonly values: Int32Array) {
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

  /** [min, max] over values[from, to); undefined for an empty range. */
  range(from: number, to: number): [number, number] | undefined {
    if (to <= from) return undefined;
    let lo = 2147483647;
    let hi = -2147483648;
    const scan = (mins: Int32Array, maxs: Int32Array, a: number, b: number) => {
      for (let i = a; i < b; i++) {
        if ((mins[i] as number) < lo) lo = mins[i] as number;
        if ((maxs[i] as number) > hi) hi = maxs[i] as number;
      }
    };
    let a = from;
    let b = to;
    let mins: Int32Array = this.values;
    let maxs: Int32Array = this.values;
    for (let level = 0; ; level++) {
      // the ragged ends at this level, then whole blocks one level up
      const aUp = Math.ceil(a / BLOCK);
      const bDown = Math.floor(b / BLOCK);
      const up = this.levels[level];
      if (!up || aUp >= bDown) {
        scan(mins, maxs, a, b);
        break;
      }
      scan(mins, maxs, a, aUp * BLOCK);
      scan(mins, maxs, bDown * BLOCK, b);
      a = aUp;
      b = bDown;
      mins = up.min;
      maxs = up.max;
    }
    return [lo, hi];
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
    this.times = t.time.subarray(0, n);
    this.total = new Int32Array(n);
    let last = 0;
    let peak = 0;
    const perArea: number[][] = Array.from({ length: this.nareas }, () => []);
    const perAreaVal: number[][] = Array.from({ length: this.nareas }, () => []);
    const areaUsed = new Int32Array(this.nareas);
    const fails: number[] = [];
    const causes: number[] = [];
    for (let i = 0; i < n; i++) {
      const used = t.used[i] as number;
      if (used >= 0) last = used;
      this.total[i] = last;
      if (last > peak) peak = last;
      const area = t.area[i] as number;
      const slots = t.nslots[i] as number;
      const outcome = t.outcome[i] as Outcome;
      if (area >= 0 && area < this.nareas && slots > 0 && (outcome === Outcome.Bounced || outcome === Outcome.Released)) {
        areaUsed[area] = (areaUsed[area] as number) + (outcome === Outcome.Bounced ? slots : -slots);
        (perArea[area] as number[]).push(i);
        (perAreaVal[area] as number[]).push(areaUsed[area] as number);
      }
      const kind = t.kind[i] as EventKind;
      if ((outcome === Outcome.Failed || outcome === Outcome.Hang) && (kind === EventKind.Map || kind === EventKind.Alloc)) {
        fails.push(i);
        causes.push(failureCauseIndex(t.reasons[i] as number));
      }
    }
    this.peak = peak;
    this.totalPyramid = new MinMaxPyramid(this.total);
    this.areaRows = perArea.map((r) => Int32Array.from(r));
    this.areaPyramids = perAreaVal.map((v) => new MinMaxPyramid(Int32Array.from(v)));
    this.failRows = Int32Array.from(fails);
    this.failCause = Uint8Array.from(causes);
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
    const events = new Uint32Array(cols);
    const areaMax = new Int32Array(cols * this.nareas);
    const failures = new Uint32Array(cols * FAILURE_CAUSES.length);
    const bounds = new Int32Array(cols + 1);
    for (let c = 0; c <= cols; c++) bounds[c] = lowerBound(this.times, q.t0 + (span * c) / cols);
    // a column with no event shows the value the pool had then: the last one before it
    let carry = (bounds[0] as number) > 0 ? (this.total[(bounds[0] as number) - 1] as number) : 0;
    for (let c = 0; c < cols; c++) {
      const a = bounds[c] as number;
      const b = bounds[c + 1] as number;
      events[c] = b - a;
      const r = this.totalPyramid.range(a, b);
      if (r) {
        totalMin[c] = Math.min(r[0], carry);
        totalMax[c] = Math.max(r[1], carry);
        carry = this.total[b - 1] as number;
      } else {
        totalMin[c] = carry;
        totalMax[c] = carry;
      }
    }
    for (let area = 0; area < this.nareas; area++) {
      const rows = this.areaRows[area] as Int32Array;
      const pyr = this.areaPyramids[area] as MinMaxPyramid;
      let k = lowerBound(rows, bounds[0] as number);
      let carryA = k > 0 ? (pyr.values[k - 1] as number) : 0;
      for (let c = 0; c < cols; c++) {
        const end = lowerBound(rows, bounds[c + 1] as number, k);
        const r = pyr.range(k, end);
        areaMax[area * cols + c] = r ? Math.max(r[1], carryA) : carryA;
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
    return { t0: q.t0, t1: q.t1, columns: cols, totalMin, totalMax, areaMax, failures, events };
  }
}

/** First index with a[i] >= x in a non-decreasing array (from `lo`). */
export function lowerBound(a: ArrayLike<number>, x: number, lo = 0): number {
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
