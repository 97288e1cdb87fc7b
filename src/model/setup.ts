/**
 * Boot-time set-up of the default swiotlb pool: the `swiotlb=` early parameter
 * (setup_io_tlb_npages), swiotlb_adjust_size (memory-encryption guests, arm64 kmalloc
 * bouncing), the number of areas, the power-of-two rounding, the boot allocation with its
 * halving fall-back, whether a pool is created at all, and what the kernel prints
 * (docs/swiotlb-model.md §2).
 */
import { DEFAULT_PAGE_SHIFT, IO_TLB_DEFAULT_SIZE, IO_TLB_MIN_SLABS, IO_TLB_SEGSIZE, IO_TLB_SHIFT, IO_TLB_SIZE } from './constants';
import { mappedMessage, SWIOTLB_PR_PREFIX } from './messages';
import type { KernelProfile } from './profiles';

export type Arch = 'x86' | 'arm64';
/** Confidential-computing guest kinds that force bouncing (CC_ATTR_GUEST_MEM_ENCRYPT). */
export type MemEncrypt = 'none' | 'sev' | 'tdx' | 'sme-host' | 'realm';

export interface BootConfig {
  /** The whole kernel command line, or just "swiotlb=..." parameters. */
  readonly cmdline?: string;
  /** num_possible_cpus(): possible, not online, CPUs (firmware MADT, possible_cpus=/nr_cpus=). */
  readonly possibleCpus: number;
  readonly arch?: Arch;
  /** memblock_phys_mem_size(): RAM in bytes. */
  readonly ramBytes?: number;
  /** Highest possible physical address + 1 (decides whether devices with 32-bit masks need a pool). */
  readonly maxPhysAddr?: number;
  readonly memEncrypt?: MemEncrypt;
  /** Bytes memblock can hand out for the pool (below 4 GiB unless SWIOTLB_ANY); default: enough. */
  readonly allocatableBytes?: number;
  /** Physical start of the pool, when known (boot log "mapped [mem ...]"). */
  readonly poolStart?: number;
  /** The platform always sets a pool up, and why (Xen PV dom0: pci_xen_swiotlb_init). */
  readonly alwaysCreate?: string;
  readonly pageShift?: number;
}

export interface BootPool {
  /** A default pool exists. */
  readonly created: boolean;
  /** Why it was (or was not) created. */
  readonly why: string;
  readonly nslabs: number;
  readonly nareas: number;
  readonly areaNslabs: number;
  readonly bytes: number;
  /** io_tlb_mem.force_bounce: every dma-direct streaming mapping bounces. */
  readonly forceBounce: boolean;
  /** swiotlb=noforce (5.19+: no pool at all; 5.10: a 1-slab pool and no bouncing). */
  readonly noforce: boolean;
  readonly possibleCpus: number;
  /** Lines the kernel prints, in order ("software IO TLB: area num 2.", ...). */
  readonly log: readonly string[];
  /** Our explanation of each step, for people. */
  readonly steps: readonly string[];
  /** Notes about inputs (ignored parameters, odd values). */
  readonly warnings: readonly string[];
}

export class CmdlineError extends Error {}

