import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { ByteLineSplitter } from '../../src/io/lineBytes';
import { readLines } from '../../src/io/lines';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lines-'));
let n = 0;
function file(content: string | Buffer, ext = '.txt'): string {
  const p = path.join(tmp, `f${n++}${ext}`);
  fs.writeFileSync(p, content);
  return p;
}

async function collect(p: string, maxLineBytes?: number) {
  const lines: [number, string][] = [];
  const overlong: number[] = [];
  await readLines(p, { line: (t, l) => lines.push([l, t]), overlong: (l) => overlong.push(l) }, maxLineBytes ? { maxLineBytes } : {});
  return { lines, overlong };
}

test('LF, CRLF, no final newline, empty lines', async () => {
  const { lines } = await collect(file('a\r\nb\n\nc'));
  assert.deepEqual(lines, [
    [1, 'a'],
    [2, 'b'],
    [3, ''],
    [4, 'c'],
  ]);
});

test('an empty file has no lines', async () => {
  assert.deepEqual((await collect(file(''))).lines, []);
});

test('gzip is read directly', async () => {
  const { lines } = await collect(file(gzipSync('x\ny\n'), '.gz'));
  assert.deepEqual(
    lines.map((l) => l[1]),
    ['x', 'y'],
  );
});

test('an over-long line is reported and skipped; the rest is still read', async () => {
  const big = 'z'.repeat(3 * 1024 * 1024);
  const { lines, overlong } = await collect(file(`first\n${big}\nlast\n`), 1024 * 1024);
  assert.deepEqual(overlong, [2]);
  assert.deepEqual(lines, [
    [1, 'first'],
    [3, 'last'],
  ]);
});

test('multi-byte UTF-8 split across chunks survives', async () => {
  const s = `${'é'.repeat(700_000)}\nok\n`;
  const { lines } = await collect(file(s));
  assert.equal(lines[0]?.[1].length, 700_000);
  assert.equal(lines[1]?.[1], 'ok');
});

test('property: any text splits into the same lines as String.split', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.string({ unit: 'grapheme' }).map((s) => s.replace(/[\n\r]/g, '')),
        { maxLength: 20 },
      ),
      fc.boolean(),
      async (parts, finalNewline) => {
        const text = parts.join('\n') + (finalNewline ? '\n' : '');
        const { lines } = await collect(file(text));
        // a final newline ends the last line, it does not start another one
        const want = text.split('\n');
        if (want[want.length - 1] === '') want.pop();
        assert.deepEqual(
          lines.map((l) => l[1]),
          want,
        );
      },
    ),
    { numRuns: 50 },
  );
});

test("property: the parallel reader's blocks hold the same lines as the line splitter, over-long ones cut out alike", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(fc.string({ maxLength: 12 }), fc.string({ minLength: 20, maxLength: 40 })).map((s) => s.replace(/\n/g, '')),
        {
          maxLength: 30,
        },
      ),
      fc.boolean(),
      fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 4, max: 24 }),
      (parts, finalNewline, cuts, maxLine) => {
        const bytes = Buffer.from(parts.join('\n') + (finalNewline ? '\n' : ''));
        const chunks: Buffer[] = [];
        for (let pos = 0, k = 0; pos < bytes.length; k++) {
          const n = cuts[k % cuts.length] as number;
          chunks.push(bytes.subarray(pos, pos + n));
          pos += n;
        }
        const byLine: string[] = [];
        const lines = new ByteLineSplitter(
          { line: (b, s, e) => byLine.push(b.toString('utf8', s, e)), overlong: (_l, n) => byLine.push(`<${n}>`) },
          maxLine,
        );
        const byBlock: string[] = [];
        const blocks = new ByteLineSplitter(
          {
            block: (b, s, e) => {
              const text = b.toString('utf8', s, e);
              const ls = text.split('\n');
              if (text.endsWith('\n')) ls.pop();
              byBlock.push(...ls.map((l) => l.replace(/\r$/, '')));
            },
            overlong: (n: number) => byBlock.push(`<${n}>`),
          },
          maxLine,
        );
        for (const c of chunks) {
          lines.push(c);
          blocks.push(c);
        }
        lines.end();
        blocks.end();
        assert.deepEqual(byBlock, byLine);
      },
    ),
    { numRuns: 300 },
  );
});
