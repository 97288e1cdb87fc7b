/**
 * Maps paired with their unmaps and syncs within a driver, and the bug classes the DMA-API debug
 * code reports at run time, found in the source; handles that are only locals accuse nobody.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyzeSource } from '../../src/source/analyze';
import { analyzeC, codes, driver, lineOf } from './source-helpers';

const HEADER = `struct rxb { struct sk_buff *skb; dma_addr_t dma; };
struct txb { struct sk_buff *skb; dma_addr_t mapping; u32 len; };
#define RX_SIZE 2048
`;

describe('pairs', () => {
  test('map, sync and unmap of one handle across functions and files pair up', async () => {
    const dir = driver({
      'rx.c': `${HEADER}
static void refill(struct device *dev, struct rxb *b) {
	b->dma = dma_map_single(dev, b->skb->data, RX_SIZE, DMA_FROM_DEVICE); /* MAP */
}
`,
      'clean.c': `${HEADER}
static void clean(struct device *dev, struct rxb *b) {
	dma_sync_single_for_cpu(dev, b->dma, RX_SIZE, DMA_FROM_DEVICE);
	dma_unmap_single(dev, b->dma, RX_SIZE, DMA_FROM_DEVICE);
}
`,
    });
    const a = await analyzeSource([dir], { root: dir, simulate: false });
    assert.equal(a.pairs.length, 1);
    const p = a.pairs[0];
    assert.equal(p?.handle, 'struct rxb.dma');
    const api = (id: number) => a.sites.find((s) => s.id === id)?.api;
    assert.equal(api(p?.map as number), 'dma_map_single');
    assert.deepEqual(p?.unmaps.map(api), ['dma_unmap_single']);
    assert.deepEqual(p?.syncs.map(api), ['dma_sync_single_for_cpu']);
    assert.deepEqual(
      codes(a).filter((d) => d.code !== 'parse-error'),
      [],
    );
  });

  test('coherent allocations pair with their frees; devres allocations need none', async () => {
    const a = await analyzeC(
      `struct ring { void *desc; dma_addr_t desc_dma; };
static int alloc(struct device *dev, struct ring *r) {
	r->desc = dma_alloc_coherent(dev, 4096, &r->desc_dma, GFP_KERNEL);
	x = dmam_alloc_coherent(dev, 4096, &r->other, GFP_KERNEL);
	return 0;
}
static void release(struct device *dev, struct ring *r) {
	dma_free_coherent(dev, 4096, r->desc, r->desc_dma);
}
`,
      { simulate: false },
    );
    assert.equal(a.pairs.length, 1);
    assert.equal(a.pairs[0]?.handle, 'struct ring.desc_dma');
    assert.deepEqual(codes(a, 'unpaired-map'), []);
    assert.deepEqual(codes(a, 'unreleased-map'), []);
  });
});

describe('bugs', () => {
  test('a map no unmap ever releases', async () => {
    const text = `static void f(struct device *dev, struct priv *p) {
	p->stats = dma_map_single(dev, p->buf, 64, DMA_FROM_DEVICE);
}
`;
    const a = await analyzeC(text, { simulate: false });
    const d = codes(a, 'unpaired-map');
    assert.equal(d.length, 1);
    assert.match(d[0]?.message ?? '', /no dma_unmap_single anywhere in this driver/);
  });

  test('a map whose member no unmap reads, while every unmap says what it releases', async () => {
    const text = `${HEADER}
static void f(struct device *dev, struct rxb *b, struct priv *p) {
	b->dma = dma_map_single(dev, b->skb->data, RX_SIZE, DMA_FROM_DEVICE);
	p->stats_dma = dma_map_single(dev, p->stats, 64, DMA_FROM_DEVICE); /* LEAK */
	dma_unmap_single(dev, b->dma, RX_SIZE, DMA_FROM_DEVICE);
}
`;
    const a = await analyzeC(text, { simulate: false });
    const d = codes(a, 'unreleased-map');
    assert.deepEqual(
      d.map((x) => x.span.row + 1),
      [lineOf(text, 'LEAK')],
    );
    assert.match(d[0]?.message ?? '', /keeps its handle in struct priv\.stats_dma/);
    // an unmap through a parameter could release anything: then nobody is accused
    const b = await analyzeC(
      `${text}static void g(struct device *dev, dma_addr_t addr) { dma_unmap_single(dev, addr, 64, DMA_FROM_DEVICE); }\n`,
      {
        simulate: false,
      },
    );
    assert.deepEqual(codes(b, 'unreleased-map'), []);
  });

  test('an unmap with another direction; a sync of a bidirectional mapping may go either way', async () => {
    const text = `${HEADER}
