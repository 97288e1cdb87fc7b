/**
 * A DMA call site with what its arguments mean: the size and its value when it resolves, the
 * direction and attributes as written and as values, the device and the handle it maps or uses.
 */
import { DMA_ATTR, type DmaDirection, parseDmaDirection } from '../model/constants';
import { type Annotation, type AnnotationProblem, type Hints, withoutMachineKeys } from './annotations';
import type { ApiSpec, SiteFamily, SiteRole } from './api';
import type { Evaluator, Trail } from './evaluate';
import { type Expr, exprText, stripCasts } from './expr';
import type { FunctionInfo, ParsedFile, RawSite, Span } from './types';

export interface ValueOf {
  /** The expression as written. */
  readonly text: string;
  /** Its value, when it folds to a constant. */
  readonly value?: number;
  /** How it resolved (#defines, enums, sizeof). */
  readonly trail?: readonly Trail[];
}

/**
 * What a site keeps of its call: where it is and how it was written, not its argument trees (the
 * site holds what they resolved to; the main thread keeps every site of a driver tree).
 */
export type SiteCall = Pick<RawSite, 'span' | 'nameSpan' | 'fn' | 'via' | 'inError'>;

/** A count kept in a variable or member (dma_map_sg's result, dma_unmap_sg's nents), as the unmap-sg-nents check compares them. */
export interface CountRef {
  /** An indexed member by its array: `priv->nents[i]` is "priv->nents[]". */
  readonly key: string;
  /** The expression (without casts). */
  readonly text: string;
  /** A local variable: it holds the count in its function only. */
  readonly local: boolean;
}

export interface Site {
  readonly id: number;
  readonly raw: SiteCall;
  /** The path as reported (relative when a root is known). */
  readonly file: string;
  /** The driver (folder) it belongs to. */
  readonly driver: string;
  readonly api: string;
  readonly role: SiteRole;
  readonly family: SiteFamily;
  readonly spec: ApiSpec;
  readonly function: string | null;
  /** The device argument as written, and the key that groups expressions naming one device. */
  readonly deviceExpr?: string;
  readonly deviceKey?: string;
  readonly buffer?: string;
  readonly size?: ValueOf;
  readonly nents?: ValueOf;
  /** Scatterlist releases and syncs: their nents argument, when a variable or member holds it. */
  readonly nentsRef?: CountRef;
  /** Maps and allocations: where the value they return is kept (the count dma_map_sg returns). */
  readonly resultRef?: CountRef;
  readonly offset?: ValueOf;
  readonly dir?: { readonly text: string; readonly value?: DmaDirection };
  readonly attrs?: { readonly text: string; readonly value?: number };
  /** Set-up calls: the mask or size they set. */
  readonly setValue?: { readonly text: string; readonly value?: bigint; readonly trail?: readonly Trail[] };
  /** Where the handle this call creates (maps, allocations) is kept, or the one it uses (unmaps, syncs, frees). */
  handles: HandleRef[];
  /** Merged hints: settings < file < function < call. */
  hints: Hints;
  /** The annotations that apply, nearest last. */
  annotations: Annotation[];
  /** Whether a swiotlb: annotation is attached to this very call. */
  annotated: boolean;
}

export interface SourceDiagnostic {
  readonly file: string;
  readonly span: Span;
  readonly severity: 'error' | 'warning' | 'info';
  readonly code: string;
  readonly message: string;
  /** Site the diagnostic is about, if any. */
  readonly site?: number;
  /** For annotation problems: a key to offer as a quick fix. */
  readonly suggestion?: string;
}

/** How a count is kept (see CountRef); undefined when it is not a variable or member. */
export function countRef(e: Expr): CountRef | undefined {
  const x = stripCasts(e);
  if (x.k !== 'id' && x.k !== 'field' && x.k !== 'index') return undefined;
  return { key: countKey(x), text: exprText(x), local: x.k === 'id' };
}

function countKey(e: Expr): string {
  const x = stripCasts(e);
  return x.k === 'index' ? `${countKey(x.base)}[]` : exprText(x);
}

const ATTR_BITS: Record<string, number> = Object.fromEntries(Object.entries(DMA_ATTR).map(([k, v]) => [`DMA_ATTR_${k}`, v]));

