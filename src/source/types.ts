/**
 * What reading one C file yields, as plain objects (the syntax tree is freed after the walk):
 * DMA call sites, swiotlb annotations, functions with their locals, and the file's symbols
 * (#defines, enums, structs, typedefs, globals) for resolving sizes.
 */
import type { ApiSpec } from './api';
import type { Expr, TypeName } from './expr';

/** 0-based row/column (UTF-16 columns, as editors count them). */
export interface Span {
  readonly row: number;
  readonly col: number;
  readonly endRow: number;
  readonly endCol: number;
}

/** How a call's return value is used: where a mapping's handle goes. */
export type ResultUse =
  | { readonly kind: 'assign'; readonly target: Expr }
  | { readonly kind: 'init'; readonly name: string }
  | { readonly kind: 'return' }
  | { readonly kind: 'condition' }
  | { readonly kind: 'argument'; readonly callee: string; readonly index: number }
  | { readonly kind: 'discarded' };

export interface RawSite {
  /** The DMA API function (after a macro alias such as #define my_map dma_map_single). */
  readonly api: string;
  readonly spec: ApiSpec;
  /** The alias macro the call was written with, if any. */
  readonly via?: string;
  readonly file: string;
  /** The whole call. */
  readonly span: Span;
  /** The function name as written. */
  readonly nameSpan: Span;
  /** Index into ParsedFile.functions, -1 outside any function. */
  readonly fn: number;
  readonly args: readonly Expr[];
  readonly argTexts: readonly string[];
  readonly use: ResultUse;
  /** Inside a region tree-sitter could not parse: the call parsed, its surroundings did not. */
  readonly inError: boolean;
}

export interface VarDecl {
  readonly name: string;
  readonly type: TypeName;
  readonly init?: Expr;
  /** Declared const: its initialiser is its value. */
  readonly constant?: boolean;
  readonly row: number;
}

export interface Assignment {
  readonly target: Expr;
  readonly value: Expr;
  readonly row: number;
}

export interface FunctionInfo {
  readonly name: string;
  readonly span: Span;
  readonly params: VarDecl[];
  readonly locals: VarDecl[];
  /** Assignments of plain values (identifiers, &x->y, fields): aliases of devices and handles. */
  readonly assignments: Assignment[];
  /** Calls that set handles through the DMA unmap-state macros (dma_unmap_addr_set(p, f, v)). */
  readonly stateSets: { readonly macro: string; readonly args: readonly Expr[]; readonly row: number }[];
}

export interface MacroDef {
  readonly name: string;
  /** Function-like macros: their parameters. */
  readonly params?: readonly string[];
  readonly body: string;
  readonly file: string;
  readonly span: Span;
}

export interface EnumConst {
  readonly name: string;
  readonly expr?: Expr;
  /** The enumerator before it (value + 1 when it has no expression). */
  readonly prev?: string;
  readonly file: string;
  readonly row: number;
}

export interface FieldDef {
  readonly name?: string;
  readonly type: TypeName;
  readonly bits?: Expr;
}

export interface StructDef {
  readonly name: string;
  readonly union: boolean;
  readonly packed: boolean;
  readonly fields: readonly FieldDef[];
  readonly file: string;
  readonly row: number;
}

export interface FileSymbols {
  readonly macros: Map<string, MacroDef>;
  readonly enums: Map<string, EnumConst>;
  /** By tag, "struct foo" / "union foo". */
  readonly structs: Map<string, StructDef>;
  readonly typedefs: Map<string, TypeName>;
  readonly globals: Map<string, VarDecl>;
  /** #include "..." paths, as written. */
  readonly includes: string[];
}

export interface ParseProblem {
  readonly span: Span;
  readonly kind: 'error' | 'missing' | 'incomplete-call' | 'hidden-call' | 'timeout' | 'depth';
  readonly message: string;
}

export interface CommentInfo {
  readonly text: string;
  readonly span: Span;
  /** Index of the enclosing function, -1 outside any. */
  readonly fn: number;
}

export interface ParsedFile {
  readonly file: string;
  readonly bytes: number;
  readonly lines: number;
  readonly sites: RawSite[];
  /** Comments that start with "swiotlb" (candidates for annotations). */
  readonly comments: CommentInfo[];
  readonly functions: FunctionInfo[];
  readonly symbols: FileSymbols;
  readonly problems: ParseProblem[];
  /** Total ERROR and MISSING nodes (problems keeps the first few). */
  readonly errorNodes: number;
  /** Calls of the names ExtractOptions.watch asks for (uses of macros hiding DMA calls): name -> call spans. */
  readonly otherCalls: Map<string, Span[]>;
  /** Regions skipped as #if 0. */
  readonly deadRegions: number;
  /** DMA API calls beyond MAX_SITES_PER_FILE: counted, not analysed; where the first is. */
  readonly sitesBeyondLimit?: { readonly count: number; readonly first: Span };
}

export function emptySymbols(): FileSymbols {
  return { macros: new Map(), enums: new Map(), structs: new Map(), typedefs: new Map(), globals: new Map(), includes: [] };
}
