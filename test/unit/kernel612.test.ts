/**
 * The four real Linux 6.12.117 runs (Debian trixie, QEMU; test/fixtures/kernel-6.12), analysed
 * by `analyze --json` as a user would: the full trace (probes + dma:* events) with its log, and
 * the dma:* events alone (trace_dma_only), with and without the log. The oracle is each run's
 * truth.json, recorded in the kernel under the area lock: counts, geometry, pool start, the slot
 * of every map, bytes copied (derived from the probes), peak occupancy.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { TraceOp } from '../../src/trace/analyzer';
import type { TextReport } from '../../src/trace/report';
import { analyzeText } from '../../src/trace/run';
import { cli } from './cli-helpers';

const DIR = path.join('test', 'fixtures', 'kernel-6.12');
const RUNS = ['force_smp2', 'natural_6g', 'small_pool_6g_smp2', 'small_pool_smp2'] as const;
type Run = (typeof RUNS)[number];
type Mode = 'full' | 'dma' | 'dma+log';
const MODES: readonly Mode[] = ['full', 'dma', 'dma+log'];

interface Truth {
  nslabs: number;
  nareas: number;
  area_nslabs: number;
  pool_base: string;
  dmesg_mapped: string | null;
  maps: number;
  bounced_ok: number;
  failed: number;
  unmaps: number;
  peak_slots: number;
  peak_slots_dma_order: number;
  race: number;
  swiotlb_bounced_events: number;
  dma_events_view: {
    maps_ok_with_dma_map_event: number;
    maps_ok_without_dma_map_event: number;
    failed_visible_as_dma_map_page_error: number;
    direct_map_entries: number;
    unmatched_bounced_events: number;
    failed_lower_bound: number;
    unmaps_visible: number;
    maps_ambiguous_from_dma_events: number;
  };
  bytes_copied_derived: { at_map: number; at_unmap: number };
  devices: Record<string, { maps: number; failed: number; min_align: string; boundary: string }>;
  /** [id, tlb_addr | null, index, nslots, cpu, dev, size], in the kernel's in-lock order. */
  maps_list: [number, string | null, number, number, number, string, number][];
}

const truths = new Map<Run, Truth>();
function truth(run: Run): Truth {
  let t = truths.get(run);
  if (!t) {
    t = JSON.parse(gunzipSync(fs.readFileSync(path.join(DIR, `${run}.truth.json.gz`))).toString('utf8')) as Truth;
    truths.set(run, t);
  }
  return t;
}

function args(run: Run, mode: Mode): string[] {
  const dma = path.join(DIR, `${run}.trace_dma_only.txt.gz`);
  if (mode === 'full') return [path.join(DIR, run)];
  return mode === 'dma' ? [dma] : [dma, path.join(DIR, run, 'dmesg.txt.gz')];
}

const reports = new Map<string, TextReport>();
async function report(run: Run, mode: Mode): Promise<TextReport> {
  const key = `${run} ${mode}`;
  let r = reports.get(key);
  if (!r) {
    const res = await cli('analyze', ...args(run, mode), '--json');
    assert.equal(res.code, 0, res.err);
    r = JSON.parse(res.out) as TextReport;
    reports.set(key, r);
  }
  return r;
}

const DRIVERS: Record<string, string> = { '0000:00:03.0': 'nvme', '0000:00:04.0': 'ahci', '0000:00:01.1': 'ata_piix' };

