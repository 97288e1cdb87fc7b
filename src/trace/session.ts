/**
 * A trace/log analysis as the shared AnalysisSession every view reads (kind 'trace', 'log' or
 * 'trace+log'): the pool's geometry, the per-call event table the analyzer filled, and the
 * summary and device totals from the same books the report reads.
 */
import { type AnalysisSession, devicesOf, poolInfo, summaryOf } from '../analysis/session';
import { inputKind } from './report';
import type { TextAnalysis } from './run';

export function traceSession(analysis: TextAnalysis): AnalysisSession {
  const an = analysis.analyzer;
  const g = an.ensureGeometry();
  const events = an.events;
  if (!events) throw new Error('traceSession needs an analysis run with an event table (the events option)');
  events.hasClock = an.hasClock;
  const kind = inputKind(an);
  // the pool the primary model ran (it may have fewer areas than asked for), else the geometry
  const pool = an.primary?.pool ?? (g.base === null ? null : { start: g.base, nslabs: g.nslabs, nareas: g.nareas });
  return {
    kind: kind === 'none' ? 'log' : kind,
    files: analysis.inputs.filter((f) => f.role === 'trace' || f.role === 'log').map((f) => f.label),
    kernel: g.profile.name,
    platform: an.options.platform ?? 'not given',
    pool:
      pool && g.base !== null ? poolInfo(pool, `slots: ${g.sources.nslabs}; areas: ${g.sources.nareas}; start: ${g.sources.base}`) : null,
    events,
    summary: summaryOf(an.books, an.rowsDropped, events.length),
    devices: devicesOf(an.books, events.devices.values),
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
