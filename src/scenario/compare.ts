/**
 * The seed's question, answered per call: does xen-swiotlb as the kernel has it (its own ops)
 * decide the same as dma-direct + swiotlb with the Xen hooks plugged in? Both lanes run the same
 * workload in lockstep; every difference is reported with its cause.
 */

import type { CompareRows } from '../analysis/compareModel';
import { IO_TLB_SHIFT } from '../model/constants';
import type { Decision } from '../model/dma/decision';
import { hexAddr } from '../model/hex';
import { Reason } from '../model/reasons';
import type { Scenario } from './format';
import { expandWorkload, Lane, makeEngine, setupPool } from './run';

export type DivergenceCause = 'segment-boundary-space' | 'map-resource' | 'message' | 'kmalloc-rule' | 'state' | 'other';

export const CAUSE_TEXT: Record<DivergenceCause, string> = {
  'segment-boundary-space':
    "the kernel's xen-swiotlb checks the device's segment boundary (and min_align_mask) against the pseudo-physical pool address; dma-direct with the Xen translation hook checks it in machine space, where the device sees it",
  'map-resource': 'xen-swiotlb has no map_resource operation before 6.18: dma_map_resource fails, dma-direct maps MMIO 1:1',
  message: 'a failed post-bounce check is silent in xen-swiotlb and a WARN in dma-direct',
  'kmalloc-rule': 'dma-direct bounces small non-coherent kmalloc buffers from 6.5, xen-swiotlb only from 6.12.29',
  state: 'the two pools differ since an earlier divergence, so later placements differ too',
  other: 'a difference without a modelled cause',
};

export interface Divergence {
  readonly index: number;
  readonly call: string;
  readonly device: string;
  readonly line: number;
  readonly fields: readonly string[];
  readonly kernel: string;
  readonly unified: string;
  readonly cause: DivergenceCause;
}

export interface Comparison {
  readonly platform: string;
  readonly xenOps: boolean;
  readonly calls: number;
  readonly compared: number;
  readonly agree: number;
  readonly byCause: Partial<Record<DivergenceCause, number>>;
  /** The first divergences (all of them are counted in byCause). */
  readonly divergences: readonly Divergence[];
  /** What the hooks were needed for, in the unified lane. */
  readonly hooks: {
    /** Calls whose bus (machine) address differs from the physical one: the MFN lookup mattered. */
    readonly translated: number;
    readonly straddleBounces: number;
    readonly archBounces: number;
    readonly hypercalls: number;
    readonly exchanges: number;
  };
  /**
   * Bounce buffers whose DMA addresses cross the device's segment boundary (e.g. a 64 KiB line
   * for PIIX): what the device actually sees, in each lane.
   */
  readonly boundaryCrossings: { readonly kernel: number; readonly unified: number };
  /** Plain words for the report. */
  readonly verdict: string;
}

/** A bounced map whose DMA range crosses a multiple of the device's segment boundary. */
function crossesBoundary(d: Decision | undefined, bits: number | undefined): boolean {
  if (d?.result !== 'bounced' || d.dma === null || bits === undefined || bits >= 53 || !d.call.startsWith('dma_map')) return false;
  const w = 2 ** bits;
  return Math.floor(d.dma / w) !== Math.floor((d.dma + d.size - 1) / w);
}

const MAX_LISTED = 200;

function brief(d: Decision | undefined): string {
  if (!d) return 'no call';
  const parts: string[] = [d.result];
  if (d.slot !== null) parts.push(`slot ${d.slot}`);
  if (d.dma !== null) parts.push(`dma ${hexAddr(d.dma)}`);
  if (d.messages.length) parts.push(`"${d.messages[0]}"`);
  return parts.join(', ');
}

function differences(a: Decision | undefined, b: Decision | undefined): string[] {
  if (!a || !b) return ['call'];
  const f: string[] = [];
  if (a.result !== b.result) f.push('result');
  if (a.reasons !== b.reasons) f.push('reasons');
  if (a.dma !== b.dma) f.push('dma');
  if (a.slot !== b.slot) f.push('slot');
  if (a.copied !== b.copied) f.push('copied');
  if (a.messages.join('\n') !== b.messages.join('\n')) f.push('messages');
  return f;
}

