/**
 * C expressions and type names as plain objects, converted from tree-sitter nodes so the syntax
 * tree can be freed right after a file is read; evaluated later, when every file's #defines,
 * enums and structs are known.
 */
import type { Node } from 'web-tree-sitter';

export interface TypeName {
  /** struct/union/enum tag, a primitive ("unsigned long"), or a typedef name (u32, dma_addr_t). */
  readonly kind: 'struct' | 'union' | 'enum' | 'prim' | 'named';
  readonly name: string;
  /** Levels of pointer ("*"). */
  readonly ptr: number;
  /** Array dimensions, outermost first (undefined entry: "[]"). */
  readonly dims: readonly (Expr | undefined)[];
  /** A pointer to a function (callbacks in structs). */
  readonly fnPtr?: boolean;
}

export type Expr =
  | { readonly k: 'num'; readonly v: bigint }
  | { readonly k: 'float'; readonly text: string }
  | { readonly k: 'str'; readonly text: string }
  | { readonly k: 'id'; readonly name: string }
  | { readonly k: 'bin'; readonly op: string; readonly l: Expr; readonly r: Expr }
  | { readonly k: 'un'; readonly op: string; readonly a: Expr }
  | { readonly k: 'call'; readonly fn: Expr; readonly args: readonly Expr[] }
  | { readonly k: 'sizeof_t'; readonly t: TypeName }
  | { readonly k: 'sizeof_e'; readonly e: Expr }
  | { readonly k: 'field'; readonly base: Expr; readonly name: string; readonly arrow: boolean }
  | { readonly k: 'index'; readonly base: Expr; readonly idx: Expr }
  | { readonly k: 'cast'; readonly t: TypeName; readonly e: Expr }
  | { readonly k: 'cond'; readonly c: Expr; readonly t: Expr; readonly f: Expr }
  | { readonly k: 'comma'; readonly l: Expr; readonly r: Expr }
  /** Anything else: compound literals, statement expressions, half-parsed code. */
  | { readonly k: 'other'; readonly text: string };

/**
 * A copy of a string that does not keep the whole file alive: tree-sitter's node text is a
 * slice of the input, and V8 slices (13 characters and more) hold on to their parent.
 */
export function keep(s: string): string {
  return s.length < 13 ? s : ` ${s}`.slice(1);
}

/** C integer literal: decimal, 0x hex, 0 octal, 0b binary, with u/l suffixes. Undefined for floats. */
export function parseIntLiteral(text: string): bigint | undefined {
  let t = text.replace(/'/g, '');
  let end = t.length;
  while (end > 0 && /[uUlL]/.test(t[end - 1] as string)) end--;
  t = t.slice(0, end);
  if (t.length === 0) return undefined;
  try {
    if (/^0[xX][0-9a-fA-F]+$/.test(t)) return BigInt(t);
    if (/^0[bB][01]+$/.test(t)) return BigInt(t);
    if (/^0[0-7]*$/.test(t)) return BigInt(t.length > 1 ? `0o${t.slice(1)}` : '0');
    if (/^[1-9][0-9]*$/.test(t)) return BigInt(t);
  } catch {
    return undefined;
  }
  return undefined;
}

const ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, '0': 0, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11 };

function charValue(text: string): bigint | undefined {
  const m = /^[LuU]?'(.*)'$/s.exec(text);
  if (!m) return undefined;
  const body = m[1] as string;
  if (body.length === 1) return BigInt(body.charCodeAt(0));
  if (body.startsWith('\\x')) return BigInt(Number.parseInt(body.slice(2), 16) || 0);
  if (body.startsWith('\\') && body.length === 2) {
    const v = ESCAPES[body[1] as string];
    return v === undefined ? undefined : BigInt(v);
  }
  if (/^\\[0-7]{1,3}$/.test(body)) return BigInt(Number.parseInt(body.slice(1), 8));
  return undefined;
}

function primName(n: Node): string {
  return n.text.replace(/\s+/g, ' ').trim();
}

/** The type part of a declaration or type descriptor. */
export function typeBase(n: Node | null): { kind: TypeName['kind']; name: string } {
  if (!n) return { kind: 'prim', name: 'int' };
  switch (n.type) {
    case 'primitive_type':
    case 'sized_type_specifier':
      return { kind: 'prim', name: keep(primName(n)) };
    case 'type_identifier':
      return { kind: 'named', name: keep(n.text) };
    case 'struct_specifier':
    case 'union_specifier':
    case 'enum_specifier': {
      const name = n.childForFieldName('name');
      const kind = n.type === 'struct_specifier' ? 'struct' : n.type === 'union_specifier' ? 'union' : 'enum';
      // anonymous aggregates are named by position so their layout can be found again
      return { kind, name: name ? keep(name.text) : `<anon@${n.startIndex}>` };
    }
    case 'macro_type_specifier':
      return { kind: 'named', name: keep(n.childForFieldName('name')?.text ?? n.text) };
    default:
      return { kind: 'named', name: keep(n.text) };
  }
}

