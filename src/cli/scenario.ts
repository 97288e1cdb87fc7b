/**
 * `swiotlb-lens analyze SCENARIO.json`: run a scenario and print every decision.
 */
import { readFile } from 'node:fs/promises';
import { PLATFORM_IDS, platformById } from '../model/dma/platform';
import { DEFAULT_GROW_DELAY } from '../model/dynamic';
import { dynamicUnsupported, resolveProfileWithNote } from '../model/profiles';
import { compareScenario } from '../scenario/compare';
import { parseScenario, type Scenario, ScenarioError } from '../scenario/format';
import { formatScenario, scenarioJson } from '../scenario/report';
import { runScenario } from '../scenario/run';
import type { AnalyzeOptions } from './analyze';
import { stderr, stdout } from './output';
import { UsageError } from './usage';

/** Applies --kernel / --platform / --dynamic to a parsed scenario. */
export function withOverrides(s: Scenario, opts: { kernel?: string; platform?: string; dynamic?: boolean }): Scenario {
  let out = s;
  if (opts.kernel) {
    const r = resolveProfileWithNote(opts.kernel);
    out = { ...out, kernel: r.profile, ...(r.note ? { kernelNote: r.note } : {}) };
  }
  if (opts.platform) {
    const p = platformById(opts.platform);
    if (!p) throw new UsageError(`unknown platform "${opts.platform}" (one of: ${PLATFORM_IDS.join(', ')})`);
    out = { ...out, platform: p };
  }
  if (opts.dynamic && !out.dynamic) out = { ...out, dynamic: { growDelay: DEFAULT_GROW_DELAY } };
  if (out.dynamic) {
    const why = dynamicUnsupported(out.kernel);
    if (why) throw new UsageError(`--dynamic / "dynamic": ${why}`);
    if (out.platform.xen?.pv) throw new UsageError('dynamic swiotlb: Xen PV dom0 sets its pool up with a remap hook, which cannot grow');
  }
  return out;
}

export async function analyzeScenarioCli(opts: AnalyzeOptions): Promise<number> {
  if (opts.paths.length !== 1) throw new UsageError('analyze takes one scenario file at a time');
  const file = opts.paths[0] as string;
  let scenario: Scenario;
  try {
    scenario = withOverrides(parseScenario(await readFile(file, 'utf8'), file), opts);
  } catch (e) {
    if (e instanceof ScenarioError) {
      if (opts.json) {
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
    throw e;
  }
  const run = runScenario(scenario);
  const comparison = opts.compare ? compareScenario(scenario) : undefined;
  stdout.line(opts.json ? JSON.stringify(scenarioJson(run, comparison), null, 1) : formatScenario(run, comparison));
  return 0;
}
