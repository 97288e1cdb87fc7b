/**
 * The analysis panel in the host: a controller per webview (the main panel, or an editor opened
 * with "Open With... > SWIOTLB Lens"), answering the webview's data requests from its PanelModel.
 * Every message from the webview is validated; the only files it can open are the session's own.
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import type { PanelModel } from '../analysis/panelModel';
import { csvLines } from '../analysis/query';
import { jsonExportChunks, sessionMarkdown } from '../analysis/sessionReport';
import { answerTracks } from '../analysis/tracks';
import {
  checkSavedView,
  inputDifference,
  problemLines,
  readViewFile,
  VIEW_FILE_SUFFIX,
  viewFileText,
  viewInputOf,
} from '../analysis/viewFile';
import {
  type HostMessage,
  isAnalysisRequest,
  isWebviewMessage,
  type PanelState,
  type PartialChart,
  type PinnedExplanation,
  type WebviewMessage,
} from '../protocol/messages';
import { type Analyses, type LiveTarget, revealLine, workspacePath } from './analyses';
import { onProfileChange, profileSetting } from './profiles';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const PANEL_VIEW_TYPE = 'swiotlbLens.panel';

export class PanelController implements vscode.Disposable {
  private model: PanelModel | undefined;
  private ready = false;
  private readonly disposables: vscode.Disposable[] = [];
  private firstChartLogged = new Set<number>();
  private pending: string | null = null;
  /** Host time spent on chart column requests since the last frames report. */
  private columnTimes: number[] = [];
  /** From the webview's creation to its first 'ready' (its html, scripts and toolkit loaded). */
  private readonly createdAt = performance.now();
  private loadMs = -1;

  constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly analyses: Analyses,
    /** Run when the webview is ready and has no session (a revived panel re-runs its input). */
    private readonly onEmpty: (state: PanelState | undefined) => void,
  ) {
    panel.webview.options = webviewOptions(extensionUri);
    panel.webview.html = webviewHtml(panel.webview, extensionUri, 'SWIOTLB Lens', 'webview.js');
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'activity.svg');
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => {
        // a webview is untrusted input: anything outside the protocol is dropped
        if (isWebviewMessage(m)) void this.onMessage(m);
      }),
      onProfileChange(() => this.postProfile()),
      panel.onDidChangeViewState(() => {
        // a hidden webview is torn down: it asks again with 'ready' when shown
        if (!panel.visible) this.ready = false;
      }),
    );
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  get current(): PanelModel | undefined {
    return this.model;
  }

  /** The chart of the analysis running (or cancelled) since the last model: shown instead of it. */
  private partial: Extract<HostMessage, { type: 'partial' }> | null = null;
  /** When the running analysis' command came (for the first partial chart's figure). */
  private partialCommand = 0;

  /** An analysis starts: the panel says so until its first chart of what was read. */
  startAnalysis(title: string, command: number): void {
    this.partial = null;
    this.partialCommand = command;
    this.busy(`Analysing ${title}...`);
  }

  showPartial(title: string, p: PartialChart, state: 'running' | 'cancelled' = 'running'): void {
    const { fraction, rows, hasClock, peak, data } = p;
    this.partial = { type: 'partial', title, state, fraction, rows, hasClock, peak, data };
    if (this.ready) this.post(this.partial);
  }

  /** The running analysis ended: a cancelled one keeps its chart, marked partial. */
  endAnalysis(outcome: 'done' | 'cancelled' | 'failed'): void {
    this.busy(null);
    const p = this.partial;
    if (outcome === 'done') return;
    if (p && outcome === 'cancelled') this.showPartial(p.title, p, 'cancelled');
    else if (!p && !this.model && this.ready) this.onEmpty(undefined);
  }

  setModel(model: PanelModel): void {
    if (this.model !== model) this.pinned = null;
    this.partial = null;
    this.model = model;
    this.panel.title = `SWIOTLB: ${model.info.title.replace(/^(Replay|Scenario): /, '')}`;
    if (this.ready) {
      this.postSession(model);
      this.postProfile();
    }
  }

  /** The chart's columns the webview asked for last (or its width said): the first chart is sent with the session. */
  private columns = chartColumns(1200);

  /** A session with its whole-input chart: on a small input the round trip for it was half the panel's time. */
  private postSession(model: PanelModel): void {
    const { t0, t1 } = model.info;
    this.post({
      type: 'session',
      info: model.info,
      first: model.timeline.aggregate({ t0, t1: t1 > t0 ? t1 : t0 + 1, columns: this.columns }),
    });
  }

  /** The kernel and platform the settings ask for (the status bar's pickers): the panel offers a re-analysis. */
  private postProfile(): void {
    this.post({ type: 'profile', kernel: profileSetting('kernelProfile'), platform: profileSetting('platform') });
  }

  /** Pins an explained log line in the panel. */
  pin(explanation: PinnedExplanation): void {
    this.pinned = explanation;
    if (this.ready) this.post({ type: 'explanation', explanation });
  }

  /** The explanation pinned last: shown again when the webview comes back. */
  private pinned: PinnedExplanation | null = null;

  /** Selects a row of the session in the webview (from the editor: a log line, a call site). */
  select(row: number): void {
    if (this.model && this.ready) this.post(this.model.locate(row, true));
  }

  post(m: HostMessage): void {
    void this.panel.webview.postMessage(m);
  }

  busy(message: string | null): void {
    this.pending = message;
    this.post({ type: 'busy', message });
  }

  private async onMessage(m: WebviewMessage): Promise<void> {
    const model = this.model;
    switch (m.type) {
      case 'ready':
        this.ready = true;
        if (m.width !== undefined) this.columns = chartColumns(m.width);
        if (this.loadMs < 0) this.loadMs = performance.now() - this.createdAt;
        if (this.partial) this.post(this.partial);
        else if (model) {
          this.postSession(model);
          this.postProfile();
          if (this.pinned) this.post({ type: 'explanation', explanation: this.pinned });
        } else if (this.pending) this.post({ type: 'busy', message: this.pending });
        else this.onEmpty(undefined);
        return;
      case 'partialDrawn':
        if (this.partial && this.partialCommand) {
          this.analyses.output.appendLine(
            `SWIOTLB Lens: first partial chart of "${this.partial.title}" (${m.rows.toLocaleString('en-US')} rows read) drawn ${Math.round(performance.now() - this.partialCommand)} ms after the command`,
          );
          this.partialCommand = 0;
        }
        return;
      case 'command':
        await vscode.commands.executeCommand(m.command, ...(m.arg !== undefined ? [m.arg] : []));
        return;
      case 'copy':
        await vscode.env.clipboard.writeText(m.text);
        vscode.window.setStatusBarMessage(`SWIOTLB: copied ${m.text.length > 40 ? `${m.text.slice(0, 40)}…` : m.text}`, 3000);
        return;
      default:
        break;
    }
    if (!model || !('session' in m) || m.session !== model.info.id) return;
    switch (m.type) {
      case 'reveal': {
        if (m.row >= model.session.events.length) return;
        const r = model.session.events.row(m.row);
        if (!r.file) {
          void vscode.window.showInformationMessage('SWIOTLB: this row has no source location.');
          return;
        }
        await openAt(r.file, r.line ?? 1, model.info.log?.entries.find((e) => e.file === r.file && e.line === r.line)?.endLine).catch(
          (e: Error) => {
            void vscode.window.showWarningMessage(`SWIOTLB: cannot open ${r.file}: ${e.message}`);
          },
        );
        return;
      }
      case 'revealLog': {
        const e = model.info.log?.entries[m.entry];
        if (e?.file)
          await openAt(e.file, e.line, e.endLine).catch((err: Error) => {
            void vscode.window.showWarningMessage(`SWIOTLB: cannot open ${e.file}: ${err.message}`);
          });
        return;
      }
      case 'revealDiagnostic': {
        const d = model.info.diagnostics[m.index];
        if (d?.file)
          await openAt(d.file, d.line || 1).catch((e: Error) => {
            void vscode.window.showWarningMessage(`SWIOTLB: cannot open ${d.file}: ${e.message}`);
          });
        return;
      }
      case 'export':
        await exportRows(model, m.format);
        return;
      case 'exportChart':
        await exportChart(model, m.format, m.data);
        return;
      case 'exportView':
        await exportView(model, m.view);
        return;
      case 'drawn': {
        if (this.firstChartLogged.has(model.info.id)) return;
        this.firstChartLogged.add(model.info.id);
        const t = this.analyses.startedAt.get(model.info.id);
        if (t) {
          const now = performance.now();
          this.analyses.output.appendLine(
            `SWIOTLB Lens: first chart of "${model.info.title}" (${model.info.rows.toLocaleString('en-US')} rows) drawn ${Math.round(now - t.command)} ms after the command (analysis ${Math.round(t.analysed - t.command)} ms, panel ${Math.round(now - t.analysed)} ms, of which ${Math.round(m.ms)} ms in the webview from the session to its chart, ${Math.round(m.askedMs)} ms of them until it asked for its columns; the webview loaded in ${Math.round(this.loadMs)} ms)`,
          );
        }
        return;
      }
      case 'frames': {
        const f = [...m.frames].sort((a, b) => a - b);
        const h = this.columnTimes.sort((a, b) => a - b);
        this.columnTimes = [];
        const q = (a: number[], p: number) => (a.length ? (a[Math.min(a.length - 1, Math.floor(p * a.length))] as number).toFixed(2) : '-');
        this.analyses.output.appendLine(
          `SWIOTLB Lens: chart frames while zooming/panning "${model.info.title}" (${model.info.rows.toLocaleString('en-US')} rows): ${f.length} frames, median ${q(f, 0.5)} ms, p95 ${q(f, 0.95)} ms, max ${q(f, 1)} ms; host columns for ${h.length} windows: median ${q(h, 0.5)} ms, p95 ${q(h, 0.95)} ms, max ${q(h, 1)} ms`,
        );
        return;
      }
      default: {
        const t = performance.now();
        // the tracks' requests (tracks.ts), else the panel model's
        const reply = answerTracks(model, m) ?? model.answer(m);
        if (reply) this.post(reply);
        if (m.type === 'timeline') this.columns = m.columns;
        if (m.type === 'timeline' && reply && this.columnTimes.length < 10000) this.columnTimes.push(performance.now() - t);
        return;
      }
    }
  }
}