/** DMA_ATTR_SKIP_CPU_SYNC | DMA_ATTR_NO_WARN, 0, or a #define of those. */
export function attrsValue(e: Expr, ev: Evaluator, guard = 0): number | undefined {
  if (guard > 16) return undefined;
  const x = stripCasts(e);
  switch (x.k) {
    case 'num':
      return Number(x.v);
    case 'id': {
      const bit = ATTR_BITS[x.name];
      if (bit !== undefined) return bit;
      const v = ev.value(x);
      return v === undefined ? undefined : Number(v);
    }
    case 'bin': {
      if (x.op !== '|') return undefined;
      const l = attrsValue(x.l, ev, guard + 1);
      const r = attrsValue(x.r, ev, guard + 1);
      return l === undefined || r === undefined ? undefined : l | r;
    }
    default:
      return undefined;
  }
}

/** DMA_TO_DEVICE, PCI_DMA_FROMDEVICE, a constant, or a macro naming one. */
export function directionValue(e: Expr, macroBody: (name: string) => string | undefined, guard = 0): DmaDirection | undefined {
  const x = stripCasts(e);
  if (x.k === 'num') return parseDmaDirection(Number(x.v));
  if (x.k !== 'id' || guard > 8) return undefined;
  const d = x.name.startsWith('DMA_') || x.name.startsWith('PCI_DMA_') ? parseDmaDirection(x.name) : undefined;
  if (d !== undefined) return d;
  const body = macroBody(x.name);
  if (body === undefined) return undefined;
  const t = body.trim();
  const inner = t.startsWith('(') && t.endsWith(')') ? t.slice(1, -1).trim() : t;
  return directionValue({ k: 'id', name: inner }, macroBody, guard + 1);
}

function resolved(e: Expr | undefined, text: string | undefined, ev: Evaluator): ValueOf | undefined {
  if (!e || text === undefined) return undefined;
  const v = ev.value(e);
  const n = v !== undefined && v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
  return { text, ...(n !== undefined ? { value: n } : {}), ...(n !== undefined && ev.trail.length ? { trail: [...ev.trail] } : {}) };
}

/** The last member of an access path: buf->dma, ring->desc[i].addr -> "dma", "addr". */
function lastMember(e: Expr): string | undefined {
  const x = stripCasts(e);
  switch (x.k) {
    case 'field':
      return x.name;
    case 'index':
      return lastMember(x.base);
    case 'un':
      return x.op === '&' || x.op === '*' ? lastMember(x.a) : undefined;
    case 'id':
      return x.name;
    default:
      return undefined;
  }
}

/** Device expressions naming one device get one key: &pdev->dev, &adapter->pdev->dev -> "pdev->dev". */
export function deviceKey(e: Expr, fn: FunctionInfo | undefined, pciDev: boolean, guard = 0): string {
  const x = stripCasts(e);
  if (guard > 8) return exprText(x);
  if (pciDev) return `${lastMember(x) ?? exprText(x)}->dev`;
  if (x.k === 'un' && x.op === '&') {
    const inner = stripCasts(x.a);
    if (inner.k === 'field') {
      const base = lastMember(inner.base);
      return base ? `${base}->${inner.name}` : inner.name;
    }
    return exprText(inner);
  }
  if (x.k === 'id' && fn) {
    // a local initialised or assigned once from another expression: struct device *dev = &pdev->dev;
    const local = [...fn.locals].reverse().find((l) => l.name === x.name);
    if (local?.init) return deviceKey(local.init, fn, false, guard + 1);
    const assigned = fn.assignments.filter((a) => a.target.k === 'id' && a.target.name === x.name);
    if (assigned.length === 1) return deviceKey((assigned[0] as { value: Expr }).value, fn, false, guard + 1);
    return x.name;
  }
  if (x.k === 'field') return x.name;
  if (x.k === 'call' && x.fn.k === 'id' && x.args.length === 1) {
    // to_dev(x), pci_dev_to_dev(pdev), &pdev->dev through a helper: keep the helper's view
    return `${x.fn.name}(${lastMember(x.args[0] as Expr) ?? ''})`;
  }
  return exprText(x);
}

/**
 * What a handle expression refers to, for pairing: the member it is stored in (buf->dma,
 * dma_unmap_addr(buf, mapping)), through locals copied from members, and conversions.
 */
