/**
 * The platform and kernel profiles the user works with: quick picks, the settings they write,
 * and the status bar item that shows them (and the current analysis).
 */
import * as vscode from 'vscode';
import { PLATFORMS } from '../model/dma/platform';
import { PROFILE_CHOICES, PROFILE_NAMES } from '../model/profiles';
import { pctText } from '../model/units';
import type { Analyses } from './analyses';

/** Writes a profile setting where it applies: the workspace when one is open. */
export async function setProfileSetting(key: 'platform' | 'kernelProfile', value: string): Promise<void> {
  const valid = value === 'auto' || (key === 'platform' ? PLATFORMS.some((p) => p.id === value) : PROFILE_NAMES.includes(value));
  if (!valid) return;
  const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration('swiotlbLens').update(key, value, target);
}

export async function choosePlatform(): Promise<void> {
  const current = vscode.workspace.getConfiguration('swiotlbLens').get<string>('platform', 'auto');
  const items: (vscode.QuickPickItem & { id: string })[] = [
    {
      id: 'auto',
      label: 'From the input',
      description: current === 'auto' ? '(current)' : '',
      detail: 'Traces and scenarios name their platform; source analysis assumes bare-metal x86.',
    },
    ...PLATFORMS.map((p) => ({ id: p.id, label: p.title, description: `${p.id}${p.id === current ? ' (current)' : ''}` })),
  ];
  const pick = await vscode.window.showQuickPick(items, {
    title: 'SWIOTLB: Choose Platform',
    placeHolder: 'The DMA path the model follows (dma-direct, xen-swiotlb, iommu-dma)',
  });
  if (pick) await setProfileSetting('platform', pick.id);
}

export async function chooseKernel(): Promise<void> {
  const current = vscode.workspace.getConfiguration('swiotlbLens').get<string>('kernelProfile', 'auto');
  const items: (vscode.QuickPickItem & { id: string })[] = [
    {
      id: 'auto',
      label: 'From the input',
      description: current === 'auto' ? '(current)' : '',
      detail: 'The kernel named in the trace, log or file header.',
    },
    ...PROFILE_CHOICES.map(({ name, title }) => ({
      id: name,
      label: `Linux ${name}`,
      description: name === current ? '(current)' : '',
      detail: title,
    })),
  ];
  const pick = await vscode.window.showQuickPick(items, {
    title: 'SWIOTLB: Choose Kernel Profile',
    placeHolder: 'The swiotlb allocator version to model',
    matchOnDetail: true,
  });
  if (pick) await setProfileSetting('kernelProfile', pick.id);
}

/** "SWIOTLB 6.1 · x86 · peak 49 %": click opens the panel. */
export class ProfileStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('swiotlbLens.status', vscode.StatusBarAlignment.Right, 100);
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly analyses: Analyses) {
    this.item.name = 'SWIOTLB Lens';
    this.item.command = 'swiotlbLens.openPanel';
    this.subs.push(
      analyses.onDidChange(() => this.update()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('swiotlbLens')) this.update();
      }),
    );
    this.update();
    this.item.show();
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.item.dispose();
  }

  update(): void {
    const c = vscode.workspace.getConfiguration('swiotlbLens');
    const kernel = c.get<string>('kernelProfile', 'auto');
    const platform = c.get<string>('platform', 'auto');
    const m = this.analyses.current;
    const parts = [`$(server-process) SWIOTLB ${kernel === 'auto' ? (m?.info.kernel ?? 'auto') : kernel}`];
    if (platform !== 'auto') parts.push(platform);
    const s = m?.info.summary;
    if (m && s?.peakSlots !== null && s?.peakSlots !== undefined && m.info.pool)
      parts.push(`peak ${pctText(s.peakSlots, m.info.pool.nslabs, { digits: 0 })}`);
    if (s && s.failed + s.hangs > 0) parts.push(`$(error) ${s.failed + s.hangs}`);
    this.item.text = parts.join(' · ');
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendText(`Kernel profile: ${kernel}\nPlatform: ${platform}\n`);
    if (m) tip.appendText(`Current analysis: ${m.info.title}\n`);
    tip.appendMarkdown(
      '\n[Choose kernel](command:swiotlbLens.chooseKernel) · [Choose platform](command:swiotlbLens.choosePlatform) · [Open panel](command:swiotlbLens.openPanel)',
    );
    tip.isTrusted = { enabledCommands: ['swiotlbLens.chooseKernel', 'swiotlbLens.choosePlatform', 'swiotlbLens.openPanel'] };
    this.item.tooltip = tip;
  }
}
