/**
 * What a file holds, told from its first bytes: one registry of sniffers, tried in order, each
 * naming the kind of input it recognises (and, for traces and logs, the file's role and how its
 * lines are read). A new format plugs in here and nowhere else: a sniffer for its head, and a
 * line reader for its `format` in trace/run.ts's LINE_READERS when it is not text.
 */
import { isTarHeader } from '../io/tar';
import { looksLikeText } from '../io/textCheck';
import { isTraceDat } from '../io/traceDat';
import { looksLikeTrace } from '../trace/census';

/** What a router run can start: a trace/log analysis, a replay, a scenario, driver source. */
export type RouteKind = 'text' | 'replay' | 'scenario' | 'source';

/** Roles of the files a trace/log analysis reads. */
export type InputRole =
  | 'trace'
  | 'log'
  | 'cmdline'
  | 'capture-json'
  | 'kprobe-profile'
  | 'debugfs'
  | 'devices'
  | 'ring-stats'
  | 'event-formats'
  | 'ignore';

/** The first bytes of a file, decompressed, with what is known about the rest. */
export interface Head {
  /** The path (or "archive.tar.gz:entry"); sniffers that go by name look at its last part. */
  readonly name: string;
  readonly bytes: Buffer;
  /** `bytes` is the whole content. */
  readonly whole: boolean;
}

export interface Sniffed {
  readonly kind: RouteKind | 'capture-archive';
  /** For kind 'text': what the file is to the analysis. */
  readonly role?: InputRole;
  /** How its lines are read (trace/run.ts LINE_READERS); default 'text'. */
  readonly format?: string;
  /** Why: shown when the kinds of several inputs disagree. */
  readonly reason: string;
  /** Nothing recognised it: the kind is a guess (a later check may refuse it). */
  readonly guess?: boolean;
  /** Not text and no format we read: why (a file given by name is refused, one in a folder skipped). */
  readonly refused?: string;
}

export interface Sniffer {
  readonly name: string;
  /** Inside a capture archive only the text roles count. */
  readonly inArchive: boolean;
  sniff(h: Head): Sniffed | null;
}

const base = (name: string) => name.replace(/^.*[\\/:]/, '');

/** Files the capture script writes, known by name (their content is plain text of any shape). */
const CAPTURE_FILES: Record<string, InputRole> = {
  'cmdline.txt': 'cmdline',
  'capture.json': 'capture-json',
  'kprobe_profile.txt': 'kprobe-profile',
  'debugfs.txt': 'debugfs',
  'devices.txt': 'devices',
  'ring_stats.txt': 'ring-stats',
  'event_formats.txt': 'event-formats',
  'kprobe_events.txt': 'ignore',
  'README.txt': 'ignore',
  'capture.log': 'ignore',
};

/** Text from the first non-blank character after a BOM, JSONC comments skipped. */
function jsonStart(b: Buffer): string {
  let t = b.toString('utf8').replace(/^\uFEFF/, '');
  for (;;) {
    t = t.trimStart();
    if (t.startsWith('//')) {
      const nl = t.indexOf('\n');
      if (nl < 0) return '';
      t = t.slice(nl + 1);
    } else if (t.startsWith('/*')) {
      const end = t.indexOf('*/');
      if (end < 0) return '';
      t = t.slice(end + 2);
    } else return t;
  }
}

export const SNIFFERS: readonly Sniffer[] = [
  {
    name: 'capture file',
    inArchive: true,
    sniff(h) {
      const role = CAPTURE_FILES[base(h.name).replace(/\.gz$/, '')];
      return role ? { kind: 'text', role, reason: `${base(h.name)} is a file of the capture script` } : null;
    },
  },
  {
    name: 'driver source',
    inArchive: false,
    sniff: (h) => (/\.(c|h)$/i.test(h.name) ? { kind: 'source', reason: 'C source' } : null),
  },
  {
    name: 'capture archive',
    inArchive: false,
    sniff: (h) =>
      h.bytes.length >= 512 && isTarHeader(h.bytes.subarray(0, 512)) ? { kind: 'capture-archive', reason: 'a tar archive' } : null,
  },
  {
    name: 'replay ops',
    inArchive: false,
    sniff(h) {
      // JSON Lines starting with an "init" op
      const first = jsonStart(h.bytes);
      return /^\{[^\n]*"op"\s*:\s*"init"/.test(first) ? { kind: 'replay', reason: 'replay ops (JSON Lines from an "init" op)' } : null;
    },
  },
  {
    name: 'scenario',
    inArchive: false,
    sniff(h) {
      // one JSON object (comments allowed) naming a workload; op lines are replay ops
      const t = jsonStart(h.bytes);
      if (!t.startsWith('{') || /^\{[^\n]*"op"\s*:/.test(t) || !/"workload"\s*:/.test(t)) return null;
      return { kind: 'scenario', reason: 'a scenario (a JSON object with a workload)' };
    },
  },
  {
    name: 'trace',
    inArchive: true,
    sniff: (h) => (looksLikeTrace(h.bytes) ? { kind: 'text', role: 'trace', reason: 'a kernel trace (ftrace or trace-cmd text)' } : null),
  },
  {
    name: 'trace.dat',
    inArchive: true,
    sniff: (h) =>
      isTraceDat(h.bytes) ? { kind: 'text', role: 'trace', format: 'trace.dat', reason: "trace-cmd's binary trace.dat" } : null,
  },
  {
    name: 'not text',
    inArchive: true,
    // binary data is never shown as a kernel log with nothing in it (io/textCheck.ts)
    sniff(h) {
      const t = looksLikeText(h.bytes);
      return t.text ? null : { kind: 'text', role: 'ignore', reason: t.reason, refused: t.reason };
    },
  },
  {
    name: 'kernel log',
    inArchive: true,
    // what no other sniffer took: text read as a kernel log (dmesg, journal)
    sniff: () => ({ kind: 'text', role: 'log', reason: 'text read as a kernel log', guess: true }),
  },
];

/** The first sniffer's answer for a head (inside an archive: text roles only). */
export function sniff(h: Head, inArchive = false): Sniffed {
  for (const s of SNIFFERS) {
    if (inArchive && !s.inArchive) continue;
    const r = s.sniff(h);
    if (r) return r;
  }
  // unreachable: the kernel log sniffer takes anything
  return { kind: 'text', role: 'log', reason: 'text', guess: true };
}
