/**
 * Constant values of C expressions as the compiler would fold them on x86-64 (LP64): integer
 * literals, #defines (object- and function-like), enum constants, const globals, sizeof of types
 * and variables whose struct layout is known, and the kernel's own helpers whose meaning is fixed
 * (DMA_BIT_MASK, BIT, ALIGN, DIV_ROUND_UP, min/max, ARRAY_SIZE, SZ_*, PAGE_SIZE, ...).
 * Anything that depends on run time (skb->len, a parameter) stays unknown.
 */
import { type Expr, exprText, type TypeName } from './expr';
import type { FieldDef, FileSymbols, FunctionInfo, MacroDef, StructDef, VarDecl } from './types';

/** Symbol tables searched nearest first; the later ones are loaded only when needed. */
export class SymbolScope {
  private later: FileSymbols[] | undefined;

  constructor(
    private readonly first: readonly FileSymbols[],
    private readonly loadMore: () => FileSymbols[] = () => [],
  ) {}

  /** Only the nearest tables (the file itself): no header is read. */
  findFirst<T>(get: (s: FileSymbols) => T | undefined): T | undefined {
    for (const s of this.first) {
      const v = get(s);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  find<T>(get: (s: FileSymbols) => T | undefined): T | undefined {
    for (const s of this.first) {
      const v = get(s);
      if (v !== undefined) return v;
    }
    this.later ??= this.loadMore();
    for (const s of this.later) {
      const v = get(s);
      if (v !== undefined) return v;
    }
    return undefined;
  }
}

const SZ: Record<string, bigint> = {};
for (let i = 0; i <= 32; i++) {
  const v = 1n << BigInt(i);
  const name = i < 10 ? `${v}` : i < 20 ? `${v >> 10n}K` : i < 30 ? `${v >> 20n}M` : `${v >> 30n}G`;
  SZ[`SZ_${name}`] = v;
}

/** Constants whose value the kernel fixes for every x86-64 build (uapi and asm headers). */
const BUILTIN_CONSTANTS: Readonly<Record<string, bigint>> = {
  ...SZ,
  PAGE_SIZE: 4096n,
  PAGE_SHIFT: 12n,
  L1_CACHE_BYTES: 64n,
  SMP_CACHE_BYTES: 64n,
  NET_SKB_PAD: 64n,
  ETH_ALEN: 6n,
  ETH_HLEN: 14n,
  ETH_ZLEN: 60n,
  ETH_DATA_LEN: 1500n,
  ETH_FRAME_LEN: 1514n,
  ETH_FCS_LEN: 4n,
  VLAN_HLEN: 4n,
  VLAN_ETH_HLEN: 18n,
  VLAN_ETH_FRAME_LEN: 1518n,
  SECTOR_SHIFT: 9n,
  SECTOR_SIZE: 512n,
  U8_MAX: 0xffn,
  U16_MAX: 0xffffn,
  U32_MAX: 0xffff_ffffn,
  U64_MAX: 0xffff_ffff_ffff_ffffn,
  UINT_MAX: 0xffff_ffffn,
  ULONG_MAX: 0xffff_ffff_ffff_ffffn,
  INT_MAX: 0x7fff_ffffn,
  NULL: 0n,
  true: 1n,
  false: 0n,
};

/** The kernel helpers value() folds itself (see call()). */
const BUILTIN_FUNCTIONS = new Set([
  'DMA_BIT_MASK',
  'BIT',
  'BIT_ULL',
  'GENMASK',
  'GENMASK_ULL',
  'ALIGN',
  '__ALIGN_KERNEL',
  'round_up',
  'round_down',
  'PAGE_ALIGN',
  'SKB_DATA_ALIGN',
  'roundup',
  'rounddown',
  'DIV_ROUND_UP',
  'min',
  'max',
  'min3',
  'max3',
  'min_t',
  'max_t',
  'clamp',
  'ARRAY_SIZE',
  'sizeof_field',
  'FIELD_SIZEOF',
  'struct_size',
]);

const U64 = (v: bigint) => BigInt.asUintN(64, v);
// BigInt has no Math.min/max
const bigMin = (a: bigint, b: bigint) => (b < a ? b : a);
const bigMax = (a: bigint, b: bigint) => (b > a ? b : a);
const pow2 = (v: bigint) => v > 0n && (v & (v - 1n)) === 0n;

/** Sizes of the scalar types and the kernel's fixed-size typedefs (LP64). */
const SCALAR_SIZES: Readonly<Record<string, number>> = {
  void: 1,
  char: 1,
  bool: 1,
  _Bool: 1,
  short: 2,
  int: 4,
  long: 8,
  float: 4,
  double: 8,
  u8: 1,
  s8: 1,
  __u8: 1,
  __s8: 1,
  uint8_t: 1,
  int8_t: 1,
  u16: 2,
  s16: 2,
  __u16: 2,
  __s16: 2,
  uint16_t: 2,
  int16_t: 2,
  __le16: 2,
  __be16: 2,
  __sum16: 2,
  u32: 4,
  s32: 4,
  __u32: 4,
  __s32: 4,
  uint32_t: 4,
  int32_t: 4,
  __le32: 4,
  __be32: 4,
  __wsum: 4,
  gfp_t: 4,
  atomic_t: 4,
  refcount_t: 4,
  dma_cookie_t: 4,
  u64: 8,
  s64: 8,
  __u64: 8,
  __s64: 8,
  uint64_t: 8,
  int64_t: 8,
  __le64: 8,
  __be64: 8,
  dma_addr_t: 8,
  phys_addr_t: 8,
  resource_size_t: 8,
  size_t: 8,
  ssize_t: 8,
  uintptr_t: 8,
  loff_t: 8,
  sector_t: 8,
  pgoff_t: 8,
  ktime_t: 8,
  atomic64_t: 8,
};

/** Kernel structs whose size is the same in every x86-64 build. */
const KNOWN_STRUCTS: Readonly<Record<string, { size: number; align: number }>> = {
  'struct list_head': { size: 16, align: 8 },
  'struct hlist_node': { size: 16, align: 8 },
  'struct hlist_head': { size: 8, align: 8 },
  'struct rcu_head': { size: 16, align: 8 },
  'struct callback_head': { size: 16, align: 8 },
};

function primSize(name: string): number | undefined {
  const direct = SCALAR_SIZES[name];
  if (direct !== undefined) return direct;
  // "unsigned long", "long long int", "signed char", "long double", "unsigned"
  const words = name.split(' ');
  if (words.includes('char')) return 1;
  if (words.includes('short')) return 2;
  if (words.includes('double')) return words.includes('long') ? 16 : 8;
  if (words.includes('long')) return 8;
  if (words.includes('int') || words.includes('unsigned') || words.includes('signed')) return 4;
  return undefined;
}

interface Layout {
  readonly size: number;
  readonly align: number;
}

/** Where a value came from, for explanations ("RX_BUF_SIZE = 2048, #define at drv.h:12"). */
export interface Trail {
  readonly name: string;
  readonly value: string;
  readonly where?: string;
}

type Env = ReadonlyMap<string, Expr> | undefined;

const MAX_DEPTH = 64;

export class Evaluator {
  private depth = 0;
  /** Symbols the last value() call used. */
  trail: Trail[] = [];

  constructor(
    private readonly scope: SymbolScope,
    private readonly parseMacro: (body: string) => Expr | undefined,
    private readonly fn?: FunctionInfo,
    private readonly relFile: (file: string) => string = (f) => f,
    /** Parsed macro bodies, shared by the evaluators of one file. */
    private readonly macroExprs = new Map<MacroDef, Expr | null>(),
  ) {}

  /** A function's view: the same symbols plus its parameters and locals. */
  inFunction(fn: FunctionInfo | undefined): Evaluator {
    return new Evaluator(this.scope, this.parseMacro, fn, this.relFile, this.macroExprs);
  }

  /** The value, or undefined when it depends on run time or on symbols not found. */
  value(e: Expr): bigint | undefined {
    this.trail = [];
    this.depth = 0;
    return this.eval(e, undefined);
  }

  private local(name: string): VarDecl | undefined {
    if (!this.fn) return undefined;
    // the last declaration before use wins (shadowing in nested blocks is rare in drivers)
    for (let i = this.fn.locals.length - 1; i >= 0; i--) if (this.fn.locals[i]?.name === name) return this.fn.locals[i];
    return this.fn.params.find((p) => p.name === name);
  }

  private macroExpr(m: MacroDef): Expr | undefined {
    let e = this.macroExprs.get(m);
    if (e === undefined) {
      e = this.parseMacro(m.body) ?? null;
      this.macroExprs.set(m, e);
    }
    return e ?? undefined;
  }

  private where(m: { file: string; span?: { row: number }; row?: number }): string {
    const row = m.span ? m.span.row : (m.row ?? 0);
    return `${this.relFile(m.file)}:${row + 1}`;
  }

  private eval(e: Expr, env: Env): bigint | undefined {
    if (++this.depth > 4000) return undefined;
    switch (e.k) {
      case 'num':
        return e.v;
      case 'id':
        return this.ident(e.name, env);
      case 'un': {
        if (e.op === '&' || e.op === '*') return undefined;
        const a = this.eval(e.a, env);
        if (a === undefined) return undefined;
        switch (e.op) {
          case '-':
            return -a;
          case '+':
            return a;
          case '~':
            return U64(~a);
          case '!':
            return a === 0n ? 1n : 0n;
          default:
            return undefined;
        }
      }
      case 'bin':
        return this.binary(e.op, e.l, e.r, env);
      case 'cond': {
        const c = this.eval(e.c, env);
        if (c === undefined) return undefined;
        return this.eval(c !== 0n ? e.t : e.f, env);
      }
      case 'cast': {
        const v = this.eval(e.e, env);
        if (v === undefined) return undefined;
        const size = this.sizeOfType(e.t);
        if (e.t.ptr === 0 && size !== undefined && size < 8) return BigInt.asUintN(size * 8, v);
        return v;
      }
      case 'comma':
        return this.eval(e.r, env);
      case 'sizeof_t': {
        const s = this.sizeOfType(e.t);
        return s === undefined ? undefined : BigInt(s);
      }
      case 'sizeof_e': {
        const t = this.typeOf(e.e, env);
        const s = t ? this.sizeOfType(t) : undefined;
        return s === undefined ? undefined : BigInt(s);
      }
      case 'call':
        return this.call(e, env);
      default:
        return undefined;
    }
  }

  private binary(op: string, le: Expr, re: Expr, env: Env): bigint | undefined {
    const l = this.eval(le, env);
    if (op === '&&' && l === 0n) return 0n;
    if (op === '||' && l !== undefined && l !== 0n) return 1n;
    const r = this.eval(re, env);
    if (l === undefined || r === undefined) return undefined;
    switch (op) {
      case '+':
        return l + r;
      case '-':
        return l - r;
      case '*':
        return l * r;
      case '/':
        return r === 0n ? undefined : l / r;
      case '%':
        return r === 0n ? undefined : l % r;
      case '<<':
        return r < 0n || r > 127n ? undefined : l << r;
      case '>>':
        return r < 0n || r > 127n ? undefined : l >> r;
      case '&':
        return U64(l) & U64(r);
      case '|':
        return U64(l) | U64(r);
      case '^':
        return U64(l) ^ U64(r);
      case '<':
        return l < r ? 1n : 0n;
      case '>':
        return l > r ? 1n : 0n;
      case '<=':
        return l <= r ? 1n : 0n;
      case '>=':
        return l >= r ? 1n : 0n;
      case '==':
        return l === r ? 1n : 0n;
      case '!=':
        return l !== r ? 1n : 0n;
      case '&&':
        return l !== 0n && r !== 0n ? 1n : 0n;
      case '||':
        return l !== 0n || r !== 0n ? 1n : 0n;
      default:
        return undefined;
    }
  }

  private ident(name: string, env: Env): bigint | undefined {
    const bound = env?.get(name);
    if (bound) return this.eval(bound, undefined);
    // a local or parameter shadows every macro and global: its value is a run-time one,
    // unless it is a const local with a constant initialiser
    const loc = this.local(name);
    if (loc) {
      // a variable's initialiser is only its first value; a const one's is its value
      if (!loc.init || !loc.constant) return undefined;
      const v = this.eval(loc.init, undefined);
      if (v !== undefined) this.trail.push({ name, value: v.toString(), where: `initialised at line ${loc.row + 1}` });
      return v;
    }
    if (this.depth > MAX_DEPTH * 8) return undefined;
    // the kernel's fixed constants are not redefined by drivers: do not read headers for them
    const builtin = BUILTIN_CONSTANTS[name];
    if (builtin !== undefined && !this.scope.findFirst((s) => s.macros.get(name) ?? s.enums.get(name))) {
      this.trail.push({ name, value: builtin.toString(), where: 'kernel constant (x86-64)' });
      return builtin;
    }
    const m = this.scope.find((s) => s.macros.get(name));
    if (m) {
      if (m.params) return undefined;
      const body = this.macroExpr(m);
      if (!body) return undefined;
      const v = this.nested(() => this.eval(body, undefined));
      if (v !== undefined) this.trail.push({ name, value: v.toString(), where: `#define at ${this.where(m)}` });
      return v;
    }
    const en = this.scope.find((s) => s.enums.get(name));
    if (en) {
      const v = this.nested(() => this.enumValue(name));
      if (v !== undefined) this.trail.push({ name, value: v.toString(), where: `enum at ${this.where(en)}` });
      return v;
    }
    const g = this.scope.find((s) => s.globals.get(name));
    if (g?.init) {
      const v = this.nested(() => this.eval(g.init as Expr, undefined));
      if (v !== undefined) this.trail.push({ name, value: v.toString(), where: 'const global' });
      return v;
    }
    const b = BUILTIN_CONSTANTS[name];
    if (b !== undefined) this.trail.push({ name, value: b.toString(), where: 'kernel constant (x86-64)' });
    return b;
  }

  private nested<T>(f: () => T): T | undefined {
    if (this.depth > MAX_DEPTH * 50) return undefined;
    return f();
  }

  private enumValue(name: string, guard = 0): bigint | undefined {
    if (guard > 4096) return undefined;
    const en = this.scope.find((s) => s.enums.get(name));
    if (!en) return undefined;
    if (en.expr) return this.eval(en.expr, undefined);
    if (!en.prev) return 0n;
    const p = this.enumValue(en.prev, guard + 1);
    return p === undefined ? undefined : p + 1n;
  }

  private call(e: Extract<Expr, { k: 'call' }>, env: Env): bigint | undefined {
    if (e.fn.k !== 'id') return undefined;
    const name = e.fn.name;
    // the kernel's helpers (DMA_BIT_MASK, ALIGN, ...) unless the file itself defines them
    const m = BUILTIN_FUNCTIONS.has(name) ? this.scope.findFirst((s) => s.macros.get(name)) : this.scope.find((s) => s.macros.get(name));
    if (m?.params) {
      const body = this.macroExpr(m);
      if (!body) return undefined;
      const bind = new Map<string, Expr>();
      m.params.forEach((p, i) => {
        const a = e.args[i];
        if (a) bind.set(p, substitute(a, env));
      });
      const v = this.nested(() => this.eval(body, bind));
      if (v !== undefined) this.trail.push({ name: `${name}()`, value: v.toString(), where: `#define at ${this.where(m)}` });
      return v;
    }
    const args = e.args;
    const ev = (i: number) => (args[i] ? this.eval(args[i] as Expr, env) : undefined);
    switch (name) {
      case 'DMA_BIT_MASK': {
        const n = ev(0);
        if (n === undefined || n < 0n || n > 64n) return undefined;
        return n === 64n ? U64(-1n) : (1n << n) - 1n;
      }
      case 'BIT':
      case 'BIT_ULL': {
        const n = ev(0);
        return n === undefined || n < 0n || n > 63n ? undefined : 1n << n;
      }
      case 'GENMASK':
      case 'GENMASK_ULL': {
        const h = ev(0);
        const l = ev(1);
        if (h === undefined || l === undefined || l > h || h > 63n || l < 0n) return undefined;
        return ((1n << (h - l + 1n)) - 1n) << l;
      }
      case 'ALIGN':
      case '__ALIGN_KERNEL':
      case 'round_up': {
        const x = ev(0);
        const a = ev(1);
        if (x === undefined || a === undefined || !pow2(a)) return undefined;
        return (x + a - 1n) & ~(a - 1n);
      }
      case 'round_down': {
        const x = ev(0);
        const a = ev(1);
        if (x === undefined || a === undefined || !pow2(a)) return undefined;
        return x & ~(a - 1n);
      }
      case 'PAGE_ALIGN': {
        const x = ev(0);
        return x === undefined ? undefined : (x + 4095n) & ~4095n;
      }
      case 'SKB_DATA_ALIGN': {
        const x = ev(0);
        return x === undefined ? undefined : (x + 63n) & ~63n;
      }
      case 'roundup': {
        const x = ev(0);
        const y = ev(1);
        if (x === undefined || y === undefined || y <= 0n) return undefined;
        return ((x + y - 1n) / y) * y;
      }
      case 'rounddown': {
        const x = ev(0);
        const y = ev(1);
        if (x === undefined || y === undefined || y <= 0n) return undefined;
        return x - (x % y);
      }
      case 'DIV_ROUND_UP': {
        const n = ev(0);
        const d = ev(1);
        if (n === undefined || d === undefined || d <= 0n) return undefined;
        return (n + d - 1n) / d;
      }
      case 'min':
      case 'max':
      case 'min3':
      case 'max3': {
        const vs = args.map((_, i) => ev(i));
        if (vs.length === 0 || vs.some((v) => v === undefined)) return undefined;
        return (vs as bigint[]).reduce((a, b) => (name.startsWith('min') ? bigMin(a, b) : bigMax(a, b)));
      }
      case 'min_t':
      case 'max_t': {
        const a = ev(1);
        const b = ev(2);
        if (a === undefined || b === undefined) return undefined;
        return name === 'min_t' ? bigMin(a, b) : bigMax(a, b);
      }
      case 'clamp': {
        const v = ev(0);
        const lo = ev(1);
        const hi = ev(2);
        if (v === undefined || lo === undefined || hi === undefined) return undefined;
        return bigMin(bigMax(v, lo), hi);
      }
      case 'ARRAY_SIZE': {
        const t = args[0] ? this.typeOf(args[0], env) : undefined;
        const d = t?.dims[0];
        return d ? this.eval(d, undefined) : undefined;
      }
      case 'sizeof_field':
      case 'FIELD_SIZEOF': {
        // sizeof_field(struct foo, member): the first argument parses as an expression
        const t = args[0] ? this.typeFromExpr(args[0]) : undefined;
        const f = args[1]?.k === 'id' ? args[1].name : undefined;
        const ft = t && f ? this.fieldType(t, f) : undefined;
        const s = ft ? this.sizeOfType(ft) : undefined;
        return s === undefined ? undefined : BigInt(s);
      }
      case 'struct_size': {
        // struct_size(p, member, n) = sizeof(*p) + n * sizeof(p->member[0])
        const p = args[0] ? this.typeOf(args[0], env) : undefined;
        const n = ev(2);
        const f = args[1]?.k === 'id' ? args[1].name : undefined;
        if (!p || n === undefined || !f || p.ptr < 1) return undefined;
        const s = this.sizeOfType({ ...p, ptr: p.ptr - 1 });
        const ft = this.fieldType({ ...p, ptr: p.ptr - 1 }, f);
        const es = ft ? this.sizeOfType({ ...ft, dims: ft.dims.slice(1) }) : undefined;
        return s === undefined || es === undefined ? undefined : BigInt(s) + n * BigInt(es);
      }
      default:
        return undefined;
    }
  }

  /** "struct foo" written as a macro argument parses as an identifier or an odd expression. */
  private typeFromExpr(e: Expr): TypeName | undefined {
    if (e.k === 'id') return { kind: 'named', name: e.name, ptr: 0, dims: [] };
    if (e.k === 'other') {
      const [kw, tag] = e.text.trim().split(/\s+/);
      if ((kw === 'struct' || kw === 'union') && tag) return { kind: kw, name: tag, ptr: 0, dims: [] };
    }
    return undefined;
  }

  // ---------------------------------------------------------------- types

  /** Follows typedefs to a struct, union, enum or scalar, keeping pointers and arrays. */
  resolveType(t: TypeName, guard = 0): TypeName {
    if (t.kind !== 'named' || guard > 32) return t;
    if (SCALAR_SIZES[t.name] !== undefined) return t;
    const td = this.scope.find((s) => s.typedefs.get(t.name));
    if (!td) return t;
    return this.resolveType({ ...td, ptr: td.ptr + t.ptr, dims: [...t.dims, ...td.dims], ...(td.fnPtr ? { fnPtr: true } : {}) }, guard + 1);
  }

  private struct(t: TypeName): StructDef | undefined {
    return this.scope.find((s) => s.structs.get(`${t.kind} ${t.name}`));
  }

  layout(t0: TypeName, guard = 0): Layout | undefined {
    if (guard > 32) return undefined;
    const t = this.resolveType(t0);
    let elem: Layout | undefined;
    if (t.ptr > 0 || t.fnPtr) elem = { size: 8, align: 8 };
    else if (t.kind === 'prim' || t.kind === 'named') {
      const s = primSize(t.name);
      elem = s === undefined ? undefined : { size: s, align: Math.min(s, 16) };
    } else if (t.kind === 'enum') elem = { size: 4, align: 4 };
    else {
      const known = KNOWN_STRUCTS[`${t.kind} ${t.name}`];
      const def = this.struct(t);
      elem = def ? this.structLayout(def, guard + 1) : known;
    }
    if (!elem) return undefined;
    let count = 1n;
    for (const d of t.dims) {
      if (!d) return { size: 0, align: elem.align };
      const n = this.nested(() => this.eval(d, undefined));
      if (n === undefined || n < 0n) return undefined;
      count *= n;
    }
    return { size: Number(BigInt(elem.size) * count), align: elem.align };
  }

  private structLayout(def: StructDef, guard: number): Layout | undefined {
    let bit = 0;
    let size = 0;
    let align = 1;
    for (const f of def.fields) {
      const l = this.fieldLayout(f, guard);
      if (!l) return undefined;
      const a = def.packed ? 1 : l.align;
      align = Math.max(align, a);
      if (def.union) {
        size = Math.max(size, l.size);
        continue;
      }
      if (f.bits) {
        const w = this.nested(() => this.eval(f.bits as Expr, undefined));
        if (w === undefined) return undefined;
        const unit = l.size * 8;
        const width = Number(w);
        if (width === 0) bit = Math.ceil(bit / unit) * unit;
        // a bit-field does not straddle a unit of its type (unless packed)
        else if (!def.packed && Math.floor(bit / unit) !== Math.floor((bit + width - 1) / unit)) bit = Math.ceil(bit / unit) * unit;
        bit += width;
        continue;
      }
      let off = Math.ceil(bit / 8);
      off = Math.ceil(off / a) * a;
      bit = (off + l.size) * 8;
    }
    if (!def.union) size = Math.ceil(bit / 8);
    size = Math.ceil(size / align) * align;
    return { size, align };
  }

  private fieldLayout(f: FieldDef, guard: number): Layout | undefined {
    return this.layout(f.type, guard + 1);
  }

  sizeOfType(t: TypeName): number | undefined {
    return this.layout(t)?.size;
  }

  /** The type of a member, looking into anonymous struct/union members. */
  fieldType(t0: TypeName, name: string, guard = 0): TypeName | undefined {
    if (guard > 16) return undefined;
    const t = this.resolveType(t0);
    if (t.kind !== 'struct' && t.kind !== 'union') return undefined;
    const def = this.struct(t);
    if (!def) return undefined;
    for (const f of def.fields) {
      if (f.name === name) return f.type;
      if (!f.name) {
        const inner = this.fieldType(f.type, name, guard + 1);
        if (inner) return inner;
      }
    }
    return undefined;
  }

  /** The declared type of an expression, where declarations tell it. */
  typeOf(e: Expr, env?: Env): TypeName | undefined {
    switch (e.k) {
      case 'id': {
        const bound = env?.get(e.name);
        if (bound) return this.typeOf(bound, undefined);
        const loc = this.local(e.name);
        if (loc) return loc.type;
        return this.scope.find((s) => s.globals.get(e.name))?.type;
      }
      case 'field': {
        const bt = this.typeOf(e.base, env);
        if (!bt) return undefined;
        const r = this.resolveType(bt);
        const target = e.arrow ? (r.ptr > 0 ? { ...r, ptr: r.ptr - 1 } : r.dims.length ? { ...r, dims: r.dims.slice(1) } : undefined) : r;
        return target ? this.fieldType(target, e.name) : undefined;
      }
      case 'un': {
        const t = this.typeOf(e.a, env);
        if (!t) return undefined;
        const r = this.resolveType(t);
        if (e.op === '*') return r.ptr > 0 ? { ...r, ptr: r.ptr - 1 } : r.dims.length ? { ...r, dims: r.dims.slice(1) } : undefined;
        if (e.op === '&') return { ...r, ptr: r.ptr + 1 };
        return r;
      }
      case 'index': {
        const t = this.typeOf(e.base, env);
        if (!t) return undefined;
        const r = this.resolveType(t);
        return r.dims.length ? { ...r, dims: r.dims.slice(1) } : r.ptr > 0 ? { ...r, ptr: r.ptr - 1 } : undefined;
      }
      case 'cast':
        return e.t;
      case 'str':
        return { kind: 'prim', name: 'char', ptr: 0, dims: [{ k: 'num', v: BigInt(e.text.length - 1) }] };
      default:
        return undefined;
    }
  }
}

/** A macro argument that itself names macro parameters of an outer expansion. */
function substitute(e: Expr, env: Env): Expr {
  if (!env) return e;
  if (e.k === 'id') return env.get(e.name) ?? e;
  switch (e.k) {
    case 'bin':
      return { ...e, l: substitute(e.l, env), r: substitute(e.r, env) };
    case 'un':
      return { ...e, a: substitute(e.a, env) };
    case 'call':
      return { ...e, args: e.args.map((a) => substitute(a, env)) };
    case 'cond':
      return { ...e, c: substitute(e.c, env), t: substitute(e.t, env), f: substitute(e.f, env) };
    case 'cast':
      return { ...e, e: substitute(e.e, env) };
    case 'sizeof_e':
      return { ...e, e: substitute(e.e, env) };
    case 'field':
      return { ...e, base: substitute(e.base, env) };
    case 'index':
      return { ...e, base: substitute(e.base, env), idx: substitute(e.idx, env) };
    default:
      return e;
  }
}

export { exprText };
