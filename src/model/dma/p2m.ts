/**
 * Xen's pseudo-physical -> machine frame table of a PV domain (the P2M) and its inverse (M2P),
 * as runs of frames (machine frames ascending, or descending as ballooning leaves them); the machine layout of a Xen swiotlb pool, one machine-contiguous
 * extent per 128-slot segment (xen_swiotlb_fixup). Xen pages are always 4 KiB.
 */
import { IO_TLB_SEGSIZE, IO_TLB_SIZE } from '../constants';

export const XEN_PAGE_SHIFT = 12;
export const XEN_PAGE_SIZE = 4096;

/**
 * `count` frames from `pfn`. Ascending (the default): frame pfn+i is machine frame mfn+i.
 * Descending: frame pfn+i is machine frame mfn-i, what ballooning out and back in leaves (every
 * page its own machine frame, none contiguous with the next), kept as one run, not one per page.
 */
export interface P2mRun {
  readonly pfn: number;
  readonly mfn: number;
  readonly count: number;
  readonly descending?: boolean;
}

export class P2mError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** Where a buffer stops being machine-contiguous (range_straddles_page_boundary). */
export interface Straddle {
  /** The first pseudo-physical frame whose machine frame breaks the run. */
  readonly pfn: number;
  readonly mfn: number | undefined;
  readonly expectedMfn: number;
}

export class P2mTable {
  private readonly pfnStart: Float64Array;
  private readonly mfnStart: Float64Array;
  private readonly count: Float64Array;
  /** 1 where the run's machine frames descend. */
  private readonly desc: Uint8Array;
  /** Runs ordered by their lowest machine frame, for the M2P direction. */
  private readonly byMfn: Int32Array;

