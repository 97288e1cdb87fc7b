/**
 * What a driver's panel and report say beside the annotated workload: the map sites the probes
 * show failing are counted once (SourceAnalysis.willFail) and shown beside the workload's figures,
 * so "Failures 0" of a workload never stands alone against diagnostics that say a map will fail.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { analyzeRoute } from '../../src/inputs/analyze';
import { routeInputs } from '../../src/inputs/router';
import { formatSource } from '../../src/source/report';
import { driver, lineOf } from './source-helpers';

const WILL_FAIL_CODES = new Set(['too-big', 'no-swiotlb', 'bounce-beyond-mask', 'livelock', 'will-fail']);

/** A 32-bit device: one map past the 256 KiB ceiling wherever its buffer is, one where it is high, one that only bounces. */
function drv(workload = ''): string {
  return `static int probe(struct pci_dev *pdev) {
	return dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(32));
}
struct b { dma_addr_t dma; dma_addr_t big; dma_addr_t high; };
static void io(struct pci_dev *pdev, struct b *x, void *buf) {
	/* swiotlb: where=high */
	x->high = dma_map_single(&pdev->dev, buf, 300 * 1024, DMA_TO_DEVICE); /* ALWAYS */
	x->big = dma_map_single(&pdev->dev, buf, 300 * 1024, DMA_TO_DEVICE); /* MAY */
	${workload}
	x->dma = dma_map_single(&pdev->dev, buf, 1522, DMA_TO_DEVICE); /* SMALL */
}
static void done(struct pci_dev *pdev, struct b *x) {
	dma_unmap_single(&pdev->dev, x->high, 300 * 1024, DMA_TO_DEVICE);
	dma_unmap_single(&pdev->dev, x->big, 300 * 1024, DMA_TO_DEVICE);
	dma_unmap_single(&pdev->dev, x->dma, 1522, DMA_TO_DEVICE);
}
`;
}

async function analyze(text: string) {
  const dir = driver({ 'drv.c': text });
  const a = await analyzeRoute(await routeInputs([path.join(dir, 'drv.c')]), { source: { root: dir } });
  assert.equal(a.kind, 'source');
  return a as Extract<typeof a, { kind: 'source' }>;
}

describe('the will-fail sites beside the workload', () => {
  test('no workload: the diagnostics say two maps fail, the summary says so, the cards count nothing', async () => {
    const text = drv();
    const r = await analyze(text);
    const a = r.analysis;
    // the oracle: the diagnostics themselves
    const failing = a.diagnostics.filter((d) => WILL_FAIL_CODES.has(d.code));
    assert.deepEqual(
      failing.map((d) => [d.span.row + 1, d.code, d.severity]),
      [
        [lineOf(text, 'ALWAYS'), 'too-big', 'error'],
        [lineOf(text, 'MAY'), 'too-big', 'warning'],
      ],
    );
    assert.deepEqual(a.willFail, {
      always: failing.filter((d) => d.severity === 'error').length,
      sometimes: failing.filter((d) => d.severity === 'warning').length,
      byCause: { 'too-big': 2 },
      first: failing.map((d) => d.site),
    });
    // the books count the workload's calls: none ran
    assert.equal(r.session.summary.maps, 0);
    assert.equal(r.session.summary.failed, 0);
    const said = `2 map call sites will fail: 1 wherever the buffer is, 1 at some placements of it (2 too-big): dma_map_single at drv.c:${lineOf(text, 'ALWAYS')}; dma_map_single at drv.c:${lineOf(text, 'MAY')}. Each has its diagnostic.`;
    assert.equal(r.extras.advice, `${said} The figures above count the annotated workload: none ran (no site has depth= or count=).`);
    assert.ok(r.extras.notes?.includes(said), r.extras.notes?.join('\n'));
    assert.match(formatSource(a), new RegExp(`\\nfailing   ${said.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
  });

  test('with a workload: its figures and the will-fail sites side by side', async () => {
    const text = drv('/* swiotlb: depth=8 count=32 where=high */');
    const r = await analyze(text);
    const s = r.session.summary;
    assert.equal(s.maps, 32);
    assert.equal(s.failed, 0);
    assert.equal(r.analysis.willFail.always + r.analysis.willFail.sometimes, 2);
    assert.match(
      r.extras.advice ?? '',
      /^2 map call sites will fail: .* The figures above count the annotated workload: 32 maps, 0 failed\.$/,
    );
  });

  test('nothing fails: no will-fail sentence, no advice', async () => {
    const text = drv().replace(/300 \* 1024/g, '4096');
    const r = await analyze(text);
    assert.deepEqual(r.analysis.willFail, { always: 0, sometimes: 0, byCause: {}, first: [] });
    assert.equal(r.extras.advice, undefined);
    assert.ok(!r.extras.notes?.some((n) => n.includes('will fail')));
    assert.doesNotMatch(formatSource(r.analysis), /will fail/);
  });
});
