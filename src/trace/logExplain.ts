/**
 * What a kernel log says, read as a kernel engineer reads it: messages of one device and one
 * event belong together (a failed map, the old second line "DMA: Out of SW-IOMMU space", the
 * coherent allocation behind it, dma-direct's overflow report of the same map, its WARN block),
 * and each event gets a cause (too big, pool exhausted, fragmentation or alignment, no pool, a
 * device limited by its mask, a bounce buffer beyond the mask, a driver bug) and whether any
 * swiotlb= size could have avoided it. Also what the log tells about the machine: the kernel
 * release (Linux version, a WARN's "CPU: ... Comm: ..." line, uname -a), the pool, memory
 * encryption, restricted pools.
 *
 * Streaming: messages are grouped as they come with a window of a few recent events; only the
 * first MAX_ENTRIES messages are kept for the report, every count covers the whole log.
 */
import { IO_TLB_SEGMENT_BYTES, nrSlots } from '../model/constants';
import { percent } from '../model/units';
import type { GeometryFacts } from './geometry';
import type { LogMessage } from './klog';

export type LogCause =
  | 'too-big'
  | 'exhausted'
  | 'fragmented'
  | 'alignment'
  | 'no-pool'
  | 'unknown'
  | 'mask-limited'
  | 'bounce-beyond-mask'
  | 'driver-bug';

export interface LogEntry {
  readonly file: string;
  readonly msg: LogMessage;
  /** The event this message belongs to (index into LogBook.events' ids), or null. */
  event: number | null;
  /** The event's cause and explanation, for the messages of failure events. */
  cause: LogCause | null;
  explanation: string | null;
  /** Could any swiotlb= size have avoided the event (null: the log cannot tell). */
  sizeHelps: boolean | null;
}

/** One failure (or warning) with all its lines. */
export interface LogEvent {
  readonly id: number;
  readonly file: string;
  device?: string;
  driver?: string;
  first: number;
  last: number;
  /** Indices of its messages in LogBook.entries (those kept). */
  readonly members: number[];
  full?: LogMessage;
  oos?: LogMessage;
  coherent?: LogMessage;
  coherentMask?: LogMessage;
  overflow?: LogMessage;
  cannotDma?: LogMessage;
  noPool?: LogMessage;
  invalid?: LogMessage;
  sync?: LogMessage;
  panic?: LogMessage;
  warn?: { line: number; at?: string; release?: string };
  cause: LogCause | null;
  sizeHelps: boolean | null;
  /** A failed map or allocation (not only a warning). */
  failure: boolean;
}

export interface LogDevice {
  name: string;
  driver: string | null;
  messages: number;
  failures: number;
  by_cause: Record<string, number>;
  overflows: number;
  mask_limited: number;
  bounce_beyond_mask: number;
  dma_mask: string | null;
  bus_dma_limit: string | null;
  coherent_failures: number;
  largest_request: number;
  first_line: number;
}

export interface MemEncrypt {
  /** The features the kernel named ("AMD SEV SEV-ES SEV-SNP", "Intel TDX", "SME"), if a line names them. */
  features: string | null;
  /** A confidential guest (every streaming mapping bounces), a host with SME (some do), or unknown. */
  guest: boolean | null;
  source: string;
}

const MAX_ENTRIES = 10_000;
const MAX_DEVICES = 1000;
/** Lines between a message and its partner (the old second line, the overflow report, ...). */
const PARTNER_LINES = 3;
/** A WARN block's header lines come within this many lines of its message. */
const WARN_LINES = 4;
/** ... and its dump_stack lines within this many. */
const WARN_BLOCK_LINES = 60;
const WINDOW = 4;
const BLOCK_KINDS = new Set(['cut-here', 'warn', 'warn-cpu', 'hardware']);

const hex = (n: number) => `0x${n.toString(16)}`;

