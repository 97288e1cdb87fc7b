/**
 * What any analysis hands to the views: the pool, the event table, a summary and diagnostics.
 * Produced by every input (replay ops, traces, logs, scenarios, driver source); read by the
 * panel, the side view, the editor decorations and the CLI.
 */
import { Books } from './books';
import { type EventKind, Outcome } from './codes';
import { COLUMN_NAMES, type ColumnArrays, type EventInit } from './columns';
import type { EventTable } from './eventTable';

export type InputKind = 'replay' | 'trace' | 'log' | 'trace+log' | 'scenario' | 'source';

export interface PoolInfo {
  /** Physical (pseudo-physical under Xen PV) start of slot 0. */
  readonly start: number;
  readonly nslabs: number;
  readonly nareas: number;
  readonly areaNslabs: number;
  /** Where the geometry came from ("header", "dmesg", "--cmdline", "default", ...). */
  readonly source: string;
}

/** The pool as the views need it, from the model's geometry (areas of equal size). */
export function poolInfo(pool: { readonly start: number; readonly nslabs: number; readonly nareas: number }, source: string): PoolInfo {
  return { start: pool.start, nslabs: pool.nslabs, nareas: pool.nareas, areaNslabs: Math.floor(pool.nslabs / pool.nareas), source };
}

export interface Diagnostic {
  readonly file: string;
  /** 1-based; 0 when the whole input is meant. */
  readonly line: number;
  readonly severity: 'error' | 'warning' | 'info';
  readonly message: string;
}

export interface SessionSummary {
  maps: number;
  direct: number;
  bounced: number;
  failed: number;
  hangs: number;
  unmaps: number;
  syncs: number;
  bytesCopied: number;
  /** Failures by reason code (too-big, pool-full, fragmented, ...). */
  failuresByCause: Record<string, number>;
  /** Bounces by reason code (force, dma-mask, ...). */
  bouncesByReason: Record<string, number>;
  peakSlots: number | null;
  /** Time-weighted when the input has a clock, else per event. */
  averageSlots: number | null;
  /** Row at which the peak was first reached (null: none, or beyond the rows kept). */
  peakRow: number | null;
  /**
   * Set when the input had more events than rows kept: the figures count the whole input, the
   * chart, table and slot map show these first rows.
   */
  rowsOnly?: number;
}

/** One device's totals (the Devices tab); releases are charged to the device that mapped. */
export interface DeviceSummary {
  /** Its id in the session's device names. */
  readonly id: number;
  readonly name: string;
  readonly maps: number;
  readonly bounced: number;
  readonly direct: number;
  readonly failed: number;
  readonly bytesCopied: number;
  /** Most slots this device held at once. */
  readonly peakSlots: number;
}

export interface AnalysisSession {
  readonly kind: InputKind;
  readonly files: readonly string[];
  /** Kernel profile name (--kernel) and platform profile name. */
  readonly kernel: string;
  readonly platform: string;
  readonly pool: PoolInfo | null;
  readonly events: EventTable;
  readonly summary: SessionSummary;
  readonly devices: readonly DeviceSummary[];
  readonly diagnostics: readonly Diagnostic[];
}

/** The session's figures from its books. */
export function summaryOf(b: Books, rowsDropped = 0, rowsKept = 0): SessionSummary {
  return {
    maps: b.maps,
    direct: b.direct,
    bounced: b.bounced,
    failed: b.failed,
    hangs: b.hangs,
    unmaps: b.unmaps,
    syncs: b.syncs,
    bytesCopied: b.bytesCopied,
    failuresByCause: { ...b.failuresByCause },
    bouncesByReason: { ...b.bouncesByReason },
    peakSlots: b.peak,
    averageSlots: b.averageSlots,
    peakRow: b.peakRow >= 0 ? b.peakRow : null,
    ...(rowsDropped > 0 ? { rowsOnly: rowsKept } : {}),
  };
}