/** simple_strtoul(str, &end, 0): C base detection ("0x" hex, leading 0 octal), stops at the first bad digit. */
export function simpleStrtoul(s: string, pos: number): { value: number; end: number } {
  let base = 10;
  let i = pos;
  if (s[i] === '0') {
    if ((s[i + 1] === 'x' || s[i + 1] === 'X') && /[0-9a-fA-F]/.test(s[i + 2] ?? '')) {
      base = 16;
      i += 2;
    } else {
      base = 8;
    }
  }
  let value = 0n;
  const B = BigInt(base);
  for (; i < s.length; i++) {
    const d = Number.parseInt(s[i] as string, 16);
    if (Number.isNaN(d) || d >= base) break;
    value = (value * B + BigInt(d)) & 0xffff_ffff_ffff_ffffn; // unsigned long wraps
  }
  return { value: Number(value), end: i };
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

function align(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

function isPow2(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

export function roundupPowOfTwo(n: number): number {
  if (n <= 1) return 1;
  return 2 ** Math.ceil(Math.log2(n));
}

function mib(slabs: number): number {
  return Math.floor((slabs * IO_TLB_SIZE) / 2 ** 20);
}

/** Every `swiotlb=` value and the CPU-count and IOMMU parameters of a command line, in order. */
export function scanCmdline(cmdline: string): {
  swiotlb: string[];
  iommu: string[];
  possibleCpus?: number;
  nrCpus?: number;
} {
  const swiotlb: string[] = [];
  const iommu: string[] = [];
  const out: { possibleCpus?: number; nrCpus?: number } = {};
  for (const t of cmdline.trim().split(/\s+/).filter(Boolean)) {
    if (t === '--') break; // the rest goes to init
    const eq = t.indexOf('=');
    const key = eq < 0 ? t : t.slice(0, eq);
    const val = eq < 0 ? '' : t.slice(eq + 1).replace(/^"(.*)"$/, '$1');
    if (key === 'swiotlb') swiotlb.push(val);
    else if (key === 'possible_cpus' && /^\d+$/.test(val)) out.possibleCpus = Number(val);
    else if (key === 'nr_cpus' && /^\d+$/.test(val)) out.nrCpus = Number(val);
    else if (key === 'iommu') iommu.push(...val.split(','));
  }
  return { swiotlb, iommu, ...out };
}

/**
 * Computes the default pool a kernel of `profile` sets up at boot for `cfg`.
 */
export function bootPool(profile: KernelProfile, cfg: BootConfig): BootPool {
  const steps: string[] = [];
  const log: string[] = [];
  const warnings: string[] = [];
  const arch = cfg.arch ?? 'x86';
  const pageShift = cfg.pageShift ?? DEFAULT_PAGE_SHIFT;
  const pageSize = 2 ** pageShift;
  const defaultSlabs = IO_TLB_DEFAULT_SIZE >> IO_TLB_SHIFT;
  const scan = scanCmdline(cfg.cmdline ?? '');
  let cpus = cfg.possibleCpus;
  if (scan.possibleCpus !== undefined) {
    cpus = scan.possibleCpus;
    steps.push(`possible_cpus=${cpus} on the command line sets the possible CPUs`);
  } else if (scan.nrCpus !== undefined && scan.nrCpus >= 1 && scan.nrCpus < cpus) {
    cpus = scan.nrCpus;
    steps.push(`nr_cpus=${cpus} on the command line limits the possible CPUs`);
  }
  if (!Number.isInteger(cpus) || cpus < 1) throw new CmdlineError(`possible CPUs must be a positive integer, got ${cpus}`);

  let defaultNslabs = defaultSlabs;
  let defaultNareas = 0;
  let force = false;
  let noforce = false;

  const roundUpDefaultNslabs = (): boolean => {
    if (!defaultNareas) return false;
    if (defaultNslabs < IO_TLB_SEGSIZE * defaultNareas) defaultNslabs = IO_TLB_SEGSIZE * defaultNareas;
    else if (isPow2(defaultNslabs)) return false;
    defaultNslabs = roundupPowOfTwo(defaultNslabs);
    return true;
  };
  const adjustNareas = (n: number, why: string) => {
    const nareas = n === 0 ? 1 : roundupPowOfTwo(n);
    defaultNareas = nareas;
    steps.push(
      `${why}: ${n} -> ${nareas} area${nareas === 1 ? '' : 's'}${n !== nareas && n !== 0 ? ' (rounded up to a power of two)' : ''}`,
    );
    log.push(`${SWIOTLB_PR_PREFIX}area num ${nareas}.`);
    if (roundUpDefaultNslabs()) {
      steps.push(`pool rounded up to ${defaultNslabs} slots (a power of two, at least 128 per area)`);
      log.push(`${SWIOTLB_PR_PREFIX}SWIOTLB bounce buffer size roundup to ${mib(defaultNslabs)}MB`);
    }
  };

  // 1. early_param("swiotlb", setup_io_tlb_npages), once per occurrence.
  for (const value of scan.swiotlb) {
    if (profile.cmdlineAreas) {
      let pos = 0;
      if (isDigit(value[pos])) {
        const r = simpleStrtoul(value, pos);
        defaultNslabs = align(r.value, IO_TLB_SEGSIZE);
        pos = r.end;
        steps.push(`swiotlb=${value}: ${r.value} slabs -> ${defaultNslabs} (multiple of 128)`);
      }
      if (value[pos] === ',') pos++;
      if (isDigit(value[pos])) {
        const r = simpleStrtoul(value, pos);
        adjustNareas(r.value, `swiotlb=${value}: areas`);
        pos = r.end;
      }
      if (value[pos] === ',') pos++;
      const rest = value.slice(pos);
      if (rest === 'force') force = true;
      else if (rest === 'noforce') noforce = true;
      else if (rest !== '') warnings.push(`swiotlb=${value}: "${rest}" is ignored by the kernel (not force/noforce)`);
    } else {
      // 5.10: {<int>|force|noforce}, also "<int>,force".
      let pos = 0;
      if (isDigit(value[pos])) {
        const r = simpleStrtoul(value, pos);
        defaultNslabs = align(r.value, IO_TLB_SEGSIZE);
        pos = r.end;
        steps.push(`swiotlb=${value}: io_tlb_nslabs = ${defaultNslabs}${defaultNslabs === 0 ? ' (0 means the default size)' : ''}`);
      }
      if (value[pos] === ',') pos++;
      const rest = value.slice(pos);
      if (rest === 'force') force = true;
      else if (rest === 'noforce') {
        noforce = true;
        defaultNslabs = 1;
        steps.push('swiotlb=noforce (5.10): io_tlb_nslabs = 1 and no bouncing');
      } else if (rest !== '') warnings.push(`swiotlb=${value}: "${rest}" is ignored by the kernel`);
    }
  }
  if (!profile.cmdlineAreas && defaultNslabs === 0) defaultNslabs = defaultSlabs;

  // 2. Architecture set-up: memory-encryption guests and arm64 kmalloc bouncing resize the pool.
  const enc = cfg.memEncrypt ?? 'none';
  const ram = cfg.ramBytes;
  const guestEncrypt = enc === 'sev' || enc === 'tdx' || enc === 'realm';
  const adjustSize = (bytes: number, why: string) => {
    if (!profile.adjustSize) return;
    if (defaultNslabs !== defaultSlabs) {
      steps.push(`${why}: swiotlb_adjust_size() keeps the size given on the command line`);
      return;
    }
    let size = align(bytes, IO_TLB_SIZE);
    defaultNslabs = align(size >> IO_TLB_SHIFT, IO_TLB_SEGSIZE);
    if (roundUpDefaultNslabs()) size = defaultNslabs << IO_TLB_SHIFT;
    steps.push(`${why}: pool set to ${defaultNslabs} slots`);
    log.push(`${SWIOTLB_PR_PREFIX}SWIOTLB bounce buffer size adjusted to ${Math.floor(size / 2 ** 20)}MB`);
  };
  if (arch === 'x86' && (enc === 'sev' || (enc === 'tdx' && profile.tdxSizing))) {
    if (ram === undefined) {
      warnings.push('RAM size unknown: a memory-encryption guest sizes its pool at 6 % of RAM (64 MiB ... 1 GiB); give --ram');
    } else {
      const bytes = Math.min(Math.max(Math.floor((ram * 6) / 100), IO_TLB_DEFAULT_SIZE), 2 ** 30);
      adjustSize(bytes, `${enc.toUpperCase()} guest: 6 % of ${Math.round(ram / 2 ** 20)} MiB RAM, clamped to 64 MiB ... 1 GiB`);
    }
  } else if (enc === 'tdx' && arch === 'x86' && profile.adjustSize) {
    steps.push('TDX guest: this kernel does not resize the pool for TDX (64 MiB default)');
  }

  // 3. Is a pool needed at all?
  const above4g = cfg.maxPhysAddr !== undefined ? cfg.maxPhysAddr > 2 ** 32 : (ram ?? 0) > 3 * 2 ** 30;
  const iommuOff = scan.iommu.includes('off');
  const iommuSoft = scan.iommu.includes('soft');
  let addressingLimit = false;
  let forceFlag = false;
  let why = '';
  if (arch === 'x86') {
    if (!iommuOff && above4g) {
      addressingLimit = true;
      why = 'memory above 4 GiB (devices with 32-bit masks need bounce buffers)';
    }
    if (iommuSoft) {
      addressingLimit = true;
      why ||= 'iommu=soft';
    }
    if (enc === 'sme-host') {
      addressingLimit = true;
      why ||= 'SME host (encrypted memory is beyond 32-bit masks)';
    }
    if (guestEncrypt) {
      addressingLimit = true;
      forceFlag = true;
      why = `${enc.toUpperCase()} guest: all DMA goes through shared bounce buffers (SWIOTLB_FORCE)`;
    }
  } else {
    if (above4g) {
      addressingLimit = true;
      why = 'memory above the ZONE_DMA limit';
    }
    if (enc === 'realm' && profile.family === 'P612') {
      addressingLimit = true;
      forceFlag = true;
      why = 'Arm CCA realm: all DMA is bounced (SWIOTLB_FORCE)';
    }
    if (!addressingLimit && profile.arm64KmallocPool && ram !== undefined) {
      const bytes = Math.min(defaultNslabs * IO_TLB_SIZE, Math.ceil(ram / 1024));
      adjustSize(bytes, 'arm64 kmalloc bouncing only: 1 MiB of pool per GiB of RAM');
      addressingLimit = true;
      why = 'arm64 DMA_BOUNCE_UNALIGNED_KMALLOC (small non-coherent buffers bounce)';
    }
  }
  if (cfg.alwaysCreate && !addressingLimit) {
    addressingLimit = true;
    why = cfg.alwaysCreate;
  }
  if (force && !why) why = 'swiotlb=force';
  const noPool = (reason: string): BootPool => ({
    created: false,
    why: reason,
    nslabs: 0,
    nareas: 0,
    areaNslabs: 0,
    bytes: 0,
    forceBounce: false,
    noforce,
    possibleCpus: cpus,
    log,
    steps,
    warnings,
  });

  if (!profile.cmdlineAreas) {
    // 5.10 boot (swiotlb_init): one area, the default size unless swiotlb=<n>.
    if (!addressingLimit && !force) return noPool('no addressing limit and no swiotlb=force: no pool is set up');
    const nslabs = defaultNslabs;
    if ((cfg.allocatableBytes ?? Number.POSITIVE_INFINITY) < align(nslabs * IO_TLB_SIZE, pageSize)) {
      log.push(`${SWIOTLB_PR_PREFIX}Cannot allocate buffer`);
      return noPool('the boot allocation failed ("Cannot allocate buffer"): maps fail as "buffer is full" with total 0');
    }
    if (arch === 'x86') log.push('PCI-DMA: Using software bounce buffering for IO (SWIOTLB)');
    log.push(mappedLine(cfg.poolStart, nslabs));
    return {
      created: true,
      why: why || 'swiotlb=force',
      nslabs,
      nareas: 1,
      areaNslabs: nslabs,
      bytes: nslabs * IO_TLB_SIZE,
      forceBounce: force || forceFlag,
      noforce,
      possibleCpus: cpus,
      log,
      steps,
      warnings,
    };
  }

  // 4. swiotlb_init_remap().
  if (!addressingLimit && !force) return noPool('no addressing limit and no swiotlb=force: no pool is set up');
  if (noforce) return noPool('swiotlb=noforce: no pool; buffers a device cannot reach fail instead of bouncing');
  if (!defaultNareas) adjustNareas(cpus, `${cpus} possible CPU${cpus === 1 ? '' : 's'}`);
  let nslabs = defaultNslabs;
  const limit = (n: number, slots: number) => (profile.limitNareas && slots < n * IO_TLB_SEGSIZE ? Math.floor(slots / IO_TLB_SEGSIZE) : n);
  let nareas = limit(defaultNareas, nslabs);
  const avail = cfg.allocatableBytes ?? Number.POSITIVE_INFINITY;
  while (align(nslabs * IO_TLB_SIZE, pageSize) > avail) {
    log.push(`${SWIOTLB_PR_PREFIX}swiotlb_memblock_alloc: Failed to allocate ${align(nslabs * IO_TLB_SIZE, pageSize)} bytes tlb structure`);
    if (!profile.limitNareas || nslabs <= IO_TLB_MIN_SLABS) {
      return noPool('the boot allocation failed: no pool');
    }
    nslabs = align(nslabs / 2, IO_TLB_SEGSIZE);
    nareas = limit(nareas, nslabs);
  }
  if (nslabs !== defaultNslabs) {
    log.push(`${SWIOTLB_PR_PREFIX}SWIOTLB bounce buffer size adjusted ${defaultNslabs} -> ${nslabs} slabs`);
    steps.push(`not enough memory: pool halved to ${nslabs} slots`);
    defaultNslabs = nslabs;
  }
  if (profile.initWithDefaultNareas && nareas !== defaultNareas) {
    steps.push(`6.1.y quirk: the pool is set up with ${defaultNareas} areas, not the ${nareas} that fit`);
    nareas = defaultNareas;
  }
  const areaNslabs = Math.floor(nslabs / nareas);
  if (arch === 'x86') {
    log.push('PCI-DMA: Using software bounce buffering for IO (SWIOTLB)');
    log.push(mappedLine(cfg.poolStart, nslabs));
  } else {
    log.push(mappedLine(cfg.poolStart, nslabs));
  }
  return {
    created: true,
    why: why || 'swiotlb=force',
    nslabs,
    nareas,
    areaNslabs,
    bytes: nslabs * IO_TLB_SIZE,
    forceBounce: force || forceFlag,
    noforce,
    possibleCpus: cpus,
    log,
    steps,
    warnings,
  };
}

function mappedLine(start: number | undefined, nslabs: number): string {
  if (start !== undefined) return mappedMessage(start, nslabs);
  return `${SWIOTLB_PR_PREFIX}mapped [mem <start>-<start+${nslabs * IO_TLB_SIZE}>] (${mib(nslabs)}MB)`;
}
