/**
 * The annotation grammar: keys and values, the three scopes and what each attaches to, and every
 * mistake reported at its exact position.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { analyzeSource } from '../../src/source/analyze';
import { fileAnnotations, mergeHints, parseAnnotationComment, parseSettingsHints } from '../../src/source/annotations';
import type { CommentInfo } from '../../src/source/types';
import { analyzeC, driver, extract, lineOf, siteAt } from './source-helpers';

function comment(text: string, row = 10, col = 4): CommentInfo {
  const lines = text.split('\n');
  const endRow = row + lines.length - 1;
  return { text, span: { row, col, endRow, endCol: lines.length > 1 ? (lines.at(-1) as string).length : col + text.length }, fn: 0 };
}

describe('grammar', () => {
  test('keys and values of every kind', () => {
    const [a] = parseAnnotationComment(
      comment(
        '/* swiotlb: size=64..1522 depth=256 count=10000 where=low:1,high:3 align=4K cpu=0-3 dir=DMA_FROM_DEVICE sg=8 machine=scattered dma_mask=32 min_align_mask=0xfff coherent=no */',
      ),
    );
    assert.ok(a);
    assert.equal(a.scope, 'call');
    assert.deepEqual(a.problems, []);
    assert.deepEqual(a.hints.size, { kind: 'uniform', min: 64, max: 1522 });
    assert.equal(a.hints.depth, 256);
    assert.equal(a.hints.count, 10000);
    assert.deepEqual(a.hints.where, {
      kind: 'mix',
      parts: [
        { region: 'low', weight: 1 },
        { region: 'high', weight: 3 },
      ],
    });
    assert.equal(a.hints.align, 4096);
    assert.deepEqual(a.hints.cpu, [0, 1, 2, 3]);
    assert.equal(a.hints.dir, 2);
    assert.equal(a.hints.sg, 8);
    assert.equal(a.hints.machine, 'scattered');
    assert.equal(a.hints.dma_mask, 0xffff_ffffn);
    assert.equal(a.hints.min_align_mask, 0xfff);
    assert.equal(a.hints.coherent, false);
  });

  test('sizes: single, weighted choice, units; addresses and ranges; quoted values; aliases', () => {
    const [a] = parseAnnotationComment(
      comment('// swiotlb-file: ram=16GiB cmdline="swiotlb=65536,force" platform=xen-pv-dom0 kernel=6.1.50 p2m=ballooned'),
    );
    assert.equal(a?.scope, 'file');
    assert.deepEqual(a?.problems, []);
    assert.equal(a?.hints.ram, 16 * 2 ** 30);
    assert.equal(a?.hints.cmdline, 'swiotlb=65536,force');
    assert.equal(a?.hints.platform, 'xen-pv-dom0');
    assert.equal(a?.hints.kernel, '6.1.50');
    const [b] = parseAnnotationComment(comment('/* swiotlb: size=64:3,1522 in-flight=8 where=0x100000000..0x200000000 */'));
    assert.deepEqual(b?.problems, []);
    assert.deepEqual(b?.hints.size, {
      kind: 'choice',
      sizes: [
        { size: 64, weight: 3 },
        { size: 1522, weight: 1 },
      ],
    });
    assert.equal(b?.hints.depth, 8, 'in-flight is depth');
    assert.deepEqual(b?.hints.where, { kind: 'range', lo: 2 ** 32, hi: 2 ** 33 });
    const [c] = parseAnnotationComment(comment('/* swiotlb-function: where=0x1f0000000 skip */'));
    assert.equal(c?.scope, 'function');
    assert.deepEqual(c?.hints.where, { kind: 'range', lo: 0x1f0000000, hi: 0x1f0000001 });
    assert.equal(c?.hints.skip, true);
  });

  test('prose that mentions swiotlb is no annotation; "--" starts a remark', () => {
    assert.deepEqual(parseAnnotationComment(comment('/* swiotlb bounce buffers are slow: avoid them */')), []);
    assert.deepEqual(parseAnnotationComment(comment('/* the swiotlb: a pool of bounce buffers */')), []);
    const [a] = parseAnnotationComment(comment('/* swiotlb: depth=4 -- size=oops is a remark, not a key */'));
    assert.deepEqual(a?.problems, []);
    assert.equal(a?.hints.size, undefined);
  });

  test('annotations inside a header comment, one per paragraph', () => {
    const text = `/*
 * A driver for a device.
 *
 * swiotlb-file: ram=8G
 *   cpus=2
 *
 * More prose about swiotlb: not an annotation, it does not start the line.
 * swiotlb-function: depth=3
 */`;
    const out = parseAnnotationComment(comment(text, 0, 0));
    assert.equal(out.length, 2);
    assert.equal(out[0]?.scope, 'file');
    assert.equal(out[0]?.hints.ram, 8 * 2 ** 30);
    assert.equal(out[0]?.hints.cpus, 2);
    assert.equal(out[1]?.scope, 'function');
    assert.equal(out[1]?.hints.depth, 3);
    assert.deepEqual([...(out[0]?.problems ?? []), ...(out[1]?.problems ?? [])], []);
  });

  test('mistakes at their exact position: unknown keys (with a suggestion), bad values, wrong scope, duplicates', () => {
    //          0         1         2         3         4         5         6
    //          0123456789012345678901234567890123456789012345678901234567890123456
    const t = '/* swiotlb: deph=4 size=12Q where=moon platform=x86 depth=1 depth=2 */';
    const [a] = parseAnnotationComment(comment(t, 7, 8));
    const p = a?.problems ?? [];
    const at = (code: string) => p.filter((x) => x.code === code).map((x) => [x.span.row, x.span.col, x.span.endCol]);
    assert.deepEqual(at('annotation-unknown-key'), [[7, 8 + 12, 8 + 16]]);
    assert.equal(p.find((x) => x.code === 'annotation-unknown-key')?.suggestion, 'depth');
    assert.match(
      p.find((x) => x.code === 'annotation-unknown-key')?.message ?? '',
      /unknown annotation key "deph" \(did you mean depth\?\)/,
    );
    assert.deepEqual(at('annotation-bad-value'), [
      [7, 8 + 24, 8 + 27],
      [7, 8 + 34, 8 + 38],
    ]);
    assert.deepEqual(at('annotation-scope'), [[7, 8 + 39, 8 + 47]]);
    assert.deepEqual(at('annotation-duplicate'), [[7, 8 + 60, 8 + 65]]);
    assert.equal(a?.hints.depth, 2, 'the last one counts');
    // a key on a continuation line of a block comment
    const [b] = parseAnnotationComment(comment('/* swiotlb: depth=1\n *   sizee=2 */', 3, 1));
    const u = b?.problems[0];
    assert.deepEqual([u?.span.row, u?.span.col, u?.span.endCol], [4, 5, 10]);
  });

  test('bad values name what is expected', () => {
    const msg = (t: string) => parseAnnotationComment(comment(t))[0]?.problems.map((p) => p.message) ?? [];
    assert.match(msg('/* swiotlb: dma_mask=0x1234 */')[0] ?? '', /not of the form 2\^k-1/);
    assert.match(msg('/* swiotlb: depth=0 */')[0] ?? '', /depth must be a whole number from 1/);
    assert.match(msg('/* swiotlb: size=100..10 */')[0] ?? '', /low end is above the high end/);
    assert.match(msg('/* swiotlb: align=3 */')[0] ?? '', /power of two/);
    assert.match(msg('// swiotlb-file: kernel=4.19')[0] ?? '', /4\.19/);
    assert.match(msg('// swiotlb-file: platform=vax')[0] ?? '', /platform is one of x86, arm64/);
    assert.match(msg('/* swiotlb-everything: depth=1 */')[0] ?? '', /unknown annotation "swiotlb-everything:"/);
    assert.match(msg('/* swiotlb: cmdline="swiotlb=1 */').join(' '), /unterminated quoted value.*describes the machine/);
    assert.match(msg('/* swiotlb: =4 */')[0] ?? '', /expected key=value/);
  });

  test('settings use the file grammar; later layers override earlier ones', () => {
    const s = parseSettingsHints('ram=32G cpus=8 depth=16');
    assert.deepEqual(s.problems, []);
    assert.equal(s.hints.ram, 32 * 2 ** 30);
    assert.deepEqual(mergeHints(s.hints, { depth: 4 }).depth, 4);
    assert.equal(parseSettingsHints('rma=32G').problems[0]?.suggestion, 'ram');
  });
});

