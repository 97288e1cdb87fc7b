/**
 * "SWIOTLB: Explain Selected Log Line": the selected line of a kernel log (or the cursor's line
 * and the next, for a wrapped message) explained in a notification; when the current analysis has
 * that line as a row, the panel selects it.
 */
import * as vscode from 'vscode';
import { explainLogLines } from '../trace/explainLine';
import type { Analyses } from './analyses';
import { currentPanel } from './panel';

export async function explainLogLine(analyses: Analyses): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('SWIOTLB: select a line of a kernel log (dmesg, journal) first.');
    return;
  }
  const doc = editor.document;
  const first = editor.selection.start.line;
  const last = Math.min(doc.lineCount - 1, Math.max(editor.selection.end.line, first + 1));
  const lines: string[] = [];
  for (let l = first; l <= last; l++) lines.push(doc.lineAt(l).text);
  const model = analyses.current;
  const pool = model?.info.pool ?? undefined;
  const e = explainLogLines(lines, pool);
  if (!e) {
    void vscode.window.showInformationMessage('SWIOTLB: this line is not a swiotlb message the extension knows.');
    return;
  }
  const line = first + e.line;
  analyses.output.appendLine(`${doc.uri.fsPath}:${line}: ${e.title}.\n  ${e.text}${e.cause ? ` [${e.cause}]` : ''}`);
  // the same line as a row of the current analysis: select it in the panel
  const row = model ? model.rowAt(doc.uri.fsPath, line) : -1;
  const actions = row >= 0 ? ['Show in Panel'] : [];
  const pick = await vscode.window.showInformationMessage(`SWIOTLB: ${e.title}. ${e.text}`, ...actions);
  if (pick === 'Show in Panel' && model) {
    const panel = currentPanel();
    if (panel && panel.current === model) {
      panel.panel.reveal(undefined, false);
      panel.select(row);
    }
  }
}
