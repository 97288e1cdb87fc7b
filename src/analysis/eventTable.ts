/**
 * The per-call event table every input produces (trace, log, scenario, replay, driver source)
 * and every view reads (panel chart and table, side view, CLI): one row per event, stored as
 * typed-array columns (columns.ts declares them) so millions of rows stay compact, can be
 * filtered without objects, and travel from the analysis worker as ArrayBuffers.
 *
 * Bounded memory: rows live in fixed chunks of CHUNK_ROWS (growing copies nothing; only a table's
 * first chunk starts small and doubles, so a table of a few rows stays small), each column
 * of a chunk in the narrowest array that keeps its values (columns.ts `narrow`, widened per
 * chunk when a value does not fit), and once the chunks in memory pass a byte budget the oldest
 * full ones go to a temporary file and are read back by range, a chunk's column at a time,
 * through a small cache. Readers go by row (`get`) or chunk by chunk (`chunks`).
 */
import { closeSync, openSync, readdirSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { Outcome } from './codes';
import {
  COLUMN_NAMES,
  type ColumnArrays,
  type ColumnName,
  columnArrays,
  type EventInit,
  type EventRow,
  printColumn,
  type RawRow,
  type TypedArray,
} from './columns';

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

/** A whole-number setting from the environment (tests run every answer through tiny chunks and the spill file). */
function envInt(name: string, min: number, max: number): number | undefined {
  const v = Number(process.env[name]);
  return process.env[name] && Number.isInteger(v) && v >= min && v <= max ? v : undefined;
}

/**
 * Rows per chunk (a power of two: row i is entry i & CHUNK_MASK of chunk i >>> CHUNK_BITS);
 * SWIOTLB_LENS_CHUNK_BITS changes it for tests.
 */
export const CHUNK_BITS = envInt('SWIOTLB_LENS_CHUNK_BITS', 4, 20) ?? 16;
export const CHUNK_ROWS = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK_ROWS - 1;

/** Bytes of spilled columns kept in memory once read back. */
const CACHE_BUDGET = 16 * 2 ** 20;

/** The arrays a chunk's column can be, by the code the spill file's directory and the transfer use. */
const ARRAY_TYPES = [Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array, Float64Array] as const;
type ArrayType = (typeof ARRAY_TYPES)[number];
const NCOLS = COLUMN_NAMES.length;
const COLUMN_INDEX = Object.fromEntries(COLUMN_NAMES.map((c, k) => [c, k])) as Record<ColumnName, number>;
const DECLARED = COLUMN_NAMES.map((c) => columnArrays(c).array as ArrayType);
const NARROW = COLUMN_NAMES.map((c) => columnArrays(c).narrow as ArrayType);

function typeCode(a: TypedArray): number {
  const k = ARRAY_TYPES.indexOf(a.constructor as ArrayType);
  if (k < 0) throw new TypeError(`not a column array: ${a.constructor.name}`);
  return k;
}

/** The columns of one chunk, by name (every chunk's object has the same shape). */
type Cols = { [K in ColumnName]: ColumnArrays[K] };

/** Rows the first chunk starts with. */
const FIRST_ROWS = Math.min(1024, CHUNK_ROWS);

function newCols(rows: number): Cols {
  const c = {} as Record<ColumnName, TypedArray>;
  for (let k = 0; k < NCOLS; k++) c[COLUMN_NAMES[k] as ColumnName] = new (NARROW[k] as ArrayType)(rows);
  return c as unknown as Cols;
}

function colsBytes(c: Cols): number {
  let n = 0;
  for (const name of COLUMN_NAMES) n += c[name].byteLength;
  return n;
}

interface Chunk {
  /** The columns while in memory; null once spilled. */
  cols: Cols | null;
  /** Bytes of its columns when it was filled (what it counts against the budget). */
  bytes: number;
  /** Once spilled: per column, its array's code (ARRAY_TYPES) and where it starts in the file. */
  types: Uint8Array | null;
  offsets: number[] | null;
}

/** The rows [start, end) of one chunk: row i is entry i - base of each column. */
export interface ChunkView<K extends ColumnName> {
  readonly base: number;
  readonly start: number;
  readonly end: number;
  readonly c: Pick<ColumnArrays, K>;
}

/** One chunk as it crosses threads: its columns (transferred buffers) or where they are in the spill file. */
export interface ChunkTransfer {
  readonly cols: readonly TypedArray[] | null;
  readonly types: readonly number[] | null;
  readonly offsets: readonly number[] | null;
}

export interface EventTableTransfer {
  readonly length: number;
  readonly hasClock: boolean;
  readonly budget: number;
  readonly chunks: readonly ChunkTransfer[];
  /** The spill file: the receiving table owns it (removes it when disposed or at exit). */
  readonly spill: string | null;
  readonly spillEnd: number;
  readonly devices: readonly string[];
  readonly apis: readonly string[];
  readonly files: readonly string[];
  readonly messages: readonly (readonly [number, string])[];
}

export interface EventTableOptions {
  /** Bytes of rows kept in memory before full chunks go to the spill file (default: EventTable.defaultBudget). */
  readonly budget?: number;
  /** Where the spill file goes (default: the OS temporary directory). */
  readonly dir?: string;
}

// Spill files still owned by a table of this thread, removed when the process exits. A worker
// thread's own exit does not run on terminate(), so its files are also reported (onSpillFile)
// to the thread that started it.
interface SpillState {
  fd: number;
  file: string | null;
  owned: boolean;
}
const liveFiles = new Map<string, SpillState>();
let exitHooked = false;
function ownFile(s: SpillState): void {
  if (s.file) liveFiles.set(s.file, s);
  if (exitHooked || !isMainThread) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const [f, st] of liveFiles) {
      // closed first: Windows removes no open file
      if (st.fd >= 0) closeSync(st.fd);
      st.fd = -1;
      removeFile(f);
    }
  });
}
function removeFile(file: string): void {
  liveFiles.delete(file);
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}
const spillState = new FinalizationRegistry<SpillState>((s) => {
  if (s.fd >= 0) closeSync(s.fd);
  if (s.owned && s.file) removeFile(s.file);
});
let spillSerial = 0;

