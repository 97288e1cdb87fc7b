/**
 * The per-call event table every input produces (trace, log, scenario, replay, driver source)
 * and every view reads (panel chart and table, side view, CLI): one row per event, stored as
 * typed-array columns (columns.ts declares them) so millions of rows stay compact, can be
 * filtered without objects, and travel to the webview as ArrayBuffers.
 */
import { Outcome } from './codes';
import { COLUMN_NAMES, COLUMNS, type ColumnArrays, type EventInit, type EventRow, printColumn, type RawRow } from './columns';

export type { EventInit, EventRow };

/** Interns strings (device names, API names, file names) as small integers; 0 is "". */
export class StringTable {
  private readonly ids = new Map<string, number>();
  readonly values: string[] = [''];

  intern(s: string | undefined): number {
    if (!s) return 0;
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.values.length;
      if (id > 0xffff) throw new RangeError('more than 65535 distinct names');
      this.values.push(s);
      this.ids.set(s, id);
    }
    return id;
  }

  get(id: number): string {
    return this.values[id] ?? '';
  }
}

const INITIAL = 1024;

export interface EventTableTransfer {
  readonly length: number;
  readonly hasClock: boolean;
  readonly columns: ColumnArrays;
  readonly devices: readonly string[];
  readonly apis: readonly string[];
  readonly files: readonly string[];
  readonly messages: readonly (readonly [number, string])[];
}

/** The typed-array columns by name (columns.ts), a row per event. */
export interface EventTable extends ColumnArrays {}

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the columns are made from the schema in the constructor
export class EventTable {
  length = 0;
  /** True when `time` holds trace time; false when it holds the event order. */
  hasClock = false;
  readonly devices: StringTable;
  readonly apis = new StringTable();
  readonly files = new StringTable();
  /** Messages are rare: kept by row. */
  readonly messages = new Map<number, string>();

  /** `devices`: a name table to share (the trace parser's, so its device ids are the table's). */
  constructor(devices = new StringTable()) {
    this.devices = devices;
    const self = this as unknown as Record<string, unknown>;
    for (const c of COLUMN_NAMES) self[c] = new COLUMNS[c].array(INITIAL);
  }

  private grow(): void {
    const cap = this.time.length * 2;
    const self = this as unknown as Record<string, Float64Array>;
    for (const c of COLUMN_NAMES) {
      const a = self[c] as Float64Array;
      const b = new (a.constructor as Float64ArrayConstructor)(cap);
      b.set(a);
      self[c] = b;
    }
  }

  /** The columns, names and messages as structured-clone data (typed arrays are transferable). */
  toTransfer(): EventTableTransfer {
    return {
      length: this.length,
      hasClock: this.hasClock,
      columns: Object.fromEntries(COLUMN_NAMES.map((c) => [c, this[c].subarray(0, this.length)])) as unknown as ColumnArrays,
      devices: this.devices.values,
      apis: this.apis.values,
      files: this.files.values,
      messages: [...this.messages],
    };
  }

  /** The buffers to hand over with `postMessage` (zero copy). */
  static transferList(x: EventTableTransfer): ArrayBuffer[] {
    return Object.values(x.columns).map((a) => (a as Float64Array).buffer as ArrayBuffer);
  }

  /** A table from `toTransfer` data (after a worker's postMessage). */
  static fromTransfer(x: EventTableTransfer): EventTable {
    const t = new EventTable();
    for (const c of COLUMN_NAMES) {
      const col = x.columns[c];
      if (!col || col.length !== x.length) throw new Error(`event table column ${c}: ${col?.length} values for ${x.length} rows`);
      (t as unknown as Record<string, unknown>)[c] = col;
    }
    t.length = x.length;
    t.hasClock = x.hasClock;
    for (const v of x.devices.slice(1)) t.devices.intern(v);
    for (const v of x.apis.slice(1)) t.apis.intern(v);
    for (const v of x.files.slice(1)) t.files.intern(v);
    for (const [i, m] of x.messages) t.messages.set(i, m);
    return t;
  }

  /** Appends a row and returns its index. */
  push(e: EventInit): number {
    if (this.length === this.time.length) this.grow();
    const i = this.length++;
    this.time[i] = e.time ?? i;
    this.kind[i] = e.kind;
    this.outcome[i] = e.outcome ?? Outcome.None;
    this.cpu[i] = e.cpu ?? -1;
    this.device[i] = this.id(this.devices, e.device);
    const api = this.id(this.apis, e.api);
    if (api > 0xff) throw new RangeError('more than 255 API names');
    this.api[i] = api;
    this.size[i] = e.size ?? -1;
    this.dir[i] = e.dir ?? -1;
    this.attrs[i] = e.attrs ?? 0;
    this.reasons[i] = e.reasons ?? 0;
    this.slot[i] = e.slot ?? -1;
    this.nslots[i] = Math.min(e.nslots ?? 0, 0xffff);
    this.area[i] = e.area ?? -1;
    this.used[i] = e.used ?? -1;
    this.phys[i] = e.phys ?? -1;
    this.dma[i] = e.dma ?? -1;
    this.copied[i] = e.copied ?? 0;
    this.pair[i] = e.pair ?? -1;
    this.file[i] = this.id(this.files, e.file);
    this.line[i] = e.line ?? 0;
    if (e.message) this.messages.set(i, e.message);
    return i;
  }

  /** A name column's id: ids are kept as they come, names are interned. */
  private id(names: StringTable, v: string | number | undefined): number {
    return typeof v === 'number' ? v : names.intern(v);
  }

  /** The names the id columns index. */
  get names(): { devices: readonly string[]; apis: readonly string[]; files: readonly string[] } {
    return { devices: this.devices.values, apis: this.apis.values, files: this.files.values };
  }

  /** Row `i` as stored (ids, bits, -1 for unknown). */
  raw(i: number): RawRow {
    if (i < 0 || i >= this.length) throw new RangeError(`row ${i} of ${this.length}`);
    const r: Record<string, unknown> = { index: i };
    for (const c of COLUMN_NAMES) r[c] = this[c][i];
    r.message = this.messages.get(i) ?? null;
    return r as RawRow;
  }

  /** Row `i` printed: names, codes, hex addresses, null for unknown. */
  row(i: number): EventRow {
    if (i < 0 || i >= this.length) throw new RangeError(`row ${i} of ${this.length}`);
    const names = this.names;
    const r: Record<string, unknown> = { index: i };
    for (const c of COLUMN_NAMES) r[c] = printColumn(c, this[c][i] as number, names);
    r.message = this.messages.get(i) ?? null;
    return r as EventRow;
  }
}
