/**
 * Runs a trace/log analysis in a worker thread (its own bundle, dist/analyzeWorker.js), so the
 * extension host's main thread stays responsive: progress messages while reading, then the
 * report (text and JSON) and the session's summary. Cancelling terminates the worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EventTable } from '../analysis/eventTable';
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
      session: { kind: string; rows: number; maps: number; peakSlots: number | null; failed: number };
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
    const session = traceSession(analysis, report);
    post({
      type: 'done',
      text: formatReport(report),
      report,
      session: {
        kind: session.kind,
        rows: session.events.length,
        maps: session.summary.maps,
        peakSlots: session.summary.peakSlots,
        failed: session.summary.failed,
      },
    });
  } catch (e) {
    post({ type: 'error', message: (e as Error).message });
  }
}

void main();
