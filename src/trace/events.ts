/**
 * The events a trace may carry, parsed from the event text's bytes (docs/trace-formats.md §3,
 * §4; the kprobe events of the real 6.1 runs and of the capture script), handed to a sink as
 * plain numbers so that millions of lines allocate nothing.
 *
 * Conventions for the numbers handed over: addresses are exact below 2^53; -1 means "not in the
 * line"; a failed mapping is reported with `failed` set rather than its all-ones address.
 */
import { StringTable } from '../analysis/eventTable';
import { DmaDirection } from '../model/constants';
import { ascii, bytesAre, decAt, hexAt, isDigit, numAt, scan, skipSpaces, tokenEnd, valueAt, WordFinder } from './bytes';
import type { EventLine } from './ftrace';

/** Which call an event reports (the api column of the event table). */
export enum Api {
  DmaMapPage = 1,
  DmaMapPhys,
  DmaMapResource,
  DmaUnmapPage,
  DmaUnmapPhys,
  DmaUnmapResource,
  DmaMapSg,
  DmaUnmapSg,
  DmaSyncSingleForCpu,
  DmaSyncSingleForDevice,
  DmaSyncSgForCpu,
  DmaSyncSgForDevice,
  DmaAlloc,
  DmaFree,
  TblMapSingle,
  TblUnmapSingle,
  TblSyncForCpu,
  TblSyncForDevice,
}

export const API_NAMES: Record<Api, string> = {
  [Api.DmaMapPage]: 'dma_map_page',
  [Api.DmaMapPhys]: 'dma_map_phys',
  [Api.DmaMapResource]: 'dma_map_resource',
  [Api.DmaUnmapPage]: 'dma_unmap_page',
  [Api.DmaUnmapPhys]: 'dma_unmap_phys',
  [Api.DmaUnmapResource]: 'dma_unmap_resource',
  [Api.DmaMapSg]: 'dma_map_sg',
  [Api.DmaUnmapSg]: 'dma_unmap_sg',
  [Api.DmaSyncSingleForCpu]: 'dma_sync_single_for_cpu',
  [Api.DmaSyncSingleForDevice]: 'dma_sync_single_for_device',
  [Api.DmaSyncSgForCpu]: 'dma_sync_sg_for_cpu',
  [Api.DmaSyncSgForDevice]: 'dma_sync_sg_for_device',
  [Api.DmaAlloc]: 'dma_alloc',
  [Api.DmaFree]: 'dma_free',
  [Api.TblMapSingle]: 'swiotlb_tbl_map_single',
  [Api.TblUnmapSingle]: 'swiotlb_tbl_unmap_single',
  [Api.TblSyncForCpu]: 'swiotlb_sync_single_for_cpu',
  [Api.TblSyncForDevice]: 'swiotlb_sync_single_for_device',
};

/** swiotlb_bounced's last field: 5.10's enum swiotlb_force, later the device's force flag. */
export enum ForceFlag {
  Normal = 0,
  Force = 1,
  NoForce = 2,
}

/** The arguments of swiotlb_tbl_map_single a probe recorded (-1: not recorded), in record order. */
export const TBL_MAP_FIELDS = [
  'dev',
  'origAddr',
  'mappingSize',
  'allocSize',
  'allocAlignMask',
  'dir',
  'attrs',
  'minAlignMask',
  /** Segment boundary as a bit count (64: none), or -1. */
  'boundaryBits',
  /** Pool start read by the probe, or -1. */
  'poolBase',
] as const;
export type TblMapArgs = { [K in (typeof TBL_MAP_FIELDS)[number]]: number };

/**
 * How an argument of a sink operation travels in records.ts: a number, a flag, a device id (its
 * name travels with it), a string, a scatterlist's printed entries, or the probe's arguments.
 */
type FieldKind = 'num' | 'bool' | 'dev' | 'str' | 'sg' | 'tbl';
type FieldValue<K> = K extends 'num' | 'dev'
  ? number
  : K extends 'bool'
    ? boolean
    : K extends 'str'
      ? string
      : K extends 'sg'
        ? SgArrays
        : TblMapArgs;

/**
 * Where the parsed events go: every operation once, with its arguments in order. The sink type,
 * the parallel path's record encoder and decoder and the analysis all follow from this table, so
 * an operation added here is one the compiler asks every sink for.
 */
