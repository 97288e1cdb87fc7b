/**
 * Which pool the traced kernel had: slots, areas, start, and the kernel profile, from the
 * strongest source available, each with the source named so the report can say where it came
 * from. Options beat the input; among inputs the kernel's own lines beat what is derived.
 */
import { IO_TLB_DEFAULT_SIZE, IO_TLB_SHIFT } from '../model/constants';
import { type KernelProfile, resolveProfileWithNote } from '../model/profiles';
import { type BootConfig, type BootPool, bootPool, CmdlineError, MAX_MODEL_NSLABS, MAX_POSSIBLE_CPUS } from '../model/setup';

export interface GeometryOptions {
  readonly cmdline?: string;
  readonly cpus?: number;
  readonly kernel?: string;
}

/** What the inputs said, each with where it was seen. */
export interface GeometryFacts {
  mappedBase?: number;
  mappedNslabs?: number;
  mappedAt?: string;
  areaNum?: number;
  areaNumAt?: string;
  adjustedSlabs?: number;
  adjustedAt?: string;
  /** "total N (slots)" of a "buffer is full" message. */
  fullTotal?: number;
  fullTotalAt?: string;
  cmdline?: string;
  cmdlineAt?: string;
  possibleCpus?: number;
  possibleCpusAt?: string;
  release?: string;
  releaseAt?: string;
  /** #P:N of an ftrace header, cpus=N of trace-cmd. */
  traceCpus?: number;
  traceCpusAt?: string;
  /** pool= of a map_entry probe. */
  eventBase?: number;
  eventBaseAt?: string;
  /** A pool start inferred from the first bounce addresses (poolStart.ts): how sure, and why. */
  inferredBase?: number;
  inferredBaseAt?: string;
  inferredBaseCertainty?: 'sure' | 'likely' | 'guess';
  /** The pool size those bounces imply when no input said it. */
  inferredNslabs?: number;
  inferredNslabsAt?: string;
  /** Highest CPU number seen on an event so far. */
  maxCpuSeen?: number;
  /** dma:* events seen (a 6.12+ kernel), and the first one's file:line. */
  dmaEvents?: boolean;
  dmaEventsAt?: string;
  memEncrypt?: boolean;
}

export interface Geometry {
  readonly profile: KernelProfile;
  readonly profileSource: string;
  readonly profileNote?: string;
  /** Start of slot 0, or null when no input says it. */
  readonly base: number | null;
  readonly nslabs: number;
  readonly nareas: number;
  readonly possibleCpus: number | null;
  readonly cmdline: string | null;
  readonly forced: boolean | null;
  readonly sources: { readonly base: string; readonly nslabs: string; readonly nareas: string; readonly cpus: string };
}

export function resolveTraceProfile(
  opts: GeometryOptions,
  facts: GeometryFacts,
): { profile: KernelProfile; source: string; note?: string } {
  if (opts.kernel) {
    const r = resolveProfileWithNote(opts.kernel);
    return { profile: r.profile, source: '--kernel', ...(r.note ? { note: r.note } : {}) };
  }
  let uncovered = '';
  if (facts.release) {
    try {
      const r = resolveProfileWithNote(facts.release);
      return { profile: r.profile, source: `kernel ${facts.release} (${facts.releaseAt})`, ...(r.note ? { note: r.note } : {}) };
    } catch {
      // a release no profile covers: fall through to what the events say, and say so
      uncovered = `no profile models kernel ${facts.release} (${facts.releaseAt})`;
    }
  }
  if (facts.dmaEvents) {
    const r = resolveProfileWithNote('mainline');
    const at = facts.dmaEventsAt ? `, ${facts.dmaEventsAt}` : '';
    return { profile: r.profile, source: `dma:* events (a 6.12 or later kernel${at})${uncovered ? `; ${uncovered}` : ''}` };
  }
  return {
    profile: resolveProfileWithNote('6.1').profile,
    source: uncovered ? `default: ${uncovered}` : 'default (no kernel version in the input)',
  };
}

/** A slot count the model can set up: a log line claiming more (or a negative size) is not used. */
function modelled(n: number | undefined): n is number {
  return n !== undefined && Number.isSafeInteger(n) && n >= 1 && n <= MAX_MODEL_NSLABS;
}

