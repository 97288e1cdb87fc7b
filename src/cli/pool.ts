/**
 * `swiotlb-lens pool`: the default pool a kernel sets up at boot, and its boot log.
 */
import { parseArgs } from 'node:util';
import { hexAddr, parseAddr, ValueError } from '../model/hex';
import { resolveProfileWithNote } from '../model/profiles';
import { type Arch, type BootConfig, bootPool, type MemEncrypt } from '../model/setup';
import { swiotlbMaxMappingSize } from '../model/swiotlb';
import { formatBytes } from '../model/units';
import { stdout } from './output';
import { checkKernelOption, parseSize, UsageError } from './usage';

export function poolCommand(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: false,
    options: {
      cmdline: { type: 'string' },
      cpus: { type: 'string' },
      ram: { type: 'string' },
      'max-phys': { type: 'string' },
      kernel: { type: 'string' },
      arch: { type: 'string' },
      guest: { type: 'string' },
      available: { type: 'string' },
      'pool-base': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  void positionals;
  checkKernelOption(values.kernel);
  const { profile, note } = resolveProfileWithNote(values.kernel ?? '6.1');
  let cpus = 1;
  if (values.cpus !== undefined) {
    if (!/^\d+$/.test(values.cpus) || Number(values.cpus) < 1)
      throw new UsageError(`--cpus must be a positive integer, got "${values.cpus}"`);
    cpus = Number(values.cpus);
  }
  const arch = (values.arch ?? 'x86') as Arch;
  if (arch !== 'x86' && arch !== 'arm64') throw new UsageError(`--arch must be x86 or arm64, got "${values.arch}"`);
  let memEncrypt: MemEncrypt = 'none';
  if (values.guest !== undefined) {
    if (!['sev', 'tdx', 'realm'].includes(values.guest)) throw new UsageError(`--guest must be sev, tdx or realm, got "${values.guest}"`);
    memEncrypt = values.guest as MemEncrypt;
  }
  const addr = (v: string | undefined, what: string): number | undefined => {
    if (v === undefined) return undefined;
    try {
      return /^0x/i.test(v) ? parseAddr(v, what) : parseSize(v, what);
    } catch (e) {
      if (e instanceof ValueError) throw new UsageError(e.message);
      throw e;
    }
  };
  const cfg: BootConfig = {
    possibleCpus: cpus,
    arch,
    memEncrypt,
    ...(values.cmdline !== undefined ? { cmdline: values.cmdline } : {}),
    ...(values.ram !== undefined ? { ramBytes: parseSize(values.ram, '--ram') } : {}),
    ...(values['max-phys'] !== undefined ? { maxPhysAddr: addr(values['max-phys'], '--max-phys') } : {}),
    ...(values.available !== undefined ? { allocatableBytes: parseSize(values.available, '--available') } : {}),
    ...(values['pool-base'] !== undefined ? { poolStart: addr(values['pool-base'], '--pool-base') } : {}),
  };
  const pool = bootPool(profile, cfg);
  if (values.json) {
    stdout.line(
      JSON.stringify(
        {
          kernel: { name: profile.name, title: profile.title, family: profile.family, ...(note ? { note } : {}) },
          created: pool.created,
          why: pool.why,
          nslabs: pool.nslabs,
          nareas: pool.nareas,
          area_nslabs: pool.areaNslabs,
          bytes: pool.bytes,
          force_bounce: pool.forceBounce,
          noforce: pool.noforce,
          possible_cpus: pool.possibleCpus,
          max_mapping_size: swiotlbMaxMappingSize(0),
          ...(cfg.poolStart !== undefined ? { base: hexAddr(cfg.poolStart) } : {}),
          log: pool.log,
          steps: pool.steps,
          warnings: pool.warnings,
        },
        null,
        2,
      ),
    );
    return 0;
  }
  const out: string[] = [];
  out.push(`${profile.title} [${profile.family}], ${arch}, ${pool.possibleCpus} possible CPU${pool.possibleCpus === 1 ? '' : 's'}`);
  if (note) out.push(`  note: ${note}`);
  if (cfg.cmdline) out.push(`  command line: ${cfg.cmdline}`);
  if (pool.created) {
    out.push(
      `pool: ${pool.nslabs} slots (${formatBytes(pool.bytes)}), ${pool.nareas} area${pool.nareas === 1 ? '' : 's'} of ${pool.areaNslabs} slots`,
    );
    out.push(`  why: ${pool.why}`);
    out.push(
      `  force bounce: ${pool.forceBounce ? 'yes, every dma-direct streaming mapping bounces' : 'no, only buffers a device cannot reach bounce'}`,
    );
    out.push(`  largest bounce buffer: 262144 bytes (128 slots; ${swiotlbMaxMappingSize(0xfff)} for a device with min_align_mask 0xfff)`);
  } else {
    out.push(`pool: none (${pool.why})`);
  }
  if (pool.steps.length) {
    out.push('steps:');
    for (const s of pool.steps) out.push(`  ${s}`);
  }
  if (pool.log.length) {
    out.push('boot log:');
    for (const l of pool.log) out.push(`  ${l}`);
  }
  for (const w of pool.warnings) out.push(`warning: ${w}`);
  stdout.line(out.join('\n'));
  return 0;
}
