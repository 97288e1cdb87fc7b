/**
 * Traces and kernel logs in the extension: the analysis runs in a worker thread
 * (dist/analyzeWorker.js) so the extension host stays responsive; its event table comes back as
 * transferred column buffers and becomes the panel's session. Also "SWIOTLB: Copy Capture Script".
 */
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';
import { EventTable } from '../analysis/eventTable';
import type { AnalysisSession } from '../analysis/session';
import type { TextReport } from '../trace/report';
import { registerRunner } from './analyses';
import type { AnalyzeWorkerInput, AnalyzeWorkerMessage } from './analyzeWorker';

/** Files the capture script writes next to its trace: read together with it. */
const COMPANIONS = [
  'cmdline.txt',
  'version.txt',
  'capture.json',
  'dmesg.txt',
  'dmesg.txt.gz',
  'devices.txt',
  'debugfs.txt',
  'kprobe_profile.txt',
  'ring_stats.txt',
];

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** The files, plus the capture files beside a single trace (a log next to a trace gives the pool). */
export async function inputsFor(files: readonly string[]): Promise<string[]> {
  if (files.length !== 1) return [...files];
  const target = files[0] as string;
  if ((await stat(target)).isDirectory()) return [target];
  const dir = path.dirname(target);
  const out = [target];
  for (const name of COMPANIONS) {
    const p = path.join(dir, name);
    if (p !== target && (await exists(p))) out.push(p);
  }
  return out;
}

/** The one line that ends each report in the output channel: the numbers that matter most. */
export function summaryLine(name: string, r: TextReport): string {
  const c = r.counts;
  const parts = [`${c.maps} maps (${c.bounced_maps} bounced, ${c.failed} failed)`];
  if (r.occupancy.peak_slots !== null) parts.push(`peak ${r.occupancy.peak_slots} of ${r.pool.nslabs} slots`);
  const p = r.check.profiles[0];
  if (p && p.compared > 0) parts.push(`${p.name} predicted ${p.matched}/${p.compared} placements, fits ${r.check.fits.join(', ')}`);
  if (r.log.full_messages) parts.push(`${r.log.full_messages} "buffer is full" in the log`);
  return `SWIOTLB Lens: ${name}: ${parts.join('; ')}`;
}

type Done = Extract<AnalyzeWorkerMessage, { type: 'done' }>;

function runWorker(script: string, input: AnalyzeWorkerInput, signal: AbortSignal, progress: (f: number) => void): Promise<Done> {
  return new Promise<Done>((resolve, reject) => {
    const worker = new Worker(script, { workerData: input });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      fn();
    };
    signal.addEventListener('abort', () => finish(() => reject(Object.assign(new Error('cancelled'), { name: 'AbortError' }))));
    worker.on('message', (m: AnalyzeWorkerMessage) => {
      if (m.type === 'progress') progress(m.fraction);
      else if (m.type === 'done') finish(() => resolve(m));
      else finish(() => reject(new Error(m.message)));
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new Error(`the analysis stopped (exit code ${code})`))));
  });
}

export function registerTextRunner(extensionPath: string): void {
  registerRunner('text', async (request, ctx) => {
    const paths = await inputsFor(request.files);
    const maxRows = vscode.workspace.getConfiguration('swiotlbLens').get<number>('maxRows', 10_000_000);
    const input: AnalyzeWorkerInput = {
      paths,
      rowLimit: Math.max(1000, maxRows),
      ...(ctx.settings.kernel ? { kernel: ctx.settings.kernel } : {}),
      ...(ctx.settings.platform ? { platform: ctx.settings.platform } : {}),
      ...(ctx.settings.cmdline ? { cmdline: ctx.settings.cmdline } : {}),
      ...(ctx.settings.cpus ? { cpus: ctx.settings.cpus } : {}),
    };
    const done = await runWorker(path.join(extensionPath, 'dist', 'analyzeWorker.js'), input, ctx.signal, (f) =>
      ctx.progress(f, `${Math.round(f * 100)} %`),
    );
    const session: AnalysisSession = { ...done.session, events: EventTable.fromTransfer(done.events) };
    const r = done.report;
    const best = r.check.profiles.find((p) => p.name === r.kernel.profile) ?? r.check.profiles[0];
    const name = path.basename(request.files[0] as string);
    const notes = [...r.conclusions];
    if (r.kernel.note) notes.push(r.kernel.note);
    if (r.check.note) notes.push(r.check.note);
    if (r.sizing_note) notes.push(r.sizing_note);
    return {
      session,
      extras: {
        title: paths.length > 1 ? `${name} + ${paths.length - 1} more` : name,
        advice: r.sizing?.advice ?? null,
        check: best && best.compared > 0 ? { compared: best.compared, matched: best.matched ?? 0, profile: best.name } : null,
        notes,
      },
      report: `${done.text}\n${summaryLine(vscode.workspace.asRelativePath(request.files[0] as string), r)}`,
    };
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
