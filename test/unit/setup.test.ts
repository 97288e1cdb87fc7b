/**
 * Boot-time pool set-up against the spec's examples (swiotlb-model.md §2) and the real boot logs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveProfile } from '../../src/model/profiles';
import { type BootConfig, bootPool, simpleStrtoul } from '../../src/model/setup';

const GiB = 2 ** 30;
const p61 = resolveProfile('6.1');
const p612 = resolveProfile('6.12');
const boot = (cfg: Partial<BootConfig> & { cmdline?: string }, profile = p61) =>
  bootPool(profile, { possibleCpus: 1, ramBytes: 8 * GiB, ...cfg });

describe('swiotlb= parsing (setup_io_tlb_npages)', () => {
  test('simple_strtoul base detection', () => {
    assert.deepEqual(simpleStrtoul('0x1000,4', 0), { value: 4096, end: 6 });
    assert.deepEqual(simpleStrtoul('0100', 0), { value: 64, end: 4 });
    assert.deepEqual(simpleStrtoul('08', 0), { value: 0, end: 1 }, 'octal stops at 8');
    assert.deepEqual(simpleStrtoul('0x', 0), { value: 0, end: 1 }, '"0x" without a digit is octal 0');
    assert.deepEqual(simpleStrtoul('600', 0), { value: 600, end: 3 });
  });
  test('swiotlb=600 -> 1024 slots (multiple of 128, then a power of two)', () => {
    const p = boot({ cmdline: 'swiotlb=600' });
    assert.equal(p.nslabs, 1024);
    assert.ok(p.log.includes('software IO TLB: SWIOTLB bounce buffer size roundup to 2MB'));
  });
  test('swiotlb=100 -> 256 slots on 2 CPUs (at least 128 per area)', () => {
    const p = boot({ cmdline: 'swiotlb=100', possibleCpus: 2 });
    assert.equal(p.nslabs, 256);
    assert.equal(p.nareas, 2);
  });
  test('3 CPUs -> 4 areas, 6 -> 8, 384 -> 512 and the pool grows to 65536 slots', () => {
    assert.equal(boot({ possibleCpus: 3 }).nareas, 4);
    assert.equal(boot({ possibleCpus: 6 }).nareas, 8);
    const big = boot({ possibleCpus: 384 });
    assert.equal(big.nareas, 512);
    assert.equal(big.nslabs, 65536);
  });
  test('swiotlb=98304 becomes 131072 slots (256 MiB)', () => {
    assert.equal(boot({ cmdline: 'swiotlb=98304' }).nslabs, 131072);
  });
  test('hex and octal slab counts', () => {
    assert.equal(boot({ cmdline: 'swiotlb=0x1000' }).nslabs, 4096);
    assert.equal(boot({ cmdline: 'swiotlb=0100' }).nslabs, 128);
  });
  test('swiotlb=<slabs>,<areas>,force', () => {
    const p = boot({ cmdline: 'swiotlb=65536,4,force', possibleCpus: 16 });
    assert.deepEqual([p.nslabs, p.nareas, p.forceBounce], [65536, 4, true]);
    assert.equal(p.log[0], 'software IO TLB: area num 4.', 'areas are set at parse time');
  });
  test('swiotlb=force,4 sets neither force nor areas (the rest must be exactly "force")', () => {
    const p = boot({ cmdline: 'swiotlb=force,4', possibleCpus: 2 });
    assert.equal(p.forceBounce, false);
    assert.equal(p.nareas, 2);
    assert.match(p.warnings[0] ?? '', /ignored/);
  });
  test('swiotlb=noforce: no pool at all (6.1)', () => {
    const p = boot({ cmdline: 'swiotlb=noforce' });
    assert.equal(p.created, false);
    assert.match(p.why, /noforce/);
  });
  test('possible_cpus= on the command line', () => {
    assert.equal(boot({ cmdline: 'possible_cpus=5', possibleCpus: 2 }).nareas, 8);
  });
  test('the real 6.1 runs: swiotlb=512,force on 2 CPUs; swiotlb=force', () => {
    const b = boot({
      cmdline: 'console=ttyS0 nokaslr panic=-1 loglevel=7 swiotlb=512,force scen=b_small_pool',
      possibleCpus: 2,
      ramBytes: 2 * GiB,
    });
    assert.deepEqual([b.created, b.nslabs, b.nareas, b.forceBounce], [true, 512, 2, true]);
    assert.equal(b.log[0], 'software IO TLB: area num 2.');
    const a = boot({ cmdline: 'swiotlb=force', possibleCpus: 2, ramBytes: 2 * GiB });
    assert.deepEqual([a.nslabs, a.nareas], [32768, 2]);
  });
  test('c_natural_6g: no swiotlb= but RAM above 4 GiB; the mapped line as printed', () => {
    const p = boot({ possibleCpus: 2, ramBytes: 6 * GiB, poolStart: 0xbbda5000 });
    assert.deepEqual([p.created, p.nslabs, p.nareas, p.forceBounce], [true, 32768, 2, false]);
    assert.deepEqual(p.log, [
      'software IO TLB: area num 2.',
      'PCI-DMA: Using software bounce buffering for IO (SWIOTLB)',
      'software IO TLB: mapped [mem 0x00000000bbda5000-0x00000000bfda5000] (64MB)',
    ]);
  });
  test('no pool without an addressing limit or force (a small VM)', () => {
    const p = boot({ ramBytes: 2 * GiB });
    assert.equal(p.created, false);
  });
});

describe('memory-encryption guests: 6 % of RAM, 64 MiB ... 1 GiB', () => {
  test('SEV, 8 GiB, 4 CPUs: 491 MB rounded up to 512 MB', () => {
    const p = boot({ memEncrypt: 'sev', possibleCpus: 4 });
    assert.equal(p.nslabs, 262144);
    assert.equal(p.forceBounce, true);
    assert.deepEqual(p.log.slice(0, 3), [
      'software IO TLB: SWIOTLB bounce buffer size adjusted to 491MB',
      'software IO TLB: area num 4.',
      'software IO TLB: SWIOTLB bounce buffer size roundup to 512MB',
    ]);
  });
  test('SEV with 32 GiB is capped at 1 GiB = 524288 slots (the total in real SNP reports)', () => {
    assert.equal(boot({ memEncrypt: 'sev', ramBytes: 32 * GiB, possibleCpus: 8 }).nslabs, 524288);
  });
  test('small guests keep 64 MiB', () => {
    assert.equal(boot({ memEncrypt: 'sev', ramBytes: 1 * GiB }).nslabs, 32768);
  });
  test('TDX: 64 MiB on 6.1, 6 % on 6.12', () => {
    assert.equal(boot({ memEncrypt: 'tdx', possibleCpus: 4 }).nslabs, 32768);
    assert.equal(boot({ memEncrypt: 'tdx', possibleCpus: 4 }, p612).nslabs, 262144);
  });
  test('swiotlb= on the command line wins, unless it equals the default (the kernel compares values)', () => {
    assert.equal(boot({ memEncrypt: 'sev', cmdline: 'swiotlb=65536' }).nslabs, 65536);
    assert.equal(boot({ memEncrypt: 'sev', cmdline: 'swiotlb=32768', possibleCpus: 4 }).nslabs, 262144);
  });
});

describe('allocation fall-back and the 6.1 area quirk', () => {
  test('not enough memory: the pool is halved and the kernel says so', () => {
    const p = boot({ possibleCpus: 2, allocatableBytes: 40 * 2 ** 20 });
    assert.equal(p.nslabs, 16384);
    assert.ok(p.log.includes('software IO TLB: SWIOTLB bounce buffer size adjusted 32768 -> 16384 slabs'));
  });
  test('6.1 keeps default_nareas after halving; 6.12 uses the limited count', () => {
    const cfg = { possibleCpus: 256, allocatableBytes: 40 * 2 ** 20 };
    const a = boot(cfg);
    const b = boot(cfg, p612);
    assert.equal(a.nslabs, 16384);
    assert.equal(a.nareas, 256, '6.1.y quirk');
    assert.equal(a.areaNslabs, 64);
    assert.equal(b.nareas, 128);
  });
  test('no pool when even 1 MiB cannot be had', () => {
    assert.equal(boot({ allocatableBytes: 2 ** 19 }).created, false);
  });
});

describe('5.10 and arm64', () => {
  const p510 = resolveProfile('5.10');
  test('5.10: one area, no "area num" line; noforce makes a 1-slab pool', () => {
    const p = boot({ possibleCpus: 8 }, p510);
    assert.deepEqual([p.nslabs, p.nareas], [32768, 1]);
    assert.ok(!p.log.some((l) => l.includes('area num')));
    assert.equal(boot({ cmdline: 'swiotlb=noforce' }, p510).nslabs, 1);
    assert.equal(boot({ cmdline: 'swiotlb=0' }, p510).nslabs, 32768, '0 means the default in 5.10');
    assert.equal(boot({ cmdline: 'swiotlb=600' }, p510).nslabs, 640, 'no power-of-two rounding in 5.10');
  });
  test('5.10: SEV forces bouncing but keeps 64 MiB', () => {
    const p = boot({ memEncrypt: 'sev' }, p510);
    assert.deepEqual([p.nslabs, p.forceBounce], [32768, true]);
  });
  test('arm64 6.12 with 2 GiB: kmalloc bouncing pool of 1 MiB per GiB (a real boot log)', () => {
    const p = bootPool(p612, { arch: 'arm64', possibleCpus: 1, ramBytes: 2 * GiB, poolStart: 0xbb600000 });
    assert.deepEqual(p.log, [
      'software IO TLB: SWIOTLB bounce buffer size adjusted to 2MB',
      'software IO TLB: area num 1.',
      'software IO TLB: mapped [mem 0x00000000bb600000-0x00000000bb800000] (2MB)',
    ]);
  });
  test('arm64 6.1 has no kmalloc pool', () => {
    assert.equal(bootPool(p61, { arch: 'arm64', possibleCpus: 1, ramBytes: 2 * GiB }).created, false);
  });
});
