/**
 * Kernel log lines about swiotlb (docs/trace-formats.md §5; real lines in the log fixtures):
 * dmesg with or without timestamps, `dmesg -r` levels, caller ids, journal and syslog prefixes,
 * lines quoted or wrapped in bug reports (the pre-pass in klogLines.ts). Every wording is in the
 * table of klogFormats.ts; messages are found anywhere in the line, so any prefix works.
 */
import { IO_TLB_SIZE } from '../model/constants';
import { type CompiledFormat, FORMAT_KEYS, FORMATS, type FormatField } from './klogFormats';
import { type LogicalLine, LogLineJoiner, messageStart, unquoteLine } from './klogLines';

export type LogMessageKind =
  | 'full'
  | 'out-of-space'
  | 'overflow'
  | 'sync-overflow'
  | 'no-pool'
  | 'invalid-sizes'
  | 'suppressed'
  | 'coherent-failed'
  | 'coherent-mask'
  | 'cannot-dma'
  | 'panic'
  | 'mapped'
  | 'area-num'
  | 'adjusted'
  | 'roundup'
  | 'alloc-limited'
  | 'alloc-failed'
  | 'restricted-pool'
  | 'mem-encrypt'
  | 'encryption-features'
  | 'cmdline'
  | 'version'
  | 'uname'
  | 'cpus'
  | 'pci-dma'
  | 'teardown'
  | 'cut-here'
  | 'warn'
  | 'warn-cpu'
  | 'hardware'
  | 'end-trace';

/** One recognised message. */
export interface LogMessage {
  kind: LogMessageKind;
  /** Which wording (klogFormats.ts id). */
  format: string;
  /** First physical line; `endLine` the last when the message was wrapped. */
  line: number;
  endLine?: number;
  /** The message text from the device prefix on (timestamps and log prefixes removed). */
  text: string;
  time?: number;
  /** "<driver> <device>" of a dev_printk message, or the device an old message names. */
  driver?: string;
  device?: string;
  /** Bytes asked for (full, out-of-space, coherent); overflow: mapping size. */
  size?: number;
  total?: number;
  used?: number;
  /** overflow: address, mask, bus limit; "swiotlb" when the bounce buffer itself was out of reach. */
  addr?: number;
  mask?: number;
  busLimit?: number;
  overflowOf?: 'swiotlb' | 'dma';
  /** mapped / restricted-pool: pool start and slots; adjusted/roundup/alloc-limited: MB or slots; area-num: areas; cpus: CPUs; suppressed: count. */
  base?: number;
  nslabs?: number;
  value?: number;
  /** cmdline / encryption-features / hardware: the text; version / warn-cpu / uname: the release; warn: file:line function. */
  detail?: string;
  /** warn: where the WARN fired. */
  where?: { file?: string; line?: number; func: string };
}

const TIME = /\[\s*(\d+)\.(\d+)\]/;

/** "<driver> <device>: " (and a function's "name: ") right before the message. */
const DEV_PREFIX = /(?:^|\s)(?:([^\s:[\]][^\s]*) )?([^\s[\]]+): (?:[a-z_][\w]*: )?$/;

/** "<driver> <PCI device>: " at the start of a message: which driver a device has. */
const DRIVER_PREFIX = /(?:^|\] |: )([a-z][a-z0-9_-]*) ([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]): /;
/** A driver naming the PCI function of its own device ("nvme nvme0: pci function 0000:00:03.0"). */
const PCI_FUNCTION = /(?:^|\] )([a-z][a-z0-9_-]*) [a-z][a-z0-9_-]*: pci function ([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])\s*$/;

function hex(s: string): number {
  return s.length <= 15
    ? Number.parseInt(s.replace(/^0x/i, ''), 16)
    : Number(BigInt(s.startsWith('0x') || s.startsWith('0X') ? s : `0x${s}`));
}

/** dev_printk prefixes of a bus's core code, not of the driver bound to the device ("pci 0000:00:03.0: BAR 0 ..."). */
const BUS_CORES = new Set(['pci', 'pci_bus', 'platform', 'acpi', 'usb', 'pnp', 'serio', 'i2c', 'spi', 'virtio']);

/** Parses the messages of a kernel log. */
export class KernelLogParser {
  /** Device -> driver seen in dev_printk prefixes ("nvme 0000:00:03.0: ..."). */
  readonly drivers = new Map<string, string>();

  /** The message on one physical line (quoting removed, no joining), or null. */
  parse(raw: string, line: number): LogMessage | null {
    const u = unquoteLine(raw);
    if (u.barrier || u.filler) return null;
    return this.parseLogical({ text: u.text, line, endLine: line });
  }

  /** The message of a logical line (klogLines.ts), or null. */
  parseLogical(l: LogicalLine): LogMessage | null {
    const text = l.text;
    const dp = DRIVER_PREFIX.exec(text) ?? PCI_FUNCTION.exec(text);
    if (dp) {
      // the bus core prints first (enumeration); the driver that binds prints its own name later
      const cur = this.drivers.get(dp[2] as string);
      if (cur === undefined || (BUS_CORES.has(cur) && !BUS_CORES.has(dp[1] as string))) this.drivers.set(dp[2] as string, dp[1] as string);
    }
    if (!FORMAT_KEYS.test(text)) return null;
    const ms = messageStart(text);
    for (const f of FORMATS) {
      if (!text.includes(f.key)) continue;
      const m = f.re.exec(text);
      if (!m) continue;
      const fields: Partial<Record<FormatField, string>> = {};
      f.fields.forEach((name, i) => {
        if (name !== 'skip' && m[i + 1] !== undefined) fields[name] = m[i + 1] as string;
      });
      if (f.where && !f.where(fields)) continue;
      const msg = build(f, fields, text, ms, m.index, l);
      const tm = TIME.exec(text.slice(0, m.index));
      if (tm) msg.time = Number(tm[1]) + Number(`0.${tm[2]}`);
      return msg;
    }
    return null;
  }

