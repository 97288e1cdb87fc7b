/**
 * The three real Linux 6.1.192 runs, analysed from their raw traces and logs: counts, pool
 * geometry and peak occupancy equal the runs' ground truth (summary.json); every placement the
 * kernel made is predicted by the 6.1 profile except the one map whose search raced with the
 * other CPU; the mainline allocator disagrees wherever NVMe's min_align_mask is in play; and the
 * trace yields exactly the replay ops of the same run (ops.jsonl).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { TraceOp } from '../../src/trace/analyzer';
import { buildReport, type TextReport } from '../../src/trace/report';
import { analyzeText } from '../../src/trace/run';

const FIX = path.join(__dirname, '..', 'fixtures', 'kernel-6.1');
const RUNS = ['a_force_smp2', 'b_small_pool_smp2', 'c_natural_6g'] as const;

interface Summary {
  pool: { pool_base: string; nslabs: number; nareas: number };
  counts: { bounced: number; map: number; unmap: number; full?: number };
  max_total_used_slots: number;
  max_used_per_area: Record<string, number>;
  dmesg_buffer_full_lines?: number;
}

function summary(run: string): Summary {
  return JSON.parse(gunzipSync(fs.readFileSync(path.join(FIX, `${run}.summary.json.gz`))).toString('utf8')) as Summary;
}

/** "0xffff" -> 16; absent (the file's default 2^64-1) -> 64. */
function boundaryBits(v: unknown): number {
  return typeof v === 'string' ? BigInt(v).toString(2).length : 64;
}

const reports = new Map<string, TextReport>();
async function report(run: string): Promise<TextReport> {
  let r = reports.get(run);
  if (!r) {
    r = buildReport(await analyzeText([path.join(FIX, run)]));
    reports.set(run, r);
  }
  return r;
}

describe('real 6.1.192 runs: trace + dmesg + command line', () => {
  for (const run of RUNS) {
    test(`${run}: counts, pool and peak occupancy equal the run's truth`, async () => {
      const t = summary(run);
      const r = await report(run);
      assert.equal(r.input.kind, 'trace+log');
      assert.equal(r.input.events, 'swiotlb probes (in-lock)');
      assert.equal(r.kernel.profile, '6.1.192', 'the profile comes from the "Linux version ... Debian 6.1.192" line');
      assert.equal(r.pool.base, t.pool.pool_base);
      assert.equal(r.pool.nslabs, t.pool.nslabs);
      assert.equal(r.pool.nareas, t.pool.nareas);
      assert.equal(r.counts.maps, t.counts.bounced, 'map attempts: one swiotlb_tbl_map_single each');
      assert.equal(r.counts.bounced_maps, t.counts.map);
      assert.equal(r.counts.failed, t.counts.full ?? 0);
      assert.equal(r.counts.unmaps, t.counts.unmap);
      assert.equal(r.counts.bounced, t.counts.bounced);
      assert.equal(r.occupancy.peak_slots, t.max_total_used_slots);
      assert.deepEqual(
        r.occupancy.peak_area_slots,
        Object.keys(t.max_used_per_area)
          .sort()
          .map((k) => t.max_used_per_area[k]),
      );
      assert.equal(r.occupancy.final_slots, 0);
      assert.equal(r.log.full_messages, t.dmesg_buffer_full_lines ?? 0);
      assert.deepEqual(r.diagnostics, []);
    });

    test(`${run}: the 6.1 profile predicts every placement but the raced one`, async () => {
      const r = await report(run);
      const six = r.check.profiles.find((p) => p.name === '6.1.192');
      assert.ok(six);
      assert.equal(r.check.compared, r.counts.maps, 'every map and every failure compared');
      assert.equal(six.lost, 0);
      assert.equal(six.mismatches, 0);
      assert.equal(six.races, run === 'b_small_pool_smp2' ? 1 : 0);
      assert.equal(r.check.matched, r.check.compared - six.races);
      assert.ok(r.check.fits.includes('6.1.192'), `fits: ${r.check.fits.join(', ')}`);
      if (run !== 'c_natural_6g') assert.deepEqual(r.check.fits, ['6.1.192'], 'NVMe tells 6.1 from every other allocator');
    });
  }

  test('mainline predicts only 14-49 % where NVMe min_align_mask is in play, and all of the PIIX run', async () => {
    for (const run of ['a_force_smp2', 'b_small_pool_smp2']) {
      const m = (await report(run)).check.profiles.find((p) => p.name === 'mainline');
      assert.ok(m && m.agreement_percent >= 14 && m.agreement_percent <= 49, `${run}: mainline ${m?.agreement_percent} %`);
    }
    const c = (await report('c_natural_6g')).check.profiles.find((p) => p.name === 'mainline');
    assert.equal(c?.agreement_percent, 100, 'no min_align_mask on PIIX: the allocators agree');
  });

  test('b: the failures, their causes and the sizing advice', async () => {
    const r = await report('b_small_pool_smp2');
    assert.deepEqual(r.failures.by_cause, { fragmented: 11, 'pool-full': 1 });
    assert.equal(r.log.full_messages, 7);
    assert.ok(r.conclusions.some((c) => /7 "buffer is full" message\(s\) for 12 failed maps/.test(c)));
    assert.ok(r.sizing);
    assert.equal(r.sizing.current_slots, 512);
    assert.equal(r.sizing.enough_slots, 1024);
    assert.match(r.sizing.advice, /^swiotlb=1024,force \(2 MiB\)/);
    // a smaller pool than the one chosen still fails: the advice is the smallest one tried
    assert.ok(r.sizing.tried.every((t) => (t.nslabs < 1024 ? t.failures > 0 : t.failures === 0)));
  });

  test('c: nothing is forced; buffers above 4 GiB bounce because of the 32-bit mask', async () => {
    const r = await report('c_natural_6g');
    assert.equal(r.counts.bounced_forced, 0);
    const piix = r.devices.find((d) => d.name === '0000:00:01.1');
    assert.ok(piix);
    assert.equal(piix.beyond_dma_mask, 1625);
    assert.equal(piix.dma_mask, '0xffffffff');
  });
});

