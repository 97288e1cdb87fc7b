/**
 * Analyses traces and kernel logs: files, capture folders and capture archives (.tar, .tar.gz),
 * each told apart by content. Logs and the capture's metadata are read first (they give the pool
 * geometry), then the traces, streamed; when maps failed, a second pass replays the trace through
 * bigger pools to find the smallest `swiotlb=` that would have avoided every failure.
 */

import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { expandText, type InputFile } from '../inputs/expand';
import { type ByteLineSink, type ReadByteLinesOptions, readByteLines, readTarEntryLines } from '../io/lineBytes';
import { type BlockWorkers, readBlocksInParallel } from '../io/parallel';
import { readTraceDatLines } from '../io/traceDat';
import { IO_TLB_SEGSIZE } from '../model/constants';
import { type AnalyzerOptions, TraceAnalyzer, type WhatIfPool } from './analyzer';
import { census } from './census';
import { EventParser } from './events';
import { EventLine, parseEventLine } from './ftrace';
import { KernelLogParser, releaseOf } from './klog';
import type { LogLineJoiner } from './klogLines';
import { type EncodedBlock, RecordDecoder } from './records';

export type { InputFile };

/** Parsing big traces in worker threads (see records.ts); the script is dist/parseWorker.js next to the bundle. */
export interface ParseWorkers extends BlockWorkers {
  /** Traces smaller than this are parsed in the calling thread. */
  readonly minBytes?: number;
}

export interface TextAnalysisOptions extends Omit<AnalyzerOptions, 'whatIf' | 'onOp'> {
  /** Worker threads for parsing; default: beside a bundle, one per spare CPU (up to 3; on 2-3 CPUs one while a CPU is idle). */
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

const PARALLEL_MIN_BYTES = 32 << 20;

/** Parse workers beside the bundle (dist/parseWorker.js), when there is one. */
function defaultWorkers(): ParseWorkers | null {
  const script = path.join(__dirname, 'parseWorker.js');
  if (!existsSync(script)) return null;
  // SWIOTLB_LENS_PARSE_WORKERS=0 parses in the calling thread (for comparisons)
  const env = process.env.SWIOTLB_LENS_PARSE_WORKERS;
  const cpus = availableParallelism();
  if (env !== undefined && /^\d+$/.test(env)) return Number(env) > 0 ? { count: Number(env), script } : null;
  // One worker from two CPUs on: it parses block n+1 while this thread replays block n (the two
  // are about even, so a second worker would wait on the replay). Handing records over costs
  // about a third more CPU in all, which pays only with a CPU to spare: on 2-3 CPUs, only while
  // the load average leaves one (measured: on a 2-CPU machine at load 8-11 the pair is slower).
  const spare = cpus - loadavg()[0];
  const count = cpus >= 4 ? Math.min(3, cpus - 1) : cpus >= 2 && spare >= 1 ? 1 : 0;
  return count > 0 ? { count, script } : null;
}

/** A plain file's head when it holds the whole file (a folder of many small files is read once). */
function wholeHead(f: InputFile): Buffer | undefined {
  return !f.gz && f.head !== undefined && f.head.length === f.bytes ? f.head : undefined;
}

/**
 * How an input's lines are read, by its format (inputs/sniff.ts): text files and tar entries. A
 * format that is not text (a binary trace) adds its reader here, yielding the same lines.
 */
export interface LineReadOptions extends ReadByteLinesOptions {
  /** The traced machine's kernel release, from a binary trace's own metadata, and where it was read. */
  readonly onRelease?: (release: string, where: string) => void;
}

export const LINE_READERS: Readonly<Record<string, (f: InputFile, sink: ByteLineSink, opts: LineReadOptions) => Promise<number>>> = {
  text: (f, sink, opts) =>
    f.entry === undefined
      ? readByteLines(wholeHead(f) ?? f.file, sink, opts)
      : readTarEntryLines(
          f.file,
          f.entryOffset === undefined ? f.entry : { name: f.entry, offset: f.entryOffset, size: f.bytes },
          sink,
          opts,
        ),
  'trace.dat': async (f, sink, opts) => {
    // read at per-CPU offsets: not through gzip or out of an archive
    if (f.entry !== undefined || f.gz) {
      opts.onDamage?.(0, 'a trace.dat inside gzip or a tar archive: it is read at per-CPU offsets, so extract it first');
      return 0;
    }
    return readTraceDatLines(f.file, sink, {
      ...opts,
      onInfo(info) {
        const release = info.uname?.split(/\s+/)[2];
        if (release) opts.onRelease?.(release, `trace.dat uname "${info.uname}" (${f.label})`);
      },
    });
  },
};

/** Streams an input's lines into a line sink. */
function feed(
  f: InputFile,
  sink: ByteLineSink,
  signal: AbortSignal | undefined,
  onBytes: (n: number) => void,
  onDamage?: (line: number, message: string) => void,
  onRelease?: (release: string, where: string) => void,
): Promise<number> {
  const read = LINE_READERS[f.format ?? 'text'];
  if (!read) throw new Error(`${f.label}: no reader for the ${f.format} format`);
  return read(f, sink, { ...(signal ? { signal } : {}), onBytes, ...(onDamage ? { onDamage } : {}), ...(onRelease ? { onRelease } : {}) });
}

/** Turns lines into events (trace) or messages (log) for the analyzer. */
class TextFeeder implements ByteLineSink {
  private readonly ev = new EventLine();
  private unrecognized = 0;
  /** Logs go through the pre-pass that unquotes and rejoins wrapped lines (klogLines.ts). */
  private readonly reader: LogLineJoiner | null;
  lines = 0;
  events = 0;
  messages = 0;

