/**
 * What a trace/log analysis found, as one JSON object (the CLI contract: input.kind,
 * counts.*, pool.*, occupancy.peak_slots, check.compared/matched, log.*, diagnostics) and as
 * text for people. Every conclusion the input cannot support is said, not guessed.
 */
import type { Tally } from '../analysis/books';
import { EventKind, Outcome } from '../analysis/codes';
import type { Diagnostic } from '../analysis/session';
import { IO_TLB_SIZE } from '../model/constants';
import { hexAddr } from '../model/hex';
import { formatBytes, percent } from '../model/units';
import { type DeviceEvidence, formatBoundary, type TraceAnalyzer } from './analyzer';
import type { LogDevice, MemEncrypt } from './logExplain';
import type { TextAnalysis } from './run';

export interface ProfileAgreement {
  name: string;
  title: string;
  compared: number;
  matched: number;
  races: number;
  /** Mispredictions before the trace had shown an area's search index (a capture on a running system). */
  warmups: number;
  mismatches: number;
  /** dma:* traces: mismatches where the events' order may not be the allocator's (another task had bounced without its map event yet); not held against the profile. */
  dma_order: number;
  lost: number;
  agreement_percent: number;
  first_misses: { line: number; predicted: string; observed: string }[];
  first_dma_order: { line: number; predicted: string; observed: string }[];
}

