/**
 * Driver source analysis: reads C files and folders (a folder's files are grouped by directory,
 * one driver each), finds the DMA call sites, resolves their arguments, infers the devices,
 * pairs maps with unmaps, reads the annotations, and simulates each driver on a machine made of
 * a platform and a kernel profile. Bad input never stops the rest: every problem becomes a
 * diagnostic with its file and line.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { EventTable } from '../analysis/eventTable';
import type { AnalysisSession } from '../analysis/session';
import { summarizeEvents } from '../analysis/session';
import { PLATFORM_IDS, platformById } from '../model/dma/platform';
import { dynamicUnsupported, resolveProfileWithNote } from '../model/profiles';
import { ARM64_BOARDS } from '../model/setup';
import { type Annotation, fileAnnotations, type Hints, MACHINE_KEYS, parseSettingsHints, withoutMachineKeys } from './annotations';
import { mentionsDmaApi } from './api';
import { type DeviceView, deviceView, driverDevices } from './devices';
import { Evaluator, SymbolScope } from './evaluate';
import { extractFile, lightFunctions, MAX_SITES_PER_FILE, macroAlias, macroBodyCalls, parseMacroExpression } from './extract';
import { type Pair, pairSites } from './pairing';
import { type DriverSimulation, type Machine, mergeSessions, simulateDriver, type Verdict, type WillFailSite } from './simulate';
import { annotationDiagnostics, applyAnnotations, buildSites, deviceKey, type Site, type SourceDiagnostic } from './sites';
import { DriverWorkers, defaultSourceWorkers, SOURCE_WORKERS_MIN_FILES, type SourceWorkers } from './sourceWorkers';
import { loadCParser, type ParserPaths, ParseTimeout } from './treeSitter';
import type { FileSymbols, ParsedFile, Span } from './types';

export interface SourceOptions {
  /** Platform and kernel chosen by the user: they win over swiotlb-file: annotations. */
  readonly platform?: string;
  readonly kernel?: string;
  readonly cmdline?: string;
  readonly cpus?: number;
  /** CONFIG_SWIOTLB_DYNAMIC on (the CLI's --dynamic): wins over dynamic= annotations. */
  readonly dynamic?: boolean;
  /** Workspace defaults in the annotation grammar ("ram=32G cpus=8"). */
  readonly settings?: string;
  /**
   * Per-device settings in the same grammar, keyed by a device's name (`device=`), its expression
   * as written (`&pdev->dev`), or either prefixed with the driver's folder (`swlnic/&pdev->dev`).
   * They override the defaults and the driver's set-up calls; annotations in the source win.
   */
  readonly devices?: Readonly<Record<string, string>>;
  /** How problems name the two settings: VS Code's setting ids by default, the CLI its options. */
  readonly settingNames?: { readonly defaults: string; readonly device: (key: string) => string };
  /** Paths are reported relative to this folder. */
  readonly root?: string;
  /** Files read for devices, pairs and symbols whose own sites are not reported (the rest of a driver). */
  readonly context?: readonly string[];
  readonly maxFileBytes?: number;
  readonly parseTimeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number, file: string) => void;
  /** false: find and resolve sites only (no decision layer). */
  readonly simulate?: boolean;
  readonly parser?: ParserPaths;
  /** Text of files open in an editor (unsaved changes), by absolute path. */
  readonly overlay?: ReadonlyMap<string, string>;
  /**
   * Worker threads that parse the drivers (sourceWorkers.ts); default: dist/sourceWorker.js beside
   * the bundle, one per CPU; null: this thread.
   */
  readonly workers?: SourceWorkers | null;
  /** Call sites one analysis holds (MAX_SITES); smaller in tests of the limit. */
  readonly maxSites?: number;
}

/** The options a worker thread gets: the plain data of SourceOptions a driver pass reads. */
function passOptions(opts: SourceOptions): PassOptions {
  return {
    ...(opts.settings !== undefined ? { settings: opts.settings } : {}),
    ...(opts.devices ? { devices: opts.devices } : {}),
    ...(opts.root !== undefined ? { root: opts.root } : {}),
    ...(opts.maxFileBytes !== undefined ? { maxFileBytes: opts.maxFileBytes } : {}),
    ...(opts.parseTimeoutMs !== undefined ? { parseTimeoutMs: opts.parseTimeoutMs } : {}),
    ...(opts.parser ? { parser: opts.parser } : {}),
    ...(opts.overlay ? { overlay: opts.overlay } : {}),
    ...(opts.maxSites !== undefined ? { maxSites: opts.maxSites } : {}),
  };
}

export interface FileReport {
  readonly file: string;
  readonly driver: string;
  readonly bytes: number;
  readonly lines: number;
  readonly sites: number;
  readonly errorNodes: number;
  readonly skipped?: string;
}

export interface DeviceReport {
  readonly key: string;
  readonly driver: string;
  readonly exprs: readonly string[];
  readonly view: DeviceView;
  readonly sites: number;
  /** What the per-device setting (or the CLI's --device) gives it: these win over its set-up calls. */
  readonly settings?: Hints;
}