/** What a "buffer is full" (or "Out of SW-IOMMU space") message says about the failure. */
export interface FullExplanation {
  cause: LogCause;
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
  const sz = msg.size;
  const slots = nrSlots(sz ?? 0);
  const total = msg.total ?? pool?.nslabs;
  const used = msg.used;
  const out: FullExplanation = { cause: 'unknown', text: '', slots };
  if (overflow?.mask !== undefined) out.maskLimited = { mask: overflow.mask, busLimit: overflow.busLimit ?? 0 };
  const maskNote = out.maskLimited
    ? ` The device's DMA mask is 0x${out.maskLimited.mask.toString(16)}${out.maskLimited.busLimit ? ` (bus limit 0x${out.maskLimited.busLimit.toString(16)})` : ''}: its buffers above that bounce; with a wider mask (or an IOMMU) it would not need the pool at all.`
    : '';
  if (sz === undefined) {
    out.text = `the message (an older kernel's, without the size) does not say how big the request was or how full the pool was.${maskNote}`;
    return out;
  }
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

/** Which of the device's limits an overflow line's buffer exceeds, in words. */
export function overflowLimit(m: LogMessage): { beyondMask: boolean; beyondBus: boolean; words: string } {
  const end = (m.addr ?? 0) + Math.max(1, m.size ?? 1) - 1;
  const mask = m.mask;
  const bus = m.busLimit ?? 0;
  const beyondMask = mask !== undefined && end > mask;
  const beyondBus = bus > 0 && end > bus;
  const maskW = mask !== undefined ? `DMA mask ${hex(mask)}` : 'DMA mask';
  const words =
    beyondMask && beyondBus
      ? `${maskW} and its bus limit ${hex(bus)}`
      : beyondMask
        ? `${maskW}${bus ? ` (bus limit ${hex(bus)})` : ''}`
        : beyondBus
          ? `bus limit ${hex(bus)} (it is within the ${maskW}: the bus, not the device, is the limit)`
          : `reach (${maskW}${bus ? `, bus limit ${hex(bus)}` : ''})`;
  return { beyondMask, beyondBus, words };
}

/** The kernels that print an overflow line in this wording, and what its absence of a bounce means. */
function overflowEra(m: LogMessage): 'check-addr' | 'report-addr' | 'dma-addr' | 'swiotlb-addr' {
  if (m.format.startsWith('overflow-device')) return 'check-addr';
  if (m.format === 'dma-addr-overflow') return 'dma-addr';
  if (m.format === 'swiotlb-addr-overflow') return 'swiotlb-addr';
  return 'report-addr';
}

function sizeHelpsFor(cause: LogCause, size: number | undefined): boolean | null {
  switch (cause) {
    case 'too-big':
    case 'alignment':
    case 'bounce-beyond-mask':
    case 'driver-bug':
      return false;
    case 'exhausted':
    case 'fragmented':
      return true;
    default:
      return size !== undefined && size > IO_TLB_SEGMENT_BYTES ? false : null;
  }
}

const sameDevice = (a: string | undefined, b: string | undefined) => a === undefined || b === undefined || a === b;

/** The messages of a log, grouped into events, with causes, counts, devices and machine facts. */
export class LogBook {
  readonly entries: LogEntry[] = [];
  dropped = 0;
  readonly events: LogEvent[] = [];
  eventsDropped = 0;
  fullMessages = 0;
  tooBig = 0;
  overflowMessages = 0;
  outOfSpaceMessages = 0;
  suppressed = 0;
  maskLimited = 0;
  bounceBeyondMask = 0;
  coherentMessages = 0;
  coherentFailures = 0;
  failures = 0;
  readonly byCause = new Map<LogCause, number>();
  /** Failures a swiotlb= size cannot help, and those it can or may. */
  private sizeCannot = 0;
  memEncrypt: MemEncrypt | null = null;
  readonly restrictedPools: { base: string; nslabs: number; source: string }[] = [];
  allocLimited: { mb: number; source: string } | null = null;
  /** Where the release came from: 3 Linux version, 2 a WARN header, 1 uname. */
  private releaseRank = 0;
  private readonly devices = new Map<string, LogDevice>();
  private window: LogEvent[] = [];
  /** An open WARN block: the event it is about (null until its message comes) and its lines so far. */
  private block: { event: LogEvent | null; line: number; lines: number[] } | null = null;
  private file = '';
  private nextId = 0;

