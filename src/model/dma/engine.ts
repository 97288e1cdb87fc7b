/**
 * The DMA layer over one swiotlb core: dma-direct, xen-swiotlb and iommu-dma streaming calls
 * and coherent allocations, per kernel profile and platform.
 *
 * Xen can run two ways: 'kernel' follows drivers/xen/swiotlb-xen.c as the kernel has it (its own
 * ops, the pool searched in pseudo-physical space); 'unified' runs dma-direct with the Xen hooks
 * plugged in (hooks.ts), the folding the project is about. Comparing the two shows where they
 * differ and why.
 */
import { DMA_ATTR, DmaDirection, IO_TLB_SEGSIZE, IO_TLB_SIZE, nrSlots } from '../constants';
import type { DynamicConfig } from '../dynamic';
import { hexPa } from '../messages';
import { IoTlbPool } from '../pool';
import type { KernelProfile } from '../profiles';
import { failureReason, Reason } from '../reasons';
import { IoTlbMem, type MapRequest, type MapResult } from '../swiotlb';
import type { CacheOp, Decision, DecisionResult } from './decision';
import { type DeviceConfig, dmaCapable, dmaLimit, slotParams } from './device';
import { type BufferInfo, identityHooks, type PlatformHooks, poolMachineAddress, xenArmHooks, xenPvHooks } from './hooks';
import { type P2mRun, P2mTable, poolRuns, xenLowBuddySegments } from './p2m';
import type { PlatformProfile } from './platform';

export type DmaPath = 'kernel' | 'unified';

export interface PoolConfig {
  /** Physical (Xen PV: pseudo-physical) start of slot 0. */
  readonly start: number;
  readonly nslabs: number;
  readonly nareas: number;
  /** io_tlb_mem.force_bounce (swiotlb=force, memory-encryption guests). */
  readonly forceBounce: boolean;
}

export interface XenConfig {
  /** dom0's P2M (without the pool: the pool's extents are added from segmentBases). */
  readonly p2m: P2mTable;
  /** Machine base of each 128-slot pool segment; default: Xen's low-memory buddy order. */
  readonly segmentBases?: readonly number[];
}

export interface EngineConfig {
  readonly profile: KernelProfile;
  readonly platform: PlatformProfile;
  /** The default pool; null when the kernel set none up. */
  readonly pool: PoolConfig | null;
  readonly pageShift?: number;
  readonly xen?: XenConfig;
  /** SEV C-bit as an address bit value (default bit 47). */
  readonly encryptionBit?: number;
  readonly path?: DmaPath;
  /** CONFIG_SWIOTLB_DYNAMIC: the default pool grows (transient pools, the worker's pools). */
  readonly dynamic?: DynamicConfig;
}

/** Sees every request the DMA layer hands to swiotlb_tbl_map_single() and every release. */
export interface BounceListener {
  map(req: MapRequest, result: MapResult): void;
  release(tlbAddr: number): void;
}

export interface MapCall {
  readonly call: string;
  readonly dev: DeviceConfig;
  readonly cpu: number;
  readonly phys: number;
  readonly size: number;
  readonly dir: DmaDirection;
  readonly attrs?: number;
  readonly buf?: BufferInfo;
  readonly sgIndex?: number;
}

export interface HandleCall {
  readonly call: string;
  readonly dev: DeviceConfig;
  readonly cpu: number;
  /** The DMA address the map returned. */
  readonly dma: number;
  readonly size: number;
  readonly dir: DmaDirection;
  readonly attrs?: number;
  readonly mapIndex?: number;
}

export interface SgResult {
  /** One decision per entry that was attempted. */
  readonly entries: Decision[];
  /** dma_map_sg()'s return: the number of mapped entries, 0 on failure. */
  readonly nents: number;
  /** Entries unmapped again after a later entry failed. */
  readonly unwound: Decision[];
}

/** dma_kmalloc_needs_bounce(): arm64 non-coherent, dir != TO_DEVICE, a small unaligned size. */
function kmallocNeedsBounce(dev: DeviceConfig, size: number, dir: DmaDirection): boolean {
  if (dev.coherent || dir === DmaDirection.TO_DEVICE) return false;
  const ARCH_DMA_MINALIGN = 128;
  const cacheLine = 64;
  if (size >= 2 * ARCH_DMA_MINALIGN) return false;
  return kmallocSizeRoundup(size) % cacheLine !== 0;
}

/** kmalloc_size_roundup() over the standard caches (8 ... 256 and the 96/192 ones). */
function kmallocSizeRoundup(size: number): number {
  for (const c of [8, 16, 32, 64, 96, 128, 192, 256]) if (size <= c) return c;
  return 2 ** Math.ceil(Math.log2(size));
}

