/**
 * What the panel shows of a kernel log: the log's own figures (failures by cause, the pool its
 * lines give, its devices, its conclusions), every message with its explanation read in its
 * event (logExplain.ts), the machine facts (version, cmdline, CPUs) and the log's clock next to
 * the trace's. Built once in the analysis (worker), sent with the session; pure, tested directly.
 */
import { IO_TLB_SIZE } from '../model/constants';
import { explainAnalysedEntry } from '../trace/explainLine';
import type { LogBook } from '../trace/logExplain';
import type { TextReport } from '../trace/report';

/** Log lines that are facts about the machine, not messages: shown in the summary, not as table rows. */
export const LOG_FACT_KINDS: ReadonlySet<string> = new Set(['version', 'uname', 'cmdline', 'cpus', 'pci-dma', 'area-num']);
/** Frames of a WARN report: listed with their event, not on their own. */
const LOG_FRAME_KINDS: ReadonlySet<string> = new Set(['cut-here', 'warn-cpu', 'hardware', 'end-trace']);

/** Messages the panel lists, at most (the report counts them all). */
export const MAX_LOG_ENTRIES = 2000;

export interface LogEntryView {
  readonly file: string;
  readonly line: number;
  readonly endLine: number;
  /** Seconds since boot when the line has a timestamp. */
  readonly time: number | null;
  readonly kind: string;
  readonly device: string | null;
  /** The log's cause class of the event (too-big, exhausted, ...), null when not a failure. */
  readonly cause: string | null;
  readonly sizeHelps: boolean | null;
  /** The event it belongs to (-1: none) and the lines of that event's messages. */
  readonly event: number;
  readonly eventLines: readonly number[];
  readonly title: string;
  readonly explanation: string;
  readonly text: string;
}

export interface LogDeviceView {
  readonly name: string;
  readonly driver: string | null;
  readonly messages: number;
  readonly failures: number;
  readonly byCause: Readonly<Record<string, number>>;
  readonly dmaMask: string | null;
  readonly busLimit: string | null;
  readonly largestRequest: number;
  readonly firstLine: number;
}

export interface LogView {
  readonly lines: number;
  /** swiotlb messages (WARN frames and machine facts not counted). */
  readonly messages: number;
  readonly fullMessages: number;
  readonly overflowMessages: number;
  readonly suppressed: number;
  readonly failures: number;
  readonly byCause: Readonly<Record<string, number>>;
  /** No swiotlb= size would have avoided any failure. */
  readonly noSizeHelps: boolean;
  /** The pool as the log gives it (null: the log says nothing of it). */
  readonly pool: { readonly nslabs: number; readonly nareas: number; readonly bytes: number; readonly source: string } | null;
  readonly kernel: {
    readonly profile: string;
    readonly title: string;
    readonly source: string;
    /** No line of the input names the kernel: the profile is the default. */
    readonly assumed: boolean;
    readonly release: string | null;
    readonly releaseSource: string | null;
  };
  readonly devices: readonly LogDeviceView[];
  readonly conclusions: readonly string[];
  /** version, cmdline, CPUs, ... with their lines. */
  readonly facts: readonly { readonly label: string; readonly value: string; readonly file: string; readonly line: number }[];
  readonly entries: readonly LogEntryView[];
  readonly entriesDropped: number;
  /** The log's clock: seconds since boot (printk timestamps) or none (line order only). */
  readonly clock: 'seconds' | 'none';
  /** The trace's clock, when there is a trace. */
  readonly traceClock: 'seconds' | 'counter' | null;
  /** The log's messages and the trace's events share one time axis (both in seconds since boot). */
  readonly aligned: boolean;
  /** What the panel says about the two clocks. */
  readonly clockNote: string;
}

const FACT_LABEL: Record<string, string> = {
  version: 'Linux version',
  uname: 'uname',
  cmdline: 'Command line',
  cpus: 'CPUs',
  'pci-dma': 'PCI-DMA',
  'area-num': 'Areas',
};

