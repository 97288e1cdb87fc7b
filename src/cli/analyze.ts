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
  /** Scenarios and driver source: CONFIG_SWIOTLB_DYNAMIC on (6.6+ kernels). */
  readonly dynamic?: boolean;
  /** Driver source: defaults in the annotation grammar (the swiotlbLens.source.defaults setting). */
  readonly sourceDefaults?: string;
  /** Driver source: per-device settings by device key (the swiotlbLens.source.devices setting). */
  readonly sourceDevices?: Readonly<Record<string, string>>;
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
      dynamic: { type: 'boolean', default: false },
      defaults: { type: 'string' },
      device: { type: 'string', multiple: true },
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
  if ((values.defaults !== undefined || values.device !== undefined) && kind !== 'source')
    throw new UsageError('--defaults and --device apply to driver source only');
  if (values.dynamic && kind === 'text')
    throw new UsageError('--dynamic applies to scenarios and driver source (a trace shows what its kernel did)');
  const sourceDevices = values.device ? parseDeviceOptions(values.device) : undefined;
  const run = runners.get(kind);
  if (!run) {
    const what = { scenario: 'scenario files', source: 'driver source', text: 'traces and kernel logs' }[kind];
    throw new UsageError(`analysing ${what} is not available in this build`);
  }
  return run({
    paths: positionals,
    json: values.json,
    compare: values.compare,
    ...(values.dynamic ? { dynamic: true } : {}),
    ...(values.kernel !== undefined ? { kernel: values.kernel } : {}),
    ...(values.platform !== undefined ? { platform: values.platform } : {}),
    ...(values.cmdline !== undefined ? { cmdline: values.cmdline } : {}),
    ...(cpus !== undefined ? { cpus } : {}),
    ...(values.defaults !== undefined ? { sourceDefaults: values.defaults } : {}),
    ...(sourceDevices ? { sourceDevices } : {}),
  });
}

/** `--device KEY=SETTINGS`, repeatable: the key is the device as the source names it (no "="). */
function parseDeviceOptions(given: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const g of given) {
    const eq = g.indexOf('=');
    const key = eq < 0 ? '' : g.slice(0, eq).trim();
    if (!key) throw new UsageError(`--device needs KEY=SETTINGS, e.g. --device '&pdev->dev=dma_mask=40', got "${g}"`);
    out[key] = g.slice(eq + 1);
  }
  return out;
}
