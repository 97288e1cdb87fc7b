/**
 * "SWIOTLB: Explain Selected Log Line": the selected line of a kernel log explained with its
 * neighbourhood (the lines around it are read as a log, so a failure, its overflow line and its
 * WARN block are one event). The explanation stays where it can be read: a hover on the line
 * (with the event's other lines marked) and a pinned view in the panel; the notification only
 * offers "Show in Panel", which selects the row there without opening the file again.
 */
import * as vscode from 'vscode';
import type { PinnedExplanation } from '../protocol/messages';
import { explainLogLine as explainLine, explainLogLines, type LineExplanation } from '../trace/explainLine';
import type { Analyses } from './analyses';
import { currentPanel } from './panel';

/** Lines read on each side of the selection: more than a WARN block (about 60 lines). */
const CONTEXT_LINES = 80;

const explained = vscode.window.createTextEditorDecorationType({
  isWholeLine: true,
  backgroundColor: new vscode.ThemeColor('editor.rangeHighlightBackground'),
  overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.infoForeground'),
  overviewRulerLane: vscode.OverviewRulerLane.Right,
});
const sameEvent = vscode.window.createTextEditorDecorationType({
  isWholeLine: true,
  borderWidth: '0 0 0 3px',
  borderStyle: 'solid',
  borderColor: new vscode.ThemeColor('editorInfo.foreground'),
});

/** The explanation of the message at 0-based `line` of `doc`, read within its neighbourhood. */
export function explainAt(doc: vscode.TextDocument, line: number, selectionEnd = line, pool?: { nslabs: number }) {
  const from = Math.max(0, line - CONTEXT_LINES);
  const to = Math.min(doc.lineCount - 1, Math.max(selectionEnd, line) + CONTEXT_LINES);
  const lines: string[] = [];
  for (let l = from; l <= to; l++) lines.push(doc.lineAt(l).text);
  const opts = pool ? { pool } : {};
  // the message on the selected line (a wrapped message: any of its lines)
  let e: LineExplanation | null = explainLine(lines, line - from + 1, opts);
  // nothing on it: the first message of the selection (and the line after it, for a wrapped one)
  if (!e) {
    const sel: string[] = [];
    for (let l = line; l <= Math.min(doc.lineCount - 1, Math.max(selectionEnd, line + 1)); l++) sel.push(doc.lineAt(l).text);
    const f = explainLogLines(sel, pool);
    if (f) e = explainLine(lines, line - from + f.line, opts) ?? f;
  }
  if (!e) return null;
  const shift = from; // e's lines are 1-based within `lines`
  return {
    ...e,
    line: e.line + shift,
    endLine: e.endLine + shift,
    eventLines: e.eventLines.map((l) => l + shift),
  };
}

function hoverOf(e: PinnedExplanation): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.appendMarkdown('**SWIOTLB:** ');
  md.appendText(`${e.title}.`);
  md.appendMarkdown('\n\n');
  md.appendText(e.text);
  const facts: string[] = [];
  if (e.cause) facts.push(`cause: ${e.cause}`);
  if (e.sizeHelps !== null) facts.push(e.sizeHelps ? 'a bigger pool (swiotlb=) can help' : 'no swiotlb= size helps');
  if (e.eventLines.length > 1) facts.push(`same event: lines ${e.eventLines.join(', ')}`);
  if (facts.length) {
    md.appendMarkdown('\n\n');
    md.appendText(facts.join(' · '));
  }
  return md;
}

export async function explainLogLine(analyses: Analyses): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('SWIOTLB: select a line of a kernel log (dmesg, journal) first.');
    return;
  }
  const doc = editor.document;
  const model = analyses.current;
  const nslabs = model?.info.pool?.nslabs ?? model?.info.log?.pool?.nslabs;
  const e = explainAt(doc, editor.selection.start.line, editor.selection.end.line, nslabs ? { nslabs } : undefined);
  if (!e) {
    void vscode.window.showInformationMessage('SWIOTLB: this line is not a swiotlb message the extension knows.');
    return;
  }
  const file = doc.uri.scheme === 'swiotlb-gz' ? doc.uri.path : doc.uri.fsPath;
  const pinned: PinnedExplanation = {
    file,
    line: e.line,
    title: e.title,
    text: e.text,
    cause: e.logCause ?? e.cause,
    sizeHelps: e.sizeHelps,
    eventLines: e.eventLines,
  };
  // the hover on the line: kept until the next explanation in this editor
  const hover = hoverOf(pinned);
  const range = (a: number, b: number) => new vscode.Range(a - 1, 0, b - 1, Number.MAX_SAFE_INTEGER);
  editor.setDecorations(explained, [{ range: range(e.line, e.endLine), hoverMessage: hover }]);
  editor.setDecorations(
    sameEvent,
    e.eventLines.filter((l) => l < e.line || l > e.endLine).map((l) => ({ range: range(l, l), hoverMessage: hover })),
  );
  analyses.output.appendLine(`${file}:${e.line}: ${e.title}.\n  ${e.text}${e.cause ? ` [${e.cause}]` : ''}`);
  // the same line as a row of the current analysis: select it in the panel
  const panel = currentPanel();
  const row = model ? model.rowAt(file, e.line) : -1;
  if (panel && panel.current === model) panel.pin(pinned);
  const actions = row >= 0 ? ['Show in Panel'] : [];
  const pick = await vscode.window.showInformationMessage(`SWIOTLB: ${e.title}. ${e.text}`, ...actions);
  if (pick === 'Show in Panel' && model) {
    const p = currentPanel();
    if (p && p.current === model) {
      // keep the log where it is: the panel comes forward in its own column, selecting the row
      p.panel.reveal(p.panel.viewColumn, true);
      p.pin(pinned);
      p.select(row);
    }
  }
}
