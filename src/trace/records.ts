/**
 * Parsed trace events as flat records, so that parsing can run in worker threads while the
 * analysis (which must see events in file order) runs in the main thread. A worker parses a
 * block of whole lines into a Float64Array of records plus a few strings; the main thread
 * replays the records, in block order, into the analyzer's TraceSink.
 *
 * Record: [op, line (relative to the block), pid, cpu, time, counter, ...fields of the op], the
 * op being the sink operation's index in SINK_OPS and its fields encoded by their kind there:
 * the encoder and the decoder are written once, for every operation.
 */
import { type ByteLineSink, ByteLineSplitter } from '../io/lineBytes';
import { EventParser, SgArrays, SINK_OPS, type SinkOp, TBL_MAP_FIELDS, type TblMapArgs, type TraceSink } from './events';
import { EventLine, parseEventLine } from './ftrace';

/** Sink operations by record code (1, 2, ...); code 0 is a line that is not an event. */
const OPS = Object.keys(SINK_OPS) as SinkOp[];
const TEXT = 0;
const codeOf = new Map<SinkOp, number>(OPS.map((op, i) => [op, i + 1]));
const HEAD = 6;
/** Longest scatterlist a record carries (the dma:* events print at most 128 entries). */
const MAX_SG = 128;
/** Field kinds as small integers, per operation (the hot loops switch on these, not on strings). */
const K_NUM = 0;
const K_DEV = 1;
const K_BOOL = 2;
const K_STR = 3;
const K_SG = 4;
const K_TBL = 5;
const KIND_CODE: Record<(typeof SINK_OPS)[SinkOp][number], number> = {
  num: K_NUM,
  dev: K_DEV,
  bool: K_BOOL,
  str: K_STR,
  sg: K_SG,
  tbl: K_TBL,
};
const KINDS: readonly Uint8Array[] = OPS.map((op) => Uint8Array.from(SINK_OPS[op], (k) => KIND_CODE[k]));
/** The most fields an operation has: the encoder's and decoder's calls take that many arguments. */
const MAX_FIELDS = Math.max(...KINDS.map((k) => k.length));
if (MAX_FIELDS > 8) throw new Error('records.ts passes at most 8 fields: widen the calls');

/** What a worker sends back for one block. */
export interface EncodedBlock {
  seq: number;
  /** Lines in the block. */
  lines: number;
  rec: Float64Array;
  /** Numbers used in rec. */
  n: number;
  strings: string[];
  /** Device names first seen in this block, in the worker's id order. */
  newDevices: string[];
  /** The block's bytes, handed back for reuse. */
  input: ArrayBuffer;
}

/** Longest text of a non-event line handed to the main thread (log messages are short). */
const MAX_TEXT = 4096;

/** The worker side: parses blocks of lines into records (a TraceSink made from SINK_OPS). */
export class RecordEncoder {
  private rec = new Float64Array(1 << 16);
  private n = 0;
  private strings: string[] = [];
  private readonly parser: EventParser;
  private readonly ev = new EventLine();
  private knownDevices = 1;
  /** The sink that writes records: what the parser calls. */
  readonly sink: TraceSink;

  constructor() {
    type Put = (ev: EventLine, line: number, ...a: unknown[]) => void;
    const sink = {} as Record<SinkOp, Put>;
    for (const op of OPS) {
      const code = codeOf.get(op) as number;
      const kinds = KINDS[code - 1] as Uint8Array;
      const n = kinds.length;
      // fixed parameters rather than a rest array: no allocation per event
      sink[op] = ((
        ev: EventLine,
        line: number,
        a0: unknown,
        a1: unknown,
        a2: unknown,
        a3: unknown,
        a4: unknown,
        a5: unknown,
        a6: unknown,
        a7: unknown,
      ) => {
        this.head(code, ev, line);
        if (n > 0) this.field(kinds[0] as number, a0);
        if (n > 1) this.field(kinds[1] as number, a1);
        if (n > 2) this.field(kinds[2] as number, a2);
        if (n > 3) this.field(kinds[3] as number, a3);
        if (n > 4) this.field(kinds[4] as number, a4);
        if (n > 5) this.field(kinds[5] as number, a5);
        if (n > 6) this.field(kinds[6] as number, a6);
        if (n > 7) this.field(kinds[7] as number, a7);
      }) as Put;
    }
    this.sink = sink as unknown as TraceSink;
    this.parser = new EventParser(this.sink);
  }

