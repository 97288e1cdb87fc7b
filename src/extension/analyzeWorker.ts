/**
 * Runs a trace/log analysis in a worker thread (its own bundle, dist/analyzeWorker.js), so the
 * extension host's main thread stays responsive: progress messages while reading, then the
 * report (text and JSON) and the session's summary. Cancelling terminates the worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EventTable, type EventTableTransfer } from '../analysis/eventTable';
import type { AnalysisSession } from '../analysis/session';
import { buildReport, formatReport } from '../trace/report';
import { analyzeText } from '../trace/run';
import { traceSession } from '../trace/session';

export interface AnalyzeWorkerInput {
  paths: string[];
  kernel?: string;
  platform?: string;
  cmdline?: string;
  cpus?: number;
  /** Rows kept for the session's event table. */
  rowLimit: number;
}

export type AnalyzeWorkerMessage =
  | { type: 'progress'; fraction: number }
  | {
      type: 'done';
      text: string;
      report: ReturnType<typeof buildReport>;
      /** The session for the panel: its event table travels as transferred column buffers. */
      session: Omit<AnalysisSession, 'events'>;
      events: EventTableTransfer;
    }
  | { type: 'error'; message: string };

async function main(): Promise<void> {
  const input = workerData as AnalyzeWorkerInput;
  const post = (m: AnalyzeWorkerMessage) => parentPort?.postMessage(m);
  try {
    const events = new EventTable();
    const analysis = await analyzeText(input.paths, {
      ...(input.kernel ? { kernel: input.kernel } : {}),
      ...(input.platform ? { platform: input.platform } : {}),
      ...(input.cmdline ? { cmdline: input.cmdline } : {}),
      ...(input.cpus ? { cpus: input.cpus } : {}),
      events,
      rowLimit: input.rowLimit,
      onProgress: (fraction) => post({ type: 'progress', fraction }),
    });
    const report = buildReport(analysis);
    const { events: table, ...session } = traceSession(analysis);
    const transfer = table.toTransfer();
    const done: AnalyzeWorkerMessage = { type: 'done', text: formatReport(report), report, session, events: transfer };
    parentPort?.postMessage(done, EventTable.transferList(transfer));
  } catch (e) {
    post({ type: 'error', message: (e as Error).message });
  }
}

void main();