/** Which version-dependent behaviours of the DMA layer a kernel profile has. */
export function dmaFeatures(profile: KernelProfile): {
  kmallocBounce: boolean;
  xenKmallocBounce: boolean;
  xenAlignmentInStraddle: boolean;
  physApi: boolean;
  noPoolStillMaps: boolean;
} {
  const rel = profile.release?.split('.').map(Number) ?? [];
  const [maj = 0, min = 0, patch = 0] = rel;
  const v = maj * 1e6 + min * 1e3 + patch;
  const has = profile.release !== undefined;
  return {
    // dma-direct: "dma-mapping: force bouncing if the kmalloc() size is not cache-line-aligned" (6.5)
    kmallocBounce: has ? v >= 6_005_000 : profile.family !== 'P510' && profile.family !== 'P61',
    // xen-swiotlb: 6.12.29+ / mainline ~6.15; a "6.12" profile means a current 6.12.y
    xenKmallocBounce: has ? (min === 12 && maj === 6 ? patch >= 29 : v >= 6_015_000) : profile.family === 'P612',
    xenAlignmentInStraddle: has && ((maj === 6 && min === 1 && patch >= 113 && patch <= 128) || (maj === 6 && min === 12 && patch <= 14)),
    // 6.18+: dma_map_phys with DMA_ATTR_MMIO / CC_SHARED / REQUIRE_COHERENT
    physApi: has ? v >= 6_018_000 : profile.name === 'mainline',
    // 5.10: dma-direct calls swiotlb_map even when no pool was set up
    noPoolStillMaps: profile.family === 'P510',
  };
}

interface DecisionDraft {
  call: string;
  device: string;
  cpu: number;
  size: number;
  dir: DmaDirection;
  attrs: number;
  result: DecisionResult;
  reasons: number;
  primaryReason: number;
  phys: number;
  bus: number | null;
  dma: number | null;
  tlbAddr: number | null;
  slot: number | null;
  nslots: number;
  area: number | null;
  copied: number;
  cache: CacheOp[];
  messages: string[];
  notes: string[];
  sgIndex?: number;
  mapIndex?: number;
}

function draft(c: MapCall | HandleCall, phys: number): DecisionDraft {
  return {
    call: c.call,
    device: c.dev.name,
    cpu: c.cpu,
    size: c.size,
    dir: c.dir,
    attrs: c.attrs ?? 0,
    result: 'done',
    reasons: 0,
    primaryReason: 0,
    phys,
    bus: null,
    dma: null,
    tlbAddr: null,
    slot: null,
    nslots: 0,
    area: null,
    copied: 0,
    cache: [],
    messages: [],
    notes: [],
    ...('sgIndex' in c && c.sgIndex !== undefined ? { sgIndex: c.sgIndex } : {}),
    ...('mapIndex' in c && c.mapIndex !== undefined ? { mapIndex: c.mapIndex } : {}),
  };
}

function prefix(dev: DeviceConfig): string {
  return dev.driver ? `${dev.driver} ${dev.name}: ` : `${dev.name}: `;
}

function overflowText(kind: 'DMA addr' | 'swiotlb addr', dev: DeviceConfig, addr: number, size: number): string {
  return `${prefix(dev)}${kind} ${hexPa(Math.max(addr, 0))}+${size} overflow (mask ${dev.dmaMask.toString(16)}, bus limit ${dev.busDmaLimit.toString(16)}).`;
}

/** Bits for the address reasons: beyond dma_mask, else beyond bus_dma_limit. */
function addressReasons(dev: DeviceConfig, dma: number, size: number): number {
  if (dmaCapable(dev, dma, size)) return 0;
  const last = dma + Math.max(size, 1) - 1;
  return last > Number(dev.dmaMask) ? Reason.BeyondDmaMask : Reason.BeyondBusLimit;
}

function freeze(d: DecisionDraft): Decision {
  return d;
}

export class DmaEngine {
  readonly profile: KernelProfile;
  readonly platform: PlatformProfile;
  readonly path: DmaPath;
  private hooksImpl: PlatformHooks;
  /** The default pool (null: no swiotlb). */
  readonly mem: IoTlbMem | null;
  readonly forceBounce: boolean;
  /** Machine base of each pool segment (Xen PV), for the bounce buffers' DMA addresses. */
  readonly segmentBases: readonly number[] | null;
  private readonly restricted = new Map<string, IoTlbMem>();
  private readonly features: ReturnType<typeof dmaFeatures>;
  private readonly encryptionBit: number;
  private readonly pageShift: number;
  private memEncryptWarned = false;
  private poolP2mRuns: P2mRun[] = [];
  /** Set by a caller that records the bounce requests (the dynamic sizing answer). */
  listener: BounceListener | null = null;

