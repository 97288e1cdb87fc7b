/**
 * A real Linux 7.x capture: the shipped capture script (media/capture/swiotlb-capture.sh, its dma:*
 * path) inside Debian sid's 7.2.13+deb14-amd64 under QEMU, swiotlb=512,force (a 1 MiB pool) on 2
 * CPUs, NVMe + AHCI (test/fixtures/kernel-7.x, README there; `npm run test:kernel -- --kernel 7`
 * records it again). Beside the capture the lab recorded, with its own probes under the area lock,
 * the slot the kernel chose for every map (small_pool_smp2.ops.jsonl.gz, the replay format, the
 * kernel's answers in "expect") and the counts (small_pool_smp2.summary.json). Those are the
 * oracle: the analysis of the capture, and the mainline profile, are checked against the kernel.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { resolveProfile } from '../../src/model/profiles';
import { runReplay } from '../../src/replay/run';
import { cli } from './cli-helpers';

const DIR = path.join(__dirname, '..', 'fixtures', 'kernel-7.x');
const RUN = path.join(DIR, 'small_pool_smp2');
const OPS = path.join(DIR, 'small_pool_smp2.ops.jsonl.gz');
const truth = JSON.parse(fs.readFileSync(path.join(DIR, 'small_pool_smp2.summary.json'), 'utf8'));

interface Analysis {
  input: { kind: string; events: string };
  kernel: { profile: string; source: string };
  pool: { nslabs: number; nareas: number; base: string | null };
  counts: { maps: number; failed: number; unmaps: number; bounced: number };
  occupancy: { peak_slots: number; live_at_end: number };
  failures: { range: { min: number; max: number; likely: number } | null };
  check: {
    fits: string[];
    profiles: { name: string; matched: number; compared: number; mismatches: number; warmups: number; lost: number }[];
  };
  diagnostics: { file: string; line: number; message: string }[];
}

let analysis: Analysis | undefined;
async function analyze(): Promise<Analysis> {
  if (!analysis) {
    const r = await cli('analyze', RUN, '--json');
    assert.equal(r.code, 0, r.err);
    analysis = JSON.parse(r.out) as Analysis;
  }
  return analysis;
}

/** The kernel's answer for every map of the truth file, in the kernel's order. */
function truthMaps(): { ok: boolean; tlb: number; race: boolean }[] {
  const out: { ok: boolean; tlb: number; race: boolean }[] = [];
  for (const line of gunzipSync(fs.readFileSync(OPS)).toString('utf8').split('\n')) {
    if (!line.startsWith('{"op":"map"')) continue;
    const o = JSON.parse(line) as { expect: { ok: boolean; tlb_addr?: string }; race?: boolean };
    out.push({ ok: o.expect.ok, tlb: o.expect.ok ? Number(o.expect.tlb_addr) : -1, race: o.race === true });
  }
  return out;
}

/** The capture's own lines, read here without the analyzer: bounce addresses and swiotlb_bounced count. */
function captureEvents(): { bounced: number; tlbs: number[]; poolBase: number[] } {
  const text = gunzipSync(fs.readFileSync(path.join(RUN, 'trace.txt.gz'))).toString('utf8');
  const tlbs: number[] = [];
  const poolBase: number[] = [];
  let bounced = 0;
  for (const line of text.split('\n')) {
    const m = /^\s*.+?\[\d+\]\s+\S+\s+\d+: (\w+): (.*)$/.exec(line);
    if (!m) continue;
    const [, ev, rest] = m as unknown as [string, string, string];
    if (ev === 'swiotlb_bounced') bounced++;
    else if (ev === 'pool_base') poolBase.push(Number(/pool=(0x[0-9a-f]+)/.exec(rest)?.[1]));
    else if (ev === 'dma_map_phys') {
      const a = /dma_addr=([0-9a-f]+)/.exec(rest)?.[1] as string;
      if (a !== 'ffffffffffffffff') tlbs.push(Number.parseInt(a, 16));
    } else if (ev === 'dma_map_sg') {
      for (const a of (/dma_addrs=\{([^}]*)\}/.exec(rest)?.[1] ?? '').split(',')) if (a) tlbs.push(Number(a));
    }
  }
  return { bounced, tlbs, poolBase };
}

