/**
 * Runs analyses for the extension: one runner per input kind (replay ops, scenarios, traces and
 * logs, driver source), all producing an AnalysisSession from the same core as the CLI. Keeps the
 * current session, the recent inputs and the Problems entries, and tells the views when they change.
 */
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import type { CompareModel } from '../analysis/compareModel';
import { PanelModel, type SessionExtras } from '../analysis/panelModel';
import type { Diagnostic as SessionDiagnostic } from '../analysis/session';
import { adoptTracks, type TracksTransfer } from '../analysis/tracks';
import { type AnalysisSettings, routeRequest } from '../inputs/request';
import type { Route } from '../inputs/router';
import { escapeControls } from '../protocol/escape';
import type { AnalysisRequest, PartialChart } from '../protocol/messages';
import { profileSetting } from './profiles';

export type { AnalysisSettings };

export interface RunContext {
  readonly signal: AbortSignal;
  /** Fraction done (0 ... 1) and what is being done. */
  progress(fraction: number | undefined, message?: string): void;
  /** The chart of what was read so far (runners that can tell it: traces in their worker). */
  partial?(p: PartialChart): void;
}

export interface AnalysisResult {
  readonly session: import('../analysis/session').AnalysisSession;
  readonly extras?: Omit<SessionExtras, 'request'>;
  /** Text for the output channel. */
  readonly report?: string;
  /** The runner put its diagnostics in Problems itself (with exact ranges). */
  readonly problemsPublished?: boolean;
  /** A scenario compared (xen-swiotlb with dma-direct + the Xen hooks): every call of both, for the compare view. */
  readonly compare?: CompareModel;
  /** The panel's tracks, built where the rows were (the trace worker); else built on first use. */
  readonly tracks?: TracksTransfer;
}

/** Runs a route of its kind (the router decided which), with what VS Code adds to it. */
export type Runner = (route: Route, ctx: RunContext) => Promise<AnalysisResult>;

/** An input problem at a line: shown with a "Go to Line" action. */
export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = 'InputError';
  }
}

const runners = new Map<AnalysisRequest['kind'], Runner>();

export function registerRunner(kind: AnalysisRequest['kind'], runner: Runner): void {
  runners.set(kind, runner);
}

const RECENT_KEY = 'swiotlbLens.recent';
const MAX_RECENT = 10;

export interface Recent {
  readonly file: string;
  readonly label: string;
  readonly kind: AnalysisRequest['kind'];
}

/** Where a finished analysis goes: the main panel, or the editor it was opened in. */
export type Target = (model: PanelModel) => void;

/**
 * Where an analysis shows while it runs: opened at its start (the webview loads while the input
 * is read, so a small input's panel is there when its analysis ends), its chart as it fills in,
 * and how it ended (a cancelled one keeps what was shown).
 */
export interface LiveTarget {
  started(title: string, command: number): void;
  partial(p: PartialChart): void;
  ended(outcome: 'done' | 'cancelled' | 'failed'): void;
}

