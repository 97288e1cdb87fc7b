/**
 * The front door: the only place that decides what inputs are and how they are analysed. Given
 * paths and options it tells every input apart by content (sniff.ts), expands capture folders and
 * archives, adds the companions of a lone file (the capture files beside a trace or a log, the
 * rest of a driver's folder beside a C file) and says which options apply to the kind found. The
 * CLI's `analyze` and every command of the extension route through here.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { readHead } from '../io/chunks';
import { expandText, HEAD_BYTES, type InputFile } from './expand';
import { type RouteKind, type Sniffed, sniff } from './sniff';

export type { InputFile, RouteKind };

/** What the user chose (the CLI's options, the extension's settings). */
export interface RouteOptions {
  /** Kernel profile, or a release (6.1.50): over what the input says. */
  readonly kernel?: string;
  /** Platform profile id. */
  readonly platform?: string;
  /** Kernel command line for the pool geometry when the input has none. */
  readonly cmdline?: string;
  /** Possible CPUs (the number of areas) when the input does not say. */
  readonly cpus?: number;
  /** Scenarios on Xen: also run dma-direct with the Xen hooks and compare. */
  readonly compare?: boolean;
  /** Scenarios and driver source: CONFIG_SWIOTLB_DYNAMIC on (6.6+ kernels). */
  readonly dynamic?: boolean;
  /** Scenarios: most DMA API calls the workload may expand to (DEFAULT_MAX_SCENARIO_CALLS). */
  readonly maxCalls?: number;
  /** Driver source: defaults in the annotation grammar. */
  readonly sourceDefaults?: string;
  /** Driver source: settings per device key. */
  readonly sourceDevices?: Readonly<Record<string, string>>;
  /**
   * The kind a command asked for ("Replay Ops File...", "Analyze Scenario"): taken when the
   * content does not say otherwise (a damaged file then gets its own reader's precise error),
   * refused when it plainly is something else.
   */
  readonly expect?: RouteKind;
}

/** The options each kind takes (the rest are reported as ignored). */
const OPTIONS_OF = {
  text: ['kernel', 'platform', 'cmdline', 'cpus'],
  replay: ['kernel', 'dynamic'],
  scenario: ['kernel', 'platform', 'compare', 'dynamic', 'maxCalls'],
  source: ['kernel', 'platform', 'cmdline', 'cpus', 'dynamic', 'sourceDefaults', 'sourceDevices'],
} as const satisfies Record<RouteKind, readonly (keyof RouteOptions)[]>;

type Options<K extends RouteKind> = Pick<RouteOptions, (typeof OPTIONS_OF)[K][number]>;

/** What to run, on which files, with which options. */
export type Route = { readonly reasons: readonly string[]; readonly ignored: readonly (keyof RouteOptions)[] } & (
  | {
      readonly kind: 'text';
      /** The paths given, then the companions added. */
      readonly files: readonly string[];
      /** Every file read, with its role. */
      readonly inputs: readonly InputFile[];
      readonly options: Options<'text'>;
    }
  | { readonly kind: 'replay'; readonly files: readonly [string]; readonly options: Options<'replay'> }
  | {
      readonly kind: 'scenario';
      readonly files: readonly [string];
      readonly options: Options<'scenario'>;
    }
  | {
      readonly kind: 'source';
      readonly files: readonly string[];
      /** Files read for devices, pairs and symbols whose own sites are not reported: the rest of a lone C file's driver. */
      readonly context: readonly string[];
      readonly options: Options<'source'>;
    }
);

/** Inputs the router cannot run as given (kinds mixed, several files where one is read, ...). */
export class RouteError extends Error {}

const KIND_NAMES: Record<RouteKind, string> = {
  text: 'a trace or kernel log',
  replay: 'replay ops',
  scenario: 'a scenario',
  source: 'driver source',
};

/** Files the capture script writes next to its trace: read together with a lone trace or log. */
export const COMPANIONS = [
  'cmdline.txt',
  'version.txt',
  'capture.json',
  'dmesg.txt',
  'dmesg.txt.gz',
  'devices.txt',
  'debugfs.txt',
  'kprobe_profile.txt',
  'ring_stats.txt',
];

/** Names that make a folder a capture (else a folder is driver source). */
const CAPTURE_MARKERS = ['trace.txt', 'trace.txt.gz', 'dmesg.txt', 'dmesg.txt.gz', 'capture.json'];