export interface SourceAnalysis {
  readonly machine: Machine;
  readonly files: FileReport[];
  readonly sites: Site[];
  readonly verdicts: Map<number, Verdict>;
  readonly devices: DeviceReport[];
  readonly pairs: Pair[];
  readonly diagnostics: SourceDiagnostic[];
  /**
   * Map sites the probes show failing, each with its will-fail diagnostic: counted here once,
   * beside the session (whose books count the annotated workload's calls only).
   */
  readonly willFail: WillFailSummary;
  readonly session: AnalysisSession;
  readonly drivers: {
    readonly name: string;
    readonly dir: string;
    readonly files: number;
    readonly machine: Machine;
    readonly sim?: Pick<DriverSimulation, 'pool' | 'poolWhy' | 'workloadCalls' | 'dynamicSizing'>;
  }[];
  readonly stats: {
    files: number;
    parsed: number;
    skipped: number;
    bytes: number;
    filesWithErrors: number;
    errorNodes: number;
    sites: number;
    byApi: Record<string, number>;
    /** Headers read for their symbols only (#defines, enums, structs a size needed). */
    headersRead: number;
    headerBytes: number;
    ms: number;
  };
}

export interface WillFailSummary {
  /** Map sites that fail wherever the buffer is. */
  readonly always: number;
  /** Map sites that fail at some placements of the buffer only. */
  readonly sometimes: number;
  /** Sites by the code of their diagnostic (too-big, no-swiotlb, bounce-beyond-mask, livelock, will-fail). */
  readonly byCause: Readonly<Record<string, number>>;
  /** The first few, in the order of the report (site ids). */
  readonly first: readonly number[];
}

/** Will-fail sites the summary names. */
const WILL_FAIL_NAMED = 3;

function willFailSummary(sites: readonly WillFailSite[]): WillFailSummary {
  const byCause: Record<string, number> = {};
  let always = 0;
  for (const w of sites) {
    byCause[w.code] = (byCause[w.code] ?? 0) + 1;
    if (w.always) always++;
  }
  return { always, sometimes: sites.length - always, byCause, first: sites.slice(0, WILL_FAIL_NAMED).map((w) => w.site) };
}

export const DEFAULT_MAX_FILE_BYTES = 4 * 1024 * 1024;

/**
 * DMA API call sites one analysis holds (about 4.5 KB each: site, verdict, probes, pairs): nine
 * times all of Linux's drivers/ (about 11,000).
 */
export const MAX_SITES = 100_000;

/** push(...items) without the argument list: a driver can have more items than a call takes. */
function append<T>(into: T[], items: readonly T[]): void {
  for (const x of items) into.push(x);
}
const C_EXT = new Set(['.c', '.h']);
const WHOLE_FILE: Span = { row: 0, col: 0, endRow: 0, endCol: 0 };

class Cancelled extends Error {
  override name = 'AbortError';
}

/** Every .c/.h file under a folder, sorted; hidden folders are skipped. */
async function walk(dir: string, out: string[], signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) throw new Cancelled('cancelled');
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, out, signal);
    else if (e.isFile() && C_EXT.has(extname(e.name).toLowerCase())) out.push(p);
  }
}

/** Looks like binary data (a NUL byte near the start). */
function isBinary(buf: Buffer): boolean {
  const n = Math.min(buf.length, 8192);
  for (let i = 0; i < n; i++) if (buf[i] === 0) return true;
  return false;
}

interface FileEntry {
  readonly path: string;
  readonly display: string;
  readonly primary: boolean;
  pf?: ParsedFile;
  report: FileReport;
}

/** Headers read for their symbols only, shared by the drivers of one analysis (least recently used go first). */
export class HeaderCache {
  private readonly cache = new Map<string, { syms: FileSymbols | null; bytes: number }>();
  private bytes = 0;
  /** Headers parsed for their symbols, and their bytes (a header evicted and needed again counts twice). */
  loads = 0;
  loadedBytes = 0;
  constructor(
    private readonly maxBytes: number,
    private readonly timeoutMs: number,
    private readonly overlay?: ReadonlyMap<string, string>,
    /**
     * Source bytes whose symbols are kept (one cache per worker thread). 8 MiB reads Linux's
     * drivers/ with 0.7 % more header loads than 32 MiB, in a quarter of the heap.
     */
    private readonly budget = 8 * 2 ** 20,
  ) {}

  /** Synchronous: the evaluator asks for a header only when a name does not resolve otherwise. */
  load(path: string): FileSymbols | null {
    const hit = this.cache.get(path);
    if (hit) {
      this.cache.delete(path);
      this.cache.set(path, hit);
      return hit.syms;
    }
    let syms: FileSymbols | null = null;
    let size = 0;
    try {
      const text = this.overlay?.get(path) ?? readSmallSync(path, this.maxBytes);
      if (text !== undefined) {
        size = text.length;
        this.loads++;
        this.loadedBytes += size;
        syms = extractFile(path, text, { symbolsOnly: true, timeoutMs: this.timeoutMs }).symbols;
      }
    } catch {
      syms = null;
    }
    this.put(path, syms, size);
    return syms;
  }

  put(path: string, syms: FileSymbols | null, size: number): void {
    const old = this.cache.get(path);
    if (old) {
      this.bytes -= old.bytes;
      this.cache.delete(path);
    }
    this.cache.set(path, { syms, bytes: size });
    this.bytes += size;
    for (const [k, v] of this.cache) {
      if (this.bytes <= this.budget) break;
      this.cache.delete(k);
      this.bytes -= v.bytes;
    }
  }
}

