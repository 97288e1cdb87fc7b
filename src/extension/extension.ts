/**
 * Extension host glue: commands, the panel, the side view, the status bar, "Open With..." for
 * traces. The analyses themselves are the pure core under src/ (model, replay, scenario, trace,
 * source), shared with the CLI.
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
import * as vscode from 'vscode';
import { RouteError, routeInputs } from '../inputs/router';
import type { AnalysisRequest } from '../protocol/messages';
import { Analyses } from './analyses';
import { COMPARE_VIEW_TYPE, reviveCompare, showCompare, updateCompare } from './compareView';
import { escapedOutputChannel } from './escapedChannel';
import { explainLogLine } from './explain';
import {
  currentPanel,
  exportRows,
  importView,
  livePanel,
  PANEL_VIEW_TYPE,
  PanelController,
  requestViewExport,
  revivePanel,
  showPanel,
} from './panel';
import { chooseKernel, choosePlatform, onProfileChange, ProfileStatus } from './profiles';
import { registerRunners, scenarioDiagnostics } from './runners';
import { SIDE_VIEW_ID, SideViewProvider } from './sideView';
import { registerSourceFeatures } from './source/sourceFeatures';
import { copyCaptureScript, registerTextRunner } from './textRunner';

export const TRACE_EDITOR_VIEW_TYPE = 'swiotlbLens.traceViewer';

export function activate(context: vscode.ExtensionContext): void {
  const started = performance.now();
  const output = escapedOutputChannel(vscode.window.createOutputChannel('SWIOTLB Lens'));
  const uri = context.extensionUri;
  registerRunners();
  registerTextRunner(context.extensionPath);
  const a: Analyses = new Analyses(
    context,
    output,
    (model) => showPanel(uri, a, model),
    livePanel(uri, () => a),
  );
  registerSourceFeatures(context, a);
  const side = new SideViewProvider(uri, a);
  context.subscriptions.push(
    output,
    a,
    scenarioDiagnostics(),
    new ProfileStatus(a),
    a.onDidChange(() => side.refresh()),
    onProfileChange(() => side.refresh()),
    a.onDidChange((m) => {
      // a re-analysis of a comparison updates the compare view where it is open
      const c = m && a.comparisonOf(m);
      if (c) updateCompare(c);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('swiotlbLens')) side.refresh();
    }),
    vscode.window.registerWebviewViewProvider(SIDE_VIEW_ID, side),
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      async deserializeWebviewPanel(panel, state) {
        revivePanel(panel, uri, a, state);
      },
    }),
    vscode.window.registerWebviewPanelSerializer(COMPARE_VIEW_TYPE, {
      async deserializeWebviewPanel(panel, state) {
        void reviveCompare(panel, uri, a, state);
      },
    }),
    vscode.window.registerCustomEditorProvider(
      TRACE_EDITOR_VIEW_TYPE,
      {
        openCustomDocument: (docUri) => ({ uri: docUri, dispose() {} }),
        async resolveCustomEditor(document, panel) {
          const c = new PanelController(panel, uri, a, () => {});
          panel.onDidDispose(() => c.dispose());
          c.busy(`Analysing ${vscode.workspace.asRelativePath(document.uri)}...`);
          const request = await requestFor([document.uri.fsPath]);
          if (request) await a.run(request, { target: (m) => c.setModel(m) });
          c.busy(null);
        },
      },
      { webviewOptions: { enableFindWidget: false }, supportsMultipleEditorsPerDocument: false },
    ),
    vscode.workspace.registerTextDocumentContentProvider('swiotlb-gz', {
      // compressed traces and logs open decompressed (read-only) for "Go to Source"
      async provideTextDocumentContent(u) {
        return gunzipSync(await readFile(u.path)).toString('utf8');
      },
    }),
    vscode.commands.registerCommand('swiotlbLens.openPanel', () => showPanel(uri, a, a.current, false)),
    vscode.commands.registerCommand('swiotlbLens.analyzeFile', (arg?: unknown) => analyzeFile(a, arg)),
    vscode.commands.registerCommand('swiotlbLens.analyzeCurrentFile', () => analyzeCurrentFile(a)),
    vscode.commands.registerCommand('swiotlbLens.replayOpsFile', (arg?: unknown) => replayOpsFile(a, arg)),
    vscode.commands.registerCommand('swiotlbLens.analyzeScenario', (arg?: unknown) => analyzeScenario(a, arg, false)),
    vscode.commands.registerCommand('swiotlbLens.compareXen', (arg?: unknown) => analyzeScenario(a, arg, true)),
    vscode.commands.registerCommand('swiotlbLens.choosePlatform', choosePlatform),
    vscode.commands.registerCommand('swiotlbLens.chooseKernel', chooseKernel),
    vscode.commands.registerCommand('swiotlbLens.exportReport', () => exportReport(a)),
    vscode.commands.registerCommand('swiotlbLens.reanalyze', () => reanalyze(a)),
    vscode.commands.registerCommand('swiotlbLens.explainLogLine', () => explainLogLine(a)),
    vscode.commands.registerCommand('swiotlbLens.copyCaptureScript', () => copyCaptureScript(context.extensionPath)),
    vscode.commands.registerCommand('swiotlbLens.exportView', requestViewExport),
    vscode.commands.registerCommand('swiotlbLens.importView', (arg?: unknown) => importView(arg)),
  );
  const done = performance.now();
  // set by the bundle's first line (scripts/build.mjs): module evaluation included
  const loadStart = (globalThis as { __swiotlbLensLoadStart?: number }).__swiotlbLensLoadStart ?? started;
  output.appendLine(
    `SWIOTLB Lens activated in ${(done - started).toFixed(1)} ms (bundle loaded in ${(started - loadStart).toFixed(1)} ms).`,
  );
}

export function deactivate(): void {}

/** A file argument from a command: a Uri (explorer, editor title) or a path (webviews). */
function argUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg.length > 0) return vscode.Uri.file(arg);
  return undefined;
}