export const SINK_OPS = {
  /** swiotlb:swiotlb_bounced: a bounce is about to be tried (before the slot search). */
  bounced: ['dev', 'num', 'num', 'num', 'num'], // dev, dma_mask, dev_addr, size, ForceFlag
  /** dma_map_page / dma_map_phys / dma_map_resource (6.12+), after the backend returned. */
  dmaMap: ['num', 'dev', 'num', 'num', 'num', 'num', 'num', 'bool'], // Api, dev, dir, dma, size, phys, attrs, failed
  /** dma_unmap_page / _phys / _resource. */
  dmaUnmap: ['num', 'dev', 'num', 'num', 'num', 'num'], // Api, dev, dir, dma, size, attrs
  /** dma_map_sg: entries in `sg` (dma, size, phys); `truncated` when the kernel printed only 128 of `total`. */
  dmaMapSg: ['dev', 'num', 'sg', 'num', 'num', 'bool'], // dev, dir, sg, attrs, total, truncated
  /** dma_unmap_sg: the entries' CPU physical addresses in sg.phys. */
  dmaUnmapSg: ['dev', 'num', 'sg', 'num'], // dev, dir, sg, attrs
  /** dma_sync_single_*, and each entry of dma_sync_sg_* (api tells which). */
  dmaSync: ['num', 'dev', 'num', 'num', 'num'], // Api, dev, dir, dma, size
  /** dma_alloc* / dma_free* (coherent memory: no bounce slots from the default pool). */
  dmaCoherent: ['num', 'dev', 'num', 'num', 'bool'], // Api, dev, dma, size, failed
  /** Entry of swiotlb_tbl_map_single (fixture kprobe and capture-script kprobe). */
  tblMapEntry: ['tbl'],
  /** In-lock probes of the 6.1 runs: an area had no room / the slot found. */
  tblMapNotFound: ['num'], // area
  tblMapFound: ['num', 'num'], // area, slot
  /** swiotlb_tbl_map_single returned: the bounce address, or failed. */
  tblMapReturn: ['num', 'bool'], // tlb_addr, failed
  tblUnmapEntry: ['dev', 'num', 'num', 'num', 'num'], // dev, tlb_addr, size, dir, attrs
  /** In-lock probe of the release: the slots are freed now. */
  tblUnmapLock: ['num', 'num'], // slot, nslots
  tblSync: ['bool', 'num', 'num', 'num'], // toCpu, tlb_addr, size, dir
  /** DMA API entry probes of the 6.1 runs (dma_map_page_attrs, dma_direct_map_sg): counted only. */
  apiProbe: ['dev', 'bool'], // dev, sg
  /** The capture script's one-shot probe of the pool start (dma:* captures). */
  poolBase: ['num'], // base
  /** In-lock probe with the area state before a search (used only for cross-checks). */
  tblMapLock: ['num'], // area
  mark: ['str'], // text
  /** An event this analysis does not use; `name` interned per distinct name. */
  unknown: ['str'], // name
  /** A known event whose text did not parse. */
  malformed: ['str'], // message
} as const satisfies Record<string, readonly FieldKind[]>;

export type SinkOp = keyof typeof SINK_OPS;
type SinkArgs<F extends readonly FieldKind[]> = { -readonly [I in keyof F]: FieldValue<F[I]> };

/** Where the parsed events go (positional arguments as SINK_OPS lists them). */
export type TraceSink = { [Op in SinkOp]: (ev: EventLine, line: number, ...args: SinkArgs<(typeof SINK_OPS)[Op]>) => void };

/** Up to 128 printed entries of a scatterlist event. */
export class SgArrays {
  n = 0;
  dma = new Float64Array(128);
  size = new Float64Array(128);
  phys = new Float64Array(128);
  /** Entries printed as DMA_MAPPING_ERROR. */
  failed = new Uint8Array(128);
  nDma = 0;
  nSize = 0;
  nPhys = 0;
}

/**
 * Device names interned to small integers. A trace names few devices, so a name is found by
 * comparing its bytes with the known names, without making a string. The names live in a
 * StringTable, which an event table can share: then the parser's ids are the table's.
 */
export class DeviceNames {
  private readonly bytes: (Buffer | undefined)[] = [Buffer.alloc(0)];

  constructor(readonly table = new StringTable()) {}

  get names(): string[] {
    return this.table.values;
  }

  /** The id found last: lines of one device come in runs. */
  private last = 0;

  intern(b: Uint8Array, s: number, e: number): number {
    const n = e - s;
    if (n <= 0) return 0;
    const known = this.bytes;
    const lk = known[this.last];
    if (lk !== undefined && lk.length === n && this.last !== 0) {
      let i = 0;
      while (i < n && b[s + i] === lk[i]) i++;
      if (i === n) return this.last;
    }
    const id = this.find(b, s, n);
    this.last = id;
    return id;
  }