  /** Adds a message (in file order) and notes what it says about the machine in `facts`. */
  add(file: string, msg: LogMessage, facts?: GeometryFacts): void {
    if (file !== this.file) {
      this.closeAll();
      this.file = file;
    }
    if (facts) this.noteFacts(file, msg, facts);
    this.count(msg);
    let index = -1;
    if (this.entries.length < MAX_ENTRIES) {
      index = this.entries.length;
      this.entries.push({ file, msg, event: null, cause: null, explanation: null, sizeHelps: null });
    } else this.dropped++;
    const ev = this.place(msg);
    if (!ev && index >= 0 && this.block?.event === null && BLOCK_KINDS.has(msg.kind)) this.block.lines.push(index);
    if (ev) {
      if (index >= 0) {
        ev.members.push(index);
        (this.entries[index] as LogEntry).event = ev.id;
      }
      ev.last = Math.max(ev.last, msg.endLine ?? msg.line);
      if (!ev.device && msg.device) ev.device = msg.device;
      if (!ev.driver && msg.driver) ev.driver = msg.driver;
    }
    if (msg.device) this.device(msg).messages++;
  }

  private count(msg: LogMessage): void {
    switch (msg.kind) {
      case 'full':
        this.fullMessages++;
        if ((msg.size ?? 0) > IO_TLB_SEGMENT_BYTES) this.tooBig++;
        break;
      case 'out-of-space':
        this.outOfSpaceMessages++;
        break;
      case 'overflow':
        this.overflowMessages++;
        if (msg.overflowOf === 'swiotlb') this.bounceBeyondMask++;
        else this.maskLimited++;
        break;
      case 'suppressed':
        this.suppressed += msg.value ?? 0;
        break;
      case 'coherent-failed':
        this.coherentMessages++;
        break;
      default:
        break;
    }
  }

  private newEvent(msg: LogMessage): LogEvent {
    const ev: LogEvent = {
      id: this.nextId++,
      file: this.file,
      first: msg.line,
      last: msg.endLine ?? msg.line,
      members: [],
      cause: null,
      sizeHelps: null,
      failure: false,
      ...(msg.device ? { device: msg.device } : {}),
      ...(msg.driver ? { driver: msg.driver } : {}),
    };
    this.window.push(ev);
    if (this.window.length > WINDOW) this.close(this.window.shift() as LogEvent);
    return ev;
  }

  /** The latest event, if it ended within `lines` lines of `msg`. */
  private latest(msg: LogMessage, lines: number): LogEvent | undefined {
    const ev = this.window[this.window.length - 1];
    return ev && msg.line - ev.last <= lines ? ev : undefined;
  }

  /** Which event a message belongs to (a new one, an open one, or none). */
  private place(msg: LogMessage): LogEvent | null {
    const prev = this.latest(msg, PARTNER_LINES);
    switch (msg.kind) {
      case 'full': {
        const ev = this.newEvent(msg);
        ev.full = msg;
        return ev;
      }
      case 'out-of-space': {
        // the second line of an old two-line report, or the oldest kernels' only line
        if (prev?.full && !prev.oos && prev.full.size === msg.size && sameDevice(prev.device, msg.device) && msg.line - prev.last <= 2) {
          prev.oos = msg;
          return prev;
        }
        const ev = this.newEvent(msg);
        ev.oos = msg;
        this.fullMessages++;
        if ((msg.size ?? 0) > IO_TLB_SEGMENT_BYTES) this.tooBig++;
        return ev;
      }
      case 'panic':
        if (prev && (prev.oos || prev.full) && !prev.panic) {
          prev.panic = msg;
          return prev;
        }
        return null;
      case 'coherent-failed': {
        if (
          prev &&
          !prev.coherent &&
          (((prev.full || prev.oos) && sameSize(prev.full ?? prev.oos, msg)) || prev.coherentMask) &&
          sameDevice(prev.device, msg.device)
        ) {
          prev.coherent = msg;
          return prev;
        }
        const ev = this.newEvent(msg);
        ev.coherent = msg;
        return ev;
      }
      case 'coherent-mask': {
        const ev = this.newEvent(msg);
        ev.coherentMask = msg;
        return ev;
      }
      case 'overflow': {
        // 5.0-5.6: dma-direct reports the map that swiotlb could not bounce
        if (
          msg.overflowOf === 'dma' &&
          prev &&
          !prev.overflow &&
          (prev.full || prev.oos || prev.cannotDma) &&
          sameDevice(prev.device, msg.device) &&
          sameSize(prev.full ?? prev.oos, msg)
        ) {
          prev.overflow = msg;
          this.bindBlock(prev, msg);
          return prev;
        }
        const ev = this.newEvent(msg);
        ev.overflow = msg;
        this.bindBlock(ev, msg);
        return ev;
      }
      case 'cannot-dma': {
        const ev = this.newEvent(msg);
        ev.cannotDma = msg;
        return ev;
      }
      case 'no-pool': {
        const ev = this.newEvent(msg);
        ev.noPool = msg;
        return ev;
      }
      case 'invalid-sizes': {
        const ev = this.newEvent(msg);
        ev.invalid = msg;
        this.bindBlock(ev, msg);
        return ev;
      }
      case 'sync-overflow': {
        const ev = this.newEvent(msg);
        ev.sync = msg;
        this.bindBlock(ev, msg);
        return ev;
      }
      case 'cut-here':
        // x86 prints the message of a dev_WARN after this line, report_addr() before it
        this.block = { event: this.warnable(msg, WARN_LINES, false) ?? null, line: msg.line, lines: [] };
        return this.block.event;
      case 'warn': {
        if (!this.block || msg.line - this.block.line > WARN_LINES)
          this.block = { event: this.warnable(msg, WARN_LINES, false) ?? null, line: msg.line, lines: [] };
        this.block.line = msg.line;
        const ev = this.block.event;
        if (ev) ev.warn = { ...ev.warn, line: ev.warn?.line ?? msg.line, at: msg.detail as string };
        else this.pendingWarn = msg.detail as string;
        return ev;
      }
      case 'warn-cpu':
      case 'hardware':
      case 'end-trace': {
        let ev: LogEvent | null = null;
        if (this.block && msg.line - this.block.line <= WARN_BLOCK_LINES) ev = this.block.event;
        else if (msg.kind === 'warn-cpu') {
          // a dump_stack header without the WARN line (cut from the paste)
          ev = this.warnable(msg, PARTNER_LINES, true) ?? null;
          this.block = { event: ev, line: msg.line, lines: [] };
        }
        if (ev && msg.kind === 'warn-cpu') ev.warn = { ...ev.warn, line: ev.warn?.line ?? msg.line, release: msg.detail as string };
        if (msg.kind === 'end-trace') this.block = null;
        return ev;
      }
      default:
        return null;
    }
  }

