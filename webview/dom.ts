/** DOM helpers for the webviews: text goes in with textContent only. */

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

export function basename(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

/** Typed arrays arrive as typed arrays; this also accepts the plain forms some hosts send. */
export function asInt32(x: unknown): Int32Array {
  if (x instanceof Int32Array) return x;
  if (x instanceof ArrayBuffer) return new Int32Array(x);
  return Int32Array.from(Object.values(x as Record<string, number>));
}

export function asUint32(x: unknown): Uint32Array {
  if (x instanceof Uint32Array) return x;
  if (x instanceof ArrayBuffer) return new Uint32Array(x);
  return Uint32Array.from(Object.values(x as Record<string, number>));
}

export function asUint16(x: unknown): Uint16Array {
  if (x instanceof Uint16Array) return x;
  if (x instanceof ArrayBuffer) return new Uint16Array(x);
  return Uint16Array.from(Object.values(x as Record<string, number>));
}

export function asFloat64(x: unknown): Float64Array {
  if (x instanceof Float64Array) return x;
  if (x instanceof ArrayBuffer) return new Float64Array(x);
  return Float64Array.from(Object.values(x as Record<string, number>));
}
