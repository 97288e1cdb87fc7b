/**
 * The event row, declared once: every column of the per-call table with how it is stored (a typed
 * array), what "unknown" is, how it prints (JSON, CSV, the panel), how the table sorts it and
 * whether CSV carries it. The event table's arrays, the rows it hands out, the rows the webview
 * receives, the CSV and JSON exports and the webview's table columns are all made from this list.
 */
import { DMA_DIRECTION_NAMES, type DmaDirection } from '../model/constants';
import { hexAddr } from '../model/hex';
import { REASON_INFO, reasonCodes } from '../model/reasons';
import { EVENT_KIND_NAMES, type EventKind, OUTCOME_NAMES, type Outcome } from './codes';

/** The stored columns, in the order every view lists them. */
export const COLUMN_NAMES = [
  'time',
  'kind',
  'outcome',
  'cpu',
  'device',
  'api',
  'size',
  'dir',
  'attrs',
  'reasons',
  'slot',
  'nslots',
  'area',
  'used',
  'phys',
  'dma',
  'copied',
  'pair',
  'file',
  'line',
] as const;
export type ColumnName = (typeof COLUMN_NAMES)[number];

/** The names a session's id columns index (id 0 is ""). */
export interface RowNames {
  readonly devices: readonly string[];
  readonly apis: readonly string[];
  readonly files: readonly string[];
}

/**
 * One row as stored: the columns' numbers (ids for names, bits for reasons, -1 and the like for
 * unknown) and the row's message. This is what crosses to the webview; it prints them itself.
 */
export type RawRow = { readonly index: number; readonly message: string | null } & { readonly [K in ColumnName]: number };

export interface CellContext {
  readonly names: RowNames;
  /** Times are trace seconds (else the event order). */
  readonly hasClock: boolean;
}

export type TypedArray = Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

interface ColumnSpec<P> {
  /** What the column holds: every value is stored as this array stores it. */
  readonly array: new (
    n: number,
  ) => TypedArray;
  /**
   * The smaller array a chunk of rows starts with (eventTable.ts): a chunk holding a value it
   * cannot keep exactly moves to `array`, so narrowing never changes a value.
   */
  readonly narrow?: new (
    n: number,
  ) => TypedArray;
  /** What is stored when an event leaves the column out ("unknown"). */
  readonly missing: number;
  /** The largest value the array holds (ids and counts are checked or clamped against it). */
  readonly max?: number;
  /** The session's names this column holds ids of. */
  readonly names?: keyof RowNames;
  /** The value for JSON and CSV (a name, codes, a hex address, a number; null when unknown). */
  readonly print: (v: number, names: RowNames) => P;
  /** How the table sorts by it: the stored number, or the name an id stands for. */
  readonly sort?: 'number' | 'name';
  /** Exported as a CSV column. */
  readonly csv?: boolean;
  /** Other names filter expressions accept for it (the kernel's: orig_addr, tlb_addr). */
  readonly aliases?: readonly string[];
  /** A code column's named values (`bits`: a set of flags, a row may carry several), for filter expressions. */
  readonly values?: { readonly names: Readonly<Record<number, string>>; readonly bits?: boolean };
  /** Printed as a hex address (filter expressions compare it as a number). */
  readonly hex?: boolean;
  /** A column of the panel's table: its header, width and text (default: the printed value). */
  readonly table?: { readonly title: string; readonly width: number; readonly text?: (r: RawRow, c: CellContext) => string };
}

const num = (v: number) => (v < 0 ? null : v);
const addr = (v: number) => (v < 0 ? null : hexAddr(v));
const nameOf = (list: readonly string[], id: number) => list[id] ?? '';
const REASON_NAMES: Readonly<Record<number, string>> = Object.fromEntries(REASON_INFO.map((r) => [r.bit, r.code]));