/** Chart columns for a webview `width` px wide (the chart's plot is a little narrower: the columns are mapped onto it). */
function chartColumns(width: number): number {
  return Math.max(1, Math.min(8192, Math.floor(width)));
}

/**
 * Opens a source location with its line(s) selected, in the editor that already shows the file
 * (no second copy); compressed inputs are opened decompressed, read-only.
 */
export async function openAt(name: string, line: number, endLine = line): Promise<void> {
  const file = workspacePath(name);
  const uri = /\.gz$/i.test(file) ? vscode.Uri.from({ scheme: 'swiotlb-gz', path: file }) : vscode.Uri.file(file);
  const shown = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
  if (!shown && uri.scheme === 'file') {
    await revealLine(file, line);
    const ed = vscode.window.activeTextEditor;
    if (ed && ed.document.uri.toString() === uri.toString()) highlightLines(ed, line, endLine);
    return;
  }
  const doc = shown?.document ?? (await vscode.workspace.openTextDocument(uri));
  const ed = await vscode.window.showTextDocument(doc, { viewColumn: shown?.viewColumn ?? vscode.ViewColumn.One });
  highlightLines(ed, line, endLine);
}

const lineHighlight = vscode.window.createTextEditorDecorationType({
  isWholeLine: true,
  backgroundColor: new vscode.ThemeColor('editor.rangeHighlightBackground'),
  borderColor: new vscode.ThemeColor('editor.findMatchHighlightBorder'),
});

