/**
 * The line layout of ftrace text (`/sys/kernel/tracing/trace`, `trace_pipe`), of
 * `trace-cmd report` (docs/trace-formats.md §1, §2) and of `perf script`, parsed in place on
 * the line's bytes:
 *
 *   <task>-<pid> [(<tgid>)] [<cpu>] [<flags>] <timestamp>: <event>: <text>
 *   <comm> <tid>|<pid>/<tid> [<cpu>] [<misc>] <timestamp>: [<period>] <system>:<event>: <text>
 *
 * The task name may hold spaces, '-' and '/', and may be right-aligned in 16 columns or
 * trimmed, so the parser anchors on "-<pid> ... [<cpu>]" (perf: " <tid> ... [<cpu>]") and reads
 * the task backwards from it. The flags column is optional and of any width (4 characters in
 * 5.10, 5 since 5.13); the timestamp is seconds.microseconds (perf --ns: nanoseconds) or, with a
 * counter clock, a plain count. perf's `-F` layouts without the CPU column are read on a string
 * (parseNoBracket); its event names carry their system ("swiotlb:swiotlb_bounced"), which is
 * dropped so that the event is named as ftrace names it.
 */
import { isDigit, skipSpaces, WORD_BYTE } from './bytes';

/** The parsed prefix of one event line (reused from line to line). */
export class EventLine {
  taskStart = 0;
  taskEnd = 0;
  pid = 0;
  cpu = 0;
  /** Seconds, or the raw count with a counter clock. */
  time = 0;
  /** The timestamp had no fractional part (counter clock). */
  counter = false;
  eventStart = 0;
  eventEnd = 0;
  bodyStart = 0;
  end = 0;
}

/**
 * Parses `b[s, e)` as an event line. Returns false when the line is not one (header, marker,
 * log text, garbage).
 */
export function parseEventLine(b: Uint8Array, s: number, e: number, out: EventLine): boolean {
  const start = skipSpaces(b, s, e);
  if (start >= e || b[start] === 35 /* # */) return false;
  let br = indexOfByte(b, 91 /* [ */, start, e);
  while (br >= 0) {
    if (prefixBefore(b, start, br, e, out)) return restAfterCpu(b, out.bodyStart, e, out);
    br = indexOfByte(b, 91, br + 1, e);
  }
  return parseNoBracket(b, start, e, out);
}

function indexOfByte(b: Uint8Array, c: number, s: number, e: number): number {
  for (let i = s; i < e; i++) if (b[i] === c) return i;
  return -1;
}

/**
 * Checks that `[` at `br` opens "[<digits>]" preceded by "-<pid>" (and an optional "(<tgid>)"),
 * and fills task, pid and cpu. Leaves the position after ']' in out.bodyStart.
 */
function prefixBefore(b: Uint8Array, start: number, br: number, e: number, out: EventLine): boolean {
  let j = br + 1;
  let cpu = 0;
  while (j < e && isDigit(b[j] as number)) cpu = cpu * 10 + ((b[j++] as number) - 48);
  if (j === br + 1 || j >= e || b[j] !== 93 /* ] */) return false;
  let k = br - 1;
  if (k < start || b[k] !== 32) return false;
  while (k > start && b[k] === 32) k--;
  if (b[k] === 41 /* ) */) {
    // record-tgid: "(  123)" or "(-------)"
    while (k > start && b[k] !== 40 /* ( */) k--;
    if (b[k] !== 40) return false;
    k--;
    while (k > start && b[k] === 32) k--;
  }
  let pidEnd = k + 1;
  while (k >= start && isDigit(b[k] as number)) k--;
  if (k + 1 === pidEnd) return false;
  let pidStart = k + 1;
  if (k >= start && b[k] === 47 /* / */) {
    // perf -F pid,tid: "<pid>/<tid>"; the tid is what ftrace calls the pid
    const tidStart = pidStart;
    const tidEnd = pidEnd;
    pidEnd = k;
    k--;
    while (k >= start && isDigit(b[k] as number)) k--;
    if (k + 1 === pidEnd) return false;
    pidStart = tidStart;
    pidEnd = tidEnd;
  }
  let taskEnd = k;
  if (k >= start && b[k] !== 45 /* - */) {
    // perf: "<comm> <tid>" (comm right-aligned, may be absent)
    if (b[k] !== 32) return false;
    while (k >= start && b[k] === 32) k--;
    taskEnd = k + 1;
  } else if (k < start) taskEnd = start;
  let pid = 0;
  for (let i = pidStart; i < pidEnd; i++) pid = pid * 10 + ((b[i] as number) - 48);
  out.taskStart = start;
  out.taskEnd = taskEnd;
  out.pid = pid;
  out.cpu = cpu;
  out.bodyStart = j + 1;
  return true;
}

