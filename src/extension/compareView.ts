/**
 * The compare view in the host: one webview panel (dist/compare.js) showing the last comparison
 * of xen-swiotlb with dma-direct + the Xen hooks, answering its pages of rows from the
 * CompareModel. Every message from the webview is validated; it can only open the scenario's lines.
 * After a window reload VS Code revives it with the webview's saved state: the scenario is
 * compared again and the view comes back with its filter, scroll and selection (compare.ts).
 */
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import type { CompareModel } from '../analysis/compareModel';
import { type HostMessage, isWebviewMessage, type WebviewMessage } from '../protocol/messages';
import type { Analyses } from './analyses';
import { openAt } from './panel';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const COMPARE_VIEW_TYPE = 'swiotlbLens.compare';

let view: CompareView | undefined;

class CompareView {
  private ready = false;
  /** Shown while there is no comparison yet (a revived view compares again). */
  private pending: HostMessage | null = null;

  constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private model: CompareModel | undefined,
  ) {
    panel.webview.options = webviewOptions(extensionUri);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'activity.svg');
    panel.webview.html = webviewHtml(panel.webview, extensionUri, 'SWIOTLB Compare', 'compare.js');
    panel.webview.onDidReceiveMessage((m: unknown) => {
      // a webview is untrusted input: anything outside the protocol is dropped
      if (isWebviewMessage(m)) void this.onMessage(m);
    });
    panel.onDidChangeViewState(() => {
      // a hidden webview is torn down: it asks again with 'ready' when shown
      if (!panel.visible) this.ready = false;
    });
    if (model) this.setModel(model);
  }

  setModel(model: CompareModel): void {
    this.model = model;
    this.pending = null;
    this.panel.title = `SWIOTLB Compare: ${model.info.title}`;
    if (this.ready) this.post({ type: 'compare', info: model.info });
  }

  /** What the view says while it has no comparison (null: nothing). */
  say(m: HostMessage | null): void {
    this.pending = m;
    if (this.ready && m) this.post(m);
  }

  private post(m: HostMessage): void {
    void this.panel.webview.postMessage(m);
  }

  private async onMessage(m: WebviewMessage): Promise<void> {
    const model = this.model;
    if (m.type === 'ready') {
      this.ready = true;
      if (model) this.post({ type: 'compare', info: model.info });
      else if (this.pending) this.post(this.pending);
      return;
    }
    if (m.type === 'command') {
      await vscode.commands.executeCommand(m.command, ...(m.arg !== undefined ? [m.arg] : []));
      return;
    }
    if (!model || !('session' in m) || m.session !== model.info.id) return;
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
  adopt(new CompareView(panel, uri, model));
}

function adopt(v: CompareView): void {
  view = v;
  v.panel.onDidDispose(() => {
    if (view === v) view = undefined;
  });
}

/** The scenario of a compare view's saved state (compare.ts saves it), if it is one still there. */
function savedScenario(state: unknown): string | undefined {
  const file = (state as { file?: unknown } | undefined)?.file;
  if (typeof file !== 'string' || file.length > 4096 || !/\.json$/i.test(file) || !existsSync(file)) return undefined;
  return file;
}

/** VS Code reopened the compare view after a reload: compare its scenario again (its state keeps the filter and scroll). */
export async function reviveCompare(panel: vscode.WebviewPanel, uri: vscode.Uri, analyses: Analyses, state: unknown): Promise<void> {
  const v = new CompareView(panel, uri, undefined);
  adopt(v);
  const file = savedScenario(state);
  if (!file) {
    v.say({ type: 'error', message: 'Nothing to compare: run "SWIOTLB: Compare xen-swiotlb with Unified swiotlb" on a scenario.' });
    return;
  }
  v.say({ type: 'busy', message: `Comparing ${vscode.workspace.asRelativePath(file)} again...` });
  // not shown in the main panel: only this view asked
  const model = await analyses.run({ kind: 'scenario', files: [file], compare: true }, { quiet: true, target: () => {} });
  const c = model && analyses.comparisonOf(model);
  if (c) v.setModel(c);
  else
    v.say({
      type: 'error',
      message: `The comparison of ${vscode.workspace.asRelativePath(file)} did not finish: see the SWIOTLB Lens output.`,
    });
}

/** A re-analysis of a comparison: the open compare view shows it (where it is, without taking the front). */
export function updateCompare(model: CompareModel): void {
  view?.setModel(model);
}
