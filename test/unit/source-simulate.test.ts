/**
 * Verdicts per call site from the decision layer: where a buffer must live to bounce and why,
 * slots and pool occupancy of the annotated workload, and the will-fail classes (the 256 KiB
 * ceiling, exhaustion at the annotated depth, alignment waste, no pool, Xen machine layout).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { reasonCodes } from '../../src/model/reasons';
import { analyzeC, codes, lineOf, siteAt } from './source-helpers';

/** A driver with one device of the given mask and the given body in one function. */
function drv(mask: string, body: string, head = ''): string {
  return `${head}
static int probe(struct pci_dev *pdev) {
	return dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(${mask}));
}
struct b { dma_addr_t dma; };
static void io(struct pci_dev *pdev, struct b *x, void *buf) {
${body}
}
`;
}

describe('where a buffer bounces, and why', () => {
  test('a 32-bit device on 16 GiB: direct below 4 GiB, bounced above', async () => {
    const text = drv('32', '\tx->dma = dma_map_single(&pdev->dev, buf, 1522, DMA_TO_DEVICE); /* M */');
    const a = await analyzeC(text);
    const v = a.verdicts.get(siteAt(a, lineOf(text, '/* M */')).id);
    assert.ok(v);
    assert.equal(v.status, 'may-bounce');
    assert.equal(v.lens, 'bounces above 4 GiB: beyond 32-bit dma_mask · 1 slot');
    assert.deepEqual(
      v.probes.map((p) => [p.where, p.decision.result, reasonCodes(p.decision.reasons)]),
      [
        ['below 4 GiB', 'direct', []],
        ['above 4 GiB', 'bounced', ['dma-mask']],
      ],
    );
    const bounced = v.probes[1]?.decision;
    assert.ok(bounced && bounced.phys >= 2 ** 32, 'the buffer is above 4 GiB');
    assert.ok(bounced.dma !== null && bounced.dma < 2 ** 32, 'the bounce buffer is within reach');
    assert.equal(bounced.copied, 1522, 'DMA_TO_DEVICE copies at map time');
    assert.equal(v.dmaLimit, 0xffff_ffff);
  });

  test('a 64-bit device is direct; a 36-bit one bounces above 64 GiB on a 128 GiB machine', async () => {
    const a = await analyzeC(drv('64', '\tx->dma = dma_map_single(&pdev->dev, buf, 1522, DMA_TO_DEVICE);'));
    const v = a.verdicts.get(a.sites[1]?.id as number);
    assert.equal(v?.status, 'direct');
    assert.equal(v?.lens, 'direct: 64-bit dma_mask reaches all memory');
    const b = await analyzeC(drv('36', '\tx->dma = dma_map_single(&pdev->dev, buf, 1522, DMA_TO_DEVICE);', '// swiotlb-file: ram=128G'));
    assert.equal(b.verdicts.get(b.sites[1]?.id as number)?.lens, 'bounces above 64 GiB: beyond 36-bit dma_mask · 1 slot');
  });

  test('the platform decides: every map bounces in an SEV guest, through the pool wherever it is', async () => {
    const a = await analyzeC(drv('64', '\tx->dma = dma_map_single(&pdev->dev, buf, 4096, DMA_FROM_DEVICE);'), { platform: 'sev-guest' });
    const v = a.verdicts.get(a.sites[1]?.id as number);
    assert.equal(v?.status, 'bounces');
    assert.equal(v?.lens, 'bounces: memory encryption (SEV guest) · 2 slots');
    assert.equal(a.machine.platform.id, 'sev-guest');
    // a 32-bit device in the same guest: the pool is placed anywhere in its 16 GiB, beyond reach
    const b = await analyzeC(drv('32', '\tx->dma = dma_map_single(&pdev->dev, buf, 4096, DMA_FROM_DEVICE);'), { platform: 'sev-guest' });
    assert.equal(b.verdicts.get(b.sites[1]?.id as number)?.lens, 'fails: bounce buffer beyond the device mask');
    assert.equal(codes(b, 'bounce-beyond-mask').length, 1);
  });

  test('where=low keeps a 32-bit device direct; where=high makes it always bounce', async () => {
    const a = await analyzeC(
      drv(
        '32',
        `\t/* swiotlb: where=low */
\tx->dma = dma_map_single(&pdev->dev, buf, 64, DMA_TO_DEVICE);
\t/* swiotlb: where=high */
\tx->dma = dma_map_single(&pdev->dev, buf, 64, DMA_TO_DEVICE);`,
      ),
    );
    assert.equal(a.verdicts.get(a.sites[1]?.id as number)?.status, 'direct');
    assert.equal(a.verdicts.get(a.sites[2]?.id as number)?.lens, 'bounces: beyond 32-bit dma_mask · 1 slot');
  });

  test('no pool to bounce through: a bus limit below RAM on a small machine fails', async () => {
    const a = await analyzeC(
      drv(
        '64',
        '\t/* swiotlb: bus_dma_limit=0x3fffffff */\n\tx->dma = dma_map_single(&pdev->dev, buf, 64, DMA_TO_DEVICE);',
        '// swiotlb-file: ram=2G',
      ),
    );
    const v = a.verdicts.get(a.sites[1]?.id as number);
    assert.equal(v?.status, 'may-fail');
    assert.deepEqual(
      v?.probes.map((p) => [p.where, p.decision.result]),
      [
        ['below 1 GiB', 'direct'],
        ['below 4 GiB', 'failed'],
      ],
    );
    assert.match(v?.lens ?? '', /^fails above 1 GiB: no swiotlb pool to bounce through/);
    const d = codes(a, 'no-swiotlb')[0];
    assert.match(d?.message ?? '', /DMA addr 0x[0-9a-f]+\+64 overflow/);
  });

  test('an unknown size still gets what can be decided', async () => {
    const a = await analyzeC(drv('32', '\tx->dma = dma_map_single(&pdev->dev, buf, skb->len, DMA_TO_DEVICE);'));
    const v = a.verdicts.get(a.sites[1]?.id as number);
    assert.equal(v?.lens, 'bounces above 4 GiB: beyond 32-bit dma_mask · size unknown');
    assert.equal(v?.sizeKnown, false);
    assert.match(v?.notes.join(' ') ?? '', /annotate size=/);
  });
});

