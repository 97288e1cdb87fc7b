/**
 * A trace/log analysis as the shared AnalysisSession every view reads (kind 'trace', 'log' or
 * 'trace+log'): the pool, the per-call event table the analyzer filled, the generic summary and
 * the diagnostics.
 */
import type { AnalysisSession } from '../analysis/session';
import { type SessionSummary, summarizeEvents } from '../analysis/session';
import type { TextReport } from './report';
import type { TextAnalysis } from './run';

export function traceSession(analysis: TextAnalysis, report: TextReport): AnalysisSession {
  const an = analysis.analyzer;
  const g = an.ensureGeometry();
  const events = an.events;
  if (!events) throw new Error('traceSession needs an analysis run with an event table (the events option)');
  events.hasClock = an.hasClock;
  const kind = report.input.kind === 'none' ? 'log' : report.input.kind;
  const rows = summarizeEvents(events);
  return {
    kind,
    files: analysis.inputs.filter((f) => f.role === 'trace' || f.role === 'log').map((f) => f.label),
    kernel: g.profile.name,
    platform: an.options.platform ?? 'not given',
    pool:
      g.base === null
        ? null
        : {
            start: g.base,
            nslabs: g.nslabs,
            nareas: report.pool.nareas,
            areaNslabs: report.pool.area_nslabs,
            source: `slots: ${g.sources.nslabs}; areas: ${g.sources.nareas}; start: ${g.sources.base}`,
          },
    events,
    summary: an.rowsDropped > 0 ? wholeInput(rows, report, events.length) : rows,
    diagnostics: [
      ...an.diagnostics,
      ...(an.rowsDropped > 0
        ? [
            {
              file: '',
              line: 0,
              severity: 'info' as const,
              message: `${an.rowsDropped} events after the first ${events.length} are counted in the report but not kept as rows`,
            },
          ]
        : []),
    ],
  };
}

/**
 * The rows stop at swiotlbLens.maxRows but the analyzer counted every event: the summary bar
 * shows the whole input's figures, from the report, rather than those of the first rows.
 */
function wholeInput(rows: SessionSummary, report: TextReport, kept: number): SessionSummary {
  const c = report.counts;
  return {
    ...rows,
    maps: c.maps,
    direct: c.direct,
    bounced: c.bounced_maps,
    failed: c.failed,
    unmaps: c.unmaps + c.unmaps_direct,
    syncs: c.syncs,
    bytesCopied: report.copies.at_map + report.copies.at_unmap + report.copies.at_sync,
    failuresByCause: { ...report.failures.by_cause },
    peakSlots: report.occupancy.peak_slots,
    averageSlots: report.occupancy.average_slots,
    rowsOnly: kept,
  };
}
