/**
 * A scenario run as JSON (the CLI contract) and as text for people.
 */

import { DMA_DIRECTION_NAMES, IO_TLB_SEGSIZE, IO_TLB_SIZE } from '../model/constants';
import type { Decision } from '../model/dma/decision';
import { dynamicSizingText } from '../model/dynamicSizing';
import { boundaryHex, hexAddr } from '../model/hex';
import { reasonCodes, reasonTexts } from '../model/reasons';
import { swiotlbMaxMappingSize } from '../model/swiotlb';
import { formatBytes, pctText, percent } from '../model/units';
import type { Comparison } from './compare';
import type { Scenario } from './format';
import type { ScenarioRun } from './run';

const hexOrNull = (n: number | null) => (n === null || n < 0 ? null : hexAddr(n));

export function decisionJson(d: Decision, index: number, line: number) {
  return {
    index,
    line,
    call: d.call,
    device: d.device,
    cpu: d.cpu,
    size: d.size,
    dir: DMA_DIRECTION_NAMES[d.dir],
    attrs: hexAddr(d.attrs),
    result: d.result,
    reasons: reasonCodes(d.reasons),
    reason_texts: reasonTexts(d.reasons),
    primary_reason: reasonCodes(d.primaryReason)[0] ?? null,
    phys: hexOrNull(d.phys),
    bus: hexOrNull(d.bus),
    dma: hexOrNull(d.dma),
    tlb_addr: hexOrNull(d.tlbAddr),
    slot: d.slot,
    nslots: d.nslots,
    area: d.area,
    copied: d.copied,
    cache: d.cache.map((c) => ({ op: c.op, via: c.via, addr: hexAddr(c.addr), size: c.size, count: c.count })),
    messages: d.messages,
    notes: d.notes,
    ...(d.sgIndex !== undefined ? { sg_index: d.sgIndex } : {}),
    ...(d.mapIndex !== undefined ? { map_index: d.mapIndex } : {}),
  };
}

/** The fields before "calls": what the scenario is, known before the first call. */
export function scenarioHeadJson(s: Scenario) {
  return {
    input: { kind: 'scenario', file: s.file, name: s.name, ...(s.description ? { description: s.description } : {}) },
    kernel: { name: s.kernel.name, title: s.kernel.title, family: s.kernel.family, ...(s.kernelNote ? { note: s.kernelNote } : {}) },
    platform: { id: s.platform.id, title: s.platform.title, ops: s.platform.ops, assumptions: s.platform.assumptions },
    devices: s.devices.map((d) => ({
      name: d.name,
      ...(d.driver ? { driver: d.driver } : {}),
      dma_mask: `0x${d.dmaMask.toString(16)}`,
      coherent_dma_mask: `0x${d.coherentDmaMask.toString(16)}`,
      bus_dma_limit: `0x${d.busDmaLimit.toString(16)}`,
      min_align_mask: hexAddr(d.minAlignMask),
      seg_boundary: boundaryHex(d.segBoundaryBits),
      max_seg_size: d.maxSegSize,
      coherent: d.coherent,
      trusted: d.trusted,
      ...(d.restrictedPoolSlots ? { restricted_pool_slots: d.restrictedPoolSlots } : {}),
      max_mapping_size: swiotlbMaxMappingSize(d.minAlignMask),
    })),
  };
}

