/**
 * Driver source analysis as JSON (the CLI contract: sites, devices, pairs, diagnostics) and as
 * text for people.
 */

import { DMA_DIRECTION_NAMES, IO_TLB_SIZE } from '../model/constants';
import { dynamicSizingText } from '../model/dynamicSizing';
import { boundaryHex, hexAddr, maskBits } from '../model/hex';
import { reasonCodes, reasonTexts } from '../model/reasons';
import { formatBytes, percent } from '../model/units';
import { decisionJson } from '../scenario/report';
import type { SourceAnalysis } from './analyze';
import type { Hints, Placement, SizeSpec } from './annotations';
import type { Machine, Verdict } from './simulate';
import type { HandleRef, Site, SourceDiagnostic } from './sites';

const hexBig = (v: bigint) => `0x${v.toString(16)}`;

function sizeText(s: SizeSpec): string {
  switch (s.kind) {
    case 'fixed':
      return String(s.size);
    case 'uniform':
      return `${s.min}..${s.max}`;
    default:
      return s.sizes.map((x) => (x.weight === 1 ? String(x.size) : `${x.size}:${x.weight}`)).join(',');
  }
}

function placementText(p: Placement): string {
  switch (p.kind) {
    case 'any':
      return 'any';
    case 'region':
      return p.region;
    case 'range':
      return p.hi - p.lo <= 1 ? hexAddr(p.lo) : `${hexAddr(p.lo)}..${hexAddr(p.hi)}`;
    default:
      return p.parts.map((x) => `${x.region}:${x.weight}`).join(',');
  }
}

/** Hints as JSON: masks as hex strings, sizes and placements as the annotation grammar writes them. */
export function hintsJson(h: Hints): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    if (k === 'size') out[k] = sizeText(v as SizeSpec);
    else if (k === 'where') out[k] = placementText(v as Placement);
    else if (k === 'dir') out[k] = DMA_DIRECTION_NAMES[v as 0];
    else if (typeof v === 'bigint') out[k] = hexBig(v);
    else if (k === 'min_align_mask' || k === 'bus_dma_limit' || k === 'dma_offset') out[k] = hexAddr(v as number);
    else out[k] = v;
  }
  return out;
}

/** Hints in the annotation grammar ("dma_mask=0xffffffffff min_align_mask=0xfff"). */
function hintsText(h: Hints): string {
  return Object.entries(hintsJson(h))
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}

function verdictJson(v: Verdict, s: Site) {
  const line = s.raw.span.row + 1;
  return {
    status: v.status,
    lens: v.lens,
    summary: v.summary,
    reasons: reasonCodes(v.reasons),
    reason_texts: reasonTexts(v.reasons),
    size_known: v.sizeKnown,
    ...(v.dmaLimit !== undefined ? { dma_limit: hexAddr(v.dmaLimit) } : {}),
    notes: v.notes,
    probes: v.probes.map((p) => ({ where: p.where, ...decisionJson(p.decision, s.id, line) })),
    ...(v.workload
      ? {
          workload: {
            depth: v.workload.depth,
            count: v.workload.count,
            maps: v.workload.maps,
            direct: v.workload.direct,
            bounced: v.workload.bounced,
            failed: v.workload.failed,
            hangs: v.workload.hangs,
            failures_by_cause: v.workload.failuresByCause,
            slots_min: Number.isFinite(v.workload.slotsMin) ? v.workload.slotsMin : null,
            slots_max: v.workload.slotsMax,
            slots_per_map: v.workload.bounced ? Math.round((10 * v.workload.slotsTotal) / v.workload.bounced) / 10 : null,
            copied: v.workload.copied,
            peak_slots: v.workload.peakUsed,
          },
        }
      : {}),
  };
}

/** The decision that stands for a site: its first simulated map, else its most telling probe. */
export function representativeDecision(v: Verdict | undefined) {
  if (!v) return undefined;
  if (v.workload?.firstFailure) return v.workload.firstFailure;
  if (v.workload?.firstDecision) return v.workload.firstDecision;
  const p = v.probes.find((x) => x.decision.result !== 'direct') ?? v.probes[0];
  return p?.decision;
}

