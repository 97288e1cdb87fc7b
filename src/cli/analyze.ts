/**
 * `swiotlb-lens analyze PATH...`: one command for every input, told apart by content:
 * a scenario (JSON object with a workload), driver source (C files or a folder), or kernel
 * traces and logs (text, .gz). Each kind has its own runner; they share the options below.
 */
import { open, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { checkKernelOption, UsageError } from './usage';

export type AnalyzeInputKind = 'scenario' | 'source' | 'text';

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

/** Decides what a path holds from its content (and, for folders and C files, its name). */
export async function detectInputKind(path: string): Promise<AnalyzeInputKind> {
  const st = await stat(path);
  if (st.isDirectory()) return (await looksLikeCapture(path)) ? 'text' : 'source';
  if (/\.(c|h)$/i.test(path)) return 'source';
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf.subarray(0, bytesRead);
    if (head[0] === 0x1f && head[1] === 0x8b) return 'text'; // gzip: traces and logs
    const text = head
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .trimStart();
    // a scenario is one JSON object naming a workload (replay ops are JSON Lines: one object per line)
    if (text.startsWith('{') && /"workload"\s*:/.test(text) && !/^\{[^\n]*"op"\s*:/.test(text)) return 'scenario';
    return 'text';
  } finally {
    await fh.close();
  }
}

/** A folder written by the capture script (it has a trace or a dmesg file). */
async function looksLikeCapture(dir: string): Promise<boolean> {
  for (const name of ['trace.txt', 'trace.txt.gz', 'dmesg.txt', 'dmesg.txt.gz', 'capture.json']) {
    try {
      await stat(`${dir}/${name}`);
      return true;
    } catch {
      // not there
    }
  }
  return false;
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