  constructor(cfg: EngineConfig) {
    this.profile = cfg.profile;
    this.platform = cfg.platform;
    this.path = cfg.path ?? 'kernel';
    this.features = dmaFeatures(cfg.profile);
    this.pageShift = cfg.pageShift ?? 12;
    this.encryptionBit = cfg.platform.memEncrypt === 'sev' ? (cfg.encryptionBit ?? 2 ** 47) : 0;
    const pool = cfg.pool;
    let segmentBases: readonly number[] | null = null;
    if (cfg.platform.xen?.pv) {
      const xen = cfg.xen ?? { p2m: new P2mTable([]) };
      const nsegs = pool ? Math.ceil(pool.nslabs / IO_TLB_SEGSIZE) : 0;
      segmentBases = xen.segmentBases ?? xenLowBuddySegments(nsegs);
      if (segmentBases.length < nsegs)
        throw new RangeError(`the Xen layout gives ${segmentBases.length} segment bases for ${nsegs} pool segments`);
      this.poolP2mRuns = pool ? poolRuns(pool.start, segmentBases.slice(0, nsegs)) : [];
      this.hooksImpl = xenPvHooks(xen.p2m.withRuns(this.poolP2mRuns));
    } else if (cfg.platform.xen?.arm) {
      this.hooksImpl = xenArmHooks(cfg.platform);
    } else {
      this.hooksImpl = identityHooks();
    }
    this.segmentBases = segmentBases;
    this.forceBounce = pool?.forceBounce ?? false;
    if (pool) {
      // The kernel's xen-swiotlb searches with the pseudo-physical pool start; dma-direct with
      // the hooks would use phys_to_dma_unencrypted(pool start): the machine address.
      const unifiedXen = this.path === 'unified' && segmentBases !== null;
      const dmaStart = unifiedXen ? (segmentBases?.[0] ?? pool.start) : pool.start;
      this.mem = new IoTlbMem(
        new IoTlbPool(cfg.profile, { start: pool.start, nslabs: pool.nslabs, nareas: pool.nareas, pageShift: this.pageShift, dmaStart }),
        cfg.dynamic,
      );
    } else {
      this.mem = null;
    }
  }

  get hooks(): PlatformHooks {
    return this.hooksImpl;
  }

  /**
   * Xen PV: dom0's P2M changed (ballooning, grant mappings): the new table, with the pool's own
   * exchanged extents kept in place.
   */
  setXenP2m(p2m: P2mTable): void {
    if (!this.platform.xen?.pv) throw new RangeError(`${this.platform.id} has no P2M`);
    this.hooksImpl = xenPvHooks(p2m.withRuns(this.poolP2mRuns));
  }

  /** A restricted DMA pool's allocator (created on first use; always force-bounces). */
  private restrictedMem(dev: DeviceConfig): IoTlbMem | null {
    if (!dev.restrictedPoolSlots) return null;
    let m = this.restricted.get(dev.name);
    if (!m) {
      // a separate reserved-memory region: where the device tree puts it, else low memory
      const start = dev.restrictedPoolBase ?? 0x9000_0000 - (this.restricted.size + 1) * 0x0400_0000;
      m = new IoTlbMem(new IoTlbPool(this.profile, { start, nslabs: dev.restrictedPoolSlots, nareas: 1, pageShift: this.pageShift }));
      this.restricted.set(dev.name, m);
    }
    return m;
  }

  private memFor(dev: DeviceConfig): IoTlbMem | null {
    return this.restrictedMem(dev) ?? this.mem;
  }

  private forcedFor(dev: DeviceConfig): boolean {
    return dev.restrictedPoolSlots ? true : this.forceBounce;
  }

  /** phys_to_dma(): translation hook, dma-ranges offset, SEV C-bit on originals. */
  private physToDma(dev: DeviceConfig, phys: number, buf?: BufferInfo, encrypted = true): number | undefined {
    const bus = this.hooks.physToBus(phys, buf);
    if (bus === undefined) return undefined;
    return bus - dev.dmaOffset + (encrypted ? this.encryptionBit : 0);
  }

  /** dma_to_phys(): the reverse; clears the C-bit. */
  private dmaToPhys(dev: DeviceConfig, dma: number): number | undefined {
    let bus = dma + dev.dmaOffset;
    if (this.encryptionBit && bus >= this.encryptionBit) bus -= this.encryptionBit;
    return this.hooks.busToPhys(bus);
  }

  /** The DMA address of a bounce buffer (never encrypted). */
  private bounceDma(dev: DeviceConfig, tlb: number, mem: IoTlbMem): number | undefined {
    if (this.segmentBases && mem === this.mem) {
      const m = poolMachineAddress(mem.pool.start, this.segmentBases, tlb);
      return m === undefined ? undefined : m - dev.dmaOffset;
    }
    return this.physToDma(dev, tlb, undefined, false);
  }

  private poolOf(dev: DeviceConfig, phys: number): IoTlbMem | null {
    const m = this.memFor(dev);
    return m?.isSwiotlbBuffer(phys) ? m : null;
  }

  /** swiotlb_tbl_map_single() through the listener. */
  private tblMap(mem: IoTlbMem, req: MapRequest): MapResult {
    const r = mem.tblMapSingle(req);
    if (mem === this.mem) this.listener?.map(req, r);
    return r;
  }

