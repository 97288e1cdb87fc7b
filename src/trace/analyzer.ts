/**
 * The trace and log analysis: events from the parsers in, the traced kernel's pool replayed
 * through the model. Maps are paired with unmaps by bounce address; every profile follows the
 * kernel's placements (predict, compare, commit where the kernel put it); occupancy, failures,
 * per-device figures and per-call rows come out. Memory stays bounded: live mappings only,
 * a capped event table and a bucketed timeline.
 */

import type { Books } from '../analysis/books';
import { EventKind, Outcome } from '../analysis/codes';
import type { EventInit } from '../analysis/columns';
import type { EventTable } from '../analysis/eventTable';
import { Recorder } from '../analysis/recorder';
import type { Diagnostic } from '../analysis/session';
import { DMA_ATTR, DmaDirection, IO_TLB_SEGSIZE, IO_TLB_SIZE, nrSlots } from '../model/constants';
import { hexAddr } from '../model/hex';
import { bufferFullMessage } from '../model/messages';
import { IoTlbPool } from '../model/pool';
import { allProfiles, type KernelProfile } from '../model/profiles';
import { type FreeSlots, failureReason, Reason, reasonCodes } from '../model/reasons';
import { copiesOnMap, IoTlbMem, type MapRequest, type MapResult, type ScratchMapRequest, scratchMapRequest } from '../model/swiotlb';
import { API_NAMES, Api, DeviceNames, ForceFlag, type SgArrays, type TblMapArgs, type TraceSink } from './events';
import { EventLine } from './ftrace';
import { type Geometry, type GeometryFacts, type GeometryOptions, resolveGeometry } from './geometry';
import type { LogMessage } from './klog';
import { LiveTable } from './live';
import { LogBook } from './logExplain';
import { type BounceHints, boundaryBitsFromRuns, inferPoolStart, noteRun, type RunEvidence } from './poolStart';
import { ProfileRun } from './profileRun';

export interface AnalyzerOptions extends GeometryOptions {
  readonly platform?: string;
  /** Per-call rows kept in the event table (the rest are still counted). */
  readonly rowLimit?: number;
  readonly events?: EventTable;
  /** Every swiotlb map and unmap followed, as replay ops (for checks against ops files). */
  readonly onOp?: (op: TraceOp) => void;
  /**
   * Sizing pass: instead of following the kernel, replay every bounce attempt through pools of
   * these sizes (slots) with the model's own placements.
   */
  readonly whatIf?: readonly number[];
  /**
   * Placements every profile other than the primary compares (default 100000): enough to tell
   * the allocators apart, and it keeps a trace of millions of maps from paying for five models.
   */
  readonly profileSample?: number;
  /** Use this pool instead of resolving one from the inputs (the sizing pass reuses the first pass's). */
  readonly geometry?: Geometry;
}

/** A map or unmap as the replay format has it (ids in commit order, like the fixtures' ops). */
export type TraceOp =
  | {
      op: 'map';
      id: number;
      line: number;
      cpu: number;
      dev: string;
      origAddr: number;
      size: number;
      allocSize: number;
      minAlignMask: number;
      boundaryBits: number;
      dir: number;
      ok: boolean;
      /** Kernel's run start in the primary profile (-1: failed or not anchored). */
      index: number;
      tlbAddr: number;
      raced: boolean;
    }
  | { op: 'unmap'; id: number; line: number };

/** One pool size of the sizing pass. */
export interface WhatIfPool {
  readonly nslabs: number;
  readonly mem: IoTlbMem;
  /** Failures other than requests above the ceiling. */
  failures: number;
  tooBig: number;
  firstFailureLine: number;
  peak: number;
  tlbAddr: Float64Array;
}

/** What a trace file holds, from a look at its beginning (see census.ts). */
export interface TraceLevel {
  /** swiotlb_tbl_map_single probes (map_entry ...). */
  tbl: boolean;
  /** The in-lock probes of the 6.1 runs: commit order is the kernel's exact order. */
  lockProbes: boolean;
  /** dma:* map/unmap events. */
  dma: boolean;
  /** The first bounce addresses of the file's beginning (dma:* traces), for a pool start no line names. */
  bounces?: BounceHints;
}

/** What a trace tells about a device beyond its tally in the books (why it bounced, its masks). */
export interface DeviceEvidence {
  /** Its id in the session's device names. */
  readonly id: number;
  readonly name: string;
  bounceAttempts: number;
  forced: number;
  beyondMask: number;
  withinMask: number;
  dmaMask: number;
  minAlignMask: number;
  /** Where min_align_mask came from: probe, inferred (from the addresses), driver (what it sets, no address said), unknown. */
  minAlignSource: 'probe' | 'inferred' | 'driver' | 'unknown';
  /** Driver bound to the device, when a log line or the capture names it. */
  driver: string;
  /** Segment boundary assumed when no probe says (PCI: 4 GiB). */
  boundaryBits: number;
  /** Evidence for min_align_mask: in-slot offsets kept, dropped, and bit 11 differing. */
  offsetsKept: boolean;
  offsetsDropped: boolean;
  bit11Differs: boolean;
  /** Bounces of buffers with bit 11 set that kept it: page-sized ones (stride 2 would clear it without the mask), smaller ones. */
  bit11KeptPage: boolean;
  bit11KeptSmall: number;
  /** Bounces only min_align_mask 0xfff (or only 0) places where the kernel did, by the model's pool. */
  alignVotesMask: number;
  alignVotesZero: number;
  /** Where boundaryBits came from: probe, driver (its known dma_boundary), inferred (no run crossed it), default (the bus's). */
  boundarySource: 'probe' | 'driver' | 'inferred' | 'default';
  /** Its bounced runs as evidence of the boundary (poolStart.ts). */
  readonly runs: RunEvidence;
  /** Why the boundary is what it is when inferred, or why an inference was given up. */
  boundaryNote: string;
  apiCalls: number;
}

/** One of the first failed maps, with the kernel's message for it. */
export interface TraceFailure {
  file: string;
  line: number;
  device: string;
  size: number;
  nslots: number;
  cause: string;
  /** The kernel's message for it (what dmesg shows unless NO_WARN or rate limited). */
  message: string;
}

/**
 * A map whose outcome the trace shows, as commitMap() takes it (reused from map to map):
 * swiotlb_tbl_map_single's arguments, the reasons it bounced, and the kernel's answer.
 */
class MapCall {
  ev: EventLine = new EventLine();
  line = 0;
  api: Api = Api.TblMapSingle;
  dev = 0;
  origAddr = 0;
  size = 0;
  allocSize = 0;
  allocAlignMask = 0;
  dir = 0;
  attrs = 0;
  /** -1: not known (inferred from the placement). */
  minAlignMask = -1;
  boundaryBits = 64;
  reasons = 0;
  /** The bounce buffer the kernel returned, or -1 when the map failed. */
  tlbAddr = -1;
  /** Another CPU changed an area this search looked at before it decided. */
  raced = false;
  /** A scatterlist entry's physical address (dma_unmap_sg names the entries by it), or -1. */
  sgPhys = -1;
}

/** One task's calls in flight (a task runs one call at a time). */
class TaskState {
  /** The key of this.tasks (pid, or -1 - cpu). */
  constructor(readonly key: number) {}
  // swiotlb_bounced records waiting for their map event
  bn = 0;
  bDev: number[] = [];
  bSize: number[] = [];
  bReasons: number[] = [];
  bLine: number[] = [];
  bAddr: number[] = [];
  /** The model's change count when each record came (the pool as its slot search found it). */
  bSeq: number[] = [];
  /** Attempts without events were dropped and no map of the task has succeeded since. */
  rolledBack = false;
  // a swiotlb_tbl_map_single call between entry and return, committed at its decision point
  mapActive = false;
  committed = false;
  readonly call = new MapCall();
  bounceSeen = false;
  nf = 0;
  nfArea: number[] = [];
  nfSeq: number[] = [];
  expectTlb = -1;
  handle = -1;
  // an unmap between entry and the in-lock release
  unmapHandle = -1;
  unmapLine = 0;
  unmapSize = 0;
  unmapDir = 0;
  unmapAttrs = 0;
}

const MAX_DIAGNOSTICS = 200;
export const DEFAULT_PROFILE_SAMPLE = 100_000;

/** A profile's behaviour without its names. */
function flagsKey(p: KernelProfile): string {
  const { name, title, release, ...flags } = p;
  void name;
  void title;
  void release;
  return JSON.stringify(flags);
}
const MAX_FAILURES = 50;
/** Runs per area remembered for the dma:* order check (afterRecentRun). */
const RECENT = 8;
/** Another task's swiotlb_bounced this many lines before a map's own still counts as in flight (a scatterlist of 128 entries spans about as many). */
const PENDING_LINES = 256;
const MAX_QUEUE = 256;

/** Drivers that set a min_align_mask (dma_set_min_align_mask) and the mask they set. */
const KNOWN_MIN_ALIGN: Record<string, number> = { nvme: 0xfff, hv_storvsc: 0xfff, storvsc: 0xfff };

/**
 * Drivers whose SCSI host template sets dma_boundary (the SCSI midlayer passes it to
 * dma_set_seg_boundary): libata's SFF/BMDMA drivers use ATA_DMA_BOUNDARY, 0xffff.
 */
function knownBoundaryBits(driver: string): number | undefined {
  return driver === 'ata_piix' || driver === 'ata_generic' || /^pata_/.test(driver) ? 16 : undefined;
}

/** Maps of a device whose runs never crossed 64 KiB, weighted by the chance they would have: enough to infer 0xffff. */
const BOUNDARY_EVIDENCE = 4;