/** The pair of each site (its map, unmaps and syncs), by site id. */
function pairsBySite(a: SourceAnalysis): Map<number, SourceAnalysis['pairs'][number]> {
  const out = new Map<number, SourceAnalysis['pairs'][number]>();
  for (const p of a.pairs) for (const id of [p.map, ...p.unmaps, ...p.syncs]) if (!out.has(id)) out.set(id, p);
  return out;
}

export function siteJson(s: Site, a: SourceAnalysis, pairOf = pairsBySite(a)) {
  const span = s.raw.span;
  const v = a.verdicts.get(s.id);
  const pair = pairOf.get(s.id);
  const d = v?.sizeKnown || s.role !== 'map' ? representativeDecision(v) : undefined;
  return {
    id: s.id,
    file: s.file,
    line: span.row + 1,
    column: span.col + 1,
    end_line: span.endRow + 1,
    end_column: span.endCol + 1,
    function: s.function,
    driver: s.driver,
    api: s.api,
    ...(s.raw.via ? { via: s.raw.via } : {}),
    role: s.role,
    family: s.family,
    ...(s.deviceExpr !== undefined ? { device: s.deviceExpr, device_key: s.deviceKey } : {}),
    ...(s.buffer !== undefined ? { buffer: s.buffer } : {}),
    ...(s.size ? { size_expr: s.size.text } : {}),
    ...(s.size?.value !== undefined ? { size: s.size.value } : {}),
    ...(s.size?.trail?.length ? { size_from: s.size.trail } : {}),
    ...(s.nents ? { nents_expr: s.nents.text, ...(s.nents.value !== undefined ? { nents: s.nents.value } : {}) } : {}),
    ...(s.offset ? { offset_expr: s.offset.text, ...(s.offset.value !== undefined ? { offset: s.offset.value } : {}) } : {}),
    ...(s.dir ? { dir: s.dir.text, direction: s.dir.value !== undefined ? DMA_DIRECTION_NAMES[s.dir.value] : null } : {}),
    ...(s.attrs ? { attrs: s.attrs.text, attrs_value: s.attrs.value !== undefined ? hexAddr(s.attrs.value) : null } : {}),
    ...(s.setValue ? { set_value_expr: s.setValue.text, set_value: s.setValue.value !== undefined ? hexBig(s.setValue.value) : null } : {}),
    ...(s.handles.length
      ? {
          handle: handleName(s.handles[0] as HandleRef),
          ...(s.handles.length > 1 ? { handle_also: s.handles.slice(1).map(handleName) } : {}),
        }
      : {}),
    ...(pair ? { pair: pair.id } : {}),
    ...(Object.keys(s.hints).length ? { annotations: hintsJson(s.hints) } : {}),
    ...(s.raw.inError ? { in_error_region: true } : {}),
    ...(v ? { verdict: verdictJson(v, s) } : {}),
    decision: d ? decisionJson(d, s.id, span.row + 1) : null,
  };
}

export function diagnosticJson(d: SourceDiagnostic) {
  return {
    file: d.file,
    line: d.span.row + 1,
    column: d.span.col + 1,
    end_line: d.span.endRow + 1,
    end_column: d.span.endCol + 1,
    severity: d.severity,
    code: d.code,
    message: d.message,
    ...(d.site !== undefined ? { site: d.site } : {}),
  };
}

function machineJson(m: Machine, sim: SourceAnalysis['drivers'][number]['sim']) {
  const pool = sim?.pool ?? null;
  return {
    cpus: m.cpus,
    ram: m.ramBytes,
    ...(m.cmdline ? { cmdline: m.cmdline } : {}),
    dynamic: m.dynamic ?? false,
    ...(sim?.dynamicSizing ? { dynamic_sizing: dynamicSizingText(sim.dynamicSizing) } : {}),
    pool: pool
      ? {
          nslabs: pool.nslabs,
          nareas: pool.nareas,
          base: hexAddr(pool.start),
          bytes: pool.nslabs * IO_TLB_SIZE,
          force_bounce: pool.forceBounce,
          why: sim?.poolWhy,
        }
      : { nslabs: 0, why: sim?.poolWhy ?? null },
  };
}

