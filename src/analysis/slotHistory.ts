/**
 * The pool's slots at any moment: which row owns each slot after a given row. Rebuilt from the
 * nearest checkpoint, so moving the cursor across a long trace costs a bounded replay.
 */
import { Outcome } from './codes';
import type { EventTable } from './eventTable';

/** Memory the checkpoints may take, in bytes. */
const CHECKPOINT_BUDGET = 64 * 2 ** 20;

export class SlotHistory {
  readonly every: number;
  private readonly checkpoints: Int32Array[] = [];

  /** `every`: rows between checkpoints (default: from the budget; tests choose it). */
  constructor(
    private readonly t: EventTable,
    readonly nslabs: number,
    every?: number,
  ) {
    const rows = t.length;
    const perCheckpoint = nslabs * 4;
    this.every = every ?? Math.max(16384, Math.ceil((rows * perCheckpoint) / CHECKPOINT_BUDGET));
    const owner = new Int32Array(nslabs).fill(-1);
    for (let i = 0; i < rows; i++) {
      if (i % this.every === 0) this.checkpoints.push(owner.slice());
      this.apply(owner, i);
    }
  }

  private apply(owner: Int32Array, i: number): void {
    const t = this.t;
    const slot = t.slot[i] as number;
    if (slot < 0) return;
    const end = Math.min(slot + (t.nslots[i] as number), this.nslabs);
    const outcome = t.outcome[i] as Outcome;
    if (outcome === Outcome.Bounced) owner.fill(i, slot, end);
    else if (outcome === Outcome.Released) owner.fill(-1, slot, end);
  }

  /** Owner row of every slot after row `row` (inclusive); -1 = free. Before row 0: all free. */
  ownersAfter(row: number): Int32Array {
    if (row < 0 || this.t.length === 0) return new Int32Array(this.nslabs).fill(-1);
    const r = Math.min(row, this.t.length - 1);
    const cp = Math.floor(r / this.every);
    const owner = (this.checkpoints[cp] as Int32Array).slice();
    for (let i = cp * this.every; i <= r; i++) this.apply(owner, i);
    return owner;
  }
}
