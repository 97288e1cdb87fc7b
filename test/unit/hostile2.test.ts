/**
 * Hostile and huge input, second part (issue 15): capture folders with symlink loops, archives of
 * thousands of members, folders of thousands of small files, gzip data with trailing garbage,
 * never-unmapped bounce maps, scatterlists of absurd length, a file beside its .gz copy. Each ends
 * in a diagnostic while the rest is analysed, within bounded memory (generous stated limits).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { routeInputs } from '../../src/inputs/router';
import { fileChunks, GzipTrailingData, gunzipMembers } from '../../src/io/chunks';
import { readTarEntryLines } from '../../src/io/lineBytes';
import { readTar, tarMemberReads } from '../../src/io/tar';
import { analyzeText } from '../../src/trace/run';
import { type CliResult, runCliCases } from './cli-batch';
import { tarOf } from './tar-helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hostile2-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const at = (...p: string[]) => path.join(tmp, ...p);
const write = (p: string, data: string | Buffer) => {
  fs.mkdirSync(path.dirname(at(p)), { recursive: true });
  fs.writeFileSync(at(p), data);
  return at(p);
};

const P = '              dd-214     [001] .....';
const bounced = (t: number, phys: number) =>
  `${P} ${t}: swiotlb_bounced: dev_name: 0000:00:03.0 dma_mask=ffffffffffffffff dev_addr=${phys.toString(16)} size=4096 FORCE`;
const mapPage = (t: number, dma: number, phys: number) =>
  `${P} ${t}: dma_map_page: 0000:00:03.0 dir=TO_DEVICE dma_addr=${dma.toString(16)} size=4096 phys_addr=${phys.toString(16)} attrs=`;
const MAPPED = '[    0.000000] software IO TLB: mapped [mem 0x00000000bbfff000-0x00000000bffff000] (64MB)';

interface Report {
  input: { files: { path: string; role: string; lines: number }[] };
  counts: { lines: number; bounced: number; maps: number; bounced_maps: number };
  occupancy: { peak_slots: number | null; live_at_end: number };
  log: { lines: number };
  diagnostics: { file: string; line: number; severity: string; message: string }[];
}
const report = (r: CliResult) => JSON.parse(r.out.toString('utf8')) as Report;

/** Members of the big archives; each holds 1 to 3 bounce events, so the total tells every member was read whole. */
const MEMBERS = 3000;
const eventsOf = (i: number) => 1 + (i % 3);
const memberText = (i: number) =>
  Buffer.from(`${Array.from({ length: eventsOf(i) }, (_, k) => bounced(10 + k, 0x1000 * (i + 1))).join('\n')}\n`);
const allEvents = Array.from({ length: MEMBERS }, (_, i) => eventsOf(i)).reduce((a, b) => a + b, 0);