export function resolveGeometry(opts: GeometryOptions, facts: GeometryFacts): Geometry {
  const { profile, source: profileSource, note } = resolveTraceProfile(opts, facts);
  let cpus: number | null = null;
  let cpusSource = 'unknown';
  if (opts.cpus !== undefined) {
    cpus = opts.cpus;
    cpusSource = '--cpus';
  } else if (facts.possibleCpus !== undefined) {
    cpus = facts.possibleCpus;
    cpusSource = facts.possibleCpusAt ?? 'log';
  } else if (facts.traceCpus !== undefined) {
    cpus = facts.traceCpus;
    cpusSource = facts.traceCpusAt ?? 'trace header';
  } else if (facts.maxCpuSeen !== undefined) {
    cpus = facts.maxCpuSeen + 1;
    cpusSource = 'CPUs seen in the trace';
  }
  let cmdline = opts.cmdline ?? facts.cmdline ?? null;
  const cmdlineSource = opts.cmdline !== undefined ? '--cmdline' : (facts.cmdlineAt ?? 'command line');
  // a command line or CPU count read from the input that no kernel could boot with (its sizes
  // overflow, beyond the model's pool) is set aside and said; the options' own are errors
  let refused: string | undefined;
  const boots = (cfg: BootConfig): BootPool => {
    try {
      return bootPool(profile, cfg);
    } catch (e) {
      if (!(e instanceof CmdlineError) || opts.cmdline !== undefined || opts.cpus !== undefined) throw e;
      refused ??= `${e.message} (${cmdlineSource}): set aside`;
      cmdline = null;
      cpus = cpus === null ? null : Math.min(cpus, MAX_POSSIBLE_CPUS);
      return bootPool(profile, { ...cfg, cmdline: cfg.cmdline?.endsWith('swiotlb=force') ? 'swiotlb=force' : '', possibleCpus: cpus ?? 1 });
    }
  };
  // the trace shows a pool even where the command line alone would not create one (memory
  // above 4 GiB, encryption): size it as the kernel would size a pool it does create
  const asGiven = boots({ cmdline: cmdline ?? '', possibleCpus: cpus ?? 1 });
  let boot = asGiven;
  if (!boot.created && !boot.noforce) boot = boots({ cmdline: `${cmdline ?? ''} swiotlb=force`, possibleCpus: cpus ?? 1 });
  const bootSlabs = boot.created ? boot.nslabs : IO_TLB_DEFAULT_SIZE >> IO_TLB_SHIFT;

  let nslabs: number;
  let nslabsSource: string;
  if (opts.cmdline !== undefined) {
    nslabs = bootSlabs;
    nslabsSource = '--cmdline';
  } else if (modelled(facts.mappedNslabs)) {
    nslabs = facts.mappedNslabs;
    nslabsSource = facts.mappedAt ?? 'log';
  } else if (modelled(facts.adjustedSlabs)) {
    nslabs = facts.adjustedSlabs;
    nslabsSource = facts.adjustedAt ?? 'log';
  } else if (modelled(facts.fullTotal)) {
    nslabs = facts.fullTotal;
    nslabsSource = facts.fullTotalAt ?? 'log';
  } else if (cmdline !== null && /(?:^|\s)swiotlb=\d/.test(cmdline)) {
    nslabs = bootSlabs;
    nslabsSource = cmdlineSource;
  } else if (modelled(facts.inferredNslabs)) {
    nslabs = facts.inferredNslabs;
    nslabsSource = facts.inferredNslabsAt ?? 'bounce addresses';
  } else {
    nslabs = bootSlabs;
    nslabsSource = boot.created
      ? `default size for this kernel (${cmdline === null ? 'no command line in the input' : 'command line without swiotlb=<slabs>'})`
      : 'default (64 MiB)';
  }

  let nareas: number;
  let nareasSource: string;
  if (!profile.perCpuAreas) {
    nareas = 1;
    nareasSource = `${profile.name} has one global area`;
  } else if (opts.cpus !== undefined || (opts.cmdline !== undefined && /(?:^|\s)swiotlb=\d*,\d/.test(opts.cmdline))) {
    nareas = boot.created ? boot.nareas : 1;
    nareasSource = opts.cpus !== undefined ? '--cpus' : '--cmdline';
  } else if (facts.areaNum !== undefined && Number.isSafeInteger(facts.areaNum) && facts.areaNum >= 1) {
    nareas = facts.areaNum;
    nareasSource = facts.areaNumAt ?? 'log';
  } else if (cpus !== null || (cmdline !== null && /(?:^|\s)swiotlb=\d*,\d/.test(cmdline))) {
    nareas = boot.created ? boot.nareas : 1;
    nareasSource = `${cpus ?? 1} CPUs (${cpusSource})`;
  } else {
    nareas = 1;
    nareasSource = 'default (CPU count unknown)';
  }
  // an area needs at least one slot; a log's "area num" for another pool size could break that
  while (nareas > 1 && Math.floor(nslabs / nareas) < 1) nareas /= 2;

  if (refused) nslabsSource += `; ${refused}`;
  let base: number | null = null;
  let baseSource = 'unknown';
  if (facts.mappedBase !== undefined && modelled(facts.mappedNslabs) && facts.mappedBase >= 0) {
    base = facts.mappedBase;
    baseSource = facts.mappedAt ?? 'log';
  } else if (facts.eventBase !== undefined) {
    base = facts.eventBase;
    baseSource = facts.eventBaseAt ?? 'pool base in events';
  } else if (facts.inferredBase !== undefined) {
    base = facts.inferredBase;
    baseSource = facts.inferredBaseAt ?? 'bounce addresses';
  }
  return {
    profile,
    profileSource,
    ...(note ? { profileNote: note } : {}),
    base,
    nslabs,
    nareas,
    possibleCpus: cpus,
    cmdline,
    forced: cmdline === null ? (facts.memEncrypt ? true : null) : asGiven.forceBounce || !!facts.memEncrypt,
    sources: { base: baseSource, nslabs: nslabsSource, nareas: nareasSource, cpus: cpusSource },
  };
}
