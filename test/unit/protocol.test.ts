import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { escapeHtml } from '../../src/protocol/escape';
import {
  type AnalysisRequest,
  isAnalysisRequest,
  isHostMessage,
  isWebviewMessage,
  requestKey,
  SORT_COLUMNS,
  WEBVIEW_COMMANDS,
} from '../../src/protocol/messages';

test('webview -> host: every message of the protocol is accepted', () => {
  const good = [
    { type: 'ready' },
    { type: 'ready', width: 1600 },
    { type: 'timeline', session: 1, request: 2, t0: 0, t1: 1.5, columns: 800 },
    {
      type: 'query',
      session: 1,
      query: 3,
      filter: { devices: [1, 2], outcomes: [2], text: 'nvme', t0: 0.5, t1: 2 },
      sort: { column: 'time', desc: true },
    },
    { type: 'rows', session: 1, request: 4, query: 3, start: 200, count: 200 },
    { type: 'slotmap', session: 1, request: 5, row: -1, time: 1.25 },
    { type: 'slotmap', session: 1, request: 5, row: 17 },
    { type: 'locate', session: 1, query: 3, row: 9 },
    { type: 'reveal', session: 1, row: 9 },
    { type: 'revealDiagnostic', session: 1, index: 0 },
    { type: 'export', session: 1, format: 'csv' },
    { type: 'drawn', session: 1, ms: 12.5, askedMs: 3 },
    { type: 'frames', session: 1, frames: [1.2, 3.4] },
    { type: 'command', command: 'swiotlbLens.openPanel' },
    { type: 'command', command: 'swiotlbLens.analyzeFile', arg: '/tmp/trace.txt' },
    { type: 'setProfile', kernel: '6.12' },
    { type: 'compareRows', session: 1, request: 2, divergentOnly: true, start: 200, count: 200 },
    { type: 'compareReveal', session: 1, index: 17 },
  ];
  for (const m of good) assert.ok(isWebviewMessage(m), JSON.stringify(m));
});

test('webview -> host: anything else is refused', () => {
  const bad = [
    null,
    'ready',
    [],
    { type: 'revealLine', file: '/etc/passwd', line: 1 },
    { type: 'runCommand', command: 'rm -rf' },
    { type: 'command', command: 'workbench.action.terminal.sendSequence', arg: 'rm -rf ~\n' },
    { type: 'command', command: 'swiotlbLens.openPanel', arg: 7 },
    { type: 'timeline', session: 1, request: 2, t0: 0, t1: 1, columns: 100000 },
    { type: 'timeline', session: 1, request: 2, t0: Number.NaN, t1: 1, columns: 10 },
    { type: 'rows', session: 1, request: 4, query: 3, start: 0, count: 1e6 },
    { type: 'rows', session: -1, request: 4, query: 3, start: 0, count: 10 },
    { type: 'query', session: 1, query: 3, filter: { devices: ['x'] }, sort: { column: 'time', desc: false } },
    { type: 'query', session: 1, query: 3, filter: { evil: 1 }, sort: { column: 'time', desc: false } },
    { type: 'query', session: 1, query: 3, filter: {}, sort: { column: 'constructor', desc: false } },
    { type: 'query', session: 1, query: 3, filter: { text: 'x'.repeat(5000) }, sort: { column: 'time', desc: false } },
    { type: 'slotmap', session: 1, request: 5, row: -2 },
    { type: 'export', session: 1, format: 'html' },
    { type: 'frames', session: 1, frames: ['1'] },
    { type: 'setProfile', kernel: 'x'.repeat(100) },
    { type: 'compareRows', session: 1, request: 2, divergentOnly: 'yes', start: 0, count: 10 },
    { type: 'compareRows', session: 1, request: 2, divergentOnly: false, start: 0, count: 1e6 },
    { type: 'compareReveal', session: 1, index: -1 },
  ];
  for (const m of bad) assert.equal(isWebviewMessage(m), false, JSON.stringify(m));
});