describe("the trace yields the same ops as the run's ops.jsonl", () => {
  for (const run of RUNS) {
    test(run, async () => {
      const got: TraceOp[] = [];
      await analyzeText([path.join(FIX, run)], { onOp: (o) => got.push(o), noSizing: true });
      const lines = gunzipSync(fs.readFileSync(path.join(FIX, `${run}.ops.jsonl.gz`)))
        .toString('utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(got.length, lines.length);
      for (let i = 0; i < lines.length; i++) {
        const want = lines[i] as Record<string, unknown>;
        const op = got[i] as TraceOp;
        const at = `op ${i + 1}`;
        assert.equal(op.op, want.op, at);
        assert.equal(op.id, want.id, at);
        if (op.op !== 'map') continue;
        const expect = want.expect as { ok: boolean; index?: number };
        assert.deepEqual(
          [op.cpu, op.dev, `0x${op.origAddr.toString(16)}`, op.size, `0x${op.minAlignMask.toString(16)}`, op.boundaryBits, op.ok],
          [
            want.cpu,
            want.dev,
            want.orig,
            want.size,
            (want.min_align as string | undefined) ?? '0x0',
            boundaryBits(want.boundary),
            expect.ok,
          ],
          at,
        );
        assert.equal(['BIDIRECTIONAL', 'TO_DEVICE', 'FROM_DEVICE', 'NONE'][op.dir], want.dir, at);
        if (expect.ok) assert.equal(op.index, expect.index, at);
        assert.equal(op.raced, want.race === true, `${at}: race flag`);
      }
    });
  }
});

describe('geometry sources', () => {
  test('the trace alone: pool start from the events, areas from #P; --cmdline gives the size', async () => {
    const trace = path.join(FIX, 'b_small_pool_smp2', 'trace.txt.gz');
    const alone = buildReport(await analyzeText([trace], { noSizing: true }));
    assert.equal(alone.input.kind, 'trace');
    assert.equal(alone.pool.base, '0x7d500000');
    assert.match(alone.pool.sources.base, /pool base in the events/);
    assert.equal(alone.pool.nareas, 2);
    assert.match(alone.pool.sources.nareas, /#P:2/);
    assert.equal(alone.pool.nslabs, 32768, 'without a log or --cmdline the default size is assumed, and said');
    assert.match(alone.pool.sources.nslabs, /default/);
    assert.equal(alone.kernel.profile, '6.1');
    assert.match(alone.kernel.source, /default/);
    const opt = buildReport(await analyzeText([trace], { cmdline: 'swiotlb=512,force', noSizing: true }));
    assert.equal(opt.pool.nslabs, 512);
    assert.equal(opt.pool.sources.nslabs, '--cmdline');
    assert.equal(opt.occupancy.peak_slots, 512);
    assert.deepEqual(opt.occupancy.peak_area_slots, [256, 256]);
  });
});
