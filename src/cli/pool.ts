/**
 * `swiotlb-lens pool`: the default pool a kernel sets up at boot, and its boot log.
 */
import { parseArgs } from 'node:util';
import { IO_TLB_SHIFT } from '../model/constants';
import { limitNareas } from '../model/dynamic';
import { hexAddr, parseAddr, ValueError } from '../model/hex';
import { dynamicUnsupported, resolveProfileWithNote } from '../model/profiles';
import { ARM64_BOARDS, type Arch, type BootConfig, bootPool, type MemEncrypt } from '../model/setup';
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
      dynamic: { type: 'boolean', default: false },
      board: { type: 'string' },
      'zone-dma-limit': { type: 'string' },
      'dram-start': { type: 'string' },
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
  let firmwareDmaLimit: number | undefined;
  if (values.board !== undefined) {
    const b = ARM64_BOARDS[values.board.toLowerCase()];
    if (!b) throw new UsageError(`--board must be one of ${Object.keys(ARM64_BOARDS).join(', ')}, got "${values.board}"`);
    firmwareDmaLimit = b.firmwareDmaLimit;
  }
  if (values['zone-dma-limit'] !== undefined) firmwareDmaLimit = addr(values['zone-dma-limit'], '--zone-dma-limit');
  if (firmwareDmaLimit !== undefined && arch !== 'arm64')
    throw new UsageError("--board and --zone-dma-limit are for --arch arm64 (x86's ZONE_DMA is 16 MiB)");
  if (values.dynamic) {
    const why = dynamicUnsupported(profile);
    if (why) throw new UsageError(`--dynamic: ${why}`);
  }
  const cfg: BootConfig = {
    possibleCpus: cpus,
    arch,
    memEncrypt,
    ...(values.cmdline !== undefined ? { cmdline: values.cmdline } : {}),
    ...(values.ram !== undefined ? { ramBytes: parseSize(values.ram, '--ram') } : {}),
    ...(values['max-phys'] !== undefined ? { maxPhysAddr: addr(values['max-phys'], '--max-phys') } : {}),
    ...(values.available !== undefined ? { allocatableBytes: parseSize(values.available, '--available') } : {}),
    ...(values['pool-base'] !== undefined ? { poolStart: addr(values['pool-base'], '--pool-base') } : {}),
    ...(firmwareDmaLimit !== undefined ? { firmwareDmaLimit } : {}),
    ...(values['dram-start'] !== undefined ? { dramStart: addr(values['dram-start'], '--dram-start') } : {}),
  };
  const pool = bootPool(profile, cfg);
  // what the dynamic worker asks for: the boot pool's size, clamped to MAX_PAGE_ORDER pages
  const maxSlabs = 2 ** (12 - IO_TLB_SHIFT + 10);
  const grown =
    values.dynamic && pool.created
      ? { nslabs: Math.min(pool.nslabs, maxSlabs), nareas: limitNareas(pool.nareas, Math.min(pool.nslabs, maxSlabs)) }
      : undefined;
  const zone = pool.zone;
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
          zone: {
            zone_dma_limit: hexAddr(zone.zoneDmaLimit),
            ...(zone.zoneDmaBits !== undefined ? { zone_dma_bits: zone.zoneDmaBits } : {}),
            dma_phys_limit: hexAddr(zone.dmaPhysLimit),
            pool_below: hexAddr(zone.lowLimit),
          },
          dynamic: grown
            ? {
                can_grow: true,
                transient_counter: profile.transientCounter,
                phys_limit: hexAddr(zone.lowLimit - 1),
                added_pool_nslabs: grown.nslabs,
                added_pool_nareas: grown.nareas,
              }
            : null,
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
    out.push(
      `  placed below ${hexAddr(zone.lowLimit)} (ARCH_LOW_ADDRESS_LIMIT); ZONE_DMA ends at ${hexAddr(zone.dmaPhysLimit)}${zone.zoneDmaBits !== undefined ? ` (zone_dma_bits ${zone.zoneDmaBits})` : ` (zone_dma_limit ${hexAddr(zone.zoneDmaLimit)})`}`,
    );
    if (grown)
      out.push(
        `  dynamic: when no slot fits, a transient pool of the request's size below the device's DMA limit, and the worker adds pools of ${grown.nslabs} slots (${formatBytes(grown.nslabs * 2048)}, ${grown.nareas} area${grown.nareas === 1 ? '' : 's'}) below ${hexAddr(zone.lowLimit - 1)} (phys_limit)${profile.transientCounter ? '; debugfs adds io_tlb_transient_nslabs' : ''}`,
      );
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