  private find(b: Uint8Array, s: number, n: number): number {
    const names = this.table.values;
    const known = this.bytes;
    const scanTo = Math.min(names.length, 64);
    for (let id = 1; id < scanTo; id++) {
      let k = known[id];
      if (k === undefined) {
        // a name another reader put in the shared table
        k = Buffer.from(names[id] as string, 'latin1');
        known[id] = k;
      }
      if (k.length !== n) continue;
      let i = 0;
      while (i < n && b[s + i] === k[i]) i++;
      if (i === n) return id;
    }
    return this.internString(Buffer.from(b.buffer, b.byteOffset + s, n).toString('latin1'));
  }

  internString(name: string): number {
    return this.table.intern(name);
  }
}

enum Ev {
  Bounced = 1,
  DmaMapPage,
  DmaMapPhys,
  DmaMapResource,
  DmaUnmapPage,
  DmaUnmapPhys,
  DmaUnmapResource,
  DmaMapSg,
  DmaMapSgErr,
  DmaUnmapSg,
  DmaSyncCpu,
  DmaSyncDev,
  DmaSyncSgCpu,
  DmaSyncSgDev,
  DmaAlloc,
  DmaFree,
  MapEntry,
  MapLock,
  MapNf,
  MapFound,
  MapRet,
  UnmapEntry,
  UnmapLock,
  SyncCpu,
  SyncDev,
  MapPage,
  MapSg,
  Mark,
  PoolBase,
}

const EVENT_NAMES: [string, Ev][] = [
  ['swiotlb_bounced', Ev.Bounced],
  ['dma_map_page', Ev.DmaMapPage],
  ['dma_map_phys', Ev.DmaMapPhys],
  ['dma_map_resource', Ev.DmaMapResource],
  ['dma_unmap_page', Ev.DmaUnmapPage],
  ['dma_unmap_phys', Ev.DmaUnmapPhys],
  ['dma_unmap_resource', Ev.DmaUnmapResource],
  ['dma_map_sg', Ev.DmaMapSg],
  ['dma_map_sg_err', Ev.DmaMapSgErr],
  ['dma_unmap_sg', Ev.DmaUnmapSg],
  ['dma_sync_single_for_cpu', Ev.DmaSyncCpu],
  ['dma_sync_single_for_device', Ev.DmaSyncDev],
  ['dma_sync_sg_for_cpu', Ev.DmaSyncSgCpu],
  ['dma_sync_sg_for_device', Ev.DmaSyncSgDev],
  ['dma_alloc', Ev.DmaAlloc],
  ['dma_alloc_pages', Ev.DmaAlloc],
  ['dma_alloc_sgt', Ev.DmaAlloc],
  ['dma_alloc_sgt_err', Ev.DmaAlloc],
  ['dma_free', Ev.DmaFree],
  ['dma_free_pages', Ev.DmaFree],
  ['dma_free_sgt', Ev.DmaFree],
  ['map_entry', Ev.MapEntry],
  ['map_lock', Ev.MapLock],
  ['map_nf', Ev.MapNf],
  ['map_found', Ev.MapFound],
  ['map_ret', Ev.MapRet],
  ['unmap_entry', Ev.UnmapEntry],
  ['unmap_lock', Ev.UnmapLock],
  ['sync_cpu', Ev.SyncCpu],
  ['sync_dev', Ev.SyncDev],
  ['map_page', Ev.MapPage],
  ['map_sg', Ev.MapSg],
  ['tracing_mark_write', Ev.Mark],
  ['pool_base', Ev.PoolBase],
];

/**
 * Names by (length, first byte) in a flat array, then compared byte by byte: no Map lookup, no
 * iterator per line.
 */
const NO_NAMES: Buffer[] = [];
const NO_IDS: Ev[] = [];
// dense arrays (every index filled) so that V8 keeps them as plain elements, not a dictionary
const LOOKUP_NAMES: Buffer[][] = Array.from({ length: 64 << 8 }, () => NO_NAMES);
const LOOKUP_IDS: Ev[][] = Array.from({ length: 64 << 8 }, () => NO_IDS);
for (const [name, id] of EVENT_NAMES) {
  const k = lookupKey(name.length, name.charCodeAt(0));
  LOOKUP_NAMES[k] = [...(LOOKUP_NAMES[k] as Buffer[]), ascii(name)];
  LOOKUP_IDS[k] = [...(LOOKUP_IDS[k] as Ev[]), id];
}

function lookupKey(len: number, first: number): number {
  return len < 64 ? (len << 8) | first : 0;
}

function eventId(b: Buffer, s: number, e: number): Ev | 0 {
  const n = e - s;
  if (n <= 0 || n >= 64) return 0;
  const k = lookupKey(n, b[s] as number);
  const names = LOOKUP_NAMES[k] as Buffer[];
  for (let c = 0; c < names.length; c++) {
    const name = names[c] as Buffer;
    let i = 1;
    while (i < n && b[s + i] === name[i]) i++;
    if (i === n) return (LOOKUP_IDS[k] as Ev[])[c] as Ev;
  }
  return 0;
}