export function handleKey(e: Expr, fn: FunctionInfo | undefined, guard = 0): string | undefined {
  if (guard > 8) return undefined;
  const x = stripCasts(e);
  switch (x.k) {
    case 'field':
      return x.name;
    case 'index':
      return handleKey(x.base, fn, guard + 1);
    case 'un':
      return x.op === '&' || x.op === '*' ? handleKey(x.a, fn, guard + 1) : undefined;
    case 'call': {
      const name = x.fn.k === 'id' ? x.fn.name : '';
      if ((name === 'dma_unmap_addr' || name === 'dma_unmap_len') && x.args[1]) return handleKey(x.args[1], fn, guard + 1);
      // le64_to_cpu(desc->addr), sg_dma_address(sg)
      if (x.args.length === 1) return handleKey(x.args[0] as Expr, fn, guard + 1);
      return undefined;
    }
    case 'id': {
      if (!fn) return x.name;
      const local = [...fn.locals].reverse().find((l) => l.name === x.name);
      if (local?.init) {
        const k = handleKey(local.init, fn, guard + 1);
        if (k) return k;
      }
      return x.name;
    }
    default:
      return undefined;
  }
}

export interface HandleRef {
  readonly key: string;
  /** The struct the member belongs to, when declarations tell ("struct foo_buf"). */
  readonly type?: string;
  /** Only a local variable names it: pairs within its function, too weak for bug reports. */
  readonly local: boolean;
}

function isLocalName(key: string, fn: FunctionInfo | undefined): boolean {
  return !!fn && (fn.locals.some((l) => l.name === key) || fn.params.some((p) => p.name === key));
}

/** The struct type of a member access (buf->dma: the type of *buf), when declarations tell. */
export function handleContainer(e: Expr | undefined, ev: Evaluator): string | undefined {
  if (!e) return undefined;
  let x = stripCasts(e);
  if (x.k === 'un' && x.op === '&') x = stripCasts(x.a);
  if (x.k === 'call' && x.fn.k === 'id' && (x.fn.name === 'dma_unmap_addr' || x.fn.name === 'dma_unmap_len') && x.args[0]) {
    const t = ev.typeOf(x.args[0]);
    const r = t ? ev.resolveType(t) : undefined;
    return r && (r.kind === 'struct' || r.kind === 'union') ? `${r.kind} ${r.name}` : undefined;
  }
  if (x.k === 'call' && x.args.length === 1) return handleContainer(x.args[0], ev);
  if (x.k === 'index') return handleContainer(x.base, ev);
  if (x.k !== 'field') return undefined;
  const t = ev.typeOf(x.base);
  if (!t) return undefined;
  const r = ev.resolveType(t);
  return r.kind === 'struct' || r.kind === 'union' ? `${r.kind} ${r.name}` : undefined;
}

/** A handle expression's key, its container and whether only a local names it. */
export function handleRef(e: Expr | undefined, fn: FunctionInfo | undefined, ev: Evaluator): HandleRef | undefined {
  if (!e) return undefined;
  const key = handleKey(e, fn);
  if (!key) return undefined;
  // a local copied from a member (dma_addr_t d = buf->dma) resolves to the member
  const x = stripCasts(e);
  const plain = x.k === 'id' || (x.k === 'un' && stripCasts(x.a).k === 'id');
  const local = plain && isLocalName(key, fn);
  const type = local ? undefined : handleContainer(plain && fn ? localInit(x, fn) : e, ev);
  return { key, local, ...(type ? { type } : {}) };
}

function localInit(e: Expr, fn: FunctionInfo): Expr | undefined {
  const x = stripCasts(e);
  const name = x.k === 'id' ? x.name : x.k === 'un' && stripCasts(x.a).k === 'id' ? (stripCasts(x.a) as { name: string }).name : undefined;
  return name ? [...fn.locals].reverse().find((l) => l.name === name)?.init : undefined;
}

/**
 * Every place a map's or allocation's handle is stored, best first: the unmap state
 * (dma_unmap_addr_set), members it is assigned to (buf->dma = mapping, desc->addr =
 * cpu_to_le64(mapping)), or the local it stays in.
 */
