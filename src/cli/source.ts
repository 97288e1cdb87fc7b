/**
 * `swiotlb-lens analyze FILE.c|DIR`: the DMA call sites of driver source, each with the verdict of
 * the decision layer, the devices, map/unmap pairs and every problem found.
 */
import { PLATFORM_IDS, platformById } from '../model/dma/platform';
import { analyzeSource } from '../source/analyze';
import { formatSource, sourceJson } from '../source/report';
import type { AnalyzeOptions } from './analyze';
import { stdout } from './output';
import { UsageError } from './usage';

export async function analyzeSourceCli(opts: AnalyzeOptions): Promise<number> {
  if (opts.platform && !platformById(opts.platform))
    throw new UsageError(`unknown platform "${opts.platform}" (one of: ${PLATFORM_IDS.join(', ')})`);
  const a = await analyzeSource(opts.paths, {
    ...(opts.platform ? { platform: opts.platform } : {}),
    ...(opts.kernel ? { kernel: opts.kernel } : {}),
    ...(opts.cmdline ? { cmdline: opts.cmdline } : {}),
    ...(opts.cpus !== undefined ? { cpus: opts.cpus } : {}),
    ...(opts.dynamic ? { dynamic: true } : {}),
    ...(opts.sourceDefaults !== undefined ? { settings: opts.sourceDefaults } : {}),
    ...(opts.sourceDevices ? { devices: opts.sourceDevices } : {}),
    settingNames: { defaults: '--defaults', device: (key) => `--device "${key}"` },
    root: process.cwd(),
  });
  stdout.line(opts.json ? JSON.stringify(sourceJson(a, opts.paths), null, 1) : formatSource(a));
  return 0;
}
