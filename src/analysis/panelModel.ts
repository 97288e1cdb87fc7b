/**
 * What the analysis panel asks of a session, answered in the extension host: chart columns,
 * filtered and sorted table pages, slot maps at a row. Pure (no vscode): tested directly.
 */

import { Reason } from '../model/reasons';
import type { AnalysisRequest, HostMessage, SessionInfo, SummaryView, WebviewMessage } from '../protocol/messages';
import { Books } from './books';
import { EventKind } from './codes';
import { COLUMN_NAMES, type RawRow, type SortColumn } from './columns';
import type { EventTable } from './eventTable';
import { FilterExprError } from './filterExpr';
import { queryRows, type TableFilter } from './query';
import { type AnalysisSession, booksOf, type DeviceSummary, devicesOf, eventIn } from './session';
import { LOG_FACT_KINDS, type LogView } from './sessionLog';
import { SlotHistory } from './slotHistory';
import { lowerBound, Timeline } from './timeline';

export interface SessionExtras {
  readonly request?: AnalysisRequest | null;
  readonly title?: string;
  readonly advice?: string | null;
  readonly check?: SummaryView['check'];
  readonly notes?: readonly string[];
  /** What a kernel log of the input says (sessionLog.ts). */
  readonly log?: LogView | null;
}

/** A time range's statistics (the panel's range table). */
export interface RangeStats {
  readonly t0: number;
  readonly t1: number;
  readonly rows: number;
  readonly firstRow: number;
  readonly maps: number;
  readonly bounced: number;
  readonly direct: number;
  readonly failed: number;
  readonly unmaps: number;
  readonly syncs: number;
  readonly bytesCopied: number;
  readonly failuresByCause: Readonly<Record<string, number>>;
  /** Most slots in use within the range (null: the input does not say). */
  readonly peakSlots: number | null;
  /** Slots in use when the range began. */
  readonly slotsBefore: number | null;
  readonly logMessages: number;
  readonly devices: readonly DeviceSummary[];
}

/** A trace with only swiotlb:swiotlb_bounced events: what it does show. */
export interface BouncesView {
  readonly total: number;
  readonly forced: number;
  readonly bytes: number;
  /** dev_addr=ffffffffffffffff: DMA_MAPPING_ERROR, the map had failed before the bounce event. */
  readonly errorSentinel: number;
  readonly devices: readonly {
    readonly id: number;
    readonly name: string;
    readonly bounces: number;
    readonly forced: number;
    readonly bytes: number;
    readonly largest: number;
  }[];
  /** Bounces by size: powers of two from 512 bytes (the last bucket: larger). */
  readonly sizes: readonly { readonly upTo: number; readonly count: number }[];
}

/** dev_addr of DMA_MAPPING_ERROR (~0) as the table keeps it (a double: 2^64 rounded). */
const DMA_ERROR_MIN = 2 ** 64 - 2 ** 12;

/** The bounces of a trace with no maps (only swiotlb_bounced), or null. */
export function bouncesOf(t: EventTable): BouncesView | null {
  let total = 0;
  let forced = 0;
  let bytes = 0;
  let errorSentinel = 0;
  const devs = new Map<number, { bounces: number; forced: number; bytes: number; largest: number }>();
  const limits = [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, Number.POSITIVE_INFINITY];
  const sizes = limits.map((upTo) => ({ upTo, count: 0 }));
  for (const v of t.chunks(['kind', 'size', 'reasons', 'dma', 'device']))
    for (let j = v.start - v.base; j < v.end - v.base; j++) {
      const k = v.c.kind[j];
      if (k === EventKind.Map || k === EventKind.MapResource) return null;
      if (k !== EventKind.BounceAttempt) continue;
      total++;
      const size = Math.max(0, v.c.size[j] as number);
      const f = ((v.c.reasons[j] as number) & Reason.ForceBounce) !== 0;
      if (f) forced++;
      bytes += size;
      if ((v.c.dma[j] as number) >= DMA_ERROR_MIN) errorSentinel++;
      const id = v.c.device[j] as number;
      const d = devs.get(id) ?? { bounces: 0, forced: 0, bytes: 0, largest: 0 };
      d.bounces++;
      if (f) d.forced++;
      d.bytes += size;
      d.largest = Math.max(d.largest, size);
      devs.set(id, d);
      const b = sizes.find((x) => size <= x.upTo);
      if (b) b.count++;
    }
  if (total === 0) return null;
  return {
    total,
    forced,
    bytes,
    errorSentinel,
    devices: [...devs.entries()]
      .map(([id, d]) => ({ id, name: t.devices.values[id] || '(unknown device)', ...d }))
      .sort((a, b) => b.bounces - a.bounces),
    sizes: sizes.filter((x) => x.count > 0).map((x) => ({ upTo: Number.isFinite(x.upTo) ? x.upTo : -1, count: x.count })),
  };
}