  private grow(need: number): void {
    if (this.n + need <= this.rec.length) return;
    let cap = this.rec.length * 2;
    while (cap < this.n + need) cap *= 2;
    const r = new Float64Array(cap);
    r.set(this.rec.subarray(0, this.n));
    this.rec = r;
  }

  private head(code: number, ev: EventLine, line: number): void {
    this.grow(HEAD);
    const r = this.rec;
    const i = this.n;
    r[i] = code;
    r[i + 1] = line;
    r[i + 2] = ev.pid;
    r[i + 3] = ev.cpu;
    r[i + 4] = ev.time;
    r[i + 5] = ev.counter ? 1 : 0;
    this.n = i + HEAD;
  }

  private put(v: number): void {
    if (this.n === this.rec.length) this.grow(1);
    this.rec[this.n++] = v;
  }

  private field(kind: number, v: unknown): void {
    switch (kind) {
      case K_NUM:
      case K_DEV:
        this.put(v as number);
        return;
      case K_BOOL:
        this.put(v ? 1 : 0);
        return;
      case K_STR:
        this.strings.push(v as string);
        this.put(this.strings.length - 1);
        return;
      case K_SG: {
        const sg = v as SgArrays;
        const nD = Math.min(sg.nDma, MAX_SG);
        const nS = Math.min(sg.nSize, MAX_SG);
        const nP = Math.min(sg.nPhys, MAX_SG);
        this.grow(4 + 2 * nD + nS + nP);
        const r = this.rec;
        let i = this.n;
        r[i++] = sg.n;
        r[i++] = nD;
        r[i++] = nS;
        r[i++] = nP;
        for (let j = 0; j < nD; j++) r[i++] = sg.dma[j] as number;
        for (let j = 0; j < nD; j++) r[i++] = sg.failed[j] as number;
        for (let j = 0; j < nS; j++) r[i++] = sg.size[j] as number;
        for (let j = 0; j < nP; j++) r[i++] = sg.phys[j] as number;
        this.n = i;
        return;
      }
      default: {
        const a = v as TblMapArgs;
        this.grow(TBL_MAP_FIELDS.length);
        for (const f of TBL_MAP_FIELDS) this.put(a[f]);
      }
    }
  }

  /** Parses bytes [0, len) of `buf`: whole lines, the last one ending at len. */
  encode(seq: number, buf: ArrayBuffer, len: number): EncodedBlock {
    // the block holds whole lines only (the reader cut the over-long ones out)
    const lines = new ByteLineSplitter(this.lineSink, Number.POSITIVE_INFINITY);
    lines.push(Buffer.from(buf, 0, len));
    return this.take(seq, lines.end(), buf);
  }

  /** The names the records' device ids stand for (sent with the block that first uses them). */
  get devices(): EventParser['devices'] {
    return this.parser.devices;
  }

  /** The records written since the last block, as a block of `lines` lines. */
  take(seq: number, lines: number, input: ArrayBuffer): EncodedBlock {
    const names = this.parser.devices.names;
    const newDevices = names.slice(this.knownDevices);
    this.knownDevices = names.length;
    const block = { seq, lines, rec: this.rec.slice(0, this.n), n: this.n, strings: this.strings, newDevices, input };
    this.n = 0;
    this.strings = [];
    return block;
  }

  private readonly lineSink: ByteLineSink = {
    line: (b, s, e, line) => {
      const ev = this.ev;
      if (parseEventLine(b, s, e, ev)) {
        this.parser.parse(b, ev, line);
        return;
      }
      let i = s;
      while (i < e && (b[i] === 32 || b[i] === 9)) i++;
      if (i < e) {
        this.put(TEXT);
        this.put(line);
        this.strings.push(b.toString('utf8', s, Math.min(e, s + MAX_TEXT)));
        this.put(this.strings.length - 1);
      }
    },
  };
}

type Call = (this: TraceSink, ev: EventLine, line: number, ...fields: unknown[]) => void;

