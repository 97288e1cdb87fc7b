/**
 * "SWIOTLB: Analyze Trace or Log File..." and "SWIOTLB: Copy Capture Script": the analysis runs
 * in a worker thread with progress and cancel; the report goes to the output channel.
 */
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';
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

/** Rows kept for the session (the report counts everything). */
const ROW_LIMIT = 500_000;

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function pickTarget(uri?: vscode.Uri): Promise<vscode.Uri | undefined> {
  if (uri instanceof vscode.Uri) return uri;
  // the active editor's file; a large file may have no text editor on the extension side, but it has a tab
  const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const active = vscode.window.activeTextEditor?.document.uri ?? (tab instanceof vscode.TabInputText ? tab.uri : undefined);
  if (active?.scheme === 'file') return active;
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: 'Analyze',
    title: 'SWIOTLB: Analyze Trace or Log File',
    filters: { 'Traces and logs': ['txt', 'log', 'gz', 'tar', 'dat', 'trace'], 'All files': ['*'] },
  });
  return picked?.[0];
}

/** The file, plus the capture files beside it (a log next to a trace gives the pool). */
async function inputsFor(target: string): Promise<string[]> {
  const st = await stat(target);
  if (st.isDirectory()) return [target];
  const dir = path.dirname(target);
  const out = [target];
  for (const name of COMPANIONS) {
    const p = path.join(dir, name);
    if (p !== target && (await exists(p))) out.push(p);
  }
  return out;
}

function kernelSetting(): string | undefined {
  const k = vscode.workspace.getConfiguration('swiotlbLens').get<string>('kernelProfile', 'auto');
  return k && k !== 'auto' ? k : undefined;
}

export async function analyzeTraceFile(context: vscode.ExtensionContext, out: vscode.OutputChannel, uri?: vscode.Uri): Promise<void> {
  const target = await pickTarget(uri);
  if (!target) return;
  const paths = await inputsFor(target.fsPath);
  const kernel = kernelSetting();
  const input: AnalyzeWorkerInput = { paths, rowLimit: ROW_LIMIT, ...(kernel ? { kernel } : {}) };
  const name = vscode.workspace.asRelativePath(target);
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `SWIOTLB: analysing ${name}`, cancellable: true },
      (progress, token) =>
        new Promise<Extract<AnalyzeWorkerMessage, { type: 'done' }> | undefined>((resolve, reject) => {
          const worker = new Worker(path.join(context.extensionPath, 'dist', 'analyzeWorker.js'), { workerData: input });
          let reported = 0;
          let settled = false;
          token.onCancellationRequested(() => {
            if (settled) return;
            settled = true;
            void worker.terminate();
            resolve(undefined);
          });
          worker.on('message', (m: AnalyzeWorkerMessage) => {
            if (m.type === 'progress') {
              const pct = Math.round(m.fraction * 100);
              if (pct > reported) {
                progress.report({ increment: pct - reported, message: `${pct} %` });
                reported = pct;
              }
            } else if (!settled) {
              settled = true;
              void worker.terminate();
              if (m.type === 'done') resolve(m);
              else reject(new Error(m.message));
            }
          });
          worker.on('error', (e) => {
            if (!settled) {
              settled = true;
              reject(e);
            }
          });
          worker.on('exit', (code) => {
            if (!settled) {
              settled = true;
              reject(new Error(`the analysis stopped (exit code ${code})`));
            }
          });
        }),
    );
    if (!result) {
      out.appendLine(`Analysis of ${name} cancelled.`);
      return;
    }
    out.appendLine(result.text);
    out.appendLine(summaryLine(name, result.report));
    out.appendLine('');
    out.show(true);
  } catch (e) {
    const msg = `${target.fsPath}: ${(e as Error).message}`;
    out.appendLine(msg);
    out.show(true);
    void vscode.window.showErrorMessage(msg);
  }
}

/** The one line that ends each report in the output channel: the numbers that matter most. */
export function summaryLine(name: string, r: Extract<AnalyzeWorkerMessage, { type: 'done' }>['report']): string {
  const c = r.counts;
  const parts = [`${c.maps} maps (${c.bounced_maps} bounced, ${c.failed} failed)`];
  if (r.occupancy.peak_slots !== null) parts.push(`peak ${r.occupancy.peak_slots} of ${r.pool.nslabs} slots`);
  const p = r.check.profiles[0];
  if (p && p.compared > 0) parts.push(`${p.name} predicted ${p.matched}/${p.compared} placements, fits ${r.check.fits.join(', ')}`);
  if (r.log.full_messages) parts.push(`${r.log.full_messages} "buffer is full" in the log`);
  return `SWIOTLB Lens: ${name}: ${parts.join('; ')}`;
}

export async function copyCaptureScript(context: vscode.ExtensionContext): Promise<void> {
  const file = path.join(context.extensionPath, 'media', 'capture', 'swiotlb-capture.sh');
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
