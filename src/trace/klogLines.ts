/**
 * Kernel logs as people paste them, made back into the kernel's lines before they are parsed.
 *
 * Quoting is taken off each line: mail quotes (`> `, `> > `, `>>> `), commit-message quotes
 * (`  | `), markdown backticks, bold markers and code fences, HTML entities, non-breaking and
 * other unusual spaces. Lines that are only a markdown link or a URL (a GitHub attachment the
 * paste interleaved) are skipped.
 *
 * A message that a mail client, syslog or a forum wrapped is joined again when the general rule
 * holds: the line stops inside one of the kernel's messages (klogFormats.ts), or after nothing but
 * its prefix (`rtl8821ae 0000:02:00.0:`), and the next line carries no log prefix of its own
 * (timestamp, journal or syslog header) and goes on with that message. The words may have been cut
 * anywhere, at a space (`... of DMA` / `mask ffffffff ...`) or inside a word (`W` / `ARNING: CPU`).
 *
 * Streaming with a bounded look-ahead: one pending line and at most a few skipped link lines;
 * each logical line keeps the number of its first physical line (and its last).
 */
import { type CompiledFormat, FORMAT_KEYS, FORMATS, PRINTED_PREFIXES } from './klogFormats';

export interface LogicalLine {
  /** Unquoted text, whitespace runs made single spaces, continuations joined. */
  readonly text: string;
  /** First and last physical line (1-based). */
  readonly line: number;
  readonly endLine: number;
}

/** A physical line with its quoting removed. */
export interface UnquotedLine {
  readonly text: string;
  /** Carries nothing and does not interrupt a message (an interleaved link). */
  readonly filler: boolean;
  /** Ends any message (a code fence, a blank line). */
  readonly barrier: boolean;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+|#39);/g, (m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(Number.parseInt(e.slice(2), 16));
    if (e.startsWith('#') && e !== '#39') return String.fromCodePoint(Number(e.slice(1)));
    return ENTITIES[e] ?? m;
  });
}

