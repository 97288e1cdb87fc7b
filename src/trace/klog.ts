/**
 * Kernel log lines about swiotlb (docs/trace-formats.md §5; real lines in the log fixtures):
 * dmesg with or without timestamps, `dmesg -r` levels, caller ids, journal and syslog prefixes,
 * lines quoted in bug reports. Messages are found anywhere in the line, so any prefix works.
 *
 * Every "swiotlb buffer is full" format is read: the current "..., total T (slots), used U
 * (slots)", the old two-line "swiotlb buffer is full (sz: N bytes)" + "DMA: Out of SW-IOMMU
 * space for N bytes", and the oldest "DMA: Out of SW-IOMMU space for N bytes at device D".
 */
import { IO_TLB_SEGMENT_BYTES, IO_TLB_SIZE, nrSlots } from '../model/constants';
import { percent } from '../model/units';

export type LogMessageKind =
  | 'full'
  | 'out-of-space'
  | 'overflow'
  | 'sync-overflow'
  | 'no-pool'
  | 'invalid-sizes'
  | 'suppressed'
  | 'mapped'
  | 'area-num'
  | 'adjusted'
  | 'roundup'
  | 'mem-encrypt'
  | 'encryption-features'
  | 'cmdline'
  | 'version'
  | 'cpus'
  | 'pci-dma'
  | 'teardown';

/** One recognised message. */
export interface LogMessage {
  kind: LogMessageKind;
  line: number;
  /** The message text from the device prefix on (timestamps and log prefixes removed). */
  text: string;
  time?: number;
  /** "<driver> <device>" of a dev_printk message, or the device an old message names. */
  driver?: string;
  device?: string;
  /** full / out-of-space: bytes asked for; overflow: mapping size. */
  size?: number;
  total?: number;
  used?: number;
  /** overflow: address, mask, bus limit; "swiotlb" when the bounce buffer itself was out of reach. */
  addr?: number;
  mask?: number;
  busLimit?: number;
  overflowOf?: 'swiotlb' | 'dma';
  /** mapped: pool start and slots; adjusted/roundup: MB or slots; area-num: areas; cpus: CPUs; suppressed: count. */
  base?: number;
  nslabs?: number;
  value?: number;
  /** cmdline / version / encryption-features: the text. */
  detail?: string;
}

const TIME = /\[\s*(\d+)\.(\d+)\]/;
const DEV_PREFIX =
  /(?:^|[\s>*=:\]])([A-Za-z0-9_.-]+(?:[ ][A-Za-z0-9_.:/@+-]+)?): (?=swiotlb buffer is full|DMA: Out of SW-IOMMU|swiotlb addr|DMA addr|Buffer overflow detected|Invalid sizes|Can not allocate SWIOTLB)/;

/** "<driver> <PCI device>: " after a timestamp or at the start: which driver a device has. */
const DRIVER_PREFIX = /(?:^|\] |: )([a-z][a-z0-9_-]*) ([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]): /;