/**
 * What each webview message may hold, written out here as the oracle for the guard: the fields,
 * their types and their bounds. Near-misses of real messages are made from it.
 */
type Field =
  | { kind: 'int'; min?: number; max?: number }
  | { kind: 'num' }
  | { kind: 'bool' }
  | { kind: 'str'; maxLen: number }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'list'; of: 'int' | 'num'; maxLen: number };
type Spec = Record<string, Field & { optional?: boolean }>;
const id: Field = { kind: 'int', min: 0 };
const TYPES = [
  'ready',
  'timeline',
  'query',
  'rows',
  'slotmap',
  'locate',
  'reveal',
  'revealDiagnostic',
  'drawn',
  'frames',
  'export',
  'command',
  'setProfile',
];
const SPECS: Record<string, Spec> = {
  ready: { width: { kind: 'num', optional: true } },
  timeline: { session: id, request: id, t0: { kind: 'num' }, t1: { kind: 'num' }, columns: { kind: 'int', min: 1, max: 8192 } },
  query: {
    session: id,
    query: id,
    'filter.devices': { kind: 'list', of: 'int', maxLen: 65536, optional: true },
    'filter.kinds': { kind: 'list', of: 'int', maxLen: 65536, optional: true },
    'filter.outcomes': { kind: 'list', of: 'int', maxLen: 65536, optional: true },
    'filter.dirs': { kind: 'list', of: 'int', maxLen: 65536, optional: true },
    'filter.reasons': { ...id, optional: true },
    'filter.t0': { kind: 'num', optional: true },
    'filter.t1': { kind: 'num', optional: true },
    'filter.text': { kind: 'str', maxLen: 1000, optional: true },
    'filter.expr': { kind: 'str', maxLen: 1000, optional: true },
    'sort.column': { kind: 'enum', values: SORT_COLUMNS },
    'sort.desc': { kind: 'bool' },
  },
  rows: { session: id, request: id, query: id, start: id, count: { kind: 'int', min: 1, max: 2000 } },
  slotmap: { session: id, request: id, row: { kind: 'int', min: -1 }, time: { kind: 'num', optional: true } },
  locate: { session: id, query: id, row: id },
  reveal: { session: id, row: id },
  revealDiagnostic: { session: id, index: id },
  drawn: { session: id, ms: { kind: 'num' }, askedMs: { kind: 'num' } },
  frames: { session: id, frames: { kind: 'list', of: 'num', maxLen: 10000 } },
  export: { session: id, format: { kind: 'enum', values: ['csv', 'json'] } },
  command: { command: { kind: 'enum', values: WEBVIEW_COMMANDS }, arg: { kind: 'str', maxLen: 4095, optional: true } },
  setProfile: { platform: { kind: 'str', maxLen: 63, optional: true }, kernel: { kind: 'str', maxLen: 63, optional: true } },
};

