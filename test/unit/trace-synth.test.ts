/**
 * Synthetic dma:* traces generated from the model round-trip: the analysis finds the
 * generator's counts and occupancy exactly, and the generating profile predicts every placement,
 * in ftrace and trace-cmd layouts, with seconds or a counter clock, both dma_map_sg formats,
 * CRLF line ends and gzip.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { type SynthOptions, type SynthTruth, synthDmaTrace, synthDmesg } from '../../scripts/synthTrace';
import { buildReport, type TextReport } from '../../src/trace/report';
import { analyzeText } from '../../src/trace/run';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-'));
let n = 0;

const DEVICES: SynthOptions['devices'] = [
  { name: '0000:00:03.0', driver: 'nvme', minAlign: 0xfff, dmaMask: 2 ** 64, forced: true, maxSize: 258048, sgShare: 0.3 },
  { name: '0000:00:04.0', driver: 'ahci', minAlign: 0, dmaMask: 0xffffffff, forced: false, maxSize: 65536, sgShare: 0.3 },
];

function base(over: Partial<SynthOptions>): SynthOptions {
  return {
    seed: 1,
    profile: 'mainline',
    base: 0xbbfdb000,
    nslabs: 4096,
    nareas: 4,
    cpus: 4,
    devices: DEVICES,
    lines: 6000,
    live: 40,
    sgCounts: true,
    ...over,
  };
}

async function roundTrip(
  o: SynthOptions,
  extra: { crlf?: boolean; gzip?: boolean; kernel?: string } = {},
): Promise<{ truth: SynthTruth; r: TextReport }> {
  const lines: string[] = [];
  const truth = synthDmaTrace(o, (l) => lines.push(l));
  const dir = path.join(tmp, `run${n++}`);
  fs.mkdirSync(dir);
  const eol = extra.crlf ? '\r\n' : '\n';
  const text = lines.join(eol) + eol;
  fs.writeFileSync(path.join(dir, extra.gzip ? 'trace.txt.gz' : 'trace.txt'), extra.gzip ? gzipSync(text) : text);
  fs.writeFileSync(path.join(dir, 'dmesg.txt'), `${synthDmesg(o).join('\n')}\n`);
  const r = buildReport(await analyzeText([dir], { ...(extra.kernel ? { kernel: extra.kernel } : {}), noSizing: true }));
  return { truth, r };
}

function assertTruth(truth: SynthTruth, r: TextReport): void {
  const c = r.counts;
  // map attempts include those a failed scatterlist left only their swiotlb_bounced for
  const withoutEvent = truth.bounceAttempts - truth.bounced - truth.failed;
  assert.equal(c.maps_without_event, withoutEvent);
  assert.deepEqual(
    [c.maps - withoutEvent, c.bounced_maps, c.direct, c.failed, c.unmaps, c.unmaps_direct, c.bounced, c.bounced_forced, c.syncs],
    [
      truth.maps,
      truth.bounced,
      truth.direct,
      truth.failed,
      truth.unmaps,
      truth.unmapsDirect,
      truth.bounceAttempts,
      truth.forced,
      truth.syncs,
    ],
  );
  assert.equal(r.occupancy.peak_slots, truth.peakSlots);
  assert.equal(r.occupancy.final_slots, truth.finalSlots);
}

describe('synthetic dma:* traces round-trip', () => {
  const cases: [string, Partial<SynthOptions>, { crlf?: boolean; gzip?: boolean; kernel?: string }][] = [
    ['mainline, ftrace, seconds', { seed: 1 }, {}],
    [
      'mainline, trace-cmd report, counter clock, 6.12.0 sg format',
      { seed: 2, format: 'trace-cmd', clock: 'counter', sgCounts: false },
      {},
    ],
    ['6.6-early placements, CRLF', { seed: 3, profile: '6.6-early' }, { crlf: true, kernel: '6.6-early' }],
    ['6.1 placements, gzip', { seed: 4, profile: '6.1' }, { gzip: true, kernel: '6.1' }],
  ];
  for (const [name, over, extra] of cases) {
    test(name, async () => {
      const o = base(over);
      const { truth, r } = await roundTrip(o, extra);
      assert.equal(truth.sgFailed, 0, 'a pool large enough that no scatterlist fails');
      assertTruth(truth, r);
      assert.equal(r.input.events, 'dma:* events');
      assert.equal(r.input.clock, o.clock === 'counter' ? 'counter' : 'seconds');
      const gen = r.check.profiles[0];
      assert.ok(gen);
      assert.equal(gen.compared, truth.bounced + truth.failed);
      assert.equal(gen.matched, gen.compared, `${gen.name}: ${JSON.stringify(gen.first_misses)}`);
      assert.ok(r.check.fits.includes(gen.name));
      // the devices' min_align_mask, inferred from the addresses
      assert.deepEqual(
        r.devices.map((d) => [d.name, d.min_align_mask]),
        [
          ['0000:00:03.0', '0xfff'],
          ['0000:00:04.0', '0x0'],
        ],
      );
      assert.deepEqual(r.diagnostics, []);
    });
  }

  test('a pool under pressure: failures, and failed scatterlists that leave no map event', async () => {
    const o = base({ seed: 7, nslabs: 1024, lines: 15000, live: 120 });
    const { truth, r } = await roundTrip(o);
    assert.ok(truth.failed > 0 && truth.sgFailed > 0);
    assertTruth(truth, r);
    assert.equal(r.counts.bounced_unmatched, truth.bounceAttempts - truth.bounced - truth.failed);
    // each failed scatterlist failed once: the range the events prove holds the true count
    const range = r.failures.range;
    assert.ok(range, 'failures as a range');
    const failed = truth.failed + truth.sgFailed;
    assert.ok(range.min <= failed && failed <= range.max, `${range.min} <= ${failed} <= ${range.max}`);
    assert.ok(r.conclusions.some((c) => /have no dma_map_\* event/.test(c)));
    // a failed scatterlist's mapped entries moved the area's index unseen: a few placements
    // after one cannot be predicted, the rest are
    const gen = r.check.profiles[0];
    assert.ok(gen && gen.matched / gen.compared > 0.95, `${gen?.matched}/${gen?.compared}`);
  });

  test('the check names the generating allocator: 6.1 data does not fit mainline', async () => {
    const { r } = await roundTrip(base({ seed: 5, profile: '6.1' }), { kernel: 'mainline' });
    assert.deepEqual(r.check.fits, ['6.1']);
    assert.ok(r.conclusions.some((c) => /rerun with --kernel 6\.1/.test(c)));
  });

  test('past the check sample, occupancy is still exact', async () => {
    const o = base({ seed: 9, lines: 8000 });
    const lines: string[] = [];
    const truth = synthDmaTrace(o, (l) => lines.push(l));
    const dir = path.join(tmp, `sample${n++}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'trace.txt'), `${lines.join('\n')}\n`);
    fs.writeFileSync(path.join(dir, 'dmesg.txt'), `${synthDmesg(o).join('\n')}\n`);
    const r = buildReport(await analyzeText([dir], { profileSample: 500, noSizing: true }));
    assertTruth(truth, r);
    assert.ok(r.check.profiles.every((p) => p.compared === 500));
    assert.match(r.check.note, /first 500 placements/);
  });
});