describe("Linux 7.2.13 capture (dma:* path) against the kernel's in-lock placements", () => {
  test('the fixture is what its summary says: a 512-slot pool in 2 areas, maps that failed', () => {
    assert.match(truth.kernel, /^Linux version 7\.2\.13\+deb14-amd64 /);
    assert.deepEqual(truth.pool, { base: '0x7d500000', nslabs: 512, nareas: 2, area_nslabs: 256 });
    assert.equal(truth.problems.length, 0);
    const maps = truthMaps();
    assert.equal(maps.length, truth.counts.maps);
    assert.equal(maps.filter((m) => !m.ok).length, truth.counts.failed);
    assert.ok(truth.counts.failed > 0, 'the small pool made maps fail');
  });

  test('the capture packed one swiotlb_bounced per map attempt the kernel made, and the pool start once', () => {
    const c = captureEvents();
    assert.equal(c.bounced, truth.counts.in_capture.maps);
    assert.deepEqual(c.poolBase, [Number(truth.pool.base)], 'one pool_base event, read from debugfs, not one per bounce');
  });

  test("every bounce address in the capture's dma:* events is a slot the kernel chose", () => {
    const left = new Map<number, number>();
    for (const m of truthMaps()) if (m.ok) left.set(m.tlb, (left.get(m.tlb) ?? 0) + 1);
    const { tlbs } = captureEvents();
    assert.ok(tlbs.length > 1000);
    const unknown: string[] = [];
    for (const t of tlbs) {
      const n = left.get(t) ?? 0;
      if (n === 0) unknown.push(t.toString(16));
      else left.set(t, n - 1);
    }
    assert.deepEqual(unknown.slice(0, 5), []);
  });

  test('the mainline profile replays every placement of the kernel (races apart); 6.1 does not', async () => {
    const mismatches: string[] = [];
    let races = 0;
    const run = await runReplay(OPS, {
      kernel: 'mainline',
      check: true,
      onOp(o) {
        if (o.mismatch) mismatches.push(o.mismatch);
        if (o.race) races++;
      },
    });
    assert.deepEqual(mismatches.slice(0, 5), []);
    assert.ok(races <= truth.counts.races);
    const st = run.replayer.stats;
    assert.equal(st.compared, truth.counts.maps);
    assert.equal(st.matched + races, st.compared);
    assert.equal(run.replayer.pool.totalUsed, 0);

    let wrong = 0;
    await runReplay(OPS, {
      kernel: '6.1',
      check: true,
      onOp(o) {
        if (o.mismatch) wrong++;
      },
    });
    assert.ok(wrong > truth.counts.maps / 10, `6.1's allocator should not fit 7.x (${wrong} mismatches)`);
  });

  test('analyze picks the mainline family from the capture itself and its placements fit it', async () => {
    const j = await analyze();
    assert.equal(j.input.kind, 'trace+log');
    assert.equal(j.input.events, 'dma:* events');
    assert.equal(resolveProfile(j.kernel.profile).family, resolveProfile('mainline').family, j.kernel.profile);
    assert.match(j.kernel.source, /7\.2\.13/);
    assert.equal(j.pool.nslabs, truth.pool.nslabs);
    assert.equal(j.pool.nareas, truth.pool.nareas);
    assert.equal(Number(j.pool.base), Number(truth.pool.base));
    assert.ok(j.check.fits.includes(j.kernel.profile), `fits ${j.check.fits}`);
    const own = j.check.profiles.find((p) => p.name === j.kernel.profile);
    assert.ok(own);
    assert.equal(own.lost, 0);
    // mispredictions only where the kernel raced or where the dma:* events miss slots (entries of a
    // scatterlist rolled back without events, at most one per failed attempt)
    assert.ok(own.mismatches <= truth.counts.races + truth.counts.in_capture.failed, `${own.mismatches} mispredicted`);
    const six = j.check.profiles.find((p) => p.name === '6.1');
    assert.ok(six && six.mismatches > six.compared / 10, '6.1 is told apart');
    assert.ok(!j.check.fits.includes('6.1'));
    assert.equal(j.occupancy.peak_slots, truth.peak_slots);
    assert.equal(j.occupancy.live_at_end, 0);
    assert.equal(j.counts.bounced, truth.counts.in_capture.maps);
  });

  test('failures: the analysis never reports more than the kernel had', async () => {
    const j = await analyze();
    assert.ok(j.counts.failed >= 1 && j.counts.failed <= truth.counts.in_capture.failed, `${j.counts.failed}`);
    assert.ok(j.counts.maps <= truth.counts.in_capture.maps);
  });

  test("map attempts equal the kernel's; its failures lie in the range the events prove", async () => {
    const j = await analyze();
    assert.equal(j.counts.maps, truth.counts.in_capture.maps);
    // scatterlists failing part-way leave only swiotlb_bounced: failures are a range (issue 12)
    const fr = j.failures.range;
    assert.ok(fr, 'a range');
    const failed = truth.counts.in_capture.failed;
    assert.ok(fr.min <= failed && failed <= fr.max, `${fr.min} <= ${failed} <= ${fr.max}`);
    assert.equal(fr.likely, failed);
  });
});