export interface TextReport {
  input: {
    kind: 'trace' | 'log' | 'trace+log' | 'none';
    files: { path: string; role: string; lines: number }[];
    events: 'swiotlb probes (in-lock)' | 'swiotlb probes' | 'dma:* events' | 'swiotlb_bounced only' | 'none';
    clock: 'seconds' | 'counter' | null;
  };
  kernel: {
    profile: string;
    title: string;
    source: string;
    note?: string;
    /** The release the input names (Linux version, a WARN's CPU line, uname -a, the capture) and where. */
    release: string | null;
    release_source: string | null;
  };
  platform: { name: string | null; note: string };
  pool: {
    base: string | null;
    nslabs: number;
    nareas: number;
    area_nslabs: number;
    bytes: number;
    cpus: number | null;
    cmdline: string | null;
    sources: { base: string; nslabs: string; nareas: string; cpus: string };
    /** How sure the start is: stated (a log line or a probe), or inferred from the bounce addresses: sure, likely, guess; null when unknown. */
    base_certainty: 'stated' | 'sure' | 'likely' | 'guess' | null;
  };
  counts: {
    lines: number;
    events: number;
    maps: number;
    bounced_maps: number;
    direct: number;
    failed: number;
    unmaps: number;
    unmaps_direct: number;
    unmaps_unknown: number;
    syncs: number;
    bounced: number;
    bounced_forced: number;
    bounced_unmatched: number;
    /** dma:* traces: map attempts with only their swiotlb_bounced event (scatterlists that failed part-way; counted in maps). */
    maps_without_event: number;
    coherent_allocs: number;
    coherent_frees: number;
    dma_api_probes: number;
    markers: number;
    lost_events: number;
    unknown_events: Record<string, number>;
  };
  occupancy: {
    peak_slots: number | null;
    /** The peak is a lower bound: attempts without events (rolled back) may have held slots it does not count. */
    peak_lower_bound: boolean;
    peak_percent: number | null;
    peak_at: { file: string; line: number; time: number } | null;
    peak_area_slots: number[] | null;
    final_slots: number | null;
    live_at_end: number;
    average_slots: number | null;
    kernel_hiwater: number | null;
    basis: string;
    timeline: [number, number][];
  };
  failures: {
    count: number;
    by_cause: Record<string, number>;
    first: { file: string; line: number; device: string; size: number; nslots: number; cause: string; message: string }[];
    /**
     * dma:* traces where maps have no event: the failures the events prove (min), allow (max) and
     * the likely count (a retry restarts at the same buffer); null when every attempt has its event.
     */
    range: {
      min: number;
      max: number;
      likely: number;
      /** Entries of those scatterlists mapped and rolled back (unmapped) without events: the rest of the attempts. */
      rolled_back: { min: number; max: number; likely: number };
      note: string;
    } | null;
  };
  devices: {
    name: string;
    driver: string | null;
    maps: number;
    bounced: number;
    direct: number;
    failed: number;
    unmaps: number;
    syncs: number;
    bounce_attempts: number;
    forced: number;
    beyond_dma_mask: number;
    within_dma_mask: number;
    dma_mask: string | null;
    min_align_mask: string | null;
    min_align_source: string;
    /** dma_get_seg_boundary(): the mask, where it came from (probe, driver, inferred, default), and why. */
    segment_boundary: string | null;
    segment_boundary_source: string;
    segment_boundary_note: string | null;
    bytes_mapped: number;
    bytes_bounced: number;
    peak_live_slots: number;
    largest_map: number;
    /** What the kernel log says of the device (null: the log does not name it). */
    log: LogDevice | null;
  }[];
  copies: { at_map: number; at_unmap: number; at_sync: number };
  check: {
    compared: number;
    matched: number | null;
    races: number;
    mismatches: number;
    /** The primary profile's mismatches of the dma:* order (see ProfileAgreement.dma_order). */
    dma_order: number;
    profile: string | null;
    profiles: ProfileAgreement[];
    fits: string[];
    note: string;
  };
  sizing: {
    current_slots: number;
    enough_slots: number | null;
    advice: string;
    tried: { nslabs: number; failures: number; too_big: number; peak_slots: number }[];
    too_big: number;
  } | null;
  sizing_note: string | null;
  log: {
    lines: number;
    full_messages: number;
    too_big: number;
    overflow_messages: number;
    out_of_space_messages: number;
    suppressed: number;
    /** Failed maps and allocations (the grouped events: a failure with its other lines counts once). */
    failures: number;
    by_cause: Record<string, number>;
    /** No swiotlb= size can avoid any of the failures (false when there are none). */
    no_size_helps: boolean;
    /** Overflow lines of a device's own buffer beyond its DMA mask or bus limit. */
    mask_limited: number;
    /** "swiotlb addr ... overflow": the bounce buffer itself beyond the device's reach. */
    bounce_beyond_mask: number;
    /** Failures of full_messages that were a coherent allocation falling back to the pool. */
    coherent_failures: number;
    /** Every "coherent allocation failed" line. */
    coherent_messages: number;
    mem_encrypt: MemEncrypt | null;
    restricted_pools: { base: string; nslabs: number; source: string }[];
    messages_dropped: number;
    messages: {
      file: string;
      line: number;
      line_end: number;
      kind: string;
      format: string;
      device: string | null;
      size: number | null;
      total: number | null;
      used: number | null;
      event: number | null;
      cause: string | null;
      size_helps: boolean | null;
      explanation: string | null;
      text: string;
    }[];
  };
  markers: { file: string; line: number; text: string }[];
  conclusions: string[];
  diagnostics: Diagnostic[];
  diagnostics_dropped: number;
}

/** What the inputs held: traces, logs, both, or neither. */
export function inputKind(an: TraceAnalyzer): TextReport['input']['kind'] {
  const hasTrace = an.traceFiles > 0;
  const hasLog = an.logFiles > 0 || an.log.entries.length > 0;
  return hasTrace && hasLog && an.logFiles > 0 ? 'trace+log' : hasTrace ? 'trace' : hasLog ? 'log' : 'none';
}

