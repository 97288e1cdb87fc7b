/**
 * The byte scanners of the trace parser against string oracles: WordFinder (Horspool's skip
 * search) finds what String#indexOf finds in the same range, at every offset and line end.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ascii, WordFinder } from '../../src/trace/bytes';

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

describe('WordFinder', () => {
  test('finds the first occurrence within [s, e), as String#indexOf on the slice', () => {
    const rand = rng(13);
    const alphabet = '[]TRUNCATED aefx0123{},=';
    for (const word of ['[TRUNCATED]', 'TT', 'x', 'ATA', 'aaaa']) {
      const f = new WordFinder(ascii(word));
      for (let round = 0; round < 2000; round++) {
        const len = Math.floor(rand() * 40);
        let text = '';
        for (let i = 0; i < len; i++) text += alphabet[Math.floor(rand() * alphabet.length)];
        if (rand() < 0.3) {
          const at = Math.floor(rand() * (text.length + 1));
          text = text.slice(0, at) + word + text.slice(at);
        }
        const b = ascii(text);
        const s = Math.floor(rand() * (b.length + 1));
        const e = s + Math.floor(rand() * (b.length - s + 1));
        const j = text.slice(s, e).indexOf(word);
        assert.equal(f.indexIn(b, s, e), j < 0 ? -1 : s + j, `${JSON.stringify(text)} [${s}, ${e})`);
      }
    }
  });

  test('a word cut by the range end is not found', () => {
    const f = new WordFinder(ascii('[TRUNCATED]'));
    const b = ascii('attrs= [TRUNCATED]');
    assert.equal(f.indexIn(b, 0, b.length), 7);
    assert.equal(f.indexIn(b, 0, b.length - 1), -1);
    assert.equal(f.indexIn(b, 8, b.length), -1);
  });
});