  /** A WARN's "WARNING:" line seen before the message it is about (arm prints it first). */
  private pendingWarn: string | null = null;

  /**
   * The latest event a WARN block that starts now is about: its message came just before (x86
   * prints report_addr()'s line, then the WARN). A "buffer is full" does not WARN itself; a
   * dump_stack header right after one (a paste without the WARN line) is taken as its.
   */
  private warnable(msg: LogMessage, lines: number, orFull: boolean): LogEvent | undefined {
    const ev = this.latest(msg, lines);
    return ev && !ev.warn && (ev.overflow || ev.sync || ev.invalid || (orFull && ev.full)) ? ev : undefined;
  }

  /** A message right after "cut here" / "WARNING:" lines that were not yet bound to an event. */
  private bindBlock(ev: LogEvent, msg: LogMessage): void {
    if (this.block && this.block.event === null && msg.line - this.block.line <= WARN_LINES) {
      this.block.event = ev;
      // the block's lines before the message (arm prints "cut here" and "WARNING:" first)
      for (const i of this.block.lines) {
        const e = this.entries[i] as LogEntry;
        e.event = ev.id;
        ev.members.push(i);
        ev.first = Math.min(ev.first, e.msg.line);
      }
      this.block.lines = [];
      ev.members.sort((x, y) => x - y);
      if (this.pendingWarn) ev.warn = { line: this.block.line, at: this.pendingWarn };
      else ev.warn = { line: this.block.line };
    }
    this.pendingWarn = null;
  }

  private device(msg: { device?: string; driver?: string; line: number }): LogDevice {
    const name = msg.device as string;
    let d = this.devices.get(name);
    if (!d) {
      d = {
        name,
        driver: msg.driver ?? null,
        messages: 0,
        failures: 0,
        by_cause: {},
        overflows: 0,
        mask_limited: 0,
        bounce_beyond_mask: 0,
        dma_mask: null,
        bus_dma_limit: null,
        coherent_failures: 0,
        largest_request: 0,
        first_line: msg.line,
      };
      if (this.devices.size < MAX_DEVICES) this.devices.set(name, d);
    }
    if (!d.driver && msg.driver) d.driver = msg.driver;
    return d;
  }

