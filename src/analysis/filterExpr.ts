/**
 * Filter expressions over the per-call table: `size > 64K && device ~ nvme`, `reason == force`,
 * `tlb_addr >= 0x7c000000 || !(outcome == bounced)`. The fields and their types come from the row
 * schema (columns.ts): numbers (with units: K, M, G, KiB..., s, ms, us, ns), hex addresses, names
 * (device, call, file: `==` exact, `~` contains, case-insensitive), codes (kind, outcome, dir) and
 * reason bits (`==`: the row carries it). An expression compiles to a predicate over the typed
 * columns, so filtering a million rows allocates nothing per row. A column the input left out
 * (unknown) matches no comparison. Pure: the host filters with it, the webview checks syntax.
 */
import { COLUMN_NAMES, COLUMNS, type ColumnName, type EventRow, printColumn, type RowNames } from './columns';
import type { EventTable } from './eventTable';

export type FieldType = 'number' | 'address' | 'name' | 'code' | 'bits';

export interface FilterField {
  /** The column (or "index", the row number). */
  readonly column: ColumnName | 'index';
  readonly type: FieldType;
  /** Code and bit columns: value -> name. */
  readonly values?: Readonly<Record<number, string>>;
}

type Spec = {
  readonly names?: keyof RowNames;
  readonly aliases?: readonly string[];
  readonly values?: { readonly names: Readonly<Record<number, string>>; readonly bits?: boolean };
  readonly hex?: boolean;
};

function fieldOf(c: ColumnName): FilterField {
  const spec = COLUMNS[c] as Spec;
  if (spec.names) return { column: c, type: 'name' };
  if (spec.values) return { column: c, type: spec.values.bits ? 'bits' : 'code', values: spec.values.names };
  return { column: c, type: spec.hex ? 'address' : 'number' };
}

/** Every name an expression may use for a field: the columns, their aliases, and `index`/`row`. */
export const FILTER_FIELDS: ReadonlyMap<string, FilterField> = (() => {
  const m = new Map<string, FilterField>();
  const index: FilterField = { column: 'index', type: 'number' };
  m.set('index', index);
  m.set('row', index);
  for (const c of COLUMN_NAMES) {
    const f = fieldOf(c);
    m.set(c, f);
    for (const a of (COLUMNS[c] as Spec).aliases ?? []) m.set(a, f);
  }
  return m;
})();

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | '~' | '!~';

export type FilterNode =
  | { readonly type: 'and' | 'or'; readonly left: FilterNode; readonly right: FilterNode }
  | { readonly type: 'not'; readonly operand: FilterNode }
  | {
      readonly type: 'cmp';
      readonly field: FilterField;
      readonly op: CompareOp;
      /** number and address fields: the value; others: the text (lower case). */
      readonly value: number | string;
      /** code and bit fields with == and !=: the value it names. */
      readonly code?: number;
    };

/** A problem in an expression at a character offset (0-based) of a given length. */
export class FilterExprError extends Error {
  constructor(
    message: string,
    readonly position: number,
    readonly length = 1,
  ) {
    super(message);
    this.name = 'FilterExprError';
  }
}

/** Multipliers of the number suffixes (sizes are powers of 1024, as the kernel prints them). */
const UNITS: Readonly<Record<string, number>> = {
  k: 2 ** 10,
  kb: 2 ** 10,
  kib: 2 ** 10,
  m: 2 ** 20,
  mb: 2 ** 20,
  mib: 2 ** 20,
  g: 2 ** 30,
  gb: 2 ** 30,
  gib: 2 ** 30,
  t: 2 ** 40,
  tb: 2 ** 40,
  tib: 2 ** 40,
  s: 1,
  ms: 1e-3,
  us: 1e-6,
  µs: 1e-6,
  ns: 1e-9,
};

interface Token {
  readonly kind: 'word' | 'string' | 'op' | '(' | ')' | '&&' | '||' | '!' | 'end';
  readonly text: string;
  readonly at: number;
  readonly length: number;
}

