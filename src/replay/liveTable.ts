/**
 * The live mappings of a replay, as columns: a replay of millions of maps keeps one row per live
 * mapping in typed arrays instead of an object per map (objects that live long enough to be
 * copied by every young-generation collection). Rows freed by unmaps are reused.
 */

import { grown } from '../analysis/typedArrays';
import type { DeviceSlotParams } from '../model/pool';
import type { OpId } from './format';

const DENSE_LIMIT = 1 << 24;
const INITIAL = 256;

export class LiveTable {
  /** Rows by id: dense ids (small integers) in an array (row + 1, 0 when none), others in a Map. */
  private byDense = new Int32Array(INITIAL);
  private readonly bySparse = new Map<OpId, number>();
  private count = 0;
  /** Rows free for reuse. */
  private free: number[] = [];
  private rows = 0;

  /** 1 for a coherent allocation (alloc/free), 0 for a streaming map. */
  alloc = new Uint8Array(INITIAL);
  tlbAddr = new Float64Array(INITIAL);
  size = new Float64Array(INITIAL);
  allocSize = new Float64Array(INITIAL);
  dir = new Uint8Array(INITIAL);
  line = new Float64Array(INITIAL);
  nslots = new Int32Array(INITIAL);
  /** First slot of the run in the boot pool, -1 in a dynamic pool. */
  slot = new Int32Array(INITIAL);
  /** The device's id in the event table's names (0: none). */
  devId = new Int32Array(INITIAL);
  /** The map's row in the event table, or -1. */
  row = new Float64Array(INITIAL);
  readonly dev: DeviceSlotParams[] = [];
  /** The id as the output lines write it. */
  readonly idText: string[] = [];

  /** Live mappings. */
  get length(): number {
    return this.count;
  }

  /** The row of a live id, or -1. */
  find(id: OpId): number {
    if (typeof id === 'number' && id >= 0 && id < DENSE_LIMIT) return id < this.byDense.length ? (this.byDense[id] as number) - 1 : -1;
    return this.bySparse.get(id) ?? -1;
  }

  /** A new row for `id` (which must not be live); its columns are the caller's to fill. */
  add(id: OpId): number {
    let r = this.free.pop();
    if (r === undefined) {
      r = this.rows++;
      if (r === this.alloc.length) this.grow();
    }
    if (typeof id === 'number' && id >= 0 && id < DENSE_LIMIT) {
      if (id >= this.byDense.length) {
        let cap = this.byDense.length * 2;
        while (cap <= id) cap *= 2;
        const b = new Int32Array(Math.min(cap, DENSE_LIMIT));
        b.set(this.byDense);
        this.byDense = b;
      }
      this.byDense[id] = r + 1;
    } else {
      this.bySparse.set(id, r);
    }
    this.count++;
    return r;
  }

  /** Forgets `id`, whose row is `r`. */
  remove(id: OpId, r: number): void {
    if (typeof id === 'number' && id >= 0 && id < DENSE_LIMIT) this.byDense[id] = 0;
    else this.bySparse.delete(id);
    this.dev[r] = NO_DEV;
    this.idText[r] = '';
    this.free.push(r);
    this.count--;
  }

  private grow(): void {
    const cap = this.alloc.length * 2;
    const g = <T extends Parameters<typeof grown>[0]>(a: T): T => grown(a, cap);
    this.alloc = g(this.alloc);
    this.tlbAddr = g(this.tlbAddr);
    this.size = g(this.size);
    this.allocSize = g(this.allocSize);
    this.dir = g(this.dir);
    this.line = g(this.line);
    this.nslots = g(this.nslots);
    this.slot = g(this.slot);
    this.devId = g(this.devId);
    this.row = g(this.row);
  }
}

/** What a freed row's device slot holds (keeps the array free of holes and of stale devices). */
const NO_DEV: DeviceSlotParams = Object.freeze({ minAlignMask: 0, segBoundaryBits: 64 });
