/** Human-readable sizes for reports ("64.0 MiB", "2 KiB", "512 B"). */
export function formatBytes(n: number): string {
  const units: [number, string][] = [
    [2 ** 30, 'GiB'],
    [2 ** 20, 'MiB'],
    [2 ** 10, 'KiB'],
  ];
  for (const [size, unit] of units) {
    if (n >= size) {
      const v = n / size;
      return `${Number.isInteger(v) ? v : v.toFixed(1)} ${unit}`;
    }
  }
  return `${n} B`;
}

/**
 * `a` as a percentage of `b` to one decimal (0 when there is no `b`): 'round' to the nearest,
 * 'floor' so that a shortfall never shows as 100.
 */
export function percent(a: number, b: number, rounding: 'round' | 'floor' = 'round'): number {
  if (!(b > 0)) return 0;
  return (rounding === 'floor' ? Math.floor : Math.round)((1000 * a) / b) / 10;
}

/**
 * A percentage for people ("12.3 %"): `none` when there is no `b`; `floor` as percent();
 * `compact` for one-line summaries ("<0.1 %", whole numbers from 10 %).
 */
export function pctText(a: number, b: number, o: { none?: string; digits?: number; floor?: boolean; compact?: boolean } = {}): string {
  if (!(b > 0)) return o.none ?? '–';
  const p = (100 * a) / b;
  if (o.compact) {
    if (p > 0 && p < 0.1) return '<0.1 %';
    return `${p >= 10 || p === 0 ? Math.round(p) : p.toFixed(1)} %`;
  }
  const d = o.digits ?? 1;
  return `${(o.floor ? Math.floor((10 ** (d + 2) * a) / b) / 10 ** d : p).toFixed(d)} %`;
}
