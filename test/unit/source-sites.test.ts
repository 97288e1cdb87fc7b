/**
 * Finding DMA call sites with the C parser: what is a call and what is not (comments, strings,
 * #if 0, macro bodies), what the arguments are worth (#defines, enums, sizeof, kernel helpers),
 * the device and handle each call names, and half-written code.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Evaluator, SymbolScope } from '../../src/source/evaluate';
import { extractFile, parseMacroExpression } from '../../src/source/extract';
import { loadCParser } from '../../src/source/treeSitter';
import { analyzeC, extract, lineOf, siteAt } from './source-helpers';

describe('what is a call', () => {
  test('comments, strings, #if 0 and macro bodies hold no calls; #else of #if 0 does', async () => {
    const text = `
/* dma_map_single(dev, buf, 64, DMA_TO_DEVICE) in a block comment */
// dma_unmap_single(dev, h, 64, DMA_TO_DEVICE) in a line comment
static const char *s = "dma_map_page(dev, p, 0, 4096, DMA_FROM_DEVICE)";
#define WRAP(d, b) dma_map_single(d, b, 128, DMA_TO_DEVICE)
#if 0
static void dead(struct device *dev) { dma_map_single(dev, buf, 1, DMA_TO_DEVICE); }
#elif 0
static void dead2(struct device *dev) { dma_map_sg(dev, sg, 1, DMA_TO_DEVICE); }
#else
static void live(struct device *dev) { dma_map_single(dev, buf, 2, DMA_TO_DEVICE); /* LIVE */ }
#endif
#if 1
static void also_live(struct device *dev) { dma_sync_single_for_cpu(dev, h, 2, DMA_TO_DEVICE); }
#else
static void dead3(struct device *dev) { dma_unmap_page(dev, h, 2, DMA_TO_DEVICE); }
#endif
#ifdef CONFIG_FOO
static void config(struct device *dev) { dma_free_coherent(dev, 64, p, h); }
#endif
static void f(struct device *dev)
{
#if 0
	dma_alloc_coherent(dev, 64, &h, GFP_KERNEL);
#endif
	x = WRAP(dev, buf);
}
`;
    const pf = await extract(text);
    assert.deepEqual(
      pf.sites.map((s) => [s.api, s.span.row + 1]),
      [
        ['dma_map_single', lineOf(text, 'LIVE')],
        ['dma_sync_single_for_cpu', lineOf(text, 'also_live')],
        // #ifdef: the configuration is not known, both branches count
        ['dma_free_coherent', lineOf(text, 'CONFIG_FOO') + 1],
      ],
    );
    // #if 0, #elif 0, #if 1 (its #else is dead) and the #if 0 inside f
    assert.equal(pf.deadRegions, 4);
    // the macro is known as a symbol, and its use is a call of something else, noted when asked for
    assert.ok(pf.symbols.macros.get('WRAP')?.params);
    assert.equal(pf.otherCalls.size, 0);
    const watched = extractFile('t.c', text, { watch: new Set(['WRAP']) });
    assert.deepEqual(
      watched.otherCalls.get('WRAP')?.map((sp) => sp.row + 1),
      [lineOf(text, 'WRAP(dev, buf)')],
    );
  });

  test('every DMA API family is found, with file, line, column and function', async () => {
    const text = `static int all(struct pci_dev *pdev, struct device *dev)
{
	a = dma_map_single_attrs(dev, p, 8, DMA_TO_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
	b = dma_map_page(dev, pg, 0, 4096, DMA_FROM_DEVICE);
	n = dma_map_sg(dev, sgl, 4, DMA_BIDIRECTIONAL);
	r = dma_map_sgtable(dev, sgt, DMA_TO_DEVICE, 0);
	c = dma_map_resource(dev, 0xfe000000, 4096, DMA_TO_DEVICE, 0);
	dma_sync_sg_for_device(dev, sgl, 4, DMA_BIDIRECTIONAL);
	v = dmam_alloc_coherent(dev, 4096, &h, GFP_KERNEL);
	w = dma_alloc_noncoherent(dev, 4096, &h2, DMA_FROM_DEVICE, GFP_KERNEL);
	pool = dma_pool_create("x", dev, 64, 64, 0);
	q = dma_pool_zalloc(pool, GFP_KERNEL, &h3);
	dma_pool_free(pool, q, h3);
	dma_set_seg_boundary(dev, 0xffff);
	dma_set_max_seg_size(dev, 65536);
	m = pci_map_single(pdev, p, 64, PCI_DMA_TODEVICE);
	pci_unmap_single(pdev, m, 64, PCI_DMA_TODEVICE);
	pci_set_dma_mask(pdev, DMA_BIT_MASK(32));
}
`;
    const a = await analyzeC(text, { simulate: false });
    assert.deepEqual(
      a.sites.map((s) => s.api),
      [
        'dma_map_single_attrs',
        'dma_map_page',
        'dma_map_sg',
        'dma_map_sgtable',
        'dma_map_resource',
        'dma_sync_sg_for_device',
        'dmam_alloc_coherent',
        'dma_alloc_noncoherent',
        'dma_pool_create',
        'dma_pool_zalloc',
        'dma_pool_free',
        'dma_set_seg_boundary',
        'dma_set_max_seg_size',
        'pci_map_single',
        'pci_unmap_single',
        'pci_set_dma_mask',
      ],
    );
    const s = siteAt(a, 3);
    assert.equal(s.file, 'drv.c');
    assert.equal(s.raw.span.col, 5);
    assert.equal(s.function, 'all');
    assert.equal(s.attrs?.value, 0x20);
    assert.equal(siteAt(a, 16).dir?.text, 'PCI_DMA_TODEVICE');
    assert.equal(siteAt(a, 16).dir?.value, 1);
    // the legacy wrappers take the pci_dev: its struct device is what set-up calls configure
    assert.equal(siteAt(a, 16).deviceKey, 'pdev->dev');
    assert.equal(siteAt(a, 5).nents?.value, 4);
  });

  test('an alias macro makes calls sites; a wrapping macro is reported where it is used', async () => {
    const text = `#define my_map dma_map_single
#define MAP_RX(d, b) dma_map_single(d, b, 2048, DMA_FROM_DEVICE)
static void f(struct device *dev)
{
	x = my_map(dev, buf, 64, DMA_TO_DEVICE);
	y = MAP_RX(dev, buf);
}
`;
    const a = await analyzeC(text, { simulate: false });
    assert.equal(a.sites.length, 1);
    assert.equal(a.sites[0]?.api, 'dma_map_single');
    assert.equal(a.sites[0]?.raw.via, 'my_map');
    const hidden = a.diagnostics.filter((d) => d.code === 'hidden-call');
    assert.deepEqual(
      hidden.map((d) => d.span.row + 1),
      [2, 6],
    );
    assert.match(hidden[1]?.message ?? '', /MAP_RX\(\) hides dma_map_single \(macro at drv\.c:2\)/);
  });

  test('half-written code: calls that parse are found, those that do not are reported', async () => {
    const text = `static void f(struct device *dev)
{
	a = dma_map_single(dev, buf, 64, DMA_TO_DEVICE);
	if (x) {
		dma_unmap_single(dev, a, 64,
}
`;
    const a = await analyzeC(text, { simulate: false });
    assert.deepEqual(
      a.sites.map((s) => s.api),
      ['dma_map_single'],
    );
    const inc = a.diagnostics.find((d) => d.code === 'incomplete-call');
    assert.ok(inc, JSON.stringify(a.diagnostics));
    assert.equal(inc.span.row + 1, 5);
    assert.ok(a.diagnostics.some((d) => d.code === 'parse-error'));
  });
});

describe('argument values', () => {
  test('literals, #defines (nested, function-like), enums, sizeof of structs, kernel helpers', async () => {
    const text = `#define RX_BUF (2048 + NET_SKB_PAD)
#define RING 256
#define BYTES(n) ((n) * sizeof(struct desc))
enum { A = 3, B, C = A << 2 };
struct desc { u32 a; u64 b[4]; u8 c:3, d:5; };
struct pk { u8 a; __le32 b; } __packed;
union u { u16 x; u64 y; };
typedef struct desc desc_t;
static const int ring_entries = 16;
static int f(struct device *dev, struct desc *d, desc_t *t)
{
	const unsigned int hdr = 14;
	unsigned int len = 100;
	h = dma_map_single(dev, buf, RX_BUF, DMA_FROM_DEVICE); /* L1 */
	h = dma_map_single(dev, buf, BYTES(RING), DMA_FROM_DEVICE); /* L2 */
	h = dma_map_single(dev, buf, sizeof(*d) + C + B, DMA_FROM_DEVICE); /* L3 */
	h = dma_map_single(dev, buf, sizeof(struct pk), DMA_FROM_DEVICE); /* L4 */
	h = dma_map_single(dev, buf, ALIGN(1500, 64), DMA_FROM_DEVICE); /* L5 */
	h = dma_map_single(dev, buf, sizeof(d->b), DMA_FROM_DEVICE); /* L6 */
	h = dma_map_single(dev, buf, sizeof(union u) * ring_entries, DMA_FROM_DEVICE); /* L7 */
	h = dma_map_single(dev, buf, sizeof(*t) + hdr, DMA_FROM_DEVICE); /* L8 */
	h = dma_map_single(dev, buf, len, DMA_FROM_DEVICE); /* L9 */
	h = dma_map_single(dev, buf, skb->len, DMA_FROM_DEVICE); /* L10 */
	h = dma_map_single(dev, buf, DIV_ROUND_UP(9000, PAGE_SIZE) * SZ_4K, DMA_FROM_DEVICE); /* L11 */
	h = dma_map_single(dev, buf, 0x800UL, DMA_FROM_DEVICE); /* L12 */
}
`;
    const a = await analyzeC(text, { simulate: false });
    const size = (marker: string) => siteAt(a, lineOf(text, marker)).size?.value;
    assert.equal(size('L1'), 2112);
    assert.equal(size('L2'), 256 * 48);
    assert.equal(size('L3'), 48 + 12 + 4);
    assert.equal(size('L4'), 5, 'packed');
    assert.equal(size('L5'), 1536);
    assert.equal(size('L6'), 32);
    assert.equal(size('L7'), 8 * 16, 'union of u16 and u64, const global');
    assert.equal(size('L8'), 48 + 14, 'typedef, const local');
    assert.equal(size('L9'), undefined, 'a variable is a run-time value');
    assert.equal(size('L10'), undefined);
    assert.equal(size('L11'), 3 * 4096);
    assert.equal(size('L12'), 2048);
    const trail = siteAt(a, lineOf(text, 'L1')).size?.trail ?? [];
    assert.deepEqual(
      trail.map((t) => t.name),
      ['NET_SKB_PAD', 'RX_BUF'],
    );
    assert.match(trail[1]?.where ?? '', /#define at drv\.c:1/);
  });

  test('#defines from #include "..." headers and from the driver folder', async () => {
    const a = await analyzeC(
      `#include "regs.h"
static void f(struct device *dev) {
	h = dma_map_single(dev, buf, SW_BUF * 2, DMA_TO_DEVICE);
	h = dma_map_single(dev, buf, sizeof(struct sw_desc), DMA_TO_DEVICE);
	h = dma_map_single(dev, buf, OTHER_SIZE, DMA_TO_DEVICE);
}
`,
      { simulate: false },
      {
        'regs.h': '#include "sub/more.h"\n#define SW_BUF 1024\n',
        'sub/more.h': 'struct sw_desc { u64 a, b; };\n',
        'other.h': '#define OTHER_SIZE 77\n',
      },
    );
    assert.deepEqual(
      a.sites.map((s) => s.size?.value),
      [2048, 16, 77],
    );
  });

  test('masks fold to 64-bit values; direction macros resolve', async () => {
    const a = await analyzeC(
      `#define MY_DIR DMA_FROM_DEVICE
static void f(struct device *dev) {
	dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	dma_set_mask(dev, DMA_BIT_MASK(40));
	dma_set_min_align_mask(dev, 4096 - 1);
	h = dma_map_single(dev, buf, 64, MY_DIR);
	h = dma_map_single(dev, buf, 64, is_tx ? DMA_TO_DEVICE : DMA_FROM_DEVICE);
}
`,
      { simulate: false },
    );
    assert.equal(a.sites[0]?.setValue?.value, 0xffff_ffff_ffff_ffffn);
    assert.equal(a.sites[1]?.setValue?.value, 0xff_ffff_ffffn);
    assert.equal(a.sites[2]?.setValue?.value, 0xfffn);
    assert.equal(a.sites[3]?.dir?.value, 2);
    assert.equal(a.sites[4]?.dir?.value, undefined);
    assert.equal(a.sites[4]?.dir?.text, 'is_tx ? DMA_TO_DEVICE : DMA_FROM_DEVICE');
  });

  test('the evaluator refuses what does not fold, and never loops on recursive macros', async () => {
    await loadCParser();
    const pf = extractFile('t.c', '#define A (B + 1)\n#define B (A + 1)\n#define Z (1 / 0)\nenum { E1 = E2, E2 = E1 };\n');
    const ev = new Evaluator(new SymbolScope([pf.symbols]), parseMacroExpression);
    assert.equal(ev.value({ k: 'id', name: 'A' }), undefined);
    assert.equal(ev.value({ k: 'id', name: 'Z' }), undefined);
    assert.equal(ev.value({ k: 'id', name: 'E1' }), undefined);
    assert.equal(ev.value({ k: 'id', name: 'PAGE_SIZE' }), 4096n);
  });
});

describe('devices and handles', () => {
  test('device expressions through locals and members group into one key', async () => {
    const a = await analyzeC(
      `static int probe(struct pci_dev *pdev) {
	struct device *dev = &pdev->dev;
	dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32));
	return 0;
}
static void io(struct priv *priv) {
	h = dma_map_single(&priv->pdev->dev, buf, 64, DMA_TO_DEVICE);
	h = dma_map_single(priv->dev, buf, 64, DMA_TO_DEVICE);
}
`,
      { simulate: false },
    );
    assert.deepEqual(
      a.sites.map((s) => s.deviceKey),
      ['pdev->dev', 'pdev->dev', 'dev'],
    );
    const d = a.devices.find((x) => x.key === 'pdev->dev');
    assert.equal(d?.view.dmaMask.value, 0xffff_ffffn);
    // priv->dev is a different expression: the driver's only configured device is the one
    const other = a.devices.find((x) => x.key === 'dev');
    assert.equal(other?.view.configuredAs, 'pdev->dev');
    assert.equal(other?.view.dmaMask.value, 0xffff_ffffn);
  });

  test('no set-up call: the 32-bit default of a PCI device, said so', async () => {
    const a = await analyzeC('static void f(struct device *dev) { h = dma_map_single(dev, b, 64, DMA_TO_DEVICE); }\n', { simulate: false });
    assert.match(a.devices[0]?.view.dmaMask.from ?? '', /no dma_set_mask in the driver: the 32-bit default/);
  });

  test('a fallback mask chain: the first request counts, the fallback is listed', async () => {
    const a = await analyzeC(
      `static int probe(struct pci_dev *pdev) {
	if (dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64)))
		return dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(32));
	return 0;
}
`,
      { simulate: false },
    );
    const v = a.devices[0]?.view;
    assert.equal(v?.dmaMask.value, 0xffff_ffff_ffff_ffffn);
    assert.equal(v?.dmaMask.alternatives[0]?.value, 0xffff_ffffn);
  });

  test('handles: members, locals stored into members, unmap-state macros, conversions', async () => {
    const a = await analyzeC(
      `struct rxb { dma_addr_t dma; };
