/**
 * Driver source in the editor: "SWIOTLB: Analyze DMA Calls in This File" and "... in Folder",
 * then per call site a CodeLens with the verdict, a hover with every reason and address,
 * diagnostics (will-fail, pairing bugs, annotation mistakes) with quick fixes. The commands run
 * as the 'source' runner of the Analyses service, so their simulated workload feeds the panel like
 * any other input. Files analysed once follow their edits. The analysis is src/source (pure,
 * shared with the CLI); this is only glue.
 */
import { extname, join } from 'node:path';
import * as vscode from 'vscode';
import type { PanelModel } from '../../analysis/panelModel';
import { analyzeRoute } from '../../inputs/analyze';
import { driverContext, type Route } from '../../inputs/router';
import { escapeControls } from '../../protocol/escape';
import { analyzeSource, type SourceAnalysis, type SourceOptions } from '../../source/analyze';
import { explainPosition, explainSite, siteAtPosition } from '../../source/explain';
import type { Site, SourceDiagnostic } from '../../source/sites';
import { type Analyses, type AnalysisResult, type RunContext, registerRunner, workspacePath } from '../analyses';
import { currentPanel, showPanel } from '../panel';
import { onProfileChange, profileSetting } from '../profiles';
import { resultOf, unsavedText } from '../runners';

const C_LANGS = new Set(['c', 'cpp', 'objective-c']);
const SELECTOR: vscode.DocumentSelector = [
  { language: 'c', scheme: 'file' },
  { language: 'cpp', scheme: 'file' },
  { pattern: '**/*.{c,h}', scheme: 'file' },
];

/** What an analysis left for one file. */
interface FileResult {
  readonly analysis: SourceAnalysis;
  readonly sites: Site[];
  /** The document version the result is for (edits since shift lines). */
  readonly version: number | undefined;
}

export function registerSourceFeatures(context: vscode.ExtensionContext, analyses: Analyses): void {
  const features = new SourceFeatures(context, analyses);
  context.subscriptions.push(features);
  registerRunner('source', (route, ctx) => features.run(route, ctx));
}

