/**
 * xen-swiotlb and dma-direct with the Xen hooks, call by call, for the compare view: every
 * compared call of both lanes kept in columns (a long workload stays a few bytes a call), with
 * where the two differ and why, and pages of rows for a virtualised table (all calls, or the
 * divergences only).
 */
import type { Decision, DecisionResult } from '../model/dma/decision';
import { hexAddr } from '../model/hex';
import { reasonCodes } from '../model/reasons';
import { CAUSE_TEXT, type Comparison, type DivergenceCause } from '../scenario/compare';
import { grown } from './typedArrays';

const RESULTS: readonly DecisionResult[] = ['direct', 'bounced', 'failed', 'hang', 'done'];
/** What two decisions can differ in (compare.ts's differences()), one bit each. */
export const COMPARE_FIELDS = ['call', 'result', 'reasons', 'dma', 'slot', 'copied', 'messages'] as const;
const CAUSES = Object.keys(CAUSE_TEXT) as DivergenceCause[];
const NONE = 255;

/** One lane's side of a row, as the table prints it. */
export interface CompareSideView {
  readonly result: DecisionResult;
  /** Reason codes (force, xen-straddle, pool-full, ...), comma-separated; "" for none. */
  readonly reasons: string;
  /** The DMA address returned, "" when none. */
  readonly dma: string;
  /** First slot and slot count ("276+10"), "" when the call has no bounce buffer. */
  readonly slot: string;
  /** The first message the kernel prints for the call, "" when none. */
  readonly message: string;
}

export interface CompareRowView {
  /** Position among all compared calls (0-based). */
  readonly index: number;
  /** The scenario line of the call (its workload step). */
  readonly line: number;
  readonly call: string;
  readonly device: string;
  /** null: this lane made no such call. */
  readonly kernel: CompareSideView | null;
  readonly unified: CompareSideView | null;
  /** Where the two differ (COMPARE_FIELDS); empty when they agree. */
  readonly fields: readonly string[];
  readonly cause: DivergenceCause | null;
}

/** What the compare view shows above its table. */
export interface CompareInfo {
  /** Increases with every comparison: replies for an older one are dropped. */
  readonly id: number;
  readonly title: string;
  readonly file: string;
  readonly platform: string;
  readonly kernel: string;
  /** Workload calls, and the decisions compared (a scatterlist call makes several). */
  readonly calls: number;
  readonly compared: number;
  readonly agree: number;
  readonly divergent: number;
  readonly byCause: Readonly<Partial<Record<DivergenceCause, number>>>;
  readonly causeText: Readonly<Record<DivergenceCause, string>>;
  readonly verdict: string;
}

/** Every compared call of a comparison, in columns. */
export class CompareRows {
  length = 0;
  private cap = 0;
  private line = new Int32Array(0);
  private name = new Int32Array(0);
  private device = new Int32Array(0);
  private diff = new Uint8Array(0);
  private cause = new Uint8Array(0);
  // per lane: 0 the kernel's xen-swiotlb, 1 dma-direct with the hooks
  private result = [new Uint8Array(0), new Uint8Array(0)];
  private reasons = [new Int32Array(0), new Int32Array(0)];
  private dma = [new Float64Array(0), new Float64Array(0)];
  private slot = [new Int32Array(0), new Int32Array(0)];
  private nslots = [new Int32Array(0), new Int32Array(0)];
  /** The first message of each lane, for the few calls that print one. */
  private readonly messages = new Map<number, [string, string]>();
  private readonly names: string[] = [];
  private readonly nameIds = new Map<string, number>();

  private id(s: string): number {
    let i = this.nameIds.get(s);
    if (i === undefined) {
      i = this.names.length;
      this.names.push(s);
      this.nameIds.set(s, i);
    }
    return i;
  }

  private grow(): void {
    const cap = Math.max(1024, this.cap * 2);
    const g = <T extends Parameters<typeof grown>[0]>(a: T): T => grown(a, cap);
    this.line = g(this.line);
    this.name = g(this.name);
    this.device = g(this.device);
    this.diff = g(this.diff);
    this.cause = g(this.cause);
    this.result = this.result.map(g);
    this.reasons = this.reasons.map(g);
    this.dma = this.dma.map(g);
    this.slot = this.slot.map(g);
    this.nslots = this.nslots.map(g);
    this.cap = cap;
  }