/** Selects and highlights 1-based lines [line, endLine] and scrolls them into the middle. */
export function highlightLines(ed: vscode.TextEditor, line: number, endLine = line): void {
  const last = ed.document.lineCount - 1;
  const a = Math.max(0, Math.min(line - 1, last));
  const b = Math.max(a, Math.min(endLine - 1, last));
  const range = new vscode.Range(a, 0, b, ed.document.lineAt(b).text.length);
  // the cursor at the start of the line (the status bar says "Ln N, Col 1"), the line selected
  ed.selection = new vscode.Selection(range.end, range.start);
  ed.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  ed.setDecorations(lineHighlight, [range]);
}

/** Writes the rows of the current query (filters and order as shown) to a file the user picks. */
export async function exportRows(model: PanelModel, format: 'csv' | 'json' | 'md'): Promise<void> {
  const base = (model.info.files[0] ?? 'swiotlb').replace(/\.(gz|txt|jsonl|json|trace|log)$/gi, '');
  const target = await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.file(`${base}.swiotlb-lens.${format}`),
    filters: format === 'csv' ? { CSV: ['csv'] } : format === 'json' ? { JSON: ['json'] } : { Markdown: ['md'] },
    title: format === 'md' ? 'SWIOTLB: Export Report' : `SWIOTLB: Export ${model.current.length.toLocaleString('en-US')} rows`,
  });
  if (!target) return;
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `SWIOTLB: writing ${vscode.workspace.asRelativePath(target)}` },
    async () => {
      const out = createWriteStream(target.fsPath);
      const chunks =
        format === 'csv'
          ? withNewlines(csvLines(model.session.events, model.current))
          : format === 'json'
            ? jsonExportChunks(model)
            : [sessionMarkdown(model.info)];
      let buf = '';
      for (const c of chunks) {
        buf += c;
        if (buf.length > 1 << 16) {
          if (!out.write(buf)) await once(out, 'drain');
          buf = '';
        }
      }
      out.end(buf);
      await once(out, 'finish');
    },
  );
  const open = await vscode.window.showInformationMessage(`SWIOTLB: exported to ${vscode.workspace.asRelativePath(target)}`, 'Open');
  if (open) await vscode.window.showTextDocument(target);
}