/** Applies a declarator (pointer, array, function, parentheses) to a base type; returns the name too. */
export function applyDeclarator(
  base: { kind: TypeName['kind']; name: string },
  decl: Node | null,
): { name: string | undefined; type: TypeName; init?: Node } {
  let ptr = 0;
  const dims: (Expr | undefined)[] = [];
  let fnPtr = false;
  let init: Node | undefined;
  let d = decl;
  let name: string | undefined;
  let sawFunction = false;
  for (let guard = 0; d && guard < 64; guard++) {
    switch (d.type) {
      case 'init_declarator':
        init = d.childForFieldName('value') ?? undefined;
        d = d.childForFieldName('declarator');
        continue;
      case 'pointer_declarator':
      case 'abstract_pointer_declarator':
        if (sawFunction) fnPtr = true;
        else ptr++;
        d = d.childForFieldName('declarator');
        continue;
      case 'array_declarator':
      case 'abstract_array_declarator': {
        const size = d.childForFieldName('size');
        dims.push(size ? toExpr(size) : undefined);
        d = d.childForFieldName('declarator');
        continue;
      }
      case 'function_declarator':
      case 'abstract_function_declarator':
        sawFunction = true;
        d = d.childForFieldName('declarator');
        continue;
      case 'parenthesized_declarator':
      case 'abstract_parenthesized_declarator':
      case 'attributed_declarator':
        d = d.namedChild(0);
        continue;
      case 'identifier':
      case 'field_identifier':
      case 'type_identifier':
        name = keep(d.text);
        d = null;
        continue;
      default:
        d = null;
    }
  }
  const type: TypeName = { kind: base.kind, name: base.name, ptr: fnPtr ? 1 : ptr, dims, ...(fnPtr ? { fnPtr: true } : {}) };
  return { name, type, ...(init ? { init } : {}) };
}

/** A type_descriptor (in sizeof, casts) as a TypeName. */
export function typeDescriptor(n: Node): TypeName {
  return applyDeclarator(typeBase(n.childForFieldName('type')), n.childForFieldName('declarator')).type;
}

const MAX_DEPTH = 200;

/** Converts an expression node. Deep or odd trees become 'other' rather than recursing without end. */
export function toExpr(n: Node, depth = 0): Expr {
  if (depth > MAX_DEPTH) return { k: 'other', text: keep(n.text.slice(0, 80)) };
  const d = depth + 1;
  switch (n.type) {
    case 'number_literal': {
      const v = parseIntLiteral(n.text);
      return v === undefined ? { k: 'float', text: keep(n.text) } : { k: 'num', v };
    }
    case 'char_literal': {
      const v = charValue(n.text);
      return v === undefined ? { k: 'other', text: keep(n.text) } : { k: 'num', v };
    }
    case 'true':
      return { k: 'num', v: 1n };
    case 'false':
    case 'null':
      return { k: 'num', v: 0n };
    case 'string_literal':
    case 'concatenated_string':
      return { k: 'str', text: keep(n.text) };
    case 'identifier':
    case 'field_identifier':
      return { k: 'id', name: keep(n.text) };
    case 'parenthesized_expression': {
      const inner = n.namedChild(0);
      if (!inner || n.namedChildCount !== 1 || inner.type === 'comment') return { k: 'other', text: keep(n.text) };
      return toExpr(inner, d);
    }
    case 'binary_expression': {
      const l = n.childForFieldName('left');
      const r = n.childForFieldName('right');
      const op = n.childForFieldName('operator')?.type;
      if (!l || !r || !op) return { k: 'other', text: keep(n.text) };
      return { k: 'bin', op, l: toExpr(l, d), r: toExpr(r, d) };
    }
    case 'unary_expression':
    case 'pointer_expression': {
      const a = n.childForFieldName('argument');
      const op = n.childForFieldName('operator')?.type;
      if (!a || !op) return { k: 'other', text: keep(n.text) };
      return { k: 'un', op, a: toExpr(a, d) };
    }
    case 'call_expression': {
      const fn = n.childForFieldName('function');
      const args = n.childForFieldName('arguments');
      if (!fn || !args) return { k: 'other', text: keep(n.text) };
      return {
        k: 'call',
        fn: toExpr(fn, d),
        args: args.namedChildren.filter((c) => c && c.type !== 'comment').map((c) => toExpr(c as Node, d)),
      };
    }
    case 'sizeof_expression': {
      const t = n.childForFieldName('type');
      if (t) return { k: 'sizeof_t', t: typeDescriptor(t) };
      const v = n.childForFieldName('value');
      return v ? { k: 'sizeof_e', e: toExpr(v, d) } : { k: 'other', text: keep(n.text) };
    }
    case 'alignof_expression':
      return { k: 'other', text: keep(n.text) };
    case 'field_expression': {
      const base = n.childForFieldName('argument');
      const field = n.childForFieldName('field');
      const op = n.childForFieldName('operator')?.type;
      if (!base || !field) return { k: 'other', text: keep(n.text) };
      return { k: 'field', base: toExpr(base, d), name: keep(field.text), arrow: op === '->' };
    }
    case 'subscript_expression': {
      const base = n.childForFieldName('argument');
      const idx = n.childForFieldName('index') ?? n.childForFieldName('indices')?.namedChild(0);
      if (!base || !idx) return { k: 'other', text: keep(n.text) };
      return { k: 'index', base: toExpr(base, d), idx: toExpr(idx, d) };
    }
    case 'cast_expression': {
      const t = n.childForFieldName('type');
      const v = n.childForFieldName('value');
      if (!t || !v) return { k: 'other', text: keep(n.text) };
      return { k: 'cast', t: typeDescriptor(t), e: toExpr(v, d) };
    }
    case 'conditional_expression': {
      const c = n.childForFieldName('condition');
      const t = n.childForFieldName('consequence');
      const f = n.childForFieldName('alternative');
      if (!c || !t || !f) return { k: 'other', text: keep(n.text) };
      return { k: 'cond', c: toExpr(c, d), t: toExpr(t, d), f: toExpr(f, d) };
    }
    case 'comma_expression': {
      const l = n.childForFieldName('left');
      const r = n.childForFieldName('right');
      if (!l || !r) return { k: 'other', text: keep(n.text) };
      return { k: 'comma', l: toExpr(l, d), r: toExpr(r, d) };
    }
    default:
      return { k: 'other', text: keep(n.text.length > 200 ? `${n.text.slice(0, 200)}...` : n.text) };
  }
}

