/**
 * Filtering, sorting and exporting the per-call table without materialising rows: every filter
 * runs over the typed-array columns, producing the list of matching rows in display order.
 */
import type { DmaDirection } from '../model/constants';
import { REASON_INFO } from '../model/reasons';
import { EVENT_KIND_NAMES, type EventKind, OUTCOME_NAMES, type Outcome } from './codes';
import { COLUMNS, type ColumnName, CSV_HEADER, type EventRow, type SortColumn } from './columns';
import type { EventTable } from './eventTable';
import { filterPredicate } from './filterExpr';

export type { SortColumn };

export interface TableFilter {
  /** Device ids (EventTable.devices) to keep; empty or absent: all. */
  readonly devices?: readonly number[];
  readonly kinds?: readonly EventKind[];
  readonly outcomes?: readonly Outcome[];
  readonly dirs?: readonly DmaDirection[];
  /** Keep rows carrying any of these reason bits. */
  readonly reasons?: number;
  /** Time window [t0, t1]. */
  readonly t0?: number;
  readonly t1?: number;
  /** Free text: device, call, kind, outcome, reason code, message, or an address inside the buffer. */
  readonly text?: string;
  /** A filter expression (filterExpr.ts): `size > 64K && device ~ nvme`. */
  readonly expr?: string;
}

export interface TableSort {
  readonly column: SortColumn;
  readonly desc?: boolean;
}

function idsMatching(values: readonly string[], needle: string): Set<number> {
  const out = new Set<number>();
  values.forEach((v, i) => {
    if (i > 0 && v.toLowerCase().includes(needle)) out.add(i);
  });
  return out;
}

/** Rows matching the filter, in table order or sorted; a bad expression throws FilterExprError. */
export function queryRows(t: EventTable, filter: TableFilter = {}, sort?: TableSort): Int32Array {
  const n = t.length;
  const devs = filter.devices?.length ? new Set(filter.devices) : null;
  const kinds = filter.kinds?.length ? new Set<number>(filter.kinds) : null;
  const outcomes = filter.outcomes?.length ? new Set<number>(filter.outcomes) : null;
  const dirs = filter.dirs?.length ? new Set<number>(filter.dirs) : null;
  const reasons = filter.reasons ?? 0;
  const t0 = filter.t0 ?? Number.NEGATIVE_INFINITY;
  const t1 = filter.t1 ?? Number.POSITIVE_INFINITY;
  const text = filter.text?.trim().toLowerCase() ?? '';
  const expr = filter.expr?.trim() ? filterPredicate(filter.expr, t) : null;
  let textDevices: Set<number> | null = null;
  let textApis: Set<number> | null = null;
  let textKinds: Set<number> | null = null;
  let textOutcomes: Set<number> | null = null;
  let textReasons = 0;
  let textAddr: number | null = null;
  if (text) {
    textDevices = idsMatching(t.devices.values, text);
    textApis = idsMatching(t.apis.values, text);
    textKinds = new Set(
      Object.entries(EVENT_KIND_NAMES)
        .filter(([, v]) => v.includes(text))
        .map(([k]) => Number(k)),
    );
    textOutcomes = new Set(
      Object.entries(OUTCOME_NAMES)
        .filter(([, v]) => v !== '' && v.includes(text))
        .map(([k]) => Number(k)),
    );
    for (const r of REASON_INFO) if (r.code.includes(text)) textReasons |= r.bit;
    if (/^0x[0-9a-f]+$/.test(text)) {
      const v = Number.parseInt(text.slice(2), 16);
      if (Number.isSafeInteger(v)) textAddr = v;
    }
  }
  const out = new Int32Array(n);
  let k = 0;
  const names = new Set<ColumnName>(['time', 'device', 'kind', 'outcome', 'dir', 'reasons']);
  if (text) for (const name of ['size', 'phys', 'dma', 'api'] as const) names.add(name);
  if (expr) for (const name of expr.columns) names.add(name);
  for (const v of t.chunks([...names])) {
    const c = v.c;
    for (let i = v.start; i < v.end; i++) {
      const j = i - v.base;
      const time = c.time[j] as number;
      if (time < t0 || time > t1) continue;
      if (devs && !devs.has(c.device[j] as number)) continue;
      if (kinds && !kinds.has(c.kind[j] as number)) continue;
      if (outcomes && !outcomes.has(c.outcome[j] as number)) continue;
      if (dirs && !dirs.has(c.dir[j] as number)) continue;
      if (reasons && ((c.reasons[j] as number) & reasons) === 0) continue;
      if (expr && !expr.test(c, j, i)) continue;
      if (text) {
        const size = Math.max(c.size[j] as number, 1);
        const phys = c.phys[j] as number;
        const dma = c.dma[j] as number;
        const hit =
          (textDevices as Set<number>).has(c.device[j] as number) ||
          (textApis as Set<number>).has(c.api[j] as number) ||
          (textKinds as Set<number>).has(c.kind[j] as number) ||
          (textOutcomes as Set<number>).has(c.outcome[j] as number) ||
          ((c.reasons[j] as number) & textReasons) !== 0 ||
          (textAddr !== null &&
            ((phys >= 0 && textAddr >= phys && textAddr < phys + size) || (dma >= 0 && textAddr >= dma && textAddr < dma + size))) ||
          (t.messages.get(i)?.toLowerCase().includes(text) ?? false);
        if (!hit) continue;
      }
      out[k++] = i;
    }
  }
  const rows = out.slice(0, k);
  if (sort && sort.column !== 'index') sortRows(t, rows, sort.column, sort.desc ?? false);
  else if (sort?.desc) rows.reverse();
  return rows;
}