export function producedHandles(s: RawSite, fn: FunctionInfo | undefined, ev: Evaluator): HandleRef[] {
  const spec = s.spec;
  const one = (r: HandleRef | undefined) => (r ? [r] : []);
  if (spec.role === 'alloc' || spec.role === 'pool_alloc')
    return one(handleRef(spec.handle !== undefined ? s.args[spec.handle] : undefined, fn, ev));
  if (spec.family === 'sg' || spec.family === 'sgtable')
    return one(handleRef(spec.buf !== undefined ? s.args[spec.buf] : undefined, fn, ev));
  const use = s.use;
  // the handle lands in a local first (dma_addr_t mapping = dma_map_single(...), or mapping = ...)
  const local = use.kind === 'init' ? use.name : use.kind === 'assign' && use.target.k === 'id' ? use.target.name : undefined;
  if (local !== undefined) {
    if (!fn) return [{ key: local, local: true }];
    const out: HandleRef[] = [];
    for (const x of fn.stateSets) {
      if (x.macro === 'dma_unmap_addr_set' && x.args[2]?.k === 'id' && x.args[2].name === local && x.args[1] && x.row >= s.span.row) {
        const k = handleKey(x.args[1], fn);
        const t = x.args[0] ? ev.typeOf(x.args[0]) : undefined;
        const r = t ? ev.resolveType(t) : undefined;
        if (k)
          out.push({ key: k, local: false, ...(r && (r.kind === 'struct' || r.kind === 'union') ? { type: `${r.kind} ${r.name}` } : {}) });
      }
    }
    for (const a of fn.assignments) {
      const v = a.value.k === 'call' && a.value.args.length === 1 ? (a.value.args[0] as Expr) : a.value;
      if (v.k === 'id' && v.name === local && a.row >= s.span.row && a.target.k !== 'id') {
        const r = handleRef(a.target, fn, ev);
        if (r) out.push(r);
      }
    }
    if (out.length) return out;
    return [{ key: local, local: isLocalName(local, fn) }];
  }
  switch (use.kind) {
    case 'assign':
      return one(handleRef(use.target, fn, ev));
    case 'return':
      return fn ? [{ key: `${fn.name}()`, local: false }] : [];
    default:
      return [];
  }
}

/** The handle argument of an unmap, sync or free. */
export function usedHandle(s: RawSite, fn: FunctionInfo | undefined, ev: Evaluator): HandleRef | undefined {
  return handleRef(s.spec.handle !== undefined ? s.args[s.spec.handle] : undefined, fn, ev);
}

/** Builds the sites of one file. */
export function buildSites(
  pf: ParsedFile,
  firstId: number,
  displayFile: string,
  evaluator: Evaluator,
  macroBody: (name: string) => string | undefined,
  driver = '',
): Site[] {
  const out: Site[] = [];
  const perFn = new Map<number, Evaluator>();
  const evFor = (fn: number) => {
    let e = perFn.get(fn);
    if (!e) {
      e = evaluator.inFunction(pf.functions[fn]);
      perFn.set(fn, e);
    }
    return e;
  };
  pf.sites.forEach((raw, i) => {
    const spec = raw.spec;
    const fn = raw.fn >= 0 ? pf.functions[raw.fn] : undefined;
    const ev = evFor(raw.fn);
    const arg = (k: number | undefined) => (k === undefined ? undefined : raw.args[k]);
    const text = (k: number | undefined) => (k === undefined ? undefined : raw.argTexts[k]);
    const devE = arg(spec.dev);
    const dirE = arg(spec.dir);
    const attrsE = arg(spec.attrs);
    const valueE = arg(spec.value);
    const use = raw.use;
    const nentsE = spec.family === 'sg' ? arg(spec.nents) : undefined;
    const nentsRef = nentsE ? countRef(nentsE) : undefined;
    const opens = spec.role === 'map' || spec.role === 'alloc' || spec.role === 'pool_alloc';
    const resultE: Expr | undefined = !opens
      ? undefined
      : use.kind === 'init'
        ? { k: 'id', name: use.name }
        : use.kind === 'assign'
          ? use.target
          : undefined;
    const resultRef = resultE ? countRef(resultE) : undefined;
    const site: Site = {
      id: firstId + i,
      raw: {
        span: raw.span,
        nameSpan: raw.nameSpan,
        fn: raw.fn,
        ...(raw.via !== undefined ? { via: raw.via } : {}),
        inError: raw.inError,
      },
      file: displayFile,
      driver,
      api: raw.api,
      role: spec.role,
      family: spec.family,
      spec,
      function: fn?.name ?? null,
      ...(devE ? { deviceExpr: text(spec.dev) as string, deviceKey: deviceKey(devE, fn, spec.pciDev ?? false) } : {}),
      ...(spec.buf !== undefined && text(spec.buf) !== undefined ? { buffer: text(spec.buf) as string } : {}),
      ...(spec.size !== undefined ? optional('size', resolved(arg(spec.size), text(spec.size), ev)) : {}),
      ...(spec.nents !== undefined ? optional('nents', resolved(arg(spec.nents), text(spec.nents), ev)) : {}),
      ...(nentsRef ? { nentsRef } : {}),
      ...(resultRef ? { resultRef } : {}),
      ...(spec.offset !== undefined ? optional('offset', resolved(arg(spec.offset), text(spec.offset), ev)) : {}),
      ...(dirE
        ? {
            dir: {
              text: text(spec.dir) as string,
              ...optional('value', directionValue(dirE, macroBody)),
            },
          }
        : {}),
      ...(attrsE ? { attrs: { text: text(spec.attrs) as string, ...optional('value', attrsValue(attrsE, ev)) } } : {}),
      ...(valueE
        ? {
            setValue: (() => {
              const v = ev.value(valueE);
              return { text: text(spec.value) as string, ...(v !== undefined ? { value: v, trail: [...ev.trail] } : {}) };
            })(),
          }
        : {}),
      hints: {},
      annotations: [],
      annotated: false,
      handles: [],
    };
    if (spec.role === 'map' || spec.role === 'alloc' || spec.role === 'pool_alloc') {
      site.handles = producedHandles(raw, fn, ev);
    } else if (spec.role === 'unmap' || spec.role === 'free' || spec.role === 'pool_free' || spec.role.startsWith('sync')) {
      const h = usedHandle(raw, fn, ev);
      if (h) site.handles = [h];
    } else if (spec.role === 'pool_create') {
      const h =
        raw.use.kind === 'assign'
          ? handleRef(raw.use.target, fn, ev)
          : raw.use.kind === 'init'
            ? { key: raw.use.name, local: false }
            : undefined;
      if (h) site.handles = [h];
    }
    out.push(site);
  });
  return out;
}