class SourceFeatures implements vscode.Disposable {
  private readonly results = new Map<string, FileResult>();
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('swiotlb-source');
  private readonly lensChanged = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly analyses: Analyses,
  ) {
    this.disposables.push(
      this.diagnostics,
      this.lensChanged,
      vscode.commands.registerCommand('swiotlbLens.analyzeSourceFile', (uri?: vscode.Uri) => this.analyzeFileCommand(uri)),
      vscode.commands.registerCommand('swiotlbLens.analyzeSourceFolder', (uri?: vscode.Uri) => this.analyzeFolderCommand(uri)),
      vscode.commands.registerCommand('swiotlbLens.analyzeWorkspaceDrivers', () => this.analyzeWorkspaceCommand()),
      vscode.commands.registerCommand('swiotlbLens.explainSite', (file: string, id: number) => this.explain(file, id)),
      vscode.languages.registerCodeLensProvider(SELECTOR, {
        onDidChangeCodeLenses: this.lensChanged.event,
        provideCodeLenses: (doc) => this.codeLenses(doc),
      }),
      vscode.languages.registerHoverProvider(SELECTOR, { provideHover: (doc, pos) => this.hover(doc, pos) }),
      vscode.languages.registerCodeActionsProvider(
        SELECTOR,
        { provideCodeActions: (doc, range, ctx) => this.codeActions(doc, range, ctx) },
        {
          providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
        },
      ),
      vscode.workspace.onDidChangeTextDocument((e) => this.scheduleReanalysis(e.document)),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        // keep diagnostics, drop what only an open editor needs
        const r = this.results.get(doc.uri.fsPath);
        if (r) this.results.set(doc.uri.fsPath, { ...r, version: undefined });
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('swiotlbLens')) {
          this.lensChanged.fire();
          // the platform and kernel: onProfileChange below
          if (e.affectsConfiguration('swiotlbLens.source')) void this.reanalyzeAll();
        }
      }),
      // the platform or kernel in effect changed: in the settings, or for this session only
      onProfileChange(() => {
        this.lensChanged.fire();
        void this.reanalyzeAll();
      }),
    );
  }

  private output(): vscode.OutputChannel {
    return this.analyses.output;
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
  }

  // ---------------------------------------------------------------- settings

  private config() {
    const c = vscode.workspace.getConfiguration('swiotlbLens');
    const platform = profileSetting('platform');
    const kernel = profileSetting('kernelProfile');
    return {
      platform,
      kernel,
      codeLens: c.get<boolean>('source.codeLens', true),
      defaults: c.get<string>('source.defaults', ''),
      devices: c.get<Record<string, string>>('source.devices', {}),
      maxFileBytes: Math.max(1, c.get<number>('source.maxFileSize', 4)) * 2 ** 20,
    };
  }

  /** What the extension gives the source analysis besides the settings: the C parser, the file size limit, the root. */
  private frontEnd(): Pick<SourceOptions, 'parser' | 'maxFileBytes' | 'root'> {
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    return {
      maxFileBytes: this.config().maxFileBytes,
      parser: { wasmDir: join(this.context.extensionPath, 'dist') },
      ...(root ? { root } : {}),
    };
  }

  /** Options for a re-analysis after an edit (a known C file: no routing), as a route would give them. */
  private options(extra: Partial<SourceOptions>): SourceOptions {
    const c = this.config();
    return {
      ...(c.platform !== 'auto' ? { platform: c.platform } : {}),
      ...(c.kernel !== 'auto' ? { kernel: c.kernel } : {}),
      settings: c.defaults,
      devices: c.devices,
      overlay: unsavedText(),
      ...this.frontEnd(),
      ...extra,
    };
  }

  // ---------------------------------------------------------------- commands

  private async analyzeFileCommand(uri?: vscode.Uri): Promise<void> {
    const target = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
    if (target?.scheme !== 'file') {
      void vscode.window.showInformationMessage('SWIOTLB: open a C file to analyse its DMA calls.');
      return;
    }
    const ext = extname(target.fsPath).toLowerCase();
    if (ext !== '.c' && ext !== '.h') {
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === target.fsPath);
      if (!doc || !C_LANGS.has(doc.languageId)) {
        void vscode.window.showWarningMessage(`SWIOTLB: ${vscode.workspace.asRelativePath(target)} is not C source.`);
        return;
      }
    }
    await this.analyze([target.fsPath]);
  }

  /**
   * The panel shows the annotated workload: opened when there is one, updated when it is open
   * (a driver without depth= annotations has verdicts in the editor only).
   */
  private async analyze(files: string[]): Promise<void> {
    await this.analyses.run(
      { kind: 'source', files },
      {
        target: (model: PanelModel) => {
          if (model.info.rows > 0 || currentPanel()) showPanel(this.context.extensionUri, this.analyses, model);
        },
      },
    );
  }

  /** Again after an edit: lenses and diagnostics only, the panel keeps what it shows. */
  private async reanalyzeFile(file: string): Promise<void> {
    try {
      const context = await driverContext(file);
      this.publish(await analyzeSource([file], this.options({ context })), [file]);
    } catch (e) {
      this.fail(file, e);
    }
  }

  /**
   * The 'source' runner: the route's C files or folders (a lone file with the rest of its driver)
   * through the shared analysis; publishes lenses and diagnostics; the simulated workload becomes
   * the panel's session.
   */
  async run(route: Route, ctx: RunContext): Promise<AnalysisResult> {
    const a = await analyzeRoute(route, {
      signal: ctx.signal,
      onProgress: (f, m) => ctx.progress(f, m),
      overlay: unsavedText(),
      source: this.frontEnd(),
    });
    if (a.kind !== 'source') throw new Error(`not a driver source route: ${a.kind}`);
    const lone = route.kind === 'source' && route.files.length === 1 && /\.(c|h)$/i.test(route.files[0] as string);
    this.publish(a.analysis, lone ? [route.files[0] as string] : undefined);
    return { ...resultOf(a), problemsPublished: true };
  }

  private async analyzeFolderCommand(uri?: vscode.Uri): Promise<void> {
    let folder = uri instanceof vscode.Uri ? uri : undefined;
    if (!folder) {
      const ws = vscode.workspace.workspaceFolders ?? [];
      if (ws.length === 1) folder = ws[0]?.uri;
      else if (ws.length > 1)
        folder = (await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Folder whose C files to analyse' }))?.uri;
      else folder = (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Analyze' }))?.[0];
    }
    if (folder) await this.analyze([folder.fsPath]);
  }

  /** Every workspace folder's C files, one driver per directory. */
  private async analyzeWorkspaceCommand(): Promise<void> {
    const ws = vscode.workspace.workspaceFolders ?? [];
    if (!ws.length) {
      await this.analyzeFolderCommand();
      return;
    }
    await this.analyze(ws.map((f) => f.uri.fsPath));
  }

  /**
   * The CodeLens's command: the site's explanation as the hover renders it (its Markdown table and
   * code), opened at the call where it can be read and kept (it stays until Escape or the cursor moves).
   */
  private async explain(file: string, id: number): Promise<void> {
    const r = this.results.get(file);
    const s = r?.sites.find((x) => x.id === id);
    if (!r || !s) return;
    // the editor the lens was clicked in (or the file, if it was closed since)
    const shown = vscode.window.visibleTextEditors.find((e) => e.document.uri.fsPath === file);
    const editor = shown
      ? await vscode.window.showTextDocument(shown.document, shown.viewColumn)
      : await vscode.window.showTextDocument(vscode.Uri.file(file));
    const at = explainPosition(s);
    const pos = new vscode.Position(at.line, at.character);
    editor.selection = new vscode.Selection(pos, pos);
    editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    // the hover provider (this.hover) finds the innermost call at that position: this site
    await vscode.commands.executeCommand('editor.action.showHover');
  }

  private fail(what: string, e: unknown): void {
    const msg = `SWIOTLB: ${vscode.workspace.asRelativePath(what)}: ${(e as Error).message}`;
    this.output().appendLine(msg);
    void vscode.window.showErrorMessage(msg);
  }

  // ---------------------------------------------------------------- results

  /** Stores a result per file and replaces the diagnostics of every file it covers. */
  private publish(a: SourceAnalysis, only: readonly string[] | undefined): void {
    const files = new Set<string>(only ?? a.files.map((f) => workspacePath(f.file)));
    for (const f of a.files) files.add(workspacePath(f.file));
    const byFile = new Map<string, { sites: Site[]; diags: SourceDiagnostic[] }>();
    for (const f of files) byFile.set(f, { sites: [], diags: [] });
    for (const s of a.sites) byFile.get(workspacePath(s.file))?.sites.push(s);
    for (const d of a.diagnostics) {
      if (d.file === 'settings') {
        this.output().appendLine(d.message);
        continue;
      }
      byFile.get(workspacePath(d.file))?.diags.push(d);
    }
    for (const [file, { sites, diags }] of byFile) {
      const uri = vscode.Uri.file(file);
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
      this.results.set(file, { analysis: a, sites, version: doc?.version });
      this.diagnostics.set(uri, diags.map(toDiagnostic));
    }
    this.lensChanged.fire();
  }

  private scheduleReanalysis(doc: vscode.TextDocument): void {
    const file = doc.uri.fsPath;
    if (!this.results.has(file) || doc.uri.scheme !== 'file') return;
    const old = this.timers.get(file);
    if (old) clearTimeout(old);
    this.timers.set(
      file,
      setTimeout(() => {
        this.timers.delete(file);
        void this.reanalyzeFile(file);
      }, 700),
    );
  }

  private async reanalyzeAll(): Promise<void> {
    const open = new Set(vscode.workspace.textDocuments.map((d) => d.uri.fsPath));
    for (const file of [...this.results.keys()]) if (open.has(file)) await this.reanalyzeFile(file);
  }

  private current(doc: vscode.TextDocument): FileResult | undefined {
    const r = this.results.get(doc.uri.fsPath);
    // lines of a stale result would point at the wrong calls; the re-analysis is on its way
    if (!r || (r.version !== undefined && r.version !== doc.version)) return undefined;
    return r;
  }

  // ---------------------------------------------------------------- providers

  private codeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!this.config().codeLens) return [];
    const r = this.current(doc);
    if (!r) return [];
    const out: vscode.CodeLens[] = [];
    for (const s of r.sites) {
      const v = r.analysis.verdicts.get(s.id);
      if (!v) continue;
      const range = new vscode.Range(s.raw.span.row, s.raw.span.col, s.raw.span.row, s.raw.span.col);
      out.push(
        new vscode.CodeLens(range, {
          title: v.lens,
          tooltip: v.summary,
          command: 'swiotlbLens.explainSite',
          arguments: [doc.uri.fsPath, s.id],
        }),
      );
    }
    return out;
  }

  private siteAt(doc: vscode.TextDocument, pos: vscode.Position): { r: FileResult; s: Site } | undefined {
    const r = this.current(doc);
    if (!r) return undefined;
    const s = siteAtPosition(r.sites, pos.line, pos.character);
    return s ? { r, s } : undefined;
  }

  private hover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    const hit = this.siteAt(doc, pos);
    if (!hit) return undefined;
    const md = new vscode.MarkdownString(explainSite(hit.s, hit.r.analysis));
    md.supportHtml = false;
    const sp = hit.s.raw.nameSpan;
    return new vscode.Hover(md, new vscode.Range(sp.row, sp.col, sp.endRow, sp.endCol));
  }

  private codeActions(doc: vscode.TextDocument, range: vscode.Range, ctx: vscode.CodeActionContext): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    for (const d of ctx.diagnostics) {
      if (d.source !== 'swiotlb-lens') continue;
      const code = typeof d.code === 'string' ? d.code : typeof d.code === 'object' ? String(d.code.value) : '';
      const suggestion = suggestionOf(d);
      if (code === 'annotation-unknown-key' && suggestion) {
        const a = new vscode.CodeAction(`Change to ${suggestion}`, vscode.CodeActionKind.QuickFix);
        a.edit = new vscode.WorkspaceEdit();
        a.edit.replace(doc.uri, d.range, suggestion);
        a.diagnostics = [d];
        a.isPreferred = true;
        out.push(a);
      }
    }
    const hit = this.siteAt(doc, range.start);
    if (hit && hit.s.role === 'map' && !hit.s.annotated) {
      const line = doc.lineAt(statementLine(doc, hit.s.raw.span.row));
      const indent = line.text.slice(0, line.firstNonWhitespaceCharacterIndex);
      const size = hit.s.size?.value ?? 2048;
      const sg = hit.s.family === 'sg' || hit.s.family === 'sgtable' ? ` sg=${hit.s.nents?.value ?? 1}` : '';
      const text = `${indent}/* swiotlb: size=${size}${sg} depth=1 where=any */\n`;
      const a = new vscode.CodeAction('Annotate this DMA call for SWIOTLB Lens (size, depth, where)', vscode.CodeActionKind.QuickFix);
      a.edit = new vscode.WorkspaceEdit();
      a.edit.insert(doc.uri, new vscode.Position(line.lineNumber, 0), text);
      a.diagnostics = ctx.diagnostics.filter((d) => d.source === 'swiotlb-lens' && d.range.intersection(line.range));
      out.push(a);
    }
    return out;
  }
}