/** Calls an operation with exactly its `n` fields: direct calls, no spread or apply. */
function call(f: Call, sink: TraceSink, ev: EventLine, line: number, n: number, a: unknown[]): void {
  switch (n) {
    case 0:
      f.call(sink, ev, line);
      return;
    case 1:
      f.call(sink, ev, line, a[0]);
      return;
    case 2:
      f.call(sink, ev, line, a[0], a[1]);
      return;
    case 3:
      f.call(sink, ev, line, a[0], a[1], a[2]);
      return;
    case 4:
      f.call(sink, ev, line, a[0], a[1], a[2], a[3]);
      return;
    case 5:
      f.call(sink, ev, line, a[0], a[1], a[2], a[3], a[4]);
      return;
    case 6:
      f.call(sink, ev, line, a[0], a[1], a[2], a[3], a[4], a[5]);
      return;
    case 7:
      f.call(sink, ev, line, a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
      return;
    default:
      f.call(sink, ev, line, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
      return;
  }
}

/** Where replayed records go: the events, and the lines that are not events. */
export interface RecordTarget {
  readonly sink: TraceSink;
  text(text: string, line: number): void;
}

/** The main-thread side: replays a worker's blocks into the analysis, in order. */
export class RecordDecoder {
  private readonly ev = new EventLine();
  private readonly sg = new SgArrays();
  private readonly tbl = Object.fromEntries(TBL_MAP_FIELDS.map((f) => [f, 0])) as TblMapArgs;
  /** The fields of the record being decoded, reused from record to record. */
  private readonly args = new Array<unknown>(MAX_FIELDS).fill(undefined);
  /** Per worker: its device ids -> the main parser's ids. */
  private readonly devMaps: number[][] = [];
  private fnsOf: TraceSink | null = null;
  private fns: Call[] = [];

  constructor(private readonly internDevice: (name: string) => number) {}

  /** The target's operations by record code, looked up once per target. */
  private sinkFns(sink: TraceSink): Call[] {
    if (this.fnsOf !== sink) {
      const ops = sink as unknown as Record<SinkOp, Call>;
      this.fns = OPS.map((op) => ops[op]);
      this.fnsOf = sink;
    }
    return this.fns;
  }

  replay(worker: number, block: EncodedBlock, lineBase: number, t: RecordTarget): void {
    let map = this.devMaps[worker];
    if (!map) {
      map = [0];
      this.devMaps[worker] = map;
    }
    for (const name of block.newDevices) map.push(this.internDevice(name));
    const r = block.rec;
    const strings = block.strings;
    const fns = this.sinkFns(t.sink);
    const sink = t.sink;
    const ev = this.ev;
    let i = 0;
    while (i < block.n) {
      const code = r[i] as number;
      const line = lineBase + (r[i + 1] as number);
      if (code === TEXT) {
        t.text(strings[r[i + 2] as number] ?? '', line);
        i += 3;
        continue;
      }
      const kinds = KINDS[code - 1];
      if (kinds === undefined) throw new Error(`bad record op ${code} at ${i}`);
      ev.pid = r[i + 2] as number;
      ev.cpu = r[i + 3] as number;
      ev.time = r[i + 4] as number;
      ev.counter = r[i + 5] === 1;
      i += HEAD;
      const args = this.args;
      for (let k = 0; k < kinds.length; k++) {
        switch (kinds[k]) {
          case K_NUM:
            args[k] = r[i++];
            break;
          case K_DEV:
            args[k] = map[r[i++] as number] ?? 0;
            break;
          case K_BOOL:
            args[k] = r[i++] === 1;
            break;
          case K_STR:
            args[k] = strings[r[i++] as number] ?? '';
            break;
          case K_SG: {
            const sg = this.sg;
            sg.n = r[i] as number;
            const nD = r[i + 1] as number;
            const nS = r[i + 2] as number;
            const nP = r[i + 3] as number;
            sg.nDma = nD;
            sg.nSize = nS;
            sg.nPhys = nP;
            i += 4;
            for (let j = 0; j < nD; j++) sg.dma[j] = r[i++] as number;
            for (let j = 0; j < nD; j++) sg.failed[j] = r[i++] as number;
            for (let j = 0; j < nS; j++) sg.size[j] = r[i++] as number;
            for (let j = 0; j < nP; j++) sg.phys[j] = r[i++] as number;
            args[k] = sg;
            break;
          }
          default: {
            const a = this.tbl;
            for (const f of TBL_MAP_FIELDS) a[f] = r[i++] as number;
            a.dev = map[a.dev] ?? 0;
            args[k] = a;
          }
        }
      }
      call(fns[code - 1] as Call, sink, ev, line, kinds.length, args);
    }
  }
}