const K = {
  dmaMask: ascii('dma_mask='),
  devAddr: ascii('dev_addr='),
  size: ascii('size='),
  dir: ascii('dir='),
  dmaAddr: ascii('dma_addr='),
  physAddr: ascii('phys_addr='),
  attrs: ascii('attrs='),
  dmaAddrs: ascii('dma_addrs='),
  sizes: ascii('sizes='),
  physAddrs: ascii('phys_addrs='),
  ents: ascii('ents='),
  orig: ascii('orig='),
  msize: ascii('msize='),
  asize: ascii('asize='),
  amask: ascii('amask='),
  minalign: ascii('minalign='),
  segbnd: ascii('segbnd='),
  pool: ascii('pool='),
  dname: ascii('dname='),
  area: ascii('area='),
  slot: ascii('slot='),
  nslots: ascii('nslots='),
  ret: ascii('ret='),
  tlb: ascii('tlb='),
  truncated: new WordFinder(ascii('[TRUNCATED]')),
  devName: ascii('dev_name:'),
  // libtraceevent (perf script, trace-cmd report) prints events whose print fmt it cannot read as
  // "[FAILED TO PARSE] field=value ...", arrays as their bytes: 6.12's dma_map_sg and dma_unmap_sg
  failed: ascii('[FAILED TO PARSE]'),
  device: ascii('device='),
  lengths: ascii('lengths='),
  addrs: ascii('addrs='),
  fullEnts: ascii('full_ents='),
  truncatedField: ascii('truncated='),
};

const W = {
  FORCE: ascii('FORCE'),
  NORMAL: ascii('NORMAL'),
  NO_FORCE: ascii('NO_FORCE'),
  BIDIRECTIONAL: ascii('BIDIRECTIONAL'),
  TO_DEVICE: ascii('TO_DEVICE'),
  FROM_DEVICE: ascii('FROM_DEVICE'),
  NONE: ascii('NONE'),
  ARRAY: ascii('ARRAY['),
};

/** dma:* attribute names (include/trace/events/dma.h, 6.12 ... 7.2). */
const ATTR_BITS: [Buffer, number][] = [
  ['WEAK_ORDERING', 1 << 1],
  ['WRITE_COMBINE', 1 << 2],
  ['NO_KERNEL_MAPPING', 1 << 4],
  ['SKIP_CPU_SYNC', 1 << 5],
  ['FORCE_CONTIGUOUS', 1 << 6],
  ['ALLOC_SINGLE_PAGES', 1 << 7],
  ['NO_WARN', 1 << 8],
  ['PRIVILEGED', 1 << 9],
  ['MMIO', 1 << 10],
].map(([n, v]) => [ascii(n as string), v as number]);

/** A map whose result cannot be parsed becomes a diagnostic, not a crash. */
class BadText extends Error {}

function need(v: number, what: string): number {
  if (v < 0) throw new BadText(`no ${what}`);
  return v;
}

/** Parses an event line's text and calls the sink. Returns false for lines of unknown events. */
export class EventParser {
  private readonly sg = new SgArrays();
  private readonly req: TblMapArgs = {
    dev: 0,
    origAddr: -1,
    mappingSize: -1,
    allocSize: -1,
    allocAlignMask: -1,
    dir: -1,
    attrs: -1,
    minAlignMask: -1,
    boundaryBits: -1,
    poolBase: -1,
  };
  private readonly unknownNames = new Map<string, string>();
  /**
   * Where the last value ended: fields come in the order of the kernel's format string, so the
   * next key is searched from here first (then from the start of the text, for other orders).
   */
  private cur = 0;
  /** The event's text is libtraceevent's "[FAILED TO PARSE] field=value ..." form. */
  private raw = false;

  constructor(
    private readonly sink: TraceSink,
    readonly devices = new DeviceNames(),
  ) {}

  private find(b: Buffer, key: Buffer, s: number, e: number): number {
    // the usual case: the key is the next token (no key starts with a space, so no earlier match)
    const at = skipSpaces(b, this.cur, e);
    const n = key.length;
    if (at + n <= e && b[at] === key[0]) {
      let k = 1;
      while (k < n && b[at + k] === key[k]) k++;
      if (k === n) return at + n;
    }
    const v = valueAt(b, key, this.cur, e);
    return v >= 0 || this.cur === s ? v : valueAt(b, key, s, e);
  }

