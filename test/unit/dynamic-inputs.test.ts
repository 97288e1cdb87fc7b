/**
 * Dynamic swiotlb and arm64's DMA zone through every input: scenario files, driver source
 * annotations, the CLI (analyze, replay, pool), and the sizing answer in the reports.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseScenario, ScenarioError } from '../../src/scenario/format';
import { formatScenario, scenarioJson } from '../../src/scenario/report';
import { runScenario } from '../../src/scenario/run';
import { formatSource } from '../../src/source/report';
import { analyzeC } from './source-helpers';

const ROOT = path.join(__dirname, '..', '..');
const EXAMPLES = path.join(ROOT, 'examples');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dyn-'));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
    encoding: 'utf8',
    cwd: ROOT,
    maxBuffer: 1 << 26,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/**
 * A small forced pool on 6.12 that a ring of NVMe-sized buffers overflows; `align` is the
 * buffers' alignment (page-aligned, as the block layer's are, unless a test says otherwise).
 */
function smallPool(extra = '', align = 4096): string {
  return `{
  "platform": "x86",
  "kernel": "6.12",${extra}
  "machine": { "cpus": 2, "ram": "8G" },
  "pool": { "cmdline": "swiotlb=512,force" },
  "devices": [{ "id": "nvme", "name": "0000:00:03.0", "driver": "nvme", "dma_mask": 64, "min_align_mask": "0xfff" }],
  "workload": [
    { "ring": { "device": "nvme", "depth": 200, "count": 2000, "size": { "choice": [4096, 8192, 16384] },
                "phys": { "ranges": [["0x100000000", "0x200000000", 1]], "align": ${align} }, "dir": "DMA_FROM_DEVICE", "cpus": [0, 1], "seed": 3 } }
  ]
}`;
}

