/**
 * Decision tables: every reason to bounce or fail, triggered and not triggered, per platform
 * (swiotlb-model.md §7, xen-swiotlb.md §3, §6, §8).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DMA_ATTR, DmaDirection } from '../../src/model/constants';
import { type DeviceConfig, DMA_BIT_MASK, pciDefaults } from '../../src/model/dma/device';
import { DmaEngine, dmaFeatures, type EngineConfig } from '../../src/model/dma/engine';
import { P2mTable } from '../../src/model/dma/p2m';
import { type PlatformId, platformById } from '../../src/model/dma/platform';
import { resolveProfile } from '../../src/model/profiles';
import { Reason, reasonCodes } from '../../src/model/reasons';

const { TO_DEVICE: TO, FROM_DEVICE: FROM, BIDIRECTIONAL: BIDI } = DmaDirection;

function engine(
  platform: PlatformId,
  kernel = '6.1',
  pool: EngineConfig['pool'] | 'none' | 'default' = 'default',
  extra: Partial<EngineConfig> = {},
): DmaEngine {
  const p = platformById(platform);
  if (!p) throw new Error(platform);
  const forced = p.memEncrypt !== 'none';
  return new DmaEngine({
    profile: resolveProfile(kernel),
    platform: p,
    pool: pool === 'none' ? null : pool === 'default' ? { start: 0xbc000000, nslabs: 32768, nareas: 4, forceBounce: forced } : pool,
    ...extra,
  });
}

function dev(over: Partial<DeviceConfig> = {}): DeviceConfig {
  return { ...pciDefaults('0000:00:03.0'), driver: 'e1000', ...over };
}

const map = (e: DmaEngine, d: DeviceConfig, phys: number, size: number, dir = FROM, attrs = 0) =>
  e.map({ call: 'dma_map_single', dev: d, cpu: 0, phys, size, dir, attrs });

describe('dma-direct on bare-metal x86', () => {
  test('a 32-bit device: below 4 GiB direct, above it bounces for the mask', () => {
    const e = engine('x86');
    const d = dev();
    const lo = map(e, d, 0x7000_0000, 1522);
    assert.equal(lo.result, 'direct');
    assert.equal(lo.dma, 0x7000_0000);
    assert.equal(lo.reasons, 0);
    const hi = map(e, d, 0x1_2345_6000, 1522);
    assert.equal(hi.result, 'bounced');
    assert.deepEqual(reasonCodes(hi.reasons), ['dma-mask']);
    assert.equal(hi.dma, 0xbc000000);
    assert.equal(hi.copied, 1522, 'copied at map whatever the direction');
    // a buffer that ends just past the mask bounces too
    assert.equal(map(e, d, 0xffff_f000, 8192).result, 'bounced');
    assert.equal(map(e, d, 0xffff_e000, 8192).result, 'direct');
  });
  test('a 64-bit device never bounces without force', () => {
    const e = engine('x86');
    assert.equal(map(e, dev({ dmaMask: DMA_BIT_MASK(64) }), 0x40_0000_0000, 65536).result, 'direct');
  });
  test('bus_dma_limit is a second limit (dma-ranges)', () => {
    const e = engine('x86');
    const d = dev({ dmaMask: DMA_BIT_MASK(64), busDmaLimit: 0xdfff_ffffn });
    const r = map(e, d, 0xe000_0000, 4096);
    assert.equal(r.result, 'bounced');
    assert.deepEqual(reasonCodes(r.reasons), ['bus-limit']);
  });
  test('swiotlb=force bounces everything', () => {
    const e = engine('x86', '6.1', { start: 0xbc000000, nslabs: 32768, nareas: 4, forceBounce: true });
    const r = map(e, dev({ dmaMask: DMA_BIT_MASK(64) }), 0x1000_0000, 4096);
    assert.equal(r.result, 'bounced');
    assert.deepEqual(reasonCodes(r.reasons), ['force']);
  });
  test('no pool: a buffer the device cannot reach fails with the overflow WARN (6.1)', () => {
    const e = engine('x86', '6.1', 'none');
    const r = map(e, dev(), 0x1_0000_0000, 4096);
    assert.equal(r.result, 'failed');
    assert.deepEqual(reasonCodes(r.reasons), ['dma-mask', 'no-swiotlb']);
    assert.equal(r.messages[0], 'WARNING: e1000 0000:00:03.0: DMA addr 0x0000000100000000+4096 overflow (mask ffffffff, bus limit 0).');
  });
  test('no pool on 5.10: dma-direct still calls swiotlb, which reports a full pool of 0 slots', () => {
    const r = map(engine('x86', '5.10', 'none'), dev(), 0x1_0000_0000, 4096);
    assert.equal(r.result, 'failed');
    assert.equal(r.messages[0], 'e1000 0000:00:03.0: swiotlb buffer is full (sz: 4096 bytes), total 0 (slots), used 0 (slots)');
  });
  test('the bounce buffer itself beyond the mask: slots given back, WARN, failure', () => {
    const e = engine('x86', '6.1', { start: 0x1_0000_0000, nslabs: 1024, nareas: 1, forceBounce: false });
    const r = map(e, dev(), 0x2_0000_0000, 4096);
    assert.equal(r.result, 'failed');
    assert.ok(r.reasons & Reason.BounceBeyondMask);
    assert.equal(r.messages[0], 'WARNING: e1000 0000:00:03.0: swiotlb addr 0x0000000100000000+4096 overflow (mask ffffffff, bus limit 0).');
    assert.equal(e.mem?.used, 0, 'the slots were released');
    assert.equal(e.mem?.pool.areaIndex[0], 2, 'the area index stays advanced');
  });
  test('failures: too big, pool full, fragmented, and DMA_ATTR_NO_WARN', () => {
    const e = engine('x86', '6.1', { start: 0xbc000000, nslabs: 256, nareas: 1, forceBounce: true });
    const d = dev({ dmaMask: DMA_BIT_MASK(64) });
    const big = map(e, d, 0x1000_0000, 300 * 1024);
    assert.deepEqual(reasonCodes(big.reasons), ['force', 'too-big']);
    // fill the pool with 4 KiB maps (2 slots each), then ask for more
    for (let i = 0; i < 128; i++) assert.equal(map(e, d, 0x1000_0000 + i * 4096, 4096).result, 'bounced');
    const full = map(e, d, 0x2000_0000, 2048);
    assert.deepEqual(reasonCodes(full.reasons), ['force', 'pool-full']);
    assert.equal(full.messages[0], 'e1000 0000:00:03.0: swiotlb buffer is full (sz: 2048 bytes), total 256 (slots), used 256 (slots)');
    const quiet = map(e, d, 0x2000_0000, 2048, FROM, DMA_ATTR.NO_WARN);
    assert.equal(quiet.messages.length, 0);
    assert.match(quiet.notes.join(' '), /not printed \(DMA_ATTR_NO_WARN\)/);
  });
  test('unmap and syncs: the copies and their order', () => {
    const e = engine('x86');
    const d = dev();
    const m = map(e, d, 0x1_0000_0000, 3000, BIDI);
    const sc = e.sync({ call: 'dma_sync_single_for_cpu', dev: d, cpu: 0, dma: m.dma as number, size: 3000, dir: BIDI }, true);
    assert.equal(sc.copied, 3000);
    const sd = e.sync({ call: 'dma_sync_single_for_device', dev: d, cpu: 0, dma: m.dma as number, size: 3000, dir: FROM }, false);
    assert.equal(sd.copied, 0, 'FROM_DEVICE: nothing to copy towards the device');
    const u = e.unmap({ call: 'dma_unmap_single', dev: d, cpu: 0, dma: m.dma as number, size: 3000, dir: BIDI });
    assert.equal(u.result, 'bounced');
    assert.equal(u.copied, 3000);
    assert.equal(u.nslots, 2);
    const direct = map(e, d, 0x1000_0000, 100);
    assert.equal(e.unmap({ call: 'dma_unmap_single', dev: d, cpu: 0, dma: direct.dma as number, size: 100, dir: FROM }).result, 'direct');
  });
  test('map_sg: the first failing entry undoes the earlier ones', () => {
    const e = engine('x86', '6.1', { start: 0xbc000000, nslabs: 256, nareas: 1, forceBounce: false });
    const d = dev();
    const r = e.mapSg(
      'dma_map_sg',
      d,
      0,
      [
        { phys: 0x1_0000_0000, size: 65536 },
        { phys: 0x1000_0000, size: 4096 },
        { phys: 0x1_1000_0000, size: 300 * 1024 },
        { phys: 0x1_2000_0000, size: 4096 },
      ],
      FROM,
    );
    assert.equal(r.nents, 0);
    assert.equal(r.entries.length, 3, 'the fourth entry is never tried');
    assert.deepEqual(
      r.entries.map((x) => x.result),
      ['bounced', 'direct', 'failed'],
    );
    assert.equal(r.unwound.length, 2);
    assert.equal(e.mem?.used, 0);
  });
  test('map_resource maps MMIO 1:1 and never bounces', () => {
    const e = engine('x86', '6.1', { start: 0xbc000000, nslabs: 1024, nareas: 1, forceBounce: true });
    const ok = e.mapResource({ call: 'dma_map_resource', dev: dev(), cpu: 0, phys: 0xfe00_0000, size: 4096, dir: BIDI });
    assert.equal(ok.result, 'direct');
    assert.equal(ok.dma, 0xfe00_0000);
    const far = e.mapResource({ call: 'dma_map_resource', dev: dev(), cpu: 0, phys: 0x40_0000_0000, size: 4096, dir: BIDI });
    assert.equal(far.result, 'failed');
    assert.match(far.messages[0] ?? '', /DMA addr 0x0000004000000000\+4096 overflow/);
  });
});

describe('arm64 non-coherent: kmalloc bouncing and cache maintenance', () => {
  const d = dev({ coherent: false, dmaMask: DMA_BIT_MASK(32) });
  test('which small sizes bounce (64-byte lines, kmalloc caches) on 6.12', () => {
    const e = engine('arm64-noncoherent', '6.12');
    const bounces = (size: number, dir = FROM) => map(e, d, 0x4000_0000, size, dir).result === 'bounced';
    for (const s of [1, 8, 24, 32, 65, 80, 96]) assert.ok(bounces(s), `${s} bounces`);
    for (const s of [33, 64, 97, 128, 192, 255, 256, 4096]) assert.ok(!bounces(s), `${s} does not`);
    assert.ok(!bounces(24, TO), 'TO_DEVICE never bounces for this');
    assert.ok(bounces(24, BIDI));
    assert.deepEqual(reasonCodes(map(e, d, 0x4000_0000, 24).reasons), ['kmalloc']);
  });
  test('not before 6.5, not for coherent devices', () => {
    assert.equal(map(engine('arm64-noncoherent', '6.1'), d, 0x4000_0000, 24).result, 'direct');
    assert.equal(map(engine('arm64-noncoherent', '6.12'), { ...d, coherent: true }, 0x4000_0000, 24).result, 'direct');
    assert.equal(dmaFeatures(resolveProfile('6.4.0')).kmallocBounce, false);
    assert.equal(dmaFeatures(resolveProfile('6.5.0')).kmallocBounce, true);
  });
  test('clean before the device reads, invalidate before the CPU reads', () => {
    const e = engine('arm64-noncoherent', '6.12');
    const m = map(e, d, 0x4100_0000, 65536, FROM);
    assert.deepEqual(m.cache, [{ op: 'clean', via: 'arch', addr: 0x4100_0000, size: 65536, count: 1 }]);
    const u = e.unmap({ call: 'dma_unmap_single', dev: d, cpu: 0, dma: m.dma as number, size: 65536, dir: FROM });
    assert.deepEqual(u.cache, [{ op: 'invalidate', via: 'arch', addr: 0x4100_0000, size: 65536, count: 1 }]);
    const t = map(e, d, 0x4200_0000, 4096, TO);
    const ut = e.unmap({ call: 'dma_unmap_single', dev: d, cpu: 0, dma: t.dma as number, size: 4096, dir: TO });
    assert.deepEqual(ut.cache, [], 'nothing to invalidate after TO_DEVICE');
    const skip = map(e, d, 0x4300_0000, 4096, FROM, DMA_ATTR.SKIP_CPU_SYNC);
    assert.deepEqual(skip.cache, []);
  });
  test('a bounced buffer is cleaned on the bounce buffer, after the copy', () => {
    const e = engine('arm64-noncoherent', '6.12');
    const m = map(e, d, 0x4000_0000, 24, FROM);
    assert.equal(m.result, 'bounced');
    assert.deepEqual(m.cache, [{ op: 'clean', via: 'arch', addr: m.tlbAddr as number, size: 24, count: 1 }]);
  });
});

describe('confidential guests', () => {
  test('SEV: every map bounces; the original carries the C-bit, the bounce buffer does not', () => {
    const e = engine('sev-guest', '6.12', { start: 0x1_e000_0000, nslabs: 32768, nareas: 4, forceBounce: true });
    const r = map(e, dev({ dmaMask: DMA_BIT_MASK(64) }), 0x1_02a3_c000, 4096);
    assert.equal(r.result, 'bounced');
    assert.deepEqual(reasonCodes(r.reasons), ['force']);
    assert.equal(r.dma, 0x1_e000_0000);
    assert.match(r.notes.join(' '), /swiotlb_bounced: dev_addr=800102a3c000 size=4096 FORCE/);
    assert.equal(r.messages[0], 'software IO TLB: Memory encryption is active and system is using DMA bounce buffers');
    assert.equal(map(e, dev({ dmaMask: DMA_BIT_MASK(64) }), 0x1000, 100).messages.length, 0, 'printed once');
    // a 32-bit device in a guest whose pool sits above 4 GiB cannot use its bounce buffers
    assert.ok(map(e, dev(), 0x1000, 100).reasons & Reason.BounceBeyondMask);
    const c = e.allocCoherent('dma_alloc_coherent', dev(), 0, 8192, 0x3000_0000);
    assert.equal(c.result, 'direct');
    assert.equal(c.dma, 0x3000_0000, 'shared (decrypted) pages have no C-bit');
  });
  test('TDX: every map bounces, no encryption bit in addresses', () => {
    const e = engine('tdx-guest', '6.12', { start: 0x1_e000_0000, nslabs: 32768, nareas: 4, forceBounce: true });
    const r = map(e, dev({ dmaMask: DMA_BIT_MASK(64) }), 0x1_02a3_c000, 4096);
    assert.equal(r.result, 'bounced');
    assert.match(r.notes.join(' '), /dev_addr=102a3c000 /);
  });
});

describe('iommu-dma', () => {
  const untrusted = dev({ dmaMask: DMA_BIT_MASK(64), minAlignMask: 0xfff, trusted: false });
  test('untrusted: unaligned buffers bounce, aligned to the IOVA granule', () => {
    const e = engine('iommu-untrusted', '6.12');
    const r = map(e, untrusted, 0x2_a000_1200, 512);
    assert.equal(r.result, 'bounced');
    assert.deepEqual(reasonCodes(r.reasons), ['untrusted']);
    assert.equal(((r.tlbAddr as number) - ((r.tlbAddr as number) % 4096)) % 4096, 0);
    assert.equal((r.tlbAddr as number) % 4096, 0x200, 'the in-page offset kept by min_align_mask');
    assert.equal(r.dma, null, 'the IOVA is not modelled');
    assert.equal(map(e, untrusted, 0x2_a000_0000, 8192).result, 'direct');
  });
  test('trusted devices never bounce', () => {
    assert.equal(map(engine('iommu-untrusted', '6.12'), dev({ dmaMask: DMA_BIT_MASK(64) }), 0x2_a000_1200, 512).result, 'direct');
  });
});

describe('restricted DMA pool', () => {
  test('maps and coherent allocations take slots of the device pool, not the default one', () => {
    const e = engine('arm64', '6.12');
    const d = dev({ dmaMask: DMA_BIT_MASK(32), restrictedPoolSlots: 256, restrictedPoolBase: 0x9c00_0000 });
    const m = map(e, d, 0x8000_0000, 4096);
    assert.equal(m.result, 'bounced');
    assert.deepEqual(reasonCodes(m.reasons), ['force']);
    assert.ok((m.dma as number) >= 0x9c00_0000 && (m.dma as number) < 0x9c08_0000);
    assert.equal(e.mem?.used, 0);
    const a = e.allocCoherent('dma_alloc_coherent', d, 0, 27798);
    assert.equal(a.result, 'bounced');
    assert.equal((a.dma as number) % 32768, 0, '6.9+: aligned to the page order of the size');
  });
});

describe('Xen', () => {
  const pv = (p2m: P2mTable, force = false) =>
    new DmaEngine({
      profile: resolveProfile('6.1'),
      platform: platformById('xen-pv-dom0') as NonNullable<ReturnType<typeof platformById>>,
      pool: { start: 0x3a60_0000, nslabs: 1024, nareas: 2, forceBounce: force },
      xen: { p2m },
    });
  test('PV: DMA addresses are machine addresses; the mask is judged on them', () => {
    // dom0 RAM at machine 6 GiB: every buffer is above a 32-bit mask, though pseudo-physically low
    const e = pv(new P2mTable([{ pfn: 0, mfn: 0x180000, count: 0x40000 }]));
    const low = map(e, dev({ dmaMask: DMA_BIT_MASK(64) }), 0x0100_0800, 1522);
    assert.equal(low.result, 'direct');
    assert.equal(low.dma, 0x1_8100_0800);
    const nic = map(e, dev(), 0x0100_0800, 1522);
    assert.equal(nic.result, 'bounced');
    assert.equal(nic.primaryReason, Reason.BeyondDmaMask);
    assert.equal(nic.dma, 0x1c0000, 'slot 0 is in the first machine extent (low-buddy layout)');
  });
  test('PV: a buffer that is not machine-contiguous bounces (straddle); one page never straddles', () => {
    const e = pv(
      new P2mTable([
        { pfn: 0x8000, mfn: 0x90000, count: 1 },
        { pfn: 0x8001, mfn: 0x8ffff, count: 1 },
      ]),
    );
    const r = map(e, dev(), 0x0800_0c00, 1522);
    assert.equal(r.result, 'bounced');
    assert.deepEqual(reasonCodes(r.reasons), ['xen-straddle']);
    assert.equal(map(e, dev(), 0x0800_0000, 1522).result, 'direct');
  });
  test('PVH / HVM: auto-translated, plain dma-direct', () => {
    const e = engine('xen-pvh', '6.1');
    const r = map(e, dev(), 0x7000_1000, 4096);
    assert.equal(r.result, 'direct');
    assert.equal(r.dma, 0x7000_1000);
  });
  test('arm non-coherent: foreign pages get cache-flush hypercalls, one per 4 KiB page', () => {
    const e = engine('xen-arm64-noncoherent', '6.1');
    const d = dev({ coherent: false });
    const r = e.map({ call: 'dma_map_page', dev: d, cpu: 0, phys: 0x5000_1000, size: 8192, dir: TO, buf: { foreignBus: 0x9e5a_3000 } });
    assert.equal(r.result, 'direct');
    assert.equal(r.dma, 0x9e5a_3000);
    assert.deepEqual(r.cache, [{ op: 'clean', via: 'hypercall', addr: 0x9e5a_3000, size: 8192, count: 2 }]);
    const local = map(e, d, 0x5000_0000, 1514, TO);
    assert.equal(local.cache[0]?.via, 'arch');
  });
  test('arm without the hypercall: foreign pages of non-coherent devices bounce', () => {
    const plat = platformById('xen-arm64-noncoherent') as NonNullable<ReturnType<typeof platformById>>;
    const e = new DmaEngine({
      profile: resolveProfile('6.1'),
      platform: { ...plat, xen: { pv: false, arm: true, cacheFlushHypercall: false } },
      pool: { start: 0x7c00_0000, nslabs: 1024, nareas: 1, forceBounce: false },
    });
    const r = e.map({
      call: 'dma_map_page',
      dev: dev({ coherent: false }),
      cpu: 0,
      phys: 0x5000_1000,
      size: 1514,
      dir: TO,
      buf: { foreignBus: 0x9e5a_3000 },
    });
    assert.equal(r.result, 'bounced');
    assert.deepEqual(reasonCodes(r.reasons), ['xen-arch']);
    const coherent = e.map({
      call: 'dma_map_page',
      dev: dev(),
      cpu: 0,
      phys: 0x5000_1000,
      size: 1514,
      dir: TO,
      buf: { foreignBus: 0x9e5a_3000 },
    });
    assert.equal(coherent.result, 'direct');
  });
  test('xen-swiotlb x86 has no map_resource before 6.18', () => {
    const e = pv(new P2mTable([{ pfn: 0, mfn: 0x80000, count: 0x40000 }]));
    const r = e.mapResource({ call: 'dma_map_resource', dev: dev(), cpu: 0, phys: 0xfe00_0000, size: 4096, dir: BIDI });
    assert.equal(r.result, 'failed');
  });
  test('unmap passes the attrs through: the copy-back happens in the release', () => {
    const e = pv(new P2mTable([{ pfn: 0, mfn: 0x80000, count: 0x40000 }]), true);
    const d = dev({ dmaMask: DMA_BIT_MASK(64) });
    const m = map(e, d, 0x0100_0000, 4096, FROM);
    const u = e.unmap({ call: 'dma_unmap_page', dev: d, cpu: 0, dma: m.dma as number, size: 4096, dir: FROM });
    assert.equal(u.result, 'bounced');
    assert.equal(u.copied, 4096);
    assert.equal(u.nslots, 2);
  });
});
