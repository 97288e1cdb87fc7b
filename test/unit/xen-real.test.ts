/**
 * Real xen-swiotlb runs (Xen 4.17, Linux 6.1.192 PV dom0): the kernel's xen-swiotlb path of the
 * model reproduces every map (decision, reason, DMA address, slot) and every release, from the
 * dom0 P2M dumps and the pool's machine layout.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { type DeviceConfig, DMA_BIT_MASK } from '../../src/model/dma/device';
import { DmaEngine } from '../../src/model/dma/engine';
import { P2mTable, xenLowBuddySegments } from '../../src/model/dma/p2m';
import { platformById } from '../../src/model/dma/platform';
import { resolveProfile } from '../../src/model/profiles';
import { Reason } from '../../src/model/reasons';

const DIR = path.join(__dirname, '..', 'fixtures', 'xen-6.1');
const gz = (f: string) => gunzipSync(fs.readFileSync(path.join(DIR, f))).toString('utf8');

// the devices of the runs (fixture README): PIIX has a 64 KiB segment boundary, NVMe min_align 0xfff
const DEVICES: Record<string, { minAlign: number; boundaryBits: number }> = {
  '0000:00:01.1': { minAlign: 0, boundaryBits: 16 },
  '0000:00:03.0': { minAlign: 0xfff, boundaryBits: 32 },
  '0000:00:04.0': { minAlign: 0, boundaryBits: 32 },
  '0000:00:05.0': { minAlign: 0, boundaryBits: 32 },
};

interface Ev {
  seq: number;
  op: string;
  cpu: number;
  dev: string;
  phys?: string;
  size: number;
  dir: number;
  attrs: string;
  dma_mask?: string;
  coherent_dma_mask?: string;
  bus_dma_limit?: string;
  result?: string;
  reason?: string | null;
  dma_addr: string;
  slot_index?: number;
  alloc_start_slot?: number;
  nslots?: number;
  area?: number;
  area_index_before?: number;
  phase: string;
  exchanged?: boolean;
}

function device(e: Ev): DeviceConfig {
  const d = DEVICES[e.dev] as { minAlign: number; boundaryBits: number };
  const mask = BigInt(e.dma_mask ?? e.coherent_dma_mask ?? DMA_BIT_MASK(64));
  return {
    name: e.dev,
    dmaMask: mask,
    coherentDmaMask: BigInt(e.coherent_dma_mask ?? mask),
    busDmaLimit: BigInt(e.bus_dma_limit ?? 0),
    minAlignMask: d.minAlign,
    segBoundaryBits: d.boundaryBits,
    maxSegSize: 65536,
    coherent: true,
    trusted: true,
    dmaOffset: 0,
    iovaGranule: 4096,
  };
}

const REASON: Record<string, number> = { force: Reason.ForceBounce, mask: Reason.BeyondDmaMask, straddle: Reason.XenStraddle };

function replay(run: string) {
  const summary = JSON.parse(fs.readFileSync(path.join(DIR, `${run}.summary.json`), 'utf8'));
  const events: Ev[] = gz(`${run}.events.jsonl.gz`)
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const bases: number[] = summary.segments_machine.map((m: string) => Number.parseInt(m, 16));
  // P2M snapshots: after device probing, and after each balloon cycle (b_balloon)
  const dumpFor = (phase: string, order: string[]) => {
    if (run !== 'b_balloon') return 'p2m_probed';
    const i = order.indexOf(phase);
    if (i < order.indexOf('balloon_down')) return 'p2m_probed';
    return i < order.indexOf('balloon2_up') ? 'p2m_balloon_restored' : 'p2m_balloon2_restored';
  };
  const phases = [...new Set(events.map((e) => e.phase))];
  const tables = new Map<string, P2mTable>();
  const table = (name: string) => {
    let t = tables.get(name);
    if (!t) {
      t = P2mTable.parse(gz(`${run}.${name}.txt.gz`));
      tables.set(name, t);
    }
    return t;
  };
  const engine = new DmaEngine({
    profile: resolveProfile('6.1'),
    platform: platformById('xen-pv-dom0') as NonNullable<ReturnType<typeof platformById>>,
    pool: {
      start: Number.parseInt(summary.pool.pseudo_phys_base, 16),
      nslabs: summary.pool.nslabs,
      nareas: summary.pool.nareas,
      forceBounce: /swiotlb=\S*force/.test(summary.cmdline),
    },
    xen: { p2m: table('p2m_probed'), segmentBases: bases },
  });
  // the pool was in use during boot before tracing began: each area's index from its first traced search
  const seen = new Set<number>();
  for (const e of events) {
    if (e.op === 'map' && e.result === 'bounced' && e.area !== undefined && !seen.has(e.area)) {
      seen.add(e.area);
      (engine.mem as NonNullable<typeof engine.mem>).pool.areaIndex[e.area] = e.area_index_before as number;
    }
  }
  // coherent allocations are decided on the P2M before their own exchanges: the boot snapshot
  const bootEngine = new DmaEngine({
    profile: resolveProfile('6.1'),
    platform: platformById('xen-pv-dom0') as NonNullable<ReturnType<typeof platformById>>,
    pool: null,
    xen: { p2m: table('p2m_boot'), segmentBases: bases },
  });
  let current = 'p2m_probed';
  const stats = {
    maps: 0,
    matched: 0,
    bounced: 0,
    direct: 0,
    byReason: {} as Record<string, number>,
    releases: 0,
    releasesMatched: 0,
    allocs: 0,
    allocsMatched: 0,
  };
  const mismatches: string[] = [];
  for (const e of events) {
    const want = dumpFor(e.phase, phases);
    if (want !== current) {
      engine.setXenP2m(table(want));
      current = want;
    }
    if (e.op === 'map') {
      stats.maps++;
      const d = engine.map({
        call: 'map',
        dev: device(e),
        cpu: e.cpu,
        phys: Number.parseInt(e.phys as string, 16),
        size: e.size,
        dir: e.dir,
        attrs: Number.parseInt(e.attrs, 16),
      });
      const ok =
        d.result === e.result &&
        (e.result !== 'bounced' || d.primaryReason === REASON[e.reason as string]) &&
        d.dma === Number.parseInt(e.dma_addr, 16) &&
        (e.result !== 'bounced' || d.slot === e.slot_index);
      if (ok) stats.matched++;
      else if (mismatches.length < 5)
        mismatches.push(
          `seq ${e.seq}: got ${d.result} ${d.primaryReason} ${d.dma?.toString(16)} slot ${d.slot}; want ${e.result} ${e.reason} ${e.dma_addr} slot ${e.slot_index}`,
        );
      if (d.result === 'bounced') {
        stats.bounced++;
        stats.byReason[e.reason as string] = (stats.byReason[e.reason as string] ?? 0) + 1;
      } else stats.direct++;
    } else if (e.op === 'unmap') {
      const d = engine.unmap({
        call: 'unmap',
        dev: device(e),
        cpu: e.cpu,
        dma: Number.parseInt(e.dma_addr, 16),
        size: e.size,
        dir: e.dir,
        attrs: Number.parseInt(e.attrs, 16),
      });
      if (e.result === 'bounced') {
        stats.releases++;
        if (d.result === 'bounced' && d.nslots === e.nslots && d.slot === e.alloc_start_slot) stats.releasesMatched++;
        else if (mismatches.length < 5)
          mismatches.push(`unmap seq ${e.seq}: freed ${d.nslots} at ${d.slot}, want ${e.nslots} at ${e.alloc_start_slot}`);
      } else if (d.result !== 'direct' && mismatches.length < 5) mismatches.push(`unmap seq ${e.seq}: ${d.result}, want direct`);
    } else if (e.op === 'alloc_coherent') {
      stats.allocs++;
      const d = bootEngine.allocCoherent('dma_alloc_coherent', device(e), e.cpu, e.size, Number.parseInt(e.phys as string, 16));
      const exchanged = d.reasons !== 0;
      // an allocation that is not exchanged keeps its pages: their machine address now
      const dma = engine.hooks.physToBus(Number.parseInt(e.phys as string, 16));
      if (exchanged === e.exchanged && (exchanged || dma === Number.parseInt(e.dma_addr, 16))) stats.allocsMatched++;
      else if (mismatches.length < 5)
        mismatches.push(`alloc seq ${e.seq}: exchanged ${exchanged} dma ${dma?.toString(16)}; want ${e.exchanged} ${e.dma_addr}`);
    }
  }
  return { stats, mismatches, bases };
}

describe('xen-swiotlb in a real PV dom0, map by map', () => {
  test('f_force: 9004 forced bounces, every DMA address and slot', () => {
    const { stats, mismatches } = replay('f_force');
    assert.deepEqual(mismatches, []);
    assert.equal(stats.maps, 9004);
    assert.equal(stats.matched, 9004);
    assert.deepEqual(stats.byReason, { force: 9004 });
    assert.equal(stats.releasesMatched, stats.releases);
    assert.equal(stats.releases, 8749);
  });
  test('b_balloon: direct maps through a ballooned P2M, 381 straddle bounces', () => {
    const { stats, mismatches } = replay('b_balloon');
    assert.deepEqual(mismatches, []);
    assert.equal(stats.maps, 12850);
    assert.equal(stats.matched, 12850);
    assert.equal(stats.direct, 12469);
    assert.deepEqual(stats.byReason, { straddle: 381 });
    assert.equal(stats.releasesMatched, stats.releases);
  });
  test('s_small: a 1024-slot pool under parallel O_DIRECT', () => {
    const { stats, mismatches } = replay('s_small');
    assert.deepEqual(mismatches, []);
    assert.equal(stats.matched, 1520);
    assert.equal(stats.releasesMatched, stats.releases);
  });
  test('coherent allocations: exchanged exactly when the kernel exchanged them', () => {
    for (const run of ['f_force', 'b_balloon', 's_small']) {
      const { stats } = replay(run);
      assert.equal(stats.allocsMatched, stats.allocs, run);
    }
  });
  test("the pool's machine layout is Xen's low-memory buddy order", () => {
    for (const run of ['f_force', 's_small']) {
      const { bases } = replay(run);
      assert.deepEqual(xenLowBuddySegments(bases.length), bases);
    }
  });
});