describe('real 6.12.117 runs: analyze, full trace and dma:* events with and without the log', () => {
  for (const run of RUNS) {
    for (const mode of MODES) {
      const dmaOnly = mode !== 'full';
      const withLog = mode !== 'dma';

      test(`${run} ${mode}: profile, geometry and pool start`, async () => {
        const t = truth(run);
        const r = await report(run, mode);
        assert.equal(r.input.events, dmaOnly ? 'dma:* events' : 'swiotlb probes (in-lock)');
        if (withLog) {
          assert.equal(r.kernel.profile, '6.12.117');
          assert.match(r.kernel.source, /log "Linux version"/);
        } else {
          assert.equal(r.kernel.profile, 'mainline', 'a trace of dma:* events is 6.12 or later');
          assert.match(r.kernel.source, /^dma:\* events \(a 6\.12 or later kernel, .*:\d+\)/);
        }
        assert.equal(r.pool.base, t.pool_base);
        assert.equal(r.pool.nslabs, t.nslabs);
        assert.equal(r.pool.nareas, t.nareas);
        assert.equal(r.pool.area_nslabs, t.area_nslabs);
        const stated = (withLog && t.dmesg_mapped !== null) || !dmaOnly;
        if (stated) assert.equal(r.pool.base_certainty, 'stated');
        else {
          assert.ok(r.pool.base_certainty === 'sure' || r.pool.base_certainty === 'likely', String(r.pool.base_certainty));
          assert.match(r.pool.sources.base, /^inferred \((sure|likely)\): the first bounces of area 0 .* and area 1 /);
        }
        assert.doesNotMatch(r.check.note, /give the boot log/);
      });

      test(`${run} ${mode}: maps, failures and unmaps`, async () => {
        const t = truth(run);
        const v = t.dma_events_view;
        const r = await report(run, mode);
        const c = r.counts;
        assert.equal(c.bounced, t.swiotlb_bounced_events);
        if (!dmaOnly) {
          assert.equal(c.maps, t.maps);
          assert.equal(c.bounced_maps, t.bounced_ok);
          assert.equal(c.failed, t.failed);
          assert.equal(c.unmaps, t.unmaps);
          assert.equal(r.failures.range, null);
          return;
        }
        // every attempt has its swiotlb_bounced: those without a map event are counted as maps
        assert.equal(c.maps - c.direct, t.maps, 'map attempts through the pool');
        assert.equal(c.direct, v.direct_map_entries);
        assert.equal(c.maps_without_event, v.unmatched_bounced_events);
        assert.equal(c.bounced_maps, v.maps_ok_with_dma_map_event);
        assert.equal(c.failed, v.failed_visible_as_dma_map_page_error);
        assert.equal(c.unmaps, v.unmaps_visible);
        const fr = r.failures.range;
        if (v.unmatched_bounced_events === 0) {
          assert.equal(fr, null);
          assert.equal(c.failed, t.failed);
          assert.equal(c.unmaps, t.unmaps);
          return;
        }
        assert.ok(fr);
        assert.equal(fr.min, v.failed_lower_bound, 'the bound the truth derives the same way');
        assert.ok(fr.min <= t.failed && t.failed <= fr.max, `${fr.min} <= ${t.failed} <= ${fr.max}`);
        assert.ok(fr.min <= fr.likely && fr.likely <= fr.max);
        assert.ok(Math.abs(fr.likely - t.failed) <= 1, `likely ${fr.likely}, kernel ${t.failed}`);
        const rolledBack = t.unmaps - c.unmaps;
        assert.ok(fr.rolled_back.min <= rolledBack && rolledBack <= fr.rolled_back.max);
        assert.ok(r.conclusions.some((x) => /have no dma_map_\* event after them .* Failures: between/.test(x)));
      });

      test(`${run} ${mode}: placements as the kernel chose them`, async () => {
        const t = truth(run);
        const r = await report(run, mode);
        const p = r.check.profiles[0];
        assert.ok(p);
        assert.equal(p.name, r.kernel.profile);
        assert.ok(r.check.fits.includes(p.name), `fits ${r.check.fits.join(', ')}`);
        // 6.12.117 allocates as mainline does: the check leaves mainline out as its twin
        if (p.name !== 'mainline') assert.ok(!r.check.profiles.some((x) => x.name === 'mainline'));
        assert.equal(p.mismatches, 0, JSON.stringify(p.first_misses));
        assert.equal(p.lost, 0);
        assert.equal(p.warmups, 0);
        assert.equal(p.agreement_percent, 100);
        if (!dmaOnly) {
          assert.equal(p.compared, t.maps);
          assert.equal(p.races, t.race);
          assert.equal(p.dma_order, 0);
          assert.equal(p.matched, t.maps - t.race);
        } else {
          assert.equal(p.races, 0, 'dma:* events cannot show a race');
          assert.equal(p.matched + p.dma_order, p.compared);
          assert.ok(p.dma_order <= t.dma_events_view.maps_ambiguous_from_dma_events);
          // shown apart, with the first of them
          assert.equal(p.first_dma_order.length, Math.min(p.dma_order, 5));
          if (p.dma_order) assert.match(r.check.note, /where the dma:\* order may not be the allocator's/);
        }
        if (run === 'natural_6g') assert.deepEqual([p.matched, p.compared], [2494, 2494]);
        if (run !== 'natural_6g') {
          // NVMe's min_align_mask tells the allocators apart
          const six = r.check.profiles.find((x) => x.name === '6.1');
          assert.ok(six && six.agreement_percent < 90, `6.1: ${six?.agreement_percent} %`);
        }
      });

      test(`${run} ${mode}: devices, bytes copied and peak`, async () => {
        const t = truth(run);
        const r = await report(run, mode);
        for (const [name, td] of Object.entries(t.devices)) {
          const d = r.devices.find((x) => x.name === name);
          assert.ok(d, name);
          assert.equal(d.min_align_mask, td.min_align, `${name} min_align_mask`);
          assert.equal(d.segment_boundary, td.boundary, `${name} segment boundary`);
          if (withLog) assert.equal(d.driver, DRIVERS[name], 'the driver that printed, not the PCI core');
          else assert.equal(d.driver, null);
          if (!dmaOnly) {
            assert.equal(d.maps, td.maps);
            assert.equal(d.failed, td.failed);
          }
        }
        const piix = r.devices.find((x) => x.name === '0000:00:01.1');
        if (piix) assert.equal(piix.segment_boundary_source, !dmaOnly ? 'probe' : withLog ? 'driver' : 'inferred');
        const nvme = r.devices.find((x) => x.name === '0000:00:03.0');
        if (nvme) assert.equal(nvme.min_align_source, !dmaOnly ? 'probe' : 'inferred');
        for (const f of r.failures.first) if (withLog) assert.match(f.message, /^(nvme|ahci) 0000:/);

        const b = t.bytes_copied_derived;
        const o = r.occupancy;
        if (!dmaOnly || t.dma_events_view.unmatched_bounced_events === 0) {
          assert.deepEqual([r.copies.at_map, r.copies.at_unmap], [b.at_map, b.at_unmap]);
        } else {
          // the entries rolled back without events copied too
          assert.ok(r.copies.at_map < b.at_map && r.copies.at_map > 0.95 * b.at_map);
          assert.ok(r.copies.at_unmap < b.at_unmap && r.copies.at_unmap > 0.95 * b.at_unmap);
        }
        if (!dmaOnly) {
          assert.equal(o.peak_slots, t.peak_slots);
          assert.equal(o.peak_lower_bound, false);
        } else {
          assert.equal(o.peak_slots, t.peak_slots_dma_order);
          assert.ok((o.peak_slots ?? 0) <= t.peak_slots);
          assert.equal(o.peak_lower_bound, t.dma_events_view.unmatched_bounced_events > 0);
        }
      });
    }
  }

  test('the event formats decide the profile too, and say so', async () => {
    const res = await cli('analyze', path.join(DIR, 'natural_6g.trace_dma_only.txt.gz'), path.join(DIR, 'event_formats.txt.gz'), '--json');
    const r = JSON.parse(res.out) as TextReport;
    assert.equal(r.kernel.profile, 'mainline');
    assert.match(r.kernel.source, /defined in the event formats of .*event_formats\.txt\.gz/);
    assert.ok(r.input.files.some((f) => f.role === 'event-formats'));
    assert.deepEqual(r.diagnostics, []);
  });

  test('a log naming a kernel before 6.12 next to dma:* events: said, the log still decides', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k612-'));
    const log = path.join(dir, 'old.log');
    fs.writeFileSync(
      log,
      '[    0.000000] Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-1\n',
    );
    try {
      const res = await cli('analyze', path.join(DIR, 'natural_6g.trace_dma_only.txt.gz'), log, '--json');
      const r = JSON.parse(res.out) as TextReport;
      assert.equal(r.kernel.profile, '6.1.192');
      assert.ok(r.conclusions.some((c) => /names kernel 6\.1\.192 .* but it has dma:\* events .* from 6\.12 on/.test(c)));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the full trace's placements are the kernel's, map by map (truth maps_list)", async () => {
    for (const run of RUNS) {
      const ops: TraceOp[] = [];
      await analyzeText([path.join(DIR, run)], { onOp: (op) => ops.push(op), noSizing: true });
      const maps = ops.filter((o): o is Extract<TraceOp, { op: 'map' }> => o.op === 'map');
      const kernel = truth(run).maps_list;
      assert.equal(maps.length, kernel.length, run);
      const seen = maps.map((m) => (m.ok ? m.tlbAddr : null));
      const want = kernel.map((k) => (k[1] === null ? null : Number(k[1])));
      assert.deepEqual(seen, want, run);
    }
  });

  test('dma:* events alone: every bounce address is one the kernel chose', async () => {
    for (const run of RUNS) {
      const ops: TraceOp[] = [];
      await analyzeText([path.join(DIR, `${run}.trace_dma_only.txt.gz`)], { onOp: (op) => ops.push(op), noSizing: true });
      const chosen = new Set(truth(run).maps_list.map((k) => k[1]));
      const bounced = ops.filter((o) => o.op === 'map' && o.ok) as Extract<TraceOp, { op: 'map' }>[];
      assert.equal(bounced.length, truth(run).dma_events_view.maps_ok_with_dma_map_event);
      for (const m of bounced) assert.ok(chosen.has(`0x${m.tlbAddr.toString(16)}`), `${run}: 0x${m.tlbAddr.toString(16)}`);
    }
  });
});
