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
    this.replay(owner, 0, rows, true);
  }

  /** Applies rows [from, to) to `owner` (taking a checkpoint before every `every`-th row when asked). */
  private replay(owner: Int32Array, from: number, to: number, checkpoint = false): void {
    for (const v of this.t.chunks(['slot', 'nslots', 'outcome'], from, to)) {
      const { slot: slots, nslots, outcome: outcomes } = v.c;
      for (let i = v.start; i < v.end; i++) {
        if (checkpoint && i % this.every === 0) this.checkpoints.push(owner.slice());
        const j = i - v.base;
        const slot = slots[j] as number;
        if (slot < 0) continue;
        const end = Math.min(slot + (nslots[j] as number), this.nslabs);
        const outcome = outcomes[j] as Outcome;
        if (outcome === Outcome.Bounced) owner.fill(i, slot, end);
        else if (outcome === Outcome.Released) owner.fill(-1, slot, end);
      }
    }
  }

  /** Owner row of every slot after row `row` (inclusive); -1 = free. Before row 0: all free. */
  ownersAfter(row: number): Int32Array {
    if (row < 0 || this.t.length === 0) return new Int32Array(this.nslabs).fill(-1);
    const r = Math.min(row, this.t.length - 1);
    const cp = Math.floor(r / this.every);
    const owner = (this.checkpoints[cp] as Int32Array).slice();
    this.replay(owner, cp * this.every, r + 1);
    return owner;
  }
}