/** The fields after "calls": the pool (with what dynamic swiotlb did during the run) and the run's figures. */
export function scenarioTailJson(run: ScenarioRun, comparison?: Comparison) {
  const sum = run.session.summary;
  const setup = run.setup;
  const pool = setup.pool;
  return {
    pool: {
      created: pool !== null,
      why: setup.boot.why,
      nslabs: pool?.nslabs ?? 0,
      nareas: pool?.nareas ?? 0,
      area_nslabs: pool ? Math.floor(pool.nslabs / pool.nareas) : 0,
      base: pool ? hexAddr(pool.start) : null,
      bytes: pool ? pool.nslabs * IO_TLB_SIZE : 0,
      force_bounce: pool?.forceBounce ?? false,
      segment_machine_bases: run.lane.engine.segmentBases
        ? run.lane.engine.segmentBases.slice(0, Math.ceil((pool?.nslabs ?? 0) / IO_TLB_SEGSIZE)).map(hexAddr)
        : null,
      log: setup.boot.log,
      zone_dma_limit: hexAddr(setup.boot.zone.zoneDmaLimit),
      dma_phys_limit: hexAddr(setup.boot.zone.dmaPhysLimit),
      dynamic: dynamicJson(run),
    },
    summary: {
      calls: run.calls,
      maps: sum.maps,
      direct: sum.direct,
      bounced: sum.bounced,
      failed: sum.failed,
      hangs: sum.hangs,
      unmaps: sum.unmaps,
      syncs: sum.syncs,
      bytes_copied: sum.bytesCopied,
      bounces_by_reason: sum.bouncesByReason,
      failures_by_cause: sum.failuresByCause,
      peak_slots: sum.peakSlots,
      peak_percent: pool && sum.peakSlots !== null ? percent(sum.peakSlots, pool.nslabs) : null,
      average_slots: sum.averageSlots === null ? null : Math.round(sum.averageSlots * 10) / 10,
      cache_ops: run.cacheOps,
      hypercalls: run.hypercalls,
      still_mapped: run.lane.live,
      messages: run.messages,
      ...(run.dynamicSizing
        ? {
            dynamic_sizing: {
              failures: run.dynamicSizing.failures,
              served_transient: run.dynamicSizing.servedTransient,
              served_added_pool: run.dynamicSizing.servedAdded,
              other_transient: run.dynamicSizing.otherTransient,
              still_failing: run.dynamicSizing.stillFailing,
              too_big: run.dynamicSizing.tooBig,
              peak_transient_bytes: run.dynamicSizing.peakTransientBytes,
              pools_added: run.dynamicSizing.poolsAdded,
              added_pool_slots: run.dynamicSizing.addedPoolSlots,
              text: dynamicSizingText(run.dynamicSizing),
            },
          }
        : {}),
    },
    ...(comparison ? { comparison } : {}),
    diagnostics: scenarioDiagnosticsJson(run.scenario),
  };
}

/** Warnings about the scenario (its errors stop it before it runs). */
export function scenarioDiagnosticsJson(s: Scenario) {
  return (s.warnings ?? []).map((p) => ({ severity: 'warning', line: p.line, column: p.column, path: p.path, message: p.message }));
}

/** The whole run as one object; needs a run that kept its decisions (runScenario's default). */
export function scenarioJson(run: ScenarioRun, comparison?: Comparison) {
  const lane = run.lane;
  if (lane.decisions.length !== lane.count) throw new Error('scenarioJson needs a run that kept its decisions');
  return {
    ...scenarioHeadJson(run.scenario),
    calls: lane.decisions.map((d, i) => decisionJson(d, i, lane.lines[i] as number)),
    ...scenarioTailJson(run, comparison),
  };
}

/** CONFIG_SWIOTLB_DYNAMIC's state at the end of the run (null when it is off). */
function dynamicJson(run: ScenarioRun) {
  const mem = run.lane.engine.mem;
  const dyn = mem?.dynamic;
  if (!mem || !dyn) return null;
  return {
    can_grow: dyn.canGrow,
    phys_limit: hexAddr(dyn.physLimit),
    grow_delay: dyn.growDelay,
    pools_added: mem.added.map((a) => ({
      base: a.start === undefined ? null : hexAddr(a.start),
      nslabs: a.nslabs,
      nareas: a.nareas,
      at_map: a.atMap,
    })),
    nslabs: mem.nslabs,
    used: mem.used,
    used_hiwater: mem.hiwater,
    transient_nslabs: mem.transientNslabs,
    peak_transient_slots: mem.peakTransientSlots,
    log: mem.log,
  };
}

const pct = (a: number, b: number) => pctText(a, b, { none: '-' });

