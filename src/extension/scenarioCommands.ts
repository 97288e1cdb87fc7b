/**
 * Scenario files in the editor: run the current scenario, compare xen-swiotlb with the unified
 * path. Reports go to the output channel; problems in the file become diagnostics at their place.
 */
import * as vscode from 'vscode';
import { compareScenario } from '../scenario/compare';
import { parseScenario, ScenarioError } from '../scenario/format';
import { formatScenario } from '../scenario/report';
import { runScenario } from '../scenario/run';

let diagnostics: vscode.DiagnosticCollection | undefined;

export function scenarioDiagnostics(): vscode.DiagnosticCollection {
  diagnostics ??= vscode.languages.createDiagnosticCollection('swiotlb-scenario');
  return diagnostics;
}

/** The scenario to run: the given file, the active editor's, or one the user picks. */
async function scenarioDocument(uri?: vscode.Uri): Promise<vscode.TextDocument | undefined> {
  if (uri instanceof vscode.Uri) return vscode.workspace.openTextDocument(uri);
  const active = vscode.window.activeTextEditor?.document;
  if (active && /\.json$/i.test(active.fileName)) return active;
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: 'Analyze',
    filters: { 'Scenario (JSON)': ['json'] },
  });
  return picked?.[0] ? vscode.workspace.openTextDocument(picked[0]) : undefined;
}

export async function analyzeScenario(out: vscode.OutputChannel, uri: vscode.Uri | undefined, compare: boolean): Promise<void> {
  const doc = await scenarioDocument(uri);
  if (!doc) return;
  const file = doc.uri.fsPath;
  const diags = scenarioDiagnostics();
  try {
    const scenario = parseScenario(doc.getText(), file);
    diags.delete(doc.uri);
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `SWIOTLB: running ${vscode.workspace.asRelativePath(doc.uri)}` },
      async () => {
        const run = runScenario(scenario);
        return formatScenario(run, compare ? compareScenario(scenario) : undefined);
      },
    );
    out.appendLine(report);
    out.appendLine('');
    out.show(true);
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    diags.set(
      doc.uri,
      e.problems.map((p) => {
        const pos = new vscode.Position(p.line - 1, p.column - 1);
        const range = doc.getWordRangeAtPosition(pos, /"[^"]*"|[\w.+-]+/) ?? new vscode.Range(pos, pos.translate(0, 1));
        const d = new vscode.Diagnostic(range, `${p.path}: ${p.message}`, vscode.DiagnosticSeverity.Error);
        d.source = 'swiotlb-lens';
        return d;
      }),
    );
    out.appendLine(e.message);
    out.show(true);
    void vscode.window.showErrorMessage(
      `${vscode.workspace.asRelativePath(doc.uri)}: ${e.problems.length} problem${e.problems.length === 1 ? '' : 's'} in the scenario (see Problems)`,
    );
  }
}