/** What kind of analysis a set of files asks for: the router tells it from their content. */
async function requestFor(files: string[], extra: Partial<AnalysisRequest> = {}): Promise<AnalysisRequest | undefined> {
  try {
    const route = await routeInputs(files);
    return { kind: route.kind, files, ...extra };
  } catch (e) {
    void vscode.window.showErrorMessage(`SWIOTLB: ${e instanceof RouteError ? '' : 'cannot read the input: '}${(e as Error).message}`);
    return undefined;
  }
}

async function analyzeFile(a: Analyses, arg?: unknown): Promise<void> {
  // the command's time (first-chart figures) starts once its input is chosen: a dialog's time is the user's
  let started = performance.now();
  let files: string[];
  const given = argUri(arg);
  if (given) files = [given.fsPath];
  else {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: true,
      openLabel: 'Analyze',
      title: 'SWIOTLB: Analyze Trace, Log or Ops File (pick a trace and its dmesg together)',
      filters: { 'Traces, logs, ops, scenarios': ['txt', 'trace', 'log', 'gz', 'jsonl', 'json', 'dat'], 'All files': ['*'] },
    });
    if (!picked?.length) return;
    files = picked.map((u) => u.fsPath);
    started = performance.now();
  }
  const request = await requestFor(files);
  if (request) await a.run(request, { startedAt: started });
}

/** The file of the active editor tab (the Output view or a panel may have the focus). */
function activeFileUri(): vscode.Uri | undefined {
  const ed = vscode.window.activeTextEditor?.document.uri;
  if (ed?.scheme === 'file') return ed;
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom)
    return input.uri.scheme === 'file' ? input.uri : undefined;
  return undefined;
}

async function analyzeCurrentFile(a: Analyses): Promise<void> {
  const started = performance.now();
  const uri = activeFileUri();
  if (!uri) {
    void vscode.window.showInformationMessage('SWIOTLB: open a trace, log, ops file, scenario or C file first.');
    return;
  }
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (doc?.isDirty) await doc.save();
  const request = await requestFor([uri.fsPath]);
  if (request) await a.run(request, { startedAt: started });
}

async function replayOpsFile(a: Analyses, arg?: unknown): Promise<void> {
  let started = performance.now();
  let target = argUri(arg);
  const active = activeFileUri();
  if (!target && active && /\.jsonl(\.gz)?$/i.test(active.fsPath)) target = active;
  if (!target) {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: 'Replay',
      title: 'SWIOTLB: Replay Ops File',
      filters: { 'Replay ops (JSON Lines)': ['jsonl', 'gz'], 'All files': ['*'] },
    });
    target = picked?.[0];
    started = performance.now();
  }
  if (target) await a.run({ kind: 'replay', files: [target.fsPath] }, { startedAt: started });
}

async function analyzeScenario(a: Analyses, arg: unknown, compare: boolean): Promise<void> {
  let started = performance.now();
  let target = argUri(arg);
  const active = activeFileUri();
  if (!target && active && /\.json$/i.test(active.fsPath)) target = active;
  if (!target) {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: 'Analyze',
      filters: { 'Scenario (JSON)': ['json'] },
    });
    target = picked?.[0];
    started = performance.now();
  }
  if (!target) return;
  const model = await a.run({ kind: 'scenario', files: [target.fsPath], ...(compare ? { compare } : {}) }, { startedAt: started });
  // the comparison side by side, call by call (the Output channel has its summary)
  const c = model && a.comparisonOf(model);
  if (c) showCompare(a.extensionUri, c);
}

async function exportReport(a: Analyses): Promise<void> {
  const model = currentPanel()?.current ?? a.current;
  if (!model) {
    void vscode.window.showInformationMessage('SWIOTLB: analyse an input first; its report can then be exported.');
    return;
  }
  const pick = await vscode.window.showQuickPick(
    [
      { label: 'Markdown report', description: 'summary, reasons, failures, devices, notes', format: 'md' as const },
      { label: 'CSV', description: `the ${model.current.length.toLocaleString('en-US')} rows shown in the panel`, format: 'csv' as const },
      { label: 'JSON', description: 'the summary and the rows shown in the panel', format: 'json' as const },
    ],
    { title: `SWIOTLB: Export Report of ${model.info.title}` },
  );
  if (pick) await exportRows(model, pick.format);
}

async function reanalyze(a: Analyses): Promise<void> {
  const request = currentPanel()?.current?.info.request ?? a.lastRequest;
  if (!request) {
    void vscode.window.showInformationMessage('SWIOTLB: nothing to analyse again yet.');
    return;
  }
  await a.run(request);
}
