/**
 * The CodeLens opens its site's explanation as the hover renders it: at the start of the call's
 * name, where the hover finds that very site, also for a call inside another call's arguments.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { explainPosition, explainSite, siteAtPosition } from '../../src/source/explain';
import { analyzeC, lineOf, siteAt } from './source-helpers';

const TEXT = `static int probe(struct pci_dev *pdev) {
	return dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(32));
}
static void io(struct pci_dev *pdev, void *buf) {
	dma_unmap_single(&pdev->dev, dma_map_single(&pdev->dev, buf, 64, DMA_TO_DEVICE), 64, DMA_TO_DEVICE); /* NESTED */
	dma_addr_t d = dma_map_single(&pdev->dev,
		buf, 2048, DMA_FROM_DEVICE); /* SPLIT */
	dma_unmap_single(&pdev->dev, d, 2048, DMA_FROM_DEVICE);
}
`;

describe('the CodeLens explanation', () => {
  test('opens where the hover explains the same site: nested and multi-line calls', async () => {
    const a = await analyzeC(TEXT);
    const nested = lineOf(TEXT, 'NESTED');
    const outer = siteAt(a, nested, 'dma_unmap_single');
    const inner = siteAt(a, nested, 'dma_map_single');
    // the oracle: the columns of the names in the text
    const row = TEXT.split('\n')[nested - 1] as string;
    assert.deepEqual(explainPosition(outer), { line: nested - 1, character: row.indexOf('dma_unmap_single') });
    assert.deepEqual(explainPosition(inner), { line: nested - 1, character: row.indexOf('dma_map_single') });
    for (const s of a.sites) {
      const at = explainPosition(s);
      assert.equal(siteAtPosition(a.sites, at.line, at.character)?.id, s.id, `${s.api} at line ${s.raw.span.row + 1}`);
    }
    // inside the inner call's arguments: the inner call; past it, in the outer's: the outer
    assert.equal(siteAtPosition(a.sites, nested - 1, row.indexOf('buf, 64'))?.id, inner.id);
    assert.equal(siteAtPosition(a.sites, nested - 1, row.indexOf('64, DMA_TO_DEVICE); /*'))?.id, outer.id);
    // a multi-line call, on its second line; nothing outside the calls
    assert.equal(siteAtPosition(a.sites, lineOf(TEXT, 'SPLIT') - 1, 3)?.id, siteAt(a, lineOf(TEXT, 'SPLIT') - 1, 'dma_map_single').id);
    assert.equal(siteAtPosition(a.sites, 0, 0), undefined);
  });

  test('the explanation is the hover Markdown (rendered there, not printed raw)', async () => {
    const a = await analyzeC(TEXT);
    const md = explainSite(siteAt(a, lineOf(TEXT, 'SPLIT') - 1, 'dma_map_single'), a);
    assert.match(md, /\*\*/);
    assert.match(md, /dma_map_single/);
  });
});
