/**
 * Real kernel-log excerpts from public bug reports, verbatim (wrapped and quoted as the posters'
 * mail clients and forums left them), with an expert's reading: each `expect` key of
 * test/fixtures/logs-real/index.json is checked against the JSON `analyze --json` prints for the
 * file (the same analysis and report the CLI runs, serialised).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { buildReport, type TextReport } from '../../src/trace/report';
import { analyzeText } from '../../src/trace/run';

const DIR = path.join(__dirname, '..', 'fixtures', 'logs-real');

interface Entry {
  file: string;
  expect: Record<string, string | number | boolean>;
}

const index = JSON.parse(fs.readFileSync(path.join(DIR, 'index.json'), 'utf8')) as { entries: Entry[] };

/** Each expectation key and the field of the report that answers it. */
const FIELDS: Record<string, (r: TextReport, file: string) => unknown> = {
  full: (r) => r.log.full_messages,
  too_big: (r) => r.log.too_big,
  overflow: (r) => r.log.overflow_messages,
  oos: (r) => r.log.out_of_space_messages,
  suppressed: (r) => r.log.suppressed,
  coherent_failures: (r) => r.log.coherent_failures,
  // every failure of the log has this one cause
  causes: (r) => Object.keys(r.log.by_cause).join(','),
  no_size_helps: (r) => r.log.no_size_helps,
  mask_limited: (r) => r.log.mask_limited > 0,
  bounce_beyond_mask: (r) => r.log.bounce_beyond_mask > 0,
  mem_encrypt: (r) => r.log.mem_encrypt !== null,
  nslabs: (r) => r.pool.nslabs,
  nareas: (r) => r.pool.nareas,
  base: (r) => r.pool.base,
  // the release is read from a line of this file
  kernel_from_log: (r, file) => r.kernel.release !== null && (r.kernel.release_source ?? '').includes(file),
};

async function report(file: string): Promise<TextReport> {
  // what `analyze --json` prints, read back
  return JSON.parse(JSON.stringify(buildReport(await analyzeText([path.join(DIR, file)])))) as TextReport;
}

describe('real kernel logs (logs-real/index.json)', () => {
  test('every excerpt is vendored and listed', () => {
    const files = fs.readdirSync(DIR).filter((f) => f !== 'index.json');
    assert.deepEqual(files.sort(), index.entries.map((e) => e.file).sort());
  });

  for (const e of index.entries) {
    test(e.file, async () => {
      const r = await report(e.file);
      assert.equal(r.input.kind, 'log');
      for (const [key, want] of Object.entries(e.expect)) {
        if (key === 'device') {
          // the device the failures name is listed with what the log says of it
          const d = r.devices.find((x) => x.name === want);
          assert.ok(d?.log, `${key}: ${want} in ${r.devices.map((x) => x.name).join(', ')}`);
          assert.ok((d.log.failures ?? 0) > 0 || d.log.overflows > 0, `${key}: ${want} has failures or overflows`);
          continue;
        }
        const get = FIELDS[key];
        assert.ok(get, `no report field answers the expectation "${key}"`);
        assert.deepEqual(get(r, path.join(DIR, e.file)), want, key);
      }
      // nothing in a real paste is an error of ours
      assert.deepEqual(
        r.diagnostics.filter((d) => d.severity !== 'info'),
        [],
      );
    });
  }
});