function problems(text: string): string[] {
  try {
    parseScenario(text, 'bad.json');
  } catch (e) {
    if (e instanceof ScenarioError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
  return [];
}

describe('arm64 DMA zone: the Raspberry Pi 4 example', () => {
  const file = path.join(EXAMPLES, 'rpi4-dma-zone.swiotlb.json');
  test('a buffer above the 1 GiB bus limit bounces into the pool below 1 GiB', () => {
    const run = runScenario(parseScenario(fs.readFileSync(file, 'utf8'), file));
    const j = scenarioJson(run);
    assert.equal(j.pool.created, true);
    assert.equal(j.pool.base, '0x3c000000', 'memblock_alloc_low() below arm64_dma_phys_limit');
    assert.equal(j.pool.dma_phys_limit, '0x40000000');
    assert.match(j.pool.why, /memory above the ZONE_DMA limit/);
    const map = j.calls[0];
    assert.equal(map?.result, 'bounced');
    assert.deepEqual(map?.reasons, ['bus-limit']);
    assert.ok(Number(map?.dma) + 4096 - 1 <= 0x3fff_ffff, 'the device reaches its bounce buffer');
    assert.equal(j.summary.failures_by_cause['bounce-beyond-mask'], undefined);
    assert.equal(j.calls[2]?.result, 'direct', 'below 1 GiB the buffer is reachable');
  });
  test('without the board the pool is not below 1 GiB and the bounce buffer is out of reach', () => {
    const text = fs.readFileSync(file, 'utf8').replace(', "board": "rpi4"', '');
    const j = scenarioJson(runScenario(parseScenario(text, file)));
    assert.equal(j.summary.failures_by_cause['bounce-beyond-mask'], 1);
  });
  test('zone_dma_bits 30 is the same machine; the zone keys are refused on x86 and checked', () => {
    const text = fs.readFileSync(file, 'utf8').replace('"board": "rpi4"', '"zone_dma_bits": 30');
    assert.equal(scenarioJson(runScenario(parseScenario(text, file))).pool.base, '0x3c000000');
    assert.deepEqual(problems(text.replace('"platform": "arm64"', '"platform": "x86"')), [
      "$.machine.zone_dma_bits: machine.zone_dma_bits is for arm64: x86's ZONE_DMA is the fixed 16 MiB",
    ]);
    assert.match(
      problems(text.replace('"zone_dma_bits": 30', '"board": "rpi9"')).join(),
      /unknown board "rpi9" \(one of: rpi4, bcm2711, generic\)/,
    );
  });
  test('x86 places its pool as before: below 3 GiB under the PCI hole', () => {
    const file2 = path.join(EXAMPLES, 'nic-32bit-above-4g.swiotlb.json');
    const j = scenarioJson(runScenario(parseScenario(fs.readFileSync(file2, 'utf8'), file2)));
    assert.equal(j.pool.base, '0xbc000000');
    assert.equal(j.pool.dma_phys_limit, '0x1000000');
  });
});

describe('dynamic swiotlb in scenarios', () => {
  test('"dynamic": true serves what the fixed pool refused, and the fixed run says so', () => {
    const fixed = runScenario(parseScenario(smallPool(), 'small.json'));
    const dyn = runScenario(parseScenario(smallPool('\n  "dynamic": true,'), 'small.json'));
    const jf = scenarioJson(fixed);
    const jd = scenarioJson(dyn);
    assert.ok(jf.summary.failed > 0);
    assert.equal(jf.pool.dynamic, null);
    assert.equal(jd.summary.failed, 0);
    assert.equal(jd.summary.bounced, 2000);
    const sizing = jf.summary.dynamic_sizing;
    assert.ok(sizing);
    assert.equal(sizing.failures, jf.summary.failed);
    assert.equal(sizing.served_transient + sizing.served_added_pool, sizing.failures, 'the fixed run predicts the dynamic run');
    // the dynamic run's own books agree with the prediction
    const dy = jd.pool.dynamic;
    assert.ok(dy);
    assert.equal(dy.pools_added.length, sizing.pools_added);
    assert.equal(dy.peak_transient_slots * 2048, sizing.peak_transient_bytes);
    assert.equal(jd.summary.bounces_by_reason['transient-pool'], sizing.served_transient + sizing.other_transient);
    assert.equal(dy.used, 0, 'every mapping released');
    assert.equal(dy.transient_nslabs, 0);
    assert.match(
      formatScenario(fixed),
      /sizing {10}with CONFIG_SWIOTLB_DYNAMIC these \d+ failures would have been served: \d+ by transient pools \(\d+ KiB at peak\), \d+ by the \d+ pools? of 1 MiB the worker added/,
    );
    assert.match(formatScenario(dyn), /dynamic {9}CONFIG_SWIOTLB_DYNAMIC: \d+ pools? added/);
  });
  test('NVMe buffers in the odd 2 KiB of a page get no transient pool: dynamic pools leave those failures', () => {
    const fixed = runScenario(parseScenario(smallPool('', 2048), 'small.json'));
    const dyn = runScenario(parseScenario(smallPool('\n  "dynamic": true,', 2048), 'small.json'));
    const sizing = scenarioJson(fixed).summary.dynamic_sizing;
    assert.ok(sizing && sizing.still_failing > 0, 'min_align_mask 0xfff keeps bit 11: slot 0 of a page-aligned pool cannot have it');
    assert.ok(sizing.served_transient > 0, 'the even halves do get transient pools');
    assert.match(sizing.text, /would still fail/);
    const failed = dyn.lane.decisions.filter((d) => d.result === 'failed');
    assert.ok(failed.length > 0);
    assert.ok(
      failed.every((d) => Math.floor(d.phys / 2048) % 2 === 1),
      'only odd 2 KiB halves fail',
    );
  });
  test('6.1 and Xen PV refuse "dynamic"', () => {
    assert.deepEqual(problems(smallPool('\n  "dynamic": true,').replace('"6.12"', '"6.1"')), [
      '$.dynamic: Linux 6.1 LTS (6.1.84 ... 6.1.192) has no dynamic swiotlb (CONFIG_SWIOTLB_DYNAMIC exists from Linux 6.6 on): one fixed pool, maps fail when it is full',
    ]);
    assert.match(
      problems(smallPool('\n  "dynamic": {"grow_delay": 4},').replace('"x86"', '"xen-pv-dom0"')).join(),
      /remap hook.*cannot grow/,
    );
    assert.match(problems(smallPool('\n  "dynamic": {"delay": 4},')).join(), /delay/);
  });
  test('a 6.1 scenario has no sizing answer (no such option there)', () => {
    const r = runScenario(parseScenario(smallPool().replace('"6.12"', '"6.1"'), 'small.json'));
    assert.ok(r.session.summary.failed > 0);
    assert.equal(r.dynamicSizing, undefined);
  });
});

describe('dynamic swiotlb and the DMA zone in driver source', () => {
  const drv = (file: string) => `${file}
#include <linux/pci.h>
static int probe(struct pci_dev *pdev) { return dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64)); }
struct b { dma_addr_t dma; };
static void io(struct pci_dev *pdev, struct b *x, void *buf) {
	/* swiotlb: size=16K depth=300 where=high */
	x->dma = dma_map_single(&pdev->dev, buf, 16384, DMA_FROM_DEVICE);
}
static void done(struct pci_dev *pdev, struct b *x) {
	dma_unmap_single(&pdev->dev, x->dma, 16384, DMA_FROM_DEVICE);
}
`;
  test('swiotlb-file: dynamic=1 runs the workload with growing pools; without it the report gives the sizing answer', async () => {
    const fixed = await analyzeC(drv('// swiotlb-file: kernel=6.12 cmdline="swiotlb=1024,force" ram=8G'));
    const text = formatSource(fixed);
    assert.match(text, /sizing {4}with CONFIG_SWIOTLB_DYNAMIC these \d+ failures would have been served/);
    const dyn = await analyzeC(drv('// swiotlb-file: kernel=6.12 cmdline="swiotlb=1024,force" ram=8G dynamic=1'));
    assert.equal(dyn.machine.dynamic, true);
    assert.match(formatSource(dyn), /dynamic swiotlb/);
    assert.equal(dyn.session.summary.failed, 0);
    assert.ok(fixed.session.summary.failed > 0);
  });
  test('dynamic=1 on 6.1 is a diagnostic and the pool stays fixed', async () => {
    const a = await analyzeC(drv('// swiotlb-file: kernel=6.1 dynamic=1'));
    assert.equal(a.machine.dynamic, undefined);
    assert.ok(a.diagnostics.some((d) => d.code === 'machine' && /CONFIG_SWIOTLB_DYNAMIC exists from Linux 6\.6 on/.test(d.message)));
  });
  test('board=rpi4 puts the pool below 1 GiB', async () => {
    const src = `// swiotlb-file: platform=arm64 kernel=6.12 ram=4G board=rpi4
#include <linux/dma-mapping.h>
static void io(struct device *dev, void *buf) {
	/* swiotlb: bus_dma_limit=0x3fffffff dma_mask=35 where=0x40898000 */
	dma_map_single(dev, buf, 4096, DMA_FROM_DEVICE);
}
`;
    const a = await analyzeC(src);
    const v = [...a.verdicts.values()][0];
    assert.ok(v);
    assert.equal(v.status, 'bounces', v.lens);
    assert.ok(v.probes.every((p) => p.decision.result === 'bounced' && (p.decision.dma ?? 2 ** 32) < 0x4000_0000));
  });
});

describe('the CLI', () => {
  const small = path.join(tmp, 'small.swiotlb.json');
  fs.writeFileSync(small, smallPool());
  test('analyze --dynamic runs a scenario with growing pools; 6.1 refuses it', () => {
    const r = cli('analyze', small, '--dynamic', '--json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.summary.failed, 0);
    assert.ok(j.pool.dynamic.pools_added.length > 0);
    const bad = cli('analyze', small, '--dynamic', '--kernel', '6.1');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /has no dynamic swiotlb \(CONFIG_SWIOTLB_DYNAMIC exists from Linux 6\.6 on\)/);
  });
  test('replay --dynamic (or "dynamic": true in the header) puts misses in transient pools', () => {
    const lines = ['{"op":"init","nslabs":256,"nareas":1,"pool_base":"0x80000000","kernel":"mainline"}'];
    for (let k = 0; k < 3; k++) lines.push(`{"op":"map","id":${k},"cpu":0,"orig":"0x1${k}0000000","size":262144}`);
    const file = path.join(tmp, 'full.jsonl');
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const fixed = cli('replay', file)
      .out.trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      fixed.map((o) => o.ok),
      [true, true, false],
    );
    const dyn = cli('replay', file, '--dynamic')
      .out.trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(dyn[2].ok, true);
    assert.equal(dyn[2].pool, 'transient');
    assert.equal(dyn[2].index, 0);
    assert.equal(dyn[2].used, 384);
    fs.writeFileSync(file, `${lines.join('\n').replace('"kernel":"mainline"', '"kernel":"mainline","dynamic":true')}\n`);
    assert.equal(JSON.parse(cli('replay', file).out.trim().split('\n')[2] as string).pool, 'transient');
    const old = cli('replay', file, '--kernel', '6.1');
    assert.equal(old.code, 2);
    assert.match(old.err, /:1: dynamic swiotlb: Linux 6\.1/);
  });
  test('pool --dynamic --arch arm64 --board rpi4: the zone, where the pool goes and what it grows by', () => {
    const r = cli('pool', '--arch', 'arm64', '--board', 'rpi4', '--ram', '4G', '--kernel', '6.12', '--cpus', '4', '--dynamic', '--json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.created, true);
    assert.deepEqual(j.zone, { zone_dma_limit: '0x3fffffff', dma_phys_limit: '0x40000000', pool_below: '0x40000000' });
    assert.deepEqual(j.dynamic, {
      can_grow: true,
      transient_counter: true,
      phys_limit: '0x3fffffff',
      added_pool_nslabs: 2048,
      added_pool_nareas: 4,
    });
    assert.equal(cli('pool', '--dynamic', '--kernel', '5.10').code, 2);
    assert.equal(cli('pool', '--board', 'rpi4').code, 2, '--board needs --arch arm64');
  });
});