const RX = {
  full: /swiotlb buffer is full \(sz: (\d+) bytes?\)(?:,\s*total (\d+) \(slots\),\s*used (\d+) \(slots\))?/,
  fullTail: /^\s*total (\d+) \(slots\),\s*used (\d+) \(slots\)/,
  outOfSpace: /DMA: Out of SW-IOMMU space for (\d+) bytes(?: at device (\S+))?/,
  overflowNew: /(swiotlb|DMA) addr (0x[0-9a-fA-F]+)\+(\d+) overflow \(mask ([0-9a-fA-F]+), bus (?:limit|mask) ([0-9a-fA-F]+)\)/,
  overflowOld: /overflow (0x[0-9a-fA-F]+)\+(\d+) of (?:DMA|device) mask ([0-9a-fA-F]+) bus mask ([0-9a-fA-F]+)/,
  syncOverflow: /Buffer overflow detected\. Allocation size: (\d+)\. Mapping size: (\d+)/,
  noPool: /Can not allocate SWIOTLB buffer earlier/,
  invalid: /Invalid sizes \(mapping: (\d+) bytes, alloc: (\d+) bytes\)/,
  suppressed: /swiotlb_tbl_map_single: (\d+) callbacks suppressed/,
  mapped: /software IO TLB:? (?:mapped )?\[mem (0x[0-9a-fA-F]+)-(0x[0-9a-fA-F]+)\](?: \((\d+)MB\))?/,
  areaNum: /software IO TLB: area num (\d+)/,
  adjustedMB: /SWIOTLB bounce buffer size adjusted to (\d+)MB/,
  adjustedSlabs: /SWIOTLB bounce buffer size adjusted (\d+) -> (\d+) slabs/,
  roundup: /SWIOTLB bounce buffer size roundup to (\d+)MB/,
  memEncrypt: /Memory encryption is active and system is using DMA bounce buffers/,
  features: /Memory Encryption Features active:\s*(.*)$/,
  cmdline: /(?:Kernel command line|Command line): (.*)$/,
  version: /Linux version (\S+)(.*)$/,
  cpusAllowing: /smpboot: Allowing (\d+) CPUs/,
  cpusIds: /nr_cpu_ids:(\d+)/,
  pciDma: /PCI-DMA: Using software bounce buffering for IO \(SWIOTLB\)/,
  teardown: /software IO TLB: tearing down default memory pool/,
};

/** Quick filter: lines without any of these words carry nothing for us. */
const INTEREST =
  /swiotlb|SW-IOMMU|IO TLB|overflow|Invalid sizes|Memory [Ee]ncryption|ommand line|Linux version|smpboot: Allowing|nr_cpu_ids|PCI-DMA|SWIOTLB/;

function hex(s: string): number {
  return s.length <= 15
    ? Number.parseInt(s.replace(/^0x/i, ''), 16)
    : Number(BigInt(s.startsWith('0x') || s.startsWith('0X') ? s : `0x${s}`));
}

/** Parses the messages of a kernel log, line by line; a wrapped "full" message is joined. */
export class KernelLogParser {
  /** A "full" message that ended in ',' without its "total ... used ..." part. */
  private pendingFull: LogMessage | null = null;

  /** Device -> driver seen in dev_printk prefixes ("nvme 0000:00:03.0: ..."). */
  readonly drivers = new Map<string, string>();

  /** Returns the message on this line, or null. */
  parse(raw: string, line: number): LogMessage | null {
    const dp = DRIVER_PREFIX.exec(raw);
    if (dp && !this.drivers.has(dp[2] as string)) this.drivers.set(dp[2] as string, dp[1] as string);
    if (this.pendingFull) {
      const m = RX.fullTail.exec(raw);
      const p = this.pendingFull;
      this.pendingFull = null;
      if (m) {
        p.total = Number(m[1]);
        p.used = Number(m[2]);
        p.text += ` ${raw.trim()}`;
        return null;
      }
    }
    if (!INTEREST.test(raw)) return null;
    const tm = TIME.exec(raw);
    const time = tm ? Number(tm[1]) + Number(`0.${tm[2]}`) : undefined;
    const msg = this.classify(raw, line);
    if (msg && time !== undefined) msg.time = time;
    return msg;
  }