/** A boundary of 2^bits bytes as the kernel's mask ("0xffff"). */
export function formatBoundary(bits: number): string {
  return bits >= 64 ? '0xffffffffffffffff' : hexAddr(2 ** bits - 1);
}

/** PCI devices get a 4 GiB segment boundary (pci_device_add), others none. */
function defaultBoundaryBits(name: string): number {
  return /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i.test(name) ? 32 : 64;
}

/** Where a bounced map's slots are, as far as the analysis follows them. */
interface Placement {
  slot: number;
  nslots: number;
  area: number;
  copied: number;
}

export class TraceAnalyzer implements TraceSink {
  readonly facts: GeometryFacts = {};
  geometry: Geometry | null = null;
  /** Every profile (the primary first), or none before the pool is known or when unanchored. */
  runs: ProfileRun[] = [];
  /** The sizing pass's pools (whatIf option). */
  whatIf: WhatIfPool[] | null = null;
  private nextOpId = 1;
  /** Past the primary's check sample: placements counted, not modelled (see enterLight). */
  light = false;
  private lightAreaUsed = new Int32Array(0);
  /** Placements the other profiles compare before they stop (the primary compares all). */
  readonly sampleLimit: number;
  readonly live = new LiveTable();
  private readonly tasks = new Map<number, TaskState>();
  /** Every event is recorded here: counted in the books, kept as a row while rows last. */
  readonly recorder: Recorder;
  readonly diagnostics: Diagnostic[] = [];
  diagnosticsDropped = 0;
  private readonly evidence: (DeviceEvidence | undefined)[] = [];
  /** The devices the parsers name (the event table's names: its device ids are these). */
  readonly deviceIds: DeviceNames;
  /** The event table's id of each Api. */
  private readonly apiIds: number[] = [];
  /** Device name -> driver, from log lines ("nvme 0000:00:03.0: ...") or the capture's devices.txt. */
  readonly drivers = new Map<string, string>();
  level: TraceLevel = { tbl: false, lockProbes: false, dma: false };
  file = '';
  private readonly req = scratchMapRequest();
  private readonly call = new MapCall();

  // what only a trace tells (the counts of maps, unmaps, syncs and copies are in the books)
  lines = 0;
  traceEvents = 0;
  /** Unmaps of bounce buffers whose map is not in the trace. */
  unmapsUnknown = 0;
  syncsDirect = 0;
  bounceAttempts = 0;
  bouncedForced = 0;
  bouncedUnmatched = 0;
  /** dma:* traces: runs of swiotlb_bounced records no map event took, the failed attempts they hold by the retry rule, and where the first began. */
  unmatchedRuns = 0;
  unmatchedFailures = 0;
  unmatchedFirst: { file: string; line: number } | null = null;
  /** The model's change count when the swiotlb_bounced record the last map took came, or -1. */
  private takenSeq = -1;
  private takenLine = 0;
  /** The model's change count when the current event began (its own entries' commits come after). */
  private eventSeq = 0;
  /** That map came after attempts of its task without events (rolled back: they moved the area's search index unseen). */
  private takenAfterUnmatched = false;
  /** Areas (bits) whose search index rolled-back entries without events may have moved since their last placement as predicted. */
  private hiddenAreas = 0;
  /** The ends of the last RECENT runs placed in each area (slot numbers, -1: none), a ring per area. */
  private recentEnds = new Int32Array(0);
  private recentNext = new Int32Array(0);
  coherentAllocs = 0;
  coherentFrees = 0;
  apiProbes = 0;
  markers: { file: string; line: number; time: number; text: string }[] = [];
  markersTotal = 0;
  lostEvents = 0;
  sgTruncated = 0;
  readonly unknownEvents = new Map<string, number>();
  readonly failures: TraceFailure[] = [];
  releaseMismatches = 0;
  /** io_tlb_used_hiwater from a capture's debugfs snapshot (6.4+). */
  kernelHiwater: number | null = null;

  /** Slots in use (the primary model, or slot counts when the pool start is unknown). */
  used = 0;
  peakArea: number[] = [];
  counterClock = false;
  /** The last event's time: when a file ends, the calls still open end then. */
  private lastEventTime = 0;

  /** Model mutations so far, and per kernel area the last one (race detection with in-lock probes). */
  private seq = 0;
  private areaChangeSeq: number[] = [];

  // logs: the messages, their events and what they say (logExplain.ts)
  readonly log = new LogBook();
  logLines = 0;
  traceFiles = 0;
  logFiles = 0;

  constructor(readonly options: AnalyzerOptions = {}) {
    this.recorder = new Recorder({
      ...(options.events ? { table: options.events } : {}),
      rowLimit: options.rowLimit ?? (options.events ? 1_000_000 : 0),
    });
    const names = this.recorder.table;
    this.deviceIds = new DeviceNames(names.devices);
    for (const [api, name] of Object.entries(API_NAMES)) this.apiIds[Number(api)] = names.apis.intern(name);
    this.sampleLimit = options.profileSample ?? DEFAULT_PROFILE_SAMPLE;
  }

  /** The books of every event (the CLI's report and the panel's summary read them). */
  get books(): Books {
    return this.recorder.books;
  }

  /** The rows kept, when the analysis was given a table. */
  get events(): EventTable | undefined {
    return this.options.events;
  }

  get rowsDropped(): number {
    return this.recorder.rowsDropped;
  }

  get hasClock(): boolean {
    return this.books.hasClock;
  }

  // ---------------------------------------------------------------- set-up

  /** The pool as far as the inputs tell so far; the models start at the first map. */
  ensureGeometry(): Geometry {
    if (this.geometry) return this.geometry;
    if (this.facts.fullTotal === undefined) {
      // a "full" message's total (its second half may have come on the next line)
      const e = this.log.entries.find((x) => x.msg.kind === 'full' && (x.msg.total ?? 0) > 0);
      if (e) {
        this.facts.fullTotal = e.msg.total as number;
        this.facts.fullTotalAt = `log "buffer is full ... total ${e.msg.total} (slots)" (${e.file}:${e.msg.line})`;
      }
    }
    let g = this.options.geometry ?? resolveGeometry(this.options, this.facts);
    if (g.base === null && !this.options.geometry && this.level.bounces) {
      // no line names the pool start: the first bounce addresses do (poolStart.ts)
      const known = !/^default/.test(g.sources.nslabs);
      const inf = inferPoolStart(this.level.bounces, g.nslabs, g.nareas, known, this.file);
      if (inf) {
        this.facts.inferredBase = inf.base;
        this.facts.inferredBaseCertainty = inf.certainty;
        this.facts.inferredBaseAt = `inferred (${inf.certainty}): ${inf.why}`;
        if (inf.nslabs !== undefined) {
          this.facts.inferredNslabs = inf.nslabs;
          this.facts.inferredNslabsAt = `inferred: ${inf.why}`;
        }
        g = resolveGeometry(this.options, this.facts);
      }
    }
    this.geometry = g;
    if (this.options.whatIf) {
      // the pool may start anywhere: only slot-relative rules matter for sizing
      const start = g.base ?? 0x80000000;
      this.whatIf = this.options.whatIf.map((nslabs) => {
        let nareas = g.nareas;
        while (nareas > 1 && nslabs / nareas < IO_TLB_SEGSIZE) nareas /= 2;
        const pool = new IoTlbPool(g.profile, { start, nslabs, nareas, pageShift: 12 });
        return { nslabs, mem: new IoTlbMem(pool), failures: 0, tooBig: 0, firstFailureLine: 0, peak: 0, tlbAddr: new Float64Array(1024) };
      });
      return g;
    }
    if (g.base !== null) {
      const geo = { start: g.base, nslabs: g.nslabs, nareas: g.nareas, pageShift: 12 };
      // the other profiles, minus any that behaves exactly like the primary (6.1 next to 6.1.192)
      const same = (p: KernelProfile) => flagsKey(p) === flagsKey(g.profile);
      const others = allProfiles().filter((p) => !same(p));
      this.runs = [new ProfileRun(g.profile, geo), ...others.map((p) => new ProfileRun(p, geo))];
      this.peakArea = new Array<number>(this.runs[0]?.pool.nareas ?? 1).fill(0);
      this.areaChangeSeq = new Array<number>(g.nareas).fill(0);
    }
    return g;
  }

  get primary(): ProfileRun | undefined {
    return this.runs[0];
  }

  diag(line: number, message: string, severity: Diagnostic['severity'] = 'warning', file = this.file): void {
    if (this.diagnostics.length >= MAX_DIAGNOSTICS) {
      this.diagnosticsDropped++;
      return;
    }
    this.diagnostics.push({ file, line, severity, message });
  }

  get deviceNames(): readonly string[] {
    return this.deviceIds.names;
  }

  private dev(id: number): DeviceEvidence {
    let d = this.evidence[id];
    if (!d) {
      const name = this.deviceNames[id] ?? '';
      d = {
        id,
        name,
        bounceAttempts: 0,
        forced: 0,
        beyondMask: 0,
        withinMask: 0,
        dmaMask: -1,
        minAlignMask: -1,
        minAlignSource: 'unknown',
        driver: this.drivers.get(name) ?? '',
        boundaryBits: defaultBoundaryBits(name),
        offsetsKept: false,
        offsetsDropped: false,
        bit11Differs: false,
        bit11KeptPage: false,
        bit11KeptSmall: 0,
        alignVotesMask: 0,
        alignVotesZero: 0,
        boundarySource: 'default',
        runs: { expected: 0, crossedBits: -1 },
        boundaryNote: '',
        apiCalls: 0,
      };
      const known = knownBoundaryBits(d.driver);
      const head = this.level.bounces?.runs.get(name);
      if (known !== undefined) {
        d.boundaryBits = known;
        d.boundarySource = 'driver';
        d.boundaryNote = `${d.driver} sets dma_boundary 0xffff (ATA_DMA_BOUNDARY)`;
      } else if (boundaryBitsFromRuns(head, BOUNDARY_EVIDENCE) !== undefined) {
        d.boundaryBits = 16;
        d.boundarySource = 'inferred';
        d.boundaryNote = `no bounce of the trace's beginning straddles 64 KiB where ${Math.round(head?.expected ?? 0)} would have by chance`;
      }
      this.evidence[id] = d;
    }
    return d;
  }

