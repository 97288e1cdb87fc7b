/**
 * "Explain this log line": what a swiotlb kernel message means, read with its neighbourhood.
 * The lines around the selected one are parsed as a log (wrapped and quoted lines joined, see
 * klogLines.ts) and grouped into events (logExplain.ts), so a message is explained as part of its
 * event: an "overflow ... of DMA mask" line right after the same device's "buffer is full" is that
 * failed map reported again by dma-direct, a WARN block belongs to the message it is about, and
 * the limit named is the one the address exceeds (the DMA mask, or only the bus limit). Pure; the
 * editor shows the answer.
 */
import { nrSlots } from '../model/constants';
import { KernelLogParser, type LogMessage } from './klog';
import { LogBook, type LogCause, type LogEntry, overflowLimit } from './logExplain';

export interface LineExplanation {
  /** 1-based line, within the given lines, where the message explained starts. */
  readonly line: number;
  /** Its last line (a wrapped message spans several). */
  readonly endLine: number;
  readonly kind: LogMessage['kind'];
  readonly device: string | null;
  /** One sentence naming the message. */
  readonly title: string;
  readonly text: string;
  /** Failure code of the views (too-big, pool-full, fragmented, no-swiotlb, bounce-beyond-mask), when the event is a failure. */
  readonly cause: string | null;
  /** The log's cause class (too-big, exhausted, fragmented, alignment, no-pool, mask-limited, ...). */
  readonly logCause: LogCause | null;
  /** Could any swiotlb= size have avoided it (null: the log cannot tell). */
  readonly sizeHelps: boolean | null;
  /** Lines (1-based, within the given lines) of every message of the same event, this one included. */
  readonly eventLines: readonly number[];
}