  private classify(raw: string, line: number): LogMessage | null {
    let m = RX.full.exec(raw);
    if (m) {
      const msg = this.withDevice(raw, { kind: 'full', line, text: '', size: Number(m[1]) }, m.index);
      if (m[2] !== undefined) {
        msg.total = Number(m[2]);
        msg.used = Number(m[3]);
      } else if (/,\s*$/.test(raw)) {
        this.pendingFull = msg;
      }
      return msg;
    }
    m = RX.outOfSpace.exec(raw);
    if (m) {
      const msg = this.withDevice(raw, { kind: 'out-of-space', line, text: '', size: Number(m[1]) }, m.index);
      if (m[2]) msg.device = m[2];
      return msg;
    }
    m = RX.overflowNew.exec(raw);
    if (m) {
      return this.withDevice(
        raw,
        {
          kind: 'overflow',
          line,
          text: '',
          overflowOf: m[1] === 'swiotlb' ? 'swiotlb' : 'dma',
          addr: hex(m[2] as string),
          size: Number(m[3]),
          mask: hex(m[4] as string),
          busLimit: hex(m[5] as string),
        },
        m.index,
      );
    }
    m = RX.overflowOld.exec(raw);
    if (m) {
      return this.withDevice(
        raw,
        {
          kind: 'overflow',
          line,
          text: '',
          overflowOf: 'dma',
          addr: hex(m[1] as string),
          size: Number(m[2]),
          mask: hex(m[3] as string),
          busLimit: hex(m[4] as string),
        },
        m.index,
      );
    }
    m = RX.syncOverflow.exec(raw);
    if (m) return this.withDevice(raw, { kind: 'sync-overflow', line, text: '', size: Number(m[2]), value: Number(m[1]) }, m.index);
    m = RX.noPool.exec(raw);
    if (m) return this.withDevice(raw, { kind: 'no-pool', line, text: '' }, m.index);
    m = RX.invalid.exec(raw);
    if (m) return this.withDevice(raw, { kind: 'invalid-sizes', line, text: '', size: Number(m[1]), value: Number(m[2]) }, m.index);
    m = RX.suppressed.exec(raw);
    if (m) return { kind: 'suppressed', line, text: textFrom(raw, m.index), value: Number(m[1]) };
    m = RX.mapped.exec(raw);
    if (m) {
      const start = hex(m[1] as string);
      const end = hex(m[2] as string);
      // 5.x+ prints the end exclusive, 4.x inclusive (...fff): both round to the slot count
      const nslabs = Math.round((end - start + 1) / IO_TLB_SIZE);
      return { kind: 'mapped', line, text: textFrom(raw, m.index), base: start, nslabs, ...(m[3] ? { value: Number(m[3]) } : {}) };
    }
    m = RX.areaNum.exec(raw);
    if (m) return { kind: 'area-num', line, text: textFrom(raw, m.index), value: Number(m[1]) };
    m = RX.adjustedSlabs.exec(raw);
    if (m) return { kind: 'adjusted', line, text: textFrom(raw, m.index), nslabs: Number(m[2]) };
    m = RX.adjustedMB.exec(raw);
    if (m) return { kind: 'adjusted', line, text: textFrom(raw, m.index), value: Number(m[1]) };
    m = RX.roundup.exec(raw);
    if (m) return { kind: 'roundup', line, text: textFrom(raw, m.index), value: Number(m[1]) };
    m = RX.memEncrypt.exec(raw);
    if (m) return { kind: 'mem-encrypt', line, text: textFrom(raw, m.index) };
    m = RX.features.exec(raw);
    if (m) return { kind: 'encryption-features', line, text: textFrom(raw, m.index), detail: (m[1] as string).trim() };
    m = RX.cmdline.exec(raw);
    if (m) return { kind: 'cmdline', line, text: textFrom(raw, m.index), detail: (m[1] as string).trim() };
    m = RX.version.exec(raw);
    if (m) return { kind: 'version', line, text: textFrom(raw, m.index), detail: releaseOf(m[1] as string, m[2] as string) };
    m = RX.cpusAllowing.exec(raw) ?? RX.cpusIds.exec(raw);
    if (m) return { kind: 'cpus', line, text: textFrom(raw, m.index), value: Number(m[1]) };
    m = RX.pciDma.exec(raw);
    if (m) return { kind: 'pci-dma', line, text: textFrom(raw, m.index) };
    m = RX.teardown.exec(raw);
    if (m) return { kind: 'teardown', line, text: textFrom(raw, m.index) };
    return null;
  }

  /** Adds "<driver> <device>: " when the message has one, and the message text from there. */
  private withDevice(raw: string, msg: LogMessage, at: number): LogMessage {
    const head = raw.slice(0, at);
    const d = DEV_PREFIX.exec(`${head.slice(-80)}${raw.slice(at, at + 40)}`);
    let textStart = at;
    if (d) {
      const parts = (d[1] as string).split(' ');
      if (parts.length === 2) {
        msg.driver = parts[0] as string;
        msg.device = parts[1] as string;
      } else {
        msg.device = parts[0] as string;
      }
      textStart = Math.max(0, at - (d[1] as string).length - 2);
    }
    msg.text = raw.slice(textStart).trim();
    return msg;
  }
}

