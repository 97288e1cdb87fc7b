/**
 * Parsed trace events as flat records, so that parsing can run in worker threads while the
 * analysis (which must see events in file order) runs in the main thread. A worker parses a
 * block of whole lines into a Float64Array of records plus a few strings; the main thread
 * replays the records, in block order, into the analyzer's TraceSink.
 *
 * Record: [op, line (relative to the block), pid, cpu, time, counter, ...fields of the op].
 */
import { type ByteLineSink, ByteLineSplitter } from '../io/lineBytes';
import { EventParser, type ForceFlag, SgArrays, type TblMapArgs, type TraceSink } from './events';
import { EventLine, parseEventLine } from './ftrace';

enum Op {
  Bounced = 1,
  DmaMap,
  DmaUnmap,
  DmaMapSg,
  DmaUnmapSg,
  DmaSync,
  DmaCoherent,
  TblMapEntry,
  TblMapNotFound,
  TblMapFound,
  TblMapReturn,
  TblUnmapEntry,
  TblUnmapLock,
  TblSync,
  ApiProbe,
  TblMapLock,
  Mark,
  Unknown,
  Malformed,
  PoolBase,
  /** A line that is not an event (header, log message, garbage): its text, for the main thread. */
  Text,
}

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

/** The worker side: parses blocks of lines into records. */
export class RecordEncoder implements TraceSink {
  private rec = new Float64Array(1 << 16);
  private n = 0;
  private strings: string[] = [];
  private readonly parser = new EventParser(this);
  private readonly ev = new EventLine();
  private knownDevices = 1;

  private grow(need: number): void {
    if (this.n + need <= this.rec.length) return;
    let cap = this.rec.length * 2;
    while (cap < this.n + need) cap *= 2;
    const r = new Float64Array(cap);
    r.set(this.rec.subarray(0, this.n));
    this.rec = r;
  }

  private head(op: Op, ev: EventLine, line: number, fields: number): void {
    this.grow(6 + fields);
    const r = this.rec;
    const i = this.n;
    r[i] = op;
    r[i + 1] = line;
    r[i + 2] = ev.pid;
    r[i + 3] = ev.cpu;
    r[i + 4] = ev.time;
    r[i + 5] = ev.counter ? 1 : 0;
    this.n = i + 6;
  }

  private put(v: number): void {
    this.rec[this.n++] = v;
  }

  private str(s: string): number {
    this.strings.push(s);
    return this.strings.length - 1;
  }

