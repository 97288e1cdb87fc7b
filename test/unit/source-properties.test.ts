/**
 * Properties of the source reader over random mutations of real driver code (the example
 * drivers): deleting, duplicating, truncating and inserting tokens never throws, every site and
 * problem lies inside the text, no call is found in a comment or string, and the whole analysis
 * (annotations, pairing, simulation) survives what the parser made of it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseAnnotationComment } from '../../src/source/annotations';
import { extractFile, lightFunctions } from '../../src/source/extract';
import { loadCParser } from '../../src/source/treeSitter';
import { analyzeC, ROOT } from './source-helpers';

const SOURCES = ['examples/source/swlnic/swlnic_main.c', 'examples/source/swlblk/swlblk.c'].map((p) =>
  fs.readFileSync(path.join(ROOT, p), 'utf8'),
);

/** Functions whose bodies hold what a body skip must not lose: symbols, annotations, non-ASCII text before them. */
const BODIES = `/* été — 😀 */
static int quiet(int x) { return x * 2; }
static int local_types(void)
{
	struct local_desc { u32 len; u64 addr; } d;
	enum local_state { LS_IDLE, LS_BUSY };
	typedef unsigned long local_t;
	return sizeof(d);
}
static int defines(void)
{
#define BODY_LEN 4096
	return BODY_LEN;
}
static void annotated(struct device *dev)
{
	/* swiotlb: size=8192 */
	do_something(dev);
}
static dma_addr_t mapped(struct device *dev, void *buf)
{
	return dma_map_single(dev, buf, BODY_LEN, DMA_TO_DEVICE);
}
`;

const TOKENS = [
  '(',
  ')',
  '{',
  '}',
  ';',
  ',',
  '#if 0\n',
  '#endif\n',
  '/*',
  '*/',
  '"',
  "'",
  'dma_map_single(',
  'dma_unmap_single(dev, ',
  '/* swiotlb: depth=',
  '// swiotlb-file: ram=',
  'sizeof(struct ',
  '\\\n',
  '#define X(',
  '\u00e9\u{1F600}',
  '\0',
];

type Edit = { at: number; kind: 'delete' | 'insert' | 'duplicate' | 'truncate'; len: number; token: number };

const edit = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom<Edit['kind']>('delete', 'insert', 'duplicate', 'truncate'),
  len: fc.integer({ min: 1, max: 80 }),
  token: fc.nat(TOKENS.length - 1),
});

function mutate(text: string, edits: Edit[]): string {
  let t = text;
  for (const e of edits) {
    const at = e.at % (t.length + 1);
    switch (e.kind) {
      case 'delete':
        t = t.slice(0, at) + t.slice(at + e.len);
        break;
      case 'insert':
        t = t.slice(0, at) + (TOKENS[e.token] as string) + t.slice(at);
        break;
      case 'duplicate':
        t = t.slice(0, at + e.len) + t.slice(at, at + e.len) + t.slice(at + e.len);
        break;
      case 'truncate':
        t = t.slice(0, at);
        break;
    }
  }
  return t;
}

/** Line lengths, to check spans. */
function lines(t: string): number[] {
  return t.split('\n').map((l) => l.length);
}

describe('random mutations of real driver code', () => {
  test('extraction never throws and everything it reports lies inside the text', async () => {
    await loadCParser();
    fc.assert(
      fc.property(fc.nat(SOURCES.length - 1), fc.array(edit, { minLength: 1, maxLength: 6 }), (which, edits) => {
        const text = mutate(SOURCES[which] as string, edits);
        const pf = extractFile('m.c', text);
        const ls = lines(text);
        const inside = (row: number, col: number) => row >= 0 && row < ls.length && col >= 0 && col <= (ls[row] as number);
        for (const s of pf.sites) {
          assert.ok(inside(s.span.row, s.span.col) && inside(s.span.endRow, s.span.endCol));
          // the call's name is in the text where the site says
          const line = text.split('\n')[s.nameSpan.row] as string;
          assert.equal(line.slice(s.nameSpan.col, s.nameSpan.endCol), s.via ?? s.api);
        }
        for (const p of pf.problems) assert.ok(inside(p.span.row, p.span.col), JSON.stringify(p));
        for (const c of pf.comments) {
          assert.ok(inside(c.span.row, c.span.col));
          for (const a of parseAnnotationComment(c))
            for (const p of a.problems) assert.ok(inside(p.span.row, p.span.col), JSON.stringify(p));
        }
      }),
      { numRuns: 150, seed: 42 },
    );
  });

  test('functions walked for their place only lose nothing kept (lightBodies, symbolsOnly)', async () => {
    await loadCParser();
    const all = [...SOURCES, BODIES, `${BODIES}${SOURCES[0]}`];
    fc.assert(
      fc.property(fc.nat(all.length - 1), fc.array(edit, { maxLength: 4 }), (which, edits) => {
        const text = mutate(all[which] as string, edits);
        const full = lightFunctions(extractFile('m.c', text));
        assert.deepEqual(lightFunctions(extractFile('m.c', text, { lightBodies: true })), full);
        assert.deepEqual(extractFile('m.c', text, { symbolsOnly: true }).symbols, full.symbols);
      }),
      { numRuns: 150, seed: 11 },
    );
  });

  test('a call written inside a comment or a string is never a site', async () => {
    await loadCParser();
    fc.assert(
      fc.property(fc.constantFrom('/* ', '// ', '"', "'"), fc.nat(), (open, at) => {
        const src = SOURCES[0] as string;
        const close = open === '/* ' ? ' */' : open === '// ' ? '\n' : open;
        const call = 'dma_map_single(dev, buf, 64, DMA_TO_DEVICE)';
        // put it at a line start, where a comment or string can begin
        const starts = src.split('\n').map((_, i, all) => all.slice(0, i).join('\n').length + (i ? 1 : 0));
        const row = at % starts.length;
        const pos = starts[row] as number;
        const before = extractFile('m.c', src).sites.length;
        const after = extractFile('m.c', `${src.slice(0, pos)}${open}${call}${close}${src.slice(pos)}`).sites;
        assert.ok(after.length <= before, `${after.length} > ${before}`);
        // and no site is the call written there
        const here = after.filter((s) => s.span.row === row && s.span.col < open.length + call.length);
        assert.deepEqual(
          here.map((s) => `${s.api} at ${s.span.row + 1}:${s.span.col + 1}`),
          [],
        );
      }),
      { numRuns: 60, seed: 7 },
    );
  });

  test('the whole analysis survives mutated code', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 4 }), async (edits) => {
        const a = await analyzeC(mutate(SOURCES[0] as string, edits));
        for (const d of a.diagnostics) assert.ok(d.span.row >= 0 && d.message.length > 0);
        assert.ok(a.verdicts.size <= a.sites.length);
      }),
      { numRuns: 25, seed: 3 },
    );
  });
});
