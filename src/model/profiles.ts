/**
 * Kernel version profiles: which allocator algorithm and which bookkeeping rules a kernel
 * release uses (docs/swiotlb-model.md §0.3 "Version profiles", §9 version history).
 *
 * A profile is a family (P510, P61, P66e, P66l, P612); a resolved profile additionally carries
 * the few stable-series details that depend on the exact release (e.g. 6.1.84's alignment fix).
 */

export type ProfileFamily = 'P510' | 'P61' | 'P66e' | 'P66l' | 'P612';

/** How swiotlb_tbl_map_single copies into the bounce buffer at map time (info-leak history). */
export type CopyOnMap =
  /** 5.10.118+ / 5.18+: always, every direction, even with DMA_ATTR_SKIP_CPU_SYNC. */
  | 'always'
  /** 5.10.110 ... 5.10.117: unless DMA_ATTR_SKIP_CPU_SYNC. */
  | 'unless-skip-sync'
  /** up to 5.10.109: only TO_DEVICE / BIDIRECTIONAL without DMA_ATTR_SKIP_CPU_SYNC. */
  | 'to-device-only';

export interface KernelProfile {
  readonly family: ProfileFamily;
  /** Canonical name accepted by `--kernel`. */
  readonly name: string;
  /** What a user reads: "Linux 6.1 (6.1.84 ... 6.1.192)". */
  readonly title: string;
  /** Slot search: A (aligned start, do/while, can livelock), C (6.3-6.8), D (6.9+). */
  readonly search: 'A' | 'C' | 'D';
  /** Per-CPU areas (6.0+); 5.10 has one global area. */
  readonly perCpuAreas: boolean;
  /** 6.1.84+: min-align bits covered by alloc_align_mask are not compared in search A. */
  readonly alignCheckExcludesAllocAlign: boolean;
  /** The alloc_align_mask argument exists (not in 5.10). */
  readonly hasAllocAlignMask: boolean;
  /** swiotlb_tbl_map_single takes a separate alloc_size (up to 6.9). */
  readonly separateAllocSize: boolean;
  /** 6.10+: request = ALIGN(mapping_size + offset, alloc_align_mask + 1). */
  readonly alignRequestSize: boolean;
  /** 6.9+: leading padding slots keep the full min_align offset (pad_slots). */
  readonly padSlots: boolean;
  /** "swiotlb buffer is full (sz: ...)" includes the in-slot offset (6.10+). */
  readonly fullMessageIncludesOffset: boolean;
  /** Free-run counters clipped at the pool end (6.6.3+/6.7+). */
  readonly clipListAtPoolEnd: boolean;
  /** swiotlb_alloc (restricted pool) exists (5.15+; not in 5.10). */
  readonly restrictedAlloc: boolean;
  /** swiotlb_alloc searches with a page-order alloc_align_mask (6.9+, 6.6.24+). */
  readonly restrictedAllocAligned: boolean;
  /** swiotlb_alloc refuses a non page-aligned slot (6.9+, ~6.6.35+). */
  readonly restrictedAllocPageCheck: boolean;
  /** Release frees nr_slots(caller's size + offset) instead of the recorded size (5.10). */
  readonly releaseUsesCallerSize: boolean;
  /** debugfs io_tlb_used_hiwater exists (6.4+). */
  readonly hiwaterFile: boolean;
  readonly copyOnMap: CopyOnMap;
  /** 6.9+: a sync at a negative offset into a slot is allowed (partial sync fix). */
  readonly negativeSyncOffset: boolean;
  /** 6.1: sync before the mapping start / beyond alloc size is rejected with a WARN. */
  readonly strictSyncOffsets: boolean;
  /** `swiotlb=<slabs>,<areas>` grammar and power-of-two pool rounding (6.0+). */
  readonly cmdlineAreas: boolean;
  /** limit_nareas() and the halving boot fall-back (6.1.40+, 6.5+). */
  readonly limitNareas: boolean;
  /** 6.1.y quirk: the pool is initialised with default_nareas, not the limited count. */
  readonly initWithDefaultNareas: boolean;
  /** swiotlb_adjust_size() exists (memory-encryption guests resize the pool). */
  readonly adjustSize: boolean;
  /** TDX guests also get the 6 % sizing (6.12+ mem_encrypt_setup_arch). */
  readonly tdxSizing: boolean;
  /** arm64 DMA_BOUNCE_UNALIGNED_KMALLOC reduced default pool (6.7+). */
  readonly arm64KmallocPool: boolean;
  /** swiotlb_init_late returns early when a default pool exists (6.12+). */
  readonly lateInitChecksExisting: boolean;
  /** CONFIG_SWIOTLB_DYNAMIC exists (6.6+): pools that grow (off in Debian's builds). */
  readonly dynamicPools: boolean;
  /**
   * Dynamic pools are searched area by area across every pool (swiotlb_search_area, 6.7+);
   * 6.6 searches each pool in turn, all its areas (swiotlb_pool_find_slots).
   */
  readonly dynamicAreaMajor: boolean;
  /**
   * Dynamic swiotlb_find_slots() refuses requests above one segment before growing (6.6.3+,
   * 6.7+, with the free-list clip at the pool end); 6.6.0 searched, grew and failed.
   */
  readonly dynamicTooBigEarly: boolean;
  /** debugfs io_tlb_transient_nslabs exists with dynamic pools (6.8+; verified in 6.12). */
  readonly transientCounter: boolean;
  /** arm64 sizes ZONE_DMA from a limit (zone_dma_limit, 6.12+), not a bit count (zone_dma_bits). */
  readonly zoneDmaLimit: boolean;
  /** The release range this profile was built for, when known ("6.1.50"). */
  readonly release?: string;
}