describe('will fail', () => {
  test('beyond the 256 KiB ceiling: an error where it always bounces, a warning where it may', async () => {
    const text = drv(
      '32',
      `\tx->dma = dma_map_single(&pdev->dev, buf, 300 * 1024, DMA_TO_DEVICE); /* MAY */
\t/* swiotlb: where=high */
\tx->dma = dma_map_single(&pdev->dev, buf, 300 * 1024, DMA_TO_DEVICE); /* ALWAYS */`,
    );
    const a = await analyzeC(text);
    const d = codes(a, 'too-big');
    assert.deepEqual(
      d.map((x) => [x.span.row + 1, x.severity]),
      [
        [lineOf(text, 'MAY'), 'warning'],
        [lineOf(text, 'ALWAYS'), 'error'],
      ],
    );
    assert.match(
      d[1]?.message ?? '',
      /300 KiB beyond the 256 KiB swiotlb ceiling; the kernel prints ".*swiotlb buffer is full \(sz: 307200 bytes\)/,
    );
    assert.equal(a.verdicts.get(siteAt(a, lineOf(text, 'ALWAYS')).id)?.lens, 'fails: 300 KiB beyond the 256 KiB swiotlb ceiling');
  });

  test('min_align_mask: a big buffer that starts late in its page finds no slots', async () => {
    // 254 KiB from offset 0xe00 of a page: the bounce buffer must keep that offset in a 4 KiB-aligned
    // slot pair, so its 128 slots start at an odd slot and cross a segment
    const text = drv(
      '32',
      `\t/* swiotlb: where=0x1f0000e00 */
\tx->dma = dma_map_single(&pdev->dev, buf, 254 * 1024, DMA_TO_DEVICE); /* LATE */
\t/* swiotlb: where=0x1f0000000 */
\tx->dma = dma_map_single(&pdev->dev, buf, 254 * 1024, DMA_TO_DEVICE); /* ALIGNED */`,
    ).replace('return dma_set_mask', 'dma_set_min_align_mask(&pdev->dev, 4096 - 1);\n\treturn dma_set_mask');
    // 6.12: no run of 128 slots starts at an odd slot within a segment
    const a = await analyzeC(text, { kernel: '6.12' });
    assert.equal(
      a.verdicts.get(siteAt(a, lineOf(text, 'LATE')).id)?.lens,
      'fails: no free run fits (fragmented, or ruled out by alignment)',
    );
    assert.equal(a.verdicts.get(siteAt(a, lineOf(text, 'ALIGNED')).id)?.lens, 'bounces: beyond 32-bit dma_mask · 127 slots');
    // 6.1 fails it too (depending on where the area's search starts, its search can even cycle)
    const b = await analyzeC(text, { kernel: '6.1' });
    assert.match(b.verdicts.get(siteAt(b, lineOf(text, 'LATE')).id)?.lens ?? '', /^fails: (no free run fits|slot search never returns)/);
    const setup = a.verdicts.get(a.sites.find((s) => s.api === 'dma_set_min_align_mask')?.id as number);
    assert.equal(setup?.lens, 'min_align_mask 0xfff: bounce buffers keep the offset within 4 KiB; largest mapping 252 KiB');
  });

  test('the pool runs out at the annotated depth', async () => {
    const text = drv(
      '32',
      `\t/* swiotlb: depth=600 count=2400 where=high */
\tx->dma = dma_map_single(&pdev->dev, buf, 4096, DMA_FROM_DEVICE); /* RING */
\tdma_unmap_single(&pdev->dev, x->dma, 4096, DMA_FROM_DEVICE);`,
      '// swiotlb-file: cmdline="swiotlb=1024" cpus=1',
    );
    const a = await analyzeC(text);
    const s = siteAt(a, lineOf(text, 'RING'));
    const v = a.verdicts.get(s.id);
    const w = v?.workload;
    assert.ok(w);
    assert.equal(w.maps, 2400);
    assert.equal(w.depth, 600);
    // 1024 slots hold 512 two-slot buffers: the rest of each ring fill fails
    assert.ok(w.failed > 0 && w.bounced > 0, JSON.stringify(w));
    assert.equal(w.failuresByCause['pool-full'] ?? 0 + (w.failuresByCause.fragmented ?? 0), w.failed);
    assert.equal(w.peakUsed, 1024);
    assert.match(v?.lens ?? '', /^bounces: beyond 32-bit dma_mask · 2 slots · peak pool 100 % · \d+ of 2400 maps failed$/);
    const d = codes(a, 'pool-exhausted')[0];
    assert.match(
      d?.message ?? '',
      /swiotlb buffer is full at the annotated depth 600: \d+ of 2400 maps failed .* the pool has 1024 slots \(2 MiB\)/,
    );
    // the unmap releases what the map took
    const u = a.sites.find((x) => x.api === 'dma_unmap_single');
    assert.equal(a.verdicts.get(u?.id as number)?.lens, 'releases 2 slots, copies 4 KiB back');
    // the session the panel reads has every call of the workload, at the sites' lines
    assert.equal(a.session.kind, 'source');
    const rows = a.session.events.length;
    assert.ok(rows >= 2400 + w.bounced, `${rows} rows`);
    assert.equal(a.session.events.row(0).line, lineOf(text, 'RING'));
    assert.equal(a.session.events.row(0).file, 'drv.c');
  });

  test('NVMe-style alignment waste: min_align_mask keeps the offset, padding slots follow', async () => {
    const text = drv(
      '32',
      `\t/* swiotlb: size=4096 align=512 depth=64 where=high */
\tx->dma = dma_map_single(&pdev->dev, buf, 4096, DMA_FROM_DEVICE);`,
    ).replace('return dma_set_mask', 'dma_set_min_align_mask(&pdev->dev, 4096 - 1);\n\treturn dma_set_mask');
    // 4 KiB at a 512-byte sector offset keeps that offset in its bounce buffer: 3 slots, not 2
    const a = await analyzeC(text);
    const d = codes(a, 'align-waste')[0];
    assert.ok(d, JSON.stringify(a.diagnostics));
    assert.match(d.message, /min_align_mask 0xfff keeps each buffer's offset within 4 KiB: \d+ % of the slots this site takes are padding/);
    const w = a.verdicts.get(d.site as number)?.workload;
    assert.ok(w && w.slotsTotal > w.neededTotal);
  });

  test('concurrent rings share the pool; sequential ones do not', async () => {
    const body = `\t/* swiotlb: depth=100 count=400 where=high */
\tx->dma = dma_map_single(&pdev->dev, buf, 2048, DMA_FROM_DEVICE);
\t/* swiotlb: depth=100 count=400 where=high */
\tx->dma = dma_map_single(&pdev->dev, buf, 2048, DMA_TO_DEVICE);`;
    const together = await analyzeC(drv('32', body));
    const apart = await analyzeC(drv('32', body, '// swiotlb-file: mix=sequential'));
    const peak = (a: typeof together) => Math.max(...a.sites.map((s) => a.verdicts.get(s.id)?.workload?.peakUsed ?? 0));
    assert.equal(peak(together), 200);
    assert.equal(peak(apart), 100);
  });
});

describe('Xen PV machine layout', () => {
  test('buffers that are not machine-contiguous bounce; contiguous ones of a 64-bit device do not', async () => {
    const text = drv(
      '64',
      `\t/* swiotlb: machine=scattered size=8192 */
\tx->dma = dma_map_single(&pdev->dev, buf, 8192, DMA_TO_DEVICE); /* S */
\tx->dma = dma_map_single(&pdev->dev, buf, 8192, DMA_TO_DEVICE); /* C */`,
      '// swiotlb-file: platform=xen-pv-dom0 ram=8G',
    );
    const a = await analyzeC(text);
    const s = a.verdicts.get(siteAt(a, lineOf(text, '/* S */')).id);
    assert.equal(s?.lens, 'bounces: not machine-contiguous · 4 slots');
    assert.match(s?.probes[0]?.decision.notes.join(' ') ?? '', /not machine-contiguous: pfn 0x[0-9a-f]+ maps to another machine frame/);
    assert.equal(a.verdicts.get(siteAt(a, lineOf(text, '/* C */')).id)?.status, 'direct');
  });

  test('a ballooned P2M: every multi-page buffer straddles', async () => {
    const a = await analyzeC(
      drv(
        '64',
        '\tx->dma = dma_map_single(&pdev->dev, buf, 8192, DMA_TO_DEVICE);',
        '// swiotlb-file: platform=xen-pv-dom0 ram=8G p2m=ballooned',
      ),
    );
    assert.equal(a.verdicts.get(a.sites[1]?.id as number)?.status, 'bounces');
  });
});

describe('set-up calls and options', () => {
  test('the lens of a set-up call says what the mask means on this machine', async () => {
    const a = await analyzeC(drv('32', ''));
    assert.equal(a.verdicts.get(a.sites[0]?.id as number)?.lens, 'dma_mask 32-bit: buffers above 4 GiB bounce');
  });

  test('--kernel picks the profile; a file annotation picks it when the user does not', async () => {
    const a = await analyzeC(drv('32', ''), { kernel: '6.12' });
    assert.equal(a.machine.kernel.name, '6.12');
    const b = await analyzeC(drv('32', '', '// swiotlb-file: kernel=mainline'));
    assert.equal(b.machine.kernel.name, 'mainline');
    const c = await analyzeC(drv('32', '', '// swiotlb-file: kernel=mainline'), { kernel: '5.10' });
    assert.equal(c.machine.kernel.name, '5.10');
  });
});
