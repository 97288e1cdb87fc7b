/**
 * `swiotlb-lens analyze` for traces and kernel logs (files, capture folders, capture archives):
 * one JSON object with --json, else a report for people.
 */
import { TarFormatError } from '../io/tar';
import { InputFormatError } from '../io/textCheck';
import { buildReport, formatReport } from '../trace/report';
import { analyzeText } from '../trace/run';
import { type AnalyzeOptions, registerAnalyzer } from './analyze';
import { stderr, stdout } from './output';

export async function analyzeTextCommand(opts: AnalyzeOptions): Promise<number> {
  let result: Awaited<ReturnType<typeof analyzeText>>;
  try {
    result = await analyzeText(opts.paths, {
      ...(opts.kernel !== undefined ? { kernel: opts.kernel } : {}),
      ...(opts.platform !== undefined ? { platform: opts.platform } : {}),
      ...(opts.cmdline !== undefined ? { cmdline: opts.cmdline } : {}),
      ...(opts.cpus !== undefined ? { cpus: opts.cpus } : {}),
    });
  } catch (e) {
    if (e instanceof TarFormatError) {
      stderr.line(`swiotlb-lens: ${opts.paths.join(' ')}: ${e.message}`);
      return 2;
    }
    if (e instanceof InputFormatError) {
      stderr.line(`swiotlb-lens: ${e.file}: ${e.message}`);
      return 2;
    }
    throw e;
  }
  const report = buildReport(result);
  stdout.line(opts.json ? JSON.stringify(report, null, 2) : formatReport(report));
  return 0;
}

registerAnalyzer('text', analyzeTextCommand);
