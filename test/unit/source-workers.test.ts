/**
 * Driver source in worker threads changes nothing: the JSON report of a small tree (the examples,
 * a driver whose sizes come from its header, one with a macro alias and a macro hiding a call, a
 * file without DMA calls, a binary file, a file-scope machine hint) is the same as the one the
 * calling thread makes; with a site budget that runs out halfway too.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { analyzeSource, type SourceOptions } from '../../src/source/analyze';
import { sourceJson } from '../../src/source/report';
import type { SourceWorkers } from '../../src/source/sourceWorkers';
import { bundleWorker } from './bundle';
import { ROOT } from './source-helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'source-workers-'));
// the worker bundled as the build bundles it
const script = bundleWorker('src/source/sourceWorker.ts', path.join(tmp, 'sourceWorker.js'));
// the worker finds the parser's .wasm files beside itself, as in dist/
for (const [pkg, file] of [
  ['web-tree-sitter', 'web-tree-sitter.wasm'],
  ['tree-sitter-c', 'tree-sitter-c.wasm'],
])
  fs.copyFileSync(require.resolve(`${pkg}/${file}`), path.join(tmp, file));
const WORKERS: SourceWorkers = { count: 2, script, minFiles: 0 };

const tree = path.join(tmp, 'drivers');
fs.cpSync(path.join(ROOT, 'examples', 'source'), tree, { recursive: true });
const write = (name: string, text: string | Buffer) => {
  fs.mkdirSync(path.dirname(path.join(tree, name)), { recursive: true });
  fs.writeFileSync(path.join(tree, name), text);
};
write(
  'hdr/ring.h',
  '#define RING_BYTES (RING_LEN * sizeof(struct desc))\n#define RING_LEN 256\nstruct desc { u64 addr; u32 len; u32 flags; };\n',
);
write(
  'hdr/ring.c',
  [
    '// swiotlb-file: ram=8G',
    '#include "ring.h"',
    'static int ring_up(struct device *dev, struct ring *r) {',
    '\tr->desc = dma_alloc_coherent(dev, RING_BYTES, &r->desc_dma, GFP_KERNEL);',
    '\tr->buf_dma = dma_map_single(dev, r->buf, 2048, DMA_FROM_DEVICE);',
    '\tif (dma_mapping_error(dev, r->buf_dma)) return -ENOMEM;',
    '\treturn 0;',
    '}',
    'static void ring_down(struct device *dev, struct ring *r) {',
    '\tdma_unmap_single(dev, r->buf_dma, 2048, DMA_TO_DEVICE);',
    '\tdma_free_coherent(dev, RING_BYTES, r->desc, r->desc_dma);',
    '}',
  ].join('\n'),
);
write('hdr/other.c', '// swiotlb-file: ram=16G\nstatic int nothing(void) { return 0; }\n');
write(
  'macro/m.c',
  [
    '#define my_map dma_map_single',
    '#define MAP_RX(d, b) dma_map_single(d, b, 1536, DMA_FROM_DEVICE)',
    'static void rx(struct device *dev, void *b, void *c) {',
    '\tdma_addr_t a = my_map(dev, b, 512, DMA_TO_DEVICE);',
    '\tdma_addr_t x = MAP_RX(dev, c);',
    '\tdma_unmap_single(dev, a, 512, DMA_TO_DEVICE);',
    '}',
  ].join('\n'),
);
write('plain/none.c', 'int add(int a, int b) { return a + b; }\n');
write('plain/blob.c', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2, 3]));
write('plain/uses.c', 'static void f(struct device *d, void *p) { dma_map_single(d, p, 64, DMA_TO_DEVICE); }\n');

async function report(opts: SourceOptions): Promise<Record<string, unknown>> {
  const files: string[] = [];
  const a = await analyzeSource([tree], { root: tmp, ...opts, onProgress: (_d, _t, f) => f && files.push(f) });
  const j = sourceJson(a, [tree]) as Record<string, unknown>;
  delete (j.stats as Record<string, unknown>).ms;
  // every file is reported as begun, whichever thread read it
  assert.equal(new Set(files).size, a.stats.files);
  // site ids run on across the drivers, in file order
  assert.deepEqual(
    a.sites.map((s) => s.id),
    a.sites.map((_, i) => i),
  );
  return j;
}

test('workers: the same report as the calling thread', async () => {
  const one = await report({ workers: null });
  const two = await report({ workers: WORKERS });
  assert.ok((one.sites as unknown[]).length >= 10, 'the tree has sites');
  assert.ok((one.pairs as unknown[]).length >= 2, 'the tree has pairs');
  const codes = new Set((one.diagnostics as { code: string }[]).map((d) => d.code));
  for (const c of ['hidden-call', 'not-c', 'annotation-conflict']) assert.ok(codes.has(c), `a ${c} diagnostic`);
  assert.deepEqual(two, one);
});

test('workers: a site budget that runs out within a driver gives the same report', async () => {
  const full = await report({ workers: null });
  const total = (full.sites as unknown[]).length;
  let cut = 0;
  for (const maxSites of [3, 8, Math.floor(total / 2), total - 1]) {
    const one = await report({ workers: null, maxSites });
    const two = await report({ workers: WORKERS, maxSites });
    if ((one.diagnostics as { code: string }[]).some((d) => d.code === 'too-many-sites')) cut++;
    assert.deepEqual(two, one, `maxSites ${maxSites}`);
  }
  assert.ok(cut >= 2, 'the budget ran out in some runs');
});