function readSmallSync(path: string, maxBytes: number): string | undefined {
  if (!existsSync(path)) return undefined;
  const st = statSync(path);
  if (!st.isFile() || st.size > maxBytes) return undefined;
  const buf = readFileSync(path);
  return isBinary(buf) ? undefined : buf.toString('utf8');
}

/** The machine of a driver: defaults < settings < swiotlb-file: annotations < the user's choice. */
function machineFor(opts: SourceOptions, settings: Hints, fileHints: Hints, driverName: string): { machine: Machine; problems: string[] } {
  const problems: string[] = [];
  const h = { ...settings, ...fileHints };
  const platformId = opts.platform && opts.platform !== 'auto' ? opts.platform : (h.platform ?? 'x86');
  const platform = platformById(platformId);
  if (!platform) throw new Error(`unknown platform "${platformId}" (one of: ${PLATFORM_IDS.join(', ')})`);
  const kernelName = opts.kernel && opts.kernel !== 'auto' ? opts.kernel : (h.kernel ?? '6.1');
  const k = resolveProfileWithNote(kernelName);
  let dynamic = opts.dynamic ?? h.dynamic ?? false;
  const noDynamic = dynamic ? dynamicUnsupported(k.profile) : undefined;
  if (noDynamic) {
    problems.push(`dynamic swiotlb ignored: ${noDynamic}`);
    dynamic = false;
  } else if (dynamic && platform.xen?.pv) {
    problems.push('dynamic swiotlb ignored: Xen PV dom0 sets its pool up with a remap hook, which cannot grow');
    dynamic = false;
  }
  const board = h.board ? ARM64_BOARDS[h.board] : undefined;
  const firmwareDmaLimit =
    h.zone_dma_limit ??
    (h.zone_dma_bits !== undefined ? (h.zone_dma_bits >= 53 ? 2 ** 64 : 2 ** h.zone_dma_bits - 1) : board?.firmwareDmaLimit);
  if (firmwareDmaLimit !== undefined && platform.arch !== 'arm64')
    problems.push("the DMA zone keys are for arm64: x86's ZONE_DMA is the fixed 16 MiB");
  return {
    machine: {
      platform,
      kernel: k.profile,
      ...(k.note ? { kernelNote: k.note } : {}),
      cpus: opts.cpus ?? h.cpus ?? 4,
      ramBytes: h.ram ?? 16 * 2 ** 30,
      ...((opts.cmdline ?? h.cmdline) ? { cmdline: opts.cmdline ?? h.cmdline } : {}),
      ...(h.pool ? { poolSlots: h.pool } : {}),
      p2m: h.p2m ?? 'contiguous',
      mix: h.mix ?? 'concurrent',
      driver: h.driver ?? driverName,
      ...(dynamic ? { dynamic } : {}),
      ...(firmwareDmaLimit !== undefined && platform.arch === 'arm64' ? { firmwareDmaLimit } : {}),
    },
    problems,
  };
}

/** What a driver pass needs from the options: plain data, so a worker thread can have it too. */
export interface PassOptions {
  readonly settings?: string;
  readonly devices?: Readonly<Record<string, string>>;
  readonly root?: string;
  readonly maxFileBytes?: number;
  readonly parseTimeoutMs?: number;
  readonly parser?: ParserPaths;
  readonly overlay?: ReadonlyMap<string, string>;
  /** Call sites one analysis holds (MAX_SITES); smaller in tests of the limit. */
  readonly maxSites?: number;
}

/** One file of a driver as a pass reads it. */
export interface PassFile {
  readonly path: string;
  readonly display: string;
  /** false: read for devices, pairs and symbols only (SourceOptions.context). */
  readonly primary: boolean;
}

/** The sites an analysis may still read, and whether running out was already reported. */
export interface SiteBudget {
  readonly left: number;
  readonly reported: boolean;
}

/**
 * Steps 1-3 of one driver (read and parse, macros, sites with their values and annotations, the
 * file-scope machine hints): everything that needs the C parser. Plain data, the same whether it
 * ran in this thread or in a worker (sourceWorkers.ts); site ids start at 0.
 */
export interface DriverPass {
  /** In the order of the pass's files. */
  readonly reports: FileReport[];
  /** Sites each file's first parse found: how much of the site budget it used. */
  readonly found: number[];
  /** Of the primary files, in the order the sequential analysis makes them. */
  readonly diagnostics: SourceDiagnostic[];
  /** Every site of the driver, context files' too; ids from 0. */
  readonly sites: Site[];
  readonly fileHints: Hints;
  /** The first primary file parsed: where the machine's problems are reported. */
  readonly firstFile?: string;
  readonly parsed: number;
  readonly skipped: number;
  readonly bytes: number;
  readonly budget: SiteBudget;
  readonly headerLoads: number;
  readonly headerBytes: number;
}

/** What every pass of one thread shares: settings, limits, the header cache. */
export interface PassContext {
  readonly overlay?: ReadonlyMap<string, string>;
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly maxSites: number;
  readonly display: (p: string) => string;
  readonly settings: Hints;
  readonly deviceSettingsFor: (driver: string) => ((s: Site, name: string | undefined) => Hints | undefined) | undefined;
  readonly headers: HeaderCache;
}