/** A field of the JSON object, in order: a value, or an array given item by item (written as it comes). */
export type JsonField = { readonly key: string; readonly value: unknown } | { readonly key: string; readonly items: Iterable<unknown> };

function* mapped<T, U>(xs: readonly T[], f: (x: T) => U): Generator<U> {
  for (const x of xs) yield f(x);
}

/** The analysis as one object (sourceJsonFields materialised). */
export function sourceJson(a: SourceAnalysis, paths: readonly string[]) {
  const out: Record<string, unknown> = {};
  for (const f of sourceJsonFields(a, paths)) out[f.key] = 'items' in f ? [...f.items] : f.value;
  return out as ReturnType<typeof sourceJsonObject>;
}

/** The fields of the JSON, the long arrays (sites, pairs, diagnostics) as generators. */
export function sourceJsonFields(a: SourceAnalysis, paths: readonly string[]): JsonField[] {
  const o = sourceJsonObject(a, paths);
  const pairOf = pairsBySite(a);
  const siteById = new Map(a.sites.map((s) => [s.id, s] as const));
  return Object.entries(o).map(([key, value]) => {
    if (key === 'sites') return { key, items: mapped(a.sites, (s) => siteJson(s, a, pairOf)) };
    if (key === 'pairs') return { key, items: mapped(a.pairs, (p) => pairJson(p, (id) => siteById.get(id))) };
    if (key === 'diagnostics') return { key, items: mapped(a.diagnostics, diagnosticJson) };
    return { key, value };
  });
}

function pairJson(p: SourceAnalysis['pairs'][number], site: (id: number) => Site | undefined) {
  const m0 = site(p.map);
  return {
    id: p.id,
    handle: p.handle,
    map: p.map,
    ...(m0 ? { file: m0.file, line: m0.raw.span.row + 1, api: m0.api } : {}),
    unmaps: p.unmaps.map((id) => ({ site: id, ...locate(site(id)) })),
    syncs: p.syncs.map((id) => ({ site: id, ...locate(site(id)) })),
  };
}