export function buildReport(r: TextAnalysis): TextReport {
  const an = r.analyzer;
  const b = an.books;
  const maps = b.maps;
  const bouncedMaps = b.bounced;
  const failedMaps = b.failed;
  const released = b.count(EventKind.Unmap, Outcome.Released);
  const g = an.ensureGeometry();
  const anchored = g.base !== null;
  const hasTrace = an.traceFiles > 0;
  const book = an.log;
  const kind = inputKind(an);
  const followed = bouncedMaps + failedMaps > 0;
  const events = an.level.lockProbes
    ? 'swiotlb probes (in-lock)'
    : an.level.tbl
      ? 'swiotlb probes'
      : an.level.dma
        ? 'dma:* events'
        : an.bounceAttempts > 0
          ? 'swiotlb_bounced only'
          : 'none';
  const conclusions: string[] = [];
  const runs = an.runs;
  // dma:* events: a scatterlist failing part-way leaves only its swiotlb_bounced events
  const withoutEvent = an.level.dma && !an.level.tbl ? an.bouncedUnmatched : 0;
  const failRange: TextReport['failures']['range'] =
    withoutEvent > 0
      ? {
          min: failedMaps + an.unmatchedRuns,
          max: failedMaps + withoutEvent,
          likely: failedMaps + an.unmatchedFailures,
          rolled_back: { min: 0, max: withoutEvent - an.unmatchedRuns, likely: withoutEvent - an.unmatchedFailures },
          note: `${withoutEvent} map attempt(s) have only their swiotlb_bounced event (from ${an.unmatchedFirst?.file}:${an.unmatchedFirst?.line}), in ${an.unmatchedRuns} run(s) on one task each: a scatterlist that fails part-way emits no dma_map_sg (and no dma_map_sg_err for -ENOMEM) and rolls its mapped entries back without dma_unmap_sg, so each run ends in at least one failure and any of its entries may have failed; ${failedMaps + an.unmatchedFailures} in all if each return to an address the run already tried (or began an attempt with) is a retry after a failure`,
        }
      : null;
  const profiles: ProfileAgreement[] = runs.map((p) => ({
    name: p.profile.name,
    title: p.profile.title,
    compared: p.compared,
    matched: p.matched,
    races: p.races,
    warmups: p.warmups,
    mismatches: p.mismatches,
    dma_order: p.orderDiffs,
    lost: p.lost,
    agreement_percent: percent(p.matched, p.compared - p.races - p.warmups - p.orderDiffs, 'floor'),
    first_misses: p.misses.map((m) => ({ ...m })),
    first_dma_order: p.orderMisses.map((m) => ({ ...m })),
  }));
  let fits: string[] = [];
  let checkNote: string;
  const primary = runs[0];
  if (!hasTrace) checkNote = 'no trace: nothing to compare';
  else if (!anchored)
    checkNote =
      an.logFiles > 0
        ? 'the pool start is unknown: the log has no "software IO TLB: mapped [mem ...]" line (kernels print it only with memory above 4 GiB), the events no pool base and the bounce addresses do not show it, so the kernel\'s slots cannot be located'
        : 'the pool start is unknown (no "software IO TLB: mapped [mem ...]" line and no pool base in the events), so the kernel\'s slots cannot be located: give the boot log next to the trace';
  else if (!primary || primary.compared === 0) checkNote = 'the trace shows no bounce placements (no map with its bounce address)';
  else {
    const best = Math.max(...profiles.map((p) => p.agreement_percent));
    fits = profiles.filter((p) => p.compared > 0 && p.agreement_percent === best).map((p) => p.name);
    const aside = [
      primary.races ? `${primary.races} raced with another CPU` : '',
      primary.warmups ? `${primary.warmups} came before the trace showed where its area's search stood` : '',
      primary.orderDiffs
        ? `${primary.orderDiffs} where the dma:* order may not be the allocator's (a map or release the events show later, or entries mapped and rolled back without events)`
        : '',
    ].filter(Boolean);
    checkNote = `the model predicted ${primary.matched} of ${primary.compared} placements as the kernel chose them with the ${primary.profile.name} profile${aside.length ? ` (${aside.join('; ')})` : ''}; best fit: ${fits.join(', ')} (${best} %)`;
    if (runs.some((p) => p.sampled)) {
      checkNote += `; placements are compared for the first ${an.sampleLimit} placements of the ${bouncedMaps + failedMaps} in the trace, the rest are counted as the kernel made them`;
    }
    if (!fits.includes(primary.profile.name)) {
      conclusions.push(
        `The placements fit ${fits.join(', ')} (${best} %) better than the ${primary.profile.name} profile used (${profiles[0]?.agreement_percent} %): rerun with --kernel ${fits[0]}.`,
      );
    }
  }
  const rel = /^(\d+)\.(\d+)/.exec(an.facts.release ?? '');
  if (an.facts.dmaEvents && rel && Number(rel[1]) * 1000 + Number(rel[2]) < 6012) {
    conclusions.push(
      `The input names kernel ${an.facts.release} (${an.facts.releaseAt}), but it has dma:* events (${an.facts.dmaEventsAt}), which kernels have from 6.12 on: the log and the trace may come from different kernels (the ${g.profile.name} profile follows the log; --kernel chooses).`,
    );
  }
  if (hasTrace && maps === 0 && an.bounceAttempts > 0) {
    conclusions.push(
      `Only swiotlb_bounced events: ${an.bounceAttempts} bounce attempts (${an.bouncedForced} forced). The tracepoint fires before the slot search and there are no unmaps, so neither occupancy nor failures can be told from this trace; capture the dma:* events (6.12+) or the swiotlb_tbl_map_single probes (the capture script does both).`,
    );
  }
  if (hasTrace && !anchored && bouncedMaps > 0) {
    conclusions.push('The pool start is unknown: occupancy is counted in slots per mapping, without areas or a check of the placements.');
  }
  if (failRange) {
    conclusions.push(
      `${withoutEvent} bounce attempts have no dma_map_* event after them (counted in the ${maps + withoutEvent} map attempts): scatterlists that failed part-way. Failures: between ${failRange.min} and ${failRange.max}, likely ${failRange.likely} (${failedMaps} shown by events); the log's "swiotlb buffer is full" lines tell more.`,
    );
  } else if (an.bouncedUnmatched > 0 && an.level.dma) {
    conclusions.push(
      `${an.bouncedUnmatched} bounce attempts have no dma_map_* event after them: most likely scatterlist maps that failed (dma_map_sg emits no event when it fails); the log's "swiotlb buffer is full" lines tell more.`,
    );
  }
  if (an.lostEvents > 0)
    conclusions.push(`The trace lost events ${an.lostEvents} time(s): counts are lower bounds and some placements may not be followable.`);
  const fails = Object.fromEntries(Object.entries(b.failuresByCause).sort((x, y) => y[1] - x[1]));
  if (failedMaps > 0) {
    const parts = Object.entries(fails).map(([k, v]) => `${v} ${k}`);
    conclusions.push(`${failedMaps} map(s) failed: ${parts.join(', ')}.`);
  }
  if (book.fullMessages > 0 && hasTrace && failedMaps > book.fullMessages) {
    conclusions.push(
      `The log shows ${book.fullMessages} "buffer is full" message(s) for ${failedMaps} failed maps: DMA_ATTR_NO_WARN (NVMe scatterlists) and the rate limit (10 per 5 s) hide the others.`,
    );
  }
  let sizing: TextReport['sizing'] = null;
  if (r.sizing) {
    const s = r.sizing;
    const forced = g.cmdline && /(?:^|\s)swiotlb=[^\s]*force/.test(g.cmdline) ? ',force' : '';
    const advice =
      s.enough !== null
        ? `swiotlb=${s.enough}${forced} (${formatBytes(s.enough * IO_TLB_SIZE)}) is the smallest pool tried that avoids every failure a pool size can fix${s.tooBig ? `; ${s.tooBig} request(s) above the 256 KiB ceiling fail at any size` : ''}`
        : `even ${s.tried[s.tried.length - 1]?.nslabs ?? s.current} slots still fail: the failures come from alignment or a leak, not the pool size`;
    sizing = {
      current_slots: s.current,
      enough_slots: s.enough,
      advice,
      tried: s.tried.map((t) => ({ nslabs: t.nslabs, failures: t.failures, too_big: t.tooBig, peak_slots: t.peak })),
      too_big: s.tooBig,
    };
    conclusions.push(`Sizing: ${advice} (failed maps are given back at once in these re-runs: the trace has no unmap for them).`);
  } else if (r.sizingNote && hasTrace) {
    conclusions.push(`Sizing: ${r.sizingNote}.`);
  }
  const tooBigLog = book.tooBig;
  if (tooBigLog > 0)
    conclusions.push(`${tooBigLog} logged request(s) are above the 256 KiB ceiling (128 slots): no swiotlb= size can satisfy them.`);
  conclusions.push(...book.conclusions());
  if (hasTrace && bouncedMaps > 0 && released === 0) {
    conclusions.push('The trace has maps but no unmaps: occupancy only grows here; it may have been cut short.');
  }
  const occKnown = hasTrace && (bouncedMaps > 0 || released > 0);
  // no slot ever held: no moment of the peak
  const peak = b.peak ?? 0;
  if (failRange && occKnown) {
    conclusions.push(
      `The peak of ${peak} slots is a lower bound: the entries mapped and rolled back without events held slots the trace does not show.`,
    );
  }
  const peakAt = peak > 0 && b.peakAt ? { file: b.peakAt.file, line: b.peakAt.line, time: b.peakAt.time } : { file: '', line: 0, time: 0 };
  const logDevices = new Map(book.deviceList().map((d) => [d.name, d]));
  const ds: TextReport['devices'] = an.devices.map((d) => deviceRow(d.name, d, b.device(d.id), logDevices.get(d.name) ?? null));
  // devices only the log names
  const traced = new Set(ds.map((d) => d.name));
  for (const ld of logDevices.values()) if (!traced.has(ld.name)) ds.push(deviceRow(ld.name, undefined, undefined, ld));
  for (const d of an.devices) {
    if (d.withinMask > 0 && d.forced === 0 && d.bounceAttempts > 0) {
      conclusions.push(
        `${d.name}: ${d.withinMask} bounce(s) of buffers within its dma_mask and not forced: a bus limit (dma-ranges), arm64 kmalloc alignment or Xen rules made them bounce.`,
      );
    }
  }
  return {
    input: {
      kind,
      files: r.inputs.map((f) => ({ path: f.label, role: f.role, lines: f.lines })),
      events,
      clock: an.traceEvents === 0 ? null : an.counterClock ? 'counter' : 'seconds',
    },
    kernel: {
      profile: g.profile.name,
      title: g.profile.title,
      source: g.profileSource,
      ...(g.profileNote ? { note: g.profileNote } : {}),
      release: an.facts.release ?? null,
      release_source: an.facts.release !== undefined ? (an.facts.releaseAt ?? null) : null,
    },
    platform: {
      name: an.options.platform ?? null,
      note: an.options.platform
        ? 'recorded; the platform decision layer (dma-direct / xen-swiotlb) interprets it where it is available'
        : 'not given (--platform)',
    },
    pool: {
      base: g.base === null ? null : hexAddr(g.base),
      nslabs: g.nslabs,
      nareas: primary?.pool.nareas ?? g.nareas,
      area_nslabs: Math.floor(g.nslabs / (primary?.pool.nareas ?? g.nareas)),
      bytes: g.nslabs * IO_TLB_SIZE,
      cpus: g.possibleCpus,
      cmdline: g.cmdline,
      sources: { ...g.sources },
      base_certainty:
        g.base === null
          ? null
          : an.facts.mappedBase === undefined && an.facts.eventBase === undefined
            ? (an.facts.inferredBaseCertainty ?? null)
            : 'stated',
    },
    counts: {
      lines: an.lines + an.logLines,
      events: an.traceEvents,
      maps: maps + withoutEvent,
      bounced_maps: bouncedMaps,
      direct: b.direct,
      failed: failedMaps,
      unmaps: released,
      unmaps_direct: b.count(EventKind.Unmap, Outcome.Unmapped),
      unmaps_unknown: an.unmapsUnknown,
      syncs: b.syncs,
      bounced: an.bounceAttempts,
      bounced_forced: an.bouncedForced,
      bounced_unmatched: an.bouncedUnmatched,
      maps_without_event: withoutEvent,
      coherent_allocs: an.coherentAllocs,
      coherent_frees: an.coherentFrees,
      dma_api_probes: an.apiProbes,
      markers: an.markersTotal,
      lost_events: an.lostEvents,
      unknown_events: Object.fromEntries(an.unknownEvents),
    },
    occupancy: {
      peak_slots: occKnown ? peak : null,
      peak_lower_bound: occKnown && withoutEvent > 0,
      peak_percent: occKnown ? percent(peak, g.nslabs, 'floor') : null,
      peak_at: occKnown ? peakAt : null,
      peak_area_slots: occKnown && anchored ? [...an.peakArea] : null,
      final_slots: occKnown ? an.used : null,
      live_at_end: an.live.count,
      average_slots: occKnown ? round1(b.averageSlots) : null,
      kernel_hiwater: an.kernelHiwater,
      basis: !occKnown
        ? followed || an.bounceAttempts === 0
          ? 'no bounce buffers mapped in the input'
          : 'not known: the input has no maps with their bounce addresses and no unmaps'
        : anchored
          ? `the ${g.profile.name} model following the kernel's placements`
          : 'slot counts per mapping (pool start unknown)',
      timeline: occKnown ? b.buckets.points(256) : [],
    },
    failures: {
      count: failedMaps,
      by_cause: fails,
      first: an.failures.map((f) => ({ ...f })),
      range: failRange,
    },
    devices: ds,
    copies: {
      at_map: b.copied(EventKind.Map, EventKind.MapResource),
      at_unmap: b.copied(EventKind.Unmap),
      at_sync: b.copied(EventKind.SyncForCpu, EventKind.SyncForDevice),
    },
    check: {
      compared: primary?.compared ?? 0,
      matched: primary && primary.compared > 0 ? primary.matched : null,
      races: primary?.races ?? 0,
      mismatches: primary?.mismatches ?? 0,
      dma_order: primary?.orderDiffs ?? 0,
      profile: primary?.profile.name ?? null,
      profiles,
      fits,
      note: checkNote,
    },
    sizing,
    sizing_note: r.sizingNote,
    log: {
      lines: an.logLines,
      full_messages: book.fullMessages,
      too_big: tooBigLog,
      overflow_messages: book.overflowMessages,
      out_of_space_messages: book.outOfSpaceMessages,
      suppressed: book.suppressed,
      failures: book.failures,
      by_cause: Object.fromEntries([...book.byCause.entries()].sort((x, y) => y[1] - x[1])),
      no_size_helps: book.noSizeHelps,
      mask_limited: book.maskLimited,
      bounce_beyond_mask: book.bounceBeyondMask,
      coherent_failures: book.coherentFailures,
      coherent_messages: book.coherentMessages,
      mem_encrypt: book.memEncrypt,
      restricted_pools: book.restrictedPools.map((p) => ({ ...p })),
      messages_dropped: book.dropped,
      messages: book.entries
        .filter((e) => !REPORT_SKIPS.has(e.msg.kind))
        .slice(0, 500)
        .map((e) => ({
          file: e.file,
          line: e.msg.line,
          line_end: e.msg.endLine ?? e.msg.line,
          kind: e.msg.kind,
          format: e.msg.format,
          device: e.msg.device ?? null,
          size: e.msg.size ?? null,
          total: e.msg.total ?? null,
          used: e.msg.used ?? null,
          event: e.event,
          cause: e.cause,
          size_helps: e.sizeHelps,
          explanation: e.explanation,
          text: e.msg.text,
        })),
    },
    markers: an.markers.slice(0, 100).map((m) => ({ file: m.file, line: m.line, text: m.text })),
    conclusions,
    diagnostics: [...an.diagnostics],
    diagnostics_dropped: an.diagnosticsDropped,
  };
}

