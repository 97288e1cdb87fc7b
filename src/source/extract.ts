/**
 * Reads one C file with tree-sitter: the DMA API calls (never in comments, strings or #if 0
 * code, because only the syntax tree is searched), the swiotlb annotation comments, functions
 * with their locals and simple assignments, and the file's symbols. The tree is walked once,
 * iteratively (generated files nest deeply), and freed before returning.
 */
import type { Node, Tree, TreeCursor } from 'web-tree-sitter';
import { apiSpec, mentionsDmaApi } from './api';
import { applyDeclarator, type Expr, exprText, keep, type TypeName, toExpr, typeBase } from './expr';
import { parseC } from './treeSitter';
import {
  type CommentInfo,
  emptySymbols,
  type FieldDef,
  type FileSymbols,
  type FunctionInfo,
  type ParsedFile,
  type ParseProblem,
  type RawSite,
  type ResultUse,
  type Span,
  type StructDef,
} from './types';

/** Problems kept per file (the count of error nodes is kept in full). */
const MAX_PROBLEMS = 20;

/**
 * DMA API calls analysed per file: a driver file has tens (all of Linux's drivers/ has about 11,000
 * in 28,000 files); past this it is generated or hostile, and each analysed call costs a few KB.
 */
export const MAX_SITES_PER_FILE = 10_000;
const ANNOTATION_WORD = 'swiotlb';

export interface ExtractOptions {
  /** Only symbols (headers read for their #defines and structs): no sites, no annotations. */
  readonly symbolsOnly?: boolean;
  readonly timeoutMs?: number;
  /** Object-like macros that alias a DMA API function (#define my_map dma_map_single). */
  readonly aliases?: ReadonlyMap<string, string>;
  /** Calls of these names are recorded in otherCalls (the uses of macros that hide DMA calls). */
  readonly watch?: ReadonlySet<string>;
  /**
   * Functions that can hold nothing kept are not walked, only placed: the caller drops what a
   * function without a DMA call holds (analyze.ts lightFunctions), and walking every body of a
   * driver tree is most of the time of the analysis.
   */
  readonly lightBodies?: boolean;
}

/** Something in a function body that lands in the file's symbols: a #directive, a struct, union or enum body, a typedef. */
const BODY_SYMBOLS = /#|\btypedef\b|\b(?:struct|union|enum)\b[\w\s]*\{/;

/**
 * Whether walking a function (its text) can add nothing kept: no symbols; and unless only symbols
 * are read, no DMA API name, no annotation and no watched or aliased name. Conservative: a name in
 * a comment or a string makes the body walked.
 */
function quietBody(body: string, symbolsOnly: boolean, opts: ExtractOptions): boolean {
  if (BODY_SYMBOLS.test(body)) return false;
  if (symbolsOnly) return true;
  if (body.includes(ANNOTATION_WORD) || mentionsDmaApi(body)) return false;
  for (const names of [opts.aliases?.keys(), opts.watch?.values()]) for (const w of names ?? []) if (body.includes(w)) return false;
  return true;
}

function spanOf(n: { startPosition: { row: number; column: number }; endPosition: { row: number; column: number } }): Span {
  return { row: n.startPosition.row, col: n.startPosition.column, endRow: n.endPosition.row, endCol: n.endPosition.column };
}

/** The name a function_definition declares (through pointer declarators for pointer returns). */
function functionName(def: Node): string | undefined {
  let d = def.childForFieldName('declarator');
  for (let i = 0; d && i < 16; i++) {
    if (d.type === 'function_declarator') {
      const inner = d.childForFieldName('declarator');
      if (inner?.type === 'identifier') return inner.text;
      d = inner;
      continue;
    }
    d = d.childForFieldName('declarator') ?? d.namedChild(0);
  }
  return undefined;
}

function functionDeclarator(def: Node): Node | null {
  let d = def.childForFieldName('declarator');
  for (let i = 0; d && i < 16; i++) {
    if (d.type === 'function_declarator') return d;
    d = d.childForFieldName('declarator') ?? d.namedChild(0);
  }
  return null;
}