const PREC: Record<string, number> = {
  '*': 10,
  '/': 10,
  '%': 10,
  '+': 9,
  '-': 9,
  '<<': 8,
  '>>': 8,
  '<': 7,
  '>': 7,
  '<=': 7,
  '>=': 7,
  '==': 6,
  '!=': 6,
  '&': 5,
  '^': 4,
  '|': 3,
  '&&': 2,
  '||': 1,
};

export function typeText(t: TypeName): string {
  const base = t.kind === 'prim' || t.kind === 'named' ? t.name : `${t.kind} ${t.name}`;
  return `${base}${t.ptr ? ` ${'*'.repeat(t.ptr)}` : ''}${t.dims.map(() => '[]').join('')}`;
}

/** Canonical text of an expression (spacing normalised): used to compare and to key handles. */
export function exprText(e: Expr, outer = 0): string {
  switch (e.k) {
    case 'num':
      return e.v.toString();
    case 'float':
    case 'str':
    case 'other':
      return e.text;
    case 'id':
      return e.name;
    case 'bin': {
      const p = PREC[e.op] ?? 0;
      const s = `${exprText(e.l, p)} ${e.op} ${exprText(e.r, p + 1)}`;
      return p < outer ? `(${s})` : s;
    }
    case 'un':
      return `${e.op}${exprText(e.a, 11)}`;
    case 'call':
      return `${exprText(e.fn, 12)}(${e.args.map((a) => exprText(a)).join(', ')})`;
    case 'sizeof_t':
      return `sizeof(${typeText(e.t)})`;
    case 'sizeof_e':
      return `sizeof(${exprText(e.e)})`;
    case 'field':
      return `${exprText(e.base, 12)}${e.arrow ? '->' : '.'}${e.name}`;
    case 'index':
      return `${exprText(e.base, 12)}[${exprText(e.idx)}]`;
    case 'cast':
      return `(${typeText(e.t)})${exprText(e.e, 11)}`;
    case 'cond': {
      const s = `${exprText(e.c, 1)} ? ${exprText(e.t)} : ${exprText(e.f)}`;
      return outer > 0 ? `(${s})` : s;
    }
    case 'comma':
      return `${exprText(e.l)}, ${exprText(e.r)}`;
  }
}

/** Strips casts and the address-of operator: what a device or handle expression refers to. */
export function stripCasts(e: Expr): Expr {
  let x = e;
  for (let i = 0; i < 32; i++) {
    if (x.k === 'cast') x = x.e;
    else break;
  }
  return x;
}
