/**
 * The byte scanners of the trace parser against string oracles: WordFinder (Horspool's skip
 * search) finds what String#indexOf finds in the same range, at every offset and line end.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ascii, WordFinder } from '../../src/trace/bytes';
import { EventLine, parseEventLine } from '../../src/trace/ftrace';

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

describe('the timestamp column, read as it is scanned', () => {
  const at = (text: string): { time: number; counter: boolean; event: string } | null => {
    const b = ascii(text);
    const ev = new EventLine();
    if (!parseEventLine(b, 0, b.length, ev)) return null;
    return { time: ev.time, counter: ev.counter, event: b.toString('latin1', ev.eventStart, ev.eventEnd) };
  };

  test('seconds.fraction after flags, or no flags', () => {
    assert.deepEqual(at('  fio-137  [001] d.h1.  1.000198: dma_map_page: x'), { time: 1.000198, counter: false, event: 'dma_map_page' });
    assert.deepEqual(at('fio-137 [001] 52.5: ev: x'), { time: 52.5, counter: false, event: 'ev' });
    // flags made of digits are a token like any other
    assert.deepEqual(at('fio-137 [001] 1234 7.25: ev: x'), { time: 7.25, counter: false, event: 'ev' });
  });

  test('a counter clock: digits only', () => {
    assert.deepEqual(at('fio-137 [001] .... 123456: ev: x'), { time: 123456, counter: true, event: 'ev' });
  });

  test('not a timestamp: no fraction digits, two dots, letters', () => {
    assert.equal(at('fio-137 [001] .... 12.: ev: x'), null);
    assert.equal(at('fio-137 [001] .... 1.2.3: ev: x'), null);
    assert.equal(at('fio-137 [001] .... 12a: ev: x'), null);
    assert.equal(at('fio-137 [001] a b 1.5: ev: x'), null);
  });
});
