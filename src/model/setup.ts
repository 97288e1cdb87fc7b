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
  /**
   * arm64: the highest CPU address every DMA master reaches, from the firmware (the lower of
   * of_dma_get_max_cpu_address() over the DT dma-ranges and the ACPI IORT's); default: no limit.
   */
  readonly firmwareDmaLimit?: number;
  /** arm64: memblock_start_of_DRAM() (default 0). */
  readonly dramStart?: number;
}

/** The DMA zone as a kernel sets it up (arch/arm64/mm/init.c zone_sizes_init; x86: 16 MiB). */
export interface DmaZone {
  /** zone_dma_limit (6.12+), or DMA_BIT_MASK(zone_dma_bits) before: GFP_DMA serves up to it. */
  readonly zoneDmaLimit: number;
  /** zone_dma_bits, where the kernel keeps a bit count (before 6.12; x86: 24). */
  readonly zoneDmaBits?: number;
  /** arm64_dma_phys_limit: the end (exclusive) of ZONE_DMA; x86: 16 MiB. */
  readonly dmaPhysLimit: number;
  /**
   * ARCH_LOW_ADDRESS_LIMIT + 1: memblock_alloc_low() puts the boot pool below it (x86: 4 GiB,
   * arm64: arm64_dma_phys_limit), and it is the dynamic pools' phys_limit + 1.
   */
  readonly lowLimit: number;
  /** memblock_end_of_DRAM(), when known. */
  readonly dramEnd?: number;
  /** How it was worked out, for people. */
  readonly steps: readonly string[];
}

/**
 * arm64 boards whose firmware limits DMA (the DT dma-ranges the kernel reads), by name.
 * bcm2711 (Raspberry Pi 4, 400, CM4): arch/arm/boot/dts/broadcom/bcm2711.dtsi maps CPU
 * 0 ... 1 GiB for /soc ("Emulate a contiguous 30-bit address range for DMA").
 */
export const ARM64_BOARDS: Readonly<Record<string, { readonly firmwareDmaLimit: number; readonly title: string }>> = {
  rpi4: { firmwareDmaLimit: 0x3fff_ffff, title: 'Raspberry Pi 4 (bcm2711): DT dma-ranges reach 1 GiB' },
  bcm2711: { firmwareDmaLimit: 0x3fff_ffff, title: 'bcm2711 (Raspberry Pi 4): DT dma-ranges reach 1 GiB' },
  generic: { firmwareDmaLimit: 2 ** 64, title: 'no DMA restriction in the firmware' },
};

