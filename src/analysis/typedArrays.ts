/** Typed-array columns that grow by doubling (live mappings, compare rows). */

type Growable = Float64Array | Int32Array | Int8Array | Uint32Array | Uint8Array;

/** A copy of `a` with room for `cap` entries (the rest zero). */
export function grown<T extends Growable>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a);
  return b;
}