  constructor(
    private readonly an: TraceAnalyzer,
    private readonly parser: EventParser,
    private readonly klog: KernelLogParser,
    private readonly role: 'trace' | 'log',
  ) {
    this.reader =
      role === 'log'
        ? klog.reader((m) => {
            this.messages++;
            this.an.logMessage(m);
          })
        : null;
  }

  line(b: Buffer, s: number, e: number, lineNo: number): void {
    this.lines++;
    const ev = this.ev;
    if (parseEventLine(b, s, e, ev)) {
      this.reader?.flush();
      this.events++;
      this.parser.parse(b, ev, lineNo);
      return;
    }
    let i = s;
    while (i < e && (b[i] === 32 || b[i] === 9)) i++;
    if (i >= e) {
      this.reader?.flush();
      return;
    }
    this.text(b.toString('utf8', i, Math.min(e, i + 4096)), lineNo);
  }

  /** The end of the file: the last pending log line. */
  end(): void {
    this.reader?.end();
  }

  /** A line that is not an event: a header, a marker, a kernel log message, or garbage. */
  text(raw: string, lineNo: number): void {
    const text = raw.trimStart();
    if (text === '') return;
    if (text.startsWith('#')) {
      this.reader?.flush();
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
    if (this.reader) {
      this.reader.push(text, lineNo);
      return;
    }
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
 * Reads a trace with its lines parsed in worker threads (io/parallel.ts): their records are
 * replayed into the analysis in file order.
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
  const decoder = new RecordDecoder((name) => parser.devices.internString(name));
  const target = { sink: an, text: (t: string, l: number) => feeder.text(t, l) };
  let lineBase = 0;
  await readBlocksInParallel<EncodedBlock>(f.file, cfg, {
    onResult(w, block) {
      decoder.replay(w, block, lineBase, target);
      lineBase += block.lines;
    },
    onOverlong(bytes) {
      lineBase++;
      feeder.overlong(lineBase, bytes);
    },
    onDamage: (message) => onDamage(lineBase + 1, message),
    onBytes,
    ...(signal ? { signal } : {}),
  });
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
    case 'event-formats':
      // the tracepoints' format files: dma:* events exist from 6.12 on
      if (/^name: dma_map_(page|sg|phys)\s*$/m.test(text) && !an.facts.dmaEvents) {
        an.facts.dmaEvents = true;
        an.facts.dmaEventsAt = `defined in the event formats of ${f.label}`;
      }
      return;
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
  const workers = opts.parseWorkers === undefined ? defaultWorkers() : opts.parseWorkers;
  for (const f of traces) {
    an.file = f.label;
    an.level = census(f.head ?? Buffer.alloc(0));
    an.traceFiles++;
    const feeder = new TextFeeder(an, parser, new KernelLogParser(), 'trace');
    const events0 = an.traceEvents;
    const damage = (line: number, msg: string) => an.diag(line, msg, 'error');
    const parallel = workers && workers.count > 0 && f.entry === undefined && (f.format ?? 'text') === 'text';
    if (parallel && f.bytes >= (workers.minBytes ?? PARALLEL_MIN_BYTES)) {
      f.lines = await feedParallel(f, an, parser, feeder, workers, opts.signal, progress, damage);
    } else {
      f.lines = await feed(f, feeder, opts.signal, progress, damage, (release, where) => {
        if (an.facts.release !== undefined) return;
        an.facts.release = releaseOf(release, '');
        an.facts.releaseAt = where;
      });
    }
    an.lines += f.lines;
    an.endFile();
    if (an.traceEvents === events0) an.diag(0, 'no trace events in this file', 'warning', f.label);
  }
}

/** Analyses traces and logs: paths (expanded here), or the files the router found. */
export async function analyzeText(given: readonly string[] | readonly InputFile[], opts: TextAnalysisOptions = {}): Promise<TextAnalysis> {
  const inputs: InputFile[] =
    given.length > 0 && typeof given[0] === 'string'
      ? await expandText(given as readonly string[])
      : (given as readonly InputFile[]).map((f) => ({ ...f }));
  const an = new TraceAnalyzer(opts);
  const parser = new EventParser(an, an.deviceIds);
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
  for (const f of inputs) if (f.skipped) an.diag(0, `skipped: ${f.skipped}`, 'warning', f.label);
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
    feeder.end();
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
  const b = an.books;
  // failures no pool size fixes: requests above the ceiling, maps that never tried the pool
  const tooBig = b.failuresByCause['too-big'] ?? 0;
  const fixable = b.failed - tooBig - (b.failuresByCause['no-swiotlb'] ?? 0);
  const g = an.geometry;
  if (traces.length === 0) sizingNote = 'no trace: a log has no unmaps, so the model cannot re-run the workload';
  else if (b.maps === 0) sizingNote = 'no maps in the trace (only swiotlb_bounced events, or none): nothing to re-run';
  else if (b.failed === 0) sizingNote = `no map failed: the pool of ${g?.nslabs} slots was enough for this trace`;
  else if (fixable === 0) sizingNote = 'every failure was a request above the 256 KiB ceiling (128 slots): no pool size helps';
  else if (opts.noSizing) sizingNote = 'sizing not run';
  else if (g) {
    const candidates: number[] = [];
    for (let n = Math.max(g.nslabs * 2, IO_TLB_SEGSIZE * g.nareas); n <= 1 << 21 && candidates.length < 8; n *= 2) candidates.push(n);
    if (candidates.length === 0) sizingNote = 'the pool is already at the largest size tried (4 GiB)';
    else {
      const w = new TraceAnalyzer({ ...opts, events: undefined, rowLimit: 0, whatIf: candidates, onOp: undefined, geometry: g });
      Object.assign(w.facts, an.facts);
      const p2 = new EventParser(w, w.deviceIds);
      await passTraces(w, p2, traces, opts, () => {});
      w.ensureGeometry();
      const pools = (w.whatIf ?? []) as WhatIfPool[];
      const tried = pools.map((p) => ({ nslabs: p.nslabs, failures: p.failures, tooBig: p.tooBig, peak: p.peak }));
      const ok = tried.find((t) => t.failures === 0);
      sizing = { current: g.nslabs, tried, enough: ok ? ok.nslabs : null, tooBig };
    }
  }
  opts.onProgress?.(1);
  return { analyzer: an, inputs, sizing, sizingNote };
}