export class Analyses implements vscode.Disposable {
  private model: PanelModel | undefined;
  private readonly changed = new vscode.EventEmitter<PanelModel | undefined>();
  readonly onDidChange = this.changed.event;
  private readonly problems = vscode.languages.createDiagnosticCollection('swiotlb-lens');
  /** When each session's analysis started (for the time-to-first-chart figure). */
  readonly startedAt = new Map<number, { command: number; analysed: number }>();
  private last: AnalysisRequest | undefined;
  /** The comparison a session's analysis made (compare view), by session. */
  private readonly comparisons = new WeakMap<PanelModel, CompareModel>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly output: vscode.OutputChannel,
    private readonly defaultTarget: Target,
    private readonly live?: LiveTarget,
  ) {}

  dispose(): void {
    this.changed.dispose();
    this.problems.dispose();
  }

  get current(): PanelModel | undefined {
    return this.model;
  }

  get extensionUri(): vscode.Uri {
    return this.context.extensionUri;
  }

  comparisonOf(model: PanelModel): CompareModel | undefined {
    return this.comparisons.get(model);
  }

  get lastRequest(): AnalysisRequest | undefined {
    return this.last;
  }

  settings(): AnalysisSettings {
    const c = vscode.workspace.getConfiguration('swiotlbLens');
    // the pickers' choice for this session, else the settings
    const kernel = profileSetting('kernelProfile');
    const platform = profileSetting('platform');
    const cmdline = c.get<string>('pool.cmdline', '').trim();
    const cpus = c.get<number | null>('pool.cpus', null);
    const sourceDefaults = c.get<string>('source.defaults', '').trim();
    const sourceDevices = c.get<Record<string, string>>('source.devices', {});
    const maxCalls = c.get<number | null>('scenario.maxCalls', null);
    return {
      ...(kernel && kernel !== 'auto' ? { kernel } : {}),
      ...(platform && platform !== 'auto' ? { platform } : {}),
      ...(cmdline ? { cmdline } : {}),
      ...(cpus && cpus > 0 ? { cpus } : {}),
      ...(maxCalls && maxCalls > 0 ? { maxCalls } : {}),
      ...(sourceDefaults ? { sourceDefaults } : {}),
      ...(Object.keys(sourceDevices).length ? { sourceDevices } : {}),
    };
  }

  recent(): Recent[] {
    const r = this.context.globalState.get<unknown>(RECENT_KEY);
    if (!Array.isArray(r)) return [];
    return r.filter((x): x is Recent => typeof x?.file === 'string' && typeof x?.label === 'string' && typeof x?.kind === 'string');
  }

  private async remember(request: AnalysisRequest, title: string): Promise<void> {
    const file = request.files[0] as string;
    const list = [{ file, label: title, kind: request.kind }, ...this.recent().filter((r) => r.file !== file)].slice(0, MAX_RECENT);
    await this.context.globalState.update(RECENT_KEY, list);
  }

  /**
   * Runs an analysis with a cancellable progress notification. Errors in the input are shown
   * with their file and line; the returned model is undefined when it failed or was cancelled.
   */
  async run(
    request: AnalysisRequest,
    opts: { target?: Target; quiet?: boolean; startedAt?: number } = {},
  ): Promise<PanelModel | undefined> {
    const what = vscode.workspace.asRelativePath(request.files[0] as string);
    const command = opts.startedAt ?? performance.now();
    // the main panel follows a user's analysis from its start; editors and re-runs get the end only
    const live = opts.quiet || opts.target ? undefined : this.live;
    try {
      // the router decides what the files are and which settings apply, as for the CLI
      const route = await routeRequest(request, this.settings());
      const runner = runners.get(route.kind);
      if (!runner) {
        void vscode.window.showErrorMessage(`SWIOTLB: analysing ${route.kind} inputs is not available in this version (${what}).`);
        return undefined;
      }
      live?.started(what, command);
      const result = await vscode.window.withProgress(
        {
          location: opts.quiet ? vscode.ProgressLocation.Window : vscode.ProgressLocation.Notification,
          title: `SWIOTLB: analysing ${what}`,
          cancellable: !opts.quiet,
        },
        async (progress, token) => {
          const ac = new AbortController();
          token.onCancellationRequested(() => ac.abort());
          let reported = 0;
          return runner(route, {
            signal: ac.signal,
            progress(fraction, message) {
              const pct = fraction === undefined ? reported : Math.min(100, Math.max(reported, 100 * fraction));
              progress.report({ increment: pct - reported, ...(message ? { message } : {}) });
              reported = pct;
            },
            partial: (p) => live?.partial(p),
          });
        },
      );
      const model = new PanelModel(result.session, { ...result.extras, request });
      if (result.tracks) adoptTracks(model, result.tracks);
      this.startedAt.set(model.info.id, { command, analysed: performance.now() });
      if (result.compare) this.comparisons.set(model, result.compare);
      this.model = model;
      this.last = request;
      // the report goes to the channel without opening it: a forced Output panel squeezes the panel
      if (result.report) {
        this.output.appendLine(result.report);
        this.output.appendLine('');
      }
      // the panel first: what else follows (problems, status bar, side view, recent list) can wait
      (opts.target ?? this.defaultTarget)(model);
      live?.ended('done');
      this.publishProblems(result.problemsPublished ? [] : result.session.diagnostics);
      this.changed.fire(model);
      await this.remember(request, model.info.title);
      return model;
    } catch (e) {
      if ((e as Error).name === 'AbortError') {
        this.output.appendLine(`Analysis of ${what} cancelled.`);
        live?.ended('cancelled');
        return undefined;
      }
      live?.ended('failed');
      await this.reportError(e);
      return undefined;
    }
  }

  /** Shows an analysis error; input errors get "Go to Line". */
  async reportError(e: unknown): Promise<void> {
    if (e instanceof InputError) {
      const msg = `${e.file}:${e.line}: ${e.message}`;
      this.output.appendLine(msg);
      const action = await vscode.window.showErrorMessage(
        `${vscode.workspace.asRelativePath(e.file)}:${e.line}: ${e.message}`,
        'Go to Line',
      );
      if (action) await revealLine(e.file, e.line);
      return;
    }
    const msg = (e as Error)?.message ?? String(e);
    this.output.appendLine(`SWIOTLB: ${msg}`);
    // the channel opens only when asked: it may hold more (the analysis' earlier lines)
    void vscode.window.showErrorMessage(`SWIOTLB: ${msg}`, 'Show Output').then((a) => a && this.output.show(true));
  }

  private publishProblems(diags: readonly SessionDiagnostic[]): void {
    this.problems.clear();
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const d of diags.slice(0, 5000)) {
      if (!d.file) continue;
      const line = Math.max(0, d.line - 1);
      const diag = new vscode.Diagnostic(
        new vscode.Range(line, 0, line, Number.MAX_SAFE_INTEGER),
        escapeControls(d.message),
        d.severity === 'error'
          ? vscode.DiagnosticSeverity.Error
          : d.severity === 'warning'
            ? vscode.DiagnosticSeverity.Warning
            : vscode.DiagnosticSeverity.Information,
      );
      diag.source = 'swiotlb-lens';
      const list = byFile.get(d.file) ?? [];
      if (list.length === 0) byFile.set(d.file, list);
      list.push(diag);
    }
    for (const [file, list] of byFile) this.problems.set(vscode.Uri.file(file), list);
  }
}

/** A file name as analyses report it (driver source: relative to the first workspace folder), absolute. */
export function workspacePath(name: string): string {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return root ? resolve(root, name) : resolve(name);
}

/** Opens a file at a 1-based line in the first editor group. */
export async function revealLine(file: string, line: number): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const pos = new vscode.Position(Math.max(0, Math.min(line - 1, doc.lineCount - 1)), 0);
  await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), viewColumn: vscode.ViewColumn.One });
}
