/**
 * The per-call event table every input produces (trace, log, scenario, replay, driver source)
 * and every view reads (panel chart and table, side view, CLI): one row per event, stored as
 * typed-array columns so millions of rows stay compact, can be filtered without objects, and
 * travel to the webview as ArrayBuffers.
 */
import { DMA_DIRECTION_NAMES, type DmaDirection } from '../model/constants';
import { hexAddr } from '../model/hex';
import { reasonCodes } from '../model/reasons';
import { EVENT_KIND_NAMES, type EventKind, OUTCOME_NAMES, Outcome } from './codes';

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

/** One event as inputs hand it over (missing fields: unknown). */
export interface EventInit {
  kind: EventKind;
  outcome?: Outcome;
  /** Trace time in seconds; with no clock, leave out and the table uses the row number. */
  time?: number;
  cpu?: number;
  device?: string;
  /** The call as the kernel names it: dma_map_page, swiotlb_tbl_map_single, dma_unmap_sg, ... */
  api?: string;
  size?: number;
  dir?: DmaDirection;
  attrs?: number;
  /** Reason bits (codes.ts). */
  reasons?: number;
  /** First slot of the bounce run (padding included) and its length. */
  slot?: number;
  nslots?: number;
  area?: number;
  /** Pool slots in use after this event. */
  used?: number;
  /** Physical address of the original buffer. */
  phys?: number;
  /** DMA (bus) address handed to the device. */
  dma?: number;
  /** Bytes copied between original and bounce buffer by this event. */
  copied?: number;
  /** Row of the matching map (for an unmap/sync) or unmap (for a map). */
  pair?: number;
  /** Where the event comes from (trace line, log line, C call site). */
  file?: string;
  line?: number;
  /** Kernel message or explanation attached to the row. */
  message?: string;
}

/** A row materialised for display or JSON. */
export interface EventRow {
  index: number;
  time: number;
  kind: string;
  outcome: string;
  cpu: number | null;
  device: string;
  api: string;
  size: number | null;
  dir: string | null;
  attrs: number;
  reasons: string[];
  slot: number | null;
  nslots: number;
  area: number | null;
  used: number | null;
  phys: string | null;
  dma: string | null;
  copied: number;
  pair: number | null;
  file: string;
  line: number | null;
  message: string | null;
}

const INITIAL = 1024;

/** The typed-array columns of an EventTable, by name. */
const COLUMN_NAMES = [
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

export interface EventTableTransfer {
  readonly length: number;
  readonly hasClock: boolean;
  readonly columns: { readonly [K in (typeof COLUMN_NAMES)[number]]: EventTable[K] };
  readonly devices: readonly string[];
  readonly apis: readonly string[];
  readonly files: readonly string[];
  readonly messages: readonly (readonly [number, string])[];
}

export class EventTable {
  length = 0;
  /** True when `time` holds trace time; false when it holds the event order. */
  hasClock = false;
  time = new Float64Array(INITIAL);
  kind = new Uint8Array(INITIAL);
  outcome = new Uint8Array(INITIAL);
  cpu = new Int16Array(INITIAL);
  device = new Uint16Array(INITIAL);
  api = new Uint8Array(INITIAL);
  size = new Float64Array(INITIAL);
  dir = new Int8Array(INITIAL);
  attrs = new Uint32Array(INITIAL);
  reasons = new Uint32Array(INITIAL);
  slot = new Int32Array(INITIAL);
  nslots = new Uint16Array(INITIAL);
  area = new Int16Array(INITIAL);
  used = new Int32Array(INITIAL);
  phys = new Float64Array(INITIAL);
  dma = new Float64Array(INITIAL);
  copied = new Float64Array(INITIAL);
  pair = new Int32Array(INITIAL);
  file = new Uint16Array(INITIAL);
  line = new Uint32Array(INITIAL);
  readonly devices = new StringTable();
  readonly apis = new StringTable();
  readonly files = new StringTable();
  /** Messages are rare: kept by row. */
  readonly messages = new Map<number, string>();

  private grow(): void {
    const cap = this.time.length * 2;
    const g = <T extends Float64Array | Uint8Array | Int16Array | Uint16Array | Int8Array | Uint32Array | Int32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(cap);
      b.set(a);
      return b;
    };
    this.time = g(this.time);
    this.kind = g(this.kind);
    this.outcome = g(this.outcome);
    this.cpu = g(this.cpu);
    this.device = g(this.device);
    this.api = g(this.api);
    this.size = g(this.size);
    this.dir = g(this.dir);
    this.attrs = g(this.attrs);
    this.reasons = g(this.reasons);
    this.slot = g(this.slot);
    this.nslots = g(this.nslots);
    this.area = g(this.area);
    this.used = g(this.used);
    this.phys = g(this.phys);
    this.dma = g(this.dma);
    this.copied = g(this.copied);
    this.pair = g(this.pair);
    this.file = g(this.file);
    this.line = g(this.line);
  }

  /** The columns, names and messages as structured-clone data (typed arrays are transferable). */
  toTransfer(): EventTableTransfer {
    return {
      length: this.length,
      hasClock: this.hasClock,
      columns: Object.fromEntries(COLUMN_NAMES.map((c) => [c, this[c].subarray(0, this.length)])) as EventTableTransfer['columns'],
      devices: this.devices.values,
      apis: this.apis.values,
      files: this.files.values,
      messages: [...this.messages],
    };
  }

  /** The buffers to hand over with `postMessage` (zero copy). */
  static transferList(x: EventTableTransfer): ArrayBuffer[] {
    return Object.values(x.columns).map((a) => a.buffer as ArrayBuffer);
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
    this.device[i] = this.devices.intern(e.device);
    const api = this.apis.intern(e.api);
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
    this.file[i] = this.files.intern(e.file);
    this.line[i] = e.line ?? 0;
    if (e.message) this.messages.set(i, e.message);
    return i;
  }

  row(i: number): EventRow {
    if (i < 0 || i >= this.length) throw new RangeError(`row ${i} of ${this.length}`);
    const n = (x: number) => (x < 0 ? null : x);
    const a = (x: number) => (x < 0 ? null : hexAddr(x));
    const dir = this.dir[i] as number;
    return {
      index: i,
      time: this.time[i] as number,
      kind: EVENT_KIND_NAMES[this.kind[i] as EventKind] ?? '',
      outcome: OUTCOME_NAMES[this.outcome[i] as Outcome] ?? '',
      cpu: n(this.cpu[i] as number),
      device: this.devices.get(this.device[i] as number),
      api: this.apis.get(this.api[i] as number),
      size: n(this.size[i] as number),
      dir: dir < 0 ? null : DMA_DIRECTION_NAMES[dir as DmaDirection],
      attrs: this.attrs[i] as number,
      reasons: reasonCodes(this.reasons[i] as number),
      slot: n(this.slot[i] as number),
      nslots: this.nslots[i] as number,
      area: n(this.area[i] as number),
      used: n(this.used[i] as number),
      phys: a(this.phys[i] as number),
      dma: a(this.dma[i] as number),
      copied: this.copied[i] as number,
      pair: n(this.pair[i] as number),
      file: this.files.get(this.file[i] as number),
      line: (this.line[i] as number) || null,
      message: this.messages.get(i) ?? null,
    };
  }
}