/** The first line of the statement a call sits in (where an annotation goes). */
function statementLine(doc: vscode.TextDocument, row: number): number {
  // a call continued from the line above (`x =\n dma_map_single(...)`) belongs to that line
  let r = row;
  while (r > 0) {
    const prev = doc.lineAt(r - 1).text.trimEnd();
    if (prev.endsWith('=') || prev.endsWith('(') || prev.endsWith(',')) r--;
    else break;
  }
  return r;
}

const SUGGESTIONS = new WeakMap<vscode.Diagnostic, string>();

function suggestionOf(d: vscode.Diagnostic): string | undefined {
  const known = SUGGESTIONS.get(d);
  if (known) return known;
  // diagnostics come back as copies: the suggestion is also in the message
  const m = /did you mean ([\w-]+)\?/.exec(d.message);
  return m?.[1];
}

function toDiagnostic(d: SourceDiagnostic): vscode.Diagnostic {
  const range = new vscode.Range(
    d.span.row,
    d.span.col,
    d.span.endRow,
    Math.max(d.span.endCol, d.span.endRow === d.span.row ? d.span.col + 1 : d.span.endCol),
  );
  const severity =
    d.severity === 'error'
      ? vscode.DiagnosticSeverity.Error
      : d.severity === 'warning'
        ? vscode.DiagnosticSeverity.Warning
        : vscode.DiagnosticSeverity.Information;
  const out = new vscode.Diagnostic(range, escapeControls(d.message), severity);
  out.source = 'swiotlb-lens';
  out.code = d.code;
  if (d.suggestion) SUGGESTIONS.set(out, d.suggestion);
  return out;
}