/** The log part of a trace/log analysis; null when the input has no log. */
export function logViewOf(r: TextReport, book: LogBook): LogView | null {
  if (r.input.kind !== 'log' && r.input.kind !== 'trace+log' && !(r.input.kind === 'none' && r.log.lines > 0)) return null;
  const entries: LogEntryView[] = [];
  const facts: { label: string; value: string; file: string; line: number }[] = [];
  let messages = 0;
  let timed = 0;
  for (const e of book.entries) {
    const kind = e.msg.kind;
    if (LOG_FACT_KINDS.has(kind)) {
      // the first of each kind (the dmesg and a WARN's header may both name the release)
      if (facts.length < 50 && !facts.some((f) => f.label === (FACT_LABEL[kind] ?? kind)))
        facts.push({ label: FACT_LABEL[kind] ?? kind, value: e.msg.detail ?? e.msg.text, file: e.file, line: e.msg.line });
      continue;
    }
    if (!LOG_FRAME_KINDS.has(kind)) messages++;
    if (e.msg.time !== undefined) timed++;
    if (entries.length >= MAX_LOG_ENTRIES) continue;
    const x = explainAnalysedEntry(e, book);
    entries.push({
      file: e.file,
      line: e.msg.line,
      endLine: e.msg.endLine ?? e.msg.line,
      time: e.msg.time ?? null,
      kind,
      device: x.device,
      cause: e.cause,
      sizeHelps: e.sizeHelps,
      event: e.event ?? -1,
      eventLines: x.eventLines,
      title: x.title,
      explanation: x.text,
      text: e.msg.text,
    });
  }
  const shown = entries.length + facts.length;
  const g = r.pool;
  // the log names the pool when its slot count came from one of its lines
  const poolFromLog = /log|dmesg|mapped|total/i.test(g.sources.nslabs) && !/^default/.test(g.sources.nslabs);
  const clock: LogView['clock'] = timed > 0 ? 'seconds' : 'none';
  const traceClock = r.input.kind === 'trace+log' ? r.input.clock : null;
  const aligned = traceClock === 'seconds' && clock === 'seconds';
  const clockNote =
    traceClock === null
      ? clock === 'seconds'
        ? 'Log messages are placed by their printk timestamps (seconds since boot).'
        : 'The log has no timestamps: its messages are placed by line number.'
      : aligned
        ? 'The trace and the log are both timed in seconds since boot: their events share one time axis.'
        : traceClock === 'counter'
          ? 'The trace runs on a counter clock (trace_clock=counter) and the log on seconds since boot: they cannot be aligned, so the log lane keeps its own axis and log rows do not move the trace cursor.'
          : 'The log has no timestamps: its lane is in line order, not aligned with the trace.';
  return {
    lines: r.log.lines,
    messages,
    fullMessages: r.log.full_messages,
    overflowMessages: r.log.overflow_messages,
    suppressed: r.log.suppressed,
    failures: r.log.failures,
    byCause: { ...r.log.by_cause },
    noSizeHelps: r.log.no_size_helps,
    pool: poolFromLog ? { nslabs: g.nslabs, nareas: g.nareas, bytes: g.nslabs * IO_TLB_SIZE, source: g.sources.nslabs } : null,
    kernel: {
      profile: r.kernel.profile,
      title: r.kernel.title,
      source: r.kernel.source,
      assumed: /^default|assum/i.test(r.kernel.source),
      release: r.kernel.release,
      releaseSource: r.kernel.release_source,
    },
    devices: r.devices
      .filter((d) => d.log)
      .map((d) => {
        const l = d.log as NonNullable<typeof d.log>;
        return {
          name: l.name,
          driver: l.driver,
          messages: l.messages,
          failures: l.failures,
          byCause: { ...l.by_cause },
          dmaMask: l.dma_mask,
          busLimit: l.bus_dma_limit,
          largestRequest: l.largest_request,
          firstLine: l.first_line,
        };
      }),
    conclusions: [...r.conclusions],
    facts,
    entries,
    entriesDropped: Math.max(0, book.entries.length - shown) + book.dropped,
    clock,
    traceClock,
    aligned,
    clockNote,
  };
}

/** A device as people name it: "vc4-drm gpu", not "gpu". */
export function fullDeviceName(d: { readonly name: string; readonly driver: string | null }): string {
  return d.driver && !d.name.startsWith(d.driver) ? `${d.driver} ${d.name}` : d.name;
}
