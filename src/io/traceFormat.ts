/**
 * The kernel's event format files (`events/<system>/<event>/format`, as trace.dat carries them)
 * and their "print fmt": fields with offsets, sizes and signedness, and a small evaluator of the
 * print fmt's C expressions (REC->field, __get_str, __print_symbolic, __print_flags,
 * __print_array, casts, ternaries, GNU statement expressions) so that a binary record prints as
 * the kernel prints it in tracefs text. Nothing about an event's layout is assumed: it all comes
 * from its format file.
 */

export interface Field {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly signed: boolean;
  /** `__data_loc` (offset/length word) or `__rel_loc` (offset from the end of the field). */
  readonly loc: 'data' | 'rel' | null;
  /** Element type of arrays and __data_loc fields ("char", "u64", ...). */
  readonly elemType: string;
  /** `char name[16]` and `__data_loc char[]`: printed as a string. */
  readonly isString: boolean;
  readonly isArray: boolean;
}

export interface EventFormat {
  readonly system: string;
  readonly name: string;
  readonly id: number;
  readonly fields: Field[];
  readonly byName: Map<string, Field>;
  /** The print fmt, compiled (null when it has none or it does not parse). */
  print: CompiledPrint | null;
  readonly printFmt: string;
  printError?: string;
}

/** Little/big-endian readers over one record. */
export interface RawRecord {
  readonly data: Uint8Array;
  readonly view: DataView;
  readonly start: number;
  readonly end: number;
  readonly little: boolean;
}

const COMMON = /^common_/;

/** Parses one format file. */
export function parseFormat(text: string, system: string): EventFormat {
  const name = /^name:\s*(\S+)/m.exec(text)?.[1] ?? '';
  const id = Number(/^ID:\s*(\d+)/m.exec(text)?.[1] ?? Number.NaN);
  if (!name || !Number.isInteger(id)) throw new Error('no name or ID');
  const fields: Field[] = [];
  for (const m of text.matchAll(/field:([^;]*);\s*offset:(\d+);\s*size:(\d+);\s*signed:(-?\d+);/g)) {
    const decl = (m[1] as string).trim();
    const loc = /^__data_loc\b/.test(decl) ? 'data' : /^__rel_loc\b/.test(decl) ? 'rel' : null;
    const d = decl.replace(/^__(data|rel)_loc\s+/, '');
    const am = /^(.*?)([A-Za-z_]\w*)\s*(\[[^\]]*\])?\s*$/.exec(d);
    if (!am) continue;
    const type = (am[1] as string).trim();
    const dims = am[3];
    const isArray = dims !== undefined || /\[\]$/.test(type);
    const elemType = type.replace(/\[\]$/, '').trim();
    fields.push({
      name: am[2] as string,
      offset: Number(m[2]),
      size: Number(m[3]),
      signed: m[4] === '1',
      loc,
      elemType,
      isString: isArray && /\bchar$/.test(elemType),
      isArray,
    });
  }
  const pm = /^print fmt:\s*(.*)$/ms.exec(text);
  const printFmt = pm ? (pm[1] as string).trim() : '';
  const ev: EventFormat = { system, name, id, fields, byName: new Map(fields.map((f) => [f.name, f])), print: null, printFmt };
  if (printFmt) {
    try {
      ev.print = compilePrint(printFmt, ev);
    } catch (e) {
      ev.printError = (e as Error).message;
    }
  }
  return ev;
}

/** Fields of the header_page / header_event files ("field: u64 timestamp; offset:0; ..."). */
export function parseHeaderFields(text: string): Map<string, { offset: number; size: number }> {
  const out = new Map<string, { offset: number; size: number }>();
  for (const m of text.matchAll(/field:\s*([^;]*?)\s*([A-Za-z_]\w*)\s*;\s*offset:(\d+);\s*size:(\d+);/g)) {
    out.set(m[2] as string, { offset: Number(m[3]), size: Number(m[4]) });
  }
  return out;
}

// ---- field values ------------------------------------------------------------------------

const MASK64 = (1n << 64n) - 1n;

export function readInt(r: RawRecord, off: number, size: number, signed: boolean): bigint {
  const p = r.start + off;
  if (p < r.start || p + size > r.end) return 0n;
  const v = r.view;
  switch (size) {
    case 1:
      return BigInt(signed ? v.getInt8(p) : v.getUint8(p));
    case 2:
      return BigInt(signed ? v.getInt16(p, r.little) : v.getUint16(p, r.little));
    case 4:
      return BigInt(signed ? v.getInt32(p, r.little) : v.getUint32(p, r.little));
    case 8:
      return signed ? v.getBigInt64(p, r.little) : v.getBigUint64(p, r.little);
    default:
      return 0n;
  }
}

