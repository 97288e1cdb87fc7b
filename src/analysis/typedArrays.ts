/** Typed-array columns that grow by doubling (live mappings, compare rows). */

type Growable = Float64Array | Int32Array | Int8Array | Uint32Array | Uint8Array;

/** A copy of `a` with room for `cap` entries (the rest zero). */
export function grown<T extends Growable>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a);
  return b;
}

/** An Int32Array filled by push, doubling as it grows: 4 bytes an entry where a number[] takes 8 to 16. */
export class Int32List {
  private a = new Int32Array(1024);
  length = 0;

  push(v: number): void {
    if (this.length === this.a.length) this.a = grown(this.a, this.a.length * 2);
    this.a[this.length++] = v;
  }

  /** The entries, in an array of their own size. */
  toArray(): Int32Array {
    return this.a.slice(0, this.length);
  }
}