/** How the value of a call is used, from its parent. */
function resultUse(call: Node): ResultUse {
  let n = call;
  let p = n.parent;
  // casts, parentheses and one-argument conversions (cpu_to_le64(...)) do not change where the
  // handle goes
  for (let i = 0; p && i < 8; i++) {
    if (p.type === 'parenthesized_expression' || p.type === 'cast_expression') {
      n = p;
      p = p.parent;
      continue;
    }
    if (p.type === 'argument_list' && p.namedChildCount === 1 && p.parent?.type === 'call_expression') {
      const callee = p.parent.childForFieldName('function')?.text ?? '';
      if (callee.startsWith('cpu_to_') || callee.startsWith('lower_32_bits') || callee.startsWith('upper_32_bits')) {
        n = p.parent;
        p = n.parent;
        continue;
      }
    }
    break;
  }
  if (!p) return { kind: 'discarded' };
  switch (p.type) {
    case 'assignment_expression': {
      const left = p.childForFieldName('left');
      if (left && !left.equals(n)) return { kind: 'assign', target: toExpr(left) };
      return { kind: 'discarded' };
    }
    case 'init_declarator': {
      const { name } = applyDeclarator({ kind: 'prim', name: 'int' }, p);
      return name ? { kind: 'init', name: keep(name) } : { kind: 'discarded' };
    }
    case 'return_statement':
      return { kind: 'return' };
    case 'argument_list': {
      const callee = p.parent?.childForFieldName('function');
      const index = p.namedChildren.findIndex((c) => c?.equals(n));
      return { kind: 'argument', callee: keep(callee?.text ?? ''), index };
    }
    case 'if_statement':
    case 'while_statement':
    case 'binary_expression':
    case 'unary_expression':
    case 'conditional_expression':
    case 'condition_clause':
      return { kind: 'condition' };
    default:
      return { kind: 'discarded' };
  }
}

/** #if/#elif conditions: 0 or 1 when they are plain constants, undefined otherwise (config options). */
function constantCondition(n: Node | null): 0 | 1 | undefined {
  if (!n) return undefined;
  const e = toExpr(n);
  const v = constFold(e);
  if (v === undefined) return undefined;
  return v === 0n ? 0 : 1;
}

function constFold(e: Expr): bigint | undefined {
  switch (e.k) {
    case 'num':
      return e.v;
    case 'un': {
      const a = constFold(e.a);
      if (a === undefined) return undefined;
      return e.op === '!' ? (a === 0n ? 1n : 0n) : e.op === '-' ? -a : undefined;
    }
    case 'bin': {
      const l = constFold(e.l);
      const r = constFold(e.r);
      if (e.op === '&&') return l === 0n || r === 0n ? 0n : l !== undefined && r !== undefined ? 1n : undefined;
      if (e.op === '||') return (l !== undefined && l !== 0n) || (r !== undefined && r !== 0n) ? 1n : l === 0n && r === 0n ? 0n : undefined;
      return undefined;
    }
    default:
      return undefined;
  }
}

function structFields(body: Node, file: string, symbols: FileSymbols): FieldDef[] {
  const fields: FieldDef[] = [];
  for (const f of body.namedChildren) {
    if (f?.type !== 'field_declaration') continue;
    const typeNode = f.childForFieldName('type');
    const base = typeBase(typeNode);
    if (typeNode && (typeNode.type === 'struct_specifier' || typeNode.type === 'union_specifier')) recordStruct(typeNode, file, symbols);
    const decls = f.childrenForFieldName('declarator');
    const bits = f.namedChildren.find((c) => c?.type === 'bitfield_clause')?.namedChild(0);
    if (decls.length === 0) {
      // an anonymous struct or union member: its fields are the parent's
      fields.push({ type: { ...base, ptr: 0, dims: [] } });
      continue;
    }
    for (const d of decls) {
      const { name, type } = applyDeclarator(base, d);
      fields.push({ ...(name ? { name } : {}), type, ...(bits ? { bits: toExpr(bits) } : {}) });
    }
  }
  return fields;
}

function hasPackedAttribute(n: Node): boolean {
  for (const c of n.namedChildren) {
    if (c?.type === 'attribute_specifier' && c.text.includes('packed')) return true;
  }
  return false;
}

function recordStruct(n: Node, file: string, symbols: FileSymbols, packed = false): StructDef | undefined {
  const body = n.childForFieldName('body');
  if (!body) return undefined;
  const { kind, name } = typeBase(n);
  const def: StructDef = {
    name,
    union: kind === 'union',
    packed: packed || hasPackedAttribute(n),
    fields: structFields(body, file, symbols),
    file,
    row: n.startPosition.row,
  };
  symbols.structs.set(`${kind} ${name}`, def);
  return def;
}