describe('what an annotation attaches to', () => {
  test('swiotlb: the next call in its function; swiotlb-function: the enclosing or next function; swiotlb-file: the file', async () => {
    const text = `// swiotlb-file: where=low
/* swiotlb-function: depth=8 */
static void a(struct device *dev)
{
	/* swiotlb: size=100 */
	x = dma_map_single(dev, b, n, DMA_TO_DEVICE); /* A1 */
	y = dma_map_single(dev, b, n, DMA_TO_DEVICE); /* A2 */
}
static void b(struct device *dev)
{
	/* swiotlb-function: count=5 */
	z = dma_map_single(dev, b, n, DMA_TO_DEVICE); /* B1 */
	/* swiotlb: depth=2 -- nothing follows in b */
}
static void c(struct device *dev)
{
	w = dma_map_single(dev, b, n, DMA_TO_DEVICE); /* C1 */
}
`;
    const pf = await extract(text);
    const { annotations, problems } = fileAnnotations(pf);
    assert.deepEqual(
      annotations.map((a) => [a.scope, a.target]),
      [
        ['file', -1],
        ['function', 0],
        ['call', 0],
        ['function', 1],
      ],
    );
    assert.deepEqual(
      problems.map((p) => [p.code, p.span.row + 1]),
      [['annotation-unattached', lineOf(text, 'nothing follows')]],
    );
    const a = await analyzeC(text, { simulate: false });
    const h = (m: string) => siteAt(a, lineOf(text, m)).hints;
    assert.deepEqual([h('A1').size, h('A1').depth, h('A1').where], [{ kind: 'fixed', size: 100 }, 8, { kind: 'region', region: 'low' }]);
    assert.deepEqual([h('A2').size, h('A2').depth], [undefined, 8]);
    assert.deepEqual([h('B1').count, h('B1').depth], [5, undefined]);
    assert.deepEqual(h('C1'), { where: { kind: 'region', region: 'low' } });
    assert.equal(siteAt(a, lineOf(text, 'A1')).annotated, true);
    assert.equal(siteAt(a, lineOf(text, 'A2')).annotated, false);
  });

  test('workspace defaults apply under every annotation', async () => {
    const a = await analyzeC(
      'static void f(struct device *dev) {\n\t/* swiotlb: depth=2 */\n\tx = dma_map_single(dev, b, 64, DMA_TO_DEVICE);\n}\n',
      {
        settings: 'depth=9 where=high',
        simulate: false,
      },
    );
    assert.deepEqual([a.sites[0]?.hints.depth, a.sites[0]?.hints.where], [2, { kind: 'region', region: 'high' }]);
  });

  test('per-device settings override the set-up calls and the defaults; annotations still win', async () => {
    const text = [
      'static int probe(struct pci_dev *pdev) {',
      '\treturn dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(32));',
      '}',
      'static void tx(struct pci_dev *pdev, void *b) {',
      '\tx = dma_map_single(&pdev->dev, b, 64, DMA_TO_DEVICE); /* T1 */',
      '\t/* swiotlb: min_align_mask=0x3 */',
      '\ty = dma_map_single(&pdev->dev, b, 64, DMA_TO_DEVICE); /* T2 */',
      '}',
      '',
    ].join('\n');
    const devices = { '&pdev->dev': 'dma_mask=64 min_align_mask=0xfff', '&other->dev': 'cpus=4 depht=2' };
    const a = await analyzeC(text, { settings: 'min_align_mask=0x7 depth=3', devices, simulate: false }, {});
    const t1 = siteAt(a, lineOf(text, 'T1')).hints;
    const t2 = siteAt(a, lineOf(text, 'T2')).hints;
    assert.deepEqual([t1.dma_mask, t1.min_align_mask, t1.depth], [2n ** 64n - 1n, 0xfff, 3]);
    assert.deepEqual([t2.dma_mask, t2.min_align_mask], [2n ** 64n - 1n, 0x3]);
    // a device setting with a machine key or a misspelt key says so, naming the setting
    const bad = a.diagnostics.filter((d) => d.file === 'settings').map((d) => d.message);
    assert.ok(
      bad.some((m) => m.startsWith('swiotlbLens.source.devices["&other->dev"]') && /cpus describes the machine/.test(m)),
      bad.join('\n'),
    );
    assert.ok(
      bad.some((m) => /depht/.test(m)),
      bad.join('\n'),
    );
  });

  test('a 64-bit mask from the settings turns the 32-bit bounce into a direct map', async () => {
    const text = [
      '/* swiotlb-file: ram=16G */',
      'static int probe(struct pci_dev *pdev) {',
      '\treturn dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(32));',
      '}',
      'static void tx(struct pci_dev *pdev, void *b) {',
      '\t/* swiotlb: where=high */',
      '\tx = dma_map_single(&pdev->dev, b, 2048, DMA_TO_DEVICE);',
      '}',
      '',
    ].join('\n');
    const dir = driver({ 'drv.c': text });
    const run = (devices: Record<string, string>) => analyzeSource([dir], { root: dir, devices });
    const site = (a: Awaited<ReturnType<typeof run>>) => a.verdicts.get(siteAt(a, 7).id)?.lens ?? '';
    const narrow = await run({});
    assert.match(site(narrow), /^bounces.*32-bit dma_mask/);
    // keyed by driver (its folder) and device: another driver's key does not apply
    assert.match(site(await run({ 'otherdrv/&pdev->dev': 'dma_mask=64' })), /^bounces/);
    const wide = await run({ [`${path.basename(dir)}/& pdev->dev`]: 'dma_mask=64' });
    assert.doesNotMatch(site(wide), /bounce/, site(wide));
  });

  test('annotation problems are diagnostics of the file', async () => {
    const a = await analyzeC(
      'static void f(struct device *dev) {\n\t/* swiotlb: depht=2 */\n\tx = dma_map_single(dev, b, 64, DMA_TO_DEVICE);\n}\n',
      {
        simulate: false,
      },
    );
    const d = a.diagnostics.find((x) => x.code === 'annotation-unknown-key');
    assert.ok(d);
    assert.deepEqual([d.file, d.span.row, d.span.col, d.suggestion], ['drv.c', 1, 13, 'depth']);
  });
});