  parse(b: Buffer, ev: EventLine, line: number): void {
    const id = eventId(b, ev.eventStart, ev.eventEnd);
    if (id === 0) {
      const raw = b.toString('latin1', ev.eventStart, ev.eventEnd);
      let name = this.unknownNames.get(raw);
      if (name === undefined) {
        name = raw;
        this.unknownNames.set(raw, raw);
      }
      this.sink.unknown(ev, line, name);
      return;
    }
    this.cur = ev.bodyStart;
    try {
      this.dispatch(id, b, ev, line);
    } catch (e) {
      if (!(e instanceof BadText)) throw e;
      this.sink.malformed(ev, line, `${b.toString('latin1', ev.eventStart, ev.eventEnd)}: ${e.message}, event skipped`);
    }
  }

  private dispatch(id: Ev, b: Buffer, ev: EventLine, line: number): void {
    const s = ev.bodyStart;
    const e = ev.end;
    const sink = this.sink;
    switch (id) {
      case Ev.Bounced:
        this.bounced(b, s, e, ev, line);
        return;
      case Ev.DmaMapPage:
      case Ev.DmaMapPhys:
      case Ev.DmaMapResource: {
        const api = id === Ev.DmaMapPage ? Api.DmaMapPage : id === Ev.DmaMapPhys ? Api.DmaMapPhys : Api.DmaMapResource;
        const dev = this.leadingDevice(b, s, e);
        const dir = this.dirOf(b, s, e);
        const dma = need(this.hexOf(b, K.dmaAddr, s, e), 'dma_addr');
        const failed = scan.allOnes;
        const size = need(this.decOf(b, K.size, s, e), 'size');
        const phys = this.hexOf(b, K.physAddr, s, e);
        sink.dmaMap(ev, line, api, dev, dir, dma, size, phys, this.attrsOf(b, s, e), failed);
        return;
      }
      case Ev.DmaUnmapPage:
      case Ev.DmaUnmapPhys:
      case Ev.DmaUnmapResource: {
        const api = id === Ev.DmaUnmapPage ? Api.DmaUnmapPage : id === Ev.DmaUnmapPhys ? Api.DmaUnmapPhys : Api.DmaUnmapResource;
        const dev = this.leadingDevice(b, s, e);
        const dir = this.dirOf(b, s, e);
        const dma = need(this.hexOf(b, K.dmaAddr, s, e), 'dma_addr');
        const size = need(this.decOf(b, K.size, s, e), 'size');
        sink.dmaUnmap(ev, line, api, dev, dir, dma, size, this.attrsOf(b, s, e));
        return;
      }
      case Ev.DmaMapSg:
      case Ev.DmaMapSgErr:
        this.mapSg(id, b, s, e, ev, line);
        return;
      case Ev.DmaUnmapSg: {
        const dev = this.leadingDevice(b, s, e);
        const dir = this.dirOf(b, s, e);
        const sg = this.sg;
        sg.nPhys = this.arrayOf(b, this.raw ? K.addrs : K.physAddrs, s, e, sg.phys, null);
        sg.n = sg.nPhys;
        sg.nDma = 0;
        sg.nSize = 0;
        sink.dmaUnmapSg(ev, line, dev, dir, sg, this.attrsOf(b, s, e));
        return;
      }
      case Ev.DmaSyncCpu:
      case Ev.DmaSyncDev: {
        const dev = this.leadingDevice(b, s, e);
        const dir = this.dirOf(b, s, e);
        const dma = need(this.hexOf(b, K.dmaAddr, s, e), 'dma_addr');
        const size = need(this.decOf(b, K.size, s, e), 'size');
        sink.dmaSync(ev, line, id === Ev.DmaSyncCpu ? Api.DmaSyncSingleForCpu : Api.DmaSyncSingleForDevice, dev, dir, dma, size);
        return;
      }
      case Ev.DmaSyncSgCpu:
      case Ev.DmaSyncSgDev: {
        const dev = this.leadingDevice(b, s, e);
        const dir = this.dirOf(b, s, e);
        const sg = this.sg;
        sg.nDma = this.arrayOf(b, K.dmaAddrs, s, e, sg.dma, sg.failed);
        sg.nSize = this.arrayOf(b, K.sizes, s, e, sg.size, null);
        const api = id === Ev.DmaSyncSgCpu ? Api.DmaSyncSgForCpu : Api.DmaSyncSgForDevice;
        const n = Math.min(sg.nDma, sg.nSize);
        for (let i = 0; i < n; i++) sink.dmaSync(ev, line, api, dev, dir, sg.dma[i] as number, sg.size[i] as number);
        return;
      }
      case Ev.DmaAlloc:
      case Ev.DmaFree: {
        const dev = this.leadingDevice(b, s, e);
        const dma = this.hexOf(b, K.dmaAddr, s, e);
        const failed = dma < 0 || scan.allOnes || dma === 0;
        const size = this.decOf(b, K.size, s, e);
        sink.dmaCoherent(ev, line, id === Ev.DmaAlloc ? Api.DmaAlloc : Api.DmaFree, dev, dma, size, id === Ev.DmaAlloc && failed);
        return;
      }
      case Ev.MapEntry:
        this.mapEntry(b, s, e, ev, line);
        return;
      case Ev.MapLock:
        sink.tblMapLock(ev, line, this.numOf(b, K.area, s, e));
        return;
      case Ev.MapNf:
        sink.tblMapNotFound(ev, line, need(this.numOf(b, K.area, s, e), 'area'));
        return;
      case Ev.MapFound:
        sink.tblMapFound(ev, line, need(this.numOf(b, K.area, s, e), 'area'), need(this.numOf(b, K.slot, s, e), 'slot'));
        return;
      case Ev.MapRet: {
        const v = valueAt(b, K.ret, s, e);
        if (v < 0) throw new BadText('no ret');
        const tlb = hexAt(b, v, e);
        if (scan.digits === 0) throw new BadText('no ret');
        sink.tblMapReturn(ev, line, tlb, scan.allOnes);
        return;
      }
      case Ev.UnmapEntry: {
        const tlb = need(this.numOf(b, K.tlb, s, e), 'tlb');
        const size = this.numOf(b, K.msize, s, e);
        const dir = this.numOf(b, K.dir, s, e);
        const attrs = this.numOf(b, K.attrs, s, e);
        sink.tblUnmapEntry(ev, line, this.probeDevice(b, s, e), tlb, size, dir, Math.max(attrs, 0));
        return;
      }
      case Ev.UnmapLock:
        sink.tblUnmapLock(ev, line, need(this.numOf(b, K.slot, s, e), 'slot'), this.numOf(b, K.nslots, s, e));
        return;
      case Ev.SyncCpu:
      case Ev.SyncDev: {
        const tlb = need(this.numOf(b, K.tlb, s, e), 'tlb');
        sink.tblSync(ev, line, id === Ev.SyncCpu, tlb, need(this.numOf(b, K.size, s, e), 'size'), this.numOf(b, K.dir, s, e));
        return;
      }
      case Ev.MapPage:
      case Ev.MapSg:
        sink.apiProbe(ev, line, this.probeDevice(b, s, e), id === Ev.MapSg);
        return;
      case Ev.PoolBase:
        sink.poolBase(ev, line, need(this.numOf(b, K.pool, s, e), 'pool'));
        return;
      case Ev.Mark:
        sink.mark(ev, line, b.toString('utf8', s, e));
        return;
    }
  }

