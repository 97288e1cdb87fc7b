/**
 * The platform and kernel profiles the user works with: quick picks, the settings they write,
 * and the status bar item that shows them (and the current analysis).
 */
import * as vscode from 'vscode';
import { PLATFORMS } from '../model/dma/platform';
import { PROFILE_CHOICES, PROFILE_NAMES } from '../model/profiles';
import { pctText } from '../model/units';
import type { Analyses } from './analyses';

export type ProfileKey = 'platform' | 'kernelProfile';

/** Profiles chosen "only this session": written nowhere, gone with the window. */
const sessionProfile = new Map<ProfileKey, string>();
const sessionChanged = new vscode.EventEmitter<void>();

/** The profile in effect: this session's choice, else the settings. */
export function profileSetting(key: ProfileKey): string {
  return sessionProfile.get(key) ?? vscode.workspace.getConfiguration('swiotlbLens').get<string>(key, 'auto');
}

/** Calls `listener` when the profile in effect changes: a session choice or either setting. */
export function onProfileChange(listener: () => void): vscode.Disposable {
  return vscode.Disposable.from(
    sessionChanged.event(listener),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('swiotlbLens.platform') || e.affectsConfiguration('swiotlbLens.kernelProfile')) listener();
    }),
  );
}

export const SAVE_IN_WORKSPACE = 'Save in This Workspace';
export const SAVE_IN_USER = 'Save in User Settings';
export const ONLY_THIS_SESSION = 'Only This Session';

/**
 * Sets a profile, asking first where: saved in the settings (the workspace's
 * .vscode/settings.json when a folder is open) or only for this session. A workspace that holds
 * the setting already is where the user keeps it: updated without asking.
 */
export async function setProfileSetting(key: ProfileKey, value: string): Promise<void> {
  const valid = value === 'auto' || (key === 'platform' ? PLATFORMS.some((p) => p.id === value) : PROFILE_NAMES.includes(value));
  if (!valid) return;
  const c = vscode.workspace.getConfiguration('swiotlbLens');
  const folder = (vscode.workspace.workspaceFolders?.length ?? 0) > 0;
  const target = folder ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  const save = folder ? SAVE_IN_WORKSPACE : SAVE_IN_USER;
  const kept = folder && c.inspect<string>(key)?.workspaceValue !== undefined;
  const what =
    key === 'platform'
      ? `platform ${value === 'auto' ? '"from the input"' : value}`
      : `kernel profile ${value === 'auto' ? '"from the input"' : value}`;
  const pick = kept
    ? save
    : await vscode.window.showInformationMessage(
        `SWIOTLB: use the ${what}. Save it in the settings?`,
        {
          modal: true,
          detail: `${save} writes "swiotlbLens.${key}": "${value}" to ${folder ? "this workspace's .vscode/settings.json" : 'your user settings'}. ${ONLY_THIS_SESSION} writes nothing and lasts until the window closes.`,
        },
        save,
        ONLY_THIS_SESSION,
      );
  if (pick === save) {
    // the settings' change event tells the listeners; a dropped session choice must be told too
    const had = sessionProfile.delete(key);
    await c.update(key, value, target);
    if (had) sessionChanged.fire();
  } else if (pick === ONLY_THIS_SESSION) {
    sessionProfile.set(key, value);
    sessionChanged.fire();
  }
}

export async function choosePlatform(): Promise<void> {
  const current = profileSetting('platform');
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
  const current = profileSetting('kernelProfile');
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
      onProfileChange(() => this.update()),
    );
    this.update();
    this.item.show();
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.item.dispose();
  }

  update(): void {
    const kernel = profileSetting('kernelProfile');
    const platform = profileSetting('platform');
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