// A process killed by a signal runs no exit handler: the first spill of a process in a directory
// removes the files there of processes that no longer exist.
const swept = new Set<string>();
function sweepStale(dir: string): void {
  if (swept.has(dir)) return;
  swept.add(dir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^swiotlb-lens-rows-(\d+)-\d+-[0-9a-z]+\.bin$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') removeFile(path.join(dir, name));
    }
  }
}

export class EventTable {
  /** Bytes of rows a table keeps in memory by default (SWIOTLB_LENS_ROW_BUDGET changes it for tests and benchmarks). */
  static defaultBudget = envInt('SWIOTLB_LENS_ROW_BUDGET', 0, 2 ** 50) ?? 64 * 2 ** 20;
  /** Called with each spill file a table creates (the analysis worker tells the extension host). */
  static onSpillFile: ((file: string) => void) | undefined;

  length = 0;
  /** True when `time` holds trace time; false when it holds the event order. */
  hasClock = false;
  readonly devices: StringTable;
  readonly apis = new StringTable();
  readonly files = new StringTable();
  /** Messages are rare: kept by row. */
  readonly messages = new Map<number, string>();
  readonly budget: number;
  private readonly dir: string;
  private readonly chunkList: Chunk[] = [];
  /** The chunk rows are appended to. */
  private open: Cols | null = null;
  /** Bytes of the full chunks in memory, and the first of them (older ones are spilled). */
  private residentBytes = 0;
  private firstResident = 0;
  private readonly spill: SpillState = { fd: -1, file: null, owned: false };
  private spillEnd = 0;
  /** Spilled columns read back, by chunk * NCOLS + column (insertion order: least recently used first). */
  private readonly cache = new Map<number, TypedArray>();
  private cacheBytes = 0;

  /** `devices`: a name table to share (the trace parser's, so its device ids are the table's). */
  constructor(devices = new StringTable(), options: EventTableOptions = {}) {
    this.devices = devices;
    this.budget = options.budget ?? EventTable.defaultBudget;
    this.dir = options.dir ?? tmpdir();
    spillState.register(this, this.spill, this);
  }