  /** "dev_name: <dev> dma_mask=<hex> dev_addr=<hex> size=<dec> <FORCE|NORMAL|NO_FORCE|0|1|2>" */
  private bounced(b: Buffer, s: number, e: number, ev: EventLine, line: number): void {
    let d = this.find(b, K.devName, s, e);
    if (d < 0) throw new BadText('no dev_name');
    d = skipSpaces(b, d, e);
    const de = tokenEnd(b, d, e);
    const dev = this.devices.intern(b, d, de);
    // the fields after the name are searched from it when nothing but "dev_name:" came before
    if (d === skipSpaces(b, s + K.devName.length, e)) this.cur = de;
    const dmaMask = need(this.hexOf(b, K.dmaMask, s, e), 'dma_mask');
    const devAddr = need(this.hexOf(b, K.devAddr, s, e), 'dev_addr');
    const size = need(this.decOf(b, K.size, s, e), 'size');
    const t = skipSpaces(b, scan.end, e);
    const te = tokenEnd(b, t, e);
    let force = ForceFlag.Normal;
    if (bytesAre(b, t, te, W.NO_FORCE)) force = ForceFlag.NoForce;
    else if (bytesAre(b, t, te, W.FORCE)) force = ForceFlag.Force;
    else if (bytesAre(b, t, te, W.NORMAL)) force = ForceFlag.Normal;
    else if (te === t + 1 && isDigit(b[t] as number)) force = ((b[t] as number) - 48) as ForceFlag;
    else throw new BadText('no FORCE/NORMAL flag');
    this.sink.bounced(ev, line, dev, dmaMask, devAddr, size, force);
  }