/** The context of the passes of one thread; problems of the settings go to `diagnostics`. */
export function passContext(opts: PassOptions & Pick<SourceOptions, 'settingNames'>, diagnostics: SourceDiagnostic[] = []): PassContext {
  const maxBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const timeoutMs = opts.parseTimeoutMs ?? 15_000;
  const root = opts.root;
  const { settings, deviceSettingsFor } = sourceSettings(opts, diagnostics);
  return {
    ...(opts.overlay ? { overlay: opts.overlay } : {}),
    maxBytes,
    timeoutMs,
    maxSites: opts.maxSites ?? MAX_SITES,
    display: (p: string) => (root ? relative(root, p) || basename(p) : p),
    settings,
    deviceSettingsFor,
    headers: new HeaderCache(maxBytes, timeoutMs, opts.overlay),
  };
}

export interface PassHooks {
  /** Before each file is read. */
  readonly onFile?: (display: string) => void;
  readonly signal?: AbortSignal;
  /** Give the event loop a turn every few files (the extension host's thread). */
  readonly breathe?: boolean;
}

/** Steps 1-3 of one driver (see DriverPass). */
export async function driverPass(
  ctx: PassContext,
  dir: string,
  files: readonly PassFile[],
  budget: SiteBudget,
  hooks: PassHooks = {},
): Promise<DriverPass> {
  const driverName = basename(dir);
  const { maxBytes, timeoutMs, headers, display } = ctx;
  const loads0 = headers.loads;
  const bytes0 = headers.loadedBytes;
  const group: FileEntry[] = files.map((f) => ({
    ...f,
    report: { file: f.display, driver: driverName, bytes: 0, lines: 0, sites: 0, errorNodes: 0 },
  }));
  const diagnostics: SourceDiagnostic[] = [];
  const found = group.map(() => 0);
  let siteBudget = budget.left;
  let budgetReported = budget.reported;
  let parsed = 0;
  let skipped = 0;
  let bytes = 0;
  let n = 0;
  // 1. read and parse
  for (const [i, f] of group.entries()) {
    if (hooks.signal?.aborted) throw new Cancelled('cancelled');
    hooks.onFile?.(f.display);
    // let the extension host breathe between files
    if (hooks.breathe && ++n % 8 === 0) await new Promise((r) => setImmediate(r));
    if (siteBudget <= 0) {
      // an analysis holds every site it found: past the budget, files are not read
      if (f.primary) {
        f.report = { ...f.report, skipped: 'site limit' };
        skipped++;
        if (!budgetReported)
          diagnostics.push({
            file: f.display,
            span: WHOLE_FILE,
            severity: 'warning',
            code: 'too-many-sites',
            message: `${ctx.maxSites} DMA API call sites found: this file and the rest are not analysed (analyse fewer folders at a time)`,
          });
        budgetReported = true;
      }
      continue;
    }
    const r = readOne(f, ctx.overlay, maxBytes, timeoutMs);
    if (r.pf) {
      siteBudget -= r.pf.sites.length;
      found[i] = r.pf.sites.length;
    }
    if (r.diag && f.primary) append(diagnostics, r.diag);
    if (r.pf) {
      f.pf = r.pf;
      parsed++;
      bytes += r.pf.bytes;
      // only headers are ever looked up (lazyHeaders): a .c file's symbols would crowd them out
      if (f.path.endsWith('.h')) headers.put(f.path, r.pf.symbols, r.pf.bytes);
    } else if (f.primary && f.report.skipped) skipped++;
  }
  const parsedFiles = group.filter((f) => f.pf);
  // 2. macros that alias or hide DMA calls
  const aliases = new Map<string, string>();
  const hidden = new Map<string, { calls: string[]; def: { file: string; span: Span } }>();
  for (const f of parsedFiles) {
    for (const m of (f.pf as ParsedFile).symbols.macros.values()) {
      if (!mentionsDmaApi(m.body)) continue;
      if (!m.params) {
        const a = macroAlias(m.body);
        if (a) {
          aliases.set(m.name, a);
          continue;
        }
      }
      const calls = macroBodyCalls(m.body);
      if (calls.length) hidden.set(m.name, { calls, def: { file: f.display, span: m.span } });
    }
  }
  if (aliases.size || hidden.size) {
    // rare: read the driver again, making calls through aliases sites and noting hidden calls
    const watch = new Set([...aliases.keys(), ...hidden.keys()]);
    for (const f of group) {
      if (f.report.skipped === 'site limit') continue;
      const r = readOne(f, ctx.overlay, maxBytes, timeoutMs, { aliases, watch });
      if (r.pf) {
        if (!f.pf) parsed++;
        f.pf = r.pf;
      }
    }
  }
  const parsedAgain = group.filter((f) => f.pf);
  for (const [name, h] of hidden) {
    const defFile = group.find((g) => g.display === h.def.file);
    if (defFile?.primary)
      diagnostics.push({
        file: h.def.file,
        span: h.def.span,
        severity: 'info',
        code: 'hidden-call',
        message: `macro ${name}() calls ${[...new Set(h.calls)].join(', ')}: calls through it are found at their uses but not simulated`,
      });
    for (const f of parsedAgain) {
      if (!f.primary) continue;
      for (const sp of (f.pf as ParsedFile).otherCalls.get(name) ?? []) {
        diagnostics.push({
          file: f.display,
          span: sp,
          severity: 'info',
          code: 'hidden-call',
          message: `${name}() hides ${[...new Set(h.calls)].join(', ')} (macro at ${h.def.file}:${h.def.span.row + 1}): this call is not simulated`,
        });
      }
    }
  }
  // 3. sites, with values resolved through each file's symbols and its headers
  const driverSites: Site[] = [];
  const annotationsByFile = new Map<FileEntry, Annotation[]>();
  let nextSite = 0;
  for (const f of parsedAgain) {
    const pf = f.pf as ParsedFile;
    const lazy = lazyHeaders(f, group, headers);
    const scope = new SymbolScope([pf.symbols], lazy);
    const ev = new Evaluator(scope, parseMacroExpression, undefined, (p) => (isAbsolute(p) ? display(p) : p));
    const macroBody = (name: string) => scope.find((s) => s.macros.get(name))?.body;
    const built = buildSites(pf, nextSite, f.display, ev, macroBody, driverName);
    nextSite += built.length;
    const ann = fileAnnotations(pf);
    annotationsByFile.set(f, ann.annotations);
    if (f.primary) append(diagnostics, annotationDiagnostics(f.display, ann.problems));
    applyAnnotations(built, built[0]?.id ?? nextSite, ann.annotations, withoutMachineKeys(ctx.settings), ctx.deviceSettingsFor(driverName));
    f.report = { file: f.display, driver: driverName, bytes: pf.bytes, lines: pf.lines, sites: built.length, errorNodes: pf.errorNodes };
    append(driverSites, built);
    if (f.primary) append(diagnostics, parseDiagnostics(f.display, pf));
  }
  // 4. the machine hints of the driver's files
  const fileHints: Hints = {};
  for (const [f, anns] of annotationsByFile) {
    for (const a of anns) {
      if (a.scope !== 'file') continue;
      for (const k of MACHINE_KEYS) {
        const v = a.hints[k];
        if (v === undefined) continue;
        const prev = fileHints[k];
        if (prev !== undefined && JSON.stringify(prev) !== JSON.stringify(v) && f.primary) {
          diagnostics.push({
            file: f.display,
            span: a.keySpans[k] ?? a.span,
            severity: 'warning',
            code: 'annotation-conflict',
            message: `${k} is set differently in another file of this driver; the first one counts`,
          });
          continue;
        }
        (fileHints as Record<string, unknown>)[k] = v;
      }
    }
  }
  const firstFile = parsedAgain.find((f) => f.primary)?.display;
  return {
    reports: group.map((f) => f.report),
    found,
    diagnostics,
    sites: driverSites,
    fileHints,
    ...(firstFile !== undefined ? { firstFile } : {}),
    parsed,
    skipped,
    bytes,
    budget: { left: siteBudget, reported: budgetReported },
    headerLoads: headers.loads - loads0,
    headerBytes: headers.loadedBytes - bytes0,
  };
}