  /** The named devices the trace showed, by id. */
  get devices(): DeviceEvidence[] {
    return this.evidence.filter((d): d is DeviceEvidence => d !== undefined && d.name !== '');
  }

  private lastTaskKey = Number.NaN;
  private lastTask: TaskState | null = null;

  private task(ev: EventLine): TaskState {
    const key = ev.pid > 0 ? ev.pid : -1 - ev.cpu;
    // a task's bounce and its map come one after the other
    if (key === this.lastTaskKey && this.lastTask) return this.lastTask;
    let t = this.tasks.get(key);
    if (!t) {
      t = new TaskState(key);
      this.tasks.set(key, t);
    }
    this.lastTaskKey = key;
    this.lastTask = t;
    return t;
  }

  private noteEvent(ev: EventLine): void {
    this.traceEvents++;
    if (this.facts.maxCpuSeen === undefined || ev.cpu > this.facts.maxCpuSeen) this.facts.maxCpuSeen = ev.cpu;
    this.counterClock = ev.counter;
    this.books.hasClock = !ev.counter;
    this.lastEventTime = ev.time;
  }

  /** A dma:* event: the kernel is 6.12 or later (the profile follows when no release is named). */
  private noteDma(line: number): void {
    this.eventSeq = this.seq;
    if (this.facts.dmaEvents) return;
    this.facts.dmaEvents = true;
    this.facts.dmaEventsAt = `${this.file}:${line}`;
  }

  /** Maps with dma_addr != phys_addr outside a pool whose start was inferred: bounces it misses, if many. */
  outsideInferred = 0;
  private noteOutsideInferred(line: number, dma: number): void {
    if (++this.outsideInferred !== 16) return;
    this.diag(
      line,
      `16 maps so far have a dma_addr (${hexAddr(dma)} here) that differs from their phys_addr and lies outside the pool inferred at ${hexAddr(this.geometry?.base ?? 0)}: if they bounced, the inferred start is wrong${this.logFiles > 0 ? '' : '; a boot log with "software IO TLB: mapped [mem ...]" would say it'}`,
    );
  }

  /** Records an event (books and, while rows last, the table): its row or -1. */
  private record(e: EventInit): number {
    return this.recorder.add(e);
  }

  // ---------------------------------------------------------------- bounce attempts

  private bounceReasons(dmaMask: number, devAddr: number, size: number, force: ForceFlag): number {
    if (force === ForceFlag.Force) return Reason.ForceBounce;
    if (dmaMask > 0 && devAddr + size - 1 > dmaMask) return Reason.BeyondDmaMask;
    return 0;
  }

  bounced(ev: EventLine, line: number, dev: number, dmaMask: number, devAddr: number, size: number, force: ForceFlag): void {
    this.noteEvent(ev);
    this.bounceAttempts++;
    const d = this.dev(dev);
    d.bounceAttempts++;
    d.dmaMask = dmaMask;
    const reasons = this.bounceReasons(dmaMask, devAddr, size, force);
    if (force === ForceFlag.Force) {
      this.bouncedForced++;
      d.forced++;
    } else if (reasons & Reason.BeyondDmaMask) {
      d.beyondMask++;
    } else {
      d.withinMask++;
    }
    if (!this.level.tbl && !this.level.dma) {
      this.record({
        kind: EventKind.BounceAttempt,
        time: ev.time,
        cpu: ev.cpu,
        device: dev,
        api: 'swiotlb_bounced',
        size,
        reasons,
        dma: devAddr,
        file: this.file,
        line,
      });
      return;
    }
    const t = this.task(ev);
    if (t.bn >= MAX_QUEUE) {
      // a task that never maps what it bounces: keep the newest
      this.dropBounced(t, 1);
    }
    t.bDev[t.bn] = dev;
    t.bSize[t.bn] = size;
    t.bReasons[t.bn] = reasons;
    t.bLine[t.bn] = line;
    t.bAddr[t.bn] = devAddr;
    t.bSeq[t.bn] = this.seq;
    t.bn++;
  }

  /** Drops the `n` oldest waiting records; `unmatched` of them never found their map. */
  private dropBounced(t: TaskState, n: number, unmatched = n): void {
    if (unmatched > 0) this.noteUnmatched(t, unmatched);
    for (let i = n; i < t.bn; i++) {
      t.bDev[i - n] = t.bDev[i] as number;
      t.bSize[i - n] = t.bSize[i] as number;
      t.bReasons[i - n] = t.bReasons[i] as number;
      t.bLine[i - n] = t.bLine[i] as number;
      t.bAddr[i - n] = t.bAddr[i] as number;
      t.bSeq[i - n] = t.bSeq[i] as number;
    }
    t.bn -= n;
  }

  /**
   * The `k` oldest waiting records of a task never got a map event: with dma:* events, a
   * scatterlist that failed part-way (its mapped entries rolled back without events, the failing
   * one last). Each such run holds at least one failure; a retry starts again at the same buffer,
   * so an address already tried in the attempt, or one an earlier attempt of the run began with,
   * starts another failed attempt.
   */
  private noteUnmatched(t: TaskState, k: number): void {
    this.bouncedUnmatched += k;
    if (!this.level.dma || this.level.tbl) return;
    this.unmatchedRuns++;
    let attempts = 1;
    const seen = new Set<number>();
    const firsts = new Set<number>([t.bAddr[0] as number]);
    for (let i = 0; i < k; i++) {
      const a = t.bAddr[i] as number;
      if (seen.has(a) || (i > 0 && firsts.has(a))) {
        attempts++;
        seen.clear();
        firsts.add(a);
      }
      seen.add(a);
    }
    this.unmatchedFailures += attempts;
    // their slots were taken and given back unseen: every area's search index may have moved
    this.hiddenAreas = -1;
    if (this.unmatchedFirst === null) this.unmatchedFirst = { file: this.file, line: t.bLine[0] as number };
  }

  /**
   * The swiotlb_bounced record of this map, if the task has one: returns its reasons or -1. With
   * the buffer's address (`phys`), the latest record of it: earlier ones were attempts that failed.
   */
  private takeBounced(t: TaskState, dev: number, size: number, phys = -1): number {
    this.takenSeq = -1;
    this.takenAfterUnmatched = false;
    if (phys >= 0) {
      for (let i = t.bn - 1; i >= 0; i--) {
        if (t.bAddr[i] === phys && t.bDev[i] === dev && t.bSize[i] === size) {
          const r = t.bReasons[i] as number;
          this.takenSeq = t.bSeq[i] as number;
          this.takenLine = t.bLine[i] as number;
          this.takenAfterUnmatched = i > 0 || t.rolledBack;
          t.rolledBack = false;
          this.dropBounced(t, i + 1, i);
          return r;
        }
      }
    }
    for (let i = 0; i < t.bn; i++) {
      if (t.bDev[i] === dev && t.bSize[i] === size) {
        const r = t.bReasons[i] as number;
        this.takenSeq = t.bSeq[i] as number;
        this.takenLine = t.bLine[i] as number;
        this.takenAfterUnmatched = i > 0 || t.rolledBack;
        t.rolledBack = false;
        // records before it were attempts whose map event never came
        this.dropBounced(t, i + 1, i);
        return r;
      }
    }
    return -1;
  }

  // ---------------------------------------------------------------- maps

  /**
   * min_align_mask when no probe recorded it (dma:* events, function-level probes): a bounce
   * keeps orig_addr & min_align_mask & 0x7ff as its in-slot offset and matches orig_addr on the
   * mask's bits above. Drivers set 0 or a page mask (NVMe, Hyper-V storvsc: 0xfff), so the
   * evidence decides between those; with no evidence yet (page-aligned buffers) the driver decides.
   */
  private inferMinAlignMask(d: DeviceEvidence, c: MapCall): number {
    if (d.minAlignSource === 'probe') return d.minAlignMask;
    const origAddr = c.origAddr;
    const tlbAddr = c.tlbAddr;
    if ((tlbAddr & (IO_TLB_SIZE - 1)) !== 0) d.offsetsKept = true;
    else if ((origAddr & (IO_TLB_SIZE - 1)) !== 0) d.offsetsDropped = true;
    if (((origAddr ^ tlbAddr) & IO_TLB_SIZE) !== 0) d.bit11Differs = true;
    else if ((origAddr & IO_TLB_SIZE) !== 0) {
      // bit 11 kept: a page-sized bounce steps by 2 slots from the (page-aligned) pool start,
      // so only a min_align_mask with bit 11 keeps it; a smaller one keeps it by chance half the time
      if (c.size >= 4096) d.bit11KeptPage = true;
      else d.bit11KeptSmall++;
    }
    const decided = d.offsetsDropped || d.offsetsKept || d.bit11Differs || d.bit11KeptPage;
    if (!decided && Math.abs(d.alignVotesMask - d.alignVotesZero) < 3) this.voteMinAlign(d, c);
    let m: number;
    let source: DeviceEvidence['minAlignSource'] = 'inferred';
    if (d.offsetsDropped) m = 0;
    else if (d.offsetsKept) m = d.bit11Differs ? IO_TLB_SIZE - 1 : 0xfff;
    else if (d.bit11Differs) m = 0;
    else if (d.bit11KeptPage || d.bit11KeptSmall >= 3 || d.alignVotesMask > d.alignVotesZero) m = 0xfff;
    else if (d.alignVotesZero > d.alignVotesMask) m = 0;
    else if (KNOWN_MIN_ALIGN[d.driver] !== undefined) {
      m = KNOWN_MIN_ALIGN[d.driver] as number;
      source = 'driver';
    } else m = 0;
    d.minAlignMask = m;
    d.minAlignSource = source;
    return m;
  }

