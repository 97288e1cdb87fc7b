/**
 * Hostile and huge input (issue 15): each case that used to crash, run without bound or print
 * terminal controls ends in a clear message (FILE:LINE[:COL], exit 2) or a diagnostic, within
 * bounded memory. The CLI cases run in-process in one batch (cli-batch.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import { JsonObjectWriter } from '../../src/io/jsonStream';
import { resolveProfile } from '../../src/model/profiles';
import { bootPool, CmdlineError, MAX_MODEL_NSLABS } from '../../src/model/setup';
import { escapeControls } from '../../src/protocol/escape';
import { rawJsonField } from '../../src/replay/format';
import { parseScenario, ScenarioError, workloadCalls } from '../../src/scenario/format';
import { MAX_JSON_DEPTH } from '../../src/scenario/json';
import { scenarioJson } from '../../src/scenario/report';
import { runScenario } from '../../src/scenario/run';
import { MAX_ANNOTATION_PROBLEMS, parseAnnotationComment } from '../../src/source/annotations';
import { type CliResult, controlBytes, runCliCases } from './cli-batch';

const ROOT = path.join(__dirname, '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hostile-'));
const file = (name: string, text: string | Buffer) => {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  return p;
};

/** ESC ] 0 ; title BEL (retitles a terminal), ESC [ 2 J (clears it), a C1 CSI and DEL. */
const EVIL = '\u001b]0;pwned\u0007\u001b[2J\u009b31m\u007f';
const EVIL_SHOWN = '\\x1b]0;pwned\\x07\\x1b[2J\\u009b31m\\u007f';

const SCENARIO = (workload: string, extra = '') =>
  `{"platform": "x86", "kernel": "6.1", "pool": {"cmdline": "swiotlb=4096,force"}${extra},
 "devices": [{"id": "nic", "name": "0000:03:00.0", "dma_mask": 32}],
 "workload": ${workload}}`;
const RING = (count: number | string) =>
  `[{"ring": {"device": "nic", "depth": 8, "count": ${count}, "size": 1522, "phys": {"start": "0x100000000"}, "dir": "DMA_FROM_DEVICE"}}]`;
const HEADER = '{"op":"init","nslabs":1024,"nareas":1,"pool_base":"0x80000000"}';

describe('terminal controls from inputs are escaped', () => {
  test('C0 but tab and newline as \\x.., DEL and C1 as \\u00..', () => {
    assert.equal(escapeControls(`a${EVIL}\tb\nc\r`), `a${EVIL_SHOWN}\tb\nc\\x0d`);
    assert.equal(escapeControls('plain text, ümlaut, \u00a0 (not a control)'), 'plain text, ümlaut, \u00a0 (not a control)');
    // escaped JSON is still JSON, with the same value
    assert.deepEqual(JSON.parse(escapeControls(JSON.stringify({ s: EVIL }))), { s: EVIL });
  });
});