/** [start, end) of a __data_loc / __rel_loc field's bytes within the record, or of a fixed array. */
function dynamicRange(r: RawRecord, f: Field): [number, number] {
  if (!f.loc) return [r.start + f.offset, r.start + f.offset + f.size];
  const word = Number(readInt(r, f.offset, 4, false));
  let off = word & 0xffff;
  const len = word >>> 16;
  if (f.loc === 'rel') off += f.offset + f.size;
  const s = r.start + off;
  const e = Math.min(s + len, r.end);
  return s > r.end ? [r.end, r.end] : [s, e];
}

function stringOf(r: RawRecord, f: Field): string {
  const [s, e] = dynamicRange(r, f);
  let z = s;
  while (z < e && r.data[z] !== 0) z++;
  return Buffer.from(r.data.buffer, r.data.byteOffset + s, z - s).toString('latin1');
}

function elemSize(type: string, fallback: number): number {
  const t = type.replace(/\b(const|volatile|unsigned|signed)\b/g, '').trim();
  if (/\*$/.test(t)) return 8;
  const m = /^(?:__)?[us](8|16|32|64)$/.exec(t);
  if (m) return Number(m[1]) / 8;
  switch (t) {
    case 'char':
    case 'bool':
      return 1;
    case 'short':
      return 2;
    case 'int':
    case '':
    case 'gfp_t':
      return 4;
    case 'long':
    case 'long long':
    case 'size_t':
    case 'dma_addr_t':
    case 'phys_addr_t':
      return 8;
    default:
      return fallback;
  }
}

/** One field as `trace-cmd report` prints a record whose print fmt it cannot use. */
export function fieldText(r: RawRecord, f: Field): string {
  if (f.isString) return stringOf(r, f);
  if (f.isArray || f.loc) {
    const [s, e] = dynamicRange(r, f);
    const n = elemSize(f.elemType, 1);
    const parts: string[] = [];
    for (let p = s; p + n <= e && parts.length < 1024; p += n) parts.push(`0x${readInt(r, p - r.start, n, false).toString(16)}`);
    return `{${parts.join(',')}}`;
  }
  const v = readInt(r, f.offset, f.size, f.signed);
  return f.signed || f.size < 8 ? v.toString() : `0x${v.toString(16)}`;
}

/** `name: field=value ...` without the common fields. */
export function genericBody(ev: EventFormat, r: RawRecord): string {
  const parts: string[] = [];
  for (const f of ev.fields) if (!COMMON.test(f.name)) parts.push(`${f.name}=${fieldText(r, f)}`);
  return parts.join(' ');
}

// ---- the print fmt -------------------------------------------------------------------------

type Value = bigint | string | { arr: [number, number] };
type Expr = (r: RawRecord, env: Map<string, Value>) => Value;
export type CompiledPrint = (r: RawRecord) => string;

interface Spec {
  lit: string;
  flags: string;
  width: number;
  prec: number;
  len: string;
  conv: string;
}

function tokenize(src: string): string[] {
  const toks: string[] = [];
  const re =
    /\s*(?:("(?:[^"\\]|\\.)*")|('(?:[^'\\]|\\.)*')|(0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*)|([A-Za-z_]\w*)|(->|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^~!?:,;(){}[\].<>=]))/y;
  let m: RegExpExecArray | null;
  re.lastIndex = 0;
  let pos = 0;
  for (;;) {
    m = re.exec(src);
    if (!m) break;
    toks.push((m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5]) as string);
    pos = re.lastIndex;
  }
  if (src.slice(pos).trim() !== '') throw new Error(`cannot read the print fmt at "${src.slice(pos, pos + 20)}"`);
  return toks;
}

