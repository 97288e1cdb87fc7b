/**
 * Extension host glue: commands, output channel, progress, panels. The analysis itself is the
 * pure model under src/model and src/replay, shared with the CLI.
 */
import { stat } from 'node:fs/promises';
import * as vscode from 'vscode';
import { PROFILE_NAMES } from '../model/profiles';
import { ReplayFormatError } from '../replay/format';
import { runReplay } from '../replay/run';
import { formatSummary, summarizeReplay } from '../replay/summary';
import { analyzeTraceFile, copyCaptureScript } from './analyzeTrace';
import { revealLine, SUMMARY_VIEW_TYPE, SummaryPanel } from './summaryPanel';

let output: vscode.OutputChannel | undefined;

function channel(): vscode.OutputChannel {
  output ??= vscode.window.createOutputChannel('SWIOTLB Lens');
  return output;
}

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('swiotlbLens.replayOpsFile', (uri?: vscode.Uri) => replayOpsFile(context, uri)),
    vscode.commands.registerCommand('swiotlbLens.analyzeTraceFile', (uri?: vscode.Uri) => analyzeTraceFile(context, channel(), uri)),
    vscode.commands.registerCommand('swiotlbLens.copyCaptureScript', () => copyCaptureScript(context)),
    vscode.window.registerWebviewPanelSerializer(SUMMARY_VIEW_TYPE, {
      async deserializeWebviewPanel(panel, state) {
        SummaryPanel.revive(panel, context.extensionUri, state);
      },
    }),
    { dispose: () => output?.dispose() },
  );
}

export function deactivate(): void {}

async function chooseFile(uri?: vscode.Uri): Promise<vscode.Uri | undefined> {
  if (uri instanceof vscode.Uri) return uri;
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active?.scheme === 'file' && /\.jsonl(\.gz)?$/i.test(active.fsPath)) return active;
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: 'Replay',
    title: 'SWIOTLB: Replay Ops File',
    filters: { 'Replay ops (JSON Lines)': ['jsonl', 'gz'], 'All files': ['*'] },
  });
  return picked?.[0];
}

function kernelSetting(): string | undefined {
  const k = vscode.workspace.getConfiguration('swiotlbLens').get<string>('kernelProfile', 'auto');
  return k && k !== 'auto' && PROFILE_NAMES.includes(k) ? k : undefined;
}

async function replayOpsFile(context: vscode.ExtensionContext, uri?: vscode.Uri): Promise<void> {
  const target = await chooseFile(uri);
  if (!target) return;
  const file = target.fsPath;
  const out = channel();
  const kernel = kernelSetting();
  const mismatches: string[] = [];
  let size = 0;
  try {
    size = (await stat(file)).size;
  } catch {
    // reported by the replay below
  }
  try {
    const run = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `SWIOTLB: replaying ${vscode.workspace.asRelativePath(target)}`,
        cancellable: true,
      },
      async (progress, token) => {
        const ac = new AbortController();
        token.onCancellationRequested(() => ac.abort());
        let reported = 0;
        return runReplay(file, {
          ...(kernel ? { kernel } : {}),
          check: true,
          signal: ac.signal,
          onProgress(bytes) {
            if (size > 0) {
              const pct = (100 * bytes) / size;
              progress.report({ increment: pct - reported });
              reported = pct;
            }
          },
          onOp(outcome) {
            if (mismatches.length < 100) {
              if (outcome.mismatch) mismatches.push(outcome.mismatch);
              if (outcome.race) mismatches.push(outcome.race);
            }
          },
        });
      },
    );
    const summary = summarizeReplay(run, true);
    out.appendLine(formatSummary(summary));
    for (const m of mismatches) out.appendLine(`  ${m}`);
    out.appendLine('');
    out.show(true);
    SummaryPanel.show(context.extensionUri, summary);
  } catch (e) {
    if ((e as Error).name === 'AbortError') {
      out.appendLine(`Replay of ${file} cancelled.`);
      return;
    }
    const msg = e instanceof ReplayFormatError ? `${file}:${e.line}: ${e.message}` : `${file}: ${(e as Error).message}`;
    out.appendLine(msg);
    out.show(true);
    const action =
      e instanceof ReplayFormatError ? await vscode.window.showErrorMessage(msg, 'Go to Line') : await vscode.window.showErrorMessage(msg);
    if (action && e instanceof ReplayFormatError) await revealLine(file, e.line);
  }
}
