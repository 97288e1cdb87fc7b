/**
 * Analyses traces and kernel logs: files, capture folders and capture archives (.tar, .tar.gz),
 * each told apart by content. Logs and the capture's metadata are read first (they give the pool
 * geometry), then the traces, streamed; when maps failed, a second pass replays the trace through
 * bigger pools to find the smallest `swiotlb=` that would have avoided every failure.
 */

import { createReadStream, existsSync } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { createGunzip, gunzipSync, constants as zlibConstants } from 'node:zlib';
import { type ByteLineSink, ByteLineSplitter, DEFAULT_MAX_LINE_BYTES } from '../io/lineBytes';
import { isTarHeader, readTar } from '../io/tar';
import { isTraceDat, type TraceDatInfo, traceDatText } from '../io/traceDat';
import { IO_TLB_SEGSIZE } from '../model/constants';
import { type AnalyzerOptions, TraceAnalyzer, type TraceLevel, type WhatIfPool } from './analyzer';

import { EventParser } from './events';
import { EventLine, parseEventLine } from './ftrace';
import { KernelLogParser, releaseOf } from './klog';
import { type EncodedBlock, RecordDecoder } from './records';

export type InputRole = 'trace' | 'log' | 'cmdline' | 'capture-json' | 'kprobe-profile' | 'debugfs' | 'devices' | 'ring-stats' | 'ignore';

interface Source {
  /** What messages call it: the path, or "archive.tar.gz:trace.txt". */
  readonly label: string;
  readonly file: string;
  /** Entry name inside a tar archive. */
  readonly entry?: string;
  readonly tarGz?: boolean;
  /** Raw bytes on disk (for progress). */
  readonly bytes: number;
}

export interface InputFile extends Source {
  role: InputRole;
  lines: number;
  /** The beginning of a trace (to see which events it holds). */
  head?: Buffer;
  /** trace-cmd's binary trace.dat: its lines come from io/traceDat ('stream': inside gzip or tar, not readable so). */
  traceDat?: 'file' | 'stream';
}

/** Parsing big traces in worker threads (see records.ts). */
export interface ParseWorkers {
  readonly count: number;
  /** The worker script (dist/parseWorker.js next to the bundle). */
  readonly script: string;
  readonly execArgv?: string[];
  /** Traces smaller than this are parsed in the calling thread. */
  readonly minBytes?: number;
}

export interface TextAnalysisOptions extends Omit<AnalyzerOptions, 'whatIf' | 'onOp'> {
  /** Worker threads for parsing; default: beside a bundle, with 4 CPUs or more, one per spare CPU (up to 3). */
  readonly parseWorkers?: ParseWorkers | null;
  readonly signal?: AbortSignal;
  /** 0 ... 1 over all passes. */
  readonly onProgress?: (fraction: number) => void;
  readonly onOp?: AnalyzerOptions['onOp'];
  /** Skip the sizing pass. */
  readonly noSizing?: boolean;
}

export interface SizingResult {
  readonly current: number;
  /** Slots tried, smallest first, with the failures each still had. */
  readonly tried: { nslabs: number; failures: number; tooBig: number; peak: number }[];
  /** The smallest pool tried without any failure a pool size can fix, or null. */
  readonly enough: number | null;
  /** Failures no pool size fixes (requests above 128 slots). */
  readonly tooBig: number;
}

export interface TextAnalysis {
  readonly analyzer: TraceAnalyzer;
  readonly inputs: InputFile[];
  readonly sizing: SizingResult | null;
  /** Why there is no sizing. */
  readonly sizingNote: string | null;
}

const HEAD_BYTES = 256 * 1024;
const PARALLEL_MIN_BYTES = 32 << 20;

