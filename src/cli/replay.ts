/**
 * `swiotlb-lens replay FILE`: the allocator's test contract (docs/replay-format.md).
 */
import { parseArgs } from 'node:util';
import { ReplayFormatError } from '../replay/format';
import { runReplay } from '../replay/run';
import { formatSummary, summarizeReplay } from '../replay/summary';
import { stderr, stdout } from './output';
import { checkKernelOption, UsageError } from './usage';

export async function replayCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      kernel: { type: 'string' },
      dynamic: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      summary: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) throw new UsageError(positionals.length ? 'replay takes one FILE' : 'replay needs a FILE');
  if (values.json && !values.summary) throw new UsageError('--json goes with --summary (the op lines are JSON already)');
  checkKernelOption(values.kernel);
  const file = positionals[0] as string;
  const check = values.check;
  const quiet = values.summary;
  let run: Awaited<ReturnType<typeof runReplay>>;
  try {
    run = await runReplay(file, {
      ...(values.kernel !== undefined ? { kernel: values.kernel } : {}),
      ...(values.dynamic ? { dynamic: true } : {}),
      check,
      onOp(outcome) {
        if (check) {
          if (outcome.race && !quiet) stdout.line(`${file}:${outcome.race}`);
          if (outcome.mismatch && !quiet) stdout.line(`${file}:${outcome.mismatch}`);
        } else if (!quiet) {
          stdout.line(outcome.json);
        }
      },
    });
  } catch (e) {
    if (e instanceof ReplayFormatError) {
      stdout.flush();
      stderr.line(`${file}:${e.line}: ${e.message}`);
      return 2;
    }
    throw e;
  }
  const st = run.replayer.stats;
  if (values.summary) {
    const summary = summarizeReplay(run, check);
    stdout.line(values.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
  } else if (check) {
    stdout.line(`${run.ops} ops, ${st.mismatches} mismatches, ${st.races} races`);
  }
  if (run.profileNote) stderr.line(`swiotlb-lens: note: ${run.profileNote}`);
  return check && st.mismatches > 0 ? 1 : 0;
}