  /** Bytes of rows in memory (chunks not spilled) and in the spill file. */
  get bytes(): { readonly memory: number; readonly spilled: number; readonly file: string | null } {
    let open = 0;
    const last = this.chunkList[this.chunkList.length - 1];
    if (last?.cols) open = colsBytes(last.cols);
    return { memory: this.residentBytes + open, spilled: this.spillEnd, file: this.spill.file };
  }

  private addChunk(): Cols {
    const prev = this.chunkList[this.chunkList.length - 1];
    if (prev?.cols) {
      prev.bytes = colsBytes(prev.cols);
      this.residentBytes += prev.bytes;
    }
    const cols = newCols(this.chunkList.length ? CHUNK_ROWS : FIRST_ROWS);
    this.chunkList.push({ cols, bytes: 0, types: null, offsets: null });
    this.open = cols;
    // the full chunks past the budget go to the file, oldest first
    while (this.residentBytes > this.budget && this.firstResident < this.chunkList.length - 1) this.spillChunk(this.firstResident++);
    return cols;
  }

  private fd(): number {
    if (this.spill.fd >= 0) return this.spill.fd;
    if (!this.spill.file) {
      sweepStale(this.dir);
      const file = path.join(this.dir, `swiotlb-lens-rows-${process.pid}-${++spillSerial}-${Math.random().toString(36).slice(2)}.bin`);
      this.spill.fd = openSync(file, 'wx+', 0o600);
      this.spill.file = file;
      this.spill.owned = true;
      ownFile(this.spill);
      EventTable.onSpillFile?.(file);
    } else this.spill.fd = openSync(this.spill.file, 'r+');
    return this.spill.fd;
  }

