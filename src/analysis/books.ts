/**
 * One set of books for every input: each event an adapter records (trace, log, replay, scenario,
 * driver source) is counted here once, whether or not it is kept as a row, and every figure the
 * CLI and the panel show comes from these counts: events by kind and outcome, bytes copied,
 * failures by cause, bounces by reason, occupancy (peak, time-weighted average, a bounded
 * history), and the same tally per device (and per group, e.g. a driver's call site).
 */
import { FAILURE_MASK, REASON_INFO, Reason } from '../model/reasons';
import { EventKind, Outcome } from './codes';
import type { EventInit } from './columns';

const KINDS = 16;
const OUTCOMES = 8;

const isMapKind = (k: EventKind) => k === EventKind.Map || k === EventKind.MapResource;
/** Requests that take slots: streaming maps and coherent allocations. */
const isRequest = (k: EventKind) => isMapKind(k) || k === EventKind.Alloc;
const isFailure = (o: Outcome) => o === Outcome.Failed || o === Outcome.Hang;

/** The counts of one set of events (all of them, one device's, one group's). */
export class Tally {
  /** Events by kind and outcome. */
  private readonly byKind = new Float64Array(KINDS * OUTCOMES);
  /** Bytes copied by kind of event. */
  private readonly copiedByKind = new Float64Array(KINDS);
  /** Bytes of the requests that were mapped (bounced or direct), and of those that failed. */
  bytesMapped = 0;
  bytesFailed = 0;
  /** Bytes of the maps that bounced. */
  bytesBounced = 0;
  /** The largest map that used or tried the pool (bounced, or failed without a "no swiotlb"). */
  largestMap = 0;
  /** Slots held now and at most (bounced requests take, releases give back). */
  liveSlots = 0;
  peakLiveSlots = 0;
  /** Slots per bounced map: fewest, most, all together. */
  slotsMin = Number.POSITIVE_INFINITY;
  slotsMax = 0;
  slotsTotal = 0;
  /** Every reason any map carried. */
  reasons = 0;
  /** Pool slots in use right after one of these maps, at most. */
  peakUsed = 0;
  /** Maps by reason (REASON_INFO order; the last: failed for a cause the input does not say). */
  private readonly byReason = new Float64Array(REASON_INFO.length + 1);
  /** Reasons in the order they first came (the codes are listed so). */
  private readonly firstSeen: number[] = [];

  /** Failures by cause code (too-big, pool-full, ...; "unknown" when the input does not say). */
  get failuresByCause(): Record<string, number> {
    return this.codes(true);
  }

  /** Bounces by reason code (force, dma-mask, ...). */
  get bouncesByReason(): Record<string, number> {
    return this.codes(false);
  }

  private codes(failures: boolean): Record<string, number> {
    const out: Record<string, number> = {};
    for (const i of this.firstSeen) {
      const info = REASON_INFO[i];
      if (info ? ((info.bit & FAILURE_MASK) !== 0) === failures : failures) out[info?.code ?? 'unknown'] = this.byReason[i] as number;
    }
    return out;
  }

  private bump(i: number): void {
    if (this.byReason[i] === 0) this.firstSeen.push(i);
    this.byReason[i] = (this.byReason[i] as number) + 1;
  }

  /** Events of a kind (and an outcome). */
  count(kind: EventKind, outcome?: Outcome): number {
    const b = kind * OUTCOMES;
    if (outcome !== undefined) return this.byKind[b + outcome] as number;
    let n = 0;
    for (let o = 0; o < OUTCOMES; o++) n += this.byKind[b + o] as number;
    return n;
  }

  private mapCount(outcome?: Outcome): number {
    return this.count(EventKind.Map, outcome) + this.count(EventKind.MapResource, outcome);
  }