  /** The streaming pre-pass feeding this parser: push physical lines, get messages. */
  reader(onMessage: (m: LogMessage) => void): LogLineJoiner {
    return new LogLineJoiner((l) => {
      const m = this.parseLogical(l);
      if (m) onMessage(m);
    });
  }
}

function build(
  f: CompiledFormat,
  x: Partial<Record<FormatField, string>>,
  text: string,
  ms: number,
  at: number,
  l: LogicalLine,
): LogMessage {
  const msg: LogMessage = { kind: f.kind, format: f.id, line: l.line, text: '' };
  if (l.endLine !== l.line) msg.endLine = l.endLine;
  // the message from its device prefix, else from where the line's log prefix ends (a pr_fmt
  // prefix such as "swiotlb: " or "xen:swiotlb_xen: " belongs to it)
  let textStart = Math.min(ms, at);
  if (f.device === 'prefix') {
    const d = DEV_PREFIX.exec(text.slice(ms, at));
    if (d) {
      if (d[1]) msg.driver = d[1];
      msg.device = d[2] as string;
      textStart = ms + (d.index as number) + (d[0].startsWith(' ') ? 1 : 0);
    }
  } else if (f.device === 'arg' && x.device) {
    msg.device = x.device.replace(/[.,;]+$/, '');
  }
  msg.text = text.slice(textStart).trim();
  if (x.size !== undefined) msg.size = Number(x.size);
  if (x.total !== undefined) msg.total = Number(x.total);
  if (x.used !== undefined) msg.used = Number(x.used);
  if (x.addr !== undefined) msg.addr = hex(x.addr);
  if (x.mask !== undefined) msg.mask = hex(x.mask);
  if (x.busLimit !== undefined) msg.busLimit = hex(x.busLimit);
  if (x.value !== undefined) msg.value = Number(x.value);
  if (x.detail !== undefined) msg.detail = x.detail.trim();
  if (f.fixed?.detail) msg.detail = f.fixed.detail;
  const mb = x.mb !== undefined ? Number(x.mb) : undefined;
  switch (f.kind) {
    case 'overflow':
      msg.overflowOf = f.id === 'swiotlb-addr-overflow' ? 'swiotlb' : 'dma';
      break;
    case 'mapped': {
      const base = hex(x.base as string);
      msg.base = base;
      // 5.x+ prints the end exclusive, some 4.x inclusive (...fff): both round to the slot count
      if (x.end !== undefined) msg.nslabs = Math.round((hex(x.end) - base + 1) / IO_TLB_SIZE);
      else if (mb !== undefined) msg.nslabs = (mb << 20) / IO_TLB_SIZE;
      if (mb !== undefined) msg.value = mb;
      break;
    }
    case 'adjusted':
      if (f.id === 'adjusted-slabs') msg.nslabs = msg.value as number;
      else {
        msg.value = mb;
        // the size in MB the kernel settled on (a pool below 1 MB prints 0)
        if (mb) msg.nslabs = (mb << 20) / IO_TLB_SIZE;
      }
      break;
    case 'restricted-pool':
      msg.base = hex(x.base as string);
      msg.value = mb;
      msg.nslabs = ((mb ?? 0) << 20) / IO_TLB_SIZE;
      break;
    case 'roundup':
    case 'alloc-limited':
      msg.value = mb;
      if (mb) msg.nslabs = (mb << 20) / IO_TLB_SIZE;
      break;
    case 'version':
      msg.detail = releaseOf(x.release as string, x.detail ?? '');
      break;
    case 'warn-cpu':
    case 'uname':
      // the version string after the release: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1"
      msg.detail = releaseOf(x.release as string, `#${x.detail ?? ''}`);
      break;
    case 'warn':
      msg.where = {
        ...(x.file !== undefined ? { file: x.file } : {}),
        ...(x.srcLine !== undefined ? { line: Number(x.srcLine) } : {}),
        func: x.func as string,
      };
      msg.detail = `${x.file !== undefined ? `${x.file}:${x.srcLine} ` : ''}${x.func}`;
      break;
    default:
      break;
  }
  return msg;
}

/**
 * The upstream release from "Linux version 6.1.0-56-amd64 (...) #1 SMP PREEMPT_DYNAMIC Debian
 * 6.1.192-2": distributions number their packages apart from the kernel, so the "Debian X.Y.Z"
 * of the build string wins over the package release.
 */
export function releaseOf(release: string, rest: string): string {
  // the compiler's version ("gcc-12 (Debian 12.2.0-14)") comes first: take the build string's
  const deb = /#\d+\S* .*Debian (\d+\.\d+\.\d+)/.exec(rest);
  if (deb) return deb[1] as string;
  return release;
}
