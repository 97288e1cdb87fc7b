/**
 * A trace's first bytes: whether they are a trace at all, and which kinds of events it holds
 * (which decides how the analysis follows it).
 */
import { type ByteLineSink, ByteLineSplitter } from '../io/lineBytes';
import type { TraceLevel } from './analyzer';
import { EventParser } from './events';
import { EventLine, parseEventLine } from './ftrace';
import { BounceScan } from './poolStart';

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
  // the first bounce addresses, for a pool start no line names (poolStart.ts)
  const scan = new BounceScan();
  const parser = new EventParser(scan.sink, scan.devices);
  const sink: ByteLineSink = {
    line(b, s, e, lineNo) {
      if (!parseEventLine(b, s, e, ev)) return;
      parser.parse(b, ev, lineNo);
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
  if (level.dma && scan.hints.bounced > 0) level.bounces = scan.hints;
  return level;
}