  private mapSg(id: Ev, b: Buffer, s: number, e: number, ev: EventLine, line: number): void {
    const dev = this.leadingDevice(b, s, e);
    const dir = this.dirOf(b, s, e);
    const sg = this.sg;
    if (id === Ev.DmaMapSgErr) {
      // the array printed as dma_addrs holds physical addresses; nothing was mapped
      sg.nDma = 0;
      sg.nSize = 0;
      sg.nPhys = this.arrayOf(b, K.dmaAddrs, s, e, sg.phys, null);
      sg.n = 0;
      this.sink.dmaMapSg(ev, line, dev, dir, sg, this.attrsOf(b, s, e), sg.nPhys, false);
      return;
    }
    sg.nDma = this.arrayOf(b, K.dmaAddrs, s, e, sg.dma, sg.failed);
    sg.nSize = this.arrayOf(b, this.raw ? K.lengths : K.sizes, s, e, sg.size, null);
    sg.nPhys = this.arrayOf(b, K.physAddrs, s, e, sg.phys, null);
    sg.n = Math.min(sg.nDma, sg.nSize);
    // 6.12.74+: "ents=<printed>/<total>" and " [TRUNCATED]" past 128 entries
    let total = sg.n;
    let truncated: boolean;
    if (this.raw) {
      const t = valueAt(b, K.fullEnts, s, e);
      if (t >= 0) total = decAt(b, t, e);
      const tr = valueAt(b, K.truncatedField, s, e);
      truncated = tr >= 0 && b[tr] !== 48;
    } else {
      const ents = valueAt(b, K.ents, s, e);
      if (ents >= 0) {
        decAt(b, ents, e);
        if (b[scan.end] === 47 /* / */) total = decAt(b, scan.end + 1, e);
      }
      truncated = K.truncated.indexIn(b, s, e) >= 0;
    }
    this.sink.dmaMapSg(ev, line, dev, dir, sg, this.attrsOf(b, s, e), total, truncated);
  }

  private mapEntry(b: Buffer, s: number, e: number, ev: EventLine, line: number): void {
    const r = this.req;
    r.dev = this.probeDevice(b, s, e);
    r.origAddr = need(this.numOf(b, K.orig, s, e), 'orig');
    r.mappingSize = need(this.numOf(b, K.msize, s, e), 'msize');
    r.allocSize = this.numOf(b, K.asize, s, e);
    r.allocAlignMask = this.numOf(b, K.amask, s, e);
    r.dir = this.numOf(b, K.dir, s, e);
    r.attrs = this.numOf(b, K.attrs, s, e);
    r.minAlignMask = this.numOf(b, K.minalign, s, e);
    const sb = this.numOf(b, K.segbnd, s, e);
    r.boundaryBits = sb < 0 ? -1 : boundaryBitsOf(sb, scan.allOnes);
    r.poolBase = this.numOf(b, K.pool, s, e);
    this.sink.tblMapEntry(ev, line, r);
  }

  /** The device name that starts the text of a dma:* event ("device=" in libtraceevent's raw form). */
  private leadingDevice(b: Buffer, s: number, e: number): number {
    this.raw = b[s] === 91 && bytesAre(b, s, e, K.failed);
    if (this.raw) {
      const v = valueAt(b, K.device, s, e);
      if (v < 0) throw new BadText('no device');
      const t = tokenEnd(b, v, e);
      this.cur = t;
      return this.devices.intern(b, v, t);
    }
    const t = tokenEnd(b, s, e);
    this.cur = t;
    return this.devices.intern(b, s, t);
  }

  /** dname="..." of the kprobe events (the device's kobject name). */
  private probeDevice(b: Buffer, s: number, e: number): number {
    const v = this.find(b, K.dname, s, e);
    if (v < 0) return 0;
    const q = b[v] === 34 ? v + 1 : v;
    let end = q;
    while (end < e && b[end] !== 34 && (q !== v || b[end] !== 32)) end++;
    return this.devices.intern(b, q, end);
  }

  private hexOf(b: Buffer, key: Buffer, s: number, e: number): number {
    const v = this.find(b, key, s, e);
    if (v < 0) return -1;
    const x = hexAt(b, v, e);
    this.cur = scan.end;
    return scan.digits === 0 ? -1 : x;
  }

  private decOf(b: Buffer, key: Buffer, s: number, e: number): number {
    const v = this.find(b, key, s, e);
    if (v < 0) return -1;
    const x = decAt(b, v, e);
    this.cur = scan.end;
    return scan.digits === 0 ? -1 : x;
  }

  private byteArray(b: Buffer, i: number, e: number, size: number, into: Float64Array, failed: Uint8Array | null, key: Buffer): number {
    const r = byteArrayOf(b, i, e, size, into, failed, key.toString('latin1'));
    this.cur = r.end;
    return r.n;
  }

  /** A kprobe value: hex with 0x, decimal otherwise; -1 when absent. */
  private numOf(b: Buffer, key: Buffer, s: number, e: number): number {
    const v = this.find(b, key, s, e);
    if (v < 0) return -1;
    scan.allOnes = false;
    const x = numAt(b, v, e);
    this.cur = scan.end;
    return scan.digits === 0 ? -1 : x;
  }

