/**
 * The CLI and the extension give the same answers for the same inputs: the CLI's `analyze --json`
 * against what the extension's runners do without VS Code (the router on the request and the
 * settings, then the shared analysis), on the inputs where the two used to disagree: a lone trace
 * beside its dmesg, a replay-ops file given to "analyze", a kernel chosen for a scenario. Each
 * answer is pinned too, so both doors going wrong the same way fails as well.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { analyzeRoute, type InputAnalysis } from '../../src/inputs/analyze';
import { type AnalysisSettings, routeRequest } from '../../src/inputs/request';
import { routeInputs } from '../../src/inputs/router';

const ROOT = path.join(__dirname, '..', '..');
const FIX = path.join(ROOT, 'test', 'fixtures');
const EX = path.join(ROOT, 'examples');

/** `swiotlb-lens analyze FILE --json` with the options the settings stand for. */
function cli(file: string, settings: AnalysisSettings): Record<string, unknown> {
  const args = ['analyze', file, '--json'];
  if (settings.kernel) args.push('--kernel', settings.kernel);
  if (settings.platform) args.push('--platform', settings.platform);
  if (settings.cmdline) args.push('--cmdline', settings.cmdline);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
    encoding: 'utf8',
    cwd: ROOT,
    maxBuffer: 1 << 28,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** What the extension does with "Analyze File" on it: the kind from the router, then its runner's work. */
async function extension(file: string, settings: AnalysisSettings): Promise<InputAnalysis> {
  const kind = (await routeInputs([file])).kind;
  return analyzeRoute(await routeRequest({ kind, files: [file] }, settings), { rowLimit: 1_000_000, noSizing: true });
}

type Json = Record<string, never>;

/** The figures both doors show, from the CLI's JSON of each kind. */
function cliFigures(kind: string, j: Json): Record<string, unknown> {
  switch (kind) {
    case 'text':
      return {
        kernel: (j.kernel as Json).profile,
        nslabs: (j.pool as Json).nslabs,
        nareas: (j.pool as Json).nareas,
        maps: (j.counts as Json).maps,
        bounced: (j.counts as Json).bounced_maps,
        failed: (j.counts as Json).failed,
        peak: (j.occupancy as Json).peak_slots,
      };
    case 'replay':
      return {
        kernel: (j.kernel as Json).name,
        nslabs: (j.pool as Json).nslabs,
        nareas: (j.pool as Json).nareas,
        maps: (j.maps as Json).attempted,
        bounced: (j.maps as Json).ok,
        failed: (j.maps as Json).failed,
        peak: (j.occupancy as Json).peak_slots,
      };
    default: {
      const s = j.summary as Json;
      return {
        kernel: (j.kernel as Json).name,
        nslabs: (j.pool as Json).nslabs,
        nareas: (j.pool as Json).nareas,
        maps: s.maps,
        bounced: s.bounced,
        failed: s.failed,
        peak: s.peak_slots,
      };
    }
  }
}

function extensionFigures(a: InputAnalysis): Record<string, unknown> {
  const s = a.session;
  return {
    kernel: s.kernel,
    nslabs: s.pool?.nslabs ?? 0,
    nareas: s.pool?.nareas ?? 0,
    maps: s.summary.maps,
    bounced: s.summary.bounced,
    failed: s.summary.failed,
    peak: s.summary.peakSlots,
  };
}

const CASES: { name: string; file: string; settings: AnalysisSettings; kind: string; pinned: Record<string, unknown> }[] = [
  {
    name: 'a lone trace is read with the dmesg beside it: the real 512-slot pool, not the default',
    file: path.join(FIX, 'kernel-6.1', 'b_small_pool_smp2', 'trace.txt.gz'),
    settings: {},
    kind: 'text',
    pinned: { kernel: '6.1.192', nslabs: 512, nareas: 2, maps: 3457, bounced: 3445, failed: 12, peak: 512 },
  },
  {
    name: 'replay ops given to analyze are replayed, not read as an empty kernel log',
    file: path.join(EX, 'kernel-6.1-small-pool.jsonl'),
    settings: {},
    kind: 'replay',
    pinned: { kernel: '6.1', nslabs: 512, nareas: 2, maps: 3457, bounced: 3445, failed: 12, peak: 512 },
  },
  {
    name: 'the kernel chosen applies to a scenario in both',
    file: path.join(EX, 'nvme-sev-guest.swiotlb.json'),
    settings: { kernel: '6.1' },
    kind: 'scenario',
    pinned: { kernel: '6.1' },
  },
  {
    name: 'a capture folder, with a command line chosen',
    file: path.join(FIX, 'kernel-6.1', 'a_force_smp2'),
    settings: { cmdline: 'swiotlb=4096,2' },
    kind: 'text',
    pinned: {},
  },
  {
    name: 'driver source with its annotated workload',
    file: path.join(EX, 'source'),
    settings: {},
    kind: 'source',
    pinned: {},
  },
];

describe('the CLI and the extension agree', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const a = await extension(c.file, c.settings);
      assert.equal(a.kind, c.kind);
      const ext = extensionFigures(a);
      // the source JSON names no single pool or kernel (a machine per driver): its workload figures
      const fromCli =
        c.kind === 'source'
          ? (() => {
              const w = ((cli(c.file, c.settings).summary as Json).workload ?? {}) as Json;
              return { maps: w.maps, bounced: w.bounced, failed: w.failed, peak: w.peak_slots };
            })()
          : cliFigures(c.kind, cli(c.file, c.settings) as Json);
      const mine = c.kind === 'source' ? { maps: ext.maps, bounced: ext.bounced, failed: ext.failed, peak: ext.peak } : ext;
      assert.deepEqual(mine, fromCli);
      for (const [k, v] of Object.entries(c.pinned)) assert.equal(ext[k], v, k);
    });
  }
});