/** Every field; the long arrays are placeholders that sourceJsonFields streams. */
function sourceJsonObject(a: SourceAnalysis, paths: readonly string[]) {
  const first = a.drivers.find((d) => d.sim) ?? a.drivers[0];
  const m = first?.machine ?? a.machine;
  const pool = first?.sim?.pool ?? null;
  const count = (st: string) => a.sites.filter((s) => a.verdicts.get(s.id)?.status === st).length;
  const sum = a.session.summary;
  return {
    input: { kind: 'source', paths },
    platform: { id: m.platform.id, title: m.platform.title, ops: m.platform.ops, assumptions: m.platform.assumptions },
    kernel: { name: m.kernel.name, title: m.kernel.title, ...(m.kernelNote ? { note: m.kernelNote } : {}) },
    machine: machineJson(m, first?.sim),
    drivers: a.drivers.map((d) => ({
      name: d.name,
      dir: d.dir,
      files: d.files,
      platform: d.machine.platform.id,
      kernel: d.machine.kernel.name,
      machine: machineJson(d.machine, d.sim),
      workload_calls: d.sim?.workloadCalls ?? 0,
    })),
    files: a.files.map((f) => ({
      file: f.file,
      driver: f.driver,
      bytes: f.bytes,
      lines: f.lines,
      sites: f.sites,
      parse_errors: f.errorNodes,
      ...(f.skipped ? { skipped: f.skipped } : {}),
    })),
    sites: [] as ReturnType<typeof siteJson>[],
    devices: a.devices.map((d) => ({
      device: d.exprs[0] ?? d.key,
      key: d.key,
      driver: d.driver,
      expressions: d.exprs,
      sites: d.sites,
      ...(d.view.configuredAs ? { configured_as: d.view.configuredAs } : {}),
      dma_mask: hexBig(d.view.dmaMask.value),
      dma_mask_bits: maskBits(d.view.dmaMask.value) ?? null,
      dma_mask_from: d.view.dmaMask.from,
      ...(d.view.dmaMask.alternatives.length
        ? { dma_mask_fallbacks: d.view.dmaMask.alternatives.map((x) => ({ value: hexBig(x.value as bigint), file: x.file, line: x.line })) }
        : {}),
      coherent_dma_mask: hexBig(d.view.coherentDmaMask.value),
      min_align_mask: hexAddr(d.view.minAlignMask.value),
      seg_boundary: boundaryHex(maskBits(d.view.segBoundary.value) ?? 64),
      max_seg_size: d.view.maxSegSize.value,
      set_by: [d.view.dmaMask.set, d.view.coherentDmaMask.set, d.view.minAlignMask.set, d.view.segBoundary.set, d.view.maxSegSize.set]
        .filter((x) => x !== undefined)
        .map((x) => ({
          property: x.property,
          value: x.value !== undefined ? hexBig(x.value) : null,
          expr: x.text,
          file: x.file,
          line: x.line,
        })),
      ...(d.settings ? { settings: hintsJson(d.settings) } : {}),
    })),
    pairs: [] as ReturnType<typeof pairJson>[],
    diagnostics: [] as ReturnType<typeof diagnosticJson>[],
    summary: {
      sites: a.sites.length,
      by_api: a.stats.byApi,
      maps: a.sites.filter((s) => s.role === 'map').length,
      direct: count('direct'),
      bounce: count('bounces'),
      may_bounce: count('may-bounce'),
      fail: count('fails'),
      may_fail: count('may-fail'),
      workload: {
        calls: a.session.events.length,
        maps: sum.maps,
        bounced: sum.bounced,
        failed: sum.failed,
        peak_slots: sum.peakSlots,
        peak_percent: pool && sum.peakSlots !== null ? percent(sum.peakSlots, pool.nslabs) : null,
        bytes_copied: sum.bytesCopied,
      },
      diagnostics: {
        error: a.diagnostics.filter((d) => d.severity === 'error').length,
        warning: a.diagnostics.filter((d) => d.severity === 'warning').length,
        info: a.diagnostics.filter((d) => d.severity === 'info').length,
      },
    },
    stats: {
      files: a.stats.files,
      parsed: a.stats.parsed,
      skipped: a.stats.skipped,
      bytes: a.stats.bytes,
      files_with_parse_errors: a.stats.filesWithErrors,
      error_nodes: a.stats.errorNodes,
      ms: a.stats.ms,
    },
  };
}

function handleName(h: HandleRef): string {
  return h.type ? `${h.type}.${h.key}` : h.key;
}

function locate(s: Site | undefined) {
  return s ? { file: s.file, line: s.raw.span.row + 1, api: s.api } : {};
}

/**
 * The will-fail sites in one sentence (the summary beside the workload's figures): how many, where
 * the buffer must be, by cause, the first few; null when none.
 */
export function willFailText(a: SourceAnalysis): string | null {
  const w = a.willFail;
  const n = w.always + w.sometimes;
  if (!n) return null;
  const split =
    w.always && w.sometimes
      ? `: ${w.always} wherever the buffer is, ${w.sometimes} at some placements of it`
      : w.always
        ? ' wherever the buffer is'
        : ' at some placements of the buffer';
  const causes = Object.entries(w.byCause)
    .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  const byId = new Map(a.sites.map((s) => [s.id, s] as const));
  const named = w.first.map((id) => byId.get(id)).filter((s): s is Site => s !== undefined);
  const where = named.map((s) => `${s.api} at ${s.file}:${s.raw.span.row + 1}`).join('; ');
  const more = n > named.length ? `; ${n - named.length} more` : '';
  return `${n} map call site${n === 1 ? '' : 's'} will fail${split} (${causes}): ${where}${more}. Each has its diagnostic.`;
}