function recordEnum(n: Node, file: string, symbols: FileSymbols): void {
  const body = n.childForFieldName('body');
  if (!body) return;
  let prev: string | undefined;
  for (const e of body.namedChildren) {
    if (e?.type !== 'enumerator') continue;
    const nameText = e.childForFieldName('name')?.text;
    if (!nameText) continue;
    const name = keep(nameText);
    const value = e.childForFieldName('value');
    symbols.enums.set(name, {
      name,
      ...(value ? { expr: toExpr(value) } : {}),
      ...(!value && prev ? { prev } : {}),
      file,
      row: e.startPosition.row,
    });
    prev = name;
  }
}

function isConst(decl: Node): boolean {
  for (const q of decl.namedChildren) if (q?.type === 'type_qualifier' && q.text === 'const') return true;
  return false;
}

/** struct foo {...} __packed; — the kernel's __packed macro parses as a declarator named __packed. */
function declarationIsPackedStruct(decl: Node): boolean {
  for (const d of decl.childrenForFieldName('declarator')) if (d?.text === '__packed') return true;
  return false;
}

/** Node types the walk acts on, by the grammar's numeric id (comparing numbers, not strings). */
const INTERESTING = [
  'comment',
  'string_literal',
  'concatenated_string',
  'char_literal',
  'number_literal',
  'system_lib_string',
  'primitive_type',
  'type_identifier',
  'field_identifier',
  'ERROR',
  'identifier',
  'call_expression',
  'function_definition',
  'preproc_def',
  'preproc_function_def',
  'preproc_include',
  'preproc_if',
  'preproc_elif',
  'enum_specifier',
  'struct_specifier',
  'union_specifier',
  'type_definition',
  'declaration',
  'assignment_expression',
] as const;
type Interesting = (typeof INTERESTING)[number];

let typeTable: Map<number, Interesting> | undefined;

function typesOf(tree: Tree): Map<number, Interesting> {
  if (typeTable) return typeTable;
  const lang = tree.language;
  const m = new Map<number, Interesting>();
  for (const t of INTERESTING) {
    // a node type can have several ids (aliases): take every id whose name matches
    for (let id = 0; id < lang.nodeTypeCount; id++) if (lang.nodeTypeForId(id) === t) m.set(id, t);
  }
  // ts_builtin_sym_error: the ERROR node has the largest symbol id, outside the grammar's table
  m.set(0xffff, 'ERROR');
  typeTable = m;
  return m;
}

interface Frame {
  /** Index of the function being walked, -1 outside. */
  readonly fn: number;
  /** For #if 0 / #if 1: which children are dead ('body': all but the #else; 'alternative'). */
  readonly dead?: 'body' | 'alternative';
  readonly inError: boolean;
}

/** Reads a file. Throws ParseTimeout when the parse is abandoned. */
export function extractFile(file: string, text: string, opts: ExtractOptions = {}): ParsedFile {
  const tree = parseC(text, opts.timeoutMs);
  try {
    return walk(file, text, tree, opts);
  } finally {
    tree.delete();
  }
}

