/**
 * What a replay found, as a JSON-able object and as text for people: the pool, the ops,
 * failures with the kernel's messages, occupancy, copies, per-device figures and, when the file
 * carries the kernel's answers, how many placements the model predicted.
 */
import type { Tally } from '../analysis/books';
import { EventKind, Outcome } from '../analysis/codes';
import { IO_TLB_SEGSIZE, IO_TLB_SIZE } from '../model/constants';
import { boundaryHex, hexAddr } from '../model/hex';
import { swiotlbMaxMappingSize } from '../model/swiotlb';
import { formatBytes, pctText, percent } from '../model/units';
import type { ReplayRun } from './run';

export interface ReplaySummary {
  file: string;
  workload?: string;
  kernel: { name: string; title: string; family: string; source: string; note?: string };
  pool: { base: string; nslabs: number; nareas: number; area_nslabs: number; bytes: number; segments: number };
  ops: number;
  maps: { attempted: number; ok: number; failed: number };
  allocs: { attempted: number; ok: number };
  unmaps: number;
  syncs: number;
  failures: Record<string, number>;
  failure_messages: { line: number; id: number | string; reason: string; message: string }[];
  occupancy: {
    peak_slots: number;
    peak_percent: number;
    peak_line: number;
    peak_area_slots: number[];
    final_slots: number;
    hiwater: number;
  };
  copies: { at_map: number; at_unmap: number; at_sync: number };
  devices: {
    name: string;
    maps: number;
    failed: number;
    min_align_mask: string;
    boundary: string;
    bytes_mapped: number;
    peak_live_slots: number;
    max_mapping_size: number;
  }[];
  live_at_end: number;
  check: { compared: number; matched: number; mismatches: number; races: number; followed: number } | null;
}

export function summarizeReplay(run: ReplayRun, withCheck: boolean): ReplaySummary {
  const r = run.replayer;
  const st = r.stats;
  const b = r.recorder.books;
  const names = r.recorder.table.devices;
  const pool = r.pool;
  const mapsOk = b.count(EventKind.Map, Outcome.Bounced);
  const allocsOk = b.count(EventKind.Alloc, Outcome.Bounced);
  const peak = b.peak ?? 0;
  return {
    file: run.file,
    ...(run.header.workload ? { workload: run.header.workload } : {}),
    kernel: {
      name: run.profile.name,
      title: run.profile.title,
      family: run.profile.family,
      source: run.profileSource,
      ...(run.profileNote ? { note: run.profileNote } : {}),
    },
    pool: {
      base: hexAddr(pool.start),
      nslabs: pool.nslabs,
      nareas: pool.nareas,
      area_nslabs: pool.areaNslabs,
      bytes: pool.nslabs * IO_TLB_SIZE,
      segments: Math.ceil(pool.nslabs / IO_TLB_SEGSIZE),
    },
    ops: run.ops,
    maps: { attempted: b.maps, ok: mapsOk, failed: b.maps - mapsOk },
    allocs: { attempted: b.allocs, ok: allocsOk },
    unmaps: b.count(EventKind.Unmap, Outcome.Released) + b.count(EventKind.Free, Outcome.Released),
    syncs: b.syncs,
    failures: Object.fromEntries([...st.failures.entries()].sort((a, b) => b[1] - a[1])),
    failure_messages: st.failureSamples.map((f) => ({ ...f })),
    occupancy: {
      peak_slots: peak,
      peak_percent: percent(peak, pool.nslabs),
      peak_line: peak > 0 ? (b.peakAt?.line ?? 0) : 0,
      peak_area_slots: [...st.peakAreaUsed],
      final_slots: run.replayer.mem.used,
      hiwater: run.replayer.mem.hiwater,
    },
    copies: {
      at_map: b.copied(EventKind.Map, EventKind.Alloc),
      at_unmap: b.copied(EventKind.Unmap, EventKind.Free),
      at_sync: b.copied(EventKind.SyncForCpu, EventKind.SyncForDevice),
    },
    devices: [...st.devices.entries()].map(([name, dev]) => {
      const d = b.device(names.intern(name)) as Tally;
      return {
        name,
        maps: d.maps + d.allocs,
        failed: d.failed + d.hangs + d.count(EventKind.Alloc, Outcome.Failed) + d.count(EventKind.Alloc, Outcome.Hang),
        min_align_mask: hexAddr(dev.minAlignMask),
        boundary: boundaryHex(dev.segBoundaryBits),
        bytes_mapped: d.bytesMapped,
        peak_live_slots: d.peakLiveSlots,
        max_mapping_size: swiotlbMaxMappingSize(dev.minAlignMask),
      };
    }),
    live_at_end: r.liveMappings,
    check: withCheck
      ? { compared: st.compared, matched: st.matched, mismatches: st.mismatches, races: st.races, followed: st.followed }
      : null,
  };
}