  /**
   * Which of 0 and 0xfff places this bounce where the kernel did, by the primary model's pool as
   * it stands (the kernel's, followed so far): a vote for that mask when only one does.
   */
  private voteMinAlign(d: DeviceEvidence, c: MapCall): void {
    const p = this.runs[0];
    if (!p || this.light || p.sampled) return;
    const req = this.req;
    let okZero = false;
    let okMask = false;
    for (const mask of [0, 0xfff]) {
      req.dev.minAlignMask = mask;
      req.dev.segBoundaryBits = c.boundaryBits;
      const pred = p.mem.predictMapSingle(req as MapRequest);
      const ok = pred.ok && pred.index === p.mem.runStartOf(req as MapRequest, c.tlbAddr);
      if (mask === 0) okZero = ok;
      else okMask = ok;
    }
    if (okMask && !okZero) d.alignVotesMask++;
    else if (okZero && !okMask) d.alignVotesZero++;
  }

  /** The reused map call, reset for a new map. */
  private mapCall(ev: EventLine, line: number, api: Api, dev: number): MapCall {
    const c = this.call;
    c.ev = ev;
    c.line = line;
    c.api = api;
    c.dev = dev;
    c.allocAlignMask = 0;
    c.minAlignMask = -1;
    c.raced = false;
    c.sgPhys = -1;
    return c;
  }

  /**
   * A map whose outcome the trace shows (c.tlbAddr: the bounce buffer, or -1 when it failed).
   * Every profile predicts and follows; the primary's state is the kernel's pool. Returns the
   * live handle of a bounced map, else -1.
   */
  private commitMap(c: MapCall): number {
    const d = this.dev(c.dev);
    const req = this.request(c, d);
    if (c.tlbAddr >= 0 && this.pastPool(c)) return this.unkeptMap(c, req);
    if (this.whatIf) return this.whatIfMap(req, c);
    const f = this.followKernel(req, c);
    return c.tlbAddr >= 0 ? this.bouncedMap(c, d, req, f.committed, f.held) : this.failedMap(c, d, req, f.predicted);
  }

  /** What followKernel() found (reused: a map allocates nothing). */
  private readonly followed: { committed: MapResult | undefined; predicted: MapResult | undefined; held: number } = {
    committed: undefined,
    predicted: undefined,
    held: 0,
  };

  /** The model's request for a map call (min_align_mask inferred when the trace does not say). */
  private request(c: MapCall, d: DeviceEvidence): ScratchMapRequest {
    const req = this.req;
    req.cpu = c.ev.cpu;
    req.origAddr = c.origAddr;
    req.mappingSize = c.size;
    req.allocSize = c.allocSize;
    req.allocAlignMask = c.allocAlignMask;
    req.dir = (c.dir >= 0 && c.dir <= 3 ? c.dir : DmaDirection.BIDIRECTIONAL) as DmaDirection;
    req.attrs = c.attrs;
    if (c.minAlignMask < 0) {
      c.minAlignMask = c.tlbAddr >= 0 ? this.inferMinAlignMask(d, c) : Math.max(d.minAlignMask, 0);
    }
    req.dev.minAlignMask = c.minAlignMask;
    req.dev.segBoundaryBits = c.boundaryBits;
    return req;
  }

  /** Every profile predicts the map and follows the kernel's answer (past its sample, only the primary). */
  private followKernel(req: ScratchMapRequest, c: MapCall): TraceAnalyzer['followed'] {
    const g = this.ensureGeometry();
    const f = this.followed;
    let committed: MapResult | undefined;
    let predicted: MapResult | undefined;
    let held = 0;
    f.committed = undefined;
    f.predicted = undefined;
    f.held = 0;
    if (g.base === null || this.light) return f;
    let orderMayDiffer: boolean | null = null;
    const pool0 = (this.runs[0] as ProfileRun).pool;
    const obsArea = c.tlbAddr >= 0 && pool0.isInPool(c.tlbAddr) ? pool0.areaOf(Math.floor((c.tlbAddr - pool0.start) / IO_TLB_SIZE)) : -1;
    const hidden = obsArea >= 0 ? (this.hiddenAreas & (1 << (obsArea & 31))) !== 0 : this.hiddenAreas !== 0;
    for (let i = 0; i < this.runs.length; i++) {
      const r = this.runs[i] as ProfileRun;
      if (i > 0 && r.compared >= this.sampleLimit) {
        r.sampled = true;
        continue;
      }
      const res = r.follow(req as MapRequest, c.tlbAddr, c.raced, c.line);
      if (r.missed) {
        // the pool changed between this map's swiotlb_bounced (before the search) and its event
        // (after it), another task is between the two, or entries of this task were mapped and
        // rolled back without events just before: the search may have seen another pool
        orderMayDiffer ??=
          this.level.dma &&
          !this.level.tbl &&
          (hidden ||
            this.takenAfterUnmatched ||
            (this.takenSeq >= 0 && this.takenSeq !== this.eventSeq) ||
            this.othersPending(c.ev) ||
            this.afterRecentRun(obsArea, c.tlbAddr));
        if (orderMayDiffer) {
          r.excuseLast();
          // committed out of the allocator's order, the area's search index may now be stale
          if (i === 0 && obsArea >= 0) this.hiddenAreas |= 1 << (obsArea & 31);
        }
      }
      if (res) held |= 1 << i;
      if (i === 0) {
        committed = res;
        predicted = r.predicted;
        // a placement as predicted: that area's search index is known again
        if (!r.missed && obsArea >= 0 && pool0.nareas <= 32) this.hiddenAreas &= ~(1 << obsArea);
      }
    }
    if (c.tlbAddr >= 0 && !committed) {
      this.diag(
        c.line,
        `the kernel's bounce buffer at ${hexAddr(c.tlbAddr)} is ${this.runs[0]?.pool.isInPool(c.tlbAddr) ? 'on slots the model still holds (events lost, or mappings made before the trace began)' : 'outside the pool'}: not counted in the occupancy`,
      );
    }
    f.committed = committed;
    f.predicted = predicted;
    f.held = held;
    return f;
  }

  /**
   * The kernel's run starts where a recent run of its area ended: the search index was there, as
   * if that run had been the area's last allocation, while events after it (committed since) came
   * from allocations the kernel had made before it.
   */
  private afterRecentRun(area: number, tlb: number): boolean {
    const p = this.runs[0];
    if (!p || area < 0 || tlb < 0) return false;
    const slot = Math.floor((tlb - p.pool.start) / IO_TLB_SIZE);
    const ends = this.recentEnds;
    // not the latest run: its end is where the model's search starts anyway
    const latest = area * RECENT + (((this.recentNext[area] as number) + RECENT - 1) % RECENT);
    for (let k = area * RECENT; k < (area + 1) * RECENT && k < ends.length; k++) {
      if (k === latest) continue;
      const e = ends[k] as number;
      if (e >= 0 && slot >= e && slot <= e + 1) return true;
    }
    return false;
  }

  /**
   * Another task has bounced (swiotlb_bounced fires before the slot search) without its map
   * event yet: its slots may be taken already, the dma:* order is not the allocator's here.
   */
  private othersPending(ev: EventLine): boolean {
    if (this.takenSeq < 0) return false;
    const key = ev.pid > 0 ? ev.pid : -1 - ev.cpu;
    // records long before this map's own are attempts that failed (their map event never comes)
    const since = this.takenLine - PENDING_LINES;
    // over the values: an entries iterator makes a [key, value] array per task
    for (const t of this.tasks.values()) if (t.key !== key && t.bn > 0 && (t.bLine[t.bn - 1] as number) >= since) return true;
    return false;
  }

  /** Where the kernel put a bounced map: the primary model's slots, counted slots past the sample, or a slot count. */
  private readonly placement: Placement = { slot: -1, nslots: 0, area: -1, copied: 0 };

  private place(c: MapCall, req: ScratchMapRequest, committed: MapResult | undefined): Placement {
    const primary = this.runs[0];
    // one object reused: the caller reads it before the next map
    const p = this.placement;
    p.slot = -1;
    p.nslots = 0;
    p.area = -1;
    p.copied = 0;
    if (committed && primary) {
      p.nslots = committed.nslots;
      p.slot = committed.index;
      p.area = primary.pool.areaOf(p.slot);
      p.copied = committed.copiedBytes;
      this.noteRunEnd(primary.pool, p.area, p.slot + p.nslots);
      this.used = primary.pool.totalUsed;
      this.noteChange(p.slot);
      const au = primary.pool.areaUsed[p.area] as number;
      if (au > (this.peakArea[p.area] ?? 0)) this.peakArea[p.area] = au;
      if (primary.compared >= this.sampleLimit) this.enterLight();
    } else if (this.light && primary) {
      // past the check sample: the kernel's placements are counted, no longer modelled
      const mem = primary.mem;
      const tlb = c.tlbAddr;
      p.nslots = c.allocAlignMask === 0 ? nrSlots(c.allocSize + (tlb & (IO_TLB_SIZE - 1))) : mem.requestSlots(req as MapRequest);
      p.slot = c.allocAlignMask === 0 ? Math.floor((tlb - primary.pool.start) / IO_TLB_SIZE) : mem.runStartOf(req as MapRequest, tlb);
      if (p.slot < 0 || p.slot + p.nslots > primary.pool.nslabs) {
        this.diag(c.line, `the kernel's bounce buffer at ${hexAddr(tlb)} is outside the pool: not counted in the occupancy`);
        p.nslots = 0;
        p.slot = -1;
      } else {
        p.area = primary.pool.areaOf(p.slot);
        this.used += p.nslots;
        const au = (this.lightAreaUsed[p.area] as number) + p.nslots;
        this.lightAreaUsed[p.area] = au;
        if (au > (this.peakArea[p.area] ?? 0)) this.peakArea[p.area] = au;
        p.copied = copiesOnMap(primary.profile, req.dir, c.attrs) ? c.size : 0;
      }
    } else if (this.ensureGeometry().base === null) {
      p.nslots = nrSlots(c.size + (c.tlbAddr & (IO_TLB_SIZE - 1)));
      this.used += p.nslots;
    }
    return p;
  }