/** After "[cpu]": optional flags, the timestamp and its ':', the event name and its ':'. */
function restAfterCpu(b: Uint8Array, s: number, e: number, out: EventLine): boolean {
  let i = skipSpaces(b, s, e);
  // up to two tokens: [flags] timestamp:
  for (let tok = 0; tok < 2; tok++) {
    // the timestamp is read as the token is scanned: "<digits>[.<digits>]" ending at ':'
    const t0 = i;
    let whole = 0;
    while (i < e && isDigit(b[i] as number)) whole = whole * 10 + ((b[i++] as number) - 48);
    if (i > t0 && i < e) {
      if (b[i] === 58 /* : */) {
        out.time = whole;
        out.counter = true;
        return eventAfter(b, i + 1, e, out);
      }
      if (b[i] === 46 /* . */) {
        i++;
        let frac = 0;
        let scale = 1;
        const f0 = i;
        while (i < e && isDigit(b[i] as number)) {
          frac = frac * 10 + ((b[i++] as number) - 48);
          scale *= 10;
        }
        if (i > f0 && i < e && b[i] === 58) {
          out.time = whole + frac / scale;
          out.counter = false;
          return eventAfter(b, i + 1, e, out);
        }
      }
    }
    // not a timestamp (the flags): the rest of the token
    while (i < e && b[i] !== 32 && b[i] !== 58) i++;
    if (i >= e || b[i] !== 32) return false;
    i = skipSpaces(b, i, e);
  }
  return false;
}

function wordEnd(b: Uint8Array, i: number, e: number): number {
  while (i < e && WORD_BYTE[b[i] as number] === 1) i++;
  return i;
}

/** " <event>: <body>" after the timestamp's colon (perf: " [<period>] <system>:<event>: <body>"). */
function eventAfter(b: Uint8Array, s: number, e: number, out: EventLine): boolean {
  let n0 = skipSpaces(b, s, e);
  let i = wordEnd(b, n0, e);
  if (i < e && b[i] === 32 && isDigit(b[n0] as number)) {
    // perf -F +period: a count before the event
    let d = n0;
    while (d < i && isDigit(b[d] as number)) d++;
    if (d === i) {
      n0 = skipSpaces(b, i, e);
      i = wordEnd(b, n0, e);
    }
  }
  if (i + 1 < e && b[i] === 58 && b[i + 1] !== 32) {
    // perf: "<system>:<event>:"; the event is named without its system, as ftrace names it
    const j = wordEnd(b, i + 1, e);
    if (j > i + 1 && j < e && b[j] === 58) {
      n0 = i + 1;
      i = j;
    }
  }
  if (i === n0 || i >= e || b[i] !== 58) {
    // "<event>:" at the very end of the line (an event with empty text) is still an event
    if (!(i > n0 && i === e - 1 && b[i] === 58)) return false;
  }
  out.eventStart = n0;
  out.eventEnd = i;
  out.bodyStart = skipSpaces(b, i + 1, e);
  out.end = e;
  return true;
}

/**
 * trace-cmd report -l: "%8.8s-%-5d %3d" then the latency flags, no brackets around the CPU; and
 * perf script -F without cpu: "[<comm>] [<tid>|<pid>/<tid>] <secs.usecs>: [<period>] <system>:<event>:"
 * (the CPU is then unknown: 0). Rare, so parsed on a string.
 */
const NO_BRACKET = /^(.*?)-(\d+)\s+(\d{1,5})\s+(?:[.A-Za-z0-9]{3,6}\s+)?(\d+(?:\.\d+)?):\s+\w+:/;
const PERF_NO_CPU = /^(?:(.*?)\s+)??(?:(\d+)(?:\/(\d+))?\s+)?(\d+\.\d+):\s+(?:\d+\s+)?\w+:\w+:/;
function parseNoBracket(b: Uint8Array, start: number, e: number, out: EventLine): boolean {
  // cheap reject: an event line has ": " after the timestamp within the first 120 bytes
  let colon = -1;
  for (let i = start; i < Math.min(e, start + 120); i++) {
    if (b[i] === 58 && b[i + 1] === 32) {
      colon = i;
      break;
    }
  }
  if (colon < 0) return false;
  const text = Buffer.from(b.buffer, b.byteOffset + start, Math.min(e - start, 200)).toString('latin1');
  const m = NO_BRACKET.exec(text);
  if (!m) return perfNoCpu(b, start, e, text, out);
  out.taskStart = start;
  out.taskEnd = start + (m[1] as string).length;
  out.pid = Number(m[2]);
  out.cpu = Number(m[3]);
  const ts = m[4] as string;
  out.counter = !ts.includes('.');
  out.time = Number(ts);
  const tsEnd = start + (m.index ?? 0) + (m[0] as string).lastIndexOf(ts) + ts.length;
  return eventAfter(b, tsEnd + 1, e, out);
}

function perfNoCpu(b: Uint8Array, start: number, e: number, text: string, out: EventLine): boolean {
  const m = PERF_NO_CPU.exec(text);
  if (!m) return false;
  const comm = m[1] ?? '';
  out.taskStart = start;
  out.taskEnd = start + comm.length;
  out.pid = Number(m[3] ?? m[2] ?? 0);
  out.cpu = 0;
  const ts = m[4] as string;
  out.counter = false;
  out.time = Number(ts);
  const tsEnd = text.indexOf(`${ts}:`, comm.length) + ts.length;
  return eventAfter(b, start + tsEnd + 1, e, out);
}