/** A percentage that never rounds a shortfall up to 100. */
const pct = (a: number, b: number) => pctText(a, b, { none: '0 %', floor: true });

export function formatSummary(s: ReplaySummary): string {
  const out: string[] = [];
  const p = s.pool;
  out.push(`Replay of ${s.file}${s.workload ? ` (${s.workload})` : ''}`);
  out.push(`  kernel profile  ${s.kernel.name}: ${s.kernel.title} [${s.kernel.family}, from ${s.kernel.source}]`);
  if (s.kernel.note) out.push(`                  note: ${s.kernel.note}`);
  out.push(
    `  pool            ${p.nslabs} slots (${formatBytes(p.bytes)}) at ${p.base}, ${p.nareas} area${p.nareas === 1 ? '' : 's'} of ${p.area_nslabs} slots, ${p.segments} segments of 128`,
  );
  out.push(`  ops             ${s.ops}: ${s.maps.attempted} maps, ${s.allocs.attempted} allocs, ${s.unmaps} unmaps, ${s.syncs} syncs`);
  const failedTotal = Object.values(s.failures).reduce((a, b) => a + b, 0);
  const causes = Object.entries(s.failures)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  out.push(`  failed          ${failedTotal}${failedTotal ? ` (${causes})` : ''} of ${s.maps.attempted + s.allocs.attempted} requests`);
  const o = s.occupancy;
  out.push(
    `  peak occupancy  ${o.peak_slots} slots = ${o.peak_percent} % of the pool (first at line ${o.peak_line}); in use at the end: ${o.final_slots}`,
  );
  if (p.nareas > 1) {
    out.push(
      `  per-area peak   ${o.peak_area_slots.map((v, i) => `area ${i}: ${v}/${p.area_nslabs} (${pct(v, p.area_nslabs)})`).join(', ')}`,
    );
  }
  out.push(
    `  bytes copied    ${formatBytes(s.copies.at_map)} at map, ${formatBytes(s.copies.at_unmap)} at unmap, ${formatBytes(s.copies.at_sync)} at sync`,
  );
  if (s.devices.length) {
    out.push('  devices');
    for (const d of s.devices) {
      out.push(
        `    ${d.name}: ${d.maps} maps, ${d.failed} failed, min_align_mask ${d.min_align_mask}, boundary ${d.boundary}, peak ${d.peak_live_slots} live slots, largest mapping ${d.max_mapping_size} B`,
      );
    }
  }
  if (s.failure_messages.length) {
    out.push('  what the kernel says at the failures (first ones)');
    const shown = s.failure_messages.slice(0, 8);
    for (const f of shown) out.push(`    line ${f.line} [${f.reason}]: ${f.message}`);
    if (failedTotal > shown.length) out.push(`    ... ${failedTotal - shown.length} more`);
  }
  if (s.check && s.check.compared === 0) {
    out.push('  kernel agreement the file carries no kernel answers to compare with');
  } else if (s.check) {
    const c = s.check;
    out.push(
      `  kernel agreement ${c.matched}/${c.compared} placements as the kernel chose them (${pct(c.matched, c.compared)}), ${c.mismatches} mismatches, ${c.races} races${c.followed ? `, ${c.followed} observed placements followed` : ''}`,
    );
  }
  if (s.live_at_end) out.push(`  still mapped    ${s.live_at_end} mappings were never unmapped`);
  return out.join('\n');
}