  get maps(): number {
    return this.mapCount();
  }
  get direct(): number {
    return this.mapCount(Outcome.Direct);
  }
  get bounced(): number {
    return this.mapCount(Outcome.Bounced);
  }
  /** Maps that failed (DMA_MAPPING_ERROR). */
  get failed(): number {
    return this.mapCount(Outcome.Failed);
  }
  /** Maps the kernel never returns from. */
  get hangs(): number {
    return this.mapCount(Outcome.Hang);
  }
  get allocs(): number {
    return this.count(EventKind.Alloc);
  }
  /** Unmaps and frees, whatever they released. */
  get unmaps(): number {
    return this.count(EventKind.Unmap) + this.count(EventKind.Free);
  }
  get syncs(): number {
    return this.count(EventKind.SyncForCpu) + this.count(EventKind.SyncForDevice);
  }
  /** Bytes copied by events of these kinds (all kinds when none is given). */
  copied(...kinds: EventKind[]): number {
    let n = 0;
    if (kinds.length === 0) for (const c of this.copiedByKind) n += c;
    else for (const k of kinds) n += this.copiedByKind[k] as number;
    return n;
  }
  get bytesCopied(): number {
    return this.copied();
  }

  /** Counts one event. */
  add(e: EventInit): void {
    const kind = e.kind;
    const outcome = e.outcome ?? Outcome.None;
    this.byKind[kind * OUTCOMES + outcome] = (this.byKind[kind * OUTCOMES + outcome] as number) + 1;
    if (e.copied) this.copiedByKind[kind] = (this.copiedByKind[kind] as number) + e.copied;
    const size = e.size ?? -1;
    const nslots = e.nslots ?? 0;
    const reasons = e.reasons ?? 0;
    if (isRequest(kind) && size >= 0) {
      if (outcome === Outcome.Bounced || outcome === Outcome.Direct) this.bytesMapped += size;
      else if (isFailure(outcome)) this.bytesFailed += size;
    }
    if (outcome === Outcome.Bounced) {
      this.liveSlots += nslots;
      if (this.liveSlots > this.peakLiveSlots) this.peakLiveSlots = this.liveSlots;
    } else if (outcome === Outcome.Released) {
      this.liveSlots -= nslots;
    }
    if (!isMapKind(kind)) return;
    this.reasons |= reasons;
    if (e.used !== undefined && e.used > this.peakUsed) this.peakUsed = e.used;
    if (outcome === Outcome.Bounced) {
      if (size >= 0) this.bytesBounced += size;
      if (nslots < this.slotsMin) this.slotsMin = nslots;
      if (nslots > this.slotsMax) this.slotsMax = nslots;
      this.slotsTotal += nslots;
    }
    if ((outcome === Outcome.Bounced || (isFailure(outcome) && !(reasons & Reason.NoSwiotlb))) && size > this.largestMap) {
      this.largestMap = size;
    }
    // failure causes of any map, bounce reasons of the maps that bounced, lowest bit first
    let r = outcome === Outcome.Bounced ? reasons : reasons & FAILURE_MASK;
    while (r !== 0) {
      const bit = r & -r;
      r ^= bit;
      const i = REASON_INDEX[31 - Math.clz32(bit)] as number;
      if (i >= 0) this.bump(i);
    }
    if (isFailure(outcome) && !(reasons & FAILURE_MASK)) this.bump(REASON_INFO.length);
  }
}

/** REASON_INFO's index of each reason bit position (-1: none). */
const REASON_INDEX = Int8Array.from({ length: 32 }, (_, k) => REASON_INFO.findIndex((r) => r.bit === 2 ** k));

/**
 * Occupancy over time in bounded memory: at most `cap` buckets, each with the time it starts
 * and the highest and last occupancy in it; when full, neighbours merge and each bucket covers
 * twice as many samples. The exact peak is kept by the books.
 */
export class OccupancyBuckets {
  private n = 0;
  private width = 1;
  private inBucket = 0;
  readonly time: Float64Array;
  readonly max: Int32Array;
  readonly last: Int32Array;

  constructor(private readonly cap = 4096) {
    this.time = new Float64Array(cap);
    this.max = new Int32Array(cap);
    this.last = new Int32Array(cap);
  }

  get length(): number {
    return this.n;
  }

