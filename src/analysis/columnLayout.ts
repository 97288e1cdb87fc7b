/**
 * The per-call table's column layout as the user leaves it (order, widths, hidden columns): kept
 * in the panel's state and in view files. The columns themselves are the row schema's.
 */
import { TABLE_COLUMNS } from './columns';

/** A table column as the user left it: its width and whether it is hidden, in display order. */
export interface ColumnLayoutEntry {
  readonly key: string;
  readonly width: number;
  readonly hidden?: boolean;
}
export type ColumnLayout = readonly ColumnLayoutEntry[];

export const MIN_COLUMN_WIDTH = 24;
export const MAX_COLUMN_WIDTH = 2000;

/** The table's columns in the layout's order, widths and visibility; columns it does not name keep their defaults, at the end. */
export function normalizeLayout(layout: ColumnLayout | undefined): ColumnLayoutEntry[] {
  const known = new Map(TABLE_COLUMNS.map((c) => [c.key as string, c]));
  const out: ColumnLayoutEntry[] = [];
  const seen = new Set<string>();
  for (const e of layout ?? []) {
    if (!known.has(e.key) || seen.has(e.key)) continue;
    seen.add(e.key);
    const width = Math.round(Math.min(MAX_COLUMN_WIDTH, Math.max(MIN_COLUMN_WIDTH, e.width)));
    out.push(e.hidden ? { key: e.key, width, hidden: true } : { key: e.key, width });
  }
  for (const c of TABLE_COLUMNS) if (!seen.has(c.key)) out.push({ key: c.key, width: c.width });
  return out;
}

/** The layout with `key` moved before `before` (null: to the end). */
export function moveColumn(layout: ColumnLayout, key: string, before: string | null): ColumnLayoutEntry[] {
  const moved = layout.find((e) => e.key === key);
  if (!moved || key === before) return [...layout];
  const rest = layout.filter((e) => e.key !== key);
  const at = before === null ? rest.length : rest.findIndex((e) => e.key === before);
  rest.splice(at < 0 ? rest.length : at, 0, moved);
  return rest;
}
