/**
 * Runs a trace/log analysis in a worker thread (its own bundle, dist/analyzeWorker.js), so the
 * extension host's main thread stays responsive: the shared analysis of the route
 * (inputs/analyze.ts), progress messages while reading, then the session (its event table as
 * transferred column buffers) with its tracks (tracks.ts, built here: at 10 M rows the build would
 * hold the host's thread for seconds), what the panel says around it and the report. While reading, it
 * posts the occupancy chart of the rows read so far every PARTIAL_MS (GrowingTimeline: each post
 * costs the rows added since the last). Cancelling terminates the worker.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { EventTable, type EventTableTransfer } from '../analysis/eventTable';
import type { SessionExtras } from '../analysis/panelModel';
import { GrowingTimeline } from '../analysis/partialTimeline';
import type { AnalysisSession } from '../analysis/session';
import { Tracks, type TracksTransfer } from '../analysis/tracks';
import { analyzeRoute, summaryLine } from '../inputs/analyze';
import type { Route } from '../inputs/router';
import type { PartialChart } from '../protocol/messages';

/** How often the chart of what was read is posted while reading. */
export const PARTIAL_MS = 400;

export interface AnalyzeWorkerInput {
  readonly route: Extract<Route, { kind: 'text' }>;
  /** Rows kept for the session's event table. */
  readonly rowLimit: number;
  /** How the report's last line names the first file. */
  readonly label: string;
  /** Milliseconds between two charts of what was read (default PARTIAL_MS). */
  readonly partialMs?: number;
}

export type AnalyzeWorkerMessage =
  | { type: 'progress'; fraction: number }
  /** A spill file of the event table (eventTable.ts): the host removes it if the analysis does not finish. */
  | { type: 'spill'; file: string }
  /** What the worker does after reading (the progress notification says it). */
  | { type: 'stage'; message: string }
  | ({ type: 'partial' } & PartialChart)
  | {
      type: 'done';
      text: string;
      extras: Omit<SessionExtras, 'request'>;
      /** The session for the panel: its event table travels as transferred column buffers. */
      session: Omit<AnalysisSession, 'events'>;
      events: EventTableTransfer;
      /** The panel's tracks of those rows, built here. */
      tracks: TracksTransfer;
    }
  | { type: 'error'; message: string };

async function main(): Promise<void> {
  const input = workerData as AnalyzeWorkerInput;
  const post = (m: AnalyzeWorkerMessage) => parentPort?.postMessage(m);
  // terminate() runs no exit handler here: the host removes the files of an unfinished analysis
  EventTable.onSpillFile = (file) => post({ type: 'spill', file });
  try {
    // heads arrive as plain bytes
    const inputs = input.route.inputs.map((f) => (f.head ? { ...f, head: Buffer.from(f.head) } : f));
    const events = new EventTable();
    const chart = new GrowingTimeline();
    let lastPartial = performance.now();
    const a = await analyzeRoute(
      { ...input.route, inputs },
      {
        rowLimit: input.rowLimit,
        events,
        onProgress: (fraction) => {
          post({ type: 'progress', fraction });
          const now = performance.now();
          if (now - lastPartial < (input.partialMs ?? PARTIAL_MS) || fraction >= 1) return;
          lastPartial = now;
          chart.feed(events);
          if (chart.rows === 0) return;
          const data = chart.columns();
          const m: AnalyzeWorkerMessage = {
            type: 'partial',
            fraction,
            rows: chart.rows,
            hasClock: chart.fractionalTimes,
            peak: chart.peak,
            data,
          };
          parentPort?.postMessage(m, [
            data.totalMin.buffer,
            data.totalMax.buffer,
            data.hiwater.buffer,
            data.failures.buffer,
            data.events.buffer,
          ] as ArrayBuffer[]);
        },
      },
    );
    if (a.kind !== 'text') throw new Error(`not a trace route: ${a.kind}`);
    const { events: table, ...session } = a.session;
    post({ type: 'stage', message: 'building the tracks' });
    const tracks = new Tracks(table, session.pool?.nareas ?? 0).toTransfer();
    const transfer = table.toTransfer();
    const text = `${a.text}\n${summaryLine(input.label, a.json)}`;
    const done: AnalyzeWorkerMessage = { type: 'done', text, extras: a.extras, session, events: transfer, tracks };
    parentPort?.postMessage(done, [...EventTable.transferList(transfer), ...Tracks.transferList(tracks)]);
  } catch (e) {
    post({ type: 'error', message: (e as Error).message });
  }
}

void main();