type Flags = Omit<KernelProfile, 'name' | 'title' | 'release'>;

const P510: Flags = {
  family: 'P510',
  search: 'A',
  perCpuAreas: false,
  alignCheckExcludesAllocAlign: false,
  hasAllocAlignMask: false,
  separateAllocSize: true,
  alignRequestSize: false,
  padSlots: false,
  fullMessageIncludesOffset: false,
  clipListAtPoolEnd: false,
  restrictedAlloc: false,
  restrictedAllocAligned: false,
  restrictedAllocPageCheck: false,
  releaseUsesCallerSize: true,
  hiwaterFile: false,
  copyOnMap: 'always',
  negativeSyncOffset: false,
  strictSyncOffsets: false,
  cmdlineAreas: false,
  limitNareas: false,
  initWithDefaultNareas: false,
  adjustSize: false,
  tdxSizing: false,
  arm64KmallocPool: false,
  lateInitChecksExisting: false,
  dynamicPools: false,
  dynamicAreaMajor: false,
  dynamicTooBigEarly: false,
  transientCounter: false,
  zoneDmaLimit: false,
};

const P61: Flags = {
  ...P510,
  family: 'P61',
  perCpuAreas: true,
  alignCheckExcludesAllocAlign: true,
  hasAllocAlignMask: true,
  restrictedAlloc: true,
  releaseUsesCallerSize: false,
  strictSyncOffsets: true,
  cmdlineAreas: true,
  limitNareas: true,
  initWithDefaultNareas: true,
  adjustSize: true,
};

const P66e: Flags = {
  ...P61,
  family: 'P66e',
  search: 'C',
  alignCheckExcludesAllocAlign: false,
  clipListAtPoolEnd: true,
  hiwaterFile: true,
  initWithDefaultNareas: false,
  // the named 6.6-early profile is the 6.6.0 text (pool-major dynamic search, no early too-big test)
  dynamicPools: true,
};

const P66l: Flags = {
  ...P66e,
  family: 'P66l',
  search: 'D',
  padSlots: true,
  restrictedAllocAligned: true,
  restrictedAllocPageCheck: true,
  negativeSyncOffset: true,
  strictSyncOffsets: false,
  arm64KmallocPool: true,
  dynamicAreaMajor: true,
  dynamicTooBigEarly: true,
  transientCounter: true,
};