  /** The messages a memory-encryption guest prints once at its first bounce. */
  private noteMemEncrypt(d: DecisionDraft): void {
    if (this.platform.memEncrypt !== 'none' && !this.memEncryptWarned) {
      this.memEncryptWarned = true;
      d.messages.push('software IO TLB: Memory encryption is active and system is using DMA bounce buffers');
    }
  }

  // ---------------------------------------------------------------- streaming maps

  /** dma_map_page / dma_map_single (+_attrs); dma_map_phys in 6.18+. */
  map(c: MapCall): Decision {
    if (this.platform.ops === 'iommu-dma') return this.iommuMap(c);
    if (this.platform.ops === 'xen-swiotlb' && this.path === 'kernel') return this.xenMap(c);
    return this.directMap(c);
  }

  /** dma_direct_map_page (with the platform hooks: identity except unified Xen). */
  private directMap(c: MapCall): Decision {
    const d = draft(c, c.phys);
    const dev = c.dev;
    const attrs = c.attrs ?? 0;
    const bus = this.hooks.physToBus(c.phys, c.buf);
    d.bus = bus ?? null;
    const dma = this.physToDma(dev, c.phys, c.buf);
    const force = this.forcedFor(dev);
    const addr = dma === undefined ? Reason.BeyondDmaMask : addressReasons(dev, dma, c.size);
    const extra = this.hooks.extraBounce(dev, c.phys, c.size, c.buf);
    const kmalloc = this.features.kmallocBounce && this.platform.arch === 'arm64' && kmallocNeedsBounce(dev, c.size, c.dir);
    d.reasons = (force ? Reason.ForceBounce : 0) | addr | extra.reasons | (kmalloc ? Reason.KmallocNotCacheAligned : 0);
    if (extra.straddle) d.notes.push(`not machine-contiguous: pfn 0x${extra.straddle.pfn.toString(16)} maps to another machine frame`);
    if (force) {
      d.primaryReason = Reason.ForceBounce;
      return this.swiotlbMap(c, d, dma);
    }
    if (addr || extra.reasons || kmalloc) {
      d.primaryReason = addr || extra.reasons || Reason.KmallocNotCacheAligned;
      const mem = this.memFor(dev);
      if (mem || this.features.noPoolStillMaps) return this.swiotlbMap(c, d, dma);
      d.result = 'failed';
      d.reasons |= Reason.NoSwiotlb;
      d.messages.push(`WARNING: ${overflowText('DMA addr', dev, dma ?? 0, c.size)}`);
      d.notes.push('no swiotlb pool: a buffer the device cannot reach fails instead of bouncing');
      return freeze(d);
    }
    d.result = 'direct';
    d.dma = dma ?? null;
    if (!dev.coherent && !(attrs & DMA_ATTR.SKIP_CPU_SYNC))
      d.cache.push(...this.hooks.cacheForDevice(dev, c.phys, bus ?? c.phys, c.size, c.buf?.foreignBus === undefined));
    return freeze(d);
  }

  /** swiotlb_map(): bounce, then check the bounce buffer is reachable, then cache maintenance. */
  private swiotlbMap(c: MapCall, d: DecisionDraft, origDma: number | undefined): Decision {
    const dev = c.dev;
    const attrs = c.attrs ?? 0;
    const mem = this.memFor(dev);
    d.notes.push(`swiotlb_bounced: dev_addr=${(origDma ?? 0).toString(16)} size=${c.size} ${this.forcedFor(dev) ? 'FORCE' : 'NORMAL'}`);
    if (!mem) {
      d.result = 'failed';
      d.reasons |= Reason.NoSwiotlb;
      if (this.features.noPoolStillMaps) {
        d.messages.push(`${prefix(dev)}swiotlb buffer is full (sz: ${c.size} bytes), total 0 (slots), used 0 (slots)`);
      } else {
        d.messages.push(`${prefix(dev)}Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer`);
      }
      return freeze(d);
    }
    this.noteMemEncrypt(d);
    const r = this.tblMap(mem, {
      cpu: c.cpu,
      origAddr: c.phys,
      mappingSize: c.size,
      allocSize: c.size,
      allocAlignMask: 0,
      dir: c.dir,
      attrs,
      dev: slotParams(dev),
      physLimit: dmaLimit(dev),
    });
    return this.afterBounce(c, d, mem, r, 'dma-direct');
  }