/** Log lines that are facts about the machine or frames of a WARN report, not messages to list. */
const REPORT_SKIPS = new Set(['cmdline', 'version', 'uname', 'cpus', 'pci-dma', 'cut-here', 'warn-cpu', 'hardware', 'end-trace']);

/** A device's row: the trace's figures (zero when only the log names it) and what the log says of it. */
function deviceRow(
  name: string,
  d: DeviceEvidence | undefined,
  t: Tally | undefined,
  log: LogDevice | null,
): TextReport['devices'][number] {
  return {
    name,
    driver: d?.driver || log?.driver || null,
    maps: t?.maps ?? 0,
    bounced: t?.bounced ?? 0,
    direct: t?.direct ?? 0,
    failed: t ? t.failed + t.hangs : 0,
    unmaps: t?.unmaps ?? 0,
    syncs: t?.syncs ?? 0,
    bounce_attempts: d?.bounceAttempts ?? 0,
    forced: d?.forced ?? 0,
    beyond_dma_mask: d?.beyondMask ?? 0,
    within_dma_mask: d?.withinMask ?? 0,
    dma_mask: d && d.dmaMask >= 0 ? maskHex(d.dmaMask) : (log?.dma_mask ?? null),
    min_align_mask: d && d.minAlignMask >= 0 ? hexAddr(d.minAlignMask) : null,
    min_align_source: d?.minAlignSource ?? 'unknown',
    segment_boundary: d ? formatBoundary(d.boundaryBits) : null,
    segment_boundary_source: d?.boundarySource ?? 'unknown',
    segment_boundary_note: d?.boundaryNote || null,
    // every map asked for, failed ones too
    bytes_mapped: t ? t.bytesMapped + t.bytesFailed : 0,
    bytes_bounced: t?.bytesBounced ?? 0,
    peak_live_slots: t?.peakLiveSlots ?? 0,
    largest_map: t?.largestMap ?? 0,
    log,
  };
}

