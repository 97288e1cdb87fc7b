/**
 * A saved view of the panel (`*.swiotlb-view.json`): the chart's time window and cursor, the
 * filters (time range, expression, dropdowns), the sort, the selected row and the table's column
 * layout, with what input it was made of, so another user opening the same input sees the same.
 * Reading checks everything with the same rules as the messages (a file is untrusted input) and
 * names each problem's JSON path, line and column. Pure: the host reads and writes the files.
 */
import { getNodeValue } from 'jsonc-parser';
import { isTableFilter, SORT_COLUMNS, type SortColumn } from '../protocol/messages';
import { JsonDoc, type JsonValue, type Problem } from '../scenario/json';
import { type ColumnLayout, type ColumnLayoutEntry, MAX_COLUMN_WIDTH, MIN_COLUMN_WIDTH } from './columnLayout';
import { TABLE_COLUMNS } from './columns';
import { filterExprError } from './filterExpr';
import type { TableFilter } from './query';

export const VIEW_FILE_SUFFIX = '.swiotlb-view.json';
export const VIEW_FILE_VERSION = 1;
export type { ColumnLayout, ColumnLayoutEntry };

/** What the view shows (every part optional: a view may say only some). */
export interface SavedView {
  /** The chart's visible time window. */
  readonly view?: readonly [number, number];
  readonly cursor?: number | null;
  /** The table's filters; t0/t1 is the selected time range. */
  readonly filter?: TableFilter;
  readonly sort?: { readonly column: SortColumn; readonly desc: boolean };
  readonly selectedRow?: number;
  readonly columns?: ColumnLayout;
}

/** The input a view was made of: enough to tell another copy of it from a different input. */
export interface ViewInput {
  readonly kind: string;
  /** File names (without folders: another user keeps them elsewhere). */
  readonly files: readonly string[];
  readonly rows: number;
  readonly t0: number;
  readonly t1: number;
}

export interface ViewFile {
  readonly swiotlbLensView: typeof VIEW_FILE_VERSION;
  readonly input: ViewInput;
  readonly view: SavedView;
}

const baseName = (f: string) => f.replace(/^.*[\\/]/, '');

export function viewInputOf(info: {
  readonly kind: string;
  readonly files: readonly string[];
  readonly rows: number;
  readonly t0: number;
  readonly t1: number;
}): ViewInput {
  return { kind: info.kind, files: info.files.map(baseName), rows: info.rows, t0: info.t0, t1: info.t1 };
}