export const COLUMNS = {
  /** Trace time in seconds; with no clock, the event order. */
  time: {
    array: Float64Array,
    missing: 0,
    print: (v: number) => v,
    sort: 'number',
    csv: true,
    table: { title: 'Time', width: 110, text: (r, c) => formatTime(r.time, c.hasClock, 1) },
  },
  cpu: { array: Int16Array, narrow: Int8Array, missing: -1, print: num, sort: 'number', csv: true, table: { title: 'CPU', width: 44 } },
  device: {
    array: Uint16Array,
    narrow: Uint8Array,
    missing: 0,
    max: 0xffff,
    names: 'devices',
    print: (v: number, n: RowNames) => nameOf(n.devices, v),
    sort: 'name',
    csv: true,
    table: { title: 'Device', width: 130 },
  },
  /** The call as the kernel names it: dma_map_page, swiotlb_tbl_map_single, dma_unmap_sg, ... */
  api: {
    array: Uint8Array,
    missing: 0,
    max: 0xff,
    names: 'apis',
    aliases: ['call'],
    print: (v: number, n: RowNames) => nameOf(n.apis, v),
    sort: 'name',
    csv: true,
    table: { title: 'Call', width: 190, text: (r, c) => nameOf(c.names.apis, r.api) || (EVENT_KIND_NAMES[r.kind as EventKind] ?? '') },
  },
  kind: {
    array: Uint8Array,
    missing: 0,
    values: { names: EVENT_KIND_NAMES },
    print: (v: number) => EVENT_KIND_NAMES[v as EventKind] ?? '',
    csv: true,
  },
  size: {
    array: Float64Array,
    narrow: Int32Array,
    missing: -1,
    print: num,
    sort: 'number',
    csv: true,
    table: { title: 'Size', width: 70 },
  },
  dir: {
    array: Int8Array,
    missing: -1,
    aliases: ['direction'],
    values: { names: DMA_DIRECTION_NAMES },
    print: (v: number) => (v < 0 ? null : DMA_DIRECTION_NAMES[v as DmaDirection]),
    sort: 'number',
    csv: true,
    table: { title: 'Dir', width: 108, text: (r) => (r.dir < 0 ? '' : DMA_DIRECTION_NAMES[r.dir as DmaDirection].replace(/^DMA_/, '')) },
  },
  outcome: {
    array: Uint8Array,
    missing: 0,
    aliases: ['decision'],
    values: { names: OUTCOME_NAMES },
    print: (v: number) => OUTCOME_NAMES[v as Outcome] ?? '',
    sort: 'number',
    csv: true,
    table: { title: 'Decision', width: 80 },
  },
  attrs: { array: Uint32Array, narrow: Uint8Array, missing: 0, print: (v: number) => v },
  /** Reason bits (model/reasons.ts). */
  reasons: {
    array: Uint32Array,
    narrow: Uint16Array,
    missing: 0,
    aliases: ['reason'],
    values: { names: REASON_NAMES, bits: true },
    print: (v: number) => reasonCodes(v),
    csv: true,
    table: { title: 'Reasons', width: 150, text: (r) => reasonCodes(r.reasons).join(', ') },
  },
  /** First slot of the bounce run (padding included) and its length. */
  slot: {
    array: Int32Array,
    narrow: Int16Array,
    missing: -1,
    print: num,
    sort: 'number',
    csv: true,
    table: { title: 'Slot', width: 90, text: (r) => (r.slot < 0 ? '' : r.nslots > 1 ? `${r.slot}+${r.nslots}` : String(r.slot)) },
  },
  nslots: { array: Uint16Array, narrow: Uint8Array, missing: 0, max: 0xffff, print: (v: number) => v, csv: true },
  area: { array: Int16Array, narrow: Int8Array, missing: -1, print: num, csv: true },
  /** Pool slots in use after this event. */
  used: { array: Int32Array, narrow: Int16Array, missing: -1, print: num, csv: true },
  /** Physical address of the original buffer (orig_addr). */
  phys: { array: Float64Array, missing: -1, aliases: ['orig_addr'], hex: true, print: addr, csv: true },
  /** DMA (bus) address handed to the device: for a bounced map, its bounce buffer (tlb_addr as the device sees it). */
  dma: { array: Float64Array, missing: -1, aliases: ['tlb_addr', 'dma_addr'], hex: true, print: addr, csv: true },
  /** Bytes copied between original and bounce buffer by this event. */
  copied: {
    array: Float64Array,
    narrow: Int32Array,
    missing: 0,
    print: (v: number) => v,
    sort: 'number',
    csv: true,
    table: { title: 'Copied', width: 70, text: (r) => (r.copied ? String(r.copied) : '') },
  },
  /** Row of the matching map (for an unmap/sync) or unmap (for a map). */
  pair: { array: Int32Array, missing: -1, print: num },
  /** Where the event comes from (trace line, log line, C call site). */
  file: {
    array: Uint16Array,
    narrow: Uint8Array,
    missing: 0,
    max: 0xffff,
    names: 'files',
    print: (v: number, n: RowNames) => nameOf(n.files, v),
    csv: true,
  },
  line: { array: Uint32Array, missing: 0, print: (v: number) => v || null, csv: true },
} as const satisfies { readonly [K in ColumnName]: ColumnSpec<unknown> };