function optional<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };
}

/** Attaches annotations and merges hints: settings < file < function < call. */
/** File and function annotations a site lists (they all count for its hints). */
const LISTED_ANNOTATIONS = 8;

export function applyAnnotations(
  sites: Site[],
  firstId: number,
  annotations: readonly Annotation[],
  settings: Hints,
  /** Per-device settings for a site (by its device name, expression or key): above the defaults. */
  deviceSettings?: (s: Site, name: string | undefined) => Hints | undefined,
): void {
  const file = annotations.filter((a) => a.scope === 'file');
  // by target, once: a file can have as many annotations as calls
  const byTarget = (scope: 'function' | 'call') => {
    const m = new Map<number, Annotation[]>();
    for (const a of annotations) {
      if (a.scope !== scope) continue;
      const list = m.get(a.target);
      if (list) list.push(a);
      else m.set(a.target, [a]);
    }
    return m;
  };
  const byFunction = byTarget('function');
  const byCall = byTarget('call');
  // the machine keys of swiotlb-file: describe the driver's machine, not its calls
  const fileHints: Hints = {};
  for (const a of file) Object.assign(fileHints, withoutMachineKeys(a.hints));
  // what a site lists (the hover): the last few of the file's and function's, shared by the sites
  const listed = new Map<number, Annotation[]>();
  for (const s of sites) {
    const fnIdx = s.raw.fn;
    const fnA = (fnIdx >= 0 && byFunction.get(fnIdx)) || [];
    const callA = byCall.get(s.id - firstId) ?? [];
    const shared = listed.get(fnIdx) ?? [...file.slice(-LISTED_ANNOTATIONS), ...fnA.slice(-LISTED_ANNOTATIONS)];
    listed.set(fnIdx, shared);
    s.annotations = callA.length ? [...shared, ...callA] : shared;
    s.annotated = callA.length > 0;
    const annotated: Hints = { ...fileHints };
    for (const a of fnA) Object.assign(annotated, a.hints);
    for (const a of callA) Object.assign(annotated, a.hints);
    s.hints = Object.assign({}, settings, deviceSettings?.(s, annotated.device ?? settings.device), annotated);
  }
}

export function annotationDiagnostics(file: string, problems: readonly AnnotationProblem[]): SourceDiagnostic[] {
  return problems.map((p) => ({
    file,
    span: p.span,
    severity: p.severity,
    code: p.code,
    message: p.message,
    ...(p.suggestion ? { suggestion: p.suggestion } : {}),
  }));
}
