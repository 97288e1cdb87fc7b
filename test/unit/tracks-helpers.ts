import assert from 'node:assert/strict';
import type { Tracks } from '../../src/analysis/tracks';

/** Two builds of the tracks answer every window alike (the info, and the columns of each window). */
export function assertSameTracks(a: Tracks, b: Tracks, t0: number, t1: number): void {
  assert.deepEqual(b.info, a.info);
  const span = t1 - t0;
  for (const [f0, f1, columns] of [
    [0, 1, 300],
    [0, 1, 7],
    [0.25, 0.3, 200],
    [0.5, 0.5001, 50],
    [-0.1, 1.1, 1000],
  ] as const) {
    const q = { t0: t0 + span * f0, t1: t0 + span * f1, columns };
    assert.deepEqual(b.aggregate(q), a.aggregate(q), `window ${f0}-${f1}`);
  }
}
