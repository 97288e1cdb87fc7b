/**
 * The runners of replay ops and scenarios in the extension: the shared analysis of their route
 * (inputs/analyze.ts, as the CLI runs it) plus what VS Code adds: the editor's unsaved text, the
 * scenario's problems at their JSON positions, errors with "Go to Line".
 */
import * as vscode from 'vscode';
import { CompareModel, CompareRows } from '../analysis/compareModel';
import { analyzeRoute, type InputAnalysis } from '../inputs/analyze';
import type { Route } from '../inputs/router';
import { escapeControls } from '../protocol/escape';
import { ReplayFormatError } from '../replay/format';
import { ScenarioError } from '../scenario/format';
import type { Problem } from '../scenario/json';
import { type AnalysisResult, InputError, type RunContext, registerRunner } from './analyses';

let scenarioProblems: vscode.DiagnosticCollection | undefined;

/** Problems of scenario files, at their JSON positions. */
export function scenarioDiagnostics(): vscode.DiagnosticCollection {
  scenarioProblems ??= vscode.languages.createDiagnosticCollection('swiotlb-scenario');
  return scenarioProblems;
}

/** Files open with unsaved changes: analysed as the editor shows them. */
export function unsavedText(): Map<string, string> {
  const overlay = new Map<string, string>();
  for (const d of vscode.workspace.textDocuments) if (d.isDirty && d.uri.scheme === 'file') overlay.set(d.uri.fsPath, d.getText());
  return overlay;
}

/** What the panel and the output channel get of an analysis. */
export function resultOf(a: InputAnalysis): AnalysisResult {
  return { session: a.session, extras: a.extras, report: a.text };
}

async function runReplay(route: Route, ctx: RunContext): Promise<AnalysisResult> {
  try {
    return resultOf(await analyzeRoute(route, { signal: ctx.signal, onProgress: (f) => ctx.progress(f) }));
  } catch (e) {
    if (e instanceof ReplayFormatError) throw new InputError(route.files[0] as string, e.line, e.message);
    throw e;
  }
}

async function runScenario(route: Route, ctx: RunContext): Promise<AnalysisResult> {
  const file = route.files[0] as string;
  const uri = vscode.Uri.file(file);
  const diags = scenarioDiagnostics();
  const doc = await vscode.workspace.openTextDocument(uri);
  const diagnostic = (p: Problem, severity: vscode.DiagnosticSeverity) => {
    const pos = new vscode.Position(p.line - 1, p.column - 1);
    const range = doc.getWordRangeAtPosition(pos, /"[^"]*"|[\w.+-]+/) ?? new vscode.Range(pos, pos.translate(0, 1));
    const d = new vscode.Diagnostic(range, escapeControls(`${p.path}: ${p.message}`), severity);
    d.source = 'swiotlb-lens';
    return d;
  };
  try {
    const rows = route.kind === 'scenario' && route.options.compare ? new CompareRows() : undefined;
    const a = await analyzeRoute(route, {
      signal: ctx.signal,
      overlay: unsavedText(),
      maxCallsHint: 'raise it with the setting swiotlbLens.scenario.maxCalls',
      ...(rows ? { compareRows: rows } : {}),
    });
    const warnings = a.kind === 'scenario' ? (a.scenario.warnings ?? []) : [];
    if (warnings.length)
      diags.set(
        uri,
        warnings.map((p) => diagnostic(p, vscode.DiagnosticSeverity.Warning)),
      );
    else diags.delete(uri);
    // --compare: every call of both paths, for the compare view
    if (rows && a.kind === 'scenario' && a.comparison)
      return {
        ...resultOf(a),
        compare: new CompareModel(rows, a.comparison, { title: a.scenario.name, file, kernel: a.scenario.kernel.name }),
      };
    return resultOf(a);
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    diags.set(
      uri,
      e.problems.map((p) => diagnostic(p, vscode.DiagnosticSeverity.Error)),
    );
    const first = e.problems[0];
    throw new InputError(
      file,
      first?.line ?? 1,
      `${e.problems.length} problem${e.problems.length === 1 ? '' : 's'} in the scenario (see Problems)${first ? `; first: ${first.path}: ${first.message}` : ''}`,
    );
  }
}

export function registerRunners(): void {
  registerRunner('replay', runReplay);
  registerRunner('scenario', runScenario);
}