  private writeAt(a: TypedArray, pos: number): void {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd(), bytes, done, bytes.length - done, pos + done);
  }

  private spillChunk(ci: number): void {
    const ch = this.chunkList[ci] as Chunk;
    const cols = ch.cols as Cols;
    const types = new Uint8Array(NCOLS);
    const offsets: number[] = [];
    for (let k = 0; k < NCOLS; k++) {
      const a = cols[COLUMN_NAMES[k] as ColumnName];
      types[k] = typeCode(a);
      offsets.push(this.spillEnd);
      this.writeAt(a, this.spillEnd);
      this.spillEnd += a.byteLength;
    }
    this.residentBytes -= ch.bytes;
    ch.cols = null;
    ch.types = types;
    ch.offsets = offsets;
  }

  /** Column k of spilled chunk ci, read back (cached). */
  private load(ci: number, k: number): TypedArray {
    const key = ci * NCOLS + k;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const a = this.readInto(ci, k);
    this.cache.set(key, a);
    this.cacheBytes += a.byteLength;
    for (const [old, b] of this.cache) {
      if (this.cacheBytes <= CACHE_BUDGET || old === key) break;
      this.cache.delete(old);
      this.cacheBytes -= b.byteLength;
    }
    return a;
  }

  /** Column k of spilled chunk ci from the file, into `into` when given (an array of the column's type in that chunk). */
  private readInto(ci: number, k: number, into?: TypedArray): TypedArray {
    const ch = this.chunkList[ci] as Chunk;
    const a = into ?? new (ARRAY_TYPES[(ch.types as Uint8Array)[k] as number] as ArrayType)(CHUNK_ROWS);
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const pos = (ch.offsets as number[])[k] as number;
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(this.fd(), bytes, done, bytes.length - done, pos + done);
      if (n === 0) throw new Error(`event table spill file ended at ${pos + done}`);
      done += n;
    }
    return a;
  }

  /** Row `i`'s value in column `name`. */
  get(name: ColumnName, i: number): number {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`row ${i} of ${this.length}`);
    const ch = this.chunkList[i >>> CHUNK_BITS] as Chunk;
    if (ch.cols) return ch.cols[name][i & CHUNK_MASK] as number;
    return this.load(i >>> CHUNK_BITS, COLUMN_INDEX[name])[i & CHUNK_MASK] as number;
  }

  /** Sets row `i`'s value in column `name` (a pair found later, a call site's file and line). */
  set(name: ColumnName, i: number, v: number): void {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`row ${i} of ${this.length}`);
    const ci = i >>> CHUNK_BITS;
    const j = i & CHUNK_MASK;
    const ch = this.chunkList[ci] as Chunk;
    if (ch.cols) {
      this.put(ch.cols, name, j, v);
      return;
    }
    const k = COLUMN_INDEX[name];
    const a = this.load(ci, k);
    a[j] = v;
    if (a[j] !== v && a.constructor !== DECLARED[k]) {
      // the value needs the declared array: the column moves to the end of the file, widened
      const w = new (DECLARED[k] as ArrayType)(CHUNK_ROWS);
      w.set(a);
      w[j] = v;
      this.cache.delete(ci * NCOLS + k);
      this.cacheBytes -= a.byteLength;
      (ch.types as Uint8Array)[k] = typeCode(w);
      (ch.offsets as number[])[k] = this.spillEnd;
      this.writeAt(w, this.spillEnd);
      this.spillEnd += w.byteLength;
      return;
    }
    this.writeAt(a.subarray(j, j + 1), ((ch.offsets as number[])[k] as number) + j * a.BYTES_PER_ELEMENT);
  }

  /** Stores v at entry j of a chunk's column, widening the column when its array cannot keep v. */
  private put(c: Cols, name: ColumnName, j: number, v: number): void {
    const a = c[name];
    a[j] = v;
    if (a[j] === v) return;
    const T = DECLARED[COLUMN_INDEX[name]] as ArrayType;
    if (a.constructor === T) return; // stored as the declared array stores it
    const w = new T(a.length);
    w.set(a);
    w[j] = v;
    (c as Record<ColumnName, TypedArray>)[name] = w;
  }

  /**
   * The rows [from, to) chunk by chunk, with the columns asked for: row i is
   * `view.c.NAME[i - view.base]` for i in [view.start, view.end). Spilled chunks read back only
   * those columns; a scan over several chunks reads them into the same few arrays (no garbage
   * per chunk, no cache churn), so a view is valid until the next one is asked for.
   */
  *chunks<K extends ColumnName>(names: readonly K[], from = 0, to = this.length): Generator<ChunkView<K>> {
    const end = Math.min(to, this.length);
    const first = Math.max(0, from);
    // a scan: per column and array type, one array the spilled chunks are read into in turn
    const scratch = end - 1 > ((first >>> CHUNK_BITS) << CHUNK_BITS) + CHUNK_MASK ? new Map<number, TypedArray>() : null;
    for (let start = first; start < end; ) {
      const ci = start >>> CHUNK_BITS;
      const base = ci << CHUNK_BITS;
      const stop = Math.min(end, base + CHUNK_ROWS);
      const ch = this.chunkList[ci] as Chunk;
      let c: Pick<ColumnArrays, K>;
      if (ch.cols) c = ch.cols;
      else {
        const o = {} as Record<K, TypedArray>;
        for (const name of names) {
          const k = COLUMN_INDEX[name];
          const type = (ch.types as Uint8Array)[k] as number;
          const cached = this.cache.get(ci * NCOLS + k);
          if (cached || !scratch) {
            o[name] = cached ?? this.load(ci, k);
            continue;
          }
          const into = scratch.get(k * ARRAY_TYPES.length + type) ?? new (ARRAY_TYPES[type] as ArrayType)(CHUNK_ROWS);
          scratch.set(k * ARRAY_TYPES.length + type, into);
          o[name] = this.readInto(ci, k, into);
        }
        c = o as unknown as Pick<ColumnArrays, K>;
      }
      yield { base, start, end: stop, c };
      start = stop;
    }
  }

  /** Column `name` for every row, as one array of its declared type (a copy). */
  gather(name: ColumnName): TypedArray {
    const out = new (DECLARED[COLUMN_INDEX[name]] as ArrayType)(this.length);
    for (const v of this.chunks([name])) {
      const a = v.c[name];
      out.set(a.length === v.end - v.base ? a : a.subarray(0, v.end - v.base), v.base);
    }
    return out;
  }

  /** The columns, names and messages as structured-clone data (the chunks' buffers are transferable). */
  toTransfer(): EventTableTransfer {
    const chunks = this.chunkList.map((ch): ChunkTransfer => {
      if (ch.cols) {
        const cols = ch.cols;
        return { cols: COLUMN_NAMES.map((c) => cols[c]), types: null, offsets: null };
      }
      return { cols: null, types: [...(ch.types as Uint8Array)], offsets: [...(ch.offsets as number[])] };
    });
    // the receiving table owns the file from now on; this one lets go of it (a worker's open
    // descriptors would outlive it)
    const file = this.spill.file;
    if (this.spill.fd >= 0) closeSync(this.spill.fd);
    this.spill.fd = -1;
    if (file && this.spill.owned) liveFiles.delete(file);
    this.spill.owned = false;
    return {
      length: this.length,
      hasClock: this.hasClock,
      budget: this.budget,
      chunks,
      spill: file,
      spillEnd: this.spillEnd,
      devices: this.devices.values,
      apis: this.apis.values,
      files: this.files.values,
      messages: [...this.messages],
    };
  }

  /** The buffers to hand over with `postMessage` (zero copy). */
  static transferList(x: EventTableTransfer): ArrayBuffer[] {
    return x.chunks.flatMap((c) => (c.cols ?? []).map((a) => a.buffer as ArrayBuffer));
  }

  /** A table from `toTransfer` data (after a worker's postMessage). */
  static fromTransfer(x: EventTableTransfer): EventTable {
    const t = new EventTable(undefined, { budget: x.budget });
    if (x.chunks.length !== Math.ceil(x.length / CHUNK_ROWS))
      throw new Error(`event table: ${x.chunks.length} chunks for ${x.length} rows`);
    let firstResident = -1;
    x.chunks.forEach((c, ci) => {
      if (c.cols) {
        if (c.cols.length !== NCOLS) throw new Error(`event table chunk ${ci}: ${c.cols.length} columns`);
        const cols = {} as Record<ColumnName, TypedArray>;
        c.cols.forEach((a, k) => {
          const last = ci === x.chunks.length - 1;
          const rows = last ? x.length - ci * CHUNK_ROWS : CHUNK_ROWS;
          if (
            (last ? a.length < rows || a.length > CHUNK_ROWS : a.length !== CHUNK_ROWS) ||
            !(a instanceof (ARRAY_TYPES[typeCode(a)] as ArrayType))
          )
            throw new Error(`event table chunk ${ci} column ${COLUMN_NAMES[k]}: ${a.length} values`);
          cols[COLUMN_NAMES[k] as ColumnName] = a;
        });
        const bytes = ci < x.chunks.length - 1 ? colsBytes(cols as unknown as Cols) : 0;
        t.chunkList.push({ cols: cols as unknown as Cols, bytes, types: null, offsets: null });
        if (firstResident < 0) firstResident = ci;
        t.residentBytes += bytes;
      } else {
        if (!x.spill || c.types?.length !== NCOLS || c.offsets?.length !== NCOLS)
          throw new Error(`event table chunk ${ci}: not in memory nor spilled`);
        t.chunkList.push({ cols: null, bytes: 0, types: Uint8Array.from(c.types), offsets: [...c.offsets] });
      }
    });
    t.firstResident = firstResident < 0 ? t.chunkList.length : firstResident;
    t.open = t.chunkList[t.chunkList.length - 1]?.cols ?? null;
    if (x.spill) {
      t.spill.file = x.spill;
      t.spill.owned = true;
      t.spillEnd = x.spillEnd;
      ownFile(t.spill);
    }
    t.length = x.length;
    t.hasClock = x.hasClock;
    for (const v of x.devices.slice(1)) t.devices.intern(v);
    for (const v of x.apis.slice(1)) t.apis.intern(v);
    for (const v of x.files.slice(1)) t.files.intern(v);
    for (const [i, m] of x.messages) t.messages.set(i, m);
    return t;
  }

  /** Lets go of the rows and removes the spill file (the table is empty afterwards). */
  dispose(): void {
    if (this.spill.fd >= 0) closeSync(this.spill.fd);
    this.spill.fd = -1;
    if (this.spill.file && this.spill.owned) removeFile(this.spill.file);
    this.spill.file = null;
    this.spill.owned = false;
    spillState.unregister(this);
    this.chunkList.length = 0;
    this.cache.clear();
    this.cacheBytes = 0;
    this.residentBytes = 0;
    this.firstResident = 0;
    this.spillEnd = 0;
    this.open = null;
    this.length = 0;
    this.messages.clear();
  }

  /** Appends a row and returns its index. */
  push(e: EventInit): number {
    const i = this.length;
    const j = i & CHUNK_MASK;
    let c = j === 0 || !this.open ? this.addChunk() : this.open;
    if (j === c.time.length) c = this.growFirst(c);
    const api = this.id(this.apis, e.api);
    if (api > 0xff) throw new RangeError('more than 255 API names');
    this.length++;
    c.time[j] = e.time ?? i;
    c.kind[j] = e.kind;
    c.outcome[j] = e.outcome ?? Outcome.None;
    this.put(c, 'cpu', j, e.cpu ?? -1);
    this.put(c, 'device', j, this.id(this.devices, e.device));
    c.api[j] = api;
    this.put(c, 'size', j, e.size ?? -1);
    c.dir[j] = e.dir ?? -1;
    this.put(c, 'attrs', j, e.attrs ?? 0);
    this.put(c, 'reasons', j, e.reasons ?? 0);
    this.put(c, 'slot', j, e.slot ?? -1);
    this.put(c, 'nslots', j, Math.min(e.nslots ?? 0, 0xffff));
    this.put(c, 'area', j, e.area ?? -1);
    this.put(c, 'used', j, e.used ?? -1);
    c.phys[j] = e.phys ?? -1;
    c.dma[j] = e.dma ?? -1;
    this.put(c, 'copied', j, e.copied ?? 0);
    c.pair[j] = e.pair ?? -1;
    this.put(c, 'file', j, this.id(this.files, e.file));
    c.line[j] = e.line ?? 0;
    if (e.message) this.messages.set(i, e.message);
    return i;
  }

  /** The first chunk, twice as long (it starts small so that small tables stay small). */
  private growFirst(c: Cols): Cols {
    const o = c as Record<ColumnName, TypedArray>;
    for (const name of COLUMN_NAMES) {
      const a = o[name];
      const b = new (a.constructor as ArrayType)(Math.min(a.length * 2, CHUNK_ROWS));
      b.set(a);
      o[name] = b;
    }
    return c;
  }

  /** A name column's id: ids are kept as they come, names are interned. */
  private id(names: StringTable, v: string | number | undefined): number {
    return typeof v === 'number' ? v : names.intern(v);
  }

  /** The names the id columns index. */
  get names(): { devices: readonly string[]; apis: readonly string[]; files: readonly string[] } {
    return { devices: this.devices.values, apis: this.apis.values, files: this.files.values };
  }

  /** Every column of row i's chunk (in memory or read back through the cache), and i's entry in them. */
  rowColumns(i: number): { c: ColumnArrays; j: number } {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`row ${i} of ${this.length}`);
    const ci = i >>> CHUNK_BITS;
    const ch = this.chunkList[ci] as Chunk;
    let c = ch.cols as ColumnArrays | null;
    if (!c) {
      const o = {} as Record<ColumnName, TypedArray>;
      for (let k = 0; k < NCOLS; k++) o[COLUMN_NAMES[k] as ColumnName] = this.load(ci, k);
      c = o as unknown as ColumnArrays;
    }
    return { c, j: i & CHUNK_MASK };
  }

  /** Row `i` as stored (ids, bits, -1 for unknown). */
  raw(i: number): RawRow {
    const { c, j } = this.rowColumns(i);
    const r: Record<string, unknown> = { index: i };
    for (const name of COLUMN_NAMES) r[name] = c[name][j];
    r.message = this.messages.get(i) ?? null;
    return r as RawRow;
  }

  /** Row `i` printed: names, codes, hex addresses, null for unknown. */
  row(i: number): EventRow {
    const { c, j } = this.rowColumns(i);
    const names = this.names;
    const r: Record<string, unknown> = { index: i };
    for (const name of COLUMN_NAMES) r[name] = printColumn(name, c[name][j] as number, names);
    r.message = this.messages.get(i) ?? null;
    return r as EventRow;
  }
}
