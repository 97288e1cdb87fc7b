/**
 * Scenario files: the shipped examples run, bad files get errors with JSON path and line, random
 * damage never crashes the parser, and the xen-swiotlb vs unified comparison gives the pinned
 * agreement per platform.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compareScenario } from '../../src/scenario/compare';
import { parseScenario, ScenarioError } from '../../src/scenario/format';
import { scenarioJson } from '../../src/scenario/report';
import { runScenario } from '../../src/scenario/run';

const EXAMPLES = path.join(__dirname, '..', '..', 'examples');
const load = (name: string) => parseScenario(fs.readFileSync(path.join(EXAMPLES, name), 'utf8'), path.join(EXAMPLES, name));

const MINIMAL = `{
  "platform": "x86",
  "kernel": "6.1",
  "machine": { "cpus": 2, "ram": "8G" },
  "devices": [{ "id": "nic", "name": "0000:03:00.0", "dma_mask": 32 }],
  "workload": [
    { "call": "dma_map_single", "device": "nic", "id": "a", "phys": "0x100000000", "size": 1522, "dir": "DMA_FROM_DEVICE" },
    { "call": "dma_unmap_single", "id": "a" }
  ]
}`;

function problems(text: string): { path: string; line: number; message: string }[] {
  try {
    parseScenario(text, 'bad.json');
  } catch (e) {
    if (e instanceof ScenarioError) return e.problems.map((p) => ({ path: p.path, line: p.line, message: p.message }));
    throw e;
  }
  return [];
}

describe('the shipped examples', () => {
  const files = fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.swiotlb.json'));
  test('there are examples for every case the issue names', () => {
    for (const f of ['nvme-sev-guest', 'nic-32bit-above-4g', 'xen-pv-dom0-straddle', 'arm64-noncoherent-kmalloc', 'restricted-pool']) {
      assert.ok(files.includes(`${f}.swiotlb.json`), f);
    }
  });
  for (const f of files) {
    test(`${f} parses and runs`, () => {
      const run = runScenario(load(f));
      assert.ok(run.lane.decisions.length > 0);
      assert.equal(run.lane.live, f.startsWith('nvme-sev') ? 0 : run.lane.live);
    });
  }
  test('NVMe in an SEV guest: everything bounces; the 512 KiB request is too big', () => {
    const j = scenarioJson(runScenario(load('nvme-sev-guest.swiotlb.json')));
    assert.equal(j.pool.nslabs, 262144, '6 % of 8 GiB, rounded to a power of two');
    assert.equal(j.summary.direct, 0);
    assert.deepEqual(j.summary.failures_by_cause, { 'too-big': 1 });
    const huge = j.calls.find((c) => c.size === 524288);
    assert.deepEqual(huge?.reasons, ['force', 'too-big']);
  });
  test('32-bit NIC: only buffers above 4 GiB bounce, for the mask', () => {
    const j = scenarioJson(runScenario(load('nic-32bit-above-4g.swiotlb.json')));
    for (const c of j.calls.filter((x) => x.call === 'dma_map_single')) {
      const above = Number.parseInt(c.phys as string, 16) + c.size - 1 > 0xffffffff;
      assert.equal(c.result, above ? 'bounced' : 'direct', `${c.phys}`);
      if (above) assert.deepEqual(c.reasons, ['dma-mask']);
    }
    assert.deepEqual(Object.keys(j.summary.bounces_by_reason), ['dma-mask']);
  });
  test('Xen PV straddle: the same buffer maps directly, then bounces after ballooning', () => {
    const j = scenarioJson(runScenario(load('xen-pv-dom0-straddle.swiotlb.json')));
    const maps = j.calls.filter((c) => c.call === 'dma_map_single');
    assert.deepEqual(
      maps.map((c) => [c.result, c.reasons]),
      [
        ['direct', []],
        ['bounced', ['xen-straddle']],
        ['direct', []],
      ],
    );
    assert.equal(maps[0]?.bus, '0x88000c00');
  });
  test('arm64 kmalloc: the 24-byte status buffer bounces, the others get cache maintenance', () => {
    const j = scenarioJson(runScenario(load('arm64-noncoherent-kmalloc.swiotlb.json')));
    const maps = j.calls.filter((c) => c.call.startsWith('dma_map'));
    assert.deepEqual(
      maps.map((c) => c.result),
      ['bounced', 'direct', 'direct', 'direct'],
    );
    assert.ok(j.summary.cache_ops >= 6);
  });
  test('restricted pool: every map bounces inside the pool; allocations use its slots', () => {
    const j = scenarioJson(runScenario(load('restricted-pool.swiotlb.json')));
    assert.equal(j.summary.direct, 0);
    assert.equal(j.summary.failed, 0);
    const alloc = j.calls.find((c) => c.call === 'dma_alloc_coherent');
    assert.equal(alloc?.result, 'bounced');
    assert.equal(alloc?.dma, '0x9c000000');
  });
});

describe('unified path vs the kernel xen-swiotlb: pinned agreement per platform', () => {
  const agreement = (name: string) => {
    const c = compareScenario(load(name));
    return { c, share: c.agree / c.compared };
  };
  test('platforms without xen-swiotlb agree fully (both lanes are dma-direct)', () => {
    for (const f of [
      'nic-32bit-above-4g.swiotlb.json',
      'nvme-sev-guest.swiotlb.json',
      'arm64-noncoherent-kmalloc.swiotlb.json',
      'iommu-untrusted.swiotlb.json',
    ]) {
      const { c, share } = agreement(f);
      assert.equal(share, 1, f);
      assert.equal(c.xenOps, false);
    }
  });
  test('Xen PV with a 64 KiB-aligned pool: every call agrees; the hooks did the MFN lookups and the straddle check', () => {
    const { c, share } = agreement('xen-pv-dom0-straddle.swiotlb.json');
    assert.equal(share, 1);
    assert.equal(c.xenOps, true);
    assert.equal(c.hooks.straddleBounces, 1);
    assert.ok(c.hooks.translated >= 6);
  });
  test('Xen arm: cache maintenance by hypercall in both lanes', () => {
    const { c, share } = agreement('xen-arm64-foreign.swiotlb.json');
    assert.equal(share, 1);
    // 2 pages cleaned for the granted TX buffer; RX: clean at map, invalidate at sync and at unmap
    assert.equal(c.hooks.hypercalls, 5);
  });
  test('Xen PV with an unaligned pool: the segment boundary diverges, and the kernel path crosses 64 KiB lines in bus space', () => {
    const { c } = agreement('xen-pv-boundary-compare.swiotlb.json');
    assert.equal(c.byCause['segment-boundary-space'], 1);
    assert.ok((c.byCause.state ?? 0) > 0);
    assert.ok(c.boundaryCrossings.kernel > 0);
    assert.equal(c.boundaryCrossings.unified, 0);
    assert.match(c.verdict, /cross the device's segment boundary in bus space/);
  });
  test('Xen PVH: auto-translated, the fast path is plain swiotlb', () => {
    const s = parseScenario(MINIMAL.replace('"x86"', '"xen-pvh"'), 'pvh.json');
    const c = compareScenario(s);
    assert.equal(c.agree, c.compared);
    assert.match(c.verdict, /auto-translated/);
  });
  test('Xen x86: map_resource differs (no map_resource op before 6.18)', () => {
    const text = MINIMAL.replace('"x86"', '"xen-pv-dom0"').replace(
      '{ "call": "dma_unmap_single", "id": "a" }',
      '{ "call": "dma_unmap_single", "id": "a" }, { "call": "dma_map_resource", "device": "nic", "id": "r", "phys": "0xfe000000", "size": 4096, "dir": "DMA_BIDIRECTIONAL" }',
    );
    const c = compareScenario(parseScenario(text, 'res.json'));
    assert.equal(c.byCause['map-resource'], 1);
  });
  test('Xen arm non-coherent on 6.6: the kmalloc rule differs', () => {
    const text = `{
      "platform": "xen-arm64-noncoherent", "kernel": "6.6-early",
      "devices": [{ "id": "mmc", "name": "fe320000.mmc", "dma_mask": 32, "coherent": false }],
      "workload": [{ "call": "dma_map_single", "device": "mmc", "id": "s", "phys": "0x40a01040", "size": 24, "dir": "DMA_FROM_DEVICE" }]
    }`;
    const c = compareScenario(parseScenario(text, 'k.json'));
    assert.equal(c.byCause['kmalloc-rule'], 1);
  });
});

describe('bad scenario files: every problem with its JSON path and line', () => {
  test('unknown keys, anywhere', () => {
    const p = problems(
      MINIMAL.replace('"dma_mask": 32', '"dma_mask": 32, "colour": "red"').replace('"kernel": "6.1",', '"kernel": "6.1", "frobnicate": 1,'),
    );
    assert.deepEqual(
      p.map((x) => [x.path, x.line]),
      [
        ['$.frobnicate', 3],
        ['$.devices[0].colour', 5],
      ],
    );
    assert.match(p[1]?.message ?? '', /unknown key "colour" in a device/);
  });
  test('masks that are not 2^k-1', () => {
    const p = problems(MINIMAL.replace('"dma_mask": 32', '"dma_mask": "0xfffff000"'));
    assert.equal(p[0]?.path, '$.devices[0].dma_mask');
    assert.match(p[0]?.message ?? '', /not of the form 2\^k-1/);
    assert.equal(
      problems(MINIMAL.replace('"dma_mask": 32', '"dma_mask": 32, "seg_boundary": "0x12345"'))[0]?.path,
      '$.devices[0].seg_boundary',
    );
  });
  test('sizes of 0, unknown devices, unknown ids, unknown calls', () => {
    const p = problems(
      MINIMAL.replace('"size": 1522', '"size": 0')
        .replace('"device": "nic", "id": "a"', '"device": "nvme", "id": "a"')
        .replace('{ "call": "dma_unmap_single", "id": "a" }', '{ "call": "dma_unmap_single", "id": "b" }, { "call": "dma_map_bogus" }'),
    );
    const msgs = p.map((x) => `${x.path}@${x.line}: ${x.message}`);
    assert.ok(
      msgs.some((m) => /\$\.workload\[0\]\.size@7: size must be at least 1/.test(m)),
      msgs.join('\n'),
    );
    assert.ok(msgs.some((m) => /\$\.workload\[0\]\.device@7: unknown device "nvme" \(defined: 0000:03:00.0, nic\)/.test(m)));
    assert.ok(msgs.some((m) => /\$\.workload\[1\]\.id@8: unknown id "b"/.test(m)));
    assert.ok(msgs.some((m) => /\$\.workload\[2\]\.call@8: unknown DMA API call "dma_map_bogus"/.test(m)));
  });
  test('unknown platform and kernel; syntax errors', () => {
    assert.match(problems(MINIMAL.replace('"x86"', '"vax"'))[0]?.message ?? '', /unknown platform "vax" \(one of: x86, arm64/);
    assert.match(problems(MINIMAL.replace('"6.1"', '"4.19"'))[0]?.message ?? '', /unknown kernel profile/);
    const syn = problems(MINIMAL.replace('"cpus": 2,', '"cpus": 2,,'));
    assert.equal(syn[0]?.line, 4);
    assert.match(syn[0]?.message ?? '', /JSON syntax/);
    assert.match(problems('')[0]?.message ?? '', /empty/);
  });
  test('comments are allowed (JSON with comments)', () => {
    assert.deepEqual(problems(MINIMAL.replace('"workload": [', '// the calls\n  "workload": [')), []);
  });
  test('random damage never crashes the parser', () => {
    fc.assert(
      fc.property(fc.nat(MINIMAL.length), fc.nat(MINIMAL.length), fc.string({ maxLength: 8 }), (at, len, insert) => {
        const text = MINIMAL.slice(0, at) + insert + MINIMAL.slice(Math.min(MINIMAL.length, at + (len % 12)));
        try {
          const s = parseScenario(text, 'fuzz.json');
          runScenario(s);
        } catch (e) {
          if (!(e instanceof ScenarioError)) throw e;
          for (const p of e.problems) assert.ok(p.line >= 1 && p.column >= 1);
        }
      }),
      { numRuns: 500 },
    );
  });
});