function round1(x: number | null): number | null {
  return x === null ? null : Math.round(x * 10) / 10;
}

function maskHex(m: number): string {
  return m >= 2 ** 53 ? '0xffffffffffffffff' : hexAddr(m);
}

/** The report for people. */
export function formatReport(rep: TextReport): string {
  const out: string[] = [];
  const p = rep.pool;
  const c = rep.counts;
  out.push(
    `Analysis of ${
      rep.input.files
        .filter((f) => f.role === 'trace' || f.role === 'log')
        .map((f) => `${f.path} (${f.role})`)
        .join(', ') || 'no input'
    }`,
  );
  out.push(`  input           ${rep.input.kind}; events: ${rep.input.events}${rep.input.clock ? `; clock: ${rep.input.clock}` : ''}`);
  out.push(`  kernel profile  ${rep.kernel.profile}: ${rep.kernel.title} [from ${rep.kernel.source}]`);
  if (rep.kernel.note) out.push(`                  note: ${rep.kernel.note}`);
  if (rep.kernel.release) out.push(`  kernel          ${rep.kernel.release} [from ${rep.kernel.release_source}]`);
  if (rep.platform.name) out.push(`  platform        ${rep.platform.name} (${rep.platform.note})`);
  out.push(
    `  pool            ${p.nslabs} slots (${formatBytes(p.bytes)}) at ${p.base ?? 'an unknown address'}, ${p.nareas} area${p.nareas === 1 ? '' : 's'} of ${p.area_nslabs} slots`,
  );
  out.push(`                  slots from ${p.sources.nslabs}; areas from ${p.sources.nareas}; start from ${p.sources.base}`);
  if (rep.input.kind !== 'log' && rep.input.kind !== 'none') {
    out.push(
      `  maps            ${c.maps} attempts: ${c.bounced_maps} bounced, ${c.direct} direct, ${c.failed} failed${c.maps_without_event ? `, ${c.maps_without_event} with only swiotlb_bounced` : ''}; ${c.unmaps} unmaps of bounce buffers (${c.unmaps_direct} direct), ${c.syncs} syncs`,
    );
    out.push(
      `  swiotlb_bounced ${c.bounced} (${c.bounced_forced} forced)${c.bounced_unmatched ? `, ${c.bounced_unmatched} without a map event` : ''}`,
    );
    const unk = Object.entries(c.unknown_events);
    if (unk.length) out.push(`  other events    ${unk.map(([k, v]) => `${k} ${v}`).join(', ')} (not used)`);
    const o = rep.occupancy;
    if (o.peak_slots !== null) {
      out.push(
        `  peak occupancy  ${o.peak_lower_bound ? 'at least ' : ''}${o.peak_slots} slots = ${o.peak_percent} % of the pool (at ${o.peak_at?.file}:${o.peak_at?.line}); average ${o.average_slots}; in use at the end ${o.final_slots}`,
      );
      if (o.peak_area_slots && o.peak_area_slots.length > 1) {
        out.push(`  per-area peak   ${o.peak_area_slots.map((v, i) => `area ${i}: ${v}/${p.area_nslabs}`).join(', ')}`);
      }
      if (o.kernel_hiwater !== null) out.push(`  kernel hiwater  ${o.kernel_hiwater} slots (debugfs io_tlb_used_hiwater)`);
      out.push(`                  basis: ${o.basis}`);
    } else {
      out.push(`  occupancy       ${o.basis}`);
    }
    const fr = rep.failures.range;
    if (fr) out.push(`  failures range  ${fr.min} ... ${fr.max}, likely ${fr.likely}: ${fr.note}`);
    if (rep.failures.count) {
      out.push(
        `  failures        ${rep.failures.count}: ${Object.entries(rep.failures.by_cause)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
      for (const f of rep.failures.first.slice(0, 8)) out.push(`    ${f.file}:${f.line} [${f.cause}] ${f.message}`);
    }
    out.push(
      `  bytes copied    ${formatBytes(rep.copies.at_map)} at map, ${formatBytes(rep.copies.at_unmap)} at unmap, ${formatBytes(rep.copies.at_sync)} at sync`,
    );
    if (rep.devices.length) {
      out.push('  devices');
      for (const d of rep.devices) {
        const why = [
          d.forced ? `${d.forced} forced` : '',
          d.beyond_dma_mask ? `${d.beyond_dma_mask} beyond dma_mask ${d.dma_mask}` : '',
          d.within_dma_mask ? `${d.within_dma_mask} within dma_mask` : '',
        ]
          .filter(Boolean)
          .join(', ');
        out.push(
          `    ${d.driver ? `${d.driver} ` : ''}${d.name}: ${d.maps} maps (${d.bounced} bounced, ${d.direct} direct, ${d.failed} failed), peak ${d.peak_live_slots} live slots, largest ${d.largest_map} B${d.min_align_mask ? `, min_align_mask ${d.min_align_mask} (${d.min_align_source})` : ''}${d.segment_boundary && d.segment_boundary_source !== 'default' ? `, segment boundary ${d.segment_boundary} (${d.segment_boundary_source})` : ''}${why ? `; bounces: ${why}` : ''}`,
        );
      }
    }
    const k = rep.check;
    out.push(`  kernel check    ${k.note}`);
    for (const pr of k.profiles) {
      if (pr.compared === 0) continue;
      out.push(
        `    ${pr.name.padEnd(10)} ${pr.matched}/${pr.compared} (${pr.agreement_percent} %)${pr.races ? `, ${pr.races} raced` : ''}${pr.warmups ? `, ${pr.warmups} before the area's index was known` : ''}${pr.dma_order ? `, ${pr.dma_order} of the dma:* order` : ''}${pr.lost ? `, ${pr.lost} not followable` : ''}${k.fits.includes(pr.name) ? '  <- fits' : ''}`,
      );
    }
  }
  const l = rep.log;
  if (l.lines > 0 || l.messages.length > 0) {
    out.push(
      `  kernel log      ${l.full_messages} "buffer is full" message(s) (${l.too_big} above the ceiling), ${l.overflow_messages} overflow line(s)${l.suppressed ? `, ${l.suppressed} suppressed by the rate limit` : ''}`,
    );
    for (const m of l.messages.filter((x) => x.explanation).slice(0, 20)) {
      out.push(`    ${m.file}:${m.line}: ${m.text}`);
      out.push(`      [${m.cause}] ${m.explanation}`);
    }
  }
  if (rep.conclusions.length) {
    out.push('  conclusions');
    for (const s of rep.conclusions) out.push(`    - ${s}`);
  }
  if (rep.diagnostics.length) {
    out.push(`  diagnostics (${rep.diagnostics.length + rep.diagnostics_dropped})`);
    for (const d of rep.diagnostics.slice(0, 20)) out.push(`    ${d.file}${d.line ? `:${d.line}` : ''}: ${d.severity}: ${d.message}`);
    if (rep.diagnostics.length + rep.diagnostics_dropped > 20)
      out.push(`    ... ${rep.diagnostics.length + rep.diagnostics_dropped - 20} more`);
  }
  return out.join('\n');
}