  /** The common tail of a bounce: failure report, or addresses, the post-check and cache maintenance. */
  private afterBounce(c: MapCall, d: DecisionDraft, mem: IoTlbMem, r: MapResult, via: 'dma-direct' | 'xen' | 'iommu'): Decision {
    const dev = c.dev;
    const attrs = c.attrs ?? 0;
    if (!r.ok) {
      d.result = r.reason === 'livelock' ? 'hang' : 'failed';
      d.reasons |= failureReason(r.reason, r.nslots, mem);
      const text = `${r.reason === 'livelock' ? '' : prefix(dev)}${r.message ?? ''}`;
      if (r.reason === 'livelock') d.notes.push(text);
      else if (attrs & DMA_ATTR.NO_WARN) d.notes.push(`not printed (DMA_ATTR_NO_WARN): ${text}`);
      else d.messages.push(text);
      return freeze(d);
    }
    d.copied = r.copiedBytes;
    if (r.warning) d.messages.push(`WARNING: ${prefix(dev)}${r.warning}`);
    const dma = via === 'iommu' ? undefined : this.bounceDma(dev, r.tlbAddr, mem);
    if (via !== 'iommu' && (dma === undefined || !dmaCapable(dev, dma, c.size))) {
      // release the slots again (the area index stays advanced)
      mem.tblUnmapSingle(r.tlbAddr, c.size, c.dir, attrs | DMA_ATTR.SKIP_CPU_SYNC, slotParams(dev));
      if (mem === this.mem) this.listener?.release(r.tlbAddr);
      d.result = 'failed';
      d.reasons |= Reason.BounceBeyondMask;
      d.notes.push(
        `slot ${r.index} (${r.nslots} slots) was taken, then given back: its DMA address ${dma === undefined ? 'is unknown' : hexPa(dma)} is beyond the device's reach`,
      );
      if (via === 'dma-direct') d.messages.push(`WARNING: ${overflowText('swiotlb addr', dev, dma ?? 0, c.size)}`);
      else d.notes.push('the bounce buffer is beyond the device mask: xen-swiotlb fails silently');
      return freeze(d);
    }
    d.result = 'bounced';
    d.tlbAddr = r.tlbAddr;
    d.nslots = r.nslots;
    if (r.poolKind) {
      // slot and area name the boot pool's: a dynamic pool's buffer has neither
      d.reasons |= r.poolKind === 'transient' ? Reason.TransientPool : Reason.AddedPool;
      d.notes.push(
        `${r.poolKind === 'transient' ? 'a transient pool of its own' : 'a pool the dynamic worker added'} at ${hexPa(r.poolStart ?? 0)} (slot ${r.index} there)`,
      );
    } else {
      d.slot = r.index;
      d.area = mem.pool.areaOf(r.index);
    }
    d.dma = dma ?? null;
    if (!dev.coherent && !(attrs & DMA_ATTR.SKIP_CPU_SYNC))
      d.cache.push(...this.hooks.cacheForDevice(dev, r.tlbAddr, dma ?? r.tlbAddr, c.size, true));
    return freeze(d);
  }

  /** xen_swiotlb_map_page() as the kernel has it. */
  private xenMap(c: MapCall): Decision {
    const d = draft(c, c.phys);
    const dev = c.dev;
    const attrs = c.attrs ?? 0;
    const bus = this.hooks.physToBus(c.phys, c.buf);
    d.bus = bus ?? null;
    const devAddr = this.physToDma(dev, c.phys, c.buf);
    // the kernel's order: capable, then straddle, then the arch test, then force, then kmalloc
    const addr = devAddr === undefined ? Reason.BeyondDmaMask : addressReasons(dev, devAddr, c.size);
    const extra = this.hooks.extraBounce(dev, c.phys, c.size, c.buf);
    const force = this.forcedFor(dev);
    const kmalloc = this.features.xenKmallocBounce && this.platform.arch === 'arm64' && kmallocNeedsBounce(dev, c.size, c.dir);
    d.reasons = addr | extra.reasons | (force ? Reason.ForceBounce : 0) | (kmalloc ? Reason.KmallocNotCacheAligned : 0);
    if (extra.straddle) d.notes.push(`not machine-contiguous: pfn 0x${extra.straddle.pfn.toString(16)} maps to another machine frame`);
    const primary =
      addr ||
      extra.reasons & Reason.XenStraddle ||
      extra.reasons & Reason.XenArchNeedsBounce ||
      (force ? Reason.ForceBounce : 0) ||
      (kmalloc ? Reason.KmallocNotCacheAligned : 0);
    if (!primary) {
      d.result = 'direct';
      d.dma = devAddr ?? null;
      if (!dev.coherent && !(attrs & DMA_ATTR.SKIP_CPU_SYNC)) {
        const local = c.buf?.foreignBus === undefined;
        d.cache.push(...this.hooks.cacheForDevice(dev, c.phys, bus ?? c.phys, c.size, local));
      }
      return freeze(d);
    }
    d.primaryReason = primary;
    d.notes.push(`swiotlb_bounced: dev_addr=${(devAddr ?? 0).toString(16)} size=${c.size} ${force ? 'FORCE' : 'NORMAL'}`);
    const mem = this.memFor(dev);
    if (!mem) {
      d.result = 'failed';
      d.reasons |= Reason.NoSwiotlb;
      d.messages.push(`${prefix(dev)}Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer`);
      return freeze(d);
    }
    const r = this.tblMap(mem, {
      cpu: c.cpu,
      origAddr: c.phys,
      mappingSize: c.size,
      allocSize: c.size,
      allocAlignMask: 0,
      dir: c.dir,
      attrs,
      dev: slotParams(dev),
      physLimit: dmaLimit(dev),
    });
    return this.afterBounce(c, d, mem, r, 'xen');
  }