describe('capture folders, archives and gzip data of hostile shape (CLI)', () => {
  const runs = new Map<string, CliResult>();
  before(async () => {
    // a folder of 10,000 small files: each head read used to keep 256 KiB (1.44 GB in all)
    const many = at('many');
    fs.mkdirSync(many);
    write('many/trace.txt', `${bounced(4, 0x60c7000)}\n`);
    for (let i = 0; i < 10_000; i++) fs.writeFileSync(path.join(many, `f${i}.trace`), `${bounced(5, 0x1000 * (i + 1))}\n`);
    // a symlink loop, a dangling link and a trace in one capture folder
    write('loop/trace.txt', `${bounced(4, 0x60c7000)}\n`);
    fs.symlinkSync('b', at('loop', 'a'));
    fs.symlinkSync('a', at('loop', 'b'));
    fs.symlinkSync('nowhere', at('loop', 'dangling'));
    // thousands of small members, plain and gzipped, some members gzipped themselves
    const members: [string, Buffer][] = Array.from({ length: MEMBERS }, (_, i) => [
      `cap/t${i}.txt${i % 7 === 3 ? '.gz' : ''}`,
      i % 7 === 3 ? gzipSync(memberText(i)) : memberText(i),
    ]);
    write('members.tar', tarOf(members));
    write('members.tar.gz', gzipSync(tarOf(members)));
    // an intact gzip member followed by bytes that are not gzip
    const lines = Array.from({ length: 40_000 }, (_, i) => bounced(10 + i, 0x1000 * (i + 1)));
    write('junk/trace.txt.gz', Buffer.concat([gzipSync(`${lines.join('\n')}\n`), Buffer.from('this is not gzip data '.repeat(200))]));
    // the same, in three members and zero padding: nothing to report
    write(
      'members/trace.txt.gz',
      Buffer.concat([
        gzipSync(`${lines.slice(0, 100).join('\n')}\n`),
        gzipSync(`${lines.slice(100, 30_000).join('\n')}\n`),
        gzipSync(`${lines.slice(30_000).join('\n')}\n`),
        Buffer.alloc(512),
      ]),
    );
    // dmesg.txt beside the dmesg.txt.gz it came from (gunzip -k)
    write('dup/trace.txt', `${bounced(4, 0x60c7000)}\n`);
    write('dup/dmesg.txt', `${MAPPED}\n`);
    write('dup/dmesg.txt.gz', gzipSync(`${MAPPED}\n`));
    // 3000 bounced maps never unmapped, in a pool of 512 slots
    const maps: string[] = ['# tracer: nop', '#'];
    for (let i = 0; i < 3000; i++)
      maps.push(bounced(10 + 2 * i, 0x8734000 + 0x1000 * i), mapPage(11 + 2 * i, 0x7c900000 + 0x1000 * i, 0x8734000 + 0x1000 * i));
    write('unpaired/trace.txt', `${maps.join('\n')}\n`);
    write('unpaired/cmdline.txt', 'console=ttyS0 swiotlb=512,force\n');
    // a scatterlist of 100 million entries
    write(
      'sg/drv.c',
      '/* swiotlb: device=nic dma_mask=32 size=4096 depth=1 count=1 */\nint f(struct device *d, struct scatterlist *sg) { return dma_map_sg(d, sg, 100000000, DMA_TO_DEVICE); }\n',
    );
    const cases: Record<string, string[]> = {
      // first: the batch's peak RSS is monotone, so this case's own peak is the first reading
      many: ['analyze', many, '--json'],
      loop: ['analyze', at('loop'), '--json'],
      tar: ['analyze', at('members.tar'), '--json'],
      targz: ['analyze', at('members.tar.gz'), '--json'],
      junk: ['analyze', at('junk', 'trace.txt.gz'), '--json'],
      junkText: ['analyze', at('junk', 'trace.txt.gz')],
      members: ['analyze', at('members', 'trace.txt.gz'), '--json'],
      dup: ['analyze', at('dup'), '--json'],
      dupLone: ['analyze', at('dup', 'trace.txt'), '--json'],
      unpaired: ['analyze', at('unpaired'), '--json'],
      sg: ['analyze', at('sg', 'drv.c'), '--json'],
    };
    const names = Object.keys(cases);
    const results = await runCliCases(names.map((n) => cases[n] as string[]));
    for (const [i, n] of names.entries()) runs.set(n, results[i] as CliResult);
  });
  const run = (name: string) => runs.get(name) as CliResult;

  test('10,000 small files in a capture folder: every one read, peak RSS under 400 MB (was 1.44 GB)', () => {
    const r = run('many');
    assert.equal(r.code, 0, r.err.toString());
    const rep = report(r);
    assert.equal(rep.input.files.filter((f) => f.role === 'trace').length, 10_001);
    assert.equal(rep.counts.bounced, 10_001);
    assert.ok(r.maxRssKb < 400 * 1024, `peak RSS ${Math.round(r.maxRssKb / 1024)} MB`);
  });

  test('a symlink loop and a dangling link in a capture folder: a warning naming each, the trace analysed', () => {
    const r = run('loop');
    assert.equal(r.code, 0, r.err.toString());
    const rep = report(r);
    assert.equal(rep.counts.bounced, 1);
    const skipped = (name: string) => rep.diagnostics.find((d) => d.file === at('loop', name))?.message ?? '';
    assert.match(skipped('a'), /symbolic links \(a symlink loop\?\): not read/);
    assert.match(skipped('b'), /symlink loop/);
    assert.match(skipped('dangling'), /dangling symbolic link/);
  });

  test(`an archive of ${MEMBERS} members, plain and gzipped: every member read whole`, () => {
    for (const name of ['tar', 'targz']) {
      const r = run(name);
      assert.equal(r.code, 0, r.err.toString());
      const rep = report(r);
      assert.equal(rep.input.files.length, MEMBERS, name);
      assert.equal(rep.counts.bounced, allEvents, name);
      assert.deepEqual(
        rep.input.files.slice(0, 4).map((f) => f.lines),
        [1, 2, 3, 1],
        name,
      );
    }
  });

  test('an intact gzip member and trailing garbage: every line read, then the junk reported with the file', () => {
    const r = run('junk');
    assert.equal(r.code, 0, r.err.toString());
    const rep = report(r);
    assert.equal(rep.counts.bounced, 40_000);
    assert.equal(rep.input.files[0]?.lines, 40_000);
    const d = rep.diagnostics.find((x) => /trailing garbage/.test(x.message));
    assert.ok(d, JSON.stringify(rep.diagnostics));
    assert.equal(d.file, at('junk', 'trace.txt.gz'));
    assert.equal(d.line, 40_001);
    assert.match(d.message, /^4400 bytes after the last complete gzip member \(1 read in full\) are not gzip data/);
    assert.match(run('junkText').out.toString(), /trace\.txt\.gz:40001: error: 4400 bytes after the last complete gzip member/);
  });

  test('gzip members one after another, then zero padding: all read, nothing reported', () => {
    const rep = report(run('members'));
    assert.equal(rep.counts.bounced, 40_000);
    assert.deepEqual(
      rep.diagnostics.filter((d) => /gzip/.test(d.message)),
      [],
    );
  });

  test('dmesg.txt beside dmesg.txt.gz: the log read once, the copy named', () => {
    for (const name of ['dup', 'dupLone']) {
      const rep = report(run(name));
      assert.equal(rep.log.lines, 1, name);
      const gz = rep.input.files.find((f) => f.path.endsWith('dmesg.txt.gz'));
      assert.deepEqual(gz && { role: gz.role, lines: gz.lines }, { role: 'ignore', lines: 0 }, name);
      const d = rep.diagnostics.find((x) => x.file === at('dup', 'dmesg.txt.gz'));
      assert.equal(d?.message, `skipped: the same content as ${at('dup', 'dmesg.txt')}: read once, from there`, name);
    }
  });

  test('bounced maps never unmapped: the live table stays within the pool, with a warning saying why', () => {
    const rep = report(run('unpaired'));
    assert.equal(rep.counts.maps, 3000);
    assert.equal(rep.counts.bounced_maps, 3000);
    assert.ok((rep.occupancy.peak_slots ?? 0) <= 512, `peak_slots ${rep.occupancy.peak_slots}`);
    assert.ok(rep.occupancy.live_at_end <= 512);
    const d = rep.diagnostics.filter((x) => /cannot hold more slots than the pool/.test(x.message));
    assert.equal(d.length, 1);
    assert.match(d[0]?.message ?? '', /pool has \(512, from command line/);
    assert.match(d[0]?.message ?? '', /unmaps are missing .* or the pool is larger than assumed/);
  });

  test('a scatterlist of 100,000,000 entries: simulated with 4096, an info diagnostic says so', () => {
    const r = run('sg');
    assert.equal(r.code, 0, r.err.toString());
    const text = r.out.toString();
    assert.match(text, /nents 100000000 is above the 4096 scatterlist entries simulated per call/);
    assert.match(text, /"code": "nents-capped"/);
    assert.doesNotMatch(text, /workload-scaled/);
  });
});

describe('tar members read at their offsets', () => {
  test('a plain archive: only the members bytes are read; a gzipped one is decompressed once per pass', async () => {
    const members: [string, Buffer][] = Array.from({ length: 500 }, (_, i) => [`m${i}.txt`, memberText(i)]);
    const plain = write('r/members.tar', tarOf(members));
    const gz = write('r/members.tar.gz', gzipSync(tarOf(members)));
    const refs: { name: string; offset: number; size: number }[] = [];
    await readTar(fileChunks(plain), (name, size, offset) => {
      refs.push({ name, offset, size });
      return null;
    });
    assert.equal(refs.length, 500);
    const readAll = async (file: string, order: typeof refs) => {
      let lines = 0;
      for (const ref of order) lines += await readTarEntryLines(file, ref, { line() {} });
      return lines;
    };
    const total = members.reduce((n, [, d]) => n + d.length, 0);
    const b0 = tarMemberReads.bytes;
    assert.equal(await readAll(plain, refs), allEventsOf(500));
    assert.equal(tarMemberReads.bytes - b0, total);
    const p0 = tarMemberReads.passes;
    assert.equal(await readAll(gz, refs), allEventsOf(500));
    assert.equal(tarMemberReads.passes - p0, 1);
    // a member behind the cursor starts a new pass (400, then 3), one ahead does not (4)
    const back = [refs[400], refs[3], refs[4]] as typeof refs;
    assert.equal(await readAll(gz, back), eventsOf(400) + eventsOf(3) + eventsOf(4));
    assert.equal(tarMemberReads.passes - p0, 3);
  });
});
const allEventsOf = (n: number) => Array.from({ length: n }, (_, i) => eventsOf(i)).reduce((a, b) => a + b, 0);

describe('gzip read member by member', () => {
  const decode = async (b: Buffer) => {
    const parts: Buffer[] = [];
    async function* source() {
      // the input in odd pieces: member ends fall anywhere in a piece
      for (let i = 0; i < b.length; i += 777) yield b.subarray(i, i + 777);
    }
    try {
      for await (const c of gunzipMembers(source())) parts.push(c);
      return { data: Buffer.concat(parts), error: null as Error | null };
    } catch (e) {
      return { data: Buffer.concat(parts), error: e as Error };
    }
  };

  test('members of any size, then junk or not: every member decoded, the junk counted', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 30_000 }), { minLength: 1, maxLength: 5 }),
        fc.option(fc.uint8Array({ minLength: 1, maxLength: 3000 }), { nil: undefined }),
        async (chunks, junk) => {
          const members = chunks.map((c) => gzipSync(c));
          const tail = junk && junk[0] === 0x1f ? Buffer.from([0x42, ...junk]) : junk ? Buffer.from(junk) : Buffer.alloc(0);
          const r = await decode(Buffer.concat([...members, tail]));
          assert.deepEqual(r.data, Buffer.concat(chunks.map((c) => Buffer.from(c))));
          if (tail.length === 0 || tail.every((x) => x === 0)) assert.equal(r.error, null);
          else {
            assert.ok(r.error instanceof GzipTrailingData, String(r.error));
            assert.equal(r.error.bytes, tail.length);
            assert.equal(r.error.members, members.length);
          }
        },
      ),
      { seed: 15, numRuns: 60 },
    );
  });

  test('a member cut short or damaged: what was decoded is kept, and the error is gzip damage', async () => {
    const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join(''));
    const z = gzipSync(data);
    const cut = await decode(z.subarray(0, z.length - 3));
    assert.equal((cut.error as NodeJS.ErrnoException | null)?.code, 'Z_BUF_ERROR');
    assert.ok(data.subarray(0, cut.data.length).equals(cut.data));
    const bad = Buffer.from(z);
    bad.writeUInt32LE((bad.readUInt32LE(bad.length - 8) ^ 1) >>> 0, bad.length - 8); // the CRC-32
    const crc = await decode(bad);
    assert.equal((crc.error as NodeJS.ErrnoException | null)?.code, 'Z_DATA_ERROR');
    assert.match(crc.error?.message ?? '', /trailer does not match/);
    // a header, then bytes that are not deflate data: an error, not a wait for a callback
    const body = await decode(Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), Buffer.from('not deflate data at all')]));
    assert.equal((body.error as NodeJS.ErrnoException | null)?.code, 'Z_DATA_ERROR');
    assert.equal(body.data.length, 0);
  });
});

