/**
 * Bounce buffers mapped and not yet unmapped, found by their bounce address (tlb_addr, or the
 * DMA address of the bounce buffer) and, for scatterlist entries, by the original's physical
 * address (dma_unmap_sg prints only those). Columns in typed arrays with a free list, so a trace
 * of millions of maps allocates no object per mapping.
 */

import { grown } from '../analysis/typedArrays';
import { NumMap } from './numMap';

export class LiveTable {
  private cap = 0;
  tlbAddr = new Float64Array(0);
  origAddr = new Float64Array(0);
  size = new Float64Array(0);
  nslots = new Int32Array(0);
  dev = new Int32Array(0);
  dir = new Int8Array(0);
  attrs = new Uint32Array(0);
  minAlignMask = new Uint32Array(0);
  /** Event-table row of the map, or -1. */
  row = new Int32Array(0);
  /** Bit p: profile run p holds the slots of this mapping. */
  held = new Uint32Array(0);
  /** Kernel run start (slot of the primary profile), -1 when not anchored to a pool. */
  slot = new Int32Array(0);
  /** Line of the map (for messages). */
  line = new Float64Array(0);
  /** 1 when mapped as a scatterlist entry (indexed by its physical address too). */
  sg = new Uint8Array(0);
  /** Map id in commit order (the replay format's op id). */
  id = new Int32Array(0);
  private readonly free: number[] = [];
  private next = 0;
  readonly byTlb = new NumMap();
  readonly byPhys = new NumMap();
  count = 0;

  private grow(): void {
    const cap = Math.max(1024, this.cap * 2);
    const g = <T extends Parameters<typeof grown>[0]>(a: T): T => grown(a, cap);
    this.tlbAddr = g(this.tlbAddr);
    this.origAddr = g(this.origAddr);
    this.size = g(this.size);
    this.nslots = g(this.nslots);
    this.dev = g(this.dev);
    this.dir = g(this.dir);
    this.attrs = g(this.attrs);
    this.minAlignMask = g(this.minAlignMask);
    this.row = g(this.row);
    this.held = g(this.held);
    this.slot = g(this.slot);
    this.line = g(this.line);
    this.sg = g(this.sg);
    this.id = g(this.id);
    this.cap = cap;
  }

  /** A new entry keyed by its bounce address; returns its handle. */
  add(tlbAddr: number): number {
    let h = this.free.pop();
    if (h === undefined) {
      if (this.next === this.cap) this.grow();
      h = this.next++;
    }
    this.tlbAddr[h] = tlbAddr;
    this.sg[h] = 0;
    this.held[h] = 0;
    this.row[h] = -1;
    this.slot[h] = -1;
    this.byTlb.set(tlbAddr, h);
    this.count++;
    return h;
  }

  indexPhys(h: number, phys: number): void {
    this.sg[h] = 1;
    this.byPhys.set(phys, h);
  }

  remove(h: number): void {
    this.byTlb.delete(this.tlbAddr[h] as number);
    if (this.sg[h]) {
      const p = this.origAddr[h] as number;
      if (this.byPhys.get(p) === h) this.byPhys.delete(p);
    }
    this.free.push(h);
    this.count--;
  }
}