/**
 * Whether a pass made without the budget (workers run ahead) is what the analysis in file order
 * makes with `left` sites to go: the same unless the budget runs out within the driver.
 */
function passFits(pass: DriverPass, left: number): boolean {
  let b = left;
  for (const n of pass.found) {
    if (b <= 0) return false;
    b -= n;
  }
  return true;
}

/** Analyses files and folders. */
export async function analyzeSource(paths: readonly string[], opts: SourceOptions = {}): Promise<SourceAnalysis> {
  const t0 = Date.now();
  // with workers, this thread needs the parser only for per-device settings (their expressions)
  if (opts.devices && Object.keys(opts.devices).length) await loadCParser(opts.parser);
  const diagnostics: SourceDiagnostic[] = [];
  const ctx = passContext(opts, diagnostics);
  const { display, settings, deviceSettingsFor } = ctx;

  // the files, grouped into drivers (one folder each)
  const primary: string[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    const st = await stat(abs);
    if (st.isDirectory()) await walk(abs, primary, opts.signal);
    else primary.push(abs);
  }
  const primarySet = new Set(primary);
  const context = (opts.context ?? []).map((p) => resolve(p)).filter((p) => !primarySet.has(p));
  const groups = new Map<string, PassFile[]>();
  for (const [list, isPrimary] of [
    [primary, true],
    [context, false],
  ] as const) {
    for (const p of list) {
      const d = dirname(p);
      let g = groups.get(d);
      if (!g) {
        g = [];
        groups.set(d, g);
      }
      g.push({ path: p, display: display(p), primary: isPrimary });
    }
  }

  const files: FileReport[] = [];
  const sites: Site[] = [];
  const verdicts = new Map<number, Verdict>();
  const devices: DeviceReport[] = [];
  const pairs: Pair[] = [];
  const sessions: AnalysisSession[] = [];
  const willFail: WillFailSite[] = [];
  const drivers: SourceAnalysis['drivers'] = [];
  let defaultMachine: Machine | undefined;
  let done = 0;
  const total = primary.length + context.length;
  let nextSite = 0;
  let parsed = 0;
  let skipped = 0;
  let bytes = 0;
  let headersRead = 0;
  let headerBytes = 0;
  let budget: SiteBudget = { left: ctx.maxSites, reported: false };
  const onFile = (file: string) => opts.onProgress?.(done++, total, file);

  // steps 1-3 in worker threads when there are enough files, each worker its own parser
  const cfg = opts.workers === undefined ? defaultSourceWorkers() : opts.workers;
  const list = [...groups];
  const pool =
    cfg && cfg.count > 0 && total >= (cfg.minFiles ?? SOURCE_WORKERS_MIN_FILES)
      ? new DriverWorkers(cfg, passOptions(opts), list, { onFile, ...(opts.signal ? { signal: opts.signal } : {}) })
      : undefined;
  try {
    for (const [i, [dir, group]] of list.entries()) {
      if (opts.signal?.aborted) throw new Cancelled('cancelled');
      const driverName = basename(dir);
      let pass: DriverPass;
      const inThread = async () => {
        await loadCParser(opts.parser);
        return driverPass(ctx, dir, group, budget, { onFile, breathe: true, ...(opts.signal ? { signal: opts.signal } : {}) });
      };
      if (pool) {
        let ahead = pool.speculating ? await pool.result(i) : null;
        // the workers ran ahead without the budget: a driver where it runs out is read again
        if (ahead && !passFits(ahead, budget.left)) ahead = await pool.exact(i, budget);
        else if (ahead)
          ahead = { ...ahead, budget: { left: budget.left - ahead.found.reduce((a, b) => a + b, 0), reported: budget.reported } };
        else if (!pool.speculating) ahead = await pool.exact(i, budget);
        // null: the driver did not fit in a worker's heap
        pass = ahead ?? (await inThread());
      } else {
        pass = await inThread();
      }
      budget = pass.budget;
      parsed += pass.parsed;
      skipped += pass.skipped;
      bytes += pass.bytes;
      headersRead += pass.headerLoads;
      headerBytes += pass.headerBytes;
      // the driver's site ids follow the earlier drivers'
      const driverSites = pass.sites;
      for (const s of driverSites) (s as { id: number }).id += nextSite;
      nextSite += driverSites.length;
      const isPrimary = new Set(group.filter((f) => f.primary).map((f) => f.display));
      const report = (s: Site) => isPrimary.has(s.file);
      append(sites, driverSites.filter(report));
      append(diagnostics, pass.diagnostics);
      const { machine, problems: machineProblems } = machineFor(opts, settings, pass.fileHints, driverName);
      if (pass.firstFile)
        for (const message of machineProblems)
          diagnostics.push({
            file: pass.firstFile,
            span: { row: 0, col: 0, endRow: 0, endCol: 0 },
            severity: 'warning',
            code: 'machine',
            message,
          });
      defaultMachine ??= machine;
      // 5. devices and pairs
      const devs = driverDevices(driverSites);
      const viewCache = new Map<string, DeviceView>();
      const view = (key: string) => {
        let v = viewCache.get(key);
        if (!v) {
          v = deviceView(key, devs);
          viewCache.set(key, v);
        }
        return v;
      };
      const settingsOf = deviceSettingsFor(driverName);
      for (const d of devs.values()) {
        const mine = driverSites.filter((s) => s.deviceKey === d.key);
        const n = mine.filter(report).length;
        const set = settingsOf && mine.length ? settingsOf(mine[0] as Site, undefined) : undefined;
        if (n)
          devices.push({ key: d.key, driver: driverName, exprs: d.exprs, view: view(d.key), sites: n, ...(set ? { settings: set } : {}) });
      }
      const paired = pairSites(driverSites, pairs.length, report);
      append(pairs, paired.pairs);
      append(diagnostics, paired.diagnostics);
      // 6. the decision layer
      let sim: DriverSimulation | undefined;
      if (opts.simulate !== false && driverSites.some(report)) {
        try {
          sim = simulateDriver({
            name: driverName,
            machine,
            sites: driverSites,
            pairs: paired.pairs,
            pairOf: paired.pairOf,
            view: (s) => (s.deviceKey ? view(s.deviceKey) : undefined),
            report,
          });
          for (const [id, v] of sim.verdicts) verdicts.set(id, v);
          append(diagnostics, sim.diagnostics);
          append(willFail, sim.willFail);
          if (sim.session) sessions.push(sim.session);
        } catch (e) {
          const first = driverSites.find(report);
          diagnostics.push({
            file: first?.file ?? driverName,
            span: WHOLE_FILE,
            severity: 'error',
            code: 'simulation',
            message: `the simulation of ${driverName} failed: ${(e as Error).message}`,
          });
        }
      }
      if (group.some((f, j) => f.primary && (pass.reports[j] as FileReport).sites > 0))
        drivers.push({
          name: driverName,
          dir: display(dir),
          files: group.length,
          machine,
          ...(sim
            ? {
                sim: {
                  pool: sim.pool,
                  poolWhy: sim.poolWhy,
                  workloadCalls: sim.workloadCalls,
                  ...(sim.dynamicSizing ? { dynamicSizing: sim.dynamicSizing } : {}),
                },
              }
            : {}),
        });
      for (const [j, f] of group.entries()) if (f.primary) files.push(pass.reports[j] as FileReport);
    }
  } finally {
    await pool?.close();
  }
  opts.onProgress?.(total, total, '');
  const machine = defaultMachine ?? machineFor(opts, settings, {}, '').machine;
  const byApi: Record<string, number> = {};
  for (const s of sites) byApi[s.api] = (byApi[s.api] ?? 0) + 1;
  const session = sessions.length
    ? mergeSessions(sessions, machine)
    : emptySession(
        machine,
        files.map((f) => f.file),
      );
  diagnostics.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.span.row - b.span.row || a.span.col - b.span.col));
  return {
    machine,
    files,
    sites,
    verdicts,
    devices,
    pairs,
    diagnostics,
    willFail: willFailSummary(willFail),
    session: {
      ...session,
      files: files.map((f) => f.file),
      diagnostics: diagnostics.map((d) => ({ file: d.file, line: d.span.row + 1, severity: d.severity, message: d.message })),
    },
    drivers,
    stats: {
      files: files.length,
      parsed,
      skipped,
      bytes,
      filesWithErrors: files.filter((f) => f.errorNodes > 0).length,
      errorNodes: files.reduce((a, f) => a + f.errorNodes, 0),
      sites: sites.length,
      byApi,
      headersRead,
      headerBytes,
      ms: Date.now() - t0,
    },
  };
}

