/**
 * What any analysis hands to the views: the pool, the event table, a summary and diagnostics.
 * Produced by every input (replay ops, traces, logs, scenarios, driver source); read by the
 * panel, the side view, the editor decorations and the CLI.
 */
import { REASON_INFO, Reason } from '../model/reasons';
import { EventKind, Outcome } from './codes';
import type { EventTable } from './eventTable';

export type InputKind = 'replay' | 'trace' | 'log' | 'trace+log' | 'scenario' | 'source';

export interface PoolInfo {
  /** Physical (pseudo-physical under Xen PV) start of slot 0. */
  readonly start: number;
  readonly nslabs: number;
  readonly nareas: number;
  readonly areaNslabs: number;
  /** Where the geometry came from ("header", "dmesg", "--cmdline", "default", ...). */
  readonly source: string;
}

export interface Diagnostic {
  readonly file: string;
  /** 1-based; 0 when the whole input is meant. */
  readonly line: number;
  readonly severity: 'error' | 'warning' | 'info';
  readonly message: string;
}

export interface SessionSummary {
  maps: number;
  direct: number;
  bounced: number;
  failed: number;
  hangs: number;
  unmaps: number;
  syncs: number;
  bytesCopied: number;
  /** Failures by reason code (too-big, pool-full, fragmented, ...). */
  failuresByCause: Record<string, number>;
  /** Bounces by reason code (force, dma-mask, ...). */
  bouncesByReason: Record<string, number>;
  peakSlots: number | null;
  /** Time-weighted when the input has a clock, else per event. */
  averageSlots: number | null;
  /** Row at which the peak was first reached. */
  peakRow: number | null;
  /**
   * Set when the input had more events than rows kept: the other figures count the whole input,
   * bouncesByReason and peakRow only these first rows.
   */
  rowsOnly?: number;
}

export interface AnalysisSession {
  readonly kind: InputKind;
  readonly files: readonly string[];
  /** Kernel profile name (--kernel) and platform profile name. */
  readonly kernel: string;
  readonly platform: string;
  readonly pool: PoolInfo | null;
  readonly events: EventTable;
  readonly summary: SessionSummary;
  readonly diagnostics: readonly Diagnostic[];
}

/** The generic part of a summary, from the event table alone. */
export function summarizeEvents(t: EventTable): SessionSummary {
  const s: SessionSummary = {
    maps: 0,
    direct: 0,
    bounced: 0,
    failed: 0,
    hangs: 0,
    unmaps: 0,
    syncs: 0,
    bytesCopied: 0,
    failuresByCause: {},
    bouncesByReason: {},
    peakSlots: null,
    averageSlots: null,
    peakRow: null,
  };
  let weighted = 0;
  let span = 0;
  let samples = 0;
  let lastUsed = -1;
  let lastTime = 0;
  for (let i = 0; i < t.length; i++) {
    const kind = t.kind[i] as EventKind;
    const outcome = t.outcome[i] as Outcome;
    s.bytesCopied += t.copied[i] as number;
    if (kind === EventKind.Map || kind === EventKind.MapResource) {
      s.maps++;
      if (outcome === Outcome.Direct) s.direct++;
      else if (outcome === Outcome.Bounced) s.bounced++;
      else if (outcome === Outcome.Failed) s.failed++;
      else if (outcome === Outcome.Hang) s.hangs++;
      const r = t.reasons[i] as number;
      for (const info of REASON_INFO) {
        if ((r & info.bit) === 0) continue;
        const into = info.bit >= Reason.TooBig ? s.failuresByCause : s.bouncesByReason;
        if (info.bit >= Reason.TooBig || outcome === Outcome.Bounced) into[info.code] = (into[info.code] ?? 0) + 1;
      }
    } else if (kind === EventKind.Unmap || kind === EventKind.Free) {
      s.unmaps++;
    } else if (kind === EventKind.SyncForCpu || kind === EventKind.SyncForDevice) {
      s.syncs++;
    }
    const used = t.used[i] as number;
    if (used >= 0) {
      const time = t.time[i] as number;
      if (s.peakSlots === null || used > s.peakSlots) {
        s.peakSlots = used;
        s.peakRow = i;
      }
      if (lastUsed >= 0) {
        const dt = t.hasClock ? time - lastTime : 1;
        weighted += lastUsed * dt;
        span += dt;
      }
      samples++;
      lastUsed = used;
      lastTime = time;
    }
  }
  if (samples > 0) s.averageSlots = span > 0 ? weighted / span : lastUsed;
  return s;
}

/**
 * Owner row of every slot after row `upto` (inclusive): -1 for free slots. Bounced maps and
 * allocations take [slot, slot+nslots); releases give them back.
 */
export function slotOwnersAt(t: EventTable, nslabs: number, upto: number): Int32Array {
  const owner = new Int32Array(nslabs).fill(-1);
  const end = Math.min(upto, t.length - 1);
  for (let i = 0; i <= end; i++) {
    const slot = t.slot[i] as number;
    if (slot < 0) continue;
    const n = t.nslots[i] as number;
    const outcome = t.outcome[i] as Outcome;
    if (outcome === Outcome.Bounced) owner.fill(i, slot, Math.min(slot + n, nslabs));
    else if (outcome === Outcome.Released) owner.fill(-1, slot, Math.min(slot + n, nslabs));
  }
  return owner;
}