type Columns = typeof COLUMNS;

/** A column's printed value. */
export type Printed<K extends ColumnName> = ReturnType<Columns[K]['print']>;

/** One row printed: names, codes, hex addresses; null for what the input did not say. */
export type EventRow = { index: number } & { [K in ColumnName]: Printed<K> } & { message: string | null };

/** The typed arrays of a chunk of an event table's rows, by column (the narrow one or the declared one). */
export type ColumnArrays = {
  [K in ColumnName]: InstanceType<Columns[K]['array']> | (Columns[K] extends { narrow: new (n: number) => infer A } ? A : never);
};

/** The array a column holds and the one a chunk starts with. */
export function columnArrays(name: ColumnName): {
  readonly array: new (n: number) => TypedArray;
  readonly narrow: new (n: number) => TypedArray;
} {
  const spec = COLUMNS[name] as ColumnSpec<unknown>;
  return { array: spec.array, narrow: spec.narrow ?? spec.array };
}

/** One event as inputs hand it over (a column left out is unknown; names may be given as ids). */
export type EventInit = { kind: EventKind; outcome?: Outcome; dir?: DmaDirection; message?: string } & {
  [K in Exclude<ColumnName, 'kind' | 'outcome' | 'dir'>]?: Columns[K] extends { names: string } ? string | number : number;
};

/** Columns the table can sort by: the row order, then every column with a sort rule. */
export type SortColumn = 'index' | { [K in ColumnName]: Columns[K] extends { sort: string } ? K : never }[ColumnName];
export const SORT_COLUMNS = ['index', ...COLUMN_NAMES.filter((c) => 'sort' in COLUMNS[c])] as readonly SortColumn[];

/** The CSV header: the row number, the CSV columns, the message. */
export const CSV_HEADER = ['row', ...COLUMN_NAMES.filter((c) => 'csv' in COLUMNS[c]), 'message'] as const;

/** Prints a column's value. */
export function printColumn<K extends ColumnName>(name: K, v: number, names: RowNames): Printed<K> {
  return (COLUMNS[name].print as (v: number, n: RowNames) => Printed<K>)(v, names);
}

/** The text of a table cell. */
export function cellText(name: ColumnName, r: RawRow, c: CellContext): string {
  const spec = COLUMNS[name] as ColumnSpec<unknown>;
  if (spec.table?.text) return spec.table.text(r, c);
  const v = spec.print(r[name], c.names);
  return v === null || v === undefined ? '' : Array.isArray(v) ? v.join(', ') : String(v);
}

/** The panel's table columns: the row number, then every column with a table spec. */
export const TABLE_COLUMNS: readonly { readonly key: 'index' | ColumnName; readonly title: string; readonly width: number }[] = [
  { key: 'index', title: '#', width: 70 },
  ...COLUMN_NAMES.flatMap((c) => {
    const t = (COLUMNS[c] as ColumnSpec<unknown>).table;
    return t ? [{ key: c, title: t.title, width: t.width }] : [];
  }),
];

/** Trace time for axes and read-outs: seconds with a unit that fits the span, or an event number. */
export function formatTime(t: number, hasClock: boolean, span = 1): string {
  if (!hasClock) return `#${Math.round(t)}`;
  if (span < 1e-3) return `${(t * 1e6).toFixed(1)} µs`;
  if (span < 1) return `${(t * 1e3).toFixed(3)} ms`;
  return `${t.toFixed(span < 100 ? 6 : 3)} s`;
}