  constructor(runs: readonly P2mRun[]) {
    const sorted = runs.filter((r) => r.count > 0).sort((a, b) => a.pfn - b.pfn);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1] as P2mRun;
      if ((sorted[i] as P2mRun).pfn < prev.pfn + prev.count)
        throw new RangeError(`P2M runs overlap at pfn 0x${(sorted[i] as P2mRun).pfn.toString(16)}`);
    }
    for (const r of sorted)
      if (r.descending && r.mfn < r.count - 1)
        throw new RangeError(`a descending P2M run at pfn 0x${r.pfn.toString(16)} goes below machine frame 0`);
    this.pfnStart = Float64Array.from(sorted, (r) => r.pfn);
    this.mfnStart = Float64Array.from(sorted, (r) => r.mfn);
    this.count = Float64Array.from(sorted, (r) => r.count);
    // a one-frame run is both: keep it ascending, so "descending" always means "breaks at the next frame"
    this.desc = Uint8Array.from(sorted, (r) => (r.descending && r.count > 1 ? 1 : 0));
    const low = Float64Array.from(sorted, (_, i) => this.lowMfn(i));
    this.byMfn = Int32Array.from(sorted.map((_, i) => i).sort((a, b) => (low[a] as number) - (low[b] as number)));
  }

  get runs(): number {
    return this.pfnStart.length;
  }

  /** The lowest machine frame of run `r`. */
  private lowMfn(r: number): number {
    const m = this.mfnStart[r] as number;
    return this.desc[r] ? m - (this.count[r] as number) + 1 : m;
  }

  /** Machine frame of `pfn`, which run `r` holds. */
  private mfnAt(r: number, pfn: number): number {
    const off = pfn - (this.pfnStart[r] as number);
    return this.desc[r] ? (this.mfnStart[r] as number) - off : (this.mfnStart[r] as number) + off;
  }

  /** Index of the run holding `pfn`, or -1. */
  private runOf(pfn: number): number {
    let lo = 0;
    let hi = this.pfnStart.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.pfnStart[mid] as number;
      if (pfn < s) hi = mid - 1;
      else if (pfn >= s + (this.count[mid] as number)) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  /** pfn_to_mfn(); undefined for a frame the domain does not own (INVALID_P2M_ENTRY). */
  pfnToMfn(pfn: number): number | undefined {
    const r = this.runOf(pfn);
    return r < 0 ? undefined : this.mfnAt(r, pfn);
  }

  /** bfn_to_local_pfn(): M2P verified against the P2M; undefined when the frame is not ours. */
  mfnToPfn(mfn: number): number | undefined {
    const by = this.byMfn;
    let lo = 0;
    let hi = by.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = by[mid] as number;
      const s = this.lowMfn(r);
      if (mfn < s) hi = mid - 1;
      else if (mfn >= s + (this.count[r] as number)) lo = mid + 1;
      else {
        const p = this.pfnStart[r] as number;
        return this.desc[r] ? p + ((this.mfnStart[r] as number) - mfn) : p + (mfn - s);
      }
    }
    return undefined;
  }

  /** xen_phys_to_bus(): machine address of a pseudo-physical address, or undefined. */
  physToMachine(phys: number): number | undefined {
    const mfn = this.pfnToMfn(Math.floor(phys / XEN_PAGE_SIZE));
    return mfn === undefined ? undefined : mfn * XEN_PAGE_SIZE + (phys % XEN_PAGE_SIZE);
  }

  machineToPhys(machine: number): number | undefined {
    const pfn = this.mfnToPfn(Math.floor(machine / XEN_PAGE_SIZE));
    return pfn === undefined ? undefined : pfn * XEN_PAGE_SIZE + (machine % XEN_PAGE_SIZE);
  }

  /**
   * range_straddles_page_boundary(): is [phys, phys+size) machine-contiguous? Returns where it
   * is not, or null. Only the frames after the first are compared, as the kernel does; the cost
   * is per run the buffer spans, not per page.
   */
  straddle(phys: number, size: number): Straddle | null {
    const first = Math.floor(phys / XEN_PAGE_SIZE);
    const nr = Math.ceil(((phys % XEN_PAGE_SIZE) + size) / XEN_PAGE_SIZE);
    const base = this.pfnToMfn(first);
    // a frame that is not ours maps to INVALID_P2M_ENTRY: compare like the kernel does (never equal)
    let k = 1;
    while (k < nr) {
      const pfn = first + k;
      const r = this.runOf(pfn);
      const mfn = r < 0 ? undefined : this.mfnAt(r, pfn);
      if (base === undefined || mfn !== base + k) return { pfn, mfn, expectedMfn: (base ?? Number.NaN) + k };
      // the rest of an ascending run continues the machine run; a descending one breaks at its next frame
      k = this.desc[r] ? k + 1 : (this.pfnStart[r] as number) + (this.count[r] as number) - first;
    }
    return null;
  }

  /** A copy in which `pfn`.. maps to the given machine frames (the pool's exchanged extents). */
  withRuns(extra: readonly P2mRun[]): P2mTable {
    // one sweep over both, by pfn: the domain's runs cut around the pool's, a run per segment
    const ex = extra.filter((e) => e.count > 0).sort((a, b) => a.pfn - b.pfn);
    const cut: P2mRun[] = [];
    const piece = (i: number, at: number, end: number) =>
      cut.push({ pfn: at, mfn: this.mfnAt(i, at), count: end - at, ...(this.desc[i] ? { descending: true } : {}) });
    let k = 0;
    for (let i = 0; i < this.pfnStart.length; i++) {
      const pfn = this.pfnStart[i] as number;
      const pe = pfn + (this.count[i] as number);
      while (k < ex.length && (ex[k] as P2mRun).pfn + (ex[k] as P2mRun).count <= pfn) k++;
      let at = pfn;
      for (let j = k; j < ex.length && (ex[j] as P2mRun).pfn < pe; j++) {
        const e = ex[j] as P2mRun;
        if (e.pfn > at) piece(i, at, e.pfn);
        at = Math.max(at, e.pfn + e.count);
      }
      if (at < pe) piece(i, at, pe);
    }
    return new P2mTable([...cut, ...extra]);
  }

  /**
   * Parses a P2M dump: one run per line, "pfn mfn count [flags]" in hex/hex/decimal; '#' lines are
   * comments. Runs flagged "identity" map a frame to itself.
   */
  static parse(text: string): P2mTable {
    const runs: P2mRun[] = [];
    let lineNo = 0;
    for (const raw of text.split('\n')) {
      lineNo++;
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const f = line.split(/\s+/);
      if (
        f.length < 3 ||
        !/^(0x)?[0-9a-f]+$/i.test(f[0] as string) ||
        !/^(0x)?[0-9a-f]+$/i.test(f[1] as string) ||
        !/^\d+$/.test(f[2] as string)
      ) {
        throw new P2mError(lineNo, `expected "pfn mfn count [flags]", got "${line.slice(0, 80)}"`);
      }
      const pfn = Number.parseInt(f[0] as string, 16);
      const mfn = Number.parseInt(f[1] as string, 16);
      runs.push({ pfn, mfn, count: Number(f[2]) });
    }
    return new P2mTable(runs);
  }
}

/**
 * Machine bases of the pool's segments as Xen hands them out to xen_swiotlb_fixup: from the
 * lowest free machine memory (here from `startAt`), in power-of-two blocks [2^k, 2^(k+1)) each
 * filled from the top down. This is the layout seen in every real PV dom0 run (1 MiB and up:
 * 0x1c0000, 0x180000, 0x140000, 0x100000, 0x3c0000, ...).
 */
export function xenLowBuddySegments(nsegs: number, startAt = 1 << 20): number[] {
  const seg = IO_TLB_SEGSIZE * IO_TLB_SIZE;
  const out: number[] = [];
  let blockStart = startAt;
  while (out.length < nsegs) {
    const blockEnd = blockStart * 2;
    for (let top = blockEnd - seg; top >= blockStart && out.length < nsegs; top -= seg) out.push(top);
    blockStart = blockEnd;
  }
  return out;
}

/** The P2M runs of a pool at pseudo-physical `start` whose segments sit at `machineBases`. */
export function poolRuns(start: number, machineBases: readonly number[]): P2mRun[] {
  const framesPerSeg = (IO_TLB_SEGSIZE * IO_TLB_SIZE) / XEN_PAGE_SIZE;
  return machineBases.map((m, i) => ({
    pfn: start / XEN_PAGE_SIZE + i * framesPerSeg,
    mfn: m / XEN_PAGE_SIZE,
    count: framesPerSeg,
  }));
}