function unquote(lit: string): string {
  return lit
    .slice(1, -1)
    .replace(/\\(n|t|"|\\|'|0)/g, (_m, c: string) => ({ n: '\n', t: '\t', '"': '"', '\\': '\\', "'": "'", 0: '\0' })[c] as string);
}

const TYPE_WORDS = new Set([
  'unsigned',
  'signed',
  'int',
  'long',
  'short',
  'char',
  'bool',
  'void',
  'const',
  'volatile',
  'struct',
  'enum',
  'size_t',
  'gfp_t',
  'dma_addr_t',
  'phys_addr_t',
]);
function isTypeWord(t: string | undefined): boolean {
  return t !== undefined && (TYPE_WORDS.has(t) || /^(?:__)?[us](8|16|32|64)$/.test(t) || /_t$/.test(t));
}

/** Bits and signedness of a cast's type (64-bit unsigned when unknown). */
function castOf(words: string[]): { bits: number; signed: boolean; bool: boolean } {
  const t = words.join(' ');
  if (/\*/.test(t)) return { bits: 64, signed: false, bool: false };
  if (/\bbool\b/.test(t)) return { bits: 1, signed: false, bool: true };
  const signed = !/\bunsigned\b|^(?:__)?u\d|gfp_t|size_t|dma_addr_t|phys_addr_t/.test(t);
  const m = /(?:__)?[us](8|16|32|64)\b/.exec(t);
  if (m) return { bits: Number(m[1]), signed, bool: false };
  if (/\bchar\b/.test(t)) return { bits: 8, signed, bool: false };
  if (/\bshort\b/.test(t)) return { bits: 16, signed, bool: false };
  if (/\blong\b|size_t|dma_addr_t|phys_addr_t/.test(t)) return { bits: 64, signed, bool: false };
  if (/\bint\b|gfp_t|\benum\b/.test(t)) return { bits: 32, signed, bool: false };
  return { bits: 64, signed: false, bool: false };
}

function toInt(v: Value): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string') return v.length > 0 ? 1n : 0n;
  return BigInt(v.arr[0]);
}

class PrintParser {
  private i = 0;
  constructor(
    private readonly t: string[],
    private readonly ev: EventFormat,
  ) {}

  private peek(k = 0): string | undefined {
    return this.t[this.i + k];
  }
  private next(): string {
    const x = this.t[this.i++];
    if (x === undefined) throw new Error('the print fmt ends early');
    return x;
  }
  private expect(x: string): void {
    const y = this.next();
    if (y !== x) throw new Error(`expected "${x}", found "${y}"`);
  }
  atEnd(): boolean {
    return this.i >= this.t.length;
  }

  /** A comma-separated list of expressions (the print arguments). */
  args(): Expr[] {
    const out: Expr[] = [];
    while (!this.atEnd()) {
      out.push(this.assign());
      if (this.atEnd()) break;
      this.expect(',');
    }
    return out;
  }

  private assign(): Expr {
    return this.ternary();
  }

  private ternary(): Expr {
    const c = this.binary(0);
    if (this.peek() !== '?') return c;
    this.next();
    const a = this.assign();
    this.expect(':');
    const b = this.assign();
    return (r, env) => (toInt(c(r, env)) !== 0n ? a(r, env) : b(r, env));
  }

  private static readonly PREC: { [op: string]: number } = {
    '||': 1,
    '&&': 2,
    '|': 3,
    '^': 4,
    '&': 5,
    '==': 6,
    '!=': 6,
    '<': 7,
    '>': 7,
    '<=': 7,
    '>=': 7,
    '<<': 8,
    '>>': 8,
    '+': 9,
    '-': 9,
    '*': 10,
    '/': 10,
    '%': 10,
  };

  private binary(min: number): Expr {
    let left = this.unary();
    for (;;) {
      const op = this.peek();
      const p = op === undefined ? undefined : PrintParser.PREC[op];
      if (p === undefined || p <= min) return left;
      this.next();
      const right = this.binary(p);
      const l = left;
      left = binop(op as string, l, right);
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (t === '-' || t === '!' || t === '~' || t === '+') {
      this.next();
      const e = this.unary();
      if (t === '-') return (r, env) => -toInt(e(r, env));
      if (t === '!') return (r, env) => (toInt(e(r, env)) === 0n ? 1n : 0n);
      if (t === '~') return (r, env) => ~toInt(e(r, env)) & MASK64;
      return e;
    }
    if (t === '(' && isTypeWord(this.peek(1))) {
      // a cast: "( unsigned long)" / "(void *)"
      this.next();
      const words: string[] = [];
      while (this.peek() !== ')') words.push(this.next());
      this.next();
      const e = this.unary();
      const c = castOf(words);
      return (r, env) => {
        const v = e(r, env);
        if (typeof v !== 'bigint') return v;
        if (c.bool) return v !== 0n ? 1n : 0n;
        return c.signed ? BigInt.asIntN(c.bits, v) : BigInt.asUintN(c.bits, v);
      };
    }
    return this.primary();
  }

  private primary(): Expr {
    const t = this.next();
    if (t === '(') {
      if (this.peek() === '{') return this.statementExpr();
      const e = this.assign();
      this.expect(')');
      return e;
    }
    if (t.startsWith('"')) {
      let s = unquote(t);
      while (this.peek()?.startsWith('"')) s += unquote(this.next());
      return () => s;
    }
    if (t.startsWith("'")) {
      const c = BigInt(unquote(t).charCodeAt(0));
      return () => c;
    }
    if (/^\d/.test(t)) {
      const v = BigInt(t.replace(/[uUlL]+$/, ''));
      return () => v;
    }
    if (t === 'REC') {
      this.expect('->');
      const name = this.next();
      return this.fieldRef(name);
    }
    if (t === 'sizeof') {
      this.expect('(');
      const words: string[] = [];
      let depth = 0;
      while (depth > 0 || this.peek() !== ')') {
        const w = this.next();
        if (w === '(') depth++;
        if (w === ')') depth--;
        words.push(w);
      }
      this.next();
      const n = BigInt(Math.max(1, castOf(words).bits / 8));
      return () => n;
    }
    if (this.peek() === '(') return this.call(t);
    // a local of a statement expression, or an enum constant the kernel left unexpanded
    return (_r, env) => {
      const v = env.get(t);
      if (v === undefined) throw new Error(`unknown name ${t}`);
      return v;
    };
  }

  /** ({ int x = (a); int y = (b); expr; }) */
  private statementExpr(): Expr {
    this.expect('{');
    const decls: [string, Expr][] = [];
    let result: Expr = () => 0n;
    while (this.peek() !== '}') {
      if (isTypeWord(this.peek()) && this.t[this.i + 1] !== '(') {
        const words: string[] = [];
        while (this.peek(1) !== '=' && this.peek(1) !== ';') words.push(this.next());
        const name = this.next();
        const c = castOf(words);
        if (this.peek() === '=') {
          this.next();
          const e = this.assign();
          decls.push([
            name,
            (r, env) => {
              const v = e(r, env);
              return typeof v === 'bigint' ? (c.signed ? BigInt.asIntN(c.bits, v) : BigInt.asUintN(c.bits, v)) : v;
            },
          ]);
        }
      } else {
        result = this.assign();
      }
      this.expect(';');
    }
    this.expect('}');
    this.expect(')');
    return (r, env) => {
      const inner = new Map(env);
      for (const [n, e] of decls) inner.set(n, e(r, inner));
      return result(r, inner);
    };
  }

  private fieldRef(name: string): Expr {
    const f = this.ev.byName.get(name);
    if (!f) throw new Error(`no field ${name}`);
    if (f.isString) return (r) => stringOf(r, f);
    if (f.isArray || f.loc) return (r) => ({ arr: dynamicRange(r, f) });
    return (r) => readInt(r, f.offset, f.size, f.signed);
  }

  private call(fn: string): Expr {
    this.expect('(');
    const args: Expr[] = [];
    const tables: [Expr, Expr][][] = [];
    while (this.peek() !== ')') {
      if (this.peek() === '{') {
        // { value, "name" } pairs of __print_symbolic / __print_flags
        const table: [Expr, Expr][] = [];
        while (this.peek() === '{') {
          this.next();
          const k = this.assign();
          this.expect(',');
          const v = this.assign();
          this.expect('}');
          table.push([k, v]);
          if (this.peek() === ',') this.next();
        }
        tables.push(table);
        continue;
      }
      if (fn === '__get_str' || fn === '__get_dynamic_array' || fn === '__get_dynamic_array_len' || fn === '__get_rel_str') {
        const name = this.next();
        const f = this.ev.byName.get(name);
        if (!f) throw new Error(`no field ${name}`);
        args.push(
          fn === '__get_dynamic_array_len'
            ? (r) => {
                const [s, e] = dynamicRange(r, f);
                return BigInt(e - s);
              }
            : fn === '__get_dynamic_array'
              ? (r) => ({ arr: dynamicRange(r, f) })
              : (r) => stringOf(r, f),
        );
      } else {
        args.push(this.assign());
      }
      if (this.peek() === ',') this.next();
    }
    this.next();
    const table = tables[0] ?? [];
    switch (fn) {
      case '__get_str':
      case '__get_rel_str':
      case '__get_dynamic_array':
      case '__get_dynamic_array_len':
        return args[0] as Expr;
      case '__print_symbolic':
      case '__print_symbolic_u64': {
        const v = args[0] as Expr;
        return (r, env) => {
          const x = toInt(v(r, env));
          for (const [k, name] of table) if (toInt(k(r, env)) === x) return name(r, env);
          return `0x${x.toString(16)}`;
        };
      }
      case '__print_flags':
      case '__print_flags_u64': {
        const v = args[0] as Expr;
        const delim = args[1] as Expr;
        return (r, env) => {
          let x = toInt(v(r, env));
          const d = String(delim(r, env));
          const parts: string[] = [];
          for (const [k, name] of table) {
            const m = toInt(k(r, env));
            if (m === 0n ? x === 0n : (x & m) === m) {
              parts.push(String(name(r, env)));
              x &= ~m;
              if (m !== 0n && x === 0n) break;
            }
          }
          if (x !== 0n) parts.push(`0x${x.toString(16)}`);
          return parts.join(d);
        };
      }
      case '__print_array': {
        const [p, count, size] = args as [Expr, Expr, Expr];
        return (r, env) => {
          const a = p(r, env);
          const n = Number(toInt(count(r, env)));
          const el = Number(toInt(size(r, env)));
          if (typeof a !== 'object' || !(el === 1 || el === 2 || el === 4 || el === 8)) return '{}';
          const parts: string[] = [];
          for (let k = 0; k < n && a.arr[0] + (k + 1) * el <= a.arr[1] && k < 4096; k++) {
            parts.push(`0x${readInt(r, a.arr[0] + k * el - r.start, el, false).toString(16)}`);
          }
          return `{${parts.join(',')}}`;
        };
      }
      case '__print_hex':
      case '__print_hex_str': {
        const [p, len] = args as [Expr, Expr];
        return (r, env) => {
          const a = p(r, env);
          if (typeof a !== 'object') return '';
          const n = Math.min(Number(toInt(len(r, env))), a.arr[1] - a.arr[0]);
          const parts: string[] = [];
          for (let k = 0; k < n; k++) parts.push((r.data[a.arr[0] + k] as number).toString(16).padStart(2, '0'));
          return parts.join(fn === '__print_hex' ? ' ' : '');
        };
      }
      default:
        throw new Error(`${fn}() is not supported`);
    }
  }
}

function binop(op: string, a: Expr, b: Expr): Expr {
  switch (op) {
    case '||':
      return (r, env) => (toInt(a(r, env)) !== 0n || toInt(b(r, env)) !== 0n ? 1n : 0n);
    case '&&':
      return (r, env) => (toInt(a(r, env)) !== 0n && toInt(b(r, env)) !== 0n ? 1n : 0n);
    default:
      break;
  }
  const f = ((): ((x: bigint, y: bigint) => bigint) => {
    switch (op) {
      case '|':
        return (x, y) => x | y;
      case '^':
        return (x, y) => x ^ y;
      case '&':
        return (x, y) => x & y;
      case '==':
        return (x, y) => (x === y ? 1n : 0n);
      case '!=':
        return (x, y) => (x !== y ? 1n : 0n);
      case '<':
        return (x, y) => (x < y ? 1n : 0n);
      case '>':
        return (x, y) => (x > y ? 1n : 0n);
      case '<=':
        return (x, y) => (x <= y ? 1n : 0n);
      case '>=':
        return (x, y) => (x >= y ? 1n : 0n);
      case '<<':
        return (x, y) => (x << y) & MASK64;
      case '>>':
        return (x, y) => x >> y;
      case '+':
        return (x, y) => x + y;
      case '-':
        return (x, y) => x - y;
      case '*':
        return (x, y) => x * y;
      case '/':
        return (x, y) => (y === 0n ? 0n : x / y);
      default:
        return (x, y) => (y === 0n ? 0n : x % y);
    }
  })();
  return (r, env) => f(toInt(a(r, env)), toInt(b(r, env)));
}

/** The format string's literal pieces and conversions. */
function parseSpecs(fmt: string): Spec[] {
  const out: Spec[] = [];
  const re = /%([-+ #0]*)(\d+|\*)?(?:\.(\d+|\*))?(hh|h|ll|l|L|z|j|t)?([diouxXcspn%])([a-zA-Z]*)/g;
  let last = 0;
  let lit = '';
  for (let m = re.exec(fmt); m; m = re.exec(fmt)) {
    lit += fmt.slice(last, m.index);
    last = re.lastIndex;
    if (m[5] === '%') {
      lit += '%';
      continue;
    }
    let conv = m[5] as string;
    let ext = m[6] as string;
    if (conv === 'p' && ext) {
      // %ps, %pS, %pF ...: a symbol (we print the address: trace.dat carries no symbols we use)
      conv = 'P';
      ext = ext.replace(/^[sSfFBR]+/, '');
    } else if (conv === 'p') {
      conv = 'p';
    }
    out.push({
      lit,
      flags: m[1] as string,
      width: m[2] === undefined || m[2] === '*' ? -1 : Number(m[2]),
      prec: m[3] === undefined || m[3] === '*' ? -1 : Number(m[3]),
      len: m[4] ?? '',
      conv,
    });
    lit = ext;
  }
  out.push({ lit: lit + fmt.slice(last), flags: '', width: -1, prec: -1, len: '', conv: '' });
  return out;
}

function pad(s: string, spec: Spec): string {
  if (spec.width < 0 || s.length >= spec.width) return s;
  if (spec.flags.includes('-')) return s.padEnd(spec.width);
  if (spec.flags.includes('0') && /[diouxX]/.test(spec.conv)) {
    const neg = s.startsWith('-');
    return (neg ? '-' : '') + (neg ? s.slice(1) : s).padStart(spec.width - (neg ? 1 : 0), '0');
  }
  return s.padStart(spec.width);
}

function formatOne(spec: Spec, v: Value): string {
  switch (spec.conv) {
    case 's': {
      const s = typeof v === 'string' ? v : String(toInt(v));
      return pad(spec.prec >= 0 ? s.slice(0, spec.prec) : s, spec);
    }
    case 'c':
      return pad(String.fromCharCode(Number(toInt(v) & 0xffn)), spec);
    case 'p':
    case 'P':
      return pad(`0x${BigInt.asUintN(64, toInt(v)).toString(16)}`, spec);
    default: {
      let x = toInt(v);
      const bits =
        spec.len === 'll' || spec.len === 'L' || spec.len === 'l' || spec.len === 'z' || spec.len === 'j' || spec.len === 't'
          ? 64
          : spec.len === 'h'
            ? 16
            : spec.len === 'hh'
              ? 8
              : 32;
      let s: string;
      if (spec.conv === 'd' || spec.conv === 'i') {
        x = BigInt.asIntN(bits, x);
        s = x.toString();
        if (spec.flags.includes('+') && x >= 0n) s = `+${s}`;
      } else {
        x = BigInt.asUintN(bits, x);
        s = spec.conv === 'o' ? x.toString(8) : x.toString(16);
        if (spec.conv === 'u') s = x.toString();
        if (spec.conv === 'X') s = s.toUpperCase();
        if (spec.flags.includes('#') && x !== 0n && spec.conv !== 'u') s = (spec.conv === 'o' ? '0' : spec.conv === 'X' ? '0X' : '0x') + s;
      }
      return pad(s, spec);
    }
  }
}

/** The locals outside any statement expression (each statement expression makes its own). */
const NO_LOCALS: Map<string, Value> = new Map();

/** Compiles `"fmt", arg, arg...` into a function that prints a record. Throws when it cannot. */
export function compilePrint(printFmt: string, ev: EventFormat): CompiledPrint {
  const toks = tokenize(printFmt);
  if (!toks[0]?.startsWith('"')) throw new Error('the print fmt does not start with a string');
  let fmt = '';
  let i = 0;
  while (toks[i]?.startsWith('"')) fmt += unquote(toks[i++] as string);
  const rest = toks.slice(i);
  if (rest[0] === ',') rest.shift();
  const p = new PrintParser(rest, ev);
  const args = rest.length ? p.args() : [];
  const specs = parseSpecs(fmt);
  const conversions = specs.length - 1;
  if (args.length < conversions) throw new Error(`${conversions} conversions but ${args.length} arguments`);
  return (r) => {
    let out = '';
    for (let k = 0; k < conversions; k++) {
      const spec = specs[k] as Spec;
      out += spec.lit + formatOne(spec, (args[k] as Expr)(r, NO_LOCALS));
    }
    return out + (specs[conversions] as Spec).lit;
  };
}