function walk(file: string, text: string, tree: Tree, opts: ExtractOptions): ParsedFile {
  const symbols = emptySymbols();
  const sites: RawSite[] = [];
  const comments: CommentInfo[] = [];
  const functions: FunctionInfo[] = [];
  const problems: ParseProblem[] = [];
  const otherCalls = new Map<string, Span[]>();
  let beyond: { count: number; first: Span } | undefined;
  let errorNodes = 0;
  let deadRegions = 0;
  const symbolsOnly = opts.symbolsOnly ?? false;
  const aliases = opts.aliases;
  const watch = opts.watch;

  const problem = (p: ParseProblem) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };

  const types = typesOf(tree);
  // MISSING nodes only exist in trees with errors: do not ask every node otherwise
  const anyError = tree.rootNode.hasError;
  const c: TreeCursor = tree.walk();
  const frames: Frame[] = [{ fn: -1, inError: false }];
  try {
    for (;;) {
      const frame = frames[frames.length - 1] as Frame;
      const type = types.get(c.nodeTypeId);
      let descend = true;
      // dead #if branches: skip every child except the live one (and the condition itself)
      const field = frame.dead || type === 'struct_specifier' || type === 'union_specifier' ? c.currentFieldName : null;
      if (frame.dead === 'body' && field !== 'alternative' && field !== 'condition' && c.nodeIsNamed) {
        descend = false;
      } else if (frame.dead === 'alternative' && field === 'alternative') {
        descend = false;
      } else if (anyError && c.nodeIsMissing) {
        errorNodes++;
        const n = c.currentNode;
        problem({ span: spanOf(n), kind: 'missing', message: `syntax error: missing "${n.type}"` });
        descend = false;
      } else {
        switch (type) {
          case undefined:
            break;
          case 'comment': {
            descend = false;
            if (!symbolsOnly) {
              const t = c.nodeText;
              // candidates; annotations.ts reads the lines that start with swiotlb...:
              if (t.includes(ANNOTATION_WORD)) comments.push({ text: keep(t), span: spanOf(c), fn: frame.fn });
            }
            break;
          }
          case 'string_literal':
          case 'concatenated_string':
          case 'char_literal':
          case 'number_literal':
          case 'system_lib_string':
          case 'primitive_type':
          case 'type_identifier':
          case 'field_identifier':
            descend = false;
            break;
          case 'ERROR': {
            errorNodes++;
            const n = c.currentNode;
            const s = spanOf(n);
            problem({
              span: s,
              kind: 'error',
              message:
                s.endRow > s.row
                  ? `syntax error: lines ${s.row + 1}-${s.endRow + 1} do not parse as C (DMA calls in them are read as far as they parse)`
                  : 'syntax error: this does not parse as C',
            });
            break;
          }
          case 'identifier': {
            descend = false;
            // a DMA API name inside unparsable code that did not become a call
            if (frame.inError && !symbolsOnly) {
              const name = c.nodeText;
              if (apiSpec(name) || aliases?.has(name)) {
                const n = c.currentNode;
                if (n.parent?.type !== 'call_expression')
                  problem({
                    span: spanOf(n),
                    kind: 'incomplete-call',
                    message: `${name}: the call does not parse (half-written code?), so it is not analysed`,
                  });
              }
            }
            break;
          }
          case 'call_expression': {
            if (c.gotoFirstChild()) {
              const isId = c.nodeType === 'identifier';
              const name = isId ? c.nodeText : '';
              c.gotoParent();
              if (isId && !symbolsOnly) {
                const alias = aliases?.get(name);
                const spec = apiSpec(alias ?? name);
                if (spec) {
                  if (sites.length < MAX_SITES_PER_FILE) sites.push(makeSite(c.currentNode, name, alias, spec, file, frame));
                  else if (beyond) beyond.count++;
                  else beyond = { count: 1, first: spanOf(c.currentNode) };
                } else {
                  if (watch?.has(name)) {
                    let list = otherCalls.get(name);
                    if (!list) {
                      list = [];
                      otherCalls.set(keep(name), list);
                    }
                    if (list.length < 200) list.push(spanOf(c.currentNode));
                  }
                  if (frame.fn >= 0 && (name === 'dma_unmap_addr_set' || name === 'dma_unmap_len_set')) {
                    const n = c.currentNode;
                    const args = n.childForFieldName('arguments');
                    if (args)
                      functions[frame.fn]?.stateSets.push({
                        macro: name,
                        args: args.namedChildren.filter((x) => x && x.type !== 'comment').map((x) => toExpr(x as Node)),
                        row: n.startPosition.row,
                      });
                  }
                }
              }
            }
            break;
          }
          case 'function_definition': {
            const n = c.currentNode;
            const name = keep(functionName(n) ?? '<anonymous>');
            const info: FunctionInfo = { name, span: spanOf(n), params: [], locals: [], assignments: [], stateSets: [] };
            const fd = functionDeclarator(n);
            for (const p of fd?.childForFieldName('parameters')?.namedChildren ?? []) {
              if (p?.type !== 'parameter_declaration') continue;
              const r = applyDeclarator(typeBase(p.childForFieldName('type')), p.childForFieldName('declarator'));
              if (r.name) info.params.push({ name: r.name, type: r.type, row: p.startPosition.row });
            }
            functions.push(info);
            if ((symbolsOnly || opts.lightBodies) && !n.hasError && quietBody(text.slice(n.startIndex, n.endIndex), symbolsOnly, opts)) {
              descend = false;
              break;
            }
            frames.push({ fn: functions.length - 1, inError: frame.inError });
            if (c.gotoFirstChild()) continue;
            frames.pop();
            descend = false;
            break;
          }
          case 'preproc_def': {
            descend = false;
            const n = c.currentNode;
            const name = n.childForFieldName('name')?.text;
            if (name) {
              const body = keep((n.childForFieldName('value')?.text ?? '').trim());
              symbols.macros.set(keep(name), { name: keep(name), body, file, span: spanOf(n) });
            }
            break;
          }
          case 'preproc_function_def': {
            descend = false;
            const n = c.currentNode;
            const name = n.childForFieldName('name')?.text;
            if (name) {
              const params = (n.childForFieldName('parameters')?.namedChildren ?? [])
                .filter((p) => p && (p.type === 'identifier' || p.text === '...'))
                .map((p) => keep((p as Node).text));
              const body = keep((n.childForFieldName('value')?.text ?? '').trim());
              symbols.macros.set(keep(name), { name: keep(name), params, body, file, span: spanOf(n) });
            }
            break;
          }
          case 'preproc_include': {
            descend = false;
            const p = c.currentNode.childForFieldName('path');
            if (p?.type === 'string_literal') symbols.includes.push(keep(p.text.slice(1, -1)));
            break;
          }
          case 'preproc_if':
          case 'preproc_elif': {
            const v = constantCondition(c.currentNode.childForFieldName('condition'));
            if (v !== undefined) {
              deadRegions++;
              frames.push({ fn: frame.fn, inError: frame.inError, dead: v === 0 ? 'body' : 'alternative' });
              if (c.gotoFirstChild()) continue;
              frames.pop();
              descend = false;
            }
            break;
          }
          case 'enum_specifier':
            descend = false;
            recordEnum(c.currentNode, file, symbols);
            break;
          case 'struct_specifier':
          case 'union_specifier':
            descend = false;
            // a declaration's own type was recorded with the declaration (which knows __packed)
            if (field !== 'type') recordStruct(c.currentNode, file, symbols);
            break;
          case 'type_definition': {
            descend = false;
            const n = c.currentNode;
            const typeNode = n.childForFieldName('type');
            if (typeNode && (typeNode.type === 'struct_specifier' || typeNode.type === 'union_specifier'))
              recordStruct(typeNode, file, symbols);
            if (typeNode?.type === 'enum_specifier') recordEnum(typeNode, file, symbols);
            const base = typeBase(typeNode);
            for (const d of n.childrenForFieldName('declarator')) {
              const r = applyDeclarator(base, d);
              if (r.name) symbols.typedefs.set(r.name, r.type);
            }
            break;
          }
          case 'declaration': {
            const n = c.currentNode;
            const typeNode = n.childForFieldName('type');
            const packed = declarationIsPackedStruct(n);
            if (typeNode && (typeNode.type === 'struct_specifier' || typeNode.type === 'union_specifier'))
              recordStruct(typeNode, file, symbols, packed);
            else if (typeNode?.type === 'enum_specifier') recordEnum(typeNode, file, symbols);
            const base = typeBase(typeNode);
            const fn = frame.fn >= 0 ? functions[frame.fn] : undefined;
            for (const d of n.childrenForFieldName('declarator')) {
              if (packed && d.text === '__packed') continue;
              const r = applyDeclarator(base, d);
              if (!r.name) continue;
              const constant = isConst(n);
              const decl = {
                name: r.name,
                type: r.type,
                ...(r.init ? { init: toExpr(r.init) } : {}),
                ...(constant ? { constant } : {}),
                row: d.startPosition.row,
              };
              if (fn) fn.locals.push(decl);
              else if (r.init && constant) symbols.globals.set(r.name, decl);
              // a non-const global's initialiser is only its value until someone writes it (module_param)
              else symbols.globals.set(r.name, { name: r.name, type: r.type, row: d.startPosition.row });
            }
            // initialisers may hold DMA calls: keep walking (struct bodies were read above)
            break;
          }
          case 'assignment_expression': {
            if (frame.fn >= 0 && !symbolsOnly) {
              const n = c.currentNode;
              const right = n.childForFieldName('right');
              const left = n.childForFieldName('left');
              if (
                left &&
                right &&
                n.childForFieldName('operator')?.type === '=' &&
                (right.type === 'identifier' ||
                  right.type === 'pointer_expression' ||
                  right.type === 'field_expression' ||
                  // buf->addr = cpu_to_le64(mapping)
                  (right.type === 'call_expression' && right.childForFieldName('arguments')?.namedChildCount === 1))
              ) {
                functions[frame.fn]?.assignments.push({ target: toExpr(left), value: toExpr(right), row: n.startPosition.row });
              }
            }
            break;
          }
          default:
            break;
        }
      }
      if (descend && c.gotoFirstChild()) {
        frames.push({ fn: frame.fn, inError: frame.inError || type === 'ERROR' });
        continue;
      }
      // next sibling, or up until there is one
      for (;;) {
        if (c.gotoNextSibling()) break;
        if (!c.gotoParent()) return finish();
        frames.pop();
      }
    }
  } finally {
    c.delete();
  }

  function finish(): ParsedFile {
    let lines = 1;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
    return {
      file,
      bytes: Buffer.byteLength(text),
      lines,
      sites,
      comments,
      functions,
      symbols,
      problems,
      errorNodes,
      otherCalls,
      deadRegions,
      ...(beyond ? { sitesBeyondLimit: beyond } : {}),
    };
  }
}