  /** Decides an event's cause once no more of its lines can come. */
  private close(ev: LogEvent): void {
    const size = (ev.full ?? ev.oos ?? ev.coherent ?? ev.overflow)?.size;
    let cause: LogCause | null = null;
    const primary = ev.full ?? ev.oos;
    if (primary) cause = explainFull(mergedFull(ev) as LogMessage).cause;
    else if (ev.coherentMask) cause = 'bounce-beyond-mask';
    else if (ev.coherent) cause = (size ?? 0) > IO_TLB_SEGMENT_BYTES ? 'too-big' : 'unknown';
    else if (ev.overflow) {
      const era = overflowEra(ev.overflow);
      cause =
        era === 'swiotlb-addr'
          ? 'bounce-beyond-mask'
          : ev.cannotDma || era === 'check-addr' || era === 'dma-addr'
            ? 'no-pool'
            : 'mask-limited';
    } else if (ev.cannotDma || ev.noPool) cause = 'no-pool';
    else if (ev.invalid || ev.sync) cause = 'driver-bug';
    ev.cause = cause;
    ev.sizeHelps = cause ? sizeHelpsFor(cause, size) : null;
    ev.failure = !!(primary || ev.coherent || ev.coherentMask || ev.overflow || ev.cannotDma || ev.noPool || ev.invalid);
    if (this.events.length < MAX_ENTRIES) this.events.push(ev);
    else this.eventsDropped++;
    if (!ev.failure || !cause) return;
    this.failures++;
    this.byCause.set(cause, (this.byCause.get(cause) ?? 0) + 1);
    if (ev.sizeHelps === false) this.sizeCannot++;
    if (primary && ev.coherent) this.coherentFailures++;
    if (ev.device) {
      const d = this.device({ device: ev.device, ...(ev.driver ? { driver: ev.driver } : {}), line: ev.first });
      d.failures++;
      d.by_cause[cause] = (d.by_cause[cause] ?? 0) + 1;
      if (primary && ev.coherent) d.coherent_failures++;
      const req = size ?? 0;
      if (req > d.largest_request) d.largest_request = req;
    }
  }

  private closeAll(): void {
    for (const ev of this.window) this.close(ev);
    this.window = [];
    this.block = null;
    this.pendingWarn = null;
  }

  /** After the last message: closes the open events and explains every message (the pool is known now). */
  finish(pool?: { nslabs: number }): void {
    this.closeAll();
    const byId = new Map(this.events.map((e) => [e.id, e]));
    // a device's mask from any of its overflow lines
    const overflowOf = new Map<string, LogMessage>();
    for (const e of this.entries) {
      const m = e.msg;
      if (m.kind !== 'overflow' || !m.device) continue;
      if (!overflowOf.has(m.device)) overflowOf.set(m.device, m);
      const d = this.devices.get(m.device);
      if (!d) continue;
      d.overflows++;
      if (m.overflowOf === 'swiotlb') d.bounce_beyond_mask++;
      else d.mask_limited++;
      if (m.mask !== undefined && d.dma_mask === null) d.dma_mask = hex(m.mask);
      if (m.busLimit && d.bus_dma_limit === null) d.bus_dma_limit = hex(m.busLimit);
    }
    for (const e of this.entries) {
      const ev = e.event !== null ? byId.get(e.event) : undefined;
      if (!ev?.failure && e.msg.kind !== 'sync-overflow' && e.msg.kind !== 'panic') continue;
      if (!ev) continue;
      e.cause = ev.cause;
      e.sizeHelps = ev.sizeHelps;
      e.explanation = explainInEvent(e.msg, ev, pool, ev.device ? overflowOf.get(ev.device) : undefined);
    }
  }

  /** No swiotlb= size can avoid any of the logged failures (false when there are none). */
  get noSizeHelps(): boolean {
    return this.failures > 0 && this.sizeCannot === this.failures;
  }

  /** Every device the log names, with what it did. */
  deviceList(): LogDevice[] {
    return [...this.devices.values()].sort((a, b) => a.first_line - b.first_line);
  }