/** Unicode spaces (NBSP, thin, ideographic ...) and zero-width characters pasted into logs. */
const ODD_SPACES = /[\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\t]/g;
const ZERO_WIDTH = /[\u200b-\u200d\u2060\ufeff]/g;
const QUOTE = /^\s*(?:>+|\|)(?=\s|$|>|\[|<)\s?/;
const LINK_ONLY = /^(?:!?\[[^\]]*\]\([^)\s]*\)|<?https?:\/\/\S+>?)$/;
const FENCE = /^(?:`{3,}|~{3,})/;

/** Anything to take off: entities, odd spaces or non-ASCII, quote or markdown marks at either end. */
const NEEDS_WORK = /[&<\t\u0080-\uffff]|^\s*[>|`*_~]|[`*_]\s*$/;
const ESC = String.fromCharCode(27);

/** Without the colour codes of `dmesg --color` and terminals (ESC [ digits ; ... letter). */
function stripAnsi(s: string): string {
  let out = '';
  let at = 0;
  for (let i = s.indexOf(ESC); i >= 0; i = s.indexOf(ESC, at)) {
    out += s.slice(at, i);
    let j = i + 1;
    if (s[j] === '[') {
      j++;
      while (j < s.length && /[0-9;]/.test(s[j] as string)) j++;
      if (j < s.length && /[A-Za-z]/.test(s[j] as string)) j++;
    }
    at = j;
  }
  return out + s.slice(at);
}
/** HTML a forum or mail archive left around or inside a line. */
const HTML_TAG = /<\/?(?:br|code|pre|p|span|div|tt|kbd|samp|b|i|strong|em|font)\b[^>]*>/gi;

export function unquoteLine(raw: string): UnquotedLine {
  // most lines of a log are plain: only trimmed
  if (!NEEDS_WORK.test(raw) && !raw.includes(ESC)) {
    const t = raw.trim();
    if (t === '') return { text: '', filler: false, barrier: true };
    return LINK_ONLY.test(t) ? { text: t, filler: true, barrier: false } : { text: t, filler: false, barrier: false };
  }
  let s = raw;
  if (s.includes(ESC)) s = stripAnsi(s);
  if (s.includes('<')) s = s.replace(HTML_TAG, ' ');
  if (s.includes('&')) s = decodeEntities(s);
  s = s.replace(ZERO_WIDTH, '').replace(ODD_SPACES, ' ');
  for (let i = 0; i < 8; i++) {
    const q = QUOTE.exec(s);
    if (!q) break;
    s = s.slice(q[0].length);
  }
  s = s.trim();
  if (FENCE.test(s)) return { text: '', filler: false, barrier: true };
  // markdown emphasis and inline code around a pasted line
  s = s
    .replace(/^(?:\*\*|__|`)+/, '')
    .replace(/(?:\*\*|__|`)+$/, '')
    .trim();
  if (s === '') return { text: '', filler: false, barrier: true };
  if (LINK_ONLY.test(s)) return { text: s, filler: true, barrier: false };
  return { text: s, filler: false, barrier: false };
}

/**
 * Where the message starts: after a dmesg level, timestamp and caller id, a journal or syslog
 * header ("Mar 16 18:11:41 host kernel:", ISO dates, French months), a shell prompt.
 */
const LOG_PREFIX = new RegExp(
  [
    '<\\d>\\s*',
    // dmesg -x: "kern  :warn  : "
    '(?:kern|user|daemon|syslog)\\s*:\\s*[a-z]+\\s*:\\s*',
    // dmesg, dmesg -d / -H ("[  +0.000123]", "[Mar 5 10:11]")
    '\\[\\s*\\+?\\d+\\.\\d+\\]\\s*',
    '\\[[A-Z][a-z]{2} ?\\d{1,2} \\d\\d:\\d\\d\\]\\s*',
    '\\[\\s*[TC]\\d+\\]\\s*',
    '\\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} +\\d+ [\\d:]{8} \\d{4}\\]\\s*',
    '[A-Za-z\\u00c0-\\u00ff]{3,5}\\.? +\\d{1,2},? +\\d{1,2}:\\d\\d:\\d\\d(?:\\.\\d+)? +\\S+ +(?:kernel(?:\\[\\d+\\])?: *)?',
    '(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) )?\\d{4}-\\d\\d-\\d\\d[T ]\\d\\d:\\d\\d:\\d\\d\\S*(?: [A-Z]{2,5})? +\\S+ +(?:kernel(?:\\[\\d+\\])?: *)?',
    // journalctl -o short-monotonic: "[ 4851.947037] host kernel: "
    '[\\w.-]+ +kernel(?:\\[\\d+\\])?: *',
    'kernel: *',
  ]
    .map((p) => `(?:${p})`)
    .join('|'),
  'y',
);
const PROMPT = /^(?:\S+@\S+[:~][^#$\s]*\s*[#$]|[#$])\s/;

/** Index where the message proper starts (0 when the line has no log prefix). */
export function messageStart(text: string): number {
  let at = 0;
  for (let i = 0; i < 6; i++) {
    LOG_PREFIX.lastIndex = at;
    const m = LOG_PREFIX.exec(text);
    if (!m || m[0].length === 0) break;
    at += m[0].length;
  }
  return at;
}

/** Does this line start with a log prefix of its own (so it is a record, not a continuation)? */
export function hasLogPrefix(text: string): boolean {
  return messageStart(text) > 0 || PROMPT.test(text);
}

/** The dev_printk prefix of a message, "<driver> <device>: " (and a caller's "name: "), or a pr_fmt one. */
const DEV_PREFIX = /^(?:[^\s:[\]]\S* )?[^\s[\]]+: (?:[a-z_]\w*: )?/;
const PR_PREFIX = new RegExp(`^(?:${PRINTED_PREFIXES.map((p) => p.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|')})`);

const MAX_PARTS = 8;
const MAX_FILLERS = 3;

/** An open message of `f` at `s` in `text`: its beginning runs to the end, it does not complete. */
function openAt(f: CompiledFormat, text: string, s: number): boolean {
  f.sticky.lastIndex = s;
  if (f.sticky.test(text)) return false;
  f.openSticky.lastIndex = s;
  return f.openSticky.test(text);
}

/** Does `f`, open at `s` in `a`, go on into `b` when they are joined with `sep`? */
function continues(f: CompiledFormat, a: string, sep: string, b: string, s: number): boolean {
  const x = a + sep + b;
  const seam = a.length + sep.length;
  f.sticky.lastIndex = s;
  const m = f.sticky.exec(x);
  if (m && s + m[0].length > seam) return true;
  f.openSticky.lastIndex = s;
  return f.openSticky.test(x);
}

/** Formats a line may stop in the middle of, with where each starts. */
function openFormats(text: string): { f: CompiledFormat; s: number }[] {
  const out: { f: CompiledFormat; s: number }[] = [];
  const ms = messageStart(text);
  const msg = text.slice(ms);
  for (const f of FORMATS) {
    let s = -1;
    if (f.firstWord && msg.length < f.firstWord.length && f.firstWord.startsWith(msg) && msg !== '') {
      // cut inside the message's first word, right at the start of the message
      s = ms;
    } else if (text.includes(f.key) || (f.firstWord !== null && text.includes(f.firstWord))) {
      const m = f.openAtEnd.exec(text);
      if (!m) continue;
      s = m.index;
      // a cut inside the first word only counts at the start of the message
      if (f.firstWord && !text.startsWith(f.firstWord, s) && s !== ms) continue;
    } else continue;
    if (openAt(f, text, s)) out.push({ f, s });
  }
  return out;
}

/** Does `b` start with one of the messages (whole, or cut at its end)? */
function startsMessage(b: string): boolean {
  for (const f of FORMATS) {
    if (!b.includes(f.key) && !(f.firstWord !== null && b.startsWith(f.firstWord))) continue;
    f.sticky.lastIndex = 0;
    if (f.sticky.test(b)) return true;
    f.openSticky.lastIndex = 0;
    if (f.openSticky.test(b)) return true;
  }
  return false;
}

/**
 * A message cut inside its "<driver> <device>: " prefix or right after it (`a` holds at most
 * those two words): does the joined text go on with a message?
 */
function prefixCut(a: string, ms: number, sep: string, b: string): boolean {
  const x = (a + sep + b).slice(ms);
  if (startsMessage(x)) return true;
  for (const d of [PR_PREFIX.exec(x), DEV_PREFIX.exec(x)])
    if (d && d[0].length >= a.length - ms && startsMessage(x.slice(d[0].length))) return true;
  return false;
}

/** The joined text of `a` and its continuation `b`, or null when `b` is not one. */
export function joinContinuation(a: string, b: string): string | null {
  if (b === '' || hasLogPrefix(b)) return null;
  const ms = messageStart(a);
  if (a.slice(ms).split(' ').length <= 3 && !FORMAT_KEYS.test(a)) {
    if (prefixCut(a, ms, a.length > ms ? ' ' : '', b)) return `${a} ${b}`;
    if (a.length > ms && prefixCut(a, ms, '', b)) return a + b;
  }
  for (const { f, s } of openFormats(a)) {
    if (continues(f, a, ' ', b, s)) return `${a} ${b}`;
    // cut inside a word: no space at the cut
    if (continues(f, a, '', b, s)) return a + b;
  }
  return null;
}

/** The pre-pass: physical lines in, logical lines out (see the file comment). */
export class LogLineJoiner {
  private pending: { text: string; line: number; endLine: number; parts: number } | null = null;
  private fillers = 0;

  constructor(private readonly emit: (l: LogicalLine) => void) {}

  push(raw: string, lineNo: number): void {
    const u = unquoteLine(raw);
    if (u.barrier) {
      this.flush();
      return;
    }
    if (u.filler) {
      if (this.pending && ++this.fillers > MAX_FILLERS) this.flush();
      return;
    }
    const p = this.pending;
    if (p && p.parts < MAX_PARTS) {
      const joined = joinContinuation(p.text, u.text);
      if (joined !== null) {
        p.text = joined;
        p.endLine = lineNo;
        p.parts++;
        this.fillers = 0;
        return;
      }
    }
    this.flush();
    this.pending = { text: u.text, line: lineNo, endLine: lineNo, parts: 1 };
  }

  /** Ends the pending message (a blank line, an event line, the end of the file). */
  flush(): void {
    const p = this.pending;
    this.pending = null;
    this.fillers = 0;
    if (p) this.emit({ text: p.text, line: p.line, endLine: p.endLine });
  }

  end(): void {
    this.flush();
  }
}