const P612: Flags = {
  ...P66l,
  family: 'P612',
  separateAllocSize: false,
  alignRequestSize: true,
  fullMessageIncludesOffset: true,
  tdxSizing: true,
  lateInitChecksExisting: true,
  zoneDmaLimit: true,
};

interface NamedProfile {
  readonly names: readonly string[];
  readonly title: string;
  readonly flags: Flags;
  readonly tweak?: Partial<Flags>;
}

/** The names `--kernel` accepts (docs/replay-format.md), first name canonical. */
const NAMED: readonly NamedProfile[] = [
  { names: ['5.10', 'P510'], title: 'Linux 5.10 LTS (5.10.118 ... 5.10.262)', flags: P510 },
  { names: ['6.1', 'P61'], title: 'Linux 6.1 LTS (6.1.84 ... 6.1.192)', flags: P61 },
  {
    names: ['6.1.0'],
    title: 'Linux 6.1.0 (6.1 before the 6.1.84 alignment fix and the 6.1.40 area limit)',
    flags: P61,
    tweak: { alignCheckExcludesAllocAlign: false, limitNareas: false },
  },
  { names: ['6.6-early', 'P66e'], title: 'Linux 6.3 ... 6.8, 6.6.0 ... 6.6.23', flags: P66e },
  {
    names: ['6.6-late', 'P66l'],
    title: 'Linux 6.6.y after the June-2024 backports',
    flags: P66l,
    tweak: { dynamicAreaMajor: false },
  },
  { names: ['6.9'], title: 'Linux 6.9', flags: P66l },
  { names: ['6.12', 'P612'], title: 'Linux 6.12 LTS', flags: P612 },
  { names: ['mainline', 'mainline-6.18', '6.18', '7.2'], title: 'Linux mainline (6.10 and later: 6.12, 6.18, 7.x)', flags: P612 },
];

export const PROFILE_NAMES: readonly string[] = NAMED.flatMap((p) => p.names.filter((n) => !n.startsWith('P')));

/** One canonical name per distinct profile: what pickers and the settings offer. */
export const PROFILE_CHOICES: readonly { readonly name: string; readonly title: string }[] = NAMED.map((p) => ({
  name: p.names[0] as string,
  title: p.title,
}));

export class UnknownKernelError extends Error {}

function make(name: string, title: string, flags: Flags, tweak?: Partial<Flags>, release?: string): KernelProfile {
  return Object.freeze({ ...flags, ...tweak, name, title, ...(release ? { release } : {}) });
}

/** Version triple from "6.1.192", "v6.1", "6.12.0-rc3", "Debian 6.1.192-2". */
function parseRelease(text: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+~_].*)?$/.exec(text.trim());
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), m[3] === undefined ? 0 : Number(m[3])];
}

/**
 * Profile for an exact kernel release. Stable-series details follow docs/swiotlb-model.md §9;
 * `note` says when the release is outside the verified ranges.
 */
