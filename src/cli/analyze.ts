/**
 * `swiotlb-lens analyze PATH...`: one command for every input. What the inputs are and which
 * options apply is the router's decision (inputs/router.ts), the analysis the shared one
 * (inputs/analyze.ts), exactly as the extension runs them; this prints the result.
 */
import { parseArgs } from 'node:util';
import { analyzeRoute } from '../inputs/analyze';
import { RouteError, type RouteOptions, routeInputs } from '../inputs/router';
import { TarFormatError } from '../io/tar';
import { InputFormatError } from '../io/textCheck';
import { ReplayFormatError } from '../replay/format';
import { ScenarioError } from '../scenario/format';
import { ScenarioRunError } from '../scenario/run';
import { stderr, stdout } from './output';
import { checkKernelOption, UsageError } from './usage';

/** The options of `analyze` as the router takes them. */
export function analyzeOptions(args: string[]): { paths: string[]; json: boolean; options: RouteOptions } {
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
      'max-calls': { type: 'string' },
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
  let maxCalls: number | undefined;
  if (values['max-calls'] !== undefined) {
    if (!/^\d+$/.test(values['max-calls']) || Number(values['max-calls']) < 1)
      throw new UsageError(`--max-calls must be a positive integer, got "${values['max-calls']}"`);
    maxCalls = Number(values['max-calls']);
  }
  return {
    paths: positionals,
    json: values.json,
    options: {
      ...(values.kernel !== undefined ? { kernel: values.kernel } : {}),
      ...(values.platform !== undefined ? { platform: values.platform } : {}),
      ...(values.cmdline !== undefined ? { cmdline: values.cmdline } : {}),
      ...(cpus !== undefined ? { cpus } : {}),
      ...(values.compare ? { compare: true } : {}),
      ...(values.dynamic ? { dynamic: true } : {}),
      ...(maxCalls !== undefined ? { maxCalls } : {}),
      ...(values.defaults !== undefined ? { sourceDefaults: values.defaults } : {}),
      ...(values.device ? { sourceDevices: parseDeviceOptions(values.device) } : {}),
    },
  };
}

export async function analyzeCommand(args: string[]): Promise<number> {
  const { paths, json, options } = analyzeOptions(args);
  let route: Awaited<ReturnType<typeof routeInputs>>;
  try {
    route = await routeInputs(paths, options);
  } catch (e) {
    if (e instanceof RouteError) throw new UsageError(e.message);
    if (e instanceof InputFormatError) {
      stderr.line(`swiotlb-lens: ${e.file}: ${e.message}`);
      return 2;
    }
    if (e instanceof TarFormatError) {
      stderr.line(`swiotlb-lens: ${paths.join(' ')}: ${e.message}`);
      return 2;
    }
    throw e;
  }
  if (route.ignored.includes('sourceDefaults') || route.ignored.includes('sourceDevices'))
    throw new UsageError('--defaults and --device apply to driver source only');
  if (route.ignored.includes('dynamic'))
    throw new UsageError('--dynamic applies to scenarios, replay ops and driver source (a trace or log shows what its kernel did)');
  if (route.ignored.includes('maxCalls')) throw new UsageError('--max-calls applies to scenarios only');
  try {
    const a = await analyzeRoute(route, {
      source: { settingNames: { defaults: '--defaults', device: (key) => `--device "${key}"` }, root: process.cwd() },
      maxCallsHint: 'raise it with --max-calls N',
      ...(json ? { jsonOut: (chunk: string) => stdout.write(chunk) } : {}),
    });
    if (a.kind === 'scenario')
      for (const w of a.scenario.warnings ?? []) stderr.line(`${a.route.files[0]}:${w.line}:${w.column}: warning: ${w.path}: ${w.message}`);
    if (json) stdout.write('\n');
    else stdout.line(a.text);
    return 0;
  } catch (e) {
    if (e instanceof RouteError) throw new UsageError(e.message);
    if (e instanceof ScenarioRunError) {
      stdout.flush();
      stderr.line(`${route.files[0]}:${e.line}: ${e.message}`);
      return 2;
    }
    if (e instanceof ScenarioError) {
      const file = route.files[0] as string;
      if (json) {
        stdout.line(
          JSON.stringify(
            {
              input: { kind: 'scenario', file },
              diagnostics: e.problems.map((p) => ({ line: p.line, column: p.column, path: p.path, message: p.message })),
            },
            null,
            2,
          ),
        );
      }
      stderr.line(e.message);
      return 2;
    }
    if (e instanceof ReplayFormatError) {
      stdout.flush();
      stderr.line(`${route.files[0]}:${e.line}: ${e.message}`);
      return 2;
    }
    if (e instanceof TarFormatError) {
      stderr.line(`swiotlb-lens: ${paths.join(' ')}: ${e.message}`);
      return 2;
    }
    throw e;
  }
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