  /** The release of a log message, if it is better than what the facts have. */
  private noteRelease(msg: LogMessage, where: string, facts: GeometryFacts): void {
    const rank = msg.kind === 'version' ? 3 : msg.kind === 'warn-cpu' ? 2 : 1;
    // a Linux version line always wins (the last one: the boot the log ends with); otherwise the first
    if (!msg.detail || rank < this.releaseRank || (rank === this.releaseRank && rank < 3)) return;
    if (rank < 3 && facts.release !== undefined && this.releaseRank === 0) return;
    this.releaseRank = rank;
    facts.release = msg.detail;
    facts.releaseAt =
      msg.kind === 'version'
        ? `log "Linux version" (${where})`
        : msg.kind === 'warn-cpu'
          ? `log "${msg.text.slice(0, 40)}..." (${where})`
          : `uname -a (${where})`;
  }

  private noteFacts(file: string, msg: LogMessage, f: GeometryFacts): void {
    const where = `${file}:${msg.line}`;
    switch (msg.kind) {
      case 'mapped':
        if (f.mappedBase === undefined) {
          f.mappedBase = msg.base as number;
          f.mappedNslabs = msg.nslabs as number;
          f.mappedAt = `log "mapped [mem ...]" (${where})`;
        }
        break;
      case 'area-num':
        f.areaNum = msg.value as number;
        f.areaNumAt = `log "area num" (${where})`;
        break;
      case 'adjusted':
      case 'roundup':
      case 'alloc-limited':
        if (msg.kind === 'alloc-limited') this.allocLimited = { mb: msg.value as number, source: where };
        // the size the pool got when no "mapped" line says it: boot prints these in the order the
        // size was decided (adjusted for encryption, rounded up for the areas, halved or limited
        // when memory was short), so the last one holds
        if (msg.nslabs !== undefined && msg.format !== 'xen-lowering') {
          f.adjustedSlabs = msg.nslabs;
          f.adjustedAt = `log "${msg.text.slice(0, 100)}" (${where})`;
        }
        break;
      case 'restricted-pool':
        if (this.restrictedPools.length < 100)
          this.restrictedPools.push({ base: hex(msg.base as number), nslabs: msg.nslabs as number, source: where });
        break;
      case 'cmdline':
        if (f.cmdline === undefined || file.endsWith('cmdline.txt')) {
          f.cmdline = msg.detail as string;
          f.cmdlineAt = `command line (${where})`;
        }
        break;
      case 'version':
      case 'warn-cpu':
      case 'uname':
        this.noteRelease(msg, where, f);
        break;
      case 'cpus':
        f.possibleCpus = msg.value as number;
        f.possibleCpusAt = `log "${msg.text.slice(0, 40)}" (${where})`;
        break;
      case 'mem-encrypt':
      case 'encryption-features': {
        const features = msg.detail ?? this.memEncrypt?.features ?? null;
        const guest = features === null ? null : /SEV|TDX|CCA|Realm/i.test(features) ? true : /SME/.test(features) ? false : null;
        this.memEncrypt = { features, guest, source: this.memEncrypt?.source ?? where };
        // SME alone (a host) bounces only for devices that cannot address the encryption bit
        if (guest === true || (guest === null && msg.kind === 'mem-encrypt')) f.memEncrypt = true;
        break;
      }
      default:
        break;
    }
  }