  /** A bounced run as evidence of the device's segment boundary: infer 0xffff, or give it up. */
  private noteBoundary(d: DeviceEvidence, tlb: number, size: number, line: number): void {
    noteRun(d.runs, tlb, size);
    if (d.boundarySource === 'probe') return;
    if (d.runs.crossedBits >= d.boundaryBits) {
      const was = d.boundaryBits;
      d.boundaryBits = defaultBoundaryBits(d.name);
      d.boundaryNote = `${hexAddr(tlb)} (${size} B, ${this.file}:${line}) straddles ${formatBoundary(was)}: not the ${d.boundarySource === 'driver' ? "driver's" : 'inferred'} boundary`;
      d.boundarySource = 'default';
    } else if (
      d.boundarySource === 'default' &&
      d.boundaryBits > 16 &&
      !d.boundaryNote &&
      boundaryBitsFromRuns(d.runs, BOUNDARY_EVIDENCE) !== undefined
    ) {
      d.boundaryBits = 16;
      d.boundarySource = 'inferred';
      d.boundaryNote = `no bounce up to ${this.file}:${line} straddles 64 KiB where ${Math.round(d.runs.expected)} would have by chance`;
    }
  }

  private noteRunEnd(pool: IoTlbPool, area: number, end: number): void {
    if (this.recentEnds.length !== pool.nareas * RECENT) {
      this.recentEnds = new Int32Array(pool.nareas * RECENT).fill(-1);
      this.recentNext = new Int32Array(pool.nareas);
    }
    const k = this.recentNext[area] as number;
    this.recentEnds[area * RECENT + k] = end;
    this.recentNext[area] = (k + 1) % RECENT;
  }

  private bouncedMap(c: MapCall, d: DeviceEvidence, req: ScratchMapRequest, committed: MapResult | undefined, held: number): number {
    const tlb = c.tlbAddr;
    this.noteBoundary(d, tlb, c.allocSize, c.line);
    const p = this.place(c, req, committed);
    const prev = this.live.byTlb.get(tlb);
    if (prev !== undefined) {
      this.diag(c.line, `a second live mapping at ${hexAddr(tlb)} (the first from line ${this.live.line[prev]}): the first is dropped`);
      this.dropLive(prev);
    }
    const e = this.mapEvent(c, req, Outcome.Bounced, c.reasons);
    e.slot = p.slot;
    e.area = p.area;
    e.nslots = p.nslots;
    e.dma = tlb;
    e.copied = p.copied;
    const row = this.record(e);
    const L = this.live;
    const h = L.add(tlb);
    L.origAddr[h] = c.origAddr;
    L.size[h] = c.allocSize;
    L.nslots[h] = p.nslots;
    L.dev[h] = c.dev;
    L.dir[h] = req.dir;
    L.attrs[h] = c.attrs;
    L.minAlignMask[h] = c.minAlignMask;
    L.row[h] = row;
    L.held[h] = held;
    L.slot[h] = p.slot;
    L.line[h] = c.line;
    L.id[h] = this.nextOpId++;
    if (c.sgPhys >= 0) L.indexPhys(h, c.sgPhys);
    this.emitMapOp(c, d, req, L.id[h] as number, true, p.slot);
    return h;
  }

  /** A new live mapping would hold more slots than the pool has (with no pool start: by slot counts). */
  private pastPool(c: MapCall): boolean {
    if (this.live.byTlb.get(c.tlbAddr) !== undefined) return false; // replaces a live one
    const g = this.ensureGeometry();
    if (this.live.count >= g.nslabs) return true;
    return g.base === null && this.used + nrSlots(c.allocSize + (c.tlbAddr & (IO_TLB_SIZE - 1))) > g.nslabs;
  }

  /** Maps past the pool's slot count, not kept as live (the first one says why). */
  liveOverflow = 0;

  /**
   * A bounced map while as many bounce mappings are live as the pool has slots: each holds at
   * least one slot, so the trace lacks unmaps (events lost, maps of another pool) or the pool is
   * not the size assumed. Counted as a map, not kept: the live table stays within the pool.
   */
  private unkeptMap(c: MapCall, req: ScratchMapRequest): number {
    if (this.liveOverflow++ === 0) {
      const g = this.ensureGeometry();
      this.diag(
        c.line,
        `${this.live.count} live bounce mappings hold ${this.used} slots and this one would take more than the pool has (${g.nslabs}, from ${g.sources.nslabs}): live mappings cannot hold more slots than the pool, so unmaps are missing (events lost, or maps of another pool) or the pool is larger than assumed (give the boot log or --cmdline); from here a bounced map is counted but not kept as live, and the occupancy is a lower bound`,
      );
    }
    if (!this.whatIf) this.record(this.mapEvent(c, req, Outcome.Bounced, c.reasons));
    return -1;
  }

  /** The kernel failed this map: why (by what the pool held), what it printed, the row. */
  private failedMap(c: MapCall, d: DeviceEvidence, req: ScratchMapRequest, predicted: MapResult | undefined): number {
    const g = this.ensureGeometry();
    this.emitMapOp(c, d, req, this.nextOpId++, false, -1);
    const primary = this.runs[0];
    const slotsNeeded = predicted?.nslots ?? nrSlots(c.allocSize + (c.origAddr & c.minAlignMask & (IO_TLB_SIZE - 1)));
    // "full" (or too big), told apart by what the pool holds; unknown without a pool
    const free = this.light ? this.lightFree : primary?.pool;
    const causeBit = free ? failureReason('full', slotsNeeded, free) : slotsNeeded > IO_TLB_SEGSIZE ? Reason.TooBig : 0;
    const cause = causeBit ? (reasonCodes(causeBit)[0] as string) : 'unknown';
    const profile = primary?.profile ?? g.profile;
    const sz = profile.fullMessageIncludesOffset ? (predicted?.reqBytes ?? c.allocSize) : c.allocSize;
    const message = `${d.name ? `${d.driver ? `${d.driver} ` : ''}${d.name}: ` : ''}${bufferFullMessage(sz, g.nslabs, this.used)}`;
    this.noteFailure(c.line, d.name, c.size, slotsNeeded, cause, message);
    const e = this.mapEvent(c, req, Outcome.Failed, c.reasons | causeBit);
    e.message = message;
    this.record(e);
    return -1;
  }

  /** The row of a map the kernel answered (the caller adds where it went, or what the kernel said). */
  private mapEvent(c: MapCall, req: ScratchMapRequest, outcome: Outcome, reasons: number): EventInit {
    const e = this.event(EventKind.Map, outcome, c.ev.time, c.ev.cpu, c.dev, c.api, c.line);
    e.size = c.size;
    e.dir = req.dir;
    e.attrs = c.attrs;
    e.reasons = reasons;
    e.used = this.used;
    e.phys = c.origAddr;
    return e;
  }

  /**
   * The event of a map or an unmap, one object for all of them: the recorder copies what it keeps
   * (books and table columns) before the next. Every column is cleared here, so an event holds
   * only what its caller sets, as a fresh literal would.
   */
  private readonly scratch: EventInit = {
    kind: EventKind.Map,
    outcome: undefined,
    time: undefined,
    cpu: undefined,
    device: undefined,
    api: undefined,
    size: undefined,
    dir: undefined,
    attrs: undefined,
    reasons: undefined,
    slot: undefined,
    nslots: undefined,
    area: undefined,
    used: undefined,
    phys: undefined,
    dma: undefined,
    copied: undefined,
    pair: undefined,
    file: undefined,
    line: undefined,
    message: undefined,
  };

  /**
   * The reused row (the recorder copies it before the next) with what every row has; the caller
   * sets the rest. Every other field is cleared, so nothing leaks from the previous row.
   */
  private event(kind: EventKind, outcome: Outcome, time: number, cpu: number, device: number, api: Api, line: number): EventInit {
    const e = this.scratch;
    e.kind = kind;
    e.outcome = outcome;
    e.time = time;
    e.cpu = cpu;
    e.device = device;
    e.api = this.apiIds[api];
    e.file = this.file;
    e.line = line;
    e.size = undefined;
    e.dir = undefined;
    e.attrs = undefined;
    e.reasons = undefined;
    e.slot = undefined;
    e.nslots = undefined;
    e.area = undefined;
    e.used = undefined;
    e.phys = undefined;
    e.dma = undefined;
    e.copied = undefined;
    e.pair = undefined;
    e.message = undefined;
    return e;
  }

  private noteFailure(line: number, device: string, size: number, nslots: number, cause: string, message: string): void {
    if (this.failures.length < MAX_FAILURES) this.failures.push({ file: this.file, line, device, size, nslots, cause, message });
  }