let nextSessionId = 1;

export class PanelModel {
  readonly info: SessionInfo;
  readonly timeline: Timeline;
  private history: SlotHistory | undefined;
  private rows: Int32Array;
  private queryId = 0;
  /** Rows of the current search (expression or text), in row (time) order; null: no search. */
  private hits: Int32Array | null = null;
  /** Rows the table does not list (the log's machine facts); null: none (a trace: no byte a row). */
  private readonly hidden: Uint8Array | null;

  constructor(
    readonly session: AnalysisSession,
    extras: SessionExtras = {},
  ) {
    const t = session.events;
    this.timeline = new Timeline(t, session.pool?.nareas ?? 0);
    // the log's machine facts (version, cmdline, CPUs) are in the summary, not rows of the table
    const facts = new Set<number>();
    t.apis.values.forEach((name, id) => {
      if (LOG_FACT_KINDS.has(name)) facts.add(id);
    });
    const hidden = facts.size ? new Uint8Array(t.length) : null;
    let hiddenRows = 0;
    if (hidden)
      for (const v of t.chunks(['kind', 'api']))
        for (let i = v.start; i < v.end; i++)
          if (v.c.kind[i - v.base] === EventKind.LogMessage && facts.has(v.c.api[i - v.base] as number)) {
            hidden[i] = 1;
            hiddenRows++;
          }
    this.hidden = hidden;
    this.rows = new Int32Array(t.length - hiddenRows);
    for (let i = 0, k = 0; i < t.length; i++) if (!hidden?.[i]) this.rows[k++] = i;
    const s = session.summary;
    this.info = {
      id: nextSessionId++,
      request: extras.request ?? null,
      kind: session.kind,
      title: extras.title ?? session.files.map((f) => f.replace(/^.*[\\/]/, '')).join(' + '),
      files: session.files,
      kernel: session.kernel,
      platform: session.platform,
      pool: session.pool,
      hasClock: t.hasClock,
      t0: this.timeline.start,
      t1: this.timeline.end,
      rows: t.length - hiddenRows,
      hiddenRows,
      names: t.names,
      deviceStats: session.devices,
      summary: {
        maps: s.maps,
        bounced: s.bounced,
        direct: s.direct,
        failed: s.failed,
        hangs: s.hangs,
        unmaps: s.unmaps,
        syncs: s.syncs,
        bytesCopied: s.bytesCopied,
        failuresByCause: s.failuresByCause,
        bouncesByReason: s.bouncesByReason,
        peakSlots: s.peakSlots,
        peakRow: s.peakRow,
        averageSlots: s.averageSlots,
        rowsOnly: s.rowsOnly ?? null,
        advice: extras.advice ?? null,
        check: extras.check ?? null,
      },
      notes: extras.notes ?? [],
      log: extras.log ?? null,
      bounces: t.length > 0 && s.maps === 0 ? bouncesOf(t) : null,
      diagnostics: session.diagnostics.slice(0, 200),
      diagnosticCount: session.diagnostics.length,
    };
  }

  private visible(rows: Int32Array): Int32Array {
    const hidden = this.hidden;
    return hidden && this.info.hiddenRows > 0 ? rows.filter((r) => !hidden[r]) : rows;
  }

  /** Rows of the current query, in display order. */
  get current(): Int32Array {
    return this.rows;
  }

