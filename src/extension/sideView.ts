/**
 * The side-bar view (SWIOTLB activity bar container): the current analysis, profile pickers,
 * recent inputs and quick actions, as a small webview sharing the panel's message protocol.
 */
import * as vscode from 'vscode';
import { PLATFORMS } from '../model/dma/platform';
import { PROFILE_CHOICES } from '../model/profiles';
import { isWebviewMessage, type SideInfo } from '../protocol/messages';
import type { Analyses } from './analyses';
import { profileSetting, setProfileSetting } from './profiles';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const SIDE_VIEW_ID = 'swiotlbLens.sideView';

export class SideViewProvider implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly analyses: Analyses,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = webviewOptions(this.extensionUri);
    view.webview.html = webviewHtml(view.webview, this.extensionUri, 'SWIOTLB Lens', 'side.js');
    view.webview.onDidReceiveMessage(async (m: unknown) => {
      if (!isWebviewMessage(m)) return;
      if (m.type === 'ready') this.refresh();
      else if (m.type === 'command') await vscode.commands.executeCommand(m.command, ...(m.arg !== undefined ? [m.arg] : []));
      else if (m.type === 'setProfile') {
        if (m.platform !== undefined) await setProfileSetting('platform', m.platform);
        if (m.kernel !== undefined) await setProfileSetting('kernelProfile', m.kernel);
        // a question answered with Cancel leaves the profile as it was: the pickers show it again
        this.refresh();
      }
    });
    view.onDidChangeVisibility(() => {
      if (view.visible) this.refresh();
    });
  }

  refresh(): void {
    if (!this.view) return;
    const info: SideInfo = {
      current: this.analyses.current?.info ?? null,
      platform: profileSetting('platform'),
      kernel: profileSetting('kernelProfile'),
      platforms: PLATFORMS.map((p) => ({ id: p.id, title: p.title })),
      kernels: PROFILE_CHOICES.map((p) => p.name),
      recent: this.analyses.recent().map(({ file, label }) => ({ file, label })),
    };
    void this.view.webview.postMessage({ type: 'side', info });
  }
}