export function formatScenario(run: ScenarioRun, comparison?: Comparison): string {
  const j = { ...scenarioHeadJson(run.scenario), ...scenarioTailJson(run, comparison) };
  const out: string[] = [];
  out.push(`Scenario ${j.input.name} (${j.input.file})`);
  if (j.input.description) out.push(`  ${j.input.description}`);
  out.push(`  platform        ${j.platform.title} [${j.platform.id}, ${j.platform.ops}]`);
  out.push(`  kernel          ${j.kernel.name}: ${j.kernel.title}`);
  if (j.kernel.note) out.push(`                  note: ${j.kernel.note}`);
  if (j.pool.created) {
    out.push(
      `  pool            ${j.pool.nslabs} slots (${formatBytes(j.pool.bytes)}) at ${j.pool.base}, ${j.pool.nareas} area${j.pool.nareas === 1 ? '' : 's'}${j.pool.force_bounce ? ', force bounce' : ''} (${j.pool.why})`,
    );
  } else out.push(`  pool            none (${j.pool.why})`);
  const dy = j.pool.dynamic;
  if (dy) {
    const added = dy.pools_added.filter((a) => a.base !== null);
    out.push(
      `  dynamic         CONFIG_SWIOTLB_DYNAMIC: ${added.length} pool${added.length === 1 ? '' : 's'} added${added.length ? ` (${added.map((a) => `${formatBytes(a.nslabs * IO_TLB_SIZE)} at ${a.base}`).join(', ')})` : ''}, transient pools ${formatBytes(dy.peak_transient_slots * IO_TLB_SIZE)} at peak, io_tlb_used_hiwater ${dy.used_hiwater} of ${dy.nslabs} slots`,
    );
  }
  const sm = j.summary;
  out.push(
    `  calls           ${sm.calls}: ${sm.maps} maps (${sm.direct} direct, ${sm.bounced} bounced = ${pct(sm.bounced, sm.maps)}, ${sm.failed} failed${sm.hangs ? `, ${sm.hangs} hang` : ''}), ${sm.unmaps} unmaps, ${sm.syncs} syncs`,
  );
  const reasons = Object.entries(sm.bounces_by_reason).map(([k, v]) => `${k} ${v}`);
  if (reasons.length) out.push(`  bounced because ${reasons.join(', ')}`);
  const causes = Object.entries(sm.failures_by_cause).map(([k, v]) => `${k} ${v}`);
  if (causes.length) out.push(`  failed because  ${causes.join(', ')}`);
  if (sm.peak_slots !== null) out.push(`  peak occupancy  ${sm.peak_slots} slots (${sm.peak_percent} %), average ${sm.average_slots}`);
  if (sm.dynamic_sizing) out.push(`  sizing          ${sm.dynamic_sizing.text}`);
  out.push(`  bytes copied    ${formatBytes(sm.bytes_copied)}; ${sm.cache_ops} cache maintenance operations, ${sm.hypercalls} hypercalls`);
  if (sm.still_mapped) out.push(`  still mapped    ${sm.still_mapped} at the end of the workload`);
  if (sm.messages.length) {
    out.push('  the kernel would print');
    for (const m of sm.messages.slice(0, 10)) out.push(`    ${m}`);
    if (sm.messages.length > 10) out.push(`    ... ${sm.messages.length - 10} more`);
  }
  out.push('  calls');
  for (const c of run.head.map((h, i) => decisionJson(h.decision, i, h.line))) {
    const where = c.slot !== null ? ` slot ${c.slot}+${c.nslots}` : '';
    const why = c.reasons.length ? ` [${c.reasons.join(', ')}]` : '';
    const addr = c.dma ? ` dma ${c.dma}` : '';
    out.push(
      `    line ${c.line} ${c.call} ${c.device} ${c.size} B ${c.dir}: ${c.result}${why}${where}${addr}${c.copied ? `, ${c.copied} B copied` : ''}`,
    );
  }
  if (run.lane.count > run.head.length) out.push(`    ... ${run.lane.count - run.head.length} more (--json lists every call)`);
  if (comparison) {
    // the verdict last: an output channel shows the end of a report
    out.push('  xen-swiotlb vs dma-direct with the Xen hooks');
    for (const d of comparison.divergences.slice(0, 10)) {
      out.push(`    line ${d.line} ${d.call} ${d.device}: ${d.cause}: kernel ${d.kernel}; unified ${d.unified}`);
    }
    const more = comparison.compared - comparison.agree - Math.min(10, comparison.divergences.length);
    if (more > 0) out.push(`    ... ${more} more differences (--json lists them)`);
    const h = comparison.hooks;
    out.push(
      `    hooks needed: ${h.translated} calls translated pfn->mfn, ${h.straddleBounces} straddle bounces, ${h.archBounces} arch bounces, ${h.hypercalls} cache-flush hypercalls, ${h.exchanges} exchanged allocations`,
    );
    out.push(`    ${comparison.verdict}`);
  }
  return out.join('\n');
}