  private dirOf(b: Buffer, s: number, e: number): number {
    const v = this.find(b, K.dir, s, e);
    if (v < 0) return -1;
    const t = tokenEnd(b, v, e);
    this.cur = t;
    // the names start with different letters: one comparison at most
    switch (b[v]) {
      case 84 /* T */:
        if (bytesAre(b, v, t, W.TO_DEVICE)) return DmaDirection.TO_DEVICE;
        break;
      case 70 /* F */:
        if (bytesAre(b, v, t, W.FROM_DEVICE)) return DmaDirection.FROM_DEVICE;
        break;
      case 66 /* B */:
        if (bytesAre(b, v, t, W.BIDIRECTIONAL)) return DmaDirection.BIDIRECTIONAL;
        break;
      case 78 /* N */:
        if (bytesAre(b, v, t, W.NONE)) return DmaDirection.NONE;
        break;
    }
    if (t === v + 1 && isDigit(b[v] as number)) return (b[v] as number) - 48;
    return -1;
  }

  /** attrs=NAME|NAME|0x.. (empty for 0). */
  private attrsOf(b: Buffer, s: number, e: number): number {
    const v = this.find(b, K.attrs, s, e);
    if (v < 0) return 0;
    const t = tokenEnd(b, v, e);
    if (t === v) return 0;
    this.cur = t;
    let attrs = 0;
    let i = v;
    while (i < t) {
      let j = i;
      while (j < t && b[j] !== 124 /* | */) j++;
      if (b[i] === 48 && b[i + 1] === 120) attrs |= hexAt(b, i, j);
      else {
        for (const [name, bit] of ATTR_BITS) {
          if (j - i === name.length && bytesAre(b, i, j, name)) {
            attrs |= bit;
            break;
          }
        }
      }
      i = j + 1;
    }
    return attrs;
  }

  /**
   * "{0x1,0x2}" (also "[...]" and spaces, as libtraceevent may print), or libtraceevent's
   * "ARRAY[00, f0, ...]" bytes (little-endian; sizes are u32, addresses u64); returns the count.
   */
  private arrayOf(b: Buffer, key: Buffer, s: number, e: number, into: Float64Array, failed: Uint8Array | null): number {
    let i = this.find(b, key, s, e);
    if (i < 0) return 0;
    if (b[i] === 65 /* A */ && bytesAre(b, i, e, W.ARRAY))
      return this.byteArray(b, i + W.ARRAY.length, e, key === K.lengths ? 4 : 8, into, failed, key);
    if (b[i] !== 123 && b[i] !== 91) throw new BadText(`${key.toString('latin1')} is not an array`);
    i++;
    let n = 0;
    for (;;) {
      i = skipSpaces(b, i, e);
      if (i >= e) throw new BadText(`${key.toString('latin1')} is cut short`);
      const c = b[i];
      if (c === 125 || c === 93) {
        this.cur = i + 1;
        return n;
      }
      const v = hexAt(b, i, e);
      if (scan.digits === 0) throw new BadText(`${key.toString('latin1')} holds a non-number`);
      if (n < into.length) {
        into[n] = v;
        if (failed) failed[n] = scan.allOnes ? 1 : 0;
      }
      n++;
      i = skipSpaces(b, scan.end, e);
      if (b[i] === 44) i++;
    }
  }
}

/** Reads "xx, xx, ...]" as little-endian elements of `size` bytes. */
function byteArrayOf(
  b: Buffer,
  i: number,
  e: number,
  size: number,
  into: Float64Array,
  failed: Uint8Array | null,
  what: string,
): { n: number; end: number } {
  let n = 0;
  let k = 0;
  let v = 0;
  let ones = 0;
  for (;;) {
    i = skipSpaces(b, i, e);
    if (i >= e) throw new BadText(`${what} is cut short`);
    if (b[i] === 93 /* ] */) break;
    const byte = hexAt(b, i, e);
    if (scan.digits === 0 || scan.digits > 2) throw new BadText(`${what} holds a non-byte`);
    v += byte * 2 ** (8 * k);
    if (byte === 255) ones++;
    if (++k === size) {
      if (n < into.length) {
        into[n] = v;
        if (failed) failed[n] = ones === 8 ? 1 : 0;
      }
      n++;
      k = 0;
      v = 0;
      ones = 0;
    }
    i = skipSpaces(b, scan.end, e);
    if (b[i] === 44) i++;
  }
  return { n, end: i + 1 };
}

/** A segment boundary mask value as a bit count (64: none). Non 2^k-1 values round down. */
function boundaryBitsOf(mask: number, allOnes: boolean): number {
  if (allOnes || mask === 0 || mask >= 2 ** 53) return 64;
  return Math.floor(Math.log2(mask + 1));
}
