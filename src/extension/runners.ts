/**
 * The analysis runners the extension registers: each turns an AnalysisRequest into a session
 * with the same core the CLI uses, reporting progress and honouring cancellation.
 */
import { stat } from 'node:fs/promises';
import * as vscode from 'vscode';
import { ReplayFormatError } from '../replay/format';
import { replaySession } from '../replay/run';
import { formatSummary, summarizeReplay } from '../replay/summary';
import { compareScenario } from '../scenario/compare';
import { parseScenario, ScenarioError } from '../scenario/format';
import { formatScenario } from '../scenario/report';
import { runScenario } from '../scenario/run';
import { InputError, registerRunner } from './analyses';

const basename = (p: string) => p.replace(/^.*[\\/]/, '');

let scenarioProblems: vscode.DiagnosticCollection | undefined;

/** Problems of scenario files, at their JSON positions. */
export function scenarioDiagnostics(): vscode.DiagnosticCollection {
  scenarioProblems ??= vscode.languages.createDiagnosticCollection('swiotlb-scenario');
  return scenarioProblems;
}

export function registerRunners(): void {
  registerRunner('replay', async (request, ctx) => {
    const file = request.files[0] as string;
    let size = 0;
    try {
      size = (await stat(file)).size;
    } catch {
      // reported by the replay below
    }
    const mismatches: string[] = [];
    try {
      const { run, session } = await replaySession(file, {
        ...(ctx.settings.kernel ? { kernel: ctx.settings.kernel } : {}),
        check: true,
        signal: ctx.signal,
        onProgress(bytes) {
          if (size > 0) ctx.progress(bytes / size);
        },
        onOp(outcome) {
          if (mismatches.length < 100) {
            if (outcome.mismatch) mismatches.push(outcome.mismatch);
            if (outcome.race) mismatches.push(outcome.race);
          }
        },
      });
      const summary = summarizeReplay(run, true);
      const notes = [`${summary.kernel.title} (profile ${summary.kernel.name}, from ${summary.kernel.source}).`];
      if (summary.kernel.note) notes.push(summary.kernel.note);
      if (summary.check && summary.check.mismatches + summary.check.races > 0) {
        notes.push(...mismatches.slice(0, 20).map((m) => `Model check: ${m}`));
      }
      return {
        session,
        extras: {
          title: `Replay: ${basename(file)}`,
          check: summary.check?.compared
            ? { compared: summary.check.compared, matched: summary.check.matched, profile: run.profile.name }
            : null,
          notes,
        },
        report: [formatSummary(summary), ...mismatches.map((m) => `  ${m}`)].join('\n'),
      };
    } catch (e) {
      if (e instanceof ReplayFormatError) throw new InputError(file, e.line, e.message);
      throw e;
    }
  });

  registerRunner('scenario', async (request) => {
    const file = request.files[0] as string;
    const uri = vscode.Uri.file(file);
    // the editor's text, saved or not
    const doc = await vscode.workspace.openTextDocument(uri);
    const diags = scenarioDiagnostics();
    let scenario: ReturnType<typeof parseScenario>;
    try {
      scenario = parseScenario(doc.getText(), file);
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      diags.set(
        uri,
        e.problems.map((p) => {
          const pos = new vscode.Position(p.line - 1, p.column - 1);
          const range = doc.getWordRangeAtPosition(pos, /"[^"]*"|[\w.+-]+/) ?? new vscode.Range(pos, pos.translate(0, 1));
          const d = new vscode.Diagnostic(range, `${p.path}: ${p.message}`, vscode.DiagnosticSeverity.Error);
          d.source = 'swiotlb-lens';
          return d;
        }),
      );
      const first = e.problems[0];
      throw new InputError(
        file,
        first?.line ?? 1,
        `${e.problems.length} problem${e.problems.length === 1 ? '' : 's'} in the scenario (see Problems)${first ? `; first: ${first.path}: ${first.message}` : ''}`,
      );
    }
    diags.delete(uri);
    const run = runScenario(scenario);
    const comparison = request.compare ? compareScenario(scenario) : undefined;
    return {
      session: run.session,
      extras: {
        title: `Scenario: ${scenario.name}`,
        notes: scenario.description ? [scenario.description] : [],
      },
      report: formatScenario(run, comparison),
    };
  });
}