  /** iommu_dma_map_page(): untrusted devices bounce buffers not aligned to the IOVA granule. */
  private iommuMap(c: MapCall): Decision {
    const d = draft(c, c.phys);
    const dev = c.dev;
    const attrs = c.attrs ?? 0;
    d.bus = c.phys;
    const granule = dev.iovaGranule;
    const unaligned = (c.phys % granule !== 0 || c.size % granule !== 0) && !dev.trusted;
    const kmalloc = this.features.kmallocBounce && this.platform.arch === 'arm64' && kmallocNeedsBounce(dev, c.size, c.dir);
    if (!unaligned && !kmalloc) {
      d.result = 'direct';
      d.notes.push('mapped by the IOMMU: the IOVA is not modelled');
      if (!dev.coherent && !(attrs & DMA_ATTR.SKIP_CPU_SYNC)) d.cache.push(...this.hooks.cacheForDevice(dev, c.phys, c.phys, c.size, true));
      return freeze(d);
    }
    d.reasons = (unaligned ? Reason.UntrustedUnaligned : 0) | (kmalloc ? Reason.KmallocNotCacheAligned : 0);
    d.primaryReason = unaligned ? Reason.UntrustedUnaligned : Reason.KmallocNotCacheAligned;
    const mem = this.mem;
    if (!mem) {
      d.result = 'failed';
      d.reasons |= Reason.NoSwiotlb;
      d.messages.push(`${prefix(dev)}DMA bounce buffers are inactive, unable to map unaligned transaction.`);
      return freeze(d);
    }
    const alignedSize = Math.ceil(c.size / granule) * granule;
    const r = this.tblMap(mem, {
      cpu: c.cpu,
      origAddr: c.phys,
      mappingSize: c.size,
      allocSize: alignedSize,
      allocAlignMask: granule - 1,
      dir: c.dir,
      attrs,
      dev: slotParams(dev),
      physLimit: dmaLimit(dev),
    });
    const out = this.afterBounce(c, d, mem, r, 'iommu') as DecisionDraft;
    if (out.result === 'bounced') {
      out.notes.push('the bounce buffer is then mapped by the IOMMU: the IOVA is not modelled');
      if (!dev.coherent && !(attrs & DMA_ATTR.SKIP_CPU_SYNC))
        out.cache.push(...this.hooks.cacheForDevice(dev, r.tlbAddr, r.tlbAddr, c.size, true));
    }
    return out;
  }

  // ---------------------------------------------------------------- unmap and sync

  /** dma_unmap_page / dma_unmap_single (+_attrs). */
  unmap(c: HandleCall): Decision {
    const dev = c.dev;
    const attrs = c.attrs ?? 0;
    if (this.platform.ops === 'iommu-dma') return this.iommuUnmap(c);
    const phys = this.dmaToPhys(dev, c.dma);
    const d = draft(c, phys ?? -1);
    d.bus = c.dma + dev.dmaOffset;
    d.dma = c.dma;
    const local = phys !== undefined;
    const mem = phys === undefined ? null : this.poolOf(dev, phys);
    const xenKernel = this.platform.ops === 'xen-swiotlb' && this.path === 'kernel';
    if (!(attrs & DMA_ATTR.SKIP_CPU_SYNC)) {
      if (!dev.coherent)
        d.cache.push(...this.hooks.cacheForCpu(dev, phys ?? c.dma, c.dma + dev.dmaOffset, c.size, c.dir === DmaDirection.TO_DEVICE, local));
      // dma-direct syncs for the CPU first and then unmaps with SKIP_CPU_SYNC; xen-swiotlb
      // passes the caller's attrs to the release, which copies back itself: the same bytes.
      if (mem && !xenKernel) d.copied += mem.syncSingleForCpu(phys as number, c.size, c.dir, slotParams(dev)).bytes;
    }
    if (mem) {
      const r = mem.tblUnmapSingle(phys as number, c.size, c.dir, xenKernel ? attrs : attrs | DMA_ATTR.SKIP_CPU_SYNC, slotParams(dev));
      if (!r.ok) {
        d.result = 'failed';
        d.reasons |= Reason.DriverBug;
        d.notes.push(`${r.error}: the kernel would corrupt its slot lists`);
        return freeze(d);
      }
      if (mem === this.mem) this.listener?.release(phys as number);
      d.copied += r.copiedBytes;
      d.tlbAddr = phys as number;
      d.nslots = r.freedSlots;
      if (mem.pool.isInPool(phys as number)) {
        const slot = Math.floor(((phys as number) - mem.pool.start) / IO_TLB_SIZE);
        d.slot = slot;
        d.area = mem.pool.areaOf(slot);
      }
      d.result = 'bounced';
      if (r.warning) d.messages.push(`WARNING: ${prefix(dev)}${r.warning}`);
    } else {
      d.result = 'direct';
    }
    return freeze(d);
  }

