/**
 * One kernel profile following a trace (docs/replay-format.md's observed_index rule): for every map
 * whose outcome the trace shows, predict without changing state, compare, then commit where
 * the kernel put it, so one unpredictable placement does not spoil every later answer. The
 * agreement per profile tells which allocator the traced kernel has.
 */
import { type DeviceSlotParams, IoTlbPool, type PoolGeometry } from '../model/pool';
import type { KernelProfile } from '../model/profiles';
import { IoTlbMem, type MapRequest, type MapResult } from '../model/swiotlb';

export interface PlacementMiss {
  line: number;
  /** The model's answer: a run start, or a failure reason. */
  predicted: string;
  /** The kernel's answer. */
  observed: string;
}

export class ProfileRun {
  readonly mem: IoTlbMem;
  readonly pool: IoTlbPool;
  compared = 0;
  matched = 0;
  /** Mismatches of searches that raced with another CPU (not held against the profile). */
  races = 0;
  /**
   * Mismatches before the kernel's placements showed where an area's search index stood: a
   * trace that starts on a running system does not say it (not held against the profile).
   */
  warmups = 0;
  /** Areas whose search index is known from an observed placement. */
  private readonly synced: Uint8Array;
  mismatches = 0;
  /**
   * Mismatches of dma:* traces where the events' order may not be the allocator's (the analyzer
   * decides, per map: dma:* map events fire after the allocator, so a bounce in flight on another
   * task, a pool change between a map's swiotlb_bounced and its event, entries rolled back
   * without events, or a run starting where an earlier run of its area ended mean the search saw
   * another pool). Not held against the profile; counted and shown apart.
   */
  orderDiffs = 0;
  readonly orderMisses: PlacementMiss[] = [];
  /** The last follow() was a mismatch (excuseLast() may move it to orderDiffs). */
  private lastMiss: PlacementMiss | null = null;
  /** Kernel placements this model could not follow: the run was not free here. */
  lost = 0;
  readonly misses: PlacementMiss[] = [];
  /** Stopped comparing after the sample limit (its pool no longer follows the kernel). */
  sampled = false;
  /** The last prediction (valid after follow()). */
  predicted: MapResult | undefined;

  constructor(
    readonly profile: KernelProfile,
    geometry: PoolGeometry,
  ) {
    this.pool = new IoTlbPool(profile, geometry);
    this.mem = new IoTlbMem(this.pool);
    this.synced = new Uint8Array(this.pool.nareas);
  }

  /** Could this search depend on an area index the trace has not shown yet? */
  private unsynced(cpu: number, observedIndex: number): boolean {
    const s = this.synced;
    if (observedIndex < 0) return s.includes(0);
    return !s[this.pool.startArea(cpu)] || !s[this.pool.areaOf(observedIndex)];
  }

  /**
   * A map the kernel answered with `observedTlb` (or failed, when observedTlb < 0). Returns the
   * committed result when this model now holds the slots, else undefined.
   */
  follow(req: MapRequest, observedTlb: number, raced: boolean, line: number): MapResult | undefined {
    const mem = this.mem;
    const pred = mem.predictMapSingle(req);
    this.predicted = pred;
    this.compared++;
    let observedIndex = -1;
    let committed: MapResult | undefined;
    let match: boolean;
    if (observedTlb >= 0) observedIndex = mem.runStartOf(req, observedTlb);
    const warm = this.unsynced(req.cpu, observedIndex);
    if (observedTlb >= 0) {
      match = pred.ok && pred.index === observedIndex;
      committed = observedIndex >= 0 ? mem.tblMapSingleAt(req, observedIndex) : undefined;
      if (committed) this.synced[this.pool.areaOf(observedIndex)] = 1;
      else this.lost++;
    } else {
      match = !pred.ok && pred.reason !== 'livelock';
    }
    this.lastMiss = null;
    if (match) {
      this.matched++;
    } else if (raced) {
      this.races++;
    } else if (warm) {
      this.warmups++;
    } else {
      this.mismatches++;
      const miss = {
        line,
        predicted: pred.ok ? `slot ${pred.index}` : (pred.reason as string),
        observed: observedTlb >= 0 ? `slot ${observedIndex}` : 'failed',
      };
      this.lastMiss = miss;
      if (this.misses.length < 5) this.misses.push(miss);
    }
    return committed;
  }

  /** The last follow() was a mismatch. */
  get missed(): boolean {
    return this.lastMiss !== null;
  }

  /** The last follow()'s mismatch is one of the dma:* order: counted apart. */
  excuseLast(): void {
    const m = this.lastMiss;
    if (!m) return;
    this.lastMiss = null;
    this.mismatches--;
    this.orderDiffs++;
    const i = this.misses.indexOf(m);
    if (i >= 0) this.misses.splice(i, 1);
    if (this.orderMisses.length < 5) this.orderMisses.push(m);
  }

  /** Frees the slots of a mapping this model holds; false if they were not a live run here. */
  release(tlb: number, minAlignMask: number, size: number): boolean {
    return this.pool.releaseSlots(tlb, minAlignMask, size) >= 0;
  }
}

export function deviceParams(minAlignMask: number, segBoundaryBits: number): DeviceSlotParams {
  return { minAlignMask, segBoundaryBits };
}