/** The sort key of each of `rows` (in their order): the stored number, or the name an id stands for. */
function sortKeys(t: EventTable, rows: Int32Array, column: Exclude<SortColumn, 'index'>): Float64Array | string[] {
  const spec = COLUMNS[column];
  const names = spec.sort === 'name' ? t.names[spec.names] : null;
  const keys: Float64Array | string[] = names ? new Array<string>(rows.length) : new Float64Array(rows.length);
  // rows come in table order from the filter: read chunk by chunk where they are
  for (let k = 0; k < rows.length; k++) {
    const v = t.get(column, rows[k] as number);
    if (names) (keys as string[])[k] = names[v] ?? '';
    else (keys as Float64Array)[k] = v;
  }
  return keys;
}

function sortRows(t: EventTable, rows: Int32Array, column: Exclude<SortColumn, 'index'>, desc: boolean): void {
  const key = sortKeys(t, rows, column);
  const sign = desc ? -1 : 1;
  // stable: ties keep table order
  const idx = Array.from(rows.keys());
  if (Array.isArray(key))
    idx.sort((a, b) => {
      const x = key[a] as string;
      const y = key[b] as string;
      return x < y ? -sign : x > y ? sign : (rows[a] as number) - (rows[b] as number);
    });
  else
    idx.sort((a, b) => {
      const d = (key[a] as number) - (key[b] as number);
      return d !== 0 ? sign * d : (rows[a] as number) - (rows[b] as number);
    });
  const copy = Int32Array.from(idx, (j) => rows[j] as number);
  rows.set(copy);
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = Array.isArray(v) ? v.join(' ') : String(v);
  // text from a trace must not become a spreadsheet formula when the CSV is opened
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(r: EventRow): string {
  const values = r as unknown as Record<string, unknown>;
  return CSV_HEADER.map((c) => csvCell(c === 'row' ? r.index : values[c])).join(',');
}

/** The rows as CSV lines (header first), for a streaming write. */
export function* csvLines(t: EventTable, rows: ArrayLike<number>): Generator<string> {
  yield CSV_HEADER.join(',');
  for (let k = 0; k < rows.length; k++) yield csvRow(t.row(rows[k] as number));
}