/** fls64(): the position of the highest set bit (64 for limits at or beyond 2^53 here). */
function fls64(x: number): number {
  if (x >= 2 ** 53) return 64;
  return x <= 0 ? 0 : Math.floor(x).toString(2).length;
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** ZONE_DMA and where the boot pool may go, as zone_sizes_init() and the swiotlb init see them. */
export function dmaZone(profile: KernelProfile, cfg: BootConfig): DmaZone {
  const arch = cfg.arch ?? 'x86';
  const steps: string[] = [];
  if (arch === 'x86') {
    return { zoneDmaLimit: (1 << 24) - 1, zoneDmaBits: 24, dmaPhysLimit: 1 << 24, lowLimit: 2 ** 32, steps };
  }
  const start = cfg.dramStart ?? 0;
  const end = cfg.maxPhysAddr ?? (cfg.ramBytes !== undefined ? start + cfg.ramBytes : undefined);
  const fw = cfg.firmwareDmaLimit ?? 2 ** 64;
  const fwText = fw >= 2 ** 53 ? 'none' : hex(fw);
  const U32 = 0xffff_ffff;
  const top = end === undefined ? Number.POSITIVE_INFINITY : end - 1;
  let zoneDmaLimit: number;
  let zoneDmaBits: number | undefined;
  let dmaPhysLimit: number;
  if (profile.zoneDmaLimit) {
    // 6.12+: zone_dma_limit = min(DT, IORT), at most 4 GiB when DRAM starts below it
    zoneDmaLimit = start < U32 ? Math.min(fw, U32) : fw;
    dmaPhysLimit = Math.min(zoneDmaLimit, top) + 1;
    steps.push(
      `zone_dma_limit ${zoneDmaLimit >= 2 ** 53 ? 'none' : hex(zoneDmaLimit)} (firmware DMA limit ${fwText}, DRAM from ${hex(start)})`,
    );
  } else {
    // 5.10.35+ ... 6.11: zone_dma_bits = min3(32, fls64(DT), fls64(IORT)); max_zone_phys(bits).
    // (5.10.y got this from 5.11 in the March 2021 stable backports; before, every arm64 board
    // had a 30-bit ZONE_DMA, ARM64_ZONE_DMA_BITS.)
    zoneDmaBits = Math.min(32, fls64(fw));
    zoneDmaLimit = 2 ** zoneDmaBits - 1;
    let mask = zoneDmaLimit;
    if (start > U32) mask = Number.POSITIVE_INFINITY;
    else if (start > mask) mask = U32;
    dmaPhysLimit = Math.min(mask, top) + 1;
    steps.push(`zone_dma_bits ${zoneDmaBits} (firmware DMA limit ${fwText}, DRAM from ${hex(start)})`);
  }
  // without a RAM size and DMA limit nothing is known to lie beyond ZONE_DMA
  if (!Number.isFinite(dmaPhysLimit)) dmaPhysLimit = 2 ** 52;
  steps.push(`arm64_dma_phys_limit ${hex(dmaPhysLimit)}: ZONE_DMA and the boot pool lie below it`);
  return {
    zoneDmaLimit,
    ...(zoneDmaBits !== undefined ? { zoneDmaBits } : {}),
    dmaPhysLimit,
    lowLimit: dmaPhysLimit,
    ...(end !== undefined ? { dramEnd: end } : {}),
    steps,
  };
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
  /** ZONE_DMA, and below what the boot pool is reserved. */
  readonly zone: DmaZone;
}

export class CmdlineError extends Error {}

/** simple_strtoul(str, &end, 0): C base detection ("0x" hex, leading 0 octal), stops at the first bad digit. */
export function simpleStrtoul(s: string, pos: number): { value: number; end: number } {
  const r = simpleStrtoulExact(s, pos);
  return { value: Number(r.value), end: r.end };
}

/** simple_strtoul with the exact unsigned long (it wraps modulo 2^64, as the kernel's does). */
export function simpleStrtoulExact(s: string, pos: number): { value: bigint; end: number; wrapped: boolean } {
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
  let wrapped = false;
  const B = BigInt(base);
  for (; i < s.length; i++) {
    const d = Number.parseInt(s[i] as string, 16);
    if (Number.isNaN(d) || d >= base) break;
    value = value * B + BigInt(d);
    if (value > 0xffff_ffff_ffff_ffffn) {
      value &= 0xffff_ffff_ffff_ffffn; // unsigned long wraps
      wrapped = true;
    }
  }
  return { value, end: i, wrapped };
}

/**
 * Largest pool the model sets up: 2^23 slots (16 GiB of bounce buffers; the model keeps about 18
 * bytes per slot, 150 MB). The kernel's own ceiling for a pool is 2^31 slots (slot indexes are
 * `int`: swiotlb_find_slots() returns one, -1 for none; kernel/dma/swiotlb.c), and a default pool
 * allocated below 4 GiB (memblock_alloc_low) has fewer than 2^21.
 */
export const MAX_MODEL_NSLABS = 2 ** 23;
/** The kernel's ceiling on the slots of one pool (see MAX_MODEL_NSLABS). */
export const MAX_KERNEL_NSLABS = 2 ** 31;
/** CONFIG_NR_CPUS is at most 8192 (x86 MAXSMP; arm64 allows 4096): no kernel has more possible CPUs. */
export const MAX_POSSIBLE_CPUS = 8192;
/**
 * x86 allocates a default pool that is not SWIOTLB_ANY below 4 GiB (memblock_alloc_low,
 * ARCH_LOW_ADDRESS_LIMIT 0xffffffff) and keeps the first 1 MiB reserved: no larger block exists.
 */
const X86_LOW_ALLOC_BYTES = 2 ** 32 - 2 ** 20;

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
  if (cpus > MAX_POSSIBLE_CPUS)
    throw new CmdlineError(`${cpus} possible CPUs: no kernel has more than ${MAX_POSSIBLE_CPUS} (CONFIG_NR_CPUS)`);

  let defaultNslabs = defaultSlabs;
  let defaultNareas = 0;
  let force = false;
  let noforce = false;

  const roundUpDefaultNslabs = (): boolean => {
    if (!defaultNareas) return false;
    if (defaultNslabs < IO_TLB_SEGSIZE * defaultNareas) defaultNslabs = IO_TLB_SEGSIZE * defaultNareas;
    else if (isPow2(defaultNslabs)) return false;
    defaultNslabs = roundupPowOfTwo(defaultNslabs);
    if (defaultNslabs >= SLABS_OVERFLOW)
      throw new CmdlineError(overflowText(`the pool rounded up to a power of two is ${defaultNslabs} slabs`));
    return true;
  };
  const adjustNareas = (n: number, why: string) => {
    const nareas = n === 0 ? 1 : roundupPowOfTwo(n);
    // limit_nareas() computes nareas * IO_TLB_SEGSIZE in an unsigned int
    if (nareas * IO_TLB_SEGSIZE > 0xffff_ffff)
      throw new CmdlineError(`${why}: ${nareas} areas overflow the kernel's area arithmetic (areas x 128 slots must fit in 32 bits)`);
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
        const r = slabCount(value, pos);
        defaultNslabs = align(r.value, IO_TLB_SEGSIZE);
        pos = r.end;
        steps.push(`swiotlb=${value}: ${r.value} slabs -> ${defaultNslabs} (multiple of 128)`);
      }
      if (value[pos] === ',') pos++;
      if (isDigit(value[pos])) {
        const r = simpleStrtoulExact(value, pos);
        // swiotlb_adjust_nareas() takes an unsigned int
        adjustNareas(Number(r.value & 0xffff_ffffn), `swiotlb=${value}: areas`);
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
        const r = slabCount(value, pos);
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
  const zone = dmaZone(profile, cfg);
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
    // mem_init(): swiotlb_init(max_pfn > PFN_DOWN(arm64_dma_phys_limit))
    steps.push(...zone.steps);
    if (zone.dramEnd !== undefined && zone.dramEnd > zone.dmaPhysLimit) {
      addressingLimit = true;
      why = `memory above the ZONE_DMA limit (arm64_dma_phys_limit ${hex(zone.dmaPhysLimit)})`;
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
    zone,
  });

  // what memblock can hand out when the caller does not say: never more than RAM, and on x86 a
  // pool that is not SWIOTLB_ANY (memory-encryption guests) comes from below 4 GiB
  const allocatable =
    cfg.allocatableBytes ??
    Math.min(ram ?? Number.POSITIVE_INFINITY, arch === 'x86' && !guestEncrypt ? X86_LOW_ALLOC_BYTES : Number.POSITIVE_INFINITY);
  const modelled = (p: BootPool): BootPool => {
    if (p.nslabs > MAX_MODEL_NSLABS)
      throw new CmdlineError(
        `the kernel would set up a pool of ${p.nslabs} slots (${mib(p.nslabs) / 1024} GiB): more than the model sets up (at most ${MAX_MODEL_NSLABS} slots, ${mib(MAX_MODEL_NSLABS) / 1024} GiB)`,
      );
    return p;
  };

  if (!profile.cmdlineAreas) {
    // 5.10 boot (swiotlb_init): one area, the default size unless swiotlb=<n>.
    if (!addressingLimit && !force) return noPool('no addressing limit and no swiotlb=force: no pool is set up');
    const nslabs = defaultNslabs;
    if (allocatable < align(nslabs * IO_TLB_SIZE, pageSize)) {
      log.push(`${SWIOTLB_PR_PREFIX}Cannot allocate buffer`);
      return noPool('the boot allocation failed ("Cannot allocate buffer"): maps fail as "buffer is full" with total 0');
    }
    if (arch === 'x86') log.push('PCI-DMA: Using software bounce buffering for IO (SWIOTLB)');
    log.push(mappedLine(cfg.poolStart, nslabs));
    return modelled({
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
      zone,
    });
  }

  // 4. swiotlb_init_remap().
  if (!addressingLimit && !force) return noPool('no addressing limit and no swiotlb=force: no pool is set up');
  if (noforce) return noPool('swiotlb=noforce: no pool; buffers a device cannot reach fail instead of bouncing');
  if (!defaultNareas) adjustNareas(cpus, `${cpus} possible CPU${cpus === 1 ? '' : 's'}`);
  let nslabs = defaultNslabs;
  const limit = (n: number, slots: number) => (profile.limitNareas && slots < n * IO_TLB_SEGSIZE ? Math.floor(slots / IO_TLB_SEGSIZE) : n);
  let nareas = limit(defaultNareas, nslabs);
  const avail = allocatable;
  while (align(nslabs * IO_TLB_SIZE, pageSize) > avail) {
    // printed with %zu: exact, where a double would round from 2^53 bytes on
    const bytes = ((BigInt(nslabs) * BigInt(IO_TLB_SIZE) + BigInt(pageSize - 1)) / BigInt(pageSize)) * BigInt(pageSize);
    log.push(`${SWIOTLB_PR_PREFIX}swiotlb_memblock_alloc: Failed to allocate ${bytes} bytes tlb structure`);
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
  return modelled({
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
    zone,
  });
}

/**
 * The slab count of swiotlb=<n>: from 2^53 on, the pool's byte count (nslabs << IO_TLB_SHIFT)
 * no longer fits the kernel's unsigned long and every size derived from it wraps: no kernel sets
 * such a pool up, and the model refuses it.
 */
function slabCount(value: string, pos: number): { value: number; end: number } {
  const r = simpleStrtoulExact(value, pos);
  if (r.value > BigInt(SLABS_OVERFLOW - IO_TLB_SEGSIZE))
    throw new CmdlineError(`swiotlb=${value}: ${overflowText(`${r.value} slabs${r.wrapped ? ' (simple_strtoul wraps at 2^64)' : ''}`)}`);
  return { value: Number(r.value), end: r.end };
}

/** 2^53 slabs of 2^11 bytes: 2^64. */
const SLABS_OVERFLOW = 2 ** 53;

function overflowText(what: string): string {
  return `${what}: a pool of 2^64 bytes or more; the kernel's byte count (nslabs << 11) overflows, so no kernel sets it up; the model sets up at most ${MAX_MODEL_NSLABS} slots`;
}

function mappedLine(start: number | undefined, nslabs: number): string {
  if (start !== undefined) return mappedMessage(start, nslabs);
  return `${SWIOTLB_PR_PREFIX}mapped [mem <start>-<start+${nslabs * IO_TLB_SIZE}>] (${mib(nslabs)}MB)`;
}