  /** Parses bytes [0, len) of `buf`: whole lines, the last one ending at len. */
  encode(seq: number, buf: ArrayBuffer, len: number): EncodedBlock {
    this.n = 0;
    this.strings = [];
    // the block holds whole lines only (the reader cut the over-long ones out)
    const lines = new ByteLineSplitter(this.lineSink, Number.POSITIVE_INFINITY);
    lines.push(Buffer.from(buf, 0, len));
    const count = lines.end();
    const names = this.parser.devices.names;
    const newDevices = names.slice(this.knownDevices);
    this.knownDevices = names.length;
    return { seq, lines: count, rec: this.rec.slice(0, this.n), n: this.n, strings: this.strings, newDevices, input: buf };
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
        this.grow(3);
        this.put(Op.Text);
        this.put(line);
        this.put(this.str(b.toString('utf8', s, Math.min(e, s + MAX_TEXT))));
      }
    },
  };

  bounced(ev: EventLine, line: number, dev: number, dmaMask: number, devAddr: number, size: number, force: ForceFlag): void {
    this.head(Op.Bounced, ev, line, 5);
    this.put(dev);
    this.put(dmaMask);
    this.put(devAddr);
    this.put(size);
    this.put(force);
  }
  dmaMap(
    ev: EventLine,
    line: number,
    api: number,
    dev: number,
    dir: number,
    dma: number,
    size: number,
    phys: number,
    attrs: number,
    failed: boolean,
  ): void {
    this.head(Op.DmaMap, ev, line, 8);
    this.put(api);
    this.put(dev);
    this.put(dir);
    this.put(dma);
    this.put(size);
    this.put(phys);
    this.put(attrs);
    this.put(failed ? 1 : 0);
  }
  dmaUnmap(ev: EventLine, line: number, api: number, dev: number, dir: number, dma: number, size: number, attrs: number): void {
    this.head(Op.DmaUnmap, ev, line, 6);
    this.put(api);
    this.put(dev);
    this.put(dir);
    this.put(dma);
    this.put(size);
    this.put(attrs);
  }
  dmaMapSg(ev: EventLine, line: number, dev: number, dir: number, sg: SgArrays, attrs: number, total: number, truncated: boolean): void {
    const nD = Math.min(sg.nDma, 128);
    const nS = Math.min(sg.nSize, 128);
    const nP = Math.min(sg.nPhys, 128);
    this.head(Op.DmaMapSg, ev, line, 9 + 2 * nD + nS + nP);
    this.put(dev);
    this.put(dir);
    this.put(attrs);
    this.put(total);
    this.put(truncated ? 1 : 0);
    this.put(sg.n);
    this.put(nD);
    this.put(nS);
    this.put(nP);
    for (let i = 0; i < nD; i++) this.put(sg.dma[i] as number);
    for (let i = 0; i < nD; i++) this.put(sg.failed[i] as number);
    for (let i = 0; i < nS; i++) this.put(sg.size[i] as number);
    for (let i = 0; i < nP; i++) this.put(sg.phys[i] as number);
  }
  dmaUnmapSg(ev: EventLine, line: number, dev: number, dir: number, sg: SgArrays, attrs: number): void {
    const nP = Math.min(sg.nPhys, 128);
    this.head(Op.DmaUnmapSg, ev, line, 4 + nP);
    this.put(dev);
    this.put(dir);
    this.put(attrs);
    this.put(nP);
    for (let i = 0; i < nP; i++) this.put(sg.phys[i] as number);
  }
  dmaSync(ev: EventLine, line: number, api: number, dev: number, dir: number, dma: number, size: number): void {
    this.head(Op.DmaSync, ev, line, 5);
    this.put(api);
    this.put(dev);
    this.put(dir);
    this.put(dma);
    this.put(size);
  }
  dmaCoherent(ev: EventLine, line: number, api: number, dev: number, dma: number, size: number, failed: boolean): void {
    this.head(Op.DmaCoherent, ev, line, 5);
    this.put(api);
    this.put(dev);
    this.put(dma);
    this.put(size);
    this.put(failed ? 1 : 0);
  }
  tblMapEntry(ev: EventLine, line: number, r: TblMapArgs): void {
    this.head(Op.TblMapEntry, ev, line, 10);
    this.put(r.dev);
    this.put(r.orig);
    this.put(r.mappingSize);
    this.put(r.allocSize);
    this.put(r.allocAlignMask);
    this.put(r.dir);
    this.put(r.attrs);
    this.put(r.minAlignMask);
    this.put(r.boundaryBits);
    this.put(r.poolBase);
  }
  tblMapNotFound(ev: EventLine, line: number, area: number): void {
    this.head(Op.TblMapNotFound, ev, line, 1);
    this.put(area);
  }
  tblMapFound(ev: EventLine, line: number, area: number, slot: number): void {
    this.head(Op.TblMapFound, ev, line, 2);
    this.put(area);
    this.put(slot);
  }
  tblMapReturn(ev: EventLine, line: number, tlb: number, failed: boolean): void {
    this.head(Op.TblMapReturn, ev, line, 2);
    this.put(tlb);
    this.put(failed ? 1 : 0);
  }
  tblUnmapEntry(ev: EventLine, line: number, dev: number, tlb: number, size: number, dir: number, attrs: number): void {
    this.head(Op.TblUnmapEntry, ev, line, 5);
    this.put(dev);
    this.put(tlb);
    this.put(size);
    this.put(dir);
    this.put(attrs);
  }
  tblUnmapLock(ev: EventLine, line: number, slot: number, nslots: number): void {
    this.head(Op.TblUnmapLock, ev, line, 2);
    this.put(slot);
    this.put(nslots);
  }
  tblSync(ev: EventLine, line: number, toCpu: boolean, tlb: number, size: number, dir: number): void {
    this.head(Op.TblSync, ev, line, 4);
    this.put(toCpu ? 1 : 0);
    this.put(tlb);
    this.put(size);
    this.put(dir);
  }
  apiProbe(ev: EventLine, line: number, dev: number, sg: boolean): void {
    this.head(Op.ApiProbe, ev, line, 2);
    this.put(dev);
    this.put(sg ? 1 : 0);
  }
  poolBase(ev: EventLine, line: number, base: number): void {
    this.head(Op.PoolBase, ev, line, 1);
    this.put(base);
  }
  tblMapLock(ev: EventLine, line: number, area: number): void {
    this.head(Op.TblMapLock, ev, line, 1);
    this.put(area);
  }
  mark(ev: EventLine, line: number, text: string): void {
    this.head(Op.Mark, ev, line, 1);
    this.put(this.str(text));
  }
  unknown(ev: EventLine, line: number, name: string): void {
    this.head(Op.Unknown, ev, line, 1);
    this.put(this.str(name));
  }
  malformed(line: number, message: string): void {
    this.grow(3);
    this.put(Op.Malformed);
    this.put(line);
    this.put(this.str(message));
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
  private readonly args: TblMapArgs = {
    dev: 0,
    orig: 0,
    mappingSize: 0,
    allocSize: 0,
    allocAlignMask: 0,
    dir: 0,
    attrs: 0,
    minAlignMask: 0,
    boundaryBits: 0,
    poolBase: 0,
  };
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
    const sink = t.sink;
    const ev = this.ev;
    const dev = (i: number) => map[r[i] as number] ?? 0;
    let i = 0;
    while (i < block.n) {
      const op = r[i] as Op;
      const line = lineBase + (r[i + 1] as number);
      if (op === Op.Text) {
        t.text(block.strings[r[i + 2] as number] ?? '', line);
        i += 3;
        continue;
      }
      if (op === Op.Malformed) {
        sink.malformed(line, block.strings[r[i + 2] as number] ?? '');
        i += 3;
        continue;
      }
      ev.pid = r[i + 2] as number;
      ev.cpu = r[i + 3] as number;
      ev.time = r[i + 4] as number;
      ev.counter = r[i + 5] === 1;
      const f = i + 6;
      switch (op) {
        case Op.Bounced:
          sink.bounced(ev, line, dev(f), r[f + 1] as number, r[f + 2] as number, r[f + 3] as number, r[f + 4] as ForceFlag);
          i = f + 5;
          break;
        case Op.DmaMap:
          sink.dmaMap(
            ev,
            line,
            r[f] as number,
            dev(f + 1),
            r[f + 2] as number,
            r[f + 3] as number,
            r[f + 4] as number,
            r[f + 5] as number,
            r[f + 6] as number,
            r[f + 7] === 1,
          );
          i = f + 8;
          break;
        case Op.DmaUnmap:
          sink.dmaUnmap(
            ev,
            line,
            r[f] as number,
            dev(f + 1),
            r[f + 2] as number,
            r[f + 3] as number,
            r[f + 4] as number,
            r[f + 5] as number,
          );
          i = f + 6;
          break;
        case Op.DmaMapSg: {
          const sg = this.sg;
          const nD = r[f + 6] as number;
          const nS = r[f + 7] as number;
          const nP = r[f + 8] as number;
          sg.n = r[f + 5] as number;
          sg.nDma = nD;
          sg.nSize = nS;
          sg.nPhys = nP;
          let k = f + 9;
          for (let j = 0; j < nD; j++) sg.dma[j] = r[k++] as number;
          for (let j = 0; j < nD; j++) sg.failed[j] = r[k++] as number;
          for (let j = 0; j < nS; j++) sg.size[j] = r[k++] as number;
          for (let j = 0; j < nP; j++) sg.phys[j] = r[k++] as number;
          sink.dmaMapSg(ev, line, dev(f), r[f + 1] as number, sg, r[f + 2] as number, r[f + 3] as number, r[f + 4] === 1);
          i = k;
          break;
        }
        case Op.DmaUnmapSg: {
          const sg = this.sg;
          const nP = r[f + 3] as number;
          sg.nPhys = nP;
          sg.n = nP;
          for (let j = 0; j < nP; j++) sg.phys[j] = r[f + 4 + j] as number;
          sink.dmaUnmapSg(ev, line, dev(f), r[f + 1] as number, sg, r[f + 2] as number);
          i = f + 4 + nP;
          break;
        }
        case Op.DmaSync:
          sink.dmaSync(ev, line, r[f] as number, dev(f + 1), r[f + 2] as number, r[f + 3] as number, r[f + 4] as number);
          i = f + 5;
          break;
        case Op.DmaCoherent:
          sink.dmaCoherent(ev, line, r[f] as number, dev(f + 1), r[f + 2] as number, r[f + 3] as number, r[f + 4] === 1);
          i = f + 5;
          break;
        case Op.TblMapEntry: {
          const a = this.args;
          a.dev = dev(f);
          a.orig = r[f + 1] as number;
          a.mappingSize = r[f + 2] as number;
          a.allocSize = r[f + 3] as number;
          a.allocAlignMask = r[f + 4] as number;
          a.dir = r[f + 5] as number;
          a.attrs = r[f + 6] as number;
          a.minAlignMask = r[f + 7] as number;
          a.boundaryBits = r[f + 8] as number;
          a.poolBase = r[f + 9] as number;
          sink.tblMapEntry(ev, line, a);
          i = f + 10;
          break;
        }
        case Op.TblMapNotFound:
          sink.tblMapNotFound(ev, line, r[f] as number);
          i = f + 1;
          break;
        case Op.TblMapFound:
          sink.tblMapFound(ev, line, r[f] as number, r[f + 1] as number);
          i = f + 2;
          break;
        case Op.TblMapReturn:
          sink.tblMapReturn(ev, line, r[f] as number, r[f + 1] === 1);
          i = f + 2;
          break;
        case Op.TblUnmapEntry:
          sink.tblUnmapEntry(ev, line, dev(f), r[f + 1] as number, r[f + 2] as number, r[f + 3] as number, r[f + 4] as number);
          i = f + 5;
          break;
        case Op.TblUnmapLock:
          sink.tblUnmapLock(ev, line, r[f] as number, r[f + 1] as number);
          i = f + 2;
          break;
        case Op.TblSync:
          sink.tblSync(ev, line, r[f] === 1, r[f + 1] as number, r[f + 2] as number, r[f + 3] as number);
          i = f + 4;
          break;
        case Op.ApiProbe:
          sink.apiProbe(ev, line, dev(f), r[f + 1] === 1);
          i = f + 2;
          break;
        case Op.TblMapLock:
          sink.tblMapLock(ev, line, r[f] as number);
          i = f + 1;
          break;
        case Op.PoolBase:
          sink.poolBase(ev, line, r[f] as number);
          i = f + 1;
          break;
        case Op.Mark:
          sink.mark(ev, line, block.strings[r[f] as number] ?? '');
          i = f + 1;
          break;
        case Op.Unknown:
          sink.unknown(ev, line, block.strings[r[f] as number] ?? '');
          i = f + 1;
          break;
        default:
          throw new Error(`bad record op ${op} at ${i}`);
      }
    }
  }
}