/** Parse workers beside the bundle (dist/parseWorker.js), when there is one. */
function defaultWorkers(): ParseWorkers | null {
  const script = path.join(__dirname, 'parseWorker.js');
  if (!existsSync(script)) return null;
  // SWIOTLB_LENS_PARSE_WORKERS=0 parses in the calling thread (for comparisons)
  const env = process.env.SWIOTLB_LENS_PARSE_WORKERS;
  // on two CPUs the extra work of handing records over costs more than the second core saves
  const cpus = availableParallelism();
  const count = env !== undefined && /^\d+$/.test(env) ? Number(env) : cpus >= 4 ? Math.min(3, cpus - 1) : 0;
  return count > 0 ? { count, script } : null;
}
const CHUNK = 1 << 20;
const GZ = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** Roles fixed by the capture script's file names; everything else is told by content. */
function roleByName(name: string): InputRole | undefined {
  const base = path.basename(name).replace(/\.gz$/, '');
  switch (base) {
    case 'cmdline.txt':
      return 'cmdline';
    case 'capture.json':
      return 'capture-json';
    case 'kprobe_profile.txt':
      return 'kprobe-profile';
    case 'debugfs.txt':
      return 'debugfs';
    case 'devices.txt':
      return 'devices';
    case 'ring_stats.txt':
      return 'ring-stats';
    case 'kprobe_events.txt':
    case 'README.txt':
    case 'capture.log':
      return 'ignore';
    default:
      return undefined;
  }
}