export function viewFileText(input: ViewInput, view: SavedView): string {
  const file: ViewFile = { swiotlbLensView: VIEW_FILE_VERSION, input, view };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** Null when a view of `saved` applies to `current`; else what differs, for people. */
export function inputDifference(saved: ViewInput, current: ViewInput): string | null {
  const diffs: string[] = [];
  if (saved.kind !== current.kind) diffs.push(`kind ${saved.kind}, not ${current.kind}`);
  if (saved.files.join('\n') !== current.files.join('\n')) diffs.push(`files ${saved.files.join(', ')}, not ${current.files.join(', ')}`);
  if (saved.rows !== current.rows) diffs.push(`${saved.rows} rows, not ${current.rows}`);
  if (saved.t0 !== current.t0 || saved.t1 !== current.t1) diffs.push(`time ${saved.t0}–${saved.t1}, not ${current.t0}–${current.t1}`);
  return diffs.length ? diffs.join('; ') : null;
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Checks the view part (of a file, or of a webview's export message). */
function checkView(v: JsonValue, doc: JsonDoc): SavedView | undefined {
  if (!v.expectObject('view')) return undefined;
  v.onlyKeys(['view', 'cursor', 'filter', 'sort', 'selectedRow', 'columns'], 'view');
  const out: Record<string, unknown> = {};
  let ok = true;
  const bad = (x: JsonValue, message: string) => {
    x.problem(message);
    ok = false;
  };
  const win = v.get('view');
  if (win) {
    const w = getNodeValue(win.node) as unknown;
    if (!Array.isArray(w) || w.length !== 2 || !isNum(w[0]) || !isNum(w[1]) || w[0] > w[1])
      bad(win, 'the time window must be [start, end], two numbers, start <= end');
    else out.view = [w[0], w[1]];
  }
  const cursor = v.get('cursor');
  if (cursor) {
    if (cursor.value !== null && !isNum(cursor.value)) bad(cursor, 'the cursor must be a time (a number) or null');
    else out.cursor = cursor.value;
  }
  const filter = v.get('filter');
  if (filter) {
    const f = getNodeValue(filter.node) as unknown;
    if (!isTableFilter(f))
      bad(filter, 'not a table filter: keys devices, kinds, outcomes, dirs (lists of numbers), reasons (a number), t0, t1, text, expr');
    else {
      const expr = filter.get('expr');
      const err = f.expr?.trim() ? filterExprError(f.expr) : null;
      if (err && expr) {
        // at the offending character: after the opening quote (escapes aside)
        doc.report(expr.node.offset + 1 + err.position, expr.path, `filter expression: ${err.message}`);
        ok = false;
      } else out.filter = { ...f };
    }
  }
  const sort = v.get('sort');
  if (sort) {
    const s = getNodeValue(sort.node) as { column?: unknown; desc?: unknown } | null;
    if (!s || typeof s !== 'object' || !(SORT_COLUMNS as readonly unknown[]).includes(s.column) || typeof s.desc !== 'boolean')
      bad(sort, `the sort must be { "column": one of ${SORT_COLUMNS.join(', ')}, "desc": true or false }`);
    else out.sort = { column: s.column as SortColumn, desc: s.desc };
  }
  const sel = v.get('selectedRow');
  if (sel) {
    if (!Number.isSafeInteger(sel.value) || (sel.value as number) < 0) bad(sel, 'the selected row must be a row number (0 or more)');
    else out.selectedRow = sel.value;
  }
  const cols = v.get('columns');
  if (cols) {
    if (cols.type !== 'array') bad(cols, 'columns must be a list of { "key", "width", "hidden" }');
    else {
      const keys = TABLE_COLUMNS.map((c) => c.key as string);
      const list: ColumnLayoutEntry[] = [];
      for (const c of cols.items()) {
        if (!c.expectObject('a column')) {
          ok = false;
          continue;
        }
        c.onlyKeys(['key', 'width', 'hidden'], 'a column');
        const key = c.get('key');
        const width = c.get('width');
        const hidden = c.get('hidden');
        if (!key || !keys.includes(key.value as string)) bad(key ?? c, `a column's key must be one of: ${keys.join(', ')}`);
        else if (!width || !isNum(width.value) || width.value < MIN_COLUMN_WIDTH || width.value > MAX_COLUMN_WIDTH)
          bad(width ?? c, `a column's width must be a number of pixels from ${MIN_COLUMN_WIDTH} to ${MAX_COLUMN_WIDTH}`);
        else if (hidden && typeof hidden.value !== 'boolean') bad(hidden, 'hidden must be true or false');
        else list.push({ key: key.value as string, width: width.value as number, ...(hidden?.value ? { hidden: true } : {}) });
      }
      out.columns = list;
    }
  }
  return ok ? (out as SavedView) : undefined;
}

/** Reads a view file: the view, or the problems (JSON path, line, column) that keep it from being used. */
export function readViewFile(text: string): { file?: ViewFile; problems: readonly Problem[] } {
  const doc = new JsonDoc(text);
  const root = doc.root;
  if (!root || doc.problems.length) return { problems: doc.problems };
  if (!root.expectObject('a SWIOTLB Lens view file')) return { problems: doc.problems };
  root.onlyKeys(['swiotlbLensView', 'input', 'view'], 'a view file');
  const version = root.get('swiotlbLensView');
  if (!version || version.value !== VIEW_FILE_VERSION)
    (version ?? root).problem(`not a SWIOTLB Lens view file of version ${VIEW_FILE_VERSION} ("swiotlbLensView": ${VIEW_FILE_VERSION})`);
  const input = root.get('input');
  let inp: ViewInput | undefined;
  if (!input) root.problem('the input the view was made of ("input") is missing');
  else if (input.expectObject('input')) {
    input.onlyKeys(['kind', 'files', 'rows', 't0', 't1'], 'input');
    const x = getNodeValue(input.node) as Record<string, unknown>;
    const files = x.files;
    if (typeof x.kind !== 'string') (input.get('kind') ?? input).problem('input.kind must be a string');
    else if (!Array.isArray(files) || !files.every((f) => typeof f === 'string' && f.length < 4096) || files.length > 64)
      (input.get('files') ?? input).problem('input.files must be a list of file names');
    else if (!Number.isSafeInteger(x.rows) || (x.rows as number) < 0)
      (input.get('rows') ?? input).problem('input.rows must be a row count');
    else if (!isNum(x.t0) || !isNum(x.t1)) (input.get('t0') ?? input).problem('input.t0 and input.t1 must be numbers');
    else inp = { kind: x.kind, files: files as string[], rows: x.rows as number, t0: x.t0, t1: x.t1 };
  }
  const viewNode = root.get('view');
  const view = viewNode ? checkView(viewNode, doc) : undefined;
  if (!viewNode) root.problem('the view ("view") is missing');
  if (doc.problems.length || !inp || !view) return { problems: doc.problems };
  return { file: { swiotlbLensView: VIEW_FILE_VERSION, input: inp, view }, problems: [] };
}

/** Checks a view the webview sent (the same rules as a file's). */
export function checkSavedView(x: unknown): SavedView | undefined {
  let text: string;
  try {
    text = JSON.stringify(x);
  } catch {
    return undefined;
  }
  if (typeof text !== 'string' || text.length > 1 << 20) return undefined;
  const doc = new JsonDoc(text);
  if (!doc.root || doc.problems.length) return undefined;
  const v = checkView(doc.root, doc);
  return doc.problems.length ? undefined : v;
}

/** "file:line:column: message (at $.path)" for each problem. */
export function problemLines(file: string, problems: readonly Problem[]): string[] {
  return problems.map((p) => `${file}:${p.line}:${p.column}: ${p.message} (at ${p.path})`);
}
