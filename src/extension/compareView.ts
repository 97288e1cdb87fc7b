/**
 * The compare view in the host: one webview panel (dist/compare.js) showing the last comparison
 * of xen-swiotlb with dma-direct + the Xen hooks, answering its pages of rows from the
 * CompareModel. Every message from the webview is validated; it can only open the scenario's lines.
 */
import * as vscode from 'vscode';
import type { CompareModel } from '../analysis/compareModel';
import { type HostMessage, isWebviewMessage, type WebviewMessage } from '../protocol/messages';
import { openAt } from './panel';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const COMPARE_VIEW_TYPE = 'swiotlbLens.compare';

let view: CompareView | undefined;

class CompareView {
  private ready = false;

  constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private model: CompareModel,
  ) {
    panel.webview.html = webviewHtml(panel.webview, extensionUri, 'SWIOTLB Compare', 'compare.js');
    panel.webview.onDidReceiveMessage((m: unknown) => {
      // a webview is untrusted input: anything outside the protocol is dropped
      if (isWebviewMessage(m)) void this.onMessage(m);
    });
    panel.onDidChangeViewState(() => {
      // a hidden webview is torn down: it asks again with 'ready' when shown
      if (!panel.visible) this.ready = false;
    });
    this.setModel(model);
  }

  setModel(model: CompareModel): void {
    this.model = model;
    this.panel.title = `SWIOTLB Compare: ${model.info.title}`;
    if (this.ready) this.post({ type: 'compare', info: model.info });
  }

  private post(m: HostMessage): void {
    void this.panel.webview.postMessage(m);
  }

  private async onMessage(m: WebviewMessage): Promise<void> {
    const model = this.model;
    if (m.type === 'ready') {
      this.ready = true;
      this.post({ type: 'compare', info: model.info });
      return;
    }
    if (m.type === 'command') {
      await vscode.commands.executeCommand(m.command, ...(m.arg !== undefined ? [m.arg] : []));
      return;
    }
    if (!('session' in m) || m.session !== model.info.id) return;
    if (m.type === 'compareRows') {
      this.post({
        type: 'compareRows',
        session: model.info.id,
        request: m.request,
        divergentOnly: m.divergentOnly,
        start: m.start,
        total: model.total(m.divergentOnly),
        rows: model.page(m.divergentOnly, m.start, m.count),
      });
    } else if (m.type === 'compareReveal') {
      const line = model.lineOf(m.index);
      if (line === undefined) return;
      await openAt(model.info.file, line).catch((e: Error) => {
        void vscode.window.showWarningMessage(`SWIOTLB: cannot open ${model.info.file}: ${e.message}`);
      });
    }
  }
}

/** Shows a comparison in the compare view, opening it beside the editor when needed. */
export function showCompare(uri: vscode.Uri, model: CompareModel, preserveFocus = false): void {
  if (view) {
    view.setModel(model);
    view.panel.reveal(undefined, preserveFocus);
    return;
  }
  const panel = vscode.window.createWebviewPanel(
    COMPARE_VIEW_TYPE,
    `SWIOTLB Compare: ${model.info.title}`,
    { viewColumn: vscode.ViewColumn.Beside, preserveFocus },
    { ...webviewOptions(uri), retainContextWhenHidden: false },
  );
  panel.iconPath = vscode.Uri.joinPath(uri, 'media', 'activity.svg');
  const v = new CompareView(panel, uri, model);
  view = v;
  panel.onDidDispose(() => {
    if (view === v) view = undefined;
  });
}

/** A re-analysis of a comparison: the open compare view shows it (where it is, without taking the front). */
export function updateCompare(model: CompareModel): void {
  view?.setModel(model);
}