describe('the CLI on hostile inputs', () => {
  const runs = new Map<string, CliResult>();
  const cases: Record<string, string[]> = {};
  before(async () => {
    const trace = file(
      'evil.trace',
      `# tracer: nop\n#\n            init-1       [000] .....            4: swiotlb_bounced: dev_name: 0000:00:03.0${EVIL} dma_mask=ffffffffffffffff dev_addr=60c7000 size=4096 FORCE\n`,
    );
    const evilScenario = file(
      'evil.swiotlb.json',
      SCENARIO(
        JSON.stringify([
          { call: 'dma_map_single', device: 'nic', id: `rx${EVIL}`, phys: '0x100000000', size: 64, dir: 'DMA_TO_DEVICE' },
          { call: 'dma_unmap_single', id: `tx${EVIL}` },
        ]),
      ),
    );
    const evilReplay = file(
      'evil.jsonl',
      `${HEADER}\n{"op":"map","id":1,"cpu":0,"orig":"0x1000","size":64,"dev":${JSON.stringify(`nvme${EVIL}`)}}\n`,
    );
    const evilC = file(
      'evil.c',
      `/* swiotlb: size=${EVIL} */\nvoid f(struct device *d, void *p) { dma_map_single(d, p, 64, DMA_TO_DEVICE); }\n`,
    );
    const loop = path.join(tmp, 'loop-a');
    fs.symlinkSync(path.join(tmp, 'loop-b'), loop);
    fs.symlinkSync(loop, path.join(tmp, 'loop-b'));
    const deep = file('deep.swiotlb.json', SCENARIO(`[${'['.repeat(100_000)}${']'.repeat(100_000)}]`));
    const deepReplay = file(
      'deep.jsonl',
      `{"op":"init","nslabs":${'['.repeat(100_000)}${']'.repeat(100_000)},"nareas":1,"pool_base":"0x80000000"}\n`,
    );
    Object.assign(cases, {
      trace: ['analyze', trace],
      traceJson: ['analyze', trace, '--json'],
      scenario: ['analyze', evilScenario],
      replay: ['replay', evilReplay, '--summary'],
      source: ['analyze', evilC],
      pool: ['pool', '--cmdline', `swiotlb=512,force quiet${EVIL}`],
      loop: ['analyze', loop],
      deepScenario: ['analyze', deep],
      deepReplay: ['replay', deepReplay],
      bigRing: ['analyze', file('ring.swiotlb.json', SCENARIO(RING(1e12)))],
      ringRaised: ['analyze', file('ring20.swiotlb.json', SCENARIO(RING(10))), '--max-calls', '19'],
      ringFits: ['analyze', file('ring20b.swiotlb.json', SCENARIO(RING(10))), '--max-calls', '20'],
      nestedRepeat: [
        'analyze',
        file(
          'repeat.swiotlb.json',
          SCENARIO(
            '[{"repeat": 100000, "steps": [{"repeat": 100000, "steps": [{"call": "dma_map_single", "device": "nic", "id": "a", "phys": "0x1000", "size": 64, "dir": "DMA_TO_DEVICE"}, {"call": "dma_unmap_single", "id": "a"}]}]}]',
          ),
        ),
      ],
      dupKeys: ['analyze', file('dup.swiotlb.json', SCENARIO('[]', ',\n "kernel": "6.12"')), '--json'],
      bigNslabs: ['replay', file('nslabs.jsonl', '{"op":"init","nslabs":2147483648,"nareas":1,"pool_base":"0x80000000"}\n')],
      kernelNslabs: ['replay', file('nslabs2.jsonl', '{"op":"init","nslabs":2147483649,"nareas":1,"pool_base":"0x80000000"}\n')],
      unsafe: ['replay', file('unsafe.jsonl', `${HEADER}\n{"op":"map","id":1,"cpu":0,"orig":9007199254740993,"size":64}\n`)],
      unsafeSize: ['replay', file('unsafe2.jsonl', `${HEADER}\n{"op":"map","id":1,"cpu":0,"orig":"0x1000","size":9007199254740993}\n`)],
      unsafeScenario: ['analyze', file('unsafe.swiotlb.json', SCENARIO(RING('9007199254740993')))],
      hugeCmdline: ['pool', '--cmdline', 'swiotlb=99999999999999999999,force', '--ram', '16G'],
      // found by the fuzz harness: a log whose pool claims a negative size, a command line no kernel boots
      badLog: [
        'analyze',
        file(
          'bad.log',
          '[    0.0] Kernel command line: swiotlb=99999999999999999999,force possible_cpus=100000\n[    0.7] software IO TLB: mapped [mem 0x00000000bbf8683469693877692db000-0x00000000bc1db000] (2MB)\n[    1.0] nvme 0000:00:03.0: swiotlb buffer is full (sz: 4096 bytes), total 32768 (slots), used 32768 (slots)\n',
        ),
      ],
    });
    const names = Object.keys(cases);
    const results = await runCliCases(names.map((n) => cases[n] as string[]));
    names.forEach((n, i) => {
      runs.set(n, results[i] as CliResult);
    });
  });
  const run = (name: string) => runs.get(name) as CliResult;
  const text = (r: CliResult) => `${r.out.toString('utf8')}${r.err.toString('utf8')}`;

  test('no control byte reaches the terminal; the escape shows what was there', () => {
    for (const name of ['trace', 'scenario', 'replay', 'source', 'pool']) {
      const r = run(name);
      assert.ok(r.code === 0 || r.code === 2, `${name}: exit ${r.code}: ${r.err}`);
      assert.deepEqual(controlBytes(Buffer.concat([r.out, r.err])), [], name);
      // traces are read as bytes (Latin-1): the UTF-8 of U+009B is two characters there, C2 and the C1 CSI
      const shown = name === 'trace' ? EVIL_SHOWN.replace('\\u009b', '\u00c2\\u009b') : EVIL_SHOWN;
      // the annotation grammar splits the value at ";"
      assert.ok(text(r).includes(name === 'source' ? '\\x07\\x1b[2J\\u009b31m\\u007f' : shown), `${name}: ${text(r).slice(0, 2000)}`);
    }
    const j = run('traceJson');
    assert.deepEqual(controlBytes(j.out), []);
    const names = JSON.parse(j.out.toString('utf8')).devices.map((d: { name: string }) => d.name);
    assert.deepEqual(names, [`0000:00:03.0${EVIL.replace('\u009b', '\u00c2\u009b')}`]);
  });

  test('a symlink loop on the command line: FILE: message, exit 2', () => {
    const r = run('loop');
    assert.equal(r.code, 2);
    assert.match(r.err.toString(), /loop-a: too many levels of symbolic links/);
  });

  test('a scenario nested 100000 deep: one message at the first level too deep', () => {
    const r = run('deepScenario');
    assert.equal(r.code, 2, r.err.toString());
    assert.match(
      r.err.toString(),
      new RegExp(`deep\\.swiotlb\\.json:3:\\d+: \\$: objects and arrays nest deeper than ${MAX_JSON_DEPTH} levels`),
    );
  });

  test('a replay field nested 100000 deep: the value as written, clipped', () => {
    const r = run('deepReplay');
    assert.equal(r.code, 2, r.err.toString());
    assert.match(r.err.toString(), /deep\.jsonl:1: "nslabs" must be an integer >= 1, got \[\[\[\[.*\.\.\. \(200000 characters\)/);
  });

  test('a ring of 1e12 buffers and nested repeats: refused before running, at the number to change, naming the limit', () => {
    const r = run('bigRing');
    assert.equal(r.code, 2, `${r.err}${r.out.toString().slice(0, 400)}`);
    assert.match(
      r.err.toString(),
      /ring\.swiotlb\.json:3:63: \$\.workload\[0\]\.ring\.count: the workload expands to 2,000,000,000,000 DMA API calls, above the limit of 4,000,000: .*--max-calls N/,
    );
    const n = run('nestedRepeat');
    assert.equal(n.code, 2);
    assert.match(n.err.toString(), /\$\.workload\[0\]\.repeat: the workload expands to 20,000,000,000 DMA API calls/);
    assert.equal(run('ringRaised').code, 2);
    assert.match(run('ringRaised').err.toString(), /20 DMA API calls, above the limit of 19/);
    assert.equal(run('ringFits').code, 0, run('ringFits').err.toString());
  });

  test('a duplicated key: the last value is used, and a warning says which', () => {
    const r = run('dupKeys');
    assert.equal(r.code, 0, r.err.toString());
    const j = JSON.parse(r.out.toString('utf8'));
    assert.equal(j.kernel.name, '6.12');
    assert.deepEqual(j.diagnostics, [
      {
        severity: 'warning',
        line: 2,
        column: 2,
        path: '$.kernel',
        message: 'duplicate key "kernel": this value is used, the one at line 1 column 21 is ignored',
      },
    ]);
    assert.match(r.err.toString(), /dup\.swiotlb\.json:2:2: warning: \$\.kernel: duplicate key "kernel"/);
  });

  test("replay nslabs: the model's cap and the kernel's int slot index", () => {
    assert.equal(run('bigNslabs').code, 2);
    assert.match(
      run('bigNslabs').err.toString(),
      /nslabs\.jsonl:1: "nslabs" 2147483648 \(4096 GiB\) is more than the model sets up: at most 8388608 slots/,
    );
    assert.match(run('kernelNslabs').err.toString(), /"nslabs" 2147483649 is more than a kernel pool can have: its slot indexes are int/);
  });

  test('numbers past 2^53 are shown as written, not rounded', () => {
    assert.match(
      run('unsafe').err.toString(),
      /unsafe\.jsonl:2: "orig" must be a hex string or an integer below 2\^53, got 9007199254740993\n/,
    );
    assert.match(run('unsafeSize').err.toString(), /"size" must be an integer >= 1, got 9007199254740993\n/);
    assert.match(run('unsafeScenario').err.toString(), /ring\.count 9007199254740993 is 2\^53 or more/);
  });

  test('a log claiming an impossible pool: analysed with what is sound, the rest set aside and said', () => {
    const r = run('badLog');
    assert.equal(r.code, 0, r.err.toString());
    const t = r.out.toString();
    assert.match(t, /pool {12}32768 slots \(64 MiB\)/);
    assert.match(t, /no kernel has more than 8192 \(CONFIG_NR_CPUS\) \(command line \(.*bad\.log:1\)\): set aside/);
  });

  test('swiotlb= beyond 64 bits of bytes: the wrap-around said, exit 2', () => {
    const r = run('hugeCmdline');
    assert.equal(r.code, 2);
    assert.match(
      r.err.toString(),
      /swiotlb=99999999999999999999,force: 7766279631452241919 slabs \(simple_strtoul wraps at 2\^64\): a pool of 2\^64 bytes or more/,
    );
  });
});

describe('limits in the model and the formats', () => {
  test('bootPool: without --available, x86 allocates below 4 GiB: mainline halves, the model caps', () => {
    const ram = 16 * 2 ** 30;
    const p = bootPool(resolveProfile('mainline'), { cmdline: 'swiotlb=99999999,force', possibleCpus: 1, ramBytes: ram });
    assert.equal(p.nslabs, 1048576);
    assert.ok(p.log.some((l) => l.includes('Failed to allocate 274877906944 bytes tlb structure')));
    // a memory-encryption guest allocates anywhere (SWIOTLB_ANY): only the model's cap stops it
    assert.throws(
      () =>
        bootPool(resolveProfile('mainline'), {
          cmdline: `swiotlb=${2 * MAX_MODEL_NSLABS},force`,
          possibleCpus: 1,
          ramBytes: 64 * ram,
          memEncrypt: 'sev',
        }),
      (e) => e instanceof CmdlineError && /more than the model sets up/.test(e.message),
    );
    assert.throws(
      () => bootPool(resolveProfile('6.1'), { cmdline: 'swiotlb=,99999999999', possibleCpus: 1 }),
      /overflow the kernel's area arithmetic/,
    );
    assert.throws(() => bootPool(resolveProfile('6.1'), { possibleCpus: 100000 }), /no kernel has more than 8192/);
  });

  test('workloadCalls counts what runScenario makes', () => {
    const s = parseScenario(
      SCENARIO(
        '[{"repeat": 3, "steps": [{"ring": {"device": "nic", "depth": 4, "count": 10, "size": 64, "phys": {"start": "0x100000000"}, "dir": "DMA_TO_DEVICE", "sync": "both"}}, {"call": "dma_map_single", "device": "nic", "id": "x", "phys": "0x1000", "size": 64, "dir": "DMA_TO_DEVICE"}]}]',
      ),
      's.json',
    );
    assert.equal(workloadCalls(s.workload), 3 * (10 * 4 + 1));
    assert.equal(runScenario(s).calls, workloadCalls(s.workload));
  });

  test('a run that keeps no decisions reports the same figures', () => {
    const s = parseScenario(fs.readFileSync(path.join(ROOT, 'examples', 'nic-32bit-above-4g.swiotlb.json'), 'utf8'), 'x.json');
    const kept = runScenario(s);
    const lean = runScenario(s, { keepDecisions: false });
    assert.equal(lean.lane.decisions.length, 0);
    assert.equal(lean.lane.count, kept.lane.decisions.length);
    const { calls: _calls, ...full } = scenarioJson(kept);
    assert.deepEqual(
      lean.head.map((h) => h.decision),
      kept.lane.decisions.slice(0, lean.head.length),
    );
    assert.deepEqual(
      [lean.cacheOps, lean.hypercalls, lean.messages],
      [full.summary.cache_ops, full.summary.hypercalls, full.summary.messages],
    );
  });

  test('scenario problems keep the number as written', () => {
    assert.throws(
      () => parseScenario(SCENARIO('[]', ', "machine": {"cpus": 100000}'), 'm.json'),
      (e) => e instanceof ScenarioError && /machine\.cpus must be at most 8192 \(CONFIG_NR_CPUS\), got 100000/.test(e.message),
    );
  });

  test('a 2 MB annotation comment: linear, 20 problems and a count', () => {
    const line = 'x=1 ?? size=abc depth=zz zzz=1\n * ';
    const text = `/* swiotlb: ${line.repeat(Math.ceil(2e6 / line.length))}*/`;
    const [a] = parseAnnotationComment({ text, span: { row: 5, col: 0, endRow: 5 + 65000, endCol: 2 }, fn: -1 });
    assert.ok(a);
    assert.equal(a.problems.length, MAX_ANNOTATION_PROBLEMS + 1);
    assert.match((a.problems.at(-1) as { message: string }).message, /^\.\.\. and \d+ more problems in this annotation$/);
    // positions are the comment's lines, found by binary search: the 3rd problem is on its 2nd line
    const second = a.problems.filter((p) => p.span.row === 6);
    assert.ok(second.length > 0 && second.every((p) => p.span.col >= 3), JSON.stringify(a.problems.slice(0, 8)));
    assert.deepEqual(a.problems[0]?.span, { row: 5, col: 16, endRow: 5, endCol: 18 });
  });
});

describe('streamed JSON', () => {
  test('JsonObjectWriter prints what JSON.stringify(object, null, 1) prints', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.array(fc.jsonValue(), { maxLength: 5 }), (o, items) => {
        let s = '';
        const w = new JsonObjectWriter((x) => {
          s += x;
        });
        w.fieldsOf(o);
        w.openArray('list');
        for (const x of items) w.item(x);
        w.closeArray();
        w.end();
        const whole = JSON.stringify({ ...o, list: items }, null, 1);
        // a key "list" in o is overwritten in the object but written twice by the stream
        if (!('list' in o) && !('__proto__' in o)) assert.equal(s, whole);
      }),
      { numRuns: 200, seed: 15 },
    );
  });

  test('rawJsonField finds the text of a field as JSON.parse reads it', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }), fc.nat(), (o, k) => {
        const keys = Object.keys(o);
        const key = keys[k % keys.length] as string;
        const raw = rawJsonField(JSON.stringify(o, null, k % 3), [key]);
        assert.deepEqual(JSON.parse(raw as string), o[key]);
      }),
      { numRuns: 300, seed: 15 },
    );
    assert.equal(rawJsonField('{"a": 1, "b": {"c": 9007199254740993}, "a": "x"}', ['b', 'c']), '9007199254740993');
    assert.equal(rawJsonField('{"a": 1, "a": "x"}', ['a']), '"x"');
  });
});