  /** The map as a replay op (onOp): what checks against ops files compare. */
  private emitMapOp(c: MapCall, d: DeviceEvidence, req: ScratchMapRequest, id: number, ok: boolean, index: number): void {
    this.options.onOp?.({
      op: 'map',
      id,
      line: c.line,
      cpu: c.ev.cpu,
      dev: d.name,
      origAddr: c.origAddr,
      size: c.size,
      allocSize: c.allocSize,
      minAlignMask: c.minAlignMask,
      boundaryBits: c.boundaryBits,
      dir: req.dir,
      ok,
      index,
      tlbAddr: ok ? c.tlbAddr : -1,
      raced: c.raced,
    });
  }

  /** Sizing pass: every pool places the request itself; a map the kernel failed is given back at once. */
  private whatIfMap(req: ScratchMapRequest, c: MapCall): number {
    const pools = this.whatIf as WhatIfPool[];
    const L = this.live;
    const tlb = c.tlbAddr;
    let h = -1;
    if (tlb >= 0) {
      const prev = L.byTlb.get(tlb);
      if (prev !== undefined) this.whatIfRelease(prev);
      h = L.add(tlb);
      L.origAddr[h] = c.origAddr;
      L.size[h] = c.allocSize;
      L.minAlignMask[h] = c.minAlignMask;
      L.dev[h] = c.dev;
    }
    let held = 0;
    for (let i = 0; i < pools.length; i++) {
      const p = pools[i] as WhatIfPool;
      const r = p.mem.tblMapSingle(req as MapRequest);
      if (r.ok) {
        if (h >= 0) {
          if (h >= p.tlbAddr.length) {
            const bigger = new Float64Array(Math.max(p.tlbAddr.length * 2, h + 1));
            bigger.set(p.tlbAddr);
            p.tlbAddr = bigger;
          }
          p.tlbAddr[h] = r.tlbAddr;
          held |= 1 << i;
          if (p.mem.used > p.peak) p.peak = p.mem.used;
        } else {
          // the trace has no unmap for a map the kernel failed: assume it was released at once
          p.mem.pool.releaseSlots(r.tlbAddr, c.minAlignMask, c.allocSize);
        }
      } else if (r.reason === 'too-big') {
        p.tooBig++;
      } else {
        if (p.failures === 0) p.firstFailureLine = c.line;
        p.failures++;
      }
    }
    if (h >= 0) L.held[h] = held;
    return h;
  }

  private whatIfRelease(h: number): void {
    const L = this.live;
    const held = L.held[h] as number;
    const pools = this.whatIf as WhatIfPool[];
    for (let i = 0; i < pools.length; i++) {
      if (held & (1 << i)) {
        const p = pools[i] as WhatIfPool;
        p.mem.pool.releaseSlots(p.tlbAddr[h] as number, L.minAlignMask[h] as number, L.size[h] as number);
      }
    }
    L.remove(h);
  }

  /**
   * The primary profile has compared its sample: from here on the kernel's placements are
   * counted (slots and areas) instead of modelled, which is all occupancy needs.
   */
  private enterLight(): void {
    const p = this.runs[0] as ProfileRun;
    this.light = true;
    p.sampled = true;
    this.lightAreaUsed = Int32Array.from(p.pool.areaUsed);
  }

  /** The counted areas' free slots, for failureReason() past the check sample. */
  private readonly lightFree: FreeSlots = {
    anyAreaHas: (nslots) => {
      const areaNslabs = (this.runs[0] as ProfileRun).pool.areaNslabs;
      for (const u of this.lightAreaUsed) if (areaNslabs - u >= nslots) return true;
      return false;
    },
  };

  private noteChange(slot: number): void {
    this.seq++;
    const g = this.geometry;
    if (!g || slot < 0) return;
    const a = Math.floor(slot / Math.floor(g.nslabs / g.nareas));
    if (a < this.areaChangeSeq.length) this.areaChangeSeq[a] = this.seq;
  }

  /** Unmap of live handle `h`: every profile holding it releases. */
  private commitUnmap(ev: EventLine | null, line: number, api: Api, h: number, size: number, dir: number, attrs: number): number {
    const L = this.live;
    if (this.whatIf) {
      this.whatIfRelease(h);
      return 0;
    }
    this.options.onOp?.({ op: 'unmap', id: L.id[h] as number, line });
    const tlb = L.tlbAddr[h] as number;
    const held = L.held[h] as number;
    const minAlignMask = L.minAlignMask[h] as number;
    const mapSize = L.size[h] as number;
    const devId = L.dev[h] as number;
    let freed = 0;
    let copied = 0;
    if (this.level.tbl && this.level.dma && api === Api.TblUnmapSingle && attrs >= 0 && (attrs & DMA_ATTR.SKIP_CPU_SYNC) !== 0) {
      // dma-direct synced for the CPU (the copy back) and then unmapped with SKIP_CPU_SYNC; the
      // caller's own attrs are on the dma_unmap_* event: count the copy that sync made
      attrs &= ~DMA_ATTR.SKIP_CPU_SYNC;
    }
    for (let i = 0; i < this.runs.length; i++) {
      if (!(held & (1 << i))) continue;
      const r = this.runs[i] as ProfileRun;
      if (r.sampled) continue;
      if (i === 0) {
        const u = r.mem.tblUnmapSingle(
          tlb,
          size >= 0 ? size : mapSize,
          (dir >= 0 ? dir : (L.dir[h] as number)) as DmaDirection,
          Math.max(attrs, 0),
          this.unmapDev(minAlignMask),
        );
        if (!u.ok) this.diag(line, `unmap of ${hexAddr(tlb)}: ${u.error}`);
        freed = u.freedSlots;
        copied = u.copiedBytes;
      } else {
        r.release(tlb, minAlignMask, size >= 0 ? size : mapSize);
      }
    }
    const slot = L.slot[h] as number;
    const primary = this.runs[0];
    if (primary && !primary.sampled) {
      this.used = primary.pool.totalUsed;
      if (held & 1) this.noteChange(slot);
    } else {
      freed = L.nslots[h] as number;
      this.used -= freed;
      if (primary && slot >= 0) {
        (this.lightAreaUsed[primary.pool.areaOf(slot)] as number) -= freed;
        const dd = dir >= 0 ? dir : (L.dir[h] as number);
        if (!(Math.max(attrs, 0) & DMA_ATTR.SKIP_CPU_SYNC) && (dd === DmaDirection.FROM_DEVICE || dd === DmaDirection.BIDIRECTIONAL)) {
          copied = size >= 0 ? size : mapSize;
        }
      }
    }
    const mapRow = L.row[h] as number;
    const e = this.event(EventKind.Unmap, Outcome.Released, ev ? ev.time : this.lastEventTime, ev ? ev.cpu : -1, devId, api, line);
    e.size = size >= 0 ? size : mapSize;
    e.dir = (dir >= 0 ? dir : (L.dir[h] as number)) as DmaDirection;
    e.attrs = Math.max(attrs, 0);
    e.slot = slot;
    e.area = slot >= 0 ? (this.runs[0]?.pool.areaOf(slot) ?? -1) : -1;
    e.nslots = freed;
    e.used = this.used;
    e.dma = tlb;
    e.copied = copied;
    e.pair = mapRow;
    const row = this.record(e);
    this.recorder.pair(mapRow, row);
    L.remove(h);
    return freed;
  }

  private readonly scratchDev = { minAlignMask: 0, segBoundaryBits: 64 };
  /** Device parameters for an unmap or sync (the model reads them and keeps nothing). */
  private unmapDev(minAlignMask: number): { minAlignMask: number; segBoundaryBits: number } {
    this.scratchDev.minAlignMask = minAlignMask;
    return this.scratchDev;
  }

  private dropLive(h: number): void {
    const L = this.live;
    const held = L.held[h] as number;
    for (let i = 0; i < this.runs.length; i++) {
      if (held & (1 << i)) (this.runs[i] as ProfileRun).release(L.tlbAddr[h] as number, L.minAlignMask[h] as number, L.size[h] as number);
    }
    const primary = this.runs[0];
    if (primary && !primary.sampled) this.used = primary.pool.totalUsed;
    else {
      this.used -= L.nslots[h] as number;
      if (primary && (L.slot[h] as number) >= 0)
        (this.lightAreaUsed[primary.pool.areaOf(L.slot[h] as number)] as number) -= L.nslots[h] as number;
    }
    L.remove(h);
  }

  private sync(ev: EventLine, line: number, api: Api, h: number, addr: number, size: number, dir: number): void {
    const L = this.live;
    const devId = L.dev[h] as number;
    const d = this.dev(devId);
    const toCpu = api === Api.DmaSyncSingleForCpu || api === Api.DmaSyncSgForCpu || api === Api.TblSyncForCpu;
    const dd = (dir >= 0 ? dir : (L.dir[h] as number)) as DmaDirection;
    let copied = 0;
    const r = this.runs[0];
    if (r?.sampled) {
      const copies = toCpu
        ? dd === DmaDirection.FROM_DEVICE || dd === DmaDirection.BIDIRECTIONAL
        : dd === DmaDirection.TO_DEVICE || dd === DmaDirection.BIDIRECTIONAL;
      if (copies) copied = size;
    } else if (r && ((L.held[h] as number) & 1) !== 0 && dd !== DmaDirection.NONE) {
      const dev = this.unmapDev(L.minAlignMask[h] as number);
      const b = toCpu ? r.mem.syncSingleForCpu(addr, size, dd, dev) : r.mem.syncSingleForDevice(addr, size, dd, dev);
      copied = b.bytes;
      if (b.warning) this.diag(line, `${d.name}: ${b.warning}`, 'info');
    }
    // not an occupancy sample: a sync leaves the pool as it is
    const e = this.event(toCpu ? EventKind.SyncForCpu : EventKind.SyncForDevice, Outcome.Synced, ev.time, ev.cpu, devId, api, line);
    e.size = size;
    e.dir = dir as DmaDirection;
    e.dma = addr;
    e.copied = copied;
    e.pair = L.row[h] as number;
    this.record(e);
  }

