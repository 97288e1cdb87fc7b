/**
 * Traces and kernel logs in the extension: the router's route runs in a worker thread
 * (dist/analyzeWorker.js) so the extension host stays responsive; it posts the chart of what was
 * read while it reads, and its event table comes back as transferred column buffers and becomes
 * the panel's session, its tracks built there too. Inputs under IN_HOST_BYTES are analysed on the host's thread: they take
 * less than starting a worker and loading its bundle. Also "SWIOTLB: Copy Capture Script".
 */
import { rmSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';
import { EventTable } from '../analysis/eventTable';
import type { AnalysisSession } from '../analysis/session';
import { analyzeRoute, summaryLine } from '../inputs/analyze';
import type { PartialChart } from '../protocol/messages';
import { registerRunner } from './analyses';
import type { AnalyzeWorkerInput, AnalyzeWorkerMessage } from './analyzeWorker';

type Done = Extract<AnalyzeWorkerMessage, { type: 'done' }>;

/** Inputs smaller than this (bytes on disk, all files) are analysed without a worker. */
export const IN_HOST_BYTES = 512 * 1024;

function runWorker(
  script: string,
  input: AnalyzeWorkerInput,
  signal: AbortSignal,
  progress: (f: number) => void,
  partial: (p: PartialChart) => void,
  stage: (message: string) => void,
): Promise<Done> {
  return new Promise<Done>((resolve, reject) => {
    const worker = new Worker(script, { workerData: input });
    let settled = false;
    // the worker's row spill files: the session owns them once done, else they go with the worker
    const spills: string[] = [];
    const finish = (fn: () => void, done = false) => {
      if (settled) return;
      settled = true;
      void worker.terminate().then(() => {
        if (!done) for (const f of spills) rmSync(f, { force: true });
      });
      fn();
    };
    signal.addEventListener('abort', () => finish(() => reject(Object.assign(new Error('cancelled'), { name: 'AbortError' }))));
    worker.on('message', (m: AnalyzeWorkerMessage) => {
      if (settled) return;
      if (m.type === 'progress') progress(m.fraction);
      else if (m.type === 'stage') stage(m.message);
      else if (m.type === 'spill') spills.push(m.file);
      else if (m.type === 'partial') partial(m);
      else if (m.type === 'done') finish(() => resolve(m), true);
      else finish(() => reject(new Error(m.message)));
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new Error(`the analysis stopped (exit code ${code})`))));
  });
}

export function registerTextRunner(extensionPath: string): void {
  registerRunner('text', async (route, ctx) => {
    if (route.kind !== 'text') throw new Error(`not a trace route: ${route.kind}`);
    const maxRows = vscode.workspace.getConfiguration('swiotlbLens').get<number>('maxRows', 10_000_000);
    const input: AnalyzeWorkerInput = {
      route,
      rowLimit: Math.max(1000, maxRows),
      label: vscode.workspace.asRelativePath(route.files[0] as string),
    };
    const progress = (f: number) => ctx.progress(f, `${Math.round(f * 100)} %`);
    if (route.inputs.reduce((n, f) => n + f.bytes, 0) < IN_HOST_BYTES) {
      const a = await analyzeRoute(route, { rowLimit: input.rowLimit, signal: ctx.signal, onProgress: progress });
      if (a.kind !== 'text') throw new Error(`not a trace route: ${a.kind}`);
      return { session: a.session, extras: a.extras, report: `${a.text}\n${summaryLine(input.label, a.json)}` };
    }
    const done = await runWorker(
      path.join(extensionPath, 'dist', 'analyzeWorker.js'),
      input,
      ctx.signal,
      progress,
      (p) => ctx.partial?.(p),
      (message) => ctx.progress(undefined, message),
    );
    const session: AnalysisSession = { ...done.session, events: EventTable.fromTransfer(done.events) };
    return { session, extras: done.extras, report: done.text, tracks: done.tracks };
  });
}

export async function copyCaptureScript(extensionPath: string): Promise<void> {
  const file = path.join(extensionPath, 'media', 'capture', 'swiotlb-capture.sh');
  const text = await readFile(file, 'utf8');
  const copy = 'Copy to Clipboard';
  const save = 'Save As...';
  const choice = await vscode.window.showQuickPick([copy, save], {
    title: 'SWIOTLB: Capture Script',
    placeHolder: 'Run it as root on the machine to trace: sudo sh swiotlb-capture.sh -d 30 (or -- COMMAND)',
  });
  if (choice === copy) {
    await vscode.env.clipboard.writeText(text);
    void vscode.window.showInformationMessage('SWIOTLB capture script copied. Run it as root on the target: sudo sh swiotlb-capture.sh');
  } else if (choice === save) {
    const dest = await vscode.window.showSaveDialog({
      title: 'Save the SWIOTLB capture script',
      defaultUri: vscode.Uri.file(path.join(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '', 'swiotlb-capture.sh')),
      filters: { 'Shell script': ['sh'] },
    });
    if (!dest) return;
    await writeFile(dest.fsPath, text);
    await chmod(dest.fsPath, 0o755);
    void vscode.window.showInformationMessage(`Saved ${dest.fsPath}`);
  }
}
