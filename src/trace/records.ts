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
    const sink = {} as Record<SinkOp, (ev: EventLine, line: number, ...args: unknown[]) => void>;
    for (const op of OPS) {
      const code = codeOf.get(op) as number;
      const kinds = SINK_OPS[op];
      sink[op] = (ev, line, ...args) => {
        this.head(code, ev, line);
        for (let k = 0; k < kinds.length; k++) this.field(kinds[k] as (typeof kinds)[number], args[k]);
      };
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

  private field(kind: (typeof SINK_OPS)[SinkOp][number], v: unknown): void {
    switch (kind) {
      case 'num':
      case 'dev':
        this.put(v as number);
        return;
      case 'bool':
        this.put(v ? 1 : 0);
        return;
      case 'str':
        this.strings.push(v as string);
        this.put(this.strings.length - 1);
        return;
      case 'sg': {
        const sg = v as SgArrays;
        const nD = Math.min(sg.nDma, MAX_SG);
        const nS = Math.min(sg.nSize, MAX_SG);
        const nP = Math.min(sg.nPhys, MAX_SG);
        this.grow(4 + 2 * nD + nS + nP);
        this.put(sg.n);
        this.put(nD);
        this.put(nS);
        this.put(nP);
        for (let i = 0; i < nD; i++) this.put(sg.dma[i] as number);
        for (let i = 0; i < nD; i++) this.put(sg.failed[i] as number);
        for (let i = 0; i < nS; i++) this.put(sg.size[i] as number);
        for (let i = 0; i < nP; i++) this.put(sg.phys[i] as number);
        return;
      }
      default: {
        const a = v as TblMapArgs;
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
  /** Per operation, its argument list (ev, line, fields...), reused from record to record. */
  private readonly args = OPS.map((op) => new Array<unknown>(2 + SINK_OPS[op].length));
  /** Per worker: its device ids -> the main parser's ids. */
  private readonly devMaps: number[][] = [];

  constructor(private readonly internDevice: (name: string) => number) {}

  replay(worker: number, block: EncodedBlock, lineBase: number, t: RecordTarget): void {
    let map = this.devMaps[worker];
    if (!map) {
      map = [0];
      this.devMaps[worker] = map;
    }
    for (const name of block.newDevices) map.push(this.internDevice(name));
    const r = block.rec;
    const strings = block.strings;
    const sink = t.sink as unknown as Record<SinkOp, (...args: unknown[]) => void>;
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
      const op = OPS[code - 1];
      if (op === undefined) throw new Error(`bad record op ${code} at ${i}`);
      ev.pid = r[i + 2] as number;
      ev.cpu = r[i + 3] as number;
      ev.time = r[i + 4] as number;
      ev.counter = r[i + 5] === 1;
      i += HEAD;
      const args = this.args[code - 1] as unknown[];
      args[0] = ev;
      args[1] = line;
      const kinds = SINK_OPS[op];
      for (let k = 0; k < kinds.length; k++) {
        switch (kinds[k] as (typeof kinds)[number]) {
          case 'num':
            args[2 + k] = r[i++];
            break;
          case 'dev':
            args[2 + k] = map[r[i++] as number] ?? 0;
            break;
          case 'bool':
            args[2 + k] = r[i++] === 1;
            break;
          case 'str':
            args[2 + k] = strings[r[i++] as number] ?? '';
            break;
          case 'sg': {
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
            args[2 + k] = sg;
            break;
          }
          default: {
            const a = this.tbl;
            for (const f of TBL_MAP_FIELDS) a[f] = r[i++] as number;
            a.dev = map[a.dev] ?? 0;
            args[2 + k] = a;
          }
        }
      }
      (sink[op] as (...a: unknown[]) => void).apply(sink, args);
    }
  }
}