  /** The live mapping a sync address falls in (syncs may start inside a mapping). */
  private liveAt(addr: number): number {
    const h = this.live.byTlb.get(addr);
    if (h !== undefined) return h;
    // dma_sync_single_range_*: look at the few slots before
    const base = addr - (addr % IO_TLB_SIZE);
    for (let k = 0; k < IO_TLB_SEGSIZE; k++) {
      for (let off = 0; off < IO_TLB_SIZE; off += 512) {
        const cand = this.live.byTlb.get(base - k * IO_TLB_SIZE + off);
        if (cand !== undefined && addr < base - k * IO_TLB_SIZE + off + (this.live.size[cand] as number)) return cand;
      }
      if (k >= 8) break;
    }
    return -1;
  }

  private inPool(dma: number): boolean {
    const g = this.ensureGeometry();
    return g.base !== null && dma >= g.base && dma < g.base + g.nslabs * IO_TLB_SIZE;
  }

  // ---------------------------------------------------------------- dma:* events

  dmaMap(
    ev: EventLine,
    line: number,
    api: Api,
    dev: number,
    dir: number,
    dma: number,
    size: number,
    phys: number,
    attrs: number,
    failed: boolean,
  ): void {
    this.noteEvent(ev);
    this.noteDma(line);
    if (this.level.tbl) {
      this.dev(dev).apiCalls++;
      return;
    }
    this.mapEntryOfDma(ev, line, api, dev, dir, dma, size, phys, attrs, failed, -1);
  }

  private mapEntryOfDma(
    ev: EventLine,
    line: number,
    api: Api,
    dev: number,
    dir: number,
    dma: number,
    size: number,
    phys: number,
    attrs: number,
    failed: boolean,
    sgPhys: number,
  ): void {
    const g = this.ensureGeometry();
    const d = this.dev(dev);
    // a map in the pool (or a failure) is the one a waiting swiotlb_bounced of this task announced;
    // a direct map must not take another map's record
    const inPool = !failed && g.base !== null && this.inPool(dma);
    if (!inPool && !failed && phys >= 0 && dma !== phys && g.base !== null && this.facts.inferredBase === g.base)
      this.noteOutsideInferred(line, dma);
    const mayHaveBounced = api !== Api.DmaMapResource && (failed || inPool || (g.base === null && dma !== phys));
    const task = this.task(ev);
    const reasons = mayHaveBounced ? this.takeBounced(task, dev, size, phys) : -1;
    // a failure leaves the rolled-back entries' effect on the area's search index in place
    if (failed && this.takenAfterUnmatched) task.rolledBack = true;
    const bounceAttempt = reasons >= 0;
    const kind = api === Api.DmaMapResource ? EventKind.MapResource : EventKind.Map;
    const bouncedHere = !failed && (g.base !== null ? inPool : bounceAttempt) && api !== Api.DmaMapResource;
    if (bouncedHere || (failed && bounceAttempt)) {
      const c = this.mapCall(ev, line, api, dev);
      c.origAddr = failed || phys >= 0 ? phys : dma;
      c.size = size;
      c.allocSize = size;
      c.dir = dir;
      c.attrs = attrs;
      c.boundaryBits = d.boundaryBits;
      c.reasons = Math.max(reasons, 0);
      c.tlbAddr = failed ? -1 : dma;
      if (!failed) c.sgPhys = sgPhys;
      this.commitMap(c);
      return;
    }
    if (failed) {
      // failed without trying the pool: not addressable and no swiotlb, or another backend's error
      const message = `${d.name}: mapping failed without a bounce attempt (DMA_MAPPING_ERROR): not addressable and no swiotlb, or an IOMMU error`;
      this.noteFailure(line, d.name, size, 0, reasonCodes(Reason.NoSwiotlb)[0] as string, message);
      this.record({
        kind,
        outcome: Outcome.Failed,
        time: ev.time,
        cpu: ev.cpu,
        device: dev,
        api: this.apiIds[api],
        size,
        ...(dir >= 0 ? { dir: dir as DmaDirection } : {}),
        attrs,
        reasons: Reason.NoSwiotlb,
        ...(phys >= 0 ? { phys } : {}),
        file: this.file,
        line,
        message,
      });
      return;
    }
    if (bounceAttempt) {
      // bounced, but the address is not in the default pool: an IOMMU bounce (IOVA) or another pool
      this.diag(line, `${d.name}: bounced (swiotlb_bounced) but dma_addr ${hexAddr(dma)} is outside the default pool`, 'info');
    }
    const e = this.event(kind, Outcome.Direct, ev.time, ev.cpu, dev, api, line);
    e.size = size;
    e.dir = dir as DmaDirection;
    e.attrs = attrs;
    e.phys = phys;
    e.dma = dma;
    this.record(e);
  }

  dmaUnmap(ev: EventLine, line: number, api: Api, dev: number, dir: number, dma: number, size: number, attrs: number): void {
    this.noteEvent(ev);
    this.noteDma(line);
    if (this.level.tbl) return;
    const h = this.live.byTlb.get(dma);
    if (h !== undefined) {
      // dma-direct: sync for the CPU unless SKIP_CPU_SYNC, then release (the model copies back in its unmap)
      this.commitUnmap(ev, line, api, h, size, dir, attrs);
      return;
    }
    this.unmapOfUnknown(ev, line, api, dev, dma, size, dir, attrs);
  }

  private unmapOfUnknown(ev: EventLine, line: number, api: Api, dev: number, dma: number, size: number, dir: number, attrs: number): void {
    if (dma >= 0 && this.geometry?.base !== null && this.geometry !== null && this.inPool(dma)) {
      this.unmapsUnknown++;
      if (this.unmapsUnknown <= 3) {
        this.diag(
          line,
          `unmap of bounce buffer ${hexAddr(dma)} whose map is not in the trace (mapped before tracing began, or events were lost)`,
          'info',
        );
      }
      return;
    }
    this.dev(dev);
    this.record({
      kind: EventKind.Unmap,
      outcome: Outcome.Unmapped,
      time: ev.time,
      cpu: ev.cpu,
      device: dev,
      api: this.apiIds[api],
      size,
      dir: dir as DmaDirection,
      attrs: Math.max(attrs, 0),
      dma,
      file: this.file,
      line,
    });
  }

  dmaMapSg(ev: EventLine, line: number, dev: number, dir: number, sg: SgArrays, attrs: number, total: number, truncated: boolean): void {
    this.noteEvent(ev);
    this.noteDma(line);
    if (this.level.tbl) {
      this.dev(dev).apiCalls++;
      return;
    }
    if (sg.n === 0 && sg.nPhys > 0) {
      // dma_map_sg_err: an unexpected error, nothing mapped
      this.diag(line, `${this.deviceNames[dev]}: dma_map_sg failed with an unexpected error (${sg.nPhys} entries)`, 'info');
      return;
    }
    const n = Math.min(sg.n, 128);
    const paired = sg.nPhys === sg.nDma;
    for (let i = 0; i < n; i++) {
      const size = sg.size[i] as number;
      const phys = paired ? (sg.phys[i] as number) : -1;
      this.mapEntryOfDma(ev, line, Api.DmaMapSg, dev, dir, sg.dma[i] as number, size, phys, attrs, sg.failed[i] === 1, phys);
    }
    if (truncated || total > n) {
      this.sgTruncated += total - n;
      this.diag(line, `dma_map_sg printed ${n} of ${total} entries: the other ${total - n} cannot be followed`);
    }
  }

  dmaUnmapSg(ev: EventLine, line: number, dev: number, dir: number, sg: SgArrays, attrs: number): void {
    this.noteEvent(ev);
    this.noteDma(line);
    if (this.level.tbl) return;
    for (let i = 0; i < Math.min(sg.nPhys, 128); i++) {
      const phys = sg.phys[i] as number;
      const h = this.live.byPhys.get(phys);
      if (h !== undefined) this.commitUnmap(ev, line, Api.DmaUnmapSg, h, -1, dir, attrs);
      else this.unmapOfUnknown(ev, line, Api.DmaUnmapSg, dev, -1, -1, dir, attrs);
    }
  }

  dmaSync(ev: EventLine, line: number, api: Api, dev: number, dir: number, dma: number, size: number): void {
    this.noteEvent(ev);
    this.noteDma(line);
    if (this.level.tbl) return;
    const h = this.liveAt(dma);
    if (h >= 0) {
      this.sync(ev, line, api, h, dma, size, dir);
      return;
    }
    this.syncsDirect++;
    this.dev(dev);
  }

  dmaCoherent(ev: EventLine, line: number, api: Api, dev: number, dma: number, size: number, failed: boolean): void {
    this.noteEvent(ev);
    this.noteDma(line);
    void line;
    void dma;
    void size;
    void failed;
    if (api === Api.DmaAlloc) this.coherentAllocs++;
    else this.coherentFrees++;
    this.dev(dev).apiCalls++;
  }

  // ---------------------------------------------------------------- swiotlb_tbl_map_single probes