struct txb { dma_addr_t mapping; };
static void f(struct device *dev, struct rxb *rb, struct txb *tb, struct hw_desc *desc) {
	dma_addr_t m;
	rb->dma = dma_map_single(dev, a, 64, DMA_FROM_DEVICE);
	m = dma_map_single(dev, b, 64, DMA_TO_DEVICE);
	dma_unmap_addr_set(tb, mapping, m);
	desc->addr = cpu_to_le64(m);
	dma_unmap_single(dev, dma_unmap_addr(tb, mapping), 64, DMA_TO_DEVICE);
	dma_unmap_single(dev, le64_to_cpu(desc->addr), 64, DMA_TO_DEVICE);
}
`,
      { simulate: false },
    );
    const [rx, tx, u1, u2] = a.sites;
    assert.deepEqual(rx?.handles, [{ key: 'dma', local: false, type: 'struct rxb' }]);
    assert.deepEqual(
      tx?.handles.map((h) => h.key),
      ['mapping', 'addr'],
    );
    assert.equal(tx?.handles[0]?.type, 'struct txb');
    assert.equal(u1?.handles[0]?.key, 'mapping');
    assert.equal(u2?.handles[0]?.key, 'addr');
    assert.equal(a.pairs.length, 1);
    assert.deepEqual(a.pairs[0]?.unmaps, [u1?.id, u2?.id]);
  });

  test('a site keeps what its arguments resolved to, not their syntax trees or its function (memory of big trees)', async () => {
    const a = await analyzeC(
      `static void f(struct device *dev, struct priv *p, struct scatterlist *sg, int i, int n) {
	p->nents[i] = dma_map_sg(dev, p->sg, n, DMA_TO_DEVICE);
	dma_unmap_sg(dev, p->sg, (int)p->nents[i], DMA_TO_DEVICE);
}
`,
      { simulate: false },
    );
    const [map, unmap] = a.sites;
    for (const s of a.sites) {
      assert.equal('fn' in s, false);
      assert.deepEqual(Object.keys(s.raw).sort(), ['fn', 'inError', 'nameSpan', 'span']);
    }
    // what the unmap-sg-nents check needs, read when the site was built
    assert.deepEqual(map?.resultRef, { key: 'p->nents[]', text: 'p->nents[i]', local: false });
    assert.deepEqual(unmap?.nentsRef, { key: 'p->nents[]', text: 'p->nents[i]', local: false });
    assert.equal(a.diagnostics.filter((d) => d.code === 'unmap-sg-nents').length, 1);
  });
});