/** Per-device totals from the books: every device with events (the unnamed one only with maps or slots). */
export function devicesOf(b: Books, names: readonly string[]): DeviceSummary[] {
  const out: DeviceSummary[] = [];
  b.devices.forEach((d, id) => {
    if (!d || (id === 0 && d.maps === 0 && d.peakLiveSlots === 0)) return;
    out.push({
      id,
      name: names[id] || '(unknown device)',
      maps: d.maps,
      bounced: d.bounced,
      direct: d.direct,
      failed: d.failed + d.hangs,
      bytesCopied: d.bytesCopied,
      peakSlots: d.peakLiveSlots,
    });
  });
  return out;
}

/** The books of a table's rows (for sessions put together from other sessions' rows). */
export function booksOf(t: EventTable): Books {
  const b = new Books();
  b.hasClock = t.hasClock;
  for (const v of t.chunks(COLUMN_NAMES))
    for (let i = v.start; i < v.end; i++)
      b.record(eventIn(v.c, i - v.base, i, t), v.c.device[i - v.base] as number, i, t.files.get(v.c.file[i - v.base] as number));
  return b;
}

/** Row `i` as the event that made it (names as ids of the table's names). */
export function eventAt(t: EventTable, i: number): EventInit {
  const { c, j } = t.rowColumns(i);
  return eventIn(c, j, i, t);
}

/** Row `i`, entry `j` of its chunk's columns `c`, as the event that made it. */
export function eventIn(c: ColumnArrays, j: number, i: number, t: EventTable): EventInit {
  const n = (v: number) => (v < 0 ? undefined : v);
  const e: EventInit = {
    kind: c.kind[j] as EventKind,
    outcome: c.outcome[j] as Outcome,
    time: c.time[j] as number,
    device: c.device[j] as number,
    api: c.api[j] as number,
    attrs: c.attrs[j] as number,
    reasons: c.reasons[j] as number,
    nslots: c.nslots[j] as number,
    copied: c.copied[j] as number,
    file: c.file[j] as number,
    line: c.line[j] as number,
  };
  const set = (k: 'cpu' | 'size' | 'slot' | 'area' | 'used' | 'phys' | 'dma' | 'pair', v: number) => {
    const x = n(v);
    if (x !== undefined) e[k] = x;
  };
  set('cpu', c.cpu[j] as number);
  set('size', c.size[j] as number);
  set('slot', c.slot[j] as number);
  set('area', c.area[j] as number);
  set('used', c.used[j] as number);
  set('phys', c.phys[j] as number);
  set('dma', c.dma[j] as number);
  set('pair', c.pair[j] as number);
  const dir = c.dir[j] as number;
  if (dir >= 0) e.dir = dir;
  const m = t.messages.get(i);
  if (m) e.message = m;
  return e;
}

/** The generic part of a summary, from the event table alone. */
export function summarizeEvents(t: EventTable): SessionSummary {
  return summaryOf(booksOf(t));
}

/**
 * Owner row of every slot after row `upto` (inclusive): -1 for free slots. Bounced maps and
 * allocations take [slot, slot+nslots); releases give them back.
 */
export function slotOwnersAt(t: EventTable, nslabs: number, upto: number): Int32Array {
  const owner = new Int32Array(nslabs).fill(-1);
  for (const v of t.chunks(['slot', 'nslots', 'outcome'], 0, upto + 1)) {
    const { slot: slots, nslots, outcome: outcomes } = v.c;
    for (let i = v.start; i < v.end; i++) {
      const j = i - v.base;
      const slot = slots[j] as number;
      if (slot < 0) continue;
      const n = nslots[j] as number;
      const outcome = outcomes[j] as Outcome;
      if (outcome === Outcome.Bounced) owner.fill(i, slot, Math.min(slot + n, nslabs));
      else if (outcome === Outcome.Released) owner.fill(-1, slot, Math.min(slot + n, nslabs));
    }
  }
  return owner;
}
