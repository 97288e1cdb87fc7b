/**
 * The chart of an analysis still running: the rows read so far, aggregated into at most
 * MAX_COLUMNS columns of equal width from the first row's time; when a row falls past the last
 * column, the width doubles (pairs of columns merge). Fed the new rows of the growing event
 * table every few hundred ms in the analysis worker, each update costs the rows it adds, not the
 * rows read, and memory stays bounded. Its columns are what Timeline.aggregate gives for the same
 * window (test/unit/partialTimeline.test.ts), without the per-area series (nareas 0).
 */
import { EventKind, Outcome } from './codes';
import type { EventTable } from './eventTable';
import { FAILURE_CAUSES, failureCauseIndex, type TimelineColumns } from './timeline';

export const MAX_COLUMNS = 2048;
const NC = FAILURE_CAUSES.length;

export class GrowingTimeline {
  /** Rows of the table aggregated so far. */
  rows = 0;
  private t0 = 0;
  /** Time per column (0 until a second distinct time is seen). */
  private width = 0;
  /** Columns in use: the last with a row, plus one. */
  private used = 0;
  private readonly min = new Int32Array(MAX_COLUMNS);
  private readonly max = new Int32Array(MAX_COLUMNS);
  /** The pool's occupancy after the column's last row, and the high-water mark then. */
  private readonly last = new Int32Array(MAX_COLUMNS);
  private readonly hi = new Int32Array(MAX_COLUMNS);
  private readonly events = new Uint32Array(MAX_COLUMNS);
  private readonly failures = new Uint32Array(MAX_COLUMNS * NC);
  /** Occupancy after the last row read (rows without one carry it), and its running maximum. */
  private value = 0;
  private peakValue = 0;
  /** True once a time that is not a whole number was seen (a trace clock in seconds, not a counter). */
  fractionalTimes = false;

  get peak(): number {
    return this.peakValue;
  }

  /** Aggregates the rows the table gained since the last call. */
  feed(t: EventTable): void {
    const n = t.length;
    if (this.rows === 0 && n > 0) this.t0 = t.get('time', 0);
    for (const view of t.chunks(['time', 'used', 'outcome', 'kind', 'reasons'], this.rows, n)) {
      const { time, used, outcome, kind, reasons } = view.c;
      for (let i = view.start; i < view.end; i++) {
        const j = i - view.base;
        const at = time[j] as number;
        if (!this.fractionalTimes && !Number.isInteger(at)) this.fractionalTimes = true;
        if (this.width === 0 && at > this.t0) this.width = at - this.t0;
        let c = this.width > 0 ? Math.floor((at - this.t0) / this.width) : 0;
        while (c >= MAX_COLUMNS) {
          this.merge();
          c = Math.floor((at - this.t0) / this.width);
        }
        const u = used[j] as number;
        if (u >= 0) this.value = u;
        const v = this.value;
        if (v > this.peakValue) this.peakValue = v;
        if (this.events[c] === 0) {
          this.min[c] = v;
          this.max[c] = v;
        } else {
          if (v < (this.min[c] as number)) this.min[c] = v;
          if (v > (this.max[c] as number)) this.max[c] = v;
        }
        this.events[c] = (this.events[c] as number) + 1;
        this.last[c] = v;
        this.hi[c] = this.peakValue;
        const o = outcome[j] as Outcome;
        const k = kind[j] as EventKind;
        if ((o === Outcome.Failed || o === Outcome.Hang) && (k === EventKind.Map || k === EventKind.Alloc)) {
          const f = c * NC + failureCauseIndex(reasons[j] as number);
          this.failures[f] = (this.failures[f] as number) + 1;
        }
        if (c >= this.used) this.used = c + 1;
      }
    }
    this.rows = n;
  }

  /** Doubles the column width: column j becomes columns 2j and 2j + 1. */
  private merge(): void {
    const half = MAX_COLUMNS / 2;
    for (let j = 0; j < half; j++) {
      const a = 2 * j;
      const b = a + 1;
      const ea = this.events[a] as number;
      const eb = this.events[b] as number;
      if (ea && eb) {
        this.min[j] = Math.min(this.min[a] as number, this.min[b] as number);
        this.max[j] = Math.max(this.max[a] as number, this.max[b] as number);
      } else {
        this.min[j] = (eb ? this.min[b] : this.min[a]) as number;
        this.max[j] = (eb ? this.max[b] : this.max[a]) as number;
      }
      this.last[j] = (eb ? this.last[b] : this.last[a]) as number;
      this.hi[j] = (eb ? this.hi[b] : this.hi[a]) as number;
      this.events[j] = ea + eb;
      for (let k = 0; k < NC; k++)
        this.failures[j * NC + k] = (this.failures[a * NC + k] as number) + (this.failures[b * NC + k] as number);
    }
    this.min.fill(0, half);
    this.max.fill(0, half);
    this.last.fill(0, half);
    this.hi.fill(0, half);
    this.events.fill(0, half);
    this.failures.fill(0, half * NC);
    this.used = Math.ceil(this.used / 2);
    this.width *= 2;
  }

  /** The columns of what was read, from the first row's time to the end of the last column with a row. */
  columns(): TimelineColumns {
    const cols = Math.max(1, this.used);
    const totalMin = new Int32Array(cols);
    const totalMax = new Int32Array(cols);
    const hiwater = new Int32Array(cols);
    const events = this.events.slice(0, cols);
    const failures = this.failures.slice(0, cols * NC);
    // a column with no row shows the value the pool had then: the last one before it
    let carry = 0;
    let hi = 0;
    for (let c = 0; c < cols; c++) {
      if (this.events[c]) {
        totalMin[c] = Math.min(this.min[c] as number, carry);
        totalMax[c] = Math.max(this.max[c] as number, carry);
        carry = this.last[c] as number;
        hi = this.hi[c] as number;
      } else {
        totalMin[c] = carry;
        totalMax[c] = carry;
      }
      hiwater[c] = hi;
    }
    const t1 = this.t0 + (this.width > 0 ? this.width * cols : 1);
    return { t0: this.t0, t1, columns: cols, totalMin, totalMax, hiwater, areaMax: new Int32Array(0), failures, events };
  }
}