describe('the route names the files used and the duplicates', () => {
  test('dmesg.txt and dmesg.txt.gz of the same content: one used, one a duplicate', async () => {
    write('route/trace.txt', `${bounced(4, 0x60c7000)}\n`);
    write('route/dmesg.txt', `${MAPPED}\n`);
    write('route/dmesg.txt.gz', gzipSync(`${MAPPED}\n`));
    // same size, other content: both read
    write('route/devices.txt', 'abc\n');
    const r = await routeInputs([at('route')]);
    assert.equal(r.kind, 'text');
    if (r.kind !== 'text') return;
    assert.deepEqual(r.duplicates, [{ file: at('route', 'dmesg.txt.gz'), sameAs: at('route', 'dmesg.txt') }]);
    assert.deepEqual(
      r.used,
      ['devices.txt', 'dmesg.txt', 'trace.txt'].map((n) => at('route', n)),
    );
  });

  test('logs of one size and one first 64 KiB that differ later: both read', async () => {
    const common = `${MAPPED}\n`.repeat(1000);
    write('route2/trace.txt', `${bounced(4, 0x60c7000)}\n`);
    write('route2/a.log', `${common}[    1.000000] one\n`);
    write('route2/b.log', `${common}[    1.000000] two\n`);
    write('route2/c.log.gz', gzipSync(`${common}[    1.000000] one\n`));
    const r = await routeInputs([at('route2')]);
    if (r.kind !== 'text') throw new Error(r.kind);
    assert.deepEqual(r.duplicates, [{ file: at('route2', 'c.log.gz'), sameAs: at('route2', 'a.log') }]);
    assert.deepEqual(
      r.used,
      ['a.log', 'b.log', 'trace.txt'].map((n) => at('route2', n)),
    );
  });
});