static void f(struct device *dev, struct txb *t, struct rxb *b) {
	t->mapping = dma_map_single(dev, t->skb->data, t->len, DMA_TO_DEVICE);
	b->dma = dma_map_single(dev, b->skb->data, RX_SIZE, DMA_BIDIRECTIONAL);
	dma_unmap_single(dev, t->mapping, t->len, DMA_FROM_DEVICE); /* WRONG */
	dma_sync_single_for_cpu(dev, b->dma, RX_SIZE, DMA_FROM_DEVICE); /* FINE */
	dma_sync_single_for_device(dev, t->mapping, t->len, DMA_FROM_DEVICE); /* WRONG SYNC */
	dma_unmap_single(dev, b->dma, RX_SIZE, DMA_TO_DEVICE); /* WRONG TOO */
}
`;
    const a = await analyzeC(text, { simulate: false });
    assert.deepEqual(
      codes(a, 'dir-mismatch').map((d) => d.span.row + 1),
      [lineOf(text, 'WRONG */'), lineOf(text, 'WRONG SYNC'), lineOf(text, 'WRONG TOO')],
    );
    assert.match(
      codes(a, 'dir-mismatch')[0]?.message ?? '',
      /with DMA_FROM_DEVICE, but dma_map_single at line 6 mapped struct txb\.mapping with DMA_TO_DEVICE/,
    );
  });

  test('an unmap of another size; a sync beyond the mapping', async () => {
    const text = `${HEADER}
static void f(struct device *dev, struct rxb *b) {
	b->dma = dma_map_single(dev, b->skb->data, RX_SIZE, DMA_FROM_DEVICE);
	dma_sync_single_range_for_cpu(dev, b->dma, 1024, 1500, DMA_FROM_DEVICE); /* BEYOND */
	dma_unmap_single(dev, b->dma, 4096, DMA_FROM_DEVICE); /* SIZE */
}
`;
    const a = await analyzeC(text, { simulate: false });
    assert.deepEqual(
      codes(a, 'size-mismatch').map((d) => d.span.row + 1),
      [lineOf(text, 'BEYOND'), lineOf(text, '/* SIZE */')],
    );
    assert.match(codes(a, 'size-mismatch')[1]?.message ?? '', /releases 4096 bytes, but dma_map_single at line 6 mapped 2048 \(RX_SIZE\)/);
  });

  test('the wrong release function; dma_unmap_sg given the count dma_map_sg returned', async () => {
    const text = `struct req { struct scatterlist *sg; int nents; dma_addr_t cmd_dma; };
static int f(struct device *dev, struct req *r) {
	int n = dma_map_sg(dev, r->sg, r->nents, DMA_TO_DEVICE);
	r->cmd_dma = dma_map_single(dev, r->cmd, 64, DMA_TO_DEVICE);
	if (!n)
		return -EIO;
	dma_unmap_sg(dev, r->sg, n, DMA_TO_DEVICE); /* COUNT */
	dma_unmap_sg(dev, r->sg, r->nents, DMA_TO_DEVICE);
	dma_free_coherent(dev, 64, r->cmd, r->cmd_dma); /* FUNCTION */
	return 0;
}
`;
    const a = await analyzeC(text, { simulate: false });
    assert.deepEqual(
      codes(a, 'unmap-sg-nents').map((d) => d.span.row + 1),
      [lineOf(text, 'COUNT')],
    );
    assert.deepEqual(
      codes(a, 'wrong-unmap-function').map((d) => d.span.row + 1),
      [lineOf(text, 'FUNCTION')],
    );
    assert.match(codes(a, 'wrong-unmap-function')[0]?.message ?? '', /it should be dma_unmap_single/);
  });

  test('dma_unmap_sg given the count dma_map_sg returned, kept in an indexed member and released in another function', async () => {
    const text = `struct priv { struct scatterlist *sg[8]; int nents[8]; int orig[8]; };
static int map(struct device *dev, struct priv *priv, int i) {
	priv->nents[i] = dma_map_sg(dev, priv->sg[i], priv->orig[i], DMA_FROM_DEVICE);
	return priv->nents[i] ? 0 : -EIO;
}
static void unmap(struct device *dev, struct priv *priv, int j) {
	dma_unmap_sg(dev, priv->sg[j], priv->nents[j], DMA_FROM_DEVICE); /* COUNT */
}
static void unmap_right(struct device *dev, struct priv *priv, int j) {
	dma_unmap_sg(dev, priv->sg[j], priv->orig[j], DMA_FROM_DEVICE);
}
`;
    const a = await analyzeC(text, { simulate: false });
    assert.deepEqual(
      codes(a, 'unmap-sg-nents').map((d) => d.span.row + 1),
      [lineOf(text, 'COUNT')],
    );
    assert.match(codes(a, 'unmap-sg-nents')[0]?.message ?? '', /is given priv->nents\[j\], the count dma_map_sg returned at line 3/);
  });

  test('locals reused for mappings of other origins are not accused', async () => {
    // the page pool made this mapping, not the dma_map_single above it
    const a = await analyzeC(
      `static void xmit(struct device *dev, struct frame *f, bool redirect) {
	dma_addr_t dma;
	if (redirect)
		dma = dma_map_single(dev, f->data, f->len, DMA_TO_DEVICE);
	else
		dma = page_pool_get_dma_addr(f->page);
	dma_sync_single_for_device(dev, dma, f->len, DMA_BIDIRECTIONAL);
	dma_unmap_single(dev, dma, f->len, DMA_TO_DEVICE);
}
`,
      { simulate: false },
    );
    assert.deepEqual(codes(a, 'dir-mismatch'), []);
    assert.equal(a.pairs.length, 1, 'still paired for the simulation');
  });
});