describe('bounded memory', () => {
  const node = (heapMb: number, ...args: string[]) =>
    spawnSync(process.execPath, [`--max-old-space-size=${heapMb}`, '--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });

  test('a scenario of 400,000 calls runs in a 96 MB heap (the run keeps no decisions; the JSON is streamed)', () => {
    const f = file('ring200k.swiotlb.json', SCENARIO(RING(200_000)));
    const r = node(96, 'analyze', f, '--json');
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    const j = JSON.parse(r.stdout);
    assert.equal(j.calls.length, 400_000);
    assert.equal(j.summary.calls, 400_000);
  });

  test('driver source: 20,000 call sites in two files, JSON in a 160 MB heap (written site by site)', () => {
    const dir = path.join(tmp, 'drv');
    for (const d of ['a', 'b']) {
      fs.mkdirSync(path.join(dir, d), { recursive: true });
      const fns: string[] = [];
      for (let i = 0; i < 10; i++)
        fns.push(`void f${i}(struct device *d, void *p)\n{\n${'\tdma_map_single(d, p, 64, 1);\n'.repeat(1000)}}\n`);
      fs.writeFileSync(path.join(dir, d, 'x.c'), fns.join(''));
    }
    const r = node(160, 'analyze', dir, '--json');
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    assert.equal(JSON.parse(r.stdout).sites.length, 20_000);
  });
});