/** Writes the chart the webview drew (PNG bytes or an SVG document) to a file the user picks. */
async function exportChart(model: PanelModel, format: 'png' | 'svg', data: string): Promise<void> {
  const base = (model.info.files[0] ?? 'swiotlb').replace(/\.(gz|txt|jsonl|json|trace|log)$/gi, '');
  const target = await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.file(`${base}.swiotlb-chart.${format}`),
    filters: format === 'png' ? { PNG: ['png'] } : { SVG: ['svg'] },
    title: `SWIOTLB: Export the chart as ${format.toUpperCase()}`,
  });
  if (!target) return;
  const bytes = format === 'png' ? Buffer.from(data.slice(data.indexOf(',') + 1), 'base64') : Buffer.from(data, 'utf8');
  await vscode.workspace.fs.writeFile(target, bytes);
  void vscode.window.showInformationMessage(`SWIOTLB: chart exported to ${vscode.workspace.asRelativePath(target)}`);
}

/** Writes the panel's view (range, filters, selection, columns) to a *.swiotlb-view.json file the user picks. */
async function exportView(model: PanelModel, view: unknown): Promise<void> {
  const checked = checkSavedView(view);
  if (!checked) {
    void vscode.window.showErrorMessage('SWIOTLB: the panel sent a view that is not valid; nothing was written.');
    return;
  }
  const base = (model.info.files[0] ?? 'swiotlb').replace(/\.(gz|txt|jsonl|json|trace|log)$/gi, '');
  const target = await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.file(`${base}${VIEW_FILE_SUFFIX}`),
    filters: { 'SWIOTLB Lens view': ['swiotlb-view.json'], JSON: ['json'] },
    title: 'SWIOTLB: Export Panel View',
  });
  if (!target) return;
  await vscode.workspace.fs.writeFile(target, Buffer.from(viewFileText(viewInputOf(model.info), checked), 'utf8'));
  void vscode.window.showInformationMessage(`SWIOTLB: view exported to ${vscode.workspace.asRelativePath(target)}`);
}

/** "Export Panel View...": asks the panel for its view (it answers with an exportView message). */
export function requestViewExport(): void {
  const c = mainPanel;
  if (!c?.current) {
    void vscode.window.showInformationMessage('SWIOTLB: open an analysis in the panel first; its view is what gets exported.');
    return;
  }
  c.post({ type: 'requestView' });
}

/**
 * "Import Panel View...": reads a *.swiotlb-view.json file, checks it (problems with file, line
 * and column), and shows it in the panel when the panel shows the input it was made of.
 */
