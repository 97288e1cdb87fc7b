/**
 * `swiotlb-lens analyze PATH...`: one command for every input, told apart by content:
 * a scenario (JSON object with a workload), driver source (C files or a folder), or kernel
 * traces and logs (text, .gz). Each kind has its own runner; they share the options below.
 */
import { parseArgs } from 'node:util';
import { type AnalyzeInputKind, detectInputKind } from '../io/detect';
import { checkKernelOption, UsageError } from './usage';

export { type AnalyzeInputKind, detectInputKind };

export interface AnalyzeOptions {
  readonly paths: readonly string[];
  readonly json: boolean;
  readonly kernel?: string;
  readonly platform?: string;
  readonly cmdline?: string;
  readonly cpus?: number;
  /** Scenarios: also run the unified path and compare it with the kernel's xen-swiotlb. */
  readonly compare: boolean;
}

export type AnalyzeRunner = (opts: AnalyzeOptions) => Promise<number>;

/** Runners by input kind, registered by each input adapter's CLI module. */
const runners = new Map<AnalyzeInputKind, AnalyzeRunner>();

export function registerAnalyzer(kind: AnalyzeInputKind, run: AnalyzeRunner): void {
  runners.set(kind, run);
}

export async function analyzeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      kernel: { type: 'string' },
      platform: { type: 'string' },
      cmdline: { type: 'string' },
      cpus: { type: 'string' },
      compare: { type: 'boolean', default: false },
    },
  });
  if (positionals.length === 0) throw new UsageError('analyze needs a FILE or a folder');
  checkKernelOption(values.kernel);
  let cpus: number | undefined;
  if (values.cpus !== undefined) {
    if (!/^\d+$/.test(values.cpus) || Number(values.cpus) < 1)
      throw new UsageError(`--cpus must be a positive integer, got "${values.cpus}"`);
    cpus = Number(values.cpus);
  }
  const kinds = new Set<AnalyzeInputKind>();
  for (const p of positionals) kinds.add(await detectInputKind(p));
  if (kinds.size > 1) throw new UsageError(`analyze takes inputs of one kind at a time, got ${[...kinds].join(' and ')}`);
  const kind = [...kinds][0] as AnalyzeInputKind;
  const run = runners.get(kind);
  if (!run) {
    const what = { scenario: 'scenario files', source: 'driver source', text: 'traces and kernel logs' }[kind];
    throw new UsageError(`analysing ${what} is not available in this build`);
  }
  return run({
    paths: positionals,
    json: values.json,
    compare: values.compare,
    ...(values.kernel !== undefined ? { kernel: values.kernel } : {}),
    ...(values.platform !== undefined ? { platform: values.platform } : {}),
    ...(values.cmdline !== undefined ? { cmdline: values.cmdline } : {}),
    ...(cpus !== undefined ? { cpus } : {}),
  });
}