/**
 * A driver's parsed files are kept until its sites are built; a function without a DMA call is
 * read for its place only (annotations attach to it), so its locals and assignments go at once.
 */
export function lightFunctions(pf: ParsedFile): ParsedFile {
  const used = new Set<number>();
  for (const s of pf.sites) used.add(s.fn);
  pf.functions.forEach((fn, i) => {
    if (!used.has(i) && (fn.locals.length || fn.params.length || fn.assignments.length || fn.stateSets.length))
      pf.functions[i] = { name: fn.name, span: fn.span, params: [], locals: [], assignments: [], stateSets: [] };
  });
  return pf;
}

function makeSite(
  n: Node,
  name: string,
  alias: string | undefined,
  spec: NonNullable<ReturnType<typeof apiSpec>>,
  file: string,
  frame: Frame,
): RawSite {
  const fnNode = n.childForFieldName('function') as Node;
  const argsNode = n.childForFieldName('arguments');
  const argNodes = (argsNode?.namedChildren ?? []).filter((x): x is Node => !!x && x.type !== 'comment');
  const args = argNodes.map((a) => toExpr(a));
  return {
    api: alias ?? name,
    spec,
    ...(alias ? { via: name } : {}),
    file,
    span: spanOf(n),
    nameSpan: spanOf(fnNode),
    fn: frame.fn,
    args,
    argTexts: argNodes.map((a) => keep(a.text.replace(/\s+/g, ' '))),
    use: resultUse(n),
    inError: frame.inError || (argsNode?.hasError ?? false),
  };
}

