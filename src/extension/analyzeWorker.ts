/**
 * Runs a trace/log analysis in a worker thread (its own bundle, dist/analyzeWorker.js), so the
 * extension host's main thread stays responsive: the shared analysis of the route
 * (inputs/analyze.ts), progress messages while reading, then the session (its event table as
 * transferred column buffers), what the panel says around it and the report. Cancelling
 * terminates the worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EventTable, type EventTableTransfer } from '../analysis/eventTable';
import type { SessionExtras } from '../analysis/panelModel';
import type { AnalysisSession } from '../analysis/session';
import { analyzeRoute, summaryLine } from '../inputs/analyze';
import type { Route } from '../inputs/router';

export interface AnalyzeWorkerInput {
  readonly route: Extract<Route, { kind: 'text' }>;
  /** Rows kept for the session's event table. */
  readonly rowLimit: number;
  /** How the report's last line names the first file. */
  readonly label: string;
}

export type AnalyzeWorkerMessage =
  | { type: 'progress'; fraction: number }
  /** A spill file of the event table (eventTable.ts): the host removes it if the analysis does not finish. */
  | { type: 'spill'; file: string }
  | {
      type: 'done';
      text: string;
      extras: Omit<SessionExtras, 'request'>;
      /** The session for the panel: its event table travels as transferred column buffers. */
      session: Omit<AnalysisSession, 'events'>;
      events: EventTableTransfer;
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
    const a = await analyzeRoute(
      { ...input.route, inputs },
      { rowLimit: input.rowLimit, onProgress: (fraction) => post({ type: 'progress', fraction }) },
    );
    if (a.kind !== 'text') throw new Error(`not a trace route: ${a.kind}`);
    const { events: table, ...session } = a.session;
    const transfer = table.toTransfer();
    const text = `${a.text}\n${summaryLine(input.label, a.json)}`;
    const done: AnalyzeWorkerMessage = { type: 'done', text, extras: a.extras, session, events: transfer };
    parentPort?.postMessage(done, EventTable.transferList(transfer));
  } catch (e) {
    post({ type: 'error', message: (e as Error).message });
  }
}

void main();