  private iommuUnmap(c: HandleCall): Decision {
    // The IOVA is not modelled: the scenario hands the bounce buffer's pool address as the handle.
    const dev = c.dev;
    const d = draft(c, c.dma);
    const mem = this.mem?.isSwiotlbBuffer(c.dma) ? this.mem : null;
    if (!((c.attrs ?? 0) & DMA_ATTR.SKIP_CPU_SYNC) && !dev.coherent)
      d.cache.push(...this.hooks.cacheForCpu(dev, c.dma, c.dma, c.size, c.dir === DmaDirection.TO_DEVICE, true));
    if (mem) {
      const r = mem.tblUnmapSingle(c.dma, c.size, c.dir, c.attrs ?? 0, slotParams(dev));
      if (r.ok) this.listener?.release(c.dma);
      d.copied = r.copiedBytes;
      d.nslots = r.freedSlots;
      d.result = r.ok ? 'bounced' : 'failed';
    } else {
      d.result = 'direct';
    }
    return freeze(d);
  }

  /** dma_sync_single_for_cpu / _for_device. */
  sync(c: HandleCall, toCpu: boolean): Decision {
    const dev = c.dev;
    if (c.dir === DmaDirection.NONE) throw new RangeError('a DMA_NONE sync is a kernel BUG()');
    const iommu = this.platform.ops === 'iommu-dma';
    const phys = iommu ? c.dma : this.dmaToPhys(dev, c.dma);
    const d = draft(c, phys ?? -1);
    d.dma = c.dma;
    const local = phys !== undefined;
    const mem = phys === undefined ? null : iommu ? (this.mem?.isSwiotlbBuffer(phys) ? this.mem : null) : this.poolOf(dev, phys);
    const bus = c.dma + dev.dmaOffset;
    const toDevice = c.dir === DmaDirection.TO_DEVICE;
    if (toCpu) {
      // cache invalidate first, then the copy out of the bounce buffer
      if (!dev.coherent) d.cache.push(...this.hooks.cacheForCpu(dev, phys ?? c.dma, bus, c.size, toDevice, local));
      if (mem) {
        const b = mem.syncSingleForCpu(phys as number, c.size, c.dir, slotParams(dev));
        d.copied = b.bytes;
        if (b.warning) d.messages.push(`WARNING: ${prefix(dev)}${b.warning}`);
      }
    } else {
      // the copy into the bounce buffer first, then the cache clean
      if (mem) {
        const b = mem.syncSingleForDevice(phys as number, c.size, c.dir, slotParams(dev));
        d.copied = b.bytes;
        if (b.warning) d.messages.push(`WARNING: ${prefix(dev)}${b.warning}`);
      }
      if (!dev.coherent) d.cache.push(...this.hooks.cacheForDevice(dev, phys ?? c.dma, bus, c.size, local));
    }
    d.result = mem ? 'bounced' : 'direct';
    if (this.profile.family === 'P612' && dev.coherent && !mem)
      d.notes.push('6.10+: a coherent device that never bounced skips its syncs (no dma:* event either)');
    return freeze(d);
  }

  // ---------------------------------------------------------------- scatterlists and resources