const OPS: readonly string[] = ['==', '!=', '<=', '>=', '!~', '<', '>', '~', '='];
const WORD = /[^\s()&|!<>=~"']+/y;

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '(' || ch === ')') {
      out.push({ kind: ch, text: ch, at: i, length: 1 });
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '&&' || two === '||') {
      out.push({ kind: two, text: two, at: i, length: 2 });
      i += 2;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op) {
      out.push({ kind: 'op', text: op === '=' ? '==' : op, at: i, length: op.length });
      i += op.length;
      continue;
    }
    if (ch === '!') {
      out.push({ kind: '!', text: ch, at: i, length: 1 });
      i++;
      continue;
    }
    if (ch === '&' || ch === '|') throw new FilterExprError(`"${ch}" alone: write ${ch}${ch}`, i);
    if (ch === '"' || ch === "'") {
      const end = src.indexOf(ch, i + 1);
      if (end < 0) throw new FilterExprError('unterminated string', i, src.length - i);
      out.push({ kind: 'string', text: src.slice(i + 1, end), at: i, length: end + 1 - i });
      i = end + 1;
      continue;
    }
    WORD.lastIndex = i;
    const m = WORD.exec(src);
    const w = m?.[0] as string;
    out.push({ kind: 'word', text: w, at: i, length: w.length });
    i += w.length;
  }
  out.push({ kind: 'end', text: '', at: src.length, length: 0 });
  return out;
}

/** A number: decimal or 0x hex, with a unit suffix; NaN when the text is not one. */
export function parseNumber(text: string): number {
  if (/^0x[0-9a-f]+$/i.test(text)) return Number(BigInt(text));
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)([a-zµ]*)$/i.exec(text);
  if (!m) return Number.NaN;
  const unit = (m[2] as string).toLowerCase();
  if (unit === '') return Number(m[1]);
  const mult = UNITS[unit];
  return mult === undefined ? Number.NaN : Number(m[1]) * mult;
}

/** The value of a code field a word names: the name itself, else the one name it is a prefix of or extends ("forced": force). */
function codeNamed(values: Readonly<Record<number, string>>, text: string): number | undefined {
  const entries = Object.entries(values)
    .filter(([, n]) => n !== '')
    .map(([k, n]) => [Number(k), n.toLowerCase(), n.toLowerCase().replace(/^dma_/, '')] as const);
  const exact = entries.find(([, n, short]) => n === text || short === text);
  if (exact) return exact[0];
  const near = entries.filter(([, n, short]) => [n, short].some((x) => x.startsWith(text) || text.startsWith(x)));
  return near.length === 1 ? (near[0] as (typeof near)[number])[0] : undefined;
}

const OPS_OF: Readonly<Record<FieldType, readonly CompareOp[]>> = {
  number: ['==', '!=', '<', '<=', '>', '>='],
  address: ['==', '!=', '<', '<=', '>', '>='],
  name: ['==', '!=', '~', '!~'],
  code: ['==', '!=', '~', '!~'],
  bits: ['==', '!=', '~', '!~'],
};