/** `rows`: where every compared call goes, agreeing or not (the compare view's table). */
export function compareScenario(s: Scenario, rows?: CompareRows): Comparison {
  const setup = setupPool(s);
  const kernel = new Lane(makeEngine(s, setup, 'kernel'), s, false);
  const unified = new Lane(makeEngine(s, setup, 'unified'), s, false);
  const xenOps = s.platform.ops === 'xen-swiotlb';
  const segBases = unified.engine.segmentBases;
  const poolStart = setup.pool?.start ?? 0;
  const byCause: Partial<Record<DivergenceCause, number>> = {};
  const divergences: Divergence[] = [];
  let compared = 0;
  let agree = 0;
  let calls = 0;
  let firstSlotDivergence = -1;
  const hooks = { translated: 0, straddleBounces: 0, archBounces: 0, hypercalls: 0, exchanges: 0 };
  const boundaryCrossings = { kernel: 0, unified: 0 };
  const bitsOf = new Map(s.devices.map((d) => [d.name, d.segBoundaryBits]));
  for (const op of expandWorkload(s.workload)) {
    calls++;
    const ka = kernel.apply(op);
    const ua = unified.apply(op);
    const n = Math.max(ka.length, ua.length);
    for (let i = 0; i < n; i++) {
      const k = ka[i];
      const u = ua[i];
      compared++;
      if (crossesBoundary(k, bitsOf.get(k?.device ?? ''))) boundaryCrossings.kernel++;
      if (crossesBoundary(u, bitsOf.get(u?.device ?? ''))) boundaryCrossings.unified++;
      if (u) {
        if (u.bus !== null && u.phys >= 0 && u.bus !== u.phys) hooks.translated++;
        if (u.result === 'bounced' && u.reasons & Reason.XenStraddle) hooks.straddleBounces++;
        if (u.result === 'bounced' && u.reasons & Reason.XenArchNeedsBounce) hooks.archBounces++;
        for (const c of u.cache) if (c.via === 'hypercall') hooks.hypercalls += c.count;
        if (u.call.includes('alloc') && u.reasons) hooks.exchanges++;
      }
      const fields = differences(k, u);
      if (fields.length === 0) {
        agree++;
        rows?.add(op.line, k, u, fields, null);
        continue;
      }
      const dev = s.devices.find((d) => d.name === (k ?? u)?.device);
      let cause: DivergenceCause = 'other';
      if ((k ?? u)?.call === 'dma_map_resource') cause = 'map-resource';
      else if (fields.length === 1 && fields[0] === 'messages') cause = 'message';
      else if (k && u && (k.reasons ^ u.reasons) & Reason.KmallocNotCacheAligned) cause = 'kmalloc-rule';
      else if (fields.includes('slot') || fields.includes('dma')) {
        const window = dev && dev.segBoundaryBits < 64 ? 2 ** dev.segBoundaryBits : 0;
        const machineStart = segBases?.[0] ?? poolStart;
        const boundaryDiffers = window > 0 && poolStart % window !== machineStart % window;
        const alignDiffers =
          !!dev && dev.minAlignMask >>> IO_TLB_SHIFT !== 0 && poolStart % (dev.minAlignMask + 1) !== machineStart % (dev.minAlignMask + 1);
        if (firstSlotDivergence >= 0 && firstSlotDivergence < compared - 1) cause = 'state';
        else if (boundaryDiffers || alignDiffers) cause = 'segment-boundary-space';
        if (firstSlotDivergence < 0 && fields.includes('slot')) firstSlotDivergence = compared - 1;
      }
      byCause[cause] = (byCause[cause] ?? 0) + 1;
      rows?.add(op.line, k, u, fields, cause);
      if (divergences.length < MAX_LISTED) {
        divergences.push({
          index: compared - 1,
          call: (k ?? u)?.call ?? '',
          device: (k ?? u)?.device ?? '',
          line: op.line,
          fields,
          kernel: brief(k),
          unified: brief(u),
          cause,
        });
      }
    }
  }
  let verdict: string;
  if (!xenOps && s.platform.xen) {
    verdict = `${s.platform.title}: auto-translated, so the kernel uses dma-direct and plain swiotlb with identity translation; the unified path is the same code (${agree}/${compared} calls agree).`;
  } else if (!xenOps) {
    verdict = `${s.platform.title} does not use xen-swiotlb: both paths are dma-direct (${agree}/${compared} calls agree).`;
  } else if (agree === compared) {
    verdict = `xen-swiotlb and dma-direct with the Xen hooks decide the same for all ${compared} calls.`;
  } else {
    const causes = Object.entries(byCause)
      .map(([c, n]) => `${n} ${c}`)
      .join(', ');
    verdict = `${agree}/${compared} calls agree; the others differ by: ${causes}.`;
  }
  if (boundaryCrossings.kernel !== boundaryCrossings.unified) {
    verdict += ` ${boundaryCrossings.kernel} bounce buffers of the kernel's path cross the device's segment boundary in bus space, ${boundaryCrossings.unified} of the unified path.`;
  }
  return { platform: s.platform.id, xenOps, calls, compared, agree, byCause, divergences, hooks, boundaryCrossings, verdict };
}