describe('a folder of small files is read once', () => {
  test('a trace no longer than its head is analysed from the bytes the router read, not opened again', async () => {
    write('once/trace.txt', `${bounced(4, 0x60c7000)}\n${bounced(5, 0x60c8000)}\n`);
    write('once/dmesg.txt', `${MAPPED}\n`);
    const r = await routeInputs([at('once')]);
    if (r.kind !== 'text') throw new Error(r.kind);
    // what is on disk now is not what is analysed: the trace's lines come from its head
    fs.writeFileSync(at('once', 'trace.txt'), '');
    const a = await analyzeText(r.inputs, { parseWorkers: null });
    assert.equal(a.analyzer.bounceAttempts, 2);
    assert.equal(a.inputs.find((f) => f.role === 'trace')?.lines, 2);
  });
});

describe('driver source: an annotated workload at the call budget (CLI)', () => {
  test('1.5 M simulated calls keep no decision each: peak RSS under 900 MB (was 1.38 GB), the count scaled and said', async () => {
    const c = write(
      'bigsrc/big.c',
      [
        '#include <linux/dma-mapping.h>',
        'static void rx(struct device *dev, void *buf)',
        '{',
        '\tdma_addr_t a;',
        '\t/* swiotlb: size=1514 depth=64 count=10000000 where=high */',
        '\ta = dma_map_single(dev, buf, 1514, DMA_FROM_DEVICE);',
        '\tdma_unmap_single(dev, a, 1514, DMA_FROM_DEVICE);',
        '}',
        '',
      ].join('\n'),
    );
    // its own process: the peak RSS is this case's alone. The watchdog only catches a hang: 1.5 M
    // simulated calls took over a minute on the 2-CPU machine at load 21
    const [r] = (await runCliCases([['analyze', c, '--json']], { caseTimeoutMs: 300_000 })) as [CliResult];
    assert.equal(r.code, 0, r.err.toString());
    const j = JSON.parse(r.out.toString('utf8')) as {
      drivers: { workload_calls: number }[];
      diagnostics: { code: string }[];
    };
    assert.equal(j.drivers[0]?.workload_calls, 1_500_000);
    assert.ok(j.diagnostics.some((d) => d.code === 'workload-scaled'));
    assert.ok(r.maxRssKb < 900 * 1024, `peak RSS ${Math.round(r.maxRssKb / 1024)} MB`);
  });
});
