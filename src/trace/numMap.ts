/**
 * A hash map from addresses (non-negative integers below 2^53) to small non-negative integers:
 * open addressing with linear probing and backward-shift deletion, in typed arrays. For the live
 * mappings of a trace this costs no allocation per entry, unlike Map.
 */
export class NumMap {
  private keys: Float64Array;
  private vals: Int32Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1024) {
    let n = 16;
    while (n < capacity * 2) n *= 2;
    this.keys = new Float64Array(n).fill(-1);
    this.vals = new Int32Array(n);
    this.mask = n - 1;
  }

  private slot(key: number): number {
    // addresses are at least 8-byte aligned in practice: mix the bits above the alignment
    const lo = key % 4294967296;
    const hi = (key - lo) / 4294967296;
    let h = Math.imul((lo >>> 3) ^ (lo >>> 17) ^ hi, 0x9e3779b1);
    h ^= h >>> 15;
    return h & this.mask;
  }

  get(key: number): number | undefined {
    const keys = this.keys;
    for (let i = this.slot(key); ; i = (i + 1) & this.mask) {
      const k = keys[i] as number;
      if (k === key) return this.vals[i];
      if (k === -1) return undefined;
    }
  }

  set(key: number, value: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const keys = this.keys;
    for (let i = this.slot(key); ; i = (i + 1) & this.mask) {
      const k = keys[i] as number;
      if (k === key) {
        this.vals[i] = value;
        return;
      }
      if (k === -1) {
        keys[i] = key;
        this.vals[i] = value;
        this.size++;
        return;
      }
    }
  }

  delete(key: number): boolean {
    const keys = this.keys;
    const mask = this.mask;
    let i = this.slot(key);
    for (;;) {
      const k = keys[i] as number;
      if (k === -1) return false;
      if (k === key) break;
      i = (i + 1) & mask;
    }
    // backward-shift: move later entries of the probe chain into the hole
    let hole = i;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const k = keys[j] as number;
      if (k === -1) break;
      const home = this.slot(k);
      // can the entry at j move to the hole? only if its home is not in (hole, j]
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!between) {
        keys[hole] = k;
        this.vals[hole] = this.vals[j] as number;
        hole = j;
      }
    }
    keys[hole] = -1;
    this.size--;
    return true;
  }

  private grow(): void {
    const oldK = this.keys;
    const oldV = this.vals;
    this.keys = new Float64Array(oldK.length * 2).fill(-1);
    this.vals = new Int32Array(oldK.length * 2);
    this.mask = this.keys.length - 1;
    this.size = 0;
    for (let i = 0; i < oldK.length; i++) {
      const k = oldK[i] as number;
      if (k !== -1) this.set(k, oldV[i] as number);
    }
  }
}