/** Parses an expression; throws FilterExprError with the offending position. */
export function parseFilterExpr(src: string): FilterNode {
  if (src.length > 1000) throw new FilterExprError('the expression is longer than 1000 characters', 1000, src.length - 1000);
  const toks = tokenize(src);
  let k = 0;
  const peek = () => toks[k] as Token;
  const next = () => toks[k++] as Token;
  const describe = (t: Token) => (t.kind === 'end' ? 'the end' : `"${t.text}"`);
  let depth = 0;

  const or = (): FilterNode => {
    let left = and();
    while (peek().kind === '||') {
      next();
      left = { type: 'or', left, right: and() };
    }
    return left;
  };
  const and = (): FilterNode => {
    let left = unary();
    while (peek().kind === '&&') {
      next();
      left = { type: 'and', left, right: unary() };
    }
    return left;
  };
  const unary = (): FilterNode => {
    if (peek().kind === '!') {
      next();
      return { type: 'not', operand: unary() };
    }
    return primary();
  };
  const primary = (): FilterNode => {
    const t = next();
    if (t.kind === '(') {
      if (++depth > 64) throw new FilterExprError('parentheses nest deeper than 64 levels', t.at);
      const e = or();
      const close = next();
      if (close.kind !== ')')
        throw new FilterExprError(
          `expected ")" to close the "(" at column ${t.at + 1}, found ${describe(close)}`,
          close.at,
          close.length || 1,
        );
      depth--;
      return e;
    }
    if (t.kind !== 'word')
      throw new FilterExprError(`expected a field name (size, device, reason, ...), found ${describe(t)}`, t.at, t.length || 1);
    const field = FILTER_FIELDS.get(t.text.toLowerCase());
    if (!field) throw new FilterExprError(`unknown field "${t.text}" (fields: ${[...FILTER_FIELDS.keys()].join(', ')})`, t.at, t.length);
    const opTok = next();
    if (opTok.kind !== 'op')
      throw new FilterExprError(
        `expected a comparison (== != < <= > >= ~ !~) after "${t.text}", found ${describe(opTok)}`,
        opTok.at,
        opTok.length || 1,
      );
    const op = opTok.text as CompareOp;
    if (!OPS_OF[field.type].includes(op))
      throw new FilterExprError(
        `"${op}" does not apply to ${t.text} (${field.type}: ${OPS_OF[field.type].join(' ')})`,
        opTok.at,
        opTok.length,
      );
    const v = next();
    if (v.kind !== 'word' && v.kind !== 'string')
      throw new FilterExprError(`expected a value after "${op}", found ${describe(v)}`, v.at, v.length || 1);
    if (field.type === 'number' || field.type === 'address') {
      const n = parseNumber(v.text);
      if (!Number.isFinite(n)) throw new FilterExprError(`"${v.text}" is not a number (64, 64K, 1.5M, 0x7c000000, 10ms)`, v.at, v.length);
      return { type: 'cmp', field, op, value: n };
    }
    const text = v.text.toLowerCase();
    if ((field.type === 'code' || field.type === 'bits') && (op === '==' || op === '!=')) {
      const code = codeNamed(field.values ?? {}, text);
      if (code === undefined) {
        const names = Object.values(field.values ?? {}).filter((n) => n !== '');
        throw new FilterExprError(`"${v.text}" is not a ${t.text} (one of: ${names.join(', ')})`, v.at, v.length);
      }
      return { type: 'cmp', field, op, value: text, code };
    }
    return { type: 'cmp', field, op, value: text };
  };

  if (peek().kind === 'end') throw new FilterExprError('the expression is empty', 0, 0);
  const e = or();
  const rest = peek();
  if (rest.kind !== 'end') {
    const hint = rest.kind === ')' ? 'a ")" with no "(" before it' : `${describe(rest)}: join conditions with && or ||`;
    throw new FilterExprError(`unexpected ${hint}`, rest.at, rest.length);
  }
  return e;
}

/** The problem of an expression, or null when it parses. */
export function filterExprError(src: string): FilterExprError | null {
  try {
    parseFilterExpr(src);
    return null;
  } catch (e) {
    if (e instanceof FilterExprError) return e;
    throw e;
  }
}

function compareNumber(op: CompareOp, a: number, b: number): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    default:
      return false;
  }
}

/** Whether a stored value means "the input did not say" (printed as null or ""). */
function unknownTest(c: ColumnName): (v: number) => boolean {
  const noNames: RowNames = { devices: [''], apis: [''], files: [''] };
  const blank = (x: unknown) => x === null || x === '';
  const negative = blank(printColumn(c, -1, noNames));
  const missing = COLUMNS[c].missing;
  const atMissing = blank(printColumn(c, missing, noNames));
  return (v) => (negative && v < 0) || (atMissing && v === missing);
}

/** A row's columns as a scan sees them: entry j of each column is row i (EventTable.chunks). */
export type RowColumns = Readonly<Partial<Record<ColumnName, ArrayLike<number>>>>;

/** A compiled expression: the columns it reads, and its test of entry j (row i) of a chunk of them. */
export interface CompiledFilter {
  readonly columns: readonly ColumnName[];
  readonly test: (c: RowColumns, j: number, i: number) => boolean;
}

type Test = CompiledFilter['test'];

/** A predicate over the table's rows for a parsed expression; it reads only `columns`. */
export function compileFilterExpr(node: FilterNode, t: EventTable): CompiledFilter {
  const columns = new Set<ColumnName>();
  const test = compileNode(node, t, columns);
  return { columns: [...columns], test };
}