/** Parses a macro body as an expression (for #define values); undefined when it is not one. */
export function parseMacroExpression(body: string): Expr | undefined {
  if (!body.trim()) return undefined;
  const tree = parseC(`long __swiotlb_lens_v = (\n${body}\n);\n`, 2000);
  try {
    const root = tree.rootNode;
    if (root.hasError) return undefined;
    const decl = root.namedChildren.find((x) => x?.type === 'declaration');
    const init = decl?.childForFieldName('declarator');
    const value = init?.childForFieldName('value');
    if (!value) return undefined;
    return toExpr(value);
  } finally {
    tree.delete();
  }
}

/** The DMA API calls a macro body makes (macros that hide calls), parsed as statements. */
export function macroBodyCalls(body: string): string[] {
  if (!body.trim()) return [];
  const tree = parseC(`void __swiotlb_lens_f(void)\n{\n${body}\n;\n}\n`, 2000);
  try {
    const out: string[] = [];
    for (const call of tree.rootNode.descendantsOfType('call_expression')) {
      const fn = call?.childForFieldName('function');
      if (fn?.type === 'identifier' && apiSpec(fn.text)) out.push(fn.text);
    }
    return out;
  } finally {
    tree.delete();
  }
}

/** An object-like macro whose whole body is a DMA API name: the name it aliases. */
export function macroAlias(body: string): string | undefined {
  const t = body.trim();
  return apiSpec(t) ? t : undefined;
}

export { exprText, type TypeName };