/** A report for people: per driver its machine, each site with its verdict, its devices; then the problems. */
export function formatSource(a: SourceAnalysis, maxSites = 400): string {
  const out: string[] = [];
  out.push(
    `Driver source: ${a.stats.files} file${a.stats.files === 1 ? '' : 's'}, ${a.sites.length} DMA call site${a.sites.length === 1 ? '' : 's'} in ${a.drivers.length} driver${a.drivers.length === 1 ? '' : 's'}`,
  );
  let shown = 0;
  for (const d of a.drivers) {
    const m = d.machine;
    out.push('');
    out.push(`${d.name} (${d.dir})`);
    out.push(`  platform  ${m.platform.title} [${m.platform.id}, ${m.platform.ops}]`);
    out.push(`  kernel    ${m.kernel.name}: ${m.kernel.title}`);
    const pool = d.sim?.pool;
    const poolText = pool
      ? `pool ${pool.nslabs} slots (${formatBytes(pool.nslabs * IO_TLB_SIZE)}), ${pool.nareas} areas${pool.forceBounce ? ', force bounce' : ''}`
      : 'no pool';
    out.push(
      `  machine   ${m.cpus} CPUs, ${formatBytes(m.ramBytes)} RAM${m.cmdline ? `, ${m.cmdline}` : ''}; ${poolText}${m.dynamic ? ', dynamic swiotlb' : ''}${d.sim ? ` (${d.sim.poolWhy})` : ''}`,
    );
    if (d.sim?.dynamicSizing) out.push(`  sizing    ${dynamicSizingText(d.sim.dynamicSizing)}`);
    let lastFile = '';
    for (const s of a.sites) {
      if (s.driver !== d.name) continue;
      if (shown++ >= maxSites) continue;
      if (s.file !== lastFile) {
        out.push(`  ${s.file}`);
        lastFile = s.file;
      }
      const v = a.verdicts.get(s.id);
      const size = s.size ? (s.size.value !== undefined ? `${s.size.value} B` : s.size.text) : '';
      const args = [s.deviceExpr ?? '', size, s.dir?.text ?? ''].filter(Boolean).join(', ');
      out.push(`    ${s.raw.span.row + 1}:${s.raw.span.col + 1} ${s.function ?? '-'} ${s.api}(${args})${v ? `: ${v.lens}` : ''}`);
    }
    for (const dev of a.devices.filter((x) => x.driver === d.name))
      out.push(
        `  device ${dev.exprs.join(', ')}: dma_mask ${hexBig(dev.view.dmaMask.value)} (${dev.view.dmaMask.from})${dev.settings ? `; per-device settings, which win over it: ${hintsText(dev.settings)}` : ''}`,
      );
  }
  if (shown > maxSites) out.push(`... ${shown - maxSites} more sites (--json lists every one)`);
  const shownDiags = a.diagnostics.filter((d) => d.code !== 'parse-error');
  if (shownDiags.length) {
    out.push('');
    out.push('problems');
    for (const d of shownDiags.slice(0, 200))
      out.push(`  ${d.file}:${d.span.row + 1}:${d.span.col + 1}: ${d.severity}: ${d.message} [${d.code}]`);
    if (shownDiags.length > 200) out.push(`  ... ${shownDiags.length - 200} more`);
  }
  const parseErrors = a.diagnostics.length - shownDiags.length;
  const sum = a.session.summary;
  out.push('');
  const willFail = willFailText(a);
  if (willFail) out.push(`failing   ${willFail}`);
  if (sum.maps)
    out.push(
      `workload  ${sum.maps} simulated maps: ${sum.direct} direct, ${sum.bounced} bounced, ${sum.failed} failed; ${formatBytes(sum.bytesCopied)} copied`,
    );
  out.push(
    `parsed    ${a.stats.parsed} file${a.stats.parsed === 1 ? '' : 's'}, ${formatBytes(a.stats.bytes)}, in ${(a.stats.ms / 1000).toFixed(1)} s; ${a.stats.filesWithErrors} with syntax errors (${parseErrors} reported); ${a.stats.skipped} without DMA calls or skipped`,
  );
  return out.join('\n');
}