  /** dma_map_sg: each entry mapped like a page; on the first failure the earlier ones are undone. */
  mapSg(
    call: string,
    dev: DeviceConfig,
    cpu: number,
    entries: readonly { phys: number; size: number; buf?: BufferInfo }[],
    dir: DmaDirection,
    attrs = 0,
  ): SgResult {
    const out: Decision[] = [];
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as { phys: number; size: number; buf?: BufferInfo };
      const d = this.map({ call, dev, cpu, phys: e.phys, size: e.size, dir, attrs, sgIndex: i, ...(e.buf ? { buf: e.buf } : {}) });
      out.push(d);
      if (d.result === 'failed' || d.result === 'hang') {
        const unwound: Decision[] = [];
        if (d.result === 'failed') {
          for (let j = 0; j < i; j++) {
            const m = out[j] as Decision;
            if (m.dma === null && m.tlbAddr === null) continue;
            unwound.push(
              this.unmap({
                call: 'dma_unmap_sg',
                dev,
                cpu,
                dma: m.dma ?? (m.tlbAddr as number),
                size: m.size,
                dir,
                attrs: attrs | DMA_ATTR.SKIP_CPU_SYNC,
              }),
            );
          }
        }
        return { entries: out, nents: 0, unwound };
      }
    }
    return { entries: out, nents: entries.length, unwound: [] };
  }

  /** dma_map_resource: an MMIO range of another device; never bounces. */
  mapResource(c: MapCall): Decision {
    const d = draft(c, c.phys);
    const dev = c.dev;
    d.bus = c.phys;
    if (this.platform.ops === 'xen-swiotlb' && this.path === 'kernel' && !this.features.physApi) {
      d.result = 'failed';
      d.notes.push('xen-swiotlb has no map_resource operation before 6.18: dma_map_resource returns DMA_MAPPING_ERROR');
      d.reasons = Reason.NoSwiotlb;
      return freeze(d);
    }
    if (this.platform.ops === 'iommu-dma') {
      d.result = 'direct';
      d.notes.push('mapped by the IOMMU: the IOVA is not modelled');
      return freeze(d);
    }
    if (this.features.physApi && this.forcedFor(dev)) {
      d.result = 'failed';
      d.reasons = Reason.ForceBounce;
      d.notes.push('6.18+: MMIO mappings fail on a device that must bounce (dma_map_phys with DMA_ATTR_MMIO)');
      return freeze(d);
    }
    // 1:1: no translation and no encryption bit for MMIO
    if (!dmaCapable(dev, c.phys, c.size)) {
      d.result = 'failed';
      d.reasons = addressReasons(dev, c.phys, c.size);
      d.messages.push(overflowText('DMA addr', dev, c.phys, c.size));
      return freeze(d);
    }
    d.result = 'direct';
    d.dma = c.phys;
    return freeze(d);
  }

  // ---------------------------------------------------------------- coherent allocations

  /**
   * dma_alloc_coherent: pages for the device. No default-pool slots are used, except for a
   * restricted DMA pool (swiotlb_alloc); Xen PV exchanges pages that are not contiguous,
   * addressable or aligned in machine memory.
   */
  allocCoherent(call: string, dev: DeviceConfig, cpu: number, size: number, phys?: number): Decision {
    const c: MapCall = { call, dev, cpu, phys: phys ?? -1, size, dir: DmaDirection.BIDIRECTIONAL };
    const d = draft(c, phys ?? -1);
    const rmem = this.restrictedMem(dev);
    if (rmem) {
      const r = rmem.alloc(cpu, size, slotParams(dev));
      if (!r.ok) {
        d.result = 'failed';
        d.reasons = failureReason(r.reason, r.nslots, rmem.pool);
        d.notes.push(`restricted DMA pool: ${r.message ?? ''}`);
        return freeze(d);
      }
      d.result = 'bounced';
      d.tlbAddr = r.tlbAddr;
      d.slot = r.index;
      d.nslots = r.nslots;
      d.dma = r.tlbAddr - dev.dmaOffset;
      d.phys = r.tlbAddr;
      return freeze(d);
    }
    d.result = 'direct';
    if (phys === undefined) {
      d.notes.push("the page allocator's choice of pages is not modelled: give the allocation's phys to get addresses");
      return freeze(d);
    }
    const bus = this.hooks.physToBus(phys);
    d.bus = bus ?? null;
    if (this.platform.xen?.pv) {
      // xen_swiotlb_alloc_coherent (the "special allocator" hook): exchange for a machine extent when needed
      const order = nrSlots(size) > 0 ? Math.ceil(Math.log2(Math.max(1, Math.ceil(size / 4096)))) : 0;
      const align = 4096 * 2 ** order;
      const handle = bus ?? -1;
      const beyond = handle < 0 || handle + size - 1 > Number(dev.coherentDmaMask);
      const straddle = this.hooks.extraBounce(dev, phys, size).reasons !== 0;
      const misaligned = phys % align === 0 && handle % align !== 0;
      if (beyond || straddle || misaligned) {
        d.notes.push(
          `exchanged for a machine-contiguous extent (XENMEM_exchange): ${[beyond ? 'beyond coherent_dma_mask' : '', straddle ? 'not machine-contiguous' : '', misaligned ? 'machine address not aligned like the pseudo-physical one' : ''].filter(Boolean).join(', ')}`,
        );
        d.reasons = (beyond ? Reason.BeyondDmaMask : 0) | (straddle ? Reason.XenStraddle : 0) | (misaligned ? Reason.XenAlignment : 0);
        d.primaryReason = d.reasons & -d.reasons;
        d.dma = null;
        return freeze(d);
      }
    }
    // decrypted (shared) pages in encrypted guests: no C-bit
    d.dma = this.physToDma(dev, phys, undefined, false) ?? null;
    return freeze(d);
  }

  freeCoherent(call: string, dev: DeviceConfig, cpu: number, size: number, dma: number): Decision {
    const d = draft({ call, dev, cpu, dma, size, dir: DmaDirection.BIDIRECTIONAL }, dma + dev.dmaOffset);
    const rmem = this.restrictedMem(dev);
    d.dma = dma;
    if (rmem?.pool.isInPool(dma + dev.dmaOffset)) {
      const r = rmem.free(dma + dev.dmaOffset, size, slotParams(dev));
      d.nslots = r.freedSlots;
      d.result = r.ok ? 'bounced' : 'failed';
      return freeze(d);
    }
    d.result = 'direct';
    return freeze(d);
  }
}