export async function importView(arg?: unknown): Promise<void> {
  let uri = arg instanceof vscode.Uri ? arg : undefined;
  if (!uri) {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      filters: { 'SWIOTLB Lens view': ['swiotlb-view.json', 'json'] },
      title: 'SWIOTLB: Import Panel View',
    });
    uri = picked?.[0];
  }
  if (!uri) return;
  const name = vscode.workspace.asRelativePath(uri);
  let text: string;
  try {
    const bytes = await vscode.workspace.fs.readFile(uri);
    if (bytes.length > 1 << 20) throw new Error(`${bytes.length} bytes: a view file is a few hundred`);
    text = Buffer.from(bytes).toString('utf8');
  } catch (e) {
    void vscode.window.showErrorMessage(`SWIOTLB: cannot read ${name}: ${(e as Error).message}`);
    return;
  }
  const { file, problems } = readViewFile(text);
  if (!file) {
    const lines = problemLines(name, problems);
    const c = mainPanel;
    if (c) c.post({ type: 'error', message: `Not imported: ${lines.slice(0, 5).join('; ')}` });
    void vscode.window.showErrorMessage(`SWIOTLB: ${name} is not a view file the panel can use: ${lines.slice(0, 3).join('; ')}`);
    return;
  }
  const c = mainPanel;
  const model = c?.current;
  if (!c || !model) {
    void vscode.window.showWarningMessage(
      `SWIOTLB: ${name} is a view of ${file.input.files.join(', ')}: analyse that input first, then import the view.`,
    );
    return;
  }
  const diff = inputDifference(file.input, viewInputOf(model.info));
  if (diff) {
    void vscode.window.showWarningMessage(`SWIOTLB: ${name} is a view of a different input (${diff}); the panel is unchanged.`);
    return;
  }
  c.post({ type: 'applyView', view: file.view });
  void vscode.window.showInformationMessage(`SWIOTLB: view ${name} applied`);
}

function* withNewlines(lines: Iterable<string>): Generator<string> {
  for (const l of lines) yield `${l}\n`;
}

/** The main panel: one per window, revived after a reload from its saved request. */
let mainPanel: PanelController | undefined;

export function currentPanel(): PanelController | undefined {
  return mainPanel;
}

/** Shows a finished analysis in the main panel (opening it when needed). */
export function showPanel(
  extensionUri: vscode.Uri,
  analyses: Analyses,
  model: PanelModel | undefined,
  preserveFocus = true,
): PanelController {
  let c = mainPanel;
  if (!c) {
    const panel = vscode.window.createWebviewPanel(
      PANEL_VIEW_TYPE,
      'SWIOTLB Lens',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus },
      webviewOptions(extensionUri),
    );
    c = adoptPanel(panel, extensionUri, analyses);
  } else {
    c.panel.reveal(undefined, preserveFocus);
  }
  if (model) c.setModel(model);
  return c;
}

/** The main panel as the live target of the user's analyses: opened at their start, their chart as it fills in. */
export function livePanel(extensionUri: vscode.Uri, analyses: () => Analyses): LiveTarget {
  let title = '';
  return {
    started(what, command) {
      title = what;
      showPanel(extensionUri, analyses(), undefined).startAnalysis(what, command);
    },
    partial(p) {
      currentPanel()?.showPartial(title, p);
    },
    ended(outcome) {
      currentPanel()?.endAnalysis(outcome);
    },
  };
}

/** VS Code reopened the panel after a reload: analyse its input again. */
export function revivePanel(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, analyses: Analyses, state: unknown): void {
  const c = adoptPanel(panel, extensionUri, analyses);
  const request = (state as PanelState | undefined)?.request;
  if (isAnalysisRequest(request)) {
    c.busy(`Analysing ${request.files.map((f) => f.replace(/^.*[\\/]/, '')).join(', ')} again...`);
    void analyses.run(request, { quiet: true, target: (m) => c.setModel(m) }).finally(() => c.busy(null));
  }
}

function adoptPanel(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, analyses: Analyses): PanelController {
  const c = new PanelController(panel, extensionUri, analyses, () => {
    if (!c.current) c.post({ type: 'empty', recent: analyses.recent().map(({ file, label }) => ({ file, label })) });
  });
  mainPanel = c;
  panel.onDidDispose(() => {
    c.dispose();
    if (mainPanel === c) mainPanel = undefined;
  });
  return c;
}
