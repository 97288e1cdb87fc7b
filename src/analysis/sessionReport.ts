/**
 * Reports of an analysis session for people and scripts: a Markdown summary and a streamed JSON
 * document with the rows of the current table query. Pure: used by the extension's export and
 * tested directly.
 */
import { IO_TLB_SIZE } from '../model/constants';
import { pctText } from '../model/units';
import type { SessionInfo } from '../protocol/messages';
import type { PanelModel } from './panelModel';

const num = (n: number) => n.toLocaleString('en-US');
const pct = (a: number, b: number) => pctText(a, b, { none: 'n/a' });

/** Markdown text: tables escape their cell separators, nothing from the input is markup. */
function md(s: string): string {
  return s.replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
}

export function sessionMarkdown(info: SessionInfo): string {
  const s = info.summary;
  const out: string[] = [];
  out.push(`# SWIOTLB Lens: ${md(info.title)}`, '');
  out.push(`- Input (${info.kind}): ${info.files.map((f) => md(f)).join(', ')}`);
  out.push(`- Kernel profile: ${md(info.kernel)}; platform: ${md(info.platform)}`);
  if (info.pool) {
    out.push(
      `- Pool: ${num(info.pool.nslabs)} slots (${num((info.pool.nslabs * IO_TLB_SIZE) / 1048576)} MiB) in ${info.pool.nareas} area${info.pool.nareas === 1 ? '' : 's'} of ${num(info.pool.areaNslabs)} slots (from ${md(info.pool.source)})`,
    );
  }
  out.push('', '## Summary', '', '| | |', '|---|---|');
  out.push(`| Maps | ${num(s.maps)} |`);
  out.push(`| Bounced | ${num(s.bounced)} (${pct(s.bounced, s.maps)}) |`);
  out.push(`| Direct | ${num(s.direct)} |`);
  out.push(`| Failed | ${num(s.failed + s.hangs)} |`);
  out.push(`| Bytes copied | ${num(s.bytesCopied)} |`);
  if (s.peakSlots !== null)
    out.push(`| Peak occupancy | ${num(s.peakSlots)} slots${info.pool ? ` (${pct(s.peakSlots, info.pool.nslabs)})` : ''} |`);
  if (s.averageSlots !== null)
    out.push(`| Average occupancy | ${s.averageSlots.toFixed(1)} slots${info.pool ? ` (${pct(s.averageSlots, info.pool.nslabs)})` : ''} |`);
  if (s.check)
    out.push(
      `| Model check | ${num(s.check.matched)} of ${num(s.check.compared)} placements as the kernel chose (${md(s.check.profile)}) |`,
    );
  const reasons = Object.entries(s.bouncesByReason);
  if (reasons.length) {
    out.push('', '## Why mappings bounced', '');
    for (const [k, v] of reasons.sort((a, b) => b[1] - a[1])) out.push(`- ${md(k)}: ${num(v)}`);
  }
  const causes = Object.entries(s.failuresByCause);
  if (causes.length) {
    out.push('', '## Failures by cause', '');
    for (const [k, v] of causes.sort((a, b) => b[1] - a[1])) out.push(`- ${md(k)}: ${num(v)}`);
  }
  if (s.advice) out.push('', '## Sizing advice', '', md(s.advice));
  if (info.deviceStats.length) {
    out.push('', '## Devices', '', '| Device | Maps | Bounced | Failed | Bytes copied | Peak slots |', '|---|---:|---:|---:|---:|---:|');
    for (const d of info.deviceStats) {
      out.push(`| ${md(d.name)} | ${num(d.maps)} | ${num(d.bounced)} | ${num(d.failed)} | ${num(d.bytesCopied)} | ${num(d.peakSlots)} |`);
    }
  }
  if (info.notes.length || info.diagnosticCount) {
    out.push('', '## Notes', '');
    for (const n of info.notes) out.push(`- ${md(n)}`);
    for (const d of info.diagnostics) out.push(`- ${md(d.file)}:${d.line}: ${d.severity}: ${md(d.message)}`);
    if (info.diagnosticCount > info.diagnostics.length) out.push(`- ... and ${num(info.diagnosticCount - info.diagnostics.length)} more`);
  }
  out.push('');
  return out.join('\n');
}

/** The session and the rows of the current query (printed as columns.ts says) as one JSON document, in chunks. */
export function* jsonExportChunks(model: PanelModel): Generator<string> {
  const { id: _id, request: _request, names: _names, ...info } = model.info;
  yield `{"format":"swiotlb-lens-rows/2","session":${JSON.stringify(info)},"rows":[`;
  const rows = model.current;
  const t = model.session.events;
  for (let k = 0; k < rows.length; k++) {
    yield `${k ? ',' : ''}\n${JSON.stringify(t.row(rows[k] as number))}`;
  }
  yield '\n]}\n';
}