const anyJson = fc.oneof(fc.constant(null), fc.boolean(), fc.string(), fc.constant([]), fc.constant({}));
/** A value the spec allows. */
function valid(f: Field): fc.Arbitrary<unknown> {
  switch (f.kind) {
    case 'int':
      return fc.integer({ min: f.min ?? -(2 ** 31), max: f.max ?? 2 ** 31 });
    case 'num':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'bool':
      return fc.boolean();
    case 'str':
      return fc.string({ maxLength: Math.min(f.maxLen, 40) });
    case 'enum':
      return fc.constantFrom(...f.values);
    case 'list':
      return fc.array(valid(f.of === 'int' ? id : { kind: 'num' }), { maxLength: 5 });
  }
}
/** A value the spec refuses: of another type, or out of range. */
function invalid(f: Field): fc.Arbitrary<unknown> {
  switch (f.kind) {
    case 'int': {
      const out: fc.Arbitrary<unknown>[] = [
        anyJson,
        fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 0.5, 2 ** 53, '1'),
        fc.integer({ min: 1, max: 10 ** 6 }).map((n) => n + 0.25),
      ];
      if (f.min !== undefined) out.push(fc.integer({ min: -(2 ** 31), max: f.min - 1 }));
      if (f.max !== undefined) out.push(fc.integer({ min: f.max + 1, max: 2 ** 31 }));
      return fc.oneof(...out);
    }
    case 'num':
      return fc.oneof(anyJson, fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '0.5'));
    case 'bool':
      return fc.oneof(fc.constant(null), fc.string(), fc.integer(), fc.constantFrom('true', 0, 1));
    case 'str':
      return fc.oneof(fc.constant(null), fc.integer(), fc.constant(['x']), fc.constant('x'.repeat(f.maxLen + 1)));
    case 'enum':
      return fc.oneof(
        fc.constant(null),
        fc.integer(),
        fc.string().filter((v) => !f.values.includes(v)),
        fc.constantFrom(...f.values).map((v) => `${v} `),
        fc.constantFrom(...f.values).map((v) => v.toUpperCase()),
      );
    case 'list': {
      const element = f.of === 'int' ? invalid(id) : invalid({ kind: 'num' });
      return fc.oneof(
        anyJson.filter((v) => !Array.isArray(v)),
        fc.tuple(fc.array(valid(f.of === 'int' ? id : { kind: 'num' }), { maxLength: 3 }), element).map(([xs, bad]) => [...xs, bad]),
        fc.constant(new Array(f.maxLen + 1).fill(0)),
      );
    }
  }
}
function set(msg: Record<string, unknown>, field: string, value: unknown): void {
  const [outer, inner] = field.split('.') as [string, string | undefined];
  if (inner === undefined) msg[outer] = value;
  else (msg[outer] as Record<string, unknown>)[inner] = value;
}
function unset(msg: Record<string, unknown>, field: string): void {
  const [outer, inner] = field.split('.') as [string, string | undefined];
  if (inner === undefined) delete msg[outer];
  else delete (msg[outer] as Record<string, unknown>)[inner];
}
/** A message of `type` with every field drawn from the spec (optional ones sometimes left out). */
function message(type: string): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.entries(SPECS[type] as Spec);
  return fc.tuple(...fields.map(([, f]) => (f.optional ? fc.option(valid(f), { nil: undefined }) : valid(f)))).map((values) => {
    const m: Record<string, unknown> = { type };
    if (type === 'query') Object.assign(m, { filter: {}, sort: {} });
    fields.forEach(([name], i) => {
      if (values[i] !== undefined) set(m, name, values[i]);
    });
    return m;
  });
}

test('webview -> host: messages drawn from the protocol are accepted', () => {
  assert.deepEqual(Object.keys(SPECS), TYPES);
  fc.assert(
    fc.property(
      fc.constantFrom(...TYPES).chain((type) => message(type)),
      (m) => {
        assert.ok(isWebviewMessage(m), JSON.stringify(m));
      },
    ),
    { numRuns: 2000 },
  );
});

test('webview -> host: near-misses of real messages are refused (a field missing, mistyped, out of range, an unknown type)', () => {
  const nearMiss = fc.constantFrom(...TYPES).chain((type) => {
    const fields = Object.entries(SPECS[type] as Spec);
    const missing = fields
      .filter(([, f]) => !f.optional)
      .map(([name]) => fc.constant({ name, drop: true as const, value: undefined as unknown }));
    const wrong = fields.map(([name, f]) => invalid(f).map((value) => ({ name, drop: false as const, value })));
    const badType = fc
      .oneof(
        fc.string().filter((t) => !TYPES.includes(t)),
        fc.constantFrom(...TYPES).map((t) => t.toUpperCase()),
        fc.integer(),
        fc.constant(null),
      )
      .map((value) => ({ name: 'type', drop: false as const, value }));
    return fc.tuple(message(type), fc.oneof(badType, ...missing, ...wrong));
  });
  fc.assert(
    fc.property(nearMiss, ([m, change]) => {
      if (change.drop) unset(m, change.name);
      else set(m, change.name, change.value);
      assert.equal(isWebviewMessage(m), false, JSON.stringify(m));
    }),
    { numRuns: 5000 },
  );
  // every command a webview may ask for belongs to this extension
  for (const c of WEBVIEW_COMMANDS) assert.match(c, /^swiotlbLens\./);
});