function compileNode(node: FilterNode, t: EventTable, columns: Set<ColumnName>): Test {
  switch (node.type) {
    case 'and': {
      const a = compileNode(node.left, t, columns);
      const b = compileNode(node.right, t, columns);
      return (c, j, i) => a(c, j, i) && b(c, j, i);
    }
    case 'or': {
      const a = compileNode(node.left, t, columns);
      const b = compileNode(node.right, t, columns);
      return (c, j, i) => a(c, j, i) || b(c, j, i);
    }
    case 'not': {
      const a = compileNode(node.operand, t, columns);
      return (c, j, i) => !a(c, j, i);
    }
    default:
      break;
  }
  const { field, op } = node;
  if (field.column === 'index') {
    const v = node.value as number;
    return (_c, _j, i) => compareNumber(op, i, v);
  }
  const name = field.column;
  columns.add(name);
  const unknown = unknownTest(name);
  const negated = op === '!=' || op === '!~';
  if (field.type === 'number' || field.type === 'address') {
    const v = node.value as number;
    return (c, j) => {
      const x = (c[name] as ArrayLike<number>)[j] as number;
      return !unknown(x) && compareNumber(op, x, v);
    };
  }
  const text = node.value as string;
  if (field.type === 'bits') {
    let mask = 0;
    if (node.code !== undefined) mask = node.code;
    else for (const [bit, n] of Object.entries(field.values ?? {})) if (n.toLowerCase().includes(text)) mask |= Number(bit);
    return (c, j) => ((((c[name] as ArrayLike<number>)[j] as number) & mask) !== 0) !== negated;
  }
  // names and codes: which ids match, decided once
  let matches: (id: number) => boolean;
  if (field.type === 'name') {
    const names = t.names[(COLUMNS[name] as Spec).names as keyof RowNames];
    const hit = new Uint8Array(names.length);
    names.forEach((n, id) => {
      const s = n.toLowerCase();
      if (op === '==' || op === '!=' ? s === text : s.includes(text)) hit[id] = 1;
    });
    matches = (id) => hit[id] === 1;
  } else if (node.code !== undefined) {
    const code = node.code;
    matches = (id) => id === code;
  } else {
    const values = field.values ?? {};
    matches = (id) => (values[id] ?? '').toLowerCase().includes(text);
  }
  return (c, j) => {
    const x = (c[name] as ArrayLike<number>)[j] as number;
    return !unknown(x) && matches(x) !== negated;
  };
}

/** The compiled expression (parsed and compiled); throws FilterExprError. */
export function filterPredicate(src: string, t: EventTable): CompiledFilter {
  return compileFilterExpr(parseFilterExpr(src), t);
}

/**
 * The expression read the plain way, on a printed row (names, codes, hex strings, null for
 * unknown): what the compiled predicate must agree with.
 */
export function matchesPrintedRow(node: FilterNode, row: EventRow): boolean {
  switch (node.type) {
    case 'and':
      return matchesPrintedRow(node.left, row) && matchesPrintedRow(node.right, row);
    case 'or':
      return matchesPrintedRow(node.left, row) || matchesPrintedRow(node.right, row);
    case 'not':
      return !matchesPrintedRow(node.operand, row);
    default:
      break;
  }
  const { field, op } = node;
  const printed = field.column === 'index' ? row.index : (row as unknown as Record<string, unknown>)[field.column];
  if (field.type === 'bits') {
    const codes = (printed as string[]).map((c) => c.toLowerCase());
    const want = node.code !== undefined ? [(field.values?.[node.code] ?? '').toLowerCase()] : null;
    const has = want ? codes.includes(want[0] as string) : codes.some((c) => c.includes(node.value as string));
    return op === '!=' || op === '!~' ? !has : has;
  }
  if (printed === null || printed === '') return false;
  if (field.type === 'number') return compareNumber(op, printed as number, node.value as number);
  if (field.type === 'address') return compareNumber(op, Number(BigInt(printed as string)), node.value as number);
  const s = String(printed).toLowerCase();
  if (field.type === 'code' && node.code !== undefined) {
    const name = (field.values?.[node.code] ?? '').toLowerCase();
    return (s === name) !== (op === '!=');
  }
  switch (op) {
    case '==':
      return s === node.value;
    case '!=':
      return s !== node.value;
    case '~':
      return s.includes(node.value as string);
    default:
      return !s.includes(node.value as string);
  }
}