/** Most files of a driver's folder read beside a lone C file. */
const MAX_CONTEXT = 400;

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** What one path holds. */
async function sniffPath(p: string): Promise<Sniffed & { dir: boolean }> {
  if ((await stat(p)).isDirectory()) {
    for (const name of CAPTURE_MARKERS) {
      if (await exists(path.join(p, name))) return { kind: 'text', reason: `a capture folder (it has ${name})`, dir: true };
    }
    return { kind: 'source', reason: 'a folder of driver source', dir: true };
  }
  const { head } = await readHead(p, HEAD_BYTES);
  const s = sniff({ name: p, bytes: head, whole: head.length < HEAD_BYTES });
  return { ...s, ...(s.kind === 'capture-archive' ? { kind: 'text' as const, reason: 'a capture archive (tar)' } : {}), dir: false };
}

/** The capture files beside a lone trace or log. */
async function captureCompanions(file: string): Promise<string[]> {
  const dir = path.dirname(file);
  const out: string[] = [];
  for (const name of COMPANIONS) {
    const p = path.join(dir, name);
    if (p !== file && (await exists(p))) out.push(p);
  }
  return out;
}

/** The other C files of a lone C file's folder (its driver). */
export async function driverContext(file: string): Promise<string[]> {
  const dir = path.dirname(file);
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  } catch {
    return [];
  }
  return names
    .filter((n) => /\.(c|h)$/i.test(n) && path.join(dir, n) !== file)
    .sort()
    .slice(0, MAX_CONTEXT)
    .map((n) => path.join(dir, n));
}

function pick<K extends keyof RouteOptions>(opts: RouteOptions, keys: readonly K[]): Pick<RouteOptions, K> {
  const out: Partial<RouteOptions> = {};
  for (const k of keys) if (opts[k] !== undefined) (out as Record<string, unknown>)[k] = opts[k];
  return out as Pick<RouteOptions, K>;
}

/** Routes paths: what they hold, the files to read, the options that apply. */
export async function routeInputs(paths: readonly string[], opts: RouteOptions = {}): Promise<Route> {
  if (paths.length === 0) throw new RouteError('nothing to analyse: give a file or a folder');
  const found = await Promise.all(paths.map(async (p) => ({ path: p, ...(await sniffPath(p)) })));
  const first = found[0] as (typeof found)[number];
  const other = found.find((f) => f.kind !== first.kind);
  if (other) {
    throw new RouteError(`analyse inputs of one kind at a time: ${first.path} is ${first.reason}, ${other.path} is ${other.reason}`);
  }
  let kind: RouteKind = first.kind === 'capture-archive' ? 'text' : first.kind;
  if (opts.expect && opts.expect !== kind) {
    // a command's kind wins over a guess only
    const plain = found.find((f) => !f.guess);
    if (plain) throw new RouteError(`${plain.path} is not ${KIND_NAMES[opts.expect]}: it is ${plain.reason}`);
    kind = opts.expect;
  }
  const reasons = found.map((f) => `${f.path}: ${opts.expect === kind && f.guess ? KIND_NAMES[kind] : f.reason}`);
  const given = (Object.keys(opts) as (keyof RouteOptions)[]).filter((k) => k !== 'expect' && opts[k] !== undefined);
  const ignored = given.filter((k) => !(OPTIONS_OF[kind] as readonly (keyof RouteOptions)[]).includes(k));
  const lone = paths.length === 1 && !first.dir ? (paths[0] as string) : undefined;
  switch (kind) {
    case 'text': {
      const files = [...paths, ...(lone && first.kind !== 'capture-archive' ? await captureCompanions(lone) : [])];
      return {
        kind,
        files,
        inputs: await expandText(files),
        options: pick(opts, OPTIONS_OF.text),
        reasons,
        ignored,
      };
    }
    case 'replay':
    case 'scenario': {
      if (paths.length !== 1) throw new RouteError(`${KIND_NAMES[kind]} is analysed one file at a time`);
      const files = [paths[0] as string] as const;
      return kind === 'replay'
        ? { kind, files, options: pick(opts, OPTIONS_OF.replay), reasons, ignored }
        : { kind, files, options: pick(opts, OPTIONS_OF.scenario), reasons, ignored };
    }
    default:
      return {
        kind: 'source',
        files: [...paths],
        context: lone ? await driverContext(lone) : [],
        options: pick(opts, OPTIONS_OF.source),
        reasons,
        ignored,
      };
  }
}