  /** One compared call: both lanes' decisions (undefined: the lane made none), where they differ, why. */
  add(line: number, k: Decision | undefined, u: Decision | undefined, fields: readonly string[], cause: DivergenceCause | null): void {
    if (this.length === this.cap) this.grow();
    const i = this.length++;
    const d = (k ?? u) as Decision;
    this.line[i] = line;
    this.name[i] = this.id(d.call);
    this.device[i] = this.id(d.device);
    let bits = 0;
    for (const f of fields) bits |= 1 << COMPARE_FIELDS.indexOf(f as (typeof COMPARE_FIELDS)[number]);
    this.diff[i] = bits;
    this.cause[i] = cause === null ? NONE : CAUSES.indexOf(cause);
    [k, u].forEach((x, lane) => {
      (this.result[lane] as Uint8Array)[i] = x ? RESULTS.indexOf(x.result) : NONE;
      (this.reasons[lane] as Int32Array)[i] = x?.reasons ?? 0;
      (this.dma[lane] as Float64Array)[i] = x?.dma ?? Number.NaN;
      (this.slot[lane] as Int32Array)[i] = x?.slot ?? -1;
      (this.nslots[lane] as Int32Array)[i] = x?.nslots ?? 0;
    });
    if (k?.messages.length || u?.messages.length) this.messages.set(i, [k?.messages[0] ?? '', u?.messages[0] ?? '']);
  }

  divergent(i: number): boolean {
    return this.diff[i] !== 0;
  }

  private side(i: number, lane: 0 | 1): CompareSideView | null {
    const r = (this.result[lane] as Uint8Array)[i] as number;
    if (r === NONE) return null;
    const dma = (this.dma[lane] as Float64Array)[i] as number;
    const slot = (this.slot[lane] as Int32Array)[i] as number;
    return {
      result: RESULTS[r] as DecisionResult,
      reasons: reasonCodes((this.reasons[lane] as Int32Array)[i] as number).join(', '),
      dma: Number.isNaN(dma) ? '' : hexAddr(dma),
      slot: slot < 0 ? '' : `${slot}+${(this.nslots[lane] as Int32Array)[i]}`,
      message: this.messages.get(i)?.[lane] ?? '',
    };
  }

  row(i: number): CompareRowView {
    const bits = this.diff[i] as number;
    const c = this.cause[i] as number;
    return {
      index: i,
      line: this.line[i] as number,
      call: this.names[this.name[i] as number] as string,
      device: this.names[this.device[i] as number] as string,
      kernel: this.side(i, 0),
      unified: this.side(i, 1),
      fields: COMPARE_FIELDS.filter((_, b) => bits & (1 << b)),
      cause: c === NONE ? null : (CAUSES[c] as DivergenceCause),
    };
  }
}

let nextCompareId = 1;

/** A comparison as the compare view asks for it: counts, and pages of all rows or of the divergent ones. */
export class CompareModel {
  readonly info: CompareInfo;
  /** Row index of each divergence, in order. */
  private readonly divergentRows: Int32Array;

  constructor(
    readonly rows: CompareRows,
    comparison: Comparison,
    meta: { readonly title: string; readonly file: string; readonly kernel: string },
  ) {
    let n = 0;
    for (let i = 0; i < rows.length; i++) if (rows.divergent(i)) n++;
    this.divergentRows = new Int32Array(n);
    for (let i = 0, k = 0; i < rows.length; i++) if (rows.divergent(i)) this.divergentRows[k++] = i;
    this.info = {
      id: nextCompareId++,
      title: meta.title,
      file: meta.file,
      platform: comparison.platform,
      kernel: meta.kernel,
      calls: comparison.calls,
      compared: comparison.compared,
      agree: comparison.agree,
      divergent: n,
      byCause: comparison.byCause,
      causeText: CAUSE_TEXT,
      verdict: comparison.verdict,
    };
  }

  total(divergentOnly: boolean): number {
    return divergentOnly ? this.divergentRows.length : this.rows.length;
  }

  /** Rows [start, start+count) of all calls, or of the divergent ones. */
  page(divergentOnly: boolean, start: number, count: number): CompareRowView[] {
    const end = Math.min(this.total(divergentOnly), start + count);
    const out: CompareRowView[] = [];
    for (let p = start; p < end; p++) out.push(this.rows.row(divergentOnly ? (this.divergentRows[p] as number) : p));
    return out;
  }

  /** The scenario line of a row (for "reveal"), or undefined when there is no such row. */
  lineOf(index: number): number | undefined {
    return index >= 0 && index < this.rows.length ? this.rows.row(index).line : undefined;
  }
}