function profileForRelease(text: string): { profile: KernelProfile; note?: string } | undefined {
  const v = parseRelease(text);
  if (!v) return undefined;
  const [maj, min, patch] = v;
  const ver = maj * 1_000_000 + min * 1000 + patch;
  const at = (a: number, b: number, c = 0) => a * 1_000_000 + b * 1000 + c;
  const rel = `${maj}.${min}.${patch}`;
  if (maj === 5 && min === 10) {
    if (patch < 35) return undefined; // no min_align_mask before 5.10.35: a different allocator
    const copyOnMap: CopyOnMap = patch >= 118 ? 'always' : patch >= 110 ? 'unless-skip-sync' : 'to-device-only';
    return { profile: make(rel, `Linux ${rel}`, P510, { copyOnMap }, rel) };
  }
  if (maj === 6 && min === 1) {
    return {
      profile: make(
        rel,
        `Linux ${rel}`,
        P61,
        {
          alignCheckExcludesAllocAlign: patch >= 84,
          limitNareas: patch >= 40,
        },
        rel,
      ),
    };
  }
  if (ver >= at(6, 3) && ver < at(6, 9)) {
    // 6.6.24+ / 6.7.12+ / 6.8.3+ carry an intermediate search (D') the model does not have.
    const dPrime = (min === 6 && patch >= 24 && patch < 35) || (min === 7 && patch >= 12) || (min === 8 && patch >= 3);
    // 6.6.y kept the 6.6 pool-major dynamic search (the 6.7 area-major rework is not known backported)
    const late: Partial<Flags> = { dynamicAreaMajor: min !== 6 };
    if (min === 6 && patch >= 35) {
      return {
        profile: make(rel, `Linux ${rel}`, P66l, late, rel),
        note: 'the exact 6.6.y release of the June-2024 backports is unverified (about 6.6.35)',
      };
    }
    const clip = ver >= at(6, 7) || (min === 6 && patch >= 3);
    const tweak: Partial<Flags> = {
      hiwaterFile: ver >= at(6, 4),
      clipListAtPoolEnd: clip,
      limitNareas: ver >= at(6, 5),
      dynamicPools: ver >= at(6, 6),
      dynamicAreaMajor: ver >= at(6, 7),
      dynamicTooBigEarly: ver >= at(6, 6) && clip,
      transientCounter: ver >= at(6, 8),
    };
    if (dPrime) {
      return {
        profile: make(rel, `Linux ${rel}`, P66l, late, rel),
        note: `${rel} has an intermediate search (stable backports of 6.9 fixes) that no profile models; using 6.6-late`,
      };
    }
    return { profile: make(rel, `Linux ${rel}`, P66e, tweak, rel) };
  }
  if (maj === 6 && min === 9) return { profile: make(rel, `Linux ${rel}`, P66l, {}, rel) };
  if (ver >= at(7, 3)) {
    return {
      profile: make(rel, `Linux ${rel}`, P612, {}, rel),
      note: `${rel} is newer than the latest release checked (7.2.13); using the mainline allocator`,
    };
  }
  if (ver >= at(6, 10)) return { profile: make(rel, `Linux ${rel}`, P612, {}, rel) };
  if (maj === 6 && (min === 0 || min === 2)) {
    return {
      profile: make(rel, `Linux ${rel}`, P61, { alignCheckExcludesAllocAlign: false, limitNareas: false }, rel),
      note: `${rel} uses the 6.1 allocator (search A with areas)`,
    };
  }
  return undefined;
}

/**
 * Resolves a `--kernel` value: a profile name (`6.1`, `6.6-early`, `mainline`, ...) or an exact
 * release (`6.1.50`, `6.12.117`, `5.10.100`). Throws UnknownKernelError with the accepted values.
 */
export function resolveProfile(name: string): KernelProfile {
  return resolveProfileWithNote(name).profile;
}

export function resolveProfileWithNote(name: string): { profile: KernelProfile; note?: string } {
  const key = name.trim();
  for (const p of NAMED) {
    if (p.names.some((n) => n.toLowerCase() === key.toLowerCase())) {
      return { profile: make(p.names[0] as string, p.title, p.flags, p.tweak) };
    }
  }
  const byRelease = profileForRelease(key);
  if (byRelease) return byRelease;
  throw new UnknownKernelError(
    `unknown kernel profile "${name}": use one of ${PROFILE_NAMES.join(', ')}, or a release such as 6.1.192 (5.10.35+, 6.0 ... 7.x)`,
  );
}

/**
 * Why a kernel of this profile cannot have dynamic swiotlb pools, or undefined when it can:
 * CONFIG_SWIOTLB_DYNAMIC appeared in 6.6.
 */
export function dynamicUnsupported(profile: KernelProfile): string | undefined {
  if (profile.dynamicPools) return undefined;
  return `${profile.title} has no dynamic swiotlb (CONFIG_SWIOTLB_DYNAMIC exists from Linux 6.6 on): one fixed pool, maps fail when it is full`;
}

export function allProfiles(): KernelProfile[] {
  return ['5.10', '6.1', '6.6-early', '6.6-late', 'mainline'].map(resolveProfile);
}