/** Is this head of a file a trace (ftrace or trace-cmd text)? */
export function looksLikeTrace(head: Buffer): boolean {
  const ev = new EventLine();
  let events = 0;
  let header = false;
  let lines = 0;
  const sink: ByteLineSink = {
    line(b, s, e) {
      lines++;
      if (lines > 4000) return;
      if (parseEventLine(b, s, e, ev)) events++;
      else {
        const t = b.toString('latin1', s, Math.min(e, s + 40));
        if (/^# tracer:|^# entries-in-buffer|^cpus=\d+$|^#\s+TASK-PID/.test(t)) header = true;
      }
    },
  };
  const sp = new ByteLineSplitter(sink);
  sp.push(head);
  sp.end();
  return events > 0 || header;
}

/** Which kinds of events a trace holds, from its beginning. */
export function census(head: Buffer): TraceLevel {
  const ev = new EventLine();
  const level: TraceLevel = { tbl: false, lockProbes: false, dma: false };
  const sink: ByteLineSink = {
    line(b, s, e) {
      if (!parseEventLine(b, s, e, ev)) return;
      const name = b.toString('latin1', ev.eventStart, ev.eventEnd);
      if (name === 'map_entry' || name === 'map_ret') level.tbl = true;
      else if (name === 'map_found' || name === 'map_nf' || name === 'unmap_lock') level.lockProbes = true;
      else if (/^dma_(un)?map_/.test(name)) level.dma = true;
    },
  };
  const sp = new ByteLineSplitter(sink);
  sp.push(head);
  sp.end();
  level.lockProbes &&= level.tbl;
  return level;
}

async function readHeadOfFile(file: string, max: number): Promise<{ head: Buffer; gz: boolean }> {
  const fh = await open(file, 'r');
  let raw: Buffer;
  try {
    const buf = Buffer.alloc(max);
    const { bytesRead } = await fh.read(buf, 0, max, 0);
    raw = buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  if (!GZ(raw)) return { head: raw, gz: false };
  const parts: Buffer[] = [];
  let n = 0;
  const stream = createReadStream(file).pipe(createGunzip());
  try {
    for await (const c of stream) {
      parts.push(c as Buffer);
      n += (c as Buffer).length;
      if (n >= max) break;
    }
  } catch {
    // a truncated or damaged gzip: what was decoded is the head
  } finally {
    stream.destroy();
  }
  return { head: Buffer.concat(parts).subarray(0, max), gz: true };
}

/**
 * A file's bytes (decompressed) as chunks. Plain files are read with the next read already in
 * flight while the caller parses the current chunk.
 */
async function* fileChunks(file: string): AsyncGenerator<Buffer> {
  const fh = await open(file, 'r');
  let pending: Promise<{ bytesRead: number }> | null = null;
  try {
    const two = Buffer.alloc(2);
    await fh.read(two, 0, 2, 0);
    if (!GZ(two)) {
      const bufs = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
      let which = 0;
      let pos = 0;
      pending = fh.read(bufs[0] as Buffer, 0, CHUNK, pos);
      for (;;) {
        const { bytesRead } = await pending;
        pending = null;
        if (bytesRead === 0) return;
        pos += bytesRead;
        const cur = bufs[which] as Buffer;
        which ^= 1;
        pending = fh.read(bufs[which] as Buffer, 0, CHUNK, pos);
        yield bytesRead === CHUNK ? cur : cur.subarray(0, bytesRead);
      }
    }
  } finally {
    if (pending) await pending.catch(() => undefined);
    await fh.close();
  }
  const stream = createReadStream(file, { highWaterMark: CHUNK }).pipe(createGunzip({ chunkSize: CHUNK }));
  for await (const c of stream) yield c as Buffer;
}

/** The decompressed beginning of gzip data that may be cut short. */
function gunzipPrefix(b: Buffer): Buffer {
  try {
    return gunzipSync(b, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  } catch {
    return Buffer.alloc(0);
  }
}

/** Expands paths: files, folders (one level), tar archives. */
async function expand(paths: readonly string[]): Promise<InputFile[]> {
  const out: InputFile[] = [];
  for (const p of paths) {
    const st = await stat(p);
    if (st.isDirectory()) {
      const names = (await readdir(p)).sort();
      for (const n of names) {
        const f = path.join(p, n);
        const s = await stat(f);
        if (s.isFile()) out.push(...(await expandFile(f, s.size)));
      }
    } else {
      out.push(...(await expandFile(p, st.size)));
    }
  }
  return out;
}

async function expandFile(file: string, bytes: number): Promise<InputFile[]> {
  const { head, gz } = await readHeadOfFile(file, HEAD_BYTES);
  if (isTraceDat(head)) {
    // trace.dat is read at per-CPU offsets: not through gzip
    if (gz) return [{ label: file, file, bytes, role: 'trace', lines: 0, head: Buffer.alloc(0), traceDat: 'stream' }];
    // the head (for census) is the beginning of its text; problems are reported when it is read
    const parts: Buffer[] = [];
    let n = 0;
    for await (const c of traceDatText(file, { onDiag: () => {} })) {
      parts.push(c);
      n += c.length;
      if (n >= HEAD_BYTES) break;
    }
    return [{ label: file, file, bytes, role: 'trace', lines: 0, head: Buffer.concat(parts).subarray(0, HEAD_BYTES), traceDat: 'file' }];
  }
  if (head.length >= 512 && isTarHeader(head.subarray(0, 512))) {
    // the entries' heads and roles come from one pass over the archive
    const entries: InputFile[] = [];
    await readTar(fileChunks(file), (name, size) => {
      if (path.basename(name).startsWith('.')) return null;
      const f: InputFile = { label: `${file}:${name}`, file, entry: name, tarGz: gz, bytes: size, role: 'ignore', lines: 0 };
      entries.push(f);
      const parts: Buffer[] = [];
      let n = 0;
      return {
        data(c) {
          if (n < HEAD_BYTES) {
            parts.push(Buffer.from(c.subarray(0, HEAD_BYTES - n)));
            n += Math.min(c.length, HEAD_BYTES - n);
          }
        },
        end() {
          let h: Buffer = Buffer.concat(parts);
          // an entry that is itself gzipped: look at its decompressed beginning
          if (GZ(h)) h = gunzipPrefix(h) as typeof h;
          f.role = roleByName(name) ?? (isTraceDat(h) || looksLikeTrace(h) ? 'trace' : 'log');
          if (isTraceDat(h)) f.traceDat = 'stream';
          if (f.role === 'trace') f.head = h;
        },
      };
    });
    return entries;
  }
  const role = roleByName(file) ?? (looksLikeTrace(head) ? 'trace' : 'log');
  return [{ label: file, file, bytes, role, lines: 0, ...(role === 'trace' ? { head } : {}) }];
}

/** Streams an input's bytes into a line sink. */
async function feed(
  f: InputFile,
  sink: ByteLineSink,
  signal: AbortSignal | undefined,
  onBytes: (n: number) => void,
  onDamage?: (line: number, message: string) => void,
  onTraceDat?: (info: TraceDatInfo) => void,
): Promise<number> {
  const sp = new ByteLineSplitter(sink, DEFAULT_MAX_LINE_BYTES);
  const check = () => {
    if (signal?.aborted) throw new DOMException('cancelled', 'AbortError');
  };
  if (f.traceDat) {
    if (f.traceDat === 'stream') {
      onDamage?.(0, 'a trace.dat inside gzip or a tar archive: it is read at per-CPU offsets, so extract it first');
      return 0;
    }
    const onDiag = (m: string) => onDamage?.(sp.lineNo, m);
    for await (const c of traceDatText(f.file, { onDiag, ...(onTraceDat ? { onInfo: onTraceDat } : {}), ...(signal ? { signal } : {}) }))
      sp.push(c);
    onBytes(f.bytes);
    return sp.end();
  }
  if (f.entry === undefined) {
    try {
      for await (const c of fileChunks(f.file)) {
        check();
        sp.push(c);
        onBytes(c.length);
      }
    } catch (e) {
      // a damaged or truncated .gz: what was decoded is still analysed
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'Z_BUF_ERROR' && code !== 'Z_DATA_ERROR') throw e;
      onDamage?.(sp.lineNo + 1, `the gzip data is damaged or cut short (${(e as Error).message}): read up to here`);
    }
    return sp.end();
  }
  let found = false;
  await readTar(fileChunks(f.file), (name) => {
    if (name !== f.entry || found) return null;
    found = true;
    let gunzip: ReturnType<typeof createGunzip> | null = null;
    let first = true;
    return {
      data(c) {
        check();
        onBytes(c.length);
        if (first) {
          first = false;
          if (GZ(c)) {
            gunzip = createGunzip({ chunkSize: CHUNK });
            gunzip.on('data', (d: Buffer) => sp.push(d));
          }
        }
        if (!gunzip) {
          sp.push(c);
          return undefined;
        }
        const g = gunzip;
        return g.write(c) ? undefined : new Promise<void>((resolve) => g.once('drain', () => resolve()));
      },
      end() {
        const g = gunzip;
        if (!g) return undefined;
        return new Promise<void>((resolve) => {
          g.once('end', () => resolve());
          g.once('error', (e) => {
            onDamage?.(sp.lineNo + 1, `the gzip data is damaged or cut short (${e.message}): read up to here`);
            resolve();
          });
          g.end();
        });
      },
    };
  });
  return sp.end();
}

/** Turns lines into events (trace) or messages (log) for the analyzer. */
class TextFeeder implements ByteLineSink {
  private readonly ev = new EventLine();
  private unrecognized = 0;
  lines = 0;
  events = 0;
  messages = 0;

  constructor(
    private readonly an: TraceAnalyzer,
    private readonly parser: EventParser,
    private readonly klog: KernelLogParser,
    private readonly role: 'trace' | 'log',
  ) {}

  line(b: Buffer, s: number, e: number, lineNo: number): void {
    this.lines++;
    const ev = this.ev;
    if (parseEventLine(b, s, e, ev)) {
      this.events++;
      this.parser.parse(b, ev, lineNo);
      return;
    }
    let i = s;
    while (i < e && (b[i] === 32 || b[i] === 9)) i++;
    if (i >= e) return;
    this.text(b.toString('utf8', i, Math.min(e, i + 4096)), lineNo);
  }

  /** A line that is not an event: a header, a marker, a kernel log message, or garbage. */
  text(raw: string, lineNo: number): void {
    const text = raw.trimStart();
    if (text === '') return;
    if (text.startsWith('#')) {
      const p = /#P:(\d+)/.exec(text);
      if (p && this.an.facts.traceCpus === undefined) {
        this.an.facts.traceCpus = Number(p[1]);
        this.an.facts.traceCpusAt = `trace header #P:${p[1]} (${this.an.file}:${lineNo})`;
      }
      // perf script --header: "# os release : 6.12.117+deb13-amd64"
      const r = /^# os release : (\S+)/.exec(text);
      if (r && this.an.facts.release === undefined) {
        this.an.facts.release = releaseOf(r[1] as string, '');
        this.an.facts.releaseAt = `perf header "os release" (${this.an.file}:${lineNo})`;
      }
      return;
    }
    if (/^cpus=\d+\s*$/.test(text)) {
      if (this.an.facts.traceCpus === undefined) {
        this.an.facts.traceCpus = Number(text.slice(5));
        this.an.facts.traceCpusAt = `trace-cmd "cpus=" (${this.an.file}:${lineNo})`;
      }
      return;
    }
    if (/^CPU:?\s*\d+ \[LOST/.test(text)) {
      this.an.lost(lineNo, text.trim());
      return;
    }
    if (/^(version = \d|CPU \d+ is empty|#{3,} CPU \d+ buffer started)/.test(text)) return;
    const msg = this.klog.parse(text, lineNo);
    if (msg) {
      this.messages++;
      this.an.logMessage(msg);
      return;
    }
    if (this.role === 'trace') {
      this.unrecognized++;
      if (this.unrecognized <= 20) {
        const shown = text.replace(/[^\x20-\x7e]/g, '?').slice(0, 60);
        this.an.diag(lineNo, `not a trace event line: "${shown}${text.length > 60 ? '...' : ''}"`);
      } else if (this.unrecognized === 21) {
        this.an.diag(lineNo, 'more lines that are not trace events follow; not listed');
      }
    }
  }

  overlong(lineNo: number, bytes: number): void {
    this.an.diag(lineNo, `a line of ${bytes} bytes: too long for a trace or log line, skipped`);
  }
}

/**
 * Reads a trace with its lines parsed in worker threads: blocks of whole lines go out in turn,
 * their records come back and are replayed into the analysis in file order. Over-long lines
 * are cut out here, so the workers see only lines the sequential reader would parse.
 */
async function feedParallel(
  f: InputFile,
  an: TraceAnalyzer,
  parser: EventParser,
  feeder: TextFeeder,
  cfg: ParseWorkers,
  signal: AbortSignal | undefined,
  onBytes: (n: number) => void,
  onDamage: (line: number, message: string) => void,
): Promise<number> {
  const workers = Array.from({ length: cfg.count }, () => new Worker(cfg.script, cfg.execArgv ? { execArgv: cfg.execArgv } : {}));
  const decoder = new RecordDecoder((name) => parser.devices.internString(name));
  const target = { sink: an, text: (t: string, l: number) => feeder.text(t, l) };
  /** Results by block number; an over-long line is a block of its own. */
  const done = new Map<number, { w: number; block: EncodedBlock } | { overlong: number }>();
  let sent = 0;
  let next = 0;
  let lineBase = 0;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const limit = cfg.count * 3;
  const drain = () => {
    for (let d = done.get(next); d !== undefined; d = done.get(next)) {
      done.delete(next);
      next++;
      if ('overlong' in d) {
        lineBase++;
        feeder.overlong(lineBase, d.overlong);
      } else {
        decoder.replay(d.w, d.block, lineBase, target);
        lineBase += d.block.lines;
      }
    }
    const w = wake;
    wake = null;
    w?.();
  };
  workers.forEach((wk, w) => {
    wk.on('message', (block: EncodedBlock) => {
      done.set(block.seq, { w, block });
      try {
        drain();
      } catch (e) {
        failure = e as Error;
        wake?.();
      }
    });
    wk.on('error', (e) => {
      failure = e;
      wake?.();
    });
  });
  const waitFor = async (cond: () => boolean) => {
    while (!cond()) {
      if (failure) throw failure;
      await new Promise<void>((r) => {
        wake = r;
      });
    }
    if (failure) throw failure;
  };
  const send = (bytes: Buffer) => {
    const buf = new ArrayBuffer(bytes.length);
    bytes.copy(Buffer.from(buf));
    const seq = sent++;
    (workers[seq % cfg.count] as Worker).postMessage({ seq, buf, len: bytes.length }, [buf]);
  };
  const mark = (overlong: number) => {
    done.set(sent++, { overlong });
  };
  const maxLine = DEFAULT_MAX_LINE_BYTES;
  let carry = Buffer.alloc(0);
  let skipping = 0; // bytes of an over-long line being skipped (0: none)
  try {
    try {
      for await (const c of fileChunks(f.file)) {
        if (signal?.aborted) throw new DOMException('cancelled', 'AbortError');
        onBytes(c.length);
        let start = 0;
        const first = c.indexOf(10);
        if (first < 0) {
          if (skipping || carry.length + c.length > maxLine) {
            skipping = (skipping || carry.length) + c.length;
            carry = Buffer.alloc(0);
          } else {
            carry = Buffer.concat([carry, c]);
          }
          continue;
        }
        if (skipping || carry.length + first > maxLine) {
          mark((skipping || carry.length) + first);
          skipping = 0;
          carry = Buffer.alloc(0);
          start = first + 1;
        }
        const last = c.lastIndexOf(10);
        if (last >= start) {
          send(carry.length ? Buffer.concat([carry, c.subarray(start, last + 1)]) : c.subarray(start, last + 1));
          carry = Buffer.from(c.subarray(last + 1));
        } else {
          carry = Buffer.concat([carry, c.subarray(start)]);
        }
        if (carry.length > maxLine) {
          skipping = carry.length;
          carry = Buffer.alloc(0);
        }
        await waitFor(() => sent - next < limit);
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'Z_BUF_ERROR' && code !== 'Z_DATA_ERROR') throw e;
      await waitFor(() => next === sent);
      onDamage(lineBase + 1, `the gzip data is damaged or cut short (${(e as Error).message}): read up to here`);
    }
    if (skipping) mark(skipping);
    else if (carry.length) send(carry);
    await waitFor(() => next === sent);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  feeder.lines += lineBase;
  return lineBase;
}

/** The capture script's metadata. */
function readCaptureJson(an: TraceAnalyzer, text: string, label: string): void {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    an.diag(1, `capture metadata is not valid JSON (${(e as Error).message})`, 'warning', label);
    return;
  }
  const cpus = Number(j.nr_cpus_possible ?? j.nr_cpus);
  if (Number.isInteger(cpus) && cpus > 0 && an.facts.possibleCpus === undefined) {
    an.facts.possibleCpus = cpus;
    an.facts.possibleCpusAt = `capture metadata (${label})`;
  }
  if (typeof j.kernel_release === 'string' && an.facts.release === undefined) {
    an.facts.release = releaseOf(j.kernel_release, typeof j.kernel_version === 'string' ? j.kernel_version : '');
    an.facts.releaseAt = label;
  }
}

async function readSmall(f: InputFile, max = 1 << 20): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  await feed(
    f,
    {
      line(b, s, e) {
        if (n < max) {
          parts.push(Buffer.from(`${b.toString('utf8', s, e)}\n`));
          n += e - s + 1;
        }
      },
    },
    undefined,
    () => {},
  );
  return Buffer.concat(parts).toString('utf8');
}

async function readMeta(an: TraceAnalyzer, f: InputFile): Promise<void> {
  an.file = f.label;
  const text = await readSmall(f);
  switch (f.role) {
    case 'cmdline': {
      const line = text.trim().split('\n')[0] ?? '';
      if (line) {
        an.facts.cmdline = line;
        an.facts.cmdlineAt = `command line (${f.label})`;
      }
      return;
    }
    case 'capture-json':
      readCaptureJson(an, text, f.label);
      return;
    case 'debugfs': {
      const m = /io_tlb_nslabs\s*[=:]\s*(\d+)/.exec(text);
      if (m && an.facts.mappedNslabs === undefined && an.facts.adjustedSlabs === undefined) {
        an.facts.adjustedSlabs = Number(m[1]);
        an.facts.adjustedAt = `debugfs io_tlb_nslabs (${f.label})`;
      }
      // the last snapshot (the capture script writes one before and one after tracing)
      for (const hw of text.matchAll(/io_tlb_used_hiwater\s*[=:]\s*(\d+)/g)) an.kernelHiwater = Number(hw[1]);
      return;
    }
    case 'ring-stats': {
      let lost = 0;
      for (const m of text.matchAll(/^(?:overrun|dropped events):\s*(\d+)/gm)) lost += Number(m[1]);
      if (lost > 0)
        an.diag(
          0,
          `the trace buffer lost ${lost} events (overrun or dropped): a bigger buffer (-b) or a shorter capture`,
          'warning',
          f.label,
        );
      return;
    }
    case 'devices':
      // "<device> <driver>" per line
      for (const l of text.split('\n')) {
        const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(l);
        if (m) an.drivers.set(m[1] as string, m[2] as string);
      }
      return;
    case 'kprobe-profile': {
      let missed = 0;
      for (const l of text.split('\n')) {
        const m = /^\s*(\S+)\s+(\d+)\s+(\d+)\s*$/.exec(l);
        if (m) missed += Number(m[3]);
      }
      if (missed > 0) {
        an.diag(
          0,
          `the kernel missed ${missed} probe hits (kprobe_profile): maps or unmaps are missing, so some placements cannot be followed`,
          'warning',
          f.label,
        );
      }
      return;
    }
    default:
      return;
  }
}

/** Reads every trace input through an analyzer (one pass). */
async function passTraces(
  an: TraceAnalyzer,
  parser: EventParser,
  traces: InputFile[],
  opts: TextAnalysisOptions,
  progress: (n: number) => void,
): Promise<void> {
  for (const f of traces) {
    an.file = f.label;
    an.level = census(f.head ?? Buffer.alloc(0));
    an.traceFiles++;
    const feeder = new TextFeeder(an, parser, new KernelLogParser(), 'trace');
    const events0 = an.traceEvents;
    const damage = (line: number, msg: string) => an.diag(line, msg, 'error');
    const workers = opts.parseWorkers === undefined ? defaultWorkers() : opts.parseWorkers;
    if (workers && workers.count > 0 && f.entry === undefined && !f.traceDat && f.bytes >= (workers.minBytes ?? PARALLEL_MIN_BYTES)) {
      f.lines = await feedParallel(f, an, parser, feeder, workers, opts.signal, progress, damage);
    } else {
      f.lines = await feed(f, feeder, opts.signal, progress, damage, (info) => {
        // the traced machine's kernel release, from trace.dat's uname option
        const release = info.uname?.split(/\s+/)[2];
        if (release && an.facts.release === undefined) {
          an.facts.release = releaseOf(release, '');
          an.facts.releaseAt = `trace.dat uname "${info.uname}" (${f.label})`;
        }
      });
    }
    an.lines += f.lines;
    an.endFile();
    if (an.traceEvents === events0) an.diag(0, 'no trace events in this file', 'warning', f.label);
  }
}

export async function analyzeText(paths: readonly string[], opts: TextAnalysisOptions = {}): Promise<TextAnalysis> {
  const inputs = await expand(paths);
  const an = new TraceAnalyzer(opts);
  const parser = new EventParser(an);
  an.setDeviceNames(parser.devices.names);
  const traces = inputs.filter((f) => f.role === 'trace');
  const logs = inputs.filter((f) => f.role === 'log');
  const total = inputs.reduce((n, f) => n + (f.role === 'trace' ? f.bytes : 0), 0) || 1;
  let done = 0;
  let lastReport = 0;
  const passes = 1;
  const progress = (n: number) => {
    done += n;
    if (opts.onProgress && done - lastReport > total / 200) {
      lastReport = done;
      opts.onProgress(Math.min(1, done / total / passes));
    }
  };
  for (const f of inputs) if (f.role !== 'trace' && f.role !== 'log' && f.role !== 'ignore') await readMeta(an, f);
  for (const f of logs) {
    an.file = f.label;
    an.logFiles++;
    const klog = new KernelLogParser();
    const feeder = new TextFeeder(an, parser, klog, 'log');
    f.lines = await feed(
      f,
      feeder,
      opts.signal,
      () => {},
      (line, msg) => an.diag(line, msg, 'error'),
    );
    for (const [dev, drv] of klog.drivers) if (!an.drivers.has(dev)) an.drivers.set(dev, drv);
    an.logLines += f.lines;
    if (f.lines === 0) an.diag(0, 'empty file', 'warning', f.label);
    else if (feeder.messages === 0 && feeder.events === 0)
      an.diag(0, 'no trace events and no swiotlb kernel messages in this file', 'info', f.label);
  }
  await passTraces(an, parser, traces, opts, progress);
  an.ensureGeometry();
  an.explainLog();

  let sizing: SizingResult | null = null;
  let sizingNote: string | null = null;
  const fixable = an.mapsFailed - (an.failuresByCause.get('too-big') ?? 0) - (an.failuresByCause.get('not-bounced') ?? 0);
  const g = an.geometry;
  if (traces.length === 0) sizingNote = 'no trace: a log has no unmaps, so the model cannot re-run the workload';
  else if (an.maps === 0) sizingNote = 'no maps in the trace (only swiotlb_bounced events, or none): nothing to re-run';
  else if (an.mapsFailed === 0) sizingNote = `no map failed: the pool of ${g?.nslabs} slots was enough for this trace`;
  else if (fixable === 0) sizingNote = 'every failure was a request above the 256 KiB ceiling (128 slots): no pool size helps';
  else if (opts.noSizing) sizingNote = 'sizing not run';
  else if (g) {
    const candidates: number[] = [];
    for (let n = Math.max(g.nslabs * 2, IO_TLB_SEGSIZE * g.nareas); n <= 1 << 21 && candidates.length < 8; n *= 2) candidates.push(n);
    if (candidates.length === 0) sizingNote = 'the pool is already at the largest size tried (4 GiB)';
    else {
      const w = new TraceAnalyzer({ ...opts, events: undefined, rowLimit: 0, whatIf: candidates, onOp: undefined, geometry: g });
      Object.assign(w.facts, an.facts);
      const p2 = new EventParser(w);
      w.setDeviceNames(p2.devices.names);
      await passTraces(w, p2, traces, opts, () => {});
      w.ensureGeometry();
      const pools = (w.whatIf ?? []) as WhatIfPool[];
      const tried = pools.map((p) => ({ nslabs: p.nslabs, failures: p.failures, tooBig: p.tooBig, peak: p.peak }));
      const ok = tried.find((t) => t.failures === 0);
      sizing = { current: g.nslabs, tried, enough: ok ? ok.nslabs : null, tooBig: an.failuresByCause.get('too-big') ?? 0 };
    }
  }
  opts.onProgress?.(1);
  return { analyzer: an, inputs, sizing, sizingNote };
}