  add(time: number, used: number): void {
    if (this.inBucket === 0) {
      if (this.n === this.cap) this.halve();
      const i = this.n++;
      this.time[i] = time;
      this.max[i] = used;
      this.last[i] = used;
    } else {
      const i = this.n - 1;
      if (used > (this.max[i] as number)) this.max[i] = used;
      this.last[i] = used;
    }
    if (++this.inBucket >= this.width) this.inBucket = 0;
  }

  private halve(): void {
    const h = this.cap >> 1;
    for (let i = 0; i < h; i++) {
      this.time[i] = this.time[2 * i] as number;
      this.max[i] = Math.max(this.max[2 * i] as number, this.max[2 * i + 1] as number);
      this.last[i] = this.last[2 * i + 1] as number;
    }
    this.n = h;
    this.width *= 2;
  }

  /** Up to `points` [time, highest occupancy] pairs spread over the whole run. */
  points(points: number): [number, number][] {
    const out: [number, number][] = [];
    if (this.n === 0) return out;
    const step = Math.max(1, Math.ceil(this.n / points));
    for (let i = 0; i < this.n; i += step) {
      let m = 0;
      for (let k = i; k < Math.min(i + step, this.n); k++) m = Math.max(m, this.max[k] as number);
      out.push([this.time[i] as number, m]);
    }
    return out;
  }
}

/** Where something happened: the input's file and line, and the time (trace seconds or event number). */
export interface Place {
  readonly file: string;
  readonly line: number;
  readonly time: number;
}

/**
 * The books: the tally of every event, the pool's occupancy and the tallies per device and per
 * group. An event that states `used` (the pool's slots in use after it) is an occupancy sample.
 */
export class Books extends Tally {
  /** Events counted. */
  events = 0;
  /** Times are trace seconds (the average is weighted by time), else the event order. */
  hasClock = false;
  /** Slots in use after the last sample, and the most at any sample (null before the first). */
  used = 0;
  peak: number | null = null;
  /** Where the peak was first reached, and its row (-1 when that event was not kept as a row). */
  peakAt: Place | null = null;
  peakRow = -1;
  samples = 0;
  private weighted = 0;
  private span = 0;
  private lastTime = Number.NaN;
  readonly buckets = new OccupancyBuckets();
  /** Tallies by device id. */
  readonly devices: (Tally | undefined)[] = [];
  /** Tallies by group key (groupOf). */
  readonly groups = new Map<number, Tally>();

  /** `groupOf`: a group key per event (e.g. its line: a driver's call site), or undefined. */
  constructor(private readonly groupOf?: (e: EventInit) => number | undefined) {
    super();
  }

  /** The time-weighted (else per-sample) average of the slots in use, or null without samples. */
  get averageSlots(): number | null {
    if (this.samples === 0) return null;
    return this.span > 0 ? this.weighted / this.span : this.used;
  }

  device(id: number): Tally | undefined {
    return this.devices[id];
  }

  /**
   * Counts an event of device `device` (an id of the session's device names); `row` is its row,
   * or -1 when it was not kept; `file` names its input.
   */
  record(e: EventInit, device: number, row: number, file: string): void {
    this.add(e);
    let d = this.devices[device];
    if (!d) {
      d = new Tally();
      this.devices[device] = d;
    }
    d.add(e);
    if (this.groupOf) {
      const key = this.groupOf(e);
      if (key !== undefined) {
        let g = this.groups.get(key);
        if (!g) {
          g = new Tally();
          this.groups.set(key, g);
        }
        g.add(e);
      }
    }
    const time = e.time ?? this.events;
    this.events++;
    const used = e.used ?? -1;
    if (used < 0) return;
    if (this.peak === null || used > this.peak) {
      this.peak = used;
      this.peakRow = row;
      this.peakAt = { file, line: e.line ?? 0, time };
    }
    if (!Number.isNaN(this.lastTime)) {
      const dt = this.hasClock ? time - this.lastTime : 1;
      if (dt > 0) {
        this.weighted += this.used * dt;
        this.span += dt;
      }
    }
    this.used = used;
    this.lastTime = time;
    this.samples++;
    this.buckets.add(time, used);
  }
}
