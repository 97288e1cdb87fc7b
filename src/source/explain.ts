/**
 * Everything known about one call site, for the editor's hover (Markdown) and the output
 * channel: the verdict, every reason, the addresses of each probe, the workload's figures, the
 * device and where its masks come from, the pair, and the annotations that apply.
 */

import { hexAddr } from '../model/hex';
import { reasonCodes, reasonTexts } from '../model/reasons';
import { formatBytes } from '../model/units';
import type { SourceAnalysis } from './analyze';
import { DEVICE_KEYS } from './annotations';
import { hintsJson } from './report';
import type { Site } from './sites';

const code = (s: string) => `\`${s.replaceAll('`', "'")}\``;
const hex = (n: number | null) => (n === null || n < 0 ? '' : hexAddr(n));

/** Markdown for a hover. */
export function explainSite(s: Site, a: SourceAnalysis): string {
  const v = a.verdicts.get(s.id);
  const out: string[] = [];
  out.push(`**${s.api}**${s.deviceExpr ? ` on ${code(s.deviceExpr)}` : ''}${v ? ` — ${v.lens}` : ''}`);
  out.push('');
  const args: string[] = [];
  if (s.size) {
    const trail = s.size.trail?.map((t) => `${t.name} = ${t.value} (${t.where})`).join('; ');
    args.push(
      `size ${code(s.size.text)}${s.size.value !== undefined ? ` = ${s.size.value} B` : ' (not a constant)'}${trail ? `: ${trail}` : ''}`,
    );
  }
  if (s.hints.size) args.push(`size from the annotation: ${String(hintsJson({ size: s.hints.size }).size)}`);
  if (s.dir) args.push(`${code(s.dir.text)}${s.dir.value === undefined ? ' (direction not a constant: DMA_BIDIRECTIONAL assumed)' : ''}`);
  if (s.attrs?.value) args.push(`attrs ${hexAddr(s.attrs.value)}`);
  if (s.setValue)
    args.push(
      `sets ${code(s.setValue.text)}${s.setValue.value !== undefined ? ` = 0x${s.setValue.value.toString(16)}` : ' (not a constant)'}`,
    );
  if (args.length) out.push(args.join(' · '));
  const dev = a.devices.find((d) => d.key === s.deviceKey && d.driver === s.driver);
  if (dev) {
    out.push('');
    out.push(
      `Device: dma_mask ${code(`0x${dev.view.dmaMask.value.toString(16)}`)} (${dev.view.dmaMask.from}); min_align_mask ${hexAddr(dev.view.minAlignMask.value)}; max_seg_size ${formatBytes(dev.view.maxSegSize.value)}`,
    );
  }
  // annotations and per-device settings win over what the source's set-up calls say
  const overrides = Object.entries(hintsJson(s.hints)).filter(([k]) => (DEVICE_KEYS as readonly string[]).includes(k));
  if (overrides.length)
    out.push(`Overridden by annotations or settings: ${overrides.map(([k, v]) => code(`${k}=${String(v)}`)).join(' ')}`);
  const d = a.drivers.find((x) => x.name === s.driver);
  if (d) {
    const pool = d.sim?.pool;
    out.push('');
    out.push(
      `Machine: ${d.machine.platform.id}, kernel ${d.machine.kernel.name}, ${formatBytes(d.machine.ramBytes)} RAM; ${pool ? `pool ${pool.nslabs} slots (${formatBytes(pool.nslabs * 2048)}) at ${hexAddr(pool.start)}` : 'no swiotlb pool'}`,
    );
  }
  if (v) {
    if (v.probes.length) {
      out.push('');
      out.push('| buffer | phys | bus | dma | result | reasons | slot | copied |');
      out.push('|---|---|---|---|---|---|---|---|');
      for (const p of v.probes) {
        const dd = p.decision;
        out.push(
          `| ${p.where}, ${formatBytes(p.size)} | ${hex(dd.phys)} | ${hex(dd.bus)} | ${hex(dd.dma)} | ${dd.result} | ${reasonCodes(dd.reasons).join(', ')} | ${dd.slot !== null ? `${dd.slot}+${dd.nslots} at ${hex(dd.tlbAddr)}` : ''} | ${dd.copied || ''} |`,
        );
      }
    }
    if (v.reasons) {
      out.push('');
      out.push('Reasons:');
      for (const [i, c] of reasonCodes(v.reasons).entries()) out.push(`- ${code(c)}: ${reasonTexts(v.reasons)[i]}`);
    }
    const messages = new Set(v.probes.flatMap((p) => p.decision.messages));
    if (v.workload?.firstFailure) for (const m of v.workload.firstFailure.messages) messages.add(m);
    if (messages.size) {
      out.push('');
      out.push('The kernel would print:');
      for (const m of messages) out.push(`- ${code(m)}`);
    }
    const w = v.workload;
    if (w) {
      out.push('');
      out.push(
        `Workload: ${w.maps} maps, ${w.depth} in flight: ${w.direct} direct, ${w.bounced} bounced, ${w.failed + w.hangs} failed${
          Object.keys(w.failuresByCause).length
            ? ` (${Object.entries(w.failuresByCause)
                .map(([k, n]) => `${k} ${n}`)
                .join(', ')})`
            : ''
        }; ${w.bounced ? `${(w.slotsTotal / w.bounced).toFixed(1)} slots per bounce, ` : ''}peak ${w.peakUsed} slots; ${formatBytes(w.copied)} copied at map time`,
      );
    }
    if (v.notes.length) {
      out.push('');
      for (const n of v.notes) out.push(`- ${n}`);
    }
  }
  const pair = a.pairs.find((p) => p.map === s.id || p.unmaps.includes(s.id) || p.syncs.includes(s.id));
  if (pair) {
    const where = (id: number) => {
      const x = a.sites.find((y) => y.id === id);
      return x ? `${x.api} at ${x.file}:${x.raw.span.row + 1}` : `site ${id}`;
    };
    out.push('');
    out.push(
      `Handle ${code(pair.handle)}: mapped by ${where(pair.map)}${pair.unmaps.length ? `; released by ${pair.unmaps.map(where).join(', ')}` : ''}${pair.syncs.length ? `; synced by ${pair.syncs.map(where).join(', ')}` : ''}`,
    );
  }
  if (s.annotations.length) {
    out.push('');
    out.push(
      `Annotations: ${s.annotations
        .map(
          (an) =>
            `${an.scope === 'call' ? 'swiotlb:' : `swiotlb-${an.scope}:`} ${Object.entries(hintsJson(an.hints))
              .map(([k, x]) => `${k}=${String(x)}`)
              .join(' ')} (line ${an.span.row + 1})`,
        )
        .join('; ')}`,
    );
  } else if (s.role === 'map') {
    out.push('');
    out.push('No annotation: write `/* swiotlb: size=... depth=... where=... */` above the call for slots, pool occupancy and failures.');
  }
  return out.join('\n');
}

/** Where the editor opens a site's explanation (the CodeLens's command): the start of the call's name. */
export function explainPosition(s: Site): { readonly line: number; readonly character: number } {
  return { line: s.raw.nameSpan.row, character: s.raw.nameSpan.col };
}

/** The innermost call at a 0-based position (a map inside another call's arguments): the site a hover explains. */
export function siteAtPosition<S extends Site>(sites: readonly S[], line: number, character: number): S | undefined {
  let best: S | undefined;
  for (const s of sites) {
    const sp = s.raw.span;
    const afterStart = line > sp.row || (line === sp.row && character >= sp.col);
    const beforeEnd = line < sp.endRow || (line === sp.endRow && character <= sp.endCol);
    if (!afterStart || !beforeEnd) continue;
    // the latest start is the innermost
    if (!best || sp.row > best.raw.span.row || (sp.row === best.raw.span.row && sp.col > best.raw.span.col)) best = s;
  }
  return best;
}