  lastRowAtOrBefore(time: number): number {
    const times = this.timeline.times;
    // first row after `time`, minus one
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((times[mid] as number) <= time) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** The first row at or after `time` (the row count when none). */
  firstRowAtOrAfter(time: number): number {
    const times = this.timeline.times;
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((times[mid] as number) < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * What happened between t0 and t1 (inclusive): the statistics of a range selected on the chart,
   * from the same books as the whole session's summary, plus the pool's occupancy when the range
   * began and the most slots in use within it.
   */
  rangeStats(t0: number, t1: number): RangeStats {
    const t = this.session.events;
    const b = new Books();
    b.hasClock = t.hasClock;
    const first = this.firstRowAtOrAfter(t0);
    let i = first;
    let logMessages = 0;
    scan: for (const v of t.chunks(COLUMN_NAMES, first))
      for (; i < v.end; i++) {
        const j = i - v.base;
        if ((v.c.time[j] as number) > t1) break scan;
        if (v.c.kind[j] === EventKind.LogMessage) logMessages++;
        b.record(eventIn(v.c, j, i, t), v.c.device[j] as number, i, t.files.get(v.c.file[j] as number));
      }
    // the pool when the range began: the last known occupancy before it
    let before: number | null = null;
    for (let k = first - 1; k >= 0 && first - k < 1_000_000; k--) {
      const u = t.get('used', k);
      if (u >= 0) {
        before = u;
        break;
      }
    }
    const devices = devicesOf(b, t.devices.values)
      .sort((x, y) => y.maps + y.failed - (x.maps + x.failed))
      .slice(0, 50);
    return {
      t0,
      t1,
      rows: i - first,
      firstRow: first,
      maps: b.maps,
      bounced: b.bounced,
      direct: b.direct,
      failed: b.failed + b.hangs,
      unmaps: b.unmaps,
      syncs: b.syncs,
      bytesCopied: b.bytesCopied,
      failuresByCause: { ...b.failuresByCause },
      peakSlots: b.peak,
      slotsBefore: before,
      logMessages,
      devices,
    };
  }

  /** The first row that came from this file and line, or -1. */
  rowAt(file: string, line: number): number {
    const t = this.session.events;
    const id = t.files.values.indexOf(file);
    if (id <= 0) return -1;
    for (const v of t.chunks(['file', 'line']))
      for (let i = v.start; i < v.end; i++) if (v.c.file[i - v.base] === id && v.c.line[i - v.base] === line) return i;
    return -1;
  }

  /** Asks the webview to select a row (where it is in the current query). */
  /** Where a row is in the current query; `reveal`: the webview clears filters that hide it. */
  locate(row: number, reveal = false): HostMessage {
    return {
      type: 'located',
      session: this.info.id,
      query: this.queryId,
      row,
      position: this.positionOf(row),
      select: true,
      ...(reveal ? { reveal } : {}),
    };
  }

  /** Position of a row in the current query (for scrolling to it), or -1. */
  positionOf(row: number): number {
    const rows = this.rows;
    for (let k = 0; k < rows.length; k++) if (rows[k] === row) return k;
    return -1;
  }

  query(filter: TableFilter, sort: { column: SortColumn; desc: boolean }, query: number): HostMessage {
    this.queryId = query;
    try {
      this.rows = this.visible(queryRows(this.session.events, filter, sort));
    } catch (e) {
      if (!(e instanceof FilterExprError)) throw e;
      this.rows = new Int32Array(0);
      this.hits = null;
      const error = { message: e.message, position: e.position, length: e.length };
      return { type: 'count', session: this.info.id, query, total: 0, error };
    }
    const search = !!(filter.expr?.trim() || filter.text?.trim());
    this.hits = !search ? null : sort.column === 'index' && !sort.desc ? this.rows : this.rows.slice().sort();
    return { type: 'count', session: this.info.id, query, total: this.rows.length };
  }

  /** Search hits per chart column of a window (the columns' bounds as Timeline.aggregate draws them). */
  hitColumns(t0: number, t1: number, columns: number): Uint32Array | undefined {
    const hits = this.hits;
    if (!hits) return undefined;
    const cols = Math.max(1, Math.min(Math.floor(columns), 8192));
    const span = t1 > t0 ? t1 - t0 : 1;
    const times = this.timeline.times;
    const out = new Uint32Array(cols);
    let k = lowerBound(hits, lowerBound(times, t0));
    for (let c = 0; c < cols; c++) {
      // the last column holds the window's end too (a hit on the last row is marked)
      let bound = lowerBound(times, t0 + (span * (c + 1)) / cols);
      if (c === cols - 1) while (bound < times.length && (times[bound] as number) <= t1) bound++;
      const end = lowerBound(hits, bound, k);
      out[c] = end - k;
      k = end;
    }
    return out;
  }

  /**
   * The search hit after `row` (before it, `backward`), wrapping around; with no row, the first
   * at or after `time` (the last at or before it). Null when there is no search or no hit.
   */
  nextHit(row: number, time: number | null, backward: boolean): number | null {
    const hits = this.hits;
    if (!hits || hits.length === 0) return null;
    let k: number;
    if (row >= 0) k = backward ? lowerBound(hits, row) - 1 : lowerBound(hits, row + 1);
    else if (time !== null) {
      const first = this.firstRowAtOrAfter(time);
      k = backward ? lowerBound(hits, this.lastRowAtOrBefore(time) + 1) - 1 : lowerBound(hits, first);
    } else k = backward ? hits.length - 1 : 0;
    if (k < 0) k = hits.length - 1;
    if (k >= hits.length) k = 0;
    return hits[k] as number;
  }

  /** Answers a data request of the panel; undefined for messages that are not about data. */
  answer(m: WebviewMessage): HostMessage | undefined {
    if (!('session' in m) || m.session !== this.info.id) return undefined;
    switch (m.type) {
      case 'timeline': {
        const c = this.timeline.aggregate({ t0: m.t0, t1: m.t1, columns: m.columns });
        const hits = this.hitColumns(m.t0, m.t1, m.columns);
        return { type: 'timeline', session: this.info.id, request: m.request, ...c, ...(hits ? { hits } : {}) };
      }
      case 'nextHit': {
        if (m.query !== this.queryId) return undefined;
        const row = this.nextHit(m.row, m.time, m.backward);
        return row === null ? undefined : this.locate(row);
      }
      case 'query':
        return this.query(m.filter, m.sort, m.query);
      case 'locate':
        if (m.query !== this.queryId || m.row >= this.session.events.length) return undefined;
        return this.locate(m.row);
      case 'rows': {
        if (m.query !== this.queryId) return undefined;
        const end = Math.min(m.start + m.count, this.rows.length);
        const rows: RawRow[] = [];
        for (let k = m.start; k < end; k++) rows.push(this.session.events.raw(this.rows[k] as number));
        return { type: 'rows', session: this.info.id, request: m.request, query: m.query, start: m.start, rows };
      }
      case 'rangeStats':
        return { type: 'rangeStats', session: this.info.id, request: m.request, stats: this.rangeStats(m.t0, m.t1) };
      case 'slotmap': {
        const pool = this.session.pool;
        if (!pool) return undefined;
        this.history ??= new SlotHistory(this.session.events, pool.nslabs);
        // at a time: after the last row at or before it
        const row = m.time !== undefined ? this.lastRowAtOrBefore(m.time) : m.row;
        const owner = this.history.ownersAfter(row);
        const t = this.session.events;
        const device = new Uint16Array(owner.length);
        const since = new Float64Array(owner.length);
        for (let s = 0; s < owner.length; s++) {
          const o = owner[s] as number;
          if (o >= 0) {
            device[s] = t.get('device', o);
            since[s] = t.get('time', o);
          }
        }
        const time = m.time ?? (row >= 0 && row < t.length ? t.get('time', row) : this.timeline.start);
        return { type: 'slotmap', session: this.info.id, request: m.request, row, time, owner, device, since };
      }
      default:
        return undefined;
    }
  }
}

/** Per-device totals of a table's rows (releases are charged to the device of the map they end). */
export function deviceStats(t: EventTable): DeviceSummary[] {
  return devicesOf(booksOf(t), t.devices.values);
}
