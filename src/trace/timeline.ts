/**
 * Occupancy over time in bounded memory: at most `cap` buckets, each with the time it starts
 * and the highest and last occupancy in it; when full, neighbours merge and each bucket covers
 * twice as many samples. The exact peak is kept separately by the caller.
 */
export class Timeline {
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