function textFrom(raw: string, at: number): string {
  return raw.slice(at).trim();
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

/** What a "buffer is full" message says about the failure. */
export type FullCause = 'too-big' | 'no-pool' | 'exhausted' | 'fragmented' | 'alignment' | 'unknown';

export interface FullExplanation {
  cause: FullCause;
  /** One sentence for people. */
  text: string;
  /** Slots the request needed (from sz; the in-slot offset may add one before 6.10). */
  slots: number;
  freeSlots?: number;
  usedPercent?: number;
  /** The same device has an "overflow ... mask" line: it is limited by its DMA mask or bus. */
  maskLimited?: { mask: number; busLimit: number };
}

/**
 * Explains one "full" (or "Out of SW-IOMMU space") message. `pool` gives the slot count when
 * the message has none (old formats); `overflow` is the device's DMA-mask line, if the log has one.
 */
export function explainFull(msg: LogMessage, pool?: { nslabs: number }, overflow?: LogMessage): FullExplanation {
  const sz = msg.size ?? 0;
  const slots = nrSlots(sz);
  const total = msg.total ?? pool?.nslabs;
  const used = msg.used;
  const out: FullExplanation = { cause: 'unknown', text: '', slots };
  if (overflow?.mask !== undefined) out.maskLimited = { mask: overflow.mask, busLimit: overflow.busLimit ?? 0 };
  const maskNote = out.maskLimited
    ? ` The device's DMA mask is 0x${out.maskLimited.mask.toString(16)}${out.maskLimited.busLimit ? ` (bus limit 0x${out.maskLimited.busLimit.toString(16)})` : ''}: its buffers above that bounce; with a wider mask (or an IOMMU) it would not need the pool at all.`
    : '';
  if (sz > IO_TLB_SEGMENT_BYTES) {
    out.cause = 'too-big';
    if (total && used !== undefined) out.usedPercent = percent(used, total);
    const full = out.usedPercent !== undefined && out.usedPercent >= 90 ? ` (The pool was also ${out.usedPercent} % in use.)` : '';
    out.text = `${sz} bytes is above the 256 KiB ceiling (128 slots of 2 KiB): no pool size can satisfy it; the driver must keep mappings within dma_max_mapping_size().${full}${maskNote}`;
    return out;
  }
  if (msg.total === 0) {
    out.cause = 'no-pool';
    out.text = 'total 0 slots: there is no swiotlb pool (never set up, or torn down), so nothing can bounce.';
    return out;
  }
  if (total === undefined || used === undefined) {
    out.cause = 'unknown';
    out.text = `the message (an older kernel's format) does not say how full the pool was: ${slots} contiguous slots were not found${total ? ` in a pool of ${total} slots` : ''}; the pool was exhausted or fragmented.${maskNote}`;
    return out;
  }
  const free = total - used;
  out.freeSlots = free;
  out.usedPercent = percent(used, total);
  if (free < slots || used >= 0.95 * total) {
    out.cause = 'exhausted';
    out.text = `${used} of ${total} slots (${out.usedPercent} %) were in use: the pool was full${free >= slots ? ' (the few free slots were scattered)' : ''}. A bigger pool (swiotlb=) helps if this is a burst; if "used" keeps growing, mappings leak.${maskNote}`;
    return out;
  }
  if (used === 0 || free >= total - slots) {
    out.cause = 'alignment';
    out.text = `the pool was ${used === 0 ? 'empty' : 'almost empty'} and ${slots} slots still did not fit: an alignment rule (min_align_mask, the IOMMU granule's alloc_align_mask) or a segment boundary ruled out every run.${maskNote}`;
    return out;
  }
  out.cause = 'fragmented';
  out.text = `${free} slots were free (${out.usedPercent} % in use) but no run of ${slots} contiguous slots${slots === 128 ? ' (a whole free 128-slot segment)' : ''} fitted in one area: fragmentation, or alignment (min_align_mask) leaving holes.${maskNote}`;
  return out;
}
