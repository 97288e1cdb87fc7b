/**
 * `analyze FILE.c|DIR` as scripts use it: the JSON contract (sites, devices, pairs, diagnostics),
 * the report for people, --platform and --kernel, and bad input that never stops the rest.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { type CliResult, cli } from './cli-helpers';
import { driver, ROOT } from './source-helpers';

const EXAMPLE = path.join('examples', 'source', 'swlnic', 'swlnic_main.c');

describe('analyze FILE.c --json', () => {
  let r: CliResult;
  // biome-ignore lint/suspicious/noExplicitAny: the JSON output, read field by field
  let j: any;
  before(async () => {
    r = await cli('analyze', EXAMPLE, '--json');
    j = JSON.parse(r.out);
  });

  test('exit 0 and one JSON object of the source kind', async () => {
    assert.equal(r.code, 0, r.err);
    assert.equal(j.input.kind, 'source');
    assert.equal(j.platform.id, 'x86');
    assert.equal(j.kernel.name, '6.1');
    assert.equal(j.machine.cmdline, 'swiotlb=4096', 'from the swiotlb-file: annotation');
    assert.equal(j.machine.pool.nslabs, 4096);
  });

  test('sites: file, 1-based line of the call, api, dir as written, size when known, the decision', async () => {
    const src = fs.readFileSync(path.join(ROOT, EXAMPLE), 'utf8').split('\n');
    const rx = j.sites.find((s: { function: string; api: string }) => s.function === 'swlnic_rx_refill' && s.api === 'dma_map_single');
    assert.equal(rx.file, EXAMPLE);
    assert.match(src[rx.line - 1], /dma_map_single\(&priv->pdev->dev, skb->data, SWLNIC_RX_BUF_SIZE, DMA_FROM_DEVICE\)/);
    assert.equal(rx.column, src[rx.line - 1].indexOf('dma_map_single') + 1);
    assert.equal(rx.dir, 'DMA_FROM_DEVICE');
    assert.equal(rx.size, 2112);
    assert.equal(rx.size_expr, 'SWLNIC_RX_BUF_SIZE');
    assert.equal(rx.device, '&priv->pdev->dev');
    assert.equal(rx.handle, 'struct swlnic_rxbuf.dma');
    assert.deepEqual(rx.annotations, { depth: 1024 });
    assert.equal(rx.verdict.status, 'may-bounce');
    assert.match(rx.verdict.lens, /^bounces above 4 GiB: beyond 32-bit dma_mask · 2 slots · peak pool \d+ %$/);
    assert.equal(rx.verdict.workload.depth, 1024);
    // the decision layer's own JSON for the call
    assert.equal(rx.decision.call, 'dma_map_single');
    assert.equal(rx.decision.result, 'bounced');
    assert.deepEqual(rx.decision.reasons, ['dma-mask']);
    assert.equal(rx.decision.dir, 'DMA_FROM_DEVICE');
    assert.match(rx.decision.tlb_addr, /^0x[0-9a-f]+$/);
    assert.equal(rx.decision.line, rx.line);
    // an unknown size: no size, no decision, still a verdict
    const frag = j.sites.find((s: { function: string }) => s.function === 'swlnic_xmit_frag');
    assert.equal(frag.size, undefined);
    assert.equal(frag.size_expr, 'skb_frag_size(frag)');
    assert.equal(frag.decision, null);
    assert.equal(frag.verdict.lens, 'bounces above 4 GiB: beyond 32-bit dma_mask · size unknown');
    // the #if 0 block, the string and the comments hold no site
    assert.ok(!j.sites.some((s: { function: string }) => s.function === 'swlnic_rx_refill_page'));
    assert.equal(j.sites.filter((s: { api: string }) => s.api === 'dma_map_single').length, 3);
  });

  test('devices: the expression and what is known, masks as hex strings', async () => {
    const d = j.devices.find((x: { key: string }) => x.key === 'pdev->dev');
    assert.equal(d.dma_mask, '0xffffffff');
    assert.equal(d.dma_mask_bits, 32);
    assert.equal(d.coherent_dma_mask, '0xffffffff');
    assert.equal(d.min_align_mask, '0x0');
    assert.equal(d.max_seg_size, 65536);
    assert.match(d.dma_mask_from, /DMA_BIT_MASK\(32\) at examples\/source\/swlnic\/swlnic_main\.c:127/);
    assert.deepEqual(d.set_by[0], { property: 'dma_mask', value: '0xffffffff', expr: 'DMA_BIT_MASK(32)', file: EXAMPLE, line: 127 });
    // struct device *dev = &priv->pdev->dev; names the same device
    assert.deepEqual(d.expressions, ['dev', '&priv->pdev->dev', '&pdev->dev']);
    assert.equal(d.device, 'dev');
    assert.equal(d.sites, j.sites.length, 'every call of the file names this device');
  });

  test('pairs and diagnostics', async () => {
    const rxPair = j.pairs.find((p: { handle: string }) => p.handle === 'struct swlnic_rxbuf.dma');
    assert.deepEqual(
      rxPair.unmaps.map((u: { api: string }) => u.api),
      ['dma_unmap_single'],
    );
    assert.deepEqual(
      rxPair.syncs.map((u: { api: string }) => u.api),
      ['dma_sync_single_for_cpu'],
    );
    const byCode = Object.fromEntries(j.diagnostics.map((d: { code: string; line: number }) => [d.code, d.line]));
    assert.equal(byCode['dir-mismatch'], 98);
    assert.equal(byCode['too-big'], 106);
    assert.equal(byCode['unreleased-map'], 117);
    for (const d of j.diagnostics) {
      assert.equal(d.file, EXAMPLE);
      assert.ok(d.line >= 1 && d.column >= 1 && ['error', 'warning', 'info'].includes(d.severity) && d.message.length > 0);
    }
  });
});

describe('analyze DIR', () => {
  test('a folder: one driver per directory, each with its own machine', async () => {
    const r = await cli('analyze', path.join('examples', 'source'), '--json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.deepEqual(
      j.drivers.map((d: { name: string; platform: string }) => [d.name, d.platform]),
      [
        ['swlblk', 'sev-guest'],
        ['swlnic', 'x86'],
      ],
    );
    const sg = j.sites.find((s: { api: string }) => s.api === 'dma_map_sg');
    assert.equal(sg.driver, 'swlblk');
    assert.match(sg.verdict.lens, /^bounces: memory encryption \(SEV guest\)/);
    assert.ok(j.diagnostics.some((d: { code: string }) => d.code === 'unmap-sg-nents'));
  });

  test('the report for people', async () => {
    const r = await cli('analyze', path.join('examples', 'source'));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Driver source: 3 files, 19 DMA call sites in 2 drivers/);
    assert.match(r.out, /swlnic \(examples\/source\/swlnic\)\n {2}platform {2}Bare-metal x86/);
    assert.match(r.out, /38:13 swlnic_rx_refill dma_map_single\(&priv->pdev->dev, 2112 B, DMA_FROM_DEVICE\): bounces above 4 GiB/);
    assert.match(r.out, /swlnic_main\.c:98:2: warning: dma_unmap_single with DMA_FROM_DEVICE.*\[dir-mismatch\]/);
  });

  test('--platform and --kernel win over the files', async () => {
    const r = await cli('analyze', path.join('examples', 'source'), '--json', '--platform', 'xen-pv-dom0', '--kernel', '6.12');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.deepEqual(
      j.drivers.map((d: { platform: string; kernel: string }) => `${d.platform} ${d.kernel}`),
      ['xen-pv-dom0 6.12', 'xen-pv-dom0 6.12'],
    );
    const bad = await cli('analyze', EXAMPLE, '--platform', 'vax');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /unknown platform "vax"/);
    const badK = await cli('analyze', EXAMPLE, '--kernel', '2.6');
    assert.equal(badK.code, 2);
  });

  test('--device and --defaults: the settings of the extension, on the command line', async () => {
    const rx = (j: { sites: { function: string; api: string; verdict: { lens: string } }[] }) =>
      j.sites.find((s) => s.function === 'swlnic_rx_refill' && s.api === 'dma_map_single')?.verdict.lens ?? '';
    // "&pdev->dev" names the device the RX refill maps through "&priv->pdev->dev"
    const r = await cli('analyze', EXAMPLE, '--json', '--device', '&pdev->dev=dma_mask=40', '--defaults', 'depth=8');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.match(rx(j), /^direct: 40-bit dma_mask/);
    assert.deepEqual(j.devices[0].settings, { dma_mask: '0xffffffffff' });
    assert.equal(j.devices[0].dma_mask, '0xffffffff', 'what the driver sets is still reported');
    // the driver's folder as a prefix: another driver's key does not apply
    const other = JSON.parse((await cli('analyze', EXAMPLE, '--json', '--device', 'swlblk/&pdev->dev=dma_mask=40')).out);
    assert.match(rx(other), /^bounces above 4 GiB/);
    assert.equal(other.devices[0].settings, undefined);
    // problems name the option
    const bad = JSON.parse((await cli('analyze', EXAMPLE, '--json', '--device', '&pdev->dev=dma_mask=40 ram=8G')).out);
    assert.ok(
      bad.diagnostics.some(
        (d: { message: string }) => d.message === '--device "&pdev->dev": ram describes the machine, not a device: use --defaults',
      ),
      JSON.stringify(bad.diagnostics),
    );
    const noKey = await cli('analyze', EXAMPLE, '--device', 'dma_mask');
    assert.equal(noKey.code, 2);
    assert.match(noKey.err, /--device needs KEY=SETTINGS/);
    const notSource = await cli('analyze', path.join('examples', 'kernel-6.1-small-pool.jsonl'), '--device', 'x=dma_mask=40');
    assert.equal(notSource.code, 2);
    assert.match(notSource.err, /apply to driver source only/);
  });
});

describe('bad input', () => {
  test('binary, huge, not-C and half-written files are diagnostics; the rest is analysed', async () => {
    const dir = driver({
      'good.c':
        'static void f(struct device *dev) { h = dma_map_single(dev, b, 64, DMA_TO_DEVICE); dma_unmap_single(dev, h, 64, DMA_TO_DEVICE); }\n',
      'half.c': 'static void g(struct device *dev) {\n\th = dma_map_single(dev, b, 64,\n',
      'notc.c': '# dma_map_single in a Python file\nimport os\nfor x in range(10):\n    print(x) ; dma_map_single = 1\n'.repeat(30),
    });
    fs.writeFileSync(path.join(dir, 'blob.c'), Buffer.concat([Buffer.from('dma_map_single'), Buffer.alloc(64, 0)]));
    // a generated file above the size limit (4 MiB)
    fs.writeFileSync(path.join(dir, 'huge.h'), `#define dma_map_big 1\n${'#define REG_X 0x1234\n'.repeat(230_000)}`);
    const r = await cli('analyze', dir, '--json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    const diag = (file: string) =>
      j.diagnostics.filter((d: { file: string }) => d.file.endsWith(file)).map((d: { code: string }) => d.code);
    assert.ok(diag('blob.c').includes('not-c'));
    assert.ok(diag('huge.h').includes('skipped-file'));
    assert.ok(diag('notc.c').includes('not-c'), JSON.stringify(diag('notc.c')));
    assert.ok(diag('half.c').includes('incomplete-call') || diag('half.c').includes('parse-error'));
    assert.deepEqual(
      j.sites.filter((s: { file: string }) => s.file.endsWith('good.c')).map((s: { api: string }) => s.api),
      ['dma_map_single', 'dma_unmap_single'],
    );
    const skipped = Object.fromEntries(j.files.map((f: { file: string; skipped?: string }) => [path.basename(f.file), f.skipped]));
    assert.equal(skipped['huge.h'], 'too large');
    assert.equal(skipped['blob.c'], 'binary');
  });

  test('a missing path: exit 2 with its name', async () => {
    const r = await cli('analyze', 'no/such/driver.c');
    assert.equal(r.code, 2);
    assert.match(r.err, /no\/such\/driver\.c: no such file/);
  });
});

describe('the extension contributes what the analysis knows', () => {
  test('the platform setting offers every platform profile', async () => {
    const { PLATFORM_IDS } = await import('../../src/model/dma/platform');
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    assert.deepEqual(pkg.contributes.configuration.properties['swiotlbLens.platform'].enum, ['auto', ...PLATFORM_IDS]);
    // activation on commands only: no onLanguage:c (the lenses appear once a command ran)
    assert.ok(!pkg.activationEvents.some((e: string) => e.startsWith('onLanguage')));
    // contributed commands activate the extension by themselves (VS Code 1.74 and later)
    assert.ok(Number(/^\^1\.(\d+)/.exec(pkg.engines.vscode)?.[1]) >= 74, pkg.engines.vscode);
    const commands = pkg.contributes.commands.map((c: { command: string }) => c.command);
    for (const c of ['analyzeSourceFile', 'analyzeSourceFolder', 'analyzeWorkspaceDrivers', 'choosePlatform', 'chooseKernel'])
      assert.ok(commands.includes(`swiotlbLens.${c}`), c);
  });
});