export interface ExplainOptions {
  /** The pool the current analysis found: the slot count for old messages without one. */
  readonly pool?: { nslabs: number };
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** The log's causes as the failure codes of the views. */
const VIEW_CAUSE: Record<LogCause, string | null> = {
  'too-big': 'too-big',
  exhausted: 'pool-full',
  fragmented: 'fragmented',
  alignment: 'fragmented',
  'no-pool': 'no-swiotlb',
  'bounce-beyond-mask': 'bounce-beyond-mask',
  'mask-limited': null,
  'driver-bug': 'driver-bug',
  unknown: null,
};

/**
 * Explains the message on line `target` (1-based) of `lines`, reading the other lines as its
 * context (pass the lines around the selection: a few dozen each side is plenty). Null when the
 * line is no swiotlb message the parser knows.
 */
export function explainLogLine(lines: readonly string[], target: number, opts: ExplainOptions = {}): LineExplanation | null {
  const book = readContext(lines, opts);
  const entry = book.entries.find((e) => covers(e, target));
  return entry ? explainEntry(entry, book) : null;
}

/**
 * The selected line is the first of `lines` and the others follow it (what an editor selection
 * gives); when that line is no message, the first message among the lines.
 */
export function explainLogLines(lines: readonly string[], pool?: { nslabs: number }): LineExplanation | null {
  const opts = pool ? { pool } : {};
  const book = readContext(lines, opts);
  const entry = book.entries.find((e) => covers(e, 1)) ?? book.entries.find((e) => e.msg.kind !== 'suppressed') ?? book.entries[0];
  return entry ? explainEntry(entry, book) : null;
}

/**
 * The same from an analysis' own reading of a log (TraceAnalyzer.log): the message of `file` on
 * `line`, explained within the events the whole log gave. Null when that line is no message.
 */
export function explainAnalysedLine(book: LogBook, file: string, line: number): LineExplanation | null {
  const entry = book.entries.find((e) => e.file === file && covers(e, line));
  return entry ? explainEntry(entry, book) : null;
}

/** One message of an analysis' LogBook explained within its event (the panel's log table). */
export function explainAnalysedEntry(entry: LogEntry, book: LogBook): LineExplanation {
  return explainEntry(entry, book);
}

const covers = (e: LogEntry, line: number) => e.msg.line <= line && line <= (e.msg.endLine ?? e.msg.line);

/** The lines read as a log: messages grouped into events and explained. */
function readContext(lines: readonly string[], opts: ExplainOptions): LogBook {
  const parser = new KernelLogParser();
  const book = new LogBook();
  const reader = parser.reader((m) => book.add('', m));
  lines.forEach((l, i) => {
    reader.push(l, i + 1);
  });
  reader.end();
  book.finish(opts.pool);
  return book;
}

function explainEntry(entry: LogEntry, book: LogBook): LineExplanation {
  const msg = entry.msg;
  const ev = entry.event !== null ? book.events.find((x) => x.id === entry.event) : undefined;
  const device = msg.device ?? ev?.device ?? null;
  const driver = msg.driver ?? ev?.driver;
  const who = device ? `${driver ? `${driver} ` : ''}${device}` : 'a device';
  const eventLines = ev ? ev.members.map((i) => (book.entries[i] as LogEntry).msg.line) : [msg.line];
  const base = {
    line: msg.line,
    endLine: msg.endLine ?? msg.line,
    kind: msg.kind,
    device,
    logCause: entry.cause,
    cause: entry.cause ? VIEW_CAUSE[entry.cause] : null,
    sizeHelps: entry.sizeHelps,
    eventLines,
  };
  const text = entry.explanation ?? standalone(msg);
  return { ...base, title: title(msg, who), text };
}

function title(msg: LogMessage, who: string): string {
  const size = msg.size;
  switch (msg.kind) {
    case 'full': {
      const slots = nrSlots(size ?? 0);
      return size === undefined
        ? `${who} could not get a bounce buffer: the swiotlb found no room`
        : `${who} asked for a ${size} byte bounce buffer (${slots} slot${slots === 1 ? '' : 's'}) and the swiotlb found no room`;
    }
    case 'out-of-space':
      return `${who} could not get ${size} bytes of bounce buffer (an older kernel's "buffer is full")`;
    case 'overflow': {
      const lim = overflowLimit(msg);
      const buf = `${msg.addr !== undefined ? hex(msg.addr) : 'a buffer'}${size !== undefined ? ` (${size} bytes)` : ''}`;
      if (msg.overflowOf === 'swiotlb') return `the bounce buffer ${buf} of ${who} is itself beyond the device's ${lim.words}`;
      return `${who} mapped ${buf} beyond its ${lim.words}`;
    }
    case 'coherent-failed':
      return `${who}: a coherent allocation of ${size ?? '?'} bytes failed in the bounce pool`;
    case 'coherent-mask':
      return `${who}: a coherent bounce buffer above the device's coherent mask`;
    case 'cannot-dma':
      return `${who} cannot do DMA to ${msg.addr !== undefined ? hex(msg.addr) : 'a buffer'} (swiotlb=noforce)`;
    case 'no-pool':
      return 'no swiotlb pool';
    case 'invalid-sizes':
      return `${who}: a mapping larger than its allocation`;
    case 'sync-overflow':
      return `${who}: a sync beyond the bounce buffer`;
    case 'panic':
      return 'the kernel panicked after a failed bounce';
    case 'mapped':
      return `the swiotlb pool${msg.base !== undefined ? ` at ${hex(msg.base)}` : ''}${msg.nslabs ? `: ${msg.nslabs} slots (${(msg.nslabs * 2048) / 1048576} MiB)` : ''}`;
    case 'suppressed':
      return `${msg.value ?? 'some'} similar messages were suppressed`;
    case 'warn':
      return `a WARN at ${msg.detail}`;
    case 'cut-here':
      return 'the start of a WARN or BUG report';
    case 'warn-cpu':
      return `the task and kernel release (${msg.detail}) of a WARN report`;
    case 'alloc-limited':
      return `the pool got only ${msg.value} MB at boot`;
    case 'restricted-pool':
      return `a restricted DMA pool of ${msg.value} MiB${msg.base !== undefined ? ` at ${hex(msg.base)}` : ''}`;
    case 'version':
    case 'uname':
      return `kernel ${msg.detail}`;
    default:
      return `a swiotlb ${msg.kind} message`;
  }
}

/** A message that is not part of a failure: what it says on its own. */
function standalone(msg: LogMessage): string {
  switch (msg.kind) {
    case 'mapped':
      return 'Printed once at boot: where the default bounce pool lives. Bounce buffers are 2 KiB slots in it, in 128-slot segments.';
    case 'suppressed':
      return 'The kernel rate-limits these messages (and NO_WARN mappings print none): the log under-counts failures. A trace of the swiotlb events counts them all.';
    case 'warn': {
      const f = msg.where?.func ?? '';
      if (/report_addr|dma_direct_map/.test(f))
        return "dma-direct's WARN for a buffer beyond a device's DMA mask or bus limit that it could not map: the overflow line printed just before it names the device, the address and the limits.";
      if (/swiotlb_map/.test(f))
        return 'swiotlb_map() WARNs when the bounce buffer it got is itself beyond the device\'s reach: the "swiotlb addr ... overflow" line of the same report names the device and the limits.';
      if (/swiotlb_bounce|swiotlb_tbl/.test(f))
        return 'A swiotlb WARN about a driver bug (a sync or unmap beyond the mapping): see the message of the same report.';
      return 'A kernel WARN: the message printed with it says what went wrong.';
    }
    case 'cut-here':
    case 'warn-cpu':
    case 'hardware':
    case 'end-trace':
      return 'A line of a WARN or oops report: the message printed with it says what went wrong.';
    case 'alloc-limited':
      return 'The boot (or Xen) pool allocation got less memory than asked: the pool is that small, and fills quickly under I/O.';
    case 'alloc-failed':
      return 'The pool could not be allocated at this size (the kernel retries smaller, or runs without one).';
    case 'restricted-pool':
      return 'A device-tree restricted-dma-pool: the devices assigned to it bounce every mapping through it, not through the default pool.';
    case 'mem-encrypt':
    case 'encryption-features':
      return 'Memory encryption is active: in a confidential guest (SEV, TDX, CCA) every streaming DMA mapping bounces through the pool.';
    case 'teardown':
      return 'The default pool was freed at boot (an IOMMU took over): later maps that need to bounce have no pool.';
    case 'pci-dma':
      return 'x86 kept the swiotlb pool at boot (memory above 4 GiB, or swiotlb=force).';
    case 'area-num':
    case 'adjusted':
    case 'roundup':
      return 'A boot line about the pool geometry: how many areas (per-CPU locks) and how many slots the pool got.';
    default:
      return msg.text;
  }
}
