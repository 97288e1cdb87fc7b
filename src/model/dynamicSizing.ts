/**
 * The sizing answer for dynamic swiotlb: would CONFIG_SWIOTLB_DYNAMIC have served the maps that
 * failed in a run with one fixed pool? The run's bounce requests are replayed, in order, through
 * the same pool with dynamic pools on, and every failure of the original run is followed: served
 * by a transient pool of its own, by a pool the worker added, or still failing.
 *
 * Pure: the inputs are the kernel profile, the boot pool, the dynamic set-up (with a fresh page
 * allocator) and the requests; scenario and source reports call it, and a trace analysis can
 * (ops keyed by anything that pairs a map with its unmap).
 */
import { IO_TLB_SEGSIZE, IO_TLB_SIZE } from './constants';
import type { DynamicConfig } from './dynamic';
import { IoTlbPool, type PoolGeometry } from './pool';
import type { KernelProfile } from './profiles';
import { IoTlbMem, type MapRequest } from './swiotlb';
import { formatBytes } from './units';

export type SizingOp =
  /** A bounce request as the run made it; `failed` when it failed there for want of slots. */
  | { readonly t: 'map'; readonly key: string; readonly req: MapRequest; readonly failed: boolean }
  /** Its release (for a failed map: when the driver would have released it, if known). */
  | { readonly t: 'unmap'; readonly key: string; readonly size: number };

export interface DynamicSizing {
  /** Failures of the run that a bigger pool could serve (up to 128 slots). */
  readonly failures: number;
  /** Failures above 128 slots: never served (6.6.3+ refuses them before growing). */
  readonly tooBig: number;
  readonly servedTransient: number;
  readonly servedAdded: number;
  /** Failures dynamic pools would not serve either (no memory below the device's limit, alignment). */
  readonly stillFailing: number;
  /** Maps that did not fail in the run but would have gone to a transient pool here. */
  readonly otherTransient: number;
  readonly peakTransientSlots: number;
  readonly peakTransientBytes: number;
  /** Pools the worker added, and their size. */
  readonly poolsAdded: number;
  readonly addedPoolSlots: number;
  /** Times the worker failed ("Failed to allocate new pool"). */
  readonly workerFailures: number;
  /** io_tlb_used_hiwater at the end. */
  readonly hiwater: number;
}

/**
 * The replay, one request at a time (a run can feed it as it goes: memory holds the live
 * mappings only).
 */
export class DynamicSizer {
  private readonly mem: IoTlbMem;
  private readonly live = new Map<string, { tlbAddr: number; req: MapRequest }>();
  private failures = 0;
  private tooBig = 0;
  private servedTransient = 0;
  private servedAdded = 0;
  private stillFailing = 0;
  private otherTransient = 0;

  constructor(profile: KernelProfile, geometry: PoolGeometry, dynamic: DynamicConfig) {
    this.mem = new IoTlbMem(new IoTlbPool(profile, geometry), dynamic);
  }

  /** A bounce request; `failed` when it failed in the run for want of slots. */
  map(key: string, req: MapRequest, failed: boolean): void {
    const r = this.mem.tblMapSingle(req);
    if (failed) {
      if (r.nslots > IO_TLB_SEGSIZE) this.tooBig++;
      else {
        this.failures++;
        if (!r.ok) this.stillFailing++;
        else if (r.poolKind === 'transient') this.servedTransient++;
        else this.servedAdded++;
      }
    } else if (r.ok && r.poolKind === 'transient') this.otherTransient++;
    if (r.ok) this.live.set(key, { tlbAddr: r.tlbAddr, req });
  }

  unmap(key: string, size: number): void {
    const m = this.live.get(key);
    if (!m) return;
    this.live.delete(key);
    this.mem.tblUnmapSingle(m.tlbAddr, size, m.req.dir, m.req.attrs ?? 0, m.req.dev);
  }

  /** Failures of the run seen so far (a pool could serve them, or not). */
  get runFailures(): number {
    return this.failures + this.tooBig;
  }

  result(): DynamicSizing {
    const mem = this.mem;
    const grown = mem.added.filter((a) => a.start !== undefined);
    return {
      failures: this.failures,
      tooBig: this.tooBig,
      servedTransient: this.servedTransient,
      servedAdded: this.servedAdded,
      stillFailing: this.stillFailing,
      otherTransient: this.otherTransient,
      peakTransientSlots: mem.peakTransientSlots,
      peakTransientBytes: mem.peakTransientSlots * IO_TLB_SIZE,
      poolsAdded: grown.length,
      addedPoolSlots: grown[0]?.nslabs ?? 0,
      workerFailures: mem.added.length - grown.length,
      hiwater: mem.hiwater,
    };
  }
}

/** Replays `ops` with dynamic pools on and follows the run's failures. */
export function dynamicSizing(
  profile: KernelProfile,
  geometry: PoolGeometry,
  dynamic: DynamicConfig,
  ops: Iterable<SizingOp>,
): DynamicSizing {
  const sizer = new DynamicSizer(profile, geometry, dynamic);
  for (const op of ops) {
    if (op.t === 'map') sizer.map(op.key, op.req, op.failed);
    else sizer.unmap(op.key, op.size);
  }
  return sizer.result();
}

/** "with CONFIG_SWIOTLB_DYNAMIC these N failures would have been served by ..." */
export function dynamicSizingText(s: DynamicSizing): string {
  const served = s.servedTransient + s.servedAdded;
  const parts: string[] = [];
  if (s.servedTransient) parts.push(`${s.servedTransient} by transient pools (${formatBytes(s.peakTransientBytes)} at peak)`);
  if (s.servedAdded)
    parts.push(
      `${s.servedAdded} by the ${s.poolsAdded} pool${s.poolsAdded === 1 ? '' : 's'} of ${formatBytes(s.addedPoolSlots * IO_TLB_SIZE)} the worker added`,
    );
  let text =
    s.failures === 0
      ? 'with CONFIG_SWIOTLB_DYNAMIC: no failure a pool could serve'
      : served === s.failures
        ? `with CONFIG_SWIOTLB_DYNAMIC these ${s.failures} failures would have been served: ${parts.join(', ')}`
        : `with CONFIG_SWIOTLB_DYNAMIC ${served} of these ${s.failures} failures would have been served${parts.length ? `: ${parts.join(', ')}` : ''}; ${s.stillFailing} would still fail (no memory for a transient pool below the device's limit, or alignment)`;
  if (s.tooBig) text += `; ${s.tooBig} above 128 slots fail whatever the pools`;
  if (s.otherTransient)
    text += `; ${s.otherTransient} other map${s.otherTransient === 1 ? '' : 's'} would have needed ${s.otherTransient === 1 ? 'a transient pool' : 'transient pools'} too`;
  return text;
}