test('host -> webview messages are validated', () => {
  assert.ok(isHostMessage({ type: 'error', message: 'x' }));
  assert.ok(isHostMessage({ type: 'busy', message: null }));
  assert.ok(isHostMessage({ type: 'empty', recent: [] }));
  assert.ok(isHostMessage({ type: 'located', session: 1, query: 2, row: 3, position: -1, select: true }));
  assert.ok(!isHostMessage({ type: 'replaySummary', summary: null }));
  assert.ok(!isHostMessage({ type: 'html', html: '<img src=x onerror=alert(1)>' }));
  // the chart of a running analysis: a state the panel knows, a fraction, rows, columns or none yet
  const partial = { type: 'partial', title: 't', state: 'running', fraction: 0.3, rows: 10, hasClock: true, peak: 4, data: null };
  assert.ok(isHostMessage(partial));
  assert.ok(isHostMessage({ ...partial, state: 'cancelled', data: { columns: 3 } }));
  assert.ok(!isHostMessage({ ...partial, state: 'done' }));
  assert.ok(!isHostMessage({ ...partial, rows: -1 }));
  assert.ok(!isHostMessage({ ...partial, data: { columns: 0 } }));
  assert.ok(isWebviewMessage({ type: 'partialDrawn', rows: 3 }));
  assert.ok(!isWebviewMessage({ type: 'partialDrawn', rows: 1.5 }));
});

test('a request read back from saved state is checked', () => {
  assert.ok(isAnalysisRequest({ kind: 'text', files: ['/a/trace.txt', '/a/dmesg.txt'] }));
  assert.ok(isAnalysisRequest({ kind: 'scenario', files: ['/a/x.swiotlb.json'], compare: true, kernel: '6.12' }));
  for (const bad of [
    null,
    {},
    { kind: 'shell', files: ['/x'] },
    { kind: 'text', files: [] },
    { kind: 'text', files: [1] },
    { kind: 'text', files: ['/x'], compare: 'yes' },
  ]) {
    assert.equal(isAnalysisRequest(bad), false, JSON.stringify(bad));
  }
  assert.equal(requestKey(null), '');
});

test('requestKey: the same input gives the same key, whatever the options; another input another key', () => {
  // paths of a few letters, so that different requests often share files, prefixes and joins
  const file = fc.stringMatching(/^\/[ab/:]{0,4}$/);
  const request = fc.record(
    {
      kind: fc.constantFrom('replay', 'scenario', 'text', 'source'),
      files: fc.array(file, { minLength: 1, maxLength: 3 }),
      kernel: fc.constantFrom('6.1', '6.12'),
      compare: fc.boolean(),
    },
    { requiredKeys: ['kind', 'files'] },
  ) as fc.Arbitrary<AnalysisRequest>;
  fc.assert(
    fc.property(request, request, (a, b) => {
      const same = a.kind === b.kind && a.files.length === b.files.length && a.files.every((f, i) => f === b.files[i]);
      assert.equal(requestKey(a) === requestKey(b), same, `${JSON.stringify(a)} ${JSON.stringify(b)}`);
      assert.equal(requestKey(a), requestKey({ kind: a.kind, files: [...a.files] }));
    }),
    { numRuns: 3000 },
  );
});

test('the HTML shell escapes its title', () => {
  assert.equal(escapeHtml('<img src=x onerror="alert(1)">'), '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;');
});