/**
 * The workspace settings: defaults for every site, and per-device settings looked up by a
 * site's device name, expression or key (optionally "driver/..."). Problems become diagnostics.
 */
function sourceSettings(
  opts: PassOptions & Pick<SourceOptions, 'settingNames'>,
  diagnostics: SourceDiagnostic[],
): { settings: Hints; deviceSettingsFor: (driver: string) => ((s: Site, name: string | undefined) => Hints | undefined) | undefined } {
  const problem = (setting: string, message: string) =>
    diagnostics.push({ file: 'settings', span: WHOLE_FILE, severity: 'error', code: 'settings', message: `${setting}: ${message}` });
  const defaults = parseSettingsHints(opts.settings ?? '');
  const names = opts.settingNames ?? {
    defaults: 'swiotlbLens.source.defaults',
    device: (key: string) => `swiotlbLens.source.devices["${key}"]`,
  };
  for (const p of defaults.problems) problem(names.defaults, p.message);
  // device expressions are matched without their blanks ("& pdev->dev" is "&pdev->dev")
  const compact = (k: string) => k.replace(/\s+/g, '');
  const devices = new Map<string, Hints>();
  for (const [key, value] of Object.entries(opts.devices ?? {})) {
    const setting = names.device(key);
    const parsed = parseSettingsHints(typeof value === 'string' ? value : '');
    for (const p of parsed.problems) problem(setting, p.message);
    if (typeof value !== 'string') problem(setting, 'the value must be a string of key=value pairs');
    const machine = MACHINE_KEYS.filter((k) => parsed.hints[k] !== undefined);
    if (machine.length)
      problem(
        setting,
        `${machine.join(', ')} ${machine.length === 1 ? 'describes' : 'describe'} the machine, not a device: use ${names.defaults}`,
      );
    devices.set(compact(key), withoutMachineKeys(parsed.hints));
  }
  // A key also names every expression of its device: "&pdev->dev" applies to a call through
  // "&priv->pdev->dev" (one device key). Parsed on first use, when the C parser is loaded.
  let byDeviceKey: Map<string, Hints> | undefined;
  const deviceKeyed = () => {
    if (byDeviceKey) return byDeviceKey;
    byDeviceKey = new Map();
    for (const [key, hints] of devices) {
      const cut = key.lastIndexOf('/');
      const e = parseMacroExpression(key.slice(cut + 1));
      if (e) byDeviceKey.set(`${key.slice(0, cut + 1)}${compact(deviceKey(e, undefined, false))}`, hints);
    }
    return byDeviceKey;
  };
  const deviceSettingsFor = (driver: string) =>
    devices.size === 0
      ? undefined
      : (s: Site, name: string | undefined): Hints | undefined => {
          for (const k of [name, s.deviceExpr, s.deviceKey]) {
            if (!k) continue;
            const h = devices.get(`${driver}/${compact(k)}`) ?? devices.get(compact(k));
            if (h) return h;
          }
          if (!s.deviceKey) return undefined;
          const k = compact(s.deviceKey);
          return deviceKeyed().get(`${driver}/${k}`) ?? deviceKeyed().get(k);
        };
  return { settings: defaults.hints, deviceSettingsFor };
}