  tblMapEntry(ev: EventLine, line: number, r: TblMapArgs): void {
    this.noteEvent(ev);
    if (!this.level.tbl) {
      this.level.tbl = true;
      if (this.books.maps > 0) this.diag(line, 'swiotlb_tbl_map_single probes start here: earlier maps were followed at the DMA API level');
    }
    const t = this.task(ev);
    if (t.mapActive) {
      this.diag(t.call.line, 'swiotlb_tbl_map_single entry without its return (events lost?): the call is ignored');
    }
    if (r.poolBase > 0) this.notePoolBase(r.poolBase, `map_entry pool=, ${this.file}:${line}`);
    const d = this.dev(r.dev);
    if (r.minAlignMask >= 0) {
      d.minAlignMask = r.minAlignMask;
      d.minAlignSource = 'probe';
    }
    t.mapActive = true;
    t.committed = false;
    const c = t.call;
    c.line = line;
    c.api = Api.TblMapSingle;
    c.dev = r.dev;
    c.origAddr = r.origAddr;
    c.size = r.mappingSize;
    c.allocSize = r.allocSize >= 0 ? r.allocSize : r.mappingSize;
    c.allocAlignMask = Math.max(r.allocAlignMask, 0);
    c.dir = r.dir;
    c.attrs = Math.max(r.attrs, 0);
    c.minAlignMask = r.minAlignMask;
    if (r.boundaryBits >= 0) {
      d.boundaryBits = r.boundaryBits;
      d.boundarySource = 'probe';
    }
    c.boundaryBits = d.boundaryBits;
    c.sgPhys = -1;
    const reasons = this.takeBounced(t, r.dev, r.mappingSize);
    c.reasons = Math.max(reasons, 0);
    t.bounceSeen = reasons >= 0;
    t.nf = 0;
    t.nfArea.length = 0;
    t.nfSeq.length = 0;
    t.expectTlb = -1;
    t.handle = -1;
  }

  poolBase(ev: EventLine, line: number, base: number): void {
    this.noteEvent(ev);
    if (base > 0) this.notePoolBase(base, `pool_base probe, ${this.file}:${line}`);
  }

  /**
   * A pool start from the events. Until a bounce buffer has been counted without it, the pool
   * can still be anchored: the geometry is worked out again at the next map.
   */
  private notePoolBase(base: number, where: string): void {
    if (this.facts.eventBase !== undefined) return;
    this.facts.eventBase = base;
    this.facts.eventBaseAt = `pool base in the events (${where})`;
    if (this.geometry && this.geometry.base === null && this.books.bounced === 0 && !this.options.geometry) {
      this.geometry = null;
      this.runs = [];
    }
  }

  tblMapLock(ev: EventLine, line: number, area: number): void {
    this.noteEvent(ev);
    void line;
    void area;
  }

  tblMapNotFound(ev: EventLine, _line: number, area: number): void {
    this.noteEvent(ev);
    const t = this.task(ev);
    if (!t.mapActive || t.committed) return;
    t.nf++;
    t.nfArea.push(area);
    t.nfSeq.push(this.seq);
    const g = this.ensureGeometry();
    // the kernel gives up after trying every area once: this is its decision point
    if (this.level.lockProbes && t.nf >= g.nareas) {
      this.commitTaskMap(ev, t, -1);
      t.committed = true;
    }
  }

  tblMapFound(ev: EventLine, _line: number, _area: number, slot: number): void {
    this.noteEvent(ev);
    const t = this.task(ev);
    if (!t.mapActive || t.committed) return;
    const g = this.ensureGeometry();
    if (g.base === null) return;
    const m = Math.max(t.call.minAlignMask, 0);
    const tlb = g.base + slot * IO_TLB_SIZE + (t.call.origAddr & m & (IO_TLB_SIZE - 1));
    t.expectTlb = tlb;
    t.handle = this.commitTaskMap(ev, t, tlb);
    t.committed = true;
  }

  /** Whether another CPU changed an area this call searched before the call decided. */
  private raced(t: TaskState): boolean {
    for (let i = 0; i < t.nfArea.length; i++) {
      const a = t.nfArea[i] as number;
      if ((this.areaChangeSeq[a] ?? 0) > (t.nfSeq[i] as number)) return true;
    }
    return false;
  }

  /** A task's pending swiotlb_tbl_map_single at its decision point (the event `ev`). */
  private commitTaskMap(ev: EventLine, t: TaskState, tlbAddr: number): number {
    const c = t.call;
    c.ev = ev;
    c.tlbAddr = tlbAddr;
    c.raced = this.raced(t);
    return this.commitMap(c);
  }

  tblMapReturn(ev: EventLine, line: number, tlb: number, failed: boolean): void {
    this.noteEvent(ev);
    const t = this.task(ev);
    if (!t.mapActive) {
      this.diag(line, 'swiotlb_tbl_map_single return without its entry: ignored', 'info');
      return;
    }
    t.mapActive = false;
    if (t.committed) {
      if (!failed && t.expectTlb >= 0 && tlb !== t.expectTlb && t.handle >= 0) {
        this.diag(line, `returned ${hexAddr(tlb)}, but the slot found says ${hexAddr(t.expectTlb)}`);
        const L = this.live;
        L.byTlb.delete(L.tlbAddr[t.handle] as number);
        L.tlbAddr[t.handle] = tlb;
        L.byTlb.set(tlb, t.handle);
      }
      return;
    }
    this.commitTaskMap(ev, t, failed ? -1 : tlb);
  }

  tblUnmapEntry(ev: EventLine, line: number, dev: number, tlb: number, size: number, dir: number, attrs: number): void {
    this.noteEvent(ev);
    const h = this.live.byTlb.get(tlb);
    if (h === undefined) {
      this.unmapOfUnknown(ev, line, Api.TblUnmapSingle, dev, tlb, size, dir, attrs);
      return;
    }
    if (this.level.lockProbes) {
      const t = this.task(ev);
      if (t.unmapHandle >= 0) this.commitUnmap(ev, t.unmapLine, Api.TblUnmapSingle, t.unmapHandle, t.unmapSize, t.unmapDir, t.unmapAttrs);
      t.unmapHandle = h;
      t.unmapLine = line;
      t.unmapSize = size;
      t.unmapDir = dir;
      t.unmapAttrs = attrs;
      return;
    }
    this.commitUnmap(ev, line, Api.TblUnmapSingle, h, size, dir, attrs);
  }

  tblUnmapLock(ev: EventLine, line: number, slot: number, nslots: number): void {
    this.noteEvent(ev);
    const t = this.task(ev);
    if (t.unmapHandle < 0) return;
    const h = t.unmapHandle;
    t.unmapHandle = -1;
    const modelSlot = this.live.slot[h] as number;
    const freed = this.commitUnmap(ev, t.unmapLine, Api.TblUnmapSingle, h, t.unmapSize, t.unmapDir, t.unmapAttrs);
    if ((modelSlot >= 0 && modelSlot !== slot) || (nslots >= 0 && freed !== nslots && freed > 0)) {
      this.releaseMismatches++;
      if (this.releaseMismatches <= 5) {
        this.diag(line, `the kernel released ${nslots} slots at ${slot}; the model released ${freed} at ${modelSlot}`);
      }
    }
  }

  tblSync(ev: EventLine, line: number, toCpu: boolean, tlb: number, size: number, dir: number): void {
    this.noteEvent(ev);
    const h = this.liveAt(tlb);
    if (h < 0) {
      this.syncsDirect++;
      return;
    }
    this.sync(ev, line, toCpu ? Api.TblSyncForCpu : Api.TblSyncForDevice, h, tlb, size, dir);
  }

  apiProbe(ev: EventLine, line: number, dev: number, sg: boolean): void {
    this.noteEvent(ev);
    void line;
    void sg;
    this.apiProbes++;
    this.dev(dev).apiCalls++;
  }

  mark(ev: EventLine, line: number, text: string): void {
    this.noteEvent(ev);
    this.markersTotal++;
    if (this.markers.length < 1000) this.markers.push({ file: this.file, line, time: ev.time, text });
    this.record({ kind: EventKind.Marker, time: ev.time, cpu: ev.cpu, api: 'tracing_mark_write', file: this.file, line, message: text });
  }

  unknown(ev: EventLine, line: number, name: string): void {
    this.noteEvent(ev);
    void line;
    this.unknownEvents.set(name, (this.unknownEvents.get(name) ?? 0) + 1);
  }

  malformed(_ev: EventLine, line: number, message: string): void {
    this.diag(line, message);
  }

  lost(line: number, text: string): void {
    this.lostEvents++;
    this.diag(line, `${text}: events were lost here; later placements may not be followable`);
  }

  /** Calls still open when a file ends. */
  endFile(): void {
    for (const t of this.tasks.values()) {
      if (t.unmapHandle >= 0) {
        this.commitUnmap(null, t.unmapLine, Api.TblUnmapSingle, t.unmapHandle, t.unmapSize, t.unmapDir, t.unmapAttrs);
        t.unmapHandle = -1;
      }
      if (t.mapActive) {
        t.mapActive = false;
        if (!t.committed) this.diag(t.call.line, 'swiotlb_tbl_map_single entry without a return at the end of the trace: ignored', 'info');
      }
      if (t.bn > 0) this.dropBounced(t, t.bn);
    }
    this.tasks.clear();
    this.lastTask = null;
    this.lastTaskKey = Number.NaN;
  }

  // ---------------------------------------------------------------- logs

  logMessage(msg: LogMessage): void {
    this.log.add(this.file, msg, this.facts);
    this.record({
      kind: EventKind.LogMessage,
      ...(msg.time !== undefined ? { time: msg.time } : {}),
      device: msg.device,
      api: msg.kind,
      ...(msg.size !== undefined ? { size: msg.size } : {}),
      // not `used`: that column is the replayed pool's occupancy; the message's figure is in its text
      file: this.file,
      line: msg.line,
      message: msg.text,
    });
  }

  /** Explains the log's messages (after all inputs are read, so the pool is known). */
  explainLog(): void {
    const nslabs = this.geometry?.nslabs ?? this.facts.mappedNslabs;
    this.log.finish(nslabs !== undefined ? { nslabs } : undefined);
  }
}
