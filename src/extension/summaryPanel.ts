/**
 * The replay summary panel: one webview panel that shows the latest replay and links its
 * failures back to the ops file. Survives being hidden (webview state) and VS Code reloads
 * (panel serializer).
 */
import * as vscode from 'vscode';
import { type HostMessage, isWebviewMessage } from '../protocol/messages';
import type { ReplaySummary } from '../replay/summary';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const SUMMARY_VIEW_TYPE = 'swiotlbLens.replaySummary';

export class SummaryPanel {
  private static current: SummaryPanel | undefined;
  private summary: ReplaySummary | undefined;
  private ready = false;

  static show(extensionUri: vscode.Uri, summary: ReplaySummary): SummaryPanel {
    if (!SummaryPanel.current) {
      const panel = vscode.window.createWebviewPanel(
        SUMMARY_VIEW_TYPE,
        'SWIOTLB Replay',
        vscode.ViewColumn.Beside,
        webviewOptions(extensionUri),
      );
      SummaryPanel.current = new SummaryPanel(panel, extensionUri);
    } else {
      SummaryPanel.current.panel.reveal(vscode.ViewColumn.Beside, true);
    }
    SummaryPanel.current.setSummary(summary);
    return SummaryPanel.current;
  }

  /** VS Code reopened the panel after a reload; its webview restores its own state. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, state: unknown): void {
    panel.webview.options = webviewOptions(extensionUri);
    SummaryPanel.current = new SummaryPanel(panel, extensionUri);
    const s = (state as { summary?: ReplaySummary } | undefined)?.summary;
    if (s && typeof s.file === 'string') SummaryPanel.current.summary = s;
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
  ) {
    panel.webview.html = webviewHtml(panel.webview, extensionUri, 'SWIOTLB Replay');
    panel.onDidDispose(() => {
      if (SummaryPanel.current === this) SummaryPanel.current = undefined;
    });
    panel.webview.onDidReceiveMessage((m: unknown) => {
      if (!isWebviewMessage(m)) return; // untrusted input: ignore anything outside the protocol
      if (m.type === 'ready') {
        this.ready = true;
        this.post();
      } else if (m.type === 'revealLine') {
        // Only files this panel was given may be opened from it.
        if (this.summary && m.file === this.summary.file) void revealLine(m.file, m.line);
      }
    });
  }

  private setSummary(summary: ReplaySummary): void {
    this.summary = summary;
    this.post();
  }

  private post(): void {
    if (!this.ready || !this.summary) return;
    const msg: HostMessage = { type: 'replaySummary', summary: this.summary };
    void this.panel.webview.postMessage(msg);
  }
}

export async function revealLine(file: string, line: number): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const pos = new vscode.Position(Math.max(0, Math.min(line - 1, doc.lineCount - 1)), 0);
  await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), viewColumn: vscode.ViewColumn.One });
}
