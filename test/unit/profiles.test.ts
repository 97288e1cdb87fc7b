import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PROFILE_NAMES, resolveProfile, resolveProfileWithNote, UnknownKernelError } from '../../src/model/profiles';

test('every documented profile name resolves to its family', () => {
  const want: Record<string, string> = {
    '5.10': 'P510',
    '6.1': 'P61',
    '6.1.0': 'P61',
    '6.6-early': 'P66e',
    '6.6-late': 'P66l',
    '6.9': 'P66l',
    '6.12': 'P612',
    mainline: 'P612',
    'mainline-6.18': 'P612',
  };
  for (const [name, family] of Object.entries(want)) assert.equal(resolveProfile(name).family, family, name);
  for (const n of PROFILE_NAMES) assert.doesNotThrow(() => resolveProfile(n));
});

test('6.1.0 differs from 6.1 only in the alignment rule (and area limiting)', () => {
  assert.equal(resolveProfile('6.1').alignCheckExcludesAllocAlign, true);
  assert.equal(resolveProfile('6.1.0').alignCheckExcludesAllocAlign, false);
});

test('exact releases pick the stable-series details', () => {
  assert.equal(resolveProfile('6.1.83').alignCheckExcludesAllocAlign, false);
  assert.equal(resolveProfile('6.1.84').alignCheckExcludesAllocAlign, true);
  assert.equal(resolveProfile('6.1.39').limitNareas, false);
  assert.equal(resolveProfile('6.1.40').limitNareas, true);
  assert.equal(resolveProfile('5.10.100').copyOnMap, 'to-device-only');
  assert.equal(resolveProfile('5.10.112').copyOnMap, 'unless-skip-sync');
  assert.equal(resolveProfile('5.10.262').copyOnMap, 'always');
  assert.equal(resolveProfile('6.6.10').family, 'P66e');
  assert.equal(resolveProfile('6.6.40').family, 'P66l');
  assert.equal(resolveProfile('6.8.1').family, 'P66e');
  assert.equal(resolveProfile('6.3.0').hiwaterFile, false);
  assert.equal(resolveProfile('6.12.117').family, 'P612');
  assert.equal(resolveProfile('7.2.13').family, 'P612');
  assert.equal(resolveProfile('v6.1.192').family, 'P61');
});

test('releases without a verified model say so', () => {
  assert.match(resolveProfileWithNote('6.6.30').note ?? '', /intermediate search/);
  assert.match(resolveProfileWithNote('7.9').note ?? '', /newer than/);
});

test('unknown names are refused with the accepted list', () => {
  assert.throws(() => resolveProfile('5.4'), UnknownKernelError);
  assert.throws(() => resolveProfile('linux'), /use one of 5.10, 6.1/);
  assert.throws(() => resolveProfile('5.10.20'), UnknownKernelError, 'no min_align_mask before 5.10.35');
});

test('hexAddr matches Number#toString(16) on every range', async () => {
  const { hexAddr } = await import('../../src/model/hex');
  for (const n of [0, 1, 0x7ff, 0x7fffffff, 0x80000000, 0x9c018f8c, 0xffffffff, 0x100000000, 0x1a2b3c800, 2 ** 52 + 5, 2 ** 53 - 1]) {
    assert.equal(hexAddr(n), `0x${n.toString(16)}`);
  }
});