function emptySession(m: Machine, files: string[]): AnalysisSession {
  const events = new EventTable();
  return {
    kind: 'source',
    files,
    kernel: m.kernel.name,
    platform: m.platform.id,
    pool: null,
    events,
    summary: summarizeEvents(events),
    devices: [],
    diagnostics: [],
  };
}

/** Reads and parses one file; problems become diagnostics, never exceptions. */
function readOne(
  f: FileEntry,
  overlay: ReadonlyMap<string, string> | undefined,
  maxBytes: number,
  timeoutMs: number,
  again?: { readonly aliases: ReadonlyMap<string, string>; readonly watch: ReadonlySet<string> },
): { pf?: ParsedFile; diag?: SourceDiagnostic[] } {
  const d = (severity: SourceDiagnostic['severity'], code: string, message: string, span: Span = WHOLE_FILE) => ({
    diag: [{ file: f.display, span, severity, code, message }],
  });
  let text = overlay?.get(f.path);
  if (text === undefined) {
    let buf: Buffer;
    try {
      const st = statSync(f.path);
      if (st.size > maxBytes) {
        f.report = { ...f.report, bytes: st.size, skipped: 'too large' };
        return d(
          'warning',
          'skipped-file',
          `skipped: ${(st.size / 2 ** 20).toFixed(1)} MiB is above the ${(maxBytes / 2 ** 20).toFixed(0)} MiB limit for one file (generated code?)`,
        );
      }
      buf = readFileSync(f.path);
    } catch (e) {
      f.report = { ...f.report, skipped: 'unreadable' };
      return d('error', 'unreadable', `cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (isBinary(buf)) {
      f.report = { ...f.report, bytes: buf.length, skipped: 'binary' };
      return d('warning', 'not-c', 'skipped: a binary file, not C source');
    }
    // files that name no DMA API function cannot hold a call (their symbols load when included):
    // tested on the bytes, most files are never decoded
    if (!mentionsDmaApi(buf) && buf.indexOf('swiotlb') < 0 && !(again && [...again.watch].some((w) => buf.indexOf(w) >= 0))) {
      f.report = { ...f.report, bytes: buf.length, skipped: 'no DMA API names' };
      return {};
    }
    text = buf.toString('utf8');
  } else if (!mentionsDmaApi(text) && !text.includes('swiotlb') && !(again && [...again.watch].some((w) => (text as string).includes(w)))) {
    f.report = { ...f.report, bytes: Buffer.byteLength(text), skipped: 'no DMA API names' };
    return {};
  }
  try {
    const pf = lightFunctions(
      extractFile(f.display, text, { timeoutMs, lightBodies: true, ...(again ? { aliases: again.aliases, watch: again.watch } : {}) }),
    );
    const diag: SourceDiagnostic[] = [];
    if (pf.sitesBeyondLimit)
      diag.push({
        file: f.display,
        span: pf.sitesBeyondLimit.first,
        severity: 'warning',
        code: 'too-many-sites',
        message: `${MAX_SITES_PER_FILE + pf.sitesBeyondLimit.count} DMA API calls in one file: the first ${MAX_SITES_PER_FILE} are analysed, the ${pf.sitesBeyondLimit.count} from here on are not (generated code?)`,
      });
    if (pf.errorNodes > Math.max(20, pf.lines / 4))
      diag.push({
        file: f.display,
        span: WHOLE_FILE,
        severity: 'warning',
        code: 'not-c',
        message: `this does not look like C: ${pf.errorNodes} syntax errors in ${pf.lines} lines (sites are reported as far as they parse)`,
      });
    return { pf, diag };
  } catch (e) {
    if (e instanceof ParseTimeout) {
      f.report = { ...f.report, bytes: Buffer.byteLength(text), skipped: 'parse timeout' };
      return d('warning', 'parse-timeout', `skipped: ${e.message} (a huge or generated file?)`);
    }
    f.report = { ...f.report, skipped: 'internal error' };
    return d('error', 'internal', `could not analyse the file: ${(e as Error).message}`);
  }
}

/**
 * Syntax errors: kernel code is full of macros a parser without the preprocessor misreads
 * (list_for_each_entry(...) { }), so the first few regions are reported, with a count of the rest;
 * a DMA API name in code that does not parse is always reported.
 */
function parseDiagnostics(file: string, pf: ParsedFile): SourceDiagnostic[] {
  const out: SourceDiagnostic[] = [];
  let regions = 0;
  for (const p of pf.problems) {
    if (p.kind === 'incomplete-call') {
      out.push({ file, span: p.span, severity: 'warning', code: 'incomplete-call', message: p.message });
      continue;
    }
    if (++regions > 3) continue;
    const more = regions === 3 && pf.errorNodes > 3 ? ` (and ${pf.errorNodes - 3} more places in this file)` : '';
    out.push({ file, span: p.span, severity: 'info', code: 'parse-error', message: `${p.message}${more}` });
  }
  return out;
}

/**
 * Symbols a file sees beyond its own: its #include "..." headers (nested), then the driver's
 * other headers. Read on first need only: most sizes never ask.
 */
function lazyHeaders(f: FileEntry, group: readonly FileEntry[], headers: HeaderCache): () => FileSymbols[] {
  const pf = f.pf as ParsedFile;
  return () => {
    const out: FileSymbols[] = [];
    const seen = new Set<string>([f.path]);
    const queue: { path: string; depth: number }[] = pf.symbols.includes.map((inc) => ({ path: resolve(dirname(f.path), inc), depth: 1 }));
    while (queue.length) {
      const { path, depth } = queue.shift() as { path: string; depth: number };
      if (seen.has(path) || !path.endsWith('.h')) continue;
      seen.add(path);
      const s = headers.load(path);
      if (!s) continue;
      out.push(s);
      if (depth < 4) for (const inc of s.includes) queue.push({ path: resolve(dirname(path), inc), depth: depth + 1 });
    }
    for (const g of group) {
      if (seen.has(g.path) || !g.path.endsWith('.h')) continue;
      seen.add(g.path);
      const s = g.pf?.symbols ?? headers.load(g.path);
      if (s) out.push(s);
    }
    return out;
  };
}