  /** What the log lets one conclude (for the report). */
  conclusions(): string[] {
    const out: string[] = [];
    const me = this.memEncrypt;
    if (me?.guest === false) {
      out.push(
        `Memory encryption is active on a host (${me.features}): devices that cannot address the encryption bit bounce through the pool; the others map directly.`,
      );
    } else if (me) {
      out.push(
        `Memory encryption is active (a confidential guest: SEV, TDX, CCA${me.features ? `; the kernel names ${me.features}` : ''}): every streaming DMA mapping bounces through the pool, which the kernel sizes at 6 % of RAM (64 MiB ... 1 GiB) unless swiotlb= says otherwise.`,
      );
    }
    if (this.bounceBeyondMask > 0)
      out.push(
        `${this.bounceBeyondMask} map(s) got a bounce buffer the device itself cannot reach ("swiotlb addr ... overflow"): the pool lies above the device's limit, so no swiotlb= size helps; the pool must be allocated low, or the device needs a wider mask or an IOMMU.`,
      );
    const limited = this.deviceList().filter((d) => d.mask_limited > 0);
    if (limited.length)
      out.push(
        `Limited by their DMA mask or bus limit: ${limited.map((d) => `${d.driver ? `${d.driver} ` : ''}${d.name} (${d.dma_mask ?? '?'}${d.bus_dma_limit ? `, bus ${d.bus_dma_limit}` : ''})`).join(', ')}: their buffers above that must bounce.`,
      );
    if (this.noSizeHelps) out.push(`No swiotlb= size can avoid any of the ${this.failures} logged failure(s): ${causeList(this.byCause)}.`);
    if (this.suppressed > 0)
      out.push(
        `${this.suppressed} further message(s) were rate-limited ("callbacks suppressed"): the log under-counts the failures; a trace of the swiotlb events counts them all.`,
      );
    const orphans = this.coherentMessages - this.coherentFailures;
    if (orphans > 0 && this.coherentFailures > 0)
      out.push(
        `${orphans} "coherent allocation failed" line(s) have no "buffer is full" line before them: rate-limited (printk_ratelimit) or outside the excerpt.`,
      );
    if (this.allocLimited)
      out.push(
        `The pool got only ${this.allocLimited.mb} MB at boot ("only able to allocate", ${this.allocLimited.source}): it fills quickly under I/O.`,
      );
    for (const r of this.restrictedPools.slice(0, 5))
      out.push(
        `A restricted DMA pool of ${r.nslabs} slots at ${r.base} (${r.source}): the devices assigned to it in the device tree bounce every mapping through it, not through the default pool.`,
      );
    return out;
  }
}

function causeList(m: Map<LogCause, number>): string {
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
}

function sameSize(a: LogMessage | undefined, b: LogMessage): boolean {
  return a?.size === undefined || b.size === undefined || a.size === b.size;
}

/** The event's failure as one message: the old two-line form's size with the counts of either line. */
function mergedFull(ev: LogEvent): LogMessage | undefined {
  const f = ev.full ?? ev.oos;
  if (!f) return undefined;
  return f.size === undefined && ev.oos?.size !== undefined ? { ...f, size: ev.oos.size } : f;
}

function who(ev: LogEvent): string {
  return ev.device ? `${ev.driver ? `${ev.driver} ` : ''}${ev.device}` : 'the device';
}

/** What one message means within its event. */
function explainInEvent(msg: LogMessage, ev: LogEvent, pool: { nslabs: number } | undefined, overflow?: LogMessage): string {
  const primary = mergedFull(ev);
  const full = primary ? explainFull(primary, pool, overflow) : undefined;
  const sizeNote = (size: number | undefined) =>
    size !== undefined && size > IO_TLB_SEGMENT_BYTES
      ? ` Its ${size} bytes are above the 256 KiB ceiling (128 slots): even a bounce could not have served it, so no swiotlb= size helps.`
      : '';
  const overflowText = (m: LogMessage) => {
    const lim = overflowLimit(m);
    const buf = `${m.addr !== undefined ? hex(m.addr) : 'the buffer'}+${m.size ?? '?'}`;
    if (full)
      return `dma-direct's report of the same map, after swiotlb could not bounce it (${full.cause}, see the "buffer is full" line before it): ${buf} is beyond the device's ${lim.words}, which is why it had to bounce.`;
    switch (overflowEra(m)) {
      case 'swiotlb-addr':
        return `The bounce buffer swiotlb gave it, ${buf}, is itself beyond the device's ${lim.words}: the pool sits above what the device can address, so bouncing cannot help and no swiotlb= size helps. The pool must be allocated low (below the device's limit), or the device needs a wider mask or an IOMMU.`;
      case 'dma-addr':
        return `${buf} is beyond the device's ${lim.words} and there is no swiotlb pool for it to bounce through (none set up for this device, or swiotlb=noforce): the map fails with DMA_MAPPING_ERROR. Set up a pool, widen the mask or use an IOMMU.${sizeNote(m.size)}`;
      case 'check-addr':
        return `dma-direct (this device maps without swiotlb) cannot map ${buf}: it is beyond the device's ${lim.words}. A kernel with swiotlb for this device would bounce it; a wider mask or an IOMMU avoids it.${sizeNote(m.size)}`;
      default:
        return ev.cannotDma
          ? `dma-direct's report of the map swiotlb=noforce refused to bounce: ${buf} is beyond the device's ${lim.words}.`
          : `dma-direct could not map ${buf}: it is beyond the device's ${lim.words}, and no bounce buffer was got for it (no "buffer is full" line before it: swiotlb was not in use for the device, its message was rate-limited, or the bounce buffer was itself out of reach, which these kernels do not log).${sizeNote(m.size)}`;
    }
  };
  const summary = () => {
    if (full) return `${who(ev)} could not get a bounce buffer for ${primary?.size ?? 'a'} bytes: ${full.text}`;
    if (ev.overflow) return overflowText(ev.overflow);
    if (ev.coherentMask) return coherentMaskText(ev.coherentMask);
    if (ev.coherent) return coherentText(ev.coherent, false);
    if (ev.cannotDma) return cannotDmaText(ev.cannotDma);
    if (ev.noPool) return noPoolText;
    if (ev.invalid) return invalidText(ev.invalid);
    if (ev.sync) return syncText(ev.sync);
    return '';
  };
  switch (msg.kind) {
    case 'full':
      return `${full?.text ?? ''}${ev.coherent ? ' It was a coherent allocation (dma_alloc_coherent) that fell back to the bounce pool (4.x swiotlb_alloc_coherent), so the same ceiling and pool apply.' : ''}${ev.overflow ? ' The overflow line that follows is dma-direct reporting this same map.' : ''}`;
    case 'out-of-space':
      return ev.full
        ? `The second line of the same failure (kernels up to 4.19 print both): ${full?.text ?? ''}`
        : `${full?.text ?? ''}${ev.panic ? ' The kernel then panicked (old kernels panic when a map above the 32 KiB overflow buffer cannot bounce).' : ''}`;
    case 'overflow':
      return overflowText(msg);
    case 'coherent-failed':
      return primary ? coherentText(msg, true) : coherentText(msg, false);
    case 'coherent-mask':
      return coherentMaskText(msg);
    case 'cannot-dma':
      return cannotDmaText(msg);
    case 'no-pool':
      return noPoolText;
    case 'invalid-sizes':
      return invalidText(msg);
    case 'sync-overflow':
      return syncText(msg);
    case 'panic':
      return `The panic that followed the failure above (kernels up to 4.19 panic when a map larger than the 32 KiB overflow buffer cannot bounce): ${summary()}`;
    case 'cut-here':
    case 'warn':
    case 'warn-cpu':
    case 'hardware':
    case 'end-trace':
      return `Part of the WARN report${ev.warn?.at ? ` (at ${ev.warn.at})` : ''} of ${who(ev)}'s ${ev.failure ? 'failed map' : 'message'}${ev.cause ? ` (${ev.cause})` : ''}: ${firstSentence(summary())}`;
    default:
      return summary();
  }
}

function firstSentence(s: string): string {
  const m = /^.*?[.:](?=\s|$)/.exec(s);
  return m ? m[0].replace(/:$/, '.') : s;
}

function coherentText(m: LogMessage, withMap: boolean): string {
  const big = (m.size ?? 0) > IO_TLB_SEGMENT_BYTES;
  return `A coherent allocation (dma_alloc_coherent) of ${m.size ?? '?'} bytes fell back to the bounce pool and failed${withMap ? ' (the "buffer is full" line before it is its map)' : ' (its "buffer is full" line is not in the input: rate-limited by printk_ratelimit, or before the excerpt)'}.${big ? ' It is above the 256 KiB ceiling: no pool size helps; later kernels no longer allocate coherent memory through the pool.' : ''}`;
}

function coherentMaskText(m: LogMessage): string {
  return `The bounce buffer swiotlb_alloc_coherent() got for a coherent allocation, ${m.addr !== undefined ? hex(m.addr) : '?'}, is above the device's coherent DMA mask ${m.mask !== undefined ? hex(m.mask) : '?'}: the allocation fails; the pool lies too high for this device.`;
}

function cannotDmaText(m: LogMessage): string {
  return `swiotlb=noforce: ${m.addr !== undefined ? hex(m.addr) : 'the buffer'} is beyond the device's reach and bouncing is turned off, so the map fails. Remove swiotlb=noforce, widen the mask or use an IOMMU.`;
}

const noPoolText =
  'The kernel has no bounce buffer pool (it was never set up, or failed at boot): every mapping that needs to bounce fails (older kernels panic here).';

function invalidText(m: LogMessage): string {
  return `A driver bug: the mapping (${m.size} bytes) is larger than the allocation (${m.value} bytes); the map is refused.`;
}

function syncText(m: LogMessage): string {
  return `A driver bug: a sync or unmap copied ${m.size ?? '?'} bytes where the bounce buffer holds ${m.value ?? '?'} (a wrong size or address at sync/unmap).`;
}
